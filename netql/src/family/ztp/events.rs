//! `show ztp events`: the window's ZTP business events in the seed's GELF shape: CTRLD's own
//! (ZTP0011I…ZTP0043E, sent over GELF/UDP) and those the server derives, under the device
//! (its element or host name, else serial).
//!
//! Fields: `hostname`, `timestamp`, `source` (the sender's address), `code` (`_log_event`),
//! `level` (a number, RFC 5424), `severity` (its name), `message` (`short_message`),
//! `full_message`, `daemon`, `module` (`_log_module`), `serial`, `element`, `config`
//! (`_config_name`), `sha1` and `fields` (the others, as JSON). `ip` is the source address
//! and `mac` is empty: GELF carries neither, so a bare target matches name, serial or sender.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::families::ztp::LEVELS;
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{DEVICE_TARGETS, EVENT_ORDER, FamilyDef, ViewDef, family, null_text, present};
use crate::error::Result;
use crate::family::header;
use crate::plan::expr::if_else;
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("ztp events", "ztp_events", true, &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: DEVICE_TARGETS,
    order: EVENT_ORDER,
    columns,
};

/// The level's name (`Warning`), else its number as text.
fn severity() -> Expr {
    LEVELS.iter().enumerate().rev().fold(
        datafusion::logical_expr::cast(col("level"), arrow::datatypes::DataType::Utf8),
        |otherwise, (level, name)| {
            let level = u32::try_from(level).unwrap_or(u32::MAX);
            if_else(col("level").eq(lit(level)), lit(*name), otherwise)
        },
    )
}

fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let texts = [
        ("source", "source"),
        ("log_event", "code"),
        ("short_message", "message"),
        ("full_message", "full_message"),
        ("daemon", "daemon"),
        ("log_module", "module"),
        ("serial", "serial"),
        ("element_name", "element"),
        ("config_name", "config"),
        ("config_sha1", "sha1"),
        ("fields", "fields"),
    ];
    let mut fields = vec![
        col(HOSTNAME),
        col(TIMESTAMP),
        col("level"),
        severity().alias("severity"),
        present(col("source")).alias("ip"),
        null_text().alias("mac"),
    ];
    fields.extend(
        texts
            .iter()
            .map(|(column, field)| present(col(*column)).alias(*field)),
    );
    Ok(p.events("ztp_events", times.window)?.project(fields)?)
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Source", col("source")),
        header("Code", col("code")),
        header("Severity", col("severity")),
        header("Serial", col("serial")),
        header("Config", col("config")),
        header("Message", col("message")),
        header("Time", col(TIMESTAMP)),
    ]
}
