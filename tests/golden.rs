//! NetQL golden files, as DataFusion's sqllogictest suite keeps them: every `queries/**/*.slt`
//! holds one fixture and a list of statements with the output each must print. Run with
//! `cargo test --test golden`; `cargo test --test golden -- --complete` rewrites the outputs.
//!
//! A file:
//! ```text
//! # comment
//! fixture fabric            (or `fixture fabric flushed`: flushed, compacted and checkpointed;
//!                            `fixture ztp`: a day of zero-touch provisioning, see common/ztp.rs)
//!
//! query
//! spine01 check bgp around 10h
//! ----
//! <the text the statement prints, or its error>
//! ```
//! A record's output ends at the first blank line. Relative times count back from the fixture's
//! fixed `now`, so nothing in the output is volatile.

#[path = "common/fabric.rs"]
mod fabric;
#[path = "common/ztp.rs"]
mod ztp;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sonde_engine::{Engine, EngineConfig};
use sonde_server::EngineCatalog;

enum Line {
    Text(String),
    Query {
        statement: String,
        expected: Vec<String>,
    },
}

struct GoldenFile {
    fixture: String,
    lines: Vec<Line>,
}

fn parse(text: &str) -> Result<GoldenFile, String> {
    let mut fixture = None;
    let mut lines = Vec::new();
    let mut input = text.lines().peekable();
    while let Some(line) = input.next() {
        if let Some(name) = line.strip_prefix("fixture ") {
            fixture = Some(name.trim().to_string());
            lines.push(Line::Text(line.to_string()));
        } else if line.trim() == "query" {
            let mut statement = Vec::new();
            for line in input.by_ref() {
                if line.trim() == "----" {
                    break;
                }
                statement.push(line.to_string());
            }
            let mut expected = Vec::new();
            while let Some(line) = input.next_if(|l| !l.trim().is_empty()) {
                expected.push(line.to_string());
            }
            lines.push(Line::Query {
                statement: statement.join("\n"),
                expected,
            });
        } else {
            lines.push(Line::Text(line.to_string()));
        }
    }
    let fixture = fixture.ok_or("the file names no fixture (`fixture fabric`)")?;
    Ok(GoldenFile { fixture, lines })
}

async fn load_fixture(name: &str, dir: &Path) -> Result<Engine, String> {
    let mut words = name.split_whitespace();
    let history = match words.next() {
        Some("fabric") => fabric::reference_batches(),
        Some("ztp") => ztp::ztp_batches(),
        other => return Err(format!("unknown fixture {other:?}")),
    };
    let engine = Engine::open(EngineConfig::local(dir))
        .await
        .map_err(|e| e.to_string())?;
    for (table, batch) in history {
        engine
            .append(table, &batch)
            .await
            .map_err(|e| format!("{table}: {e}"))?;
    }
    if words.next() == Some("flushed") {
        engine.flush().await.map_err(|e| e.to_string())?;
        engine.maintain().await.map_err(|e| e.to_string())?;
    }
    Ok(engine)
}

/// What a statement prints: its answer (JSON when asked for), or its error.
async fn output(engine: &Engine, statement: &str) -> Vec<String> {
    let text = match netql::run(&EngineCatalog::new(engine.clone()), statement, fabric::NOW).await {
        Ok(answer) => answer.render().unwrap_or_else(|e| e.to_string()),
        Err(error) => error.render(statement),
    };
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

async fn run_file(path: &Path, complete: bool) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let file = parse(&text)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine = load_fixture(&file.fixture, dir.path()).await?;
    let mut failures = Vec::new();
    let mut rewritten = String::new();
    let mut queries = 0;
    for line in &file.lines {
        match line {
            Line::Text(text) => {
                rewritten.push_str(text);
                rewritten.push('\n');
            }
            Line::Query {
                statement,
                expected,
            } => {
                queries += 1;
                let actual = output(&engine, statement).await;
                if !complete && &actual != expected {
                    failures.push(format!(
                        "{statement}\n--- expected\n{}\n--- actual\n{}",
                        expected.join("\n"),
                        actual.join("\n")
                    ));
                }
                rewritten.push_str(&format!("query\n{statement}\n----\n"));
                for line in &actual {
                    rewritten.push_str(line);
                    rewritten.push('\n');
                }
            }
        }
    }
    engine.close().await.map_err(|e| e.to_string())?;
    if complete {
        std::fs::write(path, rewritten).map_err(|e| e.to_string())?;
    }
    if failures.is_empty() {
        Ok(queries)
    } else {
        Err(failures.join("\n\n"))
    }
}

fn golden_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            golden_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

/// Every family `check` validates has `queries/check/<family>.slt`, and it shows the check both
/// failing (a fault of the reference timeline) and passing with no failure.
fn every_check_family_fails_and_passes(root: &Path) -> Result<(), String> {
    let mut missing = Vec::new();
    for family in netql::family::CHECK_FAMILIES.iter() {
        let path = root.join("check").join(format!("{family}.slt"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let queries = parse(&text).map(|file| file.lines).unwrap_or_default();
        let summaries: Vec<&str> = queries
            .iter()
            .filter_map(|line| match line {
                Line::Query { expected, .. } => expected.first().map(String::as_str),
                Line::Text(_) => None,
            })
            .filter(|l| l.starts_with("Total Nodes: "))
            .collect();
        let fails = summaries.iter().any(|l| !no_node_failed(l));
        let passes = summaries.iter().any(|l| no_node_failed(l));
        if !(fails && passes) {
            missing.push(format!(
                "{}: {}",
                path.display(),
                match (fails, passes) {
                    (false, false) => "no check answer at all",
                    (false, true) => "no failing check",
                    _ => "no passing check",
                }
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join("\n"))
    }
}

/// `Total Nodes: 4, Failed Nodes: 0, …`
fn no_node_failed(summary: &str) -> bool {
    summary.split(", ").any(|part| part == "Failed Nodes: 0")
}

fn main() -> ExitCode {
    let complete = std::env::args().any(|a| a == "--complete");
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut files = Vec::new();
    golden_files(&root, &mut files);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut failed = 0;
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match runtime.block_on(run_file(path, complete)) {
            Ok(queries) => println!("ok     {name} ({queries} statements)"),
            Err(message) => {
                failed += 1;
                println!("FAILED {name}\n{message}\n");
            }
        }
    }
    if filter.is_none()
        && let Err(message) = every_check_family_fails_and_passes(&root)
    {
        failed += 1;
        println!("FAILED every check family fails on a fault and passes when healthy\n{message}\n");
    }
    println!(
        "{} golden files, {failed} failed{}",
        files.len(),
        if complete { " (outputs rewritten)" } else { "" }
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
