//! `show int congestion`: every queue congestion report received in the window: the queue, its
//! occupancy and latency, and the packet that saw it.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};

use super::{
    FamilyDef, REPORT_ORDER, SWITCH_TARGETS, ViewDef, family, flow_fields, flow_headers, header,
    leading_headers, named_events, report_fields,
};
use crate::error::Result;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int congestion", "int_congestion", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: sonde_schema::HOSTNAME,
    targets: SWITCH_TARGETS,
    order: REPORT_ORDER,
    columns,
};

/// The report fields, `out_port`, `queue`, `occupancy` (cells), `latency` (ns) and the flow.
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields = report_fields();
    fields.extend(
        [
            ("egress_port", "out_port"),
            ("queue_id", "queue"),
            ("queue_occupancy", "occupancy"),
            ("hop_latency_ns", "latency"),
        ]
        .map(|(column, field)| q("e", column).alias(field)),
    );
    fields.extend(flow_fields("e"));
    Ok(named_events(p, "int_congestion", times)?.project(fields)?)
}

fn columns() -> Vec<Expr> {
    let mut out = leading_headers();
    out.extend([
        header("Out Port", col("out_port")),
        header("Queue", col("queue")),
        header("Occupancy", col("occupancy")),
        header("Latency (ns)", col("latency")),
    ]);
    out.extend(flow_headers());
    out
}
