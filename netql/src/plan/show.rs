//! `show <family> [target] [field value …] [changes]`, `show changes`, `show events`: a table's
//! state at a time, or its rows in a window, in NetQ's columns.

use datafusion::functions::expr_fn::{coalesce, concat, concat_ws};
use datafusion::functions_nested::expr_fn::array_to_string;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, ident, lit, when};
use sonde_schema::{HOSTNAME, TIMESTAMP, TableDef};

use crate::answer::AnswerKind;
use crate::ast::{Family, Query, Show, ShowChanges, ShowEvents, Value};
use crate::error::{Error, Result};

use super::expr::{equals_text, host_filter, micros, or_else, text, value_matches};
use super::time::DEFAULT_WINDOW_US;
use super::{Planned, Planner};

/// Column of a changes plan saying Add or Del.
const CHANGE: &str = "change";

/// Where a `show` family's rows come from.
struct Source {
    table: &'static str,
    /// A fixed condition, as `ip addresses` keeps `family = ipv4`.
    only: Option<(&'static str, &'static str)>,
    /// The column a bare target (`show interfaces swp1`) matches.
    target: Option<&'static str>,
    /// The table holds events (INT reports, ZTP accesses): show the window's rows, not a state.
    events: bool,
}

const fn source(table: &'static str, target: Option<&'static str>) -> Source {
    Source {
        table,
        only: None,
        target,
        events: false,
    }
}

fn source_of(family: &'static str) -> Source {
    match family {
        "ip addresses" => Source {
            only: Some(("family", "ipv4")),
            ..source("addresses", Some("prefix"))
        },
        "ipv6 addresses" => Source {
            only: Some(("family", "ipv6")),
            ..source("addresses", Some("prefix"))
        },
        "ip routes" => Source {
            only: Some(("family", "ipv4")),
            ..source("routes", Some("prefix"))
        },
        "ipv6 routes" => Source {
            only: Some(("family", "ipv6")),
            ..source("routes", Some("prefix"))
        },
        "ip neighbors" => Source {
            only: Some(("family", "ipv4")),
            ..source("neighbors", Some("ip"))
        },
        "ipv6 neighbors" => Source {
            only: Some(("family", "ipv6")),
            ..source("neighbors", Some("ip"))
        },
        "mtu" | "interfaces" => source("interfaces", Some("ifname")),
        "clag" | "lldp" | "vxlan" => source(family, Some("ifname")),
        "macs" => source("macs", Some("mac")),
        "sensors" => source("sensors", Some("kind")),
        "services" | "license" => source(family, Some("name")),
        "inventory" => source("inventory", Some("component")),
        "evpn" | "lnv" => source(family, Some("vni")),
        "vlan" => source("vlan", Some("vlan")),
        "docker" => source("docker", Some("name")),
        "kubernetes" => source("kubernetes", Some("pod")),
        "ospf" => source("ospf", Some("ifname")),
        "bgp" => source("bgp", Some("peer")),
        table if table.starts_with("int_") || table.starts_with("ztp_") => Source {
            events: true,
            ..source(table, None)
        },
        other => source(other, None),
    }
}

fn header(name: &'static str, expr: Expr) -> Expr {
    expr.alias(name)
}

fn c(name: &str) -> Expr {
    col(name)
}

fn list(name: &str) -> Expr {
    array_to_string(col(name), lit(", "))
}

fn yes_no(expr: Expr) -> Expr {
    when(expr.clone(), lit("yes"))
        .when(!expr, lit("no"))
        .end()
        .unwrap_or_else(|_| lit("n/a"))
}

/// `2/-/-`: received prefixes per address family, `-` where none; `NotEstd` when not established.
fn pfx_rx() -> Expr {
    let count = |name: &str| or_else(text(c(name)), "-");
    let prefixes = concat_ws(
        lit("/"),
        vec![
            count("pfx_rx_ipv4"),
            count("pfx_rx_ipv6"),
            count("pfx_rx_evpn"),
        ],
    );
    when(or_else(c("state"), "").eq(lit("Established")), prefixes)
        .otherwise(lit("NotEstd"))
        .unwrap_or_else(|_| lit(""))
}

/// `swp1(leaf01)`: the neighbour and the hostname it announced.
fn neighbor() -> Expr {
    when(c("peer_hostname").is_null(), c("peer"))
        .otherwise(concat(vec![
            c("peer"),
            lit("("),
            c("peer_hostname"),
            lit(")"),
        ]))
        .unwrap_or_else(|_| c("peer"))
}

/// Fresh, or Rotten when three heartbeats were missed by `at`.
pub(super) fn agent_status(at: i64) -> Expr {
    let interval = coalesce(vec![
        cast(c("heartbeat_interval_s"), arrow::datatypes::DataType::Int64),
        lit(30i64),
    ]);
    let deadline = micros(c(TIMESTAMP)) + interval * lit(3_000_000i64);
    when(deadline.lt(lit(at)), lit("Rotten"))
        .otherwise(lit("Fresh"))
        .unwrap_or_else(|_| lit("Fresh"))
}

