//! The state of a table at one instant as a DataFusion table, planned as a merge of sorted inputs.
//!
//! Every input is already in key-then-time order (each event file and checkpoint is written so,
//! and the memtable rows are sorted here), so the newest row of every key comes out of a merge of
//! the inputs on their keys: `NewestPerKeyExec` over the scans, each file decoded in a task of its
//! own (`PrefetchExec`); no sort and no window. Filters that name only key columns keep or drop
//! whole keys, so they are applied before the merge and reach the Parquet scan, where row-group
//! and page statistics skip what they rule out; any other filter has to wait for the newest row
//! and stays above.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, project_schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::{DataSourceExec, MemorySourceConfig};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, col};
use datafusion::physical_expr::expressions::col as physical_col;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::execute_stream;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use object_store::path::Path;
use sonde_schema::{ACTIVE, TIMESTAMP, TableDef};

use crate::current::{Current, CurrentState};
use crate::newest::NewestPerKeyExec;
use crate::parquet_io;
use crate::paths::CheckpointPath;
use crate::prefetch::PrefetchExec;
use crate::provider::Shared;
use crate::timetravel::timestamp_literal;

/// `table` as of `at` (µs): every key's newest row with `timestamp <= at`, active rows only.
#[derive(Debug)]
pub(crate) struct StateTable {
    table: &'static TableDef,
    shared: Arc<Shared>,
    at: i64,
    /// Keep deleted keys' last rows too (for rebuilding the current state).
    with_deleted: bool,
}

/// What one state scan reads, taken under the catalog lock: the checkpoint with the event files
/// of its hour and after, and the memtable's batches up to `at`, not yet sorted. Every event they
/// hold is at or after the checkpoint's hour, which `checkpoint_for` makes sure of.
#[derive(Debug, Default)]
struct Inputs {
    files: Vec<(Path, u64)>,
    batches: Vec<RecordBatch>,
    checkpoint_start: Option<i64>,
}

impl StateTable {
    pub fn new(table: &'static TableDef, shared: Arc<Shared>, at: i64) -> Self {
        StateTable {
            table,
            shared,
            at,
            with_deleted: false,
        }
    }

    pub fn with_deleted(mut self) -> Self {
        self.with_deleted = true;
        self
    }

    fn inputs(&self) -> Inputs {
        let catalog = self.shared.catalog.read();
        let state = catalog.table(self.table);
        let checkpoint = state.checkpoint_for(self.at);
        let mut inputs = catalog.snapshot(self.table, checkpoint.map(|h| h.start()), Some(self.at));
        let mut files = Vec::with_capacity(inputs.files.len() + 1);
        if let Some(hour) = checkpoint {
            let size = state.checkpoints[&hour];
            files.push((CheckpointPath::new(self.table.name, hour).path(), size));
        }
        files.append(&mut inputs.files);
        Inputs {
            files,
            batches: inputs.batches,
            checkpoint_start: checkpoint.map(|h| h.start()),
        }
    }

    fn is_key_filter(&self, filter: &Expr) -> bool {
        let keys: BTreeSet<&str> = self.table.key_columns().collect();
        !filter.is_volatile()
            && filter
                .column_refs()
                .iter()
                .all(|c| keys.contains(c.name.as_str()))
    }

    /// Column indices to read: what was asked for, plus what the merge needs.
    fn read_columns(&self, projection: Option<&Vec<usize>>) -> Vec<usize> {
        let schema = self.table.schema();
        let Some(projection) = projection else {
            return (0..schema.fields().len()).collect();
        };
        let mut columns: BTreeSet<usize> = projection.iter().copied().collect();
        for name in self.table.sort_columns().into_iter().chain([ACTIVE]) {
            columns.insert(schema.index_of(name).expect("frame column"));
        }
        columns.into_iter().collect()
    }

    /// `timestamp <= at` and the key filters.
    fn row_filter(&self, key_filters: Vec<Expr>) -> Expr {
        let until_at = col(TIMESTAMP).lt_eq(timestamp_literal(self.at));
        conjunction(std::iter::once(until_at).chain(key_filters)).expect("one term at least")
    }
}

