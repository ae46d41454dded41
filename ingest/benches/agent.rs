//! The agent's costs on a real kernel: a full resync of a node holding 100k ECMP routes (CPU time
//! and peak RSS of the `sonde-agent` process, beside `ip -j route show` dumping the same table),
//! then a churn of 10k route changes per second (events per second reaching the server, and the
//! delay until a change is queryable).
//!
//! Needs root and a built `sonde` (release if there is one, else debug):
//! `cargo build --release && cargo bench -p sonde-ingest --bench agent`.
//! The bench makes a network namespace with two veth pairs (this kind of kernel may lack dummy devices), runs `sonde serve` and the
//! agent inside it (queries go over Flight), and deletes the namespace when done, also on failure.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_flight::{FlightClient, Ticket};
use futures::TryStreamExt;

const NAMESPACE: &str = "sonde-bench-agent";
const ROUTES: usize = 100_000;
const CHURN_PER_SECOND: usize = 10_000;
const CHURN_SECONDS: usize = 10;
const INNER: &str = "SONDE_BENCH_AGENT_INNER";
const TOKEN: &str = "bench";

fn main() {
    if std::env::var_os(INNER).is_some() {
        inner();
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _namespace = Namespace::create();
    let exe = std::env::current_exe().expect("bench path");
    let status = Command::new("ip")
        .args(["netns", "exec", NAMESPACE])
        .arg(exe)
        .env(INNER, "1")
        .status()
        .expect("ip netns exec");
    assert!(status.success(), "the bench failed inside the namespace");
}

/// The namespace, deleted on drop.
struct Namespace;

impl Namespace {
    fn create() -> Namespace {
        let _ = Command::new("ip")
            .args(["netns", "del", NAMESPACE])
            .status();
        run("ip", &["netns", "add", NAMESPACE]);
        let namespace = Namespace;
        for script in [
            "link set lo up",
            "link add dum0 type veth peer name dum0p",
            "link set dum0p up",
            "link set dum0 up",
            "addr add 10.255.0.1/24 dev dum0",
            "link add dum1 type veth peer name dum1p",
            "link set dum1p up",
            "link set dum1 up",
            "addr add 10.255.1.1/24 dev dum1",
        ] {
            let mut args = vec!["-n", NAMESPACE];
            args.extend(script.split_whitespace());
            run("ip", &args);
        }
        namespace
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", NAMESPACE])
            .status();
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// Adds or deletes routes through `ip -batch`, `count` of them starting at `first`.
fn ip_batch(verb: &str, first: usize, count: usize) {
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("ip -batch");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        let mut text = String::with_capacity(count * 90);
        for i in first..first + count {
            text.push_str(&format!(
                "route {verb} {}.{}.{}.0/24 nexthop via 10.255.0.2 dev dum0 nexthop via 10.255.1.2 dev dum1\n",
                20 + i / 65536,
                i / 256 % 256,
                i % 256
            ));
        }
        stdin.write_all(text.as_bytes()).expect("write routes");
    }
    assert!(child.wait().expect("ip -batch").success());
}

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("bench path");
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

fn agent_binary() -> PathBuf {
    let agent = target_dir().join("release/sonde-agent");
    assert!(agent.exists(), "{} is missing", agent.display());
    agent
}

/// The server binary: `SONDE_SERVER_BINARY`, else a release build when there is one.
fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SONDE_SERVER_BINARY") {
        return PathBuf::from(path);
    }
    ["release", "debug"]
        .iter()
        .map(|profile| target_dir().join(profile).join("sonde"))
        .find(|p| p.exists())
        .expect("build sonde first: cargo build --release")
}

/// `sonde serve` on loopback inside the namespace; killed on drop.
struct ServerProcess {
    child: Child,
    addr: String,
}

impl ServerProcess {
    fn start(store: &Path) -> ServerProcess {
        let binary = server_binary();
        println!("  server: {}", binary.display());
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(store)
            .args(["--flight-addr", "127.0.0.1:0", "--token", TOKEN])
            .env("SONDE_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("sonde serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("address line");
        let addr = line
            .trim()
            .strip_prefix("sonde: Flight listening on ")
            .expect("address")
            .to_string();
        ServerProcess { child, addr }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) and peak RSS in MiB of a running process.
fn usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, hwm_kib / 1024.0)
}

fn inner() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(measure());
}

/// Counts the routes rows matching `filter`, over Flight.
async fn routes_stored(client: &mut FlightClient, filter: &str) -> usize {
    let query = format!("SELECT count(*) AS n FROM routes WHERE {filter}");
    let Ok(stream) = client.do_get(Ticket::new(query)).await else {
        return 0;
    };
    let batches: Vec<_> = stream.try_collect().await.unwrap_or_default();
    batches.first().map_or(0, |b| {
        b.column(0).as_primitive::<Int64Type>().value(0) as usize
    })
}

