//! Arrow builders for the INT tables, filled report by report. Each table's builder appends
//! its columns in the schema's order (frame, keys, values, `active`), so `finish` can hand the
//! arrays to `RecordBatch::try_new` against the table's own schema. Appending allocates only
//! when a builder's buffers grow, which they stop doing after the first few batches.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use arrow_array::builder::ArrayBuilder;
use arrow_array::builder::{
    BooleanBuilder, StringBuilder, TimestampMicrosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use sonde_schema::TableDef;
use sonde_schema::families::int::{CONGESTION, DROPS, ERRORS, HOPS, LOSS, REPORTS};

use super::report::{Flow, Hop, Report};
use super::sequence::Loss;

/// What every row of one datagram shares: when and from where it came.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    /// µs since the epoch.
    pub at_us: i64,
    /// The exporter's address as text (the rows' `hostname`).
    pub exporter: &'a str,
}

/// The columns every table starts with (`timestamp`, `hostname`) and ends with (`active`).
#[derive(Debug)]
struct Frame {
    timestamp: TimestampMicrosecondBuilder,
    hostname: StringBuilder,
    active: BooleanBuilder,
}

impl Frame {
    fn new(rows: usize) -> Self {
        Frame {
            timestamp: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            hostname: StringBuilder::with_capacity(rows, rows * 12),
            active: BooleanBuilder::with_capacity(rows),
        }
    }

    fn append(&mut self, received: Received<'_>) {
        self.timestamp.append_value(received.at_us);
        self.hostname.append_value(received.exporter);
        self.active.append_value(true);
    }

    fn rows(&self) -> usize {
        self.timestamp.len()
    }

    /// The arrays in schema order: the frame's head, `middle`, then `active`.
    fn finish(
        &mut self,
        table: &'static TableDef,
        middle: Vec<ArrayRef>,
    ) -> Result<RecordBatch, ArrowError> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(middle.len() + 3);
        arrays.push(Arc::new(self.timestamp.finish()));
        arrays.push(Arc::new(self.hostname.finish()));
        arrays.extend(middle);
        arrays.push(Arc::new(self.active.finish()));
        RecordBatch::try_new(table.schema(), arrays)
    }
}

/// The inner packet's 5-tuple, which several tables repeat so each can be filtered alone.
#[derive(Debug)]
struct FlowColumns {
    src_ip: StringBuilder,
    dst_ip: StringBuilder,
    src_port: UInt32Builder,
    dst_port: UInt32Builder,
    protocol: UInt32Builder,
}

impl FlowColumns {
    fn new(rows: usize) -> Self {
        FlowColumns {
            src_ip: StringBuilder::with_capacity(rows, rows * 12),
            dst_ip: StringBuilder::with_capacity(rows, rows * 12),
            src_port: UInt32Builder::with_capacity(rows),
            dst_port: UInt32Builder::with_capacity(rows),
            protocol: UInt32Builder::with_capacity(rows),
        }
    }

    fn append(&mut self, flow: Option<&Flow>, text: &FlowText) {
        match flow {
            Some(flow) => {
                self.src_ip.append_value(&text.src);
                self.dst_ip.append_value(&text.dst);
                self.src_port.append_value(u32::from(flow.src_port));
                self.dst_port.append_value(u32::from(flow.dst_port));
                self.protocol.append_value(u32::from(flow.protocol));
            }
            None => {
                self.src_ip.append_null();
                self.dst_ip.append_null();
                self.src_port.append_null();
                self.dst_port.append_null();
                self.protocol.append_null();
            }
        }
    }

    fn finish(&mut self) -> [ArrayRef; 5] {
        [
            Arc::new(self.src_ip.finish()),
            Arc::new(self.dst_ip.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_port.finish()),
            Arc::new(self.protocol.finish()),
        ]
    }
}

/// A report's flow addresses written out once, for every table that repeats them.
#[derive(Debug, Default)]
pub(crate) struct FlowText {
    src: String,
    dst: String,
}

impl FlowText {
    pub fn set(&mut self, flow: Option<&Flow>) {
        self.src.clear();
        self.dst.clear();
        if let Some(flow) = flow {
            write_ip(&mut self.src, flow.src);
            write_ip(&mut self.dst, flow.dst);
        }
    }
}

