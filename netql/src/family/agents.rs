//! `show agents` and `check agents`: each agent's heartbeats; Rotten once three were missed.

use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};
use sonde_schema::TIMESTAMP;

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, node_check};
use crate::plan::expr::{if_else, micros};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "agents",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("agents", None)
    }),
    check: Some(CheckDef::of(None, None, check)),
};

/// Fresh, or Rotten when three heartbeats were missed by `at`.
pub(crate) fn agent_status(at: i64) -> Expr {
    let interval = coalesce(vec![
        cast(
            col("heartbeat_interval_s"),
            arrow::datatypes::DataType::Int64,
        ),
        lit(30i64),
    ]);
    let deadline = micros(col(TIMESTAMP)) + interval * lit(3_000_000i64);
    if_else(deadline.lt(lit(at)), lit("Rotten"), lit("Fresh"))
}

fn columns(at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Status", agent_status(at)),
        header("NTP Sync", col("ntp_sync")),
        header("Version", col("version")),
        header("Sys Uptime", col("boot_time")),
        header("Agent Uptime", col("agent_start_time")),
        header("Reinitialize Time", col("reinit_time")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = p.state("agents", at)?.alias("s")?;
    let reason = first_reason(vec![(
        agent_status(at).eq(lit("Rotten")),
        lit("Rotten Agent"),
    )])?;
    Ok((rows, node_check(reason)))
}
