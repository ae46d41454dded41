//! Sonde's table schemas: every telemetry family is an event log with one Arrow schema, defined once here.
//!
//! Agents, INT receivers and ZTP servers build record batches against these schemas; the engine stores
//! and queries them. This crate depends on Arrow's schema and array crates only, so the agent binary
//! can use it without linking DataFusion. [`row`] is the row builder every producer shares.
//!
//! Every table has the same frame: `timestamp` (µs since the epoch, UTC), `hostname`, the family's key
//! columns, its value columns, and `active` (false when the object was deleted, withdrawn or went away).
//! The state of a table at time T is, for each key (`hostname` + key columns), its newest row with
//! `timestamp <= T`, kept only when `active`.

mod change_log;
mod column;
pub mod families;
pub mod row;
mod validate;

pub use change_log::{CHANGE_OBJECT, CHANGE_STATE, CHANGE_TABLE, change_log_schema};
pub use column::{ColumnDef, ColumnType, TableDef};
pub use families::{ALL_TABLES, table};
pub use validate::{SchemaError, conform_batch};

/// Name of the event-time column every table starts with.
pub const TIMESTAMP: &str = "timestamp";
/// Name of the node column every table carries after the timestamp.
pub const HOSTNAME: &str = "hostname";
/// Name of the liveness column every table ends with.
pub const ACTIVE: &str = "active";
/// Column a table's change log adds to its rows: `Add` for an active row, `Del` otherwise.
pub const CHANGE: &str = "change";
