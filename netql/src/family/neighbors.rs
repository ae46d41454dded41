//! `show ip neighbors` and `show ipv6 neighbors`: ARP and ND, the `neighbors` table.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host, yes_no};

const fn neighbors(name: &'static str, family: &'static str) -> FamilyDef {
    FamilyDef {
        name,
        show: Some(ShowDef {
            only: Some(("family", family)),
            columns: Some(columns),
            ..ShowDef::of("neighbors", Some("ip"))
        }),
        check: None,
    }
}

pub(super) static IPV4: FamilyDef = neighbors("ip neighbors", "ipv4");
pub(super) static IPV6: FamilyDef = neighbors("ipv6 neighbors", "ipv6");

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        header("IP Address", col("ip")),
        host(),
        header("Interface", col("ifname")),
        header("MAC Address", col("mac")),
        header("VRF", col("vrf")),
        header("State", col("state")),
        header("Remote", yes_no(col("is_remote"))),
    ]
}
