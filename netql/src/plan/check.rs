//! `check <family>`: validations as plans. Each check lists every object it checked (a session,
//! a link, a VNI, a node) with a `Reason` that is null when the object passed; the answer counts
//! them and keeps the failures. Both ends of a session or link are compared by joining the
//! table's state with itself, through LLDP where the peer's interface is needed.
//!
//! Each family's check lives in its registry file (`family/<name>.rs`); this file holds the
//! command (dispatch, headers, host filter, order) and the pieces the checks share.
//!
//! Reasons are NetQ's ("Interface down", "Hold Timer Expired", "Idle", "Rotten Agent", "MTU
//! Mismatch", "VLAN set Mismatch", …) with the finer ones SuzieQ and NetQ 4.x test (ASN, hold
//! time, router-id, speed and autoneg mismatches). The first that applies is given.

use arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema, JoinType};
use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{count_distinct, sum};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::functions_nested::expr_fn::{array_has, cardinality};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, WindowFunctionDefinition, cast, col,
    ident, lit, when,
};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use crate::answer::{AnswerKind, NODE, REASON};
use crate::ast::{Check, Query};
use crate::error::{Error, Result};
use crate::family::{self, CheckDef, CheckPlan, agent_status};

use super::expr::{host_filter, if_else, or_else, q, text};
use super::scalar::{Scope, Translator};
use super::{Planned, Planner};

/// One checked object, before it is headed: every check builds these columns.
pub(crate) struct Checked {
    pub node: Expr,
    pub object: Expr,
    pub peer: Expr,
    pub peer_object: Expr,
    pub reason: Expr,
    pub time: Expr,
}

/// A checked object's row in the columns of a check over a window of events (`check int`,
/// `check ztp`), whose parts each list `node, object, reason, time`.
pub(crate) fn object_row(node: Expr, object: Expr, reason: Expr, time: Expr) -> Vec<Expr> {
    vec![
        text(node).alias("node"),
        text(object).alias("object"),
        text(reason).alias("reason"),
        time.alias("time"),
    ]
}

/// The parts of a window check, each of [`object_row`]'s columns, as one relation and its
/// [`Checked`] columns (no peer).
pub(crate) fn window_objects(
    first: LogicalPlanBuilder,
    rest: Vec<LogicalPlanBuilder>,
) -> Result<(LogicalPlanBuilder, Checked)> {
    let mut rows = first;
    for part in rest {
        rows = rows.union(part.build()?)?;
    }
    let checked = Checked {
        node: col("node"),
        object: col("object"),
        peer: lit(""),
        peer_object: lit(""),
        reason: col("reason"),
        time: col("time"),
    };
    Ok((rows, checked))
}

/// The first reason whose condition holds, else null.
pub(crate) fn first_reason(cases: Vec<(Expr, Expr)>) -> Result<Expr> {
    let mut cases = cases.into_iter();
    let Some((condition, reason)) = cases.next() else {
        return Ok(lit(datafusion::common::ScalarValue::Utf8(None)));
    };
    let mut builder = when(condition, reason);
    for (condition, reason) in cases {
        builder = builder.when(condition, reason);
    }
    Ok(builder.end()?)
}

/// Join conditions: `left.c = right.c` for each column `c`.
pub(crate) fn same(left: &str, right: &str, columns: &[&str]) -> Vec<Expr> {
    columns.iter().map(|c| q(left, c).eq(q(right, c))).collect()
}

pub(crate) fn is(relation: &str, column: &str, value: &str) -> Expr {
    q(relation, column).eq(lit(value.to_string()))
}

pub(crate) fn is_not(relation: &str, column: &str, value: &str) -> Expr {
    or_else(q(relation, column), "").not_eq(lit(value.to_string()))
}

/// Both ends have the column and the values differ.
pub(crate) fn differs(a: &str, b: &str, column: &str) -> Expr {
    q(a, column).not_eq(q(b, column))
}

