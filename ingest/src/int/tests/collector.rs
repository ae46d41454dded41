//! The collector over the same hand-built datagrams: what lands in each table.

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};

use super::*;
use crate::int::{Collector, CollectorConfig};

const EXPORTER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 13));
/// 2026-11-20T12:00:00Z.
const NOW_US: i64 = 1_795_176_000_000_000;

fn drop_report(reason: u8) -> Vec<u8> {
    let drop = Bits::default()
        .put(32, 0xB012_E345)
        .put(16, 5)
        .put(16, 51)
        .put(8, 1)
        .put(8, u64::from(reason))
        .put(16, 0);
    let inner = ethernet(0x0800, &ipv4(6, &tcp(443, 51000, &[])));
    header_v0_5(0, 1, (1, 0, 0), 9, 5)
        .raw(&drop.done())
        .raw(&inner)
        .done()
}

fn take(collector: &mut Collector) -> Vec<(&'static str, RecordBatch)> {
    collector
        .take(NOW_US)
        .expect("batches build")
        .into_iter()
        .map(|(table, batch)| (table.name, batch))
        .collect()
}

fn batch<'a>(batches: &'a [(&str, RecordBatch)], table: &str) -> &'a RecordBatch {
    &batches
        .iter()
        .find(|(name, _)| *name == table)
        .unwrap_or_else(|| panic!("no {table} batch in {:?}", names(batches)))
        .1
}

fn names(batches: &[(&str, RecordBatch)]) -> Vec<String> {
    batches.iter().map(|(name, _)| name.to_string()).collect()
}

fn u32s(batch: &RecordBatch, column: &str) -> Vec<Option<u32>> {
    let array = batch.column_by_name(column).expect(column);
    array.as_primitive::<UInt32Type>().iter().collect()
}

