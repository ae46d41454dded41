//! INT telemetry as the fabric's switches export it: tracked server-to-server flows carry an
//! INT-MD stack across leaf → spine → leaf, and every few seconds each exporter sends report
//! datagrams to the collector from its loopback address:
//! - the sink leaf of each flow a flow report (F) with the stack of every hop, itself included;
//! - a spine whose egress queue is congested (`Fault::IntCongestion`) a queue report (Q) with
//!   its own metadata for each flow leaving by that port;
//! - a leaf that drops a flow's packets (`Fault::IntDrop`) a drop report (D) with the reason.
//!
//! A flow takes its first path whose cables are up (a `Fault::LinkDown` moves it to the other
//! spine), and sends nothing while its source leaf has no route to it or drops it. Each
//! exporter reports on its own tick (`period` apart, a phase of its own); sequence numbers count
//! its reports from the first (v2.0: its datagrams, which group the reports of one tick), worked
//! out from the schedule rather than kept, so any window of any run numbers them alike, and a
//! `Fault::IntLoss` loses some datagrams without renumbering the rest. Switch ids are the seed's
//! rule over the MAC the node's agent reports on its interfaces ([`switch_id`]).

mod encode;
pub(crate) mod flows;
mod report;
mod routing;
mod sample;
pub(crate) mod spans;
mod streams;

use std::net::IpAddr;

use sonde_schema::families::int::switch_id_of_mac;

pub use encode::{Bits, MdVersion, ethernet, ip_packet, low32, v0_5, v1_0, v2_0};
pub use flows::{Crossing, Flow, Protocol, host_address, port_number, tracked_flows};
pub use report::{HopRecord, INT_DSCP, Kind, Packet, Report};

use self::routing::{Congestion, Routed, congestion, route};
use self::spans::Spans;
use self::streams::{Exporter, Stream, exporters, ticks};
use crate::fabric::SECOND;
use crate::simulation::mix;
use crate::timeline::Fault;
use crate::topology::{Node, Topology};

/// The Telemetry Report format the exporters speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntVersion {
    /// The seed's format, with its Drop Report and Switch Local headers.
    #[default]
    V0_5,
    V1_0,
    /// Groups: the reports an exporter has at one tick share one datagram.
    V2_0,
}

/// A report per stream per exporter every ten simulated seconds: light enough for two days.
pub const DEFAULT_PERIOD: i64 = 10 * SECOND;
/// The hardware subsystem (the switching ASIC) every report comes from.
pub const HW_ID: u8 = 1;
/// How long after its tick's packet an exporter's datagram leaves, µs.
const EXPORT_DELAY: i64 = 20;
const SALT_LOSS: u64 = 0x1055;

/// The switch id a node's reports carry: bytes 0, 1, 4 and 5 of the MAC its agent reports.
pub fn switch_id(node: &Node) -> u32 {
    switch_id_of_mac(node.mac)
}

/// One report datagram (the UDP payload) as an exporter sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// µs since the epoch.
    pub at: i64,
    pub exporter: usize,
    /// The exporter's loopback: the source address of its reports.
    pub address: IpAddr,
    pub bytes: Vec<u8>,
}

/// The INT exporters of a fabric and their timeline.
#[derive(Debug, Clone)]
pub struct IntSource {
    version: IntVersion,
    period: i64,
    seed: u64,
    flows: Vec<Routed>,
    exporters: Vec<Exporter>,
    congestion: Vec<Congestion>,
    /// Every node's switch id and MAC.
    nodes: Vec<(u32, [u8; 6])>,
}

/// What a source needs of its simulation.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub version: IntVersion,
    /// µs between an exporter's ticks.
    pub period: i64,
    /// When the agents start: the ticks' origin.
    pub start: i64,
    /// When the fabric routes: flows run from then on.
    pub established: i64,
    pub seed: u64,
}

impl IntSource {
    pub fn new(t: &Topology, faults: &[Fault], schedule: Schedule) -> IntSource {
        let period = schedule.period.max(1);
        let live = Spans::since(schedule.established);
        let flows: Vec<Routed> = tracked_flows(t)
            .into_iter()
            .map(|flow| route(t, faults, flow, &live))
            .collect();
        let mut source = IntSource {
            version: schedule.version,
            period,
            seed: schedule.seed,
            congestion: congestion(t, faults),
            nodes: t.nodes.iter().map(|n| (switch_id(n), n.mac)).collect(),
            exporters: Vec::new(),
            flows,
        };
        let streams = source.streams(faults, &live);
        source.exporters = exporters(t, faults, streams, schedule.start, period, source.seed);
        source
    }

