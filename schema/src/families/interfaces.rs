//! `interfaces`: links, bonds, bridges, VLAN and VXLAN devices with state, MTU, speed and membership.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "interfaces",
    "links and their state, MTU, speed and membership",
    &[col("ifname", Str, "interface name")],
    &[
        col(
            "type",
            Str,
            "swp, eth, bond, bridge, vlan, vxlan, vrf, loopback, …",
        ),
        col("state", Str, "operational state: up / down"),
        col("admin_state", Str, "administrative state: up / down"),
        col("mtu", U32, "MTU in bytes"),
        col("speed", U64, "speed in Mb/s, null when unknown"),
        col("autoneg", Str, "on / off / n/a"),
        col("mac", Str, "MAC address"),
        col(
            "master",
            Str,
            "bond, bridge or VRF this interface belongs to",
        ),
        col("vrf", Str, "VRF the interface is in"),
        col(
            "vlans",
            Str,
            "VLANs carried, as a sorted range list like 10-20,30",
        ),
        col("pvid", U32, "native (untagged) VLAN"),
        col("ifindex", U32, "kernel interface index"),
        col("description", Str, "interface alias"),
        col("last_flap", Time, "last change of operational state"),
    ],
);
