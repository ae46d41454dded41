//! `show vlan` and `check vlan`: VLAN sets and PVIDs on both ends of each link and of each MLAG
//! bond pair.

use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{CheckDef, FamilyDef, ShowDef, header, host, list};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, newer, same};
use crate::plan::expr::{or_else, q};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "vlan",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("vlan", Some("vlan"))
    }),
    check: Some(CheckDef {
        clean: Some("No VLAN or PVID Mismatch found"),
        ..CheckDef::link("Link", check)
    }),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("VLAN", col("vlan")),
        header("SVI", col("svi")),
        header("VRF", col("vrf")),
        header("VNI", col("vni")),
        header("Ports", list("ports")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let links = p
        .links(at)?
        .filter(
            q("j", HOSTNAME).is_not_null().and(
                q("i", "vlans")
                    .is_not_null()
                    .or(q("j", "vlans").is_not_null()),
            ),
        )?
        .project(pair_columns(
            q("l", HOSTNAME),
            q("l", "peer_hostname"),
            q("a", "rotten").is_true().or(q("b", "rotten").is_true()),
        ))?
        .build()?;
    let rows = LogicalPlanBuilder::from(links).union(mlag_bond_pairs(p, at)?)?;
    let reason = first_reason(vec![
        (col("rotten"), lit("Rotten Agent")),
        (
            or_else(col("vlans"), "").not_eq(or_else(col("peer_vlans"), "")),
            lit("VLAN set Mismatch"),
        ),
        (col("pvid").not_eq(col("peer_pvid")), lit("PVID Mismatch")),
    ])?;
    let checked = Checked {
        node: col("node"),
        object: col("ifname"),
        peer: col("peer"),
        peer_object: col("peer_ifname"),
        reason,
        time: col("time"),
    };
    Ok((rows, checked))
}

/// Each MLAG bond with its twin on the peer switch, once.
fn mlag_bond_pairs(p: &Planner<'_>, at: i64) -> Result<datafusion::logical_expr::LogicalPlan> {
    Ok(LogicalPlanBuilder::from(p.state_as("clag", at, "s")?)
        .join_on(
            p.state_as("clag", at, "p")?,
            JoinType::Inner,
            [
                q("p", HOSTNAME).eq(q("s", "peer_hostname")),
                q("p", "clag_id").eq(q("s", "clag_id")),
                q("s", HOSTNAME).lt(q("p", HOSTNAME)),
            ],
        )?
        .join_on(
            p.state_as("interfaces", at, "i")?,
            JoinType::Inner,
            same("s", "i", &[HOSTNAME, "ifname"]),
        )?
        .join_on(
            p.state_as("interfaces", at, "j")?,
            JoinType::Inner,
            same("p", "j", &[HOSTNAME, "ifname"]),
        )?
        .project(pair_columns(q("s", HOSTNAME), q("p", HOSTNAME), lit(false)))?
        .build()?)
}

/// The columns `check vlan` compares, for a pair of interfaces `i` and `j`.
fn pair_columns(node: Expr, peer: Expr, rotten: Expr) -> Vec<Expr> {
    vec![
        node.alias("node"),
        q("i", "ifname").alias("ifname"),
        peer.alias("peer"),
        q("j", "ifname").alias("peer_ifname"),
        q("i", "vlans").alias("vlans"),
        q("j", "vlans").alias("peer_vlans"),
        q("i", "pvid").alias("pvid"),
        q("j", "pvid").alias("peer_pvid"),
        rotten.alias("rotten"),
        newer(q("i", TIMESTAMP), q("j", TIMESTAMP)).alias("time"),
    ]
}
