//! Who reports what when: each exporter's report streams (a sink's flow reports, a congested
//! spine's queue reports, a dropping leaf's drop reports), each active over its spans, and the
//! exporter's ticks, whose counts before a time number its reports.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::IntSource;
use super::flows::port_number;
use super::report::Kind;
use super::spans::Spans;
use crate::simulation::mix;
use crate::timeline::Fault;
use crate::topology::Topology;

const SALT_PHASE: u64 = 0x1a7e;

/// A series of reports one exporter sends about one flow while `spans` last.
#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub(super) kind: Kind,
    pub(super) flow: usize,
    pub(super) spans: Spans,
}

/// A switch that exports reports, from its loopback, on its own ticks.
#[derive(Debug, Clone)]
pub(super) struct Exporter {
    pub(super) node: usize,
    pub(super) address: IpAddr,
    /// Its first tick.
    pub(super) first: i64,
    pub(super) streams: Vec<Stream>,
    /// When any of its streams is active.
    pub(super) any: Spans,
    /// When one in how many of its datagrams is lost.
    pub(super) losses: Vec<(Spans, u64)>,
}

impl IntSource {
    /// The report streams of every flow: its sink's, and those of the faults it meets.
    pub(super) fn streams(&self, faults: &[Fault], live: &Spans) -> Vec<(usize, Stream)> {
        let mut streams = Vec::new();
        for (f, routed) in self.flows.iter().enumerate() {
            if let Some(sink) = routed.flow.sink() {
                let spans = routed.delivered.clone();
                streams.push((
                    sink,
                    Stream {
                        kind: Kind::Flow,
                        flow: f,
                        spans,
                    },
                ));
            }
            for fault in faults {
                streams.extend(self.fault_stream(fault, f, live));
            }
        }
        streams
    }

    /// The drop or queue reports `fault` makes an exporter send about flow `f`.
    fn fault_stream(&self, fault: &Fault, f: usize, live: &Spans) -> Option<(usize, Stream)> {
        let routed = &self.flows[f];
        let (node, kind, spans) = match fault {
            Fault::IntDrop {
                node,
                reason,
                from,
                to,
            } if routed.flow.source() == Some(*node) => (
                *node,
                Kind::Drop(*reason),
                Spans::between(*from, *to).intersect(live),
            ),
            Fault::IntCongestion {
                node,
                port,
                from,
                to,
            } => {
                let leaving = routed.leaving_by(*node, port_number(port)?);
                let spans = leaving.intersect(&routed.delivered);
                (
                    *node,
                    Kind::Queue,
                    spans.intersect(&Spans::between(*from, *to)),
                )
            }
            _ => return None,
        };
        (!spans.is_empty()).then_some((
            node,
            Stream {
                kind,
                flow: f,
                spans,
            },
        ))
    }
}

/// The streams grouped by exporter (in node order), each exporter with its address, its first
/// tick and its losses; nodes without an address export nothing.
pub(super) fn exporters(
    t: &Topology,
    faults: &[Fault],
    streams: Vec<(usize, Stream)>,
    start: i64,
    period: i64,
    seed: u64,
) -> Vec<Exporter> {
    let mut by_node: BTreeMap<usize, Vec<Stream>> = BTreeMap::new();
    for (node, stream) in streams {
        by_node.entry(node).or_default().push(stream);
    }
    by_node
        .into_iter()
        .filter_map(|(node, streams)| {
            let address = t.nodes[node].loopback.parse().ok()?;
            let phase = (mix(seed ^ SALT_PHASE, node as u64, period as u64) % period as u64) as i64;
            let any = streams
                .iter()
                .fold(Spans::default(), |all, s| all.union(&s.spans));
            let losses = faults
                .iter()
                .filter_map(|fault| match fault {
                    Fault::IntLoss {
                        node: n,
                        one_in,
                        from,
                        to,
                    } if *n == node => Some((Spans::between(*from, *to), (*one_in).max(1))),
                    _ => None,
                })
                .collect();
            Some(Exporter {
                node,
                address,
                first: start + phase,
                streams,
                any,
                losses,
            })
        })
        .collect()
}

/// The ticks `first + k·period` (k ≥ 0) in `[from, to)`.
pub(super) fn ticks(first: i64, period: i64, from: i64, to: i64) -> impl Iterator<Item = i64> {
    let k = if from <= first {
        0
    } else {
        (from - first + period - 1) / period
    };
    (k..)
        .map(move |k| first + k * period)
        .take_while(move |&at| at < to)
}
