//! Synthetic event streams shared by the benchmarks.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array,
    UInt64Array,
};

pub const HOUR: i64 = 3_600_000_000;
/// 2026-10-01T00:00:00Z
pub const T0: i64 = 1_790_812_800_000_000;

/// A cheap deterministic generator, so every run writes the same history.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One BGP session event: (timestamp, session index, state, active).
pub struct BgpEvent {
    pub ts: i64,
    pub session: u32,
    pub established: bool,
    pub active: bool,
}

pub const PEERS_PER_HOST: u32 = 32;

pub fn bgp_batch(events: &[BgpEvent]) -> RecordBatch {
    let table = sonde_schema::table("bgp").expect("bgp");
    let host = |e: &BgpEvent| format!("leaf{:04}", e.session / PEERS_PER_HOST);
    let peer = |e: &BgpEvent| format!("swp{}", e.session % PEERS_PER_HOST + 1);
    let n = events.len();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "timestamp",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(events.iter().map(|e| e.ts))
                    .with_timezone("UTC"),
            ),
        ),
        (
            "hostname",
            Arc::new(StringArray::from_iter_values(events.iter().map(host))),
        ),
        (
            "vrf",
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                "default", n,
            ))),
        ),
        (
            "peer",
            Arc::new(StringArray::from_iter_values(events.iter().map(peer))),
        ),
        (
            "peer_hostname",
            Arc::new(StringArray::from_iter_values(
                events
                    .iter()
                    .map(|e| format!("spine{:02}", e.session % PEERS_PER_HOST)),
            )),
        ),
        (
            "ifname",
            Arc::new(StringArray::from_iter_values(events.iter().map(peer))),
        ),
        (
            "asn",
            Arc::new(UInt32Array::from_iter_values(
                events.iter().map(|e| 65000 + e.session / PEERS_PER_HOST),
            )),
        ),
        (
            "peer_asn",
            Arc::new(UInt32Array::from_iter_values(
                events.iter().map(|e| 64500 + e.session % PEERS_PER_HOST),
            )),
        ),
        (
            "router_id",
            Arc::new(StringArray::from_iter_values(events.iter().map(|e| {
                format!(
                    "10.0.{}.{}",
                    e.session / 8192,
                    e.session / PEERS_PER_HOST % 256
                )
            }))),
        ),
        (
            "state",
            Arc::new(StringArray::from_iter_values(
                events
                    .iter()
                    .map(|e| if e.established { "Established" } else { "Idle" }),
            )),
        ),
        (
            "hold_time",
            Arc::new(UInt32Array::from_iter_values(std::iter::repeat_n(9, n))),
        ),
        (
            "keepalive",
            Arc::new(UInt32Array::from_iter_values(std::iter::repeat_n(3, n))),
        ),
        (
            "pfx_rx_ipv4",
            Arc::new(UInt64Array::from_iter_values(
                events.iter().map(|e| if e.established { 12 } else { 0 }),
            )),
        ),
        (
            "established_at",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(events.iter().map(|e| e.ts))
                    .with_timezone("UTC"),
            ),
        ),
        (
            "active",
            Arc::new(BooleanArray::from_iter(
                events.iter().map(|e| Some(e.active)),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("valid batch");
    sonde_schema::conform_batch(table, &batch).expect("conforms")
}

pub fn interfaces_batch(start_ts: i64, first: u64, n: usize) -> RecordBatch {
    let table = sonde_schema::table("interfaces").expect("interfaces");
    let ids: Vec<u64> = (first..first + n as u64).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "timestamp",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    ids.iter().map(|i| start_ts + *i as i64),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "hostname",
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| format!("leaf{:04}", i / 64 % 1000)),
            )),
        ),
        (
            "ifname",
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| format!("swp{}", i % 64 + 1)),
            )),
        ),
        (
            "type",
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n("swp", n))),
        ),
        (
            "state",
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| if i % 7 == 0 { "down" } else { "up" }),
            )),
        ),
        (
            "admin_state",
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n("up", n))),
        ),
        (
            "mtu",
            Arc::new(UInt32Array::from_iter_values(
                ids.iter().map(|i| if i % 97 == 0 { 1500 } else { 9216 }),
            )),
        ),
        (
            "speed",
            Arc::new(UInt64Array::from_iter_values(std::iter::repeat_n(
                100_000, n,
            ))),
        ),
        (
            "mac",
            Arc::new(StringArray::from_iter_values(ids.iter().map(|i| {
                format!(
                    "44:38:39:{:02x}:{:02x}:{:02x}",
                    i >> 16 & 255,
                    i >> 8 & 255,
                    i & 255
                )
            }))),
        ),
        (
            "active",
            Arc::new(BooleanArray::from_iter(
                ids.iter().map(|i| Some(i % 101 != 0)),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("valid batch");
    sonde_schema::conform_batch(table, &batch).expect("conforms")
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The Python with the PyPI packages: the `.venv` .ci/run makes, else `python3` on PATH.
pub fn python3() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Runs a Python script with [`python3`] and returns its stdout (DuckDB and pyarrow come from PyPI).
pub fn python(script: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(python3())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!("python failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `benches/suzieq.py` (SuzieQ 0.25 in its own virtualenv, `SUZIEQ_PYTHON`, default
/// `/opt/suzieq/bin/python`; `none` leaves it out) over a Sonde store and returns its stdout.
pub fn suzieq(store: &str, now: i64, runs: usize, scratch: &str) -> Option<String> {
    // One file per host and hour with changes: SuzieQ's poller at its default 60 s period
    // would write up to sixty times as many, and its load and coalescing take hours at scale.
    let poll_period = std::env::var("SUZIEQ_POLL_PERIOD_S").unwrap_or_else(|_| "3600".into());
    let args = [
        store.to_string(),
        now.to_string(),
        runs.to_string(),
        scratch.to_string(),
    ];
    suzieq_script(
        "suzieq.py",
        &args,
        &[("SUZIEQ_POLL_PERIOD_S", &poll_period)],
    )
}

/// Runs `benches/<script>` with SuzieQ's Python (`SUZIEQ_PYTHON`, default
/// `/opt/suzieq/bin/python`; `none` leaves it out) and returns its stdout; its stderr shows.
pub fn suzieq_script(script: &str, args: &[String], env: &[(&str, &str)]) -> Option<String> {
    let python = std::env::var("SUZIEQ_PYTHON").unwrap_or_else(|_| "/opt/suzieq/bin/python".into());
    if python.is_empty() || python == "none" {
        eprintln!("SuzieQ skipped (SUZIEQ_PYTHON={python:?})");
        return None;
    }
    let script = format!("{}/benches/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new(&python)
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::inherit())
        .output();
    match output {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(_) => {
            eprintln!("SuzieQ failed (its messages are above)");
            None
        }
        Err(e) => {
            eprintln!("SuzieQ is not installed ({python}: {e}); its column stays empty");
            None
        }
    }
}

/// Writes a simulated history, hour by hour, and returns the rows per table.
pub async fn write_history(
    engine: &sonde_engine::Engine,
    sim: sonde_sim::Simulation,
    end: i64,
) -> std::collections::BTreeMap<&'static str, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for window in sim.windows(end, HOUR) {
        for (table, batch) in window.expect("batches").1 {
            *counts.entry(table).or_default() += batch.num_rows() as u64;
            engine.append(table, &batch).await.expect("append");
        }
        engine.backpressure().await;
    }
    counts
}

/// The `p` quantile (0 to 1) of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// Prints what `query` did operator by operator: its EXPLAIN ANALYZE under `title`.
pub async fn print_explain_analyze(title: &str, query: datafusion::dataframe::DataFrame) {
    let batches = query
        .explain(false, true)
        .expect("explain")
        .collect()
        .await
        .expect("run");
    println!(
        "{title}:\n{}",
        arrow::util::pretty::pretty_format_batches(&batches).expect("format")
    );
}
