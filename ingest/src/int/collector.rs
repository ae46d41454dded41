//! The collector: datagrams in, rows of the INT tables out. It decodes each datagram, rebuilds
//! its 32-bit timestamps against the receive time, keeps the sequence accounting of every
//! source and the count of every datagram it could not decode, and appends straight into the
//! tables' Arrow builders. The receiver and `sonde import pcap` both drive one; neither does
//! any decoding of its own.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use sonde_schema::TableDef;
use sonde_schema::families::int::drop_reason_name;

use super::clock::rebuild_ns;
use super::columns::{Columns, FlowText, HopPlace, Received, write_ip};
use super::error::DecodeError;
use super::report::{Hop, Report, ReportKind, Version};
use super::sequence::{Loss, Sequence};

/// Names for drop reason codes: the schema's codes in common use, and the operator's own.
#[derive(Debug, Clone, Default)]
pub struct DropReasons {
    extra: Vec<(u8, String)>,
}

impl DropReasons {
    /// Names `code` (replacing the default name, if there is one).
    pub fn name(&mut self, code: u8, name: impl Into<String>) {
        self.extra.retain(|(known, _)| *known != code);
        self.extra.push((code, name.into()));
    }

    /// Parses `CODE=NAME`, as `--int-drop-reason` takes it.
    pub fn parse_entry(text: &str) -> Result<(u8, String), String> {
        let (code, name) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: expected CODE=NAME, e.g. 70=policer"))?;
        let code = code
            .trim()
            .parse::<u8>()
            .map_err(|_| format!("`{code}`: a drop reason code is 0 to 255"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("`{text}`: the name is empty"));
        }
        Ok((code, name.to_string()))
    }

    pub fn lookup(&self, code: u8) -> Option<&str> {
        self.extra
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(_, name)| name.as_str())
            .or_else(|| drop_reason_name(code))
    }
}

/// How a collector labels and names what it stores.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// The address reports are received on, stored in `collector` columns.
    pub collector: String,
    pub drop_reasons: DropReasons,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            collector: "local".to_string(),
            drop_reasons: DropReasons::default(),
        }
    }
}

/// One sequence-numbered source: an exporter's hardware id, and in v1.0/v2.0 the switch or
/// node id the numbers belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SourceKey {
    exporter: IpAddr,
    hw_id: u8,
    source: u32,
}

#[derive(Debug)]
struct Source {
    sequence: Sequence,
    /// The counts last written to `int_loss`.
    written: Loss,
    /// Reports received since the last batch.
    recent: u64,
}

/// Datagrams dropped for one reason from one exporter since the last batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ErrorKey {
    exporter: Option<IpAddr>,
    reason: &'static str,
}

#[derive(Debug)]
struct ErrorCount {
    datagrams: u64,
    last: String,
}

/// What a collector has taken in since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectorStats {
    pub datagrams: u64,
    pub reports: u64,
    pub errors: u64,
}

/// Decodes datagrams into the INT tables' builders. Not thread-safe by design: each receive
/// thread owns one, and hands its batches over whole.
#[derive(Debug)]
pub struct Collector {
    config: CollectorConfig,
    columns: Columns,
    report: Report,
    flow: FlowText,
    exporter: String,
    /// The address `exporter` spells, to write it once per change of exporter.
    last_exporter: Option<IpAddr>,
    sources: HashMap<SourceKey, Source>,
    errors: HashMap<ErrorKey, ErrorCount>,
    stats: CollectorStats,
    pending_reports: usize,
}

impl Collector {
    pub fn new(config: CollectorConfig) -> Self {
        Collector {
            config,
            columns: Columns::new(4_096),
            report: Report::default(),
            flow: FlowText::default(),
            exporter: String::new(),
            last_exporter: None,
            sources: HashMap::new(),
            errors: HashMap::new(),
            stats: CollectorStats::default(),
            pending_reports: 0,
        }
    }

    pub fn stats(&self) -> CollectorStats {
        self.stats
    }

    /// Reports appended since the last [`take`](Self::take).
    pub fn pending_reports(&self) -> usize {
        self.pending_reports
    }

