//! Checkpoints: every key's latest active row as of the start of an hour, written to
//! `checkpoints/<table>/…` so that a state query reads one checkpoint and the events after it.
//!
//! The period adapts to each table: a checkpoint is due at the first hour where the event bytes
//! since the previous checkpoint reach `checkpoint_factor` times the checkpoint's size (the previous
//! checkpoint's, or for the first one an encoding of the state at the newest hour within
//! [`FIRST_ESTIMATE_BYTES`] of events: a backfill of months is never decoded whole to place its
//! first checkpoint). Checkpoints then add at most 1/factor of the event log's bytes. A checkpoint
//! is never placed after a row that is still only in the memtable, nor past the start of the
//! newest hour that has files (that hour may still grow).

use sonde_schema::TableDef;

use super::{Maintenance, MaintenanceStats};
use crate::catalog::TableState;
use crate::error::{EngineError, Result};
use crate::parquet_io;
use crate::paths::{CheckpointPath, Hour};
use crate::timetravel::state_plan;

/// Where a table's next checkpoint could go.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Candidates {
    /// Size of the newest checkpoint, if there is one.
    pub last_size: Option<u64>,
    /// Each hour a checkpoint could be written at, oldest first, with the event bytes since the
    /// previous checkpoint.
    pub hours: Vec<(Hour, u64)>,
}

/// The hours at which a checkpoint could be written, each with the event bytes since the last one.
pub(crate) fn candidates(state: &TableState) -> Candidates {
    let last = state.checkpoints.iter().next_back().map(|(h, s)| (*h, *s));
    let Some(newest) = state.files.keys().next_back().copied() else {
        return Candidates::default();
    };
    let mem_min = state.mem_min_ts();
    let since = last.map_or(Hour::containing(i64::MIN / 2), |(h, _)| h);
    let mut acc = 0;
    let mut hours = Vec::new();
    for (hour, files) in state.files.range(since..newest) {
        acc += files.iter().map(|f| f.size).sum::<u64>();
        let at = hour.next();
        if mem_min.is_some_and(|m| at.start() > m) {
            break;
        }
        hours.push((at, acc));
    }
    Candidates {
        last_size: last.map(|(_, s)| s),
        hours,
    }
}

/// Event bytes read at most to estimate a table's first checkpoint.
pub(crate) const FIRST_ESTIMATE_BYTES: u64 = 32 << 20;

/// The hour whose state stands for the first checkpoint's size: the newest candidate within
/// [`FIRST_ESTIMATE_BYTES`] of events, or the oldest candidate if even it is past them.
pub(crate) fn first_estimate_hour(hours: &[(Hour, u64)]) -> Option<Hour> {
    hours
        .iter()
        .take_while(|(_, acc)| *acc <= FIRST_ESTIMATE_BYTES)
        .last()
        .or(hours.first())
        .map(|(hour, _)| *hour)
}

/// The first candidate hour whose events since the last checkpoint weigh at least `factor`
/// times a checkpoint of `estimate` bytes.
pub(crate) fn due(hours: &[(Hour, u64)], estimate: u64, factor: f64) -> Option<Hour> {
    hours
        .iter()
        .find(|(_, acc)| *acc as f64 >= factor * estimate as f64)
        .map(|(hour, _)| *hour)
}

