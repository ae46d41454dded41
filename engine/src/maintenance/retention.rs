//! Retention: whole hours older than the retention age are dropped, events and checkpoints alike.
//!
//! The horizon is the hour containing `now - retention`; every hour before it goes. A checkpoint at
//! the horizon is written first (unless there is one), so the state at any time after the horizon
//! stays complete. Nothing is dropped while the memtable still holds a row from before the horizon:
//! the checkpoint would miss it.

use std::time::Duration;

use object_store::path::Path;
use sonde_schema::TableDef;

use super::{Maintenance, MaintenanceStats};
use crate::catalog::TableState;
use crate::error::Result;
use crate::paths::{CheckpointPath, Hour};

/// The first hour kept when rows older than `retention` before `now` (µs) expire.
pub(crate) fn horizon(now: i64, retention: Duration) -> Hour {
    Hour::containing(now - retention.as_micros().min(i64::MAX as u128) as i64)
}

/// What retention is about to drop from one table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Expiry {
    /// Event files of the hours before the horizon.
    pub files: Vec<Path>,
    /// No checkpoint sits at the horizon yet: one must be written first.
    pub needs_checkpoint: bool,
}

/// What to drop before `horizon`, or `None` when nothing may be dropped yet.
pub(crate) fn expiry(state: &TableState, horizon: Hour) -> Option<Expiry> {
    let files: Vec<Path> = state
        .files
        .range(..horizon)
        .flat_map(|(_, f)| f.iter().map(|f| f.path.path()))
        .collect();
    let mem_before = state.mem_min_ts().is_some_and(|m| m < horizon.start());
    if files.is_empty() || mem_before {
        return None;
    }
    Some(Expiry {
        files,
        needs_checkpoint: !state.checkpoints.contains_key(&horizon),
    })
}

/// Forgets the files and checkpoints before `horizon`; returns the checkpoint hours forgotten.
pub(crate) fn forget_before(state: &mut TableState, horizon: Hour) -> Vec<Hour> {
    state.files = state.files.split_off(&horizon);
    let old: Vec<Hour> = state
        .checkpoints
        .range(..horizon)
        .map(|(h, _)| *h)
        .collect();
    state.checkpoints = state.checkpoints.split_off(&horizon);
    old
}

impl Maintenance<'_> {
    /// Drops the hours older than `retention`, keeping a checkpoint at the horizon so that state
    /// after it stays complete.
    pub(crate) async fn apply_retention(
        &self,
        table: &'static TableDef,
        retention: Duration,
        stats: &mut MaintenanceStats,
    ) -> Result<()> {
        let horizon = horizon(chrono::Utc::now().timestamp_micros(), retention);
        let Some(expiry) = expiry(self.state.shared.catalog.read().table(table), horizon) else {
            return Ok(());
        };
        if expiry.needs_checkpoint {
            self.write_checkpoint(table, horizon).await?;
            stats.checkpoints_written += 1;
        }
        let old_checkpoints =
            forget_before(self.state.shared.catalog.write().table_mut(table), horizon);
        for path in &expiry.files {
            self.state.store.delete(path).await?;
        }
        for hour in old_checkpoints {
            let path = CheckpointPath::new(table.name, hour).path();
            self.state.store.delete(&path).await?;
        }
        stats.files_dropped += expiry.files.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::MICROS_PER_HOUR;
    use crate::testing::{add_mem, at, flushed, hour, state_with_files};

    #[test]
    fn the_horizon_is_the_hour_holding_now_minus_the_retention() {
        let two_hours = Duration::from_secs(2 * 3600);
        assert_eq!(horizon(at(5, 30), two_hours), hour(3));
        assert_eq!(horizon(hour(5).start(), two_hours), hour(3));
        assert_eq!(horizon(hour(5).start() - 1, two_hours), hour(2));
        assert_eq!(horizon(at(0, 0), Duration::from_secs(3599)), hour(-1));
        assert_eq!(
            horizon(at(0, 0), Duration::MAX).start() % MICROS_PER_HOUR,
            0
        );
    }

    #[test]
    fn every_hour_before_the_horizon_expires() {
        let state = state_with_files(&[(0, &[1, 2]), (1, &[3]), (2, &[4]), (3, &[5])]);
        let expiry = expiry(&state, hour(2)).expect("something expires");
        let expected: Vec<Path> = [flushed(0, 1, 0), flushed(0, 2, 0), flushed(1, 3, 0)]
            .iter()
            .map(|f| f.path.path())
            .collect();
        assert_eq!(expiry.files, expected);
        assert!(expiry.needs_checkpoint);
    }

    #[test]
    fn a_checkpoint_at_the_horizon_is_reused() {
        let mut state = state_with_files(&[(0, &[1]), (1, &[3])]);
        state.checkpoints.insert(hour(1), 9);
        assert!(
            !expiry(&state, hour(1))
                .expect("hour 0 expires")
                .needs_checkpoint
        );
    }

    #[test]
    fn nothing_expires_without_old_files_or_while_the_memtable_holds_old_rows() {
        let mut state = state_with_files(&[(2, &[1]), (3, &[1])]);
        assert_eq!(expiry(&state, hour(2)), None, "no file before the horizon");
        state = state_with_files(&[(0, &[1]), (3, &[1])]);
        add_mem(&mut state, 5, &[at(1, 59), at(3, 0)]);
        assert_eq!(
            expiry(&state, hour(2)),
            None,
            "a memtable row precedes the horizon"
        );
        state.mem.clear();
        add_mem(&mut state, 5, &[at(2, 0)]);
        assert!(expiry(&state, hour(2)).is_some());
    }

    #[test]
    fn forgetting_keeps_the_horizon_and_after() {
        let mut state = state_with_files(&[(0, &[1]), (1, &[1]), (2, &[1])]);
        for n in [0, 1, 2] {
            state.checkpoints.insert(hour(n), 1);
        }
        assert_eq!(forget_before(&mut state, hour(1)), [hour(0)]);
        assert_eq!(
            state.files.keys().copied().collect::<Vec<_>>(),
            [hour(1), hour(2)]
        );
        assert_eq!(
            state.checkpoints.keys().copied().collect::<Vec<_>>(),
            [hour(1), hour(2)]
        );
    }
}
