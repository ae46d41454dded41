//! What the engine and its maintenance jobs share: the object store, the catalog behind its lock
//! (through [`Shared`], which the table providers hold too), and the DataFusion session in which
//! every table and the time-travel table functions are registered.
//!
//! The engine owns one `State` and lends it to maintenance, so maintenance never needs the engine.

use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};
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
        let plan = self.physical_plan(plan).await?;
        Ok(datafusion::physical_plan::collect(plan, self.ctx.task_ctx()).await?)
    }

    /// Plans `plan` to run, its rows in one ordered stream when it asks for an order.
    pub async fn physical_plan(&self, plan: LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        let ordered = asks_for_order(&plan);
        let physical = self
            .ctx
            .execute_logical_plan(plan)
            .await?
            .create_physical_plan()
            .await?;
        if !ordered {
            return Ok(physical);
        }
        let physical = unspread_above_sort(physical)?;
        Ok(match physical.output_ordering() {
            Some(ordering) if physical.output_partitioning().partition_count() > 1 => {
                Arc::new(SortPreservingMergeExec::new(ordering.clone(), physical))
            }
            _ => physical,
        })
    }
}

/// `plan` without the round-robin repartitions DataFusion 55 puts between a final sort and the
/// operators above it: they spread the sorted rows over several partitions, each still in order,
/// and reading those partitions together interleaves them.
fn unspread_above_sort(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(repartition) = plan.downcast_ref::<RepartitionExec>()
        && matches!(repartition.partitioning(), Partitioning::RoundRobinBatch(_))
        && repartition.input().output_partitioning().partition_count() == 1
    {
        return unspread_above_sort(Arc::clone(repartition.input()));
    }
    if plan.downcast_ref::<SortExec>().is_some()
        || plan.downcast_ref::<SortPreservingMergeExec>().is_some()
    {
        return Ok(plan);
    }
    let [child] = plan.children()[..] else {
        return Ok(plan);
    };
    if !plan.maintains_input_order()[0] {
        return Ok(plan);
    }
    let unspread = unspread_above_sort(Arc::clone(child))?;
    Ok(replace_children_if_necessary(plan, vec![unspread])?)
}

/// Whether the rows `plan` answers are sorted: a sort under nothing but projections, filters and
/// limits.
fn asks_for_order(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Sort(_) => true,
        LogicalPlan::Projection(p) => asks_for_order(&p.input),
        LogicalPlan::Filter(f) => asks_for_order(&f.input),
        LogicalPlan::Limit(l) => asks_for_order(&l.input),
        LogicalPlan::SubqueryAlias(a) => asks_for_order(&a.input),
        _ => false,
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
