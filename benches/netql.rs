//! NetQL end to end: parse + plan latency per statement, then `check bgp`, `show bgp around 10h`
//! and `show changes between 2d and 1d` on a synthetic 1000-node fabric with 30 days of history
//! (flushed, compacted and checkpointed), beside DuckDB answering the same questions in SQL over
//! the same Parquet files in the same run.
//!
//! `cargo bench --bench netql [-- NODES DAYS]` (default 1000 nodes, 30 days).

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array,
    UInt64Array,
};
use netql::{Planner, parse};
use sonde_engine::{Engine, EngineConfig};

use common::{HOUR, Lcg, T0};

const SPINES: usize = 16;
const UPLINKS: usize = 4;
const RUNS: usize = 9;

/// One leaf–spine link: both BGP sessions and both interfaces run over it.
struct Link {
    leaf: String,
    leaf_port: String,
    spine: String,
    spine_port: String,
    leaf_asn: u32,
}

fn links(nodes: usize) -> Vec<Link> {
    let leaves = nodes.saturating_sub(SPINES);
    let mut out = Vec::new();
    for leaf in 0..leaves {
        for k in 0..UPLINKS {
            let spine = (leaf % (SPINES / UPLINKS)) * UPLINKS + k;
            out.push(Link {
                leaf: format!("leaf{leaf:04}"),
                leaf_port: format!("swp{}", 49 + k),
                spine: format!("spine{spine:02}"),
                spine_port: format!("swp{}", leaf + 1),
                leaf_asn: 65_100 + leaf as u32,
            });
        }
    }
    out
}

fn ts_array(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(values).with_timezone("UTC"))
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn batch(table: &str, columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let def = sonde_schema::table(table).expect("table");
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    sonde_schema::conform_batch(def, &batch).expect("conforms")
}

/// One row of a session: (time, link, leaf side?, established, prefixes, reset reason).
struct Session {
    ts: i64,
    link: usize,
    leaf_side: bool,
    up: bool,
    prefixes: u64,
    reason: &'static str,
}

fn bgp_batch(links: &[Link], rows: &[Session]) -> RecordBatch {
    let host = |r: &Session| {
        if r.leaf_side {
            links[r.link].leaf.as_str()
        } else {
            links[r.link].spine.as_str()
        }
    };
    let peer = |r: &Session| {
        if r.leaf_side {
            links[r.link].leaf_port.as_str()
        } else {
            links[r.link].spine_port.as_str()
        }
    };
    let peer_host = |r: &Session| {
        if r.leaf_side {
            links[r.link].spine.as_str()
        } else {
            links[r.link].leaf.as_str()
        }
    };
    batch(
        "bgp",
        vec![
            ("timestamp", ts_array(rows.iter().map(|r| r.ts))),
            ("hostname", strings(rows.iter().map(host))),
            ("vrf", strings(rows.iter().map(|_| "default"))),
            ("peer", strings(rows.iter().map(peer))),
            ("peer_hostname", strings(rows.iter().map(peer_host))),
            ("ifname", strings(rows.iter().map(peer))),
            (
                "asn",
                Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| {
                    if r.leaf_side {
                        links[r.link].leaf_asn
                    } else {
                        65_000
                    }
                }))),
            ),
            (
                "peer_asn",
                Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| {
                    if r.leaf_side {
                        65_000
                    } else {
                        links[r.link].leaf_asn
                    }
                }))),
            ),
            (
                "state",
                strings(
                    rows.iter()
                        .map(|r| if r.up { "Established" } else { "Idle" }),
                ),
            ),
            (
                "config_hold_time",
                Arc::new(UInt32Array::from_iter_values(rows.iter().map(|_| 9))),
            ),
            (
                "pfx_rx_ipv4",
                Arc::new(UInt64Array::from_iter_values(
                    rows.iter().map(|r| r.prefixes),
                )),
            ),
            ("last_reset_reason", strings(rows.iter().map(|r| r.reason))),
            (
                "active",
                Arc::new(BooleanArray::from_iter(rows.iter().map(|_| Some(true)))),
            ),
        ],
    )
}

