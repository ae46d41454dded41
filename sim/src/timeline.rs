//! Faults and what each one makes the agents report, in time order.

use sonde_schema::row::time;

use crate::fabric::{
    self, HOLD_TIME, HOUR, MINUTE, NodeRow, SECOND, SessionState, bond_row, event, fan_row,
    interface_row, link_rows, route_row, session_row,
};
use crate::topology::{LinkKind, Topology};

/// Something that goes wrong in the fabric. Node and interface names are the topology's.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `ifname` on `node` goes down at `at` and comes back at `back`: on a fabric link both BGP
    /// sessions over it fail, the near side with "Interface down", the far side when its hold
    /// timer expires.
    LinkDown {
        node: usize,
        ifname: String,
        at: i64,
        back: Option<i64>,
    },
    /// The node's agent stops sending (its heartbeats end): `check agents` calls it Rotten.
    AgentStops { node: usize, at: i64 },
    /// A port's MTU is set to `mtu`.
    Mtu {
        node: usize,
        ifname: String,
        mtu: u32,
        at: i64,
    },
    /// A bond's VLAN set changes on one leaf of an MLAG pair.
    BondVlans {
        node: usize,
        bond: String,
        vlans: String,
        at: i64,
    },
    /// A fan stops; it is replaced at `back`.
    FanFails {
        node: usize,
        fan: String,
        at: i64,
        back: Option<i64>,
    },
    /// A route is withdrawn and learned again at `back`.
    RouteWithdrawn {
        node: usize,
        prefix: String,
        at: i64,
        back: Option<i64>,
    },
}

/// The established time of sessions before any fault: about a day and five hours before `now`.
pub fn sessions_up(now: i64) -> i64 {
    now - (28 * HOUR + 55 * MINUTE)
}

impl Fault {
    /// The rows the agents send because of this fault. Events get ids from `id`.
    pub fn rows(&self, t: &Topology, id: &str) -> Vec<NodeRow> {
        match self {
            Fault::LinkDown {
                node,
                ifname,
                at,
                back,
            } => link_down(t, *node, ifname, *at, *back, id),
            Fault::AgentStops { .. } => Vec::new(),
            Fault::Mtu {
                node,
                ifname,
                mtu,
                at,
            } => {
                let mut port = interface_row(t, *node, ifname, *at).set("mtu", *mtu);
                if let Some(bond) = t
                    .link_at(*node, ifname)
                    .and_then(|(l, _)| t.links[l].bond.clone())
                {
                    port.put("master", bond);
                }
                vec![(*node, port)]
            }
            Fault::BondVlans {
                node,
                bond,
                vlans,
                at,
            } => vec![(*node, bond_row(t, *node, bond, *at, vlans))],
            Fault::FanFails {
                node,
                fan,
                at,
                back,
            } => {
                let message = format!("Fan {fan} speed 0 RPM below minimum");
                let mut rows = vec![
                    (*node, fan_row(*at, fan, false)),
                    (*node, event(*at, "sensors", id, "critical", fan, message)),
                ];
                rows.extend(back.map(|back| (*node, fan_row(back, fan, true))));
                rows
            }
            Fault::RouteWithdrawn {
                node,
                prefix,
                at,
                back,
            } => {
                let route = route_row(t, *node, prefix, *at);
                let mut rows = vec![(*node, fabric::deletion(route, *at))];
                rows.extend(back.map(|back| (*node, route_row(t, *node, prefix, back))));
                rows
            }
        }
    }
}

