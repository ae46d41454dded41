//! Byte-exact vectors for every version, built here field by field from the layouts of the
//! P4.org specifications (not by the code under test), and the errors of broken ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

mod capture;
mod collector;
mod fuzz;
mod receiver;

/// Packs fields most significant bit first, as the specifications draw them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl Bits {
    fn put(mut self, width: u32, value: u64) -> Self {
        assert!(
            width <= 32 && value < 1u64 << width,
            "{value} in {width} bits"
        );
        self.acc = self.acc << width | value;
        self.pending += width;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
        self.acc &= (1u64 << self.pending) - 1;
        self
    }

    fn raw(mut self, bytes: &[u8]) -> Self {
        assert_eq!(self.pending, 0, "raw bytes start on a byte boundary");
        self.bytes.extend_from_slice(bytes);
        self
    }

    fn done(self) -> Vec<u8> {
        assert_eq!(self.pending, 0, "a whole number of bytes");
        self.bytes
    }
}

const SRC: Ipv4Addr = Ipv4Addr::new(10, 1, 10, 101);
const DST: Ipv4Addr = Ipv4Addr::new(10, 1, 20, 104);

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    Bits::default()
        .raw(&[0x44, 0x38, 0x39, 0x00, 0x00, 0x01])
        .raw(&[0x44, 0x38, 0x39, 0x00, 0x00, 0x02])
        .put(16, u64::from(ethertype))
        .raw(payload)
        .done()
}

fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
    Bits::default()
        .put(4, 4)
        .put(4, 5)
        .put(8, 0)
        .put(16, 20 + payload.len() as u64)
        .put(16, 1)
        .put(16, 0x4000)
        .put(8, 64)
        .put(8, u64::from(protocol))
        .put(16, 0)
        .raw(&SRC.octets())
        .raw(&DST.octets())
        .raw(payload)
        .done()
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    Bits::default()
        .put(4, 6)
        .put(8, 0)
        .put(20, 0)
        .put(16, payload.len() as u64)
        .put(8, u64::from(next))
        .put(8, 64)
        .raw(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets())
        .raw(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets())
        .raw(payload)
        .done()
}

fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    Bits::default()
        .put(16, u64::from(src_port))
        .put(16, u64::from(dst_port))
        .put(16, 8 + payload.len() as u64)
        .put(16, 0)
        .raw(payload)
        .done()
}

fn tcp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    Bits::default()
        .put(16, u64::from(src_port))
        .put(16, u64::from(dst_port))
        .put(32, 1)
        .put(32, 0)
        .put(4, 5)
        .put(12, 0x018)
        .put(16, 65535)
        .put(16, 0)
        .put(16, 0)
        .raw(payload)
        .done()
}

/// A v0.5 INT-MD stack: switch id, ports, hop latency and queue for each hop (bits 0-3).
fn stack_v0_5(hops: &[(u32, u16, u16, u32, u8, u32)], max_hops: u64) -> Vec<u8> {
    let instructions = 4;
    let mut b = Bits::default()
        .put(8, 1)
        .put(8, 0)
        .put(8, 3 + hops.len() as u64 * instructions + 1)
        .put(8, 0)
        .put(4, 0)
        .put(2, 0)
        .put(1, 0)
        .put(1, 0)
        .put(3, 0)
        .put(5, instructions)
        .put(8, max_hops)
        .put(8, hops.len() as u64)
        .put(16, 0xF000)
        .put(16, 0);
    for &(switch, ingress, egress, latency, queue, occupancy) in hops {
        b = b
            .put(32, u64::from(switch))
            .put(16, u64::from(ingress))
            .put(16, u64::from(egress))
            .put(32, u64::from(latency))
            .put(8, u64::from(queue))
            .put(24, u64::from(occupancy));
    }
    b.put(8, 17).put(16, 4789).put(8, 0).done()
}

/// The seed's v0.5 header: `Ver | NProto | D | Q | F | Reserved | hw_id`, sequence, timestamp.
fn header_v0_5(version: u64, next: u64, dqf: (u64, u64, u64), sequence: u32, ts: u32) -> Bits {
    Bits::default()
        .put(4, version)
        .put(4, next)
        .put(1, dqf.0)
        .put(1, dqf.1)
        .put(1, dqf.2)
        .put(15, 0)
        .put(6, 3)
        .put(32, u64::from(sequence))
        .put(32, u64::from(ts))
}

const TWO_HOPS: [(u32, u16, u16, u32, u8, u32); 2] = [
    (0xB012_E345, 1, 49, 700, 2, 120),
    (0xB012_E346, 51, 3, 2_500, 0, 10),
];

