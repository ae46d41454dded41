//! Links: the dump of every link, what rows need of each ([`Link`], [`Links`]), and the link
//! collector, which builds interface rows and owns the link flaps the monitor observes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use neli::consts::rtnl::{Ifla, RtAddrFamily};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder, RtattrBuilder};
use neli::types::RtBuffer;
use sonde_schema::families::interfaces;
use sonde_schema::row::{self, Row};

use super::attributes::{AF_BRIDGE, AF_UNSPEC, attributes, hex_of, nested, str_of, u16_of, u32_of};
use super::socket::{RTM_GETLINK, Rtnl, netlink_error};
use super::vlans::{BridgeVlans, vlan_ranges};
use crate::error::Result;

// linux/if_link.h, rtnetlink.h, if_arp.h, if.h.
const IFLA_ADDRESS: u16 = 1;
pub(super) const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
pub(super) const IFLA_LINK: u16 = 5;
pub(super) const IFLA_MASTER: u16 = 10;
pub(super) const IFLA_OPERSTATE: u16 = 16;
pub(super) const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
pub(super) const IFLA_INFO_KIND: u16 = 1;
pub(super) const IFLA_INFO_DATA: u16 = 2;
/// IFLA_VRF_TABLE, IFLA_VLAN_ID and IFLA_VXLAN_ID: the first attribute of their kind's data.
pub(super) const IFLA_INFO_DATA_ID: u16 = 1;
const RTEXT_FILTER_BRVLAN_COMPRESSED: u32 = 0x4;
const RTEXT_FILTER_SKIP_STATS: u32 = 0x8;
const ARPHRD_LOOPBACK: u16 = 772;
pub(super) const IFF_UP: u32 = 0x1;
pub(super) const IFF_LOWER_UP: u32 = 0x10000;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_UP: u8 = 6;

/// A dump request for the links of `family`, with the `RTEXT_FILTER_*` bits of `ext_mask`.
fn link_request(family: u8, ext_mask: u32) -> Result<Ifinfomsg> {
    let mask = RtattrBuilder::default()
        .rta_type(Ifla::ExtMask)
        .rta_payload(ext_mask)
        .build()
        .map_err(netlink_error)?;
    IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::from(family))
        .rtattrs(RtBuffer::from_iter([mask]))
        .build()
        .map_err(netlink_error)
}

impl Rtnl {
    /// Every link, with the VLANs of bridges and bridge ports.
    pub(super) fn links(&mut self) -> Result<Links> {
        let mut links = Links::default();
        let request = link_request(AF_UNSPEC, RTEXT_FILTER_SKIP_STATS)?;
        self.dump(RTM_GETLINK, request, "links", |msg: Ifinfomsg| {
            if let Some(link) = Link::parse(&msg) {
                links.by_index.insert(link.index, link);
            }
        })?;
        let request = link_request(AF_BRIDGE, RTEXT_FILTER_BRVLAN_COMPRESSED)?;
        self.dump(RTM_GETLINK, request, "bridge vlans", |msg: Ifinfomsg| {
            if let Some((index, vlans)) = BridgeVlans::parse(&msg) {
                links.bridge_vlans.insert(index, vlans);
            }
        })?;
        Ok(links)
    }
}

/// What rows need of one link (an RTM_NEWLINK of family AF_UNSPEC).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Link {
    pub(super) index: u32,
    pub(super) name: String,
    /// `IFLA_INFO_KIND`: bridge, bond, vlan, vxlan, vrf, veth, …; `None` for plain devices.
    pub(super) kind: Option<String>,
    pub(super) arphrd: u16,
    pub(super) flags: u32,
    pub(super) operstate: u8,
    pub(super) mtu: Option<u32>,
    pub(super) mac: Option<String>,
    pub(super) master: Option<u32>,
    /// `IFLA_LINK`: the lower device (of a VLAN device, its bridge or port).
    pub(super) lower: Option<u32>,
    pub(super) alias: Option<String>,
    pub(super) vrf_table: Option<u32>,
    pub(super) vlan_id: Option<u16>,
    pub(super) vni: Option<u32>,
}

