//! Bridge VLANs: the VLAN membership of bridges and bridge ports (AF_BRIDGE links), and the rows
//! of the `vlan` table built from it with the SVIs and VNIs of each VLAN.

use std::collections::BTreeMap;
use std::fmt::Write;

use neli::rtnl::Ifinfomsg;
use sonde_schema::families::vlan;
use sonde_schema::row::Row;

use super::attributes::{attributes, nested, u16_of, u32_of};
use super::links::{Link, Links};

// linux/if_link.h, if_bridge.h.
pub(super) const IFLA_AF_SPEC: u16 = 26;
pub(super) const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_INFO: u16 = 3;
const IFLA_BRIDGE_VLAN_TUNNEL_ID: u16 = 1;
const IFLA_BRIDGE_VLAN_TUNNEL_VID: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_FLAGS: u16 = 3;
pub(super) const BRIDGE_VLAN_INFO_PVID: u16 = 0x2;
const BRIDGE_VLAN_INFO_RANGE_BEGIN: u16 = 0x8;
const BRIDGE_VLAN_INFO_RANGE_END: u16 = 0x10;

/// A bridge port's (or bridge's own) VLAN membership, from an AF_BRIDGE RTM_NEWLINK.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct BridgeVlans {
    /// Sorted, deduplicated.
    pub(super) vids: Vec<u16>,
    pub(super) pvid: Option<u16>,
    /// VLAN-to-VNI tunnel mappings of a VXLAN port (single VXLAN device setups).
    vnis: Vec<(u16, u32)>,
}

impl BridgeVlans {
    /// The ifindex and VLANs of an AF_BRIDGE RTM_NEWLINK; `None` when it carries none.
    pub(super) fn parse(msg: &Ifinfomsg) -> Option<(u32, BridgeVlans)> {
        let index = u32::try_from(*msg.ifi_index()).ok()?;
        let (_, spec) = attributes(msg.rtattrs()).find(|(kind, _)| *kind == IFLA_AF_SPEC)?;
        Some((index, BridgeVlans::from_af_spec(spec)))
    }

    /// From an `IFLA_AF_SPEC` payload: VLAN infos (single or ranges) and tunnel infos.
    pub(super) fn from_af_spec(spec: &[u8]) -> BridgeVlans {
        let mut vlans = BridgeVlans::default();
        let mut range_start = None;
        let mut tunnel_start = None;
        for (kind, payload) in nested(spec) {
            match kind {
                IFLA_BRIDGE_VLAN_INFO => vlans.add_vlan_info(payload, &mut range_start),
                IFLA_BRIDGE_VLAN_TUNNEL_INFO => vlans.add_tunnel_info(payload, &mut tunnel_start),
                _ => {}
            }
        }
        vlans.vids.sort_unstable();
        vlans.vids.dedup();
        vlans.vnis.sort_unstable();
        vlans.vnis.dedup();
        vlans
    }

    /// `struct bridge_vlan_info` (flags, vid): one VLAN, or one end of a range.
    fn add_vlan_info(&mut self, info: &[u8], range_start: &mut Option<u16>) {
        let (Some(flags), Some(vid)) = (u16_of(info), info.get(2..).and_then(u16_of)) else {
            return;
        };
        if flags & BRIDGE_VLAN_INFO_RANGE_BEGIN != 0 {
            *range_start = Some(vid);
            return;
        }
        let first = match range_start.take() {
            Some(start) if flags & BRIDGE_VLAN_INFO_RANGE_END != 0 => start,
            _ => vid,
        };
        self.vids.extend((first..=vid).filter(|v| is_vlan_id(*v)));
        if flags & BRIDGE_VLAN_INFO_PVID != 0 && is_vlan_id(vid) {
            self.pvid = Some(vid);
        }
    }

    /// `IFLA_BRIDGE_VLAN_TUNNEL_INFO`: a VLAN (or range end) and its VNI.
    fn add_tunnel_info(&mut self, info: &[u8], range_start: &mut Option<(u16, u32)>) {
        let (mut vni, mut vid, mut flags) = (None, None, 0);
        for (kind, payload) in nested(info) {
            match kind {
                IFLA_BRIDGE_VLAN_TUNNEL_ID => vni = u32_of(payload),
                IFLA_BRIDGE_VLAN_TUNNEL_VID => vid = u16_of(payload),
                IFLA_BRIDGE_VLAN_TUNNEL_FLAGS => flags = u16_of(payload).unwrap_or_default(),
                _ => {}
            }
        }
        let (Some(vni), Some(vid)) = (vni, vid) else {
            return;
        };
        if flags & BRIDGE_VLAN_INFO_RANGE_BEGIN != 0 {
            *range_start = Some((vid, vni));
            return;
        }
        let (first_vid, first_vni) = match range_start.take() {
            Some(start) if flags & BRIDGE_VLAN_INFO_RANGE_END != 0 => start,
            _ => (vid, vni),
        };
        for v in (first_vid..=vid).filter(|v| is_vlan_id(*v)) {
            self.vnis
                .push((v, first_vni.wrapping_add(u32::from(v - first_vid))));
        }
    }
}

fn is_vlan_id(vid: u16) -> bool {
    (1..=4094).contains(&vid)
}

