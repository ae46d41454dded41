//! The DHCPv4 server (RFC 2131) of ZTP: isc-dhcp's configuration ([`crate::config::DhcpConfig`]),
//! leases made durable through a [`LeaseStore`] before the answer that grants them, and every
//! message handled recorded as a row of `ztp_dhcp`.
//!
//! The parts, one file each: [`message`] decodes a request, [`select`] finds its scope (subnet,
//! host, classes, merged options), [`pool`] and [`table`] hold the addresses and leases,
//! `conflict` checks an address is unused before it is offered, `handlers` decide the answer
//! to each message type, `reply` and [`options`] encode it, `event` builds the row, `socket`
//! binds and serves.
//!
//! Choices where the RFCs and the issue leave room:
//! - **Offers are not persisted.** An OFFER reserves its address in memory for
//!   [`DhcpOptions::offer_hold`]; the REQUEST that takes it is persisted (Bound) before the
//!   ACK. Declines, conflicts found by the check, releases and expiries are persisted.
//! - **Requests for an address the server has no record of** (INIT-REBOOT or REBINDING after
//!   the lease was lost, or an OFFER that lapsed) are granted when the address is free in the
//!   client's pool, as Kea does, and refused otherwise.
//! - **Authoritative** (`authoritative;`) servers NAK a request for an address that is not the
//!   client's or not on its network; otherwise they stay silent (the row says why).
//! - **Declined addresses** are held for [`DECLINE_HOLD`] and then freed.
//! - **Expiry**: [`SWEEP_EVERY`], the run loop (and [`DhcpServer::handle`], on its callers'
//!   clock) turns ended leases into `expired` rows and frees their addresses.
//! - **Configuration reload**: every message reads the configuration in force; the pools are
//!   rebuilt when it changes; leases of addresses no longer in any pool stay until they end.
//! - **Replies to relays** go to giaddr port 67, or to the port the relay sent from when the
//!   datagram came from giaddr itself (a relay on a non-standard port).

pub mod message;
pub mod options;
pub mod pool;
pub mod select;

mod conflict;
mod event;
mod handlers;
mod reply;
mod socket;
mod table;

#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tracing::{debug, warn};

use crate::config::Watched;
use crate::events::Recorder;
use crate::leases::{Lease, LeaseLookup, LeaseState, LeaseStore};

pub use socket::bind;

/// How long a declined or conflicting address is held before it is offered again.
pub const DECLINE_HOLD: Duration = Duration::from_secs(3600);
/// How often ended leases are expired.
pub const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// How the server runs.
#[derive(Debug, Clone)]
pub struct DhcpOptions {
    /// Option 54. Default: the address the socket is bound to, else a local address on a
    /// configured subnet, else the first subnet's first router.
    pub server_id: Option<Ipv4Addr>,
    /// SO_BINDTODEVICE of the socket [`bind`] makes.
    pub interface: Option<String>,
    /// Messages handled at once; more are dropped and counted.
    pub max_in_flight: usize,
    /// How long an OFFER reserves its address.
    pub offer_hold: Duration,
}

impl Default for DhcpOptions {
    fn default() -> Self {
        DhcpOptions {
            server_id: None,
            interface: None,
            max_in_flight: 1024,
            offer_hold: Duration::from_secs(30),
        }
    }
}

/// What the server has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DhcpStats {
    pub received: u64,
    /// Messages a reply was sent to.
    pub answered: u64,
    pub malformed: u64,
    /// Dropped because [`DhcpOptions::max_in_flight`] were being handled.
    pub dropped: u64,
    /// Well-formed messages that got no reply (another server chosen, not authoritative, …).
    pub ignored: u64,
    pub offers: u64,
    pub acks: u64,
    pub naks: u64,
    pub releases: u64,
    pub declines: u64,
    pub informs: u64,
    pub exhausted: u64,
    pub not_stored: u64,
    pub conflicts: u64,
    pub expired: u64,
    /// Leases held now.
    pub leases: u64,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    answered: AtomicU64,
    malformed: AtomicU64,
    dropped: AtomicU64,
    ignored: AtomicU64,
    offers: AtomicU64,
    acks: AtomicU64,
    naks: AtomicU64,
    releases: AtomicU64,
    declines: AtomicU64,
    informs: AtomicU64,
    exhausted: AtomicU64,
    not_stored: AtomicU64,
    conflicts: AtomicU64,
    expired: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What the handlers share.
struct Inner {
    config: Watched,
    store: Arc<dyn LeaseStore>,
    recorder: Recorder,
    options: DhcpOptions,
    server_id: AtomicU32,
    table: table::Shared,
    arp: conflict::ArpCache,
    counters: Counters,
    next_sweep: AtomicI64,
}

/// The DHCPv4 server. Cheap to clone.
#[derive(Clone)]
pub struct DhcpServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DhcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhcpServer")
            .field("server_id", &self.server_id())
            .finish_non_exhaustive()
    }
}

