//! `vxlan`: VXLAN devices.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "vxlan",
    "VXLAN devices and their replication lists",
    &[col("ifname", Str, "VXLAN interface")],
    &[
        col("vni", U32, "VXLAN network identifier"),
        col("vlan", U32, "VLAN mapped to the VNI"),
        col("local_ip", Str, "local VTEP address"),
        col("replication", Str, "evpn, ingress (head-end) or multicast"),
        col("remote_vteps", StrList, "head-end replication list"),
        col("state", Str, "up / down"),
    ],
);
