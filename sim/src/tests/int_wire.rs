//! The INT encoders, byte by byte at the offsets the layouts give each field, and the time
//! spans their schedule counts ticks over.

use std::net::Ipv4Addr;

use crate::int::spans::Spans;
use crate::int::{HopRecord, INT_DSCP, Kind, Packet, Protocol, Report, low32, v0_5, v1_0, v2_0};

const LEAF01: u32 = 0x4438_0002;
const SPINE01: u32 = 0x4438_0000;
const LEAF03: u32 = 0x4438_0004;
/// A time with bits above the 32 a v0.5 or v1.0 timestamp keeps.
const T0: u64 = 0x1_2345_6789;

fn hop(switch_id: u32, ingress_port: u16, egress_port: u16, ingress_ns: u64) -> HopRecord {
    HopRecord {
        switch_id,
        ingress_port,
        egress_port,
        latency_ns: 500,
        queue_id: 3,
        occupancy: 12,
        ingress_ns,
        egress_ns: ingress_ns + 500,
    }
}

fn packet(protocol: Protocol) -> Packet {
    Packet {
        src_mac: [0x44, 0x38, 0x39, 0, 0, 0],
        dst_mac: [0x44, 0x38, 0x39, 0, 0, 4],
        src: Ipv4Addr::new(10, 1, 10, 101),
        dst: Ipv4Addr::new(10, 1, 30, 103),
        src_port: 49152,
        dst_port: 5201,
        protocol,
        dscp: 26,
        ttl: 62,
        ip_id: 7,
        tcp_seq: 0xDEAD_BEEF,
        payload: 1200,
    }
}

