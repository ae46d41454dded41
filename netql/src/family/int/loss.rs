//! `show int loss`: the telemetry's own loss over the window, per exporter, hardware id and
//! source: the per-interval counts of `int_loss` summed, and the share of reports lost.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, round};
use datafusion::functions_aggregate::expr_fn::{max, sum};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::names::{address_names, switch_hex, switch_key, switch_name, switch_names};
use super::{FamilyDef, ViewDef, family, header, intervals};
use crate::error::Result;
use crate::plan::expr::{if_else, q};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("int loss", "int_loss", &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: &[HOSTNAME, "switch_id", "switch_hex", "exporter"],
    order: &[HOSTNAME, "exporter", "hw_id", "source"],
    columns,
};

/// The counters summed over a window.
const COUNTS: [&str; 7] = [
    "expected",
    "received",
    "lost",
    "reordered",
    "duplicated",
    "wraps",
    "resets",
];

/// `hostname, exporter, hw_id, source` and the [`COUNTS`] of the intervals ending in the window
/// summed, with the
/// newest interval's time, as relation `e`; `n` names the source switch and `x` the exporter.
pub(super) fn totals(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut sums: Vec<Expr> = COUNTS.iter().map(|c| sum(col(*c)).alias(*c)).collect();
    sums.push(max(col(TIMESTAMP)).alias(TIMESTAMP));
    Ok(intervals(p, "int_loss", times)?
        .aggregate(vec![col(HOSTNAME), col("hw_id"), col("source")], sums)?
        .alias("e")?
        .join_on(
            switch_names(p, times.at, "n")?,
            JoinType::Left,
            [switch_key(q("e", "source")).eq(q("n", "key"))],
        )?
        .join_on(
            address_names(p, times.at, "x")?,
            JoinType::Left,
            [q("e", HOSTNAME).eq(q("x", "address"))],
        )?)
}

/// Who the numbers of a [`totals`] row are about: the source switch by name (its hex id when
/// no MAC names it); for numbers of no switch (source 0), the exporter's node, else its address.
pub(super) fn source_name() -> Expr {
    let of_exporter = coalesce(vec![q("x", "name"), q("e", HOSTNAME)]);
    let unnamed = q("e", "source")
        .is_null()
        .or(q("e", "source").eq(lit(0u32)));
    if_else(unnamed, of_exporter, switch_name("e", "source", "n"))
}

/// The share of the expected reports of a [`totals`] row lost, in percent; null when none
/// were expected.
pub(super) fn loss_share() -> Expr {
    let float = |column| cast(q("e", column), arrow::datatypes::DataType::Float64);
    let null = lit(datafusion::common::ScalarValue::Float64(None));
    if_else(
        q("e", "expected").gt(lit(0u64)),
        float("lost") * lit(100.0) / float("expected"),
        null,
    )
}

/// [`loss_share`] to two decimal places.
pub(super) fn loss_percent() -> Expr {
    round(vec![loss_share(), lit(2i64)])
}

/// `hostname` ([`source_name`]), `switch_id`/`source`, `switch_hex`, `exporter`, `hw_id`, the
/// counts, `loss` (percent) and `timestamp` (the newest interval).
fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields = vec![
        source_name().alias(HOSTNAME),
        q("e", "source").alias("switch_id"),
        switch_hex(q("e", "source")).alias("switch_hex"),
        q("e", HOSTNAME).alias("exporter"),
        q("e", "hw_id").alias("hw_id"),
        q("e", "source").alias("source"),
    ];
    fields.extend(COUNTS.iter().map(|c| q("e", c).alias(*c)));
    fields.push(loss_percent().alias("loss"));
    fields.push(q("e", TIMESTAMP).alias(TIMESTAMP));
    Ok(totals(p, times)?.project(fields)?)
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Exporter", col("exporter")),
        header("HW ID", col("hw_id")),
        header("Expected", col("expected")),
        header("Received", col("received")),
        header("Lost", col("lost")),
        header("Loss (%)", col("loss")),
        header("Reordered", col("reordered")),
        header("Duplicated", col("duplicated")),
        header("Resets", col("resets")),
        header("Last Report", col(TIMESTAMP)),
    ]
}
