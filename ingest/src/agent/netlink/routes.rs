//! Routes and their next hops: nexthop objects (`ip nexthop`), the dump of the IPv4 and IPv6
//! routes of every table, one per (table, prefix) with all its paths, and the rows of the
//! `routes` table with the VRF of each table.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::consts::rtnl::{RtAddrFamily, RtScope, RtTable, Rtn, Rtprot};
use neli::rtnl::{Rtmsg, RtmsgBuilder};
use neli::types::Buffer;
use sonde_schema::families::routes;
use sonde_schema::row::Row;

use super::attributes::{AF_INET, AF_INET6, align4, attributes, ip_of, nested, u16_of, u32_of};
use super::links::Links;
use super::socket::{RTM_GETNEXTHOP, RTM_GETROUTE, Rtnl, netlink_error};
use crate::error::Result;

// linux/rtnetlink.h, nexthop.h.
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
const RTA_NH_ID: u16 = 30;
const RTM_F_CLONED: u32 = 0x200;
const RT_TABLE_MAIN: u32 = 254;
const RT_TABLE_LOCAL: u32 = 255;
/// `struct rtnexthop`: length, flags, hops, ifindex, then the hop's attributes.
const RTNEXTHOP_LEN: usize = 8;

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
/// `struct nhmsg`: family, scope, protocol, reserved, flags.
pub(super) const NHMSG_LEN: usize = 8;
/// `struct nexthop_grp`: id, weight - 1 (low byte), weight - 1 (high byte, Linux 6.12+), reserved.
const NEXTHOP_GRP_LEN: usize = 8;

impl Rtnl {
    /// Nexthop objects; none when the kernel has none (before 5.3) or refuses the dump.
    pub(super) fn nexthops(&mut self) -> Nexthops {
        let mut nexthops = Nexthops::default();
        let request = Buffer::from(vec![0u8; NHMSG_LEN]);
        let dumped = self.dump(RTM_GETNEXTHOP, request, "nexthops", |msg: Buffer| {
            nexthops.apply(true, msg.as_ref());
        });
        if let Err(e) = dumped {
            tracing::debug!("no nexthop objects: {e}");
        }
        nexthops
    }

    /// IPv4 and IPv6 routes of every table but `local`, one per (table, prefix).
    pub(super) fn routes(&mut self, nexthops: &Nexthops) -> Result<Vec<Route>> {
        let mut found: Vec<Route> = Vec::new();
        let mut by_key: HashMap<RouteKey, usize> = HashMap::new();
        for family in [AF_INET, AF_INET6] {
            self.dump(
                RTM_GETROUTE,
                route_request(family)?,
                "routes",
                |msg: Rtmsg| {
                    let Some(route) = Route::parse(&msg, nexthops) else {
                        return;
                    };
                    match by_key.entry(route.key) {
                        Entry::Occupied(known) => found[*known.get()].merge(route),
                        Entry::Vacant(new) => {
                            new.insert(found.len());
                            found.push(route);
                        }
                    }
                },
            )?;
        }
        Ok(found)
    }
}

/// A dump request for the routes of `family`, all tables.
fn route_request(family: u8) -> Result<Rtmsg> {
    RtmsgBuilder::default()
        .rtm_family(RtAddrFamily::from(family))
        .rtm_dst_len(0)
        .rtm_src_len(0)
        .rtm_tos(0)
        .rtm_table(RtTable::Unspec)
        .rtm_protocol(Rtprot::Unspec)
        .rtm_scope(RtScope::Universe)
        .rtm_type(Rtn::Unspec)
        .build()
        .map_err(netlink_error)
}

/// A kernel nexthop object (`ip nexthop`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Nexthop {
    Via {
        gateway: Option<IpAddr>,
        oif: Option<u32>,
    },
    Blackhole,
    /// Member ids and weights.
    Group(Vec<(u32, u32)>),
}

