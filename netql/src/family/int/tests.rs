//! The INT families and `check int` over a small fabric built by hand: leaf01 → spine01 →
//! leaf02 carrying one tracked flow, spine01's queue congested, leaf01 dropping, leaf02's
//! reports partly lost, and an exporter sending garbage.

use arrow::array::{Array, AsArray, RecordBatch};
use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
use sonde_schema::families::int::{
    CONGESTION, DROPS, ERRORS, HOPS, LOSS, REPORTS, switch_id_of_mac,
};
use sonde_schema::families::{addresses, interfaces};
use sonde_schema::row::Row;

use super::names::{mac_switch_key, switch_key};
use crate::plan::Catalog;
use crate::testing::MemCatalog;

/// 2026-11-20T12:00:00Z.
const NOW: i64 = 1_795_176_000_000_000;
const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;

const LEAF01: [u8; 6] = [0x44, 0x38, 0x39, 0x00, 0x00, 0x11];
const SPINE01: [u8; 6] = [0x44, 0x38, 0x39, 0x00, 0x00, 0x21];
const LEAF02: [u8; 6] = [0x44, 0x38, 0x39, 0x00, 0x00, 0x12];
/// A MAC both leaves hold (an MLAG pair's system MAC): it names neither.
const SHARED: [u8; 6] = [0x44, 0x38, 0x39, 0xff, 0x00, 0x01];
/// A switch no agent reports.
const STRANGER: u32 = 0x0a0b_0c0d;

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn id(mac: [u8; 6]) -> u32 {
    switch_id_of_mac(mac)
}

fn port(ifname: &str, mac: [u8; 6]) -> Row {
    Row::new(&interfaces::TABLE, NOW - 24 * HOUR)
        .set("ifname", ifname)
        .set("state", "up")
        .set("mac", mac_text(mac))
}

fn flow(row: Row) -> Row {
    row.set("src_ip", "10.1.1.10")
        .set("dst_ip", "10.1.2.20")
        .set("src_port", 5000u32)
        .set("dst_port", 80u32)
        .set("protocol", 6u32)
}

fn report(table: &'static sonde_schema::TableDef, at: i64, sequence: u64) -> Row {
    flow(Row::new(table, at))
        .set("hw_id", 1u32)
        .set("sequence", sequence)
}

/// One hop of leaf02's flow report `sequence`.
fn hop(at: i64, sequence: u64, index: u32, switch: u32, latency: u64, occupancy: u64) -> Row {
    report(&HOPS, at, sequence)
        .set("hop", index)
        .set("switch_id", switch)
        .set("local", false)
        .set("egress_port", 50 + index)
        .set("queue_id", 3u32)
        .set("queue_occupancy", occupancy)
        .set("hop_latency_ns", latency)
}

fn loss(at: i64, expected: u64, lost: u64) -> Row {
    Row::new(&LOSS, at)
        .set("hw_id", 1u32)
        .set("source", 0u32)
        .set("expected", expected)
        .set("received", expected - lost)
        .set("lost", lost)
        .set("reordered", 0u64)
        .set("duplicated", 0u64)
        .set("wraps", 0u64)
        .set("resets", 0u64)
}

/// The fabric's names and addresses, with no telemetry yet.
fn inventory() -> MemCatalog {
    let mut catalog = MemCatalog::default();
    catalog.add(
        &interfaces::TABLE,
        "leaf01",
        &[port("swp51", LEAF01), port("bond1", SHARED)],
    );
    catalog.add(&interfaces::TABLE, "spine01", &[port("swp1", SPINE01)]);
    catalog.add(
        &interfaces::TABLE,
        "leaf02",
        &[port("swp51", LEAF02), port("bond1", SHARED)],
    );
    for (host, address) in [
        ("leaf01", "10.0.0.11"),
        ("spine01", "10.0.0.21"),
        ("leaf02", "10.0.0.12"),
    ] {
        let lo = Row::new(&addresses::TABLE, NOW - 24 * HOUR)
            .set("ifname", "lo")
            .set("prefix", format!("{address}/32"))
            .set("family", "ipv4");
        catalog.add(&addresses::TABLE, host, &[lo]);
    }
    catalog
}

