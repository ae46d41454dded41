//! Where ZTP's rows go: an [`EventStore`] the caller provides (the server adapts its engine), and
//! the [`Recorder`] every handler writes access events through.
//!
//! Access events are not awaited: a handler records its row and answers at once; a writer task
//! gathers rows for up to [`FLUSH_EVERY`] or [`BATCH_ROWS`] rows and appends them table by table.
//! The recorder's queue is bounded: when the store falls that far behind, rows are counted as
//! dropped ([`Recorder::dropped`]) and the servers keep answering. Leases, which must be durable
//! before the answer, go through [`crate::leases`] instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow_array::RecordBatch;
use futures::future::BoxFuture;
use sonde_schema::TableDef;
use sonde_schema::row::{Row, to_batch_from_hosts};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

/// Longest a recorded row waits before it is appended.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Rows gathered before an append happens at once.
pub const BATCH_ROWS: usize = 4096;
/// Rows the recorder queues ahead of the store before it drops.
pub const QUEUE_ROWS: usize = 65_536;

/// The store ZTP appends to and restores from.
pub trait EventStore: Send + Sync + 'static {
    /// Appends a batch of `table`; resolves once the rows are durable.
    fn append(
        &self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> BoxFuture<'static, Result<usize, String>>;

    /// The state of `table` now: every key's newest row, active ones only.
    fn current(
        &self,
        table: &'static TableDef,
    ) -> BoxFuture<'static, Result<Vec<RecordBatch>, String>>;
}

/// One access event: the device it is about (the frame's `hostname`) and its row.
#[derive(Debug, Clone)]
pub struct Event {
    pub hostname: String,
    pub row: Row,
}

/// Hands access events to the writer task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Event>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Queues an event; when the queue is full it is counted as dropped.
    pub fn record(&self, hostname: impl Into<String>, row: Row) {
        let event = Event {
            hostname: hostname.into(),
            row,
        };
        if self.queue.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the store fell behind (or was gone).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A recorder whose events go nowhere but are counted: for tests and tools that serve
    /// without a store.
    pub fn discard() -> (Recorder, mpsc::Receiver<Event>) {
        let (queue, receiver) = mpsc::channel(QUEUE_ROWS);
        (
            Recorder {
                queue,
                dropped: Arc::default(),
            },
            receiver,
        )
    }
}

/// Starts the writer task that appends recorded events to `store`. It ends, having appended
/// everything queued, once every [`Recorder`] clone is dropped.
pub fn spawn_writer(store: Arc<dyn EventStore>) -> (Recorder, JoinHandle<()>) {
    let (recorder, receiver) = Recorder::discard();
    let task = tokio::spawn(write_events(store, receiver));
    (recorder, task)
}

async fn write_events(store: Arc<dyn EventStore>, mut receiver: mpsc::Receiver<Event>) {
    let mut pending: Vec<Event> = Vec::with_capacity(BATCH_ROWS);
    loop {
        let open = gather(&mut receiver, &mut pending).await;
        append_all(store.as_ref(), std::mem::take(&mut pending)).await;
        if !open {
            return;
        }
    }
}

/// Waits for a first event, then gathers more until [`BATCH_ROWS`] or [`FLUSH_EVERY`]; false
/// once the recorders are gone.
async fn gather(receiver: &mut mpsc::Receiver<Event>, pending: &mut Vec<Event>) -> bool {
    match receiver.recv().await {
        Some(event) => pending.push(event),
        None => return false,
    }
    let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
    while pending.len() < BATCH_ROWS {
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(event)) => pending.push(event),
            Ok(None) => return false,
            Err(_) => break,
        }
    }
    true
}

async fn append_all(store: &dyn EventStore, events: Vec<Event>) {
    let mut by_table: HashMap<&'static str, Vec<Event>> = HashMap::new();
    for event in events {
        by_table
            .entry(event.row.table.name)
            .or_default()
            .push(event);
    }
    for (_, events) in by_table {
        let table = events[0].row.table;
        if let Err(error) = append_events(store, table, &events).await {
            warn!(table = table.name, rows = events.len(), %error, "ZTP events were not stored");
        }
    }
}

/// Appends events of one table as one batch.
pub async fn append_events(
    store: &dyn EventStore,
    table: &'static TableDef,
    events: &[Event],
) -> Result<usize, String> {
    let rows: Vec<Row> = events.iter().map(|e| e.row.clone()).collect();
    let batch = to_batch_from_hosts(table, events.iter().map(|e| e.hostname.as_str()), &rows)
        .map_err(|e| e.to_string())?;
    store.append(table, batch).await
}

/// An [`EventStore`] in memory, for tests and for `sonde ztp serve` without a store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub batches: parking_lot::Mutex<Vec<(&'static str, RecordBatch)>>,
}

impl EventStore for MemoryStore {
    fn append(
        &self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> BoxFuture<'static, Result<usize, String>> {
        let rows = batch.num_rows();
        self.batches.lock().push((table.name, batch));
        Box::pin(std::future::ready(Ok(rows)))
    }

    /// Every row appended, newest last: the caller keeps the newest per key.
    fn current(
        &self,
        table: &'static TableDef,
    ) -> BoxFuture<'static, Result<Vec<RecordBatch>, String>> {
        let batches = self
            .batches
            .lock()
            .iter()
            .filter(|(name, _)| *name == table.name)
            .map(|(_, batch)| batch.clone())
            .collect();
        Box::pin(std::future::ready(Ok(batches)))
    }
}
