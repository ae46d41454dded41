//! `show macs`: the bridges' forwarding databases.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host, yes_no};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "macs",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("macs", Some("mac"))
    }),
    check: None,
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        header("MAC Address", col("mac")),
        header("VLAN", col("vlan")),
        host(),
        header("Egress Port", col("ifname")),
        header("Remote VTEP", col("remote_vtep")),
        header("Static", yes_no(col("is_static"))),
    ]
}
