//! ZTP with real clients: `sonde serve --ztp` in a network namespace of its own, answering
//! udhcpc, dhclient, perfdhcp, a scapy DHCPINFORM, curl and a device's GELF messages from a
//! second namespace over one veth (the fixture: `tests/common/netns.rs`). Nothing touches the
//! machine's own network.
//!
//! One server and one namespace pair serve every step, in the order a fabric's switches would
//! meet them: ONIE clients get their reservations (`dhcp`), a dhclient renews, CTRLD's INFORM
//! asks for option 210, curl walks the installer waterfall and the configuration URLs and tries
//! to escape the served roots (`http`), a device reports over GELF, perfdhcp loads the server,
//! the events are queried (`events`), and the server is SIGKILLed and comes back with its leases
//! (`crash`). The ZTP directory is `tests/ztp/site/` (the seed's dhcpd.conf and config.db,
//! extended), copied to a temporary directory with a generated image and symlinks that point
//! outside it.

mod crash;
mod dhcp;
mod events;
mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::Server;
use crate::netns::{NetnsPair, SRV_IP};

/// The committed ZTP directory.
const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ztp/site");
/// Scripts the clients run.
const UDHCPC_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ztp/udhcpc-script.sh");
const DHCLIENT_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ztp/dhclient-script.sh");
const INFORM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ztp/inform.py");

/// The seed's switch: reserved by MAC, the full set of configurations, an image URL elsewhere.
const LEAF01_MAC: &str = "48:65:ee:11:da:85";
const LEAF01_SERIAL: &str = "591654XK1902037";
/// Reserved by serial (option 61), element configuration only, an image under images/.
const LEAF02_SERIAL: &str = "591654XK1902038";
/// Reserved by MAC; never fetches anything: the device `check ztp` must name.
const SPINE01_MAC: &str = "02:5a:00:00:00:31";
/// Bound to a MAC in config.db (02:5a:00:00:00:39), which curl's client is not.
const BOUND_SERIAL: &str = "591654XK1902039";
/// Dynamic clients of the pool 10.0.0.200–250 (no reservation).
const POOL_MACS: [&str; 2] = ["02:5a:00:00:01:01", "02:5a:00:00:01:02"];
/// dhclient's MAC, renewing a 10 s lease.
const DHCLIENT_MAC: &str = "02:5a:00:00:02:01";
/// The client's own address for INFORM, curl and GELF (outside the pool, in the subnet).
const CLIENT_IP: &str = "10.0.0.2";
/// The generated installer under images/.
const IMAGE: &str = "leaf02-installer.bin";
const IMAGE_LEN: usize = 2 * 1024 * 1024 + 123;
/// The vendor class ONIE sends for the seed's platform.
const ONIE_VENDOR: &str = "onie_vendor:x86_64-accton_as7712_32x-r0";

/// The tools the test drives.
const TOOLS: [&str; 5] = ["udhcpc", "dhclient", "perfdhcp", "curl", "python3"];

#[test]
fn ztp_real_clients_in_namespaces() {
    let test = "ztp_real_clients_in_namespaces";
    let Some(mut ztp) = Ztp::up(test) else {
        return;
    };
    if !scapy_or_skip(test) {
        return;
    }
    ztp.start_server();

    // DHCP: udhcpc as ONIE, dhclient renewing, CTRLD's INFORM.
    let leases = dhcp::onie_clients_get_their_reservations(&ztp);
    dhcp::dhclient_gets_a_lease_and_renews_it(&ztp);
    dhcp::inform_gets_the_path_prefix(&ztp);

    // HTTP from the client's address, and a GELF message.
    http::onie_waterfall(&ztp);
    http::configurations_per_serial(&ztp);
    http::image_redirects_and_resumes(&ztp);
    http::traversal_never_escapes(&ztp);
    events::gelf_message_is_stored(&ztp);

    // Load, then what the store says of it all.
    dhcp::perfdhcp_short_load(&ztp);
    events::codes_are_queryable(&ztp);
    events::check_ztp_finds_the_stopped_device(&mut ztp);

    // SIGKILL after the ACKs: the same leases afterwards.
    crash::killed_server_keeps_its_leases(&mut ztp, &leases);
}

