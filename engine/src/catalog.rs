//! What the engine holds for each table: its Parquet files by hour, its checkpoints, and its memtable.
//! One lock covers all three, so a query's snapshot never sees a row twice or misses one mid-flush.
//! At start-up the catalog is read from a listing of the store ([`Catalog::load`]).

use std::collections::{BTreeMap, HashMap};

use arrow::array::RecordBatch;
use object_store::ObjectMeta;
use object_store::path::Path;
use sonde_schema::{ALL_TABLES, TableDef};

use crate::current::Current;
use crate::error::Result;
use crate::parquet_io::time_range;
use crate::paths::{CHECKPOINT_ROOT, CheckpointPath, EventFilePath, Hour};
use crate::store::Store;
use crate::wal::Durable;

/// An event file known to the catalog.
#[derive(Debug, Clone)]
pub(crate) struct EventFile {
    pub path: EventFilePath,
    pub size: u64,
}

/// Acknowledged rows not yet in Parquet.
#[derive(Debug, Clone)]
pub(crate) struct MemBatch {
    pub segment: u64,
    pub batch: RecordBatch,
    pub min_ts: i64,
    pub max_ts: i64,
}

#[derive(Debug, Default)]
pub(crate) struct TableState {
    pub files: BTreeMap<Hour, Vec<EventFile>>,
    /// Checkpoint hour → file size.
    pub checkpoints: BTreeMap<Hour, u64>,
    pub mem: Vec<MemBatch>,
    pub mem_rows: usize,
    /// Every key's newest row, when kept.
    pub current: Current,
}

impl TableState {
    /// The oldest timestamp still only in the memtable.
    pub fn mem_min_ts(&self) -> Option<i64> {
        self.mem.iter().map(|m| m.min_ts).min()
    }

    /// The newest checkpoint usable for a state at `t`: at or before `t`, and not newer than any
    /// row still in the memtable (a checkpoint only covers what was in files when it was made).
    pub fn checkpoint_for(&self, t: i64) -> Option<Hour> {
        let limit = self.mem_min_ts().map_or(t, |m| m.min(t));
        self.checkpoints
            .range(..=Hour::containing(limit))
            .next_back()
            .map(|(h, _)| *h)
            .filter(|h| h.start() <= limit)
    }

    pub fn event_bytes(&self) -> u64 {
        self.files.values().flatten().map(|f| f.size).sum()
    }

    pub fn checkpoint_bytes(&self) -> u64 {
        self.checkpoints.values().sum()
    }
}

/// Files and batches a scan reads, taken under the lock.
#[derive(Debug, Default)]
pub(crate) struct ScanSnapshot {
    pub files: Vec<(Path, u64)>,
    pub batches: Vec<RecordBatch>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    tables: HashMap<&'static str, TableState>,
    /// A table's current state is not kept beyond this many bytes.
    pub current_max_bytes: usize,
}

/// The default bound of one table's current state in memory.
pub const CURRENT_STATE_MAX_BYTES: usize = 256 << 20;

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            tables: ALL_TABLES
                .iter()
                .map(|t| (t.name, TableState::default()))
                .collect(),
            current_max_bytes: CURRENT_STATE_MAX_BYTES,
        }
    }
}