/// Writes an address as `Display` does; IPv4 by hand, since formatting machinery would cost
/// more than decoding the whole report.
pub(crate) fn write_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                write_octet(out, octet);
            }
        }
        // Writing into a String cannot fail.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

fn write_octet(out: &mut String, octet: u8) {
    if octet >= 100 {
        out.push(char::from(b'0' + octet / 100));
    }
    if octet >= 10 {
        out.push(char::from(b'0' + octet / 10 % 10));
    }
    out.push(char::from(b'0' + octet % 10));
}

fn opt_u32(builder: &mut UInt32Builder, value: Option<impl Into<u32>>) {
    builder.append_option(value.map(Into::into));
}

fn opt_u64(builder: &mut UInt64Builder, value: Option<impl Into<u64>>) {
    builder.append_option(value.map(Into::into));
}

/// `int_reports`.
#[derive(Debug)]
pub(crate) struct ReportColumns {
    frame: Frame,
    hw_id: UInt32Builder,
    sequence: UInt64Builder,
    version: UInt32Builder,
    report_type: StringBuilder,
    switch_id: UInt32Builder,
    dropped: BooleanBuilder,
    congested: BooleanBuilder,
    tracked: BooleanBuilder,
    ingress_time: TimestampMicrosecondBuilder,
    flow: FlowColumns,
    hop_count: UInt32Builder,
    collector: StringBuilder,
}

impl ReportColumns {
    pub fn new(rows: usize) -> Self {
        ReportColumns {
            frame: Frame::new(rows),
            hw_id: UInt32Builder::with_capacity(rows),
            sequence: UInt64Builder::with_capacity(rows),
            version: UInt32Builder::with_capacity(rows),
            report_type: StringBuilder::with_capacity(rows, rows * 12),
            switch_id: UInt32Builder::with_capacity(rows),
            dropped: BooleanBuilder::with_capacity(rows),
            congested: BooleanBuilder::with_capacity(rows),
            tracked: BooleanBuilder::with_capacity(rows),
            ingress_time: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            flow: FlowColumns::new(rows),
            hop_count: UInt32Builder::with_capacity(rows),
            collector: StringBuilder::with_capacity(rows, rows * 12),
        }
    }

    pub fn append(
        &mut self,
        received: Received<'_>,
        report: &Report,
        ingress_us: Option<i64>,
        flow: &FlowText,
        collector: &str,
    ) {
        self.frame.append(received);
        self.hw_id.append_value(u32::from(report.hw_id));
        self.sequence.append_value(u64::from(report.sequence));
        self.version.append_value(report.version.code());
        self.report_type.append_value(report.kind.name());
        self.switch_id.append_option(report.switch_id);
        self.dropped.append_value(report.dropped);
        self.congested.append_value(report.congested);
        self.tracked.append_value(report.tracked_flow);
        self.ingress_time.append_option(ingress_us);
        self.flow.append(report.flow.as_ref(), flow);
        self.hop_count.append_value(report.hops().len() as u32);
        self.collector.append_value(collector);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut middle: Vec<ArrayRef> = vec![
            Arc::new(self.hw_id.finish()),
            Arc::new(self.sequence.finish()),
            Arc::new(self.version.finish()),
            Arc::new(self.report_type.finish()),
            Arc::new(self.switch_id.finish()),
            Arc::new(self.dropped.finish()),
            Arc::new(self.congested.finish()),
            Arc::new(self.tracked.finish()),
            Arc::new(self.ingress_time.finish()),
        ];
        middle.extend(self.flow.finish());
        middle.push(Arc::new(self.hop_count.finish()));
        middle.push(Arc::new(self.collector.finish()));
        self.frame.finish(&REPORTS, middle)
    }
}

/// One hop row's position and times, worked out by the collector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HopPlace {
    pub index: u32,
    pub local: bool,
    pub ingress_us: Option<i64>,
    pub egress_us: Option<i64>,
}

/// `int_hops`.
#[derive(Debug)]
pub(crate) struct HopColumns {
    frame: Frame,
    hw_id: UInt32Builder,
    sequence: UInt64Builder,
    hop: UInt32Builder,
    switch_id: UInt32Builder,
    local: BooleanBuilder,
    ingress_port: UInt32Builder,
    egress_port: UInt32Builder,
    hop_latency_ns: UInt64Builder,
    queue_id: UInt32Builder,
    queue_occupancy: UInt64Builder,
    ingress_time: TimestampMicrosecondBuilder,
    egress_time: TimestampMicrosecondBuilder,
    tx_utilisation: UInt32Builder,
    flow: FlowColumns,
}

