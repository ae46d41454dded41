//! State at T with 1 day and with 30 days of history behind T, for the same 32k BGP sessions
//! (5.8M events: the performance anchors' history), state now from memory, the bytes the
//! checkpoints add, and side by side in the same run:
//! - the same question asked of DuckDB (`arg_max` and `row_number`) over the same Parquet files,
//! - SuzieQ 0.25's coalesced store at 1 day (its load of 30 days takes hours here; see
//!   `common::suzieq` for installing it),
//! - the backfill end to end (acknowledged, flushed, compacted, checkpointed) beside a
//!   single-threaded pyarrow sort-and-write of the same rows, one file per hour.
//!
//! `cargo bench --bench state_at [-- DAYS]` (default 30).

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use futures::StreamExt;

use sonde_engine::{Engine, EngineConfig};

use common::{BgpEvent, HOUR, Lcg, T0};

const SESSIONS: u32 = 32_768;
const EVENTS_PER_HOUR: usize = 8_000;
const RUNS: usize = 7;

/// Batches waiting for their fsync at once, as the server's DoPut keeps them for one stream.
const IN_FLIGHT: usize = 32;

/// The whole history as the batches a backfill sends: the sessions' first dump, then one batch
/// per hour. They are built before the clock starts, as a DoPut stream arrives already encoded.
fn history_batches(days: i64) -> Vec<RecordBatch> {
    let mut rng = Lcg::new(42);
    let mut active = vec![true; SESSIONS as usize];
    let dump: Vec<BgpEvent> = (0..SESSIONS)
        .map(|s| BgpEvent {
            ts: T0 + s as i64 * 1_000,
            session: s,
            established: true,
            active: true,
        })
        .collect();
    let mut batches = vec![common::bgp_batch(&dump)];
    for hour in 0..days * 24 {
        let mut events: Vec<BgpEvent> = (0..EVENTS_PER_HOUR)
            .map(|i| {
                let session = rng.below(SESSIONS as u64) as u32;
                let ts = T0
                    + hour * HOUR
                    + 60_000_000
                    + (i as i64 * (HOUR - 120_000_000) / EVENTS_PER_HOUR as i64);
                let delete = rng.below(50) == 0;
                let alive = if active[session as usize] {
                    !delete
                } else {
                    true
                };
                active[session as usize] = alive;
                BgpEvent {
                    ts,
                    session,
                    established: rng.below(4) > 0,
                    active: alive,
                }
            })
            .collect();
        events.sort_by_key(|e| e.ts);
        batches.push(common::bgp_batch(&events));
    }
    batches
}

