//! `show evpn` and `check evpn`: the EVPN VNIs, each VNI mapped to one VRF and one VLAN
//! fabric-wide (the VTEPs outvoted on either are flagged), and each VTEP replicating to every
//! other VTEP with the VNI up.

use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host, list};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check, replication_differs, same};
use crate::plan::expr::{q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "evpn",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("evpn", Some("vni"))
    }),
    check: Some(CheckDef::of(Some("VNI"), Some("VNI"), check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("VNI", col("vni")),
        header("Type", col("type")),
        header("VRF", col("vrf")),
        header("VLAN", col("vlan")),
        header("State", col("state")),
        header("Origin IP", col("origin_ip")),
        header("Remote VTEPs", list("remote_vteps")),
        header("MACs", col("macs")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("evpn", at, "s")?)
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(
            p.mapping_votes("evpn", "vrf", at, "f")?,
            JoinType::Left,
            same("s", "f", &["vni", "vrf"]),
        )?
        .join_on(
            p.mapping_votes("evpn", "vlan", at, "g")?,
            JoinType::Left,
            same("s", "g", &["vni", "vlan"]),
        )?
        .join_on(
            p.replication("evpn", "origin_ip", at, "r")?,
            JoinType::Left,
            same("s", "r", &[HOSTNAME, "vni"]),
        )?;
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (is_not("s", "state", "up"), lit("vni down")),
        (
            q("f", "outvoted").is_true(),
            lit("Inconsistent VNI-VRF mapping"),
        ),
        (
            q("g", "outvoted").is_true(),
            lit("Inconsistent VNI-VLAN mapping"),
        ),
        (
            replication_differs("s", "r"),
            lit("inconsistent replication across hosts"),
        ),
    ])?;
    Ok((rows, object_check("s", text(q("s", "vni")), reason)))
}