/// Sorted, deduplicated VLAN ids as a range list: `10-20,30`.
pub(super) fn vlan_ranges(vids: &[u16]) -> String {
    let mut text = String::new();
    let mut i = 0;
    while i < vids.len() {
        let first = vids[i];
        let mut last = first;
        while i + 1 < vids.len() && vids[i + 1] == last.saturating_add(1) {
            i += 1;
            last = vids[i];
        }
        if !text.is_empty() {
            text.push(',');
        }
        // Writing to a String cannot fail.
        let _ = if first == last {
            write!(text, "{first}")
        } else {
            write!(text, "{first}-{last}")
        };
        i += 1;
    }
    text
}

/// One VLAN of the node's bridges.
#[derive(Debug, Default)]
pub(super) struct Vlan {
    ports: Vec<String>,
    vni: Option<u32>,
}

/// The VLANs of all bridges: their ports (bridges themselves excluded) and VNIs.
pub(super) fn vlans(links: &Links) -> BTreeMap<u16, Vlan> {
    let mut vlans: BTreeMap<u16, Vlan> = BTreeMap::new();
    for (index, bridge_vlans) in &links.bridge_vlans {
        let Some(link) = links.by_index.get(index) else {
            continue;
        };
        for vid in &bridge_vlans.vids {
            let vlan = vlans.entry(*vid).or_default();
            if !link.is_kind("bridge") {
                vlan.ports.push(link.name.clone());
            }
        }
        // A VXLAN device per VNI is an access port of its VLAN.
        if let (Some(vni), Some(pvid)) = (link.vni, bridge_vlans.pvid) {
            vlans.entry(pvid).or_default().vni = Some(vni);
        }
        for (vid, vni) in &bridge_vlans.vnis {
            vlans.entry(*vid).or_default().vni = Some(*vni);
        }
    }
    for vlan in vlans.values_mut() {
        vlan.ports.sort_unstable();
    }
    vlans
}

/// The SVI of each VLAN: a VLAN device on a bridge; the first by name when there are several.
fn svis(links: &Links) -> BTreeMap<u16, &Link> {
    let mut svis: BTreeMap<u16, &Link> = BTreeMap::new();
    let on_bridge = |link: &Link| link.lower.is_some_and(|l| links.is_kind(l, "bridge"));
    for link in links.by_index.values().filter(|l| l.is_kind("vlan")) {
        let Some(vid) = link.vlan_id.filter(|_| on_bridge(link)) else {
            continue;
        };
        svis.entry(vid)
            .and_modify(|known| {
                if link.name < known.name {
                    *known = link;
                }
            })
            .or_insert(link);
    }
    svis
}

/// The `vlan` rows of `vlans`, each with its SVI and the SVI's VRF.
pub(super) fn vlan_rows(vlans: BTreeMap<u16, Vlan>, links: &Links, time: i64) -> Vec<Row> {
    let svis = svis(links);
    vlans
        .into_iter()
        .map(|(vid, vlan)| {
            let svi = svis.get(&vid);
            Row::new(&vlan::TABLE, time)
                .set("vlan", u32::from(vid))
                .set("ports", vlan.ports)
                .set("svi", svi.map(|s| s.name.as_str()))
                .set("vrf", svi.map(|s| links.vrf_of(s.index)))
                .set("vni", vlan.vni)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::netlink::test_support::attr;

    #[test]
    fn vlan_ranges_join_consecutive_ids() {
        assert_eq!(vlan_ranges(&[10, 11, 12, 20, 30, 31]), "10-12,20,30-31");
        assert_eq!(vlan_ranges(&[5]), "5");
        assert_eq!(vlan_ranges(&[]), "");
        assert_eq!(vlan_ranges(&[4093, 4094]), "4093-4094");
    }

    #[test]
    fn bridge_vlan_info_reads_ranges_pvid_and_tunnels() {
        let info = |flags: u16, vid: u16| {
            attr(
                IFLA_BRIDGE_VLAN_INFO,
                &[flags.to_ne_bytes(), vid.to_ne_bytes()].concat(),
            )
        };
        let tunnel = |flags: u16, vid: u16, vni: u32| {
            let nested = [
                attr(IFLA_BRIDGE_VLAN_TUNNEL_ID, &vni.to_ne_bytes()),
                attr(IFLA_BRIDGE_VLAN_TUNNEL_VID, &vid.to_ne_bytes()),
                attr(IFLA_BRIDGE_VLAN_TUNNEL_FLAGS, &flags.to_ne_bytes()),
            ]
            .concat();
            attr(IFLA_BRIDGE_VLAN_TUNNEL_INFO, &nested)
        };
        let spec = [
            info(BRIDGE_VLAN_INFO_RANGE_BEGIN, 10),
            info(BRIDGE_VLAN_INFO_RANGE_END, 12),
            info(BRIDGE_VLAN_INFO_PVID | 0x4, 30),
            info(0, 4095),
            tunnel(BRIDGE_VLAN_INFO_RANGE_BEGIN, 10, 1000),
            tunnel(BRIDGE_VLAN_INFO_RANGE_END, 12, 1002),
        ]
        .concat();
        let vlans = BridgeVlans::from_af_spec(&spec);
        assert_eq!(vlans.vids, vec![10, 11, 12, 30]);
        assert_eq!(vlans.pvid, Some(30));
        assert_eq!(vlans.vnis, vec![(10, 1000), (11, 1001), (12, 1002)]);
    }
}
