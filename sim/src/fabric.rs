//! The rows an agent on each node reports for a healthy fabric (MLAG, the overlay, LNV and OSPF
//! from their own modules), and the rows that change when a fault strikes or is set right:
//! built with the agent's own `Row`, so they are the agent's rows, column for column.

use std::collections::HashMap;

use sonde_schema::families::{
    addresses, bgp, events, interfaces, inventory, license, lldp, ntp, routes, sensors, services,
};
use sonde_schema::row::{Heartbeat, Row, time};

use crate::topology::{FABRIC_MTU, Link, LinkKind, Node, Port, Role, Topology};
use crate::{hosts, lnv, mlag, ospf, overlay};

pub const SECOND: i64 = 1_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// BGP's hold time here: the far side of a failed link notices this long after the near side.
pub const HOLD_TIME: i64 = 9 * SECOND;
pub const HEARTBEAT_INTERVAL_S: u32 = 30;

/// A row of one node.
pub type NodeRow = (usize, Row);

/// How one BGP session is doing.
#[derive(Debug, Clone, Copy)]
pub struct SessionState<'a> {
    pub up: bool,
    pub established_at: i64,
    pub reason: Option<&'a str>,
    pub prefixes: u64,
}

/// The healthy fabric as the agents' first resync reports it at `at`, with every BGP session
/// established at `established` (and reported then, when that is later).
pub fn initial_rows(t: &Topology, at: i64, established: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for (n, node) in t.nodes.iter().enumerate() {
        rows.extend(system_rows(node, at).into_iter().map(|r| (n, r)));
        if node.role.is_router() {
            let lo = format!("{}/32", node.loopback);
            rows.push((
                n,
                Row::new(&addresses::TABLE, at)
                    .set("ifname", "lo")
                    .set("prefix", lo)
                    .set("family", "ipv4")
                    .set("vrf", "default")
                    .set("scope", "global"),
            ));
        }
    }
    for link in &t.links {
        rows.extend(link_rows(t, link, at, true));
        if link.kind == LinkKind::Fabric {
            let up = SessionState {
                up: true,
                established_at: established,
                reason: None,
                prefixes: 2,
            };
            let reported = at.max(established);
            rows.push(session_row(t, link, true, reported, up));
            rows.push(session_row(t, link, false, reported, up));
        }
    }
    rows.extend(mlag::rows(t, at));
    rows.extend(overlay::rows(t, at));
    rows.extend(lnv::rows(t, at));
    rows.extend(ospf::rows(t, at));
    rows.extend(route_rows(t, at));
    rows.extend(hosts::rows(t, at));
    rows.extend(gateway_rows(t, at));
    rows
}

fn system_rows(node: &Node, at: i64) -> Vec<Row> {
    let mut rows = vec![
        heartbeat(node, at, at),
        ntp_row(at),
        license_row(at),
        Row::new(&inventory::TABLE, at)
            .set("component", "cpu")
            .set("vendor", "Intel")
            .set("model", "Xeon D-1527")
            .set("arch", "x86_64")
            .set("cores", 4u32),
        Row::new(&services::TABLE, at)
            .set("name", "frr")
            .set("vrf", "default")
            .set("state", "active")
            .set("enabled", true)
            .set("monitored", true)
            .set("pid", 812u32)
            .set("started_at", time(at)),
        temperature(at, 38.0),
    ];
    rows.extend(["fan1", "fan2"].map(|fan| fan_row(at, fan, true)));
    rows
}

/// The node's clock, synchronised by chrony to the out-of-band server.
pub fn ntp_row(at: i64) -> Row {
    Row::new(&ntp::TABLE, at)
        .set("synced", true)
        .set("service", "chronyd")
        .set("source", "10.0.0.1")
        .set("stratum", 3u32)
        .set("offset_s", 0.0)
}

/// Every node's perpetual Cumulus Linux licence.
pub fn license_row(at: i64) -> Row {
    Row::new(&license::TABLE, at)
        .set("name", "cumulus")
        .set("state", "ok")
        .set("holder", "sonde-lab")
}