fn flow_report_v0_5(version: u64) -> Vec<u8> {
    let inner = ethernet(
        0x0800,
        &ipv4(17, &udp(40000, 4791, &stack_v0_5(&TWO_HOPS, 8))),
    );
    header_v0_5(version, 0, (0, 0, 1), 7, 1_000)
        .raw(&inner)
        .done()
}

/// A v0.5 flow report over the two-hop stack, numbered `sequence`, entered at `ts`.
fn flow_report(sequence: u32, ts: u32) -> Vec<u8> {
    let inner = ethernet(
        0x0800,
        &ipv4(17, &udp(40000, 4791, &stack_v0_5(&TWO_HOPS, 8))),
    );
    header_v0_5(0, 0, (0, 0, 1), sequence, ts)
        .raw(&inner)
        .done()
}

fn decode_one(datagram: &[u8]) -> Result<Report, DecodeError> {
    let mut report = Report::default();
    let mut seen = Vec::new();
    let count = decode(datagram, &mut report, &mut |r| seen.push(r.clone()))?;
    assert_eq!(count, 1);
    assert_eq!(seen.len(), 1);
    Ok(seen.remove(0))
}

fn decode_all(datagram: &[u8]) -> Result<Vec<Report>, DecodeError> {
    let mut report = Report::default();
    let mut seen = Vec::new();
    decode(datagram, &mut report, &mut |r| seen.push(r.clone()))?;
    Ok(seen)
}

fn udp_flow(src_port: u16, dst_port: u16) -> Option<Flow> {
    Some(Flow {
        src: IpAddr::V4(SRC),
        dst: IpAddr::V4(DST),
        src_port,
        dst_port,
        protocol: 17,
    })
}

#[test]
fn v0_5_flow_report_with_an_int_stack() {
    for version in [0, 1] {
        let report = decode_one(&flow_report_v0_5(version)).expect("decodes");
        assert_eq!(report.version, Version::V0_5, "version field {version}");
        assert_eq!(report.kind, ReportKind::Flow);
        assert_eq!((report.hw_id, report.sequence), (3, 7));
        assert_eq!(report.ingress_ts, Some(1_000));
        assert!(report.tracked_flow && !report.dropped && !report.congested);
        assert_eq!(report.flow, udp_flow(40000, 4791));
        let hops = report.hops();
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].switch_id, Some(0xB012_E345));
        assert_eq!(
            (hops[0].ingress_port, hops[0].egress_port),
            (Some(1), Some(49))
        );
        assert_eq!(hops[0].hop_latency_ns, Some(700));
        assert_eq!(
            (hops[0].queue_id, hops[0].queue_occupancy),
            (Some(2), Some(120))
        );
        assert_eq!(hops[1].switch_id, Some(0xB012_E346));
        assert_eq!(hops[1].hop_latency_ns, Some(2_500));
    }
}

#[test]
fn v0_5_drop_report() {
    let drop = Bits::default()
        .put(32, 0xB012_E345)
        .put(16, 5)
        .put(16, 51)
        .put(8, 1)
        .put(8, 60)
        .put(16, 0);
    let inner = ethernet(0x0800, &ipv4(6, &tcp(443, 51000, &[])));
    let datagram = header_v0_5(0, 1, (1, 0, 0), 9, 5)
        .raw(&drop.done())
        .raw(&inner)
        .done();
    let report = decode_one(&datagram).expect("decodes");
    assert_eq!(report.kind, ReportKind::Drop);
    assert_eq!(report.switch_id, Some(0xB012_E345));
    assert_eq!(report.drop_reason, Some(60));
    assert_eq!(
        (
            report.local.ingress_port,
            report.local.egress_port,
            report.local.queue_id
        ),
        (Some(5), Some(51), Some(1))
    );
    assert_eq!(
        report.flow.map(|f| (f.src_port, f.dst_port, f.protocol)),
        Some((443, 51000, 6))
    );
    assert!(report.hops().is_empty());
}

#[test]
fn v0_5_switch_local_queue_report_latency_across_a_timestamp_wrap() {
    let local = Bits::default()
        .put(32, 0x0A0B_0C0D)
        .put(16, 2)
        .put(16, 52)
        .put(8, 3)
        .put(24, 4_000)
        .put(32, 0x100);
    let inner = ethernet(0x0800, &ipv4(17, &udp(1, 2, &[0; 4])));
    let datagram = header_v0_5(0, 2, (0, 1, 0), 10, 0xFFFF_FF00)
        .raw(&local.done())
        .raw(&inner)
        .done();
    let report = decode_one(&datagram).expect("decodes");
    assert_eq!(report.kind, ReportKind::Queue);
    assert_eq!(report.local.queue_occupancy, Some(4_000));
    assert_eq!(report.local.queue_id, Some(3));
    assert_eq!(report.local.hop_latency_ns, Some(0x200));
}

