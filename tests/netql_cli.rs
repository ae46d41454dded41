//! `sonde <netql…>` against a server over Flight (the server in this process) and against a local
//! store, and the REPL on a pipe: answers, exit codes (1 for a failed check, 2 for a wrong
//! statement), JSON, errors that point at the offending word without ending the session, and the
//! `SONDE_*` variable of every flag.

use std::io::Write;
use std::process::Stdio;

use sonde_engine::{Engine, EngineConfig};

use crate::common::{Bgp, T0, TestServer, bgp_batch, put, python, sonde, sonde_command};
use crate::fabric;

/// The outage of the fixture: ten hours before its `now`.
const OUTAGE: &str = "2026-11-20T02:00:00Z";

/// pandas through pyarrow's Flight client, as the README tells users to do it.
const PANDAS: &str = r#"
import sys, pyarrow.flight as flight
client = flight.connect(f"grpc://{sys.argv[1]}")
options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer t0ken")])
frame = client.do_get(flight.Ticket(sys.argv[2].encode()), options).read_pandas()
print("rows", len(frame))
print(frame.to_string())
"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netql_one_shot_over_flight_and_locally() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path(), Some("t0ken")).await;
    let mut client = server.client(Some("t0ken")).await;
    for (table, batch) in fabric::reference_batches() {
        put(&mut client, table, batch)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    let remote = ["--server", server.addr.as_str(), "--token", "t0ken"];
    let ask = |words: &str| {
        let mut args: Vec<&str> = remote.to_vec();
        args.extend(words.split(' '));
        sonde(&args)
    };

    let failed = ask(&format!("spine01 check bgp around {OUTAGE}"));
    let out = text(&failed.stdout);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a failed check exits 1\n{out}"
    );
    assert!(out.starts_with("Total Nodes: "), "{out}");
    assert!(
        out.contains("leaf03") && out.contains("Interface down"),
        "{out}"
    );
    assert!(
        out.contains("spine01") && out.contains("Hold Timer Expired"),
        "{out}"
    );

    let json = ask(&format!("spine01 check bgp around {OUTAGE} json"));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("check json");
    assert_eq!(
        value["failedNodes"].as_array().map(Vec::len),
        Some(2),
        "{value}"
    );
    assert!(
        value["failedNodes"][0]["time"].is_i64(),
        "times are µs: {value}"
    );
    assert!(
        value["summary"]["totalSessionCount"].as_u64() > Some(2),
        "{value}"
    );

    let shown = ask(&format!("leaf03 show bgp around {OUTAGE}"));
    assert_eq!(shown.status.code(), Some(0));
    let out = text(&shown.stdout);
    assert!(out.starts_with("Matching bgp records:"), "{out}");
    assert!(
        out.contains("NotEstd"),
        "the session down at the time: {out}"
    );

    let pandas = python(
        PANDAS,
        &[
            &server.addr,
            &format!("netql:leaf03 show bgp around {OUTAGE}"),
        ],
    );
    assert!(
        pandas.contains("rows 2") && pandas.contains("NotEstd"),
        "{pandas}"
    );

    let wrong = ask("chek bgp");
    assert_eq!(wrong.status.code(), Some(2));
    let err = text(&wrong.stderr);
    assert!(err.contains("chek") && err.contains('^'), "{err}");

    let anonymous = sonde(&["--server", server.addr.as_str(), "show", "tables"]);
    assert!(!anonymous.status.success());
    let refusal = text(&anonymous.stderr);
    assert!(refusal.contains("token"), "{refusal}");
    assert_eq!(
        refusal.matches("a valid token is required").count(),
        1,
        "the server's message, once: {refusal}"
    );
    assert!(!refusal.contains("Tonic error"), "{refusal}");

    let wrong_remotely = ask("select hostname from bgp where asn >");
    assert_eq!(wrong_remotely.status.code(), Some(2));
    let err = text(&wrong_remotely.stderr);
    assert!(
        err.contains("asn >") && err.contains('^'),
        "underlined as locally: {err}"
    );
    assert_eq!(err.matches("expected").count(), 1, "{err}");

    let remote_sql = sonde(&[
        "--server",
        server.addr.as_str(),
        "--token",
        "t0ken",
        "sql",
        "SELECT count(*) AS n FROM bgp",
    ]);
    assert!(remote_sql.status.success(), "{}", text(&remote_sql.stderr));
    assert!(
        text(&remote_sql.stdout).contains('n'),
        "{}",
        text(&remote_sql.stdout)
    );

    server.stop().await.expect("the server stops cleanly");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let local = sonde(&[
        "--data-dir",
        data_dir,
        "spine01",
        "check",
        "bgp",
        "around",
        OUTAGE,
    ]);
    assert_eq!(local.status.code(), Some(1), "{}", text(&local.stderr));
    assert!(text(&local.stdout).contains("Hold Timer Expired"));
}

