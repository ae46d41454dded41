//! `ztp_leases`: the DHCP server's leases as events; the state at now is the lease table.
use crate::column::{ColumnType::*, TableDef, col};

pub static LEASES: TableDef = TableDef::new(
    "ztp_leases",
    "DHCP leases: each change of a lease; inactive once released, declined or expired",
    &[col("ip", Str, "leased address")],
    &[
        col("client_mac", Str, "client hardware address"),
        col("client_id", Str, "option 61, hex"),
        col("serial", Str, "serial number of the device"),
        col("device", Str, "the device's host name, when known"),
        col(
            "state",
            Str,
            "offered, bound, released, declined or expired",
        ),
        col("starts", Time, "when the lease was granted"),
        col("ends", Time, "when it expires"),
        col("subnet", Str, "subnet of the address"),
        col("host", Str, "reservation, when the address is reserved"),
    ],
);
