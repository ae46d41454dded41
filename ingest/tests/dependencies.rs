//! What `sonde-ingest` links: never DataFusion (nor any of its crates), so that the agent stays
//! small. Read from `cargo tree`, so that CI fails as soon as a dependency pulls it in.

use std::ffi::OsString;
use std::process::{Command, Output};

/// `cargo tree` of this crate's normal dependencies, one crate a line: offline first (the build
/// that runs this test has every crate at hand), online if that is not enough.
fn dependency_tree() -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let tree = |offline: bool| -> Output {
        let mut command = Command::new(&cargo);
        command
            .arg("tree")
            .args(["-p", "sonde-ingest", "-e", "normal"])
            .args(["--prefix", "none"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if offline {
            command.arg("--offline");
        }
        command.output().unwrap_or_else(|e| {
            panic!("cannot run {cargo:?} tree ({e}): put cargo on PATH or set CARGO to its path")
        })
    };
    let mut output = tree(true);
    if !output.status.success() {
        output = tree(false);
    }
    assert!(
        output.status.success(),
        "cargo tree failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn never_depends_on_datafusion() {
    let tree = dependency_tree();
    assert!(
        tree.starts_with("sonde-ingest "),
        "not the tree of sonde-ingest:\n{tree}"
    );
    let mut datafusion: Vec<&str> = tree
        .lines()
        .filter(|line| line.starts_with("datafusion"))
        .collect();
    datafusion.sort_unstable();
    datafusion.dedup();
    assert!(
        datafusion.is_empty(),
        "sonde-ingest must not depend on DataFusion, yet it links {datafusion:?}"
    );
}
