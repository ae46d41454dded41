//! `show vxlan` and `check vxlan`: VXLAN interfaces, each VNI's VLAN and replication list
//! compared across the VTEPs that carry it.

use arrow::datatypes::DataType;
use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::functions_aggregate::expr_fn::count_distinct;
use datafusion::functions_nested::expr_fn::cardinality;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host, list};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, first_reason, is_not, object_check, same};
use crate::plan::expr::{q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "vxlan",
    show: ShowDef {
        columns: Some(columns),
        ..ShowDef::of("vxlan", Some("ifname"))
    },
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
    let per_vni = p
        .state("vxlan", at)?
        .aggregate(
            vec![col("vni")],
            vec![
                count_distinct(col(HOSTNAME)).alias("vteps"),
                count_distinct(col("vlan")).alias("vlans"),
            ],
        )?
        .alias("m")?
        .build()?;
    let rows = LogicalPlanBuilder::from(p.state_as("vxlan", at, "s")?)
        .join_on(p.rotten(at, "a")?, JoinType::Left, same("s", "a", &[HOSTNAME]))?
        .join_on(per_vni, JoinType::Left, same("s", "m", &["vni"]))?;
    let vni = text(q("s", "vni"));
    let remote = cast(
        coalesce(vec![cardinality(q("s", "remote_vteps")), lit(0u64)]),
        DataType::Int64,
    );
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (
            is_not("s", "state", "up"),
            concat(vec![lit("VxLAN down for vni "), vni.clone()]),
        ),
        (
            q("m", "vlans").gt(lit(1i64)),
            concat(vec![lit("inconsistent VLAN mapping for vni "), vni.clone()]),
        ),
        (
            remote.not_eq(q("m", "vteps") - lit(1i64)),
            concat(vec![
                lit("inconsistent replication list for vni "),
                vni.clone(),
            ]),
        ),
    ])?;
    Ok((rows, object_check("s", vni, reason)))
}
