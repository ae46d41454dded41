//! The family registry: every family NetQL knows, one file each, holding what `show` displays
//! (its table, the column a bare target matches, NetQ's headers) and, for the families `check`
//! validates, the check itself (its plan, reasons and summary nouns).
//!
//! The parser's family lists, completion and the planners' dispatch all read [`FAMILIES`], so a
//! family exists exactly when its file is written and listed here: there is no catch-all that
//! could run another family's check. Adding a family is its schema module in `sonde-schema`, its
//! file here, its collector and its golden file.

mod addresses;
mod agents;
mod bgp;
mod clag;
mod docker;
mod evpn;
mod int;
mod interfaces;
mod inventory;
mod kubernetes;
mod license;
mod lldp;
mod lnv;
mod macs;
mod mtu;
mod neighbors;
mod ntp;
mod ospf;
mod routes;
mod sensors;
mod services;
mod vlan;
mod vxlan;
mod ztp;

use std::sync::LazyLock;

use datafusion::functions_nested::expr_fn::array_to_string;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{HOSTNAME, TableDef};

use crate::error::Result;
use crate::plan::check::Checked;
use crate::plan::expr::if_else;
use crate::plan::{Planner, Times};

pub(crate) use agents::agent_status;

/// One family: `show <name>` and `check <name>`, when it has them.
#[derive(Debug)]
pub struct FamilyDef {
    /// As typed after `show`/`check`: `bgp`, `ip routes`, `int hops`.
    pub name: &'static str,
    /// None for a family only checked, as `check int` judges every INT table at once.
    pub show: Option<ShowDef>,
    pub check: Option<CheckDef>,
}

/// Where a family's rows come from and how `show` heads them.
#[derive(Debug)]
pub struct ShowDef {
    pub table: &'static str,
    /// A fixed condition, as `ip addresses` keeps `family = ipv4`.
    pub only: Option<(&'static str, &'static str)>,
    /// The column a bare target (`show interfaces swp1`) matches.
    pub target: Option<&'static str>,
    /// The table holds events (INT reports, ZTP accesses): show the window's rows, not a state.
    pub events: bool,
    /// NetQ's columns at time `at`, `Last Changed` excluded; none shows every column by name.
    pub columns: Option<fn(at: i64) -> Vec<Expr>>,
    /// Rows planned rather than read from `table` (see [`ViewDef`]).
    pub view: Option<&'static ViewDef>,
}

impl ShowDef {
    pub(crate) const fn of(table: &'static str, target: Option<&'static str>) -> ShowDef {
        ShowDef {
            table,
            only: None,
            target,
            events: false,
            columns: None,
            view: None,
        }
    }
}

/// The rows of a view, one column per field `show` filters on, at the statement's times.
pub(crate) type ViewPlan = fn(&Planner<'_>, Times) -> Result<LogicalPlanBuilder>;

/// A family whose rows are planned rather than read as they are stored: the INT families join
/// their reports with the switches' names at the statement's time and sum their counters over
/// its window. Filters, the target and the leading hostnames name the view's fields; the
/// answer is headed by [`ViewDef::columns`] alone (no `Last Changed`, no `DbState`).
#[derive(Debug)]
pub struct ViewDef {
    pub(crate) rows: ViewPlan,
    /// The field the hostnames before `show` match (a list field matches when one item does).
    pub hosts: &'static str,
    /// The fields a bare target matches: it selects a row when any of them matches.
    pub targets: &'static [&'static str],
    /// The fields the rows are sorted by.
    pub order: &'static [&'static str],
    /// The headed columns, over the view's fields.
    pub columns: fn() -> Vec<Expr>,
}

