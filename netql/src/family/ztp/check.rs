//! `check ztp`: the window's provisioning judged per device (`around T`: the hour before T, as
//! `check int` does; `between A and B`). One row per checked object, failing with a reason:
//! - each device acknowledged an address after its first DISCOVER of the window (`address
//!   10.0.0.201`): it fails when no image, configuration or script was fetched (2xx or 3xx) at or
//!   after that acknowledgement, once [`GRACE_US`] has passed since it (a switch still
//!   installing is not yet a failure). Renewals do not count as a boot, so a provisioned switch
//!   renewing its lease is not flagged; a provisioned switch that reboots and asks for nothing
//!   is;
//! - each file a known serial asked for (`startup config`, `image`, `ztp script`): it fails when
//!   a request for it was answered 404 or with the seed's "not provided" warning (`ZTP0022W`).
//!   A serial is known when config.db knows it (the request's `known_serial`) or it was served
//!   a file in the window; ONIE's installer waterfall is not checked (its misses are expected);
//! - each serial a device asked for files with (`serial X from 48:65:ee:11:da:86`): it fails
//!   when the device is not the one the serial's DHCP exchanges and lease came from, or the
//!   server refused it (403);
//! - each subnet's pool (`pool 10.0.0.0/24`) by the newest DHCP exchange of the window that
//!   gave its size: it fails when [`POOL_PERCENT`] or more of it is used. The pool's node is
//!   `dhcp`, the server itself.
//!
//! The node is the device by name (see [`super`]); Failed Nodes counts distinct devices.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat, nullif};
use datafusion::functions_aggregate::expr_fn::{bool_or, count, max};
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, cast, col, lit, when,
};
use sonde_schema::TIMESTAMP;

use super::devices::per_device;
use super::{answered, macs_of_serials, newest, not_provided, present, route_in, touches};
use crate::error::Result;
use crate::family::{CheckDef, CheckPlan, FamilyDef};
use crate::plan::check::{Checked, first_reason, object_row, window_objects};
use crate::plan::expr::{or_else, q, text, time_lit};
use crate::plan::{Planner, Times};

/// How long after its address a device may take before asking for its first file: ONIE
/// retries DHCP and walks its discovery before the first download.
pub const GRACE_US: i64 = 5 * 60 * 1_000_000;

/// A pool this full (in percent of its addresses) is near exhaustion.
pub const POOL_PERCENT: i64 = 90;

pub(in crate::family) static CHECK: FamilyDef = FamilyDef {
    name: "ztp",
    show: None,
    check: Some(CheckDef {
        noun: Some("Object"),
        object: Some("Object"),
        peer: None,
        peer_object: None,
        clean: None,
        plan: CheckPlan::Window(check),
    }),
};

/// The objects, each `node, object, reason, time`.
fn check(p: &Planner<'_>, times: Times) -> Result<(LogicalPlanBuilder, Checked)> {
    window_objects(
        unfetched(p, times)?,
        vec![not_found(p, times)?, wrong_mac(p, times)?, pools(p, times)?],
    )
}

/// The device's name as `show ztp devices` gives it.
fn device_name() -> Expr {
    coalesce(vec![col("real_name"), col("key")])
}

/// `key, name` of every device of the window, as relation `alias`.
fn names(p: &Planner<'_>, times: Times, alias: &str) -> Result<LogicalPlan> {
    Ok(per_device(p, times)?
        .project(vec![col("key"), device_name().alias("name")])?
        .alias(alias)?
        .build()?)
}

/// Devices acknowledged an address that fetched nothing after it.
fn unfetched(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let settled = col("boot_ack").lt_eq(time_lit(times.window.to.saturating_sub(GRACE_US)));
    let nothing_after = col("last_fetch")
        .is_null()
        .or(col("last_fetch").lt(col("boot_ack")));
    let address = or_else(col("boot_ip"), "?");
    let reason = first_reason(vec![(
        settled.and(nothing_after),
        concat(vec![
            lit("Got address "),
            address.clone(),
            lit(" but fetched no image or configuration"),
        ]),
    )])?;
    let object = concat(vec![lit("address "), address]);
    Ok(per_device(p, times)?
        .filter(col("boot_ack").is_not_null())?
        .project(object_row(device_name(), object, reason, col("boot_ack")))?)
}

/// What a request for a device's own file asked for: `startup config`, `image`, `ztp script`.
fn file_asked() -> Result<Expr> {
    Ok(when(
        col("route").eq(lit("config")),
        concat(vec![or_else(col("config"), "unnamed"), lit(" config")]),
    )
    .when(col("route").eq(lit("script")), lit("ztp script"))
    .otherwise(lit("image"))?)
}

/// `serial`: the serials served a file in the window, as relation `alias`.
fn served_serials(p: &Planner<'_>, times: Times, alias: &str) -> Result<LogicalPlan> {
    Ok(touches(p, times)?
        .filter(col("claimed").is_not_null().and(answered()))?
        .aggregate(vec![col("claimed").alias("serial")], Vec::<Expr>::new())?
        .alias(alias)?
        .build()?)
}

