//! The `sonde-agent` binary on its own (the tests with a server and a real fabric are in the
//! workspace's integration tests, which run this same binary).

use std::process::Command;
use std::time::{Duration, Instant};

fn agent() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonde-agent"));
    command.env("SONDE_LOG", "warn").env_remove("SONDE_TOKEN");
    command
}

#[test]
fn refuses_to_start_without_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = agent()
        .args(["--server", "127.0.0.1:9"])
        .arg("--spool-dir")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a token is required"), "{stderr}");
}

#[test]
fn spools_while_no_server_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = agent()
        .args([
            "--server",
            "127.0.0.1:9",
            "--token",
            "t",
            "--hostname",
            "lonely",
        ])
        .args(["--vtysh", "", "--lldpcli", "", "--chronyc", ""])
        .arg("--spool-dir")
        .arg(dir.path())
        .spawn()
        .expect("starts");
    let spooled = || {
        std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".spool"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum::<u64>()
    };
    let start = Instant::now();
    while spooled() == 0 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        spooled() > 0,
        "the first resync and heartbeat wait in the spool"
    );
    let acked = std::fs::read_to_string(dir.path().join("ack-http___127_0_0_1_9")).expect("cursor");
    assert_eq!(acked.trim(), "0", "nothing was acknowledged");
    assert!(dir.path().join("id").exists());
}