impl StateTable {
    /// Merges the inputs in key order and keeps every key's newest row.
    fn merge_plan(
        &self,
        state: &dyn Session,
        inputs: Inputs,
        projection: Option<&Vec<usize>>,
        key_filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = self.table.schema();
        let columns = self.read_columns(projection);
        let read_schema = Arc::new(schema.project(&columns)?);
        let output_schema = project_schema(&schema, projection)?;
        let row_filter = self.row_filter(key_filters);
        let pruning = physical_expr(state, &row_filter, &schema)?;
        let Some(union) = key_ordered_scan(
            &self.shared,
            self.table,
            inputs.files,
            &inputs.batches,
            &columns,
            pruning,
        )?
        else {
            return Ok(Arc::new(EmptyExec::new(output_schema)));
        };
        let mut filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(
            physical_expr(state, &row_filter, &read_schema)?,
            union,
        )?);
        if filtered.output_partitioning().partition_count() > 1 {
            filtered = Arc::new(PrefetchExec::new(filtered));
        }
        let order = sort_order(self.table, &read_schema)?;
        let keys = self
            .table
            .key_columns()
            .map(|k| read_schema.index_of(k))
            .collect::<Result<Vec<_>, _>>()?;
        let active = (!self.with_deleted)
            .then(|| read_schema.index_of(ACTIVE))
            .transpose()?;
        let time = read_schema.index_of(TIMESTAMP)?;
        let newest = Arc::new(NewestPerKeyExec::new(filtered, keys, time, active, order));
        project(newest, &output_schema)
    }

    /// The current state's rows, filtered by key and projected.
    fn current_plan(
        &self,
        state: &dyn Session,
        rows: RecordBatch,
        projection: Option<&Vec<usize>>,
        key_filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = self.table.schema();
        // In key order, but not declared so: see `NewestPerKeyExec::new`.
        let source = MemorySourceConfig::try_new(&[vec![rows]], Arc::clone(&schema), None)?;
        let mut plan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(source);
        if let Some(filter) = conjunction(key_filters) {
            plan = Arc::new(FilterExec::try_new(
                physical_expr(state, &filter, &schema)?,
                plan,
            )?);
        }
        project(plan, &project_schema(&schema, projection)?)
    }
}

/// `expr` over a batch of `schema`.
pub(crate) fn physical_expr(
    state: &dyn Session,
    expr: &Expr,
    schema: &SchemaRef,
) -> DfResult<Arc<dyn PhysicalExpr>> {
    let df_schema = DFSchema::try_from(Arc::clone(schema))?;
    state.create_physical_expr(expr.clone(), &df_schema)
}

/// The files (one partition each) and the memtable's rows (sorted, one partition) of `table`,
/// each partition in key-then-time order, `columns` read; `predicate` prunes row groups and
/// pages. `None` when there is nothing to read.
pub(crate) fn key_ordered_scan(
    shared: &Shared,
    table: &'static TableDef,
    files: Vec<(Path, u64)>,
    batches: &[RecordBatch],
    columns: &[usize],
    predicate: Arc<dyn PhysicalExpr>,
) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    let mut scans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
    if !files.is_empty() {
        scans.push(file_scan(shared, table, files, columns, predicate)?);
    }
    let batches: Vec<RecordBatch> = batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .cloned()
        .collect();
    if !batches.is_empty() {
        scans.push(memory_scan(table, &batches, columns)?);
    }
    Ok(match scans.len() {
        0 => None,
        1 => scans.pop(),
        _ => Some(UnionExec::try_new(scans)?),
    })
}

/// The order every stored file of `table` is in: its key columns, then time.
pub(crate) fn sort_order(table: &TableDef, schema: &SchemaRef) -> DfResult<LexOrdering> {
    let exprs = table
        .sort_columns()
        .into_iter()
        .map(|name| {
            Ok(PhysicalSortExpr::new(
                physical_col(name, schema)?,
                SortOptions::default(),
            ))
        })
        .collect::<DfResult<Vec<_>>>()?;
    Ok(LexOrdering::new(exprs).expect("a table has sort columns"))
}

/// One partition per file, each in key order.
fn file_scan(
    shared: &Shared,
    table: &TableDef,
    files: Vec<(Path, u64)>,
    columns: &[usize],
    predicate: Arc<dyn PhysicalExpr>,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let schema = table.schema();
    let source = ParquetSource::new(Arc::clone(&schema)).with_predicate(predicate);
    let groups = files
        .into_iter()
        .map(|(path, size)| FileGroup::new(vec![PartitionedFile::new(path.to_string(), size)]))
        .collect();
    let config = FileScanConfigBuilder::new(shared.store_url.clone(), Arc::new(source))
        .with_file_groups(groups)
        .with_projection_indices(Some(columns.to_vec()))?
        .with_output_ordering(vec![sort_order(table, &schema)?])
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// The memtable's rows as one sorted partition.
fn memory_scan(
    table: &TableDef,
    batches: &[RecordBatch],
    columns: &[usize],
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let schema = table.schema();
    let sorted = parquet_io::sorted(table, batches).map_err(crate::timetravel::into_df)?;
    let source =
        MemorySourceConfig::try_new(&[vec![sorted]], Arc::clone(&schema), Some(columns.to_vec()))?
            .try_with_sort_information(vec![sort_order(table, &schema)?])?;
    Ok(DataSourceExec::from_data_source(source))
}

/// `plan`'s columns named by `schema`, in its order; `plan` itself when they already are.
fn project(plan: Arc<dyn ExecutionPlan>, schema: &SchemaRef) -> DfResult<Arc<dyn ExecutionPlan>> {
    if plan.schema().fields() == schema.fields() {
        return Ok(plan);
    }
    let input = plan.schema();
    let exprs = schema
        .fields()
        .iter()
        .map(|f| Ok((physical_col(f.name(), &input)?, f.name().clone())))
        .collect::<DfResult<Vec<_>>>()?;
    Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
}

#[async_trait]
impl TableProvider for StateTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if self.is_key_filter(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let key_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| self.is_key_filter(f))
            .cloned()
            .collect();
        if !self.with_deleted {
            let build = is_present(self.at);
            if let Some(rows) =
                current_rows(self.table, &self.shared, state, self.at, build).await?
            {
                return self.current_plan(state, rows, projection, key_filters);
            }
        }
        self.merge_plan(state, self.inputs(), projection, key_filters)
    }
}

