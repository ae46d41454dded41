//! `show evpn` and `check evpn`: the EVPN VNIs, each VNI mapped to one VRF fabric-wide.

use datafusion::common::JoinType;
use datafusion::functions_aggregate::expr_fn::count_distinct;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host, list};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check, same};
use crate::plan::expr::{q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "evpn",
    show: ShowDef {
        columns: Some(columns),
        ..ShowDef::of("evpn", Some("vni"))
    },
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
    let vrfs = p
        .state("evpn", at)?
        .aggregate(
            vec![col("vni")],
            vec![count_distinct(col("vrf")).alias("vrfs")],
        )?
        .alias("m")?
        .build()?;
    let rows = LogicalPlanBuilder::from(p.state_as("evpn", at, "s")?)
        .join_on(p.rotten(at, "a")?, JoinType::Left, same("s", "a", &[HOSTNAME]))?
        .join_on(vrfs, JoinType::Left, same("s", "m", &["vni"]))?;
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (is_not("s", "state", "up"), lit("vni down")),
        (
            q("m", "vrfs").gt(lit(1i64)),
            lit("Inconsistent VNI-VRF mapping"),
        ),
    ])?;
    Ok((rows, object_check("s", text(q("s", "vni")), reason)))
}
