//! `NewestPerKeyExec`: the newest row of every key, from one stream sorted by the key columns then
//! time. Rows of one key arrive together, oldest first, so the newest is the last row of each run:
//! no hash table, no sort and no window, and memory for one row beyond the current batch.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::kernels::cmp::distinct;
use arrow::compute::{and, concat_batches, filter_record_batch, or};
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, OrderingRequirements, PhysicalExpr,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    PlanProperties,
};
use futures::{Stream, StreamExt};

/// Keeps the last row of every run of equal keys of its sorted input, and only active ones when
/// asked (a deleted key's newest row says it is gone).
#[derive(Debug)]
pub(crate) struct NewestPerKeyExec {
    input: Arc<dyn ExecutionPlan>,
    /// Input column indices of the key.
    keys: Vec<usize>,
    /// Input column index of `active`, when only active rows are wanted.
    active: Option<usize>,
    ordering: LexOrdering,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl NewestPerKeyExec {
    /// `ordering` is the input's: the key columns, then time.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<usize>,
        active: Option<usize>,
        ordering: LexOrdering,
    ) -> Self {
        // The output is in key order, but it is not declared: DataFusion 55 then drops a sort
        // above and later spreads the rows over several partitions, which breaks the order the
        // sort promised (seen as `show agents` coming out in two interleaved runs). A sort of
        // rows already in order costs little.
        let properties = Arc::new(
            PlanProperties::clone(input.properties())
                .with_eq_properties(EquivalenceProperties::new(input.schema()))
                .with_partitioning(datafusion::physical_plan::Partitioning::UnknownPartitioning(1)),
        );
        NewestPerKeyExec {
            input,
            keys,
            active,
            ordering,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for NewestPerKeyExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let schema = self.input.schema();
        let keys: Vec<&str> = self
            .keys
            .iter()
            .map(|i| schema.field(*i).name().as_str())
            .collect();
        write!(f, "NewestPerKeyExec: keys=[{}]", keys.join(", "))?;
        if self.active.is_some() {
            write!(f, ", active only")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for NewestPerKeyExec {
    fn name(&self) -> &str {
        "NewestPerKeyExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![Some(OrderingRequirements::from(self.ordering.clone()))]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(NewestPerKeyExec::new(
            children.swap_remove(0),
            self.keys.clone(),
            self.active,
            self.ordering.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if self.input.output_partitioning().partition_count() != 1 || partition != 0 {
            return Err(datafusion::error::DataFusionError::Internal(
                "NewestPerKeyExec reads one sorted partition".into(),
            ));
        }
        Ok(Box::pin(NewestPerKeyStream {
            input: self.input.execute(0, context)?,
            runs: Runs::new(self.keys.clone(), self.active),
            metrics: BaselineMetrics::new(&self.metrics, partition),
            done: false,
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// The run-end logic, apart from the stream plumbing so it can be tested on plain batches.
#[derive(Debug)]
pub(crate) struct Runs {
    keys: Vec<usize>,
    active: Option<usize>,
    /// The previous batch's last row: its run may go on in the next batch.
    pending: Option<RecordBatch>,
}

impl Runs {
    pub fn new(keys: Vec<usize>, active: Option<usize>) -> Self {
        Runs {
            keys,
            active,
            pending: None,
        }
    }

    /// The rows of `batch` (and the pending row) whose runs are known to have ended.
    pub fn push(&mut self, batch: RecordBatch) -> DfResult<Option<RecordBatch>> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(2);
        if let Some(pending) = self.pending.take()
            && self.differ(&pending, 0, &batch, 0, 1)?.value(0)
            && self.keep_row(&pending)
        {
            out.push(pending);
        }
        let mut last_of_run = self.run_ends(&batch)?;
        if let Some(active) = self.active {
            last_of_run = and(&last_of_run, as_bool(batch.column(active)))?;
        }
        out.push(filter_record_batch(&batch, &last_of_run)?);
        self.pending = Some(batch.slice(rows - 1, 1));
        let out = concat_batches(&batch.schema(), &out)?;
        Ok((out.num_rows() > 0).then_some(out))
    }

    /// The last row, once the input has ended.
    pub fn finish(&mut self) -> Option<RecordBatch> {
        self.pending.take().filter(|row| self.keep_row(row))
    }

    /// True where row `i` is the last of its run within the batch; the batch's last row is left
    /// to the next batch to decide.
    fn run_ends(&self, batch: &RecordBatch) -> DfResult<BooleanArray> {
        let rows = batch.num_rows();
        let ends = self.differ(batch, 0, batch, 1, rows - 1)?;
        let mut values: Vec<bool> = Vec::with_capacity(rows);
        values.extend(ends.values().iter());
        values.push(false);
        Ok(BooleanArray::from(values))
    }

    /// Where the keys of `a[a_at..a_at+len]` differ from those of `b[b_at..b_at+len]`.
    fn differ(
        &self,
        a: &RecordBatch,
        a_at: usize,
        b: &RecordBatch,
        b_at: usize,
        len: usize,
    ) -> DfResult<BooleanArray> {
        let mut result: Option<BooleanArray> = None;
        for &key in &self.keys {
            let left: ArrayRef = a.column(key).slice(a_at, len);
            let right: ArrayRef = b.column(key).slice(b_at, len);
            let here = distinct(&left, &right)?;
            result = Some(match result {
                None => here,
                Some(previous) => or(&previous, &here)?,
            });
        }
        Ok(result.unwrap_or_else(|| BooleanArray::from(vec![false; len])))
    }

    fn keep_row(&self, row: &RecordBatch) -> bool {
        self.active
            .is_none_or(|active| as_bool(row.column(active)).value(0))
    }
}

fn as_bool(array: &ArrayRef) -> &BooleanArray {
    array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .expect("`active` is a non-null boolean")
}

struct NewestPerKeyStream {
    input: SendableRecordBatchStream,
    runs: Runs,
    metrics: BaselineMetrics,
    done: bool,
}

impl Stream for NewestPerKeyStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let polled = self.input.poll_next_unpin(cx);
            let elapsed = self.metrics.elapsed_compute().clone();
            let timer = elapsed.timer();
            let out = match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => Some(Err(e)),
                Poll::Ready(Some(Ok(batch))) => self.runs.push(batch).transpose(),
                Poll::Ready(None) => {
                    self.done = true;
                    self.runs.finish().map(Ok)
                }
            };
            timer.done();
            if let Some(out) = out {
                return self.metrics.record_poll(Poll::Ready(Some(out)));
            }
        }
    }
}

impl RecordBatchStream for NewestPerKeyStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{BooleanArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(keys: &[&str], ts: &[i64], active: &[bool]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("ts", DataType::Int64, false),
            Field::new("active", DataType::Boolean, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(keys.to_vec())),
                Arc::new(Int64Array::from(ts.to_vec())),
                Arc::new(BooleanArray::from(active.to_vec())),
            ],
        )
        .expect("batch")
    }

    fn times(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                b.column(1)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("i64")
                    .values()
                    .to_vec()
            })
            .collect()
    }

