//! `ChangeLogExec`: the change lines of several tables in the change log's order — time,
//! hostname, table, the table's keys, `Add` before `Del` — from inputs whose partitions are each
//! in key-then-time order (one file, or the sorted memtable).
//!
//! A partition becomes a run: its rows are put in time order by a sort of packed integers (time,
//! the rank of the row's key in the file's own order, Add/Del), with no string compared, and its
//! change lines are built. Runs whose time spans overlap form a group; groups are disjoint in time
//! (an hour's files never overlap another hour's), so each is merged in a task of its own and the
//! groups are emitted one after another. Within a group the runs are merged with a small heap,
//! copying out stretches of one run at a time.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayData, ArrayRef, AsArray, BooleanArray, DynComparator, MutableArrayData,
    RecordBatch, StringArray, StringBuilder, UInt32Array, make_array, make_comparator,
};
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::compute::{SortOptions, cast, concat_batches, filter_record_batch, partition, take};
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::{EquivalenceProperties, LexOrdering, OrderingRequirements};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use sonde_schema::change_log_schema;

use crate::radix;

/// Where a table's input holds what a change line needs.
#[derive(Debug, Clone)]
pub(crate) struct RunColumns {
    pub table: &'static str,
    pub time: usize,
    pub hostname: usize,
    /// The key columns after the hostname.
    pub keys: Vec<usize>,
    pub state: Option<usize>,
    pub active: usize,
    /// What each partition of the input is sorted by: hostname, keys, time.
    pub ordering: LexOrdering,
}

/// One table's rows of the window.
#[derive(Debug)]
pub(crate) struct ChangeInput {
    pub plan: Arc<dyn ExecutionPlan>,
    pub columns: RunColumns,
}