/// leaf03's flow report of a packet from leaf01 by spine01: three hops, newest first.
fn flow_report(protocol: Protocol) -> Report {
    let sink = hop(LEAF03, 51, 1, T0 + 2_000);
    Report {
        kind: Kind::Flow,
        local: sink,
        stack: vec![sink, hop(SPINE01, 1, 3, T0 + 1_000), hop(LEAF01, 1, 51, T0)],
        packet: packet(protocol),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks an IPv4 header at `at` and the UDP header and v1.0 stack after it, of
/// `flow_report(Udp)`; returns where the first hop starts.
fn check_udp_with_v1_0_stack(d: &[u8], at: usize) -> usize {
    assert_eq!(d[at], 0x45, "IPv4, 5 words");
    assert_eq!(d[at + 1], INT_DSCP << 2, "INT's DSCP marks the stack");
    let stack_len = 12 + 3 * 24;
    assert_eq!(usize::from(u16_at(d, at + 2)), 20 + 8 + stack_len + 1200);
    assert_eq!(u16_at(d, at + 4), 7, "identification");
    assert_eq!(u16_at(d, at + 6), 0x4000, "don't fragment");
    assert_eq!((d[at + 8], d[at + 9]), (62, 17), "TTL and UDP");
    let header_sum: u32 = (0..10).map(|w| u32::from(u16_at(d, at + 2 * w))).sum();
    assert_eq!((header_sum % 0xFFFF), 0, "the header checksum adds up");
    assert_eq!(&d[at + 12..at + 16], &[10, 1, 10, 101]);
    assert_eq!(&d[at + 16..at + 20], &[10, 1, 30, 103]);
    let udp = at + 20;
    assert_eq!((u16_at(d, udp), u16_at(d, udp + 2)), (49152, 5201));
    assert_eq!(usize::from(u16_at(d, udp + 4)), 8 + stack_len + 1200);
    let shim = udp + 8;
    assert_eq!(&d[shim..shim + 4], &[1, 0, 3 + 3 * 6, 26 << 2], "shim");
    assert_eq!(d[shim + 4], 0x10, "INT v1.0, no flags");
    assert_eq!(d[shim + 6] & 0x1F, 6, "six words a hop");
    assert_eq!(d[shim + 7], 8 - 3, "remaining hops");
    assert_eq!(u16_at(d, shim + 8), 0xFC00, "instructions 0-5");
    assert_eq!(d.len(), shim + stack_len, "the payload is truncated away");
    shim + 12
}

#[test]
fn a_v0_5_flow_report_field_by_field() {
    let d = v0_5(&flow_report(Protocol::Udp), 1, 0x0102_0304);
    assert_eq!(d[0], 0x00, "Ver 0, NProto 0: Ethernet follows");
    assert_eq!(d[1], 0b0010_0000, "F only");
    assert_eq!((d[2], d[3]), (0, 1), "reserved, hw_id 1");
    assert_eq!(u32_at(&d, 4), 0x0102_0304, "sequence");
    assert_eq!(
        u32_at(&d, 8),
        low32(T0 + 2_000),
        "the sink's ingress, low 32 bits"
    );
    assert_eq!(&d[12..18], &[0x44, 0x38, 0x39, 0, 0, 4], "to the sink");
    assert_eq!(&d[18..24], &[0x44, 0x38, 0x39, 0, 0, 0], "from the spine");
    assert_eq!(u16_at(&d, 24), 0x0800);
    let first = check_udp_with_v1_0_stack(&d, 26);
    let switch_ids: Vec<u32> = (0..3).map(|h| u32_at(&d, first + 24 * h)).collect();
    assert_eq!(switch_ids, [LEAF03, SPINE01, LEAF01], "newest hop first");
    let spine = first + 24;
    assert_eq!(
        (u16_at(&d, spine + 4), u16_at(&d, spine + 6)),
        (1, 3),
        "ports"
    );
    assert_eq!(u32_at(&d, spine + 8), 500, "hop latency");
    assert_eq!(u32_at(&d, spine + 12), 3 << 24 | 12, "queue 3, 12 cells");
    assert_eq!(u32_at(&d, spine + 16), low32(T0 + 1_000), "ingress");
    assert_eq!(u32_at(&d, spine + 20), low32(T0 + 1_500), "egress");
}

#[test]
fn v0_5_drop_and_switch_local_headers() {
    let mut drop = flow_report(Protocol::Tcp);
    drop.kind = Kind::Drop(60);
    drop.local = hop(LEAF01, 2, 52, T0);
    drop.stack.clear();
    let d = v0_5(&drop, 1, 9);
    assert_eq!((d[0], d[1]), (0x01, 0b1010_0000), "NProto 1, D and F");
    assert_eq!(u32_at(&d, 12), LEAF01);
    assert_eq!((u16_at(&d, 16), u16_at(&d, 18)), (2, 52));
    assert_eq!(
        (d[20], d[21], u16_at(&d, 22)),
        (3, 60, 0),
        "queue, reason, pad"
    );
    assert_eq!(
        u16_at(&d, 24 + 12),
        0x0800,
        "Ethernet after the drop header"
    );
    let ip = 24 + 14;
    assert_eq!(
        (d[ip + 1], d[ip + 9]),
        (26 << 2, 6),
        "no stack: the sender's DSCP; TCP"
    );
    assert_eq!(d[ip + 20 + 12] >> 4, 5, "a 20-byte TCP header");
    assert_eq!(d.len(), ip + 40);

    let mut queue = flow_report(Protocol::Udp);
    queue.kind = Kind::Queue;
    queue.local = HopRecord {
        occupancy: 0x00_0456,
        ..hop(SPINE01, 1, 3, T0 + 1_000)
    };
    queue.stack = vec![hop(LEAF01, 1, 51, T0)];
    let d = v0_5(&queue, 1, 10);
    assert_eq!((d[0], d[1]), (0x02, 0b0110_0000), "NProto 2, Q and F");
    assert_eq!(u32_at(&d, 12), SPINE01);
    assert_eq!((u16_at(&d, 16), u16_at(&d, 18)), (1, 3));
    assert_eq!(u32_at(&d, 20), 3 << 24 | 0x456, "queue 3, occupancy");
    assert_eq!(u32_at(&d, 24), low32(T0 + 1_500), "egress timestamp");
    assert_eq!(
        u16_at(&d, 28 + 12),
        0x0800,
        "Ethernet after the switch local header"
    );
}

#[test]
fn a_v1_0_report_field_by_field() {
    let flow = v1_0(&flow_report(Protocol::Udp), 1, 77);
    let word = u32_at(&flow, 0);
    assert_eq!(word >> 28, 1, "Ver 1");
    assert_eq!(word >> 24 & 0xF, 4, "four words, no metadata");
    assert_eq!(word >> 21 & 0x7, 0, "NProto 0: Ethernet");
    assert_eq!(word >> 15 & 0x3F, 0, "RepMdBits");
    assert_eq!(word >> 6 & 0x7, 0b001, "F");
    assert_eq!(word & 0x3F, 1, "hw_id");
    assert_eq!((u32_at(&flow, 4), u32_at(&flow, 8)), (LEAF03, 77));
    assert_eq!(u32_at(&flow, 12), low32(T0 + 2_000));
    assert_eq!(u16_at(&flow, 16 + 12), 0x0800);
    check_udp_with_v1_0_stack(&flow, 16 + 14);

    let mut queue = flow_report(Protocol::Udp);
    queue.kind = Kind::Queue;
    queue.local = hop(SPINE01, 1, 3, T0 + 1_000);
    let d = v1_0(&queue, 1, 78);
    let word = u32_at(&d, 0);
    assert_eq!(word >> 24 & 0xF, 8, "four fixed words and four of metadata");
    assert_eq!(
        word >> 15 & 0x3F,
        0b11_1100,
        "ports, latency, queue, egress time"
    );
    assert_eq!(word >> 6 & 0x7, 0b011, "Q and F");
    assert_eq!(u32_at(&d, 16), 1 << 16 | 3, "ports");
    assert_eq!(u32_at(&d, 20), 500, "latency");
    assert_eq!(u32_at(&d, 24), 3 << 24 | 12, "queue");
    assert_eq!(u32_at(&d, 28), low32(T0 + 1_500), "egress time");

    let mut drop = flow_report(Protocol::Udp);
    drop.kind = Kind::Drop(51);
    drop.local = hop(LEAF01, 1, 51, T0);
    drop.stack.clear();
    let d = v1_0(&drop, 1, 79);
    let word = u32_at(&d, 0);
    assert_eq!(word >> 15 & 0x3F, 0b10_0010, "ports and drop reason");
    assert_eq!(word >> 6 & 0x7, 0b101, "D and F");
    assert_eq!(
        (u32_at(&d, 16), u32_at(&d, 20)),
        (1 << 16 | 51, 3 << 24 | 51 << 16)
    );
}

#[test]
fn a_v2_0_group_field_by_field() {
    let mut queue = flow_report(Protocol::Udp);
    queue.kind = Kind::Queue;
    queue.local = hop(SPINE01, 1, 3, T0 + 1_000);
    queue.stack = vec![hop(LEAF01, 1, 51, T0)];
    let d = v2_0(&[flow_report(Protocol::Udp), queue], 1, 0x40_0005, SPINE01);
    assert_eq!(
        u32_at(&d, 0),
        2 << 28 | 1 << 22 | 5,
        "Ver 2, hw_id 1, 22 bits of sequence"
    );
    assert_eq!(u32_at(&d, 4), SPINE01, "node id");
    let flow = 8;
    let md_words = 2 + 2;
    let inner_words = (20 + 8 + 16 + 3 * 32) / 4;
    assert_eq!(d[flow], 0x14, "INT report of an IPv4 packet");
    assert_eq!(
        usize::from(d[flow + 1]),
        md_words + inner_words,
        "report length"
    );
    assert_eq!(usize::from(d[flow + 2]), md_words, "metadata length");
    assert_eq!(d[flow + 3], 0b0010_0000, "F");
    assert_eq!(u16_at(&d, flow + 4), 0x0800, "RepMdBits: ingress timestamp");
    assert_eq!(
        u32_at(&d, flow + 12),
        ((T0 + 2_000) >> 32) as u32,
        "64-bit ingress time"
    );
    assert_eq!(u32_at(&d, flow + 16), low32(T0 + 2_000));
    let ip = flow + 4 + 4 * md_words;
    assert_eq!((d[ip], d[ip + 9]), (0x45, 17));
    let shim = ip + 28;
    assert_eq!(
        (d[shim], d[shim + 1]),
        (0x10, 3 + 3 * 8),
        "INT-MD, Length past the shim"
    );
    assert_eq!(
        (d[shim + 4] >> 4, d[shim + 6] & 0x1F),
        (2, 8),
        "v2.1, 8 words a hop"
    );
    assert_eq!(u32_at(&d, shim + 16), LEAF03, "the newest hop first");
    assert_eq!(
        u32_at(&d, shim + 16 + 16),
        ((T0 + 2_000) >> 32) as u32,
        "64-bit times"
    );

    let second = flow + 4 + 4 * (md_words + inner_words);
    assert_eq!(
        d[second + 2],
        2 + 7,
        "ports, latency, queue and two 64-bit times"
    );
    assert_eq!(d[second + 3], 0b0110_0000, "Q and F");
    assert_eq!(u16_at(&d, second + 4), 0x7C00);
    assert_eq!(u32_at(&d, second + 12), 1 << 16 | 3);
    let inner = 20 + 8 + 16 + 32;
    assert_eq!(
        d.len(),
        second + 4 + 4 * 9 + inner,
        "the reports tile the datagram"
    );
}

#[test]
fn spans_count_the_ticks_they_hold() {
    let spans = Spans::of([(100, 250), (240, 400), (1_000, 1_001), (5, 5)]);
    assert!(spans.contains(100) && spans.contains(399) && !spans.contains(400));
    assert!(spans.contains(1_000) && !spans.contains(1_001) && !spans.contains(5));
    let (first, period) = (7, 30);
    for before in [0, 7, 100, 101, 399, 400, 1_000, 1_001, 5_000] {
        let brute = (0..200)
            .map(|k| first + k * period)
            .filter(|&t| t < before && spans.contains(t))
            .count() as u64;
        assert_eq!(
            spans.ticks_before(first, period, before),
            brute,
            "before {before}"
        );
    }
    let other = Spans::between(200, 1_000);
    assert_eq!(spans.intersect(&other), Spans::of([(200, 400)]));
    assert_eq!(spans.minus(&other), Spans::of([(100, 200), (1_000, 1_001)]));
    assert_eq!(spans.union(&other), Spans::of([(100, 1_001)]));
    assert!(Spans::since(10).minus(&Spans::since(0)).is_empty());
}
