//! The DataFusion table of one event log: its Parquet files (pruned by hour from time filters)
//! united with its memtable.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue, project_schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::{DataSourceExec, MemorySourceConfig};
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use object_store::path::Path;
use parking_lot::RwLock;
use sonde_schema::{TIMESTAMP, TableDef};

use crate::catalog::{Catalog, ScanSnapshot};

/// What providers share with the engine.
#[derive(Debug)]
pub(crate) struct Shared {
    pub catalog: RwLock<Catalog>,
    pub store_url: ObjectStoreUrl,
}

#[derive(Debug)]
pub(crate) struct EventTable {
    table: &'static TableDef,
    shared: Arc<Shared>,
}

impl EventTable {
    pub fn new(table: &'static TableDef, shared: Arc<Shared>) -> Self {
        EventTable { table, shared }
    }

    fn snapshot(&self, filters: &[Expr]) -> ScanSnapshot {
        let (lo, hi) = time_bounds(filters);
        self.shared.catalog.read().snapshot(self.table, lo, hi)
    }

    fn parquet_scan(
        &self,
        state: &dyn Session,
        files: Vec<(Path, u64)>,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = self.table.schema();
        let mut source = ParquetSource::new(Arc::clone(&schema));
        if let Some(predicate) = conjunction(filters.to_vec()) {
            let df_schema = DFSchema::try_from(Arc::clone(&schema))?;
            source = source.with_predicate(state.create_physical_expr(predicate, &df_schema)?);
        }
        let partitions = state.config().target_partitions().max(1);
        let config = FileScanConfigBuilder::new(self.shared.store_url.clone(), Arc::new(source))
            .with_file_groups(file_groups(files, partitions))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }

    fn memory_scan(
        &self,
        state: &dyn Session,
        batches: Vec<RecordBatch>,
        projection: Option<&Vec<usize>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let partitions = state.config().target_partitions().max(1);
        let mut groups: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions.min(batches.len())];
        for (i, batch) in batches.into_iter().enumerate() {
            let n = groups.len();
            groups[i % n].push(batch);
        }
        Ok(MemorySourceConfig::try_new_exec(
            &groups,
            self.table.schema(),
            projection.cloned(),
        )?)
    }
}

/// Spreads files over `partitions` groups, largest first, so groups carry similar bytes.
fn file_groups(mut files: Vec<(Path, u64)>, partitions: usize) -> Vec<FileGroup> {
    files.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> =
        vec![(0, Vec::new()); partitions.min(files.len())];
    for (path, size) in files {
        let smallest = groups
            .iter_mut()
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one group");
        smallest.0 += size;
        smallest
            .1
            .push(PartitionedFile::new(path.to_string(), size));
    }
    groups
        .into_iter()
        .map(|(_, files)| FileGroup::new(files))
        .collect()
}

#[async_trait]
impl TableProvider for EventTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let ScanSnapshot { files, batches } = self.snapshot(filters);
        let mut inputs = Vec::new();
        if !files.is_empty() {
            inputs.push(self.parquet_scan(state, files, projection, filters, limit)?);
        }
        if !batches.is_empty() {
            inputs.push(self.memory_scan(state, batches, projection)?);
        }
        if inputs.is_empty() {
            let schema = project_schema(&self.table.schema(), projection)?;
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        UnionExec::try_new(inputs)
    }
}

/// The `[lo, hi]` range of `timestamp` (µs, inclusive) that the filters allow.
pub(crate) fn time_bounds(filters: &[Expr]) -> (Option<i64>, Option<i64>) {
    let mut bounds = (None, None);
    for filter in filters {
        narrow(filter, &mut bounds);
    }
    bounds
}

fn narrow(expr: &Expr, bounds: &mut (Option<i64>, Option<i64>)) {
    let lower =
        |b: &mut (Option<i64>, Option<i64>), v: i64| b.0 = Some(b.0.map_or(v, |c: i64| c.max(v)));
    let upper =
        |b: &mut (Option<i64>, Option<i64>), v: i64| b.1 = Some(b.1.map_or(v, |c: i64| c.min(v)));
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            narrow(left, bounds);
            narrow(right, bounds);
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, value) = match (
                timestamp_column(left),
                micros(right),
                timestamp_column(right),
                micros(left),
            ) {
                (true, Some(v), _, _) => (*op, v),
                (_, _, true, Some(v)) => match op.swap() {
                    Some(op) => (op, v),
                    None => return,
                },
                _ => return,
            };
            match op {
                Operator::Gt | Operator::GtEq => lower(bounds, value),
                Operator::Lt | Operator::LtEq => upper(bounds, value),
                Operator::Eq => {
                    lower(bounds, value);
                    upper(bounds, value);
                }
                _ => {}
            }
        }
        Expr::Between(between) if !between.negated && timestamp_column(&between.expr) => {
            if let Some(v) = micros(&between.low) {
                lower(bounds, v);
            }
            if let Some(v) = micros(&between.high) {
                upper(bounds, v);
            }
        }
        _ => {}
    }
}

fn timestamp_column(expr: &Expr) -> bool {
    match expr {
        Expr::Column(c) => c.name == TIMESTAMP,
        Expr::Cast(cast) => timestamp_column(&cast.expr),
        _ => false,
    }
}

/// A literal instant as µs since the epoch (flooring nanoseconds keeps the bounds conservative).
fn micros(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000)),
        _ => None,
    }
}
