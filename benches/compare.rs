//! The project's side-by-side comparisons in one run. A simulated CLOS fabric (`sonde_sim`, the
//! same history `sonde simulate` writes) goes into a Sonde store, flushed, compacted and
//! checkpointed; then the same questions are answered by
//! - Sonde (NetQL, in process),
//! - DuckDB in SQL over the same Parquet files,
//! - SuzieQ 0.25 after loading the same history into its own Parquet store and coalescing it
//!   (`benches/suzieq.py`, run with `SUZIEQ_PYTHON`, default `/opt/suzieq/bin/python`: install with
//!   `python3 -m venv /opt/suzieq && /opt/suzieq/bin/pip install suzieq==0.25.0`),
//!
//! and each line gives the peers' medians as multiples of Sonde's. NetQL's parse and plan
//! latencies come first; `COMPARE_EXPLAIN=1` also prints each question's EXPLAIN ANALYZE.
//!
//! `cargo bench --bench compare [-- NODES DAYS | -- --store DIR]` (default 1000 nodes, 30 days;
//! `--store` reuses what `sonde simulate --end 2026-11-20T12:00:00Z` wrote). SuzieQ's load
//! and coalescer take about an hour for 1000 nodes × 7 days here: `SUZIEQ_PYTHON=none` leaves it
//! out, smaller fabrics keep it in.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use netql::{Planner, parse};
use serde_json::Value;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::EngineCatalog;
use sonde_sim::Simulation;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const RUNS: usize = 9;

/// (question, NetQL statement, SuzieQ's name for it)
const QUESTIONS: &[(&str, &str, Option<&str>)] = &[
    ("show bgp", "show bgp", Some("show bgp")),
    ("check bgp", "check bgp", Some("assert bgp")),
    (
        "show bgp around 10h",
        "show bgp around 10h",
        Some("show bgp around 10h"),
    ),
    (
        "show interfaces",
        "show interfaces",
        Some("show interfaces"),
    ),
    (
        "show changes between 2d and 1d",
        "show changes between 2d and 1d",
        None,
    ),
];

const STATEMENTS: &[&str] = &[
    "check bgp",
    "spine01 check bgp around 10h json",
    "show bgp around 10h",
    "leaf0* show interfaces swp51 state down",
    "show changes between 2d and 1d",
    "show ip routes 10.1.0.0/24 vrf default",
    "select hostname, count(*) from bgp where state != Established group by hostname order by hostname limit 10",
    "check mtu",
    "check vlan around 2026-10-02T00:00:00Z",
];

fn parse_and_plan(catalog: &EngineCatalog, now: i64) {
    println!("parse + plan, median of 2000 (µs):");
    for statement in STATEMENTS {
        let mut parse_times = Vec::new();
        let mut plan_times = Vec::new();
        for _ in 0..2000 {
            let start = Instant::now();
            let parsed = parse(statement).expect("parses");
            let parsed_at = Instant::now();
            let planned = Planner::new(catalog, now).plan(&parsed).expect("plans");
            plan_times.push(parsed_at.elapsed());
            parse_times.push(parsed_at - start);
            drop(planned);
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "  {:>8.1} parse {:>8.1} plan   {statement}",
            us(common::percentile(&mut parse_times, 0.5)),
            us(common::percentile(&mut plan_times, 0.5))
        );
    }
}

/// The tables `show changes` reads that the store holds files of, each as
/// `name:key,key:state` (`state` when the table has a `state` column) for DuckDB's script.
fn change_tables(store: &std::path::Path) -> Vec<String> {
    sonde_schema::ALL_TABLES
        .iter()
        .filter(|t| netql::family::is_state_table(t))
        .filter(|t| store.join(t.name).is_dir())
        .map(|t| {
            let keys: Vec<&str> = t.keys.iter().map(|c| c.name).collect();
            let state = t.values.iter().any(|c| c.name == "state");
            format!(
                "{}:{}:{}",
                t.name,
                keys.join(","),
                if state { "state" } else { "" }
            )
        })
        .collect()
}

const DUCKDB: &str = r#"
import duckdb, json, sys, time
root, now = sys.argv[1], int(sys.argv[2])
runs = int(sys.argv[3])
change_tables = [t.split(":") for t in sys.argv[4].split(";")]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
def src(t):
    return f"read_parquet('{root}/{t}/**/*.parquet', hive_partitioning = true)"
def state(t, keys, at):
    return f"""(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY timestamp DESC) rn
              FROM {src(t)} WHERE timestamp <= make_timestamp({at})::TIMESTAMPTZ) WHERE rn = 1 AND active)"""
