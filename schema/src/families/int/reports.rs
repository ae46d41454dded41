//! `int_reports`: one row per telemetry report, as received.
use crate::column::{ColumnType::*, TableDef, col};

pub static REPORTS: TableDef = TableDef::new(
    "int_reports",
    "INT telemetry reports as received, one row each",
    &[
        col("hw_id", U32, "hardware (ASIC slice) id of the exporter"),
        col("sequence", U64, "the exporter's report sequence number"),
    ],
    &[
        col(
            "version",
            U32,
            "telemetry report version: 5 (v0.5), 10 (v1.0), 20 (v2.0)",
        ),
        col("report_type", Str, "flow, drop or queue"),
        col(
            "switch_id",
            U32,
            "the reporting switch, when the report names it",
        ),
        col("dropped", Bool, "D flag: the packet was dropped"),
        col("congested", Bool, "Q flag: a queue passed its threshold"),
        col("tracked", Bool, "F flag: the flow is watched"),
        col(
            "ingress_time",
            Time,
            "when the packet entered the reporting switch",
        ),
        col("src_ip", Str, "inner source address"),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
        col("hop_count", U32, "hops of metadata the report carries"),
        col("collector", Str, "address the report was received on"),
    ],
);
