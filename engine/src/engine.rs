//! The engine: opens a store, replays the WAL, takes appends, flushes, compacts and answers queries.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use bytes::Bytes;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};
use parking_lot::Mutex;
use sonde_schema::{ALL_TABLES, TableDef, conform_batch};
use tokio::sync::{Notify, oneshot};
use tracing::{info, warn};

use crate::catalog::{Catalog, EventFile};
use crate::error::{EngineError, Result};
use crate::maintenance::{Intents, Maintenance, MaintenanceStats};
use crate::parquet_io;
use crate::paths::{CheckpointPath, EventFilePath, FileOrigin, Hour};
use crate::state::State;
use crate::state_table;
use crate::store::{S3Options, Store, StoreLocation};
use crate::timetravel;
use crate::wal::{self, Durable, Origin, Sources, WalWriter};

/// How the engine is set up. `EngineConfig::local(dir)` is the embedded default.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub store: StoreLocation,
    pub s3: S3Options,
    /// The WAL is always on local disk, whatever the store.
    pub wal_dir: PathBuf,
    /// Flush the memtable once it holds this many rows…
    pub flush_rows: usize,
    /// …or once its oldest row waited this long.
    pub flush_interval: Duration,
    /// How often compaction, checkpoints and retention run.
    pub maintenance_interval: Duration,
    /// Partitions older than this are dropped; `None` keeps everything.
    pub retention: Option<Duration>,
    /// A checkpoint is written once the events since the previous one weigh this many times the
    /// checkpoint: checkpoints then add at most 1/factor of the event log's bytes.
    pub checkpoint_factor: f64,
    /// Open without replaying into the WAL's files, taking the lock or writing anything.
    pub read_only: bool,
    /// A table's current state (every key's newest row) is kept in memory up to this many bytes;
    /// a table past it answers questions about the present by scanning, as for the past.
    pub current_state_bytes: usize,
}

impl EngineConfig {
    /// A store in a local directory, with its WAL in `<dir>/wal`.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        EngineConfig {
            wal_dir: dir.join("wal"),
            store: StoreLocation::Local(dir),
            s3: S3Options::default(),
            flush_rows: 1_000_000,
            flush_interval: Duration::from_secs(60),
            maintenance_interval: Duration::from_secs(300),
            retention: None,
            checkpoint_factor: 4.0,
            read_only: false,
            current_state_bytes: crate::catalog::CURRENT_STATE_MAX_BYTES,
        }
    }
}

/// A flush that writes at least this many files (hours of a table) is taken for a backfill.
const BACKFILL_FLUSH_FILES: usize = 8;

/// What a file of the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// Events of one hour.
    Events,
    /// Every key's latest row as of the start of the hour.
    Checkpoint,
}

/// One file of the store, as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub path: object_store::path::Path,
    pub size: u64,
    pub table: &'static str,
    pub hour: Hour,
    pub kind: FileKind,
}

/// What one flush wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FlushStats {
    pub rows: usize,
    pub files: usize,
    pub bytes: u64,
}

/// Sizes of one table in the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableStats {
    pub event_files: usize,
    pub event_bytes: u64,
    pub checkpoints: usize,
    pub checkpoint_bytes: u64,
    pub memtable_rows: usize,
    /// Keys and bytes of the current state in memory, when it is kept.
    pub current_keys: Option<usize>,
    pub current_bytes: Option<usize>,
}

/// The event store. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", self.inner.state.store.location())
            .finish()
    }
}

struct Inner {
    config: EngineConfig,
    /// The store, its catalog and the session: what maintenance is lent.
    state: State,
    wal: Mutex<Option<WalWriter>>,
    intents: Option<Intents>,
    /// Serialises flushes and maintenance: both rewrite the catalog's file lists.
    rewrite: tokio::sync::Mutex<()>,
    /// Woken when the memtable passes `flush_rows`.
    flush_wanted: Notify,
    /// Set by a flush that took a backfill: the background task maintains at once.
    maintenance_wanted: AtomicBool,
    oldest_unflushed: Mutex<Option<Instant>>,
    /// Highest sequence number accepted per source, to drop batches sent twice.
    sources: Mutex<Sources>,
    _lock: Option<std::fs::File>,
}