/// NetQ's columns for each family; every table has `Hostname` and ends with `Last Changed`.
fn columns(family: &str, table: &TableDef, at: i64) -> Vec<Expr> {
    let host = || header("Hostname", c(HOSTNAME));
    let mut out = match family {
        "agents" => vec![
            host(),
            header("Status", agent_status(at)),
            header("NTP Sync", c("ntp_sync")),
            header("Version", c("version")),
            header("Sys Uptime", c("boot_time")),
            header("Agent Uptime", c("agent_start_time")),
            header("Reinitialize Time", c("reinit_time")),
        ],
        "bgp" => vec![
            host(),
            header("Neighbor", neighbor()),
            header("VRF", c("vrf")),
            header("ASN", c("asn")),
            header("Peer ASN", c("peer_asn")),
            header("PfxRx", pfx_rx()),
        ],
        "clag" => vec![
            host(),
            header("Interface", c("ifname")),
            header("Peer", c("peer_hostname")),
            header("Role", c("role")),
            header("Peer State", c("peer_state")),
            header("SysMac", c("sysmac")),
            header("Backup IP", c("backup_ip")),
            header("CLAG Id", c("clag_id")),
            header("Bond State", c("bond_state")),
            header("Conflict", c("conflict")),
        ],
        "interfaces" => vec![
            host(),
            header("Interface", c("ifname")),
            header("Type", c("type")),
            header("State", c("state")),
            header("Admin", c("admin_state")),
            header("VRF", c("vrf")),
            header("MTU", c("mtu")),
            header("Speed", c("speed")),
            header("Master", c("master")),
            header("VLANs", c("vlans")),
        ],
        "mtu" => vec![
            host(),
            header("Interface", c("ifname")),
            header("Type", c("type")),
            header("MTU", c("mtu")),
        ],
        "ip addresses" | "ipv6 addresses" => vec![
            header("Address", c("prefix")),
            host(),
            header("Interface", c("ifname")),
            header("VRF", c("vrf")),
            header("Scope", c("scope")),
        ],
        "ip routes" | "ipv6 routes" => vec![
            header("Origin", c("protocol")),
            header("VRF", c("vrf")),
            header("Prefix", c("prefix")),
            host(),
            header("Nexthops", list("nexthop_ips")),
            header("Interfaces", list("oifs")),
            header("Metric", c("metric")),
        ],
        "ip neighbors" | "ipv6 neighbors" => vec![
            header("IP Address", c("ip")),
            host(),
            header("Interface", c("ifname")),
            header("MAC Address", c("mac")),
            header("VRF", c("vrf")),
            header("State", c("state")),
            header("Remote", yes_no(c("is_remote"))),
        ],
        "lldp" => vec![
            host(),
            header("Interface", c("ifname")),
            header("Peer Hostname", c("peer_hostname")),
            header("Peer Interface", c("peer_ifname")),
            header("Peer Mgmt IP", c("peer_mgmt_ip")),
        ],
        "macs" => vec![
            header("MAC Address", c("mac")),
            header("VLAN", c("vlan")),
            host(),
            header("Egress Port", c("ifname")),
            header("Remote VTEP", c("remote_vtep")),
            header("Static", yes_no(c("is_static"))),
        ],
        "ntp" => vec![
            host(),
            header("NTP Sync", yes_no(c("synced"))),
            header("Current Server", c("source")),
            header("Stratum", c("stratum")),
            header("NTP App", c("service")),
            header("Offset (s)", c("offset_s")),
        ],
        "ospf" => vec![
            host(),
            header("Interface", c("ifname")),
            header("VRF", c("vrf")),
            header("Area", c("area")),
            header("Peer Hostname", c("peer_hostname")),
            header("Peer IP", c("peer_ip")),
            header("State", c("state")),
            header("Network Type", c("network_type")),
        ],
        "sensors" => vec![
            host(),
            header("Kind", c("kind")),
            header("Name", c("name")),
            header("Description", c("description")),
            header("State", c("state")),
            header("Value", c("value")),
            header("Unit", c("unit")),
            header("Message", c("message")),
        ],
        "services" => vec![
            host(),
            header("Service", c("name")),
            header("VRF", c("vrf")),
            header("PID", c("pid")),
            header("Enabled", yes_no(c("enabled"))),
            header("Active", c("state")),
            header("Monitored", yes_no(c("monitored"))),
            header("Uptime", c("started_at")),
        ],
        "evpn" => vec![
            host(),
            header("VNI", c("vni")),
            header("Type", c("type")),
            header("VRF", c("vrf")),
            header("VLAN", c("vlan")),
            header("State", c("state")),
            header("Origin IP", c("origin_ip")),
            header("Remote VTEPs", list("remote_vteps")),
            header("MACs", c("macs")),
        ],
        "vxlan" => vec![
            host(),
            header("Interface", c("ifname")),
            header("VNI", c("vni")),
            header("VLAN", c("vlan")),
            header("Local IP", c("local_ip")),
            header("Replication", c("replication")),
            header("Remote VTEPs", list("remote_vteps")),
            header("State", c("state")),
        ],
        "vlan" => vec![
            host(),
            header("VLAN", c("vlan")),
            header("SVI", c("svi")),
            header("VRF", c("vrf")),
            header("VNI", c("vni")),
            header("Ports", list("ports")),
        ],
        "license" => vec![
            host(),
            header("Name", c("name")),
            header("State", c("state")),
            header("Expires", c("expires_at")),
        ],
        _ => generic_columns(table),
    };
    out.push(header("Last Changed", c(TIMESTAMP)));
    out
}

