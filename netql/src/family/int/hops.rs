//! `show int hops`: the per-hop metadata of every report in the window, one row per hop (the
//! stack's entries in path order, then the reporting switch's own metadata), named by the hop's
//! switch.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};

use super::{
    FamilyDef, SWITCH_TARGETS, ViewDef, family, flow_fields, flow_headers, header, leading_headers,
    named_events, report_fields,
};
use crate::error::Result;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int hops", "int_hops", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: sonde_schema::HOSTNAME,
    targets: SWITCH_TARGETS,
    order: &[
        sonde_schema::TIMESTAMP,
        "exporter",
        "hw_id",
        "sequence",
        "hop",
    ],
    columns,
};

/// The report fields, `hop`, `local`, `in_port`, `out_port`, `latency` (ns), `queue`,
/// `occupancy` (cells), `ingress_time`, `egress_time`, `utilisation` and the flow.
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields = report_fields();
    fields.extend(
        [
            ("hop", "hop"),
            ("local", "local"),
            ("ingress_port", "in_port"),
            ("egress_port", "out_port"),
            ("hop_latency_ns", "latency"),
            ("queue_id", "queue"),
            ("queue_occupancy", "occupancy"),
            ("ingress_time", "ingress_time"),
            ("egress_time", "egress_time"),
            ("tx_utilisation", "utilisation"),
        ]
        .map(|(column, field)| q("e", column).alias(field)),
    );
    fields.extend(flow_fields("e"));
    Ok(named_events(p, "int_hops", times)?.project(fields)?)
}

fn columns() -> Vec<Expr> {
    let mut out = leading_headers();
    out.extend(flow_headers());
    out.extend([
        header("Hop", col("hop")),
        header("In Port", col("in_port")),
        header("Out Port", col("out_port")),
        header("Latency (ns)", col("latency")),
        header("Queue", col("queue")),
        header("Occupancy", col("occupancy")),
    ]);
    out
}
