//! The lease table in memory: every lease that holds an address, found by address, by client
//! identifier and by MAC, with the pools' bitmaps kept in step. One mutex guards it
//! ([`Shared`]); handlers hold it only to decide and mark, never across an await.
//!
//! A client is found by its client identifier when it sends one, else by its MAC. Declined
//! addresses (by the client or by a conflict check) are held under no client, so the client
//! that declined gets another address. Offers live here only (they are not persisted): they
//! lapse after the offer hold, and a restart forgets them, which costs a client one DISCOVER.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::config::ZtpConfig;
use crate::leases::{Lease, LeaseLookup, LeaseState};

use super::pool::Pools;

/// How a client is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Id(Vec<u8>),
    Mac([u8; 6]),
}

impl ClientKey {
    pub fn of(client_id: Option<&[u8]>, mac: [u8; 6]) -> ClientKey {
        match client_id {
            Some(id) => ClientKey::Id(id.to_vec()),
            None => ClientKey::Mac(mac),
        }
    }

    pub fn of_lease(lease: &Lease) -> ClientKey {
        ClientKey::of(lease.client_id.as_deref(), lease.mac)
    }
}

/// The leases and pools.
#[derive(Debug, Default)]
pub struct Table {
    leases: HashMap<Ipv4Addr, Lease>,
    clients: HashMap<ClientKey, Ipv4Addr>,
    pub pools: Pools,
    /// The configuration the pools were built from.
    built_from: Option<Arc<ZtpConfig>>,
}

impl Table {
    /// A table holding `leases`, pools built from `config`.
    pub fn new(leases: Vec<Lease>, config: &Arc<ZtpConfig>) -> Table {
        let mut table = Table::default();
        for lease in leases.into_iter().filter(|l| l.state.holds()) {
            table.insert(lease);
        }
        table.sync_config(config);
        table
    }

    /// Rebuilds the pools when the configuration was replaced since the last call.
    pub fn sync_config(&mut self, config: &Arc<ZtpConfig>) {
        if self
            .built_from
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, config))
        {
            return;
        }
        let mut pools = Pools::new(&config.dhcp);
        for ip in self.leases.keys() {
            pools.mark(*ip, true);
        }
        self.pools = pools;
        self.built_from = Some(Arc::clone(config));
    }

    pub fn get(&self, ip: Ipv4Addr) -> Option<&Lease> {
        self.leases.get(&ip)
    }

    /// The client's lease (not a declined one).
    pub fn of_client(&self, key: &ClientKey) -> Option<&Lease> {
        let ip = self.clients.get(key)?;
        self.leases
            .get(ip)
            .filter(|l| l.state != LeaseState::Declined && &ClientKey::of_lease(l) == key)
    }

    /// Puts a lease in (replacing what held its address); returns what was there.
    pub fn insert(&mut self, lease: Lease) -> Option<Lease> {
        let ip = lease.ip;
        if lease.state != LeaseState::Declined {
            let key = ClientKey::of_lease(&lease);
            if let Some(old) = self.clients.insert(key.clone(), ip)
                && old != ip
                && self
                    .leases
                    .get(&old)
                    .is_some_and(|l| l.state == LeaseState::Offered)
            {
                // A client holds one offer at a time: its older offer lapses now.
                self.remove(old);
                self.clients.insert(key, ip);
            }
        }
        self.pools.mark(ip, true);
        let previous = self.leases.insert(ip, lease);
        if let Some(previous) = &previous {
            self.unindex(previous, ip);
        }
        previous
    }

    /// Frees an address; returns the lease that held it.
    pub fn remove(&mut self, ip: Ipv4Addr) -> Option<Lease> {
        let lease = self.leases.remove(&ip)?;
        self.unindex(&lease, ip);
        self.pools.mark(ip, false);
        Some(lease)
    }

    fn unindex(&mut self, lease: &Lease, ip: Ipv4Addr) {
        let key = ClientKey::of_lease(lease);
        let current = self.leases.get(&ip);
        let still = current
            .is_some_and(|l| l.state != LeaseState::Declined && ClientKey::of_lease(l) == key);
        if !still && self.clients.get(&key) == Some(&ip) {
            self.clients.remove(&key);
        }
    }

    /// Puts back what held `ip` before a change that could not be made durable, unless the
    /// address changed again since (`ours` is what the failed change wrote).
    pub fn restore(&mut self, ip: Ipv4Addr, ours: &Lease, previous: Option<Lease>) {
        if self.leases.get(&ip) != Some(ours) {
            return;
        }
        match previous {
            Some(previous) => {
                self.insert(previous);
            }
            None => {
                self.remove(ip);
            }
        }
    }

    /// Removes every lease that has ended by `now`; returns them.
    pub fn take_expired(&mut self, now: i64) -> Vec<Lease> {
        let ended: Vec<Ipv4Addr> = self
            .leases
            .values()
            .filter(|l| l.ends <= now)
            .map(|l| l.ip)
            .collect();
        ended.into_iter().filter_map(|ip| self.remove(ip)).collect()
    }

    pub fn all(&self) -> Vec<Lease> {
        let mut leases: Vec<Lease> = self.leases.values().cloned().collect();
        leases.sort_by_key(|l| l.ip);
        leases
    }

    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// (size, used) of the pool of `cidr`'s subnet.
    pub fn pool_counts(&mut self, cidr: &str) -> Option<(u32, u32)> {
        self.pools.named(cidr).map(|p| (p.size(), p.used()))
    }
}

/// The table shared by the handlers and the HTTP server's lookups.
pub type Shared = Arc<Mutex<Table>>;

/// [`LeaseLookup`] over the table: offered and bound leases (a declined address has no device).
#[derive(Debug, Clone)]
pub struct TableLookup(pub Shared);

impl LeaseLookup for TableLookup {
    fn mac_of(&self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        self.lease_of(ip).map(|l| l.mac)
    }

    fn lease_of(&self, ip: Ipv4Addr) -> Option<Lease> {
        self.0
            .lock()
            .get(ip)
            .filter(|l| matches!(l.state, LeaseState::Offered | LeaseState::Bound))
            .cloned()
    }
}
