//! `show clag` and `check clag`: MLAG bonds, each compared with its peer switch's side.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{concat, nullif};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, differs, first_reason, is, object_check, same};
use crate::plan::expr::q;

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "clag",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("clag", Some("ifname"))
    }),
    check: Some(CheckDef {
        peer: Some("Peer"),
        ..CheckDef::of(Some("Bond"), Some("Interface"), check)
    }),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("Peer", col("peer_hostname")),
        header("Role", col("role")),
        header("Peer State", col("peer_state")),
        header("SysMac", col("sysmac")),
        header("Backup IP", col("backup_ip")),
        header("CLAG Id", col("clag_id")),
        header("Bond State", col("bond_state")),
        header("Conflict", col("conflict")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("clag", at, "s")?)
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(
            p.state_as("clag", at, "p")?,
            JoinType::Left,
            [
                q("p", HOSTNAME).eq(q("s", "peer_hostname")),
                q("p", "clag_id").eq(q("s", "clag_id")),
            ],
        )?;
    let bond = q("s", "ifname");
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (
            is("s", "peer_state", "down"),
            lit("Peer Connectivity failed"),
        ),
        (
            is("s", "bond_state", "down"),
            concat(vec![lit("Link Down: "), bond.clone()]),
        ),
        (
            q("s", "protodown").is_true(),
            concat(vec![lit("Protodown Bonds: "), bond.clone()]),
        ),
        (
            nullif(q("s", "conflict"), lit("")).is_not_null(),
            concat(vec![
                lit("Conflicted Bonds: "),
                bond.clone(),
                lit(" ("),
                q("s", "conflict"),
                lit(")"),
            ]),
        ),
        (
            is("s", "bond_state", "single").or(q("s", "clag_id")
                .is_not_null()
                .and(q("p", HOSTNAME).is_null())
                .and(q("s", "peer_hostname").is_not_null())),
            concat(vec![lit("Singly Attached Bonds: "), bond.clone()]),
        ),
        (differs("p", "s", "sysmac"), lit("System MAC mismatch")),
        (
            q("s", "backup_active").is_false(),
            lit("Backup IP not active"),
        ),
    ])?;
    let checked = Checked {
        peer: q("s", "peer_hostname"),
        ..object_check("s", bond, reason)
    };
    Ok((rows, checked))
}