impl Link {
    pub(super) fn parse(msg: &Ifinfomsg) -> Option<Link> {
        let mut link = Link {
            index: u32::try_from(*msg.ifi_index()).ok()?,
            arphrd: (*msg.ifi_type()).into(),
            flags: msg.ifi_flags().bits(),
            operstate: IF_OPER_UNKNOWN,
            ..Link::default()
        };
        for (kind, payload) in attributes(msg.rtattrs()) {
            match kind {
                IFLA_IFNAME => link.name = str_of(payload).unwrap_or_default(),
                IFLA_ADDRESS if payload.len() == 6 => link.mac = hex_of(payload),
                IFLA_MTU => link.mtu = u32_of(payload),
                IFLA_LINK => link.lower = u32_of(payload),
                IFLA_MASTER => link.master = u32_of(payload).filter(|m| *m != 0),
                IFLA_OPERSTATE => link.operstate = payload.first().copied().unwrap_or_default(),
                IFLA_IFALIAS => link.alias = str_of(payload),
                IFLA_LINKINFO => link.read_link_info(payload),
                _ => {}
            }
        }
        (!link.name.is_empty()).then_some(link)
    }

    /// `IFLA_LINKINFO`: the kind, and the VRF table, VLAN id or VNI of those kinds.
    fn read_link_info(&mut self, info: &[u8]) {
        let mut data = None;
        for (kind, payload) in nested(info) {
            match kind {
                IFLA_INFO_KIND => self.kind = str_of(payload),
                IFLA_INFO_DATA => data = Some(payload),
                _ => {}
            }
        }
        let id = data.and_then(|data| {
            nested(data)
                .find(|(kind, _)| *kind == IFLA_INFO_DATA_ID)
                .map(|(_, payload)| payload)
        });
        let Some(id) = id else { return };
        match self.kind.as_deref() {
            Some("vrf") => self.vrf_table = u32_of(id),
            Some("vlan") => self.vlan_id = u16_of(id),
            Some("vxlan") => self.vni = u32_of(id),
            _ => {}
        }
    }

    pub(super) fn is_kind(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind)
    }

    fn is_admin_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    /// Devices without carrier detection (loopback, dummy, …) report operstate UNKNOWN.
    pub(super) fn is_oper_up(&self) -> bool {
        match self.operstate {
            IF_OPER_UP => true,
            IF_OPER_UNKNOWN => {
                self.is_admin_up()
                    && (self.arphrd == ARPHRD_LOOPBACK || self.flags & IFF_LOWER_UP != 0)
            }
            _ => false,
        }
    }

    /// Switch ports are often veths in labs, so names decide before the veth kind.
    fn link_type(&self) -> String {
        if self.arphrd == ARPHRD_LOOPBACK {
            return "loopback".into();
        }
        match self.kind.as_deref() {
            Some(kind @ ("bond" | "bridge" | "vlan" | "vxlan" | "vrf")) => kind.into(),
            _ if self.name.starts_with("swp") => "swp".into(),
            _ if self.name.starts_with("eth") => "eth".into(),
            Some(kind) => kind.into(),
            None => "ether".into(),
        }
    }
}

/// The node's links by ifindex, and the bridge VLANs of those that have some.
#[derive(Debug, Default)]
pub(super) struct Links {
    pub(super) by_index: HashMap<u32, Link>,
    pub(super) bridge_vlans: HashMap<u32, BridgeVlans>,
}

impl Links {
    pub(super) fn name(&self, index: u32) -> Option<&str> {
        self.by_index.get(&index).map(|l| l.name.as_str())
    }

    /// An interface name, or its ifindex when the link is unknown.
    pub(super) fn name_or_index(&self, index: u32) -> String {
        self.name(index)
            .map_or_else(|| index.to_string(), str::to_owned)
    }

    pub(super) fn is_kind(&self, index: u32, kind: &str) -> bool {
        self.by_index.get(&index).is_some_and(|l| l.is_kind(kind))
    }

