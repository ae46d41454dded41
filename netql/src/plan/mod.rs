//! Statements to DataFusion plans, in the style of DataFusion's `SqlToRel`: one [`Planner`], one
//! file per command, one dispatch `match` in [`Planner::plan`]; what each family shows and
//! checks is in its registry file ([`crate::family`]).
//!
//! The planner reads tables only through [`Catalog`], which the engine implements: the state of a
//! table at a time, and the changes in a window. `around` uses the
//! state primitive, `between` and `changes` the changes primitive. Times resolve against the
//! planner's `now`, fixed when the planner is made, so one statement sees one instant.

pub(crate) mod check;
pub(crate) mod expr;
pub(crate) mod scalar;
mod select;
mod show;
mod tables;
mod time;
mod trace;

use arrow::array::RecordBatch;
use async_trait::async_trait;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use sonde_schema::TableDef;

use crate::answer::AnswerKind;
use crate::ast::{Command, Query, Statement};
use crate::error::Result;

pub(crate) use time::{Times, Window};

pub use sonde_schema::CHANGE;

/// What the planner needs from the store: the tables, and the two time-travel primitives.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Every table, with its columns and their documentation.
    fn tables(&self) -> &'static [&'static TableDef];
    /// For each key the newest row with `timestamp <= at` (µs), active rows only.
    fn state_at(&self, table: &str, at: i64) -> DfResult<LogicalPlan>;
    /// The rows with `from <= timestamp <= to`, oldest first, with an Add/Del [`CHANGE`] column.
    fn changes(&self, table: &str, from: i64, to: i64) -> DfResult<LogicalPlan>;
    /// The changes of `tables` with `from <= timestamp <= to` as one list, oldest first, in the
    /// columns and order of [`sonde_schema::change_log_schema`].
    fn change_log(&self, tables: &[&'static TableDef], from: i64, to: i64)
    -> DfResult<LogicalPlan>;
    /// Runs a plan to completion.
    async fn execute(&self, plan: LogicalPlan) -> DfResult<Vec<RecordBatch>>;
}

/// `explain trace …`: the logical plan of each state read the walk runs over, under its table's
/// name (routes as read before the walk filters them to the prefixes it looks up).
fn explain_reads(inputs: &crate::trace::TraceInputs) -> Result<LogicalPlan> {
    use datafusion::logical_expr::{col, lit};
    let observed = inputs.observed.iter().map(|plan| ("int_hops", plan));
    let reads = inputs.state.iter().map(|(table, plan)| (*table, plan));
    let rows: Vec<Vec<datafusion::logical_expr::Expr>> = reads
        .chain(observed)
        .map(|(table, plan)| {
            vec![
                lit(format!("{table} logical_plan")),
                lit(plan.display_indent().to_string()),
            ]
        })
        .collect();
    Ok(LogicalPlanBuilder::values(rows)?
        .project(vec![
            col("column1").alias("plan_type"),
            col("column2").alias("plan"),
        ])?
        .build()?)
}

/// A statement ready to run: its plan and how its rows are to be read.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: LogicalPlan,
    pub kind: AnswerKind,
    /// For `trace`: the state reads the walk runs over (`plan` then only announces the schema
    /// of the hops the walk answers).
    pub walk: Option<std::sync::Arc<crate::trace::TraceInputs>>,
}

/// Turns statements into plans over one catalog, at one instant.
pub struct Planner<'a> {
    catalog: &'a dyn Catalog,
    now: i64,
}

impl<'a> Planner<'a> {
    /// A planner whose relative times (`10h`, `now`) count back from `now` (µs since the epoch).
    pub fn new(catalog: &'a dyn Catalog, now: i64) -> Self {
        Planner { catalog, now }
    }

    pub fn plan(&self, statement: &Statement) -> Result<Planned> {
        match statement {
            Statement::Query(query) => self.plan_query(query),
            Statement::Explain(explain) => {
                let planned = self.plan_query(&explain.query)?;
                let plan = match &planned.walk {
                    Some(inputs) => explain_reads(inputs)?,
                    None => LogicalPlanBuilder::from(planned.plan)
                        .explain(false, false)?
                        .build()?,
                };
                Ok(Planned {
                    walk: None,
                    plan,
                    kind: AnswerKind::Explain {
                        netql: self.netql_plan(&explain.query),
                    },
                })
            }
        }
    }

    /// The statement in canonical NetQL and what its time resolves to.
    fn netql_plan(&self, query: &Query) -> String {
        let instant = |micros: i64| {
            chrono::DateTime::from_timestamp_micros(micros)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_else(|| micros.to_string())
        };
        let reads = match (&query.command, &query.time) {
            (Command::Describe(_) | Command::ShowTables(_), _) => "the catalog".to_string(),
            (Command::ShowChanges(_) | Command::ShowEvents(_), _)
            | (_, Some(crate::ast::TimeClause::Between(_))) => {
                let window = self.change_window(query);
                format!(
                    "the rows that changed from {} to {}",
                    instant(window.from),
                    instant(window.to)
                )
            }
            _ => format!("the state at {}", instant(self.state_time(query))),
        };
        format!("{query}\nreads {reads}")
    }

    fn plan_query(&self, query: &Query) -> Result<Planned> {
        match &query.command {
            Command::Check(check) => self.plan_check(query, check),
            Command::Show(show) => self.plan_show(query, show),
            Command::ShowChanges(changes) => self.plan_show_changes(query, changes),
            Command::ShowEvents(events) => self.plan_show_events(query, events),
            Command::ShowTables(_) => self.plan_show_tables(),
            Command::Describe(describe) => self.plan_describe(describe),
            Command::Select(select) => self.plan_select(query, select),
            Command::Trace(trace) => self.plan_trace(query, trace),
        }
    }

    fn table(&self, name: &str) -> Option<&'static TableDef> {
        self.catalog
            .tables()
            .iter()
            .copied()
            .find(|t| t.name == name)
    }

    pub(crate) fn state(&self, table: &str, at: i64) -> Result<LogicalPlanBuilder> {
        Ok(LogicalPlanBuilder::from(self.catalog.state_at(table, at)?))
    }

    /// The rows of `table` in `window`, oldest first, with their Add/Del [`CHANGE`] column.
    pub(crate) fn events(&self, table: &str, window: Window) -> Result<LogicalPlanBuilder> {
        Ok(LogicalPlanBuilder::from(self.catalog.changes(
            table,
            window.from,
            window.to,
        )?))
    }

    /// The state of `table` at `at`, under the relation name `alias`.
    pub(crate) fn state_as(&self, table: &str, at: i64, alias: &str) -> Result<LogicalPlan> {
        Ok(self.state(table, at)?.alias(alias)?.build()?)
    }
}
