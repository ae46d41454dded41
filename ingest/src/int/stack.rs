//! INT-MD stacks after an inner TCP or UDP header: the v0.5 shim, header, stack and tail, the
//! v1.0 shim and header, and the v2.1 shim and 12-byte header. Each hop's fields follow its
//! instruction bitmap, most significant bit first; the newest hop comes first.

use super::error::DecodeError;
use super::reader::{Reader, bits};
use super::report::{Hop, MAX_HOPS, Report, available};

/// The INT-MD version of a stack, from its metadata header's version nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MdVersion {
    V0_5,
    V1_0,
    V2_1,
}

/// Reads the stack the bytes after a transport header hold, if they hold one: a shim of type 1
/// (hop-by-hop INT-MD) whose metadata header carries a version this shim type goes with. Any
/// other payload is the packet's own data and is left alone.
pub(crate) fn read(r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    let rest = r.rest();
    if rest.len() < 8 {
        return Ok(());
    }
    let header_version = rest[4] >> 4;
    match (rest[0], header_version) {
        (1, 0) => v0_5(r, report),
        (1, 1) => v1_0(r, report),
        (0x10..=0x1F, 2) => v2_1(r, report),
        _ => Ok(()),
    }
}

/// Shim `Type | Reserved | Length | Reserved` (Length in words counts shim, header, stack and
/// tail); header `Ver | Rep | C | E | R | InsCnt | MaxHopCnt | TotalHopCnt`, `Bitmap | Reserved`.
fn v0_5(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    let shim = r.u32("INT v0.5 shim")?;
    let length = bits(shim, 16, 8);
    let header = r.u32("INT v0.5 header")?;
    let instructions = bits(header, 11, 5);
    let max_hops = bits(header, 16, 8);
    let hops = bits(header, 24, 8);
    let bitmap = bits(r.u32("INT v0.5 header")?, 0, 16);
    let per_hop = hop_words(bitmap, MdVersion::V0_5)?;
    if per_hop != instructions {
        return Err(DecodeError::BadLength("INT v0.5 instruction count"));
    }
    if hops > max_hops || hops as usize > MAX_HOPS {
        return Err(DecodeError::StackTooLong {
            hops,
            limit: max_hops.min(MAX_HOPS as u32),
        });
    }
    if length != 3 + hops * per_hop + 1 {
        return Err(DecodeError::BadLength("INT v0.5 shim"));
    }
    hops_into(&mut r, report, hops, bitmap, MdVersion::V0_5)?;
    r.u32("INT v0.5 tail")?;
    Ok(())
}

/// Shim `Type | Reserved | Length | DSCP | Reserved` (Length in words includes the shim);
/// header `Ver | Rep | C | E | M | Reserved | HopML | RemainingHopCnt`, `Bitmap | Reserved`.
fn v1_0(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    let length = bits(r.u32("INT v1.0 shim")?, 16, 8);
    let header = r.u32("INT v1.0 header")?;
    let hop_ml = bits(header, 19, 5);
    let bitmap = bits(r.u32("INT v1.0 header")?, 0, 16);
    let stack_words = length
        .checked_sub(3)
        .ok_or(DecodeError::BadLength("INT v1.0 shim"))?;
    stack_of(&mut r, report, stack_words, hop_ml, bitmap, MdVersion::V1_0)
}

/// Shim `Type:4 | NPT | R | Length | …` (Length in words excludes the shim); header
/// `Ver | D | E | M | Reserved | HopML | RemainingHopCnt`, `Bitmap | DomainID`,
/// `DSInstr | DSFlags`.
fn v2_1(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    let length = bits(r.u32("INT v2.1 shim")?, 8, 8);
    let header = r.u32("INT v2.1 header")?;
    let hop_ml = bits(header, 19, 5);
    let bitmap = bits(r.u32("INT v2.1 header")?, 0, 16);
    r.u32("INT v2.1 header")?;
    let stack_words = length
        .checked_sub(3)
        .ok_or(DecodeError::BadLength("INT v2.1 shim"))?;
    stack_of(&mut r, report, stack_words, hop_ml, bitmap, MdVersion::V2_1)
}