#[derive(Debug)]
pub(crate) struct ChangeLogExec {
    inputs: Vec<ChangeInput>,
    /// Applied to the change lines, after the merge.
    filter: Option<Arc<dyn PhysicalExpr>>,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl ChangeLogExec {
    pub fn try_new(
        inputs: Vec<ChangeInput>,
        filter: Option<Arc<dyn PhysicalExpr>>,
        projection: Option<Vec<usize>>,
    ) -> DfResult<Self> {
        let schema = match &projection {
            Some(p) => Arc::new(change_log_schema().project(p)?),
            None => change_log_schema(),
        };
        // The order is not declared: it ranks keys by each table's own columns, which no sort
        // expression over these columns states (see also `NewestPerKeyExec::new`).
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            datafusion::physical_plan::execution_plan::EmissionType::Incremental,
            datafusion::physical_plan::execution_plan::Boundedness::Bounded,
        ));
        Ok(ChangeLogExec {
            inputs,
            filter,
            projection,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for ChangeLogExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let tables: Vec<&str> = self.inputs.iter().map(|i| i.columns.table).collect();
        write!(f, "ChangeLogExec: tables=[{}]", tables.join(", "))?;
        if let Some(filter) = &self.filter {
            write!(f, ", filter={filter}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ChangeLogExec {
    fn name(&self) -> &str {
        "ChangeLogExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().map(|i| &i.plan).collect()
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::UnspecifiedDistribution; self.inputs.len()]
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        self.inputs
            .iter()
            .map(|i| Some(OrderingRequirements::from(i.columns.ordering.clone())))
            .collect()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false; self.inputs.len()]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.inputs.len()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        match &self.filter {
            Some(filter) => f(filter),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let inputs = children
            .into_iter()
            .zip(&self.inputs)
            .map(|(plan, input)| ChangeInput {
                plan,
                columns: input.columns.clone(),
            })
            .collect();
        Ok(Arc::new(ChangeLogExec::try_new(
            inputs,
            self.filter.clone(),
            self.projection.clone(),
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(
                "ChangeLogExec has one output partition".into(),
            ));
        }
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let compute = metrics.elapsed_compute().clone();
        let whole_files = whole_file_batches(&context);
        let mut building = Vec::new();
        for input in &self.inputs {
            for p in 0..input.plan.output_partitioning().partition_count() {
                let rows = input.plan.execute(p, Arc::clone(&whole_files))?;
                let columns = input.columns.clone();
                let compute = compute.clone();
                building.push(SpawnedTask::spawn(async move {
                    let batches = rows.try_collect::<Vec<_>>().await?;
                    let _timer = compute.timer();
                    Run::build(&columns, &batches)
                }));
            }
        }
        let finish = Finish {
            filter: self.filter.clone(),
            projection: self.projection.clone(),
            batch_size: context.session_config().batch_size(),
        };
        let merged = async move {
            let mut runs = Vec::with_capacity(building.len());
            for task in building {
                runs.extend(joined(task).await??);
            }
            let merging: Vec<_> = time_groups(runs)
                .into_iter()
                .map(|group| {
                    let finish = finish.clone();
                    let compute = compute.clone();
                    SpawnedTask::spawn(async move {
                        let _timer = compute.timer();
                        finish.apply(merge_group(group, finish.batch_size)?)
                    })
                })
                .collect();
            Ok::<_, DataFusionError>(
                futures::stream::iter(merging)
                    .then(|task| async move { joined(task).await? })
                    .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
                    .try_flatten(),
            )
        };
        let schema = Arc::clone(self.properties.eq_properties.schema());
        let counted = futures::stream::once(merged)
            .try_flatten()
            .inspect_ok(move |batch| metrics.record_output(batch.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, counted)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Rows per batch the inputs are read in: an hour's file usually comes whole, so a run is
/// neither split by the scan nor concatenated again from the pieces.
const INPUT_BATCH_ROWS: usize = 1 << 18;

/// `context` with batches of [`INPUT_BATCH_ROWS`] for the inputs.
fn whole_file_batches(context: &TaskContext) -> Arc<TaskContext> {
    let config = context
        .session_config()
        .clone()
        .with_batch_size(INPUT_BATCH_ROWS);
    Arc::new(TaskContext::new(
        context.task_id(),
        context.session_id(),
        config,
        context.scalar_functions().clone(),
        context.higher_order_functions().clone(),
        context.aggregate_functions().clone(),
        context.window_functions().clone(),
        context.runtime_env(),
    ))
}

async fn joined<T: Send + 'static>(task: SpawnedTask<T>) -> DfResult<T> {
    task.join_unwind()
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// What is done to merged change lines: the filter, the projection, and batches of the session's
/// size.
#[derive(Debug, Clone)]
struct Finish {
    filter: Option<Arc<dyn PhysicalExpr>>,
    projection: Option<Vec<usize>>,
    batch_size: usize,
}

impl Finish {
    fn apply(&self, batches: Vec<RecordBatch>) -> DfResult<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(batches.len());
        for batch in batches {
            let batch = match &self.filter {
                Some(filter) => {
                    let keep = filter.evaluate(&batch)?.into_array(batch.num_rows())?;
                    filter_record_batch(&batch, keep.as_boolean())?
                }
                None => batch,
            };
            if batch.num_rows() == 0 {
                continue;
            }
            out.push(match &self.projection {
                Some(p) => batch.project(p)?,
                None => batch,
            });
        }
        Ok(out)
    }
}

/// One partition's change lines in the change log's order.
struct Run {
    table: &'static str,
    /// The change lines ([`change_log_schema`]).
    lines: RecordBatch,
    time: ScalarBuffer<i64>,
    hostname: StringArray,
    keys: Vec<ArrayRef>,
    active: BooleanArray,
}

impl Run {
    fn build(columns: &RunColumns, batches: &[RecordBatch]) -> DfResult<Option<Run>> {
        let Some(first) = batches.first() else {
            return Ok(None);
        };
        let batch = concat_batches(&first.schema(), batches)?;
        if batch.num_rows() == 0 {
            return Ok(None);
        }
        let time = batch
            .column(columns.time)
            .as_primitive::<TimestampMicrosecondType>();
        let active = batch.column(columns.active).as_boolean();
        let mut ranked = vec![Arc::clone(batch.column(columns.hostname))];
        ranked.extend(columns.keys.iter().map(|k| Arc::clone(batch.column(*k))));
        let order = time_order(time.values(), &ranked, active)?;
        let sorted = |column: usize| -> DfResult<ArrayRef> {
            Ok(match &order {
                Some(order) => take(batch.column(column), order, None)?,
                None => Arc::clone(batch.column(column)),
            })
        };
        let time_column = sorted(columns.time)?;
        let hostname = sorted(columns.hostname)?;
        let keys = columns
            .keys
            .iter()
            .map(|k| sorted(*k))
            .collect::<DfResult<Vec<_>>>()?;
        let active = sorted(columns.active)?.as_boolean().clone();
        let state = columns.state.map(sorted).transpose()?;
        let rows = batch.num_rows();
        let lines = RecordBatch::try_new(
            change_log_schema(),
            vec![
                Arc::clone(&time_column),
                Arc::clone(&hostname),
                Arc::new(repeated(columns.table, rows)?),
                Arc::new(object_text(&keys, rows)?),
                Arc::new(state_text(state.as_ref(), rows)?),
                Arc::new(change_text(&active)?),
            ],
        )?;
        let time = time_column
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .clone();
        Ok(Some(Run {
            table: columns.table,
            lines,
            time,
            hostname: hostname.as_string::<i32>().clone(),
            keys,
            active,
        }))
    }

    fn len(&self) -> usize {
        self.lines.num_rows()
    }

    fn first(&self) -> i64 {
        self.time[0]
    }

    fn last(&self) -> i64 {
        self.time[self.len() - 1]
    }
}

/// The permutation that puts a partition in time order, `None` if it already is. Rows of equal
/// time keep the file's order of their keys, (hostname, keys), ranked by the runs of equal keys
/// the file holds; Add comes before Del, then the file's position.
fn time_order(
    time: &[i64],
    ranked: &[ArrayRef],
    active: &BooleanArray,
) -> DfResult<Option<UInt32Array>> {
    let (Some(&earliest), Some(&latest)) = (time.iter().min(), time.iter().max()) else {
        return Ok(None);
    };
    let groups = partition(ranked)?.ranges();
    let time_bits = bits_for(latest.wrapping_sub(earliest) as u64);
    let rank_bits = bits_for(groups.len() as u64);
    let since = |row: usize| time[row].wrapping_sub(earliest) as u64;
    let deleted = |row: usize| u64::from(!active.value(row));
    if time_bits + rank_bits + 1 > 64 {
        return Ok(wide_time_order(ranked_rows(&groups), since, deleted));
    }
    let keys: Vec<u64> = ranked_rows(&groups)
        .map(|(rank, row)| since(row) << (rank_bits + 1) | (rank as u64) << 1 | deleted(row))
        .collect();
    if keys.is_sorted() {
        return Ok(None);
    }
    let order = radix::sorted_rows(&keys, time_bits + rank_bits + 1);
    Ok(Some(UInt32Array::from(order)))
}

/// Each row with the rank of its run of equal keys, in row order (the runs cover the rows in
/// order).
fn ranked_rows(groups: &[Range<usize>]) -> impl Iterator<Item = (usize, usize)> + '_ {
    groups
        .iter()
        .enumerate()
        .flat_map(|(rank, rows)| rows.clone().map(move |row| (rank, row)))
}

/// Bits that hold `value`.
fn bits_for(value: u64) -> u32 {
    u64::BITS - value.leading_zeros()
}

/// [`time_order`] for a partition whose time span and keys do not fit one 64-bit key: a sort of
/// packed 128-bit keys.
fn wide_time_order(
    ranked_rows: impl Iterator<Item = (usize, usize)>,
    since: impl Fn(usize) -> u64,
    deleted: impl Fn(usize) -> u64,
) -> Option<UInt32Array> {
    let mut packed: Vec<u128> = ranked_rows
        .map(|(rank, row)| {
            u128::from(since(row)) << 64
                | (rank as u128) << 33
                | u128::from(deleted(row)) << 32
                | row as u128
        })
        .collect();
    if packed.is_sorted() {
        return None;
    }
    packed.sort_unstable();
    Some(packed.into_iter().map(|p| p as u32).collect())
}

/// The key columns as text joined by spaces (as `concat_ws(' ', …)` would).
fn object_text(keys: &[ArrayRef], rows: usize) -> DfResult<StringArray> {
    let texts = keys
        .iter()
        .map(|k| Ok(cast(k, &DataType::Utf8)?.as_string::<i32>().clone()))
        .collect::<DfResult<Vec<StringArray>>>()?;
    let bytes = texts.iter().map(|t| t.values().len()).sum::<usize>() + rows * texts.len();
    let mut object = StringBuilder::with_capacity(rows, bytes);
    for row in 0..rows {
        for (i, text) in texts.iter().enumerate() {
            if i > 0 {
                object
                    .write_char(' ')
                    .expect("a string builder takes any text");
            }
            if text.is_valid(row) {
                object
                    .write_str(text.value(row))
                    .expect("a string builder takes any text");
            }
        }
        object.append_value("");
    }
    Ok(object.finish())
}

/// The `state` column as text, empty where it is missing.
fn state_text(state: Option<&ArrayRef>, rows: usize) -> DfResult<StringArray> {
    let Some(state) = state else {
        return repeated("", rows);
    };
    let text = cast(state, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    if text.null_count() == 0 {
        return Ok(text.clone());
    }
    Ok(text.iter().map(|s| Some(s.unwrap_or(""))).collect())
}

/// `Add` where the row is active, `Del` where not.
fn change_text(active: &BooleanArray) -> DfResult<StringArray> {
    let mut values = Vec::with_capacity(active.len() * 3);
    for row in 0..active.len() {
        let add = active.is_valid(row) && active.value(row);
        values.extend_from_slice(if add { b"Add" } else { b"Del" });
    }
    Ok(StringArray::try_new(
        equal_steps(active.len(), 3)?,
        values.into(),
        None,
    )?)
}

/// `text` on each of `rows` rows, built at once rather than value by value.
fn repeated(text: &str, rows: usize) -> DfResult<StringArray> {
    Ok(StringArray::try_new(
        equal_steps(rows, text.len())?,
        text.as_bytes().repeat(rows).into(),
        None,
    )?)
}

/// The offsets of `rows` values of `len` bytes each.
fn equal_steps(rows: usize, len: usize) -> DfResult<OffsetBuffer<i32>> {
    let fits = rows
        .checked_mul(len)
        .is_some_and(|bytes| i32::try_from(bytes).is_ok());
    if !fits {
        return Err(DataFusionError::Execution(format!(
            "{rows} change lines of {len} bytes overflow a text column"
        )));
    }
    Ok(OffsetBuffer::from_lengths(std::iter::repeat_n(len, rows)))
}

/// The runs in groups whose time spans do not overlap, in time order.
fn time_groups(mut runs: Vec<Run>) -> Vec<Vec<Run>> {
    runs.sort_by_key(|r| (r.first(), r.last()));
    let mut groups: Vec<Vec<Run>> = Vec::new();
    let mut end = i64::MIN;
    for run in runs {
        match groups.last_mut() {
            Some(group) if run.first() <= end => {
                end = end.max(run.last());
                group.push(run);
            }
            _ => {
                end = run.last();
                groups.push(vec![run]);
            }
        }
    }
    groups
}

/// A group's runs merged into change-log order, in batches of about `batch_size` lines.
fn merge_group(runs: Vec<Run>, batch_size: usize) -> DfResult<Vec<RecordBatch>> {
    if let [run] = runs.as_slice() {
        let rows = run.len();
        return Ok((0..rows)
            .step_by(batch_size)
            .map(|start| run.lines.slice(start, batch_size.min(rows - start)))
            .collect());
    }
    let order = Order::new(&runs);
    let mut out = Copier::new(&runs, batch_size);
    let mut next = vec![0usize; runs.len()];
    let mut heap = Heap::new((0..runs.len()).collect(), |a, b| {
        order.precedes(a, next[a], b, next[b])
    });
    while let Some(top) = heap.top() {
        let start = next[top];
        let mut end = start + 1;
        match heap.runner_up(|a, b| order.precedes(a, next[a], b, next[b])) {
            Some(second) => {
                while end < runs[top].len() && order.precedes(top, end, second, next[second]) {
                    end += 1;
                }
            }
            None => end = runs[top].len(),
        }
        out.copy(top, start, end)?;
        next[top] = end;
        let less = |a: usize, b: usize| order.precedes(a, next[a], b, next[b]);
        if end == runs[top].len() {
            heap.pop(less);
        } else {
            heap.sift_down(0, less);
        }
    }
    out.finish()
}

/// The change log's order between the heads of two runs.
struct Order<'a> {
    runs: &'a [Run],
    /// Comparators of two runs' key columns, made when two rows of one table first tie.
    keys: RefCell<HashMap<(usize, usize), Vec<DynComparator>>>,
}

impl<'a> Order<'a> {
    fn new(runs: &'a [Run]) -> Self {
        Order {
            runs,
            keys: RefCell::new(HashMap::new()),
        }
    }

    /// Whether row `i` of run `a` comes before row `j` of run `b`.
    fn precedes(&self, a: usize, i: usize, b: usize, j: usize) -> bool {
        self.cmp(a, i, b, j) == Ordering::Less
    }

    fn cmp(&self, a: usize, i: usize, b: usize, j: usize) -> Ordering {
        let (x, y) = (&self.runs[a], &self.runs[b]);
        x.time[i]
            .cmp(&y.time[j])
            .then_with(|| x.hostname.value(i).cmp(y.hostname.value(j)))
            .then_with(|| x.table.cmp(y.table))
            .then_with(|| {
                if x.table == y.table {
                    self.keys_cmp(a, i, b, j)
                } else {
                    Ordering::Equal
                }
            })
            .then_with(|| y.active.value(j).cmp(&x.active.value(i)))
            .then(a.cmp(&b))
    }

    fn keys_cmp(&self, a: usize, i: usize, b: usize, j: usize) -> Ordering {
        let mut cache = self.keys.borrow_mut();
        let comparators = cache.entry((a, b)).or_insert_with(|| {
            self.runs[a]
                .keys
                .iter()
                .zip(&self.runs[b].keys)
                .map(|(x, y)| {
                    make_comparator(x.as_ref(), y.as_ref(), SortOptions::default())
                        .expect("one table's key columns compare with each other")
                })
                .collect()
        });
        comparators
            .iter()
            .map(|c| c(i, j))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// A binary min-heap of run indices whose order changes as the runs advance, so `less` is given
/// to each operation rather than kept.
struct Heap {
    items: Vec<usize>,
}

impl Heap {
    fn new(items: Vec<usize>, less: impl Fn(usize, usize) -> bool) -> Self {
        let mut heap = Heap { items };
        for i in (0..heap.items.len() / 2).rev() {
            heap.sift_down(i, &less);
        }
        heap
    }

    fn top(&self) -> Option<usize> {
        self.items.first().copied()
    }

    /// The smaller child of the top: the run that comes next after the top's.
    fn runner_up(&self, less: impl Fn(usize, usize) -> bool) -> Option<usize> {
        match self.items.as_slice() {
            [_, a, b, ..] => Some(if less(*b, *a) { *b } else { *a }),
            [_, a] => Some(*a),
            _ => None,
        }
    }

    fn pop(&mut self, less: impl Fn(usize, usize) -> bool) {
        let last = self.items.pop();
        if let (Some(last), false) = (last, self.items.is_empty()) {
            self.items[0] = last;
            self.sift_down(0, less);
        }
    }

    fn sift_down(&mut self, mut i: usize, less: impl Fn(usize, usize) -> bool) {
        loop {
            let (left, right) = (2 * i + 1, 2 * i + 2);
            let mut smallest = i;
            if left < self.items.len() && less(self.items[left], self.items[smallest]) {
                smallest = left;
            }
            if right < self.items.len() && less(self.items[right], self.items[smallest]) {
                smallest = right;
            }
            if smallest == i {
                return;
            }
            self.items.swap(i, smallest);
            i = smallest;
        }
    }
}

/// Copies stretches of runs into output batches.
struct Copier {
    /// Each output column's data in every run.
    sources: Vec<Vec<ArrayData>>,
    batch_size: usize,
    stretches: Vec<(usize, usize, usize)>,
    pending: usize,
    out: Vec<RecordBatch>,
}

impl Copier {
    fn new(runs: &[Run], batch_size: usize) -> Self {
        let sources = (0..change_log_schema().fields().len())
            .map(|c| runs.iter().map(|r| r.lines.column(c).to_data()).collect())
            .collect();
        Copier {
            sources,
            batch_size,
            stretches: Vec::new(),
            pending: 0,
            out: Vec::new(),
        }
    }

    fn copy(&mut self, run: usize, start: usize, end: usize) -> DfResult<()> {
        let mut start = start;
        while start < end {
            let take = (end - start).min(self.batch_size - self.pending);
            self.stretches.push((run, start, start + take));
            self.pending += take;
            start += take;
            if self.pending == self.batch_size {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> DfResult<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let columns = self
            .sources
            .iter()
            .map(|sources| -> DfResult<ArrayRef> {
                let mut column =
                    MutableArrayData::new(sources.iter().collect(), false, self.pending);
                for &(run, start, end) in &self.stretches {
                    column.try_extend(run, start, end)?;
                }
                Ok(make_array(column.freeze()))
            })
            .collect::<DfResult<Vec<_>>>()?;
        self.out
            .push(RecordBatch::try_new(change_log_schema(), columns)?);
        self.stretches.clear();
        self.pending = 0;
        Ok(())
    }

    fn finish(mut self) -> DfResult<Vec<RecordBatch>> {
        self.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Int64Array;

    use super::*;

    #[test]
    fn the_wide_order_is_the_narrow_one() {
        // Keys in file order (runs of equal keys), times out of order within the file.
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1, 2, 2, 3, 3, 3, 4]));
        let time = [30, 10, 20, 10, 10, 5, 40, 10, 20];
        let active = BooleanArray::from(vec![
            true, true, false, true, false, true, true, false, true,
        ]);
        let narrow = time_order(&time, &[keys], &active)
            .expect("orders")
            .expect("out of order");
        let groups = [0..3, 3..5, 5..8, 8..9];
        let wide = wide_time_order(
            ranked_rows(&groups),
            |row| (time[row] - 5) as u64,
            |row| u64::from(!active.value(row)),
        )
        .expect("out of order");
        assert_eq!(narrow, wide);
        assert_eq!(narrow.values().to_vec(), vec![5, 1, 3, 4, 7, 2, 8, 0, 6]);
    }
}
