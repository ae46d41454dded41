//! Leases as events: every change of a lease is a row of `ztp_leases`, durable before the DHCP
//! answer that grants it, and the lease table at start-up is that table's state at now. Nothing
//! rewrites a lease file: the store's WAL is the log, its checkpoints the snapshot.
//!
//! [`LeaseLog`] is the durable side behind the [`LeaseStore`] trait the DHCP server uses. It
//! group-commits: the changes of every exchange that arrives while an append is being made
//! durable go out together in the next one, so a burst of clients shares fsyncs.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, RecordBatch};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use sonde_schema::families::ztp::LEASES;
use sonde_schema::row::{Row, time};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, ZtpError};
use crate::events::{Event, EventStore, append_events};

/// Appends in flight at once; more changes wait and go out together.
const IN_FLIGHT: usize = 4;
/// Changes in one append, at most.
const GROUP_ROWS: usize = 4096;

/// Where a lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Offered, not yet requested: held for a short while so two clients are not offered one address.
    Offered,
    Bound,
    Released,
    Declined,
    Expired,
}

impl LeaseState {
    pub fn name(self) -> &'static str {
        match self {
            LeaseState::Offered => "offered",
            LeaseState::Bound => "bound",
            LeaseState::Released => "released",
            LeaseState::Declined => "declined",
            LeaseState::Expired => "expired",
        }
    }

    pub fn parse(name: &str) -> Option<LeaseState> {
        [
            LeaseState::Offered,
            LeaseState::Bound,
            LeaseState::Released,
            LeaseState::Declined,
            LeaseState::Expired,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// Whether the address is held by the lease (a row that is still `active`).
    pub fn holds(self) -> bool {
        matches!(
            self,
            LeaseState::Offered | LeaseState::Bound | LeaseState::Declined
        )
    }
}

/// One lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    pub client_id: Option<Vec<u8>>,
    pub serial: Option<String>,
    /// The device's host name, when its reservation or request names it.
    pub device: Option<String>,
    pub state: LeaseState,
    /// µs since the epoch.
    pub starts: i64,
    /// µs since the epoch.
    pub ends: i64,
    /// `10.0.0.0/24`.
    pub subnet: String,
    /// The reservation (host NAME) the address belongs to.
    pub host: Option<String>,
}

/// `48:65:ee:11:da:85`.
pub fn mac_text(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// Parses `48:65:ee:11:da:85` (or with `-`).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Lease {
    /// The lease as a row of `ztp_leases`, observed at `at` (µs).
    pub fn row(&self, at: i64) -> Row {
        let mut row = Row::new(&LEASES, at)
            .set("ip", self.ip.to_string())
            .set("client_mac", mac_text(&self.mac))
            .set("state", self.state.name())
            .set("starts", time(self.starts))
            .set("ends", time(self.ends))
            .set("subnet", self.subnet.clone());
        if let Some(id) = &self.client_id {
            row.put("client_id", hex(id));
        }
        if let Some(serial) = &self.serial {
            row.put("serial", serial.clone());
        }
        if let Some(device) = &self.device {
            row.put("device", device.clone());
        }
        if let Some(host) = &self.host {
            row.put("host", host.clone());
        }
        row.active = self.state.holds();
        row
    }
}

/// Where the DHCP server makes lease changes durable and finds them again at start-up.
pub trait LeaseStore: Send + Sync + 'static {
    /// Makes the changes, decided at `at` (µs, the exchange's time), durable; the answer
    /// granting them may go out once this resolves.
    fn persist(&self, leases: Vec<Lease>, at: i64) -> BoxFuture<'static, Result<()>>;
    /// The leases held now (state at now of `ztp_leases`): the table the server starts from.
    fn load(&self) -> BoxFuture<'static, Result<Vec<Lease>>>;
}

/// Who holds an address now: how the HTTP server binds a serial to the device that got its lease.
pub trait LeaseLookup: Send + Sync + 'static {
    /// The MAC of the lease that holds `ip` now, if any.
    fn mac_of(&self, ip: Ipv4Addr) -> Option<[u8; 6]>;
    /// The lease that holds `ip` now, if any.
    fn lease_of(&self, ip: Ipv4Addr) -> Option<Lease>;
}

