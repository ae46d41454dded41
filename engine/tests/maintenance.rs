//! Maintenance passes end to end, through the engine's public interface: compaction of an hour's
//! files, checkpoints that answer state queries as the events do, retention that keeps the state of
//! the hours it drops, and a read-only store left alone; and (in `state`) state at T against its
//! definition; and (in `change_log`) the change log against its definition.

mod change_log;
mod state;

use std::path::Path;
use std::time::Duration;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use sonde_engine::{Engine, EngineConfig, EngineError, MaintenanceStats};
use sonde_schema::families::interfaces;
use sonde_schema::row::{Row, now_us, to_batch};

/// 2026-11-20T10:00:00Z in µs: hour 0 of the tests.
const T0: i64 = 1_795_168_800_000_000;
const HOUR: i64 = 3_600_000_000;

/// A µs instant `minutes` into the `n`th hour after T0.
fn at(n: i64, minutes: i64) -> i64 {
    T0 + n * HOUR + minutes * 60_000_000
}

/// An `interfaces` batch from leaf01 with one row per time, interfaces `swp0`, `swp1`, ….
fn rows_at(times: &[i64]) -> RecordBatch {
    let rows: Vec<Row> = times
        .iter()
        .enumerate()
        .map(|(i, t)| Row::new(&interfaces::TABLE, *t).set("ifname", format!("swp{i}")))
        .collect();
    to_batch(&interfaces::TABLE, "leaf01", &rows).expect("batch")
}

/// A local store whose flushes and maintenance only run when a test asks.
fn config(dir: &Path) -> EngineConfig {
    let mut config = EngineConfig::local(dir);
    config.flush_rows = usize::MAX / 8;
    config.flush_interval = Duration::from_secs(3600);
    config
}

async fn engine_at(dir: &Path) -> Engine {
    Engine::open(config(dir)).await.expect("open")
}

/// Runs SQL and returns its answer.
async fn collect(engine: &Engine, sql: &str) -> Vec<RecordBatch> {
    engine
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run")
}

/// Runs SQL and returns its first column as strings, in the order of the answer.
async fn first_column(engine: &Engine, sql: &str) -> Vec<String> {
    let batches = collect(engine, sql).await;
    let mut values = Vec::new();
    for batch in &batches {
        let column = cast(batch.column(0), &DataType::Utf8).expect("cast");
        let strings = column.as_any().downcast_ref::<StringArray>().expect("utf8");
        values.extend((0..strings.len()).map(|i| strings.value(i).to_string()));
    }
    values
}

/// The files under `dir`, recursively, as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

async fn append(engine: &Engine, times: &[i64]) {
    engine
        .append("interfaces", &rows_at(times))
        .await
        .expect("append");
}

async fn count(engine: &Engine) -> Vec<String> {
    first_column(engine, "select count(*) from interfaces").await
}

async fn state_at(engine: &Engine, t: i64) -> Vec<String> {
    let sql = format!("select ifname from state_at('interfaces', {t}) order by ifname");
    first_column(engine, &sql).await
}

#[tokio::test]
async fn a_pass_merges_each_hour_with_several_files_into_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_at(dir.path()).await;
    append(&engine, &[at(0, 1), at(0, 2)]).await;
    engine.flush().await.expect("flush");
    append(&engine, &[at(0, 3), at(1, 0)]).await;
    engine.flush().await.expect("flush");
    assert_eq!(
        engine.table_stats("interfaces").expect("stats").event_files,
        3
    );

    let stats = engine.maintain().await.expect("maintain");
    assert_eq!((stats.files_merged, stats.files_written), (2, 1));
    assert_eq!(
        engine.table_stats("interfaces").expect("stats").event_files,
        2
    );
    assert_eq!(count(&engine).await, ["4"]);
    let hour_zero = files_under(&dir.path().join("interfaces/date=2026-11-20/hour=10"));
    assert_eq!(hour_zero.len(), 1, "{hour_zero:?}");
    assert!(hour_zero[0].starts_with('c') && hour_zero[0].ends_with(".parquet"));
    let wal = files_under(&dir.path().join("wal"));
    assert!(
        !wal.iter().any(|n| n.ends_with(".intent")),
        "the compaction removed its intent: {wal:?}"
    );

    let again = engine.maintain().await.expect("maintain");
    assert_eq!(again.files_merged, 0, "nothing left to merge");
    engine.close().await.expect("close");
    drop(engine);
    let reopened = engine_at(dir.path()).await;
    assert_eq!(count(&reopened).await, ["4"]);
}

