//! `sonde simulate`: writes a simulated fabric's history into a store, for benchmarks and for
//! trying queries at scale; and the loader `sonde demo` shares.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use std::net::IpAddr;

use sonde_engine::Engine;
use sonde_ingest::int::{Collector, CollectorConfig};
use sonde_schema::row::Row;
use sonde_sim::{Batches, Node, Simulation, Sink, Window};
use tokio::sync::mpsc;

use crate::cli::{Global, QueryArgs, SimulateArgs};
use crate::out::say;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const MAINTAIN_EVERY_FLUSHES: usize = 8;

/// Rows written per table.
pub type Counts = BTreeMap<&'static str, u64>;

pub async fn run(args: SimulateArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    global.refuse(
        "simulate",
        &[Global::Server, Global::Token, Global::TlsCa, Global::Json],
    )?;
    if args.nodes < 8 || args.days < 1 {
        anyhow::bail!("a simulation needs at least 8 nodes and 1 day");
    }
    refuse_used_store(
        &global.store.data_dir(),
        "simulated history goes into a new store (pick another --data-dir)",
    )?;
    let engine = Engine::open(global.store.engine_config()?)
        .await
        .context("cannot open the store")?;
    let end = match &args.end {
        Some(end) => sonde_engine::parse_instant(end).map_err(|e| anyhow::anyhow!("--end: {e}"))?,
        None => chrono::Utc::now().timestamp_micros(),
    };
    let start = end - args.days * DAY;
    let sim = Simulation::scale(args.nodes, start, end);
    let nodes = sim.topology().nodes.len();
    eprintln!(
        "simulating {nodes} nodes ({} links) over {} days into {}",
        sim.topology().links.len(),
        args.days,
        engine.config().store
    );
    let began = Instant::now();
    let mut progress = Progress::new(start, end);
    let counts = write(&engine, sim, end, HOUR, |at, rows| progress.show(at, rows)).await?;
    progress.finish();
    eprintln!("flushing, compacting and writing checkpoints…");
    engine.flush().await?;
    engine.maintain().await?;
    engine.close().await?;
    print_summary(&engine, &counts, began.elapsed())?;
    Ok(ExitCode::SUCCESS)
}

/// Simulated history goes into a new store, never over someone's data: `why` says so when `dir`
/// is not empty.
pub fn refuse_used_store(dir: &std::path::Path, why: &str) -> anyhow::Result<()> {
    let used = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if used {
        anyhow::bail!("{} is not empty: {why}", dir.display());
    }
    Ok(())
}