/// Appends the history as a backfill over DoPut does: hour after hour, up to `IN_FLIGHT` batches
/// waiting for the WAL at once, flushing only when the memtable pushes back.
async fn write_history(engine: &Engine, batches: &[RecordBatch]) -> usize {
    let mut in_flight = futures::stream::FuturesOrdered::new();
    for batch in batches {
        if in_flight.len() == IN_FLIGHT {
            let done: sonde_engine::Result<usize> = in_flight.next().await.expect("one in flight");
            done.expect("append");
        }
        engine.backpressure().await;
        in_flight.push_back(engine.submit("bgp", batch).expect("submit"));
    }
    while let Some(done) = in_flight.next().await {
        done.expect("append");
    }
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// How long each part of the backfill took.
struct Backfill {
    rows: usize,
    acknowledged: Duration,
    flushed: Duration,
    maintained: Duration,
}

impl Backfill {
    fn total(&self) -> Duration {
        self.acknowledged + self.flushed + self.maintained
    }
}

/// The backfill as a server takes it: the engine's background flushes and maintenance run while
/// the history arrives; then the rest is flushed and maintained.
async fn backfill(engine: &Engine, days: i64) -> Backfill {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let background = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .run_background(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let batches = history_batches(days);
    let start = Instant::now();
    let rows = write_history(engine, &batches).await;
    let acknowledged = start.elapsed();
    // The background pass still running when the last batch is acknowledged counts as flushing.
    let start = Instant::now();
    let _ = stop.send(());
    background.await.expect("background task");
    engine.flush().await.expect("flush");
    let flushed = start.elapsed();
    let start = Instant::now();
    let maintenance = engine.maintain().await.expect("maintenance");
    let maintained = start.elapsed();
    println!("history: {rows} events over {days} days ({maintenance:?})");
    Backfill {
        rows,
        acknowledged,
        flushed,
        maintained,
    }
}

async fn time_state(engine: &Engine, at: i64, runs: usize) -> (Duration, usize) {
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let batches = engine
            .collect(engine.state_at("bgp", at).expect("plan"))
            .await
            .expect("run");
        samples.push(start.elapsed());
        rows = batches.iter().map(|b| b.num_rows()).sum();
    }
    (common::median(samples), rows)
}

/// Where a state query's time goes, operator by operator (`STATE_AT_EXPLAIN=1`).
async fn explain_analyze(engine: &Engine, at: i64) {
    let sql = format!("select * from state_at('bgp', {at})");
    let query = engine.sql(&sql).await.expect("plan");
    common::print_explain_analyze(&sql, query).await;
}

const DUCKDB: &str = r#"
import duckdb, json, sys, time
root, times = sys.argv[1], [int(t) for t in sys.argv[2:]]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
src = f"read_parquet('{root}/bgp/**/*.parquet', hive_partitioning = true)"
forms = {
    "arg_max": "SELECT count(*) FROM (SELECT arg_max(b, b.timestamp) AS r FROM {src} b "
               "WHERE b.timestamp <= make_timestamp({t})::TIMESTAMPTZ GROUP BY hostname, vrf, peer) WHERE r.active",
    "row_number": "SELECT count(*) FROM (SELECT *, row_number() OVER (PARTITION BY hostname, vrf, peer ORDER BY timestamp DESC) AS rn "
                  "FROM {src} WHERE timestamp <= make_timestamp({t})::TIMESTAMPTZ) WHERE rn = 1 AND active",
}
out = {}
for name, form in forms.items():
    for t in times:
        q = form.format(src=src, t=t)
        samples, rows = [], None
        for _ in range(5):
            start = time.perf_counter()
            rows = con.execute(q).fetchone()[0]
            samples.append(time.perf_counter() - start)
        samples.sort()
        out[f"{name}@{t}"] = [samples[len(samples) // 2] * 1000, rows]
print(json.dumps(out))
"#;

/// The limit a backfill is held to: one core of pyarrow sorting each hour's rows by key and
/// time and writing them as one ZSTD file, the same rows as Sonde's event files hold, read into
/// memory first (untimed) in arrival order.
const PYARROW_BACKFILL: &str = r#"
import glob, json, os, sys, tempfile, time
import numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
pa.set_cpu_count(1)
pa.set_io_thread_count(1)
root = sys.argv[1]
files = [f for f in glob.glob(f"{root}/bgp/date=*/hour=*/*.parquet")]
t = pa.concat_tables([pq.read_table(f, partitioning=None) for f in files])
t = t.sort_by("timestamp")
hour = pc.cast(t["timestamp"], pa.int64()).to_numpy() // 3_600_000_000
cuts = np.flatnonzero(hour[1:] != hour[:-1]) + 1
bounds = list(zip(np.r_[0, cuts], np.r_[cuts, t.num_rows]))
out = tempfile.mkdtemp()
keys = [("hostname", "ascending"), ("vrf", "ascending"), ("peer", "ascending"), ("timestamp", "ascending")]
start = time.perf_counter()
for i, (a, b) in enumerate(bounds):
    part = t.slice(a, b - a).sort_by(keys)
    pq.write_table(part, f"{out}/{i}.parquet", compression="zstd", row_group_size=100_000)
elapsed = time.perf_counter() - start
print(json.dumps({"rows": t.num_rows, "files": len(bounds), "seconds": elapsed}))
"#;

fn main() {
    let days: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig::local(dir.path());
    let t_first_day = T0 + 24 * HOUR - 1;
    let t_last_day = T0 + days * 24 * HOUR - 1;

    let (fill, first, last, now, stats) = runtime.block_on(async {
        let engine = Engine::open(config).await.expect("engine");
        let fill = backfill(&engine, days).await;
        if std::env::var_os("STATE_AT_EXPLAIN").is_some() {
            explain_analyze(&engine, t_first_day).await;
        }
        let first = time_state(&engine, t_first_day, RUNS).await;
        let last = time_state(&engine, t_last_day, RUNS).await;
        engine.load_current_states().await.expect("current state");
        let now = time_state(&engine, sonde_schema::row::now_us(), 50).await;
        let stats = engine.table_stats("bgp").expect("stats");
        engine.close().await.expect("close");
        (fill, first, last, now, stats)
    });

    println!();
    println!("state at T over {SESSIONS} BGP sessions, median of {RUNS}:");
    println!(
        "  Sonde, 1 day behind T      {:>9.1} ms  ({} sessions)   (target ≤ 30 ms)",
        common::ms(first.0),
        first.1
    );
    println!(
        "  Sonde, {days} days behind T    {:>9.1} ms  ({} sessions)",
        common::ms(last.0),
        last.1
    );
    println!(
        "  ratio {days} d / 1 d             {:>9.2}   (target ≤ 1.2)",
        last.0.as_secs_f64() / first.0.as_secs_f64()
    );
    println!(
        "  Sonde, state now (memory)  {:>9.2} ms  ({} sessions; median of 50; target ≤ 5 ms)",
        common::ms(now.0),
        now.1
    );
    if let (Some(keys), Some(bytes)) = (stats.current_keys, stats.current_bytes) {
        println!(
            "  current state: {keys} keys in {:.1} MiB, {} bytes per key",
            bytes as f64 / 1048576.0,
            bytes / keys.max(1)
        );
    }
    println!(
        "  checkpoints: {} files, {:.1} MiB = {:.2}× the event log's {:.1} MiB in {} files (target ≤ 0.5×; SuzieQ's coalescer 4.1×)",
        stats.checkpoints,
        stats.checkpoint_bytes as f64 / 1048576.0,
        stats.checkpoint_bytes as f64 / stats.event_bytes as f64,
        stats.event_bytes as f64 / 1048576.0,
        stats.event_files
    );

    let root = dir.path().to_str().expect("utf-8");
    print_duckdb(root, days, (t_first_day, first.0), (t_last_day, last.0));
    print_suzieq(root, t_first_day, first.0, dir.path());
    print_backfill(root, &fill);
}

fn print_duckdb(root: &str, days: i64, first: (i64, Duration), last: (i64, Duration)) {
    let Some(duck) = common::python(DUCKDB, &[root, &first.0.to_string(), &last.0.to_string()])
    else {
        println!("  DuckDB: not run (pip install duckdb)");
        return;
    };
    let duck: serde_json::Value =
        serde_json::from_str(duck.lines().last().unwrap_or_default()).expect("duckdb json");
    println!("  same question, DuckDB over the same files (median of 5):");
    for form in ["arg_max", "row_number"] {
        for (label, (t, ours)) in [("1 day".to_string(), first), (format!("{days} days"), last)] {
            let entry = &duck[format!("{form}@{t}")];
            let (duck_ms, duck_rows) = (
                entry[0].as_f64().unwrap_or(f64::NAN),
                entry[1].as_u64().unwrap_or(0),
            );
            println!(
                "    DuckDB {form:<10} {label:<8} {duck_ms:>9.1} ms  ({duck_rows} sessions)   DuckDB / Sonde = {:.2}",
                duck_ms / common::ms(ours)
            );
        }
    }
}

/// SuzieQ at 1 day: it loads the events up to T only.
fn print_suzieq(root: &str, at: i64, ours: Duration, scratch: &std::path::Path) {
    let scratch = scratch.join("suzieq");
    let output = common::suzieq(root, at, 5, scratch.to_str().expect("utf-8"));
    let Some(answer) =
        output.and_then(|o| serde_json::from_str::<serde_json::Value>(o.lines().last()?).ok())
    else {
        println!("  SuzieQ: not run");
        return;
    };
    let show = &answer["questions"]["show bgp"];
    let p50 = show["p50"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  SuzieQ 0.25 coalesced, 1 day: show bgp {p50:.1} ms ({})   SuzieQ / Sonde = {:.1}   (target ≥ 10); its load {:.0} s, coalescer {:.0} s",
        show["result"].as_str().unwrap_or(""),
        p50 / common::ms(ours),
        answer["load_s"].as_f64().unwrap_or(f64::NAN),
        answer["coalesce_s"].as_f64().unwrap_or(f64::NAN)
    );
}

fn print_backfill(root: &str, fill: &Backfill) {
    let rate = |rows: usize, d: Duration| rows as f64 / d.as_secs_f64() / 1000.0;
    println!();
    println!("backfill of {} events:", fill.rows);
    println!(
        "  Sonde: acknowledged {:.1} s ({:.0} k rows/s), flushed {:.1} s, compacted and checkpointed {:.1} s: end to end {:.1} s = {:.0} k rows/s",
        fill.acknowledged.as_secs_f64(),
        rate(fill.rows, fill.acknowledged),
        fill.flushed.as_secs_f64(),
        fill.maintained.as_secs_f64(),
        fill.total().as_secs_f64(),
        rate(fill.rows, fill.total())
    );
    let Some(out) = common::python(PYARROW_BACKFILL, &[root]) else {
        println!("  pyarrow: not run (pip install pyarrow)");
        return;
    };
    let limit: serde_json::Value =
        serde_json::from_str(out.lines().last().unwrap_or_default()).expect("pyarrow json");
    let seconds = limit["seconds"].as_f64().unwrap_or(f64::NAN);
    let rows = limit["rows"].as_u64().unwrap_or(0) as usize;
    let theirs = rows as f64 / seconds / 1000.0;
    println!(
        "  pyarrow, one thread, sort and write {rows} rows into {} hourly files: {seconds:.1} s = {theirs:.0} k rows/s",
        limit["files"]
    );
    println!(
        "  Sonde / pyarrow = {:.2}   (target ≥ 0.8)",
        rate(fill.rows, fill.total()) / theirs
    );
}