/// Ten minutes ago: two flow reports from leaf02 with their stacks (spine01 slow and full);
/// spine01's queue report; two of leaf01's drops; leaf02 lost 3 of 100 reports; a stranger's hop;
/// garbage from 10.0.0.99.
fn fabric() -> MemCatalog {
    let mut catalog = inventory();
    let t = NOW - 10 * MINUTE;
    let mut reports = Vec::new();
    let mut hops = Vec::new();
    for (sequence, at, spine_latency) in [(1u64, t, 4000u64), (2, t + 10_000_000, 3000)] {
        reports.push(
            report(&REPORTS, at, sequence)
                .set("version", 5u32)
                .set("report_type", "flow")
                .set("switch_id", id(LEAF02))
                .set("tracked", true)
                .set("dropped", false)
                .set("congested", false)
                .set("hop_count", 3u32),
        );
        hops.extend([
            hop(at, sequence, 0, id(LEAF01), 500, 10),
            hop(at, sequence, 1, id(SPINE01), spine_latency, 450),
            hop(at, sequence, 2, id(LEAF02), 300, 5),
            hop(at, sequence, 3, id(LEAF02), 300, 5).set("local", true),
        ]);
    }
    catalog.add(&REPORTS, "10.0.0.12", &reports);
    catalog.add(&HOPS, "10.0.0.12", &hops);
    let stranger = hop(t, 9, 0, STRANGER, 100, 1).set("hw_id", 2u32);
    catalog.add(&HOPS, "10.0.0.30", &[stranger]);
    let queue = report(&CONGESTION, t, 7)
        .set("switch_id", id(SPINE01))
        .set("egress_port", 51u32)
        .set("queue_id", 3u32)
        .set("queue_occupancy", 450u64)
        .set("hop_latency_ns", 5000u64);
    catalog.add(&CONGESTION, "10.0.0.21", &[queue]);
    let drops: Vec<Row> = (20..22)
        .map(|sequence| {
            report(&DROPS, t, sequence)
                .set("switch_id", id(LEAF01))
                .set("drop_reason", 60u32)
                .set("reason", "ACL deny")
        })
        .collect();
    catalog.add(&DROPS, "10.0.0.11", &drops);
    catalog.add(
        &LOSS,
        "10.0.0.12",
        &[loss(t, 60, 3), loss(t + MINUTE, 40, 0)],
    );
    catalog.add(&LOSS, "10.0.0.11", &[loss(t, 100, 0)]);
    let garbage = |at, datagrams: u64, detail: &str| {
        Row::new(&ERRORS, at)
            .set("reason", "truncated")
            .set("datagrams", datagrams)
            .set("collector", "0.0.0.0:31337")
            .set("detail", detail)
    };
    catalog.add(
        &ERRORS,
        "10.0.0.99",
        &[garbage(t, 2, "12 bytes"), garbage(t + MINUTE, 3, "9 bytes")],
    );
    catalog
}

/// The answer's lines, trailing spaces trimmed.
async fn lines(catalog: &MemCatalog, text: &str) -> Vec<String> {
    catalog
        .answer(text, NOW)
        .await
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect()
}

/// The words of each line after the header and its rule.
async fn rows(catalog: &MemCatalog, text: &str) -> Vec<Vec<String>> {
    let lines = lines(catalog, text).await;
    assert!(lines.len() >= 3, "{text}: {lines:?}");
    lines[3..]
        .iter()
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn strings(batch: &RecordBatch, column: usize) -> Vec<String> {
    let column = arrow::compute::cast(batch.column(column), &arrow::datatypes::DataType::Utf8)
        .expect("casts to text");
    let column = column.as_string::<i32>();
    (0..column.len())
        .map(|i| column.value(i).to_string())
        .collect()
}

#[tokio::test]
async fn a_macs_text_gives_the_switch_id_the_seeds_rule_does() {
    let macs = [
        LEAF01,
        SHARED,
        [0xb0, 0x12, 0x00, 0x00, 0xe3, 0x45],
        [0xff; 6],
    ];
    let rows = macs
        .iter()
        .map(|mac| vec![lit(mac_text(*mac).to_uppercase()), lit(id(*mac))])
        .collect();
    let plan = LogicalPlanBuilder::values(rows)
        .and_then(|b| {
            b.project(vec![
                mac_switch_key(col("column1")),
                switch_key(col("column2")),
            ])
        })
        .and_then(LogicalPlanBuilder::build)
        .expect("plans");
    let batches = MemCatalog::default().execute(plan).await.expect("runs");
    let (from_mac, from_id) = (strings(&batches[0], 0), strings(&batches[0], 1));
    assert_eq!(from_mac, from_id);
    assert_eq!(from_mac[2], "b012e345", "the seed's example");
}

#[tokio::test]
async fn hops_name_their_switches_at_the_statements_time() {
    let catalog = fabric();
    let lines = lines(&catalog, "show int hops").await;
    assert_eq!(lines[0], "Matching int hops records:");
    assert!(
        lines[1].starts_with("Hostname    Exporter   Received"),
        "{}",
        lines[1]
    );
    let rows = rows(&catalog, "show int hops").await;
    let hosts: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        hosts,
        [
            "leaf01",
            "spine01",
            "leaf02",
            "leaf02",
            "0x0a0b0c0d",
            "leaf01",
            "spine01",
            "leaf02",
            "leaf02"
        ]
    );
    assert_eq!(
        rows[1][1..],
        [
            "10.0.0.12",
            "2026-11-20T11:50:00Z",
            "10.1.1.10",
            "5000",
            "10.1.2.20",
            "80",
            "tcp",
            "1",
            "51",
            "4000",
            "3",
            "450"
        ]
    );
    // Before the agents reported their MACs, no switch has a name.
    let early = rows_of(&catalog, "show int hops around 2d").await;
    assert!(early.is_empty(), "no hops two days ago: {early:?}");
}

