//! Compaction: the files of an hour that has more than one are merged into one file, sorted like
//! any other. The merge is written under a compaction intent, published, and only then are its
//! inputs deleted, so a crash at any point leaves every event in the tree exactly once.

use std::sync::atomic::{AtomicU64, Ordering};

use object_store::path::Path;
use sonde_schema::TableDef;

use super::{Maintenance, MaintenanceStats};
use crate::catalog::{EventFile, TableState};
use crate::error::{EngineError, Result};
use crate::parquet_io;
use crate::paths::{EventFilePath, FileOrigin, Hour};

/// The hours worth compacting: those with more than one file, with their files.
pub(crate) fn hours_to_compact(state: &TableState) -> Vec<(Hour, Vec<EventFile>)> {
    state
        .files
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(hour, files)| (*hour, files.clone()))
        .collect()
}

/// A compaction id: µs of wall time, unique and increasing within this process.
pub(crate) fn next_compaction_id() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let id = now.max(last + 1);
        match LAST.compare_exchange(last, id, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return id,
            Err(current) => last = current,
        }
    }
}

impl Maintenance<'_> {
    /// Merges the files of every hour of `table` that has more than one.
    pub(crate) async fn compact_table(
        &self,
        table: &'static TableDef,
        stats: &mut MaintenanceStats,
    ) -> Result<()> {
        let hours = hours_to_compact(self.state.shared.catalog.read().table(table));
        for (hour, inputs) in hours {
            self.compact_hour(table, hour, &inputs).await?;
            stats.files_merged += inputs.len();
            stats.files_written += 1;
        }
        Ok(())
    }

    async fn compact_hour(
        &self,
        table: &'static TableDef,
        hour: Hour,
        inputs: &[EventFile],
    ) -> Result<()> {
        let bytes = self.merge(table, inputs).await?;
        let id = next_compaction_id();
        let output = EventFilePath::new(table.name, hour, FileOrigin::Compaction(id));
        let input_paths: Vec<Path> = inputs.iter().map(|f| f.path.path()).collect();
        let intents = self.intents.ok_or(EngineError::ReadOnly)?;
        intents.begin_compaction(id, &output.path(), &input_paths)?;
        let size = self.state.store.put_durable(&output.path(), bytes).await?;
        self.state
            .shared
            .catalog
            .write()
            .table_mut(table)
            .files
            .insert(hour, vec![EventFile { path: output, size }]);
        for path in &input_paths {
            self.state.store.delete(path).await?;
        }
        intents.end_compaction(id)
    }

    /// Reads the files and encodes their rows as one sorted file.
    async fn merge(&self, table: &'static TableDef, inputs: &[EventFile]) -> Result<bytes::Bytes> {
        let mut batches = Vec::new();
        for input in inputs {
            let bytes = self.state.store.get(&input.path.path()).await?;
            batches.extend(parquet_io::decode(table, bytes)?);
        }
        tokio::task::spawn_blocking(move || parquet_io::encode_sorted(table, &batches))
            .await
            .map_err(|e| EngineError::Wal(format!("compaction task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{hour, state_with_files};

    #[test]
    fn only_hours_with_several_files_are_compacted() {
        let state = state_with_files(&[(0, &[10]), (1, &[10, 20, 30]), (2, &[]), (3, &[5, 5])]);
        let hours: Vec<(Hour, usize)> = hours_to_compact(&state)
            .iter()
            .map(|(h, files)| (*h, files.len()))
            .collect();
        assert_eq!(hours, [(hour(1), 3), (hour(3), 2)]);
        assert!(hours_to_compact(&state_with_files(&[(0, &[1]), (1, &[1])])).is_empty());
    }

    #[test]
    fn compaction_ids_increase_strictly_even_within_one_microsecond() {
        let before = chrono::Utc::now().timestamp_micros() as u64;
        let ids: Vec<u64> = (0..1000).map(|_| next_compaction_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids[0] >= before, "ids are µs of wall time");
    }
}
