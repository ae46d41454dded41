//! `check <family>`: validations as plans. Each check lists every object it checked (a session,
//! a link, a VNI, a node) with a `Reason` that is null when the object passed; the answer counts
//! them and keeps the failures. Both ends of a session or link are compared by joining the
//! table's state with itself, through LLDP where the peer's interface is needed.
//!
//! Reasons are NetQ's ("Interface down", "Hold Timer Expired", "Idle", "Rotten Agent", "MTU
//! Mismatch", "VLAN set Mismatch", …) with the finer ones SuzieQ and NetQ 4.x test (ASN, hold
//! time, router-id, speed and autoneg mismatches). The first that applies is given.

use arrow::datatypes::DataType;
use datafusion::common::JoinType;
use datafusion::functions::expr_fn::{coalesce, concat, nullif};
use datafusion::functions_aggregate::expr_fn::count_distinct;
use datafusion::functions_nested::expr_fn::cardinality;
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, cast, col, ident, lit, when,
};
use sonde_schema::{HOSTNAME, TIMESTAMP};

use crate::answer::{AnswerKind, NODE, REASON};
use crate::ast::{Check, Query};
use crate::error::Result;

use super::expr::{host_filter, if_else, or_else, q, text};
use super::show::agent_status;
use super::{Planned, Planner};

/// How a check's rows are headed and counted.
#[derive(Debug, Clone, Copy)]
struct CheckKind {
    /// What is counted besides nodes; none when the check is per node.
    noun: Option<&'static str>,
    /// Header of the checked object's column, if the rows name one.
    object: Option<&'static str>,
    /// Header of the peer node's column.
    peer: Option<&'static str>,
    /// Header of the peer's object (its interface).
    peer_object: Option<&'static str>,
    /// What to print when nothing failed.
    clean: Option<&'static str>,
}

const fn kind(noun: Option<&'static str>, object: Option<&'static str>) -> CheckKind {
    CheckKind {
        noun,
        object,
        peer: None,
        peer_object: None,
        clean: None,
    }
}

fn check_kind(family: &'static str) -> CheckKind {
    let link = CheckKind {
        peer: Some("Peer"),
        peer_object: Some("Peer Interface"),
        ..kind(Some("Link"), Some("Interface"))
    };
    match family {
        "bgp" => CheckKind {
            peer: Some("Peer ID"),
            ..kind(Some("Session"), Some("Neighbor"))
        },
        "ospf" => CheckKind {
            noun: Some("Adjacency"),
            ..link
        },
        "mtu" => CheckKind {
            clean: Some("No MTU Mismatch found"),
            ..link
        },
        "vlan" => CheckKind {
            clean: Some("No VLAN or PVID Mismatch found"),
            ..link
        },
        "interfaces" => link,
        "clag" => CheckKind {
            peer: Some("Peer"),
            ..kind(Some("Bond"), Some("Interface"))
        },
        "evpn" | "vxlan" | "lnv" => kind(Some("VNI"), Some("VNI")),
        "sensors" => kind(Some("Sensor"), Some("Sensor")),
        "license" => kind(Some("License"), Some("License")),
        _ => kind(None, None),
    }
}

/// One checked object, before it is headed: every check builds these columns.
struct Checked {
    node: Expr,
    object: Expr,
    peer: Expr,
    peer_object: Expr,
    reason: Expr,
    time: Expr,
}

/// The first reason whose condition holds, else null.
fn first_reason(cases: Vec<(Expr, Expr)>) -> Result<Expr> {
    let mut cases = cases.into_iter();
    let Some((condition, reason)) = cases.next() else {
        return Ok(lit(datafusion::common::ScalarValue::Utf8(None)));
    };
    let mut builder = when(condition, reason);
    for (condition, reason) in cases {
        builder = builder.when(condition, reason);
    }
    Ok(builder.end()?)
}

