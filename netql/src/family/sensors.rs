//! `show sensors` and `check sensors`: fans, power supplies and temperatures.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat, nullif};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check, same};
use crate::plan::expr::q;

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "sensors",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("sensors", Some("kind"))
    }),
    check: Some(CheckDef::of(Some("Sensor"), Some("Sensor"), check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Kind", col("kind")),
        header("Name", col("name")),
        header("Description", col("description")),
        header("State", col("state")),
        header("Value", col("value")),
        header("Unit", col("unit")),
        header("Message", col("message")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("sensors", at, "s")?).join_on(
        p.rotten(at, "a")?,
        JoinType::Left,
        same("s", "a", &[HOSTNAME]),
    )?;
    let described = concat(vec![
        q("s", "kind"),
        lit(" "),
        q("s", "name"),
        lit(" state is "),
        q("s", "state"),
    ]);
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (
            is_not("s", "state", "ok"),
            coalesce(vec![nullif(q("s", "message"), lit("")), described]),
        ),
        (
            q("s", "value").gt_eq(q("s", "critical")),
            lit("Value above critical threshold"),
        ),
    ])?;
    Ok((rows, object_check("s", q("s", "name"), reason)))
}