/// No leases known (an HTTP server run without the DHCP server).
#[derive(Debug, Default)]
pub struct NoLeases;

impl LeaseLookup for NoLeases {
    fn mac_of(&self, _: Ipv4Addr) -> Option<[u8; 6]> {
        None
    }
    fn lease_of(&self, _: Ipv4Addr) -> Option<Lease> {
        None
    }
}

type Pending = (Vec<Lease>, i64, oneshot::Sender<Result<()>>);

/// The [`LeaseStore`] over an [`EventStore`], group-committing.
#[derive(Clone)]
pub struct LeaseLog {
    queue: mpsc::UnboundedSender<Pending>,
    store: Arc<dyn EventStore>,
}

impl std::fmt::Debug for LeaseLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeaseLog")
    }
}

impl LeaseLog {
    /// Lease rows stand under `server_id` (the DHCP server identifier) as their hostname.
    /// Starts the writer task on the current runtime.
    pub fn new(store: Arc<dyn EventStore>, server_id: String) -> LeaseLog {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_leases(Arc::clone(&store), server_id, receiver));
        LeaseLog { queue, store }
    }
}

impl LeaseStore for LeaseLog {
    fn persist(&self, leases: Vec<Lease>, at: i64) -> BoxFuture<'static, Result<()>> {
        let (done, durable) = oneshot::channel();
        let sent = self.queue.send((leases, at, done));
        Box::pin(async move {
            sent.map_err(|_| ZtpError::Store("the lease writer has stopped".into()))?;
            durable
                .await
                .map_err(|_| ZtpError::Store("the lease writer has stopped".into()))?
        })
    }

    fn load(&self) -> BoxFuture<'static, Result<Vec<Lease>>> {
        let current = self.store.current(&LEASES);
        Box::pin(async move {
            let batches = current.await.map_err(ZtpError::Store)?;
            leases_of(&batches)
        })
    }
}

async fn write_leases(
    store: Arc<dyn EventStore>,
    server_id: String,
    mut queue: mpsc::UnboundedReceiver<Pending>,
) {
    let mut appends = FuturesUnordered::new();
    let mut open = true;
    while open || !appends.is_empty() {
        tokio::select! {
            first = queue.recv(), if open && appends.len() < IN_FLIGHT => match first {
                Some(first) => {
                    let group = gather_group(first, &mut queue);
                    appends.push(append_group(Arc::clone(&store), server_id.clone(), group));
                }
                None => open = false,
            },
            Some(()) = appends.next(), if !appends.is_empty() => {}
        }
    }
}

/// `first` and whatever else is already queued, up to [`GROUP_ROWS`] leases.
fn gather_group(first: Pending, queue: &mut mpsc::UnboundedReceiver<Pending>) -> Vec<Pending> {
    let mut rows = first.0.len();
    let mut group = vec![first];
    while rows < GROUP_ROWS {
        match queue.try_recv() {
            Ok(next) => {
                rows += next.0.len();
                group.push(next);
            }
            Err(_) => break,
        }
    }
    group
}

async fn append_group(store: Arc<dyn EventStore>, server_id: String, group: Vec<Pending>) {
    let events: Vec<Event> = group
        .iter()
        .flat_map(|(leases, at, _)| leases.iter().map(move |lease| (lease, *at)))
        .map(|(lease, at)| Event {
            hostname: server_id.clone(),
            row: lease.row(at),
        })
        .collect();
    let result = if events.is_empty() {
        Ok(0)
    } else {
        append_events(store.as_ref(), &LEASES, &events).await
    };
    for (_, _, done) in group {
        let _ = done.send(result.clone().map(|_| ()).map_err(ZtpError::Store));
    }
}

/// The leases held in `batches` of `ztp_leases`: the newest row per address, if it still holds.
pub fn leases_of(batches: &[RecordBatch]) -> Result<Vec<Lease>> {
    let mut newest: HashMap<Ipv4Addr, (i64, Option<Lease>)> = HashMap::new();
    for batch in batches {
        for (at, lease) in decode(batch)? {
            let ip = match &lease {
                Ok(lease) => lease.ip,
                Err(ip) => *ip,
            };
            if newest.get(&ip).is_none_or(|(seen, _)| *seen <= at) {
                newest.insert(ip, (at, lease.ok()));
            }
        }
    }
    let mut leases: Vec<Lease> = newest.into_values().filter_map(|(_, l)| l).collect();
    leases.sort_by_key(|l| l.ip);
    Ok(leases)
}