/// The nexthop objects by id.
#[derive(Debug, Default)]
pub(super) struct Nexthops(HashMap<u32, Nexthop>);

impl Nexthops {
    /// Applies an RTM_NEWNEXTHOP (`present`) or RTM_DELNEXTHOP payload.
    pub(super) fn apply(&mut self, present: bool, payload: &[u8]) {
        let Some((id, nexthop)) = parse_nexthop(payload) else {
            return;
        };
        if present {
            self.0.insert(id, nexthop);
        } else {
            self.0.remove(&id);
        }
    }

    /// Calls `each(gateway, oif, weight)` for every path of nexthop `id`; false when `id` is
    /// unknown.
    fn expand(&self, id: u32, each: &mut impl FnMut(Option<IpAddr>, Option<u32>, u32)) -> bool {
        match self.0.get(&id) {
            None => false,
            Some(Nexthop::Blackhole) => true,
            Some(Nexthop::Via { gateway, oif }) => {
                each(*gateway, *oif, 1);
                true
            }
            Some(Nexthop::Group(members)) => {
                for (member, weight) in members {
                    // Groups hold only single nexthops.
                    if let Some(Nexthop::Via { gateway, oif }) = self.0.get(member) {
                        each(*gateway, *oif, *weight);
                    }
                }
                true
            }
        }
    }
}

/// The id and object of an RTM_NEWNEXTHOP or RTM_DELNEXTHOP payload.
pub(super) fn parse_nexthop(payload: &[u8]) -> Option<(u32, Nexthop)> {
    let (mut id, mut gateway, mut oif, mut group, mut blackhole) = (None, None, None, None, false);
    for (kind, value) in nested(payload.get(NHMSG_LEN..)?) {
        match kind {
            NHA_ID => id = u32_of(value),
            NHA_GROUP => group = Some(group_members(value)),
            NHA_BLACKHOLE => blackhole = true,
            NHA_OIF => oif = u32_of(value),
            NHA_GATEWAY => gateway = ip_of(value),
            _ => {}
        }
    }
    let nexthop = match group {
        Some(members) => Nexthop::Group(members),
        None if blackhole => Nexthop::Blackhole,
        None => Nexthop::Via { gateway, oif },
    };
    Some((id?, nexthop))
}

/// `NHA_GROUP`: an array of `struct nexthop_grp`, whose weight is stored minus one.
fn group_members(bytes: &[u8]) -> Vec<(u32, u32)> {
    bytes
        .chunks_exact(NEXTHOP_GRP_LEN)
        .filter_map(|entry| {
            let weight = u32::from(entry[4]) | (u32::from(entry[5]) << 8);
            Some((u32_of(entry)?, weight + 1))
        })
        .collect()
}

/// What identifies a route in the `routes` table: its table (hence VRF) and prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RouteKey {
    table: u32,
    dst: IpAddr,
    dst_len: u8,
}

/// One path of a route, kept raw until the row is built: a node with 100k ECMP routes holds
/// all of them during a dump, and strings per path would cost several times the memory.
#[derive(Debug, PartialEq)]
struct Hop {
    gateway: Option<IpAddr>,
    oif: Option<u32>,
    weight: u32,
}

/// A route's paths.
#[derive(Debug, Default, PartialEq)]
struct Paths(Vec<Hop>);

impl Paths {
    fn push(&mut self, gateway: Option<IpAddr>, oif: Option<u32>, weight: u32) {
        self.0.push(Hop {
            gateway,
            oif,
            weight,
        });
    }

    fn append(&mut self, other: Paths) {
        self.0.extend(other.0);
    }

    /// The row's parallel lists: a path without gateway (a connected route) has an empty
    /// next-hop address, one without device an empty interface.
    fn into_lists(self, links: &Links) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut lists = (Vec::new(), Vec::new(), Vec::new());
        for hop in self.0 {
            lists
                .0
                .push(hop.gateway.map(|g| g.to_string()).unwrap_or_default());
            lists
                .1
                .push(hop.oif.map(|i| links.name_or_index(i)).unwrap_or_default());
            lists.2.push(hop.weight.to_string());
        }
        lists
    }
}

