//! MLAG pairs: each leaf's peerlink and dual-connected bonds, their clagd state and the servers'
//! MACs, and what an MLAG fault changes.

use sonde_schema::families::{clag, macs};
use sonde_schema::row::Row;

use crate::fabric::{NodeRow, bond_row, event, mac_text, restored};
use crate::timeline::link_down;
use crate::topology::{BOND_VLANS, LinkKind, PEERLINK_VLANS, Topology};

/// What goes wrong in an MLAG pair.
#[derive(Debug, Clone)]
pub enum MlagFault {
    /// `bond`'s member on the leaf at `side` (0: primary) loses its link: the bond is down there
    /// and singly attached on the peer.
    SingleAttached { side: usize, bond: String },
    /// Both peerlink members fail: each leaf loses its peer (the backup link still answers, so
    /// the secondary protodowns its bonds).
    PeerlinkDown,
    /// Neither leaf reaches the other's backup IP.
    BackupDown,
    /// The leaf at `side` is configured with another system MAC.
    Sysmac { side: usize, mac: String },
}

/// Every pair's peerlink and bonds with their clagd state, and each server's MAC on its bond.
pub fn rows(t: &Topology, at: i64) -> Vec<NodeRow> {
    let mut rows = Vec::new();
    for (p, pair) in t.pairs.iter().enumerate() {
        for (side, &leaf) in pair.leaves.iter().enumerate() {
            rows.push((leaf, bond_row(t, leaf, "peerlink", at, PEERLINK_VLANS)));
            for bond in &pair.bonds {
                rows.push((leaf, bond_row(t, leaf, &bond.name, at, BOND_VLANS)));
                rows.push((leaf, mac_row(t, bond.server, &bond.name, at)));
            }
            rows.extend(clag_rows(t, p, side, at).into_iter().map(|r| (leaf, r)));
        }
    }
    rows
}

/// The server's MAC (its bond's, shared by both NICs) as the leaf learns it on the bond.
fn mac_row(t: &Topology, server: usize, bond: &str, at: i64) -> Row {
    Row::new(&macs::TABLE, at)
        .set("mac", mac_text(t.nodes[server].mac))
        .set("vlan", 10u32)
        .set("ifname", bond)
        .set("is_static", false)
}

/// The clag rows of the leaf at `side` of pair `p` in a healthy pair: its peerlink, then its bonds.
fn clag_rows(t: &Topology, p: usize, side: usize, at: i64) -> Vec<Row> {
    let pair = &t.pairs[p];
    let peer = &*t.nodes[pair.leaves[1 - side]].name;
    let (role, peer_role) = if side == 0 {
        ("primary", "secondary")
    } else {
        ("secondary", "primary")
    };
    let clag = |ifname: &str| {
        Row::new(&clag::TABLE, at)
            .set("ifname", ifname)
            .set("peer_hostname", peer)
            .set("role", role)
            .set("peer_state", "up")
            .set("peerlink", "peerlink")
            .set("sysmac", pair.sysmac.as_str())
            .set("backup_ip", "192.168.0.1")
            .set("backup_active", true)
            .set("bond_state", "dual")
    };
    let mut rows = vec![clag("peerlink").set("peer_role", peer_role)];
    rows.extend(
        pair.bonds
            .iter()
            .map(|bond| clag(&bond.name).set("clag_id", bond.clag_id)),
    );
    rows
}

/// The clag rows of one leaf that `change` changes, changed.
fn changed(
    t: &Topology,
    p: usize,
    side: usize,
    at: i64,
    change: impl Fn(&mut Row),
) -> Vec<NodeRow> {
    let leaf = t.pairs[p].leaves[side];
    clag_rows(t, p, side, at)
        .into_iter()
        .filter_map(|row| {
            let mut new = row.clone();
            change(&mut new);
            (new != row).then_some((leaf, new))
        })
        .collect()
}

fn is_bond(row: &Row, bond: &str) -> bool {
    row.get("ifname") == Some(&bond.into())
}

/// The rows `fault` in pair `p` makes its leaves report, from `at` until `back`.
pub fn fault_rows(
    t: &Topology,
    p: usize,
    fault: &MlagFault,
    at: i64,
    back: Option<i64>,
    id: &str,
) -> Vec<NodeRow> {
    let leaves = t.pairs[p].leaves;
    let mut rows = Vec::new();
    let mut struck = Vec::new();
    match fault {
        MlagFault::SingleAttached { side, bond } => {
            let leaf = leaves[*side];
            if let Some(member) = member_of(t, leaf, bond) {
                rows.extend(link_down(t, leaf, &member, at, back, id));
            }
            struck.push((
                leaf,
                bond_row(t, leaf, bond, at, BOND_VLANS).set("state", "down"),
            ));
            let state = |row: &mut Row, state: &str| {
                if is_bond(row, bond) {
                    row.put("bond_state", state);
                }
            };
            struck.extend(changed(t, p, *side, at, |r| state(r, "down")));
            struck.extend(changed(t, p, 1 - side, at, |r| state(r, "single")));
        }
        MlagFault::PeerlinkDown => {
            for (side, &leaf) in leaves.iter().enumerate() {
                for link in t.links.iter().filter(|l| l.kind == LinkKind::Peerlink) {
                    if let Some(end) = [&link.a, &link.b].into_iter().find(|e| e.node == leaf) {
                        let id = format!("{id}-{}", end.ifname);
                        rows.extend(link_down(t, leaf, &end.ifname, at, back, &id));
                    }
                }
                let peerlink = bond_row(t, leaf, "peerlink", at, PEERLINK_VLANS);
                struck.push((leaf, peerlink.set("state", "down")));
                struck.extend(changed(t, p, side, at, |r| {
                    r.put("peer_state", "down");
                    if side == 1 && !is_bond(r, "peerlink") {
                        r.put("protodown", true);
                    }
                }));
                rows.extend(peer_events(t, leaves, side, at, back, id));
            }
        }
        MlagFault::BackupDown => {
            for side in 0..2 {
                struck.extend(changed(t, p, side, at, |r| r.put("backup_active", false)));
            }
        }
        MlagFault::Sysmac { side, mac } => {
            struck.extend(changed(t, p, *side, at, |r| r.put("sysmac", mac.as_str())));
        }
    }
    if let Some(back) = back {
        rows.extend(restored(t, &struck, back));
    }
    rows.extend(struck);
    rows
}

/// The switch port of `bond` on `leaf`.
fn member_of(t: &Topology, leaf: usize, bond: &str) -> Option<String> {
    t.links
        .iter()
        .filter(|l| l.kind == LinkKind::Host && l.bond.as_deref() == Some(bond))
        .flat_map(|l| [&l.a, &l.b])
        .find(|end| end.node == leaf)
        .map(|end| end.ifname.clone())
}

/// The leaf at `side` loses its peer at `at`, and finds it again at `back`.
fn peer_events(
    t: &Topology,
    leaves: [usize; 2],
    side: usize,
    at: i64,
    back: Option<i64>,
    id: &str,
) -> Vec<NodeRow> {
    let leaf = leaves[side];
    let peer = &*t.nodes[leaves[1 - side]].name;
    let lost = format!("MLAG peer {peer} is unreachable over the peerlink");
    let mut rows = vec![(
        leaf,
        event(at, "clag", &format!("{id}-down"), "error", "peerlink", lost),
    )];
    rows.extend(back.map(|back| {
        let found = format!("MLAG peer {peer} is up");
        (
            leaf,
            event(back, "clag", &format!("{id}-up"), "info", "peerlink", found),
        )
    }));
    rows
}
