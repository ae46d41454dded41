//! The DHCP clients: udhcpc as ONIE sends it (options 60, 61, 77, asking for 114), dhclient
//! renewing a short lease, CTRLD's DHCPINFORM built with scapy, and a perfdhcp load.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::*;

/// What udhcpc's script saw when it bound: its environment (`ip`, `serverid`, `opt114` …).
pub type Bound = BTreeMap<String, String>;

/// Runs udhcpc as a switch with hardware address `mac` and `extra` options until it binds.
fn udhcpc(ztp: &Ztp, mac: &str, extra: &[&str]) -> Bound {
    let pair = &ztp.pair;
    pair.set_cli_addrs(&[]);
    pair.set_cli_mac(mac);
    let dump = ztp.work_file(&format!("udhcpc-{}.env", mac.replace(':', "")));
    let _ = std::fs::remove_file(&dump);
    let interface = pair.cli_if();
    let output = pair
        .cli_command("udhcpc")
        .args([
            "-i", &interface, "-f", "-q", "-n", "-t", "5", "-T", "2", "-A", "1",
        ])
        .args(["-s", UDHCPC_SCRIPT])
        .args(extra)
        .env("ZTP_DUMP", &dump)
        .stdin(Stdio::null())
        .output()
        .expect("udhcpc runs");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "udhcpc {mac} {extra:?} got no lease ({}): {log}",
        output.status
    );
    let text = std::fs::read_to_string(&dump).unwrap_or_default();
    let mut bound = None;
    let mut current: Option<(String, Bound)> = None;
    for line in text.lines() {
        if let Some(event) = line.strip_prefix("event=") {
            current = Some((event.to_string(), Bound::new()));
        } else if line == "end" {
            if let Some((event, vars)) = current.take()
                && event == "bound"
            {
                bound = Some(vars);
            }
        } else if let (Some((_, vars)), Some((k, v))) = (current.as_mut(), line.split_once('=')) {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    bound.unwrap_or_else(|| panic!("udhcpc {mac}: its script saw no bound lease: {text}\n{log}"))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Option 61 as ONIE and CTRLD send it: type 0, then the serial number.
fn client_id(serial: &str) -> String {
    format!("61:00{}", hex(serial))
}

fn var<'a>(bound: &'a Bound, name: &str) -> &'a str {
    bound.get(name).map_or("", String::as_str)
}

