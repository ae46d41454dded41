//! The INT families: `show int reports|hops|drops|congestion|loss|flows|errors` and `check int`.
//!
//! The INT tables hold what the collector decoded, each row under the exporter's address. The
//! answers name switches as operators know them: a switch id becomes the hostname whose MACs
//! stand for it in `interfaces` at the statement's time ([`names`]), or stays its hex id
//! (`0x44380015`) when no node's MAC does. Every family is a view ([`ViewDef`]) whose fields
//! `show` filters on: `hostname` (the named switch), `switch_id`, `switch_hex`, `exporter`,
//! `timestamp` (when the report was received), the report's `hw_id` and `sequence`, the inner
//! packet's `src_ip`, `dst_ip`, `src_port`, `dst_port`, `protocol` (a number) and `proto` (its
//! name), and each family's own. The event families show the window's rows (`around T`: the hour
//! before T; `between A and B`); `loss`, `errors` and `flows` sum and group that window's rows.
//!
//! `check int` judges the same window against the default profiles of [`profile`].

mod check;
mod congestion;
mod drops;
mod errors;
mod flows;
mod hops;
mod loss;
pub(crate) mod names;
pub mod profile;
mod reports;

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{FamilyDef, ShowDef, ViewDef, header};
use crate::error::Result;
use crate::plan::expr::{if_else, q, text, time_lit};
use crate::plan::{Planner, Times};
use names::{address_names, switch_hex, switch_key, switch_name, switch_names};

pub(super) use check::CHECK;
pub(super) use congestion::FAMILY as CONGESTION;
pub(super) use drops::FAMILY as DROPS;
pub(super) use errors::FAMILY as ERRORS;
pub(super) use flows::FAMILY as FLOWS;
pub(super) use hops::FAMILY as HOPS;
pub(super) use loss::FAMILY as LOSS;
pub(super) use reports::FAMILY as REPORTS;

/// The fields a bare target of a per-report family matches: the switch by name or id.
const SWITCH_TARGETS: &[&str] = &[HOSTNAME, "switch_id", "switch_hex"];

/// A family over `table` shown as `view`.
const fn family(name: &'static str, table: &'static str, view: &'static ViewDef) -> FamilyDef {
    FamilyDef {
        name,
        show: Some(ShowDef {
            events: true,
            view: Some(view),
            ..ShowDef::of(table, None)
        }),
        check: None,
    }
}

/// The rows of `table` in the window as relation `e`, each with the name of the switch its
/// `switch_id` names at the statement's time as relation `n`, and the exporter's node as `x`.
fn named_events(p: &Planner<'_>, table: &str, times: Times) -> Result<LogicalPlanBuilder> {
    Ok(p.events(table, times.window)?
        .alias("e")?
        .join_on(
            switch_names(p, times.at, "n")?,
            JoinType::Left,
            [switch_key(q("e", "switch_id")).eq(q("n", "key"))],
        )?
        .join_on(
            address_names(p, times.at, "x")?,
            JoinType::Left,
            [q("e", HOSTNAME).eq(q("x", "address"))],
        )?)
}

/// The switch a row of [`named_events`] is about: the one its id names, else (a report that
/// names none) the exporter's node, else the exporter's address.
fn reporting_switch() -> Expr {
    coalesce(vec![
        switch_name("e", "switch_id", "n"),
        q("x", "name"),
        q("e", HOSTNAME),
    ])
}

/// The fields of a report's row from [`named_events`]: which switch, exporter, when, which report.
fn report_fields() -> Vec<Expr> {
    vec![
        reporting_switch().alias(HOSTNAME),
        q("e", "switch_id").alias("switch_id"),
        switch_hex(q("e", "switch_id")).alias("switch_hex"),
        q("e", HOSTNAME).alias("exporter"),
        q("e", TIMESTAMP).alias(TIMESTAMP),
        q("e", "hw_id").alias("hw_id"),
        q("e", "sequence").alias("sequence"),
    ]
}

/// The inner packet's 5-tuple of `relation`, and the protocol's name.
fn flow_fields(relation: &str) -> Vec<Expr> {
    let mut fields: Vec<Expr> = FLOW_KEY
        .iter()
        .map(|field| q(relation, field).alias(*field))
        .collect();
    fields.push(protocol_name(q(relation, "protocol")).alias("proto"));
    fields
}

/// The 5-tuple's fields, in the order the answers print them.
const FLOW_KEY: [&str; 5] = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol"];

/// `tcp`, `udp`, `icmp`, `icmpv6`, else the number.
fn protocol_name(protocol: Expr) -> Expr {
    let named = [(1u32, "icmp"), (6, "tcp"), (17, "udp"), (58, "icmpv6")];
    named
        .iter()
        .rev()
        .fold(text(protocol.clone()), |otherwise, (number, name)| {
            if_else(protocol.clone().eq(lit(*number)), lit(*name), otherwise)
        })
}

/// Hostname, Exporter, Received: how every per-report answer starts.
fn leading_headers() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Exporter", col("exporter")),
        header("Received", col(TIMESTAMP)),
    ]
}

/// The inner packet's 5-tuple under its headers.
fn flow_headers() -> Vec<Expr> {
    vec![
        header("Src IP", col("src_ip")),
        header("Src Port", col("src_port")),
        header("Dst IP", col("dst_ip")),
        header("Dst Port", col("dst_port")),
        header("Proto", col("proto")),
    ]
}

/// The rows of a table of per-interval counts (`int_loss`, `int_errors`) whose intervals end in
/// the window: each row is stamped with its interval's end, so the row at the window's very
/// start counts the time before it and is left out.
fn intervals(p: &Planner<'_>, table: &str, times: Times) -> Result<LogicalPlanBuilder> {
    let after_start = col(TIMESTAMP).gt(time_lit(times.window.from));
    let whole = times.window.from == times.window.to;
    let rows = p.events(table, times.window)?;
    Ok(if whole {
        rows
    } else {
        rows.filter(after_start)?
    })
}

/// The order of per-report rows: as received, then by exporter and report.
const REPORT_ORDER: &[&str] = &[TIMESTAMP, "exporter", "hw_id", "sequence"];

#[cfg(test)]
mod tests;
