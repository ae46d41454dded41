//! The ZTP families: `show ztp dhcp|http|events|leases|devices` and `check ztp`.
//!
//! The ZTP server writes every DHCP exchange (`ztp_dhcp`) and HTTP request (`ztp_http`) as an
//! event under the device it is about, the devices' own GELF business events (`ztp_events`), and
//! its leases as changes of `ztp_leases` (see `sonde_schema::families::ztp`). Every family here is
//! a view ([`ViewDef`]) whose fields `show` filters on with the names operators type: `hostname`
//! (the device), `serial`, `mac`, `ip`, `status`, `code` (the event code, `ZTP0022W`), and each
//! family's own.
//!
//! - `dhcp`, `http`, `events` show the window's rows (`around T`: the hour before T, as the INT
//!   families do; `between A and B`).
//! - `leases` is a state: the lease table at T (`around T`, else now; `between` asks about its
//!   end), one row per address held.
//! - `devices` and `check ztp` judge the window's exchanges and requests per device.
//!
//! **Which device a row is about** ([`touches`]): a DHCP row's serial, else the serial the MAC
//! reported in its DHCP exchanges or holds a lease with ([`serials_of_macs`]), else its MAC. An
//! HTTP row's device is the one whose MAC the row's lease names (by that MAC's serial, as for
//! DHCP), else the serial its headers claim, else the MAC, else the client's address: a box that
//! asks with another device's serial is still itself, so the device whose serial it claimed is
//! not blamed for it. A device's name is the newest name its rows stand under that is neither
//! its serial, MAC nor address, else its key.
//!
//! **What an HTTP request asked for** ([`route`]): the server's `route` column (config, image,
//! images, onie, script, none), or for rows without one, the same read off the path
//! (`/ztp/config/…`, `/ztp/image`, `/images/…`, `/ztp/script`, ONIE's `onie-installer…`). A
//! request *fetched* something when it asked for a configuration, image or script and was
//! answered 2xx or 3xx (a redirect hands out the image's URL).

mod check;
mod devices;
mod dhcp;
mod events;
mod http;
mod leases;

use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::expr_fn::{coalesce, lower, nullif};
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, SortExpr, col, lit, when,
};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{FamilyDef, ShowDef, ViewDef};
use crate::error::Result;
use crate::plan::expr::q;
use crate::plan::{Planner, Times};

pub(super) use check::CHECK;
pub(super) use devices::FAMILY as DEVICES;
pub(super) use dhcp::FAMILY as DHCP;
pub(super) use events::FAMILY as EVENTS;
pub(super) use http::FAMILY as HTTP;
pub(super) use leases::FAMILY as LEASES;

/// The fields a bare target of the per-device families matches: the device by name, serial,
/// MAC or address.
const DEVICE_TARGETS: &[&str] = &[HOSTNAME, "serial", "mac", "ip"];

/// The order of per-event rows: as they happened, then by device.
const EVENT_ORDER: &[&str] = &[TIMESTAMP, HOSTNAME];

/// A family over `table` shown as `view`; `events` when its rows are the window's.
const fn family(
    name: &'static str,
    table: &'static str,
    events: bool,
    view: &'static ViewDef,
) -> FamilyDef {
    FamilyDef {
        name,
        show: Some(ShowDef {
            events,
            view: Some(view),
            ..ShowDef::of(table, None)
        }),
        check: None,
    }
}

/// A text null.
fn null_text() -> Expr {
    lit(ScalarValue::Utf8(None))
}

/// Text that is null when empty: the servers may leave an unknown field empty.
fn present(text: Expr) -> Expr {
    nullif(text, lit(""))
}

/// A MAC as the rows are joined on: lower case, null when empty.
fn mac(text: Expr) -> Expr {
    lower(present(text))
}

/// Newest first, by `timestamp`.
fn newest_first() -> Vec<SortExpr> {
    vec![col(TIMESTAMP).sort(false, false)]
}

/// The newest `value` of a group's rows where `only` holds.
fn newest(value: Expr, only: Expr) -> Result<Expr> {
    Ok(first_value_udaf()
        .call(vec![value])
        .order_by(newest_first())
        .filter(only)
        .build()?)
}

/// The oldest `value` of a group's rows where `only` holds.
fn oldest(value: Expr, only: Expr) -> Result<Expr> {
    Ok(first_value_udaf()
        .call(vec![value])
        .order_by(vec![col(TIMESTAMP).sort(true, false)])
        .filter(only)
        .build()?)
}

/// `mac, serial, timestamp`: every MAC with the serial it reported, from the window's DHCP
/// exchanges and the lease table at the statement's time.
fn identities(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let pairs = |rows: LogicalPlanBuilder| -> Result<LogicalPlanBuilder> {
        Ok(rows
            .project(vec![
                mac(col("client_mac")).alias("mac"),
                present(col("serial")).alias("serial"),
                col(TIMESTAMP),
            ])?
            .filter(col("mac").is_not_null().and(col("serial").is_not_null()))?)
    };
    let leases = pairs(p.state("ztp_leases", times.at)?)?.build()?;
    Ok(pairs(p.events("ztp_dhcp", times.window)?)?.union(leases)?)
}

/// `mac, serial` as relation `alias`: each MAC's newest serial.
fn serials_of_macs(p: &Planner<'_>, times: Times, alias: &str) -> Result<LogicalPlan> {
    let serial = newest(col("serial"), lit(true))?.alias("serial");
    Ok(identities(p, times)?
        .aggregate(vec![col("mac")], vec![serial])?
        .alias(alias)?
        .build()?)
}

