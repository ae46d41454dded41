//! `show ztp http`: every HTTP request of the window for an image, a configuration or a script,
//! under the device that asked (its HOST-NAME header, else its lease's device name, else its
//! serial, else its address).
//!
//! Fields: `hostname`, `timestamp`, `ip`, `mac` (of the lease holding `ip`), `serial` (from the
//! ONIE-, CUMULUS- or SONiC headers), `method`, `path`, `status`, `bytes`, `range`, `duration`
//! (µs), `file`, `route` (what the URL asked for: see [`super::route`]), `config`
//! (`config_name`), `sha1`, `known` (config.db knows the serial), `vendor`, `machine`, `arch`,
//! `operation`, `version`, `container`, `element`, `host_name`, `user_agent`, `level`, `code`
//! and `message`.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{DEVICE_TARGETS, FamilyDef, ViewDef, family, mac, present, route};
use crate::error::Result;
use crate::family::header;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("ztp http", "ztp_http", true, &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: DEVICE_TARGETS,
    order: &[TIMESTAMP, HOSTNAME, "request_id"],
    columns,
};

fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let texts = [
        ("client_ip", "ip"),
        ("serial", "serial"),
        ("method", "method"),
        ("path", "path"),
        ("range", "range"),
        ("file", "file"),
        ("config_name", "config"),
        ("config_sha1", "sha1"),
        ("vendor", "vendor"),
        ("machine", "machine"),
        ("arch", "arch"),
        ("operation", "operation"),
        ("nos_version", "version"),
        ("container_name", "container"),
        ("element_name", "element"),
        ("host_name", "host_name"),
        ("user_agent", "user_agent"),
        ("log_event", "code"),
        ("message", "message"),
    ];
    let mut fields = vec![
        q("h", HOSTNAME).alias(HOSTNAME),
        q("h", TIMESTAMP).alias(TIMESTAMP),
        q("h", "request_id").alias("request_id"),
        mac(q("h", "client_mac")).alias("mac"),
        q("h", "status").alias("status"),
        q("h", "bytes").alias("bytes"),
        q("h", "duration_us").alias("duration"),
        q("h", "level").alias("level"),
        q("h", "known_serial").alias("known"),
        route("h")?.alias("route"),
    ];
    fields.extend(
        texts
            .iter()
            .map(|(column, field)| present(q("h", column)).alias(*field)),
    );
    Ok(p.events("ztp_http", times.window)?
        .alias("h")?
        .project(fields)?)
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("IP", col("ip")),
        header("MAC", col("mac")),
        header("Serial", col("serial")),
        header("Method", col("method")),
        header("Path", col("path")),
        header("Status", col("status")),
        header("Bytes", col("bytes")),
        header("Duration (µs)", col("duration")),
        header("Code", col("code")),
        header("Time", col(TIMESTAMP)),
    ]
}