/// Join conditions: `left.c = right.c` for each column `c`.
fn same(left: &str, right: &str, columns: &[&str]) -> Vec<Expr> {
    columns.iter().map(|c| q(left, c).eq(q(right, c))).collect()
}

fn is(relation: &str, column: &str, value: &str) -> Expr {
    q(relation, column).eq(lit(value.to_string()))
}

fn is_not(relation: &str, column: &str, value: &str) -> Expr {
    or_else(q(relation, column), "").not_eq(lit(value.to_string()))
}

/// Both ends have the column and the values differ.
fn differs(a: &str, b: &str, column: &str) -> Expr {
    q(a, column).not_eq(q(b, column))
}

/// The later of two times; `a` when `b` is null.
fn newer(a: Expr, b: Expr) -> Expr {
    if_else(b.clone().is_null().or(a.clone().gt_eq(b.clone())), a, b)
}

/// `10G`, `100M`, `n/a`.
fn speed_text(relation: &str) -> Expr {
    let speed = q(relation, "speed");
    let whole_gigabits = (speed.clone() % lit(1000u64))
        .eq(lit(0u64))
        .and(speed.clone().gt_eq(lit(1000u64)));
    if_else(
        speed.clone().is_null(),
        lit("n/a"),
        if_else(
            whole_gigabits,
            concat(vec![text(speed.clone() / lit(1000u64)), lit("G")]),
            concat(vec![text(speed), lit("M")]),
        ),
    )
}

/// `State mismatch (up, down)`.
fn mismatch(what: &str, a: Expr, b: Expr) -> Expr {
    concat(vec![
        lit(format!("{what} mismatch (")),
        a,
        lit(", "),
        b,
        lit(")"),
    ])
}

