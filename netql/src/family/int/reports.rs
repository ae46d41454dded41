//! `show int reports`: every telemetry report received in the window, one row each.

use datafusion::functions::expr_fn::concat;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};

use super::{
    FamilyDef, REPORT_ORDER, SWITCH_TARGETS, ViewDef, family, flow_fields, flow_headers, header,
    leading_headers, named_events, report_fields,
};
use crate::error::Result;
use crate::plan::expr::{if_else, q, text};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int reports", "int_reports", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: sonde_schema::HOSTNAME,
    targets: SWITCH_TARGETS,
    order: REPORT_ORDER,
    columns,
};

/// The report fields, its `type`, `version` (`0.5`, `1.0`, `2.0`), `flags` (`D`, `Q`, `F`),
/// `dropped`, `congested`, `tracked`, `ingress_time`, `hops` and the flow.
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields = report_fields();
    fields.extend([
        q("e", "report_type").alias("type"),
        version_text(q("e", "version")).alias("version"),
        flags().alias("flags"),
        q("e", "dropped").alias("dropped"),
        q("e", "congested").alias("congested"),
        q("e", "tracked").alias("tracked"),
        q("e", "ingress_time").alias("ingress_time"),
        q("e", "hop_count").alias("hops"),
        q("e", "collector").alias("collector"),
    ]);
    fields.extend(flow_fields("e"));
    Ok(named_events(p, "int_reports", times)?.project(fields)?)
}

/// Telemetry Report versions as the specifications number them: 5 → `0.5`, 10 → `1.0`.
fn version_text(version: Expr) -> Expr {
    let major = text(version.clone() / lit(10u32));
    let minor = text(version % lit(10u32));
    concat(vec![major, lit("."), minor])
}

/// The report's D, Q and F flags, as letters.
fn flags() -> Expr {
    let letter =
        |flag: &str, letter: &'static str| if_else(q("e", flag).is_true(), lit(letter), lit(""));
    concat(vec![
        letter("dropped", "D"),
        letter("congested", "Q"),
        letter("tracked", "F"),
    ])
}

fn columns() -> Vec<Expr> {
    let mut out = leading_headers();
    out.extend([
        header("Type", col("type")),
        header("Version", col("version")),
        header("Flags", col("flags")),
        header("HW ID", col("hw_id")),
        header("Sequence", col("sequence")),
    ]);
    out.extend(flow_headers());
    out.push(header("Hops", col("hops")));
    out
}
