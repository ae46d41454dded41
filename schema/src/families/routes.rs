//! `routes`: IPv4/IPv6 routes per VRF with every ECMP next hop.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "routes",
    "IPv4 and IPv6 routes per VRF with their ECMP next hops",
    &[
        col("vrf", Str, "VRF (routing table) name"),
        col("prefix", Str, "destination prefix"),
    ],
    &[
        col("family", Str, "ipv4 / ipv6"),
        col("protocol", Str, "kernel, connected, static, bgp, ospf, …"),
        col(
            "nexthop_ips",
            StrList,
            "next-hop addresses, one per ECMP path",
        ),
        col("oifs", StrList, "outgoing interfaces, one per ECMP path"),
        col("weights", StrList, "ECMP weights, one per path"),
        col("metric", U32, "route metric / priority"),
        col("source", Str, "preferred source address"),
        col("table_id", U32, "kernel table number"),
    ],
);
