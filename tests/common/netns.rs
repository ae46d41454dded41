//! A pair of network namespaces joined by one veth, for servers and real clients that must not
//! touch the machine's own network: the server side (`…-srv`, its end `…s` with 10.0.0.1/24 and
//! whatever else [`NetnsPair::srv_addr`] adds) and the client side (`…-cli`, its end `…c` with
//! no address until a test gives it one), loopback up in both.
//!
//! ```ignore
//! let Some(pair) = NetnsPair::up("my_test", &["udhcpc"]) else { return }; // skipped without root
//! let server = pair.srv_command("kea-dhcp4").args(["-c", conf]).spawn()?;
//! let out = pair.cli_output(["udhcpc", "-i", pair.cli_if(), "-q", "-n"]);
//! // … dropping `pair` (also while panicking) kills what runs in both namespaces and deletes them.
//! ```
//!
//! Names are unique per test process and pair, `z<pid>n<k>-srv` / `z<pid>n<k>-cli`, the veth ends
//! `z<pid>n<k>s` / `z<pid>n<k>c` (within the 15 bytes of an interface name); both ends are created
//! inside their namespaces, so nothing appears in the machine's own. Pairs left behind by killed
//! test processes (their pid no longer exists) are deleted by the next [`NetnsPair::up`].
//! Tests that cannot run (not root, a tool missing) are [`skip`]ped, which fails under CI. The
//! file stands alone (the ZTP benchmark includes it too).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use sonde_ingest::testing::is_root;
pub use sonde_ingest::testing::skip;

/// The server end's address in the seed's subnet.
pub const SRV_IP: &str = "10.0.0.1";

const SBIN: [&str; 4] = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/lib/frr"];

static NEXT: AtomicUsize = AtomicUsize::new(0);
static REAP: Once = Once::new();

/// Two namespaces and their veth; deleted, with every process inside, when dropped.
pub struct NetnsPair {
    base: String,
}