impl Catalog {
    /// Lists the store's event files and checkpoints.
    pub async fn load(store: &Store) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for table in ALL_TABLES {
            for meta in store.list(table.name).await? {
                catalog.add_event_file(table, &meta);
            }
        }
        for meta in store.list(CHECKPOINT_ROOT).await? {
            catalog.add_checkpoint(&meta);
        }
        Ok(catalog)
    }

    /// Adds a listed object of `table`'s tree, if it is one of its event files.
    fn add_event_file(&mut self, table: &TableDef, meta: &ObjectMeta) {
        if let Some(path) = EventFilePath::parse(&meta.location).filter(|p| p.table == table.name) {
            self.table_mut(table)
                .files
                .entry(path.hour)
                .or_default()
                .push(EventFile {
                    path,
                    size: meta.size,
                });
        }
    }

    /// Adds a listed object of the checkpoint tree, if it is a checkpoint of a known table.
    fn add_checkpoint(&mut self, meta: &ObjectMeta) {
        let Some(checkpoint) = CheckpointPath::parse(&meta.location) else {
            return;
        };
        if let Some(table) = sonde_schema::table(&checkpoint.table) {
            self.table_mut(table)
                .checkpoints
                .insert(checkpoint.hour, meta.size);
        }
    }

    pub fn table(&self, table: &TableDef) -> &TableState {
        self.tables
            .get(table.name)
            .expect("every table has a state")
    }

    pub fn table_mut(&mut self, table: &TableDef) -> &mut TableState {
        self.tables
            .get_mut(table.name)
            .expect("every table has a state")
    }

    pub fn insert_durable(&mut self, durables: Vec<Durable>) {
        for Durable {
            segment,
            table,
            batch,
            ..
        } in durables
        {
            let Some((min_ts, max_ts)) = time_range(&batch) else {
                continue;
            };
            let max_bytes = self.current_max_bytes;
            let state = self.table_mut(table);
            state.current.apply(&batch, max_bytes);
            state.mem_rows += batch.num_rows();
            state.mem.push(MemBatch {
                segment,
                batch,
                min_ts,
                max_ts,
            });
        }
    }

    pub fn mem_rows(&self) -> usize {
        self.tables.values().map(|t| t.mem_rows).sum()
    }

    /// Memtable batches of segments up to `sealed`, per table.
    pub fn sealed_batches(&self, sealed: u64) -> Vec<(&'static TableDef, Vec<RecordBatch>)> {
        ALL_TABLES
            .iter()
            .map(|t| {
                let batches = self
                    .table(t)
                    .mem
                    .iter()
                    .filter(|m| m.segment <= sealed)
                    .map(|m| m.batch.clone())
                    .collect();
                (*t, batches)
            })
            .filter(|(_, b): &(_, Vec<_>)| !b.is_empty())
            .collect()
    }

    /// Publishes flushed files and drops the memtable batches they hold. Returns the checkpoints
    /// that late rows made stale (they no longer include every earlier row).
    pub fn publish_flush(
        &mut self,
        sealed: u64,
        files: Vec<(EventFile, i64)>,
    ) -> Vec<CheckpointPath> {
        let mut stale = Vec::new();
        for state in self.tables.values_mut() {
            state.mem.retain(|m| m.segment > sealed);
            state.mem_rows = state.mem.iter().map(|m| m.batch.num_rows()).sum();
        }
        for (file, min_ts) in files {
            let state = self
                .tables
                .get_mut(file.path.table.as_str())
                .expect("known table");
            let invalid: Vec<Hour> = state
                .checkpoints
                .keys()
                .filter(|h| h.start() > min_ts)
                .copied()
                .collect();
            for hour in invalid {
                state.checkpoints.remove(&hour);
                stale.push(CheckpointPath::new(&file.path.table, hour));
            }
            state.files.entry(file.path.hour).or_default().push(file);
        }
        stale
    }

    /// Takes what a scan of `table` over `[lo, hi]` needs to read.
    pub fn snapshot(&self, table: &TableDef, lo: Option<i64>, hi: Option<i64>) -> ScanSnapshot {
        let state = self.table(table);
        let first = Hour::containing(lo.unwrap_or(i64::MIN / 2));
        let last = Hour::containing(hi.unwrap_or(i64::MAX / 2));
        let files = state
            .files
            .range(first..=last)
            .flat_map(|(_, files)| files.iter().map(|f| (f.path.path(), f.size)))
            .collect();
        let batches = state
            .mem
            .iter()
            .filter(|m| lo.is_none_or(|lo| m.max_ts >= lo) && hi.is_none_or(|hi| m.min_ts <= hi))
            .map(|m| m.batch.clone())
            .collect();
        ScanSnapshot { files, batches }
    }
}

#[cfg(test)]
mod tests {
    use sonde_schema::families::interfaces;

    use super::*;
    use crate::paths::FileOrigin;
    use crate::testing::{add_mem, at, flushed, hour, local_store, state_with_files};

    #[test]
    fn a_state_uses_the_newest_checkpoint_at_or_before_its_time() {
        let mut state = TableState::default();
        state.checkpoints.insert(hour(0), 10);
        state.checkpoints.insert(hour(3), 10);
        assert_eq!(state.checkpoint_for(at(-1, 59)), None);
        assert_eq!(state.checkpoint_for(hour(0).start()), Some(hour(0)));
        assert_eq!(state.checkpoint_for(at(2, 59)), Some(hour(0)));
        assert_eq!(state.checkpoint_for(at(7, 0)), Some(hour(3)));
    }