def check_bgp(at):
    return f"""WITH s AS {state('bgp', 'hostname, vrf, peer', at)}, i AS {state('interfaces', 'hostname, ifname', at)},
      a AS (SELECT hostname, epoch_us(timestamp) + 3000000 * coalesce(heartbeat_interval_s::BIGINT, 30) < {at} AS rotten FROM {state('agents', 'hostname', at)})
      SELECT count(*) AS sessions, count(reason) AS failed, count(DISTINCT s_host) AS nodes FROM (
        SELECT s.hostname AS s_host, CASE WHEN a.rotten THEN 'Rotten Agent'
          WHEN s.state <> 'Established' AND i.state = 'down' THEN 'Interface down'
          WHEN p.asn <> s.peer_asn THEN 'ASN mismatch'
          WHEN s.state <> 'Established' THEN coalesce(nullif(s.last_reset_reason, ''), s.state)
          WHEN p.config_hold_time <> s.config_hold_time THEN 'Hold time mismatch' END AS reason
        FROM s LEFT JOIN i ON i.hostname = s.hostname AND i.ifname = s.ifname
        LEFT JOIN a ON a.hostname = s.hostname
        LEFT JOIN s p ON p.hostname = s.peer_hostname AND p.peer_hostname = s.hostname AND p.vrf = s.vrf)"""
def window(frm, to):
    return f"timestamp BETWEEN make_timestamp({frm})::TIMESTAMPTZ AND make_timestamp({to})::TIMESTAMPTZ"
def object_text(keys):
    keys = [k for k in keys.split(",") if k]
    return f"concat_ws(' ', {', '.join(f'{k}::VARCHAR' for k in keys)})" if keys else "''"
def changes(frm, to):
    # The answer `show changes` gives: every change line, ordered, with the object and state as
    # text, into Arrow as Sonde collects its batches.
    parts = [f"""SELECT timestamp, hostname, '{t}' AS type,
                 {object_text(keys)} AS object,
                 {"coalesce(state::VARCHAR, '')" if state else "''"} AS state,
                 CASE WHEN active THEN 'Add' ELSE 'Del' END AS change
               FROM {src(t)} WHERE {window(frm, to)}"""
             for t, keys, state in change_tables]
    return " UNION ALL ".join(parts) + " ORDER BY timestamp, hostname, type, object, change"
def rows_counted(frm, to):
    # Not the question: DuckDB drops an ORDER BY under a count, so this is a filtered scan.
    parts = [f"SELECT timestamp, hostname, active FROM {src(t)} WHERE {window(frm, to)}" for t, _, _ in change_tables]
    return "SELECT count(*) FROM (" + " UNION ALL ".join(parts) + ")"
H = 3_600_000_000
def counted(sql):
    return lambda: con.execute(sql).fetchall()
def into_arrow(sql):
    return lambda: [(con.sql(sql).to_arrow_table().num_rows,)]
