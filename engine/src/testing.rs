//! Helpers shared by the unit tests: a fixed clock, hours counted from it, event files and table
//! states built by hand, `interfaces` batches at chosen times or with chosen rows, and stores in temporary directories.
//! (Tests that drive a whole engine live in the crate's `tests/`.)

use arrow::array::RecordBatch;
use sonde_schema::families::interfaces;
use sonde_schema::row::{Row, to_batch};

use crate::catalog::{EventFile, MemBatch, TableState};
use crate::paths::{EventFilePath, FileOrigin, Hour, MICROS_PER_HOUR};
use crate::store::{S3Options, Store, StoreLocation};

/// 2026-11-20T10:00:00Z in µs: hour 0 of the tests.
pub(crate) const T0: i64 = 1_795_168_800_000_000;

/// The `n`th hour after (or before) [`T0`].
pub(crate) fn hour(n: i64) -> Hour {
    Hour::containing(T0 + n * MICROS_PER_HOUR)
}

/// A µs instant `minutes` into hour `n`.
pub(crate) fn at(n: i64, minutes: i64) -> i64 {
    hour(n).start() + minutes * 60_000_000
}

/// An `interfaces` file of hour `n` written by the flush of `segment`.
pub(crate) fn flushed(n: i64, segment: u64, size: u64) -> EventFile {
    EventFile {
        path: EventFilePath::new(interfaces::TABLE.name, hour(n), FileOrigin::Flush(segment)),
        size,
    }
}

/// A table state with files of the given sizes in the given hours (one flush segment per file).
pub(crate) fn state_with_files(hours: &[(i64, &[u64])]) -> TableState {
    let mut state = TableState::default();
    let mut segment = 0;
    for (n, sizes) in hours {
        for size in *sizes {
            segment += 1;
            state
                .files
                .entry(hour(*n))
                .or_default()
                .push(flushed(*n, segment, *size));
        }
    }
    state
}

/// Adds a memtable batch whose rows are at `times`, in WAL segment `segment`.
pub(crate) fn add_mem(state: &mut TableState, segment: u64, times: &[i64]) {
    let batch = rows_at(times);
    state.mem_rows += batch.num_rows();
    state.mem.push(MemBatch {
        segment,
        batch,
        min_ts: times.iter().copied().min().unwrap_or_default(),
        max_ts: times.iter().copied().max().unwrap_or_default(),
    });
}

/// An `interfaces` batch from leaf01 with one row per time, interfaces `swp0`, `swp1`, ….
fn rows_at(times: &[i64]) -> RecordBatch {
    let rows: Vec<Row> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Row::new(&interfaces::TABLE, *t)
                .set("ifname", format!("swp{i}"))
                .set("mtu", 9216u32)
        })
        .collect();
    to_batch(&interfaces::TABLE, "leaf01", &rows).expect("batch")
}

/// An `interfaces` batch from leaf01: one row per `(time, ifname, state, active)`.
pub(crate) fn interface_rows(rows: &[(i64, &str, &str, bool)]) -> RecordBatch {
    let rows: Vec<Row> = rows
        .iter()
        .map(|(t, ifname, state, active)| {
            let mut row = Row::new(&interfaces::TABLE, *t)
                .set("ifname", *ifname)
                .set("state", *state);
            row.active = *active;
            row
        })
        .collect();
    to_batch(&interfaces::TABLE, "leaf01", &rows).expect("batch")
}

/// A store in a local directory.
pub(crate) fn local_store(dir: &std::path::Path) -> Store {
    Store::open(
        &StoreLocation::Local(dir.to_path_buf()),
        &S3Options::default(),
    )
    .expect("store")
}

/// The names of the files under `prefix` in the store, sorted.
pub(crate) async fn listed(store: &Store, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = store
        .list(prefix)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    names.sort();
    names
}
