//! The engine as NetQL's catalog: its tables and its two time-travel primitives.

use arrow::array::RecordBatch;
use async_trait::async_trait;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::LogicalPlan;
use sonde_schema::TableDef;

use crate::engine::Engine;
use crate::error::EngineError;

fn to_datafusion(error: EngineError) -> DataFusionError {
    match error {
        EngineError::Query(error) => error,
        other => DataFusionError::External(Box::new(other)),
    }
}

#[async_trait]
impl netql::Catalog for Engine {
    fn tables(&self) -> &'static [&'static TableDef] {
        Engine::tables(self)
    }

    fn state_at(&self, table: &str, at: i64) -> DfResult<LogicalPlan> {
        Engine::state_at(self, table, at).map_err(to_datafusion)
    }

    fn changes(&self, table: &str, from: i64, to: i64) -> DfResult<LogicalPlan> {
        self.changes_between(table, from, to).map_err(to_datafusion)
    }

    async fn execute(&self, plan: LogicalPlan) -> DfResult<Vec<RecordBatch>> {
        self.collect(plan).await.map_err(to_datafusion)
    }
}
