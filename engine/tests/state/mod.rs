//! State at T as the engine plans it (a merge of sorted inputs, or the current state in memory)
//! against the definition written as a window over the raw events, on a random history with late
//! rows, deletions, compaction, checkpoints and a memtable; and the sort order every stored file
//! declares, checked row by row.

use std::path::Path;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::row::{RowConverter, SortField};
use arrow::util::pretty::pretty_format_batches;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sonde_engine::{Engine, FileKind};
use sonde_schema::families::interfaces;
use sonde_schema::row::{Row, now_us, to_batch};

use super::{HOUR, T0, config};

const HOSTS: [&str; 3] = ["leaf01", "leaf02", "spine01"];

/// A small deterministic generator, so a failure can be replayed.
pub(crate) struct Lcg(pub u64);

impl Lcg {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// One batch per host of `rows` random interface events within hour `hour` (some of them late,
/// from the hour before), a tenth of them deletions.
fn random_batches(rng: &mut Lcg, hour: i64, rows: usize) -> Vec<RecordBatch> {
    HOSTS
        .iter()
        .map(|host| {
            let rows: Vec<Row> = (0..rows)
                .map(|_| {
                    let late = rng.below(10) == 0;
                    let base = T0 + (hour - i64::from(late)) * HOUR;
                    let mut row =
                        Row::new(&interfaces::TABLE, base + rng.below(HOUR as u64) as i64)
                            .set("ifname", format!("swp{}", rng.below(25)))
                            .set("state", if rng.below(3) == 0 { "down" } else { "up" })
                            .set("mtu", 9000 + rng.below(3) as u32 * 100);
                    row.active = rng.below(10) != 0;
                    row
                })
                .collect();
            to_batch(&interfaces::TABLE, host, &rows).expect("batch")
        })
        .collect()
}

async fn answer(engine: &Engine, sql: &str) -> String {
    let batches = super::collect(engine, sql).await;
    pretty_format_batches(&batches).expect("format").to_string()
}

/// The engine's state at `t` and the window over raw events, under the same filter.
async fn both(engine: &Engine, t: i64, filter: &str) -> (String, String) {
    let ours = format!(
        "select * from state_at('interfaces', {t}) where {filter} order by hostname, ifname"
    );
    let reference = format!(
        "select timestamp, hostname, ifname, type, state, admin_state, mtu, speed, autoneg, mac, \
         master, vrf, vlans, pvid, ifindex, description, last_flap, active from (select *, \
         row_number() over (partition by hostname, ifname order by timestamp desc) as rn \
         from interfaces where timestamp <= to_timestamp_micros({t})) where rn = 1 and active and ({filter}) \
         order by hostname, ifname"
    );
    (
        answer(engine, &ours).await,
        answer(engine, &reference).await,
    )
}

async fn assert_states_match(engine: &Engine, times: &[i64]) {
    for &t in times {
        for filter in [
            "true",
            "hostname = 'leaf02'",
            "state = 'up'",
            "ifname in ('swp1', 'swp7') or hostname = 'spine01'",
        ] {
            let (ours, reference) = both(engine, t, filter).await;
            assert_eq!(ours, reference, "state at {t} where {filter}");
        }
    }
}

/// Writes `hours` hours of random history; every third hour is flushed and maintained.
async fn write_history(engine: &Engine, rng: &mut Lcg, hours: std::ops::Range<i64>) {
    for hour in hours {
        for batch in random_batches(rng, hour, 40) {
            engine.append("interfaces", &batch).await.expect("append");
        }
        if hour % 3 == 2 {
            engine.flush().await.expect("flush");
            engine.maintain().await.expect("maintain");
        }
    }
}

fn instants(hours: i64) -> Vec<i64> {
    (0..hours)
        .flat_map(|h| [T0 + h * HOUR, T0 + h * HOUR + HOUR / 2 + 17])
        .chain([T0 - 1, now_us()])
        .collect()
}

async fn active_now(engine: &Engine) -> usize {
    let sql = format!("select * from state_at('interfaces', {})", now_us());
    let batches = super::collect(engine, &sql).await;
    batches.iter().map(|b| b.num_rows()).sum()
}

#[tokio::test]
async fn the_merged_state_equals_the_window_over_the_events_at_every_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.checkpoint_factor = 0.5;
    let engine = Engine::open(config).await.expect("open");
    let mut rng = Lcg(7);
    write_history(&engine, &mut rng, 0..10).await;
    let stats = engine.table_stats("interfaces").expect("stats");
    assert!(stats.checkpoints > 0, "checkpoints were written: {stats:?}");
    assert!(
        stats.memtable_rows > 0,
        "some rows are still in the memtable"
    );
    assert_states_match(&engine, &instants(10)).await;
}