/// Runs `sim` from its start to `end` in windows of `window` µs and appends every row to
/// `engine`, generating the next window on another thread while this one is written.
/// `progress` hears the time reached and the rows written so far.
pub async fn write(
    engine: &Engine,
    sim: Simulation,
    end: i64,
    window: i64,
    mut progress: impl FnMut(i64, u64),
) -> anyhow::Result<Counts> {
    let (tx, mut rx) = mpsc::channel::<Window>(2);
    let generator = std::thread::spawn(move || -> Result<(), ArrowError> {
        for window in collected_windows(sim, end, window) {
            if tx.blocking_send(window?).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut counts = Counts::new();
    let (mut written, mut unflushed, mut flushes) = (0u64, 0usize, 0usize);
    let flush_rows = engine.config().flush_rows;
    while let Some((until, batches)) = rx.recv().await {
        let mut pending = Vec::with_capacity(batches.len());
        for (table, batch) in &batches {
            pending.push(engine.submit(table, batch)?);
            *counts.entry(table).or_default() += batch.num_rows() as u64;
            written += batch.num_rows() as u64;
            unflushed += batch.num_rows();
        }
        for appended in pending {
            appended.await?;
        }
        if unflushed >= flush_rows {
            engine.flush().await?;
            unflushed = 0;
            flushes += 1;
            // Compacting and checkpointing as the history grows keeps each pass (and the
            // memory it needs) to a few hours of rows instead of the whole history at the end.
            if flushes % MAINTAIN_EVERY_FLUSHES == 0 {
                engine.maintain().await?;
            }
        }
        progress(until, written);
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the simulation thread panicked"))??;
    Ok(counts)
}

/// The simulation window by window, its switches' INT datagrams decoded by a collector as the
/// server's receiver would decode them, into the same windows as the agents' rows.
fn collected_windows(
    mut sim: Simulation,
    end: i64,
    window: i64,
) -> impl Iterator<Item = Result<Window, ArrowError>> {
    let mut sink = Collecting::new("simulated");
    let mut at = sim.start();
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let until = at.saturating_add(window).min(end);
        sim.run(at, until, &mut sink);
        at = until;
        Some(sink.take(until).map(|tables| (until, tables)))
    })
}

/// A simulation sink that gathers the agents' rows and decodes the INT exporters' datagrams.
pub struct Collecting {
    batches: Batches,
    collector: Collector,
}

impl Collecting {
    /// `collector` labels the INT rows' `collector` column.
    pub fn new(collector: &str) -> Self {
        Collecting {
            batches: Batches::default(),
            collector: Collector::new(CollectorConfig {
                collector: collector.to_string(),
                ..CollectorConfig::default()
            }),
        }
    }

    /// Everything gathered, one batch per table; INT's loss and error rows are stamped `now`.
    pub fn take(&mut self, now: i64) -> Result<Vec<(&'static str, RecordBatch)>, ArrowError> {
        let mut tables = self.batches.take()?;
        for (table, batch) in self.collector.take(now)? {
            tables.push((table.name, batch));
        }
        Ok(tables)
    }
}

impl Sink for Collecting {
    fn agent_row(&mut self, node: &Node, row: Row) {
        self.batches.agent_row(node, row);
    }

    fn int_datagram(&mut self, _exporter: &Node, address: IpAddr, at: i64, datagram: &[u8]) {
        self.collector.datagram(address, at, datagram);
    }
}

fn print_summary(engine: &Engine, counts: &Counts, elapsed: Duration) -> anyhow::Result<()> {
    let total: u64 = counts.values().sum();
    say!(
        "{:<12} {:>12} {:>7} {:>10}",
        "table",
        "rows",
        "files",
        "MiB"
    );
    for (table, rows) in counts {
        let stats = engine.table_stats(table)?;
        let mib = (stats.event_bytes + stats.checkpoint_bytes) as f64 / (1024.0 * 1024.0);
        let files = stats.event_files + stats.checkpoints;
        say!("{table:<12} {rows:>12} {files:>7} {mib:>10.1}");
    }
    say!(
        "{total} rows in {:.1} s ({:.2} M rows/s)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6
    );
    Ok(())
}

/// A progress bar on a terminal, a line per tenth otherwise.
struct Progress {
    start: i64,
    end: i64,
    began: Instant,
    shown: Instant,
    tenths: i64,
    terminal: bool,
}

impl Progress {
    fn new(start: i64, end: i64) -> Progress {
        Progress {
            start,
            end,
            began: Instant::now(),
            shown: Instant::now(),
            tenths: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, at: i64, rows: u64) {
        let done = (at - self.start) as f64 / (self.end - self.start).max(1) as f64;
        let rate = rows as f64 / self.began.elapsed().as_secs_f64().max(1e-9) / 1e6;
        let day = (at - self.start) / DAY;
        let days = (self.end - self.start + DAY - 1) / DAY;
        let line = format!(
            "{:>3.0}%  day {day}/{days}  {:.1} M rows  {rate:.2} M rows/s",
            done * 100.0,
            rows as f64 / 1e6
        );
        if self.terminal {
            if self.shown.elapsed() >= Duration::from_millis(200) || at >= self.end {
                let filled = (done * 30.0) as usize;
                eprint!(
                    "\r[{}{}] {line}",
                    "#".repeat(filled),
                    ".".repeat(30 - filled.min(30))
                );
                let _ = std::io::stderr().flush();
                self.shown = Instant::now();
            }
        } else if (done * 10.0) as i64 > self.tenths {
            self.tenths = (done * 10.0) as i64;
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
