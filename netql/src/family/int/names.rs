//! Which switch a switch id names, and which node an exporter's address is, worked out at the
//! statement's time from what the agents report: the MACs in `interfaces` (the seed's rule: a
//! switch id is bytes 0, 1, 4 and 5 of the switch's MAC) and the addresses in `addresses`.
//!
//! Both are joins on text: a switch id is compared as its 8 lower-case hex digits, which the
//! MAC's text gives without any conversion (`44:38:39:00:00:15` → `44380015`). An id or address
//! two nodes share (an MLAG pair's system MAC, an anycast address) names neither of them.

use datafusion::functions::expr_fn::{
    character_length, concat, lower, lpad, split_part, substring, to_hex,
};
use datafusion::functions_aggregate::expr_fn::{count_distinct, min};
use datafusion::logical_expr::{Expr, LogicalPlan, col, lit};
use sonde_schema::HOSTNAME;

use crate::error::Result;
use crate::plan::Planner;
use crate::plan::expr::{if_else, q};

/// Length of a MAC written `xx:xx:xx:xx:xx:xx`.
const MAC_TEXT_LEN: i64 = 17;

/// The switch id a MAC's text stands for, as [`switch_key`] writes it: the hex digits of bytes
/// 0, 1, 4 and 5 (characters 1, 4, 13 and 16 on), lower case; null for text not shaped as a MAC.
pub(crate) fn mac_switch_key(mac: Expr) -> Expr {
    let byte = |first: i64| substring(lower(mac.clone()), lit(first), lit(2i64));
    let key = concat(vec![byte(1), byte(4), byte(13), byte(16)]);
    let null = lit(datafusion::common::ScalarValue::Utf8(None));
    if_else(
        character_length(mac.clone()).eq(lit(MAC_TEXT_LEN)),
        key,
        null,
    )
}

/// A switch id as 8 lower-case hex digits, the key both sides of a name lookup share.
pub(crate) fn switch_key(id: Expr) -> Expr {
    lpad(vec![to_hex(id), lit(8i64), lit("0")])
}

/// A switch id as the answers print it when no node's MAC names it: `0x44380015`; null for
/// no id.
pub(crate) fn switch_hex(id: Expr) -> Expr {
    let null = lit(datafusion::common::ScalarValue::Utf8(None));
    if_else(
        id.clone().is_null(),
        null,
        concat(vec![lit("0x"), switch_key(id)]),
    )
}

/// `key, name`: every switch id the MACs of `interfaces` at `at` stand for, with the one node
/// whose MACs do, as relation `alias`.
pub(crate) fn switch_names(p: &Planner<'_>, at: i64, alias: &str) -> Result<LogicalPlan> {
    let keyed = p
        .state("interfaces", at)?
        .project(vec![col(HOSTNAME), mac_switch_key(col("mac")).alias("key")])?
        .filter(col("key").is_not_null())?;
    unique_holders(keyed, "key", alias)
}

/// `address, name`: every address of `addresses` at `at`, without its length, with the one
/// node that holds it, as relation `alias`.
pub(crate) fn address_names(p: &Planner<'_>, at: i64, alias: &str) -> Result<LogicalPlan> {
    let keyed = p.state("addresses", at)?.project(vec![
        col(HOSTNAME),
        split_part(col("prefix"), lit("/"), lit(1i64)).alias("address"),
    ])?;
    unique_holders(keyed, "address", alias)
}

/// `<key>, name` for the keys of `rows` one hostname holds.
fn unique_holders(
    rows: datafusion::logical_expr::LogicalPlanBuilder,
    key: &str,
    alias: &str,
) -> Result<LogicalPlan> {
    Ok(rows
        .aggregate(
            vec![col(key)],
            vec![
                min(col(HOSTNAME)).alias("name"),
                count_distinct(col(HOSTNAME)).alias("holders"),
            ],
        )?
        .filter(col("holders").eq(lit(1i64)))?
        .project(vec![col(key), col("name")])?
        .alias(alias)?
        .build()?)
}

/// The name of the switch `relation.column` names, as relation `names` of [`switch_names`]
/// gives it; its id in hex when no node's MAC names it.
pub(crate) fn switch_name(relation: &str, column: &str, names: &str) -> Expr {
    datafusion::functions::expr_fn::coalesce(vec![
        q(names, "name"),
        switch_hex(q(relation, column)),
    ])
}