/// Each file a known serial asked for, failing when it was not provided.
fn not_found(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let own_file = route_in(&["config", "image", "images", "script"]);
    let failing = not_provided;
    let per_file = touches(p, times)?
        .filter(col("claimed").is_not_null().and(own_file))?
        .aggregate(
            vec![col("key"), col("claimed"), file_asked()?.alias("file")],
            vec![
                bool_or(col("known")).alias("known"),
                count(lit(1u8)).filter(failing()).build()?.alias("failures"),
                newest(col("status"), failing())?.alias("status"),
                newest(col("code"), failing())?.alias("code"),
                newest(col("config"), failing())?.alias("config"),
                max(col(TIMESTAMP))
                    .filter(failing())
                    .build()?
                    .alias("failed_at"),
                max(col(TIMESTAMP)).alias("last"),
            ],
        )?
        .alias("f")?
        .join_on(
            served_serials(p, times, "s")?,
            JoinType::Left,
            [q("f", "claimed").eq(q("s", "serial"))],
        )?
        .join_on(
            names(p, times, "n")?,
            JoinType::Left,
            [q("f", "key").eq(q("n", "key"))],
        )?
        .filter(q("f", "known").is_true().or(q("s", "serial").is_not_null()))?;
    let seed_warning = q("f", "code").like(lit("ZTP00_2W"));
    let detail = if_provided(seed_warning)?;
    let reason = first_reason(vec![(
        q("f", "failures").gt(lit(0i64)),
        concat(vec![
            or_else(text(q("f", "status")), "?"),
            lit(" for known serial "),
            q("f", "claimed"),
            lit(": "),
            detail,
        ]),
    )])?;
    let time = coalesce(vec![q("f", "failed_at"), q("f", "last")]);
    let node = coalesce(vec![q("n", "name"), q("f", "key")]);
    Ok(per_file.project(object_row(node, q("f", "file"), reason, time))?)
}

/// `startup config not provided` for the seed's warning, else `image not found`.
fn if_provided(seed_warning: Expr) -> Result<Expr> {
    Ok(when(
        seed_warning,
        concat(vec![
            or_else(q("f", "config"), "?"),
            lit(" config not provided"),
        ]),
    )
    .otherwise(concat(vec![q("f", "file"), lit(" not found")]))?)
}

/// Each serial a device asked for its files with, failing when the device is not the serial's.
fn wrong_mac(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let refused = || col("status").eq(lit(403u32));
    let asked = touches(p, times)?
        .filter(
            col("claimed")
                .is_not_null()
                .and(route_in(&["config", "image", "images", "script"]))
                .and(col("mac").is_not_null().or(refused())),
        )?
        .aggregate(
            vec![col("key"), col("claimed"), col("mac")],
            vec![
                count(lit(1u8)).filter(refused()).build()?.alias("refusals"),
                max(col(TIMESTAMP))
                    .filter(refused())
                    .build()?
                    .alias("refused_at"),
                max(col(TIMESTAMP)).alias("last"),
            ],
        )?
        .alias("a")?
        .join_on(
            macs_of_serials(p, times, "o")?,
            JoinType::Left,
            [q("a", "claimed").eq(q("o", "serial"))],
        )?
        .join_on(
            names(p, times, "n")?,
            JoinType::Left,
            [q("a", "key").eq(q("n", "key"))],
        )?;
    let asker = or_else(q("a", "mac"), "an unknown MAC");
    let leased = |verb: &str| {
        let mut parts = vec![
            lit("Config for serial "),
            q("a", "claimed"),
            lit(format!(" {verb} ")),
            asker.clone(),
        ];
        parts.push(coalesce(vec![
            concat(vec![lit(", leased to "), q("o", "owner")]),
            lit(""),
        ]));
        concat(parts)
    };
    let other_owner = q("o", "owner")
        .is_not_null()
        .and(present(q("a", "mac")).is_not_null())
        .and(q("o", "owner").not_eq(q("a", "mac")));
    let reason = first_reason(vec![
        (q("a", "refusals").gt(lit(0i64)), leased("refused to")),
        (other_owner, leased("fetched by")),
    ])?;
    let object = concat(vec![
        lit("serial "),
        q("a", "claimed"),
        lit(" from "),
        asker,
    ]);
    let time = coalesce(vec![q("a", "refused_at"), q("a", "last")]);
    let node = coalesce(vec![q("n", "name"), q("a", "key")]);
    Ok(asked.project(object_row(node, object, reason, time))?)
}

/// Each subnet's pool by the newest exchange of the window that gave its size.
fn pools(p: &Planner<'_>, times: Times) -> Result<LogicalPlanBuilder> {
    let sized = col("pool_size").is_not_null();
    let wide = |column: &str| cast(col(column), arrow::datatypes::DataType::Int64);
    let latest = p
        .events("ztp_dhcp", times.window)?
        .filter(sized.clone().and(present(col("subnet")).is_not_null()))?
        .aggregate(
            vec![col("subnet")],
            vec![
                newest(col("pool_used"), sized.clone())?.alias("used"),
                newest(col("pool_size"), sized)?.alias("size"),
                max(col(TIMESTAMP)).alias("time"),
            ],
        )?;
    let full = col("size")
        .gt(lit(0u32))
        .and((wide("used") * lit(100i64)).gt_eq(wide("size") * lit(POOL_PERCENT)));
    let percent = wide("used") * lit(100i64) / nullif(wide("size"), lit(0i64));
    let reason = first_reason(vec![(
        full,
        concat(vec![
            lit("Pool "),
            col("subnet"),
            lit(" "),
            text(percent),
            lit("% used ("),
            or_else(text(col("used")), "?"),
            lit(" of "),
            text(col("size")),
            lit(")"),
        ]),
    )])?;
    let object = concat(vec![lit("pool "), col("subnet")]);
    Ok(latest.project(object_row(lit("dhcp"), object, reason, col("time")))?)
}
