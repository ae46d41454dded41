//! `clag`: MLAG (CLAG) sessions and their bonds. The row with an empty `ifname` is the node's session.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "clag",
    "MLAG (CLAG) sessions and dual-connected bonds",
    &[col(
        "ifname",
        Str,
        "bond, or empty for the node's MLAG session",
    )],
    &[
        col("peer_hostname", Str, "MLAG peer"),
        col("role", Str, "primary / secondary"),
        col("peer_role", Str, "role of the peer"),
        col("peer_state", Str, "up / down"),
        col("peerlink", Str, "peer link bond"),
        col("sysmac", Str, "MLAG system MAC"),
        col("backup_ip", Str, "backup link address"),
        col("backup_active", Bool, "backup link reachable"),
        col("clag_id", U32, "bond's CLAG id"),
        col("bond_state", Str, "dual, single, down"),
        col("conflict", Str, "reason a bond is conflicted"),
        col("protodown", Bool, "bond protodown by MLAG"),
    ],
);