#[derive(Debug, PartialEq)]
pub(super) struct Route {
    key: RouteKey,
    protocol: u8,
    metric: u32,
    source: Option<IpAddr>,
    paths: Paths,
}

impl Route {
    /// `None` for routes the table does not hold: the `local` table's, local delivery ones,
    /// cached (cloned) ones and other families'.
    pub(super) fn parse(msg: &Rtmsg, nexthops: &Nexthops) -> Option<Route> {
        let dst_default = match u8::from(*msg.rtm_family()) {
            AF_INET => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            AF_INET6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => return None,
        };
        if msg.rtm_flags().bits() & RTM_F_CLONED != 0
            || is_local_delivery(u8::from(*msg.rtm_type()))
        {
            return None;
        }
        let attrs = RouteAttributes::read(msg);
        let table = attrs.table.unwrap_or(u32::from(u8::from(*msg.rtm_table())));
        if table == RT_TABLE_LOCAL {
            return None;
        }
        Some(Route {
            key: RouteKey {
                table,
                dst: attrs.dst.unwrap_or(dst_default),
                dst_len: *msg.rtm_dst_len(),
            },
            protocol: (*msg.rtm_protocol()).into(),
            metric: attrs.metric.unwrap_or_default(),
            source: attrs.source,
            paths: attrs.paths(nexthops),
        })
    }

    /// Folds another route of the same table and prefix in: the lower metric wins (it is the one
    /// used), equal metrics add paths (IPv6 lists same-prefix routes of several devices apart).
    fn merge(&mut self, other: Route) {
        if other.metric < self.metric {
            *self = other;
        } else if other.metric == self.metric {
            self.paths.append(other.paths);
            self.source = self.source.or(other.source);
        }
    }

    /// The route's row, with device names and the VRF of its table.
    pub(super) fn into_row(self, links: &Links, vrf_tables: &VrfTables, time: i64) -> Row {
        let family = if self.key.dst.is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        };
        let (nexthop_ips, oifs, weights) = self.paths.into_lists(links);
        Row::new(&routes::TABLE, time)
            .set("vrf", vrf_tables.name(self.key.table))
            .set("prefix", format!("{}/{}", self.key.dst, self.key.dst_len))
            .set("family", family)
            .set("protocol", protocol_name(self.protocol))
            .set("nexthop_ips", nexthop_ips)
            .set("oifs", oifs)
            .set("weights", weights)
            .set("metric", self.metric)
            .set("source", self.source.map(|s| s.to_string()))
            .set("table_id", self.key.table)
    }
}

/// What rows need of an RTM_NEWROUTE's attributes.
#[derive(Debug, Default)]
struct RouteAttributes<'a> {
    /// `RTA_TABLE`, for tables above 255 that `rtm_table` cannot hold.
    table: Option<u32>,
    dst: Option<IpAddr>,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
    metric: Option<u32>,
    source: Option<IpAddr>,
    multipath: Option<&'a [u8]>,
    nexthop_id: Option<u32>,
}

