//! The collector against a real kernel: a dump of the test's own network namespace, and
//! scenarios built in scratch namespaces (links, ECMP and nexthop-group routes, neighbours, the
//! FDB and, where the kernel can, VLANs and a VRF; 100k routes for the dump and the monitor).
//!
//! A scratch namespace needs root: without it such a test says it is skipped and passes, except
//! under CI, where it fails ([`crate::testing::root_or_skip`]). Each one builds its namespace,
//! then runs an `inside_…` test of this module in it, in a child process of this same test
//! binary (`--exact --ignored`): those are ignored in a normal run, and return at once when they
//! are not in their namespace.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sonde_schema::row::{self, Row, Value};

use super::Collector;
use super::monitor::{Monitor, subscribe};
use super::test_support::{find, list, row, text};
use crate::testing::{root_or_skip, skip};

/// Runs `ip` with `args`; `None` when `ip` is missing.
fn ip_json(args: &[&str]) -> Option<Vec<serde_json::Value>> {
    let output = Command::new("ip").args(args).output().ok()?;
    assert!(output.status.success(), "ip {args:?}: {output:?}");
    Some(serde_json::from_slice(&output.stdout).expect("ip -j prints JSON"))
}

/// `ip -j route`'s `dst` as a prefix: `default` is the zero prefix, a bare address a host.
fn ip_route_prefix(dst: &str, ipv6: bool) -> String {
    match (dst, ipv6) {
        ("default", false) => "0.0.0.0/0".into(),
        ("default", true) => "::/0".into(),
        (prefix, _) if prefix.contains('/') => prefix.into(),
        (host, false) => format!("{host}/32"),
        (host, true) => format!("{host}/128"),
    }
}

#[test]
fn dump_lists_loopback_and_the_main_table() {
    let now = row::now_us();
    let rows = Collector::default().dump(now).expect("dump");
    let lo = row(&rows, "interfaces", &["lo"]);
    assert_eq!(text(lo.get("type")), "loopback");
    assert_eq!(text(lo.get("vrf")), "default");
    let address = row(&rows, "addresses", &["lo", "127.0.0.1/8"]);
    assert_eq!(text(address.get("family")), "ipv4");
    assert_eq!(text(address.get("scope")), "host");
    assert!(address.time <= now && address.time > 0);
    let (Some(v4), Some(v6)) = (
        ip_json(&["-j", "route", "show", "table", "main"]),
        ip_json(&["-6", "-j", "route", "show", "table", "main"]),
    ) else {
        eprintln!("no `ip` command: main table not compared");
        return;
    };
    let expected: BTreeSet<String> = [(v4, false), (v6, true)]
        .into_iter()
        .flat_map(|(routes, ipv6)| {
            routes
                .into_iter()
                .filter_map(move |route| Some(ip_route_prefix(route.get("dst")?.as_str()?, ipv6)))
        })
        .collect();
    let dumped: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.table.name == "routes" && text(r.get("vrf")) == "default")
        .map(|r| text(r.get("prefix")))
        .collect();
    assert_eq!(dumped, expected);
    for route in rows.iter().filter(|r| r.table.name == "routes") {
        let paths = list(route, "oifs").len();
        assert_eq!(list(route, "nexthop_ips").len(), paths);
        assert_eq!(list(route, "weights").len(), paths);
    }
}

/// A network namespace of its own for a test, deleted when dropped.
struct ScratchNamespace(String);

