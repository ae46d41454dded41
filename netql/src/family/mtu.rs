//! `show mtu` and `check mtu`: both ends of each LLDP link with the same MTU.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, differs, first_reason, link_check};
use crate::plan::expr::q;

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "mtu",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("interfaces", Some("ifname"))
    }),
    check: Some(CheckDef {
        clean: Some("No MTU Mismatch found"),
        ..CheckDef::link("Link", check)
    }),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("Type", col("type")),
        header("MTU", col("mtu")),
    ]
}

/// Links whose peer interface is known; a missing peer is `check interfaces`' finding.
fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = p.links(at)?.filter(!q("j", HOSTNAME).is_null())?;
    let rotten = q("a", "rotten").is_true().or(q("b", "rotten").is_true());
    let reason = first_reason(vec![
        (rotten, lit("Rotten Agent")),
        (differs("i", "j", "mtu"), lit("MTU Mismatch")),
    ])?;
    Ok((rows, link_check(reason)))
}