#[test]
fn v0_5_behind_vlan_tags_and_over_ipv6() {
    let tagged = Bits::default()
        .put(16, 0x8100)
        .put(16, 20)
        .put(16, 0x86DD)
        .raw(&ipv6(17, &udp(7, 8, &[])))
        .done();
    let datagram = header_v0_5(0, 0, (0, 0, 1), 1, 1)
        .raw(&ethernet(
            0x88A8,
            &Bits::default().put(16, 100).raw(&tagged).done(),
        ))
        .done();
    let report = decode_one(&datagram).expect("decodes");
    let flow = report.flow.expect("a flow");
    assert_eq!(
        flow.dst,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2))
    );
    assert_eq!((flow.src_port, flow.dst_port), (7, 8));
}

/// v1.0 with ports, hop latency and queue metadata (RepMdBits 111000), an IPv4 inner packet
/// (NProto 1) over TCP carrying a v1.0 stack of switch ids and hop latencies.
fn report_v1_0() -> Vec<u8> {
    let stack = Bits::default()
        .put(8, 1)
        .put(8, 0)
        .put(8, 3 + 2 * 2)
        .put(6, 0)
        .put(2, 0)
        .put(4, 1)
        .put(2, 0)
        .put(1, 0)
        .put(1, 0)
        .put(1, 0)
        .put(10, 0)
        .put(5, 2)
        .put(8, 6)
        .put(16, 0xA000)
        .put(16, 0)
        .put(32, 21)
        .put(32, 300)
        .put(32, 11)
        .put(32, 0xFFFF_FFFF)
        .done();
    Bits::default()
        .put(4, 1)
        .put(4, 4 + 3)
        .put(3, 1)
        .put(6, 0b111000)
        .put(6, 0)
        .put(1, 0)
        .put(1, 0)
        .put(1, 1)
        .put(6, 5)
        .put(32, 0xB012_E345)
        .put(32, 42)
        .put(32, 77)
        .put(16, 4)
        .put(16, 50)
        .put(32, 1_234)
        .put(8, 7)
        .put(24, 99)
        .raw(&ipv4(6, &tcp(5000, 80, &stack)))
        .done()
}

#[test]
fn v1_0_report_with_metadata_and_a_v1_0_stack() {
    let report = decode_one(&report_v1_0()).expect("decodes");
    assert_eq!(report.version, Version::V1_0);
    assert_eq!(
        (report.hw_id, report.sequence, report.switch_id),
        (5, 42, Some(0xB012_E345))
    );
    assert_eq!(report.ingress_ts, Some(77));
    assert_eq!(
        (report.local.ingress_port, report.local.egress_port),
        (Some(4), Some(50))
    );
    assert_eq!(report.local.hop_latency_ns, Some(1_234));
    assert_eq!(
        (report.local.queue_id, report.local.queue_occupancy),
        (Some(7), Some(99))
    );
    assert_eq!(
        report.flow.map(|f| (f.src_port, f.dst_port, f.protocol)),
        Some((5000, 80, 6))
    );
    let hops = report.hops();
    assert_eq!(hops.len(), 2);
    assert_eq!(
        (hops[0].switch_id, hops[0].hop_latency_ns),
        (Some(21), Some(300))
    );
    assert_eq!(
        (hops[1].switch_id, hops[1].hop_latency_ns),
        (Some(11), None),
        "all ones: not available"
    );
}

/// A v2.0 group of two INT reports: the first with ports, queue and 8-byte ingress timestamp
/// metadata over an IPv6 packet carrying a v2.1 stack; the second a drop (bit 15) with no
/// inner packet.
fn report_v2_0() -> Vec<u8> {
    let stack = Bits::default()
        .put(4, 1)
        .put(2, 0)
        .put(2, 0)
        .put(8, 3 + 3)
        .put(16, 0)
        .put(4, 2)
        .put(1, 0)
        .put(1, 0)
        .put(1, 0)
        .put(12, 0)
        .put(5, 3)
        .put(8, 5)
        .put(16, 0x8800)
        .put(16, 0)
        .put(16, 0)
        .put(16, 0)
        .put(32, 0xB012_E345)
        .put(32, 0x0000_0001)
        .put(32, 0x0000_0010)
        .done();
    let inner = ipv6(17, &udp(9, 10, &stack));
    let md_first = 2 + 1 + 1 + 2;
    let first = Bits::default()
        .put(4, 1)
        .put(4, 5)
        .put(8, md_first + inner.len() as u64 / 4)
        .put(8, md_first)
        .put(1, 0)
        .put(1, 0)
        .put(1, 1)
        .put(1, 0)
        .put(4, 0)
        .put(16, 0x4000 | 0x1000 | 0x0800)
        .put(16, 0)
        .put(16, 0)
        .put(16, 0)
        .put(16, 3)
        .put(16, 4)
        .put(8, 1)
        .put(24, 500)
        .put(32, 0x1)
        .put(32, 0x2)
        .raw(&inner)
        .done();
    let second = Bits::default()
        .put(4, 1)
        .put(4, 0)
        .put(8, 3)
        .put(8, 3)
        .put(1, 1)
        .put(1, 0)
        .put(1, 0)
        .put(1, 0)
        .put(4, 0)
        .put(16, 0x0001)
        .put(16, 0)
        .put(16, 0)
        .put(16, 0)
        .put(8, 2)
        .put(8, 51)
        .put(16, 0)
        .done();
    Bits::default()
        .put(4, 2)
        .put(6, 9)
        .put(22, 0x3F_FFFF)
        .put(32, 0xB012_E345)
        .raw(&first)
        .raw(&second)
        .done()
}