    /// Decodes one datagram from `exporter`, received at `received_us` (µs since the epoch),
    /// and appends its reports; a datagram that does not decode is counted under its reason.
    pub fn datagram(&mut self, exporter: IpAddr, received_us: i64, datagram: &[u8]) {
        self.stats.datagrams += 1;
        if self.last_exporter != Some(exporter) {
            self.exporter.clear();
            write_ip(&mut self.exporter, exporter);
            self.last_exporter = Some(exporter);
        }
        let mut report = std::mem::take(&mut self.report);
        let mut appended = Appended {
            columns: &mut self.columns,
            flow: &mut self.flow,
            sources: &mut self.sources,
            config: &self.config,
            exporter,
            received: Received {
                at_us: received_us,
                exporter: &self.exporter,
            },
        };
        match super::decode(datagram, &mut report, &mut |r| appended.report(r)) {
            Ok(reports) => {
                self.stats.reports += reports as u64;
                self.pending_reports += reports;
            }
            Err(error) => self.count_error(Some(exporter), error.reason(), &error),
        }
        self.report = report;
    }

    /// Counts datagrams the receiver itself dropped (a full queue, an oversized datagram).
    pub fn count_dropped(&mut self, reason: &'static str, datagrams: u64, detail: &str) {
        let entry = self
            .errors
            .entry(ErrorKey {
                exporter: None,
                reason,
            })
            .or_insert_with(|| ErrorCount {
                datagrams: 0,
                last: String::new(),
            });
        entry.datagrams += datagrams;
        entry.last.clear();
        entry.last.push_str(detail);
    }

    fn count_error(&mut self, exporter: Option<IpAddr>, reason: &'static str, error: &DecodeError) {
        self.stats.errors += 1;
        let entry = self
            .errors
            .entry(ErrorKey { exporter, reason })
            .or_insert_with(|| ErrorCount {
                datagrams: 0,
                last: String::new(),
            });
        entry.datagrams += 1;
        entry.last.clear();
        let _ = write!(entry.last, "{error}");
    }

    /// Finishes the interval: the loss each source settled and the errors counted since the
    /// last call become rows stamped `now_us`, and every table with rows becomes one batch.
    pub fn take(
        &mut self,
        now_us: i64,
    ) -> Result<Vec<(&'static TableDef, RecordBatch)>, ArrowError> {
        self.interval(now_us, false)
    }

    /// Like [`take`](Self::take), at the end of the reports (a capture read to its end): the
    /// numbers still awaited in the reorder window are lost now.
    pub fn finish(
        &mut self,
        now_us: i64,
    ) -> Result<Vec<(&'static TableDef, RecordBatch)>, ArrowError> {
        self.interval(now_us, true)
    }

    fn interval(
        &mut self,
        now_us: i64,
        end: bool,
    ) -> Result<Vec<(&'static TableDef, RecordBatch)>, ArrowError> {
        self.write_loss(now_us, end);
        self.write_errors(now_us);
        self.pending_reports = 0;
        self.columns.finish()
    }

    /// A source that sent nothing in the interval will not fill its gaps either: its pending
    /// numbers are settled as lost, as they are at the `end`.
    fn write_loss(&mut self, now_us: i64, end: bool) {
        let mut exporter = String::new();
        for (key, source) in &mut self.sources {
            let quiet = std::mem::take(&mut source.recent) == 0;
            let counts = if quiet || end {
                source.sequence.loss()
            } else {
                source.sequence.settled()
            };
            let delta = difference(counts, source.written);
            if delta == Loss::default() {
                continue;
            }
            source.written = highest(counts, source.written);
            exporter.clear();
            let _ = write!(exporter, "{}", key.exporter);
            let received = Received {
                at_us: now_us,
                exporter: &exporter,
            };
            self.columns.loss.append(
                received,
                key.hw_id,
                key.source,
                delta,
                source.sequence.newest(),
            );
        }
    }

    fn write_errors(&mut self, now_us: i64) {
        let mut exporter = String::new();
        for (key, count) in self.errors.drain() {
            exporter.clear();
            match key.exporter {
                Some(address) => {
                    let _ = write!(exporter, "{address}");
                }
                None => exporter.push_str(&self.config.collector),
            }
            let received = Received {
                at_us: now_us,
                exporter: &exporter,
            };
            self.columns.errors.append(
                received,
                key.reason,
                count.datagrams,
                &self.config.collector,
                &count.last,
            );
        }
    }
}

/// Counts that only grow, `now - before`; a count that went back (it cannot, but a saturating
/// one could stall) gives 0 rather than a negative number.
fn difference(now: Loss, before: Loss) -> Loss {
    Loss {
        expected: now.expected.saturating_sub(before.expected),
        received: now.received.saturating_sub(before.received),
        lost: now.lost.saturating_sub(before.lost),
        reordered: now.reordered.saturating_sub(before.reordered),
        duplicated: now.duplicated.saturating_sub(before.duplicated),
        wraps: now.wraps.saturating_sub(before.wraps),
        resets: now.resets.saturating_sub(before.resets),
    }
}

