//! `NewestPerKeyExec`: the newest row of every key, from partitions that are each sorted by the
//! key columns (the checkpoint and each event file). The partitions are merged on their keys alone
//! — encoded in Arrow's row format, with their timestamps and positions, two lists at a time —
//! and only the winning rows are copied out, once each: no sort, no window, no hash table, and no
//! merged copy of every input row, which is where a `SortPreservingMergeExec` spends its time.
//! Each partition's keys are encoded as it arrives, and the key space is cut into ranges that are
//! merged and copied out side by side, one output batch per range, still in key order.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, TimestampMicrosecondArray};
use arrow::compute::interleave;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, OrderingRequirements, PhysicalExpr,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    PlanProperties,
};
use futures::TryStreamExt;

/// Keeps the newest row of every key of its key-sorted partitions, and only active ones when
/// asked (a deleted key's newest row says it is gone).
#[derive(Debug)]
pub(crate) struct NewestPerKeyExec {
    input: Arc<dyn ExecutionPlan>,
    /// Input column indices of the key.
    keys: Vec<usize>,
    /// Input column index of the timestamp.
    time: usize,
    /// Input column index of `active`, when only active rows are wanted.
    active: Option<usize>,
    ordering: LexOrdering,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl NewestPerKeyExec {
    /// `ordering` is what each input partition must follow: the key columns, then time.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<usize>,
        time: usize,
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
            time,
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
        vec![Distribution::UnspecifiedDistribution]
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
            self.time,
            self.active,
            self.ordering.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(datafusion::error::DataFusionError::Internal(
                "NewestPerKeyExec has one output partition".into(),
            ));
        }
        let schema = self.input.schema();
        let converter = Arc::new(key_converter(&schema, &self.keys)?);
        // Each partition is collected and its keys encoded in a task of its own, so encoding
        // overlaps with the decoding of the partitions still arriving.
        let encoding = (0..self.input.output_partitioning().partition_count())
            .map(|p| {
                let input = self.input.execute(p, Arc::clone(&context))?;
                let converter = Arc::clone(&converter);
                let keys = self.keys.clone();
                Ok(SpawnedTask::spawn(async move {
                    let batches = input.try_collect::<Vec<_>>().await?;
                    Part::encode(&converter, batches, &keys)
                }))
            })
            .collect::<DfResult<Vec<_>>>()?;
        let columns = Columns {
            time: self.time,
            active: self.active,
        };
        let shards = context.session_config().target_partitions();
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let out_schema = Arc::clone(&schema);
        let newest =
            async move {
                let mut parts = Vec::with_capacity(encoding.len());
                for task in encoding {
                    parts.push(task.join_unwind().await.map_err(|e| {
                        datafusion::error::DataFusionError::External(Box::new(e))
                    })??);
                }
                let timer = metrics.elapsed_compute().timer();
                let out = newest_rows(&schema, &parts, &columns, shards);
                timer.done();
                if let Ok(batches) = &out {
                    metrics.record_output(batches.iter().map(RecordBatch::num_rows).sum());
                }
                out.map(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
            };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            out_schema,
            futures::stream::once(newest).try_flatten(),
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Which input columns the merge reads.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub time: usize,
    pub active: Option<usize>,
}

/// One input row as the merge sees it: its encoded key, its time and where it is.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    key: &'a [u8],
    ts: i64,
    batch: u32,
    row: u32,
}

/// Below this many candidate rows the merge runs on one thread.
const ROWS_PER_SHARD: usize = 16_384;

/// One input partition: its non-empty batches and their keys in Arrow's row format.
pub(crate) struct Part {
    batches: Vec<RecordBatch>,
    keys: Vec<Rows>,
}

impl Part {
    pub(crate) fn encode(
        converter: &RowConverter,
        batches: Vec<RecordBatch>,
        keys: &[usize],
    ) -> DfResult<Self> {
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let keys = batches
            .iter()
            .map(|b| {
                let columns: Vec<ArrayRef> =
                    keys.iter().map(|k| Arc::clone(b.column(*k))).collect();
                converter.convert_columns(&columns)
            })
            .collect::<Result<Vec<Rows>, _>>()?;
        Ok(Part { batches, keys })
    }
}

/// The converter that encodes a schema's key columns.
pub(crate) fn key_converter(schema: &SchemaRef, keys: &[usize]) -> DfResult<RowConverter> {
    let fields = keys
        .iter()
        .map(|k| SortField::new(schema.field(*k).data_type().clone()))
        .collect();
    Ok(RowConverter::new(fields)?)
}

