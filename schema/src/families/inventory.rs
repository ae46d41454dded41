//! `inventory`: hardware and software of each node.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "inventory",
    "hardware and software inventory",
    &[col(
        "component",
        Str,
        "platform, cpu, memory, disk:<name>, os, asic, …",
    )],
    &[
        col("vendor", Str, "vendor"),
        col("model", Str, "model"),
        col("version", Str, "version or revision"),
        col("serial", Str, "serial number"),
        col("arch", Str, "architecture"),
        col("cores", U32, "CPU cores"),
        col("size_bytes", U64, "memory or disk size"),
        col("description", Str, "free text"),
    ],
);
