//! `show interfaces` and `check interfaces`: both ends of each LLDP link agree on admin and
//! operational state, speed, autonegotiation and MTU.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::HOSTNAME;

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, differs, first_reason, link_check, mismatch, speed_text};
use crate::plan::expr::q;

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "interfaces",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("interfaces", Some("ifname"))
    }),
    check: Some(CheckDef::link("Link", check)),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Interface", col("ifname")),
        header("Type", col("type")),
        header("State", col("state")),
        header("Admin", col("admin_state")),
        header("VRF", col("vrf")),
        header("MTU", col("mtu")),
        header("Speed", col("speed")),
        header("Master", col("master")),
        header("VLANs", col("vlans")),
    ]
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = p.links(at)?;
    let rotten = q("a", "rotten").is_true().or(q("b", "rotten").is_true());
    let reason = first_reason(vec![
        (rotten, lit("Rotten Agent")),
        (q("j", HOSTNAME).is_null(), lit("No Peer Found")),
        (
            differs("i", "j", "admin_state"),
            mismatch("Admin state", q("i", "admin_state"), q("j", "admin_state")),
        ),
        (
            differs("i", "j", "state"),
            mismatch("State", q("i", "state"), q("j", "state")),
        ),
        (
            speed_text("i").not_eq(speed_text("j")),
            mismatch("Speed", speed_text("i"), speed_text("j")),
        ),
        (
            differs("i", "j", "autoneg"),
            mismatch("Autoneg", q("i", "autoneg"), q("j", "autoneg")),
        ),
        (differs("i", "j", "mtu"), lit("MTU mismatch")),
    ])?;
    Ok((rows, link_check(reason)))
}
