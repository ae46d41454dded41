//! `show ip addresses` and `show ipv6 addresses`: the `addresses` table, one family each.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host};

const fn addresses(name: &'static str, family: &'static str) -> FamilyDef {
    FamilyDef {
        name,
        show: Some(ShowDef {
            only: Some(("family", family)),
            columns: Some(columns),
            ..ShowDef::of("addresses", Some("prefix"))
        }),
        check: None,
    }
}

pub(super) static IPV4: FamilyDef = addresses("ip addresses", "ipv4");
pub(super) static IPV6: FamilyDef = addresses("ipv6 addresses", "ipv6");

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        header("Address", col("prefix")),
        host(),
        header("Interface", col("ifname")),
        header("VRF", col("vrf")),
        header("Scope", col("scope")),
    ]
}