    fn run(batches: Vec<RecordBatch>, active: Option<usize>) -> Vec<i64> {
        let mut runs = Runs::new(vec![0], active);
        let mut out: Vec<RecordBatch> = batches
            .into_iter()
            .filter_map(|b| runs.push(b).expect("push"))
            .collect();
        out.extend(runs.finish());
        times(&out)
    }

    #[test]
    fn the_last_row_of_each_run_is_kept_across_batch_boundaries() {
        let batches = vec![
            batch(&["a", "a", "b"], &[1, 2, 3], &[true, true, true]),
            batch(&["b", "c"], &[4, 5], &[true, true]),
            batch(&["c"], &[6], &[true]),
            batch(&["d"], &[7], &[true]),
        ];
        assert_eq!(run(batches, None), [2, 4, 6, 7]);
    }

    #[test]
    fn deleted_keys_are_dropped_only_when_asked() {
        let batches = vec![
            batch(&["a", "a", "b"], &[1, 2, 3], &[true, false, true]),
            batch(&["b"], &[4], &[false]),
        ];
        assert_eq!(run(batches.clone(), Some(2)), Vec::<i64>::new());
        assert_eq!(run(batches, None), [2, 4]);
    }

    #[test]
    fn a_run_spanning_many_batches_yields_one_row() {
        let batches = (0..5)
            .map(|i| batch(&["a"], &[i], &[true]))
            .chain([batch(&[], &[], &[])])
            .collect();
        assert_eq!(run(batches, Some(2)), [4]);
    }
}