impl ScratchNamespace {
    /// A namespace for `test`, named after it and this process; `None` when `test` is skipped:
    /// not root, or `ip netns add` fails (both failures under CI).
    fn create(test: &str) -> Option<ScratchNamespace> {
        if !root_or_skip(test) {
            return None;
        }
        let name = format!("sonde-{test}-{}", std::process::id());
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(output) if output.status.success() => return Some(ScratchNamespace(name)),
            Ok(output) => skip(
                test,
                &format!(
                    "cannot create a network namespace: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            ),
            Err(e) => skip(test, &format!("cannot run `ip netns add`: {e}")),
        }
        None
    }

    fn exec(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.0, program]);
        command
    }

    fn script(&self, script: &str) {
        let output = self.exec("sh").args(["-ec", script]).output().expect("sh");
        assert!(output.status.success(), "{script}\n{output:?}");
    }

    /// Whether `script` ran to its end.
    fn try_script(&self, script: &str) -> bool {
        let output = self.exec("sh").args(["-ec", script]).output().expect("sh");
        output.status.success()
    }

    /// Runs another (ignored) test of this module inside the namespace, with `SONDE_NETLINK_NS`
    /// set so that it knows it is there.
    fn run_test(&self, test: &str, env: &[(&str, &str)]) -> Output {
        let exe = std::env::current_exe().expect("test binary");
        let exe = exe.to_str().expect("utf-8 path");
        self.exec(exe)
            .args([
                &format!("agent::netlink::tests::{test}"),
                "--exact",
                "--ignored",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env("SONDE_NETLINK_NS", &self.0)
            .envs(env.iter().copied())
            .output()
            .expect("test binary runs")
    }
}

impl Drop for ScratchNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn in_scratch_namespace() -> bool {
    std::env::var_os("SONDE_NETLINK_NS").is_some()
}

fn assert_inner_test(output: &Output) {
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "inner test failed");
}

/// What any kernel that runs FRR has: veths, a bridge, a VXLAN device, nexthop objects.
const SCENARIO: &str = "
    ip link set lo up
    sysctl -qw net.ipv4.nexthop_compat_mode=0
    ip link add br0 type bridge
    ip link add veth0 type veth peer name veth1
    ip link add swp1 type veth peer name swp1peer
    ip link add up0 type veth peer name up0peer
    ip link add vxlan100 type vxlan id 100 local 10.1.0.1 dstport 4789 nolearning
    ip link set veth0 master br0
    ip link set swp1 master br0
    ip link set vxlan100 master br0
    for dev in br0 veth0 veth1 swp1 swp1peer up0 up0peer vxlan100; do
        ip link set $dev up
    done
    ip link set up0 alias 'uplink to nowhere'
    ip addr add 10.1.0.1/24 dev up0
    ip addr add 10.3.0.1/24 dev veth1
    ip addr add 2001:db8:1::1/64 dev up0 nodad
    ip route add 10.9.0.0/24 proto static \\
        nexthop via 10.1.0.2 dev up0 weight 1 nexthop via 10.3.0.2 dev veth1 weight 3
    ip nexthop add id 1 via 10.1.0.3 dev up0
    ip nexthop add id 2 via 10.3.0.3 dev veth1
    ip nexthop add id 10 group 1/2,3
    ip route add 10.8.0.0/24 nhid 10 proto bgp metric 20
    ip route add 10.7.0.0/24 via 10.3.0.2 dev veth1 table 1001
    ip -6 route add 2001:db8:9::/64 via 2001:db8:1::2 dev up0
    ip neigh add 10.3.0.2 lladdr 02:00:00:00:00:03 dev veth1 nud permanent
    ip neigh add 10.3.0.9 lladdr 02:00:00:00:00:09 dev veth1 extern_learn
    bridge fdb add 02:00:00:00:00:10 dev veth0 master static
    bridge fdb add 02:00:00:00:00:20 dev vxlan100 master static
    bridge fdb add 02:00:00:00:00:20 dev vxlan100 self dst 10.1.0.7 static
";

/// VLAN-aware bridging, a VRF on table 1001 and an SVI in it, on top of [`SCENARIO`], for
/// kernels built with CONFIG_BRIDGE_VLAN_FILTERING, CONFIG_NET_VRF and CONFIG_VLAN_8021Q. The
/// probes come first so that a kernel without them is left untouched.
const VLAN_SCENARIO: &str = "
    ip link add probe-vrf type vrf table 9
    ip link del probe-vrf
    ip link add probe-br type bridge vlan_filtering 1
    ip link add link probe-br name probe-vlan type vlan id 5
    ip link del probe-br
    ip link set br0 type bridge vlan_filtering 1
    ip link add vrf1 type vrf table 1001
    ip link add link br0 name vlan10 type vlan id 10
    ip link set vlan10 master vrf1
    ip link set vrf1 up
    ip link set vlan10 up
    bridge vlan add vid 10-20 dev veth0
    bridge vlan add vid 30 dev veth0 pvid untagged
    bridge vlan add vid 10 dev swp1
    bridge vlan add vid 10 dev br0 self
    bridge vlan add vid 20 dev vxlan100 pvid untagged
    ip addr add 10.2.0.1/24 dev vlan10
    bridge fdb add 02:00:00:00:00:11 dev veth0 master static vlan 10
