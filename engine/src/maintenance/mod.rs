//! Work on the Parquet tree after the flush, one job per file: [`compaction`] of an hour's small
//! files, [`checkpoints`] of every key's latest row, [`retention`] of whole old hours, and the
//! [`intents`] log that lets a crash interrupt a rewrite without losing or doubling an event.
//!
//! A pass ([`Maintenance::run`]) runs, table by table, compaction, then checkpoints, then (when a
//! retention age is set) retention. The engine serialises passes with its flushes and lends each
//! pass the shared [`State`]; maintenance knows nothing of the engine itself.

mod checkpoints;
mod compaction;
pub(crate) mod intents;
mod retention;

use std::time::Duration;

use sonde_schema::ALL_TABLES;

use crate::error::Result;
use crate::state::State;

pub(crate) use intents::Intents;

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceStats {
    pub files_merged: usize,
    pub files_written: usize,
    pub checkpoints_written: usize,
    pub files_dropped: usize,
}

/// One maintenance pass over the store.
pub(crate) struct Maintenance<'a> {
    pub state: &'a State,
    /// `None` when the store is open read-only: compaction then refuses to run.
    pub intents: Option<&'a Intents>,
    /// Events since the last checkpoint must weigh this many times a checkpoint (at least 1).
    pub checkpoint_factor: f64,
    /// Hours older than this are dropped; `None` keeps everything.
    pub retention: Option<Duration>,
}

impl Maintenance<'_> {
    /// Compacts small files, writes due checkpoints and applies retention, table by table.
    pub async fn run(&self) -> Result<MaintenanceStats> {
        let mut stats = MaintenanceStats::default();
        for table in ALL_TABLES {
            self.compact_table(table, &mut stats).await?;
            self.checkpoint_table(table, &mut stats).await?;
            if let Some(retention) = self.retention {
                self.apply_retention(table, retention, &mut stats).await?;
            }
        }
        Ok(stats)
    }
}