/// ONIE's clients get their reservations (by MAC, by serial) and the class's options; the pool's
/// clients their own addresses. The pool leases (MAC → address), for the crash test.
pub fn onie_clients_get_their_reservations(ztp: &Ztp) -> BTreeMap<String, String> {
    let user_class = format!("77:{}", hex("onie_dhcp_user_class"));
    let onie = |serial: Option<&str>, vendor: &str| -> Vec<String> {
        let mut args = vec!["-V".to_string(), vendor.to_string()];
        if let Some(serial) = serial {
            args.extend(["-x".into(), client_id(serial)]);
        }
        args.extend(["-x".into(), user_class.clone()]);
        args.extend(["-O".into(), "114".into(), "-O".into(), "210".into()]);
        args
    };
    let run = |mac: &str, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        udhcpc(ztp, mac, &args)
    };

    // LEAF01, the seed's host: by MAC.
    let leaf01 = run(LEAF01_MAC, onie(Some(LEAF01_SERIAL), ONIE_VENDOR));
    assert_eq!(
        var(&leaf01, "ip"),
        "10.0.0.250",
        "LEAF01's fixed address: {leaf01:#?}"
    );
    assert_eq!(var(&leaf01, "serverid"), SRV_IP);
    assert_eq!(var(&leaf01, "router"), "10.0.0.138");
    assert_eq!(var(&leaf01, "dns"), "10.0.0.210");
    assert_eq!(var(&leaf01, "domain"), "local");
    assert_eq!(var(&leaf01, "hostname"), "LEAF01");
    assert_eq!(var(&leaf01, "subnet"), "255.255.255.0");
    assert_eq!(
        var(&leaf01, "lease"),
        "600",
        "the seed's default-lease-time"
    );
    // The host's option 114 wins over the class's; 210 is the host's path prefix.
    assert_eq!(
        var(&leaf01, "opt114"),
        hex("http://managementserver/ztp/image"),
        "{leaf01:#?}"
    );
    // udhcpc knows 210 as `pxepathprefix` (RFC 5071) and passes it as text.
    assert_eq!(var(&leaf01, "pxepathprefix"), "http://managementserver");

    // LEAF02: by the serial in option 61, from a MAC nobody reserved.
    let leaf02 = run("02:5a:00:00:00:38", onie(Some(LEAF02_SERIAL), ONIE_VENDOR));
    assert_eq!(
        var(&leaf02, "ip"),
        "10.0.0.21",
        "LEAF02's reservation by serial: {leaf02:#?}"
    );
    assert_eq!(var(&leaf02, "hostname"), "LEAF02");
    assert_eq!(var(&leaf02, "opt114"), hex("http://10.0.0.1/ztp/image"));
    assert_eq!(var(&leaf02, "pxepathprefix"), "http://10.0.0.1");

    // SPINE01: by MAC, sends no serial; it will fetch nothing.
    let spine01 = run(SPINE01_MAC, onie(None, ONIE_VENDOR));
    assert_eq!(var(&spine01, "ip"), "10.0.0.31", "{spine01:#?}");
    assert_eq!(var(&spine01, "hostname"), "SPINE01");

    // Unreserved ONIE switches: the pool, and the option 114 of the class that matches.
    let accton = run(POOL_MACS[0], onie(None, ONIE_VENDOR));
    let other = run(
        POOL_MACS[1],
        onie(None, "onie_vendor:arm64-celestica_e1031-r0"),
    );
    let mut pool = BTreeMap::new();
    for (mac, bound) in [(POOL_MACS[0], &accton), (POOL_MACS[1], &other)] {
        let ip: std::net::Ipv4Addr = var(bound, "ip")
            .parse()
            .unwrap_or_else(|_| panic!("{mac}: no address: {bound:#?}"));
        let last = ip.octets()[3];
        assert!(
            ip.octets()[..3] == [10, 0, 0] && (200..250).contains(&last),
            "{mac} got {ip}, outside the pool 10.0.0.200-249 (250 is LEAF01's)"
        );
        pool.insert(mac.to_string(), ip.to_string());
    }
    assert_ne!(
        pool[POOL_MACS[0]], pool[POOL_MACS[1]],
        "two clients, one address"
    );
    assert_eq!(
        var(&accton, "opt114"),
        hex("http://10.0.0.1/onie-installer-x86_64-accton_as7712_32x-r0"),
        "the onie-accton class: {accton:#?}"
    );
    assert_eq!(
        var(&other, "opt114"),
        hex("http://10.0.0.1/onie-installer"),
        "the onie class: {other:#?}"
    );

    // The same switch asking again keeps its address.
    let again = run(POOL_MACS[0], onie(None, ONIE_VENDOR));
    assert_eq!(
        var(&again, "ip"),
        pool[POOL_MACS[0]],
        "a second DISCOVER, another address"
    );
    pool
}

/// udhcpc as an unreserved ONIE switch with `mac`: the address it got.
pub fn udhcpc_pool_client(ztp: &Ztp, mac: &str) -> String {
    let bound = udhcpc(ztp, mac, &["-V", ONIE_VENDOR, "-O", "114"]);
    let ip = var(&bound, "ip").to_string();
    assert!(!ip.is_empty(), "{mac}: no address: {bound:#?}");
    ip
}

