//! `addresses`: IPv4 and IPv6 addresses on interfaces.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "addresses",
    "IPv4 and IPv6 addresses on interfaces",
    &[
        col("ifname", Str, "interface name"),
        col("prefix", Str, "address with prefix length, 10.0.0.1/32"),
    ],
    &[
        col("family", Str, "ipv4 / ipv6"),
        col("vrf", Str, "VRF of the interface"),
        col("scope", Str, "global, link, host"),
    ],
);
