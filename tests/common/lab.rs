//! The lab fixture: a real 2-spine / 2-leaf / 2-server fabric (FRR and lldpd in Linux network
//! namespaces) built and torn down by `tests/lab/fabric.sh`; see the comment block at the top of
//! that script for the topology, ASNs, addresses and names.
//!
//! ```ignore
//! let Some(lab) = Lab::up("my_test") else { return }; // skipped without root, FRR or lldpd
//! let summary = lab.vtysh_json("leaf01", "show bgp summary json");
//! let agent = lab.spawn_in("leaf01", agent_binary, &["--server", "192.168.200.1:…"]);
//! // … dropping `lab` (also while panicking) runs `fabric.sh down`.
//! ```
//!
//! Labs are taken one at a time per test process (a second `Lab::up` waits for the first lab to
//! be dropped), so parallel tests do not overload the machine; each gets a fresh prefix
//! `t<pid>n<k>-`, and labs left behind by killed test processes are torn down on the next
//! `Lab::up`. `SONDE_LAB_KEEP=1` keeps the lab after the test for inspection (tear it down with
//! `SONDE_LAB_PREFIX=<prefix> tests/lab/fabric.sh down`).
//!
//! A test that needs root (or the lab's tools) runs whenever it can; when it cannot, it says why
//! it is skipped and passes, except under CI (the `CI` variable set), where it fails:
//! [`root_or_skip`] and [`skip`] decide, for the lab and for any other such test.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, Once};
use std::time::{Duration, Instant};

use serde_json::Value;
use sonde_ingest::testing::is_root;
pub use sonde_ingest::testing::skip;

/// The lab script.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/fabric.sh");
/// Every node, in the script's order (which also gives the management addresses).
pub const NODES: [&str; 6] = [
    "spine01", "spine02", "leaf01", "leaf02", "server01", "server02",
];
/// The nodes that run FRR.
pub const ROUTERS: [&str; 4] = ["spine01", "spine02", "leaf01", "leaf02"];
/// The address of the management bridge in the `oob` namespace, where the Sonde server runs.
pub const OOB_IP: &str = "192.168.200.1";

const SBIN: [&str; 4] = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/lib/frr"];

/// One lab per process at a time: `true` while a lab is up.
static BUSY: Mutex<bool> = Mutex::new(false);
static FREED: Condvar = Condvar::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);
static REAP: Once = Once::new();

/// A running lab; torn down (`fabric.sh down`) when dropped.
pub struct Lab {
    prefix: String,
}