#[test]
fn v2_0_group_of_two_reports_with_a_v2_1_stack() {
    let reports = decode_all(&report_v2_0()).expect("decodes");
    assert_eq!(reports.len(), 2);
    let (flow, drop) = (&reports[0], &reports[1]);
    for r in &reports {
        assert_eq!(r.version, Version::V2_0);
        assert_eq!(
            (r.hw_id, r.sequence, r.switch_id),
            (9, 0x3F_FFFF, Some(0xB012_E345))
        );
    }
    assert_eq!(flow.kind, ReportKind::Flow);
    assert_eq!(
        (flow.local.ingress_port, flow.local.egress_port),
        (Some(3), Some(4))
    );
    assert_eq!(
        (flow.local.queue_id, flow.local.queue_occupancy),
        (Some(1), Some(500))
    );
    assert_eq!(flow.ingress_ts, Some(0x1_0000_0002));
    assert_eq!(
        flow.flow.map(|f| (f.src_port, f.dst_port, f.protocol)),
        Some((9, 10, 17))
    );
    assert_eq!(flow.hops().len(), 1);
    assert_eq!(flow.hops()[0].switch_id, Some(0xB012_E345));
    assert_eq!(flow.hops()[0].ingress_ts, Some(0x1_0000_0010));
    assert_eq!(drop.kind, ReportKind::Drop);
    assert_eq!((drop.local.queue_id, drop.drop_reason), (Some(2), Some(51)));
    assert_eq!(drop.flow, None);
}

#[test]
fn every_truncation_is_an_error_and_none_panics() {
    for datagram in [flow_report_v0_5(0), report_v1_0(), report_v2_0()] {
        let mut report = Report::default();
        for len in 0..datagram.len() {
            let _ = decode(&datagram[..len], &mut report, &mut |_| {});
        }
        let short = &datagram[..datagram.len() - 1];
        assert!(
            decode(short, &mut report, &mut |_| {}).is_err(),
            "{} bytes",
            short.len()
        );
    }
}

#[test]
fn a_stack_longer_than_its_hop_count_is_refused() {
    let inner = ethernet(0x0800, &ipv4(17, &udp(1, 2, &stack_v0_5(&TWO_HOPS, 1))));
    let datagram = header_v0_5(0, 0, (0, 0, 1), 1, 1).raw(&inner).done();
    let error = decode_one(&datagram).expect_err("refused");
    assert_eq!(error, DecodeError::StackTooLong { hops: 2, limit: 1 });
    assert_eq!(error.reason(), "stack_too_long");
}

#[test]
fn a_v2_0_group_with_one_bad_report_is_dropped_whole() {
    let mut datagram = report_v2_0();
    let second = datagram.len() - 16;
    assert_eq!(datagram[second + 2], 3, "the second report's MDLength");
    datagram[second + 2] = 2;
    let mut calls = 0;
    let result = decode(&datagram, &mut Report::default(), &mut |_| calls += 1);
    assert_eq!(result, Err(DecodeError::BadLength("v2.0 report metadata")));
    assert_eq!(calls, 0, "not even the good first report");
}

#[test]
fn unknown_versions_are_named() {
    let mut datagram = flow_report_v0_5(0);
    datagram[0] = 0x70;
    assert_eq!(
        decode_one(&datagram),
        Err(DecodeError::UnknownVersion(0x70))
    );
    assert_eq!(
        decode_one(&[]),
        Err(DecodeError::Truncated("telemetry report header"))
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds = [flow_report_v0_5(0), report_v1_0(), report_v2_0()];
    let mut report = Report::default();
    for round in 0..20_000 {
        let mut datagram = seeds[round % seeds.len()].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % datagram.len();
            datagram[at] = next() as u8;
        }
        datagram.truncate(datagram.len() - (next() as usize % 8).min(datagram.len()));
        let _ = decode(&datagram, &mut report, &mut |r| {
            assert!(r.hops().len() <= MAX_HOPS);
        });
    }
}
