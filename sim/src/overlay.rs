//! The EVPN overlay: every VNI on every leaf, replicated head-end to all the other leaves (its
//! VXLAN device, its EVPN VNI and its VLAN), and what a fault on one VTEP's VNI changes.

use sonde_schema::families::{evpn, vlan, vxlan};
use sonde_schema::row::Row;

use crate::fabric::{NodeRow, healed_at};
use crate::topology::{Topology, Vni};

/// What goes wrong with a VNI on one VTEP.
#[derive(Debug, Clone)]
pub enum VniFault {
    /// The VTEP misses `vtep`'s EVPN type-3 route: `vtep` is not in its replication list.
    MissingRemote { vtep: usize },
    /// The VNI is mapped to another VLAN on this VTEP.
    Vlan(u32),
    /// The VNI's SVI is put in another VRF on this VTEP.
    Vrf(String),
    /// The VNI's device goes down: its type-3 route is withdrawn, so the other VTEPs drop it
    /// from their replication lists.
    Down,
}

/// Every VNI's device, EVPN VNI and VLAN on every leaf.
pub fn rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for pair in &t.pairs {
        for &leaf in &pair.leaves {
            for &v in &t.vnis {
                rows.push((leaf, vxlan_row(t, leaf, v, at)));
                rows.push((leaf, evpn_row(t, leaf, v, at)));
                rows.push((leaf, vlan_row(t, leaf, v.vlan, Some(v.vni), at)));
            }
        }
    }
    rows
}

/// The loopbacks of every leaf but `leaf`: the VTEPs it replicates to.
fn remote_vteps(t: &Topology, leaf: usize) -> Vec<String> {
    t.leaves()
        .filter(|&l| l != leaf)
        .map(|l| t.nodes[l].loopback.clone())
        .collect()
}

fn vxlan_row(t: &Topology, leaf: usize, v: Vni, at: i64) -> Row {
    Row::new(&vxlan::TABLE, at)
        .set("ifname", format!("vni{}", v.vni))
        .set("vni", v.vni)
        .set("vlan", v.vlan)
        .set("local_ip", t.nodes[leaf].loopback.as_str())
        .set("replication", "evpn")
        .set("remote_vteps", remote_vteps(t, leaf))
        .set("state", "up")
}

fn evpn_row(t: &Topology, leaf: usize, v: Vni, at: i64) -> Row {
    Row::new(&evpn::TABLE, at)
        .set("vni", v.vni)
        .set("type", "L2")
        .set("vrf", "default")
        .set("vlan", v.vlan)
        .set("state", "up")
        .set("origin_ip", t.nodes[leaf].loopback.as_str())
        .set("remote_vteps", remote_vteps(t, leaf))
        .set("macs", 2u64)
}

/// A VLAN of the leaf's bridge (the peerlink and the pair's bonds), mapped to `vni` if any.
fn vlan_row(t: &Topology, leaf: usize, id: u32, vni: Option<u32>, at: i64) -> Row {
    let mut ports = vec!["peerlink".to_string()];
    if let Some((p, _)) = t.pair_of(leaf) {
        ports.extend(t.pairs[p].bonds.iter().map(|b| b.name.clone()));
    }
    Row::new(&vlan::TABLE, at)
        .set("vlan", id)
        .set("ports", ports)
        .set("vni", vni)
}

/// The VNI's device and EVPN VNI on `leaf`, both changed by `change`.
fn both(t: &Topology, leaf: usize, v: Vni, at: i64, change: impl Fn(&mut Row)) -> [NodeRow; 2] {
    [vxlan_row(t, leaf, v, at), evpn_row(t, leaf, v, at)].map(|mut row| {
        change(&mut row);
        (leaf, row)
    })
}

/// The rows `fault` on VNI `vni` of `leaf` makes the VTEPs report, from `at` until `back`.
pub fn fault_rows(
    t: &Topology,
    leaf: usize,
    vni: u32,
    fault: &VniFault,
    at: i64,
    back: Option<i64>,
) -> Vec<NodeRow> {
    let Some(v) = t.vni(vni) else {
        return Vec::new();
    };
    let without = |node: usize, gone: usize| {
        let mut remote = remote_vteps(t, node);
        remote.retain(|ip| *ip != t.nodes[gone].loopback);
        both(t, node, v, at, |r| r.put("remote_vteps", remote.clone()))
    };
    let mut struck = Vec::new();
    match fault {
        VniFault::MissingRemote { vtep } => struck.extend(without(leaf, *vtep)),
        VniFault::Vlan(id) => {
            struck.extend(both(t, leaf, v, at, |r| r.put("vlan", *id)));
            struck.push((leaf, vlan_row(t, leaf, v.vlan, None, at)));
            struck.push((leaf, vlan_row(t, leaf, *id, Some(vni), at)));
        }
        VniFault::Vrf(vrf) => {
            struck.push((leaf, evpn_row(t, leaf, v, at).set("vrf", vrf.as_str())));
        }
        VniFault::Down => {
            struck.extend(both(t, leaf, v, at, |r| r.put("state", "down")));
            for other in t.leaves().filter(|&l| l != leaf) {
                struck.extend(without(other, leaf));
            }
        }
    }
    healed_at(t, struck, back)
}
