//! INT decode throughput on one core, for single-hop and 5-hop v0.5 flow reports and a v2.0
//! group of two reports: decoded into a reused `Report` alone, then by the collector into the
//! INT tables' Arrow builders (the receiver's whole path but the socket).
//! `cargo bench -p sonde-ingest --bench int_decode [-- REPORTS]`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use sonde_ingest::int::{Collector, CollectorConfig, Report, decode};
use sonde_ingest::testing::int::{v0_5, v2_0};

const DISTINCT: u32 = 1024;

fn measure(name: &str, datagrams: &[Vec<u8>], reports: usize) {
    let mut report = Report::default();
    let mut decoded = 0usize;
    let start = Instant::now();
    let mut i = 0;
    while decoded < reports {
        let datagram = &datagrams[i % datagrams.len()];
        decoded += decode(datagram, &mut report, &mut |r| {
            black_box(r.hops().len());
        })
        .expect("a valid datagram");
        i += 1;
    }
    print_rate(
        name,
        decoded,
        start.elapsed().as_secs_f64(),
        datagrams[0].len(),
    );
}

/// The receiver's path: the collector decodes into the INT tables' Arrow builders and finishes
/// a batch every 16,384 reports, as a receive thread hands them over.
fn measure_into_arrow(name: &str, datagrams: &[Vec<u8>], reports: usize) {
    let mut collector = Collector::new(CollectorConfig::default());
    let exporter = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 13));
    let received_us = 1_795_176_000_000_000;
    let mut rows = 0usize;
    let start = Instant::now();
    let mut i = 0;
    while (collector.stats().reports as usize) < reports {
        collector.datagram(exporter, received_us, &datagrams[i % datagrams.len()]);
        if collector.pending_reports() >= 16_384 {
            rows += finish(&mut collector, received_us);
        }
        i += 1;
    }
    rows += finish(&mut collector, received_us);
    let decoded = collector.stats().reports as usize;
    assert_eq!(collector.stats().errors, 0, "every datagram decodes");
    print_rate(
        name,
        decoded,
        start.elapsed().as_secs_f64(),
        datagrams[0].len(),
    );
    black_box(rows);
}

fn finish(collector: &mut Collector, at_us: i64) -> usize {
    let tables = collector.take(at_us).expect("batches build");
    tables.iter().map(|(_, batch)| batch.num_rows()).sum()
}

fn print_rate(name: &str, reports: usize, seconds: f64, bytes: usize) {
    println!(
        "  {name:<28} {:>6.2} M reports/s   ({reports} reports, {bytes} B datagrams, {seconds:.2} s)",
        reports as f64 / seconds / 1e6,
    );
}

fn main() {
    let reports: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    println!("INT decode, one core, into a reused Report (target ≥ 3 M/s for single-hop v0.5):");
    let one_hop: Vec<_> = (0..DISTINCT).map(|s| v0_5(s, 1)).collect();
    let five_hops: Vec<_> = (0..DISTINCT).map(|s| v0_5(s, 5)).collect();
    let groups: Vec<_> = (0..DISTINCT).map(v2_0).collect();
    measure("v0.5, 1 hop", &one_hop, reports);
    measure("v0.5, 5 hops", &five_hops, reports);
    measure("v2.0, 2 reports per group", &groups, reports);
    println!("INT decode into Arrow, one core (the collector: every INT table's builders):");
    measure_into_arrow("v0.5, 1 hop", &one_hop, reports);
    measure_into_arrow("v0.5, 5 hops", &five_hops, reports);
    measure_into_arrow("v2.0, 2 reports per group", &groups, reports);
}
