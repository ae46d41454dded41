//! Every table's current state in memory: each key's newest row, kept up to date as appends become
//! durable, so a question about the present reads no file.
//!
//! A table's state is built the first time it is wanted (or when the server starts) from the newest
//! checkpoint, the events after it and the memtable (which the WAL replay refilled), and from then
//! on every durable batch is applied to it. Rows are applied by time, not by arrival, so a late
//! row never hides a newer one, and applying a row twice changes nothing: the appends that arrive
//! while a build reads the store are simply applied again on top of it.
//!
//! The rows live in the batches they arrived in; a key points at its newest row. Once the batches
//! hold more than twice as many rows as there are keys they are compacted into one, so memory
//! stays within a small multiple of the state itself, and a table whose state outgrows the bound
//! is not kept at all (its queries scan, as every query about the past does).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::error::ArrowError;
use arrow::row::{RowConverter, SortField};
use sonde_schema::{ACTIVE, TableDef};

use crate::newest::gather;
use crate::parquet_io::{time_range, timestamps};

/// The newest row of one key: `row` of `batches[batch]`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: i64,
    batch: u32,
    row: u32,
}

/// What the engine holds of one table's present.
#[derive(Debug, Default)]
pub(crate) enum Current {
    /// Not built yet, or dropped: questions about the present scan.
    #[default]
    Absent,
    /// Being built from the store; durable batches wait here to be applied on top.
    Building {
        pending: Vec<RecordBatch>,
    },
    Ready(Box<CurrentState>),
    /// Outgrew the bound once: not kept.
    TooLarge,
}

impl Current {
    /// Applies a durable batch, if the state is kept.
    pub fn apply(&mut self, batch: &RecordBatch, max_bytes: usize) {
        match self {
            Current::Building { pending } => pending.push(batch.clone()),
            Current::Ready(state) => match state.apply(batch) {
                Ok(()) if state.bytes() <= max_bytes => {}
                Ok(()) => *self = Current::TooLarge,
                Err(_) => *self = Current::Absent,
            },
            Current::Absent | Current::TooLarge => {}
        }
    }

    /// The active rows in key order, when the state is kept and nothing in it is newer than `at`.
    pub fn answer(&mut self, at: i64) -> Option<RecordBatch> {
        match self {
            Current::Ready(state) if state.max_ts <= at => state.active_rows().ok(),
            _ => None,
        }
    }

    /// `(keys, bytes)` of a kept state.
    pub fn size(&self) -> Option<(usize, usize)> {
        match self {
            Current::Ready(state) => Some((state.keys(), state.bytes())),
            _ => None,
        }
    }
}

/// Why a state cannot take a row.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Stale {
    /// A row for an unknown key older than what the state was built from: a deletion the build
    /// never saw might be newer than it, so the state has to be built again.
    #[error("a row older than the checkpoint the state was built from")]
    BeforeBuild,
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

pub(crate) struct CurrentState {
    table: &'static TableDef,
    converter: RowConverter,
    key_columns: Vec<usize>,
    active_column: usize,
    slots: HashMap<Box<[u8]>, Slot>,
    batches: Vec<RecordBatch>,
    batch_rows: usize,
    /// The memory of `batches` and of the encoded keys, kept as they change: summing it on each
    /// append made a stream of single-row appends quadratic.
    batch_bytes: usize,
    key_bytes: usize,
    /// The newest timestamp applied.
    max_ts: i64,
    /// Deletions before this were not seen (the checkpoint it was built from leaves them out).
    complete_from: i64,
    /// The active rows in key order, until the next change.
    answer: Option<RecordBatch>,
}

impl std::fmt::Debug for CurrentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentState")
            .field("table", &self.table.name)
            .field("keys", &self.slots.len())
            .field("max_ts", &self.max_ts)
            .finish()
    }
}

impl CurrentState {
    /// An empty state that has seen every deletion from `complete_from` on.
    pub fn new(table: &'static TableDef, complete_from: i64) -> Result<Self, ArrowError> {
        let schema = table.schema();
        let key_columns: Vec<usize> = table
            .key_columns()
            .map(|name| schema.index_of(name))
            .collect::<Result<_, _>>()?;
        let fields = key_columns
            .iter()
            .map(|i| SortField::new(schema.field(*i).data_type().clone()))
            .collect();
        Ok(CurrentState {
            table,
            converter: RowConverter::new(fields)?,
            key_columns,
            active_column: schema.index_of(ACTIVE)?,
            slots: HashMap::new(),
            batches: Vec::new(),
            batch_rows: 0,
            batch_bytes: 0,
            key_bytes: 0,
            max_ts: i64::MIN,
            complete_from,
            answer: None,
        })
    }

