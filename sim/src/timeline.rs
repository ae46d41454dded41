//! Faults and what each one makes the agents report, in time order.

use sonde_schema::families::license;
use sonde_schema::row::{Row, time};

use crate::fabric::{
    self, DAY, HOLD_TIME, HOUR, MINUTE, NodeRow, SECOND, SessionState, bond_row, event, fan_row,
    healed_at, interface_row, license_row, link_rows, ntp_row, port_row, route_row, session_row,
};
use crate::lnv::{self, LnvFault};
use crate::mlag::{self, MlagFault};
use crate::ospf::{self, OspfFault};
use crate::overlay::{self, VniFault};
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
    /// Something goes wrong on the OSPF interface `ifname` of `node`; set right at `back`.
    Ospf {
        node: usize,
        ifname: String,
        fault: OspfFault,
        at: i64,
        back: Option<i64>,
    },
    /// Something goes wrong in MLAG pair `pair`; set right at `back`.
    Mlag {
        pair: usize,
        fault: MlagFault,
        at: i64,
        back: Option<i64>,
    },
    /// Something goes wrong with VNI `vni` on the VTEP `node`; set right at `back`.
    Vni {
        node: usize,
        vni: u32,
        fault: VniFault,
        at: i64,
        back: Option<i64>,
    },
    /// Something goes wrong with the LNV VNI on the VTEP `node`; set right at `back`.
    Lnv {
        node: usize,
        fault: LnvFault,
        at: i64,
        back: Option<i64>,
    },
    /// The LNV domain is taken out of service.
    LnvRetired { at: i64 },
    /// The node's licence (a subscription since the first resync) expires at `at`; a new one,
    /// good for a year, is installed at `back`.
    LicenseExpires {
        node: usize,
        at: i64,
        back: Option<i64>,
    },
    /// The node's licence goes missing (its file is removed) and is installed again at `back`.
    LicenseMissing {
        node: usize,
        at: i64,
        back: Option<i64>,
    },
    /// The node's clock loses its NTP server (chrony falls back to stratum 16 and drifts); the
    /// server is reachable again at `back`.
    NtpUnsynced {
        node: usize,
        at: i64,
        back: Option<i64>,
    },
    /// The queues of egress `port` on `node` (a spine) run deep from `from` to `to`: packets
    /// leaving by it wait microseconds behind hundreds of cells, and the switch sends a queue
    /// report (Q) for every sampled packet of a tracked flow that leaves by it.
    IntCongestion {
        node: usize,
        port: String,
        from: i64,
        to: i64,
    },
    /// `node` (a leaf) drops the packets of the tracked flows entering the fabric there, for
    /// drop reason `reason` (a code of `DROP_REASONS`), from `from` to `to`, and sends a drop
    /// report (D) for every sampled one; the flows' sinks see none of them meanwhile.
    IntDrop {
        node: usize,
        reason: u8,
        from: i64,
        to: i64,
    },
    /// One in `one_in` of the report datagrams `node` exports from `from` to `to` is lost on
    /// the way to the collector: its sequence numbers show the gaps.
    IntLoss {
        node: usize,
        one_in: u64,
        from: i64,
        to: i64,
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
            Fault::Ospf {
                node,
                ifname,
                fault,
                at,
                back,
            } => ospf::fault_rows(t, *node, ifname, fault, *at, *back, id),
            Fault::Mlag {
                pair,
                fault,
                at,
                back,
            } => mlag::fault_rows(t, *pair, fault, *at, *back, id),
            Fault::Vni {
                node,
                vni,
                fault,
                at,
                back,
            } => overlay::fault_rows(t, *node, *vni, fault, *at, *back),
            Fault::Lnv {
                node,
                fault,
                at,
                back,
            } => lnv::fault_rows(t, *node, fault, *at, *back),
            Fault::LnvRetired { at } => lnv::retired(t, *at),
            Fault::LicenseExpires { node, at, back } => {
                let mut rows = vec![(*node, subscription(*at, *at).set("state", "expired"))];
                rows.extend(back.map(|back| (*node, subscription(back, back + 365 * DAY))));
                rows
            }
            Fault::LicenseMissing { node, at, back } => {
                let missing = license_row(*at)
                    .set("state", "missing")
                    .set("holder", None::<&str>);
                healed_at(t, vec![(*node, missing)], *back)
            }
            Fault::NtpUnsynced { node, at, back } => {
                let adrift = ntp_row(*at)
                    .set("synced", false)
                    .set("source", None::<&str>)
                    .set("stratum", 16u32)
                    .set("offset_s", 1.75);
                healed_at(t, vec![(*node, adrift)], *back)
            }
            Fault::IntCongestion { .. } | Fault::IntDrop { .. } | Fault::IntLoss { .. } => {
                Vec::new()
            }
        }
    }

    /// Changes this fault makes to the rows of the first resync at `start`: what the agents
    /// already saw then of a fault still to come.
    pub fn amend_first_resync(&self, rows: &mut [NodeRow], start: i64) {
        if let Fault::LicenseExpires { node, at, .. } = self {
            for (n, row) in rows.iter_mut() {
                if n == node && row.table.name == license::TABLE.name {
                    *row = subscription(start, *at);
                }
            }
        }
    }
}

