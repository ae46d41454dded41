//! `int_loss`: the telemetry's own loss, from sequence numbers, per exporter and hardware id.
//! Each row counts one interval (the collector writes one per source with every batch it
//! hands over), so any window's loss is the sum of its rows.
use crate::column::{ColumnType::*, TableDef, col};

pub static LOSS: TableDef = TableDef::new(
    "int_loss",
    "telemetry report loss by sequence numbers, per interval",
    &[
        col("hw_id", U32, "hardware id of the exporter"),
        col(
            "source",
            U32,
            "the switch id the numbers belong to (0 when the report names none)",
        ),
    ],
    &[
        col(
            "expected",
            U64,
            "reports the sequence numbers say were sent",
        ),
        col("received", U64, "reports received"),
        col(
            "lost",
            U64,
            "reports missing (a late arrival gives its loss back)",
        ),
        col("reordered", U64, "reports that arrived late"),
        col("duplicated", U64, "reports received twice"),
        col("wraps", U64, "times the numbers wrapped to 0"),
        col("resets", U64, "times the exporter started numbering again"),
        col("last_sequence", U64, "newest sequence number seen"),
    ],
);
