//! The agent's main loop: a full resync at start and every resync interval, netlink notifications
//! in between, a heartbeat row every heartbeat interval; changes are batched per table, spooled and
//! handed to one sender per server.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sonde_schema::TableDef;
use sonde_schema::families::{bgp, lldp as lldp_table};
use sonde_schema::row::{Heartbeat, Row, Value, now_us, to_batch};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{info, warn};

use super::command::Tool;
use super::sender::{Sender, SharedSpool, lock};
use super::spool::Spool;
use super::state::SentState;
use super::system::{self, Services};
use super::{frr, lldp, netlink};
use crate::error::{Error, Result};

/// Everything the agent needs to run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Flight endpoints (`http://host:port`); the agent sends everything to each.
    pub servers: Vec<String>,
    pub token: String,
    pub hostname: String,
    pub spool_dir: PathBuf,
    pub spool_max_bytes: u64,
    pub resync_interval: Duration,
    pub heartbeat_interval: Duration,
    /// How long changes gather before they are spooled as one batch per table.
    pub batch_delay: Duration,
    pub netlink: bool,
    pub vtysh: Option<Tool>,
    pub lldpcli: Option<Tool>,
    pub chronyc: Option<Tool>,
}

/// Runs the agent until `shutdown` resolves; spooled batches wait for the next start.
pub async fn run(config: AgentConfig, shutdown: impl Future<Output = ()>) -> Result<()> {
    if config.servers.is_empty() {
        return Err(Error::Config("name at least one server".into()));
    }
    if config.token.trim().is_empty() {
        return Err(Error::Config("a token is required".into()));
    }
    let spool = Spool::open(&config.spool_dir, &config.servers, config.spool_max_bytes)?;
    let source = format!("{}/{}", config.hostname, spool.id());
    let backlog = spool.backlog();
    let spool: SharedSpool = Arc::new(Mutex::new(spool));
    info!(hostname = %config.hostname, servers = ?config.servers, backlog, "agent starting");

    let wake = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(false);
    let senders: Vec<_> = config
        .servers
        .iter()
        .map(|server| {
            let sender = Sender {
                server: server.clone(),
                token: config.token.clone(),
                source: source.clone(),
                spool: Arc::clone(&spool),
                wake: Arc::clone(&wake),
            };
            tokio::spawn(sender.run(stopped.clone()))
        })
        .collect();

    let mut producer = Producer::new(config, Arc::clone(&spool), Arc::clone(&wake));
    let outcome = producer.run(shutdown).await;
    let _ = stop.send(true);
    for sender in senders {
        let _ = sender.await;
    }
    outcome
}

struct Producer {
    config: AgentConfig,
    spool: SharedSpool,
    wake: Arc<Notify>,
    sent: SentState,
    /// The netlink dumps and monitor, which share the link flaps the monitor sees.
    netlink: netlink::Collector,
    pending: Pending,
    services: Services,
    heartbeat: Heartbeat,
    /// Hardware and OS do not change while the agent runs: read once, offered to every resync.
    inventory: Vec<Row>,
    ntp_synced: Option<bool>,
    last_resync: i64,
}

impl Producer {
    fn new(config: AgentConfig, spool: SharedSpool, wake: Arc<Notify>) -> Producer {
        let heartbeat = Heartbeat {
            started: now_us(),
            boot: system::boot_time_us(Path::new("/proc")),
            os: system::os_name(),
            interval_s: config.heartbeat_interval.as_secs().max(1) as u32,
        };
        Producer {
            config,
            spool,
            wake,
            sent: SentState::default(),
            netlink: netlink::Collector::default(),
            pending: Pending::default(),
            services: Services::default(),
            heartbeat,
            inventory: system::inventory_rows(now_us()),
            ntp_synced: None,
            last_resync: 0,
        }
    }

