//! `show ip routes` and `show ipv6 routes`: the `routes` table, one family each.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host, list};

const fn routes(name: &'static str, family: &'static str) -> FamilyDef {
    FamilyDef {
        name,
        show: Some(ShowDef {
            only: Some(("family", family)),
            columns: Some(columns),
            ..ShowDef::of("routes", Some("prefix"))
        }),
        check: None,
    }
}

pub(super) static IPV4: FamilyDef = routes("ip routes", "ipv4");
pub(super) static IPV6: FamilyDef = routes("ipv6 routes", "ipv6");

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        header("Origin", col("protocol")),
        header("VRF", col("vrf")),
        header("Prefix", col("prefix")),
        host(),
        header("Nexthops", list("nexthop_ips")),
        header("Interfaces", list("oifs")),
        header("Metric", col("metric")),
    ]
}
