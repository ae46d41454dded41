//! The change log: every change of several tables in one list, oldest first, one row per change.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::column::timestamp_type;
use crate::{CHANGE, HOSTNAME, TIMESTAMP};

/// The table a change-log row comes from.
pub const CHANGE_TABLE: &str = "type";
/// The changed object: the row's key columns after the hostname, as text joined by spaces.
pub const CHANGE_OBJECT: &str = "object";
/// The row's `state` column as text, empty for a table without one or a row without it.
pub const CHANGE_STATE: &str = "state";

/// [`TIMESTAMP`], [`HOSTNAME`], [`CHANGE_TABLE`], [`CHANGE_OBJECT`], [`CHANGE_STATE`] and
/// [`CHANGE`] (`Add` or `Del`). The rows are ordered by time, hostname, table, the table's key
/// columns in their own order (numbers as numbers), then `Add` before `Del`.
pub fn change_log_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(TIMESTAMP, timestamp_type(), false),
                Field::new(HOSTNAME, DataType::Utf8, false),
                Field::new(CHANGE_TABLE, DataType::Utf8, false),
                Field::new(CHANGE_OBJECT, DataType::Utf8, false),
                Field::new(CHANGE_STATE, DataType::Utf8, false),
                Field::new(CHANGE, DataType::Utf8, false),
            ]))
        })
        .clone()
}
