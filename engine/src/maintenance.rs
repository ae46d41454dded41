//! Work on the Parquet tree after the flush: loading it at start-up, finishing or undoing
//! interrupted rewrites, compaction of small files per hour, checkpoints, and retention.
//!
//! A rewrite that a crash could leave half-done first writes an intent file into the WAL
//! directory. A flush intent names the sealed WAL segment: if that segment is still there at
//! start-up, the flush's files are deleted and the WAL replays the rows instead. A compaction
//! intent names its output and inputs: if the output exists, the inputs are deleted; if not,
//! nothing had changed. Either way every event is in the tree exactly once.

use std::path::PathBuf;

use arrow::array::RecordBatch;
use object_store::path::Path;
use serde::{Deserialize, Serialize};
use sonde_schema::{ALL_TABLES, TableDef};

use crate::catalog::{Catalog, EventFile};
use crate::engine::{Engine, MaintenanceStats};
use crate::error::{EngineError, Result};
use crate::parquet_io;
use crate::paths::{CHECKPOINT_ROOT, CheckpointPath, EventFilePath, FileOrigin, Hour};
use crate::store::Store;
use crate::timetravel::state_plan;

/// Lists the store into the catalog.
pub(crate) async fn load_files(store: &Store, catalog: &mut Catalog) -> Result<()> {
    for table in ALL_TABLES {
        for meta in store.list(table.name).await? {
            if let Some(path) =
                EventFilePath::parse(&meta.location).filter(|p| p.table == table.name)
            {
                catalog
                    .table_mut(table)
                    .files
                    .entry(path.hour)
                    .or_default()
                    .push(EventFile {
                        path,
                        size: meta.size,
                    });
            }
        }
    }
    for meta in store.list(CHECKPOINT_ROOT).await? {
        let Some(checkpoint) = CheckpointPath::parse(&meta.location) else {
            continue;
        };
        if let Some(table) = sonde_schema::table(&checkpoint.table) {
            catalog
                .table_mut(table)
                .checkpoints
                .insert(checkpoint.hour, meta.size);
        }
    }
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct CompactionIntent {
    output: String,
    inputs: Vec<String>,
}

/// Intent files of rewrites in progress.
#[derive(Debug)]
pub(crate) struct Intents {
    dir: PathBuf,
}

impl Intents {
    pub fn new(dir: PathBuf) -> Self {
        Intents { dir }
    }

    fn flush_path(&self, segment: u64) -> PathBuf {
        self.dir.join(format!("flush-{segment:012}.intent"))
    }

    fn compaction_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("compact-{id:016}.intent"))
    }

    fn write(&self, path: &PathBuf, contents: &[u8]) -> Result<()> {
        let io = |e| EngineError::io(path.display(), e);
        std::fs::write(path, contents).map_err(io)?;
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| EngineError::io(self.dir.display(), e))
    }

    fn remove(&self, path: &PathBuf) -> Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EngineError::io(path.display(), e)),
        }
    }

    pub fn begin_flush(&self, segment: u64) -> Result<()> {
        self.write(&self.flush_path(segment), b"")
    }

    pub fn end_flush(&self, segment: u64) -> Result<()> {
        self.remove(&self.flush_path(segment))
    }

    fn begin_compaction(&self, id: u64, output: &Path, inputs: &[Path]) -> Result<()> {
        let intent = CompactionIntent {
            output: output.to_string(),
            inputs: inputs.iter().map(|p| p.to_string()).collect(),
        };
        let json = serde_json::to_vec(&intent).map_err(|e| EngineError::Wal(e.to_string()))?;
        self.write(&self.compaction_path(id), &json)
    }

    fn end_compaction(&self, id: u64) -> Result<()> {
        self.remove(&self.compaction_path(id))
    }

    /// Finishes or undoes the rewrites a crash interrupted. A read-only reader only corrects its
    /// catalog, so that it too sees every event once, and leaves the store and the intents alone.
    pub async fn recover(
        &self,
        store: &Store,
        catalog: &mut Catalog,
        wal_segments: &[u64],
        read_only: bool,
    ) -> Result<()> {
        let store = (!read_only).then_some(store);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(());
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let path = self.dir.join(&name);
            if let Some(segment) = intent_id(&name, "flush-") {
                if wal_segments.iter().any(|s| *s <= segment) {
                    undo_flush(store, catalog, segment).await?;
                }
            } else if intent_id(&name, "compact-").is_some() {
                let bytes = std::fs::read(&path).map_err(|e| EngineError::io(path.display(), e))?;
                if let Ok(intent) = serde_json::from_slice::<CompactionIntent>(&bytes) {
                    finish_compaction(store, catalog, intent).await?;
                }
            } else {
                continue;
            }
            if !read_only {
                self.remove(&path)?;
            }
        }
        Ok(())
    }
}