";

/// Set in the inner test when [`VLAN_SCENARIO`] could be set up.
const VLANS_ENV: &str = "SONDE_NETLINK_VLANS";

fn with_vlans() -> bool {
    std::env::var_os(VLANS_ENV).is_some()
}

/// Builds links, ECMP and nexthop-group routes, neighbours and FDB entries (and, when the
/// kernel can, bridge VLANs, a VRF and an SVI) in a scratch namespace, and checks the dump and
/// the monitor there. Needs root.
#[test]
fn scratch_namespace() {
    let Some(namespace) = ScratchNamespace::create("scratch_namespace") else {
        return;
    };
    namespace.script(SCENARIO);
    let vlans = namespace.try_script(VLAN_SCENARIO);
    if !vlans {
        eprintln!("this kernel lacks VLAN filtering, VRFs or VLAN devices: not checked");
    }
    let env: &[(&str, &str)] = if vlans { &[(VLANS_ENV, "1")] } else { &[] };
    assert_inner_test(&namespace.run_test("inside_scratch_namespace", env));
}

#[test]
#[ignore = "run by scratch_namespace"]
fn inside_scratch_namespace() {
    if !in_scratch_namespace() {
        return;
    }
    let rows = Collector::default().dump(row::now_us()).expect("dump");
    for row in &rows {
        println!("{} {:?} {:?}", row.table.name, row.values, row.time);
    }
    check_dumped_interfaces(&rows);
    check_dumped_addresses_and_neighbors(&rows);
    check_dumped_routes(&rows);
    check_dumped_bridge(&rows);
    if with_vlans() {
        check_dumped_vlans(&rows);
    }
    check_monitor();
}

fn check_dumped_interfaces(rows: &[Row]) {
    let veth0 = row(rows, "interfaces", &["veth0"]);
    assert_eq!(text(veth0.get("type")), "veth");
    assert_eq!(text(veth0.get("master")), "br0");
    assert_eq!(text(veth0.get("vrf")), "default");
    assert_eq!(veth0.get("speed"), Some(&Value::U64(10_000)));
    assert_eq!(text(veth0.get("state")), "up");
    assert_eq!(text(veth0.get("admin_state")), "up");
    assert!(matches!(veth0.get("ifindex"), Some(Value::U32(_))));
    assert_eq!(veth0.get("mtu"), Some(&Value::U32(1500)));
    assert_eq!(text(veth0.get("mac")).len(), 17);
    let up0 = row(rows, "interfaces", &["up0"]);
    assert_eq!(text(up0.get("description")), "uplink to nowhere");
    assert_eq!(up0.get("last_flap"), Some(&Value::Null));
    assert_eq!(text(row(rows, "interfaces", &["swp1"]).get("type")), "swp");
    assert_eq!(
        text(row(rows, "interfaces", &["br0"]).get("type")),
        "bridge"
    );
    assert_eq!(
        text(row(rows, "interfaces", &["vxlan100"]).get("type")),
        "vxlan"
    );
    let lo = row(rows, "interfaces", &["lo"]);
    assert_eq!(text(lo.get("state")), "up");
    assert_eq!(lo.get("speed"), Some(&Value::Null));
    if !with_vlans() {
        assert_eq!(veth0.get("vlans"), Some(&Value::Null));
        assert_eq!(veth0.get("pvid"), Some(&Value::Null));
    }
}