/// The agent's heartbeat, as `sonde-agent` builds it; its agent started at `started`.
pub fn heartbeat(node: &Node, started: i64, at: i64) -> Row {
    Heartbeat {
        started,
        boot: Some(started - 14 * DAY),
        os: Some(node.os.into()),
        interval_s: HEARTBEAT_INTERVAL_S,
    }
    .row(at, Some(true), started)
}

pub fn temperature(at: i64, celsius: f64) -> Row {
    Row::new(&sensors::TABLE, at)
        .set("kind", "temp")
        .set("name", "temp1")
        .set("description", "board sensor")
        .set("state", "ok")
        .set("value", celsius)
        .set("unit", "C")
        .set("max", 80.0)
        .set("critical", 95.0)
}

pub fn fan_row(at: i64, fan: &str, ok: bool) -> Row {
    let row = Row::new(&sensors::TABLE, at)
        .set("kind", "fan")
        .set("name", fan)
        .set("description", "fan tray")
        .set("unit", "RPM")
        .set("max", 29000.0)
        .set("critical", 29000.0);
    if ok {
        row.set("state", "ok").set("value", 6000.0)
    } else {
        row.set("state", "bad")
            .set("value", 0.0)
            .set("message", format!("Fan {fan} speed 0 RPM below minimum"))
    }
}

fn is_switch(t: &Topology, node: usize) -> bool {
    t.nodes[node].role.is_router()
}

/// A port as its node reports it.
pub fn interface_row(t: &Topology, node: usize, ifname: &str, at: i64) -> Row {
    let kind = if is_switch(t, node) { "swp" } else { "eth" };
    Row::new(&interfaces::TABLE, at)
        .set("ifname", ifname)
        .set("type", kind)
        .set("state", "up")
        .set("admin_state", "up")
        .set("speed", 100_000u64)
        .set("autoneg", "off")
        .set("mac", mac_text(t.nodes[node].mac))
        .set("vrf", "default")
}

/// A MAC as agents write it: `44:38:39:00:00:0a`.
pub fn mac_text(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// One end of a cable as its node reports it when the link is up: its MTU, and its bond if any.
pub fn port_row(t: &Topology, link: &Link, this: &Port, at: i64) -> Row {
    let mut port = interface_row(t, this.node, &this.ifname, at).set("mtu", link.mtu);
    match link.kind {
        LinkKind::Peerlink => port.put("master", "peerlink"),
        LinkKind::Host if is_switch(t, this.node) => port.put("master", link.bond.clone()),
        _ => {}
    }
    port
}

/// Both ends' interfaces and LLDP neighbours of a cable (`up`: the link's state).
pub fn link_rows(t: &Topology, link: &Link, at: i64, up: bool) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for (this, other) in [(&link.a, &link.b), (&link.b, &link.a)] {
        let mut port = port_row(t, link, this, at);
        if !up {
            port.put("state", "down");
        }
        rows.push((this.node, port));
        if up {
            rows.push((
                this.node,
                Row::new(&lldp::TABLE, at)
                    .set("ifname", this.ifname.as_str())
                    .set("peer_hostname", &*t.nodes[other.node].name)
                    .set("peer_ifname", other.ifname.as_str()),
            ));
        }
    }
    rows
}

/// The session over a fabric link as one end (`a_side`: the link's `a` end) reports it.
pub fn session_row(
    t: &Topology,
    link: &Link,
    a_side: bool,
    at: i64,
    state: SessionState,
) -> NodeRow {
    let (this, other) = if a_side {
        (&link.a, &link.b)
    } else {
        (&link.b, &link.a)
    };
    let (local, remote) = (&t.nodes[this.node], &t.nodes[other.node]);
    let families = if remote.role == Role::Internet || local.role == Role::Internet {
        "ipv4-unicast"
    } else {
        "ipv4-unicast,l2vpn-evpn"
    };
    let mut row = Row::new(&bgp::TABLE, at)
        .set("vrf", "default")
        .set("peer", this.ifname.as_str())
        .set("ifname", this.ifname.as_str())
        .set("peer_hostname", &*remote.name)
        .set("asn", local.asn)
        .set("peer_asn", remote.asn)
        .set("router_id", local.loopback.as_str())
        .set("state", if state.up { "Established" } else { "Idle" })
        .set("config_hold_time", 9u32)
        .set("config_keepalive", 3u32)
        .set("afi_safi", families)
        .set("last_reset_reason", state.reason);
    if state.up {
        row = row
            .set("peer_router_id", remote.loopback.as_str())
            .set("hold_time", 9u32)
            .set("keepalive", 3u32)
            .set("pfx_rx_ipv4", state.prefixes)
            .set("established_at", time(state.established_at));
    }
    (this.node, row)
}