/// Each row's time and lease (or, for a row that no longer holds, its address).
fn decode(batch: &RecordBatch) -> Result<Vec<(i64, Result<Lease, Ipv4Addr>)>> {
    let text = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| ZtpError::Store(format!("ztp_leases has no text column {name}")))
    };
    let times = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            .ok_or_else(|| ZtpError::Store(format!("ztp_leases has no time column {name}")))
    };
    let (at, starts, ends) = (times("timestamp")?, times("starts")?, times("ends")?);
    let (ip, mac, state) = (text("ip")?, text("client_mac")?, text("state")?);
    let (client_id, serial, device) = (text("client_id")?, text("serial")?, text("device")?);
    let (subnet, host) = (text("subnet")?, text("host")?);
    let active = batch
        .column_by_name("active")
        .and_then(|c| c.as_boolean_opt())
        .ok_or_else(|| ZtpError::Store("ztp_leases has no active column".into()))?;
    let optional = |column: &arrow_array::StringArray, i: usize| {
        (!column.is_null(i)).then(|| column.value(i).to_string())
    };
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let Ok(address) = ip.value(i).parse::<Ipv4Addr>() else {
            continue;
        };
        let state = LeaseState::parse(state.value(i));
        let (Some(mac), Some(state)) = (parse_mac(mac.value(i)), state) else {
            continue;
        };
        if !active.value(i) || !state.holds() {
            rows.push((at.value(i), Err(address)));
            continue;
        }
        let lease = Lease {
            ip: address,
            mac,
            client_id: optional(client_id, i).and_then(|h| unhex(&h)),
            serial: optional(serial, i),
            device: optional(device, i),
            state,
            starts: starts.value(i),
            ends: ends.value(i),
            subnet: subnet.value(i).to_string(),
            host: optional(host, i),
        };
        rows.push((at.value(i), Ok(lease)));
    }
    Ok(rows)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::events::MemoryStore;

    fn lease(ip: [u8; 4], state: LeaseState) -> Lease {
        Lease {
            ip: Ipv4Addr::from(ip),
            mac: [0x48, 0x65, 0xee, 0x11, 0xda, 0x85],
            client_id: Some(b"\x00591654XK1902037".to_vec()),
            serial: Some("591654XK1902037".into()),
            device: Some("LEAF01".into()),
            state,
            starts: 1_000_000,
            ends: 601_000_000,
            subnet: "10.0.0.0/24".into(),
            host: None,
        }
    }

    #[tokio::test]
    async fn a_persisted_lease_is_loaded_back_and_a_released_one_is_not() {
        let store = Arc::new(MemoryStore::default());
        let log = LeaseLog::new(store.clone(), "10.0.0.1".into());
        let held = lease([10, 0, 0, 200], LeaseState::Bound);
        log.persist(
            vec![held.clone(), lease([10, 0, 0, 201], LeaseState::Bound)],
            1_000_000,
        )
        .await
        .unwrap();
        log.persist(
            vec![lease([10, 0, 0, 201], LeaseState::Released)],
            2_000_000,
        )
        .await
        .unwrap();
        assert_eq!(log.load().await.unwrap(), vec![held]);
        let times: Vec<i64> = store
            .batches
            .lock()
            .iter()
            .flat_map(|(_, batch)| {
                let column = batch.column(0).as_primitive::<TimestampMicrosecondType>();
                column.values().to_vec()
            })
            .collect();
        assert_eq!(
            times,
            [1_000_000, 1_000_000, 2_000_000],
            "rows carry the exchange's time"
        );
    }

    #[test]
    fn macs_round_trip_through_text() {
        let mac = [0x48, 0x65, 0xee, 0x11, 0xda, 0x85];
        assert_eq!(parse_mac(&mac_text(&mac)), Some(mac));
        assert_eq!(parse_mac("48:65:ee:11:da"), None);
        assert_eq!(parse_mac("48:65:ee:11:da:85:00"), None);
    }
}