fn check_dumped_addresses_and_neighbors(rows: &[Row]) {
    let v4 = row(rows, "addresses", &["veth1", "10.3.0.1/24"]);
    assert_eq!(text(v4.get("vrf")), "default");
    assert_eq!(text(v4.get("scope")), "global");
    let v6 = row(rows, "addresses", &["up0", "2001:db8:1::1/64"]);
    assert_eq!(text(v6.get("family")), "ipv6");
    assert!(find(rows, "addresses", &["lo", "::1/128"]).is_some());
    let neighbor = row(rows, "neighbors", &["veth1", "10.3.0.2"]);
    assert_eq!(text(neighbor.get("mac")), "02:00:00:00:00:03");
    assert_eq!(text(neighbor.get("state")), "permanent");
    assert_eq!(text(neighbor.get("family")), "ipv4");
    assert_eq!(neighbor.get("is_remote"), Some(&Value::Bool(false)));
    let remote = row(rows, "neighbors", &["veth1", "10.3.0.9"]);
    assert_eq!(remote.get("is_remote"), Some(&Value::Bool(true)));
    let multicast = rows
        .iter()
        .any(|r| r.table.name == "neighbors" && text(r.get("ip")).starts_with("ff02:"));
    assert!(!multicast, "multicast mappings are not neighbours");
}

fn check_dumped_routes(rows: &[Row]) {
    let ecmp = row(rows, "routes", &["default", "10.9.0.0/24"]);
    assert_eq!(list(ecmp, "nexthop_ips"), ["10.1.0.2", "10.3.0.2"]);
    assert_eq!(list(ecmp, "oifs"), ["up0", "veth1"]);
    assert_eq!(list(ecmp, "weights"), ["1", "3"]);
    assert_eq!(text(ecmp.get("protocol")), "static");
    assert_eq!(ecmp.get("table_id"), Some(&Value::U32(254)));
    let group = row(rows, "routes", &["default", "10.8.0.0/24"]);
    assert_eq!(list(group, "nexthop_ips"), ["10.1.0.3", "10.3.0.3"]);
    assert_eq!(list(group, "oifs"), ["up0", "veth1"]);
    assert_eq!(list(group, "weights"), ["1", "3"]);
    assert_eq!(text(group.get("protocol")), "bgp");
    assert_eq!(group.get("metric"), Some(&Value::U32(20)));
    let vrf = if with_vlans() { "vrf1" } else { "table1001" };
    let other_table = row(rows, "routes", &[vrf, "10.7.0.0/24"]);
    assert_eq!(other_table.get("table_id"), Some(&Value::U32(1001)));
    assert_eq!(list(other_table, "oifs"), ["veth1"]);
    let connected = row(rows, "routes", &["default", "10.1.0.0/24"]);
    assert_eq!(list(connected, "nexthop_ips"), [""]);
    assert_eq!(list(connected, "oifs"), ["up0"]);
    assert_eq!(text(connected.get("source")), "10.1.0.1");
    assert_eq!(text(connected.get("protocol")), "kernel");
    let v6 = row(rows, "routes", &["default", "2001:db8:9::/64"]);
    assert_eq!(list(v6, "nexthop_ips"), ["2001:db8:1::2"]);
    assert_eq!(text(v6.get("family")), "ipv6");
    assert_eq!(v6.get("metric"), Some(&Value::U32(1024)));
    let local = rows
        .iter()
        .any(|r| r.table.name == "routes" && text(r.get("prefix")) == "10.1.0.1/32");
    assert!(!local, "local table routes are left out");
}

fn check_dumped_bridge(rows: &[Row]) {
    let mac = row(rows, "macs", &["02:00:00:00:00:10", "0"]);
    assert_eq!(text(mac.get("ifname")), "veth0");
    assert_eq!(text(mac.get("flags")), "master");
    assert_eq!(mac.get("is_static"), Some(&Value::Bool(true)));
    let remote = row(rows, "macs", &["02:00:00:00:00:20", "0"]);
    assert_eq!(text(remote.get("ifname")), "vxlan100");
    assert_eq!(text(remote.get("remote_vtep")), "10.1.0.7");
    assert_eq!(text(remote.get("flags")), "self,master");
    let own_filters = rows
        .iter()
        .any(|r| r.table.name == "macs" && ["33:33", "01:00"].contains(&&text(r.get("mac"))[..5]));
    assert!(
        !own_filters,
        "devices' own address filters are not FDB entries"
    );
    if !with_vlans() {
        assert!(!rows.iter().any(|r| r.table.name == "vlan"));
    }
}

