//! Routing on the host, as the seed's Kubernetes servers run it: each dual-homed server holds
//! its address on `lo` and its pods behind a Calico veth (`server03:cali320be3ff5dd` holds
//! 10.244.40.193 of 10.244.40.192/26), announces both over BGP on the bond to its leaves, and
//! routes everything else over both NICs. The spines learn every leaf's subnet and every pod
//! network from the leaves; the other leaves learn the pod networks over their uplinks. Every
//! route's next hop is the link-local address of the port at the far end (BGP unnumbered), and
//! each one has its neighbour entry.

use std::collections::HashMap;

use sonde_schema::families::{addresses, interfaces, neighbors};
use sonde_schema::row::Row;

use crate::fabric::{NodeRow, mac_text, route_through};
use crate::int::flows::host_address;
use crate::topology::{HOST_MTU, LinkKind, Role, Topology};

/// The Calico veth, its pod's address and the pod network of the seed's four servers.
const REFERENCE_PODS: [(&str, &str, &str); 4] = [
    ("calia1b7c03f9e2", "10.244.3.10", "10.244.3.0/26"),
    ("cali6e0d4b2a718", "10.244.6.6", "10.244.6.0/26"),
    ("cali320be3ff5dd", "10.244.40.193", "10.244.40.192/26"),
    ("cali9f27e85d1c4", "10.244.52.17", "10.244.52.0/26"),
];

/// A server's pod: the veth, its address and the network the server announces.
pub struct Pod {
    pub ifname: String,
    pub address: String,
    pub network: String,
}

/// The dual-homed servers (those on an MLAG pair's bonds), in pair order: `(server, bond,
/// [primary, secondary])`.
fn servers(t: &Topology) -> Vec<(usize, String, [usize; 2])> {
    t.pairs
        .iter()
        .flat_map(|pair| {
            pair.bonds
                .iter()
                .map(move |b| (b.server, b.name.clone(), pair.leaves))
        })
        .collect()
}

/// The pod of the `rank`-th dual-homed server.
pub fn pod(rank: usize) -> Pod {
    match REFERENCE_PODS.get(rank) {
        Some((ifname, address, network)) => Pod {
            ifname: (*ifname).into(),
            address: (*address).into(),
            network: (*network).into(),
        },
        None => {
            let (hi, lo) = (100 + rank / 4 % 150, rank % 4 * 64);
            Pod {
                ifname: format!("cali{:011x}", rank),
                address: format!("10.244.{hi}.{}", lo + 1),
                network: format!("10.244.{hi}.{lo}/26"),
            }
        }
    }
}

/// The IPv6 link-local address of a port with this MAC (EUI-64), as BGP unnumbered uses it.
pub fn link_local(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    let words = [
        u16::from_be_bytes([a ^ 0x02, b]),
        u16::from_be_bytes([c, 0xff]),
        u16::from_be_bytes([0xfe, d]),
        u16::from_be_bytes([e, f]),
    ];
    format!(
        "fe80::{:x}:{:x}:{:x}:{:x}",
        words[0], words[1], words[2], words[3]
    )
}

/// Every server's pod, address and default route, and the neighbour entries of every link.
pub fn rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for (rank, (server, ..)) in servers(t).into_iter().enumerate() {
        rows.extend(server_rows(t, server, &pod(rank), at));
    }
    rows.extend(neighbor_rows(t, at));
    rows
}

/// The routes toward the servers `node` holds, `(prefix, ports)`: a server's leaves reach its
/// pod network and its address over its bond; the spines reach every leaf's subnet over their
/// port to that leaf and every pod network over their ports to its leaves; the other leaves
/// reach the pod networks over their uplinks.
pub fn routes_of(t: &Topology, node: usize) -> Vec<(String, Vec<String>)> {
    let mut routes = Vec::new();
    let role = t.nodes[node].role;
    let mut by_peer: HashMap<usize, Vec<&str>> = HashMap::new();
    for (port, (peer, kind)) in &t.ports(node).peers {
        if *kind == LinkKind::Fabric {
            by_peer.entry(*peer).or_default().push(port);
        }
    }
    let toward = |targets: &[usize]| -> Vec<String> {
        let mut ports: Vec<String> = targets
            .iter()
            .filter_map(|target| by_peer.get(target))
            .flatten()
            .map(|port| port.to_string())
            .collect();
        ports.sort_by_key(|p| crate::int::flows::port_number(p));
        ports
    };
    if role == Role::Spine {
        for (rank, leaf) in t.leaves().enumerate() {
            let ports = toward(&[leaf]);
            if !ports.is_empty() {
                routes.push((t.leaf_subnet(rank), ports));
            }
        }
    }
    for (rank, (server, bond, leaves)) in servers(t).into_iter().enumerate() {
        let network = pod(rank).network;
        if leaves.contains(&node) {
            routes.push((network, vec![bond.clone()]));
            if let Some(ip) = host_address(t, server) {
                routes.push((format!("{ip}/32"), vec![bond]));
            }
        } else if role == Role::Spine {
            let ports = toward(&leaves);
            if !ports.is_empty() {
                routes.push((network, ports));
            }
        } else if role == Role::Leaf {
            let spines: Vec<usize> = (0..t.nodes.len())
                .filter(|&n| t.nodes[n].role == Role::Spine)
                .collect();
            routes.push((network, toward(&spines)));
        }
    }
    routes
}

fn server_rows(t: &Topology, server: usize, pod: &Pod, at: i64) -> Vec<NodeRow> {
    let mut rows = vec![
        Row::new(&interfaces::TABLE, at)
            .set("ifname", pod.ifname.as_str())
            .set("type", "veth")
            .set("state", "up")
            .set("admin_state", "up")
            .set("mtu", HOST_MTU)
            .set("mac", "ee:ee:ee:ee:ee:ee")
            .set("vrf", "default"),
        address_row(&pod.ifname, &format!("{}/32", pod.address), at),
    ];
    if let Some(ip) = host_address(t, server) {
        rows.push(address_row("lo", &format!("{ip}/32"), at));
    }
    let nics: Vec<String> = t
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Host && l.b.node == server)
        .map(|l| l.b.ifname.clone())
        .collect();
    rows.push(route_through(t, server, &nics, "0.0.0.0/0", at));
    rows.into_iter().map(|r| (server, r)).collect()
}

fn address_row(ifname: &str, prefix: &str, at: i64) -> Row {
    Row::new(&addresses::TABLE, at)
        .set("ifname", ifname)
        .set("prefix", prefix)
        .set("family", "ipv4")
        .set("vrf", "default")
        .set("scope", "global")
}

/// The neighbour entry each end of a routed link (and of a server's links, on the leaf's bond)
/// holds for the other end's link-local address.
fn neighbor_rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for link in &t.links {
        if link.kind == LinkKind::Peerlink {
            continue;
        }
        for (this, other) in [(&link.a, &link.b), (&link.b, &link.a)] {
            let ifname = match (&link.bond, t.nodes[this.node].role.is_router()) {
                (Some(bond), true) => bond.clone(),
                _ => this.ifname.clone(),
            };
            let mac = t.nodes[other.node].mac;
            rows.push((
                this.node,
                Row::new(&neighbors::TABLE, at)
                    .set("ifname", ifname)
                    .set("ip", link_local(mac))
                    .set("mac", mac_text(mac))
                    .set("family", "ipv6")
                    .set("vrf", "default")
                    .set("state", "reachable")
                    .set("is_remote", false),
            ));
        }
    }
    rows
}
