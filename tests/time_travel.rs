//! State at T and changes between T1 and T2, checked against a brute-force reading of the history,
//! with the rows in the memtable, in flushed files, and in compacted files with checkpoints.

use sonde_engine::{Engine, EngineConfig};

use crate::common::{Bgp, HOUR, T0, bgp_batch, bgp_rows};

/// The hand-written part: a session that flaps, one deleted, one added late.
fn story() -> Vec<Bgp> {
    vec![
        Bgp::new(T0, "leaf01", "swp1", "Established", 65011, true),
        Bgp::new(T0, "leaf01", "swp2", "Established", 65011, true),
        Bgp::new(T0 + 2 * HOUR, "leaf01", "swp1", "Idle", 65011, true),
        Bgp::new(T0 + 3 * HOUR, "leaf01", "swp2", "Established", 65011, false),
        Bgp::new(T0 + 4 * HOUR, "leaf02", "swp1", "Established", 65012, true),
        Bgp::new(T0 + 30 * HOUR, "leaf01", "swp1", "Established", 65011, true),
    ]
}

/// Background churn so that the history spans two days and checkpoints become due.
fn churn() -> Vec<Bgp> {
    let mut rows = Vec::new();
    for hour in 0..48i64 {
        for key in 0..40 {
            if (hour + key) % 3 == 0 {
                let active = (hour * 7 + key) % 11 != 0;
                let state = if (hour + key) % 5 == 0 {
                    "Connect"
                } else {
                    "Established"
                };
                rows.push(Bgp::new(
                    T0 + hour * HOUR + key * 1_000_000 + 17,
                    "spine01",
                    &format!("swp{key}"),
                    state,
                    65020,
                    active,
                ));
            }
        }
    }
    rows
}

/// State at `t` computed the slow, obvious way.
fn expected_state(history: &[Bgp], t: i64) -> Vec<Bgp> {
    let mut latest: std::collections::BTreeMap<(String, String), Bgp> = Default::default();
    let mut sorted: Vec<&Bgp> = history.iter().filter(|r| r.ts <= t).collect();
    sorted.sort_by_key(|r| r.ts);
    for row in sorted {
        latest.insert((row.host.clone(), row.peer.clone()), row.clone());
    }
    let mut rows: Vec<Bgp> = latest.into_values().filter(|r| r.active).collect();
    rows.sort();
    rows
}

async fn state(engine: &Engine, t: i64) -> Vec<Bgp> {
    bgp_rows(
        &engine
            .collect(engine.state_at("bgp", t).expect("plans"))
            .await
            .expect("runs"),
    )
}

/// Instants around every interesting boundary: before history, inside hours, on hour edges.
fn probes() -> Vec<i64> {
    let mut probes = vec![
        T0 - 1,
        T0,
        T0 + 1,
        T0 + HOUR / 2,
        T0 + 2 * HOUR - 1,
        T0 + 2 * HOUR,
        T0 + 3 * HOUR + 5,
    ];
    probes.extend((0..50).map(|h| T0 + h * HOUR + HOUR / 3));
    probes.extend([
        T0 + 30 * HOUR,
        T0 + 47 * HOUR + 40_000_017,
        T0 + 1000 * HOUR,
    ]);
    probes
}