fn check_dumped_vlans(rows: &[Row]) {
    let veth0 = row(rows, "interfaces", &["veth0"]);
    assert_eq!(text(veth0.get("vlans")), "1,10-20,30");
    assert_eq!(veth0.get("pvid"), Some(&Value::U32(30)));
    let swp1 = row(rows, "interfaces", &["swp1"]);
    assert_eq!(text(swp1.get("vlans")), "1,10");
    assert_eq!(swp1.get("pvid"), Some(&Value::U32(1)));
    let vlan10 = row(rows, "interfaces", &["vlan10"]);
    assert_eq!(text(vlan10.get("type")), "vlan");
    assert_eq!(text(vlan10.get("master")), "vrf1");
    assert_eq!(text(vlan10.get("vrf")), "vrf1");
    assert_eq!(text(row(rows, "interfaces", &["vrf1"]).get("type")), "vrf");
    let svi = row(rows, "addresses", &["vlan10", "10.2.0.1/24"]);
    assert_eq!(text(svi.get("vrf")), "vrf1");
    assert!(
        find(rows, "routes", &["vrf1", "10.2.0.1/32"]).is_none(),
        "local route"
    );
    assert_eq!(
        text(row(rows, "macs", &["02:00:00:00:00:11", "10"]).get("ifname")),
        "veth0"
    );
    let vlan10 = row(rows, "vlan", &["10"]);
    assert_eq!(list(vlan10, "ports"), ["swp1", "veth0"]);
    assert_eq!(text(vlan10.get("svi")), "vlan10");
    assert_eq!(text(vlan10.get("vrf")), "vrf1");
    let vlan20 = row(rows, "vlan", &["20"]);
    assert_eq!(list(vlan20, "ports"), ["veth0", "vxlan100"]);
    assert_eq!(vlan20.get("vni"), Some(&Value::U32(100)));
    assert_eq!(list(row(rows, "vlan", &["30"]), "ports"), ["veth0"]);
}

/// What the monitor must send after `command`: a row of `table` with `key`, whose `check`
/// holds.
struct Expected {
    command: &'static str,
    table: &'static str,
    key: &'static [&'static str],
    check: fn(&Row) -> bool,
    needs_vlans: bool,
}

const MONITORED: &[Expected] = &[
    Expected {
        command: "ip link set swp1peer down",
        table: "interfaces",
        key: &["swp1"],
        check: |r| {
            text(r.get("state")) == "down"
                && text(r.get("admin_state")) == "up"
                && matches!(r.get("last_flap"), Some(Value::Time(_)))
        },
        needs_vlans: false,
    },
    Expected {
        command: "ip addr add 10.3.0.5/32 dev veth1",
        table: "addresses",
        key: &["veth1", "10.3.0.5/32"],
        check: |r| r.active,
        needs_vlans: false,
    },
    Expected {
        command: "ip nexthop replace id 2 via 10.3.0.4 dev veth1; \
                  ip route add 10.6.0.0/24 nhid 10",
        table: "routes",
        key: &["default", "10.6.0.0/24"],
        check: |r| r.active && list(r, "nexthop_ips") == ["10.1.0.3", "10.3.0.4"],
        needs_vlans: false,
    },
    Expected {
        command: "ip route del 10.6.0.0/24",
        table: "routes",
        key: &["default", "10.6.0.0/24"],
        check: |r| !r.active,
        needs_vlans: false,
    },
    Expected {
        command: "bridge fdb add 02:00:00:00:00:40 dev vxlan100 master static; \
                  bridge fdb add 02:00:00:00:00:40 dev vxlan100 self dst 10.1.0.8 static",
        table: "macs",
        key: &["02:00:00:00:00:40", "0"],
        check: |r| r.active && text(r.get("remote_vtep")) == "10.1.0.8",
        needs_vlans: false,
    },
    Expected {
        command: "bridge fdb del 02:00:00:00:00:40 dev vxlan100 master; \
                  bridge fdb del 02:00:00:00:00:40 dev vxlan100 self",
        table: "macs",
        key: &["02:00:00:00:00:40", "0"],
        check: |r| !r.active,
        needs_vlans: false,
    },
    Expected {
        command: "ip neigh add 10.3.0.6 lladdr 02:00:00:00:00:06 dev veth1 nud permanent",
        table: "neighbors",
        key: &["veth1", "10.3.0.6"],
        check: |r| r.active && text(r.get("mac")) == "02:00:00:00:00:06",
        needs_vlans: false,
    },
    Expected {
        command: "ip neigh del 10.3.0.6 dev veth1",
        table: "neighbors",
        key: &["veth1", "10.3.0.6"],
        check: |r| !r.active,
        needs_vlans: false,
    },
    Expected {
        command: "ip link add tmp9 type veth peer name tmp9peer; ip link del tmp9",
        table: "interfaces",
        key: &["tmp9"],
        check: |r| !r.active,
        needs_vlans: false,
    },
    Expected {
        command: "bridge vlan add vid 40 dev swp1",
        table: "vlan",
        key: &["40"],
        check: |r| r.active && list(r, "ports") == ["swp1"],
        needs_vlans: true,
    },
    Expected {
        command: "bridge vlan del vid 30 dev veth0",
        table: "vlan",
        key: &["30"],
        check: |r| !r.active,
        needs_vlans: true,
    },
];