async fn rows_of(catalog: &MemCatalog, text: &str) -> Vec<Vec<String>> {
    let lines = lines(catalog, text).await;
    if lines.first().is_some_and(|l| l.starts_with("No matching")) {
        return Vec::new();
    }
    rows(catalog, text).await
}

#[tokio::test]
async fn hops_are_selected_by_switch_name_id_and_thresholds() {
    let catalog = fabric();
    let count = |text: &'static str| {
        let catalog = &catalog;
        async move { rows_of(catalog, text).await.len() }
    };
    assert_eq!(count("spine01 show int hops").await, 2);
    assert_eq!(count("spine* show int hops").await, 2);
    assert_eq!(count("show int hops spine01").await, 2);
    assert_eq!(count("show int hops 0x44380021").await, 2);
    assert_eq!(count("show int hops 1144520737").await, 2);
    assert_eq!(count("show int hops 0x0a0b0c0d").await, 1);
    assert_eq!(count("show int hops latency > 1000").await, 2);
    assert_eq!(count("show int hops latency >= 4000").await, 1);
    assert_eq!(
        count("show int hops occupancy > 300 latency < 3500").await,
        1
    );
    assert_eq!(count("leaf02 show int hops hop != 2").await, 2);
    assert_eq!(
        count("show int hops proto tcp dst_port 80 hop = 0").await,
        3
    );
    assert_eq!(count("show int hops src_ip 10.1.1.10 local true").await, 2);
    assert_eq!(count("show int hops around 1h").await, 0);
    assert_eq!(count("show int hops between 11m and 9m").await, 9);
    assert_eq!(count("show int hops between 9m55s and now").await, 4);
}

#[tokio::test]
async fn bad_filters_point_at_their_words() {
    let catalog = fabric();
    let error = catalog.answer("show int hops latency > fast", NOW).await;
    assert!(
        error.contains("`>` compares numbers, and `fast` is not one"),
        "{error}"
    );
    assert!(error.contains("                       ^^^^"), "{error}");
    let error = catalog.answer("show int hops src_ip > 5", NOW).await;
    assert!(error.contains("`src_ip` is not a number"), "{error}");
    let error = catalog.answer("show int hops colour red", NOW).await;
    assert!(
        error.contains("no field `colour` here; the fields are hostname"),
        "{error}"
    );
    assert!(error.contains("              ^^^^^^"), "{error}");
}

#[tokio::test]
async fn reports_drops_and_congestion_show_their_fields() {
    let catalog = fabric();
    let reports = rows(&catalog, "show int reports").await;
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[0][..6],
        [
            "leaf02",
            "10.0.0.12",
            "2026-11-20T11:50:00Z",
            "flow",
            "0.5",
            "F"
        ]
    );
    let drops = lines(&catalog, "leaf01 show int drops").await;
    assert_eq!(drops.len(), 5, "{drops:?}");
    assert!(drops[3].contains("60    ACL deny"), "{}", drops[3]);
    let congestion = rows(&catalog, "show int congestion occupancy > 300").await;
    assert_eq!(
        congestion[0][..7],
        [
            "spine01",
            "10.0.0.21",
            "2026-11-20T11:50:00Z",
            "51",
            "3",
            "450",
            "5000"
        ]
    );
}

#[tokio::test]
async fn loss_and_errors_sum_the_window() {
    let catalog = fabric();
    let loss = rows(&catalog, "show int loss").await;
    assert_eq!(
        loss,
        [
            [
                "leaf01",
                "10.0.0.11",
                "1",
                "100",
                "100",
                "0",
                "0.0",
                "0",
                "0",
                "0",
                "2026-11-20T11:50:00Z"
            ],
            [
                "leaf02",
                "10.0.0.12",
                "1",
                "100",
                "97",
                "3",
                "3.0",
                "0",
                "0",
                "0",
                "2026-11-20T11:51:00Z"
            ],
        ]
    );
    assert_eq!(rows_of(&catalog, "show int loss loss > 1").await.len(), 1);
    let first_minute = rows_of(&catalog, "show int loss between 11m and 10m").await;
    assert_eq!(first_minute[1][3..7], ["60", "57", "3", "5.0"]);
    // A row counts the interval it ends: the one ending at the window's start is not in it.
    assert!(
        rows_of(&catalog, "show int loss between 10m and 9m30s")
            .await
            .is_empty()
    );
    let errors = rows(&catalog, "show int errors").await;
    assert_eq!(
        errors,
        [[
            "10.0.0.99",
            "10.0.0.99",
            "truncated",
            "5",
            "9",
            "bytes",
            "2026-11-20T11:51:00Z"
        ]]
    );
}

