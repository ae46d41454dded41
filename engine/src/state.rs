//! What the engine and its maintenance jobs share: the object store, the catalog behind its lock
//! (through [`Shared`], which the table providers hold too), and the DataFusion session in which
//! every table and the time-travel table functions are registered.
//!
//! The engine owns one `State` and lends it to maintenance, so maintenance never needs the engine.

use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use parking_lot::RwLock;
use sonde_schema::ALL_TABLES;

use crate::catalog::Catalog;
use crate::error::{EngineError, Result};
use crate::provider::{EventTable, Shared};
use crate::store::Store;
use crate::timetravel::{ChangesFunction, StateAtFunction};

/// The URL under which the session finds the store.
const STORE_URL: &str = "sonde://store/";

/// The store, its catalog and the session over them.
pub(crate) struct State {
    pub store: Store,
    pub shared: Arc<Shared>,
    pub ctx: SessionContext,
}

impl State {
    /// Puts the catalog behind its lock and registers every table over it.
    pub fn new(store: Store, catalog: Catalog) -> Result<State> {
        let shared = Arc::new(Shared {
            catalog: RwLock::new(catalog),
            store_url: ObjectStoreUrl::parse(STORE_URL)?,
        });
        let ctx = session(&store, &shared)?;
        Ok(State { store, shared, ctx })
    }

    /// Runs a plan and collects its batches.
    pub async fn collect(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        Ok(self.ctx.execute_logical_plan(plan).await?.collect().await?)
    }
}

fn session(store: &Store, shared: &Arc<Shared>) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema("sonde", "public");
    let ctx = SessionContext::new_with_config(config);
    let url = url::Url::parse(STORE_URL).map_err(|e| EngineError::Wal(e.to_string()))?;
    ctx.register_object_store(&url, store.object_store());
    for table in ALL_TABLES {
        ctx.register_table(
            table.name,
            Arc::new(EventTable::new(table, Arc::clone(shared))),
        )?;
    }
    ctx.register_udtf("state_at", Arc::new(StateAtFunction(Arc::clone(shared))));
    ctx.register_udtf("changes", Arc::new(ChangesFunction(Arc::clone(shared))));
    Ok(ctx)
}