/// The licence of a subscription that ends at `expires`.
fn subscription(at: i64, expires: i64) -> Row {
    license_row(at).set("expires_at", time(expires))
}

/// `ifname` of `node` goes down at `at` (and up at `back`); on a fabric link both sessions over
/// it fail.
/// The routes of `node` over `port` once the port is down at `at` (each without that next hop,
/// or withdrawn), and as they were again at `back`.
fn routes_by(t: &Topology, node: usize, port: &str, at: i64, back: Option<i64>) -> Vec<NodeRow> {
    let (down, healthy) = fabric::routes_over(t, node, port, at);
    let mut rows: Vec<NodeRow> = down.into_iter().map(|r| (node, r)).collect();
    if let Some(back) = back {
        rows.extend(healthy.into_iter().map(|mut r| {
            r.time = back;
            (node, r)
        }));
    }
    rows
}

pub(crate) fn link_down(
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
    let (near, far) = if a_side {
        (&link.a, &link.b)
    } else {
        (&link.b, &link.a)
    };
    let mut rows = vec![
        (
            node,
            port_row(t, link, near, at)
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
    let far_port = if a_side { &link.b } else { &link.a };
    for (end, when) in [(node, at), (far_port.node, detected)] {
        let port = if end == node {
            ifname
        } else {
            far_port.ifname.as_str()
        };
        rows.extend(routes_by(t, end, port, when, back.map(|b| b + 5 * SECOND)));
    }
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
///
/// Before those (and after them in the list, so that the seed's events keep their ids),
/// `family_faults`: a fault of every `check` family at its own time, each set right an hour
/// later.
pub fn reference_faults(t: &Topology, now: i64) -> Vec<Fault> {
    let node = |name: &str| {
        t.node(name)
            .unwrap_or_else(|| panic!("the reference fabric has {name}"))
    };
    let mut faults = vec![
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
    ];
    faults.extend(family_faults(t, now));
    faults
}

/// Faults of the families the seed's timeline leaves alone, each set right an hour after it
/// strikes, an hour and a half apart from 40h30m ago, so that each is in force half an hour
/// after it strikes (40h ago, 38h30m ago, …, 16h ago) and all are over before the seed's faults:
/// - OSPF, exit↔edge01: edge01 eth2 moves to area 0.0.0.1 (40h30m ago); exit01 swp1 hellos
///   every 5 s, dead after 20 (39h); edge01 eth1's dead interval is 120 s (37h30m); edge01
///   eth1's MTU is 1500, stuck in ExStart (36h); exit01 swp1 and edge01 eth1 lose their
///   adjacency (34h30m);
/// - MLAG: leaf01–leaf02's peerlink goes down (33h); leaf02's bond2 loses its link, singly
///   attached on leaf01 (31h30m); leaf03 and leaf04 lose their backup IP (30h); leaf04 takes
///   system MAC 44:38:39:ff:00:03 (28h30m);
/// - EVPN/VXLAN: leaf03's VNI 20 misses leaf01 in its replication list (27h); leaf02 maps VNI 10
///   to VLAN 11 (25h30m); leaf04 puts VNI 20 in VRF RED (24h); leaf02's VNI 20 goes down, the
///   other VTEPs drop it from their lists (22h30m);
/// - licences: leaf02's subscription expires (21h); exit01's licence goes missing (19h30m);
/// - LNV, VNI 100 on the exits: exit01 registers with spine01's own address rather than the
///   anycast service node (18h); exit02's vxrd stops (16h30m); the domain is retired 15h ago;
/// - NTP: leaf01's clock loses its server (13h30m);
/// - INT, in the free hours after it: spine01's queues toward leaf03 (swp3) run deep (12h30m),
///   then leaf02 drops what server02 sends with an ACL deny (11h15m); before them, a third of
///   leaf03's report datagrams are lost for ten minutes (14h).
fn family_faults(t: &Topology, now: i64) -> Vec<Fault> {
    let node = |name: &str| {
        t.node(name)
            .unwrap_or_else(|| panic!("the reference fabric has {name}"))
    };
    let ago = |hours: i64, minutes: i64| now - (hours * HOUR + minutes * MINUTE);
    let hour_from = |at: i64| Some(at + HOUR);
    let ospf = |name: &str, ifname: &str, fault, at| Fault::Ospf {
        node: node(name),
        ifname: ifname.into(),
        fault,
        at,
        back: hour_from(at),
    };
    let mlag = |pair, fault, at| Fault::Mlag {
        pair,
        fault,
        at,
        back: hour_from(at),
    };
    let vni = |name: &str, vni, fault, at| Fault::Vni {
        node: node(name),
        vni,
        fault,
        at,
        back: hour_from(at),
    };
    let lnv = |name: &str, fault, at| Fault::Lnv {
        node: node(name),
        fault,
        at,
        back: hour_from(at),
    };
    let area = OspfFault::Area("0.0.0.1".into());
    let fast_hellos = OspfFault::Timers { hello: 5, dead: 20 };
    let slow_dead = OspfFault::Timers {
        hello: ospf::HELLO_S,
        dead: 120,
    };
    let single = MlagFault::SingleAttached {
        side: 1,
        bond: "bond2".into(),
    };
    let sysmac = MlagFault::Sysmac {
        side: 1,
        mac: "44:38:39:ff:00:03".into(),
    };
    let missing_leaf01 = VniFault::MissingRemote {
        vtep: node("leaf01"),
    };
    let spine01_address = LnvFault::ServiceNode(t.nodes[node("spine01")].loopback.clone());
    vec![
        ospf("edge01", "eth2", area, ago(40, 30)),
        ospf("exit01", "swp1", fast_hellos, ago(39, 0)),
        ospf("edge01", "eth1", slow_dead, ago(37, 30)),
        ospf("edge01", "eth1", OspfFault::Mtu(1500), ago(36, 0)),
        ospf("exit01", "swp1", OspfFault::AdjacencyLost, ago(34, 30)),
        mlag(0, MlagFault::PeerlinkDown, ago(33, 0)),
        mlag(0, single, ago(31, 30)),
        mlag(1, MlagFault::BackupDown, ago(30, 0)),
        mlag(1, sysmac, ago(28, 30)),
        vni("leaf03", 20, missing_leaf01, ago(27, 0)),
        vni("leaf02", 10, VniFault::Vlan(11), ago(25, 30)),
        vni("leaf04", 20, VniFault::Vrf("RED".into()), ago(24, 0)),
        vni("leaf02", 20, VniFault::Down, ago(22, 30)),
        Fault::LicenseExpires {
            node: node("leaf02"),
            at: ago(21, 0),
            back: hour_from(ago(21, 0)),
        },
        Fault::LicenseMissing {
            node: node("exit01"),
            at: ago(19, 30),
            back: hour_from(ago(19, 30)),
        },
        lnv("exit01", spine01_address, ago(18, 0)),
        lnv("exit02", LnvFault::Down, ago(16, 30)),
        Fault::LnvRetired { at: ago(15, 0) },
        Fault::NtpUnsynced {
            node: node("leaf01"),
            at: ago(13, 30),
            back: hour_from(ago(13, 30)),
        },
        Fault::IntCongestion {
            node: node("spine01"),
            port: "swp3".into(),
            from: ago(12, 30),
            to: ago(11, 30),
        },
        Fault::IntDrop {
            node: node("leaf02"),
            reason: ACL_DENY,
            from: ago(11, 15),
            to: ago(10, 15),
        },
        Fault::IntLoss {
            node: node("leaf03"),
            one_in: 3,
            from: ago(14, 0),
            to: ago(13, 50),
        },
    ]
}

/// The p4lang switch pipeline's drop reason for an ACL deny.
const ACL_DENY: u8 = 60;
