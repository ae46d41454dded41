//! Telemetry Report v2.0: a group header `Ver=2 | hw_id:6 | Sequence:22`, `NodeID`, then one or
//! more individual reports `RepType:4 | InType:4 | ReportLength:8 | MDLength:8 | D | Q | F | I |
//! Reserved:4`, each with its metadata (for INT reports: `RepMdBits | DomainSpecificID |
//! DSMdBits | DSMdStatus` and the fields the bits select) and its inner packet. Lengths are in
//! words; ReportLength leaves out the report's first word, and 0xFF runs to the datagram's end.

use super::error::DecodeError;
use super::inner;
use super::reader::{Reader, bits};
use super::report::{Report, Version, available};

const GROUP_HEADER: usize = 8;
const TO_THE_END: u32 = 0xFF;
const INT_MAIN_CONTENTS_WORDS: u32 = 2;

const REPORT_INNER_ONLY: u32 = 0;
const REPORT_INT: u32 = 1;

const INNER_NONE: u32 = 0;
const INNER_TLV: u32 = 1;
const INNER_DOMAIN_SPECIFIC: u32 = 2;
const INNER_ETHERNET: u32 = 3;
const INNER_IPV4: u32 = 4;
const INNER_IPV6: u32 = 5;

/// Whether the datagram's layout is v2.0's: version 2, and individual reports whose lengths
/// tile the datagram exactly.
pub(crate) fn fits(datagram: &[u8]) -> bool {
    if datagram.len() < GROUP_HEADER + 4 || datagram[0] >> 4 != 2 {
        return false;
    }
    let mut r = Reader::new(&datagram[GROUP_HEADER..]);
    while r.remaining() > 0 {
        if next_report(&mut r).is_err() {
            return false;
        }
    }
    true
}

/// Decodes every individual report into `report` in turn, calling `each` after each one; the
/// whole datagram is checked before the first call, so a bad report drops the datagram whole.
pub(crate) fn decode(
    datagram: &[u8],
    report: &mut Report,
    each: &mut dyn FnMut(&Report),
) -> Result<usize, DecodeError> {
    walk(datagram, report, &mut |_| {})?;
    walk(datagram, report, each)
}

fn walk(
    datagram: &[u8],
    report: &mut Report,
    each: &mut dyn FnMut(&Report),
) -> Result<usize, DecodeError> {
    const WHAT: &str = "v2.0 group header";
    let mut r = Reader::new(datagram);
    let group = r.u32(WHAT)?;
    let node = r.u32(WHAT)?;
    let mut count = 0;
    while r.remaining() > 0 {
        let (word, body) = next_report(&mut r)?;
        report.clear();
        report.version = Version::V2_0;
        report.hw_id = bits(group, 4, 6) as u8;
        report.sequence = bits(group, 10, 22);
        report.switch_id = Some(node);
        report.local.switch_id = Some(node);
        individual(word, body, report)?;
        each(report);
        count += 1;
    }
    if count == 0 {
        return Err(DecodeError::Truncated("v2.0 individual report"));
    }
    Ok(count)
}

/// The next individual report's first word and the bytes its ReportLength gives it.
fn next_report<'a>(r: &mut Reader<'a>) -> Result<(u32, Reader<'a>), DecodeError> {
    let word = r.u32("v2.0 individual report header")?;
    let length = bits(word, 8, 8);
    let body_len = if length == TO_THE_END {
        r.remaining()
    } else {
        length as usize * 4
    };
    if bits(word, 16, 8) as usize * 4 > body_len {
        return Err(DecodeError::BadLength("v2.0 individual report"));
    }
    Ok((word, r.sub(body_len, "v2.0 individual report")?))
}

fn individual(word: u32, mut body: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    report.dropped = bits(word, 24, 1) == 1;
    report.congested = bits(word, 25, 1) == 1;
    report.tracked_flow = bits(word, 26, 1) == 1;
    let md_words = bits(word, 16, 8);
    let mut metadata = body.sub(md_words as usize * 4, "v2.0 report metadata")?;
    match bits(word, 0, 4) {
        REPORT_INT => int_metadata(&mut metadata, md_words, report)?,
        REPORT_INNER_ONLY => {}
        other => {
            return Err(DecodeError::Unsupported {
                what: "v2.0 report type",
                value: other,
            });
        }
    }
    report.ingress_ts = report.local.ingress_ts;
    report.classify();
    match bits(word, 4, 4) {
        INNER_ETHERNET => inner::ethernet(body, report),
        INNER_IPV4 => inner::ipv4(body, report),
        INNER_IPV6 => inner::ipv6(body, report),
        INNER_NONE | INNER_TLV | INNER_DOMAIN_SPECIFIC => Ok(()),
        other => Err(DecodeError::Unsupported {
            what: "v2.0 inner type",
            value: other,
        }),
    }
}

/// Words the metadata of `bits` takes; a bit v2.0 leaves undefined is refused.
fn metadata_words(rep_md_bits: u32) -> Result<u32, DecodeError> {
    let mut words = 0;
    for bit in 0..16 {
        if rep_md_bits & (0x8000 >> bit) == 0 {
            continue;
        }
        words += match bit {
            1 | 2 | 3 | 7 | 8 | 15 => 1,
            4..=6 => 2,
            _ => {
                return Err(DecodeError::Unsupported {
                    what: "v2.0 metadata bit",
                    value: bit,
                });
            }
        };
    }
    Ok(words)
}

fn int_metadata(r: &mut Reader<'_>, md_words: u32, report: &mut Report) -> Result<(), DecodeError> {
    const WHAT: &str = "v2.0 report metadata";
    let rep_md_bits = u32::from(r.u16(WHAT)?);
    r.take(6, WHAT)?;
    if md_words != INT_MAIN_CONTENTS_WORDS + metadata_words(rep_md_bits)? {
        return Err(DecodeError::BadLength("v2.0 report metadata"));
    }
    let has = |bit: u32| rep_md_bits & (0x8000 >> bit) != 0;
    let local = &mut report.local;
    if has(1) {
        let ports = r.u32(WHAT)?;
        local.ingress_port = Some(ports >> 16);
        local.egress_port = Some(ports & 0xFFFF);
    }
    if has(2) {
        local.hop_latency_ns = available(r.u32(WHAT)?);
    }
    if has(3) {
        local.set_queue(r.u32(WHAT)?);
    }
    if has(4) {
        local.ingress_ts = Some(r.u64(WHAT)?).filter(|&t| t != u64::MAX);
    }
    if has(5) {
        local.egress_ts = Some(r.u64(WHAT)?).filter(|&t| t != u64::MAX);
    }
    if has(6) {
        r.u64(WHAT)?;
    }
    if has(7) {
        local.tx_utilisation = available(r.u32(WHAT)?);
    }
    if has(8) {
        r.u32(WHAT)?;
    }
    if has(15) {
        let drop = r.u32(WHAT)?;
        local.queue_id = Some((drop >> 24) as u8);
        report.drop_reason = Some((drop >> 16) as u8);
    }
    Ok(())
}
