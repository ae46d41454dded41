//! Links, addresses, routes, neighbours, the bridge FDB and bridge VLANs, read from rtnetlink.
//!
//! [`dump`] reads the whole state through one rtnetlink socket; [`spawn_monitor`] follows the
//! rtnetlink multicast groups on a thread of its own and turns every notification into rows. Both
//! build rows with the same functions, so a notification and the next full dump agree.
//!
//! neli frames the messages and parses their fixed headers and top-level attributes
//! ([`Ifinfomsg`], [`Rtmsg`], …). What neli 0.7 does not model (nested attributes such as
//! `IFLA_LINKINFO`, `IFLA_AF_SPEC` and `RTA_MULTIPATH`, and nexthop objects) is walked in place,
//! zero-copy. A message or attribute that does not parse is skipped, never trusted.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{Debug, Display, Write};
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Ifla, Nud, RtAddrFamily, RtScope, RtTable, RtaType, Rtn, Rtprot};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::rtnl::{
    Ifaddrmsg, IfaddrmsgBuilder, Ifinfomsg, IfinfomsgBuilder, Ndmsg, NdmsgBuilder, RtattrBuilder,
    Rtmsg, RtmsgBuilder,
};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::{Buffer, RtBuffer};
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};
use sonde_schema::TableDef;
use sonde_schema::families::{addresses, interfaces, macs, neighbors, routes, vlan};
use tokio::sync::mpsc::UnboundedSender;

use super::row::{self, Row};
use crate::error::{Error, Result};

/// Tables this collector covers (a full dump covers all of them).
pub const TABLES: &[&TableDef] = &[
    &interfaces::TABLE,
    &addresses::TABLE,
    &routes::TABLE,
    &neighbors::TABLE,
    &macs::TABLE,
    &vlan::TABLE,
];

// Kernel ABI values (linux/netlink.h, rtnetlink.h, if_link.h, if_bridge.h, neighbour.h,
// nexthop.h). neli 0.7 lacks some of them and names others only on glibc targets, so all are
// matched as numbers.
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
const RTM_NEWNEXTHOP: u16 = 104;
const RTM_DELNEXTHOP: u16 = 105;
const RTM_GETNEXTHOP: u16 = 106;

const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_NEIGH: u32 = 3;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
const RTNLGRP_NEXTHOP: u32 = 32;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_BRIDGE: u8 = 7;
const AF_INET6: u8 = 10;

/// Attribute type bits; the top two are the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
/// IFLA_VRF_TABLE, IFLA_VLAN_ID and IFLA_VXLAN_ID: the first attribute of their kind's data.
const IFLA_INFO_DATA_ID: u16 = 1;
const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_INFO: u16 = 3;
const IFLA_BRIDGE_VLAN_TUNNEL_ID: u16 = 1;
const IFLA_BRIDGE_VLAN_TUNNEL_VID: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_FLAGS: u16 = 3;
const BRIDGE_VLAN_INFO_PVID: u16 = 0x2;
const BRIDGE_VLAN_INFO_RANGE_BEGIN: u16 = 0x8;
const BRIDGE_VLAN_INFO_RANGE_END: u16 = 0x10;
const RTEXT_FILTER_BRVLAN_COMPRESSED: u32 = 0x4;
const RTEXT_FILTER_SKIP_STATS: u32 = 0x8;
const ARPHRD_LOOPBACK: u16 = 772;
const IFF_UP: u32 = 0x1;
const IFF_LOWER_UP: u32 = 0x10000;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_UP: u8 = 6;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_CACHEINFO: u16 = 6;

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
const NHMSG_LEN: usize = 8;
/// `struct nexthop_grp`: id, weight - 1 (low byte), weight - 1 (high byte, Linux 6.12+), reserved.
const NEXTHOP_GRP_LEN: usize = 8;

const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NDA_CACHEINFO: u16 = 3;
const NDA_VLAN: u16 = 5;
const NDA_MASTER: u16 = 9;
const NTF_SELF: u8 = 0x02;
const NTF_MASTER: u8 = 0x04;
const NTF_EXT_LEARNED: u8 = 0x10;
const NTF_OFFLOADED: u8 = 0x20;
const NTF_STICKY: u8 = 0x40;
const NUD_INCOMPLETE: u16 = 0x01;
const NUD_REACHABLE: u16 = 0x02;
const NUD_STALE: u16 = 0x04;
const NUD_DELAY: u16 = 0x08;
const NUD_PROBE: u16 = 0x10;
const NUD_FAILED: u16 = 0x20;
const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;

const ENOBUFS: i32 = 105;
/// Kernel ages (`clock_t`) and address timestamps count USER_HZ = 100 ticks a second.
const TICK_US: i64 = 10_000;
/// Asked for the monitor's receive buffer; the kernel caps it at `net.core.rmem_max`.
const MONITOR_RECEIVE_BUFFER: usize = 8 << 20;

/// Dumps links, addresses, IPv4/IPv6 routes (all tables), neighbours and the bridge FDB through
/// rtnetlink; every row stamped `now` (µs since epoch) except where the kernel gives a better time.
///
/// Better times: addresses carry their last update (`IFA_CACHEINFO`), neighbours and MACs their
/// last update (`NDA_CACHEINFO`). Interfaces' `last_flap` is what a monitor running in this process
/// observed (a dump alone cannot know it), else null.
pub fn dump(now: i64) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    dump_into(now, &mut |row| rows.push(row))?;
    Ok(rows)
}

/// Like [`dump`], handing each row to `sink` as soon as it is built, so that a caller can
/// process a node with 100k routes without holding all its rows at once.
pub fn dump_into(now: i64, sink: &mut dyn FnMut(Row)) -> Result<()> {
    let clock = Clock::for_dump(now);
    let mut rtnl = Rtnl::connect()?;
    let links = rtnl.links()?;
    let nexthops = rtnl.nexthops();
    let vrf_tables = VrfTables::new(&links);
    interface_rows(&links, now).into_iter().for_each(&mut *sink);
    vlan_rows(vlans(&links), &links, now)
        .into_iter()
        .for_each(&mut *sink);
    rtnl.dump(
        RTM_GETADDR,
        address_request()?,
        "addresses",
        |msg: Ifaddrmsg| {
            if let Some(row) = address_row(&msg, &links, &clock) {
                sink(row);
            }
        },
    )?;
    let found = rtnl.routes(&nexthops)?;
    found
        .into_iter()
        .map(|r| r.into_row(&links, &vrf_tables, now))
        .for_each(&mut *sink);
    rtnl.dump(
        RTM_GETNEIGH,
        neighbor_request(AF_UNSPEC)?,
        "neighbours",
        |msg: Ndmsg| {
            if let Some(row) = neighbor_row(&msg, &links, &clock, true) {
                sink(row);
            }
        },
    )?;
    let fdb = rtnl.fdb(&links)?;
    mac_rows(&merge_fdb(&fdb), &links, &clock)
        .into_iter()
        .for_each(&mut *sink);
    Ok(())
}

/// Subscribes to the rtnetlink multicast groups (link, ipv4/ipv6 ifaddr, ipv4/ipv6 route, neigh)
/// and, on a dedicated std thread, turns every notification into rows (RTM_NEW* → active row,
/// RTM_DEL* → row with active=false, stamped with the time the notification was received) sent on
/// `tx`; returns when the subscription is set up (errors then), the thread runs until `tx` is
/// closed (send fails) or the socket fails (then it logs with `tracing::warn!` and ends; the
/// agent's 15 s full resync covers what is missed).
///
/// An EMPTY `Vec` on `tx` means "notifications were lost (ENOBUFS or an unparsable message):
/// resync now". The thread blocks in `recv`, so it sees a closed `tx` only at the next
/// notification. It also follows nexthop objects (RTNLGRP_NEXTHOP) to resolve routes' `nhid`.
///
/// What only the resync fixes, because the kernel does not say it: a route notification is one
/// kernel route, so where several share a table and prefix (IPv6 `fe80::/64` on every link, a
/// prefix at two metrics) its row has that route's paths only, and its deletion deletes the row;
/// the kernel does not notify IPv4 routes it flushes (link down, address removed), nor routes
/// whose nexthop object is replaced when `nexthop_compat_mode` is 0.
pub fn spawn_monitor(tx: UnboundedSender<Vec<Row>>) -> Result<JoinHandle<()>> {
    let events = subscribe()?;
    // Seeded after subscribing, so that no change falls between the seed and the first event.
    let mut monitor = Monitor::default();
    monitor.seed()?;
    std::thread::Builder::new()
        .name("sonde-netlink".into())
        .spawn(move || monitor.run(&events, &tx))
        .map_err(|e| Error::Netlink(format!("cannot start the monitor thread: {e}")))
}

/// A socket subscribed to the groups the monitor follows.
fn subscribe() -> Result<NlSocketHandle> {
    let groups = Groups::new_groups(&[
        RTNLGRP_LINK,
        RTNLGRP_NEIGH,
        RTNLGRP_IPV4_IFADDR,
        RTNLGRP_IPV4_ROUTE,
        RTNLGRP_IPV6_IFADDR,
        RTNLGRP_IPV6_ROUTE,
    ]);
    let events = NlSocketHandle::connect(NlFamily::Route, None, groups).map_err(netlink_error)?;
    // Kernels before 5.3 have no nexthop objects, hence no such group.
    if let Err(e) = events.add_mcast_membership(Groups::new_groups(&[RTNLGRP_NEXTHOP])) {
        tracing::debug!("netlink monitor: no nexthop notifications: {e}");
    }
    if let Err(e) = events.set_recv_buffer_size(MONITOR_RECEIVE_BUFFER) {
        tracing::debug!("netlink monitor: cannot enlarge the receive buffer: {e}");
    }
    Ok(events)
}