/// The later of two times; `a` when `b` is null.
pub(crate) fn newer(a: Expr, b: Expr) -> Expr {
    if_else(b.clone().is_null().or(a.clone().gt_eq(b.clone())), a, b)
}

/// The replication list of relation `s` lacks another VTEP's address or holds more than the
/// VTEPs with its VNI up, as relation `r` of [`Planner::replication`] counts them.
pub(crate) fn replication_differs(s: &str, r: &str) -> Expr {
    let listed = cast(
        coalesce(vec![cardinality(q(s, "remote_vteps")), lit(0u64)]),
        DataType::Int64,
    );
    let expected = coalesce(vec![q(r, "expected"), lit(0i64)]);
    q(r, "missing").gt(lit(0i64)).or(listed.not_eq(expected))
}

/// `10G`, `100M`, `n/a`.
pub(crate) fn speed_text(relation: &str) -> Expr {
    let speed = q(relation, "speed");
    let whole_gigabits = (speed.clone() % lit(1000u64))
        .eq(lit(0u64))
        .and(speed.clone().gt_eq(lit(1000u64)));
    if_else(
        speed.clone().is_null(),
        lit("n/a"),
        if_else(
            whole_gigabits,
            concat(vec![text(speed.clone() / lit(1000u64)), lit("G")]),
            concat(vec![text(speed), lit("M")]),
        ),
    )
}

/// `State mismatch (up, down)`.
pub(crate) fn mismatch(what: &str, a: Expr, b: Expr) -> Expr {
    concat(vec![
        lit(format!("{what} mismatch (")),
        a,
        lit(", "),
        b,
        lit(")"),
    ])
}