/// A time a question about the present asks for: now, give or take the time a query takes to
/// reach the engine (NetQL reads the clock when it parses). Only such a question builds the
/// current state; once built, it answers for any time no row is newer than.
fn is_present(at: i64) -> bool {
    at >= sonde_schema::row::now_us() - PRESENT_SLACK_US
}

const PRESENT_SLACK_US: i64 = 60_000_000;

/// The active rows of `table`'s current state when nothing in it is newer than `at`, building the
/// state first if it is not kept yet and `build` allows. `None` when it is not kept (too large,
/// being built by another query, or not built) or is newer than `at`.
pub(crate) async fn current_rows(
    table: &'static TableDef,
    shared: &Arc<Shared>,
    session: &dyn Session,
    at: i64,
    build: bool,
) -> DfResult<Option<RecordBatch>> {
    {
        let mut catalog = shared.catalog.write();
        let current = &mut catalog.table_mut(table).current;
        match current {
            Current::Ready(_) => return Ok(current.answer(at)),
            Current::Building { .. } | Current::TooLarge => return Ok(None),
            Current::Absent if !build => return Ok(None),
            Current::Absent => {
                *current = Current::Building {
                    pending: Vec::new(),
                }
            }
        }
    }
    let building = BuildingGuard { table, shared };
    let built = build_current(table, shared, session).await;
    building.finished();
    let mut catalog = shared.catalog.write();
    let max_bytes = catalog.current_max_bytes;
    let current = &mut catalog.table_mut(table).current;
    let Current::Building { pending } = std::mem::take(current) else {
        return Ok(None);
    };
    let mut state = match built {
        Ok(Some(state)) => state,
        Ok(None) => {
            *current = Current::TooLarge;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if pending.iter().any(|batch| state.apply(batch).is_err()) {
        return Ok(None);
    }
    if state.bytes() > max_bytes {
        *current = Current::TooLarge;
        return Ok(None);
    }
    *current = Current::Ready(Box::new(state));
    Ok(current.answer(at))
}

/// Puts a build that was dropped half-way (its query cancelled) back to `Absent`, so the durable
/// batches stop piling up for it and the next question about the present builds again.
struct BuildingGuard<'a> {
    table: &'static TableDef,
    shared: &'a Arc<Shared>,
}

impl BuildingGuard<'_> {
    /// The build ran to its end: what it found is put in place by the caller.
    fn finished(self) {
        std::mem::forget(self);
    }
}

impl Drop for BuildingGuard<'_> {
    fn drop(&mut self) {
        let mut catalog = self.shared.catalog.write();
        let current = &mut catalog.table_mut(self.table).current;
        if matches!(current, Current::Building { .. }) {
            *current = Current::Absent;
        }
    }
}

/// Every key's newest row, deleted keys included, from the newest checkpoint, the events after
/// it and the memtable; `None` once it outgrows the bound.
async fn build_current(
    table: &'static TableDef,
    shared: &Arc<Shared>,
    session: &dyn Session,
) -> DfResult<Option<CurrentState>> {
    let max_bytes = shared.catalog.read().current_max_bytes;
    let provider = StateTable::new(table, Arc::clone(shared), i64::MAX).with_deleted();
    let inputs = provider.inputs();
    let complete_from = inputs.checkpoint_start.unwrap_or(i64::MIN);
    let plan = provider.merge_plan(session, inputs, None, Vec::new())?;
    let mut rows = execute_stream(plan, session.task_ctx())?;
    let mut state = CurrentState::new(table, i64::MIN)?;
    while let Some(batch) = rows.next().await {
        state
            .apply(&batch?)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        if state.bytes() > max_bytes {
            return Ok(None);
        }
    }
    state.set_complete_from(complete_from);
    Ok(Some(state))
}