impl HopColumns {
    pub fn new(rows: usize) -> Self {
        HopColumns {
            frame: Frame::new(rows),
            hw_id: UInt32Builder::with_capacity(rows),
            sequence: UInt64Builder::with_capacity(rows),
            hop: UInt32Builder::with_capacity(rows),
            switch_id: UInt32Builder::with_capacity(rows),
            local: BooleanBuilder::with_capacity(rows),
            ingress_port: UInt32Builder::with_capacity(rows),
            egress_port: UInt32Builder::with_capacity(rows),
            hop_latency_ns: UInt64Builder::with_capacity(rows),
            queue_id: UInt32Builder::with_capacity(rows),
            queue_occupancy: UInt64Builder::with_capacity(rows),
            ingress_time: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            egress_time: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            tx_utilisation: UInt32Builder::with_capacity(rows),
            flow: FlowColumns::new(rows),
        }
    }

    pub fn append(
        &mut self,
        received: Received<'_>,
        report: &Report,
        hop: &Hop,
        place: HopPlace,
        flow: &FlowText,
    ) {
        self.frame.append(received);
        self.hw_id.append_value(u32::from(report.hw_id));
        self.sequence.append_value(u64::from(report.sequence));
        self.hop.append_value(place.index);
        self.switch_id.append_option(hop.switch_id);
        self.local.append_value(place.local);
        self.ingress_port.append_option(hop.ingress_port);
        self.egress_port.append_option(hop.egress_port);
        opt_u64(&mut self.hop_latency_ns, hop.hop_latency_ns);
        opt_u32(&mut self.queue_id, hop.queue_id);
        opt_u64(&mut self.queue_occupancy, hop.queue_occupancy);
        self.ingress_time.append_option(place.ingress_us);
        self.egress_time.append_option(place.egress_us);
        self.tx_utilisation.append_option(hop.tx_utilisation);
        self.flow.append(report.flow.as_ref(), flow);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut middle: Vec<ArrayRef> = vec![
            Arc::new(self.hw_id.finish()),
            Arc::new(self.sequence.finish()),
            Arc::new(self.hop.finish()),
            Arc::new(self.switch_id.finish()),
            Arc::new(self.local.finish()),
            Arc::new(self.ingress_port.finish()),
            Arc::new(self.egress_port.finish()),
            Arc::new(self.hop_latency_ns.finish()),
            Arc::new(self.queue_id.finish()),
            Arc::new(self.queue_occupancy.finish()),
            Arc::new(self.ingress_time.finish()),
            Arc::new(self.egress_time.finish()),
            Arc::new(self.tx_utilisation.finish()),
        ];
        middle.extend(self.flow.finish());
        self.frame.finish(&HOPS, middle)
    }
}

/// `int_drops`.
#[derive(Debug)]
pub(crate) struct DropColumns {
    frame: Frame,
    hw_id: UInt32Builder,
    sequence: UInt64Builder,
    switch_id: UInt32Builder,
    ingress_port: UInt32Builder,
    egress_port: UInt32Builder,
    queue_id: UInt32Builder,
    drop_reason: UInt32Builder,
    reason: StringBuilder,
    flow: FlowColumns,
}

impl DropColumns {
    pub fn new(rows: usize) -> Self {
        DropColumns {
            frame: Frame::new(rows),
            hw_id: UInt32Builder::with_capacity(rows),
            sequence: UInt64Builder::with_capacity(rows),
            switch_id: UInt32Builder::with_capacity(rows),
            ingress_port: UInt32Builder::with_capacity(rows),
            egress_port: UInt32Builder::with_capacity(rows),
            queue_id: UInt32Builder::with_capacity(rows),
            drop_reason: UInt32Builder::with_capacity(rows),
            reason: StringBuilder::with_capacity(rows, rows * 12),
            flow: FlowColumns::new(rows),
        }
    }