impl<'a> RouteAttributes<'a> {
    fn read(msg: &'a Rtmsg) -> RouteAttributes<'a> {
        let mut attrs = RouteAttributes::default();
        for (kind, payload) in attributes(msg.rtattrs()) {
            match kind {
                RTA_DST => attrs.dst = ip_of(payload),
                RTA_GATEWAY => attrs.gateway = ip_of(payload),
                RTA_VIA => attrs.gateway = via_of(payload),
                RTA_OIF => attrs.oif = u32_of(payload),
                RTA_PRIORITY => attrs.metric = u32_of(payload),
                RTA_PREFSRC => attrs.source = ip_of(payload),
                RTA_MULTIPATH => attrs.multipath = Some(payload),
                RTA_TABLE => attrs.table = u32_of(payload),
                RTA_NH_ID => attrs.nexthop_id = u32_of(payload),
                _ => {}
            }
        }
        attrs
    }

    /// The paths of the nexthop object when there is one (a route through one carries its
    /// paths only in the kernel's `nexthop_compat_mode`, which FRR turns off), else of
    /// `RTA_MULTIPATH`, else the single gateway and device.
    fn paths(&self, nexthops: &Nexthops) -> Paths {
        let mut paths = Paths::default();
        let mut add = |gateway, oif, weight| paths.push(gateway, oif, weight);
        let resolved = self
            .nexthop_id
            .is_some_and(|id| nexthops.expand(id, &mut add));
        if !resolved {
            if let Some(multipath) = self.multipath {
                for_each_hop(multipath, &mut add);
            } else if self.gateway.is_some() || self.oif.is_some() {
                add(self.gateway, self.oif, 1);
            }
        }
        paths
    }
}

/// RTN_LOCAL, RTN_BROADCAST and RTN_ANYCAST routes deliver to the node itself; the kernel keeps
/// them in the `local` table, or in a VRF's own table.
fn is_local_delivery(route_type: u8) -> bool {
    matches!(route_type, 2..=4)
}

/// Calls `each(gateway, oif, weight)` for every `struct rtnexthop` of an `RTA_MULTIPATH` payload.
pub(super) fn for_each_hop(
    mut bytes: &[u8],
    each: &mut impl FnMut(Option<IpAddr>, Option<u32>, u32),
) {
    while let Some(len) = u16_of(bytes).map(usize::from) {
        let Some(hop) = bytes.get(..len).filter(|hop| hop.len() >= RTNEXTHOP_LEN) else {
            return;
        };
        let weight = u32::from(hop[3]) + 1;
        let oif = u32_of(&hop[4..]).filter(|i| *i != 0);
        let gateway = nested(&hop[RTNEXTHOP_LEN..]).find_map(|(kind, payload)| match kind {
            RTA_GATEWAY => ip_of(payload),
            RTA_VIA => via_of(payload),
            _ => None,
        });
        each(gateway, oif, weight);
        bytes = bytes.get(align4(len)..).unwrap_or_default();
    }
}

/// The VRF of each routing table, from the VRF devices' `IFLA_VRF_TABLE`.
#[derive(Debug, Default)]
pub(super) struct VrfTables(HashMap<u32, String>);

impl VrfTables {
    pub(super) fn new(links: &Links) -> VrfTables {
        VrfTables(
            links
                .by_index
                .values()
                .filter_map(|l| Some((l.vrf_table?, l.name.clone())))
                .collect(),
        )
    }

