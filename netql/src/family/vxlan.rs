//! `show vxlan` and `check vxlan`: VXLAN interfaces, each VNI's VLAN put to the vote of the VTEPs
//! that carry it, and each replication list compared with the other VTEPs with the VNI up.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::concat;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host, list};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check, replication_differs, same};
use crate::plan::expr::{q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "vxlan",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("vxlan", Some("ifname"))
    }),
    check: Some(CheckDef::of(Some("VNI"), Some("VNI"), check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("VNI", col("vni")),
        header("VLAN", col("vlan")),
        header("Local IP", col("local_ip")),
        header("Replication", col("replication")),
        header("Remote VTEPs", list("remote_vteps")),
        header("State", col("state")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("vxlan", at, "s")?)
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(
            p.mapping_votes("vxlan", "vlan", at, "m")?,
            JoinType::Left,
            same("s", "m", &["vni", "vlan"]),
        )?
        .join_on(
            p.replication("vxlan", "local_ip", at, "r")?,
            JoinType::Left,
            same("s", "r", &[HOSTNAME, "vni"]),
        )?;
    let vni = text(q("s", "vni"));
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (
            is_not("s", "state", "up"),
            concat(vec![lit("VxLAN down for vni "), vni.clone()]),
        ),
        (
            q("m", "outvoted").is_true(),
            concat(vec![lit("inconsistent VLAN mapping for vni "), vni.clone()]),
        ),
        (
            replication_differs("s", "r"),
            concat(vec![
                lit("inconsistent replication list for vni "),
                vni.clone(),
            ]),
        ),
    ])?;
    Ok((rows, object_check("s", vni, reason)))
}