#[tokio::test]
async fn the_current_state_follows_appends_and_is_rebuilt_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.checkpoint_factor = 0.5;
    let mut rng = Lcg(11);
    {
        let engine = Engine::open(config.clone()).await.expect("open");
        write_history(&engine, &mut rng, 0..6).await;
        assert_states_match(&engine, &[now_us()]).await;
        let stats = engine.table_stats("interfaces").expect("stats");
        // Keys deleted before the checkpoint it was built from are not held, deleted ones since are.
        let keys = stats.current_keys.expect("the current state is kept");
        let active = active_now(&engine).await;
        assert!(
            (active..=75).contains(&keys),
            "{active} active ≤ {keys} keys ≤ 3 hosts × 25 interfaces"
        );
        assert!(stats.current_bytes.is_some_and(|b| b > 0));

        write_history(&engine, &mut rng, 6..8).await;
        assert_states_match(&engine, &[now_us()]).await;
        engine.close().await.expect("close");
    }
    let engine = Engine::open(config).await.expect("reopen");
    assert_eq!(
        engine.load_current_states().await.expect("load"),
        ["interfaces"]
    );
    assert!(
        engine
            .table_stats("interfaces")
            .expect("stats")
            .current_keys
            .is_some()
    );
    assert_states_match(&engine, &[now_us()]).await;
}

#[tokio::test]
async fn every_stored_file_is_in_the_order_it_declares() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.checkpoint_factor = 0.5;
    let engine = Engine::open(config).await.expect("open");
    write_history(&engine, &mut Lcg(3), 0..9).await;
    let files = engine.stored_files();
    assert!(files.iter().any(|f| f.kind == FileKind::Checkpoint));
    for file in files {
        assert_sorted(&dir.path().join(file.path.as_ref()));
    }
}

/// The file's rows are in the order of its declared sorting columns.
fn assert_sorted(path: &Path) {
    let bytes = bytes::Bytes::from(std::fs::read(path).expect("read"));
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).expect("parquet");
    let declared: Vec<usize> = builder.metadata().row_groups()[0]
        .sorting_columns()
        .expect("a declared order")
        .iter()
        .map(|c| c.column_idx as usize)
        .collect();
    let names: Vec<String> = declared
        .iter()
        .map(|i| builder.schema().field(*i).name().clone())
        .collect();
    assert_eq!(
        names,
        ["hostname", "ifname", "timestamp"],
        "{}",
        path.display()
    );
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("batch");
        let columns: Vec<ArrayRef> = declared.iter().map(|i| batch.column(*i).clone()).collect();
        let fields = columns
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect();
        let rows = RowConverter::new(fields)
            .expect("converter")
            .convert_columns(&columns)
            .expect("rows");
        for i in 1..rows.num_rows() {
            assert!(
                rows.row(i - 1) <= rows.row(i),
                "{} row {i} out of order",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn a_sorted_answer_stays_in_order_under_a_computed_projection() {
    use datafusion::functions::expr_fn::concat;
    use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
    use datafusion::physical_plan::ExecutionPlanProperties;

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(config(dir.path())).await.expect("open");
    for host in HOSTS {
        let rows: Vec<Row> = (0..6000)
            .map(|i| Row::new(&interfaces::TABLE, T0 + i).set("ifname", format!("swp{i:05}")))
            .collect();
        let batch = to_batch(&interfaces::TABLE, host, &rows).expect("batch");
        engine.append("interfaces", &batch).await.expect("append");
    }
    engine.flush().await.expect("flush");
    // NetQL's shape: a sort, then a projection that computes its columns.
    let plan = LogicalPlanBuilder::from(engine.state_at("interfaces", now_us()).expect("plan"))
        .sort(vec![
            col("hostname").sort(true, false),
            col("ifname").sort(true, false),
        ])
        .and_then(|b| b.project(vec![concat(vec![col("hostname"), lit("/"), col("ifname")])]))
        .and_then(|b| b.build())
        .expect("plan");
    // DataFusion spreads that projection over two partitions, each in order; read together
    // they may interleave, depending on which is polled first.
    let physical = engine.physical_plan(plan.clone()).await.expect("plan");
    assert_eq!(physical.output_partitioning().partition_count(), 1);
    let batches = engine.collect(plan).await.expect("run");
    let names: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let column = b
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>();
            let column = column.expect("text").clone();
            (0..column.len()).map(move |i| column.value(i).to_string())
        })
        .collect();
    assert_eq!(names.len(), 18_000);
    assert!(
        names.is_sorted(),
        "the rows come out in the order asked for"
    );
}
