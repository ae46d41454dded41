//! Analysts' paths side by side in one run.
//!
//! 1. A 10 M-row result into pandas: pyarrow reading the table's Parquet files directly (the
//!    limit), pyarrow.flight's DoGet with a JSON ticket, and ADBC's Flight SQL driver
//!    (`benches/flight_pandas.py`, with the `.venv` .ci/run makes), against a server in this
//!    process on loopback.
//! 2. `check bgp` and `show bgp around 10h` answered from an archive in S3 (moto on loopback,
//!    written by `sonde_engine::archive::push`) and from the local store it was pushed from.
//!
//! `cargo bench --bench flight_sql [-- ROWS NODES DAYS]` (default 10 000 000 rows; a simulated
//! fabric of 200 nodes over 3 days).

#[path = "common/mod.rs"]
mod common;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sonde_engine::archive::{self, Archive, PushOptions};
use sonde_engine::{Engine, EngineConfig, FileKind, S3Options, Store, StoreLocation};
use sonde_server::{EngineCatalog, Listeners, ServerConfig, Tokens};
use sonde_sim::Simulation;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const PANDAS_RUNS: usize = 5;
const QUERY_RUNS: usize = 9;
const TOKEN: &str = "bench-token";
const BATCH_ROWS: usize = 1_000_000;

struct Args {
    rows: usize,
    nodes: usize,
    days: i64,
}

fn args() -> Args {
    let mut numbers = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<i64>().ok());
    Args {
        rows: numbers.next().unwrap_or(10_000_000) as usize,
        nodes: numbers.next().unwrap_or(200) as usize,
        days: numbers.next().unwrap_or(3),
    }
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        pandas_over_flight(args.rows).await;
        archive_against_local(args.nodes, args.days).await;
    });
}

/// Part 1: the interfaces table holds `rows` rows, flushed to Parquet; every way reads them all.
async fn pandas_over_flight(rows: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("engine");
    let began = Instant::now();
    let t0 = sonde_sim::REFERENCE_NOW - 2 * DAY;
    for first in (0..rows).step_by(BATCH_ROWS) {
        let n = BATCH_ROWS.min(rows - first);
        let batch = common::interfaces_batch(t0, first as u64, n);
        engine.append("interfaces", &batch).await.expect("append");
        engine.backpressure().await;
    }
    engine.flush().await.expect("flush");
    let files: Vec<String> = engine
        .stored_files()
        .into_iter()
        .filter(|f| f.table == "interfaces" && f.kind == FileKind::Events)
        .map(|f| dir.path().join(f.path.as_ref()).display().to_string())
        .collect();
    println!(
        "{rows} interface rows written and flushed to {} Parquet files in {:.1} s",
        files.len(),
        began.elapsed().as_secs_f64()
    );

    let mut config = ServerConfig::new(EngineConfig::local(dir.path()));
    config.flight.tokens = Tokens::admin(Some(TOKEN.into()));
    let listeners = Listeners::bind_flight("127.0.0.1:0").await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = sonde_server::Server::serve(engine, &config, listeners, async {
        let _ = stopped.await;
    })
    .expect("serves");
    let uri = format!("grpc://{}", server.flight_addr());

    let script = include_str!("flight_pandas.py");
    let mut script_args = vec![
        uri.clone(),
        TOKEN.to_string(),
        PANDAS_RUNS.to_string(),
        "SELECT * FROM interfaces".to_string(),
    ];
    script_args.extend(files);
    let report = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = script_args.iter().map(String::as_str).collect();
        common::python(script, &refs)
    })
    .await
    .expect("joins");
    drop(stop);
    server.stop().await.expect("stops");
    let Some(report) = report.and_then(|r| serde_json::from_str::<Value>(r.trim()).ok()) else {
        println!(
            "python with pyarrow, pandas and adbc-driver-flightsql is needed (.ci/run makes .venv)"
        );
        return;
    };
    print_pandas(&report, rows);
}

