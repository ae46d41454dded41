//! Links, addresses, routes, neighbours, the bridge FDB and bridge VLANs, read from rtnetlink.
//!
//! [`Collector::dump`] reads the whole state through one rtnetlink socket;
//! [`Collector::spawn_monitor`] follows the rtnetlink multicast groups on a thread of its own and
//! turns every notification into rows. Both build rows with the same functions, so a notification
//! and the next full dump agree, and both go through one [`Collector`], whose link collector keeps
//! the link flaps the monitor sees for the dumps to report.
//!
//! neli frames the messages and parses their fixed headers and top-level attributes
//! ([`Ifinfomsg`], [`Rtmsg`], …). What neli 0.7 does not model (nested attributes such as
//! `IFLA_LINKINFO`, `IFLA_AF_SPEC` and `RTA_MULTIPATH`, and nexthop objects) is walked in place,
//! zero-copy. A message or attribute that does not parse is skipped, never trusted.
//!
//! One module per object kind, each with the kernel ABI values of its objects (linux/netlink.h,
//! rtnetlink.h, if_link.h, if_bridge.h, neighbour.h, nexthop.h; neli 0.7 lacks some of them and
//! names others only on glibc targets, so all are matched as numbers), its dump request and its
//! rows: `links` and `vlans`, `addresses`, `routes` (with nexthop objects), `neighbors`, `fdb`;
//! `socket` and `attributes` are what they share, `clock` how rows are timed, and `monitor` the
//! notification thread.
//!
//! [`Ifinfomsg`]: neli::rtnl::Ifinfomsg
//! [`Rtmsg`]: neli::rtnl::Rtmsg

mod addresses;
mod attributes;
mod clock;
mod fdb;
mod links;
mod monitor;
mod neighbors;
mod routes;
mod socket;
mod vlans;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::thread::JoinHandle;

use sonde_schema::TableDef;
use sonde_schema::families;
use sonde_schema::row::Row;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::Result;
use clock::Clock;
use fdb::{mac_rows, merge_fdb};
use links::LinkCollector;
use routes::VrfTables;
use socket::Rtnl;
use vlans::{vlan_rows, vlans};

/// Tables this collector covers (a full dump covers all of them).
pub const TABLES: &[&TableDef] = &[
    &families::interfaces::TABLE,
    &families::addresses::TABLE,
    &families::routes::TABLE,
    &families::neighbors::TABLE,
    &families::macs::TABLE,
    &families::vlan::TABLE,
];

/// The netlink collector: full dumps and the monitor. Clones share its link collector, hence the
/// link flaps the monitor records and every dump reports.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    links: LinkCollector,
}

impl Collector {
    /// Dumps links, addresses, IPv4/IPv6 routes (all tables), neighbours and the bridge FDB
    /// through rtnetlink; every row stamped `now` (µs since epoch) except where the kernel gives a
    /// better time.
    ///
    /// Better times: addresses carry their last update (`IFA_CACHEINFO`), neighbours and MACs
    /// their last update (`NDA_CACHEINFO`). Interfaces' `last_flap` is what this collector's
    /// monitor observed (a dump alone cannot know it), else null.
    pub fn dump(&self, now: i64) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.dump_into(now, &mut |row| rows.push(row))?;
        Ok(rows)
    }

    /// Like [`Collector::dump`], handing each row to `sink` as soon as it is built, so that a
    /// caller can process a node with 100k routes without holding all its rows at once.
    pub fn dump_into(&self, now: i64, sink: &mut dyn FnMut(Row)) -> Result<()> {
        let clock = Clock::for_dump(now);
        let mut rtnl = Rtnl::connect()?;
        let links = rtnl.links()?;
        let nexthops = rtnl.nexthops();
        let vrf_tables = VrfTables::new(&links);
        self.links
            .interface_rows(&links, now)
            .into_iter()
            .for_each(&mut *sink);
        vlan_rows(vlans(&links), &links, now)
            .into_iter()
            .for_each(&mut *sink);
        rtnl.addresses(&links, &clock, &mut *sink)?;
        let found = rtnl.routes(&nexthops)?;
        found
            .into_iter()
            .map(|r| r.into_row(&links, &vrf_tables, now))
            .for_each(&mut *sink);
        rtnl.neighbors(&links, &clock, &mut *sink)?;
        let fdb = rtnl.fdb(&links)?;
        mac_rows(&merge_fdb(&fdb), &links, &clock)
            .into_iter()
            .for_each(&mut *sink);
        Ok(())
    }

    /// Subscribes to the rtnetlink multicast groups (link, ipv4/ipv6 ifaddr, ipv4/ipv6 route,
    /// neigh) and, on a dedicated std thread, turns every notification into rows (RTM_NEW* →
    /// active row, RTM_DEL* → row with active=false, stamped with the time the notification was
    /// received) sent on `tx`; returns when the subscription is set up (errors then), the thread
    /// runs until `tx` is closed (send fails) or the socket fails (then it logs with
    /// `tracing::warn!` and ends; the agent's 15 s full resync covers what is missed).
    ///
    /// An EMPTY `Vec` on `tx` means "notifications were lost (ENOBUFS or an unparsable message):
    /// resync now". The thread blocks in `recv`, so it sees a closed `tx` only at the next
    /// notification. It also follows nexthop objects (RTNLGRP_NEXTHOP) to resolve routes' `nhid`.
    ///
    /// What only the resync fixes, because the kernel does not say it: a route notification is
    /// one kernel route, so where several share a table and prefix (IPv6 `fe80::/64` on every
    /// link, a prefix at two metrics) its row has that route's paths only, and its deletion
    /// deletes the row; the kernel does not notify IPv4 routes it flushes (link down, address
    /// removed), nor routes whose nexthop object is replaced when `nexthop_compat_mode` is 0.
    pub fn spawn_monitor(&self, tx: UnboundedSender<Vec<Row>>) -> Result<JoinHandle<()>> {
        monitor::spawn(self.links.clone(), tx)
    }
}

/// The same row, saying the object is gone.
fn gone(row: Row) -> Row {
    Row {
        active: false,
        ..row
    }
}
