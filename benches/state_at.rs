//! State at T with 1 day and with 30 days of history behind T, for the same 32k BGP sessions
//! (5.8M events: the performance anchors' history), the bytes the checkpoints add, and the same
//! question asked of DuckDB over the same Parquet files in the same run.
//!
//! `cargo bench --bench state_at [-- DAYS]` (default 30).

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use sonde_engine::{Engine, EngineConfig};

use common::{BgpEvent, HOUR, Lcg, T0};

const SESSIONS: u32 = 32_768;
const EVENTS_PER_HOUR: usize = 8_000;
const RUNS: usize = 7;

async fn write_history(engine: &Engine, days: i64) -> usize {
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
    engine
        .append("bgp", &common::bgp_batch(&dump))
        .await
        .expect("append");
    let mut rows = dump.len();
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
        engine
            .append("bgp", &common::bgp_batch(&events))
            .await
            .expect("append");
        rows += events.len();
        if hour % 24 == 23 {
            engine.flush().await.expect("flush");
        }
    }
    engine.flush().await.expect("flush");
    rows
}

async fn time_state(engine: &Engine, at: i64) -> (Duration, usize) {
    let mut samples = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
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
    let mut config = EngineConfig::local(dir.path());
    config.flush_rows = usize::MAX;
    let t_first_day = T0 + 24 * HOUR - 1;
    let t_last_day = T0 + days * 24 * HOUR - 1;

    let (first, last, stats, rows, write_time) = runtime.block_on(async {
        let engine = Engine::open(config).await.expect("engine");
        let start = Instant::now();
        let rows = write_history(&engine, days).await;
        let maintenance = engine.maintain().await.expect("maintenance");
        let write_time = start.elapsed();
        println!("history: {rows} events over {days} days, written and checkpointed in {:.1} s ({maintenance:?})", write_time.as_secs_f64());
        let first = time_state(&engine, t_first_day).await;
        let last = time_state(&engine, t_last_day).await;
        let stats = engine.table_stats("bgp").expect("stats");
        engine.close().await.expect("close");
        (first, last, stats, rows, write_time)
    });
    let _ = (rows, write_time);

    println!();
    println!("state at T over {SESSIONS} BGP sessions, median of {RUNS}:");
    println!(
        "  Sonde, 1 day behind T      {:>9.1} ms  ({} sessions)",
        common::ms(first.0),
        first.1
    );
    println!(
        "  Sonde, {days} days behind T    {:>9.1} ms  ({} sessions)",
        common::ms(last.0),
        last.1
    );
    println!(
        "  ratio {days} d / 1 d             {:>9.2}   (target ≤ 1.5)",
        last.0.as_secs_f64() / first.0.as_secs_f64()
    );
    println!(
        "  checkpoints: {} files, {:.1} MiB = {:.2}× the event log's {:.1} MiB in {} files (target ≤ 0.5×; SuzieQ's coalescer 4.1×)",
        stats.checkpoints,
        stats.checkpoint_bytes as f64 / 1048576.0,
        stats.checkpoint_bytes as f64 / stats.event_bytes as f64,
        stats.event_bytes as f64 / 1048576.0,
        stats.event_files
    );

    let root = dir.path().to_str().expect("utf-8");
    let Some(duck) = common::python(
        DUCKDB,
        &[root, &t_first_day.to_string(), &t_last_day.to_string()],
    ) else {
        println!("  DuckDB: not run (pip install duckdb)");
        return;
    };
    let duck: serde_json::Value =
        serde_json::from_str(duck.lines().last().unwrap_or_default()).expect("duckdb json");
    println!("  same question, DuckDB over the same files (median of 5):");
    for form in ["arg_max", "row_number"] {
        for (label, t, ours) in [
            ("1 day", t_first_day, first),
            (&format!("{days} days") as &str, t_last_day, last),
        ] {
            let entry = &duck[format!("{form}@{t}")];
            let (duck_ms, duck_rows) = (
                entry[0].as_f64().unwrap_or(f64::NAN),
                entry[1].as_u64().unwrap_or(0),
            );
            println!(
                "    DuckDB {form:<10} {label:<8} {duck_ms:>9.1} ms  ({duck_rows} sessions)   DuckDB / Sonde = {:.2}",
                duck_ms / common::ms(ours.0)
            );
        }
    }
}