    pub fn version(&self) -> IntVersion {
        self.version
    }

    /// µs between an exporter's reports on one stream.
    pub fn period(&self) -> i64 {
        self.period
    }

    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter().map(|r| &r.flow)
    }

    /// The nodes that export reports at some time.
    pub fn exporters(&self) -> impl Iterator<Item = usize> + '_ {
        self.exporters.iter().map(|e| e.node)
    }

    /// Every datagram the exporters send in `[from, to)` and the collector receives, in time
    /// order.
    pub fn datagrams(&self, from: i64, to: i64) -> Vec<Datagram> {
        let mut out = Vec::new();
        for exporter in &self.exporters {
            for at in ticks(exporter.first, self.period, from, to) {
                self.tick(exporter, at, &mut out);
            }
        }
        out.sort_by_key(|d| (d.at, d.exporter));
        out
    }

    /// The datagrams of one exporter's tick, but those lost on the way.
    fn tick(&self, exporter: &Exporter, at: i64, out: &mut Vec<Datagram>) {
        let active: Vec<&Stream> = exporter
            .streams
            .iter()
            .filter(|s| s.spans.contains(at))
            .collect();
        if active.is_empty() {
            return;
        }
        let sent: Vec<(i64, u64, Vec<u8>)> = match self.version {
            IntVersion::V2_0 => self.group(exporter, &active, at).into_iter().collect(),
            _ => self.one_by_one(exporter, &active, at),
        };
        for (sent_at, sequence, bytes) in sent {
            if !self.lost(exporter, sent_at, sequence) {
                out.push(Datagram {
                    at: sent_at,
                    exporter: exporter.node,
                    address: exporter.address,
                    bytes,
                });
            }
        }
    }

    /// v0.5 and v1.0: a datagram per report, numbered on from the reports of earlier ticks.
    fn one_by_one(
        &self,
        exporter: &Exporter,
        active: &[&Stream],
        at: i64,
    ) -> Vec<(i64, u64, Vec<u8>)> {
        let before: u64 = exporter
            .streams
            .iter()
            .map(|s| s.spans.ticks_before(exporter.first, self.period, at))
            .sum();
        let mut sent = Vec::with_capacity(active.len());
        for (i, stream) in active.iter().enumerate() {
            let Some(report) = self.report(stream, exporter.node, at) else {
                continue;
            };
            let sequence = before + i as u64;
            let bytes = match self.version {
                IntVersion::V1_0 => v1_0(&report, HW_ID, sequence as u32),
                _ => v0_5(&report, HW_ID, sequence as u32),
            };
            sent.push((at + EXPORT_DELAY + i as i64, sequence, bytes));
        }
        sent
    }

    /// v2.0: the tick's reports in one datagram, numbered on from the earlier ticks' datagrams.
    fn group(
        &self,
        exporter: &Exporter,
        active: &[&Stream],
        at: i64,
    ) -> Option<(i64, u64, Vec<u8>)> {
        let reports: Vec<Report> = active
            .iter()
            .filter_map(|s| self.report(s, exporter.node, at))
            .collect();
        if reports.is_empty() {
            return None;
        }
        let sequence = exporter.any.ticks_before(exporter.first, self.period, at);
        let node_id = self.nodes[exporter.node].0;
        let bytes = v2_0(&reports, HW_ID, sequence as u32, node_id);
        Some((at + EXPORT_DELAY, sequence, bytes))
    }

    /// Whether the datagram numbered `sequence` is lost on its way to the collector.
    fn lost(&self, exporter: &Exporter, at: i64, sequence: u64) -> bool {
        exporter.losses.iter().any(|(spans, one_in)| {
            spans.contains(at)
                && mix(self.seed ^ SALT_LOSS, exporter.node as u64, sequence)
                    .is_multiple_of(*one_in)
        })
    }

    /// Whether the egress queue of `port` on `node` is congested at `at`.
    fn congested(&self, node: usize, port: u16, at: i64) -> bool {
        self.congestion
            .iter()
            .any(|c| c.node == node && c.port == port && c.spans.contains(at))
    }
}
