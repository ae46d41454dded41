//! `check int`: the window's INT reports judged against the default profiles of
//! [`super::profile`]. One row per checked object, failing with a reason:
//! - each switch's drops, per drop reason (`drop reason 60`): every drop report fails;
//! - each queue (`port 51 queue 3`) seen in queue reports or in hops' metadata: its highest
//!   occupancy over [`QUEUE_DEPTH_CELLS`], else its highest latency in queue reports over
//!   [`QUEUE_LATENCY_NS`];
//! - each switch's hops (`hop latency`): the longest hop over [`HOP_LATENCY_NS`];
//! - each exporter's reports per hardware id and source (`reports from 10.0.0.11 hw_id 1`):
//!   lost over [`LOSS_PERCENT`] of those expected.
//!
//! The node is the switch by name (its hex id when no MAC names it); for telemetry loss, the
//! source switch, else the exporter.

use arrow::datatypes::DataType;
use datafusion::functions::expr_fn::concat;
use datafusion::functions_aggregate::expr_fn::{count, max};
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlanBuilder, cast, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::loss::{loss_percent, loss_share, source_name, totals};
use super::profile::{HOP_LATENCY_NS, LOSS_PERCENT, QUEUE_DEPTH_CELLS, QUEUE_LATENCY_NS};
use super::{named_events, reporting_switch};
use crate::error::Result;
use crate::family::{CheckDef, CheckPlan, FamilyDef};
use crate::plan::check::{Checked, first_reason, object_row, window_objects};
use crate::plan::expr::{or_else, q, text};
use crate::plan::{Planner, Times};

pub(in crate::family) static CHECK: FamilyDef = FamilyDef {
    name: "int",
    show: None,
    check: Some(CheckDef {
        noun: Some("Object"),
        object: Some("Object"),
        peer: None,
        peer_object: None,
        clean: None,
        plan: CheckPlan::Window(check),
    }),
};

/// The objects, each `node, object, reason, time`.
fn check(p: &Planner<'_>, times: Times) -> Result<(LogicalPlanBuilder, Checked)> {
    window_objects(
        drops(p, times)?,
        vec![queues(p, times)?, hops(p, times)?, loss(p, times)?],
    )
}

/// A number as text within a reason.
fn number(expr: Expr) -> Expr {
    or_else(text(expr), "?")
}

/// Each switch's drop reports per reason.
fn drops(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let reports = named_events(p, "int_drops", times)?.aggregate(
        vec![
            reporting_switch().alias("node"),
            q("e", "drop_reason").alias("code"),
            q("e", "reason").alias("name"),
        ],
        vec![
            count(lit(1u8)).alias("reports"),
            max(q("e", TIMESTAMP)).alias("time"),
        ],
    )?;
    let reason = concat(vec![
        number(col("reports")),
        lit(" drop reports: "),
        or_else(col("name"), "unknown reason"),
    ]);
    let object = concat(vec![lit("drop reason "), number(col("code"))]);
    Ok(reports.project(object_row(col("node"), object, reason, col("time")))?)
}

/// `node, port, queue, occupancy, latency, time` of a table's rows with queue metadata.
fn queue_rows(
    p: &Planner<'_>,
    table: &str,
    times: Times,
    latency: Expr,
) -> Result<LogicalPlanBuilder> {
    Ok(named_events(p, table, times)?
        .filter(
            q("e", "queue_occupancy")
                .is_not_null()
                .or(latency.clone().is_not_null()),
        )?
        .project(vec![
            reporting_switch().alias("node"),
            q("e", "egress_port").alias("port"),
            q("e", "queue_id").alias("queue"),
            q("e", "queue_occupancy").alias("occupancy"),
            latency.alias("latency"),
            q("e", TIMESTAMP).alias("time"),
        ])?)
}

/// The newest time of the rows over a threshold, else of any row: when an object last failed.
fn last_time(over: Expr) -> Result<Expr> {
    let failed = max(col("time")).filter(over).build()?;
    Ok(datafusion::functions::expr_fn::coalesce(vec![failed, max(col("time"))]).alias("time"))
}

/// Each queue's highest occupancy (queue reports and hops) and latency (queue reports).
fn queues(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let no_latency = cast(
        lit(datafusion::common::ScalarValue::UInt64(None)),
        DataType::UInt64,
    );
    let over = |occupancy: Expr, latency: Expr| {
        occupancy
            .gt(lit(QUEUE_DEPTH_CELLS))
            .or(latency.gt(lit(QUEUE_LATENCY_NS)))
    };
    let rows = queue_rows(p, "int_congestion", times, q("e", "hop_latency_ns"))?
        .union(queue_rows(p, "int_hops", times, no_latency)?.build()?)?
        .aggregate(
            vec![col("node"), col("port"), col("queue")],
            vec![
                max(col("occupancy")).alias("occupancy"),
                max(col("latency")).alias("latency"),
                last_time(over(col("occupancy"), col("latency")))?,
            ],
        )?;
    let reason = first_reason(vec![
        (
            col("occupancy").gt(lit(QUEUE_DEPTH_CELLS)),
            concat(vec![
                lit("Queue occupancy "),
                number(col("occupancy")),
                lit(format!(" cells over {QUEUE_DEPTH_CELLS}")),
            ]),
        ),
        (
            col("latency").gt(lit(QUEUE_LATENCY_NS)),
            concat(vec![
                lit("Queue latency "),
                number(col("latency")),
                lit(format!(" ns over {QUEUE_LATENCY_NS}")),
            ]),
        ),
    ])?;
    let object = concat(vec![
        lit("port "),
        number(col("port")),
        lit(" queue "),
        number(col("queue")),
    ]);
    Ok(rows.project(object_row(col("node"), object, reason, col("time")))?)
}

/// Each switch's longest hop.
fn hops(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let rows = named_events(p, "int_hops", times)?
        .filter(q("e", "hop_latency_ns").is_not_null())?
        .project(vec![
            reporting_switch().alias("node"),
            q("e", "hop_latency_ns").alias("latency"),
            q("e", TIMESTAMP).alias("time"),
        ])?
        .aggregate(
            vec![col("node")],
            vec![
                max(col("latency")).alias("latency"),
                last_time(col("latency").gt(lit(HOP_LATENCY_NS)))?,
            ],
        )?;
    let reason = first_reason(vec![(
        col("latency").gt(lit(HOP_LATENCY_NS)),
        concat(vec![
            lit("Hop latency "),
            number(col("latency")),
            lit(format!(" ns over {HOP_LATENCY_NS}")),
        ]),
    )])?;
    Ok(rows.project(object_row(
        col("node"),
        lit("hop latency"),
        reason,
        col("time"),
    ))?)
}

/// Each exporter's reports per hardware id and source.
fn loss(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let reason = first_reason(vec![(
        loss_share().gt(lit(LOSS_PERCENT)),
        concat(vec![
            lit("Telemetry loss "),
            number(loss_percent()),
            lit("% ("),
            number(q("e", "lost")),
            lit(" of "),
            number(q("e", "expected")),
            lit(format!(" reports) over {LOSS_PERCENT}%")),
        ]),
    )])?;
    let object = concat(vec![
        lit("reports from "),
        q("e", HOSTNAME),
        lit(" hw_id "),
        number(q("e", "hw_id")),
    ]);
    Ok(totals(p, times)?.project(object_row(source_name(), object, reason, q("e", TIMESTAMP)))?)
}
