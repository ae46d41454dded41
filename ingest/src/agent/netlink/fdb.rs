//! The bridge FDB: AF_BRIDGE neighbour entries, merged by (MAC, VLAN) with the remote VTEPs of
//! VXLAN devices, and the rows of the `macs` table.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use neli::rtnl::Ndmsg;
use sonde_schema::families::macs;
use sonde_schema::row::Row;

use super::attributes::{AF_BRIDGE, attributes, hex_of, ip_of, u16_of};
use super::clock::Clock;
use super::links::Links;
use super::neighbors::{
    NDA_CACHEINFO, NDA_DST, NDA_LLADDR, NDA_MASTER, NDA_VLAN, NTF_EXT_LEARNED, NTF_MASTER,
    NTF_OFFLOADED, NTF_SELF, NTF_STICKY, NUD_NOARP, NUD_PERMANENT, cache_updated, neighbor_request,
};
use super::socket::{RTM_GETNEIGH, Rtnl};
use crate::error::Result;

impl Rtnl {
    /// The bridge forwarding database entries worth reporting.
    pub(super) fn fdb(&mut self, links: &Links) -> Result<Vec<FdbEntry>> {
        let mut entries = Vec::new();
        let request = neighbor_request(AF_BRIDGE)?;
        self.dump(RTM_GETNEIGH, request, "fdb", |msg: Ndmsg| {
            entries.extend(FdbEntry::parse(&msg).filter(|e| e.is_reported(links)));
        })?;
        Ok(entries)
    }
}

/// One AF_BRIDGE neighbour entry: a bridge FDB entry (`master`) or a device's own (`self`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FdbEntry {
    pub(super) mac: [u8; 6],
    vlan: u16,
    ifindex: u32,
    /// `NTF_*`, with NTF_MASTER added for bridge entries (which the kernel marks by NDA_MASTER).
    flags: u8,
    state: u16,
    /// The VTEP of a VXLAN device's entry.
    remote: Option<IpAddr>,
    /// Age of the last update, in ticks.
    updated: Option<u32>,
}

impl FdbEntry {
    pub(super) fn parse(msg: &Ndmsg) -> Option<FdbEntry> {
        if u8::from(*msg.ndm_family()) != AF_BRIDGE {
            return None;
        }
        let mut entry = FdbEntry {
            mac: [0; 6],
            vlan: 0,
            ifindex: u32::try_from(*msg.ndm_index()).ok()?,
            flags: msg.ndm_flags().bits(),
            state: msg.ndm_state().bits(),
            remote: None,
            updated: None,
        };
        let mut mac = None;
        for (kind, payload) in attributes(msg.rtattrs()) {
            match kind {
                NDA_LLADDR => mac = <[u8; 6]>::try_from(payload).ok(),
                NDA_DST => entry.remote = ip_of(payload),
                NDA_VLAN => entry.vlan = u16_of(payload).unwrap_or_default(),
                NDA_MASTER => entry.flags |= NTF_MASTER,
                NDA_CACHEINFO => entry.updated = cache_updated(payload),
                _ => {}
            }
        }
        entry.mac = mac?;
        Some(entry)
    }

    pub(super) fn is_master(&self) -> bool {
        self.flags & NTF_MASTER != 0
    }

    /// Bridge entries, and VXLAN devices' unicast entries (which carry the remote VTEP). Other
    /// `self` entries are devices' own address filters, and the all-zero MAC is VXLAN's flood list.
    pub(super) fn is_reported(&self, links: &Links) -> bool {
        if self.mac == [0; 6] {
            return false;
        }
        self.is_master() || (links.is_kind(self.ifindex, "vxlan") && self.mac[0] & 1 == 0)
    }

    /// Whether `other` is the same kernel entry (a newer state of it).
    pub(super) fn is_same_entry(&self, other: &FdbEntry) -> bool {
        self.ifindex == other.ifindex
            && self.vlan == other.vlan
            && self.is_master() == other.is_master()
    }
}

/// What identifies a row of the `macs` table: MAC and VLAN.
pub(super) type MacKey = ([u8; 6], u16);