impl NetnsPair {
    /// Makes the pair for `test`, after checking that `tools` (and `ip`) are installed. `None`
    /// when the test is skipped: not root or a tool missing (a failure under CI). Panics when
    /// the namespaces cannot be made.
    pub fn up(test: &str, tools: &[&str]) -> Option<NetnsPair> {
        if !is_root() {
            skip(test, "needs root (network namespaces)");
            return None;
        }
        for name in std::iter::once(&"ip").chain(tools) {
            if find_tool(name).is_none() {
                skip(
                    test,
                    &format!("needs {name} (see .ci/run for the packages)"),
                );
                return None;
            }
        }
        REAP.call_once(reap_stale_pairs);
        let pair = NetnsPair {
            base: format!(
                "z{}n{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ),
        };
        // From here on a failure drops `pair`, which deletes what was made.
        pair.ip(&["netns", "add", &pair.srv()]);
        pair.ip(&["netns", "add", &pair.cli()]);
        pair.ip(&[
            "link",
            "add",
            &pair.srv_if(),
            "netns",
            &pair.srv(),
            "type",
            "veth",
            "peer",
            "name",
            &pair.cli_if(),
            "netns",
            &pair.cli(),
        ]);
        pair.ip(&["-n", &pair.srv(), "link", "set", "lo", "up"]);
        pair.ip(&["-n", &pair.cli(), "link", "set", "lo", "up"]);
        pair.srv_addr(&format!("{SRV_IP}/24"));
        pair.ip(&["-n", &pair.srv(), "link", "set", &pair.srv_if(), "up"]);
        pair.ip(&["-n", &pair.cli(), "link", "set", &pair.cli_if(), "up"]);
        Some(pair)
    }

    /// The server namespace.
    pub fn srv(&self) -> String {
        format!("{}-srv", self.base)
    }

    /// The client namespace.
    pub fn cli(&self) -> String {
        format!("{}-cli", self.base)
    }

    /// The veth end in the server namespace.
    pub fn srv_if(&self) -> String {
        format!("{}s", self.base)
    }

    /// The veth end in the client namespace.
    pub fn cli_if(&self) -> String {
        format!("{}c", self.base)
    }

    /// Adds `cidr` (e.g. "10.1.0.1/16") to the server's veth end.
    pub fn srv_addr(&self, cidr: &str) {
        self.ip(&[
            "-n",
            &self.srv(),
            "addr",
            "add",
            cidr,
            "dev",
            &self.srv_if(),
        ]);
    }

    /// Replaces the client end's addresses with `cidrs` (none: no address, as a booting switch).
    pub fn set_cli_addrs(&self, cidrs: &[&str]) {
        self.ip(&["-n", &self.cli(), "addr", "flush", "dev", &self.cli_if()]);
        for cidr in cidrs {
            self.ip(&[
                "-n",
                &self.cli(),
                "addr",
                "add",
                cidr,
                "dev",
                &self.cli_if(),
            ]);
        }
    }

    /// Gives the client end the hardware address `mac` (a switch of a reservation).
    pub fn set_cli_mac(&self, mac: &str) {
        self.ip(&[
            "-n",
            &self.cli(),
            "link",
            "set",
            "dev",
            &self.cli_if(),
            "address",
            mac,
        ]);
    }

    /// A command that runs `program` (found in PATH or the sbin directories) in the server
    /// namespace; the child's pid is `program`'s.
    pub fn srv_command(&self, program: impl AsRef<OsStr>) -> Command {
        netns_command(&self.srv(), program)
    }

    /// A command that runs `program` in the client namespace.
    pub fn cli_command(&self, program: impl AsRef<OsStr>) -> Command {
        netns_command(&self.cli(), program)
    }

    /// Runs `args` in the client namespace to completion (stdin /dev/null).
    pub fn cli_output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut args = args.into_iter();
        let program = args.next().expect("a command");
        self.cli_command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run a command in {}: {e}", self.cli()))
    }

    /// Runs `ip args…` in the root namespace (only on this pair's names); panics on failure.
    fn ip(&self, args: &[&str]) {
        let out = Command::new(tool("ip"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        delete_namespace(&self.cli());
        delete_namespace(&self.srv());
    }
}

/// `ip netns exec NS program`.
pub fn netns_command(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let program = program.as_ref();
    let resolved = match program.to_str() {
        Some(name) if !name.contains('/') => find_tool(name).map(PathBuf::into_os_string),
        _ => None,
    };
    let mut cmd = Command::new(tool("ip"));
    cmd.args(["netns", "exec", ns])
        .arg(resolved.as_deref().unwrap_or(program));
    cmd
}

/// Kills every process in `ns` (SIGKILL), then deletes it (its veth end goes with it).
fn delete_namespace(ns: &str) {
    for _ in 0..50 {
        let pids = Command::new(tool("ip"))
            .args(["netns", "pids", ns])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let pids: Vec<&str> = pids.split_whitespace().collect();
        if pids.is_empty() {
            break;
        }
        let _ = Command::new("kill").arg("-KILL").args(&pids).status();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new(tool("ip"))
        .args(["netns", "del", ns])
        .stderr(Stdio::null())
        .status();
}

/// Deletes the pairs of test processes that died without dropping theirs.
fn reap_stale_pairs() {
    let Ok(out) = Command::new(tool("ip")).args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(base) = name
            .strip_suffix("-srv")
            .or_else(|| name.strip_suffix("-cli"))
        else {
            continue;
        };
        let Some((pid, k)) = base.strip_prefix('z').and_then(|b| b.split_once('n')) else {
            continue;
        };
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(pid) || !numeric(k) || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        eprintln!("deleting the stale namespace '{name}'");
        delete_namespace(name);
    }
}

/// `name` from PATH or the sbin directories (which a non-login PATH may lack).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| PathBuf::from(name))
}
