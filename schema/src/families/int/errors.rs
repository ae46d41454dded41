//! `int_errors`: datagrams the collector dropped, counted per exporter and reason. Each row
//! counts one interval; a window's count is the sum of its rows.
use crate::column::{ColumnType::*, TableDef, col};

pub static ERRORS: TableDef = TableDef::new(
    "int_errors",
    "INT datagrams dropped undecoded, counted per reason",
    &[col(
        "reason",
        Str,
        "truncated, bad_length, unknown_version, queue_full, …",
    )],
    &[
        col(
            "datagrams",
            U64,
            "datagrams dropped for this reason in the interval",
        ),
        col("collector", Str, "address they were received on"),
        col("detail", Str, "the last error's text"),
    ],
);