fn check_monitor() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _thread = Collector::default().spawn_monitor(tx).expect("monitor");
    for expected in MONITORED.iter().filter(|e| with_vlans() || !e.needs_vlans) {
        let status = Command::new("sh")
            .args(["-ec", expected.command])
            .status()
            .expect("sh");
        assert!(status.success(), "{}", expected.command);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        loop {
            while let Ok(rows) = rx.try_recv() {
                assert!(!rows.is_empty(), "no notification is lost here");
                seen.extend(rows);
            }
            let found = seen.iter().any(|r| {
                r.table.name == expected.table
                    && r.key()
                        .iter()
                        .zip(expected.key)
                        .all(|(v, k)| text(Some(v)) == *k)
                    && (expected.check)(r)
            });
            if found {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after `{}`: no matching {} row {:?} in {seen:#?}",
                expected.command,
                expected.table,
                expected.key
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Process CPU time (user + system, in clock ticks) and peak RSS (kB), from /proc.
fn cpu_ticks_and_peak_rss() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_default();
    (ticks, peak)
}

const BENCH_ROUTES: u32 = 100_000;

/// A scratch namespace with two uplinks, d0 and d1, for [`BENCH_ROUTES`] ECMP routes.
fn bench_namespace(test: &str) -> Option<ScratchNamespace> {
    let namespace = ScratchNamespace::create(test)?;
    namespace.script(
        "ip link set lo up
         ip link add d0 type veth peer name d0peer
         ip link add d1 type veth peer name d1peer
         for dev in d0 d0peer d1 d1peer; do ip link set $dev up; done
         ip addr add 10.255.0.1/24 dev d0; ip addr add 10.255.1.1/24 dev d1",
    );
    Some(namespace)
}

/// Writes an `ip -batch` file adding [`BENCH_ROUTES`] /24s from 20.0.0.0, each through
/// both uplinks.
fn write_route_batch(dir: &std::path::Path) -> String {
    let mut batch = String::new();
    for i in 0..BENCH_ROUTES {
        let [a, b, c, _] = (0x1400_0000 + (i << 8)).to_be_bytes();
        let _ = writeln!(
            batch,
            "route add {a}.{b}.{c}.0/24 \
             nexthop via 10.255.0.2 dev d0 nexthop via 10.255.1.2 dev d1"
        );
    }
    let file = dir.join("routes.batch");
    std::fs::write(&file, batch).expect("batch file");
    file.to_str().expect("utf-8 path").to_owned()
}

/// Dumps 100k routes with two ECMP next hops each in a scratch namespace and prints the
/// time and memory it takes (best measured with `--release`). Needs root.
#[test]
fn dump_100k_routes() {
    let Some(namespace) = bench_namespace("dump_100k_routes") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    namespace.script(&format!("ip -batch {}", write_route_batch(dir.path())));
    assert_inner_test(&namespace.run_test("inside_100k_routes", &[]));
}

/// Adds 100k routes in one burst while the monitor runs: either every route reaches the
/// channel, or the monitor asks for a resync with an empty batch. Needs root.
#[test]
fn monitor_under_a_burst() {
    let Some(namespace) = bench_namespace("monitor_under_a_burst") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = write_route_batch(dir.path());
    let env = [("SONDE_NETLINK_BATCH", batch.as_str())];
    assert_inner_test(&namespace.run_test("inside_monitor_under_a_burst", &env));
    let env = [("SONDE_NETLINK_OVERFLOW", "1")];
    assert_inner_test(&namespace.run_test("inside_monitor_after_an_overflow", &env));
}

/// Overflows a subscribed socket that nobody reads, then starts the monitor on it: its first
/// batch must be the empty one that asks for a resync.
#[test]
#[ignore = "run by monitor_under_a_burst"]
fn inside_monitor_after_an_overflow() {
    if std::env::var_os("SONDE_NETLINK_OVERFLOW").is_none() {
        return;
    }
    let events = subscribe().expect("subscription");
    events.set_recv_buffer_size(4096).expect("small buffer");
    let mut monitor = Monitor::default();
    monitor.seed().expect("seed");
    let mut batch = String::new();
    for i in 0..2000u32 {
        let [_, _, b, c] = i.to_be_bytes();
        let _ = writeln!(batch, "route add 30.{b}.{c}.0/24 via 10.255.0.2 dev d0");
    }
    let mut ip = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("ip");
    std::io::Write::write_all(&mut ip.stdin.take().expect("stdin"), batch.as_bytes())
        .expect("batch");
    assert!(ip.wait().expect("ip").success());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _thread = std::thread::spawn(move || monitor.run(&events, &tx));
    let first = rx.blocking_recv().expect("a batch");
    assert!(
        first.is_empty(),
        "the first batch asks for a resync: {first:?}"
    );
    println!("overflow: the monitor asked for a resync");
}

#[test]
#[ignore = "run by monitor_under_a_burst"]
fn inside_monitor_under_a_burst() {
    let Some(batch) = std::env::var_os("SONDE_NETLINK_BATCH") else {
        return;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _thread = Collector::default().spawn_monitor(tx).expect("monitor");
    let started = Instant::now();
    let status = Command::new("ip")
        .arg("-batch")
        .arg(batch)
        .status()
        .expect("ip");
    assert!(status.success());
    let added = started.elapsed();
    let (mut routes, mut resyncs) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while routes < BENCH_ROUTES as usize && resyncs == 0 && Instant::now() < deadline {
        match rx.try_recv() {
            Ok(rows) if rows.is_empty() => resyncs += 1,
            Ok(rows) => routes += rows.iter().filter(|r| r.table.name == "routes").count(),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    println!(
        "burst: {BENCH_ROUTES} routes added in {added:?}; the monitor sent {routes} route \
         rows and {resyncs} resync requests in {:?}",
        started.elapsed()
    );
    assert!(routes >= BENCH_ROUTES as usize || resyncs > 0);
}

#[test]
#[ignore = "run by dump_100k_routes"]
fn inside_100k_routes() {
    if !in_scratch_namespace() {
        return;
    }
    for attempt in 1..=3 {
        let (ticks_before, _) = cpu_ticks_and_peak_rss();
        let started = Instant::now();
        let rows = Collector::default().dump(row::now_us()).expect("dump");
        let wall = started.elapsed();
        let (ticks_after, peak_kb) = cpu_ticks_and_peak_rss();
        let routes = rows.iter().filter(|r| r.table.name == "routes").count();
        assert!(routes >= BENCH_ROUTES as usize);
        let ecmp = row(&rows, "routes", &["default", "20.0.1.0/24"]);
        assert_eq!(list(ecmp, "oifs"), ["d0", "d1"]);
        println!(
            "dump #{attempt}: {} rows ({routes} routes) in {wall:?} wall, {} ms CPU, peak RSS {} MB",
            rows.len(),
            (ticks_after - ticks_before) * 10,
            peak_kb / 1024
        );
    }
}
