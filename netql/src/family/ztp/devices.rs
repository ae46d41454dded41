//! `show ztp devices`: one row per device seen in the window, keyed by serial when known, else
//! MAC (see [`super`] for how rows find their device), with what it got and fetched.
//!
//! Status, the first rule that applies:
//! - `refused`: a request of the device was answered 403 (its serial is bound to another MAC,
//!   or it asked with another device's serial);
//! - `config missing`: a request for one of its own files (a configuration, its image or
//!   script) was answered 404 or with a warning code (`ZTP0022W` "startup config not
//!   provided"), or it walked ONIE's installer waterfall without finding an image;
//! - `provisioned`: it fetched an image, or asked for configurations and every answer was 200;
//! - `renewing`: it only renewed its lease (acknowledged with no DISCOVER in the window) and
//!   asked the HTTP server for nothing: a device provisioned before the window;
//! - `address only`: it was acknowledged an address and asked the HTTP server for nothing;
//! - `no address`: it asked for an address and none was acknowledged, nor did it ask for files;
//! - `fetching`: anything else (requests that are neither failures nor fetches yet).
//!
//! The window is what is judged: a device that failed an hour ago and was fixed since shows as
//! it was `around` that time.
//!
//! Fields: `hostname`, `key`, `serial`, `mac` (of its DHCP exchanges), `ip` (the last address
//! acknowledged), `vendor` (option 60 or the vendor header), `machine` (ONIE's machine), `first_seen`,
//! `last_dhcp`, `image` (bool), `image_at`, `configs` (configurations answered 200),
//! `config_names`, `requests`, `last_status`, `last_http`, `status`, and for `check ztp`
//! `boot_ack` (the first address acknowledged after the device's first DISCOVER of the window),
//! `boot_ip` and `last_fetch`.

use datafusion::functions::expr_fn::{coalesce, concat};
use datafusion::functions_aggregate::expr_fn::{array_agg, count, max, min};
use datafusion::functions_aggregate::min_max::min_udaf;
use datafusion::functions_nested::expr_fn::array_to_string;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlanBuilder, WindowFunctionDefinition, col, lit, when,
};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{
    DEVICE_TARGETS, FamilyDef, ViewDef, config_fetched, family, fetched, image_fetched, newest,
    not_provided, oldest, route_in, touches,
};
use crate::error::Result;
use crate::family::{header, yes_no};
use crate::plan::expr::{if_else, text};
use crate::plan::{Planner, Times};

pub(in crate::family) static FAMILY: FamilyDef = family("ztp devices", "ztp_dhcp", true, &VIEW);

static VIEW: ViewDef = ViewDef {
    rows,
    hosts: HOSTNAME,
    targets: DEVICE_TARGETS,
    order: &["first_seen", HOSTNAME],
    columns,
};

fn is(column: &str, value: &str) -> Expr {
    col(column).eq(lit(value.to_string()))
}

fn rows_where(only: Expr) -> Result<Expr> {
    Ok(count(lit(1u8)).filter(only).build()?)
}

/// The device's acknowledgement of an address after it first asked for one in the window.
fn boot_ack() -> Expr {
    is("message_type", "REQUEST")
        .and(is("reply", "ACK"))
        .and(col(TIMESTAMP).gt_eq(col("booted")))
}

/// A name that says more than the key: not the device's serial, MAC or address.
fn real_name() -> Expr {
    let differs = |other: &str| {
        col(other)
            .is_null()
            .or(datafusion::functions::expr_fn::lower(col("name"))
                .not_eq(datafusion::functions::expr_fn::lower(col(other))))
    };
    col("name")
        .is_not_null()
        .and(differs("serial"))
        .and(differs("mac"))
        .and(differs("ip"))
        .and(differs("key"))
}