#[tokio::test]
async fn a_read_only_store_is_not_compacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = engine_at(dir.path()).await;
    for minute in [1, 2] {
        append(&writer, &[at(0, minute)]).await;
        writer.flush().await.expect("flush");
    }
    writer.close().await.expect("close");
    let mut read_only = config(dir.path());
    read_only.read_only = true;
    let reader = Engine::open(read_only).await.expect("open read-only");
    assert!(matches!(
        reader.maintain().await,
        Err(EngineError::ReadOnly)
    ));
    assert_eq!(
        reader.table_stats("interfaces").expect("stats").event_files,
        2
    );
}

/// `swp<h>` comes up in hour h, for hours 0 to 7; `swp0` goes away in hour 2.
fn history() -> Vec<Row> {
    let mut rows: Vec<Row> = (0..8)
        .map(|h| Row::new(&interfaces::TABLE, at(h, 5)).set("ifname", format!("swp{h}")))
        .collect();
    let mut gone = Row::new(&interfaces::TABLE, at(2, 30)).set("ifname", "swp0");
    gone.active = false;
    rows.push(gone);
    rows
}

#[tokio::test]
async fn checkpoints_answer_state_queries_as_the_events_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.checkpoint_factor = 1.0;
    let engine = Engine::open(config).await.expect("open");
    for row in history() {
        let batch = to_batch(&interfaces::TABLE, "leaf01", &[row]).expect("batch");
        engine.append("interfaces", &batch).await.expect("append");
    }
    engine.flush().await.expect("flush");
    let times = [
        at(1, 0),
        at(2, 10),
        at(2, 40),
        at(4, 0),
        at(6, 59),
        at(9, 0),
    ];
    let mut before = Vec::new();
    for t in times {
        before.push(state_at(&engine, t).await);
    }
    assert_eq!(before[2], ["swp1", "swp2"]);

    let stats = engine.maintain().await.expect("maintain");
    assert!(stats.checkpoints_written >= 1, "{stats:?}");
    let table = engine.table_stats("interfaces").expect("stats");
    assert_eq!(table.checkpoints, stats.checkpoints_written);
    assert_eq!(
        files_under(&dir.path().join("checkpoints/interfaces")).len(),
        table.checkpoints
    );
    for (t, expected) in times.into_iter().zip(&before) {
        assert_eq!(&state_at(&engine, t).await, expected, "state at {t}");
    }
    assert_eq!(
        engine
            .maintain()
            .await
            .expect("maintain")
            .checkpoints_written,
        0
    );
}

#[tokio::test]
async fn retention_drops_old_hours_and_keeps_their_state_in_a_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.retention = Some(Duration::from_secs(2 * 3600));
    let engine = Engine::open(config).await.expect("open");
    let now = now_us();
    let old = now - 5 * 3_600_000_000;
    append(&engine, &[old, now - 600_000_000]).await;
    engine.flush().await.expect("flush");
    assert_eq!(
        engine.table_stats("interfaces").expect("stats").event_files,
        2
    );

    let stats = engine.maintain().await.expect("maintain");
    assert_eq!(stats.files_dropped, 1);
    assert_eq!(stats.checkpoints_written, 1, "the horizon's checkpoint");
    assert_eq!(
        engine.table_stats("interfaces").expect("stats").event_files,
        1
    );
    assert_eq!(files_under(&dir.path().join("interfaces")).len(), 1);
    assert_eq!(state_at(&engine, now).await, ["swp0", "swp1"]);
    let changes = format!("select ifname from changes('interfaces', {old}, {now})");
    assert_eq!(first_column(&engine, &changes).await, ["swp1"]);
    assert_eq!(
        engine.maintain().await.expect("maintain"),
        MaintenanceStats::default()
    );
}
