//! `show ntp` and `check ntp`: each node's clock synchronisation.

use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host, yes_no};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, node_check, same};
use crate::plan::expr::q;

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "ntp",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("ntp", None)
    }),
    check: Some(CheckDef::of(None, None, check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("NTP Sync", yes_no(col("synced"))),
        header("Current Server", col("source")),
        header("Stratum", col("stratum")),
        header("NTP App", col("service")),
        header("Offset (s)", col("offset_s")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("ntp", at, "s")?).join_on(
        p.rotten(at, "a")?,
        JoinType::Left,
        same("s", "a", &[HOSTNAME]),
    )?;
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (q("s", "synced").is_not_true(), lit("Not synchronized")),
    ])?;
    Ok((rows, node_check(reason)))
}