fn link_down(
    t: &Topology,
    node: usize,
    ifname: &str,
    at: i64,
    back: Option<i64>,
    id: &str,
) -> Vec<NodeRow> {
    let Some((index, a_side)) = t.link_at(node, ifname) else {
        return Vec::new();
    };
    let link = &t.links[index];
    let far = if a_side { &link.b } else { &link.a };
    let mut rows = vec![
        (
            node,
            interface_row(t, node, ifname, at)
                .set("mtu", link.mtu)
                .set("state", "down")
                .set("last_flap", time(at)),
        ),
        (
            node,
            event(
                at,
                "interfaces",
                &format!("{id}-link"),
                "error",
                ifname,
                format!("{ifname} went down"),
            ),
        ),
    ];
    if let Some(back) = back {
        rows.extend(
            link_rows(t, link, back, true)
                .into_iter()
                .filter(|(n, r)| *n == node && r.table.name == "interfaces")
                .map(|(n, r)| (n, r.set("last_flap", time(back)))),
        );
    }
    if link.kind != LinkKind::Fabric {
        return rows;
    }
    let detected = at + HOLD_TIME;
    let near_name = t.nodes[node].name.clone();
    // A session that is down reports no established time; `established_at` only matters once up.
    let near = SessionState {
        up: false,
        established_at: at,
        reason: Some("Interface down"),
        prefixes: 0,
    };
    let remote = SessionState {
        reason: Some("Hold Timer Expired"),
        ..near
    };
    rows.push(session_row(t, link, a_side, at, near));
    rows.push(session_row(t, link, !a_side, detected, remote));
    rows.push((
        far.node,
        event(
            detected,
            "bgp",
            &format!("{id}-bgp"),
            "error",
            &far.ifname,
            format!("BGP session to {near_name} went down: Hold Timer Expired"),
        ),
    ));
    if let Some(back) = back {
        let reup = back + 5 * SECOND;
        rows.push(session_row(
            t,
            link,
            a_side,
            reup,
            SessionState {
                up: true,
                established_at: reup,
                prefixes: 2,
                ..near
            },
        ));
        rows.push(session_row(
            t,
            link,
            !a_side,
            reup,
            SessionState {
                up: true,
                established_at: reup,
                prefixes: 2,
                ..remote
            },
        ));
        rows.push((
            far.node,
            event(
                reup,
                "bgp",
                &format!("{id}-up"),
                "info",
                &far.ifname,
                format!("BGP session to {near_name} is Established"),
            ),
        ));
    }
    rows
}

/// The seed's timeline, relative to `now`:
/// - 10h5m ago leaf03 swp51 goes down: leaf03's session to spine01 fails ("Interface down"),
///   spine01's to leaf03 ("Hold Timer Expired"); both recover 9h30m ago;
/// - 6h ago leaf01 withdraws 10.1.30.0/24 and learns it again ten minutes later;
/// - 5h ago leaf04 swp2 (to server04) is set to MTU 9000 against the server's 9152;
/// - 3h ago leaf04's bond3 carries VLANs 10-20,30 while leaf03's carries 10-20;
/// - 2h ago spine02's fan2 fails;
/// - 2h ago exit02's agent stops: it is Rotten.
pub fn reference_faults(t: &Topology, now: i64) -> Vec<Fault> {
    let node = |name: &str| {
        t.node(name)
            .unwrap_or_else(|| panic!("the reference fabric has {name}"))
    };
    vec![
        Fault::LinkDown {
            node: node("leaf03"),
            ifname: "swp51".into(),
            at: now - (10 * HOUR + 5 * MINUTE),
            back: Some(now - (9 * HOUR + 30 * MINUTE)),
        },
        Fault::RouteWithdrawn {
            node: node("leaf01"),
            prefix: "10.1.30.0/24".into(),
            at: now - 6 * HOUR,
            back: Some(now - (5 * HOUR + 50 * MINUTE)),
        },
        Fault::Mtu {
            node: node("leaf04"),
            ifname: "swp2".into(),
            mtu: 9000,
            at: now - 5 * HOUR,
        },
        Fault::BondVlans {
            node: node("leaf04"),
            bond: "bond3".into(),
            vlans: "10-20,30".into(),
            at: now - 3 * HOUR,
        },
        Fault::FanFails {
            node: node("spine02"),
            fan: "fan2".into(),
            at: now - 2 * HOUR,
            back: None,
        },
        Fault::AgentStops {
            node: node("exit02"),
            at: now - 2 * HOUR,
        },
    ]
}
