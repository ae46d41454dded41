//! The wire formats, written field by field from the P4.org layouts with an MSB-first bit
//! packer: Telemetry Report v0.5 (with its Drop Report and Switch Local headers), v1.0 and v2.0
//! (a group of individual reports), the inner Ethernet / IPv4 / UDP or TCP packet, and the
//! INT-MD stacks after its transport header (v1.0 for v0.5 and v1.0 reports, v2.1 for v2.0).
//! Each encoder returns the report datagram: the payload of the UDP packet to the collector.

use super::flows::Protocol;
use super::report::{HopRecord, INT_DSCP, Kind, Packet, Report};

/// Fields packed most significant bit first, as the specifications draw them.
#[derive(Debug, Default)]
pub struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl Bits {
    /// Appends the low `width` (≤ 32) bits of `value`.
    pub fn put(&mut self, width: u32, value: impl Into<u64>) -> &mut Self {
        let value = value.into();
        debug_assert!(
            width <= 32 && value < 1u64 << width,
            "{value} in {width} bits"
        );
        self.acc = (self.acc << width) | (value & ((1u64 << width) - 1));
        self.pending += width;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
        self.acc &= (1u64 << self.pending) - 1;
        self
    }

    /// A 64-bit field, as two words.
    pub fn put64(&mut self, value: u64) -> &mut Self {
        self.put(32, value >> 32).put(32, value & 0xFFFF_FFFF)
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        for &byte in bytes {
            self.put(8, byte);
        }
        self
    }

    /// The bytes, the last one filled up with zero bits.
    pub fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            let pad = 8 - self.pending;
            self.put(pad, 0u8);
        }
        self.bytes
    }
}

/// The INT-MD stack format a packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdVersion {
    V1_0,
    V2_1,
}

/// Hops a stack may hold (the source's MaxHopCount).
const MAX_HOPS: u32 = 8;
/// Instructions: switch id, ports, hop latency, queue, ingress and egress timestamps.
const INSTRUCTIONS: u16 = 0xFC00;

/// Telemetry Report v0.5: `Ver=0 | NProto | D | Q | F | Reserved:15 | hw_id:6`, sequence,
/// ingress timestamp; a Drop Report header (NProto 1) or a Switch Local header (NProto 2) for
/// drop and queue reports; then the packet's Ethernet frame.
pub fn v0_5(report: &Report, hw_id: u8, sequence: u32) -> Vec<u8> {
    let (d, q, f) = report.flags();
    let next: u8 = match report.kind {
        Kind::Flow => 0,
        Kind::Drop(_) => 1,
        Kind::Queue => 2,
    };
    let local = &report.local;
    let mut b = Bits::default();
    b.put(4, 0u8).put(4, next).put(1, d).put(1, q).put(1, f);
    b.put(15, 0u16).put(6, hw_id).put(32, sequence);
    b.put(32, low32(local.ingress_ns));
    match report.kind {
        Kind::Flow => {}
        Kind::Drop(reason) => {
            b.put(32, local.switch_id).put(16, local.ingress_port);
            b.put(16, local.egress_port)
                .put(8, local.queue_id)
                .put(8, reason);
            b.put(16, 0u16);
        }
        Kind::Queue => {
            b.put(32, local.switch_id).put(16, local.ingress_port);
            b.put(16, local.egress_port).put(8, local.queue_id);
            b.put(24, local.occupancy).put(32, low32(local.egress_ns));
        }
    }
    b.raw(&ethernet(
        &report.packet,
        &ip_packet(report, MdVersion::V1_0),
    ));
    b.finish()
}

/// Report metadata bits of v1.0, most significant (bit 0) first in a 6-bit field.
const V1_PORTS: u8 = 0b10_0000;
const V1_LATENCY: u8 = 0b01_0000;
const V1_QUEUE: u8 = 0b00_1000;
const V1_EGRESS_TS: u8 = 0b00_0100;
const V1_DROP: u8 = 0b00_0010;