/// A switch-side bond (or the peerlink) with its VLANs.
pub fn bond_row(t: &Topology, node: usize, bond: &str, at: i64, vlans: &str) -> Row {
    let peerlink = bond == "peerlink";
    interface_row(t, node, bond, at)
        .set("type", "bond")
        .set(
            "mtu",
            if peerlink {
                FABRIC_MTU
            } else {
                crate::topology::HOST_MTU
            },
        )
        .set("vlans", vlans)
        .set("pvid", if peerlink { 1u32 } else { 10 })
}

/// Each leaf's gateway into its subnet: `vlan10`, holding the subnet's first address.
fn gateway_rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for (rank, leaf) in t.leaves().enumerate() {
        rows.push((
            leaf,
            interface_row(t, leaf, "vlan10", at)
                .set("type", "vlan")
                .set("mtu", crate::topology::HOST_MTU)
                .set("speed", None::<u64>)
                .set("pvid", 10u32),
        ));
        rows.push((
            leaf,
            Row::new(&addresses::TABLE, at)
                .set("ifname", "vlan10")
                .set("prefix", format!("{}/24", t.leaf_gateway(rank)))
                .set("family", "ipv4")
                .set("vrf", "default")
                .set("scope", "global"),
        ));
    }
    rows
}

/// Every node's routes (see [`routes_of`]).
fn route_rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    (0..t.nodes.len())
        .flat_map(|node| {
            routes_of(t, node, at, &[])
                .into_iter()
                .map(move |r| (node, r))
        })
        .collect()
}

/// The routes `node` holds at `at` when its ports in `down` carry nothing (see
/// [`route_specs`]); a route left with no port is reported withdrawn.
pub fn routes_of(t: &Topology, node: usize, at: i64, down: &[&str]) -> Vec<Row> {
    route_rows_of(t, node, route_specs(t, node), at, down)
}

/// The routes of `node` over `port` once it is down at `at` (each without that next hop, or
/// withdrawn), and as they are while it is up.
pub fn routes_over(t: &Topology, node: usize, port: &str, at: i64) -> (Vec<Row>, Vec<Row>) {
    let over: Vec<(String, Vec<String>)> = route_specs(t, node)
        .into_iter()
        .filter(|(_, ports)| ports.iter().any(|p| p == port))
        .collect();
    (
        route_rows_of(t, node, over.clone(), at, &[port]),
        route_rows_of(t, node, over, at, &[]),
    )
}

/// `(prefix, ports)` of every route `node` holds: a leaf learns every other leaf's server subnet
/// over all its uplinks (or only a default route, in a fabric whose spines announce just that),
/// an exit its default route from the internet; the routes toward the servers and their pods are
/// [`hosts`]'.
fn route_specs(t: &Topology, node: usize) -> Vec<(String, Vec<String>)> {
    let mut routes: Vec<(String, Vec<String>)> = Vec::new();
    match t.nodes[node].role {
        Role::Leaf if t.default_only_leaves => {
            routes.push((DEFAULT_ROUTE.to_string(), uplinks(t, node, false)));
        }
        Role::Leaf => {
            let via = uplinks(t, node, false);
            for (rank, leaf) in t.leaves().enumerate() {
                if leaf != node {
                    routes.push((t.leaf_subnet(rank), via.clone()));
                }
            }
        }
        Role::Exit => routes.push((DEFAULT_ROUTE.to_string(), uplinks(t, node, true))),
        _ => {}
    }
    routes.extend(hosts::routes_of(t, node));
    routes
}

fn route_rows_of(
    t: &Topology,
    node: usize,
    routes: Vec<(String, Vec<String>)>,
    at: i64,
    down: &[&str],
) -> Vec<Row> {
    let peers = &t.ports(node).peers;
    routes
        .into_iter()
        .map(|(prefix, ports)| {
            let up: Vec<String> = ports
                .into_iter()
                .filter(|p| !down.contains(&p.as_str()))
                .collect();
            let route = route_over(t, peers, &up, &prefix, at);
            if up.is_empty() {
                deletion(route, at)
            } else {
                route
            }
        })
        .collect()
}