fn highest(a: Loss, b: Loss) -> Loss {
    Loss {
        expected: a.expected.max(b.expected),
        received: a.received.max(b.received),
        lost: a.lost.max(b.lost),
        reordered: a.reordered.max(b.reordered),
        duplicated: a.duplicated.max(b.duplicated),
        wraps: a.wraps.max(b.wraps),
        resets: a.resets.max(b.resets),
    }
}

/// What appending one decoded report needs, borrowed from the collector for one datagram.
struct Appended<'a> {
    columns: &'a mut Columns,
    flow: &'a mut FlowText,
    sources: &'a mut HashMap<SourceKey, Source>,
    config: &'a CollectorConfig,
    exporter: IpAddr,
    received: Received<'a>,
}

impl Appended<'_> {
    fn report(&mut self, report: &Report) {
        self.account(report);
        self.flow.set(report.flow.as_ref());
        let received = self.received;
        let received_ns = received.at_us.saturating_mul(1_000);
        let ingress_us = report.ingress_ts.and_then(|ts| full_us(received_ns, ts));
        self.columns.reports.append(
            received,
            report,
            ingress_us,
            self.flow,
            &self.config.collector,
        );
        self.hops(report, received_ns);
        match report.kind {
            ReportKind::Drop => {
                let name = report
                    .drop_reason
                    .and_then(|code| self.config.drop_reasons.lookup(code));
                self.columns.drops.append(received, report, name, self.flow);
            }
            ReportKind::Queue => self.columns.congestion.append(received, report, self.flow),
            ReportKind::Flow => {}
        }
    }

    /// The stack's hops in path order (the wire puts the newest first), then the reporting
    /// switch's own metadata when the report carries any.
    fn hops(&mut self, report: &Report, received_ns: i64) {
        let stack = report.hops();
        let count = stack.len() as u32;
        for (newest_first, hop) in stack.iter().enumerate() {
            let index = count - 1 - newest_first as u32;
            self.hop(report, hop, index, false, received_ns);
        }
        if has_metadata(&report.local) {
            self.hop(report, &report.local, count, true, received_ns);
        }
    }

    fn hop(&mut self, report: &Report, hop: &Hop, index: u32, local: bool, received_ns: i64) {
        let place = HopPlace {
            index,
            local,
            ingress_us: hop.ingress_ts.and_then(|ts| full_us(received_ns, ts)),
            egress_us: hop.egress_ts.and_then(|ts| full_us(received_ns, ts)),
        };
        self.columns
            .hops
            .append(self.received, report, hop, place, self.flow);
    }

    fn account(&mut self, report: &Report) {
        let (source, bits) = match report.version {
            Version::V0_5 => (0, 32),
            Version::V1_0 => (report.switch_id.unwrap_or(0), 32),
            Version::V2_0 => (report.switch_id.unwrap_or(0), 22),
        };
        let key = SourceKey {
            exporter: self.exporter,
            hw_id: report.hw_id,
            source,
        };
        let source = self.sources.entry(key).or_insert_with(|| Source {
            sequence: Sequence::new(bits),
            written: Loss::default(),
            recent: 0,
        });
        source.recent += 1;
        source.sequence.record(report.sequence);
    }
}

/// Whether the reporting switch said anything of itself beyond its id and the packet's
/// arrival (which the report row already holds).
fn has_metadata(local: &Hop) -> bool {
    local.ingress_port.is_some()
        || local.egress_port.is_some()
        || local.hop_latency_ns.is_some()
        || local.queue_id.is_some()
        || local.egress_ts.is_some()
        || local.tx_utilisation.is_some()
}

/// A switch timestamp as µs since the epoch: 64-bit values within a day of the receive time are
/// taken as they are, anything else is read as the low 32 bits of the switch's nanoseconds and
/// rebuilt against the receive time. Zero is "no timestamp" (software switches send it).
fn full_us(received_ns: i64, ts: u64) -> Option<i64> {
    const DAY_NS: i64 = 86_400_000_000_000;
    if ts == 0 {
        return None;
    }
    let full = match i64::try_from(ts) {
        Ok(ns) if ns.abs_diff(received_ns) < DAY_NS.unsigned_abs() => ns,
        _ => rebuild_ns(received_ns, ts as u32),
    };
    Some(full.div_euclid(1_000))
}