fn netlink_error(e: impl Display) -> Error {
    Error::Netlink(e.to_string())
}

/// The same row, saying the object is gone.
fn gone(row: Row) -> Row {
    Row {
        active: false,
        ..row
    }
}

// ---------------------------------------------------------------------------------------------
// The socket

/// An rtnetlink socket for request/dump exchanges, one at a time.
struct Rtnl {
    socket: NlSocketHandle,
    seq: u32,
}

impl Rtnl {
    fn connect() -> Result<Rtnl> {
        let socket = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty())
            .map_err(netlink_error)?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Sends the dump request `request_type` and hands every reply that parses as `P` to `each`.
    fn dump<R, P>(
        &mut self,
        request_type: u16,
        request: R,
        what: &str,
        mut each: impl FnMut(P),
    ) -> Result<()>
    where
        R: Size + ToBytes + Debug,
        P: FromBytesWithInput<Input = usize>,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let message = NlmsghdrBuilder::default()
            .nl_type(request_type)
            .nl_flags(NlmF::REQUEST | NlmF::DUMP)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(request))
            .build()
            .map_err(netlink_error)?;
        self.socket
            .send(&message)
            .map_err(|e| Error::Netlink(format!("dumping {what}: {e}")))?;
        // RTM_GETx is RTM_NEWx + 2 for every rtnetlink object.
        let reply_type = request_type - 2;
        loop {
            let (messages, _) = match self.socket.recv::<u16, Buffer>() {
                Ok(received) => received,
                Err(e) if is_interrupted(&e) => continue,
                Err(e) => return Err(Error::Netlink(format!("dumping {what}: {e}"))),
            };
            for message in messages {
                let message =
                    message.map_err(|e| Error::Netlink(format!("dumping {what}: {e}")))?;
                if *message.nl_seq() != seq {
                    continue; // a late reply to an earlier request
                }
                match (*message.nl_type(), message.nl_payload()) {
                    (NLMSG_DONE, NlPayload::DumpExtAck(ack)) if *ack.error() != 0 => {
                        return Err(Error::Netlink(format!("dumping {what}: {ack}")));
                    }
                    (NLMSG_DONE, _) => return Ok(()),
                    (NLMSG_ERROR, NlPayload::Err(e)) => {
                        return Err(Error::Netlink(format!("dumping {what}: {e}")));
                    }
                    (NLMSG_ERROR, _) => return Ok(()),
                    (kind, NlPayload::Payload(payload)) if kind == reply_type => {
                        if let Some(parsed) = parse::<P>(payload.as_ref()) {
                            each(parsed);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Every link, with the VLANs of bridges and bridge ports.
    fn links(&mut self) -> Result<Links> {
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

    /// Nexthop objects; none when the kernel has none (before 5.3) or refuses the dump.
    fn nexthops(&mut self) -> Nexthops {
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
    fn routes(&mut self, nexthops: &Nexthops) -> Result<Vec<Route>> {
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

    /// The bridge forwarding database entries worth reporting.
    fn fdb(&mut self, links: &Links) -> Result<Vec<FdbEntry>> {
        let mut entries = Vec::new();
        let request = neighbor_request(AF_BRIDGE)?;
        self.dump(RTM_GETNEIGH, request, "fdb", |msg: Ndmsg| {
            entries.extend(FdbEntry::parse(&msg).filter(|e| e.is_reported(links)));
        })?;
        Ok(entries)
    }
}

fn is_interrupted(e: &SocketError) -> bool {
    matches!(e, SocketError::Io(io) if io.kind() == std::io::ErrorKind::Interrupted)
}

fn is_enobufs(e: &SocketError) -> bool {
    matches!(e, SocketError::Io(io) if io.raw_os_error() == Some(ENOBUFS))
}

/// Parses a message payload as the neli header type `P`; `None` when it does not parse.
fn parse<P: FromBytesWithInput<Input = usize>>(payload: &[u8]) -> Option<P> {
    P::from_bytes_with_input(&mut Cursor::new(payload), payload.len()).ok()
}

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

fn address_request() -> Result<Ifaddrmsg> {
    IfaddrmsgBuilder::default()
        .ifa_family(RtAddrFamily::Unspecified)
        .ifa_prefixlen(0)
        .ifa_scope(RtScope::Universe)
        .ifa_index(0)
        .build()
        .map_err(netlink_error)
}

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

fn neighbor_request(family: u8) -> Result<Ndmsg> {
    NdmsgBuilder::default()
        .ndm_family(RtAddrFamily::from(family))
        .ndm_index(0)
        .ndm_state(Nud::empty())
        .ndm_type(Rtn::Unspec)
        .build()
        .map_err(netlink_error)
}

// ---------------------------------------------------------------------------------------------
// Attributes and values

/// A message's top-level attributes as (type, payload).
fn attributes<T: RtaType>(attrs: &RtBuffer<T, Buffer>) -> impl Iterator<Item = (u16, &[u8])> {
    attrs.iter().map(|attr| {
        let kind: u16 = (*attr.rta_type()).into();
        (kind & NLA_TYPE_MASK, attr.rta_payload().as_ref())
    })
}

/// The attributes packed in `bytes` (a nested attribute's payload) as (type, payload); stops at
/// the first malformed one.
fn nested(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = usize::from(u16_of(rest)?);
        let kind = u16_of(rest.get(2..)?)? & NLA_TYPE_MASK;
        let payload = rest.get(4..len)?;
        rest = rest.get(align4(len)..).unwrap_or_default();
        Some((kind, payload))
    })
}

fn align4(len: usize) -> usize {
    (len + 3) & !3
}

fn u16_of(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?))
}

fn u32_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        Some(IpAddr::V4(Ipv4Addr::from(v4)))
    } else {
        <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
    }
}

/// `struct rtvia`: an address family then the address (IPv4 routes via IPv6 next hops).
fn via_of(bytes: &[u8]) -> Option<IpAddr> {
    let family = u8::try_from(u16_of(bytes)?).ok()?;
    let address = bytes.get(2..)?;
    match family {
        AF_INET => ip_of(address.get(..4)?),
        AF_INET6 => ip_of(address.get(..16)?),
        _ => None,
    }
}

/// A NUL-terminated (or not) string; `None` when empty.
fn str_of(bytes: &[u8]) -> Option<String> {
    let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
    (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned())
}

/// Link-layer address as lowercase `aa:bb:…`; `None` when empty.
fn hex_of(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    Some(text)
}

/// `ndm_updated` of a `struct nda_cacheinfo` (confirmed, used, updated, refcnt): an age in ticks.
fn cache_updated(cacheinfo: &[u8]) -> Option<u32> {
    u32_of(cacheinfo.get(8..)?)
}

fn family_name(family: u8) -> Option<&'static str> {
    match family {
        AF_INET => Some("ipv4"),
        AF_INET6 => Some("ipv6"),
        _ => None,
    }
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

fn up_down(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

/// Sorted, deduplicated VLAN ids as a range list: `10-20,30`.
fn vlan_ranges(vids: &[u16]) -> String {
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

/// How rows are timed: a dump uses the kernel's time of an object's last change where it gives
/// one, the monitor the time a notification arrived.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: i64,
    /// Whether kernel times are used at all (not in the monitor).
    kernel_times: bool,
    /// µs since the epoch at boot, for the timestamps the kernel counts from boot.
    boot: Option<i64>,
}

impl Clock {
    fn for_dump(now: i64) -> Clock {
        Clock {
            now,
            kernel_times: true,
            boot: boot_time(now),
        }
    }

    fn for_notification(now: i64) -> Clock {
        Clock {
            now,
            kernel_times: false,
            boot: None,
        }
    }

    /// `ticks` before now (kernel ages such as `ndm_updated`).
    fn ago(&self, ticks: Option<u32>) -> i64 {
        match ticks {
            Some(ticks) if self.kernel_times => self.bounded(self.now - i64::from(ticks) * TICK_US),
            _ => self.now,
        }
    }

    /// `ticks` after boot (address timestamps), which wrap after 497 days of uptime.
    fn since_boot(&self, ticks: Option<u32>) -> i64 {
        match (self.boot, ticks) {
            (Some(boot), Some(ticks))
                if self.kernel_times && self.now - boot < i64::from(u32::MAX) * TICK_US =>
            {
                self.bounded(boot + i64::from(ticks) * TICK_US)
            }
            _ => self.now,
        }
    }

    fn bounded(&self, time: i64) -> i64 {
        time.clamp(0, self.now)
    }
}

/// µs since the epoch at boot, from `/proc/uptime`.
fn boot_time(now: i64) -> Option<i64> {
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let seconds: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    // An uptime is far below 2^63 µs; the cast cannot overflow meaningfully.
    Some(now - (seconds * 1e6) as i64)
}

// ---------------------------------------------------------------------------------------------
// Links, bridge VLANs, interfaces and VLAN rows

/// What rows need of one link (an RTM_NEWLINK of family AF_UNSPEC).
#[derive(Debug, Clone, Default, PartialEq)]
struct Link {
    index: u32,
    name: String,
    /// `IFLA_INFO_KIND`: bridge, bond, vlan, vxlan, vrf, veth, …; `None` for plain devices.
    kind: Option<String>,
    arphrd: u16,
    flags: u32,
    operstate: u8,
    mtu: Option<u32>,
    mac: Option<String>,
    master: Option<u32>,
    /// `IFLA_LINK`: the lower device (of a VLAN device, its bridge or port).
    lower: Option<u32>,
    alias: Option<String>,
    vrf_table: Option<u32>,
    vlan_id: Option<u16>,
    vni: Option<u32>,
}

impl Link {
    fn parse(msg: &Ifinfomsg) -> Option<Link> {
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

    fn is_kind(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind)
    }

    fn is_admin_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    /// Devices without carrier detection (loopback, dummy, …) report operstate UNKNOWN.
    fn is_oper_up(&self) -> bool {
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

/// A bridge port's (or bridge's own) VLAN membership, from an AF_BRIDGE RTM_NEWLINK.
#[derive(Debug, Clone, Default, PartialEq)]
struct BridgeVlans {
    /// Sorted, deduplicated.
    vids: Vec<u16>,
    pvid: Option<u16>,
    /// VLAN-to-VNI tunnel mappings of a VXLAN port (single VXLAN device setups).
    vnis: Vec<(u16, u32)>,
}

impl BridgeVlans {
    fn parse(msg: &Ifinfomsg) -> Option<(u32, BridgeVlans)> {
        let index = u32::try_from(*msg.ifi_index()).ok()?;
        let (_, spec) = attributes(msg.rtattrs()).find(|(kind, _)| *kind == IFLA_AF_SPEC)?;
        Some((index, BridgeVlans::from_af_spec(spec)))
    }

    fn from_af_spec(spec: &[u8]) -> BridgeVlans {
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

/// The node's links by ifindex, and the bridge VLANs of those that have some.
#[derive(Debug, Default)]
struct Links {
    by_index: HashMap<u32, Link>,
    bridge_vlans: HashMap<u32, BridgeVlans>,
}

impl Links {
    fn name(&self, index: u32) -> Option<&str> {
        self.by_index.get(&index).map(|l| l.name.as_str())
    }

    /// An interface name, or its ifindex when the link is unknown.
    fn name_or_index(&self, index: u32) -> String {
        self.name(index)
            .map_or_else(|| index.to_string(), str::to_owned)
    }

    fn is_kind(&self, index: u32, kind: &str) -> bool {
        self.by_index.get(&index).is_some_and(|l| l.is_kind(kind))
    }

    /// The VRF a link is in: its master when that is a VRF device, itself when it is one.
    fn vrf_of(&self, index: u32) -> String {
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

/// When the monitor last saw each link's operational state change (µs), by ifindex. Dumps read it
/// too, so that a resync does not erase what the monitor recorded.
static LAST_FLAPS: Mutex<BTreeMap<u32, i64>> = Mutex::new(BTreeMap::new());

fn last_flaps() -> MutexGuard<'static, BTreeMap<u32, i64>> {
    LAST_FLAPS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn interface_rows(links: &Links, time: i64) -> Vec<Row> {
    let flaps = last_flaps().clone();
    links
        .by_index
        .values()
        .map(|link| interface_row(link, links, time, flaps.get(&link.index).copied()))
        .collect()
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

/// One VLAN of the node's bridges.
#[derive(Debug, Default)]
struct Vlan {
    ports: Vec<String>,
    vni: Option<u32>,
}

/// The VLANs of all bridges: their ports (bridges themselves excluded) and VNIs.
fn vlans(links: &Links) -> BTreeMap<u16, Vlan> {
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

fn vlan_rows(vlans: BTreeMap<u16, Vlan>, links: &Links, time: i64) -> Vec<Row> {
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

// ---------------------------------------------------------------------------------------------
// Addresses

fn address_row(msg: &Ifaddrmsg, links: &Links, clock: &Clock) -> Option<Row> {
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

// ---------------------------------------------------------------------------------------------
// Nexthop objects and routes

/// A kernel nexthop object (`ip nexthop`).
#[derive(Debug, Clone, PartialEq)]
enum Nexthop {
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
struct Nexthops(HashMap<u32, Nexthop>);

impl Nexthops {
    /// Applies an RTM_NEWNEXTHOP (`present`) or RTM_DELNEXTHOP payload.
    fn apply(&mut self, present: bool, payload: &[u8]) {
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

fn parse_nexthop(payload: &[u8]) -> Option<(u32, Nexthop)> {
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
struct Route {
    key: RouteKey,
    protocol: u8,
    metric: u32,
    source: Option<IpAddr>,
    paths: Paths,
}

impl Route {
    /// `None` for routes the table does not hold: the `local` table's, local delivery ones,
    /// cached (cloned) ones and other families'.
    fn parse(msg: &Rtmsg, nexthops: &Nexthops) -> Option<Route> {
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

    fn into_row(self, links: &Links, vrf_tables: &VrfTables, time: i64) -> Row {
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
fn for_each_hop(mut bytes: &[u8], each: &mut impl FnMut(Option<IpAddr>, Option<u32>, u32)) {
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
struct VrfTables(HashMap<u32, String>);

impl VrfTables {
    fn new(links: &Links) -> VrfTables {
        VrfTables(
            links
                .by_index
                .values()
                .filter_map(|l| Some((l.vrf_table?, l.name.clone())))
                .collect(),
        )
    }

    fn name(&self, table: u32) -> String {
        if table == RT_TABLE_MAIN {
            return "default".into();
        }
        self.0
            .get(&table)
            .cloned()
            .unwrap_or_else(|| format!("table{table}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Neighbours

/// `present` is false for an RTM_DELNEIGH, whose row needs only its key.
fn neighbor_row(msg: &Ndmsg, links: &Links, clock: &Clock, present: bool) -> Option<Row> {
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

// ---------------------------------------------------------------------------------------------
// The bridge FDB

/// One AF_BRIDGE neighbour entry: a bridge FDB entry (`master`) or a device's own (`self`).
#[derive(Debug, Clone, PartialEq)]
struct FdbEntry {
    mac: [u8; 6],
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
    fn parse(msg: &Ndmsg) -> Option<FdbEntry> {
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

    fn is_master(&self) -> bool {
        self.flags & NTF_MASTER != 0
    }

    /// Bridge entries, and VXLAN devices' unicast entries (which carry the remote VTEP). Other
    /// `self` entries are devices' own address filters, and the all-zero MAC is VXLAN's flood list.
    fn is_reported(&self, links: &Links) -> bool {
        if self.mac == [0; 6] {
            return false;
        }
        self.is_master() || (links.is_kind(self.ifindex, "vxlan") && self.mac[0] & 1 == 0)
    }

    /// Whether `other` is the same kernel entry (a newer state of it).
    fn is_same_entry(&self, other: &FdbEntry) -> bool {
        self.ifindex == other.ifindex
            && self.vlan == other.vlan
            && self.is_master() == other.is_master()
    }
}

type MacKey = ([u8; 6], u16);

/// Merges entries by (MAC, VLAN): a bridge entry on a VXLAN port takes the remote VTEP from the
/// VXLAN device's own entry for that MAC, which then adds no row of its own.
fn merge_fdb<'a>(
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

fn mac_rows(merged: &BTreeMap<MacKey, FdbEntry>, links: &Links, clock: &Clock) -> Vec<Row> {
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

fn mac_key_row(key: &MacKey, time: i64) -> Row {
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

// ---------------------------------------------------------------------------------------------
// The monitor

/// The monitor thread's view of the kernel: what notifications alone do not carry (names and
/// VRFs of links, nexthop objects, the other FDB entries of a MAC), kept current by them.
#[derive(Debug, Default)]
struct Monitor {
    links: Links,
    vrf_tables: VrfTables,
    nexthops: Nexthops,
    /// FDB entries by MAC, the reported ones only.
    fdb: HashMap<[u8; 6], Vec<FdbEntry>>,
    /// VLANs rows were last produced for, to notice those that disappear.
    vlan_ids: BTreeSet<u16>,
}

impl Monitor {
    fn seed(&mut self) -> Result<()> {
        let mut rtnl = Rtnl::connect()?;
        let links = rtnl.links()?;
        self.nexthops = rtnl.nexthops();
        self.fdb.clear();
        for entry in rtnl.fdb(&links)? {
            self.fdb.entry(entry.mac).or_default().push(entry);
        }
        self.vlan_ids = vlans(&links).into_keys().collect();
        self.vrf_tables = VrfTables::new(&links);
        self.links = links;
        Ok(())
    }

    fn run(mut self, events: &NlSocketHandle, tx: &UnboundedSender<Vec<Row>>) {
        loop {
            let (rows, complete) = match events.recv::<u16, Buffer>() {
                Ok((messages, _)) => self.handle_all(messages, row::now_us()),
                Err(e) if is_interrupted(&e) => continue,
                Err(e) if is_enobufs(&e) => {
                    tracing::warn!(
                        "netlink monitor: notifications lost ({e}); asking for a resync"
                    );
                    if let Err(e) = self.seed() {
                        tracing::warn!("netlink monitor: cannot reread links, nexthops, FDB: {e}");
                    }
                    (Vec::new(), false)
                }
                Err(e) => {
                    tracing::warn!("netlink monitor stops: {e}");
                    return;
                }
            };
            if !rows.is_empty() && tx.send(rows).is_err() {
                return;
            }
            // An empty batch asks the agent for a full resync.
            if !complete && tx.send(Vec::new()).is_err() {
                return;
            }
        }
    }

    /// Rows for one datagram of notifications, and whether all of it could be read.
    fn handle_all(
        &mut self,
        messages: impl Iterator<Item = std::result::Result<Nlmsghdr<u16, Buffer>, SocketError>>,
        now: i64,
    ) -> (Vec<Row>, bool) {
        let mut rows = Vec::new();
        for message in messages {
            match message {
                Ok(message) => self.handle(&message, now, &mut rows),
                Err(e) => {
                    tracing::warn!("netlink monitor: unreadable notification: {e}");
                    return (rows, false);
                }
            }
        }
        (rows, true)
    }

    fn handle(&mut self, message: &Nlmsghdr<u16, Buffer>, now: i64, rows: &mut Vec<Row>) {
        let NlPayload::Payload(payload) = message.nl_payload() else {
            return;
        };
        let payload = payload.as_ref();
        let clock = Clock::for_notification(now);
        let kind = *message.nl_type();
        match kind {
            RTM_NEWLINK | RTM_DELLINK => {
                if let Some(msg) = parse::<Ifinfomsg>(payload) {
                    self.on_link(&msg, kind == RTM_NEWLINK, now, rows);
                }
            }
            RTM_NEWADDR | RTM_DELADDR => {
                let row = parse::<Ifaddrmsg>(payload)
                    .and_then(|msg| address_row(&msg, &self.links, &clock));
                rows.extend(row.map(|r| if kind == RTM_NEWADDR { r } else { gone(r) }));
            }
            RTM_NEWROUTE | RTM_DELROUTE => {
                let route =
                    parse::<Rtmsg>(payload).and_then(|msg| Route::parse(&msg, &self.nexthops));
                let row = route.map(|r| r.into_row(&self.links, &self.vrf_tables, now));
                rows.extend(row.map(|r| if kind == RTM_NEWROUTE { r } else { gone(r) }));
            }
            RTM_NEWNEIGH | RTM_DELNEIGH => {
                if let Some(msg) = parse::<Ndmsg>(payload) {
                    self.on_neighbor(&msg, kind == RTM_NEWNEIGH, &clock, rows);
                }
            }
            RTM_NEWNEXTHOP | RTM_DELNEXTHOP => {
                self.nexthops.apply(kind == RTM_NEWNEXTHOP, payload);
            }
            _ => {}
        }
    }

    fn on_link(&mut self, msg: &Ifinfomsg, present: bool, now: i64, rows: &mut Vec<Row>) {
        match u8::from(*msg.ifi_family()) {
            AF_UNSPEC => self.on_interface(msg, present, now, rows),
            AF_BRIDGE => self.on_bridge_port(msg, present, now, rows),
            _ => return,
        }
        self.vrf_tables = VrfTables::new(&self.links);
        self.push_vlans(now, rows);
    }

    fn on_interface(&mut self, msg: &Ifinfomsg, present: bool, now: i64, rows: &mut Vec<Row>) {
        let Some(link) = Link::parse(msg) else { return };
        let index = link.index;
        if !present {
            let known = self.links.by_index.remove(&index);
            self.links.bridge_vlans.remove(&index);
            last_flaps().remove(&index);
            let name = known.map_or(link.name, |k| k.name);
            rows.push(gone(Row::new(&interfaces::TABLE, now).set("ifname", name)));
            return;
        }
        let oper_up = link.is_oper_up();
        if let Some(previous) = self.links.by_index.insert(index, link) {
            if previous.is_oper_up() != oper_up {
                last_flaps().insert(index, now);
            }
            if self.links.name(index) != Some(previous.name.as_str()) {
                rows.push(gone(
                    Row::new(&interfaces::TABLE, now).set("ifname", previous.name),
                ));
            }
        }
        self.push_interface(index, now, rows);
    }

    /// An AF_BRIDGE RTM_NEWLINK carries a port's VLANs; an RTM_DELLINK says it left its bridge.
    fn on_bridge_port(&mut self, msg: &Ifinfomsg, present: bool, now: i64, rows: &mut Vec<Row>) {
        let Ok(index) = u32::try_from(*msg.ifi_index()) else {
            return;
        };
        match BridgeVlans::parse(msg).filter(|_| present) {
            Some((_, vlans)) => self.links.bridge_vlans.insert(index, vlans),
            None => self.links.bridge_vlans.remove(&index),
        };
        self.push_interface(index, now, rows);
    }

    fn push_interface(&self, index: u32, now: i64, rows: &mut Vec<Row>) {
        if let Some(link) = self.links.by_index.get(&index) {
            let last_flap = last_flaps().get(&index).copied();
            rows.push(interface_row(link, &self.links, now, last_flap));
        }
    }

    /// Every VLAN's row, and a deletion for each VLAN that is gone; unchanged rows are dropped
    /// by the agent's change tracking.
    fn push_vlans(&mut self, now: i64, rows: &mut Vec<Row>) {
        let current = vlans(&self.links);
        let ids: BTreeSet<u16> = current.keys().copied().collect();
        for vid in self.vlan_ids.difference(&ids) {
            rows.push(gone(
                Row::new(&vlan::TABLE, now).set("vlan", u32::from(*vid)),
            ));
        }
        self.vlan_ids = ids;
        rows.extend(vlan_rows(current, &self.links, now));
    }

    fn on_neighbor(&mut self, msg: &Ndmsg, present: bool, clock: &Clock, rows: &mut Vec<Row>) {
        if u8::from(*msg.ndm_family()) != AF_BRIDGE {
            rows.extend(neighbor_row(msg, &self.links, clock, present));
            return;
        }
        let Some(entry) = FdbEntry::parse(msg).filter(|e| e.is_reported(&self.links)) else {
            return;
        };
        let mac = entry.mac;
        let entries = self.fdb.entry(mac).or_default();
        let before = merge_fdb(entries.iter());
        entries.retain(|e| !e.is_same_entry(&entry));
        if present {
            entries.push(entry);
        }
        let after = merge_fdb(entries.iter());
        if entries.is_empty() {
            self.fdb.remove(&mac);
        }
        for key in before.keys().filter(|k| !after.contains_key(k)) {
            rows.push(gone(mac_key_row(key, clock.now)));
        }
        rows.extend(mac_rows(&after, &self.links, clock));
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Output};
    use std::time::{Duration, Instant};

    use neli::consts::nl::NlmF;

    use super::*;
    use crate::agent::row::Value;

    /// A netlink attribute: length, type, payload, padding.
    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = 4 + payload.len();
        let mut bytes = Vec::new();
        bytes.extend(u16::try_from(len).expect("small attribute").to_ne_bytes());
        bytes.extend(kind.to_ne_bytes());
        bytes.extend(payload);
        bytes.resize(align4(len), 0);
        bytes
    }

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

    fn links_named(names: &[(u32, &str)]) -> Links {
        let mut links = Links::default();
        for (index, name) in names {
            let link = Link {
                index: *index,
                name: (*name).into(),
                ..Link::default()
            };
            links.by_index.insert(*index, link);
        }
        links
    }

    fn text(value: Option<&Value>) -> String {
        match value {
            Some(Value::Str(s)) => s.clone(),
            Some(Value::U32(n)) => n.to_string(),
            Some(Value::Null) | None => String::new(),
            Some(other) => format!("{other:?}"),
        }
    }

    fn list(row: &Row, column: &str) -> Vec<String> {
        match row.get(column) {
            Some(Value::StrList(items)) => items.clone(),
            other => panic!("{column} is not a list: {other:?}"),
        }
    }

    /// The row of `table` whose key columns read `key`.
    fn find<'a>(rows: &'a [Row], table: &str, key: &[&str]) -> Option<&'a Row> {
        rows.iter().find(|r| {
            r.table.name == table
                && r.key().len() == key.len()
                && r.key().iter().zip(key).all(|(v, k)| text(Some(v)) == *k)
        })
    }

    fn row<'a>(rows: &'a [Row], table: &str, key: &[&str]) -> &'a Row {
        find(rows, table, key).unwrap_or_else(|| panic!("no {table} row {key:?}"))
    }

    #[test]
    fn vlan_ranges_join_consecutive_ids() {
        assert_eq!(vlan_ranges(&[10, 11, 12, 20, 30, 31]), "10-12,20,30-31");
        assert_eq!(vlan_ranges(&[5]), "5");
        assert_eq!(vlan_ranges(&[]), "");
        assert_eq!(vlan_ranges(&[4093, 4094]), "4093-4094");
    }

    #[test]
    fn nested_attributes_stop_at_a_malformed_one() {
        let mut bytes = attr(1, &[1, 2, 3]);
        bytes.extend(attr(2 | 0x8000, &[4; 4]));
        let read: Vec<_> = nested(&bytes).collect();
        assert_eq!(read, vec![(1, &[1u8, 2, 3][..]), (2, &[4u8; 4][..])]);
        // A length below the header, or beyond the buffer, ends the walk.
        assert_eq!(nested(&[2, 0, 1, 0]).count(), 0);
        assert_eq!(nested(&[200, 0, 1, 0, 9]).count(), 0);
        assert_eq!(nested(&[8, 0]).count(), 0);
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

    /// An RTM_NEWLINK payload: `struct ifinfomsg` (ARPHRD_ETHER) then `attrs`.
    fn ifinfomsg(family: u8, index: i32, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = vec![family, 0];
        bytes.extend(1u16.to_ne_bytes());
        bytes.extend(index.to_ne_bytes());
        bytes.extend((IFF_UP | IFF_LOWER_UP).to_ne_bytes());
        bytes.extend(0u32.to_ne_bytes());
        bytes.extend(attrs.concat());
        bytes
    }

    fn name_attr(name: &str) -> Vec<u8> {
        attr(IFLA_IFNAME, format!("{name}\0").as_bytes())
    }

    fn link_info(kind: &str, data_id: &[u8]) -> Vec<u8> {
        let info = [
            attr(IFLA_INFO_KIND, format!("{kind}\0").as_bytes()),
            attr(IFLA_INFO_DATA, &attr(IFLA_INFO_DATA_ID, data_id)),
        ];
        attr(IFLA_LINKINFO, &info.concat())
    }

    /// An AF_BRIDGE RTM_NEWLINK payload carrying `vids` (the first one the PVID).
    fn bridge_port(index: i32, vids: &[u16]) -> Vec<u8> {
        let infos: Vec<Vec<u8>> = vids
            .iter()
            .enumerate()
            .map(|(i, vid)| {
                let flags = if i == 0 { BRIDGE_VLAN_INFO_PVID } else { 0 };
                attr(
                    IFLA_BRIDGE_VLAN_INFO,
                    &[flags.to_ne_bytes(), vid.to_ne_bytes()].concat(),
                )
            })
            .collect();
        ifinfomsg(AF_BRIDGE, index, &[attr(IFLA_AF_SPEC, &infos.concat())])
    }

    fn notification(kind: u16, payload: Vec<u8>) -> Nlmsghdr<u16, Buffer> {
        NlmsghdrBuilder::default()
            .nl_type(kind)
            .nl_flags(NlmF::empty())
            .nl_payload(NlPayload::Payload(Buffer::from(payload)))
            .build()
            .expect("message")
    }

    /// VRFs, SVIs and bridge VLANs from kernel-format messages (this test machine's kernel has
    /// no VRF, 802.1Q or VLAN filtering to produce real ones).
    #[test]
    fn vrfs_svis_and_vlans_from_link_messages() {
        let master = |index: u32| attr(IFLA_MASTER, &index.to_ne_bytes());
        let links = [
            ifinfomsg(AF_UNSPEC, 2, &[name_attr("br0"), link_info("bridge", &[])]),
            ifinfomsg(
                AF_UNSPEC,
                3,
                &[name_attr("swp1"), link_info("veth", &[]), master(2)],
            ),
            ifinfomsg(
                AF_UNSPEC,
                4,
                &[
                    name_attr("vxlan100"),
                    link_info("vxlan", &100u32.to_ne_bytes()),
                    master(2),
                ],
            ),
            ifinfomsg(
                AF_UNSPEC,
                5,
                &[name_attr("vrf1"), link_info("vrf", &1001u32.to_ne_bytes())],
            ),
            ifinfomsg(
                AF_UNSPEC,
                6,
                &[
                    name_attr("vlan10"),
                    link_info("vlan", &10u16.to_ne_bytes()),
                    attr(IFLA_LINK, &2u32.to_ne_bytes()),
                    master(5),
                ],
            ),
            bridge_port(2, &[10]),
            bridge_port(3, &[10, 20, 21, 22, 30]),
            bridge_port(4, &[20]),
        ];
        let mut monitor = Monitor::default();
        let mut rows = Vec::new();
        for link in links {
            monitor.handle(&notification(RTM_NEWLINK, link), 1, &mut rows);
        }
        // The latest row of every object.
        let latest = |rows: &[Row]| -> Vec<Row> {
            let mut last = BTreeMap::new();
            for row in rows {
                last.insert((row.table.name, format!("{:?}", row.key())), row.clone());
            }
            last.into_values().collect()
        };
        let current = latest(&rows);
        let swp1 = row(&current, "interfaces", &["swp1"]);
        assert_eq!(text(swp1.get("vlans")), "10,20-22,30");
        assert_eq!(swp1.get("pvid"), Some(&Value::U32(10)));
        assert_eq!(text(swp1.get("type")), "swp");
        let svi = row(&current, "interfaces", &["vlan10"]);
        assert_eq!(text(svi.get("master")), "vrf1");
        assert_eq!(text(svi.get("vrf")), "vrf1");
        assert_eq!(
            text(row(&current, "interfaces", &["vrf1"]).get("vrf")),
            "vrf1"
        );
        let vlan10 = row(&current, "vlan", &["10"]);
        assert_eq!(list(vlan10, "ports"), ["swp1"]);
        assert_eq!(text(vlan10.get("svi")), "vlan10");
        assert_eq!(text(vlan10.get("vrf")), "vrf1");
        let vlan20 = row(&current, "vlan", &["20"]);
        assert_eq!(list(vlan20, "ports"), ["swp1", "vxlan100"]);
        assert_eq!(vlan20.get("vni"), Some(&Value::U32(100)));
        assert_eq!(vlan20.get("svi"), Some(&Value::Null));
        assert_eq!(monitor.vrf_tables.name(1001), "vrf1");
        assert_eq!(monitor.vrf_tables.name(254), "default");
        assert_eq!(monitor.vrf_tables.name(7), "table7");

        let mut changes = Vec::new();
        monitor.handle(
            &notification(RTM_NEWLINK, bridge_port(3, &[10, 20])),
            2,
            &mut changes,
        );
        let swp1 = row(&changes, "interfaces", &["swp1"]);
        assert_eq!(text(swp1.get("vlans")), "10,20");
        for gone in ["21", "22", "30"] {
            assert!(
                !row(&changes, "vlan", &[gone]).active,
                "vlan {gone} is gone"
            );
        }
        let mut changes = Vec::new();
        monitor.handle(
            &notification(RTM_DELLINK, bridge_port(4, &[])),
            3,
            &mut changes,
        );
        assert_eq!(list(row(&changes, "vlan", &["20"]), "ports"), ["swp1"]);
        assert_eq!(
            row(&changes, "vlan", &["20"]).get("vni"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn names_of_states_protocols_and_types() {
        assert_eq!(neighbor_state(NUD_REACHABLE), "reachable");
        assert_eq!(neighbor_state(NUD_STALE), "stale");
        assert_eq!(neighbor_state(0), "none");
        assert_eq!(protocol_name(186), "bgp");
        assert_eq!(protocol_name(77), "77");
        assert_eq!(scope_name(253), "link");
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

    /// Deterministic pseudo-random bytes (xorshift64).
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> usize {
            usize::try_from(self.next() % n).unwrap_or_default()
        }

        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
        }

        /// Attributes of plausible types with random payloads, some with broken lengths, some
        /// holding nested attributes.
        fn attributes(&mut self, depth: u32) -> Vec<u8> {
            let mut bytes = Vec::new();
            for _ in 0..self.below(8) {
                let kind = u16::try_from(self.below(32)).unwrap_or_default();
                let payload = if depth > 0 && self.below(3) == 0 {
                    self.attributes(depth - 1)
                } else {
                    let len = self.below(24);
                    self.bytes(len)
                };
                let mut one = attr(kind, &payload);
                if self.below(10) == 0 {
                    one[0] = self.bytes(1)[0];
                }
                bytes.extend(one);
            }
            bytes
        }
    }

    #[test]
    fn random_input_never_panics() {
        let mut noise = Noise(0x2545_f491_4f6c_dd1d);
        let mut monitor = Monitor {
            links: links_named(&[(1, "lo"), (2, "eth0"), (3, "br0")]),
            ..Monitor::default()
        };
        let headers = [
            (RTM_NEWLINK, 16),
            (RTM_DELLINK, 16),
            (RTM_NEWADDR, 8),
            (RTM_DELADDR, 8),
            (RTM_NEWROUTE, 12),
            (RTM_DELROUTE, 12),
            (RTM_NEWNEIGH, 12),
            (RTM_DELNEIGH, 12),
            (RTM_NEWNEXTHOP, NHMSG_LEN),
            (RTM_DELNEXTHOP, NHMSG_LEN),
        ];
        for round in 0..20_000 {
            let (kind, header_len) = headers[round % headers.len()];
            let mut payload = noise.bytes(header_len);
            payload[0] = [AF_UNSPEC, AF_INET, AF_BRIDGE, AF_INET6][noise.below(4)];
            // Small indexes, so that links, routes and entries refer to each other.
            if header_len >= 8 {
                payload[4..8].copy_from_slice(&(noise.next() % 5).to_ne_bytes()[..4]);
            }
            payload.extend(noise.attributes(2));
            if noise.below(8) == 0 {
                payload.truncate(noise.below(payload.len() as u64 + 1));
            }
            for_each_hop(&payload, &mut |_, _, _| {});
            let _ = BridgeVlans::from_af_spec(&payload);
            let _ = parse_nexthop(&payload);
            let _ = via_of(&payload);
            let message = NlmsghdrBuilder::default()
                .nl_type(kind)
                .nl_flags(NlmF::empty())
                .nl_payload(NlPayload::Payload(Buffer::from(payload)))
                .build()
                .expect("message");
            let mut rows = Vec::new();
            monitor.handle(&message, 1, &mut rows);
        }
        last_flaps().clear();
    }

    /// Runs `ip` with `args`; `None` when `ip` is missing.
    fn ip_json(args: &[&str]) -> Option<Vec<serde_json::Value>> {
        let output = Command::new("ip").args(args).output().ok()?;
        assert!(output.status.success(), "ip {args:?}: {output:?}");
        Some(serde_json::from_slice(&output.stdout).expect("ip -j prints JSON"))
    }

    /// `ip -j route`'s `dst` as a prefix: `default` is the zero prefix, a bare address a host.
    fn ip_route_prefix(dst: &str, ipv6: bool) -> String {
        match (dst, ipv6) {
            ("default", false) => "0.0.0.0/0".into(),
            ("default", true) => "::/0".into(),
            (prefix, _) if prefix.contains('/') => prefix.into(),
            (host, false) => format!("{host}/32"),
            (host, true) => format!("{host}/128"),
        }
    }

    #[test]
    fn dump_lists_loopback_and_the_main_table() {
        let now = row::now_us();
        let rows = dump(now).expect("dump");
        let lo = row(&rows, "interfaces", &["lo"]);
        assert_eq!(text(lo.get("type")), "loopback");
        assert_eq!(text(lo.get("vrf")), "default");
        let address = row(&rows, "addresses", &["lo", "127.0.0.1/8"]);
        assert_eq!(text(address.get("family")), "ipv4");
        assert_eq!(text(address.get("scope")), "host");
        assert!(address.time <= now && address.time > 0);
        let (Some(v4), Some(v6)) = (
            ip_json(&["-j", "route", "show", "table", "main"]),
            ip_json(&["-6", "-j", "route", "show", "table", "main"]),
        ) else {
            eprintln!("no `ip` command: main table not compared");
            return;
        };
        let expected: BTreeSet<String> = [(v4, false), (v6, true)]
            .into_iter()
            .flat_map(|(routes, ipv6)| {
                routes.into_iter().filter_map(move |route| {
                    Some(ip_route_prefix(route.get("dst")?.as_str()?, ipv6))
                })
            })
            .collect();
        let dumped: BTreeSet<String> = rows
            .iter()
            .filter(|r| r.table.name == "routes" && text(r.get("vrf")) == "default")
            .map(|r| text(r.get("prefix")))
            .collect();
        assert_eq!(dumped, expected);
        for route in rows.iter().filter(|r| r.table.name == "routes") {
            let paths = list(route, "oifs").len();
            assert_eq!(list(route, "nexthop_ips").len(), paths);
            assert_eq!(list(route, "weights").len(), paths);
        }
    }

    /// A network namespace of its own for a test, deleted when dropped.
    struct ScratchNamespace(String);

    impl ScratchNamespace {
        /// `None` (the test is skipped) unless `ip netns add` works, which needs root.
        fn create(tag: &str) -> Option<ScratchNamespace> {
            let name = format!("sonde-{tag}-{}", std::process::id());
            let added = Command::new("ip").args(["netns", "add", &name]).output();
            match added {
                Ok(output) if output.status.success() => Some(ScratchNamespace(name)),
                other => {
                    eprintln!("cannot create a network namespace ({other:?}): skipped");
                    None
                }
            }
        }

        fn exec(&self, program: &str) -> Command {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", &self.0, program]);
            command
        }

        fn script(&self, script: &str) {
            let output = self.exec("sh").args(["-ec", script]).output().expect("sh");
            assert!(output.status.success(), "{script}\n{output:?}");
        }

        /// Whether `script` ran to its end.
        fn try_script(&self, script: &str) -> bool {
            let output = self.exec("sh").args(["-ec", script]).output().expect("sh");
            output.status.success()
        }

        /// Runs another (ignored) test of this module inside the namespace, with `SONDE_NETLINK_NS`
        /// set so that it knows it is there.
        fn run_test(&self, test: &str, env: &[(&str, &str)]) -> Output {
            let exe = std::env::current_exe().expect("test binary");
            let exe = exe.to_str().expect("utf-8 path");
            self.exec(exe)
                .args([
                    &format!("agent::netlink::tests::{test}"),
                    "--exact",
                    "--ignored",
                ])
                .args(["--nocapture", "--test-threads=1"])
                .env("SONDE_NETLINK_NS", &self.0)
                .envs(env.iter().copied())
                .output()
                .expect("test binary runs")
        }
    }

    impl Drop for ScratchNamespace {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
        }
    }

    fn in_scratch_namespace() -> bool {
        std::env::var_os("SONDE_NETLINK_NS").is_some()
    }

    fn assert_inner_test(output: &Output) {
        println!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "inner test failed");
    }

    /// What any kernel that runs FRR has: veths, a bridge, a VXLAN device, nexthop objects.
    const SCENARIO: &str = "
        ip link set lo up
        sysctl -qw net.ipv4.nexthop_compat_mode=0
        ip link add br0 type bridge
        ip link add veth0 type veth peer name veth1
        ip link add swp1 type veth peer name swp1peer
        ip link add up0 type veth peer name up0peer
        ip link add vxlan100 type vxlan id 100 local 10.1.0.1 dstport 4789 nolearning
        ip link set veth0 master br0
        ip link set swp1 master br0
        ip link set vxlan100 master br0
        for dev in br0 veth0 veth1 swp1 swp1peer up0 up0peer vxlan100; do
            ip link set $dev up
        done
        ip link set up0 alias 'uplink to nowhere'
        ip addr add 10.1.0.1/24 dev up0
        ip addr add 10.3.0.1/24 dev veth1
        ip addr add 2001:db8:1::1/64 dev up0 nodad
        ip route add 10.9.0.0/24 proto static \\
            nexthop via 10.1.0.2 dev up0 weight 1 nexthop via 10.3.0.2 dev veth1 weight 3
        ip nexthop add id 1 via 10.1.0.3 dev up0
        ip nexthop add id 2 via 10.3.0.3 dev veth1
        ip nexthop add id 10 group 1/2,3
        ip route add 10.8.0.0/24 nhid 10 proto bgp metric 20
        ip route add 10.7.0.0/24 via 10.3.0.2 dev veth1 table 1001
        ip -6 route add 2001:db8:9::/64 via 2001:db8:1::2 dev up0
        ip neigh add 10.3.0.2 lladdr 02:00:00:00:00:03 dev veth1 nud permanent
        ip neigh add 10.3.0.9 lladdr 02:00:00:00:00:09 dev veth1 extern_learn
        bridge fdb add 02:00:00:00:00:10 dev veth0 master static
        bridge fdb add 02:00:00:00:00:20 dev vxlan100 master static
        bridge fdb add 02:00:00:00:00:20 dev vxlan100 self dst 10.1.0.7 static
    ";

    /// VLAN-aware bridging, a VRF on table 1001 and an SVI in it, on top of [`SCENARIO`], for
    /// kernels built with CONFIG_BRIDGE_VLAN_FILTERING, CONFIG_NET_VRF and CONFIG_VLAN_8021Q. The
    /// probes come first so that a kernel without them is left untouched.
    const VLAN_SCENARIO: &str = "
        ip link add probe-vrf type vrf table 9
        ip link del probe-vrf
        ip link add probe-br type bridge vlan_filtering 1
        ip link add link probe-br name probe-vlan type vlan id 5
        ip link del probe-br
        ip link set br0 type bridge vlan_filtering 1
        ip link add vrf1 type vrf table 1001
        ip link add link br0 name vlan10 type vlan id 10
        ip link set vlan10 master vrf1
        ip link set vrf1 up
        ip link set vlan10 up
        bridge vlan add vid 10-20 dev veth0
        bridge vlan add vid 30 dev veth0 pvid untagged
        bridge vlan add vid 10 dev swp1
        bridge vlan add vid 10 dev br0 self
        bridge vlan add vid 20 dev vxlan100 pvid untagged
        ip addr add 10.2.0.1/24 dev vlan10
        bridge fdb add 02:00:00:00:00:11 dev veth0 master static vlan 10
    ";

    /// Set in the inner test when [`VLAN_SCENARIO`] could be set up.
    const VLANS_ENV: &str = "SONDE_NETLINK_VLANS";

    fn with_vlans() -> bool {
        std::env::var_os(VLANS_ENV).is_some()
    }

    /// Builds links, ECMP and nexthop-group routes, neighbours and FDB entries (and, when the
    /// kernel can, bridge VLANs, a VRF and an SVI) in a scratch namespace, and checks the dump and
    /// the monitor there. Needs root:
    /// `cargo test -p sonde-ingest --lib netlink -- --ignored scratch_namespace`.
    #[test]
    #[ignore = "needs root: creates a network namespace"]
    fn scratch_namespace() {
        if in_scratch_namespace() {
            return;
        }
        let Some(namespace) = ScratchNamespace::create("nl") else {
            return;
        };
        namespace.script(SCENARIO);
        let vlans = namespace.try_script(VLAN_SCENARIO);
        if !vlans {
            eprintln!("this kernel lacks VLAN filtering, VRFs or VLAN devices: not checked");
        }
        let env: &[(&str, &str)] = if vlans { &[(VLANS_ENV, "1")] } else { &[] };
        assert_inner_test(&namespace.run_test("inside_scratch_namespace", env));
    }

    #[test]
    #[ignore = "run by scratch_namespace"]
    fn inside_scratch_namespace() {
        if !in_scratch_namespace() {
            return;
        }
        let rows = dump(row::now_us()).expect("dump");
        for row in &rows {
            println!("{} {:?} {:?}", row.table.name, row.values, row.time);
        }
        check_dumped_interfaces(&rows);
        check_dumped_addresses_and_neighbors(&rows);
        check_dumped_routes(&rows);
        check_dumped_bridge(&rows);
        if with_vlans() {
            check_dumped_vlans(&rows);
        }
        check_monitor();
    }

    fn check_dumped_interfaces(rows: &[Row]) {
        let veth0 = row(rows, "interfaces", &["veth0"]);
        assert_eq!(text(veth0.get("type")), "veth");
        assert_eq!(text(veth0.get("master")), "br0");
        assert_eq!(text(veth0.get("vrf")), "default");
        assert_eq!(veth0.get("speed"), Some(&Value::U64(10_000)));
        assert_eq!(text(veth0.get("state")), "up");
        assert_eq!(text(veth0.get("admin_state")), "up");
        assert!(matches!(veth0.get("ifindex"), Some(Value::U32(_))));
        assert_eq!(veth0.get("mtu"), Some(&Value::U32(1500)));
        assert_eq!(text(veth0.get("mac")).len(), 17);
        let up0 = row(rows, "interfaces", &["up0"]);
        assert_eq!(text(up0.get("description")), "uplink to nowhere");
        assert_eq!(up0.get("last_flap"), Some(&Value::Null));
        assert_eq!(text(row(rows, "interfaces", &["swp1"]).get("type")), "swp");
        assert_eq!(
            text(row(rows, "interfaces", &["br0"]).get("type")),
            "bridge"
        );
        assert_eq!(
            text(row(rows, "interfaces", &["vxlan100"]).get("type")),
            "vxlan"
        );
        let lo = row(rows, "interfaces", &["lo"]);
        assert_eq!(text(lo.get("state")), "up");
        assert_eq!(lo.get("speed"), Some(&Value::Null));
        if !with_vlans() {
            assert_eq!(veth0.get("vlans"), Some(&Value::Null));
            assert_eq!(veth0.get("pvid"), Some(&Value::Null));
        }
    }

    fn check_dumped_addresses_and_neighbors(rows: &[Row]) {
        let v4 = row(rows, "addresses", &["veth1", "10.3.0.1/24"]);
        assert_eq!(text(v4.get("vrf")), "default");
        assert_eq!(text(v4.get("scope")), "global");
        let v6 = row(rows, "addresses", &["up0", "2001:db8:1::1/64"]);
        assert_eq!(text(v6.get("family")), "ipv6");
        assert!(find(rows, "addresses", &["lo", "::1/128"]).is_some());
        let neighbor = row(rows, "neighbors", &["veth1", "10.3.0.2"]);
        assert_eq!(text(neighbor.get("mac")), "02:00:00:00:00:03");
        assert_eq!(text(neighbor.get("state")), "permanent");
        assert_eq!(text(neighbor.get("family")), "ipv4");
        assert_eq!(neighbor.get("is_remote"), Some(&Value::Bool(false)));
        let remote = row(rows, "neighbors", &["veth1", "10.3.0.9"]);
        assert_eq!(remote.get("is_remote"), Some(&Value::Bool(true)));
        let multicast = rows
            .iter()
            .any(|r| r.table.name == "neighbors" && text(r.get("ip")).starts_with("ff02:"));
        assert!(!multicast, "multicast mappings are not neighbours");
    }

    fn check_dumped_routes(rows: &[Row]) {
        let ecmp = row(rows, "routes", &["default", "10.9.0.0/24"]);
        assert_eq!(list(ecmp, "nexthop_ips"), ["10.1.0.2", "10.3.0.2"]);
        assert_eq!(list(ecmp, "oifs"), ["up0", "veth1"]);
        assert_eq!(list(ecmp, "weights"), ["1", "3"]);
        assert_eq!(text(ecmp.get("protocol")), "static");
        assert_eq!(ecmp.get("table_id"), Some(&Value::U32(254)));
        let group = row(rows, "routes", &["default", "10.8.0.0/24"]);
        assert_eq!(list(group, "nexthop_ips"), ["10.1.0.3", "10.3.0.3"]);
        assert_eq!(list(group, "oifs"), ["up0", "veth1"]);
        assert_eq!(list(group, "weights"), ["1", "3"]);
        assert_eq!(text(group.get("protocol")), "bgp");
        assert_eq!(group.get("metric"), Some(&Value::U32(20)));
        let vrf = if with_vlans() { "vrf1" } else { "table1001" };
        let other_table = row(rows, "routes", &[vrf, "10.7.0.0/24"]);
        assert_eq!(other_table.get("table_id"), Some(&Value::U32(1001)));
        assert_eq!(list(other_table, "oifs"), ["veth1"]);
        let connected = row(rows, "routes", &["default", "10.1.0.0/24"]);
        assert_eq!(list(connected, "nexthop_ips"), [""]);
        assert_eq!(list(connected, "oifs"), ["up0"]);
        assert_eq!(text(connected.get("source")), "10.1.0.1");
        assert_eq!(text(connected.get("protocol")), "kernel");
        let v6 = row(rows, "routes", &["default", "2001:db8:9::/64"]);
        assert_eq!(list(v6, "nexthop_ips"), ["2001:db8:1::2"]);
        assert_eq!(text(v6.get("family")), "ipv6");
        assert_eq!(v6.get("metric"), Some(&Value::U32(1024)));
        let local = rows
            .iter()
            .any(|r| r.table.name == "routes" && text(r.get("prefix")) == "10.1.0.1/32");
        assert!(!local, "local table routes are left out");
    }

    fn check_dumped_bridge(rows: &[Row]) {
        let mac = row(rows, "macs", &["02:00:00:00:00:10", "0"]);
        assert_eq!(text(mac.get("ifname")), "veth0");
        assert_eq!(text(mac.get("flags")), "master");
        assert_eq!(mac.get("is_static"), Some(&Value::Bool(true)));
        let remote = row(rows, "macs", &["02:00:00:00:00:20", "0"]);
        assert_eq!(text(remote.get("ifname")), "vxlan100");
        assert_eq!(text(remote.get("remote_vtep")), "10.1.0.7");
        assert_eq!(text(remote.get("flags")), "self,master");
        let own_filters = rows.iter().any(|r| {
            r.table.name == "macs" && ["33:33", "01:00"].contains(&&text(r.get("mac"))[..5])
        });
        assert!(
            !own_filters,
            "devices' own address filters are not FDB entries"
        );
        if !with_vlans() {
            assert!(!rows.iter().any(|r| r.table.name == "vlan"));
        }
    }

    fn check_dumped_vlans(rows: &[Row]) {
        let veth0 = row(rows, "interfaces", &["veth0"]);
        assert_eq!(text(veth0.get("vlans")), "1,10-20,30");
        assert_eq!(veth0.get("pvid"), Some(&Value::U32(30)));
        let swp1 = row(rows, "interfaces", &["swp1"]);
        assert_eq!(text(swp1.get("vlans")), "1,10");
        assert_eq!(swp1.get("pvid"), Some(&Value::U32(1)));
        let vlan10 = row(rows, "interfaces", &["vlan10"]);
        assert_eq!(text(vlan10.get("type")), "vlan");
        assert_eq!(text(vlan10.get("master")), "vrf1");
        assert_eq!(text(vlan10.get("vrf")), "vrf1");
        assert_eq!(text(row(rows, "interfaces", &["vrf1"]).get("type")), "vrf");
        let svi = row(rows, "addresses", &["vlan10", "10.2.0.1/24"]);
        assert_eq!(text(svi.get("vrf")), "vrf1");
        assert!(
            find(rows, "routes", &["vrf1", "10.2.0.1/32"]).is_none(),
            "local route"
        );
        assert_eq!(
            text(row(rows, "macs", &["02:00:00:00:00:11", "10"]).get("ifname")),
            "veth0"
        );
        let vlan10 = row(rows, "vlan", &["10"]);
        assert_eq!(list(vlan10, "ports"), ["swp1", "veth0"]);
        assert_eq!(text(vlan10.get("svi")), "vlan10");
        assert_eq!(text(vlan10.get("vrf")), "vrf1");
        let vlan20 = row(rows, "vlan", &["20"]);
        assert_eq!(list(vlan20, "ports"), ["veth0", "vxlan100"]);
        assert_eq!(vlan20.get("vni"), Some(&Value::U32(100)));
        assert_eq!(list(row(rows, "vlan", &["30"]), "ports"), ["veth0"]);
    }

    /// What the monitor must send after `command`: a row of `table` with `key`, whose `check`
    /// holds.
    struct Expected {
        command: &'static str,
        table: &'static str,
        key: &'static [&'static str],
        check: fn(&Row) -> bool,
        needs_vlans: bool,
    }

    const MONITORED: &[Expected] = &[
        Expected {
            command: "ip link set swp1peer down",
            table: "interfaces",
            key: &["swp1"],
            check: |r| {
                text(r.get("state")) == "down"
                    && text(r.get("admin_state")) == "up"
                    && matches!(r.get("last_flap"), Some(Value::Time(_)))
            },
            needs_vlans: false,
        },
        Expected {
            command: "ip addr add 10.3.0.5/32 dev veth1",
            table: "addresses",
            key: &["veth1", "10.3.0.5/32"],
            check: |r| r.active,
            needs_vlans: false,
        },
        Expected {
            command: "ip nexthop replace id 2 via 10.3.0.4 dev veth1; \
                      ip route add 10.6.0.0/24 nhid 10",
            table: "routes",
            key: &["default", "10.6.0.0/24"],
            check: |r| r.active && list(r, "nexthop_ips") == ["10.1.0.3", "10.3.0.4"],
            needs_vlans: false,
        },
        Expected {
            command: "ip route del 10.6.0.0/24",
            table: "routes",
            key: &["default", "10.6.0.0/24"],
            check: |r| !r.active,
            needs_vlans: false,
        },
        Expected {
            command: "bridge fdb add 02:00:00:00:00:40 dev vxlan100 master static; \
                      bridge fdb add 02:00:00:00:00:40 dev vxlan100 self dst 10.1.0.8 static",
            table: "macs",
            key: &["02:00:00:00:00:40", "0"],
            check: |r| r.active && text(r.get("remote_vtep")) == "10.1.0.8",
            needs_vlans: false,
        },
        Expected {
            command: "bridge fdb del 02:00:00:00:00:40 dev vxlan100 master; \
                      bridge fdb del 02:00:00:00:00:40 dev vxlan100 self",
            table: "macs",
            key: &["02:00:00:00:00:40", "0"],
            check: |r| !r.active,
            needs_vlans: false,
        },
        Expected {
            command: "ip neigh add 10.3.0.6 lladdr 02:00:00:00:00:06 dev veth1 nud permanent",
            table: "neighbors",
            key: &["veth1", "10.3.0.6"],
            check: |r| r.active && text(r.get("mac")) == "02:00:00:00:00:06",
            needs_vlans: false,
        },
        Expected {
            command: "ip neigh del 10.3.0.6 dev veth1",
            table: "neighbors",
            key: &["veth1", "10.3.0.6"],
            check: |r| !r.active,
            needs_vlans: false,
        },
        Expected {
            command: "ip link add tmp9 type veth peer name tmp9peer; ip link del tmp9",
            table: "interfaces",
            key: &["tmp9"],
            check: |r| !r.active,
            needs_vlans: false,
        },
        Expected {
            command: "bridge vlan add vid 40 dev swp1",
            table: "vlan",
            key: &["40"],
            check: |r| r.active && list(r, "ports") == ["swp1"],
            needs_vlans: true,
        },
        Expected {
            command: "bridge vlan del vid 30 dev veth0",
            table: "vlan",
            key: &["30"],
            check: |r| !r.active,
            needs_vlans: true,
        },
    ];

    fn check_monitor() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _thread = spawn_monitor(tx).expect("monitor");
        for expected in MONITORED.iter().filter(|e| with_vlans() || !e.needs_vlans) {
            let status = Command::new("sh")
                .args(["-ec", expected.command])
                .status()
                .expect("sh");
            assert!(status.success(), "{}", expected.command);
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut seen = Vec::new();
            loop {
                while let Ok(rows) = rx.try_recv() {
                    assert!(!rows.is_empty(), "no notification is lost here");
                    seen.extend(rows);
                }
                let found = seen.iter().any(|r| {
                    r.table.name == expected.table
                        && r.key()
                            .iter()
                            .zip(expected.key)
                            .all(|(v, k)| text(Some(v)) == *k)
                        && (expected.check)(r)
                });
                if found {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "after `{}`: no matching {} row {:?} in {seen:#?}",
                    expected.command,
                    expected.table,
                    expected.key
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Process CPU time (user + system, in clock ticks) and peak RSS (kB), from /proc.
    fn cpu_ticks_and_peak_rss() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let peak = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_default();
        (ticks, peak)
    }

    const BENCH_ROUTES: u32 = 100_000;

    /// A scratch namespace with two uplinks, d0 and d1, for [`BENCH_ROUTES`] ECMP routes.
    fn bench_namespace() -> Option<ScratchNamespace> {
        let namespace = ScratchNamespace::create("nlbench")?;
        namespace.script(
            "ip link set lo up
             ip link add d0 type veth peer name d0peer
             ip link add d1 type veth peer name d1peer
             for dev in d0 d0peer d1 d1peer; do ip link set $dev up; done
             ip addr add 10.255.0.1/24 dev d0; ip addr add 10.255.1.1/24 dev d1",
        );
        Some(namespace)
    }

    /// Writes an `ip -batch` file adding [`BENCH_ROUTES`] /24s from 20.0.0.0, each through
    /// both uplinks.
    fn write_route_batch(dir: &std::path::Path) -> String {
        let mut batch = String::new();
        for i in 0..BENCH_ROUTES {
            let [a, b, c, _] = (0x1400_0000 + (i << 8)).to_be_bytes();
            let _ = writeln!(
                batch,
                "route add {a}.{b}.{c}.0/24 \
                 nexthop via 10.255.0.2 dev d0 nexthop via 10.255.1.2 dev d1"
            );
        }
        let file = dir.join("routes.batch");
        std::fs::write(&file, batch).expect("batch file");
        file.to_str().expect("utf-8 path").to_owned()
    }

    /// Dumps 100k routes with two ECMP next hops each in a scratch namespace and prints the
    /// time and memory it takes. Needs root; run with `--release`.
    #[test]
    #[ignore = "needs root: creates a network namespace"]
    fn dump_100k_routes() {
        if in_scratch_namespace() {
            return;
        }
        let Some(namespace) = bench_namespace() else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        namespace.script(&format!("ip -batch {}", write_route_batch(dir.path())));
        assert_inner_test(&namespace.run_test("inside_100k_routes", &[]));
    }

    /// Adds 100k routes in one burst while the monitor runs: either every route reaches the
    /// channel, or the monitor asks for a resync with an empty batch. Needs root.
    #[test]
    #[ignore = "needs root: creates a network namespace"]
    fn monitor_under_a_burst() {
        if in_scratch_namespace() {
            return;
        }
        let Some(namespace) = bench_namespace() else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let batch = write_route_batch(dir.path());
        let env = [("SONDE_NETLINK_BATCH", batch.as_str())];
        assert_inner_test(&namespace.run_test("inside_monitor_under_a_burst", &env));
        let env = [("SONDE_NETLINK_OVERFLOW", "1")];
        assert_inner_test(&namespace.run_test("inside_monitor_after_an_overflow", &env));
    }

    /// Overflows a subscribed socket that nobody reads, then starts the monitor on it: its first
    /// batch must be the empty one that asks for a resync.
    #[test]
    #[ignore = "run by monitor_under_a_burst"]
    fn inside_monitor_after_an_overflow() {
        if std::env::var_os("SONDE_NETLINK_OVERFLOW").is_none() {
            return;
        }
        let events = subscribe().expect("subscription");
        events.set_recv_buffer_size(4096).expect("small buffer");
        let mut monitor = Monitor::default();
        monitor.seed().expect("seed");
        let mut batch = String::new();
        for i in 0..2000u32 {
            let [_, _, b, c] = i.to_be_bytes();
            let _ = writeln!(batch, "route add 30.{b}.{c}.0/24 via 10.255.0.2 dev d0");
        }
        let mut ip = Command::new("ip")
            .args(["-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("ip");
        std::io::Write::write_all(&mut ip.stdin.take().expect("stdin"), batch.as_bytes())
            .expect("batch");
        assert!(ip.wait().expect("ip").success());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _thread = std::thread::spawn(move || monitor.run(&events, &tx));
        let first = rx.blocking_recv().expect("a batch");
        assert!(
            first.is_empty(),
            "the first batch asks for a resync: {first:?}"
        );
        println!("overflow: the monitor asked for a resync");
    }

    #[test]
    #[ignore = "run by monitor_under_a_burst"]
    fn inside_monitor_under_a_burst() {
        let Some(batch) = std::env::var_os("SONDE_NETLINK_BATCH") else {
            return;
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _thread = spawn_monitor(tx).expect("monitor");
        let started = Instant::now();
        let status = Command::new("ip")
            .arg("-batch")
            .arg(batch)
            .status()
            .expect("ip");
        assert!(status.success());
        let added = started.elapsed();
        let (mut routes, mut resyncs) = (0, 0);
        let deadline = Instant::now() + Duration::from_secs(60);
        while routes < BENCH_ROUTES as usize && resyncs == 0 && Instant::now() < deadline {
            match rx.try_recv() {
                Ok(rows) if rows.is_empty() => resyncs += 1,
                Ok(rows) => routes += rows.iter().filter(|r| r.table.name == "routes").count(),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        println!(
            "burst: {BENCH_ROUTES} routes added in {added:?}; the monitor sent {routes} route \
             rows and {resyncs} resync requests in {:?}",
            started.elapsed()
        );
        assert!(routes >= BENCH_ROUTES as usize || resyncs > 0);
    }

    #[test]
    #[ignore = "run by dump_100k_routes"]
    fn inside_100k_routes() {
        if !in_scratch_namespace() {
            return;
        }
        for attempt in 1..=3 {
            let (ticks_before, _) = cpu_ticks_and_peak_rss();
            let started = Instant::now();
            let rows = dump(row::now_us()).expect("dump");
            let wall = started.elapsed();
            let (ticks_after, peak_kb) = cpu_ticks_and_peak_rss();
            let routes = rows.iter().filter(|r| r.table.name == "routes").count();
            assert!(routes >= BENCH_ROUTES as usize);
            let ecmp = row(&rows, "routes", &["default", "20.0.1.0/24"]);
            assert_eq!(list(ecmp, "oifs"), ["d0", "d1"]);
            println!(
                "dump #{attempt}: {} rows ({routes} routes) in {wall:?} wall, {} ms CPU, peak RSS {} MB",
                rows.len(),
                (ticks_after - ticks_before) * 10,
                peak_kb / 1024
            );
        }
    }
}
