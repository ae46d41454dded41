//! `macs`: the bridge forwarding database.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "macs",
    "bridge forwarding database (FDB) entries",
    &[
        col("mac", Str, "MAC address"),
        col("vlan", U32, "VLAN, 0 when untagged"),
    ],
    &[
        col("ifname", Str, "port the MAC was learned on"),
        col(
            "remote_vtep",
            Str,
            "VTEP address for MACs learned over VXLAN",
        ),
        col("is_static", Bool, "static (not learned) entry"),
        col("flags", Str, "kernel flags: self, master, extern_learn, …"),
    ],
);
