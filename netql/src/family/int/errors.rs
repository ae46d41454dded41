//! `show int errors`: the datagrams the collector could not decode in the window, summed per
//! exporter and reason, with the last error's text.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::{last_value, max, sum};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::names::address_names;
use super::{FamilyDef, ViewDef, family, header, intervals};
use crate::error::Result;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int errors", "int_errors", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: &[HOSTNAME, "exporter", "reason"],
    order: &[HOSTNAME, "exporter", "reason"],
    columns,
};

/// `hostname` (the exporter's node, else its address), `exporter`, `reason`, `datagrams`
/// summed over the intervals ending in the window, the newest row's `collector` and `detail`, and its `timestamp`.
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let newest = |column: &str| {
        last_value(col(column), vec![col(TIMESTAMP).sort(true, false)]).alias(column)
    };
    Ok(intervals(p, "int_errors", times)?
        .aggregate(
            vec![col(HOSTNAME), col("reason")],
            vec![
                sum(col("datagrams")).alias("datagrams"),
                newest("collector"),
                newest("detail"),
                max(col(TIMESTAMP)).alias(TIMESTAMP),
            ],
        )?
        .alias("e")?
        .join_on(
            address_names(p, times.at, "x")?,
            JoinType::Left,
            [q("e", HOSTNAME).eq(q("x", "address"))],
        )?
        .project(vec![
            coalesce(vec![q("x", "name"), q("e", HOSTNAME)]).alias(HOSTNAME),
            q("e", HOSTNAME).alias("exporter"),
            q("e", "reason").alias("reason"),
            q("e", "datagrams").alias("datagrams"),
            q("e", "collector").alias("collector"),
            q("e", "detail").alias("detail"),
            q("e", TIMESTAMP).alias(TIMESTAMP),
        ])?)
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Exporter", col("exporter")),
        header("Reason", col("reason")),
        header("Datagrams", col("datagrams")),
        header("Last Error", col("detail")),
        header("Last Report", col(TIMESTAMP)),
    ]
}
