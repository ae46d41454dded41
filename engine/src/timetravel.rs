//! The two primitives NetQL builds on, as DataFusion plans:
//! - state at T: for each key the newest row with `timestamp <= T`, kept only when active. It reads
//!   the newest usable checkpoint before T plus the events after it, so its cost follows the
//!   checkpoint period, not the length of history ([`StateTable`] plans it as a streaming merge).
//! - changes between T1 and T2: the rows with `T1 <= timestamp <= T2`, each marked Add or Del;
//!   for several tables at once, as one list in time order ([`ChangeLogTable`]).
//!
//! Both are also SQL table functions: `state_at('bgp', '2026-11-20T10:00:00Z')` and
//! `changes('bgp', t1, t2)`; times are RFC 3339 strings, timestamps, or µs since the epoch.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl};
use datafusion::common::ScalarValue;
use datafusion::datasource::{TableProvider, ViewTable, provider_as_source};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit, when};
use sonde_schema::{ACTIVE, CHANGE, TIMESTAMP, TableDef};

use crate::change_log::ChangeLogTable;
use crate::error::{EngineError, Result};
use crate::provider::{EventTable, Shared};
use crate::state_table::StateTable;

pub(crate) fn timestamp_literal(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some("UTC".into()),
    ))
}

fn scan(shared: &Arc<Shared>, table: &'static TableDef) -> Result<LogicalPlanBuilder> {
    let provider = Arc::new(EventTable::new(table, Arc::clone(shared)));
    Ok(LogicalPlanBuilder::scan(
        table.name,
        provider_as_source(provider),
        None,
    )?)
}

/// State of `table` at `at` (µs): newest row per key with `timestamp <= at`, active rows only.
pub(crate) fn state_plan(
    shared: &Arc<Shared>,
    table: &'static TableDef,
    at: i64,
) -> Result<LogicalPlan> {
    let provider = Arc::new(StateTable::new(table, Arc::clone(shared), at));
    Ok(LogicalPlanBuilder::scan(table.name, provider_as_source(provider), None)?.build()?)
}

/// Rows of `table` with `from <= timestamp <= to`, oldest first, with an Add/Del `change` column.
pub(crate) fn changes_plan(
    shared: &Arc<Shared>,
    table: &'static TableDef,
    from: i64,
    to: i64,
) -> Result<LogicalPlan> {
    let window = col(TIMESTAMP)
        .gt_eq(timestamp_literal(from))
        .and(col(TIMESTAMP).lt_eq(timestamp_literal(to)));
    let mut columns: Vec<Expr> = table
        .schema()
        .fields()
        .iter()
        .map(|f| col(f.name().as_str()))
        .collect();
    columns.push(
        when(col(ACTIVE), lit("Add"))
            .otherwise(lit("Del"))?
            .alias(CHANGE),
    );
    let mut order: Vec<_> = vec![col(TIMESTAMP).sort(true, false)];
    order.extend(table.key_columns().map(|c| col(c).sort(true, false)));
    Ok(scan(shared, table)?
        .filter(window)?
        .project(columns)?
        .sort(order)?
        .build()?)
}

/// The changes of `tables` with `from <= timestamp <= to` as one list, oldest first
/// ([`sonde_schema::change_log_schema`]).
pub(crate) fn change_log_plan(
    shared: &Arc<Shared>,
    tables: Vec<&'static TableDef>,
    from: i64,
    to: i64,
) -> Result<LogicalPlan> {
    let provider = Arc::new(ChangeLogTable::new(tables, Arc::clone(shared), from, to));
    Ok(LogicalPlanBuilder::scan("change_log", provider_as_source(provider), None)?.build()?)
}

/// Parses an instant: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]` (UTC), or µs since the epoch.
pub fn parse_instant(text: &str) -> Result<i64> {
    let text = text.trim();
    if let Ok(micros) = text.parse::<i64>() {
        return Ok(micros);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_micros());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    Err(EngineError::InvalidTime(format!(
        "`{text}` is not RFC 3339, `YYYY-MM-DD HH:MM:SS` or µs since the epoch"
    )))
}

fn instant_arg(expr: &Expr) -> DfResult<i64> {
    let invalid = || DataFusionError::Plan(format!("expected a time literal, found {expr}"));
    let Expr::Literal(value, _) = expr else {
        return Err(invalid());
    };
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => {
            parse_instant(s).map_err(|e| DataFusionError::Plan(e.to_string()))
        }
        ScalarValue::Int64(Some(v)) => Ok(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Ok(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Ok(v.div_euclid(1000)),
        ScalarValue::TimestampMillisecond(Some(v), _) => Ok(v * 1000),
        ScalarValue::TimestampSecond(Some(v), _) => Ok(v * 1_000_000),
        _ => Err(invalid()),
    }
}

fn table_arg(expr: &Expr) -> DfResult<&'static TableDef> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(name)), _) => {
            sonde_schema::table(name).ok_or_else(|| {
                DataFusionError::Plan(EngineError::UnknownTable(name.clone()).to_string())
            })
        }
        other => Err(DataFusionError::Plan(format!(
            "expected a table name, found {other}"
        ))),
    }
}

/// `state_at(table, time)`
#[derive(Debug)]
pub(crate) struct StateAtFunction(pub Arc<Shared>);

impl TableFunctionImpl for StateAtFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let [table, at] = args.exprs() else {
            return Err(DataFusionError::Plan(
                "usage: state_at('<table>', <time>)".into(),
            ));
        };
        Ok(Arc::new(StateTable::new(
            table_arg(table)?,
            Arc::clone(&self.0),
            instant_arg(at)?,
        )))
    }
}

/// `changes(table, from, to)`
#[derive(Debug)]
pub(crate) struct ChangesFunction(pub Arc<Shared>);

impl TableFunctionImpl for ChangesFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let [table, from, to] = args.exprs() else {
            return Err(DataFusionError::Plan(
                "usage: changes('<table>', <from>, <to>)".into(),
            ));
        };
        let plan = changes_plan(
            &self.0,
            table_arg(table)?,
            instant_arg(from)?,
            instant_arg(to)?,
        )
        .map_err(into_df)?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

pub(crate) fn into_df(e: EngineError) -> DataFusionError {
    match e {
        EngineError::Query(e) => e,
        other => DataFusionError::External(Box::new(other)),
    }
}
