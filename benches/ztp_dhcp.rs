//! DHCP leases per second, Sonde beside Kea (Debian's `kea-dhcp4-server`, memfile with
//! persistence on), one run, same machine, same namespaces, same subnet and pool.
//!
//! perfdhcp (Debian's `kea-admin`) relays from 10.8.0.2 in the client namespace to the server
//! in the server namespace (10.8.0.1/13, over one veth) with a fresh random MAC per exchange
//! (`-R 1000000`). For each server the offered rate climbs (`-r`) until either exchange drops
//! more than 1 %; the highest rate under 1 % is then run again (a rate lower while the median
//! still drops more than 1 %), and the median of the completed DORA exchanges per second
//! ("Rate:" in perfdhcp's summary: leases/s) is reported with its drops. Every run starts its
//! server afresh on an empty store / lease file. Kea runs as Debian ships it (single-threaded)
//! and with its multi-threading on; the ratio is against the faster of the two.
//!
//! Sonde's leases are durable before each ACK (its WAL's grouped fsync); Kea's memfile appends
//! its CSV without fsync. perfdhcp and the server share the machine's cores, so beside the rate
//! each run reports the server's own CPU time per lease (from `/proc/<pid>/stat`) and how busy
//! the whole machine was: when the machine is saturated, CPU per lease is the comparison the
//! load generator does not cap.
//!
//! `CARGO_TARGET_DIR=… cargo bench --bench ztp_dhcp` (root; skips when not root or a tool is
//! missing). `ZTP_BENCH_SECONDS` (default 5) sets each run's length, `ZTP_BENCH_REPEATS`
//! (default 3) the runs at the chosen rate, `ZTP_BENCH_CLIENTS` (default 1) the perfdhcp
//! processes that share the offered rate, each relaying from its own address.

#[path = "../tests/common/netns.rs"]
mod netns;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use netns::NetnsPair;

const RATES: [u32; 13] = [
    1_000, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 24_000, 32_000, 48_000,
    64_000,
];
/// The relayed subnet: 10.8.0.0/13, half a million addresses, so no run exhausts it.
const SUBNET: &str = "10.8.0.0";
const NETMASK: &str = "255.248.0.0";
const PREFIX: u32 = 13;
const POOL: (&str, &str) = ("10.8.1.0", "10.15.255.250");
const SRV_RELAY_SIDE: &str = "10.8.0.1";
/// The first perfdhcp's relay address; the next ones count up from it.
const CLIENT_BASE: u8 = 2;
/// Linux reports process CPU times in these ticks per second (USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Sonde,
    Kea,
    KeaThreaded,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Sonde => "Sonde",
            Peer::Kea => "Kea 1 thread",
            Peer::KeaThreaded => "Kea multi-threaded",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Run {
    offered: u32,
    rate: f64,
    discover_drops: f64,
    request_drops: f64,
    sent: u64,
    /// The server's CPU time over the run, seconds.
    server_cpu: f64,
    /// The share of the machine's CPU time that was busy during the run.
    machine_busy: f64,
    seconds: u32,
}

impl Run {
    fn drops(&self) -> f64 {
        self.discover_drops.max(self.request_drops)
    }

    /// The server's CPU microseconds per completed lease.
    fn cpu_us_per_lease(&self) -> f64 {
        let leases = self.rate * f64::from(self.seconds);
        if leases > 0.0 {
            self.server_cpu * 1e6 / leases
        } else {
            0.0
        }
    }

    /// Another run's figures added (a second perfdhcp of the same run).
    fn merged(mut self, other: Run) -> Run {
        self.rate += other.rate;
        self.discover_drops = self.discover_drops.max(other.discover_drops);
        self.request_drops = self.request_drops.max(other.request_drops);
        self.sent += other.sent;
        self
    }
}

