//! `sonde demo` as a new user meets it (a fresh temporary store, nothing but loopback), and
//! `sonde simulate` writing a fabric's history that the other commands then read.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arrow::array::TimestampMicrosecondArray;

use crate::common::{connect, flight_sql, sonde};

/// The demo process, killed if a test gives up on it.
struct Demo {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Demo {
    fn start(home: &std::path::Path) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sonde"))
            .args(["demo", "--flight-addr", "127.0.0.1:0"])
            .env("HOME", home)
            .env("TMPDIR", home)
            .env("SONDE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sonde demo starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Demo {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads output up to and including the first line that starts with `prefix`.
    fn read_until(&mut self, prefix: &str) -> &str {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.starts_with(prefix);
                    self.seen.push(line);
                    if found {
                        return self.seen.last().expect("a line");
                    }
                }
                Err(_) => panic!(
                    "no line starting {prefix:?}; the demo printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("the demo reads");
        stdin.flush().expect("flush");
    }

    /// The lines the tour printed for step `n` (its statement's answer).
    fn step(&self, n: usize) -> String {
        let marker = format!("[{n}/");
        let start = self
            .seen
            .iter()
            .position(|l| l.starts_with(&marker))
            .unwrap_or_else(|| panic!("no tour step {n}"));
        self.seen[start..]
            .iter()
            .skip(1)
            .take_while(|l| !l.starts_with('[') && !l.starts_with("That was the tour"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn line_with<'a>(text: &'a str, words: &[&str]) -> &'a str {
    text.lines()
        .find(|l| words.iter().all(|w| l.split_whitespace().any(|x| x == *w)))
        .unwrap_or_else(|| panic!("no line with {words:?} in\n{text}"))
}

async fn latest_heartbeat(client: &mut arrow_flight::FlightClient) -> i64 {
    latest(client, "SELECT max(timestamp) AS latest FROM agents").await
}

/// The one timestamp `query` answers.
async fn latest(client: &mut arrow_flight::FlightClient, query: &str) -> i64 {
    let batches = flight_sql(client, query)
        .await
        .expect("the demo answers SQL over Flight");
    let latest = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("a timestamp");
    latest.value(0)
}

/// One HTTP/1.1 GET over a fresh connection; the whole answer as text.
async fn http_get(address: &str, path: &str, headers: &[(&str, &str)]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the demo's ZTP HTTP server accepts");
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tour_shows_the_timeline_faults_and_stays_live() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut demo = Demo::start(home.path());
    let store = demo.read_until("Store: ")["Store: ".len()..].to_string();
    assert!(
        store.starts_with(home.path().to_str().expect("utf-8")),
        "a temporary store: {store}"
    );
    let ztp_http = demo
        .read_until("ZTP: ")
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
        .expect("the ZTP HTTP address")
        .to_string();
    let flight = demo
        .read_until("Flight: ")
        .split_whitespace()
        .nth(1)
        .expect("address")
        .to_string();
    demo.read_until("Press Enter");
    demo.type_in(&"\n".repeat(12));
    demo.read_until("That was the tour.");

    let check_bgp = demo.step(1);
    assert!(check_bgp.contains("Failed Sessions: 3"), "{check_bgp}");
    line_with(
        &check_bgp,
        &["exit02", "swp51", "spine01", "Rotten", "Agent"],
    );

    let ten_hours_ago = demo.step(2);
    line_with(
        &ten_hours_ago,
        &[
            "leaf03",
            "swp51",
            "spine01",
            "Interface",
            "down",
            "10h",
            "ago",
        ],
    );
    line_with(
        &ten_hours_ago,
        &[
            "spine01", "swp3", "leaf03", "Hold", "Timer", "Expired", "10h",
        ],
    );

    let show_bgp = demo.step(3);
    let recovered = line_with(&show_bgp, &["leaf03", "swp51(spine01)"]);
    assert!(
        recovered.trim_end().ends_with("9h:29m:55s") || recovered.contains("9h:29m:5"),
        "{recovered}"
    );
    assert_eq!(
        show_bgp.lines().filter(|l| l.contains("default")).count(),
        28,
        "{show_bgp}"
    );

    let changes = demo.step(4);
    assert!(
        line_with(&changes, &["leaf03", "interfaces", "swp51", "down"]).contains("10h:5m:"),
        "{changes}"
    );
    assert!(
        line_with(&changes, &["leaf03", "interfaces", "swp51", "up"]).contains("9h:30m:"),
        "{changes}"
    );
    assert!(
        line_with(&changes, &["spine01", "bgp", "swp3", "Idle"]).contains("10h:4m:5"),
        "{changes}"
    );
    assert!(
        !changes.contains("leaf04"),
        "nothing else changed then: {changes}"
    );

    let mtu = demo.step(5);
    line_with(
        &mtu,
        &[
            "leaf04", "swp2", "server04", "eth2", "MTU", "Mismatch", "5h", "ago",
        ],
    );

    let agents = demo.step(6);
    assert!(
        line_with(&agents, &["exit02", "Rotten"]).contains("2h:0m:"),
        "{agents}"
    );
    line_with(&agents, &["spine01", "Fresh"]);

    let int = demo.step(7);
    assert!(
        line_with(&int, &["spine01", "Queue", "occupancy"]).contains("over 300"),
        "{int}"
    );
    let drops = demo.step(8);
    assert!(
        line_with(&drops, &["leaf02"]).contains("ACL deny"),
        "{drops}"
    );

    let devices = demo.step(9);
    for (device, status) in [
        ("leaf05", &["provisioned"][..]),
        ("leaf06", &["config", "missing"]),
        ("leaf07", &["address", "only"]),
        ("leaf08", &["provisioned"]),
    ] {
        let line = line_with(&devices, &[device]);
        line_with(line, status);
    }
    line_with(&devices, &["leaf07", "192.168.0.17", "48:65:ee:1a:00:07"]);
    let check_ztp = demo.step(10);
    assert!(check_ztp.contains("Failed Nodes: 2"), "{check_ztp}");
    line_with(
        &check_ztp,
        &["leaf07", "192.168.0.17", "fetched", "no", "image"],
    );
    line_with(&check_ztp, &["leaf06", "startup", "not", "provided"]);

    let trace = demo.step(11);
    assert!(trace.contains("Number of Paths: 8"), "{trace}");
    assert!(trace.contains("Path MTU: 9152"), "{trace}");
    line_with(
        &trace,
        &[
            "server02:eth1",
            "--",
            "leaf01:swp51",
            "spine01:swp3",
            "server03:cali320be3ff5dd",
        ],
    );
    let trace_then = demo.step(12);
    assert!(trace_then.contains("Number of Paths: 6"), "{trace_then}");
    assert!(
        !check_ztp
            .lines()
            .any(|l| l.contains("leaf05") || l.contains("leaf08")),
        "{check_ztp}"
    );

    // The demo's ZTP directory is served live: leaf05's CTRLD configuration by its serial.
    let answer = http_get(
        &ztp_http,
        "/ztp/config/ctrld",
        &[("ONIE-SERIAL-NUMBER", "591654XK1902105")],
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("graylog"), "{answer}");

    // The embedded server answers over Flight, and the fabric keeps sending heartbeats.
    let mut client = connect(&flight, None).await;
    let first = latest_heartbeat(&mut client).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while latest_heartbeat(&mut client).await <= first {
        assert!(Instant::now() < deadline, "no live heartbeat within 60 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The switches' INT reports keep arriving over UDP at the demo's receiver.
    let reports = "SELECT max(timestamp) AS latest FROM int_reports";
    let first = latest(&mut client, reports).await;
    while latest(&mut client, reports).await <= first {
        assert!(Instant::now() < deadline, "no live INT report within 60 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    demo.type_in("check vlan\nquit\n");
    let status = demo.child.wait().expect("the demo ends");
    assert!(status.success());
    let rest: Vec<String> = demo.lines.iter().collect();
    line_with(
        &rest.join("\n"),
        &["leaf03", "bond3", "leaf04", "VLAN", "set", "Mismatch", "3h"],
    );
    assert!(
        !std::path::Path::new(&store).exists(),
        "the temporary store is removed"
    );
}

#[test]
fn the_demo_keeps_off_a_used_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
    let out = sonde(&["demo", "--data-dir", dir.path().to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    assert!(dir.path().join("notes.txt").exists());
}

#[test]
fn simulate_writes_a_fabric_the_other_commands_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let store = store.to_str().expect("utf-8");
    let out = sonde(&[
        "simulate",
        "--nodes",
        "40",
        "--days",
        "1",
        "--data-dir",
        store,
        "--end",
        "2026-11-20T12:00:00Z",
    ]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agents: u64 = line_with(&summary, &["agents"])
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a row count");
    assert!(agents > 38 * 2800, "a heartbeat every 30 s: {summary}");
    for table in [
        "bgp",
        "interfaces",
        "lldp",
        "routes",
        "clag",
        "evpn",
        "sensors",
    ] {
        line_with(&summary, &[table]);
    }
    let counted = sonde(&[
        "sql",
        "--data-dir",
        store,
        "--json",
        "SELECT count(*) AS n FROM agents",
    ]);
    let counted = String::from_utf8_lossy(&counted.stdout);
    assert!(counted.contains(&format!("\"n\":{agents}")), "{counted}");
    let check = sonde(&[
        "--data-dir",
        store,
        "check",
        "bgp",
        "around",
        "2026-11-20T11:00:00Z",
    ]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.starts_with("Total Nodes: 40"), "{text}");
    let again = sonde(&[
        "simulate",
        "--nodes",
        "40",
        "--days",
        "1",
        "--data-dir",
        store,
    ]);
    assert!(!again.status.success(), "a used store is refused");
}
