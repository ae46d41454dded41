use arrow_array::{Array, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray};

use crate::fabric::{DAY, HOUR, MINUTE};
use crate::{REFERENCE_NOW, Simulation};

mod faults;
mod int_timeline;
mod int_wire;

fn history(sim: Simulation, to: i64, window: i64) -> Vec<(&'static str, RecordBatch)> {
    sim.windows(to, window)
        .flat_map(|w| w.expect("batches").1)
        .collect()
}

fn strings<'a>(batch: &'a RecordBatch, column: &str) -> &'a StringArray {
    batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref())
        .expect("string column")
}

fn times(batch: &RecordBatch) -> &TimestampMicrosecondArray {
    batch
        .column_by_name("timestamp")
        .and_then(|c| c.as_any().downcast_ref())
        .expect("timestamps")
}

/// Rows of `table` on `host` as (time, column value) pairs.
fn rows_of(
    history: &[(&str, RecordBatch)],
    table: &str,
    host: &str,
    column: &str,
) -> Vec<(i64, Option<String>)> {
    let mut out = Vec::new();
    for (_, batch) in history.iter().filter(|(t, _)| *t == table) {
        let (hosts, values, ts) = (
            strings(batch, "hostname"),
            batch.column_by_name(column).expect("column"),
            times(batch),
        );
        for i in (0..batch.num_rows()).filter(|&i| hosts.value(i) == host) {
            let value = arrow_array::cast::AsArray::as_string_opt::<i32>(values)
                .map(|s| s.value(i).to_string());
            out.push((ts.value(i), value.filter(|_| values.is_valid(i))));
        }
    }
    out
}

#[test]
fn simulated_rows_are_agent_rows_of_the_one_schema() {
    let history = history(Simulation::reference(REFERENCE_NOW), REFERENCE_NOW, DAY);
    assert!(history.len() > 10);
    for (table, batch) in &history {
        let def = sonde_schema::table(table).expect("a table of the schema");
        assert_eq!(
            batch.schema(),
            def.schema(),
            "{table}: exactly the table's schema"
        );
        let conformed =
            sonde_schema::conform_batch(def, batch).unwrap_or_else(|e| panic!("{table}: {e}"));
        assert_eq!(&conformed, batch, "{table}: nothing to coerce");
    }
}

#[test]
fn windows_do_not_change_the_history() {
    let count = |history: Vec<(&str, RecordBatch)>| -> Vec<(String, usize)> {
        let mut rows = std::collections::BTreeMap::new();
        for (table, batch) in history {
            *rows.entry(table.to_string()).or_default() += batch.num_rows();
        }
        rows.into_iter().collect()
    };
    let now = REFERENCE_NOW;
    let one = count(history(Simulation::reference(now), now, 3 * DAY));
    let windows = count(history(Simulation::reference(now), now, 7 * MINUTE));
    assert_eq!(one, windows);
    let scale = |window| count(history(Simulation::scale(40, now - DAY, now), now, window));
    assert_eq!(scale(DAY), scale(13 * MINUTE));
}

#[test]
fn the_reference_timeline_reaches_the_agents_rows() {
    let now = REFERENCE_NOW;
    let history = history(Simulation::reference(now), now, HOUR);
    let spine01 = rows_of(&history, "bgp", "spine01", "last_reset_reason");
    assert!(
        spine01.contains(&(
            now - 10 * HOUR - 5 * MINUTE + 9_000_000,
            Some("Hold Timer Expired".into())
        )),
        "{spine01:?}"
    );
    let leaf03 = rows_of(&history, "interfaces", "leaf03", "state");
    assert!(leaf03.contains(&(now - 10 * HOUR - 5 * MINUTE, Some("down".into()))));
    let beats = rows_of(&history, "agents", "exit02", "status");
    let last = beats.iter().map(|(at, _)| *at).max().expect("heartbeats");
    assert!(
        last < now - 2 * HOUR && last > now - 2 * HOUR - MINUTE,
        "exit02 stops 2h ago"
    );
    let beats = rows_of(&history, "agents", "spine01", "status");
    assert!(
        beats.len() > 2 * 2880 - 2,
        "a heartbeat every 30 s for two days: {}",
        beats.len()
    );
    let withdrawn = history
        .iter()
        .filter(|(t, _)| *t == "routes")
        .any(|(_, batch)| {
            let active: &BooleanArray = batch
                .column_by_name("active")
                .and_then(|c| c.as_any().downcast_ref())
                .expect("active");
            (0..batch.num_rows())
                .any(|i| !active.value(i) && strings(batch, "prefix").value(i) == "10.1.30.0/24")
        });
    assert!(withdrawn, "leaf01 withdraws 10.1.30.0/24");
}

#[test]
fn a_busy_fabric_flaps_links_and_keeps_sessions_consistent() {
    let now = REFERENCE_NOW;
    let history = history(Simulation::scale(100, now - 2 * DAY, now), now, HOUR);
    let mut downs = 0;
    for (_, batch) in history.iter().filter(|(t, _)| *t == "bgp") {
        let state = strings(batch, "state");
        downs += (0..batch.num_rows())
            .filter(|&i| state.value(i) == "Idle")
            .count();
    }
    assert!(downs > 10, "flaps take sessions down: {downs}");
    let agents = history.iter().filter(|(t, _)| *t == "agents").count();
    assert!(agents > 0);
    let exit02 = rows_of(&history, "bgp", "exit02", "state");
    assert!(
        exit02.iter().all(|(at, _)| *at < now - 2 * HOUR),
        "a stopped agent sends nothing"
    );
}