questions = {
    "show bgp": counted(f"SELECT count(*) FROM {state('bgp', 'hostname, vrf, peer', now)}"),
    "check bgp": counted(f"SELECT * FROM ({check_bgp(now)})"),
    "show bgp around 10h": counted(f"SELECT count(*) FROM {state('bgp', 'hostname, vrf, peer', now - 10 * H)}"),
    "show interfaces": counted(f"SELECT count(*) FROM {state('interfaces', 'hostname, ifname', now)}"),
    "show changes between 2d and 1d": into_arrow(changes(now - 48 * H, now - 24 * H)),
    "rows counted": counted(rows_counted(now - 48 * H, now - 24 * H)),
}
out = {}
for name, answer in questions.items():
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter(); result = answer(); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[name] = {"p50": times[len(times) // 2], "p95": times[min(len(times) - 1, round((len(times) - 1) * 0.95))], "result": str(result[0])}
print(json.dumps(out))
"#;

/// Where a NetQL statement's time goes, operator by operator (`COMPARE_EXPLAIN=1`).
async fn explain_analyze(engine: &Engine, catalog: &EngineCatalog, statement: &str, now: i64) {
    let parsed = parse(statement).expect("parses");
    let planned = Planner::new(catalog, now).plan(&parsed).expect("plans");
    let query = engine
        .session()
        .execute_logical_plan(planned.plan)
        .await
        .expect("plan");
    common::print_explain_analyze(statement, query).await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The JSON object a peer's script prints as its last line.
fn last_json(output: Option<String>) -> Option<Value> {
    serde_json::from_str(output?.lines().last()?).ok()
}

/// A peer's timing of one question: p50 and p95 in ms, and its answer.
struct PeerTime {
    p50: f64,
    p95: f64,
    result: String,
}

fn peer_time(answers: Option<&Value>, question: &str) -> Option<PeerTime> {
    let entry = answers?.get(question)?;
    Some(PeerTime {
        p50: entry["p50"].as_f64()?,
        p95: entry["p95"].as_f64()?,
        result: entry["result"].to_string(),
    })
}

/// Where the history comes from: simulated here, or a store `sonde simulate --end
/// 2026-11-20T12:00:00Z` wrote before (`--store DIR`).
enum History {
    Simulate { nodes: usize, days: i64 },
    Store(std::path::PathBuf),
}

fn history_from_args() -> History {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--store") {
        return History::Store(args.get(i + 1).expect("--store DIR").into());
    }
    let mut numbers = args.iter().filter_map(|a| a.parse::<i64>().ok());
    History::Simulate {
        nodes: numbers.next().unwrap_or(1000) as usize,
        days: numbers.next().unwrap_or(30),
    }
}

async fn open_history(history: &History, dir: &std::path::Path, now: i64) -> Engine {
    let store = match history {
        History::Store(store) => store.clone(),
        History::Simulate { .. } => dir.join("sonde"),
    };
    let engine = Engine::open(EngineConfig::local(&store))
        .await
        .expect("engine");
    let &History::Simulate { nodes, days } = history else {
        println!("the history `sonde simulate` wrote in {}", store.display());
        return engine;
    };
    let start = Instant::now();
    let sim = Simulation::scale(nodes, now - days * DAY, now);
    let switches = sim.topology().nodes.len();
    let counts = common::write_history(&engine, sim, now).await;
    engine.flush().await.expect("flush");
    engine.maintain().await.expect("maintain");
    let rows: u64 = counts.values().sum();
    println!(
        "{switches} switches, {days} days: {rows} rows ({} bgp, {} interfaces, {} agents) written, flushed, compacted and checkpointed in {:.1} s",
        counts.get("bgp").unwrap_or(&0),
        counts.get("interfaces").unwrap_or(&0),
        counts.get("agents").unwrap_or(&0),
        start.elapsed().as_secs_f64()
    );
    engine
}

fn main() {
    let history = history_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let scratch = dir.path().join("suzieq");
    let scratch_path = scratch.to_str().expect("utf-8");
    let now = sonde_sim::REFERENCE_NOW;
    runtime.block_on(async {
        let engine = open_history(&history, dir.path(), now).await;
        let store = match engine.config().store.clone() {
            sonde_engine::StoreLocation::Local(path) => path,
            other => panic!("a local store, not {other}"),
        };
        let store_path = store.to_str().expect("utf-8");
        let began = Instant::now();
        let kept = engine.load_current_states().await.expect("current state");
        println!("current state of {} tables built in {:.1} s (the server does it at start-up)", kept.len(), began.elapsed().as_secs_f64());
        let catalog = EngineCatalog::new(engine.clone());
        parse_and_plan(&catalog, now);

        let change_tables = change_tables(&store).join(";");
        let duckdb = last_json(common::python(
            DUCKDB,
            &[store_path, &now.to_string(), &RUNS.to_string(), &change_tables],
        ));
        let suzieq = last_json(common::suzieq(store_path, now, RUNS, scratch_path));
        let suzieq_questions = suzieq.as_ref().and_then(|s| s.get("questions"));
        if let Some(s) = &suzieq {
            println!(
                "\nSuzieQ: loading its store took {:.1} s, its coalescer {:.1} s",
                s["load_s"].as_f64().unwrap_or(f64::NAN),
                s["coalesce_s"].as_f64().unwrap_or(f64::NAN)
            );
        }
        if std::env::var_os("COMPARE_EXPLAIN").is_some() {
            for &(_, statement, _) in QUESTIONS {
                explain_analyze(&engine, &catalog, statement, now).await;
            }
        }
        println!("\nanswers, {RUNS} runs each, p50 (p95) in ms      Sonde          DuckDB         SuzieQ     DuckDB/Sonde  SuzieQ/Sonde");
        for &(question, statement, suzieq_name) in QUESTIONS {
            let mut times = Vec::new();
            let mut answer_text = String::new();
            for _ in 0..RUNS {
                let began = Instant::now();
                let answer = netql::run(&catalog, statement, now).await.expect("answers");
                times.push(began.elapsed());
                answer_text = match answer.summary {
                    Some(summary) => format!("{} checked, {} failed", summary.total_items, summary.failed_items),
                    None => format!("{} rows", answer.rows()),
                };
            }
            let (p50, p95) = (ms(common::percentile(&mut times, 0.5)), ms(common::percentile(&mut times, 0.95)));
            let theirs_duck = peer_time(duckdb.as_ref(), question);
            let theirs_sq = suzieq_name.and_then(|name| peer_time(suzieq_questions, name));
            let cell = |p: &Option<PeerTime>| p.as_ref().map_or("-".to_string(), |p| format!("{:.0} ({:.0})", p.p50, p.p95));
            let ratio = |p: &Option<PeerTime>| p.as_ref().map_or("-".to_string(), |p| format!("{:.1}x", p.p50 / p50));
            let answer = |p: &Option<PeerTime>| p.as_ref().map_or("-".to_string(), |p| p.result.clone());
            println!(
                "  {question:<32} {:>14} {:>14} {:>14} {:>12} {:>12}",
                format!("{p50:.0} ({p95:.0})"),
                cell(&theirs_duck),
                cell(&theirs_sq),
                ratio(&theirs_duck),
                ratio(&theirs_sq),
            );
            println!(
                "      answers: Sonde {answer_text}; DuckDB {}; SuzieQ {}",
                answer(&theirs_duck),
                answer(&theirs_sq)
            );
        }
        if let Some(counted) = peer_time(duckdb.as_ref(), "rows counted") {
            println!(
                "  DuckDB only counting the rows of show changes' window, unordered (less than the question): {:.0} ({:.0}) ms, {}",
                counted.p50, counted.p95, counted.result
            );
        }
        engine.close().await.expect("close");
    });
}