/// (time, host, port, up)
fn interfaces_batch(rows: &[(i64, &str, &str, bool)]) -> RecordBatch {
    batch(
        "interfaces",
        vec![
            ("timestamp", ts_array(rows.iter().map(|r| r.0))),
            ("hostname", strings(rows.iter().map(|r| r.1))),
            ("ifname", strings(rows.iter().map(|r| r.2))),
            (
                "state",
                strings(rows.iter().map(|r| if r.3 { "up" } else { "down" })),
            ),
            (
                "mtu",
                Arc::new(UInt32Array::from_iter_values(rows.iter().map(|_| 9216))),
            ),
            (
                "speed",
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|_| 100_000))),
            ),
            (
                "active",
                Arc::new(BooleanArray::from_iter(rows.iter().map(|_| Some(true)))),
            ),
        ],
    )
}

fn lldp_batch(links: &[Link], at: i64) -> RecordBatch {
    let both = |f: &dyn Fn(&Link) -> (&str, &str)| -> Vec<&str> {
        links
            .iter()
            .flat_map(|l| {
                let (a, b) = f(l);
                [a, b]
            })
            .collect()
    };
    batch(
        "lldp",
        vec![
            (
                "timestamp",
                ts_array(std::iter::repeat_n(at, links.len() * 2)),
            ),
            (
                "hostname",
                strings(both(&|l| (&l.leaf, &l.spine)).into_iter()),
            ),
            (
                "ifname",
                strings(both(&|l| (&l.leaf_port, &l.spine_port)).into_iter()),
            ),
            (
                "peer_hostname",
                strings(both(&|l| (&l.spine, &l.leaf)).into_iter()),
            ),
            (
                "peer_ifname",
                strings(both(&|l| (&l.spine_port, &l.leaf_port)).into_iter()),
            ),
            (
                "active",
                Arc::new(BooleanArray::from_iter(std::iter::repeat_n(
                    Some(true),
                    links.len() * 2,
                ))),
            ),
        ],
    )
}

fn agents_batch(hosts: &[String], at: i64) -> RecordBatch {
    batch(
        "agents",
        vec![
            ("timestamp", ts_array(std::iter::repeat_n(at, hosts.len()))),
            ("hostname", strings(hosts.iter().map(String::as_str))),
            ("status", strings(hosts.iter().map(|_| "Fresh"))),
            (
                "heartbeat_interval_s",
                Arc::new(UInt32Array::from_iter_values(hosts.iter().map(|_| 1800))),
            ),
            (
                "active",
                Arc::new(BooleanArray::from_iter(hosts.iter().map(|_| Some(true)))),
            ),
        ],
    )
}

