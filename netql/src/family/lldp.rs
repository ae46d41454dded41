//! `show lldp`: each interface's LLDP neighbour.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "lldp",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("lldp", Some("ifname"))
    }),
    check: None,
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("Peer Hostname", col("peer_hostname")),
        header("Peer Interface", col("peer_ifname")),
        header("Peer Mgmt IP", col("peer_mgmt_ip")),
    ]
}