/// `serial, owner` as relation `alias`: the MAC each serial's DHCP exchanges and lease came
/// from, the newest.
fn macs_of_serials(p: &Planner<'_>, times: Times, alias: &str) -> Result<LogicalPlan> {
    let owner = newest(col("mac"), lit(true))?.alias("owner");
    Ok(identities(p, times)?
        .aggregate(vec![col("serial")], vec![owner])?
        .alias(alias)?
        .build()?)
}

/// What an HTTP row of relation `h` asked for: see the module's doc.
fn route(h: &str) -> Result<Expr> {
    let path = || q(h, "path");
    let by_path = when(path().like(lit("/ztp/config/%")), lit("config"))
        .when(path().like(lit("/ztp/image%")), lit("image"))
        .when(path().like(lit("/images/%")), lit("images"))
        .when(path().like(lit("/ztp/script%")), lit("script"))
        .when(path().like(lit("%onie-installer%")), lit("onie"))
        .otherwise(lit("none"))?;
    Ok(coalesce(vec![present(q(h, "route")), by_path]))
}

/// `key, name, serial, claimed, mac, ip, timestamp, source, message_type, reply, vendor,
/// machine, status, route, config, code, known`: the window's DHCP (`source` = `dhcp`) and HTTP
/// (`http`) rows, each under its device's `key` (see the module's doc). `claimed` is the serial
/// an HTTP request's headers gave; `serial` the device's.
fn touches(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let null_u32 = || lit(ScalarValue::UInt32(None));
    let dhcp_serial = || coalesce(vec![present(q("d", "serial")), q("m", "serial")]);
    let dhcp = p
        .events("ztp_dhcp", times.window)?
        .alias("d")?
        .join_on(
            serials_of_macs(p, times, "m")?,
            JoinType::Left,
            [mac(q("d", "client_mac")).eq(q("m", "mac"))],
        )?
        .project(vec![
            coalesce(vec![dhcp_serial(), mac(q("d", "client_mac"))]).alias("key"),
            q("d", HOSTNAME).alias("name"),
            dhcp_serial().alias("serial"),
            null_text().alias("claimed"),
            mac(q("d", "client_mac")).alias("mac"),
            present(q("d", "client_ip")).alias("ip"),
            q("d", TIMESTAMP).alias(TIMESTAMP),
            lit("dhcp").alias("source"),
            q("d", "message_type").alias("message_type"),
            q("d", "reply").alias("reply"),
            present(q("d", "vendor_class")).alias("vendor"),
            present(q("d", "onie_machine")).alias("machine"),
            null_u32().alias("status"),
            null_text().alias("route"),
            null_text().alias("config"),
            q("d", "log_event").alias("code"),
            lit(ScalarValue::Boolean(None)).alias("known"),
        ])?;
    let http_serial = || coalesce(vec![q("m", "serial"), present(q("h", "serial"))]);
    let http = p
        .events("ztp_http", times.window)?
        .alias("h")?
        .join_on(
            serials_of_macs(p, times, "m")?,
            JoinType::Left,
            [mac(q("h", "client_mac")).eq(q("m", "mac"))],
        )?
        .project(vec![
            coalesce(vec![
                http_serial(),
                mac(q("h", "client_mac")),
                q("h", "client_ip"),
            ])
            .alias("key"),
            q("h", HOSTNAME).alias("name"),
            http_serial().alias("serial"),
            present(q("h", "serial")).alias("claimed"),
            mac(q("h", "client_mac")).alias("mac"),
            present(q("h", "client_ip")).alias("ip"),
            q("h", TIMESTAMP).alias(TIMESTAMP),
            lit("http").alias("source"),
            null_text().alias("message_type"),
            null_text().alias("reply"),
            present(q("h", "vendor")).alias("vendor"),
            present(q("h", "machine")).alias("machine"),
            q("h", "status").alias("status"),
            route("h")?.alias("route"),
            present(q("h", "config_name")).alias("config"),
            q("h", "log_event").alias("code"),
            q("h", "known_serial").alias("known"),
        ])?;
    Ok(dhcp.union(http.build()?)?)
}

/// Whether a [`touches`] row's `route` is one of `routes`.
fn route_in(routes: &[&str]) -> Expr {
    col("route").in_list(routes.iter().map(|r| lit(*r)).collect(), false)
}

/// The request was answered 2xx or 3xx.
fn answered() -> Expr {
    col("status")
        .gt_eq(lit(200u32))
        .and(col("status").lt(lit(400u32)))
}

/// A [`touches`] row that fetched a configuration, image or script.
fn fetched() -> Expr {
    route_in(&["config", "image", "images", "onie", "script"]).and(answered())
}

/// A [`touches`] row that fetched an image.
fn image_fetched() -> Expr {
    route_in(&["image", "images", "onie"]).and(answered())
}

/// A [`touches`] row answered with a configuration.
fn config_fetched() -> Expr {
    col("route")
        .eq(lit("config"))
        .and(col("status").eq(lit(200u32)))
}

/// A [`touches`] row for a device's own file (a configuration, its image, its script, a file
/// of `images/`) answered 404 or with a warning code (the seed's `…2W` "not provided"). ONIE's
/// installer waterfall is not among them: it asks for names that are expected to be missing.
fn not_provided() -> Expr {
    route_in(&["config", "image", "images", "script"]).and(
        col("status")
            .eq(lit(404u32))
            .or(col("code").like(lit("%W"))),
    )
}

#[cfg(test)]
mod tests;
