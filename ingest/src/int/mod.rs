//! INT telemetry reports: decoders for Telemetry Report v0.5 (with its Drop and Switch Local
//! headers), v1.0 and v2.0 (several individual reports per datagram), the inner packet's
//! 5-tuple, and INT-MD stacks v0.5, v1.0 and v2.1 after its TCP or UDP header; and what a
//! collector owes the reports: sequence accounting per source ([`Sequence`]) and full times
//! rebuilt from 32-bit timestamps ([`rebuild_ns`]).
//!
//! Which version a datagram is comes from checks on its layout (lengths that agree, reserved
//! bits clear, the next header where the format puts it), not from the version nibble alone:
//! v0.5 devices send a version of 0 or 1, and 1 is also v1.0's. Decoding fills a reused
//! [`Report`] and allocates nothing; anything inconsistent is a [`DecodeError`], never a panic.

mod capture;
mod clock;
mod collector;
mod columns;
mod error;
mod inner;
mod reader;
mod receiver;
mod report;
mod sequence;
mod stack;
mod v0_5;
mod v1_0;
mod v2_0;

pub use capture::{CaptureError, CaptureFilter, CaptureStats, Captured, read_capture};
pub use clock::{latency_ns, rebuild_ns};
pub use collector::{Collector, CollectorConfig, CollectorStats, DropReasons};
pub use error::DecodeError;
pub use receiver::{IntBatch, IntSockets, ReceiverConfig, ReceiverStats};
pub use report::{Flow, Hop, MAX_HOPS, Report, ReportKind, Version};
pub use sequence::{Loss, Sequence};

/// Decodes one datagram into `report`, calling `each` once per report it holds (v2.0 may hold
/// several), and returns how many there were. On an error `each` has not been called.
pub fn decode(
    datagram: &[u8],
    report: &mut Report,
    each: &mut dyn FnMut(&Report),
) -> Result<usize, DecodeError> {
    let Some(version) = detect(datagram) else {
        return Err(why_nothing_fits(datagram, report));
    };
    if version == Version::V2_0 {
        return v2_0::decode(datagram, report, each);
    }
    report.clear();
    match version {
        Version::V1_0 => v1_0::decode(datagram, report)?,
        _ => v0_5::decode(datagram, report)?,
    }
    each(report);
    Ok(1)
}

/// The version whose layout the datagram fits; v1.0 is tried before v0.5, whose version field
/// may hold the same 1.
pub fn detect(datagram: &[u8]) -> Option<Version> {
    if v2_0::fits(datagram) {
        Some(Version::V2_0)
    } else if v1_0::fits(datagram) {
        Some(Version::V1_0)
    } else if v0_5::fits(datagram) {
        Some(Version::V0_5)
    } else {
        None
    }
}

/// When no layout fits, the version nibble's own decoder says what is wrong (a truncated or
/// inconsistent report of that version); otherwise the version is unknown.
fn why_nothing_fits(datagram: &[u8], report: &mut Report) -> DecodeError {
    let Some(&first) = datagram.first() else {
        return DecodeError::Truncated("telemetry report header");
    };
    report.clear();
    let attempt = match first >> 4 {
        0 => v0_5::decode(datagram, report),
        1 => v1_0::decode(datagram, report),
        2 => v2_0::decode(datagram, report, &mut |_| {}).map(|_| ()),
        _ => Ok(()),
    };
    attempt.err().unwrap_or(DecodeError::UnknownVersion(first))
}

#[cfg(test)]
mod tests;