    pub fn append(
        &mut self,
        received: Received<'_>,
        report: &Report,
        reason_name: Option<&str>,
        flow: &FlowText,
    ) {
        let local = &report.local;
        self.frame.append(received);
        self.hw_id.append_value(u32::from(report.hw_id));
        self.sequence.append_value(u64::from(report.sequence));
        self.switch_id
            .append_option(report.switch_id.or(local.switch_id));
        self.ingress_port.append_option(local.ingress_port);
        self.egress_port.append_option(local.egress_port);
        opt_u32(&mut self.queue_id, local.queue_id);
        opt_u32(&mut self.drop_reason, report.drop_reason);
        self.reason.append_option(reason_name);
        self.flow.append(report.flow.as_ref(), flow);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut middle: Vec<ArrayRef> = vec![
            Arc::new(self.hw_id.finish()),
            Arc::new(self.sequence.finish()),
            Arc::new(self.switch_id.finish()),
            Arc::new(self.ingress_port.finish()),
            Arc::new(self.egress_port.finish()),
            Arc::new(self.queue_id.finish()),
            Arc::new(self.drop_reason.finish()),
            Arc::new(self.reason.finish()),
        ];
        middle.extend(self.flow.finish());
        self.frame.finish(&DROPS, middle)
    }
}

/// `int_congestion`.
#[derive(Debug)]
pub(crate) struct CongestionColumns {
    frame: Frame,
    hw_id: UInt32Builder,
    sequence: UInt64Builder,
    switch_id: UInt32Builder,
    egress_port: UInt32Builder,
    queue_id: UInt32Builder,
    queue_occupancy: UInt64Builder,
    hop_latency_ns: UInt64Builder,
    flow: FlowColumns,
}

impl CongestionColumns {
    pub fn new(rows: usize) -> Self {
        CongestionColumns {
            frame: Frame::new(rows),
            hw_id: UInt32Builder::with_capacity(rows),
            sequence: UInt64Builder::with_capacity(rows),
            switch_id: UInt32Builder::with_capacity(rows),
            egress_port: UInt32Builder::with_capacity(rows),
            queue_id: UInt32Builder::with_capacity(rows),
            queue_occupancy: UInt64Builder::with_capacity(rows),
            hop_latency_ns: UInt64Builder::with_capacity(rows),
            flow: FlowColumns::new(rows),
        }
    }

    /// A queue report: the congested queue is the reporting switch's (its local metadata).
    pub fn append(&mut self, received: Received<'_>, report: &Report, flow: &FlowText) {
        let local = &report.local;
        self.frame.append(received);
        self.hw_id.append_value(u32::from(report.hw_id));
        self.sequence.append_value(u64::from(report.sequence));
        self.switch_id
            .append_option(report.switch_id.or(local.switch_id));
        self.egress_port.append_option(local.egress_port);
        opt_u32(&mut self.queue_id, local.queue_id);
        opt_u64(&mut self.queue_occupancy, local.queue_occupancy);
        opt_u64(&mut self.hop_latency_ns, local.hop_latency_ns);
        self.flow.append(report.flow.as_ref(), flow);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut middle: Vec<ArrayRef> = vec![
            Arc::new(self.hw_id.finish()),
            Arc::new(self.sequence.finish()),
            Arc::new(self.switch_id.finish()),
            Arc::new(self.egress_port.finish()),
            Arc::new(self.queue_id.finish()),
            Arc::new(self.queue_occupancy.finish()),
            Arc::new(self.hop_latency_ns.finish()),
        ];
        middle.extend(self.flow.finish());
        self.frame.finish(&CONGESTION, middle)
    }
}

/// `int_loss`: one row per source whose counts moved in the interval.
#[derive(Debug)]
pub(crate) struct LossColumns {
    frame: Frame,
    hw_id: UInt32Builder,
    source: UInt32Builder,
    counts: [UInt64Builder; 7],
    last_sequence: UInt64Builder,
}

impl LossColumns {
    pub fn new(rows: usize) -> Self {
        LossColumns {
            frame: Frame::new(rows),
            hw_id: UInt32Builder::with_capacity(rows),
            source: UInt32Builder::with_capacity(rows),
            counts: std::array::from_fn(|_| UInt64Builder::with_capacity(rows)),
            last_sequence: UInt64Builder::with_capacity(rows),
        }
    }