async fn wait_for(
    client: &mut FlightClient,
    filter: &str,
    at_least: usize,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    while routes_stored(client, filter).await < at_least {
        assert!(start.elapsed() < limit, "timed out waiting for {filter}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

async fn measure() {
    let store = tempfile::tempdir().expect("tempdir");
    let spool = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(store.path());
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.addr))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let mut client = FlightClient::new(channel);
    client
        .add_header("authorization", &format!("Bearer {TOKEN}"))
        .expect("header");

    println!("agent bench: {ROUTES} routes with 2 ECMP next hops each, in namespace {NAMESPACE}");
    let start = Instant::now();
    ip_batch("add", 0, ROUTES);
    println!(
        "  adding the routes with ip -batch: {:.2} s",
        start.elapsed().as_secs_f64()
    );

    let ip_dump = Instant::now();
    let dump = Command::new("ip")
        .args(["-j", "route", "show"])
        .output()
        .expect("ip route");
    let ip_wall = ip_dump.elapsed();
    println!(
        "  peer: `ip -j route show` dumps the table in {:.3} s wall ({} bytes)",
        ip_wall.as_secs_f64(),
        dump.stdout.len()
    );

    let mut agent = start_agent(&server.addr, spool.path());
    let resync = wait_for(
        &mut client,
        "protocol = 'boot' AND active",
        ROUTES,
        Duration::from_secs(120),
    )
    .await;
    let (cpu, rss) = usage(agent.id());
    println!(
        "  full resync: {ROUTES} routes queryable on the server {:.3} s after the agent started; \
         agent CPU {cpu:.3} s, peak RSS {rss:.1} MiB (targets: < 1 s, < 50 MiB)",
        resync.as_secs_f64()
    );

    churn(&mut client, &agent).await;

    let _ = agent.kill();
    let _ = agent.wait();
}

fn start_agent(server: &str, spool: &Path) -> Child {
    Command::new(agent_binary())
        .args(["--server", server, "--token", TOKEN, "--hostname", "bench"])
        .arg("--spool-dir")
        .arg(spool)
        .args(["--vtysh", "", "--lldpcli", "", "--chronyc", ""])
        .args(["--resync-interval", "3600", "--heartbeat-interval", "30"])
        .env("SONDE_LOG", "warn")
        .spawn()
        .expect("the agent starts")
}

/// Waits until every expected event is stored, or until nothing arrived for a second (events
/// lost to a full netlink buffer are recovered by a resync, not resent); returns when the last
/// event arrived.
async fn settle(client: &mut FlightClient, expected: usize, start: Instant) -> Duration {
    let mut last_count = 0;
    let mut last_change = start.elapsed();
    loop {
        let count = routes_stored(client, "true").await;
        if count != last_count {
            last_count = count;
            last_change = start.elapsed();
        }
        if count >= expected || start.elapsed() - last_change > Duration::from_secs(1) {
            return last_change;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Replaces 10k routes per second for `CHURN_SECONDS` (each replacement is a delete and an add
/// of a route: two events), then measures how long one more route takes to become queryable.
async fn churn(client: &mut FlightClient, agent: &Child) {
    let before = routes_stored(client, "true").await;
    let (cpu_before, _) = usage(agent.id());
    let start = Instant::now();
    let per_tick = CHURN_PER_SECOND / 10;
    let mut changed = 0;
    for tick in 0..CHURN_SECONDS * 10 {
        let first = (tick * per_tick) % ROUTES;
        ip_batch("del", first, per_tick);
        ip_batch("add", first, per_tick);
        changed += per_tick;
        let due = Duration::from_millis(100 * (tick as u64 + 1));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let churn_wall = start.elapsed();
    let expected = before + changed * 2;
    let drained = settle(client, expected, start).await;
    let events = routes_stored(client, "true").await - before;
    let (cpu_after, rss) = usage(agent.id());
    println!(
        "  churn: {changed} routes replaced in {:.2} s ({:.0}/s offered); {events} events stored \
         in {:.2} s = {:.0} events/s; agent CPU {:.2} s ({:.0}% of a core), peak RSS {rss:.1} MiB",
        churn_wall.as_secs_f64(),
        changed as f64 / churn_wall.as_secs_f64(),
        drained.as_secs_f64(),
        events as f64 / drained.as_secs_f64(),
        cpu_after - cpu_before,
        100.0 * (cpu_after - cpu_before) / drained.as_secs_f64()
    );

    let mut delays = Vec::new();
    for i in 0..20 {
        let prefix = format!("10.254.{i}.0/24");
        let sent = Instant::now();
        run(
            "ip",
            &["route", "add", &prefix, "via", "10.255.0.2", "dev", "dum0"],
        );
        wait_for(
            client,
            &format!("prefix = '{prefix}'"),
            1,
            Duration::from_secs(30),
        )
        .await;
        delays.push(sent.elapsed());
    }
    delays.sort();
    println!(
        "  end-to-end delay, route added → queryable on the server: median {:.0} ms, max {:.0} ms \
         (the agent batches for 100 ms)",
        delays[delays.len() / 2].as_secs_f64() * 1000.0,
        delays[delays.len() - 1].as_secs_f64() * 1000.0
    );
}
