//! What one telemetry report says, before any wire version: why it was sent, the reporting
//! switch's own metadata, the INT stack of the hops before it, and the packet it is about.

use std::net::Ipv4Addr;

use super::flows::Protocol;

/// Why a switch sent the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The sink of an INT-MD flow reports a sampled packet with its stack (F).
    Flow,
    /// A packet of a tracked flow went through a congested queue (Q, and F).
    Queue,
    /// A packet of a tracked flow was dropped, for this reason code (D, and F).
    Drop(u8),
}

/// One switch's metadata about one packet, as INT collects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HopRecord {
    pub switch_id: u32,
    pub ingress_port: u16,
    pub egress_port: u16,
    /// Egress minus ingress time, ns.
    pub latency_ns: u32,
    pub queue_id: u8,
    /// Cells in the egress queue (24 bits on the wire).
    pub occupancy: u32,
    /// Device nanoseconds (the low 32 bits where a layout has only those).
    pub ingress_ns: u64,
    pub egress_ns: u64,
}

/// The packet a report is about, as the reporting switch received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: Protocol,
    /// The sender's DSCP (an INT source marks packets carrying a stack with [`INT_DSCP`]
    /// and keeps this one in the shim).
    pub dscp: u8,
    pub ttl: u8,
    pub ip_id: u16,
    pub tcp_seq: u32,
    /// Payload bytes after the INT stack, counted in the IP and UDP lengths but not carried.
    pub payload: u16,
}

/// The DSCP that says an INT-MD stack follows the TCP or UDP header.
pub const INT_DSCP: u8 = 0x17;

/// One telemetry report of one switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: Kind,
    /// The reporting switch's own metadata; its `switch_id` is the report's.
    pub local: HopRecord,
    /// The INT-MD stack the packet carries, newest hop first as on the wire (empty: no INT
    /// header at all).
    pub stack: Vec<HopRecord>,
    pub packet: Packet,
}

impl Report {
    /// The D, Q and F flags.
    pub fn flags(&self) -> (bool, bool, bool) {
        match self.kind {
            Kind::Flow => (false, false, true),
            Kind::Queue => (false, true, true),
            Kind::Drop(_) => (true, false, true),
        }
    }
}
