//! Sonde's event store: every event lands here, durably, and is queried from here.
//!
//! Appends arrive as Arrow record batches through one narrow interface ([`Engine::append`]),
//! are checked against their table's schema, written to the WAL and fsynced with whatever else
//! is queued (group commit), and only then acknowledged and made visible in the memtable. A flush
//! writes the memtable to hive-style Parquet partitions `<table>/date=YYYY-MM-DD/hour=HH/` in an
//! object store (a local directory by default, S3 as an alternative), sorted by key then time,
//! and retires the WAL segments it covered. Maintenance merges an hour's small files, writes
//! checkpoints of every key's latest row (`checkpoints/<table>/…`, apart from the event tree so
//! outside readers see each event once) and drops partitions past the retention age.
//!
//! Queries run in one DataFusion `SessionContext` where every table is registered (files pruned by
//! hour from time filters, united with the memtable). Two primitives carry time travel: the
//! state of a table at T and its changes between T1 and T2 ([`Engine::state_at`],
//! [`Engine::changes_between`], and the SQL table functions `state_at` and `changes`). The change
//! log of several tables ([`Engine::change_log`]) lists their changes in one ordered list, merged
//! from the files' own order rather than sorted.
//!
//! Choices the design left open: the checkpoint period adapts to each table (a checkpoint is written
//! once the events since the previous one weigh `checkpoint_factor` times as much, 4 by default, so
//! checkpoints add at most a quarter of the event log's bytes and a state query reads one checkpoint
//! plus at most four checkpoints' worth of events); a checkpoint is only used for times after every
//! row still in the memtable, and a late file invalidates the checkpoints it precedes. Rows of the same
//! key with equal timestamps are ordered arbitrarily by state-at-T.

pub mod archive;
mod catalog;
mod change_log;
mod change_merge;
mod current;
mod engine;
mod error;
mod maintenance;
mod newest;
mod parquet_io;
pub mod paths;
mod prefetch;
mod provider;
mod radix;
mod state;
mod state_table;
mod store;
#[cfg(test)]
mod testing;
mod timetravel;
mod wal;

pub use engine::{Engine, EngineConfig, FileKind, FlushStats, StoredFile, TableStats};
pub use error::{EngineError, Result};
pub use maintenance::MaintenanceStats;
pub use sonde_schema::CHANGE;
pub use store::{S3Options, Store, StoreLocation};
pub use timetravel::parse_instant;
pub use wal::Origin;