/// Telemetry Report v1.0: `Ver=1 | Len:4 | NProto=0 | RepMdBits:6 | Reserved:6 | D | Q | F |
/// hw_id:6`, switch id, sequence, ingress timestamp, one word per metadata bit, then Ethernet.
/// Flow reports carry no metadata (the sink's hop is on the stack); queue reports the ports,
/// latency, queue and egress time; drop reports the ports and the drop reason.
pub fn v1_0(report: &Report, hw_id: u8, sequence: u32) -> Vec<u8> {
    let (d, q, f) = report.flags();
    let metadata = match report.kind {
        Kind::Flow => 0,
        Kind::Queue => V1_PORTS | V1_LATENCY | V1_QUEUE | V1_EGRESS_TS,
        Kind::Drop(_) => V1_PORTS | V1_DROP,
    };
    let local = &report.local;
    let mut b = Bits::default();
    b.put(4, 1u8).put(4, 4 + metadata.count_ones()).put(3, 0u8);
    b.put(6, metadata)
        .put(6, 0u8)
        .put(1, d)
        .put(1, q)
        .put(1, f)
        .put(6, hw_id);
    b.put(32, local.switch_id).put(32, sequence);
    b.put(32, low32(local.ingress_ns));
    if metadata & V1_PORTS != 0 {
        b.put(16, local.ingress_port).put(16, local.egress_port);
    }
    if metadata & V1_LATENCY != 0 {
        b.put(32, local.latency_ns);
    }
    if metadata & V1_QUEUE != 0 {
        b.put(8, local.queue_id).put(24, local.occupancy);
    }
    if metadata & V1_EGRESS_TS != 0 {
        b.put(32, low32(local.egress_ns));
    }
    if let Kind::Drop(reason) = report.kind {
        b.put(8, local.queue_id).put(8, reason).put(16, 0u16);
    }
    b.raw(&ethernet(
        &report.packet,
        &ip_packet(report, MdVersion::V1_0),
    ));
    b.finish()
}

/// Report metadata bits of v2.0 (bit 0 the most significant of 16).
const V2_PORTS: u16 = 0x8000 >> 1;
const V2_LATENCY: u16 = 0x8000 >> 2;
const V2_QUEUE: u16 = 0x8000 >> 3;
const V2_INGRESS_TS: u16 = 0x8000 >> 4;
const V2_EGRESS_TS: u16 = 0x8000 >> 5;
const V2_DROP: u16 = 0x8000 >> 15;
/// `RepMdBits | DomainSpecificID`, `DSMdBits | DSMdStatus`.
const MAIN_CONTENTS_WORDS: u32 = 2;
/// RepType 1: INT; InType 4: a truncated IPv4 packet.
const REPORT_INT: u8 = 1;
const INNER_IPV4: u8 = 4;
/// The largest ReportLength that is a length (0xFF means "to the end").
const MAX_REPORT_WORDS: u32 = 0xFE;

/// Telemetry Report v2.0: the group header `Ver=2 | hw_id:6 | Sequence:22`, node id, then one
/// individual report per report (all from the node `node_id`).
pub fn v2_0(reports: &[Report], hw_id: u8, sequence: u32, node_id: u32) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(4, 2u8)
        .put(6, hw_id)
        .put(22, sequence & 0x3F_FFFF)
        .put(32, node_id);
    for report in reports {
        individual_v2_0(&mut b, report);
    }
    b.finish()
}