    #[test]
    fn a_checkpoint_after_a_memtable_row_is_not_used() {
        let mut state = TableState::default();
        state.checkpoints.insert(hour(0), 10);
        state.checkpoints.insert(hour(3), 10);
        add_mem(&mut state, 1, &[at(2, 30)]);
        assert_eq!(state.mem_min_ts(), Some(at(2, 30)));
        assert_eq!(state.checkpoint_for(at(7, 0)), Some(hour(0)));
    }

    #[test]
    fn a_flush_publishes_its_files_and_drops_the_sealed_memtable() {
        let mut catalog = Catalog::default();
        let table = &interfaces::TABLE;
        let state = catalog.table_mut(table);
        add_mem(state, 1, &[at(0, 1), at(0, 2)]);
        add_mem(state, 2, &[at(5, 1)]);
        state.checkpoints.insert(hour(0), 10);
        state.checkpoints.insert(hour(1), 10);
        state.checkpoints.insert(hour(2), 10);
        assert_eq!(catalog.mem_rows(), 3);
        assert_eq!(catalog.sealed_batches(1)[0].1.len(), 1);

        let stale = catalog.publish_flush(1, vec![(flushed(0, 1, 100), at(0, 1))]);
        let stale: Vec<Hour> = stale.iter().map(|c| c.hour).collect();
        assert_eq!(
            stale,
            [hour(1), hour(2)],
            "checkpoints after the late rows go"
        );
        let state = catalog.table(table);
        assert_eq!(
            state.checkpoints.keys().copied().collect::<Vec<_>>(),
            [hour(0)]
        );
        assert_eq!(state.mem_rows, 1, "segment 2 stays in the memtable");
        assert_eq!(state.files[&hour(0)].len(), 1);
        assert_eq!(state.event_bytes(), 100);
        assert_eq!(state.checkpoint_bytes(), 10);
    }

    #[test]
    fn a_snapshot_reads_only_the_hours_and_batches_its_bounds_allow() {
        let mut catalog = Catalog::default();
        let state = catalog.table_mut(&interfaces::TABLE);
        *state = state_with_files(&[(0, &[1]), (1, &[2, 3]), (2, &[4])]);
        add_mem(state, 9, &[at(3, 0), at(3, 10)]);
        add_mem(state, 9, &[at(5, 0)]);

        let snapshot = catalog.snapshot(&interfaces::TABLE, Some(at(1, 30)), Some(at(3, 5)));
        let sizes: Vec<u64> = snapshot.files.iter().map(|f| f.1).collect();
        assert_eq!(sizes, [2, 3, 4]);
        assert_eq!(snapshot.batches.len(), 1);

        let everything = catalog.snapshot(&interfaces::TABLE, None, None);
        assert_eq!(everything.files.len(), 4);
        assert_eq!(everything.batches.len(), 2);
    }

    #[tokio::test]
    async fn loading_lists_event_files_and_checkpoints_and_skips_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = local_store(dir.path());
        let file = flushed(0, 3, 0).path.path();
        let merged = EventFilePath::new("interfaces", hour(0), FileOrigin::Compaction(8)).path();
        let checkpoint = CheckpointPath::new("interfaces", hour(1)).path();
        let orphan = CheckpointPath::new("no_such_table", hour(1)).path();
        for (path, bytes) in [
            (&file, &b"abc"[..]),
            (&merged, b"abcd"),
            (&checkpoint, b"ab"),
            (&orphan, b"a"),
            (&Path::from("interfaces/README.txt"), b"x"),
        ] {
            store
                .put_durable(path, bytes::Bytes::copy_from_slice(bytes))
                .await
                .expect("put");
        }
        let catalog = Catalog::load(&store).await.expect("load");
        let state = catalog.table(&interfaces::TABLE);
        assert_eq!(state.files[&hour(0)].len(), 2);
        assert_eq!(state.event_bytes(), 7);
        assert_eq!(state.checkpoints.get(&hour(1)), Some(&2));
        assert_eq!(
            catalog
                .table(&sonde_schema::families::bgp::TABLE)
                .files
                .len(),
            0
        );
    }
}
