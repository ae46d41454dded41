//! One sampled packet of a flow at one tick: when it enters each switch of its path, how long
//! it waits there and behind how many cells (hundreds of nanoseconds and a few cells, or
//! microseconds behind hundreds of cells in a congested queue), and the report the exporter
//! makes of it. Every value comes from the simulation's seeded hash of the flow, hop and time.

use super::report::{HopRecord, Kind, Packet, Report};
use super::{IntSource, Stream};
use crate::simulation::mix;

const SALT_PACKET: u64 = 0x9ac7;
const SALT_HOP: u64 = 0x40b5;
/// The DSCP of the flows in queue 3 (AF31); the others are best effort.
const AF31: u8 = 26;
const INITIAL_TTL: u8 = 64;

impl IntSource {
    /// The report `exporter` makes at `at` of the stream's packet.
    pub(super) fn report(&self, stream: &Stream, exporter: usize, at: i64) -> Option<Report> {
        let routed = self.flows.get(stream.flow)?;
        let flow = &routed.flow;
        let path = flow.paths.get(routed.path_at(at))?;
        let reporter = path.iter().position(|c| c.node == exporter)?;
        let dice = mix(self.seed ^ SALT_PACKET, stream.flow as u64, at as u64);
        let mut arrives = (at as u64).wrapping_mul(1000).wrapping_add(dice % 1000);
        let mut hops = Vec::with_capacity(reporter + 1);
        for (i, crossing) in path[..=reporter].iter().enumerate() {
            let dice = mix(
                self.seed ^ SALT_HOP,
                (stream.flow << 8 | i) as u64,
                at as u64,
            );
            let congested = self.congested(crossing.node, crossing.egress, at);
            let (latency, occupancy) = if congested {
                (2600 + dice % 6000, 400 + (dice >> 20) % 900)
            } else {
                (250 + dice % 600, (dice >> 20) % 24)
            };
            let hop = HopRecord {
                switch_id: self.nodes[crossing.node].0,
                ingress_port: crossing.ingress,
                egress_port: crossing.egress,
                latency_ns: latency as u32,
                queue_id: flow.queue,
                occupancy: occupancy as u32,
                ingress_ns: arrives,
                egress_ns: arrives.wrapping_add(latency),
            };
            // The cable to the next switch: propagation and a frame's serialisation.
            arrives = hop.egress_ns.wrapping_add(120 + (dice >> 40) % 60);
            hops.push(hop);
        }
        let local = *hops.last()?;
        let on_stack = match stream.kind {
            Kind::Flow => reporter + 1,
            Kind::Queue => reporter,
            Kind::Drop(_) => 0,
        };
        let stack = hops[..on_stack].iter().rev().copied().collect();
        let previous = match reporter {
            0 => flow.src_host,
            n => path[n - 1].node,
        };
        let packet = Packet {
            src_mac: self.nodes.get(previous)?.1,
            dst_mac: self.nodes[exporter].1,
            src: flow.src,
            dst: flow.dst,
            src_port: flow.src_port,
            dst_port: flow.dst_port,
            protocol: flow.protocol,
            dscp: if flow.queue == 3 { AF31 } else { 0 },
            ttl: INITIAL_TTL.saturating_sub(reporter as u8),
            ip_id: (dice >> 16) as u16,
            tcp_seq: (dice >> 32) as u32,
            payload: flow.payload,
        };
        Some(Report {
            kind: stream.kind,
            local,
            stack,
            packet,
        })
    }
}
