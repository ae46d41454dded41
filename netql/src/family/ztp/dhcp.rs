//! `show ztp dhcp`: every DHCP message the ZTP server handled in the window, with its answer,
//! under the device it came from (its host name, else serial, else MAC).
//!
//! Fields: `hostname`, `timestamp`, `mac`, `serial`, `ip` (the address offered or
//! acknowledged), `type` (DISCOVER, REQUEST, INFORM, RELEASE, DECLINE), `reply` (OFFER, ACK,
//! NAK or empty), `xid`, `vendor` (option 60), `machine` (ONIE's, option 125), `relay`
//! (giaddr), `subnet`, `host` (the reservation), `lease` (seconds), `default_url`,
//! `path_prefix`, `script_url`, `pool_size`, `pool_used`, `level`, `code` and `message`.

use datafusion::functions::expr_fn::concat;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{DEVICE_TARGETS, EVENT_ORDER, FamilyDef, ViewDef, family, mac, present};
use crate::error::Result;
use crate::family::header;
use crate::plan::expr::{if_else, text};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("ztp dhcp", "ztp_dhcp", true, &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: DEVICE_TARGETS,
    order: EVENT_ORDER,
    columns,
};

fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let renamed = [
        ("serial", "serial"),
        ("client_ip", "ip"),
        ("message_type", "type"),
        ("reply", "reply"),
        ("vendor_class", "vendor"),
        ("onie_machine", "machine"),
        ("relay_ip", "relay"),
        ("subnet", "subnet"),
        ("host", "host"),
        ("default_url", "default_url"),
        ("path_prefix", "path_prefix"),
        ("script_url", "script_url"),
        ("log_event", "code"),
        ("message", "message"),
    ];
    let mut fields = vec![
        col(HOSTNAME),
        col(TIMESTAMP),
        mac(col("client_mac")).alias("mac"),
        col("xid"),
        col("lease_time").alias("lease"),
        col("pool_size"),
        col("pool_used"),
        col("level"),
    ];
    fields.extend(
        renamed
            .iter()
            .map(|(column, field)| present(col(*column)).alias(*field)),
    );
    Ok(p.events("ztp_dhcp", times.window)?.project(fields)?)
}

/// `46/50`, empty when the server did not say.
fn pool() -> Expr {
    let null = lit(datafusion::common::ScalarValue::Utf8(None));
    if_else(
        col("pool_size").is_null(),
        null,
        concat(vec![
            text(col("pool_used")),
            lit("/"),
            text(col("pool_size")),
        ]),
    )
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Type", col("type")),
        header("Reply", col("reply")),
        header("MAC", col("mac")),
        header("Serial", col("serial")),
        header("IP", col("ip")),
        header("Relay", col("relay")),
        header("Subnet", col("subnet")),
        header("Pool", pool()),
        header("Lease Time", col("lease")),
        header("Code", col("code")),
        header("Time", col(TIMESTAMP)),
    ]
}