    /// The VRF a link is in: its master when that is a VRF device, itself when it is one.
    pub(super) fn vrf_of(&self, index: u32) -> String {
        let Some(link) = self.by_index.get(&index) else {
            return "default".into();
        };
        if link.is_kind("vrf") {
            return link.name.clone();
        }
        link.master
            .and_then(|m| self.by_index.get(&m))
            .filter(|m| m.is_kind("vrf"))
            .map_or_else(|| "default".into(), |m| m.name.clone())
    }
}

/// The link collector: builds interface rows, and owns when the monitor last saw each link's
/// operational state change. Clones share that history, so that the monitor's thread records
/// the flaps and a resync's dump (on another thread) reports them instead of erasing them.
#[derive(Debug, Clone, Default)]
pub(super) struct LinkCollector {
    /// µs since the epoch, by ifindex.
    last_flaps: Arc<Mutex<BTreeMap<u32, i64>>>,
}

impl LinkCollector {
    /// Every link's interface row.
    pub(super) fn interface_rows(&self, links: &Links, time: i64) -> Vec<Row> {
        let flaps = self.last_flaps().clone();
        links
            .by_index
            .values()
            .map(|link| interface_row(link, links, time, flaps.get(&link.index).copied()))
            .collect()
    }

    /// The interface row of `link`, one of `links`.
    pub(super) fn interface_row(&self, link: &Link, links: &Links, time: i64) -> Row {
        let last_flap = self.last_flaps().get(&link.index).copied();
        interface_row(link, links, time, last_flap)
    }

    /// Records that link `index` changed its operational state at `time`.
    pub(super) fn record_flap(&self, index: u32, time: i64) {
        self.last_flaps().insert(index, time);
    }

    /// Forgets a link that is gone.
    pub(super) fn forget(&self, index: u32) {
        self.last_flaps().remove(&index);
    }

    fn last_flaps(&self) -> MutexGuard<'_, BTreeMap<u32, i64>> {
        self.last_flaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn interface_row(link: &Link, links: &Links, time: i64, last_flap: Option<i64>) -> Row {
    let vlans = links.bridge_vlans.get(&link.index);
    Row::new(&interfaces::TABLE, time)
        .set("ifname", link.name.as_str())
        .set("type", link.link_type())
        .set("state", up_down(link.is_oper_up()))
        .set("admin_state", up_down(link.is_admin_up()))
        .set("mtu", link.mtu)
        .set("speed", link_speed(&link.name))
        .set("mac", link.mac.clone())
        .set("master", link.master.and_then(|m| links.name(m)))
        .set("vrf", links.vrf_of(link.index))
        .set(
            "vlans",
            vlans
                .filter(|v| !v.vids.is_empty())
                .map(|v| vlan_ranges(&v.vids)),
        )
        .set("pvid", vlans.and_then(|v| v.pvid).map(u32::from))
        .set("ifindex", link.index)
        .set("description", link.alias.clone())
        .set("last_flap", last_flap.map(row::time))
}

/// Mb/s from sysfs (rtnetlink does not carry it); `None` when unknown, as for virtual devices.
fn link_speed(name: &str) -> Option<u64> {
    if name.contains('/') || name == "." || name == ".." {
        return None;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/speed")).ok()?;
    text.trim().parse::<u64>().ok().filter(|speed| *speed > 0)
}

fn up_down(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_types_go_by_kind_then_name() {
        let link = |name: &str, kind: Option<&str>| Link {
            name: name.into(),
            kind: kind.map(str::to_owned),
            ..Link::default()
        };
        assert_eq!(link("swp1", Some("veth")).link_type(), "swp");
        assert_eq!(link("eth0", None).link_type(), "eth");
        assert_eq!(link("swp1.10", Some("vlan")).link_type(), "vlan");
        assert_eq!(link("v1", Some("veth")).link_type(), "veth");
        assert_eq!(link("enp1s0", None).link_type(), "ether");
    }
}