/// What start-up recovered: the catalog with the replayed rows, and where the WAL goes on.
struct Recovered {
    catalog: Catalog,
    replayed_rows: usize,
    next_segment: u64,
    sources: Sources,
}

/// Loads the catalog, replays the WAL and finishes or undoes the rewrites a crash interrupted.
async fn recover(config: &EngineConfig, store: &Store, intents: &Intents) -> Result<Recovered> {
    let mut catalog = Catalog::load(store).await?;
    catalog.current_max_bytes = config.current_state_bytes;
    let replay = if config.wal_dir.exists() {
        wal::replay(&config.wal_dir, config.read_only)?
    } else {
        Default::default()
    };
    intents
        .recover(store, &mut catalog, &replay.segments, config.read_only)
        .await?;
    for (segment, bytes) in &replay.dropped {
        warn!(segment, bytes, "dropped a torn or corrupt WAL tail");
    }
    let replayed_rows: usize = replay.records.iter().map(|r| r.batch.num_rows()).sum();
    if replayed_rows > 0 {
        info!(
            rows = replayed_rows,
            segments = replay.segments.len(),
            "replayed the WAL"
        );
    }
    catalog.insert_durable(replay.records);
    Ok(Recovered {
        catalog,
        replayed_rows,
        next_segment: replay.segments.last().map_or(1, |s| s + 1),
        sources: replay.sources,
    })
}

impl Engine {
    /// Opens the store, creating a local one unless `read_only`: a reader never makes files, and
    /// a local store that is not there is [`EngineError::NoStore`].
    pub async fn open(config: EngineConfig) -> Result<Engine> {
        if let (true, StoreLocation::Local(dir)) = (config.read_only, &config.store)
            && !dir.is_dir()
        {
            return Err(EngineError::NoStore(dir.display().to_string()));
        }
        let store = Store::open(&config.store, &config.s3)?;
        let lock = if config.read_only {
            None
        } else {
            Some(take_lock(&config.wal_dir)?)
        };
        let intents = Intents::new(config.wal_dir.clone());
        let recovered = recover(&config, &store, &intents).await?;
        let inner = Arc::new(Inner {
            state: State::new(store, recovered.catalog)?,
            wal: Mutex::new(None),
            intents: (!config.read_only).then_some(intents),
            rewrite: tokio::sync::Mutex::new(()),
            flush_wanted: Notify::new(),
            maintenance_wanted: AtomicBool::new(false),
            oldest_unflushed: Mutex::new((recovered.replayed_rows > 0).then(Instant::now)),
            sources: Mutex::new(recovered.sources.clone()),
            _lock: lock,
            config,
        });
        if !inner.config.read_only {
            inner.start_wal(recovered.next_segment, recovered.sources)?;
        }
        Ok(Engine { inner })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn tables(&self) -> &'static [&'static TableDef] {
        ALL_TABLES
    }