fn main() {
    let test = "ztp_dhcp bench";
    let tools = ["perfdhcp", "kea-dhcp4"];
    let Some(pair) = NetnsPair::up(test, &tools) else {
        return;
    };
    pair.srv_addr(&format!("{SRV_RELAY_SIDE}/{PREFIX}"));
    let seconds: u32 = env_number("ZTP_BENCH_SECONDS", 5);
    let repeats: usize = env_number("ZTP_BENCH_REPEATS", 3);
    let clients: u8 = env_number("ZTP_BENCH_CLIENTS", 1u8).clamp(1, 16);
    let addrs: Vec<String> = (0..clients)
        .map(|i| format!("{}/{PREFIX}", client_ip(i)))
        .collect();
    pair.set_cli_addrs(&addrs.iter().map(String::as_str).collect::<Vec<_>>());
    println!(
        "DHCP leases/s at < 1 % drops, {clients} perfdhcp relayed over a veth, {seconds} s runs, median of {repeats}"
    );
    let mut results = Vec::new();
    for peer in [Peer::Sonde, Peer::Kea, Peer::KeaThreaded] {
        let best = climb(&pair, peer, seconds, clients);
        let Some(best) = best else {
            println!("{:<20} no rate under 1 % drops", peer.name());
            continue;
        };
        // The median at the rate found; when it drops more than 1 % (the climb's run was lucky),
        // the next lower rate.
        let mut offered = best.offered;
        let (median, runs) = loop {
            let mut runs: Vec<Run> = (0..repeats)
                .map(|_| measure(&pair, peer, offered, seconds, clients))
                .collect();
            runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
            let median = runs[runs.len() / 2];
            let lower = RATES.iter().rev().find(|r| **r < offered).copied();
            match lower {
                Some(lower) if median.drops() > 1.0 => offered = lower,
                _ => break (median, runs),
            }
        };
        println!(
            "{:<20} {:>9.0} leases/s at -r {:<6} drops {:.2} %, {:.1} µs server CPU/lease, machine {:.0} % busy (runs: {})",
            peer.name(),
            median.rate,
            median.offered,
            median.drops(),
            median.cpu_us_per_lease(),
            median.machine_busy * 100.0,
            runs.iter()
                .map(|r| format!("{:.0}/{:.2}%", r.rate, r.drops()))
                .collect::<Vec<_>>()
                .join(" ")
        );
        results.push((peer, median));
    }
    let rate = |p: Peer| results.iter().find(|(q, _)| *q == p).map(|(_, r)| r.rate);
    if let Some(sonde) = rate(Peer::Sonde) {
        let kea = [rate(Peer::Kea), rate(Peer::KeaThreaded)]
            .into_iter()
            .flatten()
            .fold(0.0f64, f64::max);
        if kea > 0.0 {
            println!(
                "Sonde / Kea (the faster Kea): {:.2}x (target >= 3x)",
                sonde / kea
            );
        }
    }
    let cpu = |p: Peer| {
        results
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, r)| r.cpu_us_per_lease())
    };
    if let (Some(sonde), Some(kea)) = (cpu(Peer::Sonde), cpu(Peer::Kea))
        && sonde > 0.0
    {
        println!(
            "server CPU per lease, Kea 1 thread / Sonde: {:.2}x ({kea:.1} µs vs {sonde:.1} µs: leases per core-second {:.0} vs {:.0})",
            kea / sonde,
            1e6 / kea,
            1e6 / sonde
        );
    }
}

/// The relay address of the `index`th perfdhcp.
fn client_ip(index: u8) -> String {
    format!("10.8.0.{}", CLIENT_BASE + index)
}

/// Raises the offered rate until drops pass 1 %: the last run under it.
fn climb(pair: &NetnsPair, peer: Peer, seconds: u32, clients: u8) -> Option<Run> {
    let mut best: Option<Run> = None;
    for rate in RATES {
        let run = measure(pair, peer, rate, seconds, clients);
        println!(
            "  {:<20} -r {rate:<6} {:>9.0} leases/s, drops {:.2} % / {:.2} %",
            peer.name(),
            run.rate,
            run.discover_drops,
            run.request_drops
        );
        if run.drops() > 1.0 || run.sent == 0 {
            break;
        }
        // Offered more than it completed by far: the client (or the server) is saturated.
        let saturated = run.rate < f64::from(rate) * 0.9;
        best = Some(run);
        if saturated {
            break;
        }
    }
    best
}

/// One run at `rate` (shared by `clients` perfdhcp processes) against a fresh `peer`.
fn measure(pair: &NetnsPair, peer: Peer, rate: u32, seconds: u32, clients: u8) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = match peer {
        Peer::Sonde => start_sonde(pair, dir.path()),
        Peer::Kea => start_kea(pair, dir.path(), false),
        Peer::KeaThreaded => start_kea(pair, dir.path(), true),
    };
    let share = (rate / u32::from(clients)).max(1);
    let cpu_before = process_cpu(server.id());
    let machine_before = machine_cpu();
    let perfdhcp: Vec<Child> = (0..clients)
        .map(|i| {
            pair.cli_command("perfdhcp")
                .args(["-4", "-l", &client_ip(i), "-R", "1000000"])
                .args(["-r", &share.to_string(), "-p", &seconds.to_string()])
                .arg(SRV_RELAY_SIDE)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("perfdhcp runs")
        })
        .collect();
    let reports: Vec<String> = perfdhcp
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("perfdhcp ends");
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
        .collect();
    let server_cpu = process_cpu(server.id()) - cpu_before;
    let machine_busy = machine_cpu().busy_since(machine_before);
    let _ = server.kill();
    let _ = server.wait();
    let mut run = reports
        .iter()
        .map(|report| parse(report, rate))
        .reduce(Run::merged)
        .unwrap_or_default();
    run.offered = rate;
    run.server_cpu = server_cpu;
    run.machine_busy = machine_busy;
    run.seconds = seconds;
    run
}

/// A process's CPU time so far (user + system), seconds.
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name's closing parenthesis: state is the first, utime the 12th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// The machine's CPU ticks: busy and in all.
#[derive(Debug, Clone, Copy)]
struct MachineCpu {
    busy: f64,
    total: f64,
}

