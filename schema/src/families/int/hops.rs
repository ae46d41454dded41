//! `int_hops`: one row per hop of every INT stack, and one for the reporting switch's own
//! metadata (postcards, switch-local headers).
use crate::column::{ColumnType::*, TableDef, col};

pub static HOPS: TableDef = TableDef::new(
    "int_hops",
    "per-hop metadata carried in INT reports",
    &[
        col("hw_id", U32, "hardware id of the exporter"),
        col("sequence", U64, "the report's sequence number"),
        col("hop", U32, "position on the path, 0 = first switch"),
    ],
    &[
        col("switch_id", U32, "switch id of this hop"),
        col(
            "local",
            Bool,
            "the reporting switch's own metadata, not a stack entry",
        ),
        col("ingress_port", U32, "ingress port"),
        col("egress_port", U32, "egress port"),
        col(
            "hop_latency_ns",
            U64,
            "time the packet spent in this switch",
        ),
        col("queue_id", U32, "egress queue"),
        col("queue_occupancy", U64, "egress queue occupancy in cells"),
        col(
            "ingress_time",
            Time,
            "ingress timestamp, rebuilt against the receive time",
        ),
        col(
            "egress_time",
            Time,
            "egress timestamp, rebuilt against the receive time",
        ),
        col("tx_utilisation", U32, "egress port transmit utilisation"),
        col("src_ip", Str, "inner source address"),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
    ],
);