/// A v1.0/v2.1 stack of `stack_words`, each hop `hop_ml` words as the bitmap says.
fn stack_of(
    r: &mut Reader<'_>,
    report: &mut Report,
    stack_words: u32,
    hop_ml: u32,
    bitmap: u32,
    version: MdVersion,
) -> Result<(), DecodeError> {
    if hop_ml == 0 || hop_words(bitmap, version)? != hop_ml {
        return Err(DecodeError::BadLength("INT hop metadata length"));
    }
    if !stack_words.is_multiple_of(hop_ml) {
        return Err(DecodeError::BadLength("INT stack"));
    }
    let hops = stack_words / hop_ml;
    if hops as usize > MAX_HOPS {
        return Err(DecodeError::StackTooLong {
            hops,
            limit: MAX_HOPS as u32,
        });
    }
    hops_into(r, report, hops, bitmap, version)
}

fn hops_into(
    r: &mut Reader<'_>,
    report: &mut Report,
    hops: u32,
    bitmap: u32,
    version: MdVersion,
) -> Result<(), DecodeError> {
    for _ in 0..hops {
        let hop = read_hop(r, bitmap, version)?;
        report.push_hop(hop);
    }
    Ok(())
}

/// Whether instruction bit `bit` (0 = most significant of the 16) is set.
fn has(bitmap: u32, bit: u32) -> bool {
    bitmap & (0x8000 >> bit) != 0
}

/// Words one hop takes for `bitmap`; a bit the version leaves undefined is refused.
fn hop_words(bitmap: u32, version: MdVersion) -> Result<u32, DecodeError> {
    let mut words = 0;
    for bit in 0..16 {
        if has(bitmap, bit) {
            words += field_words(bit, version).ok_or(DecodeError::Unsupported {
                what: "INT instruction bit",
                value: bit,
            })?;
        }
    }
    Ok(words)
}

fn field_words(bit: u32, version: MdVersion) -> Option<u32> {
    let wide_timestamps = version == MdVersion::V2_1;
    match bit {
        0..=3 | 7 => Some(1),
        4 | 5 => Some(if wide_timestamps { 2 } else { 1 }),
        6 => Some(if version == MdVersion::V0_5 { 1 } else { 2 }),
        8 if version == MdVersion::V2_1 => Some(1),
        15 if version != MdVersion::V0_5 => Some(1),
        _ => None,
    }
}

fn read_hop(r: &mut Reader<'_>, bitmap: u32, version: MdVersion) -> Result<Hop, DecodeError> {
    const WHAT: &str = "INT hop metadata";
    let wide = version == MdVersion::V2_1;
    let mut hop = Hop::default();
    let timestamp = |r: &mut Reader<'_>| -> Result<Option<u64>, DecodeError> {
        if wide {
            let ts = r.u64(WHAT)?;
            Ok((ts != u64::MAX).then_some(ts))
        } else {
            Ok(available(r.u32(WHAT)?).map(u64::from))
        }
    };
    for bit in 0..16 {
        if !has(bitmap, bit) {
            continue;
        }
        match bit {
            0 => hop.switch_id = available(r.u32(WHAT)?),
            1 => {
                let ports = r.u32(WHAT)?;
                if ports != u32::MAX {
                    hop.ingress_port = Some(ports >> 16);
                    hop.egress_port = Some(ports & 0xFFFF);
                }
            }
            2 => hop.hop_latency_ns = available(r.u32(WHAT)?),
            3 => hop.set_queue(r.u32(WHAT)?),
            4 => hop.ingress_ts = timestamp(r)?,
            5 => hop.egress_ts = timestamp(r)?,
            6 if version == MdVersion::V0_5 => hop.set_queue(r.u32(WHAT)?),
            6 => {
                r.u64(WHAT)?;
            }
            7 => hop.tx_utilisation = available(r.u32(WHAT)?),
            _ => {
                r.u32(WHAT)?;
            }
        }
    }
    Ok(hop)
}
