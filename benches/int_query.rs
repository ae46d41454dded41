//! INT queries over an hour of reports: the store is filled through the collector (the
//! receiver's decode path) with single-hop and three-hop v0.5 flow reports from eight
//! exporters spread evenly over the hour, flushed and compacted; then `check int`, `show int
//! hops` (all, and one switch's) and `show int flows` are timed, p50 and p95 of several runs.
//!
//! `cargo bench --bench int_query [-- REPORTS]` (default 10,000,000 reports in the hour).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use sonde_engine::{Engine, EngineConfig};
use sonde_ingest::int::{Collector, CollectorConfig};
use sonde_ingest::testing::int::v0_5;
use sonde_server::EngineCatalog;

const HOUR_US: i64 = 3_600_000_000;
/// 2026-11-20T12:00:00Z.
const NOW: i64 = 1_795_176_000_000_000;
const EXPORTERS: u32 = 8;
const BATCH: usize = 65_536;
const RUNS: usize = 7;

const STATEMENTS: &[&str] = &[
    "check int",
    "show int hops",
    "show int hops hostname 0xb012e301",
    "show int flows",
];

async fn fill(engine: &Engine, reports: u64) -> u64 {
    let mut collector = Collector::new(CollectorConfig::default());
    let datagrams: Vec<Vec<u8>> = (0..1024)
        .map(|s| v0_5(s, if s % 4 == 0 { 3 } else { 1 }))
        .collect();
    let start = NOW - HOUR_US;
    let mut rows = 0u64;
    let mut datagram = Vec::new();
    for i in 0..reports {
        let from = i % u64::from(EXPORTERS);
        let exporter = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 10 + from as u8));
        let at = start + (i as i64 * HOUR_US) / reports as i64;
        // Each exporter numbers its own reports, one after the other.
        let sequence = (i / u64::from(EXPORTERS)) as u32;
        datagram.clear();
        datagram.extend_from_slice(&datagrams[(i % 1024) as usize]);
        datagram[4..8].copy_from_slice(&sequence.to_be_bytes());
        collector.datagram(exporter, at, &datagram);
        if collector.pending_reports() >= BATCH {
            rows += append(engine, &mut collector, at).await;
        }
    }
    rows + append(engine, &mut collector, NOW).await
}

async fn append(engine: &Engine, collector: &mut Collector, at: i64) -> u64 {
    let mut rows = 0;
    for (table, batch) in collector.take(at).expect("batches build") {
        rows += engine.append(table.name, &batch).await.expect("appends") as u64;
    }
    engine.backpressure().await;
    rows
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let reports: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("opens");
    let began = Instant::now();
    let rows = fill(&engine, reports).await;
    engine.flush().await.expect("flushes");
    engine.maintain().await.expect("compacts");
    println!(
        "INT queries over one hour of {reports} reports from {EXPORTERS} exporters ({rows} rows, stored in {:.1} s):",
        began.elapsed().as_secs_f64()
    );
    let catalog = EngineCatalog::new(engine.clone());
    for statement in STATEMENTS {
        let mut times = Vec::new();
        let mut answer = String::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let result = netql::run(&catalog, statement, NOW).await;
            times.push(start.elapsed().as_secs_f64() * 1e3);
            answer = match result {
                Ok(a) => match a.summary {
                    Some(s) => format!("{} checked, {} failed", s.total_items, s.failed_items),
                    None => format!("{} rows", a.rows()),
                },
                Err(e) => format!("error: {e}"),
            };
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {statement:<36} p50 {:>8.1} ms   p95 {:>8.1} ms   {}",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            answer.lines().next().unwrap_or("")
        );
    }
    engine.close().await.expect("closes");
}