impl Maintenance<'_> {
    /// Writes checkpoints wherever the events since the previous one outweigh it
    /// `checkpoint_factor` times.
    pub(crate) async fn checkpoint_table(
        &self,
        table: &'static TableDef,
        stats: &mut MaintenanceStats,
    ) -> Result<()> {
        while let Some(at) = self.next_checkpoint(table).await? {
            self.write_checkpoint(table, at).await?;
            stats.checkpoints_written += 1;
        }
        Ok(())
    }

    /// The hour of the next checkpoint due, if one is.
    async fn next_checkpoint(&self, table: &'static TableDef) -> Result<Option<Hour>> {
        let found = candidates(self.state.shared.catalog.read().table(table));
        let Some(first) = first_estimate_hour(&found.hours) else {
            return Ok(None);
        };
        let estimate = match found.last_size {
            Some(size) => size,
            None => self.encode_checkpoint(table, first).await?.len() as u64,
        };
        Ok(due(&found.hours, estimate, self.checkpoint_factor))
    }

    /// Encodes the state at `hour` and stores it as that hour's checkpoint.
    pub(crate) async fn write_checkpoint(
        &self,
        table: &'static TableDef,
        hour: Hour,
    ) -> Result<()> {
        let bytes = self.encode_checkpoint(table, hour).await?;
        self.store_checkpoint(table, hour, bytes).await
    }

    /// Runs the state at `hour` (every event before it) and encodes it as a checkpoint file.
    async fn encode_checkpoint(
        &self,
        table: &'static TableDef,
        hour: Hour,
    ) -> Result<bytes::Bytes> {
        let plan = state_plan(&self.state.shared, table, hour.start() - 1)?;
        let batches = self.state.collect(plan).await?;
        tokio::task::spawn_blocking(move || parquet_io::encode_sorted(table, &batches))
            .await
            .map_err(|e| EngineError::Wal(format!("checkpoint task failed: {e}")))?
    }

    async fn store_checkpoint(
        &self,
        table: &'static TableDef,
        hour: Hour,
        bytes: bytes::Bytes,
    ) -> Result<()> {
        let path = CheckpointPath::new(table.name, hour).path();
        let size = self.state.store.put_durable(&path, bytes).await?;
        self.state
            .shared
            .catalog
            .write()
            .table_mut(table)
            .checkpoints
            .insert(hour, size);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{add_mem, at, hour, state_with_files};

    #[test]
    fn no_files_no_candidates() {
        assert_eq!(candidates(&TableState::default()), Candidates::default());
    }

    #[test]
    fn candidates_accumulate_bytes_up_to_the_newest_hour() {
        let state = state_with_files(&[(0, &[10]), (1, &[15, 5]), (2, &[30]), (3, &[40])]);
        let found = candidates(&state);
        assert_eq!(found.last_size, None);
        assert_eq!(found.hours, [(hour(1), 10), (hour(2), 30), (hour(3), 60)]);
    }

    #[test]
    fn candidates_count_from_the_last_checkpoint() {
        let mut state =
            state_with_files(&[(0, &[10]), (1, &[20]), (2, &[30]), (3, &[40]), (4, &[1])]);
        state.checkpoints.insert(hour(2), 7);
        let found = candidates(&state);
        assert_eq!(found.last_size, Some(7));
        assert_eq!(found.hours, [(hour(3), 30), (hour(4), 70)]);
    }

    #[test]
    fn candidates_stop_at_the_oldest_memtable_row() {
        let mut state = state_with_files(&[(0, &[10]), (1, &[20]), (2, &[30]), (3, &[40])]);
        add_mem(&mut state, 9, &[at(1, 30), at(3, 0)]);
        assert_eq!(candidates(&state).hours, [(hour(1), 10)]);
        add_mem(&mut state, 9, &[at(0, 59)]);
        assert!(candidates(&state).hours.is_empty());
    }

    #[test]
    fn the_first_estimate_reads_a_bounded_share_of_a_long_history() {
        let mib = 1 << 20;
        let hours: Vec<(Hour, u64)> = (1..=720).map(|h| (hour(h), h as u64 * mib)).collect();
        assert_eq!(first_estimate_hour(&hours), Some(hour(32)));
        assert_eq!(first_estimate_hour(&hours[..10]), Some(hour(10)));
        let huge = [(hour(1), 100 * mib), (hour(2), 200 * mib)];
        assert_eq!(first_estimate_hour(&huge), Some(hour(1)));
        assert_eq!(first_estimate_hour(&[]), None);
    }

    #[test]
    fn a_checkpoint_is_due_once_the_events_outweigh_it_factor_times() {
        let hours = [(hour(1), 10), (hour(2), 30), (hour(3), 60)];
        assert_eq!(due(&hours, 10, 4.0), Some(hour(3)));
        assert_eq!(due(&hours, 10, 3.0), Some(hour(2)));
        assert_eq!(due(&hours, 10, 1.0), Some(hour(1)));
        assert_eq!(due(&hours, 16, 4.0), None);
        assert_eq!(due(&[], 0, 4.0), None);
    }
}
