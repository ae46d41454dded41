//! The INT collector end to end on reports scapy builds (tests/int/scapy_reports.py): sent
//! over loopback UDP to a running server's receiver, and written to pcap and pcapng captures
//! that `sonde import pcap` reads. Both must store the same rows.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use arrow::util::display::array_value_to_string;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::{IntConfig, IntService, Listeners, ServerConfig};

use crate::common::{TestServer, sonde_command};

const SCRIPT: &str = "tests/int/scapy_reports.py";

/// Whether python3 has scapy; CI installs it, a developer machine may not.
fn scapy_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import scapy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI must have python3 with scapy"
        );
        eprintln!("{test}: skipped, python3 has no scapy");
    }
    ok
}

fn scapy(args: &[&str]) {
    let output = Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "scapy script {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn rows(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    let batches = engine
        .sql(sql)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| array_value_to_string(c, row).expect("displays"))
                    .collect(),
            );
        }
    }
    out
}

/// What the scenario must leave in the store, however it arrived.
async fn assert_scenario_stored(engine: &Engine, exporter: &str) {
    let counts = rows(
        engine,
        "SELECT report_type, count(*) FROM int_reports GROUP BY report_type ORDER BY report_type",
    )
    .await;
    assert_eq!(counts, [["drop", "1"], ["flow", "20"], ["queue", "1"]]);
    let loss = rows(
        engine,
        "SELECT hostname, sum(expected), sum(received), sum(lost), sum(reordered), sum(duplicated) \
         FROM int_loss GROUP BY hostname",
    )
    .await;
    assert_eq!(loss, [[exporter, "22", "21", "1", "1", "1"]]);
    let drops = rows(
        engine,
        "SELECT switch_id, drop_reason, reason, dst_port FROM int_drops",
    )
    .await;
    assert_eq!(drops, [["167772161", "60", "ACL deny", "443"]]);
    let queue = rows(
        engine,
        "SELECT switch_id, egress_port, queue_id, queue_occupancy, hop_latency_ns FROM int_congestion",
    )
    .await;
    assert_eq!(queue, [["167772162", "49", "1", "500", "3000"]]);
    let path = rows(
        engine,
        "SELECT hop, switch_id, hop_latency_ns FROM int_hops WHERE sequence = 1 ORDER BY hop",
    )
    .await;
    assert_eq!(
        path,
        [
            ["0", "167772161", "400"],
            ["1", "167772162", "650"],
            ["2", "167772163", "380"]
        ]
    );
    let errors = rows(
        engine,
        "SELECT reason, sum(datagrams) FROM int_errors GROUP BY reason ORDER BY reason",
    )
    .await;
    assert_eq!(errors, [["truncated", "1"], ["unknown_version", "1"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scapy_reports_over_loopback_are_stored() {
    if !scapy_or_skip("scapy_reports_over_loopback_are_stored") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig::new(EngineConfig::local(dir.path()));
    let mut int = IntConfig::new(vec!["127.0.0.1:0".parse().expect("address")]);
    int.receiver.max_wait = Duration::from_millis(100);
    let service = IntService::bind(int).expect("binds");
    let [address] = service.local_addrs()[..] else {
        panic!("one INT address");
    };
    let stats = service.stats();
    let listeners = Listeners::bind_flight("127.0.0.1:0")
        .await
        .expect("binds")
        .with(Box::new(service));
    let server = TestServer::with_listeners(config, listeners).await;
    let port = address.port().to_string();
    tokio::task::spawn_blocking(move || scapy(&["send", "127.0.0.1", &port]))
        .await
        .expect("sends");
    for _ in 0..100 {
        if stats.datagrams.load(std::sync::atomic::Ordering::Relaxed) >= 24 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Stopping hands over what the receive thread holds, and the source's pending numbers
    // settle once it has gone quiet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let data_dir = dir.path().to_path_buf();
    server.stop().await.expect("stops cleanly");
    let engine = Engine::open(EngineConfig::local(&data_dir))
        .await
        .expect("reopens");
    // Over loopback the exporter is the sending socket's address.
    assert_scenario_stored(&engine, "127.0.0.1").await;
}

fn import(data_dir: &Path, capture: &Path) -> String {
    let output = sonde_command()
        .args(["import", "pcap", "--data-dir"])
        .arg(data_dir)
        .arg(capture)
        .output()
        .expect("sonde runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "import {}: {stdout}{}",
        capture.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scapy_captures_are_imported_with_their_own_times() {
    if !scapy_or_skip("scapy_captures_are_imported_with_their_own_times") {
        return;
    }
    for name in ["reports.pcap", "reports.pcapng"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let capture = dir.path().join(name);
        scapy(&["write", capture.to_str().expect("utf-8 path")]);
        let store = dir.path().join("store");
        let said = import(&store, &capture);
        assert!(
            said.starts_with("imported 22 reports from 24 datagrams of 24 packets"),
            "{said}"
        );
        let engine = Engine::open(EngineConfig::local(&store))
            .await
            .expect("opens");
        assert_scenario_stored(&engine, "10.0.0.13").await;
        let first = rows(
            &engine,
            "SELECT min(timestamp), min(ingress_time) FROM int_reports",
        )
        .await;
        assert_eq!(
            first,
            [["2026-11-20T11:00:00.500Z", "2026-11-20T11:00:00Z"]],
            "{name}: the capture's times, and the switch's rebuilt against them (to the µs)"
        );
    }
}

#[test]
fn import_refuses_what_is_not_a_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("notes.txt");
    std::fs::write(&bogus, "not a capture").expect("writes");
    let output = sonde_command()
        .args(["import", "pcap", "--data-dir"])
        .arg(dir.path().join("store"))
        .arg(&bogus)
        .output()
        .expect("sonde runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a pcap or pcapng capture"), "{stderr}");
}
