//! What tests and benchmarks share, here and in the workspace: whether a test that needs root
//! runs here, and INT datagrams to measure with ([`int`]).
//!
//! Such a test runs whenever the process is root (CI runs as root). Without root it says why it
//! is skipped and passes, except under CI (the `CI` variable set), where a test that cannot run
//! is a failure: a CI run never passes by skipping.

pub mod int;

use std::io::Write;

/// Whether `test`, which needs root, can run: true as root, else [`skip`] (false).
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    skip(test, "needs root");
    false
}

/// Says that `test` is skipped because of `reason`; under CI, fails instead. The line goes to
/// stderr itself, not through `eprintln!`, which the test harness would capture and hide.
pub fn skip(test: &str, reason: &str) {
    assert!(
        !on_ci(),
        "{test} cannot run: {reason}; CI is set, where a test that cannot run fails"
    );
    let _ = writeln!(std::io::stderr(), "{test}: skipped: {reason}");
}

/// Whether the effective user is root, from `/proc/self/status` (`Uid:` real, effective, …).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}