    pub fn table(&self, name: &str) -> Result<&'static TableDef> {
        sonde_schema::table(name).ok_or_else(|| EngineError::UnknownTable(name.to_string()))
    }

    /// Appends a batch and returns its row count once it is durable and visible to queries.
    pub async fn append(&self, table: &str, batch: &RecordBatch) -> Result<usize> {
        self.submit(table, batch)?.await
    }

    /// Validates and queues a batch. The returned future resolves once it is durable, so a caller
    /// can keep several in flight and let group commit share one fsync among them.
    pub fn submit(
        &self,
        table: &str,
        batch: &RecordBatch,
    ) -> Result<impl Future<Output = Result<usize>> + Send + 'static + use<>> {
        self.submit_from(table, batch, None)
    }

    /// Like `submit`, for a batch numbered by its source: a batch whose number the engine has
    /// already accepted from that source is acknowledged (with 0 rows) but not stored again.
    pub fn submit_from(
        &self,
        table: &str,
        batch: &RecordBatch,
        origin: Option<Origin>,
    ) -> Result<impl Future<Output = Result<usize>> + Send + 'static + use<>> {
        let table = self.table(table)?;
        let batch = conform_batch(table, batch)?;
        let rows = batch.num_rows();
        if let Some(origin) = &origin
            && !self.accept(origin)
        {
            return Ok(futures::future::Either::Left(std::future::ready(Ok(0))));
        }
        let receiver = if rows == 0 {
            None
        } else {
            Some(self.queue(table, batch, origin.clone())?)
        };
        let inner = Arc::clone(&self.inner);
        Ok(futures::future::Either::Right(async move {
            let Some(receiver) = receiver else {
                return Ok(0);
            };
            let written = receiver.await.map_err(|_| EngineError::Closed);
            if let Err(e) = written.and_then(|r| r) {
                if let Some(origin) = &origin {
                    inner.forget(origin);
                }
                return Err(e);
            }
            inner.note_unflushed();
            Ok(rows)
        }))
    }

    /// Hands a conformed batch to the WAL writer; the receiver resolves once it is durable.
    fn queue(
        &self,
        table: &'static TableDef,
        batch: RecordBatch,
        origin: Option<Origin>,
    ) -> Result<oneshot::Receiver<Result<u64>>> {
        let record = wal::encode_record(table, &batch, origin.as_ref())?;
        let guard = self.inner.wal.lock();
        let writer = guard.as_ref().ok_or(if self.inner.config.read_only {
            EngineError::ReadOnly
        } else {
            EngineError::Closed
        })?;
        writer.submit(
            record,
            Durable {
                segment: 0,
                table,
                batch,
                origin,
            },
        )
    }

    /// Records a numbered batch as accepted; false when its number was accepted before.
    fn accept(&self, origin: &Origin) -> bool {
        let mut sources = self.inner.sources.lock();
        match sources.get(&*origin.source) {
            Some(&seen) if origin.seq <= seen => false,
            _ => {
                wal::note_origin(&mut sources, origin);
                true
            }
        }
    }

    /// Flushes while the memtable is far past its flush threshold, so that a fast writer cannot
    /// outrun flushing, whether or not a background task is running.
    pub async fn backpressure(&self) {
        let limit = self.inner.config.flush_rows.saturating_mul(4);
        while self.inner.state.shared.catalog.read().mem_rows() > limit {
            if let Err(e) = self.flush().await {
                warn!(error = %e, "flush under backpressure failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Writes every acknowledged row to Parquet and retires the WAL segments that held them.
    pub async fn flush(&self) -> Result<FlushStats> {
        let _rewrite = self.inner.rewrite.lock().await;
        let stats = self.inner.flush().await?;
        // A flush that wrote many hours is a backfill, whether the background task or a writer
        // under backpressure ran it: its checkpoints are written now, while the rest of it is
        // still arriving, not at the end.
        if stats.files >= BACKFILL_FLUSH_FILES {
            self.inner.maintenance_wanted.store(true, Ordering::Release);
            self.inner.flush_wanted.notify_one();
        }
        Ok(stats)
    }

    /// Compacts small files, writes due checkpoints and applies retention.
    pub async fn maintain(&self) -> Result<MaintenanceStats> {
        if self.inner.config.read_only {
            return Err(EngineError::ReadOnly);
        }
        let _rewrite = self.inner.rewrite.lock().await;
        self.inner.maintenance().run().await
    }

    /// Runs flushes and maintenance until `shutdown` resolves, then flushes once more.
    pub async fn run_background(&self, shutdown: impl Future<Output = ()>) {
        if self.inner.config.read_only {
            return shutdown.await;
        }
        let mut shutdown = std::pin::pin!(shutdown);
        let mut next_maintenance = Instant::now() + self.inner.config.maintenance_interval;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                () = self.inner.flush_wanted.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if self.inner.flush_due()
                && let Err(e) = self.flush().await
            {
                warn!(error = %e, "flush failed; the rows stay in the WAL and will be retried")
            }
            if self.inner.maintenance_wanted.swap(false, Ordering::AcqRel) {
                next_maintenance = Instant::now();
            }
            if Instant::now() >= next_maintenance {
                next_maintenance = Instant::now() + self.inner.config.maintenance_interval;
                match self.maintain().await {
                    Ok(stats) if stats != MaintenanceStats::default() => {
                        info!(?stats, "maintenance")
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "maintenance failed"),
                }
            }
        }
    }

    /// Flushes and stops the WAL writer. Appends after this fail with `Closed`.
    pub async fn close(&self) -> Result<()> {
        if self.inner.config.read_only {
            return Ok(());
        }
        self.flush().await?;
        if let Some(mut writer) = self.inner.wal.lock().take() {
            writer.stop();
        }
        Ok(())
    }

    pub fn session(&self) -> &SessionContext {
        &self.inner.state.ctx
    }

    pub async fn sql(&self, query: &str) -> Result<DataFrame> {
        Ok(self.inner.state.ctx.sql(query).await?)
    }

    /// Runs a plan and collects its batches.
    pub async fn collect(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        self.inner.state.collect(plan).await
    }

    /// `plan` ready to run; one ordered partition when the plan asks for an order.
    pub async fn physical_plan(&self, plan: LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.state.physical_plan(plan).await
    }

    pub async fn stream(&self, plan: LogicalPlan) -> Result<SendableRecordBatchStream> {
        let plan = self.inner.state.physical_plan(plan).await?;
        Ok(datafusion::physical_plan::execute_stream(
            plan,
            self.inner.state.ctx.task_ctx(),
        )?)
    }

    /// State of `table` at `at` (µs since the epoch).
    pub fn state_at(&self, table: &str, at: i64) -> Result<LogicalPlan> {
        timetravel::state_plan(&self.inner.state.shared, self.table(table)?, at)
    }

    /// Builds the current state of every table that holds rows, so the first questions about the
    /// present read no files either. Returns the tables whose state is kept.
    pub async fn load_current_states(&self) -> Result<Vec<&'static str>> {
        let session = self.inner.state.ctx.state();
        let mut kept = Vec::new();
        for table in self.tables() {
            let empty = {
                let catalog = self.inner.state.shared.catalog.read();
                let state = catalog.table(table);
                state.files.is_empty() && state.checkpoints.is_empty() && state.mem.is_empty()
            };
            if empty {
                continue;
            }
            let rows = state_table::current_rows(
                table,
                &self.inner.state.shared,
                &session,
                i64::MAX,
                true,
            )
            .await
            .map_err(EngineError::Query)?;
            if rows.is_some() {
                kept.push(table.name);
            }
        }
        Ok(kept)
    }

    /// Changes of `table` with `from <= timestamp <= to` (µs since the epoch).
    pub fn changes_between(&self, table: &str, from: i64, to: i64) -> Result<LogicalPlan> {
        timetravel::changes_plan(&self.inner.state.shared, self.table(table)?, from, to)
    }

    /// The changes of `tables` with `from <= timestamp <= to` (µs since the epoch) as one list in
    /// the change log's order ([`sonde_schema::change_log_schema`]), read without a sort.
    pub fn change_log(&self, tables: &[&str], from: i64, to: i64) -> Result<LogicalPlan> {
        let tables = tables
            .iter()
            .map(|t| self.table(t))
            .collect::<Result<Vec<_>>>()?;
        timetravel::change_log_plan(&self.inner.state.shared, tables, from, to)
    }

    /// The store the engine reads and writes.
    pub fn store(&self) -> &Store {
        &self.inner.state.store
    }

    /// Every event file and checkpoint the catalog holds now, table by table and hour by hour.
    pub fn stored_files(&self) -> Vec<StoredFile> {
        let catalog = self.inner.state.shared.catalog.read();
        let mut files = Vec::new();
        for table in self.tables() {
            let state = catalog.table(table);
            for event in state.files.values().flatten() {
                files.push(StoredFile {
                    path: event.path.path(),
                    size: event.size,
                    table: table.name,
                    hour: event.path.hour,
                    kind: FileKind::Events,
                });
            }
            for (hour, size) in &state.checkpoints {
                files.push(StoredFile {
                    path: CheckpointPath::new(table.name, *hour).path(),
                    size: *size,
                    table: table.name,
                    hour: *hour,
                    kind: FileKind::Checkpoint,
                });
            }
        }
        files
    }

    pub fn table_stats(&self, table: &str) -> Result<TableStats> {
        let def = self.table(table)?;
        let catalog = self.inner.state.shared.catalog.read();
        let state = catalog.table(def);
        Ok(TableStats {
            event_files: state.files.values().map(Vec::len).sum(),
            event_bytes: state.event_bytes(),
            checkpoints: state.checkpoints.len(),
            checkpoint_bytes: state.checkpoint_bytes(),
            memtable_rows: state.mem_rows,
            current_keys: state.current.size().map(|(keys, _)| keys),
            current_bytes: state.current.size().map(|(_, bytes)| bytes),
        })
    }
}

impl Inner {
    /// Starts the WAL writer, which publishes each committed group to the catalog.
    fn start_wal(&self, next_segment: u64, sources: Sources) -> Result<()> {
        let shared = Arc::clone(&self.state.shared);
        let on_durable: wal::OnDurable =
            Box::new(move |durables| shared.catalog.write().insert_durable(durables));
        let writer = WalWriter::start(
            self.config.wal_dir.clone(),
            next_segment,
            sources,
            on_durable,
        )?;
        *self.wal.lock() = Some(writer);
        Ok(())
    }

    /// A maintenance pass over the state, with the configured policy.
    fn maintenance(&self) -> Maintenance<'_> {
        Maintenance {
            state: &self.state,
            intents: self.intents.as_ref(),
            checkpoint_factor: self.config.checkpoint_factor.max(1.0),
            retention: self.config.retention,
        }
    }

    /// Lets a numbered batch that failed to become durable be sent again.
    fn forget(&self, origin: &Origin) {
        let mut sources = self.sources.lock();
        if let Some(seen) = sources.get_mut(&*origin.source)
            && *seen == origin.seq
        {
            *seen = origin.seq.saturating_sub(1);
        }
    }

    fn note_unflushed(&self) {
        let mut oldest = self.oldest_unflushed.lock();
        oldest.get_or_insert_with(Instant::now);
        drop(oldest);
        if self.state.shared.catalog.read().mem_rows() >= self.config.flush_rows {
            self.flush_wanted.notify_one();
        }
    }

    fn flush_due(&self) -> bool {
        let aged = self
            .oldest_unflushed
            .lock()
            .is_some_and(|t| t.elapsed() >= self.config.flush_interval);
        aged || self.state.shared.catalog.read().mem_rows() >= self.config.flush_rows
    }

    /// Seals the WAL segment, writes the rows it covers to Parquet, publishes the files and
    /// retires the sealed segments, all under a flush intent.
    async fn flush(&self) -> Result<FlushStats> {
        if self.config.read_only {
            return Err(EngineError::ReadOnly);
        }
        if self.state.shared.catalog.read().mem_rows() == 0 {
            return Ok(FlushStats::default());
        }
        let sealed = self.seal().await?;
        let sealed_batches = self.state.shared.catalog.read().sealed_batches(sealed);
        let intents = self.intents.as_ref().ok_or(EngineError::ReadOnly)?;
        intents.begin_flush(sealed)?;
        let written = try_join_all(
            sealed_batches
                .into_iter()
                .map(|(table, batches)| self.write_table(table, batches, sealed)),
        )
        .await?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        let stats = FlushStats {
            rows: written.iter().map(|w| w.rows).sum(),
            files: written.len(),
            bytes: written.iter().map(|w| w.file.size).sum(),
        };
        self.publish(sealed, written).await?;
        self.retire_segments(sealed)?;
        intents.end_flush(sealed)?;
        Ok(stats)
    }

    /// Seals the current WAL segment and returns its number.
    async fn seal(&self) -> Result<u64> {
        let rotated = self
            .wal
            .lock()
            .as_ref()
            .ok_or(EngineError::Closed)?
            .rotate()?;
        let sealed = rotated.await.map_err(|_| EngineError::Closed)??;
        *self.oldest_unflushed.lock() = None;
        Ok(sealed)
    }

    /// Publishes the flushed files and deletes the checkpoints their late rows made stale.
    async fn publish(&self, sealed: u64, written: Vec<Written>) -> Result<()> {
        let stale = self.state.shared.catalog.write().publish_flush(
            sealed,
            written.into_iter().map(|w| (w.file, w.min_ts)).collect(),
        );
        for checkpoint in stale {
            self.state.store.delete(&checkpoint.path()).await?;
        }
        Ok(())
    }

    /// Deletes the WAL segments up to `sealed`: their rows are in Parquet now.
    fn retire_segments(&self, sealed: u64) -> Result<()> {
        for segment in wal::list_segments(&self.config.wal_dir)?
            .into_iter()
            .filter(|s| *s <= sealed)
        {
            let path = wal::segment_path(&self.config.wal_dir, segment);
            std::fs::remove_file(&path).map_err(|e| EngineError::io(path.display(), e))?;
        }
        Ok(())
    }

    /// Encodes one table's sealed rows into one file per hour and stores them. The hours are
    /// encoded side by side, as many at once as there are cores: a backfill brings hundreds.
    async fn write_table(
        &self,
        table: &'static TableDef,
        batches: Vec<RecordBatch>,
        sealed: u64,
    ) -> Result<Vec<Written>> {
        let hours = tokio::task::spawn_blocking(move || parquet_io::split_by_hour(&batches))
            .await
            .map_err(|e| EngineError::Wal(format!("flush task failed: {e}")))??;
        futures::stream::iter(hours)
            .map(|(hour, parts)| self.write_hour(table, hour, parts, sealed))
            .buffer_unordered(encoding_threads())
            .try_collect()
            .await
    }

    async fn write_hour(
        &self,
        table: &'static TableDef,
        hour: Hour,
        parts: Vec<RecordBatch>,
        sealed: u64,
    ) -> Result<Written> {
        let encoded = tokio::task::spawn_blocking(move || encode_hour(table, hour, &parts))
            .await
            .map_err(|e| EngineError::Wal(format!("flush task failed: {e}")))??;
        let path = EventFilePath::new(table.name, hour, FileOrigin::Flush(sealed));
        let size = self
            .state
            .store
            .put_durable(&path.path(), encoded.bytes)
            .await?;
        Ok(Written {
            file: EventFile { path, size },
            rows: encoded.rows,
            min_ts: encoded.min_ts,
        })
    }
}

/// How many files to encode at once: one per core.
fn encoding_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One hour of a table's flushed rows, encoded.
struct EncodedHour {
    bytes: Bytes,
    rows: usize,
    min_ts: i64,
}

/// Encodes one hour's rows as one sorted file.
fn encode_hour(table: &TableDef, hour: Hour, parts: &[RecordBatch]) -> Result<EncodedHour> {
    let min_ts = parts
        .iter()
        .filter_map(parquet_io::time_range)
        .map(|r| r.0)
        .min()
        .unwrap_or(hour.start());
    Ok(EncodedHour {
        bytes: parquet_io::encode_sorted(table, parts)?,
        rows: parquet_io::row_count(parts),
        min_ts,
    })
}

/// A file a flush stored, with what it holds.
struct Written {
    file: EventFile,
    rows: usize,
    min_ts: i64,
}

/// Takes the store's write lock: one writing server per WAL directory.
fn take_lock(wal_dir: &std::path::Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(wal_dir).map_err(|e| EngineError::io(wal_dir.display(), e))?;
    let path = wal_dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| EngineError::io(path.display(), e))?;
    file.try_lock()
        .map_err(|_| EngineError::Locked(path.display().to_string()))?;
    Ok(file)
}