impl Planner<'_> {
    pub(super) fn plan_check(&self, query: &Query, check: &Check) -> Result<Planned> {
        let at = self.state_time(query);
        let family = check.family.name;
        let kind = check_kind(family);
        let (rows, checked) = match family {
            "bgp" => self.check_bgp(at)?,
            "agents" => self.check_agents(at)?,
            "ntp" => self.check_ntp(at)?,
            "sensors" => self.check_sensors(at)?,
            "license" => self.check_license(at)?,
            "clag" => self.check_clag(at)?,
            "evpn" => self.check_evpn(at)?,
            "vxlan" => self.check_vxlan(at)?,
            "lnv" => self.check_lnv(at)?,
            "ospf" => self.check_ospf(at)?,
            "vlan" => self.check_vlan(at)?,
            _ => self.check_links(at, family)?,
        };
        let mut rows = rows.project(headed(&kind, checked))?;
        if let Some(hosts) = &query.hosts {
            let mut matches = host_filter(ident(NODE), hosts);
            if let Some(peer) = kind.peer {
                matches = matches.or(host_filter(ident(peer), hosts));
            }
            rows = rows.filter(matches)?;
        }
        let mut order = vec![ident(NODE).sort(true, false)];
        if let Some(object) = kind.object {
            order.push(ident(object).sort(true, false));
        }
        let plan = rows.sort(order)?.build()?;
        Ok(Planned {
            plan,
            kind: AnswerKind::Check {
                family: family.to_string(),
                noun: kind.noun.map(str::to_string),
                peer: kind.peer.map(str::to_string),
                clean: kind.clean.map(str::to_string),
            },
        })
    }

    /// `hostname, rotten` for every agent known at `at`, as relation `alias`.
    fn rotten(&self, at: i64, alias: &str) -> Result<LogicalPlan> {
        Ok(self
            .state("agents", at)?
            .project(vec![
                col(HOSTNAME),
                agent_status(at).eq(lit("Rotten")).alias("rotten"),
            ])?
            .alias(alias)?
            .build()?)
    }

    /// `vrf, router_id` claimed by more than one node in `table`, as relation `alias`.
    fn duplicate_router_ids(&self, table: &str, at: i64, alias: &str) -> Result<LogicalPlan> {
        Ok(self
            .state(table, at)?
            .filter(col("router_id").is_not_null())?
            .aggregate(
                vec![col("vrf"), col("router_id")],
                vec![count_distinct(col(HOSTNAME)).alias("nodes")],
            )?
            .filter(col("nodes").gt(lit(1i64)))?
            .project(vec![col("vrf"), col("router_id")])?
            .alias(alias)?
            .build()?)
    }

    fn check_bgp(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("bgp", at, "s")?)
            .join_on(
                self.state_as("interfaces", at, "i")?,
                JoinType::Left,
                same("s", "i", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.state_as("lldp", at, "l")?,
                JoinType::Left,
                same("s", "l", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(
                self.duplicate_router_ids("bgp", at, "d")?,
                JoinType::Left,
                same("s", "d", &["vrf", "router_id"]),
            )?
            .join_on(
                self.state_as("bgp", at, "p")?,
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

    fn check_agents(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = self.state("agents", at)?.alias("s")?;
        let reason = first_reason(vec![(
            agent_status(at).eq(lit("Rotten")),
            lit("Rotten Agent"),
        )])?;
        Ok((rows, node_check(reason)))
    }

    fn check_ntp(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("ntp", at, "s")?).join_on(
            self.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?;
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (q("s", "synced").is_not_true(), lit("Not synchronized")),
        ])?;
        Ok((rows, node_check(reason)))
    }

    fn check_sensors(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("sensors", at, "s")?).join_on(
            self.rotten(at, "a")?,
            JoinType::Left,
            same("s", "a", &[HOSTNAME]),
        )?;
        let described = concat(vec![
            q("s", "kind"),
            lit(" "),
            q("s", "name"),
            lit(" state is "),
            q("s", "state"),
        ]);
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (
                is_not("s", "state", "ok"),
                coalesce(vec![nullif(q("s", "message"), lit("")), described]),
            ),
            (
                q("s", "value").gt_eq(q("s", "critical")),
                lit("Value above critical threshold"),
            ),
        ])?;
        Ok((rows, object_check("s", q("s", "name"), reason)))
    }

    fn check_license(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("license", at, "s")?);
        let reason = first_reason(vec![
            (
                super::expr::micros(q("s", "expires_at")).lt(lit(at)),
                lit("License expired"),
            ),
            (
                is_not("s", "state", "ok"),
                concat(vec![lit("License "), or_else(q("s", "state"), "missing")]),
            ),
        ])?;
        Ok((rows, object_check("s", q("s", "name"), reason)))
    }

    fn check_clag(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("clag", at, "s")?)
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(
                self.state_as("clag", at, "p")?,
                JoinType::Left,
                [
                    q("p", HOSTNAME).eq(q("s", "peer_hostname")),
                    q("p", "clag_id").eq(q("s", "clag_id")),
                ],
            )?;
        let bond = q("s", "ifname");
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (
                is("s", "peer_state", "down"),
                lit("Peer Connectivity failed"),
            ),
            (
                is("s", "bond_state", "down"),
                concat(vec![lit("Link Down: "), bond.clone()]),
            ),
            (
                q("s", "protodown").is_true(),
                concat(vec![lit("Protodown Bonds: "), bond.clone()]),
            ),
            (
                nullif(q("s", "conflict"), lit("")).is_not_null(),
                concat(vec![
                    lit("Conflicted Bonds: "),
                    bond.clone(),
                    lit(" ("),
                    q("s", "conflict"),
                    lit(")"),
                ]),
            ),
            (
                is("s", "bond_state", "single").or(q("s", "clag_id")
                    .is_not_null()
                    .and(q("p", HOSTNAME).is_null())
                    .and(q("s", "peer_hostname").is_not_null())),
                concat(vec![lit("Singly Attached Bonds: "), bond.clone()]),
            ),
            (differs("p", "s", "sysmac"), lit("System MAC mismatch")),
            (
                q("s", "backup_active").is_false(),
                lit("Backup IP not active"),
            ),
        ])?;
        let checked = Checked {
            peer: q("s", "peer_hostname"),
            ..object_check("s", bond, reason)
        };
        Ok((rows, checked))
    }

    fn check_evpn(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let vrfs = self
            .state("evpn", at)?
            .aggregate(
                vec![col("vni")],
                vec![count_distinct(col("vrf")).alias("vrfs")],
            )?
            .alias("m")?
            .build()?;
        let rows = LogicalPlanBuilder::from(self.state_as("evpn", at, "s")?)
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(vrfs, JoinType::Left, same("s", "m", &["vni"]))?;
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (is_not("s", "state", "up"), lit("vni down")),
            (
                q("m", "vrfs").gt(lit(1i64)),
                lit("Inconsistent VNI-VRF mapping"),
            ),
        ])?;
        Ok((rows, object_check("s", text(q("s", "vni")), reason)))
    }

    fn check_vxlan(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let per_vni = self
            .state("vxlan", at)?
            .aggregate(
                vec![col("vni")],
                vec![
                    count_distinct(col(HOSTNAME)).alias("vteps"),
                    count_distinct(col("vlan")).alias("vlans"),
                ],
            )?
            .alias("m")?
            .build()?;
        let rows = LogicalPlanBuilder::from(self.state_as("vxlan", at, "s")?)
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(per_vni, JoinType::Left, same("s", "m", &["vni"]))?;
        let vni = text(q("s", "vni"));
        let remote = cast(
            coalesce(vec![cardinality(q("s", "remote_vteps")), lit(0u64)]),
            DataType::Int64,
        );
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (
                is_not("s", "state", "up"),
                concat(vec![lit("VxLAN down for vni "), vni.clone()]),
            ),
            (
                q("m", "vlans").gt(lit(1i64)),
                concat(vec![lit("inconsistent VLAN mapping for vni "), vni.clone()]),
            ),
            (
                remote.not_eq(q("m", "vteps") - lit(1i64)),
                concat(vec![
                    lit("inconsistent replication list for vni "),
                    vni.clone(),
                ]),
            ),
        ])?;
        Ok((rows, object_check("s", vni, reason)))
    }

    fn check_lnv(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let per_vni = self
            .state("lnv", at)?
            .filter(col("role").eq(lit("vtep")))?
            .aggregate(
                vec![col("vni")],
                vec![count_distinct(col("service_node")).alias("service_nodes")],
            )?
            .alias("m")?
            .build()?;
        let rows = LogicalPlanBuilder::from(self.state_as("lnv", at, "s")?)
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(per_vni, JoinType::Left, same("s", "m", &["vni"]))?;
        let vni = text(q("s", "vni"));
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (
                is_not("s", "state", "up"),
                concat(vec![lit("LNV down for vni "), vni.clone()]),
            ),
            (
                q("m", "service_nodes").gt(lit(1i64)),
                concat(vec![lit("inconsistent service node for vni "), vni.clone()]),
            ),
        ])?;
        Ok((rows, object_check("s", vni, reason)))
    }

    fn check_ospf(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let rows = LogicalPlanBuilder::from(self.state_as("ospf", at, "s")?)
            .filter(q("s", "is_passive").is_not_true())?
            .join_on(
                self.state_as("lldp", at, "l")?,
                JoinType::Left,
                same("s", "l", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("s", "a", &[HOSTNAME]),
            )?
            .join_on(
                self.duplicate_router_ids("ospf", at, "d")?,
                JoinType::Left,
                same("s", "d", &["vrf", "router_id"]),
            )?
            .join_on(
                self.state_as("ospf", at, "p")?,
                JoinType::Left,
                [
                    q("p", HOSTNAME).eq(q("l", "peer_hostname")),
                    q("p", "ifname").eq(q("l", "peer_ifname")),
                    q("p", "vrf").eq(q("s", "vrf")),
                ],
            )?;
        let reason = first_reason(vec![
            (q("a", "rotten"), lit("Rotten Agent")),
            (q("d", "router_id").is_not_null(), lit("duplicate routerId")),
            (differs("s", "p", "area"), lit("area mismatch")),
            (differs("s", "p", "subnet"), lit("subnet mismatch")),
            (
                differs("s", "p", "network_type"),
                lit("network type mismatch"),
            ),
            (
                differs("s", "p", "hello_time"),
                lit("Hello timers mismatch"),
            ),
            (differs("s", "p", "dead_time"), lit("Dead timer mismatch")),
            (differs("s", "p", "mtu"), lit("MTU mismatch")),
            (
                is_not("s", "state", "Full"),
                concat(vec![lit("Adjacency "), or_else(q("s", "state"), "Down")]),
            ),
        ])?;
        let checked = Checked {
            node: q("s", HOSTNAME),
            object: q("s", "ifname"),
            peer: coalesce(vec![q("s", "peer_hostname"), q("l", "peer_hostname")]),
            peer_object: q("l", "peer_ifname"),
            reason,
            time: q("s", TIMESTAMP),
        };
        Ok((rows, checked))
    }

    /// Every LLDP link once: the local interface `i`, the peer's `j`, the agents' `a` and `b`.
    fn links(&self, at: i64) -> Result<LogicalPlanBuilder> {
        let reverse_seen = q("r", HOSTNAME).is_null();
        let ordered = q("l", HOSTNAME)
            .lt(q("l", "peer_hostname"))
            .or(q("l", HOSTNAME)
                .eq(q("l", "peer_hostname"))
                .and(q("l", "ifname").lt(q("l", "peer_ifname"))));
        Ok(LogicalPlanBuilder::from(self.state_as("lldp", at, "l")?)
            .join_on(
                self.state_as("interfaces", at, "i")?,
                JoinType::Inner,
                same("l", "i", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.state_as("interfaces", at, "j")?,
                JoinType::Left,
                [
                    q("l", "peer_hostname").eq(q("j", HOSTNAME)),
                    q("l", "peer_ifname").eq(q("j", "ifname")),
                ],
            )?
            .join_on(
                self.state_as("lldp", at, "r")?,
                JoinType::Left,
                [
                    q("l", "peer_hostname").eq(q("r", HOSTNAME)),
                    q("l", "peer_ifname").eq(q("r", "ifname")),
                ],
            )?
            .filter(reverse_seen.or(ordered))?
            .join_on(
                self.rotten(at, "a")?,
                JoinType::Left,
                same("l", "a", &[HOSTNAME]),
            )?
            .join_on(
                self.rotten(at, "b")?,
                JoinType::Left,
                [q("l", "peer_hostname").eq(q("b", HOSTNAME))],
            )?)
    }

    /// `check mtu` and `check interfaces`: both ends of each LLDP link.
    fn check_links(&self, at: i64, family: &str) -> Result<(LogicalPlanBuilder, Checked)> {
        let mut rows = self.links(at)?;
        let rotten = q("a", "rotten").is_true().or(q("b", "rotten").is_true());
        let no_peer = q("j", HOSTNAME).is_null();
        let reason = if family == "mtu" {
            rows = rows.filter(!no_peer)?;
            first_reason(vec![
                (rotten, lit("Rotten Agent")),
                (differs("i", "j", "mtu"), lit("MTU Mismatch")),
            ])?
        } else {
            first_reason(vec![
                (rotten, lit("Rotten Agent")),
                (no_peer, lit("No Peer Found")),
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
            ])?
        };
        Ok((rows, link_check(reason)))
    }

    /// `check vlan`: VLAN sets and PVIDs on both ends of each link and of each MLAG bond pair.
    fn check_vlan(&self, at: i64) -> Result<(LogicalPlanBuilder, Checked)> {
        let links = self
            .links(at)?
            .filter(
                q("j", HOSTNAME).is_not_null().and(
                    q("i", "vlans")
                        .is_not_null()
                        .or(q("j", "vlans").is_not_null()),
                ),
            )?
            .project(pair_columns(
                q("l", HOSTNAME),
                q("l", "peer_hostname"),
                q("a", "rotten").is_true().or(q("b", "rotten").is_true()),
            ))?
            .build()?;
        let bonds = LogicalPlanBuilder::from(self.state_as("clag", at, "s")?)
            .join_on(
                self.state_as("clag", at, "p")?,
                JoinType::Inner,
                [
                    q("p", HOSTNAME).eq(q("s", "peer_hostname")),
                    q("p", "clag_id").eq(q("s", "clag_id")),
                    q("s", HOSTNAME).lt(q("p", HOSTNAME)),
                ],
            )?
            .join_on(
                self.state_as("interfaces", at, "i")?,
                JoinType::Inner,
                same("s", "i", &[HOSTNAME, "ifname"]),
            )?
            .join_on(
                self.state_as("interfaces", at, "j")?,
                JoinType::Inner,
                same("p", "j", &[HOSTNAME, "ifname"]),
            )?
            .project(pair_columns(q("s", HOSTNAME), q("p", HOSTNAME), lit(false)))?
            .build()?;
        let rows = LogicalPlanBuilder::from(links).union(bonds)?;
        let reason = first_reason(vec![
            (col("rotten"), lit("Rotten Agent")),
            (
                or_else(col("vlans"), "").not_eq(or_else(col("peer_vlans"), "")),
                lit("VLAN set Mismatch"),
            ),
            (col("pvid").not_eq(col("peer_pvid")), lit("PVID Mismatch")),
        ])?;
        let checked = Checked {
            node: col("node"),
            object: col("ifname"),
            peer: col("peer"),
            peer_object: col("peer_ifname"),
            reason,
            time: col("time"),
        };
        Ok((rows, checked))
    }
}

/// The columns `check vlan` compares, for a pair of interfaces `i` and `j`.
fn pair_columns(node: Expr, peer: Expr, rotten: Expr) -> Vec<Expr> {
    vec![
        node.alias("node"),
        q("i", "ifname").alias("ifname"),
        peer.alias("peer"),
        q("j", "ifname").alias("peer_ifname"),
        q("i", "vlans").alias("vlans"),
        q("j", "vlans").alias("peer_vlans"),
        q("i", "pvid").alias("pvid"),
        q("j", "pvid").alias("peer_pvid"),
        rotten.alias("rotten"),
        newer(q("i", TIMESTAMP), q("j", TIMESTAMP)).alias("time"),
    ]
}

fn node_check(reason: Expr) -> Checked {
    Checked {
        node: q("s", HOSTNAME),
        object: lit(""),
        peer: lit(""),
        peer_object: lit(""),
        reason,
        time: q("s", TIMESTAMP),
    }
}

fn object_check(relation: &str, object: Expr, reason: Expr) -> Checked {
    Checked {
        node: q(relation, HOSTNAME),
        object,
        peer: lit(""),
        peer_object: lit(""),
        reason,
        time: q(relation, TIMESTAMP),
    }
}

fn link_check(reason: Expr) -> Checked {
    Checked {
        node: q("l", HOSTNAME),
        object: q("l", "ifname"),
        peer: q("l", "peer_hostname"),
        peer_object: q("l", "peer_ifname"),
        reason,
        time: newer(q("i", TIMESTAMP), q("j", TIMESTAMP)),
    }
}

/// The checked rows under the family's headers: Node, [object], [peer], [peer object], Reason, Time.
fn headed(kind: &CheckKind, checked: Checked) -> Vec<Expr> {
    let mut out = vec![text(checked.node).alias(NODE)];
    if let Some(object) = kind.object {
        out.push(text(checked.object).alias(object));
    }
    if let Some(peer) = kind.peer {
        out.push(text(checked.peer).alias(peer));
    }
    if let Some(peer_object) = kind.peer_object {
        out.push(text(checked.peer_object).alias(peer_object));
    }
    out.push(text(checked.reason).alias(REASON));
    out.push(checked.time.alias("Time"));
    out
}