    /// From now on, a row older than `from` for an unknown key makes the state stale.
    pub fn set_complete_from(&mut self, from: i64) {
        self.complete_from = from;
    }

    pub fn keys(&self) -> usize {
        self.slots.len()
    }

    /// Bytes held: the rows' batches, the encoded keys and the index.
    pub fn bytes(&self) -> usize {
        let index = self.slots.capacity() * (size_of::<(Box<[u8]>, Slot)>() + 1);
        self.batch_bytes + self.key_bytes + index
    }

    /// Makes every row of `batch` its key's newest unless the key already has a newer one.
    pub fn apply(&mut self, batch: &RecordBatch) -> Result<(), Stale> {
        let Some((_, max_ts)) = time_range(batch) else {
            return Ok(());
        };
        let keys: Vec<ArrayRef> = self
            .key_columns
            .iter()
            .map(|i| Arc::clone(batch.column(*i)))
            .collect();
        let rows = self.converter.convert_columns(&keys)?;
        let ts = timestamps(batch).values();
        let id = self.batches.len() as u32;
        let mut referenced = false;
        for (i, key) in rows.iter().enumerate() {
            let slot = Slot {
                ts: ts[i],
                batch: id,
                row: i as u32,
            };
            match self.slots.get_mut(key.as_ref()) {
                Some(current) if current.ts <= slot.ts => *current = slot,
                Some(_) => continue,
                None if slot.ts < self.complete_from => return Err(Stale::BeforeBuild),
                None => {
                    self.key_bytes += key.as_ref().len();
                    self.slots.insert(key.as_ref().into(), slot);
                }
            }
            referenced = true;
        }
        self.max_ts = self.max_ts.max(max_ts);
        if referenced {
            self.batches.push(batch.clone());
            self.batch_rows += batch.num_rows();
            self.batch_bytes += batch.get_array_memory_size();
            self.answer = None;
        }
        if self.batch_rows > 2 * self.slots.len() + 4096 || self.batches.len() > self.batch_bound()
        {
            self.compact()?;
        }
        Ok(())
    }

    /// Batches held at most. Appends of new keys alone never trigger the rows' bound, and each
    /// small batch costs its buffers' overhead; the bound grows with the keys so a compaction's
    /// copy stays a few rows per append.
    fn batch_bound(&self) -> usize {
        (self.slots.len() / 8).max(1024)
    }

    /// Copies every key's newest row into one batch and lets the old batches go.
    fn compact(&mut self) -> Result<(), ArrowError> {
        let mut slots: Vec<&mut Slot> = self.slots.values_mut().collect();
        let picks: Vec<(usize, usize)> = slots
            .iter()
            .map(|s| (s.batch as usize, s.row as usize))
            .collect();
        let batch = gather(
            &self.table.schema(),
            &self.batches.iter().collect::<Vec<_>>(),
            &picks,
        )?;
        for (row, slot) in slots.iter_mut().enumerate() {
            slot.batch = 0;
            slot.row = row as u32;
        }
        self.batch_rows = batch.num_rows();
        self.batch_bytes = batch.get_array_memory_size();
        self.batches = vec![batch];
        Ok(())
    }

    /// The active rows in key order.
    fn active_rows(&mut self) -> Result<RecordBatch, ArrowError> {
        if let Some(answer) = &self.answer {
            return Ok(answer.clone());
        }
        let mut live: Vec<(&[u8], Slot)> = self
            .slots
            .iter()
            .filter(|(_, s)| self.is_active(s))
            .map(|(k, s)| (k.as_ref(), *s))
            .collect();
        live.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let picks: Vec<(usize, usize)> = live
            .iter()
            .map(|(_, s)| (s.batch as usize, s.row as usize))
            .collect();
        let answer = gather(
            &self.table.schema(),
            &self.batches.iter().collect::<Vec<_>>(),
            &picks,
        )?;
        self.answer = Some(answer.clone());
        Ok(answer)
    }

    fn is_active(&self, slot: &Slot) -> bool {
        self.batches[slot.batch as usize]
            .column(self.active_column)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .is_some_and(|a| a.value(slot.row as usize))
    }
}

#[cfg(test)]
mod tests {
    use sonde_schema::families::interfaces;

    use super::*;
    use crate::testing::interface_rows;