/// `size_bytes` → `Size Bytes`.
fn title_case(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every column but the frame ones, headed by its own name.
fn generic_columns(table: &TableDef) -> Vec<Expr> {
    let mut out = vec![header("Hostname", c(HOSTNAME))];
    for column in table.keys.iter().chain(table.values) {
        let expr = match column.ty {
            sonde_schema::ColumnType::StrList => list(column.name),
            _ => c(column.name),
        };
        out.push(expr.alias(title_case(column.name)));
    }
    out
}

impl Planner<'_> {
    pub(super) fn plan_show(&self, query: &Query, show: &Show) -> Result<Planned> {
        let source = source_of(show.family.name);
        let table = self.known_table(source.table, show.family.span)?;
        let changes = show.changes
            || source.events
            || matches!(query.time, Some(crate::ast::TimeClause::Between(_)));
        let at = self.state_time(query);
        let mut rows = if changes {
            let window = self.change_window(query);
            LogicalPlanBuilder::from(self.catalog.changes(table.name, window.from, window.to)?)
        } else {
            self.state(table.name, at)?
        };
        let mut conditions = Vec::new();
        if let Some(hosts) = &query.hosts {
            conditions.push(host_filter(c(HOSTNAME), hosts));
        }
        if let Some((column, value)) = source.only {
            conditions.push(equals_text(c(column), value));
        }
        if let Some(target) = &show.target {
            let column = source.target.ok_or_else(|| {
                Error::plan(
                    target.span,
                    format!(
                        "`show {}` takes no target; filter with a field and a value",
                        show.family
                    ),
                )
            })?;
            conditions.push(self.field_matches(table, column, target)?);
        }
        for filter in &show.filters {
            let column = resolve_field(table, &filter.field.text)
                .ok_or_else(|| unknown_field(table, &filter.field.text, filter.field.span))?;
            conditions.push(self.field_matches(table, column, &filter.value)?);
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let mut order: Vec<_> = table
            .key_columns()
            .map(|k| c(k).sort(true, false))
            .collect();
        if changes {
            order.insert(0, c(TIMESTAMP).sort(true, false));
        }
        let mut projection = columns(show.family.name, table, at);
        if changes {
            projection.insert(projection.len() - 1, header("DbState", c(CHANGE)));
        }
        let plan = rows.sort(order)?.project(projection)?.build()?;
        Ok(Planned {
            plan,
            kind: AnswerKind::Rows {
                title: show.family.name.to_string(),
            },
        })
    }

    /// `show changes [type <family>]`: the change log of every table (or one), oldest first.
    pub(super) fn plan_show_changes(
        &self,
        query: &Query,
        changes: &ShowChanges,
    ) -> Result<Planned> {
        let window = self.change_window(query);
        let tables: Vec<&'static TableDef> = match &changes.family {
            Some(family) => vec![self.known_table(source_of(family.name).table, family.span)?],
            None => self
                .catalog
                .tables()
                .iter()
                .copied()
                .filter(|t| is_state_table(t))
                .collect(),
        };
        let mut union: Option<LogicalPlanBuilder> = None;
        for table in tables {
            let mut rows = LogicalPlanBuilder::from(self.catalog.changes(
                table.name,
                window.from,
                window.to,
            )?);
            if let Some(hosts) = &query.hosts {
                rows = rows.filter(host_filter(c(HOSTNAME), hosts))?;
            }
            let rows = rows.project(change_log_columns(table))?.build()?;
            union = Some(match union {
                None => LogicalPlanBuilder::from(rows),
                Some(union) => union.union(rows)?,
            });
        }
        let union = union.ok_or_else(|| Error::Internal("no tables to list changes of".into()))?;
        let plan = union
            .sort(
                ["Last Changed", "Hostname", "Type", "Object", "DbState"]
                    .map(|column| ident(column).sort(true, false))
                    .to_vec(),
            )?
            .build()?;
        Ok(Planned {
            plan,
            kind: AnswerKind::Rows {
                title: "changes".into(),
            },
        })
    }

    /// `show events [type <family>] [level <severity>]`: the `events` table in the window, newest first.
    pub(super) fn plan_show_events(&self, query: &Query, events: &ShowEvents) -> Result<Planned> {
        let window = match query.time {
            None => super::Window {
                from: self.now.saturating_sub(24 * DEFAULT_WINDOW_US),
                to: self.now,
            },
            Some(_) => self.change_window(query),
        };
        let mut rows =
            LogicalPlanBuilder::from(self.catalog.changes("events", window.from, window.to)?);
        let mut conditions = Vec::new();
        if let Some(hosts) = &query.hosts {
            conditions.push(host_filter(c(HOSTNAME), hosts));
        }
        if let Some(family) = &events.family {
            conditions.push(equals_text(c("type"), event_type(family)));
        }
        if let Some(level) = &events.level {
            let at_least: Vec<Expr> = crate::ast::EVENT_LEVELS
                .iter()
                .filter(|name| {
                    crate::ast::Severity::from_name(name).is_some_and(|s| s >= level.severity)
                })
                .map(|name| lit(*name))
                .collect();
            conditions.push(
                datafusion::functions::expr_fn::lower(c("severity")).in_list(at_least, false),
            );
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let plan = rows
            .sort(vec![
                c(TIMESTAMP).sort(false, false),
                c(HOSTNAME).sort(true, false),
                c("type").sort(true, false),
                c("id").sort(true, false),
            ])?
            .project(vec![
                header("Hostname", c(HOSTNAME)),
                header("Type", c("type")),
                header("Severity", c("severity")),
                header("Object", c("object")),
                header("Message", c("message")),
                header("Time", c(TIMESTAMP)),
            ])?
            .build()?;
        Ok(Planned {
            plan,
            kind: AnswerKind::Rows {
                title: "events".into(),
            },
        })
    }

    pub(super) fn known_table(
        &self,
        name: &str,
        span: crate::ast::Span,
    ) -> Result<&'static TableDef> {
        self.table(name)
            .ok_or_else(|| Error::plan(span, format!("this server has no `{name}` table")))
    }

    /// A column of `table` against a typed value.
    pub(super) fn field_matches(
        &self,
        table: &'static TableDef,
        column: &str,
        value: &Value,
    ) -> Result<Expr> {
        let schema = table.schema();
        let field = schema
            .field_with_name(column)
            .map_err(|_| unknown_field(table, column, value.span))?;
        Ok(value_matches(c(column), field.data_type(), value))
    }
}

