//! The monitor: a socket subscribed to the rtnetlink groups, and the thread that turns every
//! notification into rows, keeping what notifications alone do not carry.

use std::collections::{BTreeSet, HashMap};
use std::thread::JoinHandle;

use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::rtnl::{Ifaddrmsg, Ifinfomsg, Ndmsg, Rtmsg};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;
use sonde_schema::families::{interfaces, vlan};
use sonde_schema::row::{self, Row};
use tokio::sync::mpsc::UnboundedSender;

use super::addresses::address_row;
use super::attributes::{AF_BRIDGE, AF_UNSPEC};
use super::clock::Clock;
use super::fdb::{FdbEntry, mac_key_row, mac_rows, merge_fdb};
use super::gone;
use super::links::{Link, LinkCollector, Links};
use super::neighbors::neighbor_row;
use super::routes::{Nexthops, Route, VrfTables};
use super::socket::{
    RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELNEXTHOP, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK,
    RTM_NEWNEIGH, RTM_NEWNEXTHOP, RTM_NEWROUTE, Rtnl, is_interrupted, netlink_error, parse,
};
use super::vlans::{BridgeVlans, vlan_rows, vlans};
use crate::error::{Error, Result};

// linux/rtnetlink.h, errno.h.
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_NEIGH: u32 = 3;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
const RTNLGRP_NEXTHOP: u32 = 32;

const ENOBUFS: i32 = 105;
/// Asked for the monitor's receive buffer; the kernel caps it at `net.core.rmem_max`.
const MONITOR_RECEIVE_BUFFER: usize = 8 << 20;

/// Starts the monitor thread on a fresh subscription; its interface rows come from
/// `link_collector`, which records the flaps it sees.
pub(super) fn spawn(
    link_collector: LinkCollector,
    tx: UnboundedSender<Vec<Row>>,
) -> Result<JoinHandle<()>> {
    let events = subscribe()?;
    // Seeded after subscribing, so that no change falls between the seed and the first event.
    let mut monitor = Monitor {
        link_collector,
        ..Monitor::default()
    };
    monitor.seed()?;
    std::thread::Builder::new()
        .name("sonde-netlink".into())
        .spawn(move || monitor.run(&events, &tx))
        .map_err(|e| Error::Netlink(format!("cannot start the monitor thread: {e}")))
}

/// A socket subscribed to the groups the monitor follows.
pub(super) fn subscribe() -> Result<NlSocketHandle> {
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

/// Notifications were dropped: the socket's receive buffer overflowed.
fn is_enobufs(e: &SocketError) -> bool {
    matches!(e, SocketError::Io(io) if io.raw_os_error() == Some(ENOBUFS))
}

/// The monitor thread's view of the kernel: what notifications alone do not carry (names and
/// VRFs of links, nexthop objects, the other FDB entries of a MAC), kept current by them.
#[derive(Debug, Default)]
pub(super) struct Monitor {
    links: Links,
    vrf_tables: VrfTables,
    nexthops: Nexthops,
    /// FDB entries by MAC, the reported ones only.
    fdb: HashMap<[u8; 6], Vec<FdbEntry>>,
    /// VLANs rows were last produced for, to notice those that disappear.
    vlan_ids: BTreeSet<u16>,
    /// Builds the interface rows and records the flaps seen here.
    link_collector: LinkCollector,
}

impl Monitor {
    /// Reads links, nexthop objects and the FDB afresh: at start and after lost notifications.
    pub(super) fn seed(&mut self) -> Result<()> {
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

    /// Turns the notifications of `events` into rows on `tx`, until either fails.
    pub(super) fn run(mut self, events: &NlSocketHandle, tx: &UnboundedSender<Vec<Row>>) {
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
            self.link_collector.forget(index);
            let name = known.map_or(link.name, |k| k.name);
            rows.push(gone(Row::new(&interfaces::TABLE, now).set("ifname", name)));
            return;
        }
        let oper_up = link.is_oper_up();
        if let Some(previous) = self.links.by_index.insert(index, link) {
            if previous.is_oper_up() != oper_up {
                self.link_collector.record_flap(index, now);
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
            rows.push(self.link_collector.interface_row(link, &self.links, now));
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
    use std::collections::BTreeMap;

    use neli::consts::nl::NlmF;
    use neli::nl::NlmsghdrBuilder;
    use sonde_schema::row::Value;

    use super::*;
    use crate::agent::netlink::attributes::{AF_INET, AF_INET6};
    use crate::agent::netlink::links::{
        IFF_LOWER_UP, IFF_UP, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_DATA_ID, IFLA_INFO_KIND,
        IFLA_LINK, IFLA_LINKINFO, IFLA_MASTER, IFLA_OPERSTATE,
    };
    use crate::agent::netlink::routes::{NHMSG_LEN, for_each_hop, parse_nexthop, via_of};
    use crate::agent::netlink::test_support::{attr, links_named, list, row, text};
    use crate::agent::netlink::vlans::{
        BRIDGE_VLAN_INFO_PVID, IFLA_AF_SPEC, IFLA_BRIDGE_VLAN_INFO,
    };

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

    /// A link seen up, then down (`IF_OPER_DOWN`), then deleted, by a monitor of `collector`.
    #[test]
    fn the_link_collector_keeps_the_flaps_its_monitor_sees() {
        let collector = LinkCollector::default();
        let mut monitor = Monitor {
            link_collector: collector.clone(),
            ..Monitor::default()
        };
        let up = ifinfomsg(AF_UNSPEC, 2, &[name_attr("swp1")]);
        let down = ifinfomsg(
            AF_UNSPEC,
            2,
            &[name_attr("swp1"), attr(IFLA_OPERSTATE, &[2])],
        );
        let links = links_named(&[(2, "swp1")]);
        let last_flap = |collector: &LinkCollector| {
            let rows = collector.interface_rows(&links, 9);
            rows[0].get("last_flap").cloned()
        };
        let mut rows = Vec::new();
        monitor.handle(&notification(RTM_NEWLINK, up.clone()), 1, &mut rows);
        assert_eq!(
            last_flap(&collector),
            Some(Value::Null),
            "no change seen yet"
        );
        monitor.handle(&notification(RTM_NEWLINK, down), 5, &mut rows);
        assert_eq!(last_flap(&collector), Some(Value::Time(5)));
        let seen = row(&rows[1..], "interfaces", &["swp1"]);
        assert_eq!(seen.get("last_flap"), Some(&Value::Time(5)));
        assert_eq!(
            last_flap(&LinkCollector::default()),
            Some(Value::Null),
            "another collector has seen nothing"
        );
        monitor.handle(&notification(RTM_DELLINK, up), 7, &mut rows);
        assert_eq!(
            last_flap(&collector),
            Some(Value::Null),
            "a deleted link is forgotten"
        );
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
    }
}
