//! Addresses: the dump of every interface address and the rows of the `addresses` table.

use neli::consts::rtnl::{RtAddrFamily, RtScope};
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder};
use sonde_schema::families::addresses;
use sonde_schema::row::Row;

use super::attributes::{attributes, family_name, ip_of, str_of, u32_of};
use super::clock::Clock;
use super::links::Links;
use super::socket::{RTM_GETADDR, Rtnl, netlink_error};
use crate::error::Result;

// linux/if_addr.h.
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_CACHEINFO: u16 = 6;

impl Rtnl {
    /// Hands the row of every address to `sink`.
    pub(super) fn addresses(
        &mut self,
        links: &Links,
        clock: &Clock,
        sink: &mut dyn FnMut(Row),
    ) -> Result<()> {
        self.dump(
            RTM_GETADDR,
            address_request()?,
            "addresses",
            |msg: Ifaddrmsg| {
                if let Some(row) = address_row(&msg, links, clock) {
                    sink(row);
                }
            },
        )
    }
}

/// A dump request for the addresses of every family.
fn address_request() -> Result<Ifaddrmsg> {
    IfaddrmsgBuilder::default()
        .ifa_family(RtAddrFamily::Unspecified)
        .ifa_prefixlen(0)
        .ifa_scope(RtScope::Universe)
        .ifa_index(0)
        .build()
        .map_err(netlink_error)
}

/// The row of an RTM_NEWADDR (or the key of an RTM_DELADDR); `None` for other families or
/// an address of no known interface.
pub(super) fn address_row(msg: &Ifaddrmsg, links: &Links, clock: &Clock) -> Option<Row> {
    let family = family_name((*msg.ifa_family()).into())?;
    let (mut local, mut address, mut label, mut updated) = (None, None, None, None);
    for (kind, payload) in attributes(msg.rtattrs()) {
        match kind {
            IFA_LOCAL => local = ip_of(payload),
            IFA_ADDRESS => address = ip_of(payload),
            IFA_LABEL => label = str_of(payload),
            // `struct ifa_cacheinfo`: preferred, valid, cstamp, tstamp (last update).
            IFA_CACHEINFO => updated = payload.get(12..).and_then(u32_of),
            _ => {}
        }
    }
    // IFA_ADDRESS is the peer's address on point-to-point links; IFA_LOCAL is ours.
    let ip = local.or(address)?;
    let index = *msg.ifa_index();
    let ifname = links.name(index).map(str::to_owned).or(label)?;
    Some(
        Row::new(&addresses::TABLE, clock.since_boot(updated))
            .set("ifname", ifname)
            .set("prefix", format!("{ip}/{}", msg.ifa_prefixlen()))
            .set("family", family)
            .set("vrf", links.vrf_of(index))
            .set("scope", scope_name((*msg.ifa_scope()).into())),
    )
}

fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_have_iproute2_names() {
        assert_eq!(scope_name(0), "global");
        assert_eq!(scope_name(253), "link");
        assert_eq!(scope_name(7), "7");
    }
}
