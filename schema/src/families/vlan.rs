//! `vlan`: VLANs of each bridge and their member ports.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "vlan",
    "VLANs and their member ports",
    &[col("vlan", U32, "VLAN id")],
    &[
        col("ports", StrList, "member ports"),
        col("svi", Str, "switched virtual interface, if any"),
        col("vrf", Str, "VRF of the SVI"),
        col("vni", U32, "VNI mapped to the VLAN"),
    ],
);