/// The rows a check builds (every checked object with a reason, null when it passed).
#[derive(Debug)]
pub(crate) enum CheckPlan {
    /// Judges objects' states at an instant.
    State(fn(&Planner<'_>, i64) -> Result<(LogicalPlanBuilder, Checked)>),
    /// Judges the events of a window (INT reports), names resolved at its end.
    Window(fn(&Planner<'_>, Times) -> Result<(LogicalPlanBuilder, Checked)>),
}

/// How a check's rows are planned, headed and counted.
#[derive(Debug)]
pub struct CheckDef {
    /// What is counted besides nodes; none when the check is per node.
    pub noun: Option<&'static str>,
    /// Header of the checked object's column, if the rows name one.
    pub object: Option<&'static str>,
    /// Header of the peer node's column.
    pub peer: Option<&'static str>,
    /// Header of the peer's object (its interface).
    pub peer_object: Option<&'static str>,
    /// What to print when nothing failed.
    pub clean: Option<&'static str>,
    pub(crate) plan: CheckPlan,
}

impl CheckDef {
    pub(crate) const fn of(
        noun: Option<&'static str>,
        object: Option<&'static str>,
        plan: fn(&Planner<'_>, i64) -> Result<(LogicalPlanBuilder, Checked)>,
    ) -> CheckDef {
        CheckDef {
            noun,
            object,
            peer: None,
            peer_object: None,
            clean: None,
            plan: CheckPlan::State(plan),
        }
    }

    /// Headed as a link between two interfaces.
    pub(crate) const fn link(
        noun: &'static str,
        plan: fn(&Planner<'_>, i64) -> Result<(LogicalPlanBuilder, Checked)>,
    ) -> CheckDef {
        CheckDef {
            peer: Some("Peer"),
            peer_object: Some("Peer Interface"),
            ..CheckDef::of(Some(noun), Some("Interface"), plan)
        }
    }
}

/// Every family, in the order `show` lists them: NetQ 1.4's show column, then INT and ZTP.
pub static FAMILIES: &[&FamilyDef] = &[
    &agents::FAMILY,
    &bgp::FAMILY,
    &clag::FAMILY,
    &docker::FAMILY,
    &evpn::FAMILY,
    &interfaces::FAMILY,
    &inventory::FAMILY,
    &addresses::IPV4,
    &addresses::IPV6,
    &routes::IPV4,
    &routes::IPV6,
    &neighbors::IPV4,
    &neighbors::IPV6,
    &kubernetes::FAMILY,
    &license::FAMILY,
    &lldp::FAMILY,
    &lnv::FAMILY,
    &macs::FAMILY,
    &mtu::FAMILY,
    &ntp::FAMILY,
    &ospf::FAMILY,
    &sensors::FAMILY,
    &services::FAMILY,
    &vlan::FAMILY,
    &vxlan::FAMILY,
    &int::CHECK,
    &int::REPORTS,
    &int::HOPS,
    &int::DROPS,
    &int::CONGESTION,
    &int::LOSS,
    &int::FLOWS,
    &int::ERRORS,
    &ztp::CHECK,
    &ztp::DHCP,
    &ztp::HTTP,
    &ztp::DEVICES,
    &ztp::LEASES,
    &ztp::EVENTS,
];

/// The families `check` validates (NetQ 1.4's check column).
pub static CHECK_FAMILIES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    FAMILIES
        .iter()
        .filter(|f| f.check.is_some())
        .map(|f| f.name)
        .collect()
});

/// The families `show` lists.
pub static SHOW_FAMILIES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    FAMILIES
        .iter()
        .filter(|f| f.show.is_some())
        .map(|f| f.name)
        .collect()
});

/// The first words of the families named in two (`ip routes`, `int hops`), each with the
/// second words it takes.
pub fn family_prefixes() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut prefixes: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for (first, second) in SHOW_FAMILIES.iter().filter_map(|f| f.split_once(' ')) {
        match prefixes.iter_mut().find(|(known, _)| *known == first) {
            Some((_, seconds)) => seconds.push(second),
            None => prefixes.push((first, vec![second])),
        }
    }
    prefixes
}

/// The family named `name`, as the parser accepted it.
pub fn find(name: &str) -> Option<&'static FamilyDef> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

fn header(name: &'static str, expr: Expr) -> Expr {
    expr.alias(name)
}

fn host() -> Expr {
    header("Hostname", col(HOSTNAME))
}

/// A list column as `a, b, c`.
pub(crate) fn list(name: &str) -> Expr {
    array_to_string(col(name), lit(", "))
}

fn yes_no(expr: Expr) -> Expr {
    let unknown = lit(datafusion::common::ScalarValue::Utf8(None));
    if_else(expr.clone(), lit("yes"), if_else(!expr, lit("no"), unknown))
}

/// Tables of events (INT reports, ZTP accesses) rather than of objects' states.
pub fn is_event_table(name: &str) -> bool {
    FAMILIES
        .iter()
        .filter_map(|f| f.show.as_ref())
        .any(|show| show.events && show.table == name)
}

/// The tables whose rows are objects' states: not the event tables, not `events` itself, and
/// not `agents`, whose rows are mostly heartbeats. `show changes` reads these.
pub fn is_state_table(table: &TableDef) -> bool {
    !(is_event_table(table.name) || ["events", "agents"].contains(&table.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_reads_a_table_of_the_schema() {
        for family in FAMILIES {
            let Some(show) = &family.show else {
                assert!(
                    family.check.is_some(),
                    "`{}` neither shows nor checks",
                    family.name
                );
                continue;
            };
            assert!(
                sonde_schema::ALL_TABLES
                    .iter()
                    .any(|t| t.name == show.table),
                "`{}` reads `{}`, which the schema does not define",
                family.name,
                show.table
            );
        }
    }

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
        assert!(names.iter().all(|n| *n == n.to_lowercase()));
    }

    #[test]
    fn the_check_families_are_netqs() {
        assert_eq!(
            *CHECK_FAMILIES,
            [
                "agents",
                "bgp",
                "clag",
                "evpn",
                "interfaces",
                "license",
                "lnv",
                "mtu",
                "ntp",
                "ospf",
                "sensors",
                "vlan",
                "vxlan",
                "int",
                "ztp"
            ]
        );
    }

    #[test]
    fn the_two_word_families_share_their_first_words() {
        let prefixes = family_prefixes();
        let firsts: Vec<&str> = prefixes.iter().map(|(first, _)| *first).collect();
        assert_eq!(firsts, ["ip", "ipv6", "int", "ztp"]);
        assert_eq!(
            prefixes[2].1,
            [
                "reports",
                "hops",
                "drops",
                "congestion",
                "loss",
                "flows",
                "errors"
            ]
        );
        assert_eq!(
            prefixes[3].1,
            ["dhcp", "http", "devices", "leases", "events"]
        );
    }

    #[test]
    fn every_target_is_a_column() {
        for family in FAMILIES {
            let Some(show) = &family.show else { continue };
            let (Some(target), Some(table)) = (show.target, sonde_schema::table(show.table)) else {
                continue;
            };
            assert!(
                table.schema().field_with_name(target).is_ok(),
                "`show {}` targets `{target}`, not a column of `{}`",
                family.name,
                table.name
            );
        }
    }
}