/// The namespaces, the ZTP directory's copy, the store and the running server.
pub struct Ztp {
    // Dropped first: the server, then the namespaces (which kills whatever is left in them).
    server: Option<Server>,
    pair: NetnsPair,
    site: TempDir,
    store: TempDir,
    work: TempDir,
}

impl Ztp {
    fn up(test: &str) -> Option<Ztp> {
        let pair = NetnsPair::up(test, &TOOLS)?;
        // The relayed racks' subnet: perfdhcp relays from 10.1.0.2, answers go back to it.
        pair.srv_addr("10.1.0.1/16");
        let site = tempfile::tempdir().expect("tempdir");
        copy_dir(Path::new(SITE), site.path());
        std::fs::write(site.path().join("images").join(IMAGE), image_bytes())
            .expect("writes the image");
        let images = site.path().join("images");
        std::os::unix::fs::symlink("/etc/passwd", images.join("passwd-link")).expect("symlink");
        std::os::unix::fs::symlink("/etc", images.join("etc-link")).expect("symlink");
        std::os::unix::fs::symlink("/etc/passwd", site.path().join("onie-installer-x86_64"))
            .expect("symlink");
        Some(Ztp {
            server: None,
            pair,
            site,
            store: tempfile::tempdir().expect("tempdir"),
            work: tempfile::tempdir().expect("tempdir"),
        })
    }

    /// `sonde serve --ztp` in the server namespace, DHCP on its veth, HTTP and GELF on 10.0.0.1.
    fn start_server(&mut self) {
        self.server = None;
        let mut command = self.pair.srv_command(env!("CARGO_BIN_EXE_sonde"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SONDE_") {
                command.env_remove(name);
            }
        }
        let site = self.site.path().display().to_string();
        let interface = self.pair.srv_if();
        let http = format!("{SRV_IP}:80");
        let gelf = format!("{SRV_IP}:12201");
        let server = Server::launch(
            command,
            self.store.path(),
            "127.0.0.1:0",
            &[
                "--ztp",
                &site,
                "--dhcp-addr",
                "0.0.0.0:67",
                "--dhcp-interface",
                &interface,
                "--ztp-http-addr",
                &http,
                "--gelf-addr",
                &gelf,
            ],
        );
        self.server = Some(server);
    }

    fn server(&mut self) -> &mut Server {
        self.server.as_mut().expect("the server runs")
    }

    /// A file of the test's own, for clients' output (the namespaces share the filesystem).
    fn work_file(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// SQL over the store the server writes, as JSON rows (`sonde sql --data-dir … --json`).
    fn sql(&self, query: &str) -> Vec<Value> {
        let dir = self.store.path().display().to_string();
        let output = crate::common::sonde(&["sql", "--data-dir", &dir, "--json", query]);
        assert!(
            output.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        match serde_json::from_str(&text) {
            Ok(Value::Array(rows)) => rows,
            other => panic!("{query}: unexpected answer {other:?}: {text}"),
        }
    }

    /// Polls `query` until `check` accepts its rows; panics with the last rows after 20 s.
    fn sql_until(&self, query: &str, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let rows = self.sql(query);
            if check(&rows) {
                return rows;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what}: `{query}` answers {rows:#?}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A NetQL statement asked of the running server over Flight (`sonde --server … json`),
    /// from inside its namespace.
    fn netql(&mut self, statement: &str) -> (bool, String) {
        let addr = self.server().addr.clone();
        let mut command = self.pair.srv_command(env!("CARGO_BIN_EXE_sonde"));
        command
            .env("SONDE_LOG", "warn")
            .args(["--server", &addr])
            .args(statement.split_whitespace())
            .stdin(Stdio::null());
        let output = command.output().expect("sonde runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }
}

/// Whether python3 has scapy (CI installs it; see .ci/run).
fn scapy_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import scapy.layers.dhcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::netns::skip(test, "python3 has no scapy");
    }
    ok
}

/// The generated installer: deterministic bytes, none of them a text file's.
fn image_bytes() -> Vec<u8> {
    let mut state: u64 = 0x5eed_0f1a_2b3c_4d5e;
    (0..IMAGE_LEN)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates the directory");
    for entry in std::fs::read_dir(from).expect("reads the site") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copies a file");
        }
    }
}

/// A JSON value as text (numbers and booleans too), null as "".
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