/// The newest row of every key in `parts` (each sorted by key), in key order. The key space is cut
/// into up to `shards` ranges, merged and copied out side by side, one batch per range.
pub(crate) fn newest_rows(
    schema: &SchemaRef,
    parts: &[Part],
    columns: &Columns,
    shards: usize,
) -> DfResult<Vec<RecordBatch>> {
    let batches: Vec<&RecordBatch> = parts.iter().flat_map(|p| &p.batches).collect();
    let mut lists = Vec::with_capacity(parts.len());
    let mut first = 0;
    for part in parts {
        lists.push(part_entries(part, first, columns.time)?);
        first += part.batches.len();
    }
    let candidates: usize = lists.iter().map(Vec::len).sum();
    let shards = shards.clamp(1, candidates.div_ceil(ROWS_PER_SHARD).max(1));
    let ranges = split_by_key(&lists, shards);
    let newest_of = |lists: Vec<&[Entry<'_>]>| -> Result<RecordBatch, ArrowError> {
        let picks: Vec<(usize, usize)> = merge_all(&lists)
            .iter()
            .filter(|e| is_kept(batches[e.batch as usize], e.row as usize, columns.active))
            .map(|e| (e.batch as usize, e.row as usize))
            .collect();
        gather(schema, &batches, &picks)
    };
    let out = std::thread::scope(|scope| {
        let mut ranges = ranges.into_iter();
        let own = ranges.next().unwrap_or_default();
        let others: Vec<_> = ranges.map(|r| scope.spawn(|| newest_of(r))).collect();
        let mut out = vec![newest_of(own)];
        out.extend(others.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        out
    });
    let mut out = out
        .into_iter()
        .filter(|b| !b.as_ref().is_ok_and(|b| b.num_rows() == 0))
        .collect::<Result<Vec<_>, _>>()?;
    if out.is_empty() {
        out.push(RecordBatch::new_empty(Arc::clone(schema)));
    }
    Ok(out)
}

/// Cuts key-sorted lists into `shards` key ranges (each range's share of every list, borrowed),
/// at keys of the longest list so that the ranges are about even.
fn split_by_key<'l, 'a>(lists: &'l [Vec<Entry<'a>>], shards: usize) -> Vec<Vec<&'l [Entry<'a>]>> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    if shards <= 1 || longest == 0 {
        return vec![lists.iter().map(Vec::as_slice).collect()];
    }
    let pivot_list = lists.iter().find(|l| l.len() == longest).expect("longest");
    let pivots: Vec<&[u8]> = (1..shards)
        .map(|s| pivot_list[s * longest / shards].key)
        .collect();
    let mut ranges: Vec<Vec<&[Entry<'a>]>> = vec![Vec::with_capacity(lists.len()); shards];
    for list in lists {
        let mut start = 0;
        for (shard, pivot) in pivots.iter().enumerate() {
            let end = start + list[start..].partition_point(|e| e.key < *pivot);
            ranges[shard].push(&list[start..end]);
            start = end;
        }
        ranges[shards - 1].push(&list[start..]);
    }
    ranges
}

/// One partition's rows, one entry per key (its newest), in key order. `first` is the index of
/// the partition's first batch among all partitions' batches.
fn part_entries(part: &Part, first: usize, time: usize) -> DfResult<Vec<Entry<'_>>> {
    let mut out: Vec<Entry<'_>> = Vec::new();
    for (b, (batch, rows)) in part.batches.iter().zip(&part.keys).enumerate() {
        let ts = batch
            .column(time)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .ok_or_else(|| datafusion::error::DataFusionError::Internal("timestamp is µs".into()))?
            .values();
        for (i, ts) in ts.iter().enumerate() {
            let entry = Entry {
                key: rows.row(i).data(),
                ts: *ts,
                batch: (first + b) as u32,
                row: i as u32,
            };
            match out.last_mut() {
                Some(last) if last.key == entry.key => {
                    if entry.ts >= last.ts {
                        *last = entry;
                    }
                }
                _ => out.push(entry),
            }
        }
    }
    Ok(out)
}

/// Merges key-sorted lists two at a time until one is left.
fn merge_all<'a>(lists: &[&[Entry<'a>]]) -> Vec<Entry<'a>> {
    let mut lists: Vec<Vec<Entry<'a>>> = lists
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => merge_two(a, b),
            [a] => a.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    while lists.len() > 1 {
        let mut pairs = Vec::with_capacity(lists.len().div_ceil(2));
        let mut drain = lists.into_iter();
        while let Some(a) = drain.next() {
            pairs.push(match drain.next() {
                Some(b) => merge_two(&a, &b),
                None => a,
            });
        }
        lists = pairs;
    }
    lists.pop().unwrap_or_default()
}

