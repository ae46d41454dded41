//! `neighbors`: ARP and ND entries.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "neighbors",
    "ARP (IPv4) and ND (IPv6) neighbour entries",
    &[
        col("ifname", Str, "interface name"),
        col("ip", Str, "neighbour address"),
    ],
    &[
        col("mac", Str, "link-layer address"),
        col("family", Str, "ipv4 / ipv6"),
        col("vrf", Str, "VRF of the interface"),
        col("state", Str, "reachable, stale, permanent, failed, …"),
        col("is_remote", Bool, "learned over EVPN"),
    ],
);
