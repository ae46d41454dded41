//! The seed's reference data centre as event history: spine01–02, leaf01–04 in two MLAG pairs,
//! exit01–02 and server01–04, BGP unnumbered, EVPN/VXLAN, LLDP and MTU 9216/9152, with a
//! timeline of faults relative to `now`:
//! - 10h5m ago leaf03 swp51 goes down: leaf03's session to spine01 fails ("Interface down"),
//!   spine01's to leaf03 ("Hold Timer Expired"); both recover 9h30m ago;
//! - 6h ago leaf01 withdraws 10.1.30.0/24 and learns it again 5h50m ago;
//! - 5h ago leaf04 swp2 (to server04) is set to MTU 9000 against the server's 9152;
//! - 3h ago leaf04's bond3 carries VLANs 10-20,30 while leaf03's carries 10-20;
//! - 2h ago spine02's fan2 fails;
//! - exit02's agent last heartbeat is 2h old: it is Rotten.
//!
//! Rows are written as JSON objects and decoded with each table's own schema, so the fixture
//! passes exactly the checks an agent's rows pass.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use serde_json::{Value, json};

pub const MINUTE: i64 = 60_000_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// 2026-11-20T12:00:00Z, the `now` of the golden files.
pub const NOW: i64 = 1_795_176_000_000_000;

