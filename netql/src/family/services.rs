//! `show services`: the daemons each node runs.

use datafusion::logical_expr::{Expr, col};

use super::{FamilyDef, ShowDef, header, host, yes_no};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "services",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("services", Some("name"))
    }),
    check: None,
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Service", col("name")),
        header("VRF", col("vrf")),
        header("PID", col("pid")),
        header("Enabled", yes_no(col("enabled"))),
        header("Active", col("state")),
        header("Monitored", yes_no(col("monitored"))),
        header("Uptime", col("started_at")),
    ]
}