#[test]
fn netql_repl_keeps_going_after_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let mut child = sonde_command()
        .args(["--data-dir", data_dir])
        .env("HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the REPL starts");
    let script = "help\nshow bgpp\ndescribe \\\nbgp\nshow tables\nquit\n";
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let output = child.wait_with_output().expect("the REPL ends");
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{err}");
    assert!(out.contains("check <family>"), "help: {out}");
    assert!(
        err.contains("bgpp") && err.contains("did you mean `bgp`"),
        "{err}"
    );
    assert!(
        out.contains("peer_asn"),
        "describe after a continued line: {out}"
    );
    assert!(
        out.contains("interfaces"),
        "show tables after the error: {out}"
    );
}

/// The text of each `--flag` of a `--help` page: its line and the lines of its help below it.
fn options(help: &str) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Vec::new();
    for line in help
        .lines()
        .map(str::trim_start)
        .skip_while(|line| *line != "Options:")
        .skip(1)
    {
        let flag = line
            .strip_prefix("--")
            .or_else(|| line.split_once(", --").map(|(_, long)| long));
        match flag {
            Some(flag) => {
                let name = flag.split_whitespace().next().unwrap_or_default();
                options.push((name.to_string(), line.to_string()));
            }
            None => {
                if let Some((_, text)) = options.last_mut() {
                    text.push(' ');
                    text.push_str(line);
                }
            }
        }
    }
    options
}

