//! OSPF on the routed links of `Topology::ospf`: both ends' interfaces and adjacencies as the
//! agent's FRR collector reports them (`show ip ospf interface` joined with its neighbour: states
//! in lower case, no peer hostname, a listed neighbour only while FRR keeps one), the
//! speakers' passive loopbacks, the links' addresses, and what an OSPF fault changes.
//!
//! A mismatch (area, timers) makes the changed end drop its neighbour at once and the far end
//! when its dead interval expires; an MTU mismatch leaves both ends stuck in ExStart.

use sonde_schema::families::{addresses, ospf};
use sonde_schema::row::{Row, time};

use crate::fabric::{NodeRow, SECOND, event, port_row, restored};
use crate::topology::{OspfLink, Topology};

pub const AREA: &str = "0.0.0.0";
pub const HELLO_S: u32 = 10;
pub const DEAD_S: u32 = 40;
const PREFIX_LEN: u32 = 31;

/// What goes wrong on one end of an OSPF link.
#[derive(Debug, Clone)]
pub enum OspfFault {
    /// The interface is put in another area.
    Area(String),
    /// Its hello and dead intervals are changed.
    Timers { hello: u32, dead: u32 },
    /// The port's MTU is changed (the interface row changes too).
    Mtu(u32),
    /// OSPF packets stop getting through (a filter on the link): both ends lose the neighbour.
    AdjacencyLost,
}

/// An interface's OSPF settings.
#[derive(Debug, Clone)]
struct Settings {
    area: String,
    hello: u32,
    dead: u32,
    mtu: u32,
}

/// The neighbour as FRR lists it on the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adjacency {
    Full {
        since: i64,
    },
    ExStart {
        since: i64,
    },
    /// No neighbour listed: the collector reports the interface `down`.
    Down,
}

impl Adjacency {
    fn state(self) -> &'static str {
        match self {
            Adjacency::Full { .. } => "full",
            Adjacency::ExStart { .. } => "exstart",
            Adjacency::Down => "down",
        }
    }

    fn since(self) -> Option<i64> {
        match self {
            Adjacency::Full { since } | Adjacency::ExStart { since } => Some(since),
            Adjacency::Down => None,
        }
    }
}

/// The OSPF router id of a node: its configured one, else its loopback.
fn router_id(t: &Topology, node: usize) -> &str {
    t.ospf_router_ids
        .iter()
        .find(|(n, _)| *n == node)
        .map_or(t.nodes[node].loopback.as_str(), |(_, id)| id.as_str())
}

/// Every OSPF link's ends, full since `at`, their addresses, and the speakers' loopbacks.
pub fn rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    let mut speakers = Vec::new();
    for ospf_link in &t.ospf {
        for a_side in [true, false] {
            let adjacency = Adjacency::Full { since: at };
            let settings = settings(t, ospf_link);
            rows.push(end_row(t, ospf_link, a_side, at, &settings, adjacency));
            rows.push(address_row(t, ospf_link, a_side, at));
            let (node, _) = end(t, ospf_link, a_side);
            if !speakers.contains(&node) {
                speakers.push(node);
            }
        }
    }
    speakers.sort_unstable();
    for node in speakers
        .into_iter()
        .filter(|&n| !t.nodes[n].loopback.is_empty())
    {
        rows.push((node, loopback_row(t, node, at)));
    }
    rows
}

/// The node and port of one end of an OSPF link.
fn end<'a>(t: &'a Topology, ospf_link: &OspfLink, a_side: bool) -> (usize, &'a str) {
    let link = &t.links[ospf_link.link];
    let port = if a_side { &link.a } else { &link.b };
    (port.node, &port.ifname)
}

/// The settings both ends are configured with.
fn settings(t: &Topology, ospf_link: &OspfLink) -> Settings {
    Settings {
        area: AREA.into(),
        hello: HELLO_S,
        dead: DEAD_S,
        mtu: t.links[ospf_link.link].mtu,
    }
}

/// One end's interface with its neighbour (the far end) as `adjacency` says.
fn end_row(
    t: &Topology,
    ospf_link: &OspfLink,
    a_side: bool,
    at: i64,
    settings: &Settings,
    adjacency: Adjacency,
) -> NodeRow {
    let (node, ifname) = end(t, ospf_link, a_side);
    let (far, _) = end(t, ospf_link, !a_side);
    let address = &ospf_link.addresses[usize::from(!a_side)];
    let far_address = &ospf_link.addresses[usize::from(a_side)];
    let listed = adjacency != Adjacency::Down;
    let row = Row::new(&ospf::TABLE, at)
        .set("vrf", "default")
        .set("ifname", ifname)
        .set("area", settings.area.as_str())
        .set("router_id", router_id(t, node))
        .set(
            "peer_router_id",
            listed.then(|| router_id(t, far).to_string()),
        )
        .set("peer_ip", listed.then(|| far_address.clone()))
        .set("state", adjacency.state())
        .set("network_type", "p2p")
        .set("hello_time", settings.hello)
        .set("dead_time", settings.dead)
        .set("mtu", settings.mtu)
        .set("cost", 1u32)
        .set("is_passive", false)
        .set("subnet", subnet(address))
        .set("last_change", adjacency.since().map(time));
    (node, row)
}