/// `RepType=1 | InType=4 | ReportLength | MDLength | D | Q | F | I | Reserved:4`, the INT main
/// contents and their metadata, then the IPv4 packet (whole words). MD Length counts the main
/// contents' two fixed words as well as the metadata, as Sonde's collector reads it.
fn individual_v2_0(b: &mut Bits, report: &Report) {
    let (d, q, f) = report.flags();
    let metadata = match report.kind {
        Kind::Flow => V2_INGRESS_TS,
        Kind::Queue => V2_PORTS | V2_LATENCY | V2_QUEUE | V2_INGRESS_TS | V2_EGRESS_TS,
        Kind::Drop(_) => V2_PORTS | V2_INGRESS_TS | V2_DROP,
    };
    let md_words = MAIN_CONTENTS_WORDS + v2_metadata_words(metadata);
    let mut inner = ip_packet(report, MdVersion::V2_1);
    let inner_words = (inner.len().div_ceil(4) as u32).min(MAX_REPORT_WORDS - md_words);
    inner.resize(inner_words as usize * 4, 0);
    b.put(4, REPORT_INT)
        .put(4, INNER_IPV4)
        .put(8, md_words + inner_words);
    b.put(8, md_words)
        .put(1, d)
        .put(1, q)
        .put(1, f)
        .put(1, 0u8)
        .put(4, 0u8);
    b.put(16, metadata)
        .put(16, 0u16)
        .put(16, 0u16)
        .put(16, 0u16);
    let local = &report.local;
    if metadata & V2_PORTS != 0 {
        b.put(16, local.ingress_port).put(16, local.egress_port);
    }
    if metadata & V2_LATENCY != 0 {
        b.put(32, local.latency_ns);
    }
    if metadata & V2_QUEUE != 0 {
        b.put(8, local.queue_id).put(24, local.occupancy);
    }
    if metadata & V2_INGRESS_TS != 0 {
        b.put64(local.ingress_ns);
    }
    if metadata & V2_EGRESS_TS != 0 {
        b.put64(local.egress_ns);
    }
    if let Kind::Drop(reason) = report.kind {
        b.put(8, local.queue_id).put(8, reason).put(16, 0u16);
    }
    b.raw(&inner);
}

/// Words of v2.0 metadata: one per bit, two for the 64-bit timestamps.
fn v2_metadata_words(metadata: u16) -> u32 {
    let wide = metadata & (V2_INGRESS_TS | V2_EGRESS_TS);
    metadata.count_ones() + wide.count_ones()
}

/// `Destination | Source | EtherType=IPv4`, then the IP packet.
pub fn ethernet(packet: &Packet, ip: &[u8]) -> Vec<u8> {
    let mut b = Bits::default();
    b.raw(&packet.dst_mac)
        .raw(&packet.src_mac)
        .put(16, 0x0800u16);
    b.raw(ip);
    b.finish()
}

/// The report's packet from its IPv4 header on: transport header, then the INT stack if it
/// carries one; the payload is counted in the lengths but truncated away.
pub fn ip_packet(report: &Report, md: MdVersion) -> Vec<u8> {
    let packet = &report.packet;
    let stack = if report.stack.is_empty() {
        Vec::new()
    } else {
        match md {
            MdVersion::V1_0 => stack_v1_0(&report.stack, packet.dscp),
            MdVersion::V2_1 => stack_v2_1(&report.stack, packet.dscp),
        }
    };
    let dscp = if stack.is_empty() {
        packet.dscp
    } else {
        INT_DSCP
    };
    let transport = transport(packet, stack.len());
    let after_ip = transport.len() + stack.len() + usize::from(packet.payload);
    let mut b = Bits::default();
    b.raw(&ipv4_header(packet, dscp, after_ip)).raw(&transport);
    b.raw(&stack);
    b.finish()
}

/// `Ver=4 | IHL=5 | DSCP | ECN | TotalLength | Id | DF | TTL | Protocol | Checksum | Src | Dst`.
fn ipv4_header(packet: &Packet, dscp: u8, after_header: usize) -> Vec<u8> {
    let total = u16::try_from(20 + after_header).unwrap_or(u16::MAX);
    let mut b = Bits::default();
    b.put(4, 4u8)
        .put(4, 5u8)
        .put(6, dscp)
        .put(2, 0u8)
        .put(16, total);
    b.put(16, packet.ip_id).put(3, 0b010u8).put(13, 0u16);
    b.put(8, packet.ttl)
        .put(8, packet.protocol.number())
        .put(16, 0u16);
    b.raw(&packet.src.octets()).raw(&packet.dst.octets());
    let mut header = b.finish();
    let [hi, lo] = checksum(&header).to_be_bytes();
    header[10] = hi;
    header[11] = lo;
    header
}