fn help(command: &[&str]) -> String {
    let output = sonde_command()
        .args(command)
        .arg("--help")
        .env("SONDE_TOKEN", "hunter2")
        .env("SONDE_S3_SECRET_ACCESS_KEY", "hunter3")
        .output()
        .expect("sonde runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let help = text(&output.stdout);
    assert!(
        !help.contains("hunter2") && !help.contains("hunter3"),
        "secrets stay hidden: {help}"
    );
    help
}

#[test]
fn every_flag_has_a_sonde_variable() {
    let serve = help(&["serve"]);
    let flags = options(&serve);
    for (flag, text) in &flags {
        if flag == "help" {
            continue;
        }
        let variable = format!("[env: SONDE_{}", flag.to_uppercase().replace('-', "_"));
        assert!(
            text.contains(&variable),
            "--{flag} has no {variable}]: {text}"
        );
    }
    assert!(
        flags.len() >= 16,
        "{} flags found in:\n{serve}",
        flags.len()
    );
    assert!(serve.contains("[env: SONDE_TOKEN]"), "{serve}");

    for command in [&[][..], &["sql"], &["demo"], &["simulate"]] {
        let page = help(command);
        let flags = options(&page);
        assert!(flags.len() > 2, "{command:?}: {page}");
        for (flag, text) in flags {
            if flag != "help" && flag != "version" {
                assert!(
                    text.contains("[env: SONDE_"),
                    "{command:?} --{flag} has no SONDE_ variable: {text}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_are_taken_from_their_sonde_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("opens");
    let rows: Vec<Bgp> = (1..=3)
        .map(|i| {
            Bgp::new(
                T0 + i,
                "leaf01",
                &format!("swp5{i}"),
                "Established",
                65011,
                true,
            )
        })
        .collect();
    engine
        .append("bgp", &bgp_batch(&rows))
        .await
        .expect("append");
    engine.close().await.expect("close");
    drop(engine);
    let question = ["leaf01", "show", "bgp", "around", "2026-11-01T01:00:00Z"];
    let shows_the_sessions = |output: std::process::Output| {
        let out = text(&output.stdout);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(out.starts_with("Matching bgp records:"), "{out}");
        assert!(
            ["swp51", "swp52", "swp53"]
                .iter()
                .all(|peer| out.contains(peer)),
            "{out}"
        );
    };

    // Run elsewhere, so that the default `./sonde-data` holds nothing.
    let local = sonde_command()
        .current_dir(elsewhere.path())
        .env("SONDE_DATA_DIR", dir.path())
        .args(question)
        .output()
        .expect("sonde runs");
    shows_the_sessions(local);
    let json = sonde_command()
        .current_dir(elsewhere.path())
        .env("SONDE_DATA_DIR", dir.path())
        .env("SONDE_JSON", "yes")
        .args([
            "sql",
            "SELECT hostname, count(*) AS n FROM bgp GROUP BY hostname",
        ])
        .output()
        .expect("sonde runs");
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert!(
        text(&json.stdout).contains(r#""n":3"#),
        "{}",
        text(&json.stdout)
    );

    let server = TestServer::start(dir.path(), Some("t0ken")).await;
    let remote = sonde_command()
        .current_dir(elsewhere.path())
        .env("SONDE_SERVER", &server.addr)
        .env("SONDE_TOKEN", "t0ken")
        .args(question)
        .output()
        .expect("sonde runs");
    shows_the_sessions(remote);
    server.stop().await.expect("the server stops cleanly");
}

/// A store of three leaf01 sessions, closed, in a new directory.
async fn three_sessions() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("opens");
    let rows: Vec<Bgp> = (1..=3)
        .map(|i| {
            Bgp::new(
                T0 + i,
                "leaf01",
                &format!("swp5{i}"),
                "Established",
                65011,
                true,
            )
        })
        .collect();
    engine
        .append("bgp", &bgp_batch(&rows))
        .await
        .expect("append");
    engine.close().await.expect("close");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_options_work_in_any_position() {
    let dir = three_sessions().await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let count = "SELECT count(*) AS n FROM bgp";
    for args in [
        vec!["--data-dir", data_dir, "sql", count],
        vec!["sql", "--data-dir", data_dir, count],
        vec!["sql", count, "--data-dir", data_dir, "--json"],
        vec!["--json", "sql", "--data-dir", data_dir, count],
    ] {
        let output = sonde(&args);
        let out = text(&output.stdout);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(
            out.contains('3'),
            "{args:?} answers from the store given: {out}"
        );
    }
    let json = sonde(&["--json", "--data-dir", data_dir, "sql", count]);
    assert!(
        text(&json.stdout).contains(r#""n":3"#),
        "{}",
        text(&json.stdout)
    );
    let netql_json = sonde(&["--data-dir", data_dir, "--json", "show", "bgp"]);
    let value: serde_json::Value =
        serde_json::from_slice(&netql_json.stdout).expect("--json makes a statement's JSON");
    assert_eq!(value.as_array().map(Vec::len), Some(3), "{value}");

    for (args, flag) in [
        (vec!["simulate", "--server", "127.0.0.1:1"], "--server"),
        (
            vec!["--token", "x", "import", "pcap", "none.pcap"],
            "--token",
        ),
        (vec!["ztp", "serials", "--data-dir", data_dir], "a store"),
        (
            vec![
                "--server",
                "127.0.0.1:1",
                "--data-dir",
                data_dir,
                "show",
                "bgp",
            ],
            "--server",
        ),
        (vec!["serve", "--server", "127.0.0.1:1"], "--server"),
    ] {
        let output = sonde(&args);
        let err = text(&output.stderr);
        assert!(!output.status.success(), "{args:?} is refused");
        assert!(err.contains(flag), "{args:?} names what it refuses: {err}");
    }
}

#[test]
fn read_only_commands_make_no_files_and_name_a_missing_store() {
    let empty = tempfile::tempdir().expect("tempdir");
    for args in [
        &["show", "bgp"][..],
        &["check", "bgp"],
        &["sql", "SELECT 1"],
        &["ztp", "leases"],
        &["--data-dir", "elsewhere", "show", "bgp"],
    ] {
        let output = sonde_command()
            .current_dir(empty.path())
            .args(args)
            .output()
            .expect("sonde runs");
        let err = text(&output.stderr);
        assert!(!output.status.success(), "{args:?} without a store fails");
        assert!(
            err.contains("no store at") && err.contains("--data-dir") && err.contains("--server"),
            "{args:?} names the path and the fix: {err}"
        );
        let made: Vec<_> = std::fs::read_dir(empty.path()).expect("dir").collect();
        assert!(made.is_empty(), "{args:?} made {made:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_the_command_quietly() {
    let dir = three_sessions().await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    for args in [
        &["--data-dir", data_dir, "show", "bgp"][..],
        &["--data-dir", data_dir, "sql", "SELECT * FROM bgp"],
    ] {
        let mut child = sonde_command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sonde runs");
        // The reader goes away before the answer is written, as `head` does once it has its line.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("sonde ends");
        let err = text(&output.stderr);
        assert!(
            !err.contains("panicked") && err.is_empty(),
            "{args:?}: {err}"
        );
        assert_eq!(output.status.code(), Some(141), "{args:?}: 128 + SIGPIPE");
    }
}

#[test]
fn every_command_shows_an_example_in_its_help() {
    for command in [
        &[][..],
        &["demo"],
        &["serve"],
        &["simulate"],
        &["sql"],
        &["import"],
        &["import", "pcap"],
        &["ztp"],
        &["ztp", "serve"],
        &["ztp", "images"],
        &["ztp", "configs"],
        &["ztp", "map"],
        &["ztp", "unmap"],
        &["ztp", "serials"],
        &["ztp", "leases"],
        &["ztp", "devices"],
    ] {
        let page = help(command);
        assert!(
            page.contains("Example"),
            "{command:?} --help has no example:\n{page}"
        );
        let example = page
            .lines()
            .skip_while(|line| !line.starts_with("Example"))
            .nth(1)
            .unwrap_or_default();
        assert!(
            example.trim_start().starts_with("sonde"),
            "{command:?}: {example}"
        );
    }
}