/// `10.9.1.1` → `10.9.1.0/31`.
fn subnet(address: &str) -> String {
    let network = address
        .parse::<std::net::Ipv4Addr>()
        .map(|ip| std::net::Ipv4Addr::from(u32::from(ip) & !1))
        .map_or_else(|_| address.to_string(), |ip| ip.to_string());
    format!("{network}/{PREFIX_LEN}")
}

fn address_row(t: &Topology, ospf_link: &OspfLink, a_side: bool, at: i64) -> NodeRow {
    let (node, ifname) = end(t, ospf_link, a_side);
    let address = &ospf_link.addresses[usize::from(!a_side)];
    let row = Row::new(&addresses::TABLE, at)
        .set("ifname", ifname)
        .set("prefix", format!("{address}/{PREFIX_LEN}"))
        .set("family", "ipv4")
        .set("vrf", "default")
        .set("scope", "global");
    (node, row)
}

/// The speaker's loopback, advertised and passive, as FRR lists it.
fn loopback_row(t: &Topology, node: usize, at: i64) -> Row {
    let loopback = t.nodes[node].loopback.as_str();
    Row::new(&ospf::TABLE, at)
        .set("vrf", "default")
        .set("ifname", "lo")
        .set("area", AREA)
        .set("router_id", router_id(t, node))
        .set("network_type", "loopback")
        .set("hello_time", HELLO_S)
        .set("dead_time", DEAD_S)
        .set("mtu", 65536u32)
        .set("cost", 0u32)
        .set("is_passive", true)
        .set("subnet", format!("{loopback}/32"))
}

/// The rows `fault` on `ifname` of `node` makes both ends report, from `at` until `back`.
pub fn fault_rows(
    t: &Topology,
    node: usize,
    ifname: &str,
    fault: &OspfFault,
    at: i64,
    back: Option<i64>,
    id: &str,
) -> Vec<NodeRow> {
    let Some((ospf_link, a_side)) = t
        .link_at(node, ifname)
        .and_then(|(link, a_side)| t.ospf.iter().find(|o| o.link == link).map(|o| (o, a_side)))
    else {
        return Vec::new();
    };
    let mut changed = settings(t, ospf_link);
    let mut adjacency = Adjacency::Down;
    let mut far_at = at + i64::from(DEAD_S) * SECOND;
    let mut rows = Vec::new();
    match fault {
        OspfFault::Area(area) => changed.area.clone_from(area),
        OspfFault::Timers { hello, dead } => (changed.hello, changed.dead) = (*hello, *dead),
        OspfFault::Mtu(mtu) => {
            changed.mtu = *mtu;
            adjacency = Adjacency::ExStart { since: at };
            far_at = at + SECOND;
            rows.push(port_at(t, ospf_link, a_side, at, *mtu));
        }
        OspfFault::AdjacencyLost => far_at = at,
    }
    let far_adjacency = match adjacency {
        Adjacency::ExStart { .. } => Adjacency::ExStart { since: far_at },
        other => other,
    };
    let far_settings = settings(t, ospf_link);
    rows.push(end_row(t, ospf_link, a_side, at, &changed, adjacency));
    rows.push(end_row(
        t,
        ospf_link,
        !a_side,
        far_at,
        &far_settings,
        far_adjacency,
    ));
    rows.push(adjacency_event(t, ospf_link, a_side, at, adjacency, id));
    rows.push(adjacency_event(
        t,
        ospf_link,
        !a_side,
        far_at,
        far_adjacency,
        id,
    ));
    if let Some(back) = back {
        let events = [a_side, !a_side].map(|side| {
            adjacency_event(
                t,
                ospf_link,
                side,
                back,
                Adjacency::Full { since: back },
                id,
            )
        });
        rows.extend(restored(t, &rows, back));
        rows.extend(events);
    }
    rows
}

/// The port under one end, its MTU set to `mtu`.
fn port_at(t: &Topology, ospf_link: &OspfLink, a_side: bool, at: i64, mtu: u32) -> NodeRow {
    let link = &t.links[ospf_link.link];
    let port = if a_side { &link.a } else { &link.b };
    (port.node, port_row(t, link, port, at).set("mtu", mtu))
}

fn adjacency_event(
    t: &Topology,
    ospf_link: &OspfLink,
    a_side: bool,
    at: i64,
    adjacency: Adjacency,
    id: &str,
) -> NodeRow {
    let (node, ifname) = end(t, ospf_link, a_side);
    let (far, _) = end(t, ospf_link, !a_side);
    let (severity, state, suffix) = match adjacency {
        Adjacency::Full { .. } => ("info", "Full", "up"),
        Adjacency::ExStart { .. } => ("error", "ExStart", "down"),
        Adjacency::Down => ("error", "Down", "down"),
    };
    let message = format!(
        "OSPF adjacency with {} on {ifname} is {state}",
        t.nodes[far].name
    );
    let id = format!("{id}-{ifname}-{suffix}");
    (node, event(at, "ospf", &id, severity, ifname, message))
}
