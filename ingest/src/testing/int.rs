//! INT datagrams for benchmarks, written byte by byte as a switch sends them: v0.5 flow
//! reports (Ethernet, IPv4, UDP and a v0.5 INT-MD stack of switch id, ports, hop latency and
//! queue per hop) and v2.0 groups of two reports.

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

/// A v0.5 flow report numbered `sequence` whose stack holds `hops` hops.
pub fn v0_5(sequence: u32, hops: u32) -> Vec<u8> {
    let mut out = Vec::new();
    be32(&mut out, 0x0020_0000 | 3);
    be32(&mut out, sequence);
    be32(&mut out, sequence.wrapping_mul(977));
    ethernet_ipv4_udp(&mut out, (hops as usize * 4 + 4) * 4, sequence);
    stack_v0_5(&mut out, hops);
    out
}

/// A v2.0 group: two INT reports with ports and queue metadata over IPv4/UDP packets.
pub fn v2_0(sequence: u32) -> Vec<u8> {
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
