//! `sonde import pcap <file>`: the INT collector over a packet capture, for post-mortems. The
//! capture is read on a blocking thread and decoded by the same collector the receiver uses,
//! stamped with the capture's own times; its batches are appended to the store as they fill.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use arrow::array::RecordBatch;
use sonde_engine::Engine;
use sonde_ingest::int::{CaptureFilter, CaptureStats, Collector, CollectorConfig, read_capture};
use sonde_schema::TableDef;
use tokio::sync::mpsc;

use crate::cli::{Global, ImportArgs, ImportSource, PcapArgs, QueryArgs, StoreArgs};
use crate::out::say;

/// Reports per batch handed to the store.
const BATCH_REPORTS: usize = 65_536;

type Tables = Vec<(&'static TableDef, RecordBatch)>;

pub async fn run(args: ImportArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    global.refuse(
        "import",
        &[Global::Server, Global::Token, Global::TlsCa, Global::Json],
    )?;
    match args.source {
        ImportSource::Pcap(pcap) => import_pcap(pcap, &global.store).await,
    }
}

async fn import_pcap(args: PcapArgs, store: &StoreArgs) -> anyhow::Result<ExitCode> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let engine = Engine::open(store.engine_config()?)
        .await
        .context("cannot open the store")?;
    let mut config = CollectorConfig {
        collector: format!("pcap:{}", file_name(&args.file)),
        ..CollectorConfig::default()
    };
    for (code, name) in &args.int_drop_reason {
        config.drop_reasons.name(*code, name.clone());
    }
    let filter = CaptureFilter {
        ports: args.port.iter().copied().filter(|&p| p != 0).collect(),
    };
    let (sink, mut batches) = mpsc::channel::<Tables>(4);
    let reading = tokio::task::spawn_blocking(move || decode(file, size, &filter, config, &sink));
    let mut rows = 0usize;
    while let Some(tables) = batches.recv().await {
        for (table, batch) in tables {
            rows += engine.append(table.name, &batch).await?;
        }
    }
    let (stats, collected) = reading.await.context("the capture reader stopped")??;
    engine.close().await?;
    say!(
        "imported {} reports from {} datagrams of {} packets ({} not INT datagrams to the port{}, {} undecodable) into {}: {rows} rows",
        collected.reports,
        stats.datagrams,
        stats.packets,
        stats.skipped,
        if args.port.len() == 1 { "" } else { "s" },
        collected.errors,
        engine.config().store,
    );
    Ok(ExitCode::SUCCESS)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads the capture through a collector, sending a batch every [`BATCH_REPORTS`] reports.
fn decode(
    file: File,
    size: u64,
    filter: &CaptureFilter,
    config: CollectorConfig,
    sink: &mpsc::Sender<Tables>,
) -> anyhow::Result<(CaptureStats, sonde_ingest::int::CollectorStats)> {
    let mut collector = Collector::new(config);
    let mut last_at = 0i64;
    let mut failed = None;
    let mut progress = Progress::new(size);
    let stats = read_capture(
        BufReader::new(file),
        filter,
        &mut |datagram| {
            last_at = datagram.at_us;
            let exporter = canonical(datagram.source);
            collector.datagram(exporter, datagram.at_us, datagram.payload);
            if collector.pending_reports() >= BATCH_REPORTS && failed.is_none() {
                failed = hand_over(&mut collector, last_at, sink).err();
            }
        },
        &mut |stats| progress.show(stats),
    )?;
    progress.finish();
    if let Some(error) = failed {
        return Err(error);
    }
    let tables = collector.finish(last_at)?;
    send(tables, sink)?;
    Ok((stats, collector.stats()))
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

fn hand_over(
    collector: &mut Collector,
    at_us: i64,
    sink: &mpsc::Sender<Tables>,
) -> anyhow::Result<()> {
    send(collector.take(at_us)?, sink)
}

fn send(tables: Tables, sink: &mpsc::Sender<Tables>) -> anyhow::Result<()> {
    if !tables.is_empty() {
        sink.blocking_send(tables)
            .map_err(|_| anyhow::anyhow!("the store stopped taking rows"))?;
    }
    Ok(())
}

/// A progress line on a terminal, at most every half second.
struct Progress {
    size: u64,
    shown: Instant,
    terminal: bool,
}

impl Progress {
    fn new(size: u64) -> Self {
        Progress {
            size,
            shown: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, stats: &CaptureStats) {
        if !self.terminal || self.shown.elapsed() < Duration::from_millis(500) {
            return;
        }
        self.shown = Instant::now();
        let percent = (stats.bytes * 100).checked_div(self.size).unwrap_or(100);
        eprint!(
            "\r{percent:>3}%  {} packets, {} INT datagrams",
            stats.packets, stats.datagrams
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
