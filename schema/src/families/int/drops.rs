//! `int_drops`: one row per drop report.
use crate::column::{ColumnType::*, TableDef, col};

pub static DROPS: TableDef = TableDef::new(
    "int_drops",
    "packets dropped, as drop reports describe them",
    &[
        col("hw_id", U32, "hardware id of the exporter"),
        col("sequence", U64, "the report's sequence number"),
    ],
    &[
        col("switch_id", U32, "switch that dropped the packet"),
        col("ingress_port", U32, "ingress port"),
        col("egress_port", U32, "egress port"),
        col("queue_id", U32, "queue"),
        col("drop_reason", U32, "drop reason code"),
        col("reason", Str, "drop reason name, when the code is known"),
        col("src_ip", Str, "inner source address"),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
    ],
);