fn u64s(batch: &RecordBatch, column: &str) -> Vec<Option<u64>> {
    let array = batch.column_by_name(column).expect(column);
    array.as_primitive::<UInt64Type>().iter().collect()
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch.column_by_name(column).expect(column);
    array
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn a_flow_report_is_a_report_row_and_a_hop_row_per_stack_entry_in_path_order() {
    let mut collector = Collector::new(CollectorConfig::default());
    collector.datagram(EXPORTER, NOW_US, &flow_report(7, 1_000));
    assert_eq!(collector.pending_reports(), 1);
    let batches = take(&mut collector);
    assert_eq!(names(&batches), ["int_reports", "int_hops", "int_loss"]);

    let reports = batch(&batches, "int_reports");
    assert_eq!(reports.num_rows(), 1);
    assert_eq!(strings(reports, "hostname"), [Some("10.0.0.13".into())]);
    assert_eq!(strings(reports, "report_type"), [Some("flow".into())]);
    assert_eq!(u64s(reports, "sequence"), [Some(7)]);
    assert_eq!(u32s(reports, "hop_count"), [Some(2)]);
    assert_eq!(strings(reports, "src_ip"), [Some("10.1.10.101".into())]);
    assert_eq!(u32s(reports, "dst_port"), [Some(4791)]);

    let hops = batch(&batches, "int_hops");
    // The wire puts the newest hop first; hop 0 is the first switch on the path.
    assert_eq!(u32s(hops, "hop"), [Some(1), Some(0)]);
    assert_eq!(
        u32s(hops, "switch_id"),
        [Some(0xB012_E345), Some(0xB012_E346)]
    );
    assert_eq!(u64s(hops, "hop_latency_ns"), [Some(700), Some(2_500)]);
    assert_eq!(u64s(hops, "queue_occupancy"), [Some(120), Some(10)]);

    let loss = batch(&batches, "int_loss");
    assert_eq!(
        (u64s(loss, "expected"), u64s(loss, "lost")),
        (vec![Some(1)], vec![Some(0)])
    );
}

#[test]
fn a_drop_report_names_its_reason_and_the_operator_may_rename_it() {
    let mut collector = Collector::new(CollectorConfig::default());
    collector.datagram(EXPORTER, NOW_US, &drop_report(60));
    collector.datagram(EXPORTER, NOW_US, &drop_report(200));
    let batches = take(&mut collector);
    let drops = batch(&batches, "int_drops");
    assert_eq!(u32s(drops, "drop_reason"), [Some(60), Some(200)]);
    assert_eq!(strings(drops, "reason"), [Some("ACL deny".into()), None]);
    assert_eq!(u32s(drops, "switch_id"), [Some(0xB012_E345); 2]);
    assert_eq!(u32s(drops, "egress_port"), [Some(51); 2]);

    let mut config = CollectorConfig::default();
    config.drop_reasons.name(200, "policer");
    config.drop_reasons.name(60, "tenant ACL");
    let mut collector = Collector::new(config);
    collector.datagram(EXPORTER, NOW_US, &drop_report(60));
    collector.datagram(EXPORTER, NOW_US, &drop_report(200));
    let batches = take(&mut collector);
    assert_eq!(
        strings(batch(&batches, "int_drops"), "reason"),
        [Some("tenant ACL".into()), Some("policer".into())]
    );
}

#[test]
fn loss_rows_count_each_interval_once_and_a_late_report_is_not_lost() {
    let mut collector = Collector::new(CollectorConfig::default());
    for sequence in [1, 2, 5, 4] {
        collector.datagram(EXPORTER, NOW_US, &flow_report(sequence, 1_000));
    }
    let first = take(&mut collector);
    let loss = batch(&first, "int_loss");
    // 3 may still come: it is pending, neither expected nor lost yet.
    assert_eq!(
        (
            u64s(loss, "expected"),
            u64s(loss, "lost"),
            u64s(loss, "reordered")
        ),
        (vec![Some(4)], vec![Some(0)], vec![Some(1)])
    );
    for sequence in 6..=100 {
        collector.datagram(EXPORTER, NOW_US, &flow_report(sequence, 1_000));
    }
    let second = take(&mut collector);
    let loss = batch(&second, "int_loss");
    assert_eq!(
        (
            u64s(loss, "expected"),
            u64s(loss, "received"),
            u64s(loss, "lost")
        ),
        (vec![Some(96)], vec![Some(95)], vec![Some(1)])
    );
    assert_eq!(u64s(loss, "last_sequence"), [Some(100)]);
    let quiet = take(&mut collector);
    assert!(quiet.is_empty(), "nothing moved: {:?}", names(&quiet));
}

#[test]
fn undecodable_datagrams_are_counted_per_exporter_and_reason() {
    let mut collector = Collector::new(CollectorConfig::default());
    let good = flow_report(1, 1_000);
    collector.datagram(EXPORTER, NOW_US, &good[..good.len() - 3]);
    collector.datagram(EXPORTER, NOW_US, &good[..good.len() - 3]);
    collector.datagram(EXPORTER, NOW_US, &[0xF0; 40]);
    collector.count_dropped("queue_full", 12, "the store could not keep up");
    assert_eq!(collector.stats().errors, 3);
    let batches = take(&mut collector);
    assert_eq!(names(&batches), ["int_errors"]);
    let errors = batch(&batches, "int_errors");
    let mut counted: Vec<_> = strings(errors, "hostname")
        .into_iter()
        .zip(strings(errors, "reason"))
        .zip(u64s(errors, "datagrams"))
        .map(|((host, reason), n)| (host.unwrap_or_default(), reason.unwrap_or_default(), n))
        .collect();
    counted.sort();
    assert_eq!(
        counted,
        [
            ("10.0.0.13".to_string(), "truncated".to_string(), Some(2)),
            (
                "10.0.0.13".to_string(),
                "unknown_version".to_string(),
                Some(1)
            ),
            ("local".to_string(), "queue_full".to_string(), Some(12)),
        ]
    );
}

#[test]
fn timestamps_are_rebuilt_across_a_wrap_of_their_32_bits() {
    const WRAP_NS: i64 = 1 << 32;
    // Received 100 ns after the low 32 bits wrapped; the packet entered 400 ns before that.
    let received_ns = (NOW_US * 1_000 / WRAP_NS + 1) * WRAP_NS + 100;
    let ingress_low = (received_ns - 400) as u32;
    assert!(
        ingress_low > u32::MAX - 1_000,
        "the ingress time is before the wrap"
    );
    let mut collector = Collector::new(CollectorConfig::default());
    collector.datagram(EXPORTER, received_ns / 1_000, &flow_report(1, ingress_low));
    let batches = take(&mut collector);
    let ingress = batch(&batches, "int_reports")
        .column_by_name("ingress_time")
        .expect("ingress_time")
        .as_primitive::<TimestampMicrosecondType>()
        .value(0);
    assert_eq!(ingress, (received_ns - 400).div_euclid(1_000));
    assert!(
        !batch(&batches, "int_reports")
            .column_by_name("ingress_time")
            .expect("ingress_time")
            .is_null(0)
    );
}
