//! Neighbours: the dump of the ARP and NDP tables and the rows of the `neighbors` table, and the
//! neighbour message's values that the bridge FDB (AF_BRIDGE neighbours) shares.

use neli::consts::rtnl::{Nud, RtAddrFamily, Rtn};
use neli::rtnl::{Ndmsg, NdmsgBuilder};
use sonde_schema::families::neighbors;
use sonde_schema::row::Row;

use super::attributes::{AF_UNSPEC, attributes, family_name, hex_of, ip_of, u32_of};
use super::clock::Clock;
use super::gone;
use super::links::Links;
use super::socket::{RTM_GETNEIGH, Rtnl, netlink_error};
use crate::error::Result;

// linux/neighbour.h: attributes, flags (`ndm_flags`) and states (`ndm_state`).
pub(super) const NDA_DST: u16 = 1;
pub(super) const NDA_LLADDR: u16 = 2;
pub(super) const NDA_CACHEINFO: u16 = 3;
pub(super) const NDA_VLAN: u16 = 5;
pub(super) const NDA_MASTER: u16 = 9;
pub(super) const NTF_SELF: u8 = 0x02;
pub(super) const NTF_MASTER: u8 = 0x04;
pub(super) const NTF_EXT_LEARNED: u8 = 0x10;
pub(super) const NTF_OFFLOADED: u8 = 0x20;
pub(super) const NTF_STICKY: u8 = 0x40;
pub(super) const NUD_INCOMPLETE: u16 = 0x01;
pub(super) const NUD_REACHABLE: u16 = 0x02;
pub(super) const NUD_STALE: u16 = 0x04;
pub(super) const NUD_DELAY: u16 = 0x08;
pub(super) const NUD_PROBE: u16 = 0x10;
pub(super) const NUD_FAILED: u16 = 0x20;
pub(super) const NUD_NOARP: u16 = 0x40;
pub(super) const NUD_PERMANENT: u16 = 0x80;

impl Rtnl {
    /// Hands the row of every IPv4 and IPv6 neighbour to `sink`.
    pub(super) fn neighbors(
        &mut self,
        links: &Links,
        clock: &Clock,
        sink: &mut dyn FnMut(Row),
    ) -> Result<()> {
        self.dump(
            RTM_GETNEIGH,
            neighbor_request(AF_UNSPEC)?,
            "neighbours",
            |msg: Ndmsg| {
                if let Some(row) = neighbor_row(&msg, links, clock, true) {
                    sink(row);
                }
            },
        )
    }
}

/// A dump request for the neighbours of `family` (AF_BRIDGE: the FDB).
pub(super) fn neighbor_request(family: u8) -> Result<Ndmsg> {
    NdmsgBuilder::default()
        .ndm_family(RtAddrFamily::from(family))
        .ndm_index(0)
        .ndm_state(Nud::empty())
        .ndm_type(Rtn::Unspec)
        .build()
        .map_err(netlink_error)
}

/// `present` is false for an RTM_DELNEIGH, whose row needs only its key.
pub(super) fn neighbor_row(
    msg: &Ndmsg,
    links: &Links,
    clock: &Clock,
    present: bool,
) -> Option<Row> {
    let family = family_name((*msg.ndm_family()).into())?;
    let index = u32::try_from(*msg.ndm_index()).ok()?;
    let state = msg.ndm_state().bits();
    let (mut ip, mut lladdr, mut updated) = (None, None, None);
    for (kind, payload) in attributes(msg.rtattrs()) {
        match kind {
            NDA_DST => ip = ip_of(payload),
            NDA_LLADDR => lladdr = hex_of(payload),
            NDA_CACHEINFO => updated = cache_updated(payload),
            _ => {}
        }
    }
    let ip = ip?;
    // Multicast addresses get computed link-layer mappings (NUD_NOARP), not neighbours.
    if ip.is_multicast() {
        return None;
    }
    if present && lladdr.is_none() && state & (NUD_FAILED | NUD_INCOMPLETE) == 0 {
        return None;
    }
    let row = Row::new(&neighbors::TABLE, clock.ago(updated))
        .set("ifname", links.name(index)?)
        .set("ip", ip.to_string())
        .set("mac", lladdr)
        .set("family", family)
        .set("vrf", links.vrf_of(index))
        .set("state", neighbor_state(state))
        .set("is_remote", msg.ndm_flags().bits() & NTF_EXT_LEARNED != 0);
    Some(if present { row } else { gone(row) })
}

fn neighbor_state(state: u16) -> &'static str {
    [
        (NUD_PERMANENT, "permanent"),
        (NUD_NOARP, "noarp"),
        (NUD_REACHABLE, "reachable"),
        (NUD_STALE, "stale"),
        (NUD_DELAY, "delay"),
        (NUD_PROBE, "probe"),
        (NUD_FAILED, "failed"),
        (NUD_INCOMPLETE, "incomplete"),
    ]
    .into_iter()
    .find(|(bit, _)| state & bit != 0)
    .map_or("none", |(_, name)| name)
}

/// `ndm_updated` of a `struct nda_cacheinfo` (confirmed, used, updated, refcnt): an age in ticks.
pub(super) fn cache_updated(cacheinfo: &[u8]) -> Option<u32> {
    u32_of(cacheinfo.get(8..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_have_iproute2_names() {
        assert_eq!(neighbor_state(NUD_REACHABLE), "reachable");
        assert_eq!(neighbor_state(NUD_STALE), "stale");
        assert_eq!(neighbor_state(0), "none");
        assert_eq!(neighbor_state(NUD_PERMANENT | NUD_REACHABLE), "permanent");
    }
}
