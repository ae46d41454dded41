//! `int_congestion`: one row per queue report (the Q flag).
use crate::column::{ColumnType::*, TableDef, col};

pub static CONGESTION: TableDef = TableDef::new(
    "int_congestion",
    "queue congestion reports",
    &[
        col("hw_id", U32, "hardware id of the exporter"),
        col("sequence", U64, "the report's sequence number"),
    ],
    &[
        col("switch_id", U32, "switch whose queue is congested"),
        col("egress_port", U32, "egress port"),
        col("queue_id", U32, "queue"),
        col("queue_occupancy", U64, "occupancy in cells"),
        col("hop_latency_ns", U64, "latency through the switch"),
        col(
            "src_ip",
            Str,
            "inner source address of the packet that saw it",
        ),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
    ],
);
