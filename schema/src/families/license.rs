//! `license`: licenses installed on each node.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "license",
    "licenses and their validity",
    &[col("name", Str, "licensed product")],
    &[
        col("state", Str, "ok, bad, missing, expired"),
        col("expires_at", Time, "expiry time, null when perpetual"),
        col("holder", Str, "licence holder"),
    ],
);