/// The tables whose rows are objects' states: not the event tables, not `events` itself, and
/// not `agents`, whose rows are mostly heartbeats.
fn is_state_table(table: &TableDef) -> bool {
    !(table.name.starts_with("int_")
        || table.name.starts_with("ztp_")
        || ["events", "agents"].contains(&table.name))
}

/// The `events.type` a family's events carry.
fn event_type(family: &Family) -> &'static str {
    source_of(family.name).table
}

/// A field name as typed, or one of its aliases, to the table's column.
pub(super) fn resolve_field(table: &'static TableDef, field: &str) -> Option<&'static str> {
    let wanted = match field {
        "interface" | "port" => "ifname",
        "time" => TIMESTAMP,
        "node" | "host" => HOSTNAME,
        other => other,
    };
    [TIMESTAMP, HOSTNAME, sonde_schema::ACTIVE]
        .into_iter()
        .chain(table.keys.iter().chain(table.values).map(|c| c.name))
        .find(|name| *name == wanted)
}

pub(super) fn unknown_field(table: &TableDef, field: &str, span: crate::ast::Span) -> Error {
    let fields: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Error::plan(
        span,
        format!(
            "`{}` has no field `{field}`; its fields are {}",
            table.name,
            fields.join(", ")
        ),
    )
}

/// One line per change in the fabric-wide log: when, where, what, Add/Del, and the object's state.
fn change_log_columns(table: &TableDef) -> Vec<Expr> {
    let keys: Vec<Expr> = table
        .keys
        .iter()
        .map(|k| or_else(text(c(k.name)), ""))
        .collect();
    let object = if keys.is_empty() {
        lit("")
    } else {
        concat_ws(lit(" "), keys)
    };
    let has_state = table.values.iter().any(|v| v.name == "state");
    let details = if has_state {
        or_else(text(c("state")), "")
    } else {
        lit("")
    };
    vec![
        header("Hostname", c(HOSTNAME)),
        header("Type", lit(table.name)),
        header("Object", object),
        header("State", details),
        header("DbState", c(CHANGE)),
        header("Last Changed", c(TIMESTAMP)),
    ]
}
