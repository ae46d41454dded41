//! INT decode throughput on one core: Telemetry Report datagrams decoded into a reused
//! `Report` (no Arrow yet), for single-hop and 5-hop v0.5 flow reports and a v2.0 group of two
//! reports. `cargo bench -p sonde-ingest --bench int_decode [-- REPORTS]`.
//!
//! The datagrams are written here byte by byte, as a switch sends them: Ethernet, IPv4, UDP and
//! a v0.5 INT-MD stack of switch id, ports, hop latency and queue per hop.

use std::hint::black_box;
use std::time::Instant;

use sonde_ingest::int::{Report, decode};

const DISTINCT: u32 = 1024;

fn be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn ethernet_ipv4_udp(out: &mut Vec<u8>, payload: usize, flow: u32) {
    out.extend_from_slice(&[
        0x44, 0x38, 0x39, 0, 0, 1, 0x44, 0x38, 0x39, 0, 0, 2, 0x08, 0x00,
    ]);
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&((20 + 8 + payload) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]);
    be32(out, 0x0A01_0A00 | (flow & 0xFF));
    be32(out, 0x0A01_1468);
    out.extend_from_slice(&(40_000 + (flow % 1000) as u16).to_be_bytes());
    out.extend_from_slice(&4791u16.to_be_bytes());
    out.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
}

fn stack_v0_5(out: &mut Vec<u8>, hops: u32) {
    be32(out, 0x0100_0000 | (3 + hops * 4 + 1) << 8);
    be32(out, 4 << 16 | 8 << 8 | hops);
    be32(out, 0xF000_0000);
    for hop in 0..hops {
        be32(out, 0xB012_E300 + hop);
        be32(out, (1 + hop) << 16 | 49);
        be32(out, 700 + hop * 10);
        be32(out, 2 << 24 | 120);
    }
    be32(out, 17 << 24 | 4789 << 8);
}

fn v0_5(sequence: u32, hops: u32) -> Vec<u8> {
    let mut out = Vec::new();
    be32(&mut out, 0x0020_0000 | 3);
    be32(&mut out, sequence);
    be32(&mut out, sequence.wrapping_mul(977));
    ethernet_ipv4_udp(&mut out, (hops as usize * 4 + 4) * 4, sequence);
    stack_v0_5(&mut out, hops);
    out
}

/// A v2.0 group: two INT reports with ports and queue metadata over IPv4/UDP packets.
fn v2_0(sequence: u32) -> Vec<u8> {
    let mut out = Vec::new();
    be32(&mut out, 2 << 28 | 9 << 22 | (sequence & 0x3F_FFFF));
    be32(&mut out, 0xB012_E345);
    for flow in [sequence, sequence + 1] {
        let inner: usize = 14 + 20 + 8;
        let padded = inner.div_ceil(4) * 4;
        let md = 2 + 2;
        be32(
            &mut out,
            1 << 28 | 3 << 24 | (md + padded as u32 / 4) << 16 | md << 8 | 0x20,
        );
        be32(&mut out, 0x5000 << 16);
        be32(&mut out, 0);
        be32(&mut out, 3 << 16 | 4);
        be32(&mut out, 1 << 24 | 500);
        let start = out.len();
        ethernet_ipv4_udp(&mut out, 0, flow);
        out.resize(start + padded, 0);
    }
    out
}

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
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "  {name:<28} {:>6.2} M reports/s   ({decoded} reports, {} B datagrams, {seconds:.2} s)",
        decoded as f64 / seconds / 1e6,
        datagrams[0].len()
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
}