    /// The VRF of `table`: `default` for main, `table<N>` when no VRF device names it.
    pub(super) fn name(&self, table: u32) -> String {
        if table == RT_TABLE_MAIN {
            return "default".into();
        }
        self.0
            .get(&table)
            .cloned()
            .unwrap_or_else(|| format!("table{table}"))
    }
}

/// `struct rtvia`: an address family then the address (IPv4 routes via IPv6 next hops).
pub(super) fn via_of(bytes: &[u8]) -> Option<IpAddr> {
    let family = u8::try_from(u16_of(bytes)?).ok()?;
    let address = bytes.get(2..)?;
    match family {
        AF_INET => ip_of(address.get(..4)?),
        AF_INET6 => ip_of(address.get(..16)?),
        _ => None,
    }
}

/// iproute2's names (`/etc/iproute2/rt_protos`), with FRR's daemons (`rt_protos.d/frr.conf`):
/// FRR 8 installs its static routes as 196, not RTPROT_STATIC.
fn protocol_name(protocol: u8) -> String {
    let name = match protocol {
        0 => "unspec",
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        9 => "ra",
        11 => "zebra",
        12 => "bird",
        16 => "dhcp",
        18 => "keepalived",
        42 => "babel",
        99 => "openr",
        186 => "bgp",
        187 => "isis",
        188 => "ospf",
        189 => "rip",
        190 => "ripng",
        191 => "nhrp",
        192 => "eigrp",
        193 => "ldp",
        194 => "sharp",
        195 => "pbr",
        196 => "static",
        197 => "openfabric",
        other => return other.to_string(),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::netlink::test_support::attr;
    /// A `struct rtnexthop` with its attributes.
    fn hop(hops: u8, ifindex: u32, attrs: &[u8]) -> Vec<u8> {
        let len = u16::try_from(RTNEXTHOP_LEN + attrs.len()).expect("small hop");
        let mut bytes = Vec::new();
        bytes.extend(len.to_ne_bytes());
        bytes.extend([0, hops]);
        bytes.extend(ifindex.to_ne_bytes());
        bytes.extend(attrs);
        bytes
    }

    #[test]
    fn multipath_gives_one_path_per_hop_with_its_weight() {
        let mut via = u16::from(AF_INET6).to_ne_bytes().to_vec();
        via.extend(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
        let bytes = [
            hop(0, 2, &attr(RTA_GATEWAY, &[10, 0, 0, 1])),
            hop(2, 3, &attr(RTA_VIA, &via)),
            hop(0, 0, &[]),
        ]
        .concat();
        let mut paths = Vec::new();
        for_each_hop(&bytes, &mut |gateway, oif, weight| {
            paths.push((gateway, oif, weight))
        });
        assert_eq!(
            paths,
            vec![
                (Some("10.0.0.1".parse().expect("ip")), Some(2), 1),
                (Some("fe80::1".parse().expect("ip")), Some(3), 3),
                (None, None, 1),
            ]
        );
        // A truncated hop ends the list without a path.
        let mut count = 0;
        for_each_hop(&bytes[..12], &mut |_, _, _| count += 1);
        assert_eq!(count, 0);
    }

    #[test]
    fn nexthop_groups_expand_to_their_members() {
        let single = |id: u32, gateway: [u8; 4], oif: u32| {
            let mut bytes = vec![0u8; NHMSG_LEN];
            bytes.extend(attr(NHA_ID, &id.to_ne_bytes()));
            bytes.extend(attr(NHA_GATEWAY, &gateway));
            bytes.extend(attr(NHA_OIF, &oif.to_ne_bytes()));
            bytes
        };
        let mut group = vec![0u8; NHMSG_LEN];
        group.extend(attr(NHA_ID, &10u32.to_ne_bytes()));
        let members = [1u32.to_ne_bytes(), [0; 4], 2u32.to_ne_bytes(), [2, 0, 0, 0]].concat();
        group.extend(attr(NHA_GROUP, &members));
        let mut nexthops = Nexthops::default();
        nexthops.apply(true, &single(1, [10, 1, 0, 3], 7));
        nexthops.apply(true, &single(2, [10, 3, 0, 3], 8));
        nexthops.apply(true, &group);
        let mut paths = Vec::new();
        assert!(nexthops.expand(10, &mut |g, o, w| paths.push((g, o, w))));
        assert_eq!(
            paths,
            vec![
                (Some("10.1.0.3".parse().expect("ip")), Some(7), 1),
                (Some("10.3.0.3".parse().expect("ip")), Some(8), 3),
            ]
        );
        assert!(!nexthops.expand(11, &mut |_, _, _| {}));
        nexthops.apply(false, &single(2, [0; 4], 0));
        let mut count = 0;
        nexthops.expand(10, &mut |_, _, _| count += 1);
        assert_eq!(count, 1, "a deleted member no longer expands");
    }

    #[test]
    fn protocols_have_iproute2_and_frr_names() {
        assert_eq!(protocol_name(186), "bgp");
        assert_eq!(protocol_name(196), "static");
        assert_eq!(protocol_name(77), "77");
    }
}
