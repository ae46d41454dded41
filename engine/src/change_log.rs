//! The change log of several tables as one DataFusion table: every row of theirs in a window, one
//! line per change ([`sonde_schema::change_log_schema`]), oldest first, without a sort.
//!
//! Each file (and the memtable) is read as a partition of its own, in the key-then-time order it
//! was written in. [`ChangeLogExec`] orders each partition by time with integer keys alone (the
//! file order already ranks the keys) and merges the partitions whose times overlap; partitions of
//! different hours never do, so the hours are merged side by side. Filters on the hostname reach
//! the scans and prune row groups; every other filter is applied to the merged rows, which keeps
//! their order.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, col};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use sonde_schema::{ACTIVE, HOSTNAME, TIMESTAMP, TableDef, change_log_schema};

use crate::change_merge::{ChangeInput, ChangeLogExec, RunColumns};
use crate::provider::Shared;
use crate::state_table::{key_ordered_scan, physical_expr, sort_order};
use crate::timetravel::timestamp_literal;

/// `tables`' changes with `from <= timestamp <= to` (µs).
#[derive(Debug)]
pub(crate) struct ChangeLogTable {
    tables: Vec<&'static TableDef>,
    shared: Arc<Shared>,
    from: i64,
    to: i64,
}

impl ChangeLogTable {
    pub fn new(tables: Vec<&'static TableDef>, shared: Arc<Shared>, from: i64, to: i64) -> Self {
        ChangeLogTable {
            tables,
            shared,
            from,
            to,
        }
    }

    /// One table's rows in the window, each file a partition in key order; `None` if it has none.
    fn input(
        &self,
        state: &dyn Session,
        table: &'static TableDef,
        host_filters: &[Expr],
    ) -> DfResult<Option<ChangeInput>> {
        let snapshot = self
            .shared
            .catalog
            .read()
            .snapshot(table, Some(self.from), Some(self.to));
        let schema = table.schema();
        let columns = read_columns(table);
        let read_schema = Arc::new(schema.project(&columns)?);
        let window = col(TIMESTAMP)
            .gt_eq(timestamp_literal(self.from))
            .and(col(TIMESTAMP).lt_eq(timestamp_literal(self.to)));
        let row_filter = conjunction(std::iter::once(window).chain(host_filters.iter().cloned()))
            .expect("one term at least");
        let pruning = physical_expr(state, &row_filter, &schema)?;
        let Some(scan) = key_ordered_scan(
            &self.shared,
            table,
            snapshot.files,
            &snapshot.batches,
            &columns,
            pruning,
        )?
        else {
            return Ok(None);
        };
        let filtered = FilterExec::try_new(physical_expr(state, &row_filter, &read_schema)?, scan)?;
        let index = |name: &str| read_schema.index_of(name);
        let columns = RunColumns {
            table: table.name,
            time: index(TIMESTAMP)?,
            hostname: index(HOSTNAME)?,
            keys: table
                .keys
                .iter()
                .map(|k| index(k.name))
                .collect::<Result<_, _>>()?,
            state: has_state(table).then(|| index(STATE)).transpose()?,
            active: index(ACTIVE)?,
            ordering: sort_order(table, &read_schema)?,
        };
        Ok(Some(ChangeInput {
            plan: Arc::new(filtered),
            columns,
        }))
    }
}

/// The value column a change shows as the object's state.
const STATE: &str = "state";

fn has_state(table: &TableDef) -> bool {
    table.values.iter().any(|v| v.name == STATE)
}

/// What a change line needs of a table: time, hostname, keys, state and `active`.
fn read_columns(table: &TableDef) -> Vec<usize> {
    let schema = table.schema();
    let mut names: Vec<&str> = table.sort_columns();
    if has_state(table) {
        names.push(STATE);
    }
    names.push(ACTIVE);
    let mut columns: Vec<usize> = names
        .iter()
        .map(|n| schema.index_of(n).expect("frame column"))
        .collect();
    columns.sort_unstable();
    columns
}

/// A filter that names the hostname alone, which every table has: it can prune the scans.
fn is_host_filter(filter: &Expr) -> bool {
    let columns = filter.column_refs();
    !columns.is_empty() && columns.iter().all(|c| c.name == HOSTNAME)
}

/// `filter` with its columns unqualified, to be planned against a table's own schema.
fn unqualified(filter: &Expr) -> DfResult<Expr> {
    Ok(filter
        .clone()
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
                c.name,
            )))),
            other => Ok(Transformed::no(other)),
        })?
        .data)
}

#[async_trait]
impl TableProvider for ChangeLogTable {
    fn schema(&self) -> arrow::datatypes::SchemaRef {
        change_log_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Every filter is applied here, so none is left to a `FilterExec` above, which DataFusion
        // would spread over several partitions and so lose the order.
        Ok(filters
            .iter()
            .map(|f| {
                if f.is_volatile() {
                    TableProviderFilterPushDown::Unsupported
                } else {
                    TableProviderFilterPushDown::Exact
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
        let filters = filters
            .iter()
            .map(unqualified)
            .collect::<DfResult<Vec<_>>>()?;
        let (host_filters, others): (Vec<Expr>, Vec<Expr>) =
            filters.into_iter().partition(is_host_filter);
        let mut inputs = Vec::new();
        for table in &self.tables {
            inputs.extend(self.input(state, table, &host_filters)?);
        }
        let log_schema = DFSchema::try_from(change_log_schema())?;
        let filter = conjunction(others)
            .map(|f| state.create_physical_expr(f, &log_schema))
            .transpose()?;
        Ok(Arc::new(ChangeLogExec::try_new(
            inputs,
            filter,
            projection.cloned(),
        )?))
    }
}