/// Writes the history hour by hour: every session's prefix count each hour, agents' hourly
/// heartbeats, and link flaps (interface down, both sessions down, back 5–30 minutes later).
async fn write_history(engine: &Engine, nodes: usize, days: i64) -> (usize, i64) {
    let links = links(nodes);
    let hosts: Vec<String> = (0..SPINES)
        .map(|s| format!("spine{s:02}"))
        .chain((0..nodes - SPINES).map(|l| format!("leaf{l:04}")))
        .collect();
    let mut rng = Lcg::new(11);
    let mut rows = 0;
    engine
        .append("lldp", &lldp_batch(&links, T0))
        .await
        .expect("lldp");
    let initial: Vec<(i64, &str, &str, bool)> = links
        .iter()
        .flat_map(|l| {
            [
                (T0, l.leaf.as_str(), l.leaf_port.as_str(), true),
                (T0, l.spine.as_str(), l.spine_port.as_str(), true),
            ]
        })
        .collect();
    engine
        .append("interfaces", &interfaces_batch(&initial))
        .await
        .expect("interfaces");
    rows += links.len() * 4;
    for hour in 0..days * 24 {
        let base = T0 + hour * HOUR;
        let mut sessions = Vec::with_capacity(links.len() * 2);
        let mut flaps = Vec::new();
        for (i, _) in links.iter().enumerate() {
            let ts = base + rng.below(HOUR as u64 / 2) as i64;
            let prefixes = 10 + rng.below(5);
            sessions.push(Session {
                ts,
                link: i,
                leaf_side: true,
                up: true,
                prefixes,
                reason: "",
            });
            sessions.push(Session {
                ts: ts + 1_000_000,
                link: i,
                leaf_side: false,
                up: true,
                prefixes,
                reason: "",
            });
            if rng.below(48) == 0 {
                let down = base + HOUR / 2 + rng.below(HOUR as u64 / 4) as i64;
                let back = down + (5 + rng.below(25) as i64) * 60_000_000;
                flaps.push((down, i, back));
                sessions.push(Session {
                    ts: down,
                    link: i,
                    leaf_side: true,
                    up: false,
                    prefixes: 0,
                    reason: "Interface down",
                });
                sessions.push(Session {
                    ts: down + 90_000_000,
                    link: i,
                    leaf_side: false,
                    up: false,
                    prefixes: 0,
                    reason: "Hold Timer Expired",
                });
                sessions.push(Session {
                    ts: back,
                    link: i,
                    leaf_side: true,
                    up: true,
                    prefixes,
                    reason: "Interface down",
                });
                sessions.push(Session {
                    ts: back + 1_000_000,
                    link: i,
                    leaf_side: false,
                    up: true,
                    prefixes,
                    reason: "Hold Timer Expired",
                });
            }
        }
        let interface_rows: Vec<(i64, &str, &str, bool)> = flaps
            .iter()
            .flat_map(|&(down, i, back)| {
                [
                    (
                        down,
                        links[i].leaf.as_str(),
                        links[i].leaf_port.as_str(),
                        false,
                    ),
                    (
                        back,
                        links[i].leaf.as_str(),
                        links[i].leaf_port.as_str(),
                        true,
                    ),
                ]
            })
            .collect();
        rows += sessions.len() + interface_rows.len() + hosts.len();
        engine
            .append("bgp", &bgp_batch(&links, &sessions))
            .await
            .expect("bgp");
        if !interface_rows.is_empty() {
            engine
                .append("interfaces", &interfaces_batch(&interface_rows))
                .await
                .expect("interfaces");
        }
        engine
            .append("agents", &agents_batch(&hosts, base + HOUR / 2))
            .await
            .expect("agents");
    }
    (rows, T0 + days * 24 * HOUR)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

const STATEMENTS: &[&str] = &[
    "check bgp",
    "spine01 check bgp around 10h json",
    "show bgp around 10h",
    "leaf0* show interfaces swp51 state down",
    "show changes between 2d and 1d",
    "show ip routes 10.1.0.0/24 vrf default",
    "select hostname, count(*) from bgp where state != Established group by hostname order by hostname limit 10",
    "check mtu",
    "check vlan around 2026-10-02T00:00:00Z",
];

fn parse_and_plan(engine: &Engine, now: i64) {
    println!("parse + plan, median of 2000 (µs):");
    for statement in STATEMENTS {
        let mut parse_times = Vec::new();
        let mut plan_times = Vec::new();
        for _ in 0..2000 {
            let start = Instant::now();
            let parsed = parse(statement).expect("parses");
            let parsed_at = Instant::now();
            let planned = Planner::new(engine, now).plan(&parsed).expect("plans");
            plan_times.push(parsed_at.elapsed());
            parse_times.push(parsed_at - start);
            drop(planned);
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "  {:>8.1} parse {:>8.1} plan   {statement}",
            us(percentile(&mut parse_times, 0.5)),
            us(percentile(&mut plan_times, 0.5))
        );
    }
}

const DUCKDB: &str = r#"
import duckdb, json, sys, time
root, now = sys.argv[1], int(sys.argv[2])
runs = int(sys.argv[3])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
def src(t):
    return f"read_parquet('{root}/{t}/**/*.parquet', hive_partitioning = true)"
def state(t, keys, at):
    return f"""(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY timestamp DESC) rn
              FROM {src(t)} WHERE timestamp <= make_timestamp({at})::TIMESTAMPTZ) WHERE rn = 1 AND active)"""
def check_bgp(at):
    return f"""WITH s AS {state('bgp', 'hostname, vrf, peer', at)}, i AS {state('interfaces', 'hostname, ifname', at)},
      a AS (SELECT hostname, epoch_us(timestamp) + 3000000 * coalesce(heartbeat_interval_s::BIGINT, 30) < {at} AS rotten FROM {state('agents', 'hostname', at)})
      SELECT count(*) AS sessions, count(reason) AS failed, count(DISTINCT s_host) AS nodes FROM (
        SELECT s.hostname AS s_host, CASE WHEN a.rotten THEN 'Rotten Agent'
          WHEN s.state <> 'Established' AND i.state = 'down' THEN 'Interface down'
          WHEN p.asn <> s.peer_asn THEN 'ASN mismatch'
          WHEN s.state <> 'Established' THEN coalesce(nullif(s.last_reset_reason, ''), s.state)
          WHEN p.config_hold_time <> s.config_hold_time THEN 'Hold time mismatch' END AS reason
        FROM s LEFT JOIN i ON i.hostname = s.hostname AND i.ifname = s.ifname
        LEFT JOIN a ON a.hostname = s.hostname
        LEFT JOIN s p ON p.hostname = s.peer_hostname AND p.peer_hostname = s.hostname AND p.vrf = s.vrf)"""
def changes(frm, to):
    parts = [f"SELECT timestamp, hostname, '{t}' AS type, active FROM {src(t)} WHERE timestamp BETWEEN make_timestamp({frm})::TIMESTAMPTZ AND make_timestamp({to})::TIMESTAMPTZ"
             for t in ['bgp', 'interfaces', 'lldp']]
    return "SELECT count(*) FROM (" + " UNION ALL ".join(parts) + " ORDER BY timestamp)"
H = 3_600_000_000
questions = {
    "check bgp": f"SELECT * FROM ({check_bgp(now)})",
    "show bgp around 10h": f"SELECT count(*) FROM {state('bgp', 'hostname, vrf, peer', now - 10 * H)}",
    "show changes between 2d and 1d": changes(now - 48 * H, now - 24 * H),
}
out = {}
for name, sql in questions.items():
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter(); result = con.execute(sql).fetchall(); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[name] = {"p50": times[len(times) // 2], "p95": times[min(len(times) - 1, round((len(times) - 1) * 0.95))], "result": str(result[0])}
print(json.dumps(out))
"#;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<i64>().ok());
    let nodes = args.next().unwrap_or(1000) as usize;
    let days = args.next().unwrap_or(30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    runtime.block_on(async {
        let engine = Engine::open(EngineConfig::local(dir.path())).await.expect("engine");
        let start = Instant::now();
        let (rows, now) = write_history(&engine, nodes, days).await;
        engine.flush().await.expect("flush");
        engine.maintain().await.expect("maintain");
        let bgp = engine.table_stats("bgp").expect("stats");
        println!(
            "{nodes} nodes, {days} days: {rows} rows written, flushed, compacted and checkpointed in {:.1} s ({} bgp files, {} checkpoints)",
            start.elapsed().as_secs_f64(),
            bgp.event_files,
            bgp.checkpoints
        );
        parse_and_plan(&engine, now);
        println!("\nanswers, {RUNS} runs each (ms):              Sonde p50 / p95      DuckDB p50 / p95     DuckDB/Sonde (p50)");
        let duckdb = common::python(DUCKDB, &[dir.path().to_str().expect("path"), &now.to_string(), &RUNS.to_string()])
            .and_then(|out| serde_json::from_str::<serde_json::Value>(out.lines().last()?).ok());
        for (question, statement) in [
            ("check bgp", "check bgp"),
            ("show bgp around 10h", "show bgp around 10h"),
            ("show changes between 2d and 1d", "show changes between 2d and 1d"),
        ] {
            let mut times = Vec::new();
            let mut rows = String::new();
            for _ in 0..RUNS {
                let start = Instant::now();
                let answer = netql::run(&engine, statement, now).await.expect("answers");
                times.push(start.elapsed());
                rows = match answer.summary {
                    Some(summary) => format!("{} checked, {} failed", summary.total_items, summary.failed_items),
                    None => format!("{} rows", answer.rows()),
                };
            }
            let (p50, p95) = (percentile(&mut times, 0.5), percentile(&mut times, 0.95));
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let theirs = duckdb.as_ref().map(|d| &d[question]);
            let (d50, d95) = theirs.map_or((f64::NAN, f64::NAN), |d| (d["p50"].as_f64().unwrap_or(f64::NAN), d["p95"].as_f64().unwrap_or(f64::NAN)));
            println!(
                "  {question:<32} {:>8.0} / {:>6.0}    {:>8.0} / {:>6.0}    {:>6.2}    (Sonde {rows}; DuckDB {})",
                ms(p50),
                ms(p95),
                d50,
                d95,
                d50 / ms(p50),
                theirs.map_or("-".to_string(), |d| d["result"].to_string())
            );
        }
        engine.close().await.expect("close");
    });
}
