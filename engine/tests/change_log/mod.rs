//! The change log as the engine reads it (each file in its own order, merged without a sort)
//! against its definition written as a sorted union of the raw events, on a random history with
//! late rows, deletions, many rows sharing a timestamp, compaction, checkpoints and a memtable.

use std::collections::HashSet;

use arrow::util::pretty::pretty_format_batches;
use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
use sonde_engine::Engine;
use sonde_schema::families::{interfaces, vlan};
use sonde_schema::row::{Row, to_batch};

use super::{HOUR, T0, config};
use crate::state::Lcg;

const HOSTS: [&str; 3] = ["leaf01", "leaf02", "spine01"];

/// A random event time in `hour`, on whole minutes so that many rows share one, a tenth of them
/// late (from the hour before).
fn minute_in(rng: &mut Lcg, hour: i64) -> i64 {
    let late = rng.below(10) == 0;
    T0 + (hour - i64::from(late)) * HOUR + rng.below(60) as i64 * 60_000_000
}

/// One `interfaces` and one `vlan` batch per host for `hour`; no two rows of a table share
/// host, key and time.
fn random_batches(
    rng: &mut Lcg,
    hour: i64,
    seen: &mut HashSet<(&'static str, String, String, i64)>,
) -> Vec<(&'static str, arrow::array::RecordBatch)> {
    let mut out = Vec::new();
    for host in HOSTS {
        let mut ifaces = Vec::new();
        let mut vlans = Vec::new();
        for _ in 0..60 {
            let t = minute_in(rng, hour);
            let ifname = format!("swp{}", rng.below(12));
            if seen.insert(("interfaces", host.into(), ifname.clone(), t)) {
                let mut row = Row::new(&interfaces::TABLE, t)
                    .set("ifname", ifname)
                    .set("state", if rng.below(3) == 0 { "down" } else { "up" });
                row.active = rng.below(8) != 0;
                ifaces.push(row);
            }
            let t = minute_in(rng, hour);
            let id = rng.below(120) as u32;
            if seen.insert(("vlan", host.into(), id.to_string(), t)) {
                let mut row = Row::new(&vlan::TABLE, t).set("vlan", id);
                row.active = rng.below(8) != 0;
                vlans.push(row);
            }
        }
        out.push((
            "interfaces",
            to_batch(&interfaces::TABLE, host, &ifaces).expect("batch"),
        ));
        out.push(("vlan", to_batch(&vlan::TABLE, host, &vlans).expect("batch")));
    }
    out
}

/// The definition: every row in the window as a change line, sorted by time, hostname, table,
/// the key (VLAN ids as numbers), Add before Del.
fn reference(from: i64, to: i64, filter: &str) -> String {
    let window = format!(
        "timestamp between to_timestamp_micros({from}) and to_timestamp_micros({to}) and ({filter})"
    );
    format!(
        "select timestamp, hostname, type, object, state, change from ( \
           select timestamp, hostname, 'interfaces' as type, ifname as object, 0 as number, \
             coalesce(state, '') as state, case when active then 'Add' else 'Del' end as change \
             from interfaces \
           union all \
           select timestamp, hostname, 'vlan' as type, cast(vlan as varchar) as object, \
             vlan as number, '' as state, case when active then 'Add' else 'Del' end as change \
             from vlan) \
         where {window} order by timestamp, hostname, type, number, object, change"
    )
}

async fn text(engine: &Engine, plan: datafusion::logical_expr::LogicalPlan) -> String {
    let batches = engine.collect(plan).await.expect("run");
    pretty_format_batches(&batches).expect("format").to_string()
}

async fn assert_logs_match(engine: &Engine, from: i64, to: i64) {
    let filters = [
        ("true", lit(true)),
        ("hostname = 'leaf02'", col("hostname").eq(lit("leaf02"))),
        ("change = 'Del'", col("change").eq(lit("Del"))),
    ];
    for (sql, filter) in filters {
        let log = engine
            .change_log(&["vlan", "interfaces"], from, to)
            .expect("plan");
        let ours = LogicalPlanBuilder::from(log)
            .filter(filter)
            .and_then(|b| b.build())
            .expect("filter");
        let frame = engine.sql(&reference(from, to, sql)).await.expect("plan");
        let expected = pretty_format_batches(&frame.collect().await.expect("run"))
            .expect("format")
            .to_string();
        let ours = text(engine, ours).await;
        assert!(ours.lines().count() > 4, "the window holds changes");
        assert_eq!(ours, expected, "changes from {from} to {to} where {sql}");
    }
}

#[tokio::test]
async fn the_merged_change_log_equals_the_sorted_union_of_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.checkpoint_factor = 0.5;
    let engine = Engine::open(config).await.expect("open");
    let mut rng = Lcg(5);
    let mut seen = HashSet::new();
    for hour in 0..8 {
        for (table, batch) in random_batches(&mut rng, hour, &mut seen) {
            engine.append(table, &batch).await.expect("append");
        }
        if hour % 3 == 2 {
            engine.flush().await.expect("flush");
        }
        if hour == 5 {
            engine.maintain().await.expect("maintain");
        }
    }
    let stats = engine.table_stats("vlan").expect("stats");
    assert!(
        stats.memtable_rows > 0,
        "some rows are still in the memtable"
    );
    for (from, to) in [
        (T0 - HOUR, T0 + 9 * HOUR),
        (T0 + HOUR + 17 * 60_000_000, T0 + 6 * HOUR + 60_000_000),
        (T0 + 7 * HOUR, T0 + 7 * HOUR + 30 * 60_000_000),
    ] {
        assert_logs_match(&engine, from, to).await;
    }
}
