//! Telemetry Report v0.5, the seed's format: a 12-byte header
//! `Ver | NProto | D | Q | F | Reserved:15 | hw_id:6`, `Sequence`, `IngressTimestamp`, then
//! (NProto 1) a Drop Report header or (NProto 2) a Switch Local header, then Ethernet.

use super::clock::latency_ns;
use super::error::DecodeError;
use super::inner;
use super::reader::{Reader, bits};
use super::report::{Report, Version, available};

const HEADER: usize = 12;
const DROP_HEADER: usize = 12;
const SWITCH_LOCAL_HEADER: usize = 16;

/// Whether the datagram's layout is v0.5's: a version of 0 or 1, reserved bits clear, a known
/// next protocol, and an Ethernet frame where that protocol puts it.
pub(crate) fn fits(datagram: &[u8]) -> bool {
    if datagram.len() < HEADER {
        return false;
    }
    let word = u32::from_be_bytes([datagram[0], datagram[1], datagram[2], datagram[3]]);
    let inner_at = match bits(word, 4, 4) {
        0 => HEADER,
        1 => HEADER + DROP_HEADER,
        2 => HEADER + SWITCH_LOCAL_HEADER,
        _ => return false,
    };
    bits(word, 0, 4) <= 1
        && bits(word, 11, 15) == 0
        && datagram
            .get(inner_at..)
            .is_some_and(inner::looks_like_ethernet)
}

pub(crate) fn decode(datagram: &[u8], report: &mut Report) -> Result<(), DecodeError> {
    let mut r = Reader::new(datagram);
    let word = r.u32("v0.5 report header")?;
    report.version = Version::V0_5;
    report.dropped = bits(word, 8, 1) == 1;
    report.congested = bits(word, 9, 1) == 1;
    report.tracked_flow = bits(word, 10, 1) == 1;
    report.hw_id = bits(word, 26, 6) as u8;
    report.sequence = r.u32("v0.5 report header")?;
    report.ingress_ts = Some(u64::from(r.u32("v0.5 report header")?));
    match bits(word, 4, 4) {
        0 => {}
        1 => drop_header(&mut r, report)?,
        2 => switch_local(&mut r, report)?,
        other => {
            return Err(DecodeError::Unsupported {
                what: "v0.5 next protocol",
                value: other,
            });
        }
    }
    report.classify();
    inner::ethernet(r, report)
}

/// `SwitchID | IngressPort:16 | EgressPort:16 | QueueID:8 | DropReason:8 | Pad:16`.
fn drop_header(r: &mut Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    const WHAT: &str = "v0.5 drop report header";
    report.switch_id = Some(r.u32(WHAT)?);
    report.local.switch_id = report.switch_id;
    report.local.ingress_port = Some(u32::from(r.u16(WHAT)?));
    report.local.egress_port = Some(u32::from(r.u16(WHAT)?));
    report.local.queue_id = Some(r.u8(WHAT)?);
    report.drop_reason = Some(r.u8(WHAT)?);
    r.u16(WHAT)?;
    Ok(())
}

/// `SwitchID | IngressPort:16 | EgressPort:16 | QueueID:8 | QueueOccupancy:24 | EgressTimestamp`.
fn switch_local(r: &mut Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    const WHAT: &str = "v0.5 switch local header";
    report.switch_id = Some(r.u32(WHAT)?);
    report.local.switch_id = report.switch_id;
    report.local.ingress_port = Some(u32::from(r.u16(WHAT)?));
    report.local.egress_port = Some(u32::from(r.u16(WHAT)?));
    report.local.set_queue(r.u32(WHAT)?);
    report.local.egress_ts = available(r.u32(WHAT)?).map(u64::from);
    report.local.ingress_ts = report.ingress_ts;
    if let (Some(ingress), Some(egress)) = (report.ingress_ts, report.local.egress_ts) {
        report.local.hop_latency_ns = Some(latency_ns(ingress as u32, egress as u32));
    }
    Ok(())
}