/// The window's rows per device, before they are headed: see the module's doc for the fields.
pub(super) fn per_device(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let discovered = if_else(
        is("message_type", "DISCOVER"),
        col(TIMESTAMP),
        lit(datafusion::common::ScalarValue::TimestampMicrosecond(
            None,
            Some("UTC".into()),
        )),
    );
    let booted = Expr::from(WindowFunction::new(
        WindowFunctionDefinition::AggregateUDF(min_udaf()),
        vec![discovered],
    ))
    .partition_by(vec![col("key")])
    .build()?
    .alias("booted");
    let http = || is("source", "http");
    let dhcp = || is("source", "dhcp");
    let names = array_agg(col("config"))
        .distinct()
        .order_by(vec![col("config").sort(true, false)])
        .filter(config_fetched().and(col("config").is_not_null()))
        .build()?;
    let aggregates = vec![
        newest(col("name"), real_name())?.alias("real_name"),
        max(col("serial")).alias("serial"),
        newest(col("mac"), dhcp().and(col("mac").is_not_null()))?.alias("dhcp_mac"),
        newest(col("mac"), col("mac").is_not_null())?.alias("any_mac"),
        newest(col("ip"), is("reply", "ACK").and(col("ip").is_not_null()))?.alias("ip"),
        newest(col("vendor"), col("vendor").is_not_null())?.alias("vendor"),
        newest(col("machine"), col("machine").is_not_null())?.alias("machine"),
        min(col(TIMESTAMP)).alias("first_seen"),
        max(col(TIMESTAMP))
            .filter(dhcp())
            .build()?
            .alias("last_dhcp"),
        rows_where(is("reply", "ACK"))?.alias("acks"),
        rows_where(is("message_type", "DISCOVER"))?.alias("discovers"),
        max(col(TIMESTAMP))
            .filter(image_fetched())
            .build()?
            .alias("image_at"),
        rows_where(config_fetched())?.alias("configs"),
        names.alias("config_names"),
        rows_where(
            col("route")
                .eq(lit("config"))
                .and(col("status").gt_eq(lit(400u32))),
        )?
        .alias("config_failures"),
        rows_where(http())?.alias("requests"),
        newest(col("status"), http())?.alias("last_status"),
        max(col(TIMESTAMP))
            .filter(http())
            .build()?
            .alias("last_http"),
        rows_where(col("status").eq(lit(403u32)))?.alias("refusals"),
        rows_where(not_provided())?.alias("missing"),
        rows_where(route_in(&["onie"]).and(col("status").eq(lit(404u32))))?
            .alias("waterfall_misses"),
        min(col(TIMESTAMP))
            .filter(boot_ack())
            .build()?
            .alias("boot_ack"),
        oldest(col("ip"), boot_ack())?.alias("boot_ip"),
        max(col(TIMESTAMP))
            .filter(fetched())
            .build()?
            .alias("last_fetch"),
    ];
    Ok(touches(p, times)?
        .window(vec![booted])?
        .aggregate(vec![col("key")], aggregates)?)
}

/// The status of a [`per_device`] row: see the module's doc.
fn status() -> Result<Expr> {
    let count_over = |column: &str| col(column).gt(lit(0i64));
    let image = col("image_at").is_not_null();
    let all_configs = count_over("configs").and(col("config_failures").eq(lit(0i64)));
    Ok(when(count_over("refusals"), lit("refused"))
        .when(
            count_over("missing").or(count_over("waterfall_misses").and(!image.clone())),
            lit("config missing"),
        )
        .when(image.or(all_configs), lit("provisioned"))
        .when(
            count_over("acks")
                .and(col("requests").eq(lit(0i64)))
                .and(col("discovers").eq(lit(0i64))),
            lit("renewing"),
        )
        .when(
            count_over("acks").and(col("requests").eq(lit(0i64))),
            lit("address only"),
        )
        .when(col("requests").eq(lit(0i64)), lit("no address"))
        .otherwise(lit("fetching"))?)
}

fn rows(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let mut fields: Vec<Expr> = vec![
        coalesce(vec![col("real_name"), col("key")]).alias(HOSTNAME),
        coalesce(vec![col("dhcp_mac"), col("any_mac")]).alias("mac"),
        col("image_at").is_not_null().alias("image"),
        status()?.alias("status"),
    ];
    fields.extend(
        [
            "key",
            "serial",
            "ip",
            "vendor",
            "machine",
            "first_seen",
            "last_dhcp",
            "image_at",
            "configs",
            "config_names",
            "requests",
            "last_status",
            "last_http",
            "boot_ack",
            "boot_ip",
            "last_fetch",
        ]
        .map(col),
    );
    Ok(per_device(p, times)?.project(fields)?)
}

/// `3 (ctrld, startup)`, `0`.
fn configs() -> Expr {
    let names = array_to_string(col("config_names"), lit(", "));
    if_else(
        col("configs").gt(lit(0i64)),
        concat(vec![text(col("configs")), lit(" ("), names, lit(")")]),
        lit("0"),
    )
}

fn columns() -> Vec<Expr> {
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Serial", col("serial")),
        header("MAC", col("mac")),
        header("IP", col("ip")),
        header("Machine", coalesce(vec![col("machine"), col("vendor")])),
        header("First Seen", col("first_seen")),
        header("Last DHCP", col("last_dhcp")),
        header("Image", yes_no(col("image"))),
        header("Image Fetched", col("image_at")),
        header("Configs", configs()),
        header("Last Status", col("last_status")),
        header("Status", col("status")),
    ]
}