#[tokio::test]
async fn flows_follow_their_newest_stack() {
    let mut catalog = fabric();
    // Spine01's queue report is newer, but its stack stops at spine01: not the flow's path.
    let later = NOW - 9 * MINUTE;
    let queue_report = report(&REPORTS, later, 8)
        .set("version", 5u32)
        .set("report_type", "queue")
        .set("switch_id", id(SPINE01))
        .set("congested", true)
        .set("hop_count", 1u32);
    catalog.add(&REPORTS, "10.0.0.21", &[queue_report]);
    let partial = [
        hop(later, 8, 0, id(LEAF01), 500, 10),
        hop(later, 8, 1, id(SPINE01), 9000, 800).set("local", true),
    ];
    catalog.add(&HOPS, "10.0.0.21", &partial);
    let flows = lines(&catalog, "show int flows").await;
    assert_eq!(
        flows[1]
            .split("  ")
            .filter(|h| !h.is_empty())
            .map(str::trim)
            .collect::<Vec<_>>(),
        [
            "Src IP",
            "Src Port",
            "Dst IP",
            "Dst Port",
            "Proto",
            "Path",
            "Reports",
            "Max Hop Latency (ns)",
            "Path Latency (ns)",
            "Last Report"
        ]
    );
    assert_eq!(
        flows[3].split_whitespace().collect::<Vec<_>>(),
        [
            "10.1.1.10",
            "5000",
            "10.1.2.20",
            "80",
            "tcp",
            "leaf01",
            ">",
            "spine01",
            ">",
            "leaf02",
            "3",
            "9000",
            "4800",
            "2026-11-20T11:51:00Z"
        ]
    );
    assert_eq!(rows_of(&catalog, "spine01 show int flows").await.len(), 1);
    assert_eq!(rows_of(&catalog, "leaf0* show int flows").await.len(), 1);
    assert_eq!(rows_of(&catalog, "spine02 show int flows").await.len(), 0);
    assert_eq!(rows_of(&catalog, "show int flows 10.1.2.20").await.len(), 1);
    assert_eq!(
        rows_of(&catalog, "show int flows path_latency > 5000")
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn check_int_fails_each_object_with_its_reason() {
    let catalog = fabric();
    let lines = lines(&catalog, "check int").await;
    assert_eq!(
        lines[0],
        "Total Nodes: 4, Failed Nodes: 3, Total Objects: 12, Failed Objects: 4"
    );
    let failures: Vec<&str> = lines[3..].iter().map(String::as_str).collect();
    assert_eq!(
        failures,
        [
            "leaf01   drop reason 60                  2 drop reports: ACL deny                        10m ago",
            "leaf02   reports from 10.0.0.12 hw_id 1  Telemetry loss 3.0% (3 of 100 reports) over 1%  9m ago",
            "spine01  hop latency                     Hop latency 4000 ns over 2048                   9m ago",
            "spine01  port 51 queue 3                 Queue occupancy 450 cells over 300              9m ago",
        ]
    );
    // Every queue seen is checked: the congested one and the four other hops' queues.
    let queues = catalog.answer("check int json", NOW).await;
    assert!(queues.contains("\"totalObjectCount\": 12"), "{queues}");
}

#[tokio::test]
async fn check_int_passes_a_quiet_window() {
    let mut catalog = inventory();
    let t = NOW - 10 * MINUTE;
    let fine = [
        hop(t, 1, 0, id(LEAF01), 500, 10),
        hop(t, 1, 1, id(SPINE01), 900, 40),
    ];
    catalog.add(&HOPS, "10.0.0.12", &fine);
    catalog.add(&LOSS, "10.0.0.12", &[loss(t, 1000, 5)]);
    let lines = lines(&catalog, "check int").await;
    assert_eq!(
        lines,
        ["Total Nodes: 3, Failed Nodes: 0, Total Objects: 5, Failed Objects: 0"]
    );
    let json = catalog.answer("check int json", NOW).await;
    assert!(json.contains("\"totalObjectCount\": 5"), "{json}");
    let empty = catalog.answer("check int around 2d", NOW).await;
    assert_eq!(
        empty.trim(),
        "Total Nodes: 0, Failed Nodes: 0, Total Objects: 0, Failed Objects: 0"
    );
}