/// Rows per table, in the order they were added.
#[derive(Default)]
pub struct History {
    rows: BTreeMap<&'static str, Vec<Value>>,
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .expect("fixture time")
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl History {
    /// An object of `table` seen on `host` at `at` with these fields.
    pub fn add(&mut self, table: &'static str, at: i64, host: &str, fields: Value) {
        self.push(table, at, host, fields, true);
    }

    /// The object of `table` with these keys went away at `at`.
    pub fn delete(&mut self, table: &'static str, at: i64, host: &str, keys: Value) {
        self.push(table, at, host, keys, false);
    }

    fn push(&mut self, table: &'static str, at: i64, host: &str, fields: Value, active: bool) {
        let mut row = match fields {
            Value::Object(map) => map,
            _ => panic!("fixture rows are objects"),
        };
        row.insert("timestamp".into(), json!(rfc3339(at)));
        row.insert("hostname".into(), json!(host));
        row.insert("active".into(), json!(active));
        self.rows.entry(table).or_default().push(Value::Object(row));
    }

    /// One batch per table, decoded with the table's schema.
    pub fn batches(&self) -> Vec<(&'static str, RecordBatch)> {
        self.rows
            .iter()
            .map(|(table, rows)| {
                let schema = sonde_schema::table(table).expect("fixture table").schema();
                let mut decoder = arrow::json::ReaderBuilder::new(schema)
                    .with_batch_size(rows.len().max(1))
                    .build_decoder()
                    .expect("decoder");
                decoder
                    .serialize(rows)
                    .unwrap_or_else(|e| panic!("{table} rows: {e}"));
                let batch = decoder.flush().expect("flush").expect("rows");
                (*table, batch)
            })
            .collect()
    }
}

struct Node {
    name: &'static str,
    asn: u32,
    loopback: &'static str,
}

const SPINES: [Node; 2] = [
    Node {
        name: "spine01",
        asn: 65020,
        loopback: "10.0.0.21",
    },
    Node {
        name: "spine02",
        asn: 65020,
        loopback: "10.0.0.22",
    },
];
const LEAVES: [Node; 4] = [
    Node {
        name: "leaf01",
        asn: 65011,
        loopback: "10.0.0.11",
    },
    Node {
        name: "leaf02",
        asn: 65012,
        loopback: "10.0.0.12",
    },
    Node {
        name: "leaf03",
        asn: 65013,
        loopback: "10.0.0.13",
    },
    Node {
        name: "leaf04",
        asn: 65014,
        loopback: "10.0.0.14",
    },
];
const EXITS: [Node; 2] = [
    Node {
        name: "exit01",
        asn: 65041,
        loopback: "10.0.0.41",
    },
    Node {
        name: "exit02",
        asn: 65042,
        loopback: "10.0.0.42",
    },
];
const SERVERS: [&str; 4] = ["server01", "server02", "server03", "server04"];

/// The seed's fabric with its fault timeline, history starting two days before `now`.
pub fn reference_fabric(now: i64) -> History {
    let mut h = History::default();
    let start = now - 2 * DAY;
    let up = now - (DAY + 4 * HOUR + 55 * MINUTE);
    let routers: Vec<&Node> = SPINES.iter().chain(&LEAVES).chain(&EXITS).collect();
    for node in &routers {
        agent(&mut h, node.name, start, now, "Cumulus Linux 3.7.0");
        base_node(&mut h, node.name, start);
        h.add("addresses", start, node.name, json!({"ifname": "lo", "prefix": format!("{}/32", node.loopback), "family": "ipv4", "vrf": "default", "scope": "global"}));
    }
    for server in SERVERS {
        agent(&mut h, server, start, now, "Ubuntu 22.04");
        base_node(&mut h, server, start);
    }
    fabric_links(&mut h, start, up);
    mlag(&mut h, start);
    overlay(&mut h, start);
    routes(&mut h, start);
    faults(&mut h, now);
    h
}

/// Heartbeats every 30 s over the last day (exit02's stop two hours ago), after a first row at start.
fn agent(h: &mut History, host: &str, start: i64, now: i64, os: &str) {
    let row = |status: &str| {
        json!({"status": status, "version": "0.1.0", "os": os, "ntp_sync": "yes", "boot_time": rfc3339(start - 14 * DAY),
               "agent_start_time": rfc3339(start), "reinit_time": rfc3339(start), "heartbeat_interval_s": 30})
    };
    h.add("agents", start, host, row("Fresh"));
    let last = if host == "exit02" {
        now - 2 * HOUR
    } else {
        now - 10_000_000
    };
    let mut at = now - DAY;
    while at <= last {
        h.add("agents", at, host, row("Fresh"));
        at += 30_000_000;
    }
}

fn base_node(h: &mut History, host: &str, start: i64) {
    h.add("ntp", start, host, json!({"synced": true, "service": "chronyd", "source": "10.0.0.1", "stratum": 3, "offset_s": 0.0002}));
    h.add(
        "license",
        start,
        host,
        json!({"name": "cumulus", "state": "ok", "holder": "sonde-lab"}),
    );
    h.add("inventory", start, host, json!({"component": "cpu", "vendor": "Intel", "model": "Xeon D-1527", "arch": "x86_64", "cores": 4}));
    h.add("services", start, host, json!({"name": "frr", "vrf": "default", "state": "active", "enabled": true, "monitored": true, "pid": 812, "started_at": rfc3339(start)}));
    for fan in ["fan1", "fan2"] {
        h.add("sensors", start, host, json!({"kind": "fan", "name": fan, "description": "fan tray", "state": "ok", "value": 6000.0, "unit": "RPM", "max": 29000.0, "critical": 29000.0}));
    }
}

fn interface(h: &mut History, at: i64, host: &str, ifname: &str, mtu: u32, extra: Value) {
    let mut row = json!({"ifname": ifname, "type": "swp", "state": "up", "admin_state": "up", "mtu": mtu, "speed": 100000, "autoneg": "off", "vrf": "default"});
    if let (Value::Object(row), Value::Object(extra)) = (&mut row, extra) {
        row.extend(extra);
    }
    h.add("interfaces", at, host, row);
}

fn lldp(h: &mut History, at: i64, a: (&str, &str), b: (&str, &str)) {
    h.add(
        "lldp",
        at,
        a.0,
        json!({"ifname": a.1, "peer_hostname": b.0, "peer_ifname": b.1}),
    );
    h.add(
        "lldp",
        at,
        b.0,
        json!({"ifname": b.1, "peer_hostname": a.0, "peer_ifname": a.1}),
    );
}

fn session(
    h: &mut History,
    at: i64,
    local: &Node,
    ifname: &str,
    remote: &Node,
    established: i64,
    state: &str,
    reason: Option<&str>,
) {
    let is_up = state == "Established";
    let mut row = json!({"vrf": "default", "peer": ifname, "ifname": ifname, "asn": local.asn, "peer_asn": remote.asn,
        "router_id": local.loopback, "state": state, "hold_time": 9, "keepalive": 3, "config_hold_time": 9, "config_keepalive": 3,
        "afi_safi": "ipv4-unicast,l2vpn-evpn", "established_at": rfc3339(established)});
    if is_up {
        row["peer_hostname"] = json!(remote.name);
        row["peer_router_id"] = json!(remote.loopback);
        row["pfx_rx_ipv4"] = json!(2);
    }
    if let Some(reason) = reason {
        row["last_reset_reason"] = json!(reason);
    }
    h.add("bgp", at, local.name, row);
}

/// Spine–leaf and spine–exit links: leafN/exitN swp51 to spine01, swp52 to spine02.
fn fabric_links(h: &mut History, start: i64, up: i64) {
    for spine in &SPINES {
        for port in 1..=6 {
            interface(h, start, spine.name, &format!("swp{port}"), 9216, json!({}));
        }
    }
    for (i, node) in LEAVES.iter().chain(&EXITS).enumerate() {
        for (spine, uplink) in SPINES.iter().zip(["swp51", "swp52"]) {
            let downlink = format!("swp{}", i + 1);
            interface(h, start, node.name, uplink, 9216, json!({}));
            lldp(h, start, (node.name, uplink), (spine.name, &downlink));
            session(h, up, node, uplink, spine, up, "Established", None);
            session(h, up, spine, &downlink, node, up, "Established", None);
        }
    }
}

/// leaf01/02 and leaf03/04 are MLAG pairs with a peerlink; each server is dual-homed on a bond.
fn mlag(h: &mut History, start: i64) {
    for (pair, servers) in [
        (["leaf01", "leaf02"], [0usize, 1]),
        (["leaf03", "leaf04"], [2, 3]),
    ] {
        for (side, leaf) in pair.iter().enumerate() {
            let peer = pair[1 - side];
            let role = if side == 0 { "primary" } else { "secondary" };
            interface(
                h,
                start,
                leaf,
                "peerlink",
                9216,
                json!({"type": "bond", "vlans": "10-20", "pvid": 1}),
            );
            h.add("clag", start, leaf, json!({"ifname": "peerlink", "peer_hostname": peer, "role": role, "peer_role": if side == 0 { "secondary" } else { "primary" },
                "peer_state": "up", "peerlink": "peerlink", "sysmac": "44:38:39:ff:00:01", "backup_ip": "192.168.0.1", "backup_active": true, "bond_state": "dual"}));
            for (n, &server) in servers.iter().enumerate() {
                let bond = format!("bond{}", server + 1);
                let port = format!("swp{}", n + 1);
                interface(h, start, leaf, &port, 9152, json!({"master": bond}));
                interface(
                    h,
                    start,
                    leaf,
                    &bond,
                    9152,
                    json!({"type": "bond", "vlans": "10-20", "pvid": 10}),
                );
                lldp(
                    h,
                    start,
                    (leaf, &port),
                    (SERVERS[server], if side == 0 { "eth1" } else { "eth2" }),
                );
                h.add("clag", start, leaf, json!({"ifname": bond, "peer_hostname": peer, "role": role, "peer_state": "up", "peerlink": "peerlink",
                    "sysmac": "44:38:39:ff:00:01", "backup_ip": "192.168.0.1", "backup_active": true, "clag_id": server + 1, "bond_state": "dual"}));
                h.add("macs", start, leaf, json!({"mac": format!("44:38:39:00:00:0{}", server + 1), "vlan": 10, "ifname": bond, "is_static": false}));
            }
        }
    }
    for server in SERVERS {
        for eth in ["eth1", "eth2"] {
            interface(
                h,
                start,
                server,
                eth,
                9152,
                json!({"type": "eth", "speed": 100000}),
            );
        }
    }
}

/// VNIs 10 and 20 on every leaf, replicated head-end to the other leaves.
fn overlay(h: &mut History, start: i64) {
    for leaf in &LEAVES {
        for (vni, vlan) in [(10u32, 10u32), (20, 20)] {
            let remote: Vec<&str> = LEAVES
                .iter()
                .filter(|l| l.name != leaf.name)
                .map(|l| l.loopback)
                .collect();
            h.add("vxlan", start, leaf.name, json!({"ifname": format!("vni{vni}"), "vni": vni, "vlan": vlan, "local_ip": leaf.loopback,
                "replication": "evpn", "remote_vteps": remote, "state": "up"}));
            h.add(
                "evpn",
                start,
                leaf.name,
                json!({"vni": vni, "type": "L2", "vrf": "default", "vlan": vlan, "state": "up",
                "origin_ip": leaf.loopback, "remote_vteps": remote, "macs": 2}),
            );
            h.add(
                "vlan",
                start,
                leaf.name,
                json!({"vlan": vlan, "ports": ["peerlink", "bond1", "bond2"], "vni": vni}),
            );
        }
    }
}

/// Every leaf's server subnet, learned over both spines by every other router.
fn routes(h: &mut History, start: i64) {
    for (i, leaf) in LEAVES.iter().enumerate() {
        let prefix = format!("10.1.{}.0/24", (i + 1) * 10);
        for other in LEAVES.iter().filter(|l| l.name != leaf.name) {
            h.add("routes", start, other.name, route(&prefix));
        }
    }
}

fn route(prefix: &str) -> Value {
    json!({"vrf": "default", "prefix": prefix, "family": "ipv4", "protocol": "bgp", "nexthop_ips": ["fe80::1", "fe80::2"],
           "oifs": ["swp51", "swp52"], "weights": ["1", "1"], "metric": 20, "table_id": 254})
}

fn faults(h: &mut History, now: i64) {
    let (leaf03, spine01) = (&LEAVES[2], &SPINES[0]);
    let down = now - (10 * HOUR + 5 * MINUTE);
    let back = now - (9 * HOUR + 30 * MINUTE);
    interface(
        h,
        down,
        "leaf03",
        "swp51",
        9216,
        json!({"state": "down", "last_flap": rfc3339(down)}),
    );
    session(
        h,
        down,
        leaf03,
        "swp51",
        spine01,
        down,
        "Idle",
        Some("Interface down"),
    );
    session(
        h,
        down + 90_000_000,
        spine01,
        "swp3",
        leaf03,
        down,
        "Idle",
        Some("Hold Timer Expired"),
    );
    h.add("events", down, "leaf03", json!({"type": "interfaces", "id": "ev-1", "severity": "error", "object": "swp51", "message": "swp51 went down"}));
    h.add("events", down + 90_000_000, "spine01", json!({"type": "bgp", "id": "ev-2", "severity": "error", "object": "swp3", "message": "BGP session to leaf03 went down: Hold Timer Expired"}));
    interface(
        h,
        back,
        "leaf03",
        "swp51",
        9216,
        json!({"last_flap": rfc3339(back)}),
    );
    session(
        h,
        back + 5_000_000,
        leaf03,
        "swp51",
        spine01,
        back,
        "Established",
        Some("Interface down"),
    );
    session(
        h,
        back + 5_000_000,
        spine01,
        "swp3",
        leaf03,
        back,
        "Established",
        Some("Hold Timer Expired"),
    );
    h.add("events", back + 5_000_000, "spine01", json!({"type": "bgp", "id": "ev-3", "severity": "info", "object": "swp3", "message": "BGP session to leaf03 is Established"}));

    h.delete(
        "routes",
        now - 6 * HOUR,
        "leaf01",
        json!({"vrf": "default", "prefix": "10.1.30.0/24"}),
    );
    h.add(
        "routes",
        now - (5 * HOUR + 50 * MINUTE),
        "leaf01",
        route("10.1.30.0/24"),
    );

    interface(
        h,
        now - 5 * HOUR,
        "leaf04",
        "swp2",
        9000,
        json!({"master": "bond4"}),
    );
    interface(
        h,
        now - 3 * HOUR,
        "leaf04",
        "bond3",
        9152,
        json!({"type": "bond", "vlans": "10-20,30", "pvid": 10}),
    );
    h.add("sensors", now - 2 * HOUR, "spine02", json!({"kind": "fan", "name": "fan2", "description": "fan tray", "state": "bad", "value": 0.0,
        "unit": "RPM", "max": 29000.0, "critical": 29000.0, "message": "Fan fan2 speed 0 RPM below minimum"}));
    h.add("events", now - 2 * HOUR, "spine02", json!({"type": "sensors", "id": "ev-4", "severity": "critical", "object": "fan2", "message": "Fan fan2 speed 0 RPM below minimum"}));
}