impl MachineCpu {
    fn busy_since(self, before: MachineCpu) -> f64 {
        let total = self.total - before.total;
        if total > 0.0 {
            (self.busy - before.busy) / total
        } else {
            0.0
        }
    }
}

fn machine_cpu() -> MachineCpu {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: f64 = ticks.iter().sum();
    // idle and iowait are the 4th and 5th.
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    MachineCpu {
        busy: total - idle,
        total,
    }
}

fn parse(report: &str, offered: u32) -> Run {
    let mut run = Run {
        offered,
        ..Run::default()
    };
    let mut section = "";
    for line in report.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("***Statistics for: ") {
            section = if rest.starts_with("DISCOVER") {
                "discover"
            } else {
                "request"
            };
        } else if let Some(rest) = line.strip_prefix("Rate: ") {
            run.rate = first_number(rest);
        } else if let Some(rest) = line.strip_prefix("drops ratio: ") {
            let value = first_number(rest);
            if section == "discover" {
                run.discover_drops = value;
            } else {
                run.request_drops = value;
            }
        } else if let Some(rest) = line.strip_prefix("sent packets: ")
            && section == "discover"
        {
            run.sent = first_number(rest) as u64;
        }
    }
    run
}

fn first_number(text: &str) -> f64 {
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `sonde serve --ztp` in the server namespace, DHCP only, on an empty store; returns once the
/// DHCP listener is up.
fn start_sonde(pair: &NetnsPair, dir: &Path) -> Child {
    let ztp = dir.join("ztp");
    for sub in ["configs", "images"] {
        std::fs::create_dir_all(ztp.join(sub)).expect("creates the ZTP directory");
    }
    std::fs::write(ztp.join("config.db"), "{}\n").expect("writes config.db");
    std::fs::write(
        ztp.join("dhcpd.conf"),
        format!(
            "authoritative;\n\
             default-lease-time 3600;\n\
             max-lease-time 7200;\n\
             subnet 10.0.0.0 netmask 255.255.255.0 {{\n  range 10.0.0.200 10.0.0.250;\n}}\n\
             subnet {SUBNET} netmask {NETMASK} {{\n  range {} {};\n  option routers {SRV_RELAY_SIDE};\n  \
             option domain-name-servers 10.0.0.210;\n}}\n",
            POOL.0, POOL.1
        ),
    )
    .expect("writes dhcpd.conf");
    let mut command = pair.srv_command(env!("CARGO_BIN_EXE_sonde"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SONDE_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.join("store"))
        .args(["--flight-addr", "127.0.0.1:0", "--int-addr", ""])
        .arg("--ztp")
        .arg(&ztp)
        .args([
            "--dhcp-addr",
            "0.0.0.0:67",
            "--dhcp-interface",
            &pair.srv_if(),
        ])
        .args(["--ztp-http-addr", "", "--gelf-addr", ""])
        .env("SONDE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sonde serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("sonde: DHCP listening on") => break,
            Some(Ok(_)) => continue,
            _ => panic!("sonde serve stopped before its DHCP listener was up"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

/// kea-dhcp4 in the server namespace on the same subnet and pool, memfile persisted; returns
/// once it answers (its log says it is serving).
fn start_kea(pair: &NetnsPair, dir: &Path, threads: bool) -> Child {
    let config = serde_json::json!({
        "Dhcp4": {
            "interfaces-config": {"interfaces": [pair.srv_if()], "dhcp-socket-type": "udp"},
            "lease-database": {
                "type": "memfile",
                "persist": true,
                "name": dir.join("leases.csv"),
                "lfc-interval": 0
            },
            "multi-threading": {
                "enable-multi-threading": threads,
                "thread-pool-size": 0,
                "packet-queue-size": 64
            },
            "valid-lifetime": 3600,
            "max-valid-lifetime": 7200,
            "authoritative": true,
            "subnet4": [
                {"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.200 - 10.0.0.250"}]},
                {
                    "id": 2,
                    "subnet": format!("{SUBNET}/{PREFIX}"),
                    "pools": [{"pool": format!("{} - {}", POOL.0, POOL.1)}],
                    "option-data": [
                        {"name": "routers", "data": SRV_RELAY_SIDE},
                        {"name": "domain-name-servers", "data": "10.0.0.210"}
                    ]
                }
            ],
            "loggers": [{
                "name": "kea-dhcp4",
                "output_options": [{"output": dir.join("kea.log")}],
                "severity": "INFO"
            }]
        }
    });
    let path = dir.join("kea.json");
    std::fs::write(&path, config.to_string()).expect("writes kea.json");
    let mut child = pair
        .srv_command("kea-dhcp4")
        .arg("-c")
        .arg(&path)
        .env("KEA_PIDFILE_DIR", dir)
        .env("KEA_LOCKFILE_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kea-dhcp4 starts");
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(dir.join("kea.log")).unwrap_or_default();
        if log.contains("DHCP4_STARTED") {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kea-dhcp4 exited ({status}): {log}");
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("kea-dhcp4 did not start: {log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Kea opens its sockets just after it logs the start.
    std::thread::sleep(Duration::from_millis(200));
    child
}
