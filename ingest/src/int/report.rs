//! What a decoded telemetry report holds, independent of its wire version. A [`Report`] is
//! reused from datagram to datagram (the decoders clear and refill it), and its hops live in a
//! fixed array, so decoding allocates nothing.

use std::net::IpAddr;

/// The most hops a report keeps; a stack claiming more is refused.
pub const MAX_HOPS: usize = 16;

/// The telemetry report format a datagram was decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    V0_5,
    V1_0,
    V2_0,
}

impl Version {
    /// As stored in the `version` column: 5, 10, 20.
    pub fn code(self) -> u32 {
        match self {
            Version::V0_5 => 5,
            Version::V1_0 => 10,
            Version::V2_0 => 20,
        }
    }
}

/// What made the switch send the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportKind {
    /// A flow (INT or postcard) report.
    #[default]
    Flow,
    /// A packet was dropped.
    Drop,
    /// A queue passed its congestion threshold.
    Queue,
}

impl ReportKind {
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Flow => "flow",
            ReportKind::Drop => "drop",
            ReportKind::Queue => "queue",
        }
    }
}

/// One switch's metadata: a hop of an INT stack, or what a report says of the reporting switch.
/// A field the switch did not collect, or sent as all ones ("not available"), is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hop {
    pub switch_id: Option<u32>,
    pub ingress_port: Option<u32>,
    pub egress_port: Option<u32>,
    pub hop_latency_ns: Option<u32>,
    pub queue_id: Option<u8>,
    pub queue_occupancy: Option<u32>,
    /// Device-local nanoseconds: 32 bits in v0.5/v1.0, 64 in v2.x.
    pub ingress_ts: Option<u64>,
    pub egress_ts: Option<u64>,
    pub tx_utilisation: Option<u32>,
}

impl Hop {
    /// `QueueID:8 | Occupancy:24`; all ones is "not available".
    pub(crate) fn set_queue(&mut self, word: u32) {
        if word != u32::MAX {
            self.queue_id = Some((word >> 24) as u8);
            self.queue_occupancy = Some(word & 0x00FF_FFFF);
        }
    }
}

/// The inner packet's flow identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
}

/// One telemetry report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub version: Version,
    pub kind: ReportKind,
    pub hw_id: u8,
    /// 32 bits in v0.5/v1.0, 22 in v2.0 (it wraps there).
    pub sequence: u32,
    /// The reporting switch, when the report names it (v1.0 and v2.0 always, v0.5 through its
    /// drop or switch-local header).
    pub switch_id: Option<u32>,
    pub dropped: bool,
    pub congested: bool,
    pub tracked_flow: bool,
    /// Device-local nanoseconds the packet entered the reporting switch.
    pub ingress_ts: Option<u64>,
    /// The reporting switch's own metadata (v0.5 switch-local/drop headers, v1.0/v2.0 metadata).
    pub local: Hop,
    pub drop_reason: Option<u8>,
    /// The inner packet's 5-tuple, when it carries IP.
    pub flow: Option<Flow>,
    /// The INT stack's hops, newest (last switch) first as on the wire.
    hops: [Hop; MAX_HOPS],
    hop_count: usize,
}

impl Report {
    pub fn hops(&self) -> &[Hop] {
        &self.hops[..self.hop_count]
    }

    /// The kind from what the headers said: a drop reason or the D flag makes a drop report,
    /// the Q flag a queue report, anything else a flow report.
    pub(crate) fn classify(&mut self) {
        self.kind = if self.dropped || self.drop_reason.is_some() {
            ReportKind::Drop
        } else if self.congested {
            ReportKind::Queue
        } else {
            ReportKind::Flow
        };
    }

    /// Empties the report for the next datagram. The hop array is not wiped: only the first
    /// `hop_count` entries are ever read, and `push_hop` writes each whole.
    pub(crate) fn clear(&mut self) {
        let Report {
            version,
            kind,
            hw_id,
            sequence,
            switch_id,
            dropped,
            congested,
            tracked_flow,
            ingress_ts,
            local,
            drop_reason,
            flow,
            hops: _,
            hop_count,
        } = self;
        *version = Version::default();
        *kind = ReportKind::default();
        *hw_id = 0;
        *sequence = 0;
        *switch_id = None;
        *dropped = false;
        *congested = false;
        *tracked_flow = false;
        *ingress_ts = None;
        *local = Hop::default();
        *drop_reason = None;
        *flow = None;
        *hop_count = 0;
    }

    /// Appends a hop; the caller has checked the stack's length against [`MAX_HOPS`].
    pub(crate) fn push_hop(&mut self, hop: Hop) {
        if self.hop_count < MAX_HOPS {
            self.hops[self.hop_count] = hop;
            self.hop_count += 1;
        }
    }
}

/// `None` for the all-ones "not available" value.
pub(crate) fn available(value: u32) -> Option<u32> {
    (value != u32::MAX).then_some(value)
}
