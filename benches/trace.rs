//! Trace latency on a CLOS fabric with wide ECMP at the spine layer (default 1000 nodes, every
//! leaf cabled to each of 64 spines), side by side with SuzieQ 0.25's `path show` over the same
//! state (`benches/suzieq_path.py`, run with `SUZIEQ_PYTHON`, default `/opt/suzieq/bin/python`;
//! `none` leaves it out).
//!
//! One day of the simulated fabric's history (`sonde_sim`, with churn) goes into a store,
//! flushed, compacted and checkpointed. The traces go from the first leaf's gateway to the
//! middle leaf's: one path from a spine, one per spine from a leaf, twice that with `bidir`, and
//! the same as of six hours ago; each is run 20 times after a warm-up, p50 and p95 printed with
//! the number of paths, so how latency grows with the paths shows in one table.
//!
//! `cargo bench --bench trace [-- NODES ECMP]`

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::EngineCatalog;
use sonde_sim::Simulation;
use sonde_sim::topology::Topology;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const RUNS: usize = 20;
/// SuzieQ's `path show` takes tens of seconds on a fabric this size: fewer runs of it.
const SUZIEQ_RUNS: usize = 3;

struct Measured {
    p50: Duration,
    p95: Duration,
    paths: usize,
}

async fn measure(catalog: &EngineCatalog, statement: &str, now: i64) -> Measured {
    let answer = netql::run(catalog, statement, now).await.expect("traces");
    let json: Value = serde_json::from_str(&answer.render_json().expect("json")).expect("json");
    let count = |v: &Value| v["paths"].as_array().map_or(0, Vec::len);
    let paths = count(&json) + count(&json["reverse"]);
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let began = Instant::now();
        netql::run(catalog, statement, now).await.expect("traces");
        times.push(began.elapsed());
    }
    Measured {
        p50: common::percentile(&mut times, 0.5),
        p95: common::percentile(&mut times, 0.95),
        paths,
    }
}

/// SuzieQ's `path show` for each `(source, destination)`; `None` when it is left out or fails.
fn suzieq(store: &str, at: i64, scratch: &str, pairs: &[(String, String)]) -> Option<Value> {
    let mut args = vec![
        store.to_string(),
        at.to_string(),
        SUZIEQ_RUNS.to_string(),
        scratch.to_string(),
    ];
    for (source, destination) in pairs {
        args.extend([source.clone(), destination.clone()]);
    }
    let stdout = common::suzieq_script("suzieq_path.py", &args, &[])?;
    stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
}

fn main() {
    let mut numbers = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let nodes = numbers.next().unwrap_or(1000);
    let ecmp = numbers.next().unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("sonde");
    let now = sonde_sim::REFERENCE_NOW;
    let topology = Topology::clos_ecmp(nodes, ecmp);
    let leaves = topology.leaves().count();
    let (source, destination) = (topology.leaf_gateway(0), topology.leaf_gateway(leaves / 2));
    runtime.block_on(async {
        let engine = Engine::open(EngineConfig::local(&store))
            .await
            .expect("engine");
        let began = Instant::now();
        let switches = topology.nodes.len();
        let sim = Simulation::scale_on(topology, now - DAY, now);
        let counts = common::write_history(&engine, sim, now).await;
        engine.flush().await.expect("flush");
        engine.maintain().await.expect("maintain");
        println!(
            "{switches} switches, {ecmp}-way ECMP at the spines, 1 day: {} rows ({} routes, {} interfaces) written, flushed, compacted and checkpointed in {:.1} s",
            counts.values().sum::<u64>(),
            counts.get("routes").unwrap_or(&0),
            counts.get("interfaces").unwrap_or(&0),
            began.elapsed().as_secs_f64()
        );
        let began = Instant::now();
        engine.load_current_states().await.expect("current state");
        println!(
            "current state built in {:.1} s (the server does it at start-up; traces at now read it)",
            began.elapsed().as_secs_f64()
        );
        let catalog = EngineCatalog::new(engine.clone());
        let statements = [
            format!("trace {destination} from spine01"),
            format!("trace {destination} from {source}"),
            format!("trace {destination} from {source} bidir"),
            format!("trace {destination} from {source} around 6h"),
        ];
        let mut ours = Vec::new();
        for statement in &statements {
            ours.push(measure(&catalog, statement, now).await);
        }
        println!("\nSonde, {RUNS} runs each                                    paths   p50 (p95) in ms");
        for (statement, m) in statements.iter().zip(&ours) {
            println!(
                "{statement:<58} {:>5}  {:>7.2} ({:>6.2})",
                m.paths,
                common::ms(m.p50),
                common::ms(m.p95)
            );
        }
        let scratch = dir.path().join("suzieq");
        let pairs = [(source.clone(), destination.clone())];
        let Some(theirs) = suzieq(
            store.to_str().expect("utf-8"),
            now,
            scratch.to_str().expect("utf-8"),
            &pairs,
        ) else {
            return;
        };
        let leaf_to_leaf = &ours[1];
        let peer = &theirs["traces"][0];
        println!(
            "\nSuzieQ path show, {SUZIEQ_RUNS} runs (its store converted from the state at T in {:.1} s):",
            theirs["load_s"].as_f64().unwrap_or(f64::NAN)
        );
        if peer["error"].is_null() {
            let p50 = peer["p50"].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<58} {:>5}  {:>7.1} ({:>6.1})   {:.0}× Sonde's p50",
                format!("path show src {source} dest {destination}"),
                peer["paths"],
                p50,
                peer["p95"].as_f64().unwrap_or(f64::NAN),
                p50 / common::ms(leaf_to_leaf.p50)
            );
        } else {
            println!("path show failed: {}", peer["error"]);
        }
    });
}
