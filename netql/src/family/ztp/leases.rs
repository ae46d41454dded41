//! `show ztp leases`: the DHCP server's lease table at the statement's time (`around T`, else
//! now; `between A and B` asks about B): the newest change of each address, kept while it holds
//! the address (offered, bound or declined); released and expired leases are gone.
//!
//! A lease whose end has passed at that time but whose expiry the server had not yet written
//! shows as `expired`. Starts and ends print as instants: an end is usually in the future, which
//! relative times read badly.
//!
//! Fields: `hostname` (the device: its host name, else serial, else MAC), `ip`, `mac`,
//! `serial`, `device`, `state`, `starts`, `ends`, `subnet`, `host` (the reservation), `server`
//! (the DHCP server's identifier the lease stands under) and `timestamp` (its last change).

use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{FamilyDef, ViewDef, family, mac, present};
use crate::error::Result;
use crate::family::header;
use crate::plan::expr::{if_else, time_lit};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("ztp leases", "ztp_leases", false, &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: &[HOSTNAME, "ip", "mac", "serial"],
    order: &["ip", "server"],
    columns,
};

/// The lease's state, `expired` once its end passed `at` (see the module's doc).
fn state(at: i64) -> Expr {
    let holding = col("state").in_list(vec![lit("offered"), lit("bound")], false);
    let ended = col("ends").lt(time_lit(at));
    if_else(holding.and(ended), lit("expired"), col("state"))
}

fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let device = || present(col("device"));
    Ok(p.state("ztp_leases", times.at)?.project(vec![
        coalesce(vec![
            device(),
            present(col("serial")),
            mac(col("client_mac")),
        ])
        .alias(HOSTNAME),
        col("ip"),
        mac(col("client_mac")).alias("mac"),
        present(col("serial")).alias("serial"),
        device().alias("device"),
        state(times.at).alias("state"),
        col("starts"),
        col("ends"),
        present(col("subnet")).alias("subnet"),
        present(col("host")).alias("host"),
        col(HOSTNAME).alias("server"),
        col(TIMESTAMP),
    ])?)
}

fn columns() -> Vec<Expr> {
    vec![
        header("IP", col("ip")),
        header("MAC", col("mac")),
        header("Serial", col("serial")),
        header("Device", col("device")),
        header("State", col("state")),
        header("Subnet", col("subnet")),
        header("Starts", col("starts")),
        header("Ends", col("ends")),
        header("Last Changed", col(TIMESTAMP)),
    ]
}
