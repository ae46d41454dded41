//! `show ospf` and `check ospf`: every OSPF interface's adjacency, compared with the interface
//! at the other end of its LLDP link.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, differs, first_reason, is_not, same};
use crate::plan::expr::{or_else, q};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "ospf",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("ospf", Some("ifname"))
    }),
    check: Some(CheckDef::link("Adjacency", check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("VRF", col("vrf")),
        header("Area", col("area")),
        header("Peer Hostname", col("peer_hostname")),
        header("Peer IP", col("peer_ip")),
        header("State", col("state")),
        header("Network Type", col("network_type")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("ospf", at, "s")?)
        .filter(q("s", "is_passive").is_not_true())?
        .join_on(
            p.state_as("lldp", at, "l")?,
            JoinType::Left,
            same("s", "l", &[HOSTNAME, "ifname"]),
        )?
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(
            p.duplicate_router_ids("ospf", at, "d")?,
            JoinType::Left,
            same("s", "d", &["vrf", "router_id"]),
        )?
        .join_on(
            p.state_as("ospf", at, "p")?,
            JoinType::Left,
            [
                q("p", HOSTNAME).eq(q("l", "peer_hostname")),
                q("p", "ifname").eq(q("l", "peer_ifname")),
                q("p", "vrf").eq(q("s", "vrf")),
            ],
        )?;
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (q("d", "router_id").is_not_null(), lit("duplicate routerId")),
        (differs("s", "p", "area"), lit("area mismatch")),
        (differs("s", "p", "subnet"), lit("subnet mismatch")),
        (
            differs("s", "p", "network_type"),
            lit("network type mismatch"),
        ),
        (
            differs("s", "p", "hello_time"),
            lit("Hello timers mismatch"),
        ),
        (differs("s", "p", "dead_time"), lit("Dead timer mismatch")),
        (differs("s", "p", "mtu"), lit("MTU mismatch")),
        (
            is_not("s", "state", "full"),
            concat(vec![lit("Adjacency "), or_else(q("s", "state"), "Down")]),
        ),
    ])?;
    let checked = Checked {
        node: q("s", HOSTNAME),
        object: q("s", "ifname"),
        peer: coalesce(vec![q("s", "peer_hostname"), q("l", "peer_hostname")]),
        peer_object: q("l", "peer_ifname"),
        reason,
        time: q("s", TIMESTAMP),
    };
    Ok((rows, checked))
}