fn print_pandas(report: &Value, rows: usize) {
    let median_s = |way: &str| -> f64 {
        let mut samples: Vec<f64> = report["seconds"][way]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        samples.sort_by(f64::total_cmp);
        samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let limit = median_s("parquet");
    println!(
        "\n{rows} rows into a pandas DataFrame, median of {PANDAS_RUNS} runs   seconds   M rows/s   of the limit"
    );
    for (way, label) in [
        ("parquet", "pyarrow reading the Parquet files (the limit)"),
        ("flight", "pyarrow.flight DoGet from Sonde"),
        ("adbc", "ADBC Flight SQL from Sonde"),
    ] {
        let seconds = median_s(way);
        let got = report["rows"][way].as_u64().unwrap_or(0);
        println!(
            "  {label:<48} {seconds:>7.2} {:>10.2} {:>10.2}{}",
            rows as f64 / seconds / 1e6,
            limit / seconds,
            if got as usize == rows {
                String::new()
            } else {
                format!("   ({got} rows!)")
            }
        );
    }
}

/// moto's S3 server on a free loopback port; killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Option<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(common::python3())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let create = format!(
            "import boto3\nboto3.client('s3', endpoint_url='{}', aws_access_key_id='bench', \
             aws_secret_access_key='bench', region_name='us-east-1').create_bucket(Bucket='archive')",
            moto.endpoint
        );
        common::python(&create, &[])?;
        Some(moto)
    }

    fn options(&self) -> S3Options {
        S3Options {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("bench".into()),
            secret_access_key: Some("bench".into()),
            allow_http: true,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Part 2: the simulated fabric's history, pushed to S3, then the same questions of both.
async fn archive_against_local(nodes: usize, days: i64) {
    let Some(moto) = Moto::start() else {
        println!("\nmoto[server] is needed for the archive part (.ci/run makes .venv)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let now = sonde_sim::REFERENCE_NOW;
    let local = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("engine");
    let began = Instant::now();
    let sim = Simulation::scale(nodes, now - days * DAY, now);
    for window in sim.windows(now, HOUR) {
        for (table, batch) in window.expect("batches").1 {
            local.append(table, &batch).await.expect("append");
        }
        local.backpressure().await;
    }
    local.flush().await.expect("flush");
    local.maintain().await.expect("maintain");
    println!(
        "\n{nodes} nodes over {days} days simulated, flushed, compacted and checkpointed in {:.1} s",
        began.elapsed().as_secs_f64()
    );

    let location = StoreLocation::parse("s3://archive/fabric").expect("location");
    let target = Store::open(&location, &moto.options()).expect("the archive");
    let began = Instant::now();
    let options = PushOptions {
        closed_before: i64::MAX,
        since: None,
        tables: Vec::new(),
        jobs: 8,
    };
    let stats = archive::push(&local, &Archive::new(target), &options, &|_| {})
        .await
        .expect("pushed");
    println!(
        "pushed {} files ({:.1} MiB) to moto in {:.1} s",
        stats.copied,
        stats.copied_bytes as f64 / (1 << 20) as f64,
        began.elapsed().as_secs_f64()
    );
    let mut config = EngineConfig::local(dir.path().join("no-wal"));
    config.store = location;
    config.s3 = moto.options();
    config.read_only = true;
    config.wal_dir = std::path::PathBuf::new();
    let began = Instant::now();
    let remote = Engine::open(config).await.expect("the archive opens");
    println!(
        "the archive opened as a store in {:.0} ms",
        common::ms(began.elapsed())
    );

    let local_catalog = EngineCatalog::new(local.clone());
    let remote_catalog = EngineCatalog::new(remote);
    println!(
        "\nanswers, {QUERY_RUNS} runs, median (first) in ms      local          S3 archive     archive/local"
    );
    for statement in ["check bgp", "show bgp around 10h"] {
        let (local_first, local_median, local_answer) = time(&local_catalog, statement, now).await;
        let (s3_first, s3_median, s3_answer) = time(&remote_catalog, statement, now).await;
        println!(
            "  {statement:<40} {:>14} {:>14} {:>10.1}x",
            format!(
                "{:.1} ({:.1})",
                common::ms(local_median),
                common::ms(local_first)
            ),
            format!("{:.1} ({:.1})", common::ms(s3_median), common::ms(s3_first)),
            s3_median.as_secs_f64() / local_median.as_secs_f64()
        );
        let same = if local_answer == s3_answer {
            "the same"
        } else {
            "DIFFERENT"
        };
        println!("      answers: local {local_answer}; archive {s3_answer} ({same})");
    }
    local.close().await.expect("close");
}

/// The first run's time, the median of all runs, and the answer's size.
async fn time(catalog: &EngineCatalog, statement: &str, now: i64) -> (Duration, Duration, String) {
    let mut samples = Vec::new();
    let mut answer_text = String::new();
    for _ in 0..QUERY_RUNS {
        let began = Instant::now();
        let answer = netql::run(catalog, statement, now).await.expect("answers");
        samples.push(began.elapsed());
        answer_text = match answer.summary {
            Some(summary) => format!(
                "{} checked, {} failed",
                summary.total_items, summary.failed_items
            ),
            None => format!("{} rows", answer.rows()),
        };
    }
    let first = samples[0];
    (first, common::median(samples), answer_text)
}