/// The Internet checksum: the ones' complement of the ones' complement sum of 16-bit words.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// A UDP header (length over stack and payload, no checksum) or a 20-byte TCP header
/// (ACK | PSH).
fn transport(packet: &Packet, stack: usize) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(16, packet.src_port).put(16, packet.dst_port);
    match packet.protocol {
        Protocol::Udp => {
            let length = 8 + stack + usize::from(packet.payload);
            b.put(16, u16::try_from(length).unwrap_or(u16::MAX))
                .put(16, 0u16);
        }
        Protocol::Tcp => {
            b.put(32, packet.tcp_seq)
                .put(32, packet.tcp_seq ^ 0x5A5A_0000);
            b.put(4, 5u8)
                .put(3, 0u8)
                .put(9, 0x018u16)
                .put(16, 0xFFFFu16);
            b.put(16, 0u16).put(16, 0u16);
        }
    }
    b.finish()
}

/// INT-MD v1.0: shim `Type=1 | Reserved | Length (words, shim included) | DSCP:6 | Reserved:2`,
/// header `Ver=1 | Rep | C | E | M | Reserved:10 | HopML:5 | RemainingHopCnt`,
/// `InstructionBitmap | Reserved`, then 6 words per hop, newest first.
fn stack_v1_0(stack: &[HopRecord], dscp: u8) -> Vec<u8> {
    const HOP_WORDS: u32 = 6;
    let hops = stack.len() as u32;
    let mut b = Bits::default();
    b.put(8, 1u8)
        .put(8, 0u8)
        .put(8, 3 + hops * HOP_WORDS)
        .put(6, dscp)
        .put(2, 0u8);
    b.put(4, 1u8)
        .put(2, 0u8)
        .put(1, 0u8)
        .put(1, 0u8)
        .put(1, 0u8)
        .put(10, 0u16);
    b.put(5, HOP_WORDS).put(8, MAX_HOPS.saturating_sub(hops));
    b.put(16, INSTRUCTIONS).put(16, 0u16);
    for hop in stack {
        hop_fields(&mut b, hop);
        b.put(32, low32(hop.ingress_ns))
            .put(32, low32(hop.egress_ns));
    }
    b.finish()
}

/// INT-MD v2.1: shim `Type=1:4 | NPT=0:2 | R:2 | Length (words, shim excluded) | Reserved:8 |
/// DSCP:6 | Reserved:2`, header `Ver=2 | D | E | M | Reserved:12 | HopML:5 | RemainingHopCnt`,
/// `InstructionBitmap | DomainSpecificID`, `DSInstruction | DSFlags`, then 8 words per hop
/// (64-bit timestamps), newest first.
fn stack_v2_1(stack: &[HopRecord], dscp: u8) -> Vec<u8> {
    const HOP_WORDS: u32 = 8;
    let hops = stack.len() as u32;
    let mut b = Bits::default();
    b.put(4, 1u8)
        .put(2, 0u8)
        .put(2, 0u8)
        .put(8, 3 + hops * HOP_WORDS);
    b.put(8, 0u8).put(6, dscp).put(2, 0u8);
    b.put(4, 2u8)
        .put(1, 0u8)
        .put(1, 0u8)
        .put(1, 0u8)
        .put(12, 0u16);
    b.put(5, HOP_WORDS).put(8, MAX_HOPS.saturating_sub(hops));
    b.put(16, INSTRUCTIONS)
        .put(16, 0u16)
        .put(16, 0u16)
        .put(16, 0u16);
    for hop in stack {
        hop_fields(&mut b, hop);
        b.put64(hop.ingress_ns).put64(hop.egress_ns);
    }
    b.finish()
}

/// Switch id, ingress and egress port, hop latency, queue id and occupancy: the four words
/// every hop starts with.
fn hop_fields(b: &mut Bits, hop: &HopRecord) {
    b.put(32, hop.switch_id)
        .put(16, hop.ingress_port)
        .put(16, hop.egress_port);
    b.put(32, hop.latency_ns)
        .put(8, hop.queue_id)
        .put(24, hop.occupancy);
}

/// The low 32 bits of a nanosecond time, as the 32-bit timestamp fields carry it.
pub fn low32(ns: u64) -> u32 {
    (ns & 0xFFFF_FFFF) as u32
}