/// Merges entries by (MAC, VLAN): a bridge entry on a VXLAN port takes the remote VTEP from the
/// VXLAN device's own entry for that MAC, which then adds no row of its own.
pub(super) fn merge_fdb<'a>(
    entries: impl IntoIterator<Item = &'a FdbEntry> + Clone,
) -> BTreeMap<MacKey, FdbEntry> {
    let mut remotes: HashMap<([u8; 6], u32), IpAddr> = HashMap::new();
    let mut bridged: HashSet<([u8; 6], u32)> = HashSet::new();
    for entry in entries.clone() {
        if entry.is_master() {
            bridged.insert((entry.mac, entry.ifindex));
        } else if let Some(remote) = entry.remote {
            remotes.insert((entry.mac, entry.ifindex), remote);
        }
    }
    let mut merged: BTreeMap<MacKey, FdbEntry> = BTreeMap::new();
    for entry in entries.clone().into_iter().filter(|e| e.is_master()) {
        let mut entry = entry.clone();
        if let Some(remote) = remotes.get(&(entry.mac, entry.ifindex)) {
            entry.remote = Some(*remote);
            entry.flags |= NTF_SELF;
        }
        merged
            .entry((entry.mac, entry.vlan))
            .and_modify(|known| known.flags |= entry.flags)
            .or_insert(entry);
    }
    for entry in entries.into_iter().filter(|e| !e.is_master()) {
        if !bridged.contains(&(entry.mac, entry.ifindex)) {
            merged
                .entry((entry.mac, entry.vlan))
                .or_insert_with(|| entry.clone());
        }
    }
    merged
}

/// The rows of merged entries (those of unknown interfaces left out).
pub(super) fn mac_rows(
    merged: &BTreeMap<MacKey, FdbEntry>,
    links: &Links,
    clock: &Clock,
) -> Vec<Row> {
    merged
        .values()
        .filter_map(|entry| mac_row(entry, links, clock))
        .collect()
}

fn mac_row(entry: &FdbEntry, links: &Links, clock: &Clock) -> Option<Row> {
    Some(
        mac_key_row(&(entry.mac, entry.vlan), clock.ago(entry.updated))
            .set("ifname", links.name(entry.ifindex)?)
            .set("remote_vtep", entry.remote.map(|r| r.to_string()))
            .set("is_static", entry.state & (NUD_PERMANENT | NUD_NOARP) != 0)
            .set("flags", fdb_flags(entry.flags)),
    )
}

/// A `macs` row with only its key, for a deletion.
pub(super) fn mac_key_row(key: &MacKey, time: i64) -> Row {
    Row::new(&macs::TABLE, time)
        .set("mac", hex_of(&key.0))
        .set("vlan", u32::from(key.1))
}

fn fdb_flags(flags: u8) -> String {
    [
        (NTF_SELF, "self"),
        (NTF_MASTER, "master"),
        (NTF_EXT_LEARNED, "extern_learn"),
        (NTF_OFFLOADED, "offload"),
        (NTF_STICKY, "sticky"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name)
    .collect::<Vec<_>>()
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::netlink::neighbors::NUD_REACHABLE;
    use crate::agent::netlink::test_support::{links_named, row, text};
    use sonde_schema::row::Value;

    #[test]
    fn fdb_merge_puts_the_vxlan_remote_on_the_bridge_entry() {
        let entry = |mac: u8, vlan: u16, ifindex: u32, flags: u8, remote: Option<&str>| FdbEntry {
            mac: [2, 0, 0, 0, 0, mac],
            vlan,
            ifindex,
            flags,
            state: NUD_REACHABLE,
            remote: remote.map(|r| r.parse().expect("ip")),
            updated: None,
        };
        let entries = [
            entry(1, 20, 5, NTF_MASTER | NTF_EXT_LEARNED, None),
            entry(1, 0, 5, NTF_SELF | NTF_EXT_LEARNED, Some("10.0.0.7")),
            entry(2, 10, 3, NTF_MASTER, None),
            entry(3, 0, 5, NTF_SELF, Some("10.0.0.8")),
        ];
        let merged = merge_fdb(&entries);
        let keys: Vec<_> = merged.keys().map(|(mac, vlan)| (mac[5], *vlan)).collect();
        assert_eq!(keys, vec![(1, 20), (2, 10), (3, 0)]);
        let remote = &merged[&([2, 0, 0, 0, 0, 1], 20)];
        assert_eq!(remote.remote, Some("10.0.0.7".parse().expect("ip")));
        assert_eq!(fdb_flags(remote.flags), "self,master,extern_learn");
        let links = links_named(&[(3, "swp1"), (5, "vxlan20")]);
        let rows = mac_rows(&merged, &links, &Clock::for_notification(7));
        let row = row(&rows, "macs", &["02:00:00:00:00:01", "20"]);
        assert_eq!(text(row.get("ifname")), "vxlan20");
        assert_eq!(text(row.get("remote_vtep")), "10.0.0.7");
        assert_eq!(row.get("is_static"), Some(&Value::Bool(false)));
    }
}
