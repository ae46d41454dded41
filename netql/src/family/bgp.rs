//! `show bgp` and `check bgp`: every session, compared with its peer's side of it.

use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat, concat_ws, nullif};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use super::{CheckDef, FamilyDef, ShowDef, header, host};
use crate::error::Result;
use crate::plan::Planner;
use crate::plan::check::{Checked, differs, first_reason, is, is_not, same};
use crate::plan::expr::{if_else, or_else, q, text};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "bgp",
    show: Some(ShowDef {
        columns: Some(columns),
        ..ShowDef::of("bgp", Some("peer"))
    }),
    check: Some(CheckDef {
        peer: Some("Peer ID"),
        ..CheckDef::of(Some("Session"), Some("Neighbor"), check)
    }),
};

fn columns(_at: i64) -> Vec<Expr> {
    vec![
        host(),
        header("Neighbor", neighbor()),
        header("VRF", col("vrf")),
        header("ASN", col("asn")),
        header("Peer ASN", col("peer_asn")),
        header("PfxRx", pfx_rx()),
    ]
}

/// `2/-/-`: received prefixes per address family, `-` where none; `NotEstd` when not established.
fn pfx_rx() -> Expr {
    let count = |name: &str| or_else(text(col(name)), "-");
    let prefixes = concat_ws(
        lit("/"),
        vec![
            count("pfx_rx_ipv4"),
            count("pfx_rx_ipv6"),
            count("pfx_rx_evpn"),
        ],
    );
    if_else(
        or_else(col("state"), "").eq(lit("Established")),
        prefixes,
        lit("NotEstd"),
    )
}

/// `swp1(leaf01)`: the neighbour and the hostname it announced.
fn neighbor() -> Expr {
    let announced = concat(vec![col("peer"), lit("("), col("peer_hostname"), lit(")")]);
    if_else(col("peer_hostname").is_null(), col("peer"), announced)
}

fn check(p: &Planner<'_>, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
    let rows = LogicalPlanBuilder::from(p.state_as("bgp", at, "s")?)
        .join_on(
            p.state_as("interfaces", at, "i")?,
            JoinType::Left,
            same("s", "i", &[HOSTNAME, "ifname"]),
        )?
        .join_on(
            p.state_as("lldp", at, "l")?,
            JoinType::Left,
            same("s", "l", &[HOSTNAME, "ifname"]),
        )?
        .join_on(
            p.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?
        .join_on(
            p.duplicate_router_ids("bgp", at, "d")?,
            JoinType::Left,
            same("s", "d", &["vrf", "router_id"]),
        )?
        .join_on(
            p.state_as("bgp", at, "p")?,
            JoinType::Left,
            [
                q("p", HOSTNAME).eq(q("s", "peer_hostname")),
                q("p", "peer_hostname").eq(q("s", HOSTNAME)),
                q("p", "vrf").eq(q("s", "vrf")),
                q("l", "peer_ifname")
                    .is_null()
                    .or(q("p", "ifname").is_null())
                    .or(q("p", "ifname").eq(q("l", "peer_ifname"))),
            ],
        )?;
    let down = is_not("s", "state", "Established");
    let interface_down = is("i", "state", "down").or(is("i", "admin_state", "down"));
    let reason = first_reason(vec![
        (q("a", "rotten"), lit("Rotten Agent")),
        (down.clone().and(interface_down), lit("Interface down")),
        (
            differs("p", "s", "asn").and(q("p", "asn").not_eq(q("s", "peer_asn"))),
            lit("ASN mismatch"),
        ),
        (
            down.clone()
                .and(nullif(q("s", "last_reset_reason"), lit("")).is_not_null()),
            q("s", "last_reset_reason"),
        ),
        (down, or_else(q("s", "state"), "Idle")),
        (
            differs("p", "s", "config_hold_time"),
            lit("Hold time mismatch"),
        ),
        (
            differs("p", "s", "config_keepalive"),
            lit("Keepalive mismatch"),
        ),
        (q("d", "router_id").is_not_null(), lit("Router ID conflict")),
    ])?;
    let checked = Checked {
        node: q("s", HOSTNAME),
        object: q("s", "peer"),
        peer: coalesce(vec![q("s", "peer_hostname"), q("l", "peer_hostname")]),
        peer_object: lit(""),
        reason,
        time: q("s", TIMESTAMP),
    };
    Ok((rows, checked))
}
