//! `show <family> [target] [field value …] [changes]`, `show changes`, `show events`: a table's
//! state at a time, or its rows in a window, in NetQ's columns.

use datafusion::functions::expr_fn::{coalesce, concat, concat_ws};
use datafusion::functions_nested::expr_fn::array_to_string;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, ident, lit};
use sonde_schema::{HOSTNAME, TIMESTAMP, TableDef};

use crate::answer::AnswerKind;
use crate::ast::{Family, Query, Show, ShowChanges, ShowEvents, Value};
use crate::error::{Error, Result};

use super::expr::{equals_text, host_filter, if_else, micros, or_else, text, value_matches};
use super::time::DEFAULT_WINDOW_US;
use super::{CHANGE, Planned, Planner};

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
        table if is_event_table(table) => Source {
            events: true,
            ..source(table, None)
        },
        other => source(other, None),
    }
}

fn header(name: &'static str, expr: Expr) -> Expr {
    expr.alias(name)
}

fn list(name: &str) -> Expr {
    array_to_string(col(name), lit(", "))
}

fn yes_no(expr: Expr) -> Expr {
    let unknown = lit(datafusion::common::ScalarValue::Utf8(None));
    if_else(expr.clone(), lit("yes"), if_else(!expr, lit("no"), unknown))
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

/// Fresh, or Rotten when three heartbeats were missed by `at`.
pub(super) fn agent_status(at: i64) -> Expr {
    let interval = coalesce(vec![
        cast(
            col("heartbeat_interval_s"),
            arrow::datatypes::DataType::Int64,
        ),
        lit(30i64),
    ]);
    let deadline = micros(col(TIMESTAMP)) + interval * lit(3_000_000i64);
    if_else(deadline.lt(lit(at)), lit("Rotten"), lit("Fresh"))
}

/// NetQ's columns for each family; every table has `Hostname` and ends with `Last Changed`.
fn columns(family: &str, table: &TableDef, at: i64) -> Vec<Expr> {
    let host = || header("Hostname", col(HOSTNAME));
    let mut out = match family {
        "agents" => vec![
            host(),
            header("Status", agent_status(at)),
            header("NTP Sync", col("ntp_sync")),
            header("Version", col("version")),
            header("Sys Uptime", col("boot_time")),
            header("Agent Uptime", col("agent_start_time")),
            header("Reinitialize Time", col("reinit_time")),
        ],
        "bgp" => vec![
            host(),
            header("Neighbor", neighbor()),
            header("VRF", col("vrf")),
            header("ASN", col("asn")),
            header("Peer ASN", col("peer_asn")),
            header("PfxRx", pfx_rx()),
        ],
        "clag" => vec![
            host(),
            header("Interface", col("ifname")),
            header("Peer", col("peer_hostname")),
            header("Role", col("role")),
            header("Peer State", col("peer_state")),
            header("SysMac", col("sysmac")),
            header("Backup IP", col("backup_ip")),
            header("CLAG Id", col("clag_id")),
            header("Bond State", col("bond_state")),
            header("Conflict", col("conflict")),
        ],
        "interfaces" => vec![
            host(),
            header("Interface", col("ifname")),
            header("Type", col("type")),
            header("State", col("state")),
            header("Admin", col("admin_state")),
            header("VRF", col("vrf")),
            header("MTU", col("mtu")),
            header("Speed", col("speed")),
            header("Master", col("master")),
            header("VLANs", col("vlans")),
        ],
        "mtu" => vec![
            host(),
            header("Interface", col("ifname")),
            header("Type", col("type")),
            header("MTU", col("mtu")),
        ],
        "ip addresses" | "ipv6 addresses" => vec![
            header("Address", col("prefix")),
            host(),
            header("Interface", col("ifname")),
            header("VRF", col("vrf")),
            header("Scope", col("scope")),
        ],
        "ip routes" | "ipv6 routes" => vec![
            header("Origin", col("protocol")),
            header("VRF", col("vrf")),
            header("Prefix", col("prefix")),
            host(),
            header("Nexthops", list("nexthop_ips")),
            header("Interfaces", list("oifs")),
            header("Metric", col("metric")),
        ],
        "ip neighbors" | "ipv6 neighbors" => vec![
            header("IP Address", col("ip")),
            host(),
            header("Interface", col("ifname")),
            header("MAC Address", col("mac")),
            header("VRF", col("vrf")),
            header("State", col("state")),
            header("Remote", yes_no(col("is_remote"))),
        ],
        "lldp" => vec![
            host(),
            header("Interface", col("ifname")),
            header("Peer Hostname", col("peer_hostname")),
            header("Peer Interface", col("peer_ifname")),
            header("Peer Mgmt IP", col("peer_mgmt_ip")),
        ],
        "macs" => vec![
            header("MAC Address", col("mac")),
            header("VLAN", col("vlan")),
            host(),
            header("Egress Port", col("ifname")),
            header("Remote VTEP", col("remote_vtep")),
            header("Static", yes_no(col("is_static"))),
        ],
        "ntp" => vec![
            host(),
            header("NTP Sync", yes_no(col("synced"))),
            header("Current Server", col("source")),
            header("Stratum", col("stratum")),
            header("NTP App", col("service")),
            header("Offset (s)", col("offset_s")),
        ],
        "ospf" => vec![
            host(),
            header("Interface", col("ifname")),
            header("VRF", col("vrf")),
            header("Area", col("area")),
            header("Peer Hostname", col("peer_hostname")),
            header("Peer IP", col("peer_ip")),
            header("State", col("state")),
            header("Network Type", col("network_type")),
        ],
        "sensors" => vec![
            host(),
            header("Kind", col("kind")),
            header("Name", col("name")),
            header("Description", col("description")),
            header("State", col("state")),
            header("Value", col("value")),
            header("Unit", col("unit")),
            header("Message", col("message")),
        ],
        "services" => vec![
            host(),
            header("Service", col("name")),
            header("VRF", col("vrf")),
            header("PID", col("pid")),
            header("Enabled", yes_no(col("enabled"))),
            header("Active", col("state")),
            header("Monitored", yes_no(col("monitored"))),
            header("Uptime", col("started_at")),
        ],
        "evpn" => vec![
            host(),
            header("VNI", col("vni")),
            header("Type", col("type")),
            header("VRF", col("vrf")),
            header("VLAN", col("vlan")),
            header("State", col("state")),
            header("Origin IP", col("origin_ip")),
            header("Remote VTEPs", list("remote_vteps")),
            header("MACs", col("macs")),
        ],
        "vxlan" => vec![
            host(),
            header("Interface", col("ifname")),
            header("VNI", col("vni")),
            header("VLAN", col("vlan")),
            header("Local IP", col("local_ip")),
            header("Replication", col("replication")),
            header("Remote VTEPs", list("remote_vteps")),
            header("State", col("state")),
        ],
        "vlan" => vec![
            host(),
            header("VLAN", col("vlan")),
            header("SVI", col("svi")),
            header("VRF", col("vrf")),
            header("VNI", col("vni")),
            header("Ports", list("ports")),
        ],
        "license" => vec![
            host(),
            header("Name", col("name")),
            header("State", col("state")),
            header("Expires", col("expires_at")),
        ],
        _ => generic_columns(table),
    };
    out.push(header("Last Changed", col(TIMESTAMP)));
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
    let mut out = vec![header("Hostname", col(HOSTNAME))];
    for column in table.keys.iter().chain(table.values) {
        let expr = match column.ty {
            sonde_schema::ColumnType::StrList => list(column.name),
            _ => col(column.name),
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
            conditions.push(host_filter(col(HOSTNAME), hosts));
        }
        if let Some((column, value)) = source.only {
            conditions.push(equals_text(col(column), value));
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
            .map(|k| col(k).sort(true, false))
            .collect();
        if changes {
            order.insert(0, col(TIMESTAMP).sort(true, false));
        }
        let mut projection = columns(show.family.name, table, at);
        if changes {
            projection.insert(projection.len() - 1, header("DbState", col(CHANGE)));
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
                rows = rows.filter(host_filter(col(HOSTNAME), hosts))?;
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
            conditions.push(host_filter(col(HOSTNAME), hosts));
        }
        if let Some(family) = &events.family {
            conditions.push(equals_text(col("type"), event_type(family)));
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
                datafusion::functions::expr_fn::lower(col("severity")).in_list(at_least, false),
            );
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let plan = rows
            .sort(vec![
                col(TIMESTAMP).sort(false, false),
                col(HOSTNAME).sort(true, false),
                col("type").sort(true, false),
                col("id").sort(true, false),
            ])?
            .project(vec![
                header("Hostname", col(HOSTNAME)),
                header("Type", col("type")),
                header("Severity", col("severity")),
                header("Object", col("object")),
                header("Message", col("message")),
                header("Time", col(TIMESTAMP)),
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
        Ok(value_matches(col(column), field.data_type(), value))
    }
}

/// Tables of events (INT reports, ZTP accesses) rather than of objects' states.
fn is_event_table(name: &str) -> bool {
    name.starts_with("int_") || name.starts_with("ztp_")
}

/// The tables whose rows are objects' states: not the event tables, not `events` itself, and
/// not `agents`, whose rows are mostly heartbeats.
fn is_state_table(table: &TableDef) -> bool {
    !(is_event_table(table.name) || ["events", "agents"].contains(&table.name))
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
        .map(|k| or_else(text(col(k.name)), ""))
        .collect();
    let object = if keys.is_empty() {
        lit("")
    } else {
        concat_ws(lit(" "), keys)
    };
    let has_state = table.values.iter().any(|v| v.name == "state");
    let details = if has_state {
        or_else(text(col("state")), "")
    } else {
        lit("")
    };
    vec![
        header("Hostname", col(HOSTNAME)),
        header("Type", lit(table.name)),
        header("Object", object),
        header("State", details),
        header("DbState", col(CHANGE)),
        header("Last Changed", col(TIMESTAMP)),
    ]
}
