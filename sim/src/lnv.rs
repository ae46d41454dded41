//! LNV (lightweight network virtualisation) for `Topology::lnv`: the service nodes' and the VTEPs'
//! registrations (vxsnd and vxrd), the VTEPs' VXLAN devices with head-end replication, what an
//! LNV fault changes, and the domain's retirement.

use sonde_schema::families::{lnv, vxlan};
use sonde_schema::row::Row;

use crate::fabric::{NodeRow, deletion, healed_at};
use crate::topology::{LnvDomain, Topology};

/// What goes wrong with the LNV VNI on one VTEP.
#[derive(Debug, Clone)]
pub enum LnvFault {
    /// vxrd registers with another service node address (a spine's own, not the anycast one).
    ServiceNode(String),
    /// vxrd stops: the VTEP's registration is down.
    Down,
}

/// The domain's rows, up since `at`: none when the topology has no LNV.
pub fn rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let Some(domain) = &t.lnv else {
        return Vec::new();
    };
    let loopbacks = |nodes: &[usize], but: usize| -> Vec<String> {
        nodes
            .iter()
            .filter(|&&n| n != but)
            .map(|&n| t.nodes[n].loopback.clone())
            .collect()
    };
    let mut rows = Vec::new();
    for &node in &domain.service_nodes {
        let registered = loopbacks(&domain.vteps, usize::MAX);
        let row = registration(t, domain, node, "service-node", registered, at);
        rows.push((node, row));
    }
    for &vtep in &domain.vteps {
        let peers = loopbacks(&domain.vteps, vtep);
        rows.push((
            vtep,
            registration(t, domain, vtep, "vtep", peers.clone(), at),
        ));
        rows.push((vtep, device(t, domain, vtep, peers, at)));
    }
    rows
}

fn registration(
    t: &Topology,
    domain: &LnvDomain,
    node: usize,
    role: &str,
    peers: Vec<String>,
    at: i64,
) -> Row {
    Row::new(&lnv::TABLE, at)
        .set("vni", domain.vni.vni)
        .set("role", role)
        .set("service_node", domain.anycast.as_str())
        .set("local_ip", t.nodes[node].loopback.as_str())
        .set("peers", peers)
        .set("state", "up")
}

/// The VTEP's VXLAN device, its flood list filled by vxrd.
fn device(t: &Topology, domain: &LnvDomain, vtep: usize, peers: Vec<String>, at: i64) -> Row {
    Row::new(&vxlan::TABLE, at)
        .set("ifname", format!("vni{}", domain.vni.vni))
        .set("vni", domain.vni.vni)
        .set("vlan", domain.vni.vlan)
        .set("local_ip", t.nodes[vtep].loopback.as_str())
        .set("replication", "ingress")
        .set("remote_vteps", peers)
        .set("state", "up")
}

/// The rows `fault` on `vtep` makes it report, from `at` until `back`.
pub fn fault_rows(
    t: &Topology,
    vtep: usize,
    fault: &LnvFault,
    at: i64,
    back: Option<i64>,
) -> Vec<NodeRow> {
    let mut struck: Vec<NodeRow> = rows(t, at)
        .into_iter()
        .filter(|(n, r)| *n == vtep && r.table.name == lnv::TABLE.name)
        .collect();
    for (_, row) in &mut struck {
        match fault {
            LnvFault::ServiceNode(address) => row.put("service_node", address.as_str()),
            LnvFault::Down => row.put("state", "down"),
        }
    }
    healed_at(t, struck, back)
}

/// The domain is taken out of service at `at`: every registration and device goes away.
pub fn retired(t: &Topology, at: i64) -> Vec<NodeRow> {
    rows(t, at)
        .into_iter()
        .map(|(n, row)| (n, deletion(row, at)))
        .collect()
}