async fn assert_all_probes(engine: &Engine, history: &[Bgp], phase: &str) {
    for t in probes() {
        assert_eq!(
            state(engine, t).await,
            expected_state(history, t),
            "state at T0{:+}µs ({phase})",
            t - T0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_at_and_changes_match_the_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::local(dir.path());
    config.checkpoint_factor = 1.5;
    let engine = Engine::open(config).await.expect("opens");
    let history: Vec<Bgp> = story().into_iter().chain(churn()).collect();

    // Written in two halves, out of order inside each, as several agents would.
    let (first, second): (Vec<Bgp>, Vec<Bgp>) =
        history.iter().cloned().partition(|r| r.ts < T0 + 24 * HOUR);
    for part in first.chunks(97).rev() {
        engine
            .append("bgp", &bgp_batch(part))
            .await
            .expect("append");
    }
    assert_all_probes(&engine, &first, "first day, memtable").await;
    engine.flush().await.expect("flush");
    for part in second.chunks(89) {
        engine
            .append("bgp", &bgp_batch(part))
            .await
            .expect("append");
    }
    assert_all_probes(&engine, &history, "files and memtable").await;
    engine.flush().await.expect("flush");
    let maintained = engine.maintain().await.expect("maintenance");
    let stats = engine.table_stats("bgp").expect("stats");
    assert!(
        maintained.checkpoints_written >= 2,
        "checkpoints were due: {maintained:?}"
    );
    assert!(
        stats.checkpoints >= 2 && stats.event_files == 48,
        "{stats:?}"
    );
    assert!(
        stats.checkpoint_bytes <= stats.event_bytes,
        "checkpoints stay a fraction of the log: {stats:?}"
    );
    assert_all_probes(&engine, &history, "compacted with checkpoints").await;

    // The hand-written story, spelled out.
    let at = |h: i64| T0 + h * HOUR + 1;
    let story_keys = |rows: Vec<Bgp>| {
        let mut keys: Vec<_> = rows
            .into_iter()
            .filter(|r| r.host != "spine01")
            .map(|r| (r.host, r.peer, r.state))
            .collect();
        keys.sort();
        keys
    };
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(story_keys(state(&engine, T0 - 1).await), vec![]);
    assert_eq!(
        story_keys(state(&engine, at(1)).await),
        vec![
            s("leaf01", "swp1", "Established"),
            s("leaf01", "swp2", "Established")
        ]
    );
    assert_eq!(
        story_keys(state(&engine, at(3)).await),
        vec![s("leaf01", "swp1", "Idle")]
    );
    assert_eq!(
        story_keys(state(&engine, at(29)).await),
        vec![
            s("leaf01", "swp1", "Idle"),
            s("leaf02", "swp1", "Established")
        ]
    );
    assert_eq!(
        story_keys(state(&engine, at(31)).await),
        vec![
            s("leaf01", "swp1", "Established"),
            s("leaf02", "swp1", "Established")
        ]
    );

    // Changes between 2h and 4h: the flap to Idle, the deletion, the new session.
    let plan = engine
        .changes_between("bgp", T0 + 2 * HOUR, T0 + 4 * HOUR)
        .expect("plans");
    let changes = engine.collect(plan).await.expect("runs");
    let text = netql::output::aligned_table(&changes).expect("formats");
    let leaf_lines: Vec<&str> = text.lines().filter(|l| l.contains("leaf0")).collect();
    assert_eq!(leaf_lines.len(), 3, "{text}");
    assert!(
        leaf_lines[0].contains("Idle") && leaf_lines[0].ends_with("Add"),
        "{text}"
    );
    assert!(
        leaf_lines[1].contains("swp2") && leaf_lines[1].ends_with("Del"),
        "{text}"
    );
    assert!(leaf_lines[2].contains("leaf02"), "{text}");

    // The same primitives as SQL table functions.
    let frame = engine
        .sql(&format!(
            "SELECT count(*) AS n FROM state_at('bgp', {}) WHERE hostname = 'leaf01'",
            at(3)
        ))
        .await
        .expect("plans");
    let counted = arrow::util::pretty::pretty_format_batches(&frame.collect().await.expect("runs"))
        .expect("formats")
        .to_string();
    assert!(counted.contains("| 1 "), "{counted}");

    // After a restart the checkpoints are found again and answers do not change.
    engine.close().await.expect("close");
    drop(engine);
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("reopens");
    assert!(engine.table_stats("bgp").expect("stats").checkpoints >= 2);
    assert_all_probes(&engine, &history, "after restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_rows_invalidate_later_checkpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::local(dir.path());
    config.checkpoint_factor = 1.0;
    let engine = Engine::open(config).await.expect("opens");
    let history = churn();
    engine
        .append("bgp", &bgp_batch(&history))
        .await
        .expect("append");
    engine.flush().await.expect("flush");
    engine.maintain().await.expect("maintain");
    assert!(engine.table_stats("bgp").expect("stats").checkpoints > 0);

    // A row from hour 1 arrives late: every checkpoint after it must stop being used.
    let late = Bgp::new(T0 + HOUR + 5, "spine09", "swp1", "Established", 65099, true);
    engine
        .append("bgp", &bgp_batch(std::slice::from_ref(&late)))
        .await
        .expect("append");
    let all: Vec<Bgp> = history.iter().cloned().chain([late.clone()]).collect();
    assert_all_probes(&engine, &all, "late row in memtable").await;
    engine.flush().await.expect("flush");
    assert_all_probes(&engine, &all, "late row flushed").await;
    engine.maintain().await.expect("maintain");
    assert_all_probes(&engine, &all, "checkpoints rebuilt").await;
}
