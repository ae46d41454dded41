//! Telemetry Report v1.0: `Ver=1 | Len:4 | NProto:3 | RepMdBits:6 | Reserved:6 | D | Q | F |
//! hw_id:6`, `SwitchID`, `Sequence`, `IngressTimestamp`, then one word per RepMdBits bit (most
//! significant first: ports, hop latency, queue id + occupancy, egress timestamp, queue id +
//! drop reason, tx utilisation), then Ethernet, IPv4 or IPv6 by NProto. `Len` counts the
//! header's words, metadata included.

use super::error::DecodeError;
use super::inner;
use super::reader::{Reader, bits};
use super::report::{Report, Version, available};

const FIXED_WORDS: u32 = 4;
const METADATA_BITS: u32 = 6;

/// Whether the datagram's layout is v1.0's: version 1, a header length that matches the
/// metadata bits, a known next protocol, and that protocol's header where it should be.
pub(crate) fn fits(datagram: &[u8]) -> bool {
    let Some(word) = datagram.first_chunk::<4>().map(|b| u32::from_be_bytes(*b)) else {
        return false;
    };
    let header_words = bits(word, 4, 4);
    let metadata = bits(word, 11, METADATA_BITS);
    let header_len = header_words as usize * 4;
    if bits(word, 0, 4) != 1
        || header_words != FIXED_WORDS + metadata.count_ones()
        || bits(word, 17, 6) != 0
    {
        return false;
    }
    let Some(inner) = datagram.get(header_len..) else {
        return false;
    };
    match bits(word, 8, 3) {
        0 => inner::looks_like_ethernet(inner),
        1 => inner.first().is_some_and(|b| b >> 4 == 4),
        2 => inner.first().is_some_and(|b| b >> 4 == 6),
        _ => false,
    }
}

pub(crate) fn decode(datagram: &[u8], report: &mut Report) -> Result<(), DecodeError> {
    const WHAT: &str = "v1.0 report header";
    let mut r = Reader::new(datagram);
    let word = r.u32(WHAT)?;
    let metadata = bits(word, 11, METADATA_BITS);
    if bits(word, 4, 4) != FIXED_WORDS + metadata.count_ones() {
        return Err(DecodeError::BadLength("v1.0 report header"));
    }
    report.version = Version::V1_0;
    report.dropped = bits(word, 23, 1) == 1;
    report.congested = bits(word, 24, 1) == 1;
    report.tracked_flow = bits(word, 25, 1) == 1;
    report.hw_id = bits(word, 26, 6) as u8;
    report.switch_id = Some(r.u32(WHAT)?);
    report.local.switch_id = report.switch_id;
    report.sequence = r.u32(WHAT)?;
    report.ingress_ts = Some(u64::from(r.u32(WHAT)?));
    report.local.ingress_ts = report.ingress_ts;
    read_metadata(&mut r, report, metadata)?;
    report.classify();
    match bits(word, 8, 3) {
        0 => inner::ethernet(r, report),
        1 => inner::ipv4(r, report),
        2 => inner::ipv6(r, report),
        other => Err(DecodeError::Unsupported {
            what: "v1.0 next protocol",
            value: other,
        }),
    }
}

fn read_metadata(
    r: &mut Reader<'_>,
    report: &mut Report,
    metadata: u32,
) -> Result<(), DecodeError> {
    const WHAT: &str = "v1.0 report metadata";
    let has = |bit: u32| metadata & (1 << (METADATA_BITS - 1 - bit)) != 0;
    if has(0) {
        let ports = r.u32(WHAT)?;
        report.local.ingress_port = Some(ports >> 16);
        report.local.egress_port = Some(ports & 0xFFFF);
    }
    if has(1) {
        report.local.hop_latency_ns = available(r.u32(WHAT)?);
    }
    if has(2) {
        report.local.set_queue(r.u32(WHAT)?);
    }
    if has(3) {
        report.local.egress_ts = available(r.u32(WHAT)?).map(u64::from);
    }
    if has(4) {
        let drop = r.u32(WHAT)?;
        report.local.queue_id = Some((drop >> 24) as u8);
        report.drop_reason = Some((drop >> 16) as u8);
    }
    if has(5) {
        report.local.tx_utilisation = available(r.u32(WHAT)?);
    }
    Ok(())
}