    fn names(batch: &RecordBatch) -> Vec<(String, String)> {
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .expect("column")
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .expect("strings")
                .clone()
        };
        let (ifname, state) = (col("ifname"), col("state"));
        (0..batch.num_rows())
            .map(|i| (ifname.value(i).to_string(), state.value(i).to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_newest_row_by_time_wins_whatever_the_order_of_arrival() {
        let mut state = CurrentState::new(&interfaces::TABLE, i64::MIN).expect("state");
        state
            .apply(&interface_rows(&[
                (20, "swp2", "up", true),
                (10, "swp1", "up", true),
            ]))
            .expect("apply");
        state
            .apply(&interface_rows(&[
                (5, "swp1", "down", true),
                (30, "swp2", "down", true),
            ]))
            .expect("apply");
        let rows = state.active_rows().expect("rows");
        assert_eq!(names(&rows), pairs(&[("swp1", "up"), ("swp2", "down")]));
        assert_eq!(state.max_ts, 30);
    }

    #[test]
    fn a_deleted_key_leaves_the_answer_and_applying_twice_changes_nothing() {
        let mut state = CurrentState::new(&interfaces::TABLE, i64::MIN).expect("state");
        let batch = interface_rows(&[(1, "swp1", "up", true), (2, "swp2", "up", true)]);
        state.apply(&batch).expect("apply");
        state
            .apply(&interface_rows(&[(3, "swp1", "up", false)]))
            .expect("apply");
        state.apply(&batch).expect("apply again");
        assert_eq!(
            names(&state.active_rows().expect("rows")),
            pairs(&[("swp2", "up")])
        );
    }

    #[test]
    fn compaction_keeps_memory_near_the_state_and_the_answer_unchanged() {
        let mut state = CurrentState::new(&interfaces::TABLE, i64::MIN).expect("state");
        for round in 0..50 {
            let rows: Vec<(i64, String)> = (0..200)
                .map(|i| (round * 1000 + i, format!("swp{i}")))
                .collect();
            let rows: Vec<(i64, &str, &str, bool)> = rows
                .iter()
                .map(|(t, name)| {
                    (
                        *t,
                        name.as_str(),
                        if round % 2 == 0 { "up" } else { "down" },
                        true,
                    )
                })
                .collect();
            state.apply(&interface_rows(&rows)).expect("apply");
        }
        assert_eq!(state.keys(), 200);
        assert!(
            state.batch_rows <= 2 * 200 + 4096 + 200,
            "{} rows kept",
            state.batch_rows
        );
        let rows = state.active_rows().expect("rows");
        assert_eq!(rows.num_rows(), 200);
        assert!(names(&rows).iter().all(|(_, s)| s == "down"));
    }

    #[test]
    fn single_row_appends_of_new_keys_are_compacted_and_their_bytes_kept_exactly() {
        let mut state = CurrentState::new(&interfaces::TABLE, i64::MIN).expect("state");
        for i in 0..3000 {
            let name = format!("swp{i}");
            state
                .apply(&interface_rows(&[(i, name.as_str(), "up", true)]))
                .expect("apply");
            let summed: usize = state
                .batches
                .iter()
                .map(RecordBatch::get_array_memory_size)
                .sum();
            let keys: usize = state.slots.keys().map(|k| k.len()).sum();
            assert_eq!((state.batch_bytes, state.key_bytes), (summed, keys));
        }
        assert_eq!(state.keys(), 3000);
        assert!(
            state.batches.len() <= 1024,
            "{} batches",
            state.batches.len()
        );
        assert_eq!(state.active_rows().expect("rows").num_rows(), 3000);
    }

    #[test]
    fn a_row_for_an_unknown_key_older_than_the_build_makes_the_state_stale() {
        let mut state = CurrentState::new(&interfaces::TABLE, 100).expect("state");
        state
            .apply(&interface_rows(&[(150, "swp1", "up", true)]))
            .expect("apply");
        assert!(
            state
                .apply(&interface_rows(&[(50, "swp1", "up", true)]))
                .is_ok(),
            "known key"
        );
        assert!(matches!(
            state.apply(&interface_rows(&[(50, "swp9", "up", true)])),
            Err(Stale::BeforeBuild)
        ));
    }

    #[test]
    fn an_answer_is_given_only_for_times_at_or_after_the_newest_row() {
        let mut state = CurrentState::new(&interfaces::TABLE, i64::MIN).expect("state");
        state
            .apply(&interface_rows(&[(10, "swp1", "up", true)]))
            .expect("apply");
        let mut current = Current::Ready(Box::new(state));
        assert!(current.answer(9).is_none());
        assert_eq!(current.answer(10).map(|b| b.num_rows()), Some(1));
        current.apply(&interface_rows(&[(20, "swp2", "up", true)]), 1);
        assert!(matches!(current, Current::TooLarge), "over the bound");
    }
}
