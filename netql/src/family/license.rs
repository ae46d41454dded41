//! `show license` and `check license`: each node's licences, expired or missing ones failing.

use datafusion::functions::expr_fn::concat;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check};
use crate::plan::expr::{micros, or_else, q};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "license",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("license", Some("name"))
    }),
    check: Some(CheckDef::of(Some("License"), Some("License"), check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Name", col("name")),
        header("State", col("state")),
        header("Expires", col("expires_at")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("license", at, "s")?);
    let reason = first_reason(vec![
        (
            micros(q("s", "expires_at")).lt(lit(at)),
            lit("License expired"),
        ),
        (
            is_not("s", "state", "ok"),
            concat(vec![lit("License "), or_else(q("s", "state"), "missing")]),
        ),
    ])?;
    Ok((rows, object_check("s", q("s", "name"), reason)))
}