    async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let _monitor = if self.config.netlink {
            Some(self.netlink.spawn_monitor(events_tx)?)
        } else {
            None
        };
        let mut resync = tokio::time::interval(self.config.resync_interval);
        let mut heartbeat = tokio::time::interval(self.config.heartbeat_interval);
        let mut batch = tokio::time::interval(self.config.batch_delay);
        for timer in [&mut resync, &mut heartbeat, &mut batch] {
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        // The first ticks are immediate: resync before the first heartbeat reports it.
        resync.tick().await;
        self.resync().await?;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = resync.tick() => self.resync().await?,
                _ = heartbeat.tick() => {
                    let row = self.heartbeat.row(now_us(), self.ntp_synced, self.last_resync);
                    self.queue(row);
                }
                Some(rows) = events.recv() => {
                    if rows.is_empty() {
                        warn!("netlink notifications were lost: resyncing now");
                        self.resync().await?;
                    }
                    for row in rows {
                        if let Some(change) = self.sent.observe(row) {
                            self.queue(change);
                        }
                    }
                }
                _ = batch.tick() => self.spool_pending().await?,
            }
        }
        self.spool_pending().await
    }

    /// Collects everything, compares it with what was sent and queues the differences. A source
    /// that fails keeps its last state: an unreachable daemon is not a node without sessions.
    async fn resync(&mut self) -> Result<()> {
        let now = now_us();
        self.sent.begin_resync();
        let polled = tokio::spawn(poll_daemons(self.config.clone(), now));
        if self.config.netlink {
            self.resync_netlink(now).await?;
        }
        let (sessions, neighbors, ntp) = polled
            .await
            .map_err(|e| Error::Config(format!("a collector stopped: {e}")))?;
        if let Some(mut rows) = sessions {
            if let Some(neighbors) = &neighbors {
                name_peers_from_lldp(&mut rows, neighbors);
            }
            self.observe_all(rows, frr::TABLES, now);
        }
        if let Some(rows) = neighbors {
            self.observe_all(rows, lldp::TABLES, now);
        }
        let mut rows: Vec<Row> = system::sensor_rows(Path::new("/sys/class/hwmon"), now);
        rows.extend(self.services.rows(Path::new("/proc"), now));
        rows.extend(self.inventory.iter().cloned());
        if let Some(ntp) = ntp {
            self.ntp_synced = match ntp.get("synced") {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            };
            rows.push(ntp);
        }
        self.observe_all(rows, system::TABLES, now);
        self.last_resync = now;
        Ok(())
    }

    /// Compares the kernel's state row by row as the dump produces it and spools the changes
    /// as they add up, all on the dump's thread: a node with 100k routes never holds all its
    /// rows at once, and rows are freed by the thread that built them (rows handed from thread
    /// to thread would leave both allocator arenas holding the peak).
    async fn resync_netlink(&mut self, now: i64) -> Result<()> {
        self.spool_pending().await?;
        let mut sent = std::mem::take(&mut self.sent);
        let spool = Arc::clone(&self.spool);
        let hostname = self.config.hostname.clone();
        let collector = self.netlink.clone();
        let (sent, outcome) = tokio::task::spawn_blocking(move || {
            let outcome = compare_dump(&collector, &mut sent, now, &spool, &hostname);
            (sent, outcome)
        })
        .await
        .map_err(|e| Error::Netlink(format!("the dump stopped: {e}")))?;
        self.sent = sent;
        self.wake.notify_waiters();
        outcome
    }

    fn observe_all(&mut self, rows: Vec<Row>, scope: &[&'static TableDef], now: i64) {
        for row in rows {
            if let Some(change) = self.sent.observe(row) {
                self.queue(change);
            }
        }
        for deletion in self.sent.end_resync(scope, now) {
            self.queue(deletion);
        }
    }

    fn queue(&mut self, row: Row) {
        self.pending.push(row);
    }

    /// Turns the queued rows into one batch per table, spools them and wakes the senders.
    async fn spool_pending(&mut self) -> Result<()> {
        if self.pending.rows == 0 {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let spool = Arc::clone(&self.spool);
        let hostname = self.config.hostname.clone();
        tokio::task::spawn_blocking(move || pending.spool(&spool, &hostname))
            .await
            .map_err(|e| Error::Config(format!("the spool writer stopped: {e}")))??;
        self.wake.notify_waiters();
        Ok(())
    }
}

/// Pending rows that make the producer spool before the batch delay is up: a row weighs far
/// more than its Arrow form.
const SPOOL_ROWS: usize = 4096;

/// Changes waiting to be spooled, per table.
#[derive(Debug, Default)]
struct Pending {
    tables: BTreeMap<&'static str, (&'static TableDef, Vec<Row>)>,
    rows: usize,
}

