//! The agent against a real fabric: FRR and lldpd in network namespaces (tests/lab/fabric.sh),
//! one `sonde-agent` per node, `sonde serve` in the management namespace. What the server answers
//! must match what vtysh and lldpcli say, faults must show up in the checks, and a server that is
//! down for 30 s must lose nothing and store nothing twice.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::Value;

use crate::common::Server;
use crate::common::lab::{Lab, NODES, OOB_IP, ROUTERS, wait_until};

const TOKEN: &str = "lab-t0ken";
/// The server's port inside the management namespace, which holds nothing else.
const PORT: u16 = 7450;
const SETTLE: Duration = Duration::from_secs(60);

fn agent_binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_sonde")).with_file_name("sonde-agent")
}

struct Fabric {
    lab: Lab,
    store: tempfile::TempDir,
    spools: tempfile::TempDir,
    server: Option<Server>,
    agents: Vec<Child>,
}

impl Fabric {
    /// The lab with a server and an agent per node, for `test`; `None` when `test` is skipped.
    fn up(test: &str) -> Option<Fabric> {
        let lab = Lab::up(test)?;
        let mut fabric = Fabric {
            lab,
            store: tempfile::tempdir().expect("tempdir"),
            spools: tempfile::tempdir().expect("tempdir"),
            server: None,
            agents: Vec::new(),
        };
        fabric.start_server();
        for node in NODES {
            let agent = fabric.start_agent(node);
            fabric.agents.push(agent);
        }
        Some(fabric)
    }

    fn start_server(&mut self) {
        let command = self.lab.oob_command(env!("CARGO_BIN_EXE_sonde"));
        let addr = format!("{OOB_IP}:{PORT}");
        let server = Server::launch(
            command,
            self.store.path(),
            &addr,
            &["--token", TOKEN, "--flush-interval", "5s"],
        );
        self.server = Some(server);
    }

    fn start_agent(&self, node: &str) -> Child {
        let ns = self.lab.ns(node);
        let spool = self.spools.path().join(node);
        let vtysh = if ROUTERS.contains(&node) {
            format!("vtysh -N {ns}")
        } else {
            String::new()
        };
        let args = [
            "--server".to_string(),
            format!("{OOB_IP}:{PORT}"),
            "--token".into(),
            TOKEN.into(),
            "--hostname".into(),
            node.into(),
            "--spool-dir".into(),
            spool.display().to_string(),
            "--vtysh".into(),
            vtysh,
            "--lldpcli".into(),
            format!("lldpcli -u /run/lldpd-{ns}.socket"),
            "--chronyc".into(),
            String::new(),
            "--resync-interval".into(),
            "2".into(),
            "--heartbeat-interval".into(),
            "5".into(),
        ];
        self.lab.spawn_in(node, agent_binary(), args)
    }

    /// A NetQL statement answered from the store (read-only), as JSON.
    fn netql(&self, statement: &str) -> Value {
        let mut words: Vec<&str> = vec!["--data-dir"];
        let dir = self.store.path().display().to_string();
        words.push(&dir);
        words.extend(statement.split_whitespace());
        words.push("json");
        let output = crate::common::sonde(&words);
        let stdout = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "`{statement}` did not answer JSON ({e}): {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
    }

    /// A SQL query answered from the store, as JSON rows.
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

