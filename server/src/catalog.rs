//! The engine as NetQL's catalog: its tables and its two time-travel primitives.

use arrow::array::RecordBatch;
use async_trait::async_trait;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::LogicalPlan;
use sonde_schema::TableDef;

use sonde_engine::{Engine, EngineError};

fn to_datafusion(error: EngineError) -> DataFusionError {
    match error {
        EngineError::Query(error) => error,
        other => DataFusionError::External(Box::new(other)),
    }
}

/// An engine seen through NetQL's [`netql::Catalog`]: the language never sees the store itself.
#[derive(Debug, Clone)]
pub struct EngineCatalog {
    engine: Engine,
}

impl EngineCatalog {
    pub fn new(engine: Engine) -> Self {
        EngineCatalog { engine }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[async_trait]
impl netql::Catalog for EngineCatalog {
    fn tables(&self) -> &'static [&'static TableDef] {
        self.engine.tables()
    }

    fn state_at(&self, table: &str, at: i64) -> DfResult<LogicalPlan> {
        self.engine.state_at(table, at).map_err(to_datafusion)
    }

    fn changes(&self, table: &str, from: i64, to: i64) -> DfResult<LogicalPlan> {
        self.engine
            .changes_between(table, from, to)
            .map_err(to_datafusion)
    }

    fn change_log(
        &self,
        tables: &[&'static TableDef],
        from: i64,
        to: i64,
    ) -> DfResult<LogicalPlan> {
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        self.engine
            .change_log(&names, from, to)
            .map_err(to_datafusion)
    }

    async fn execute(&self, plan: LogicalPlan) -> DfResult<Vec<RecordBatch>> {
        self.engine.collect(plan).await.map_err(to_datafusion)
    }
}