/// Two key-sorted lists of one entry per key as one, keeping the newer entry of a shared key
/// (the later list's on a tie).
fn merge_two<'a>(a: &[Entry<'a>], b: &[Entry<'a>]) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].key.cmp(b[j].key) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(if a[i].ts > b[j].ts { a[i] } else { b[j] });
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn is_kept(batch: &RecordBatch, row: usize, active: Option<usize>) -> bool {
    active.is_none_or(|column| {
        batch
            .column(column)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .is_some_and(|a| a.is_valid(row) && a.value(row))
    })
}

/// The rows `picks` (batch, row) of `batches`, in that order, as one batch.
pub(crate) fn gather(
    schema: &SchemaRef,
    batches: &[&RecordBatch],
    picks: &[(usize, usize)],
) -> Result<RecordBatch, ArrowError> {
    if picks.is_empty() {
        return Ok(RecordBatch::new_empty(Arc::clone(schema)));
    }
    let columns = (0..schema.fields().len())
        .map(|c| {
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            interleave(&arrays, picks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::clone(schema), columns)
}

#[cfg(test)]
mod tests {
    use arrow::array::{BooleanArray, StringArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                false,
            ),
            Field::new("active", DataType::Boolean, false),
        ]))
    }

    fn batch(keys: &[&str], ts: &[i64], active: &[bool]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(keys.to_vec())),
                Arc::new(TimestampMicrosecondArray::from(ts.to_vec())),
                Arc::new(BooleanArray::from(active.to_vec())),
            ],
        )
        .expect("batch")
    }

    fn run(parts: Vec<Vec<RecordBatch>>, active: Option<usize>) -> Vec<(String, i64)> {
        run_sharded(parts, active, 1)
    }

    fn run_sharded(
        parts: Vec<Vec<RecordBatch>>,
        active: Option<usize>,
        shards: usize,
    ) -> Vec<(String, i64)> {
        let columns = Columns { time: 1, active };
        let converter = key_converter(&schema(), &[0]).expect("converter");
        let parts: Vec<Part> = parts
            .into_iter()
            .map(|p| Part::encode(&converter, p, &[0]).expect("encode"))
            .collect();
        let out = newest_rows(&schema(), &parts, &columns, shards).expect("merge");
        let out = arrow::compute::concat_batches(&schema(), &out).expect("concat");
        let keys = out
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("keys");
        let ts = out
            .column(1)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .expect("ts");
        (0..out.num_rows())
            .map(|i| (keys.value(i).to_string(), ts.value(i)))
            .collect()
    }

    fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected.iter().map(|(k, t)| (k.to_string(), *t)).collect()
    }

    #[test]
    fn the_newest_row_of_each_key_is_kept_across_batches_and_partitions() {
        let parts = vec![
            vec![
                batch(&["a", "a", "b"], &[1, 2, 3], &[true; 3]),
                batch(&["b", "c"], &[4, 5], &[true; 2]),
            ],
            vec![batch(&["a", "c", "d"], &[9, 1, 7], &[true; 3])],
            vec![batch(&[], &[], &[])],
            vec![batch(&["b"], &[3], &[true])],
        ];
        assert_eq!(
            run(parts, None),
            pairs(&[("a", 9), ("b", 4), ("c", 5), ("d", 7)])
        );
    }

    #[test]
    fn deleted_keys_are_dropped_only_when_asked() {
        let parts = vec![
            vec![batch(&["a", "a", "b"], &[1, 2, 3], &[true, false, true])],
            vec![batch(&["b"], &[4], &[false])],
        ];
        assert_eq!(run(parts.clone(), Some(2)), pairs(&[]));
        assert_eq!(run(parts, None), pairs(&[("a", 2), ("b", 4)]));
    }

    #[test]
    fn a_merge_cut_into_key_ranges_answers_as_one_does() {
        let mut seed = 7u64;
        let mut next = move |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        let parts: Vec<Vec<RecordBatch>> = (0..7)
            .map(|_| {
                let mut rows: Vec<(String, i64, bool)> = (0..9_000)
                    .map(|_| {
                        (
                            format!("k{:05}", next(40_000)),
                            next(1_000) as i64,
                            next(5) > 0,
                        )
                    })
                    .collect();
                rows.sort();
                let keys: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
                let ts: Vec<i64> = rows.iter().map(|r| r.1).collect();
                let active: Vec<bool> = rows.iter().map(|r| r.2).collect();
                let half = rows.len() / 2;
                vec![
                    batch(&keys[..half], &ts[..half], &active[..half]),
                    batch(&keys[half..], &ts[half..], &active[half..]),
                ]
            })
            .collect();
        let whole = run_sharded(parts.clone(), Some(2), 1);
        assert!(whole.len() > 20_000);
        for shards in [2, 3, 8] {
            assert_eq!(
                run_sharded(parts.clone(), Some(2), shards),
                whole,
                "{shards} shards"
            );
        }
        assert_eq!(
            run_sharded(parts.clone(), None, 4),
            run_sharded(parts, None, 1)
        );
    }

    #[test]
    fn a_key_spanning_many_partitions_yields_one_row() {
        let parts = (0..5).map(|i| vec![batch(&["a"], &[i], &[true])]).collect();
        assert_eq!(run(parts, Some(2)), pairs(&[("a", 4)]));
        assert_eq!(run(Vec::new(), None), pairs(&[]));
    }
}