    pub fn append(
        &mut self,
        received: Received<'_>,
        hw_id: u8,
        source: u32,
        delta: Loss,
        last_sequence: Option<u32>,
    ) {
        self.frame.append(received);
        self.hw_id.append_value(u32::from(hw_id));
        self.source.append_value(source);
        let values = [
            delta.expected,
            delta.received,
            delta.lost,
            delta.reordered,
            delta.duplicated,
            delta.wraps,
            delta.resets,
        ];
        for (builder, value) in self.counts.iter_mut().zip(values) {
            builder.append_value(value);
        }
        opt_u64(&mut self.last_sequence, last_sequence);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut middle: Vec<ArrayRef> = vec![
            Arc::new(self.hw_id.finish()),
            Arc::new(self.source.finish()),
        ];
        middle.extend(
            self.counts
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        middle.push(Arc::new(self.last_sequence.finish()));
        self.frame.finish(&LOSS, middle)
    }
}

/// `int_errors`: one row per exporter and reason that dropped datagrams in the interval.
#[derive(Debug)]
pub(crate) struct ErrorColumns {
    frame: Frame,
    reason: StringBuilder,
    datagrams: UInt64Builder,
    collector: StringBuilder,
    detail: StringBuilder,
}

impl ErrorColumns {
    pub fn new(rows: usize) -> Self {
        ErrorColumns {
            frame: Frame::new(rows),
            reason: StringBuilder::with_capacity(rows, rows * 12),
            datagrams: UInt64Builder::with_capacity(rows),
            collector: StringBuilder::with_capacity(rows, rows * 12),
            detail: StringBuilder::with_capacity(rows, rows * 12),
        }
    }

    pub fn append(
        &mut self,
        received: Received<'_>,
        reason: &str,
        datagrams: u64,
        collector: &str,
        detail: &str,
    ) {
        self.frame.append(received);
        self.reason.append_value(reason);
        self.datagrams.append_value(datagrams);
        self.collector.append_value(collector);
        self.detail.append_value(detail);
    }

    pub fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let middle: Vec<ArrayRef> = vec![
            Arc::new(self.reason.finish()),
            Arc::new(self.datagrams.finish()),
            Arc::new(self.collector.finish()),
            Arc::new(self.detail.finish()),
        ];
        self.frame.finish(&ERRORS, middle)
    }
}

/// The tables an INT batch fills, each with its builder.
#[derive(Debug)]
pub(crate) struct Columns {
    pub reports: ReportColumns,
    pub hops: HopColumns,
    pub drops: DropColumns,
    pub congestion: CongestionColumns,
    pub loss: LossColumns,
    pub errors: ErrorColumns,
}

impl Columns {
    /// Builders with room for `reports` reports (and a few hops each) before they grow.
    pub fn new(reports: usize) -> Self {
        Columns {
            reports: ReportColumns::new(reports),
            hops: HopColumns::new(reports * 2),
            drops: DropColumns::new(reports / 64),
            congestion: CongestionColumns::new(reports / 64),
            loss: LossColumns::new(16),
            errors: ErrorColumns::new(16),
        }
    }

    /// Every table that has rows, as a batch of its own schema. Finishing leaves a builder
    /// without room, so each is replaced by one sized for as many rows as it just held: the
    /// next batch then fills buffers allocated once, instead of regrowing and copying them.
    pub fn finish(&mut self) -> Result<Vec<(&'static TableDef, RecordBatch)>, ArrowError> {
        let mut batches = Vec::new();
        if self.reports.rows() > 0 {
            let rows = self.reports.rows();
            batches.push((
                &REPORTS,
                std::mem::replace(&mut self.reports, ReportColumns::new(rows)).finish()?,
            ));
        }
        if self.hops.rows() > 0 {
            let rows = self.hops.rows();
            batches.push((
                &HOPS,
                std::mem::replace(&mut self.hops, HopColumns::new(rows)).finish()?,
            ));
        }
        if self.drops.rows() > 0 {
            batches.push((&DROPS, self.drops.finish()?));
        }
        if self.congestion.rows() > 0 {
            batches.push((&CONGESTION, self.congestion.finish()?));
        }
        if self.loss.rows() > 0 {
            batches.push((&LOSS, self.loss.finish()?));
        }
        if self.errors.rows() > 0 {
            batches.push((&ERRORS, self.errors.finish()?));
        }
        Ok(batches)
    }
}
