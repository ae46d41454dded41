//! The `sonde-agent` binary on its own (the tests with a server and a real fabric are in the
//! workspace's integration tests, which run this same binary).

use std::process::Command;
use std::time::{Duration, Instant};

/// The agent, configured by its arguments only: no `SONDE_*` variable of the caller's leaks in.
fn agent() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonde-agent"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SONDE_") {
            command.env_remove(name);
        }
    }
    command.env("SONDE_LOG", "warn");
    command
}

#[test]
fn every_flag_has_an_environment_variable() {
    let output = agent().arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    // `--help` lists each option, then (on the same line or the next) its help, which ends
    // with the variable.
    let mut options = help
        .lines()
        .map(str::trim_start)
        .skip_while(|line| *line != "Options:")
        .skip(1)
        .peekable();
    let mut flags = 0;
    while let Some(option) = options.next() {
        let Some(flag) = option.strip_prefix("--") else {
            continue;
        };
        let flag = flag.split_whitespace().next().unwrap_or_default();
        let text = format!("{option} {}", options.peek().copied().unwrap_or_default());
        let variable = format!("[env: SONDE_{}", flag.to_uppercase().replace('-', "_"));
        assert!(
            text.contains(&variable),
            "--{flag} has no {variable}]: {text}"
        );
        flags += 1;
    }
    assert!(flags >= 13, "{flags} flags found in:\n{help}");
    assert!(
        help.contains("[env: SONDE_TOKEN]"),
        "the token's value is hidden"
    );
}

#[test]
fn reads_its_configuration_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-token");
    let output = agent()
        .env("SONDE_SERVER", "127.0.0.1:9")
        .env("SONDE_SPOOL_DIR", dir.path())
        .env("SONDE_TOKEN_FILE", &missing)
        .env("SONDE_NO_NETLINK", "yes")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("cannot read {}", missing.display());
    assert!(stderr.contains(&expected), "{stderr}");
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