impl Lab {
    /// Builds the lab for `test` and waits until all 8 BGP sessions are Established and LLDP
    /// sees every link. `None` when `test` is [`skip`]ped: not root, or `ip`, `vtysh`, `lldpd`
    /// or the script are missing (a failure under CI); panics with the script's output if the
    /// lab does not come up.
    pub fn up(test: &str) -> Option<Lab> {
        if !root_or_skip(test) {
            return None;
        }
        if let Some(reason) = missing_tool() {
            skip(test, &reason);
            return None;
        }
        {
            let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
            while *busy {
                busy = FREED.wait(busy).unwrap_or_else(|e| e.into_inner());
            }
            *busy = true;
        }
        REAP.call_once(reap_stale_labs);
        let lab = Lab {
            prefix: format!(
                "t{}n{}-",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ),
        };
        let out = lab.fabric(&["up"]);
        if !out.status.success() {
            // `lab` is dropped while unwinding: the half-built lab is torn down.
            panic!(
                "fabric.sh up failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        Some(lab)
    }

    /// The prefix of every name of this lab (`SONDE_LAB_PREFIX`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where the lab's logs are: `<node>/{zebra,bgpd,staticd,watchfrr,lldpd}.log`, and the output of
    /// processes started with [`Lab::spawn_in`]. Deleted by the teardown.
    pub fn log_dir(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/sonde-lab{}", self.prefix))
    }

    /// Runs `fabric.sh <args>` for this lab.
    pub fn fabric(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg(SCRIPT)
            .args(args)
            .env("SONDE_LAB_PREFIX", &self.prefix)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"))
    }

    /// The network namespace of `node`.
    pub fn ns(&self, node: &str) -> String {
        node_index(node);
        format!("{}{}", self.prefix, node)
    }

    /// The management namespace (bridge br0, 192.168.200.1/24): where the Sonde server runs.
    pub fn oob(&self) -> String {
        format!("{}oob", self.prefix)
    }

    /// The address of `node`'s eth0 on the management network, e.g. "192.168.200.13".
    pub fn mgmt_ip(&self, node: &str) -> String {
        format!("192.168.200.{}", 11 + node_index(node))
    }

    /// A command that runs `program` inside `node`'s namespace with its UTS hostname set to the
    /// node name; the child's pid is `program`'s (nothing forks on the way).
    pub fn command_in(&self, node: &str, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec"])
            .arg(self.ns(node))
            .args([
                "unshare",
                "--uts",
                "sh",
                "-c",
                r#"hostname "$0" && exec "$@""#,
                node,
            ])
            .arg(program);
        cmd
    }

    /// A command that runs `program` in the management namespace (for the Sonde server and CLI).
    pub fn oob_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec"]).arg(self.oob()).arg(program);
        cmd
    }

    /// Runs a command in `node`'s namespace (hostname = node) and returns its output.
    pub fn exec<I, S>(&self, node: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut args = args.into_iter();
        let program = args.next().expect("exec: a command");
        self.command_in(node, program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run a command in {node}: {e}"))
    }

    /// Runs `sh -c script` in `node`'s namespace; its stdout. Panics with stderr on failure.
    pub fn sh(&self, node: &str, script: &str) -> String {
        let out = self.exec(node, ["sh", "-c", script]);
        if !out.status.success() {
            panic!(
                "{node}: `{script}` failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs vtysh commands on `node`'s FRR, each one a `-c`, e.g. a fault:
    /// `["configure terminal", "router bgp 65011", "neighbor swp51 remote-as 65999"]`.
    /// Its stdout; panics when vtysh fails (it exits non-zero on any rejected command).
    pub fn vtysh(&self, node: &str, commands: &[&str]) -> String {
        assert!(ROUTERS.contains(&node), "{node} runs no FRR");
        let mut cmd = Command::new(tool("vtysh"));
        cmd.arg("-N").arg(self.ns(node));
        for c in commands {
            cmd.args(["-c", c]);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run vtysh: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            panic!(
                "{node}: vtysh {commands:?} failed ({}): {stdout}{stderr}",
                out.status
            );
        }
        stdout
    }

    /// The JSON answer of a vtysh `show … json` command on `node`.
    pub fn vtysh_json(&self, node: &str, command: &str) -> Value {
        let out = self.vtysh(node, &[command]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{node}: `{command}` is not JSON ({e}): {out}"))
    }

    /// `lldpcli -f json0 show neighbors` on `node` (json0: always lists, even for one neighbour).
    pub fn lldp_neighbors(&self, node: &str) -> Value {
        let out = Command::new(tool("lldpcli"))
            .arg("-u")
            .arg(format!("/run/lldpd-{}.socket", self.ns(node)))
            .args(["-f", "json0", "show", "neighbors"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run lldpcli: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            panic!(
                "{node}: lldpcli failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{node}: lldpcli output is not JSON ({e}): {stdout}"))
    }

    /// Starts a long-lived process (e.g. the agent) in `node`'s namespace with its UTS hostname
    /// set. stdin is /dev/null; stdout and stderr go to `<log_dir>/<node>/<program name>.log`
    /// (printed if the test panics). Killed at the latest by the teardown. For other stdio, use
    /// [`Lab::command_in`].
    pub fn spawn_in<I, S>(&self, node: &str, program: impl AsRef<OsStr>, args: I) -> Child
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let program = program.as_ref();
        let name = Path::new(program)
            .file_name()
            .unwrap_or(program)
            .to_string_lossy()
            .into_owned();
        let log = self.log_dir().join(node).join(format!("{name}.log"));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let file2 = file.try_clone().expect("clone log file");
        self.command_in(node, program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} in {node}: {e}"))
    }

    /// Dumps the output of the processes started with `spawn_in` and the tails of the bgpd logs.
    fn dump_logs(&self) {
        let dir = self.log_dir();
        for node in NODES {
            let Ok(entries) = std::fs::read_dir(dir.join(node)) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let keep = match name.as_deref() {
                    Some("bgpd.log") => 10,
                    Some(
                        "zebra.log" | "staticd.log" | "watchfrr.log" | "lldpd.log" | "frrinit.log",
                    ) => continue,
                    _ => 60,
                };
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let lines: Vec<&str> = text.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                eprintln!("--- {} (last {keep} lines)", path.display());
                for line in &lines[lines.len().saturating_sub(keep)..] {
                    eprintln!("{line}");
                }
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        if std::env::var_os("SONDE_LAB_KEEP").is_some_and(|v| v == "1") {
            eprintln!(
                "SONDE_LAB_KEEP=1: lab '{}' left running; tear it down with \
                 SONDE_LAB_PREFIX={} {SCRIPT} down",
                self.prefix, self.prefix
            );
        } else {
            let out = self.fabric(&["down"]);
            if !out.status.success() {
                eprintln!(
                    "fabric.sh down failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        *busy = false;
        FREED.notify_one();
    }
}

/// Polls `check` every 200 ms until it holds; panics after `timeout` naming `what`.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if check() {
            return;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn node_index(node: &str) -> usize {
    NODES
        .iter()
        .position(|n| *n == node)
        .unwrap_or_else(|| panic!("unknown lab node {node:?} (one of {NODES:?})"))
}

/// `name` from PATH or the sbin directories (which a non-login PATH may lack).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| PathBuf::from(name))
}

/// Whether `test`, which needs root, can run: true as root, else [`skip`] (false).
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    skip(test, "needs root (network namespaces, FRR, lldpd)");
    false
}

/// What the lab needs besides root and lacks here, if anything.
fn missing_tool() -> Option<String> {
    for name in [
        "ip",
        "vtysh",
        "lldpd",
        "lldpcli",
        "unshare",
        "setsid",
        "frrinit.sh",
    ] {
        if find_tool(name).is_none() {
            return Some(format!(
                "the lab needs {name} (apt-get install -y frr lldpd iproute2 util-linux)"
            ));
        }
    }
    if !Path::new(SCRIPT).is_file() {
        return Some(format!("{SCRIPT} is missing"));
    }
    None
}

/// Tears down labs of test processes that died without dropping their `Lab` (their `oob`
/// namespace `t<pid>n<k>-oob` outlives a pid that no longer exists).
fn reap_stale_labs() {
    let Ok(out) = Command::new(tool("ip")).args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(prefix) = name.strip_suffix("oob") else {
            continue;
        };
        let Some((pid, k)) = prefix
            .strip_prefix('t')
            .and_then(|p| p.strip_suffix('-'))
            .and_then(|p| p.split_once('n'))
        else {
            continue;
        };
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(pid) || !numeric(k) || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        eprintln!("tearing down the stale lab '{prefix}'");
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("down")
            .env("SONDE_LAB_PREFIX", prefix)
            .stdin(Stdio::null())
            .output();
    }
}
