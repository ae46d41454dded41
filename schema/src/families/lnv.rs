//! `lnv`: lightweight network virtualisation, VXLAN flooding through service nodes (vxsnd/vxrd).
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "lnv",
    "LNV service nodes and registrations",
    &[col("vni", U32, "VXLAN network identifier")],
    &[
        col("role", Str, "service-node or vtep"),
        col(
            "service_node",
            Str,
            "service node address the VTEP registers with",
        ),
        col("local_ip", Str, "local VTEP address"),
        col("peers", StrList, "VTEPs the node replicates to"),
        col("state", Str, "up / down"),
    ],
);