impl DhcpServer {
    /// Loads the held leases from `leases.load()` (the table the server starts from).
    pub async fn start(
        config: Watched,
        leases: Arc<dyn LeaseStore>,
        recorder: Recorder,
        options: DhcpOptions,
    ) -> crate::Result<DhcpServer> {
        let held = leases.load().await?;
        let current = config.get();
        let server_id = options
            .server_id
            .or_else(|| socket::default_server_id(&current.dhcp))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let table = table::Table::new(held, &current);
        debug!(leases = table.len(), %server_id, "DHCP server starting");
        Ok(DhcpServer {
            inner: Arc::new(Inner {
                config,
                store: leases,
                recorder,
                options,
                server_id: AtomicU32::new(u32::from(server_id)),
                table: Arc::new(Mutex::new(table)),
                arp: conflict::ArpCache::default(),
                counters: Counters::default(),
                next_sweep: AtomicI64::new(i64::MIN),
            }),
        })
    }

    /// Serves `socket` until `shutdown`; messages being handled are finished.
    pub async fn run(
        self,
        socket: tokio::net::UdpSocket,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> crate::Result<()> {
        socket::serve(self, socket, shutdown).await
    }

    /// The server identifier (option 54) in use.
    pub fn server_id(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.inner.server_id.load(Ordering::Relaxed))
    }

    /// Takes `ip` as the server identifier unless one was configured.
    fn adopt_server_id(&self, ip: Ipv4Addr) {
        if self.inner.options.server_id.is_none() && !ip.is_unspecified() {
            self.inner.server_id.store(u32::from(ip), Ordering::Relaxed);
        }
    }

    /// The core without sockets: the reply to `bytes` received from `from` at `now_us` (µs since
    /// epoch) and where to send it; the lease change is durable before this returns; the
    /// ztp_dhcp row is recorded.
    pub async fn handle(
        &self,
        bytes: &[u8],
        from: SocketAddr,
        now_us: i64,
    ) -> Option<(Vec<u8>, SocketAddr)> {
        let started = Instant::now();
        let counters = &self.inner.counters;
        bump(&counters.received);
        let request = match message::Request::parse(bytes) {
            Ok(request) => request,
            Err(why) => {
                bump(&counters.malformed);
                debug!(%from, len = bytes.len(), why = why.text(), "DHCP datagram dropped");
                return None;
            }
        };
        if now_us >= self.inner.next_sweep.load(Ordering::Relaxed) {
            self.expire(now_us).await;
        }
        let outcome = handlers::handle(&self.inner, &request, self.server_id(), now_us).await;
        self.count(&outcome);
        let duration = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let row = outcome.row(&request, now_us, duration);
        self.inner.recorder.record(outcome.hostname(&request), row);
        let bytes = outcome.bytes?;
        bump(&counters.answered);
        Some((
            bytes,
            socket::destination(&request, from, outcome.reply == Some("NAK")),
        ))
    }

    fn count(&self, outcome: &event::Outcome) {
        let c = &self.inner.counters;
        let counter = match (outcome.reply, outcome.code.code) {
            (Some("OFFER"), _) => &c.offers,
            (Some("NAK"), _) => &c.naks,
            (Some(_), code) if code == crate::codes::DHCP_INFORMED.code => &c.informs,
            (Some(_), _) => &c.acks,
            (None, code) if code == crate::codes::DHCP_RELEASED.code => &c.releases,
            (None, code) if code == crate::codes::DHCP_DECLINED.code => &c.declines,
            (None, code) if code == crate::codes::DHCP_EXHAUSTED.code => &c.exhausted,
            (None, code) if code == crate::codes::DHCP_NOT_STORED.code => &c.not_stored,
            (None, _) => &c.ignored,
        };
        bump(counter);
    }

    /// Expires every lease ended by `now_us`: bound and declined ones become `expired` rows
    /// (persisted), lapsed offers are forgotten. Returns how many leases ended.
    pub async fn expire(&self, now_us: i64) -> usize {
        let every = i64::try_from(SWEEP_EVERY.as_micros()).unwrap_or(i64::MAX);
        self.inner
            .next_sweep
            .store(now_us.saturating_add(every), Ordering::Relaxed);
        let ended = self.inner.table.lock().take_expired(now_us);
        let count = ended.len();
        let rows: Vec<Lease> = ended
            .into_iter()
            .filter(|l| l.state != LeaseState::Offered)
            .map(|l| Lease {
                state: LeaseState::Expired,
                ..l
            })
            .collect();
        if !rows.is_empty() {
            self.inner
                .counters
                .expired
                .fetch_add(rows.len() as u64, Ordering::Relaxed);
            if let Err(error) = self.inner.store.persist(rows, now_us).await {
                warn!(%error, "expired DHCP leases were not stored");
            }
        }
        count
    }

    /// The lease table as the HTTP server sees it (implements crate::leases::LeaseLookup).
    pub fn lookup(&self) -> Arc<dyn LeaseLookup> {
        Arc::new(table::TableLookup(Arc::clone(&self.inner.table)))
    }

    /// Every lease held now.
    pub fn leases(&self) -> Vec<Lease> {
        self.inner.table.lock().all()
    }

    pub fn stats(&self) -> DhcpStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DhcpStats {
            received: get(&c.received),
            answered: get(&c.answered),
            malformed: get(&c.malformed),
            dropped: get(&c.dropped),
            ignored: get(&c.ignored),
            offers: get(&c.offers),
            acks: get(&c.acks),
            naks: get(&c.naks),
            releases: get(&c.releases),
            declines: get(&c.declines),
            informs: get(&c.informs),
            exhausted: get(&c.exhausted),
            not_stored: get(&c.not_stored),
            conflicts: get(&c.conflicts),
            expired: get(&c.expired),
            leases: self.inner.table.lock().len() as u64,
        }
    }
}