impl Planner<'_> {
    pub(super) fn plan_check(&self, query: &Query, check: &Check) -> Result<Planned> {
        let family = check.family.name;
        let kind = family::find(family)
            .and_then(|f| f.check.as_ref())
            .ok_or_else(|| Error::plan(check.family.span, format!("`{family}` has no check")))?;
        let (rows, mut checked) = match kind.plan {
            CheckPlan::State(plan) => plan(self, self.state_time(query))?,
            CheckPlan::Window(plan) => plan(self, self.times(query))?,
        };
        checked.time = rotten_since(rows.schema(), &checked);
        let mut rows = rows.project(headed(kind, checked))?;
        if let Some(hosts) = &query.hosts {
            let mut matches = host_filter(ident(NODE), hosts);
            if let Some(peer) = kind.peer {
                matches = matches.or(host_filter(ident(peer), hosts));
            }
            rows = rows.filter(matches)?;
        }
        if let Some(filter) = &check.filter {
            let scope = Scope::of_rows(&format!("check {family}"), rows.schema(), self.now);
            rows = rows.filter(Translator::new(&scope).expr(filter)?)?;
        }
        let mut order = vec![ident(NODE).sort(true, false)];
        if let Some(object) = kind.object {
            order.push(ident(object).sort(true, false));
        }
        let plan = rows.sort(order)?.build()?;
        Ok(Planned {
            walk: None,
            plan,
            kind: AnswerKind::Check {
                family: family.to_string(),
                noun: kind.noun.map(str::to_string),
                peer: kind.peer.map(str::to_string),
                clean: kind.clean.map(str::to_string),
            },
        })
    }

    /// `hostname, rotten, silent_since` (its last heartbeat) for every agent known at `at`, as
    /// relation `alias`.
    pub(crate) fn rotten(&self, at: i64, alias: &str) -> Result<LogicalPlan> {
        Ok(self
            .state("agents", at)?
            .project(vec![
                col(HOSTNAME),
                agent_status(at).eq(lit("Rotten")).alias("rotten"),
                col(TIMESTAMP).alias(SILENT_SINCE),
            ])?
            .alias(alias)?
            .build()?)
    }

    /// `vrf, router_id` claimed by more than one node in `table`, as relation `alias`.
    pub(crate) fn duplicate_router_ids(
        &self,
        table: &str,
        at: i64,
        alias: &str,
    ) -> Result<LogicalPlan> {
        Ok(self
            .state(table, at)?
            .filter(col("router_id").is_not_null())?
            .aggregate(
                vec![col("vrf"), col("router_id")],
                vec![count_distinct(col(HOSTNAME)).alias("nodes")],
            )?
            .filter(col("nodes").gt(lit(1i64)))?
            .project(vec![col("vrf"), col("router_id")])?
            .alias(alias)?
            .build()?)
    }

    /// `vni, <column>, outvoted` for every value of `column` the VTEPs of a VNI in `table` hold,
    /// as relation `alias`: a value is outvoted when the VNI's VTEPs disagree and no more than
    /// half of them hold it, so the odd VTEP out is the one flagged, and a split flags them all.
    /// One pass over the state: the holders of each value, then their sum and the number of
    /// values over the VNI (each VTEP holds one value of a VNI).
    pub(crate) fn mapping_votes(
        &self,
        table: &str,
        column: &str,
        at: i64,
        alias: &str,
    ) -> Result<LogicalPlan> {
        let over_vni = |function, argument: &str| {
            Expr::from(WindowFunction::new(
                WindowFunctionDefinition::AggregateUDF(function),
                vec![col(argument)],
            ))
            .partition_by(vec![col("vni")])
            .build()
        };
        let vteps = over_vni(sum_udaf(), "holders")?.alias("vteps");
        let values = over_vni(count_udaf(), column)?.alias("values");
        let outvoted = col("values")
            .gt(lit(1i64))
            .and((col("holders") * lit(2i64)).lt_eq(col("vteps")));
        Ok(self
            .state(table, at)?
            .aggregate(
                vec![col("vni"), col(column)],
                vec![count_distinct(col(HOSTNAME)).alias("holders")],
            )?
            .window(vec![vteps, values])?
            .project(vec![col("vni"), col(column), outvoted.alias("outvoted")])?
            .alias(alias)?
            .build()?)
    }

    /// `hostname, vni, missing, expected` for every VTEP's VNI in `table`, as relation `alias`:
    /// how many of the other VTEPs with the VNI up (known by their address column `local`) its
    /// replication list lacks, and how many addresses the list should hold. VTEPs that share an
    /// address, as an MLAG pair's anycast VTEP does, count once and not for each other.
    pub(crate) fn replication(
        &self,
        table: &str,
        local: &str,
        at: i64,
        alias: &str,
    ) -> Result<LogicalPlan> {
        let up = self
            .state(table, at)?
            .filter(col("state").eq(lit("up")))?
            .project(vec![col(HOSTNAME), col("vni"), col(local)])?
            .alias("y")?
            .build()?;
        let other_vtep = vec![
            q("x", "vni").eq(q("y", "vni")),
            q("x", HOSTNAME).not_eq(q("y", HOSTNAME)),
            q("x", local).not_eq(q("y", local)),
        ];
        let unlisted = q("y", local)
            .is_not_null()
            .and(array_has(q("x", "remote_vteps"), q("y", local)).is_not_true());
        Ok(LogicalPlanBuilder::from(self.state_as(table, at, "x")?)
            .join_on(up, JoinType::Left, other_vtep)?
            .aggregate(
                vec![q("x", HOSTNAME), q("x", "vni")],
                vec![
                    sum(if_else(unlisted, lit(1i64), lit(0i64))).alias("missing"),
                    count_distinct(q("y", local)).alias("expected"),
                ],
            )?
            .alias(alias)?
            .build()?)
    }

    /// Every LLDP link once: the local interface `i`, the peer's `j`, the agents' `a` and `b`.
    pub(crate) fn links(&self, at: i64) -> Result<LogicalPlanBuilder> {
        let reverse_seen = q("r", HOSTNAME).is_null();
        let ordered = q("l", HOSTNAME)
            .lt(q("l", "peer_hostname"))
            .or(q("l", HOSTNAME)
                .eq(q("l", "peer_hostname"))
                .and(q("l", "ifname").lt(q("l", "peer_ifname"))));
        Ok(LogicalPlanBuilder::from(self.state_as("lldp", at, "l")?)
            .join_on(
                self.state_as("interfaces", at, "i")?,
                JoinType::Inner,
                same("l", "i", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.state_as("interfaces", at, "j")?,
                JoinType::Left,
                [
                    q("l", "peer_hostname").eq(q("j", HOSTNAME)),
                    q("l", "peer_ifname").eq(q("j", "ifname")),
                ],
            )?
            .join_on(
                self.state_as("lldp", at, "r")?,
                JoinType::Left,
                [
                    q("l", "peer_hostname").eq(q("r", HOSTNAME)),
                    q("l", "peer_ifname").eq(q("r", "ifname")),
                ],
            )?
            .filter(reverse_seen.or(ordered))?
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("l", "a", &[HOSTNAME]),
            )?
            .join_on(
                self.rotten(at, "b")?,
                JoinType::Left,
                [q("l", "peer_hostname").eq(q("b", HOSTNAME))],
            )?)
    }
}