/// dhclient asks for a 10 s lease (option 51; the server grants what is asked within
/// max-lease-time), binds, and renews it unicast from the address its script configured.
pub fn dhclient_gets_a_lease_and_renews_it(ztp: &Ztp) {
    let pair = &ztp.pair;
    pair.set_cli_addrs(&[]);
    pair.set_cli_mac(DHCLIENT_MAC);
    let conf = ztp.work_file("dhclient.conf");
    std::fs::write(&conf, "send dhcp-lease-time 10;\n").expect("writes dhclient.conf");
    let leases = ztp.work_file("dhclient.leases");
    let pid = ztp.work_file("dhclient.pid");
    let log = ztp.work_file("dhclient.log");
    let log_file = std::fs::File::create(&log).expect("creates the log");
    let interface = pair.cli_if();
    let mut child = pair
        .cli_command("dhclient")
        .args(["-4", "-d", "-v"])
        .arg("-cf")
        .arg(&conf)
        .args(["-sf", DHCLIENT_SCRIPT])
        .arg("-lf")
        .arg(&leases)
        .arg("-pf")
        .arg(&pid)
        .arg(&interface)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("clones"))
        .stderr(log_file)
        .spawn()
        .expect("dhclient starts");
    // Bound, then renewed at T1 (5 s): two lease blocks in its lease file.
    let start = Instant::now();
    let blocks = loop {
        let text = std::fs::read_to_string(&leases).unwrap_or_default();
        let blocks: Vec<String> = text.split("lease {").skip(1).map(str::to_string).collect();
        if blocks.len() >= 2 {
            break blocks;
        }
        if start.elapsed() > Duration::from_secs(45) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "dhclient did not bind and renew: leases {text}\nlog: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let address = |block: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix("fixed-address "))
            .map(|a| a.trim_end_matches(';').to_string())
            .unwrap_or_default()
    };
    let ip = address(&blocks[0]);
    assert!(!ip.is_empty(), "no address in dhclient's lease: {blocks:?}");
    assert_eq!(
        address(&blocks[1]),
        ip,
        "the renewal changed the address: {log}"
    );
    assert!(
        blocks[0].contains("option dhcp-lease-time 10;"),
        "the lease time asked for: {}",
        blocks[0]
    );
    assert!(log.contains("DHCPACK"), "{log}");
    pair.set_cli_addrs(&[]);

    // The store: REQUEST/ACK twice for this MAC, and the lease's end moved on.
    let acks = ztp.sql_until(
        &format!(
            "SELECT message_type, reply, client_ip, log_event, lease_time FROM ztp_dhcp \
             WHERE lower(client_mac) = '{DHCLIENT_MAC}' AND message_type = 'REQUEST' \
             ORDER BY timestamp"
        ),
        "dhclient's two REQUEST/ACK rows",
        |rows| rows.iter().filter(|r| r["reply"] == "ACK").count() >= 2,
    );
    for row in acks.iter().filter(|r| r["reply"] == "ACK") {
        assert_eq!(text(&row["client_ip"]), ip, "{acks:#?}");
        assert_eq!(text(&row["log_event"]), "ZTP0102I", "{acks:#?}");
        assert_eq!(text(&row["lease_time"]), "10", "{acks:#?}");
    }
    let bound = ztp.sql_until(
        &format!(
            "SELECT state, CAST(ends AS BIGINT) AS ends FROM ztp_leases \
             WHERE ip = '{ip}' AND lower(client_mac) = '{DHCLIENT_MAC}' AND state = 'bound' \
             ORDER BY timestamp"
        ),
        "dhclient's lease bound twice",
        |rows| rows.len() >= 2,
    );
    let ends: Vec<i64> = bound.iter().filter_map(|r| r["ends"].as_i64()).collect();
    assert!(
        ends.len() >= 2 && ends[ends.len() - 1] > ends[0],
        "the renewal did not extend the lease: {bound:#?}"
    );
}