fn intent_id(name: &str, prefix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?
        .strip_suffix(".intent")?
        .parse()
        .ok()
}

async fn undo_flush(store: Option<&Store>, catalog: &mut Catalog, segment: u64) -> Result<()> {
    for table in ALL_TABLES {
        let state = catalog.table_mut(table);
        let mut doomed = Vec::new();
        for files in state.files.values_mut() {
            files.retain(|f| {
                let keep = f.path.origin != FileOrigin::Flush(segment);
                if !keep {
                    doomed.push(f.path.path());
                }
                keep
            });
        }
        state.files.retain(|_, files| !files.is_empty());
        for path in doomed {
            if let Some(store) = store {
                tracing::warn!(%path, "removing a file of an interrupted flush; the WAL replays its rows");
                store.delete(&path).await?;
            }
        }
    }
    Ok(())
}

async fn finish_compaction(
    store: Option<&Store>,
    catalog: &mut Catalog,
    intent: CompactionIntent,
) -> Result<()> {
    let output = Path::from(intent.output.as_str());
    let output_in_catalog = EventFilePath::parse(&output).is_some_and(|out| {
        sonde_schema::table(&out.table)
            .and_then(|t| catalog.table(t).files.get(&out.hour))
            .is_some_and(|files| files.iter().any(|f| f.path == out))
    });
    if !output_in_catalog {
        return Ok(());
    }
    for input in &intent.inputs {
        let input = Path::from(input.as_str());
        if let Some(parsed) = EventFilePath::parse(&input)
            && let Some(table) = sonde_schema::table(&parsed.table)
            && let Some(files) = catalog.table_mut(table).files.get_mut(&parsed.hour)
        {
            files.retain(|f| f.path != parsed);
        }
        if let Some(store) = store {
            store.delete(&input).await?;
        }
    }
    Ok(())
}

/// A compaction id: µs of wall time, unique within this process.
fn next_compaction_id() -> u64 {
    static LAST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
    let mut last = LAST.load(std::sync::atomic::Ordering::Relaxed);
    loop {
        let id = now.max(last + 1);
        match LAST.compare_exchange(
            last,
            id,
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
        ) {
            Ok(_) => return id,
            Err(current) => last = current,
        }
    }
}

/// Merges the files of every hour that has more than one.
pub(crate) async fn compact_table(
    engine: &Engine,
    table: &'static TableDef,
    stats: &mut MaintenanceStats,
) -> Result<()> {
    let hours: Vec<(Hour, Vec<EventFile>)> = {
        let catalog = engine.shared().catalog.read();
        catalog
            .table(table)
            .files
            .iter()
            .filter(|(_, f)| f.len() > 1)
            .map(|(h, f)| (*h, f.clone()))
            .collect()
    };
    for (hour, inputs) in hours {
        let mut batches = Vec::new();
        for input in &inputs {
            batches.extend(parquet_io::decode(
                table,
                engine.store().get(&input.path.path()).await?,
            )?);
        }
        let bytes = tokio::task::spawn_blocking(move || parquet_io::encode_sorted(table, &batches))
            .await
            .map_err(|e| EngineError::Wal(format!("compaction task failed: {e}")))??;
        let id = next_compaction_id();
        let output = EventFilePath::new(table.name, hour, FileOrigin::Compaction(id));
        let input_paths: Vec<Path> = inputs.iter().map(|f| f.path.path()).collect();
        let intents = engine.intents()?;
        intents.begin_compaction(id, &output.path(), &input_paths)?;
        let size = engine.store().put_durable(&output.path(), bytes).await?;
        engine
            .shared()
            .catalog
            .write()
            .table_mut(table)
            .files
            .insert(hour, vec![EventFile { path: output, size }]);
        for path in &input_paths {
            engine.store().delete(path).await?;
        }
        intents.end_compaction(id)?;
        stats.files_merged += inputs.len();
        stats.files_written += 1;
    }
    Ok(())
}

/// Runs the state at `hour` (every event before it) and encodes it as a checkpoint file.
async fn encode_checkpoint(
    engine: &Engine,
    table: &'static TableDef,
    hour: Hour,
) -> Result<bytes::Bytes> {
    let plan = state_plan(engine.shared(), table, hour.start() - 1)?;
    let batches: Vec<RecordBatch> = engine.collect(plan).await?;
    tokio::task::spawn_blocking(move || parquet_io::encode_sorted(table, &batches))
        .await
        .map_err(|e| EngineError::Wal(format!("checkpoint task failed: {e}")))?
}