const SILENT_SINCE: &str = "silent_since";

/// A Rotten Agent's time is when its heartbeats stopped, not when the object last changed: the
/// node's agent (relation `a`) or, on a link, the peer's (`b`). Every check that joins the agents
/// gives "Rotten Agent" first, so a rotten agent is the row's reason.
fn rotten_since(schema: &DFSchema, checked: &Checked) -> Expr {
    let cases: Vec<(Box<Expr>, Box<Expr>)> = ["a", "b"]
        .into_iter()
        .filter(|relation| {
            schema
                .index_of_column(&Column::new(Some(*relation), SILENT_SINCE))
                .is_ok()
        })
        .map(|relation| {
            (
                Box::new(q(relation, "rotten").is_true()),
                Box::new(q(relation, SILENT_SINCE)),
            )
        })
        .collect();
    if cases.is_empty() {
        return checked.time.clone();
    }
    Expr::Case(datafusion::logical_expr::Case::new(
        None,
        cases,
        Some(Box::new(checked.time.clone())),
    ))
}

pub(crate) fn node_check(reason: Expr) -> Checked {
    Checked {
        node: q("s", HOSTNAME),
        object: lit(""),
        peer: lit(""),
        peer_object: lit(""),
        reason,
        time: q("s", TIMESTAMP),
    }
}

pub(crate) fn object_check(relation: &str, object: Expr, reason: Expr) -> Checked {
    Checked {
        node: q(relation, HOSTNAME),
        object,
        peer: lit(""),
        peer_object: lit(""),
        reason,
        time: q(relation, TIMESTAMP),
    }
}

pub(crate) fn link_check(reason: Expr) -> Checked {
    Checked {
        node: q("l", HOSTNAME),
        object: q("l", "ifname"),
        peer: q("l", "peer_hostname"),
        peer_object: q("l", "peer_ifname"),
        reason,
        time: newer(q("i", TIMESTAMP), q("j", TIMESTAMP)),
    }
}

/// The checked rows under the family's headers: Node, [object], [peer], [peer object], Reason, Time.
fn headed(kind: &CheckDef, checked: Checked) -> Vec<Expr> {
    let mut out = vec![text(checked.node).alias(NODE)];
    if let Some(object) = kind.object {
        out.push(text(checked.object).alias(object));
    }
    if let Some(peer) = kind.peer {
        out.push(text(checked.peer).alias(peer));
    }
    if let Some(peer_object) = kind.peer_object {
        out.push(text(checked.peer_object).alias(peer_object));
    }
    out.push(text(checked.reason).alias(REASON));
    out.push(checked.time.alias("Time"));
    out
}
