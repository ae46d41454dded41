//! `ospf`: OSPF interfaces and their adjacencies.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "ospf",
    "OSPF interfaces and adjacencies",
    &[col("vrf", Str, "VRF"), col("ifname", Str, "interface")],
    &[
        col("area", Str, "area id"),
        col("router_id", Str, "local router id"),
        col("peer_router_id", Str, "neighbour's router id"),
        col("peer_ip", Str, "neighbour's address"),
        col("peer_hostname", Str, "neighbour's hostname"),
        col("state", Str, "adjacency state: full, 2way, init, down, …"),
        col("network_type", Str, "p2p, broadcast, …"),
        col("hello_time", U32, "hello interval in seconds"),
        col("dead_time", U32, "dead interval in seconds"),
        col("mtu", U32, "interface MTU"),
        col("cost", U32, "interface cost"),
        col("is_passive", Bool, "passive interface"),
        col("subnet", Str, "interface subnet"),
        col("last_change", Time, "last adjacency change"),
    ],
);
