//! A catalog over record batches in memory, for the planners' tests: the same two time-travel
//! primitives the engine gives (newest active row per key at T; rows in a window with Add/Del),
//! planned over `MemTable`s, with no storage under them.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use async_trait::async_trait;
use datafusion::common::ScalarValue;
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::functions::expr_fn::{coalesce, concat_ws};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::cast;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, col, lit, when,
};
use datafusion::prelude::SessionContext;
use sonde_schema::row::{Row, to_batch};
use sonde_schema::{
    ACTIVE, CHANGE, CHANGE_OBJECT, CHANGE_STATE, CHANGE_TABLE, HOSTNAME, TIMESTAMP, TableDef,
};

use crate::plan::Catalog;
use crate::run;

/// Tables of rows appended by hand.
#[derive(Default)]
pub(crate) struct MemCatalog {
    batches: HashMap<&'static str, Vec<RecordBatch>>,
}

impl MemCatalog {
    /// Adds `rows` of `table`, all from `hostname`.
    pub fn add(&mut self, table: &'static TableDef, hostname: &str, rows: &[Row]) {
        let batch = to_batch(table, hostname, rows).expect("rows of their table build a batch");
        self.batches.entry(table.name).or_default().push(batch);
    }

    fn scan(&self, name: &str) -> DfResult<(&'static TableDef, LogicalPlanBuilder)> {
        let table = sonde_schema::table(name)
            .ok_or_else(|| DataFusionError::Plan(format!("no table {name}")))?;
        let batches = self.batches.get(table.name).cloned().unwrap_or_default();
        let provider = MemTable::try_new(table.schema(), vec![batches])?;
        let scan = LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(provider)), None)?;
        Ok((table, scan))
    }

    /// Runs `text` at `now` and prints its answer.
    pub async fn answer(&self, text: &str, now: i64) -> String {
        match run(self, text, now).await {
            Ok(answer) => answer.render().expect("renders"),
            Err(error) => error.render(text),
        }
    }
}

fn time(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some("UTC".into()),
    ))
}

/// A table's change rows as change-log lines.
fn change_lines(table: &TableDef) -> Vec<Expr> {
    let text = |c: &str| coalesce(vec![cast(col(c), DataType::Utf8), lit("")]);
    let object = if table.keys.is_empty() {
        lit("")
    } else {
        concat_ws(lit(" "), table.keys.iter().map(|k| text(k.name)).collect())
    };
    let state = if table.values.iter().any(|v| v.name == CHANGE_STATE) {
        text(CHANGE_STATE)
    } else {
        lit("")
    };
    vec![
        col(TIMESTAMP),
        col(HOSTNAME),
        lit(table.name).alias(CHANGE_TABLE),
        object.alias(CHANGE_OBJECT),
        state.alias(CHANGE_STATE),
        col(CHANGE),
    ]
}

fn all_columns(table: &TableDef) -> Vec<Expr> {
    table
        .schema()
        .fields()
        .iter()
        .map(|f| col(f.name().as_str()))
        .collect()
}

#[async_trait]
impl Catalog for MemCatalog {
    fn tables(&self) -> &'static [&'static TableDef] {
        sonde_schema::ALL_TABLES
    }

    fn state_at(&self, name: &str, at: i64) -> DfResult<LogicalPlan> {
        let (table, scan) = self.scan(name)?;
        let newest_first = row_number()
            .partition_by(table.key_columns().map(col).collect())
            .order_by(vec![col(TIMESTAMP).sort(false, false)])
            .build()?
            .alias("rn");
        scan.filter(col(TIMESTAMP).lt_eq(time(at)))?
            .window(vec![newest_first])?
            .filter(col("rn").eq(lit(1u64)).and(col(ACTIVE)))?
            .project(all_columns(table))?
            .build()
    }

    fn changes(&self, name: &str, from: i64, to: i64) -> DfResult<LogicalPlan> {
        let (table, scan) = self.scan(name)?;
        let mut columns = all_columns(table);
        columns.push(
            when(col(ACTIVE), lit("Add"))
                .otherwise(lit("Del"))?
                .alias(CHANGE),
        );
        scan.filter(col(TIMESTAMP).between(time(from), time(to)))?
            .project(columns)?
            .build()
    }

    /// The tables' changes united and sorted, the object text standing for the keys: the engine's
    /// order wherever the keys are text without spaces.
    fn change_log(
        &self,
        tables: &[&'static TableDef],
        from: i64,
        to: i64,
    ) -> DfResult<LogicalPlan> {
        let mut union: Option<LogicalPlanBuilder> = None;
        for table in tables {
            let lines = LogicalPlanBuilder::from(self.changes(table.name, from, to)?)
                .project(change_lines(table))?
                .build()?;
            union = Some(match union {
                None => LogicalPlanBuilder::from(lines),
                Some(union) => union.union(lines)?,
            });
        }
        let union = union.ok_or_else(|| DataFusionError::Plan("no tables".into()))?;
        union
            .sort(
                [TIMESTAMP, HOSTNAME, CHANGE_TABLE, CHANGE_OBJECT, CHANGE]
                    .map(|c| col(c).sort(true, false))
                    .to_vec(),
            )?
            .build()
    }

    async fn execute(&self, plan: LogicalPlan) -> DfResult<Vec<RecordBatch>> {
        SessionContext::new()
            .execute_logical_plan(plan)
            .await?
            .collect()
            .await
    }
}
