//! `events`: the fabric-wide change log that notifications and `show events` read.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "events",
    "fabric-wide change log",
    &[
        col(
            "type",
            Str,
            "family the event is about: bgp, link, sensor, …",
        ),
        col("id", Str, "event id"),
    ],
    &[
        col("severity", Str, "info, warning, error, critical"),
        col("object", Str, "object the event is about"),
        col("message", Str, "what happened"),
    ],
);