    fn failures(&self, statement: &str) -> Vec<(String, String, String)> {
        let answer = self.netql(statement);
        answer["failedNodes"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                        let object = ["neighbor", "interface"]
                            .iter()
                            .map(|k| field(k))
                            .find(|v| !v.is_empty())
                            .unwrap_or_default();
                        (field("node"), object, field("reason"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ip(&self, node: &str, args: &str) {
        let output = self
            .lab
            .exec(node, std::iter::once("ip").chain(args.split_whitespace()));
        assert!(
            output.status.success(),
            "ip -n {node} {args}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Fabric {
    fn drop(&mut self) {
        for agent in &mut self.agents {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        self.server.take();
    }
}

/// What vtysh says of a node's sessions, in `show bgp`'s terms: neighbour, ASN, peer ASN.
fn vtysh_sessions(lab: &Lab, node: &str) -> BTreeSet<(String, u64, u64)> {
    let json = lab.vtysh_json(node, "show bgp vrf all neighbors json");
    let mut sessions = BTreeSet::new();
    for (_, peers) in json.as_object().into_iter().flatten() {
        for (peer, s) in peers.as_object().into_iter().flatten() {
            if s.get("bgpState").is_none() {
                continue;
            }
            let neighbor = match s["hostname"].as_str() {
                Some(host) => format!("{peer}({host})"),
                None => peer.clone(),
            };
            sessions.insert((
                neighbor,
                s["localAs"].as_u64().unwrap_or_default(),
                s["remoteAs"].as_u64().unwrap_or_default(),
            ));
        }
    }
    sessions
}

/// The rows of a `show … json` answer about `node`.
fn rows_of<'a>(answer: &'a Value, node: &'a str) -> impl Iterator<Item = &'a Value> {
    answer
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |r| r["hostname"] == node)
}

fn shown_sessions(answer: &Value, node: &str) -> BTreeSet<(String, u64, u64)> {
    rows_of(answer, node)
        .map(|r| {
            (
                r["neighbor"].as_str().unwrap_or_default().to_string(),
                r["asn"].as_u64().unwrap_or_default(),
                r["peerAsn"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn lldpcli_neighbors(lab: &Lab, node: &str) -> BTreeSet<(String, String, String)> {
    let json = lab.lldp_neighbors(node);
    let value = |j: &Value, key: &str| j[key][0]["value"].as_str().unwrap_or_default().to_string();
    json["lldp"][0]["interface"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_string(),
                value(&i["chassis"][0], "name"),
                value(&i["port"][0], "id"),
            )
        })
        .collect()
}

fn shown_neighbors(answer: &Value, node: &str) -> BTreeSet<(String, String, String)> {
    rows_of(answer, node)
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (
                field("interface"),
                field("peerHostname"),
                field("peerInterface"),
            )
        })
        .collect()
}

fn rfc3339_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn agents_stream_a_real_fabric_and_its_faults() {
    let Some(mut fabric) = Fabric::up("agents_stream_a_real_fabric_and_its_faults") else {
        return;
    };

    wait_until(SETTLE, "show bgp to match vtysh on every router", || {
        let answer = fabric.netql("show bgp");
        ROUTERS
            .iter()
            .all(|node| shown_sessions(&answer, node) == vtysh_sessions(&fabric.lab, node))
    });
    wait_until(SETTLE, "show lldp to match lldpcli on every node", || {
        let answer = fabric.netql("show lldp");
        NODES.iter().all(|node| {
            let expected = lldpcli_neighbors(&fabric.lab, node);
            !expected.is_empty() && shown_neighbors(&answer, node) == expected
        })
    });
    wait_until(SETTLE, "check bgp to pass", || {
        fabric.failures("check bgp").is_empty()
    });
    let agents = fabric.netql("show agents");
    assert_eq!(
        agents.as_array().map(Vec::len),
        Some(NODES.len()),
        "{agents}"
    );
    let healthy_at = rfc3339_now();
    trace_matches_the_fibs(&fabric, 2);
    // Instants print to the second: one taken a second after the match reads the matched state.
    std::thread::sleep(Duration::from_secs(2));
    let traced_at = rfc3339_now();

    // An interface taken down: both ends of the session fail with the reason.
    fabric.ip("leaf01", "link set swp51 down");
    wait_until(
        SETTLE,
        "check bgp to report leaf01 swp51 and spine01 swp1 down",
        || {
            let failures = fabric.failures("check bgp");
            let has = |host: &str| {
                failures
                    .iter()
                    .any(|(h, _, reason)| h == host && reason == "Interface down")
            };
            has("leaf01") && has("spine01")
        },
    );
    assert!(
        fabric
            .failures(&format!("check bgp around {healthy_at}"))
            .is_empty(),
        "before the fault the fabric was healthy"
    );
    // The link's paths are gone from the trace as from the FIBs; the past still has both.
    trace_matches_the_fibs(&fabric, 1);
    let answer = fabric.netql(&format!("{TRACE} around {traced_at}"));
    assert_eq!(traced_paths(&answer).len(), 2, "{answer}");
    fabric.ip("leaf01", "link set swp51 up");
    wait_until(SETTLE, "check bgp to pass again", || {
        fabric.failures("check bgp").is_empty()
    });

    // An ASN changed on one side.
    fabric.lab.vtysh(
        "leaf02",
        &[
            "configure terminal",
            "router bgp 65012",
            "neighbor swp52 remote-as 65999",
        ],
    );
    wait_until(SETTLE, "check bgp to report the ASN mismatch", || {
        fabric
            .failures("check bgp")
            .iter()
            .any(|(host, _, reason)| host == "leaf02" && reason == "ASN mismatch")
    });
    fabric.lab.vtysh(
        "leaf02",
        &[
            "configure terminal",
            "router bgp 65012",
            "neighbor swp52 remote-as 65102",
        ],
    );
    // Failed OPENs push FRR's restart timer out; clearing both ends brings the session back now.
    fabric.lab.vtysh("leaf02", &["clear bgp swp52"]);
    fabric.lab.vtysh("spine02", &["clear bgp swp2"]);
    wait_until(
        SETTLE,
        "check bgp to pass after the ASN is restored",
        || fabric.failures("check bgp").is_empty(),
    );

    // An MTU changed on one end.
    fabric.ip("leaf02", "link set swp52 mtu 1500");
    wait_until(SETTLE, "check mtu to report leaf02 swp52", || {
        fabric
            .failures("check mtu")
            .iter()
            .any(|(host, _, reason)| host == "leaf02" && reason.contains("MTU"))
    });
    fabric.ip("leaf02", "link set swp52 mtu 9000");

    server_down_for_30s_loses_nothing_and_duplicates_nothing(&mut fabric);
}

/// The trace the lab checks: server01 to server02's address.
const TRACE: &str = "trace 10.1.2.10 from server01";

/// Waits until `trace 10.1.2.10 from server01` answers exactly the paths the kernels' FIBs give
/// (`paths` of them, without faults), and checks that every hop's `ip route get` choice is one
/// of the trace's egresses there.
fn trace_matches_the_fibs(fabric: &Fabric, paths: usize) {
    // Traffic fills the neighbour tables the walk resolves next hops through.
    fabric
        .lab
        .sh("server01", "ping -c 3 -i 0.2 -W 2 10.1.2.10 >/dev/null");
    let mut last = (BTreeSet::new(), BTreeSet::new());
    wait_until(SETTLE, "the trace to match the FIBs", || {
        let fib = fib_paths(&fabric.lab, "server01", "10.1.2.10");
        let answer = fabric.netql(TRACE);
        let traced = traced_paths(&answer);
        let clean = answer["summary"]["numberOfPathsWithErrors"] == 0;
        let done = clean && fib.len() == paths && traced == fib;
        if !done {
            eprintln!("the FIBs' paths: {fib:?}\nthe trace: {answer}");
        }
        last = (fib, traced);
        done
    });
    let (_, traced) = last;
    for path in &traced {
        for hop in &path[..path.len() - 1] {
            let (node, egress) = hop.split_once(':').expect("host:ifname");
            let chosen = fabric.lab.sh(node, "ip -j route get 10.1.2.10");
            let chosen: Value = serde_json::from_str(&chosen).expect("ip -j route get");
            let dev = chosen[0]["dev"].as_str().unwrap_or_default();
            let egresses: BTreeSet<&str> = traced
                .iter()
                .flat_map(|p| p.iter())
                .filter_map(|h| h.strip_prefix(&format!("{node}:")))
                .collect();
            assert!(
                egresses.contains(dev),
                "{node}: ip route get leaves by {dev}, the trace by {egresses:?} ({egress})"
            );
        }
    }
}

/// A trace answer's paths, each as its hops' `host:ifname`.
fn traced_paths(answer: &Value) -> BTreeSet<Vec<String>> {
    answer["paths"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|path| {
            path.as_array()
                .into_iter()
                .flatten()
                .map(|hop| {
                    let field = |k: &str| hop[k].as_str().unwrap_or_default().to_string();
                    format!("{}:{}", field("hostname"), field("outIfname"))
                })
                .collect()
        })
        .collect()
}

/// The paths from `node` to `address` as the kernels forward: at each node the longest route
/// that matches (`ip -j route show match`), every next hop's device, and the device's LLDP peer
/// next; a path ends at the node holding the address, as `node:<its interface>`.
fn fib_paths(lab: &Lab, node: &str, address: &str) -> BTreeSet<Vec<String>> {
    let mut paths = BTreeSet::new();
    fib_walk(lab, node, address, &mut Vec::new(), &mut paths);
    paths
}

fn fib_walk(
    lab: &Lab,
    node: &str,
    address: &str,
    trail: &mut Vec<String>,
    paths: &mut BTreeSet<Vec<String>>,
) {
    if trail.len() > 8 {
        return;
    }
    let addresses: Value =
        serde_json::from_str(&lab.sh(node, "ip -j addr show")).expect("ip -j addr");
    let holder = addresses.as_array().into_iter().flatten().find_map(|link| {
        let holds = link["addr_info"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["local"] == address);
        holds.then(|| link["ifname"].as_str().unwrap_or_default().to_string())
    });
    if let Some(ifname) = holder {
        let mut path = trail.clone();
        path.push(format!("{node}:{ifname}"));
        paths.insert(path);
        return;
    }
    let routes: Value =
        serde_json::from_str(&lab.sh(node, &format!("ip -j -4 route show match {address}")))
            .expect("ip -j route");
    let length = |r: &Value| match r["dst"].as_str().unwrap_or_default() {
        "default" => 0,
        dst => dst
            .split_once('/')
            .map_or(32, |(_, l)| l.parse().unwrap_or(32)),
    };
    let Some(best) = routes
        .as_array()
        .into_iter()
        .flatten()
        .max_by_key(|r| length(r))
    else {
        return;
    };
    let devices: Vec<String> = match best["nexthops"].as_array() {
        Some(hops) => hops
            .iter()
            .filter_map(|h| h["dev"].as_str())
            .map(String::from)
            .collect(),
        None => best["dev"].as_str().map(String::from).into_iter().collect(),
    };
    let peers = lldpcli_neighbors(lab, node);
    for dev in devices {
        let Some((_, peer, _)) = peers.iter().find(|(port, ..)| *port == dev) else {
            continue;
        };
        trail.push(format!("{node}:{dev}"));
        fib_walk(lab, peer, address, trail, paths);
        trail.pop();
    }
}

/// The server killed while server01 gains 60 addresses over 30 s, then restarted on the same
/// store: each address arrives exactly once.
fn server_down_for_30s_loses_nothing_and_duplicates_nothing(fabric: &mut Fabric) {
    let mut server = fabric.server.take().expect("server running");
    server.kill();
    for i in 0..60 {
        fabric.ip(
            "server01",
            &format!("addr add 10.77.{}.{}/32 dev lo", i / 200, i % 200 + 1),
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    fabric.start_server();
    let query = "SELECT prefix, count(*) AS n FROM addresses \
                 WHERE hostname = 'server01' AND prefix LIKE '10.77.%' GROUP BY prefix";
    wait_until(SETTLE, "all 60 addresses to arrive", || {
        fabric.sql(query).len() == 60
    });
    std::thread::sleep(Duration::from_secs(5));
    let rows = fabric.sql(query);
    assert_eq!(rows.len(), 60);
    let twice: Vec<&Value> = rows.iter().filter(|r| r["n"] != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
}
