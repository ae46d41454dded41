//! `show lnv` and `check lnv`: Lightweight Network Virtualization, each VNI's VTEPs agreeing on
//! one service node.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::concat;
use datafusion::functions_aggregate::expr_fn::count_distinct;
use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is, is_not, object_check, same};
use crate::plan::expr::{q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "lnv",
    show: Some(ShowDef::of("lnv", Some("vni"))),
    check: Some(CheckDef::of(Some("VNI"), Some("VNI"), check)),
};

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let per_vni = p
        .state("lnv", at)?
        .filter(col("role").eq(lit("vtep")))?
        .aggregate(
            vec![col("vni")],
            vec![count_distinct(col("service_node")).alias("service_nodes")],
        )?
        .alias("m")?
        .build()?;
    let rows = LogicalPlanBuilder::from(p.state_as("lnv", at, "s")?)
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(per_vni, JoinType::Left, same("s", "m", &["vni"]))?;
    let vni = text(q("s", "vni"));
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (
            is_not("s", "state", "up"),
            concat(vec![lit("LNV down for vni "), vni.clone()]),
        ),
        (
            is("s", "role", "vtep").and(q("m", "service_nodes").gt(lit(1i64))),
            concat(vec![lit("inconsistent service node for vni "), vni.clone()]),
        ),
    ])?;
    Ok((rows, object_check("s", vni, reason)))
}