impl Pending {
    fn push(&mut self, row: Row) {
        self.rows += 1;
        self.tables
            .entry(row.table.name)
            .or_insert_with(|| (row.table, Vec::new()))
            .1
            .push(row);
    }

    /// Writes one batch per table to the spool (blocking: fsync) and empties itself.
    fn spool(&mut self, spool: &SharedSpool, hostname: &str) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut batches = Vec::with_capacity(self.tables.len());
        for (_, (table, rows)) in std::mem::take(&mut self.tables) {
            batches.push((table, to_batch(table, hostname, &rows)?));
        }
        self.rows = 0;
        let mut spool = lock(spool);
        for (table, batch) in batches {
            spool.append(table, &batch)?;
        }
        Ok(())
    }
}

/// The netlink part of a resync, on a blocking thread. A failed dump keeps the last state; a
/// failed spool write is the agent's failure.
fn compare_dump(
    collector: &netlink::Collector,
    sent: &mut SentState,
    now: i64,
    spool: &SharedSpool,
    hostname: &str,
) -> Result<()> {
    let mut pending = Pending::default();
    let mut failure = None;
    let dumped = collector.dump_into(now, &mut |row| {
        if let Some(change) = sent.observe(row) {
            pending.push(change);
        }
        if pending.rows >= SPOOL_ROWS && failure.is_none() {
            failure = pending.spool(spool, hostname).err();
        }
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    match dumped {
        Ok(()) => {
            for deletion in sent.end_resync(netlink::TABLES, now) {
                pending.push(deletion);
            }
        }
        Err(e) => warn!(error = %e, "netlink dump failed; keeping the last state"),
    }
    pending.spool(spool, hostname)
}

/// FRR's sessions, lldpd's neighbours and chrony's state, each `None` when not configured or
/// when it failed.
async fn poll_daemons(
    config: AgentConfig,
    now: i64,
) -> (Option<Vec<Row>>, Option<Vec<Row>>, Option<Row>) {
    let bgp = optional(config.vtysh.as_ref(), |t| frr::collect(t, now));
    let lldp = optional(config.lldpcli.as_ref(), |t| lldp::collect(t, now));
    let ntp = async {
        match &config.chronyc {
            Some(chronyc) => Some(system::ntp_row(chronyc, now).await),
            None => None,
        }
    };
    tokio::join!(bgp, lldp, ntp)
}

async fn optional<'a, F, Fut>(tool: Option<&'a Tool>, collect: F) -> Option<Vec<Row>>
where
    F: FnOnce(&'a Tool) -> Fut,
    Fut: Future<Output = Result<Vec<Row>>>,
{
    let tool = tool?;
    collect(tool)
        .await
        .map_err(|e| warn!(error = %e, "collection failed; keeping the last state"))
        .ok()
}

/// A session that is down has no hostname from BGP's capability; the LLDP neighbour on its
/// interface names the peer instead, so that checks can still pair both ends.
fn name_peers_from_lldp(sessions: &mut [Row], neighbors: &[Row]) {
    for session in sessions
        .iter_mut()
        .filter(|s| s.table.name == bgp::TABLE.name)
    {
        if session.get("peer_hostname") != Some(&Value::Null) {
            continue;
        }
        let ifname = session.get("ifname").cloned();
        let peer = neighbors
            .iter()
            .filter(|n| n.table.name == lldp_table::TABLE.name)
            .find(|n| n.get("ifname") == ifname.as_ref())
            .and_then(|n| n.get("peer_hostname").cloned());
        if let Some(peer) = peer {
            session.put("peer_hostname", peer);
        }
    }
}