async fn store_checkpoint(
    engine: &Engine,
    table: &'static TableDef,
    hour: Hour,
    bytes: bytes::Bytes,
) -> Result<()> {
    let size = engine
        .store()
        .put_durable(&CheckpointPath::new(table.name, hour).path(), bytes)
        .await?;
    engine
        .shared()
        .catalog
        .write()
        .table_mut(table)
        .checkpoints
        .insert(hour, size);
    Ok(())
}

/// The hours at which a checkpoint could be written, each with the event bytes since the last one.
fn checkpoint_candidates(engine: &Engine, table: &TableDef) -> (Option<u64>, Vec<(Hour, u64)>) {
    let catalog = engine.shared().catalog.read();
    let state = catalog.table(table);
    let last = state.checkpoints.iter().next_back().map(|(h, s)| (*h, *s));
    let Some(newest) = state.files.keys().next_back().copied() else {
        return (None, Vec::new());
    };
    let mem_min = state.mem_min_ts();
    let since = last.map_or(Hour::containing(i64::MIN / 2), |(h, _)| h);
    let mut acc = 0;
    let mut candidates = Vec::new();
    for (hour, files) in state.files.range(since..newest) {
        acc += files.iter().map(|f| f.size).sum::<u64>();
        let at = hour.next();
        if mem_min.is_some_and(|m| at.start() > m) {
            break;
        }
        candidates.push((at, acc));
    }
    (last.map(|(_, s)| s), candidates)
}

/// Writes checkpoints wherever the events since the previous one outweigh it `checkpoint_factor` times.
pub(crate) async fn checkpoint_table(
    engine: &Engine,
    table: &'static TableDef,
    stats: &mut MaintenanceStats,
) -> Result<()> {
    let factor = engine.checkpoint_factor();
    loop {
        let (last_size, candidates) = checkpoint_candidates(engine, table);
        let Some(&(latest, _)) = candidates.last() else {
            return Ok(());
        };
        let estimate = match last_size {
            Some(size) => size,
            None => encode_checkpoint(engine, table, latest).await?.len() as u64,
        };
        let Some(&(at, _)) = candidates
            .iter()
            .find(|(_, acc)| *acc as f64 >= factor * estimate as f64)
        else {
            return Ok(());
        };
        let bytes = encode_checkpoint(engine, table, at).await?;
        store_checkpoint(engine, table, at, bytes).await?;
        stats.checkpoints_written += 1;
    }
}

/// Drops the hours older than `retention`, keeping a checkpoint at the horizon so that state
/// after it stays complete.
pub(crate) async fn apply_retention(
    engine: &Engine,
    table: &'static TableDef,
    retention: std::time::Duration,
    stats: &mut MaintenanceStats,
) -> Result<()> {
    let now = chrono::Utc::now().timestamp_micros();
    let horizon = Hour::containing(now - retention.as_micros().min(i64::MAX as u128) as i64);
    let (expired, has_checkpoint, mem_before) = {
        let catalog = engine.shared().catalog.read();
        let state = catalog.table(table);
        let expired: Vec<Path> = state
            .files
            .range(..horizon)
            .flat_map(|(_, f)| f.iter().map(|f| f.path.path()))
            .collect();
        (
            expired,
            state.checkpoints.contains_key(&horizon),
            state.mem_min_ts().is_some_and(|m| m < horizon.start()),
        )
    };
    if expired.is_empty() || mem_before {
        return Ok(());
    }
    if !has_checkpoint {
        let bytes = encode_checkpoint(engine, table, horizon).await?;
        store_checkpoint(engine, table, horizon, bytes).await?;
        stats.checkpoints_written += 1;
    }
    let old_checkpoints: Vec<Hour> = {
        let mut catalog = engine.shared().catalog.write();
        let state = catalog.table_mut(table);
        state.files = state.files.split_off(&horizon);
        let old = state
            .checkpoints
            .range(..horizon)
            .map(|(h, _)| *h)
            .collect::<Vec<_>>();
        state.checkpoints = state.checkpoints.split_off(&horizon);
        old
    };
    for path in &expired {
        engine.store().delete(path).await?;
    }
    for hour in old_checkpoints {
        engine
            .store()
            .delete(&CheckpointPath::new(table.name, hour).path())
            .await?;
    }
    stats.files_dropped += expired.len();
    Ok(())
}
