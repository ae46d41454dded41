//! Where a tracked flow goes at any time: the first of its paths whose cables are up (a cable
//! down moves it to the other spine until its routes are back), nothing while its source leaf
//! drops it or has no route to it; and which egress queues the timeline congests.

use std::net::Ipv4Addr;

use super::flows::{Crossing, Flow, port_number};
use super::spans::Spans;
use crate::fabric::SECOND;
use crate::timeline::Fault;
use crate::topology::Topology;

/// Routes take this long to come back after a cable does (the BGP sessions' re-establishment).
const RECONVERGENCE: i64 = 5 * SECOND;

/// A flow and when it takes each of its paths.
#[derive(Debug, Clone)]
pub(super) struct Routed {
    pub(super) flow: Flow,
    pub(super) chosen: Vec<Spans>,
    /// When its packets reach the sink.
    pub(super) delivered: Spans,
}

/// A congested egress port.
#[derive(Debug, Clone)]
pub(super) struct Congestion {
    pub(super) node: usize,
    pub(super) port: u16,
    pub(super) spans: Spans,
}

impl Routed {
    /// The path the flow takes at `at` (the preferred one when every path is down).
    pub(super) fn path_at(&self, at: i64) -> usize {
        self.chosen
            .iter()
            .position(|spans| spans.contains(at))
            .unwrap_or(0)
    }

    /// When the flow's path leaves `node` by `port`.
    pub(super) fn leaving_by(&self, node: usize, port: u16) -> Spans {
        self.flow
            .paths
            .iter()
            .zip(&self.chosen)
            .filter(|(path, _)| path.iter().any(|c| c.node == node && c.egress == port))
            .fold(Spans::default(), |all, (_, spans)| all.union(spans))
    }
}

/// When `flow` takes each path (the first whose cables are up) and when it is delivered (not
/// dropped at its source, not without a route there, not with every path down).
pub(super) fn route(t: &Topology, faults: &[Fault], flow: Flow, live: &Spans) -> Routed {
    let downs = link_downs(t, faults);
    let down_of = |path: &[Crossing]| {
        let down = downs
            .iter()
            .filter(|(link, _)| path.iter().any(|c| c.links.contains(link)));
        down.fold(Spans::default(), |all, (_, spans)| all.union(spans))
    };
    let mut free = live.clone();
    let mut chosen = Vec::new();
    for path in &flow.paths {
        let down = down_of(path);
        chosen.push(free.minus(&down));
        free = free.intersect(&down);
    }
    let source = flow.source();
    let withheld = faults.iter().filter_map(|fault| match fault {
        Fault::IntDrop { node, from, to, .. } if Some(*node) == source => {
            Some(Spans::between(*from, *to))
        }
        Fault::RouteWithdrawn {
            node,
            prefix,
            at,
            back,
        } if Some(*node) == source && covers(prefix, flow.dst) => {
            Some(Spans::between(*at, back.unwrap_or(i64::MAX)))
        }
        _ => None,
    });
    let withheld = withheld.fold(free, |all, spans| all.union(&spans));
    Routed {
        delivered: live.minus(&withheld),
        chosen,
        flow,
    }
}

/// Each cable's down time in the timeline (until its routes are back).
fn link_downs(t: &Topology, faults: &[Fault]) -> Vec<(usize, Spans)> {
    faults
        .iter()
        .filter_map(|fault| match fault {
            Fault::LinkDown {
                node,
                ifname,
                at,
                back,
            } => {
                let (link, _) = t.link_at(*node, ifname)?;
                let up = back.map_or(i64::MAX, |b| b.saturating_add(RECONVERGENCE));
                Some((link, Spans::between(*at, up)))
            }
            _ => None,
        })
        .collect()
}

/// The congested ports of the timeline.
pub(super) fn congestion(t: &Topology, faults: &[Fault]) -> Vec<Congestion> {
    faults
        .iter()
        .filter_map(|fault| match fault {
            Fault::IntCongestion {
                node,
                port,
                from,
                to,
            } => {
                t.link_at(*node, port)?;
                Some(Congestion {
                    node: *node,
                    port: port_number(port)?,
                    spans: Spans::between(*from, *to),
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether an IPv4 prefix (`10.1.30.0/24`) holds `address`.
fn covers(prefix: &str, address: Ipv4Addr) -> bool {
    let Some((network, length)) = prefix.split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(length)) = (network.parse::<Ipv4Addr>(), length.parse::<u32>()) else {
        return false;
    };
    let mask = u32::MAX.checked_shl(32 - length.min(32)).unwrap_or(0);
    u32::from(network) & mask == u32::from(address) & mask
}
