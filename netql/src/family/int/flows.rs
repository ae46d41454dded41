//! `show int flows`: one row per inner 5-tuple seen in the window, from `int_reports` (how many
//! reports named it, the newest) and `int_hops` (its path and latencies).
//!
//! The path is the switches of the flow's newest flow report that carries an INT stack, in hop
//! order (a drop or queue report's stack stops where it was sent; a flow reported only by
//! switches' own metadata, as postcards are, takes its newest report's); `max_latency` is the
//! longest any hop of any report took, `path_latency` the longest sum of a flow report's stack,
//! both in ns.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat_ws};
use datafusion::functions_aggregate::expr_fn::{array_agg, bool_or, count, first_value, max, sum};
use datafusion::functions_nested::expr_fn::array_to_string;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::names::switch_name;
use super::{
    FLOW_KEY, FamilyDef, ViewDef, family, flow_headers, header, named_events, protocol_name,
};
use crate::error::Result;
use crate::plan::expr::{if_else, or_else, q, text};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int flows", "int_reports", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: "switches",
    targets: &["switches", "src_ip", "dst_ip"],
    order: &["src_ip", "dst_ip", "src_port", "dst_port", "protocol"],
    columns,
};

/// One text naming the 5-tuple of `relation`, to join on (any part may be null).
fn flow_id(relation: &str) -> Expr {
    let parts = FLOW_KEY
        .iter()
        .map(|field| or_else(text(q(relation, field)), ""))
        .collect();
    concat_ws(lit("|"), parts)
}

/// The window's hops: `flow`, the report (`exporter`, `hw_id`, `sequence`, `timestamp`), `hop`,
/// `stacked` (a stack entry, not the switch's own metadata), the switch's `name`, `latency`.
fn hops(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    Ok(named_events(p, "int_hops", times)?.project(vec![
        flow_id("e").alias("flow"),
        q("e", HOSTNAME).alias("exporter"),
        q("e", "hw_id").alias("hw_id"),
        q("e", "sequence").alias("sequence"),
        q("e", TIMESTAMP).alias(TIMESTAMP),
        q("e", "hop").alias("hop"),
        (!q("e", "local")).alias("stacked"),
        switch_name("e", "switch_id", "n").alias("name"),
        q("e", "hop_latency_ns").alias("latency"),
    ])?)
}

/// Per report with hops: `flow`, the report, `flow_report` (a flow report, not a drop or queue
/// one, whose stack stops at the switch that sent it), `has_stack`, `stack_latency` (the sum of
/// its stack's hops), `report_max` (its longest hop), `stack_path` and `any_path`.
fn reports_with_hops(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let in_hop_order = || vec![col("hop").sort(true, false)];
    let report = [HOSTNAME, "hw_id", "sequence", TIMESTAMP];
    let kinds = p
        .events("int_reports", times.window)?
        .project(
            report
                .iter()
                .map(|c| col(*c))
                .chain([col("report_type").eq(lit("flow")).alias("flow_report")])
                .collect::<Vec<_>>(),
        )?
        .alias("t")?
        .build()?;
    let per_report = hops(p, times)?.aggregate(
        vec![
            col("flow"),
            col("exporter"),
            col("hw_id"),
            col("sequence"),
            col(TIMESTAMP),
        ],
        vec![
            bool_or(col("stacked")).alias("has_stack"),
            sum(col("latency"))
                .filter(col("stacked"))
                .build()?
                .alias("stack_latency"),
            max(col("latency")).alias("report_max"),
            array_agg(col("name"))
                .order_by(in_hop_order())
                .filter(col("stacked"))
                .build()?
                .alias("stack_path"),
            array_agg(col("name"))
                .order_by(in_hop_order())
                .build()?
                .alias("any_path"),
        ],
    )?;
    let same_report = ["exporter", "hw_id", "sequence", TIMESTAMP]
        .iter()
        .zip(report)
        .map(|(h, t)| q("h", h).eq(q("t", t)));
    let mut fields: Vec<Expr> = [
        "flow",
        "exporter",
        "sequence",
        TIMESTAMP,
        "has_stack",
        "stack_latency",
        "report_max",
        "stack_path",
        "any_path",
    ]
    .iter()
    .map(|c| q("h", c).alias(*c))
    .collect();
    fields.push(q("t", "flow_report").alias("flow_report"));
    Ok(per_report
        .alias("h")?
        .join_on(kinds, JoinType::Left, same_report)?
        .project(fields)?)
}

/// Per flow: `path` (the switches, see the module's doc), `max_latency` and `path_latency`.
fn paths(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let path = if_else(col("has_stack"), col("stack_path"), col("any_path"));
    let newest_flow_report_first = vec![
        col("flow_report").sort(false, false),
        col("has_stack").sort(false, true),
        col(TIMESTAMP).sort(false, true),
        col("exporter").sort(true, true),
        col("sequence").sort(false, true),
    ];
    let whole_path = col("flow_report").and(col("has_stack"));
    Ok(reports_with_hops(p, times)?.aggregate(
        vec![col("flow")],
        vec![
            first_value(path, newest_flow_report_first).alias("path"),
            max(col("report_max")).alias("max_latency"),
            max(col("stack_latency"))
                .filter(whole_path)
                .build()?
                .alias("path_latency"),
        ],
    )?)
}

/// The 5-tuple, `proto`, `switches` (the path, a list), `reports`, `max_latency`,
/// `path_latency` and `timestamp` (the newest report).
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut groups = vec![flow_id("r").alias("flow")];
    groups.extend(FLOW_KEY.iter().map(|field| q("r", field).alias(*field)));
    let reports = p
        .events("int_reports", times.window)?
        .alias("r")?
        .aggregate(
            groups,
            vec![
                count(lit(1u8)).alias("reports"),
                max(q("r", TIMESTAMP)).alias(TIMESTAMP),
            ],
        )?;
    let mut fields: Vec<Expr> = FLOW_KEY
        .iter()
        .map(|field| q("f", field).alias(*field))
        .collect();
    fields.extend([
        protocol_name(q("f", "protocol")).alias("proto"),
        q("p", "path").alias("switches"),
        q("f", "reports").alias("reports"),
        q("p", "max_latency").alias("max_latency"),
        q("p", "path_latency").alias("path_latency"),
        q("f", TIMESTAMP).alias(TIMESTAMP),
    ]);
    Ok(reports
        .alias("f")?
        .join_on(
            paths(p, times)?.alias("p")?.build()?,
            JoinType::Left,
            [q("f", "flow").eq(q("p", "flow"))],
        )?
        .project(fields)?)
}

fn columns() -> Vec<Expr> {
    let mut out = flow_headers();
    out.extend([
        header(
            "Path",
            coalesce(vec![array_to_string(col("switches"), lit(" > ")), lit("")]),
        ),
        header("Reports", col("reports")),
        header("Max Hop Latency (ns)", col("max_latency")),
        header("Path Latency (ns)", col("path_latency")),
        header("Last Report", col(TIMESTAMP)),
    ]);
    out
}
