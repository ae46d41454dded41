//! `show int drops`: every drop report received in the window, with the reason's code and name.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};

use super::{
    FamilyDef, REPORT_ORDER, SWITCH_TARGETS, ViewDef, family, flow_fields, flow_headers, header,
    leading_headers, named_events, report_fields,
};
use crate::error::Result;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int drops", "int_drops", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: sonde_schema::HOSTNAME,
    targets: SWITCH_TARGETS,
    order: REPORT_ORDER,
    columns,
};

/// The report fields, `in_port`, `out_port`, `queue`, `code`, `reason` and the flow.
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields = report_fields();
    fields.extend(
        [
            ("ingress_port", "in_port"),
            ("egress_port", "out_port"),
            ("queue_id", "queue"),
            ("drop_reason", "code"),
            ("reason", "reason"),
        ]
        .map(|(column, field)| q("e", column).alias(field)),
    );
    fields.extend(flow_fields("e"));
    Ok(named_events(p, "int_drops", times)?.project(fields)?)
}

fn columns() -> Vec<Expr> {
    let mut out = leading_headers();
    out.extend([
        header("In Port", col("in_port")),
        header("Out Port", col("out_port")),
        header("Queue", col("queue")),
        header("Code", col("code")),
        header("Reason", col("reason")),
    ]);
    out.extend(flow_headers());
    out
}
