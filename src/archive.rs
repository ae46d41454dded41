//! `sonde archive push|verify`: the store's closed hours copied to object storage for
//! post-mortems, and the copy checked byte for byte. The archive is a store of its own:
//! `sonde --store s3://… check bgp` and `sonde serve --read-only --store s3://…` answer from it.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use sonde_engine::archive::{self, Archive, Progress, PushOptions};
use sonde_engine::{Engine, Store, StoreLocation};

use crate::cli::{ArchiveAction, ArchiveArgs, ArchiveCommand, Global, QueryArgs};
use crate::out::say;

pub async fn run(command: ArchiveCommand, global: QueryArgs) -> anyhow::Result<ExitCode> {
    global.refuse(
        "archive",
        &[Global::Server, Global::Token, Global::TlsCa, Global::Json],
    )?;
    match command.action {
        ArchiveAction::Push(args) => push(args, global).await,
        ArchiveAction::Verify(args) => verify(args, global).await,
    }
}

async fn open(args: &ArchiveArgs, global: &QueryArgs) -> anyhow::Result<(Engine, Archive)> {
    let source = Engine::open(global.store.reader_config()?)
        .await
        .context("cannot open the store")?;
    let location = StoreLocation::parse(&args.to)?;
    if location == source.config().store {
        anyhow::bail!("--to {} is the store itself: name another place", args.to);
    }
    let target = Store::open(&location, &global.store.s3_options())
        .with_context(|| format!("cannot open the archive {}", args.to))?;
    Ok((source, Archive::new(target)))
}

fn options(args: &ArchiveArgs) -> anyhow::Result<PushOptions> {
    let now = chrono::Utc::now().timestamp_micros();
    let since = match &args.since {
        None => None,
        Some(text) => Some(match netql::time::parse_duration(text) {
            Ok(back) => now - back.as_micros() as i64,
            Err(_) => sonde_engine::parse_instant(text).map_err(|_| {
                anyhow::anyhow!("--since {text}: expected a duration (30d) or a time (RFC 3339)")
            })?,
        }),
    };
    Ok(PushOptions {
        closed_before: now - args.settle.as_micros() as i64,
        since,
        tables: args.tables.clone(),
        jobs: args.jobs,
    })
}

async fn push(args: ArchiveArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    let (source, archive) = open(&args, &global).await?;
    let options = options(&args)?;
    check_tables(&source, &options.tables)?;
    let display = Display::new("push");
    let stats = archive::push(&source, &archive, &options, &|p| display.show(&p))
        .await
        .with_context(|| format!("the push to {} stopped; run it again to resume", args.to))?;
    display.finish();
    say!(
        "copied {} files ({}), {} already archived, {} removed from the archive{}{}",
        stats.copied,
        bytes(stats.copied_bytes),
        stats.unchanged,
        stats.removed,
        match stats.open {
            0 => String::new(),
            n => format!("; {n} files of open hours left for a later push"),
        },
        match stats.vanished {
            0 => String::new(),
            n => format!(
                "; {n} files merged away while copying (the next push takes their replacement)"
            ),
        },
    );
    Ok(ExitCode::SUCCESS)
}

async fn verify(args: ArchiveArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    let (source, archive) = open(&args, &global).await?;
    let options = options(&args)?;
    check_tables(&source, &options.tables)?;
    let display = Display::new("verify");
    let report = archive::verify(&archive, Some((&source, &options)), &|p| display.show(&p))
        .await
        .with_context(|| format!("cannot read the archive {}", args.to))?;
    display.finish();
    let problems = [
        (
            "corrupt (bytes differ from their checksum)",
            &report.corrupt,
        ),
        (
            "without a checksum (not written by a push)",
            &report.unsigned,
        ),
        ("in the store but not archived as they are", &report.missing),
    ];
    for (what, paths) in problems {
        for path in paths {
            say!("{what}: {path}");
        }
    }
    say!(
        "checked {} files ({}): {} corrupt, {} without a checksum, {} closed files not archived",
        report.checked,
        bytes(report.checked_bytes),
        report.corrupt.len(),
        report.unsigned.len(),
        report.missing.len()
    );
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn check_tables(engine: &Engine, tables: &[String]) -> anyhow::Result<()> {
    for table in tables {
        engine.table(table)?;
    }
    Ok(())
}

fn bytes(n: u64) -> String {
    const MIB: f64 = (1 << 20) as f64;
    if n < 1 << 20 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / MIB)
    }
}

/// Progress on standard error: one line redrawn on a terminal, a line per file otherwise (a log).
struct Display {
    verb: &'static str,
    terminal: bool,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    files: usize,
    bytes: u64,
    done_files: usize,
    done_bytes: u64,
}

impl Display {
    fn new(verb: &'static str) -> Self {
        Display {
            verb,
            terminal: std::io::stderr().is_terminal(),
            counts: Mutex::new(Counts::default()),
        }
    }

    fn show(&self, progress: &Progress<'_>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let line = match progress {
            Progress::Planned { files, bytes } => {
                counts.files = *files;
                counts.bytes = *bytes;
                None
            }
            Progress::Copied { path, bytes } => Some(format!("copied {path} ({bytes} bytes)")),
            Progress::Unchanged { .. } => None,
            Progress::Removed { path } => Some(format!("removed {path}")),
            Progress::Checked { path, bytes } => Some(format!("checked {path} ({bytes} bytes)")),
        };
        if let Progress::Copied { bytes, .. }
        | Progress::Unchanged { bytes, .. }
        | Progress::Checked { bytes, .. } = progress
        {
            counts.done_files += 1;
            counts.done_bytes += bytes;
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(
                err,
                "\r{} {}/{} files, {} of {}   ",
                self.verb,
                counts.done_files,
                counts.files,
                bytes(counts.done_bytes),
                bytes(counts.bytes)
            );
        } else if let Some(line) = line {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