/// CTRLD's DHCPINFORM: option 61 = serial, asking for 54 and 210; the answer carries both and
/// no address or lease time.
pub fn inform_gets_the_path_prefix(ztp: &Ztp) {
    let pair = &ztp.pair;
    pair.set_cli_addrs(&[&format!("{CLIENT_IP}/24")]);
    let inform = |mac: &str, serial: &str| -> Value {
        pair.set_cli_mac(mac);
        let output = pair
            .cli_command("python3")
            .args([INFORM, "--client", CLIENT_IP, "--server", SRV_IP])
            .args(["--mac", mac, "--serial", serial])
            .stdin(Stdio::null())
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "INFORM {mac} {serial}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    // The seed's switch after its NOS booted: same management MAC, its serial.
    let leaf01 = inform(LEAF01_MAC, LEAF01_SERIAL);
    assert_eq!(leaf01["options"]["53"], "05", "an ACK: {leaf01}");
    assert_eq!(leaf01["options"]["54"], SRV_IP, "{leaf01}");
    assert_eq!(
        leaf01["options"]["210"], "http://managementserver",
        "{leaf01}"
    );
    assert_eq!(
        leaf01["yiaddr"], "0.0.0.0",
        "an INFORM's answer has no yiaddr: {leaf01}"
    );
    assert!(
        leaf01["options"].get("51").is_none(),
        "no lease time: {leaf01}"
    );
    // LEAF02 by its serial alone.
    let leaf02 = inform("02:5a:00:00:00:38", LEAF02_SERIAL);
    assert_eq!(leaf02["options"]["54"], SRV_IP, "{leaf02}");
    assert_eq!(leaf02["options"]["210"], "http://10.0.0.1", "{leaf02}");
    pair.set_cli_mac("02:5a:00:00:00:02");
}

/// perfdhcp relays from 10.1.0.2 (the racks' subnet) at 200 exchanges/s for 5 s over 500
/// clients: every exchange completes, no lease is handed to two clients.
pub fn perfdhcp_short_load(ztp: &Ztp) {
    let pair = &ztp.pair;
    pair.set_cli_addrs(&["10.1.0.2/16"]);
    let interface = pair.cli_if();
    let output = pair
        .cli_command("perfdhcp")
        .args(["-4", "-l", &interface, "-r", "200", "-p", "5", "-R", "500"])
        .stdin(Stdio::null())
        .output()
        .expect("perfdhcp runs");
    pair.set_cli_addrs(&[&format!("{CLIENT_IP}/24")]);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let stats = PerfDhcp::parse(&report);
    eprintln!("perfdhcp against Sonde: {stats:?}");
    let discover = stats.exchange("DISCOVER-OFFER", &report);
    let request = stats.exchange("REQUEST-ACK", &report);
    assert_eq!(stats.malformed, 0, "{report}");
    assert!(discover.sent >= 500, "perfdhcp sent too little: {report}");
    for (name, x) in [("DISCOVER-OFFER", discover), ("REQUEST-ACK", request)] {
        assert_eq!(x.rejected, 0, "{name}: rejected leases: {report}");
        assert_eq!(x.non_unique, 0, "{name}: an address given twice: {report}");
        assert_eq!(x.orphans, 0, "{name}: answers to no request: {report}");
        // The last requests of the run may still be in flight when perfdhcp stops counting.
        assert!(
            x.drops * 100 <= x.sent,
            "{name}: more than 1 % dropped: {report}"
        );
    }
}

/// One exchange's counters of perfdhcp's summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exchange {
    pub sent: u64,
    pub received: u64,
    pub drops: u64,
    pub orphans: u64,
    pub rejected: u64,
    pub non_unique: u64,
}

/// perfdhcp's summary.
#[derive(Debug, Default)]
pub struct PerfDhcp {
    /// Completed 4-way exchanges per second.
    pub rate: f64,
    pub malformed: u64,
    pub exchanges: BTreeMap<String, Exchange>,
}

impl PerfDhcp {
    pub fn parse(report: &str) -> PerfDhcp {
        let mut stats = PerfDhcp::default();
        let mut current: Option<String> = None;
        let number = |s: &str| s.split_whitespace().next().unwrap_or("0").parse::<f64>();
        for line in report.lines() {
            let line = line.trim();
            if let Some(name) = line
                .strip_prefix("***Statistics for: ")
                .and_then(|l| l.strip_suffix("***"))
            {
                current = Some(name.to_string());
                stats.exchanges.entry(name.to_string()).or_default();
                continue;
            }
            if let Some(rest) = line.strip_prefix("Rate: ") {
                stats.rate = number(rest).unwrap_or(0.0);
                continue;
            }
            if let Some(rest) = line.strip_prefix("Malformed packets: ") {
                stats.malformed = number(rest).unwrap_or(0.0) as u64;
                continue;
            }
            let (Some(name), Some((key, value))) = (current.as_ref(), line.split_once(':')) else {
                continue;
            };
            let value = number(value).unwrap_or(0.0) as u64;
            let x = stats.exchanges.entry(name.clone()).or_default();
            match key.trim() {
                "sent packets" => x.sent = value,
                "received packets" => x.received = value,
                "drops" => x.drops = value,
                "orphans" => x.orphans = value,
                "rejected leases" => x.rejected = value,
                "non unique addresses" => x.non_unique = value,
                _ => {}
            }
        }
        stats
    }

    fn exchange(&self, name: &str, report: &str) -> Exchange {
        *self
            .exchanges
            .get(name)
            .unwrap_or_else(|| panic!("perfdhcp printed no {name} statistics: {report}"))
    }
}
