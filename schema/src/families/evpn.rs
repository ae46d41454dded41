//! `evpn`: EVPN VNIs.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "evpn",
    "EVPN VNIs",
    &[col("vni", U32, "VXLAN network identifier")],
    &[
        col("type", Str, "L2 / L3"),
        col("vrf", Str, "tenant VRF"),
        col("vlan", U32, "VLAN mapped to the VNI"),
        col("state", Str, "up / down"),
        col("rd", Str, "route distinguisher"),
        col("rt_import", Str, "import route targets"),
        col("rt_export", Str, "export route targets"),
        col("origin_ip", Str, "local VTEP address"),
        col("remote_vteps", StrList, "remote VTEPs"),
        col("macs", U64, "MACs in the VNI"),
    ],
);
