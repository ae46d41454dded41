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