const DEFAULT_ROUTE: &str = "0.0.0.0/0";

/// A node's BGP ports toward the internet (`to_internet`) or toward the spines.
fn uplinks(t: &Topology, node: usize, to_internet: bool) -> Vec<String> {
    t.ports(node)
        .a_ends
        .iter()
        .filter(|(_, peer, kind)| {
            *kind == LinkKind::Fabric && (t.nodes[*peer].role == Role::Internet) == to_internet
        })
        .map(|(port, ..)| port.clone())
        .collect()
}

/// A BGP route on `node` to `prefix`, over the node's uplinks (to the internet, for a default route).
pub fn route_row(t: &Topology, node: usize, prefix: &str, at: i64) -> Row {
    route_through(
        t,
        node,
        &uplinks(t, node, prefix == DEFAULT_ROUTE),
        prefix,
        at,
    )
}

/// A BGP route on `node` to `prefix` over these ports, the next hop on each the link-local
/// address of the port at its far end (BGP unnumbered).
pub fn route_through(t: &Topology, node: usize, ports: &[String], prefix: &str, at: i64) -> Row {
    route_over(t, &t.ports(node).peers, ports, prefix, at)
}

/// [`route_through`] with the node's ports' far ends already known.
fn route_over(
    t: &Topology,
    peers: &HashMap<String, (usize, LinkKind)>,
    ports: &[String],
    prefix: &str,
    at: i64,
) -> Row {
    let hops: Vec<String> = ports
        .iter()
        .map(|port| match peers.get(port.as_str()) {
            Some(&(peer, _)) => hosts::link_local(t.nodes[peer].mac),
            None => "fe80::1".to_string(),
        })
        .collect();
    let weights = vec!["1".to_string(); ports.len()];
    Row::new(&routes::TABLE, at)
        .set("vrf", "default")
        .set("prefix", prefix)
        .set("family", "ipv4")
        .set("protocol", "bgp")
        .set("nexthop_ips", hops)
        .set("oifs", ports.to_vec())
        .set("weights", weights)
        .set("metric", 20u32)
        .set("table_id", 254u32)
}

/// What the agents report when a fault heals at `back`: every object in `struck` (events aside)
/// as the healthy fabric has it then, or its deletion if the healthy fabric has none.
pub fn restored(t: &Topology, struck: &[NodeRow], back: i64) -> Vec<NodeRow> {
    let healthy = initial_rows(t, back, back);
    let same = |(n, r): &NodeRow, (m, s): &NodeRow| {
        n == m && r.table.name == s.table.name && r.key() == s.key()
    };
    let mut rows: Vec<NodeRow> = Vec::new();
    for gone in struck
        .iter()
        .filter(|(_, r)| r.table.name != events::TABLE.name)
    {
        if rows.iter().any(|row| same(row, gone)) {
            continue;
        }
        let row = healthy.iter().find(|row| same(row, gone)).cloned();
        rows.push(row.unwrap_or_else(|| (gone.0, deletion(gone.1.clone(), back))));
    }
    rows
}

/// The struck rows, then the healthy fabric's rows for the same objects at `back`, if any.
pub fn healed_at(t: &Topology, mut struck: Vec<NodeRow>, back: Option<i64>) -> Vec<NodeRow> {
    if let Some(back) = back {
        let healed = restored(t, &struck, back);
        struck.extend(healed);
    }
    struck
}

/// A deletion: the object with this row's key went away at `at`.
pub fn deletion(row: Row, at: i64) -> Row {
    let mut gone = Row::new(row.table, at);
    let keys = row.table.keys.len();
    gone.values[..keys].clone_from_slice(row.key());
    gone.active = false;
    gone
}

/// An entry of the `events` log.
pub fn event(
    at: i64,
    family: &str,
    id: &str,
    severity: &str,
    object: &str,
    message: String,
) -> Row {
    Row::new(&events::TABLE, at)
        .set("type", family)
        .set("id", id)
        .set("severity", severity)
        .set("object", object)
        .set("message", message)
}
