//! `lldp`: LLDP neighbours per port.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "lldp",
    "LLDP neighbours seen on each port",
    &[col("ifname", Str, "local port")],
    &[
        col("peer_hostname", Str, "system name of the neighbour"),
        col("peer_ifname", Str, "port id of the neighbour"),
        col("peer_mgmt_ip", Str, "management address of the neighbour"),
        col("peer_chassis_id", Str, "chassis id (usually a MAC)"),
        col(
            "peer_description",
            Str,
            "system description of the neighbour",
        ),
    ],
);
