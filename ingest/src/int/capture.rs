//! INT datagrams out of a packet capture (pcap or pcapng, told apart by their first block):
//! each UDP datagram to one of the collector's ports, with the capture's own timestamp and
//! source address, as the receiver would have handed it to the collector. For post-mortems
//! of a capture taken on a collector or a mirror port.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError, create_reader};

/// Bytes the reader buffers; a block larger than this is refused.
const READ_BUFFER: usize = 1 << 20;

/// Why a capture could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng capture")]
    NotACapture,
    #[error("the capture is damaged after {0} bytes")]
    Damaged(u64),
    #[error("the capture ends inside a block, after {0} bytes")]
    Truncated(u64),
    #[error("cannot read the capture: {0}")]
    Read(String),
}

/// One UDP datagram of the capture.
#[derive(Debug, Clone, Copy)]
pub struct Captured<'a> {
    pub source: IpAddr,
    pub destination_port: u16,
    /// The capture's timestamp, µs since the epoch.
    pub at_us: i64,
    pub payload: &'a [u8],
}

/// What a pass over a capture saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub packets: u64,
    /// UDP datagrams to the chosen ports, handed on.
    pub datagrams: u64,
    /// Packets that were not UDP to those ports (or not IP at all, or IP fragments).
    pub skipped: u64,
    /// Bytes of the capture read so far.
    pub bytes: u64,
}

/// Which datagrams of a capture are INT reports.
#[derive(Debug, Clone)]
pub struct CaptureFilter {
    /// UDP destination ports; empty takes every UDP datagram.
    pub ports: Vec<u16>,
}

impl CaptureFilter {
    fn takes(&self, port: u16) -> bool {
        self.ports.is_empty() || self.ports.contains(&port)
    }
}

/// The link type and timestamp units of one pcapng interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: Linktype,
    units_per_second: u64,
    offset_seconds: i64,
}

/// Reads the whole capture, calling `each` for every datagram the filter takes and `progress`
/// every few thousand packets.
pub fn read_capture(
    input: impl Read + Send,
    filter: &CaptureFilter,
    each: &mut dyn FnMut(Captured<'_>),
    progress: &mut dyn FnMut(&CaptureStats),
) -> Result<CaptureStats, CaptureError> {
    let mut reader = create_reader(READ_BUFFER, input).map_err(|error| match error {
        PcapError::Eof | PcapError::HeaderNotRecognized => CaptureError::NotACapture,
        other => CaptureError::Read(format!("{other:?}")),
    })?;
    let mut stats = CaptureStats::default();
    let mut legacy = (Linktype::ETHERNET, false);
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut stalled = false;
    loop {
        match reader.next() {
            Ok((length, block)) => {
                stalled = false;
                stats.bytes += length as u64;
                match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        legacy = (header.network, header.is_nanosecond_precision());
                    }
                    PcapBlockOwned::Legacy(packet) => {
                        let fraction = i64::from(packet.ts_usec);
                        let micros = if legacy.1 { fraction / 1_000 } else { fraction };
                        let at_us = i64::from(packet.ts_sec) * 1_000_000 + micros;
                        packet_of(legacy.0, at_us, packet.data, filter, &mut stats, each);
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype,
                            units_per_second: idb.ts_resolution().unwrap_or(1_000_000),
                            offset_seconds: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match interfaces.get(epb.if_id as usize) {
                            Some(interface) => {
                                let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                let at_us = ticks_to_us(ticks, interface);
                                packet_of(
                                    interface.linktype,
                                    at_us,
                                    epb.data,
                                    filter,
                                    &mut stats,
                                    each,
                                );
                            }
                            None => {
                                stats.packets += 1;
                                stats.skipped += 1;
                            }
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(length);
                if stats.packets.is_multiple_of(4_096) {
                    progress(&stats);
                }
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                // A refill that brings nothing new means the file ends inside a block.
                if stalled {
                    return Err(CaptureError::Truncated(stats.bytes));
                }
                stalled = true;
                reader
                    .refill()
                    .map_err(|e| CaptureError::Read(format!("{e:?}")))?;
            }
            Err(PcapError::UnexpectedEof) => return Err(CaptureError::Truncated(stats.bytes)),
            Err(PcapError::BufferTooSmall) => {
                return Err(CaptureError::Read(format!(
                    "a block larger than {READ_BUFFER} bytes"
                )));
            }
            Err(_) => return Err(CaptureError::Damaged(stats.bytes)),
        }
    }
    progress(&stats);
    Ok(stats)
}

fn ticks_to_us(ticks: u64, interface: &Interface) -> i64 {
    let units = u128::from(interface.units_per_second.max(1));
    let micros = u128::from(ticks) * 1_000_000 / units;
    (micros as i64).saturating_add(interface.offset_seconds.saturating_mul(1_000_000))
}

fn packet_of(
    linktype: Linktype,
    at_us: i64,
    frame: &[u8],
    filter: &CaptureFilter,
    stats: &mut CaptureStats,
    each: &mut dyn FnMut(Captured<'_>),
) {
    stats.packets += 1;
    match udp_of(linktype, frame) {
        Some((source, destination_port, payload)) if filter.takes(destination_port) => {
            stats.datagrams += 1;
            each(Captured {
                source,
                destination_port,
                at_us,
                payload,
            });
        }
        _ => stats.skipped += 1,
    }
}

/// The source, destination port and payload of a UDP datagram in a captured frame.
fn udp_of(linktype: Linktype, frame: &[u8]) -> Option<(IpAddr, u16, &[u8])> {
    let ip = match linktype {
        Linktype::ETHERNET => ethernet_payload(frame)?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => frame,
        // Linux cooked capture: 16-byte header (v1), 20-byte (v2).
        Linktype::LINUX_SLL => frame.get(16..)?,
        Linktype(276) => frame.get(20..)?,
        // BSD loopback: a 4-byte address family.
        Linktype::NULL => frame.get(4..)?,
        _ => return None,
    };
    match ip.first()? >> 4 {
        4 => ipv4_udp(ip),
        6 => ipv6_udp(ip),
        _ => None,
    }
}

fn ethernet_payload(frame: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    while matches!(ethertype, 0x8100 | 0x88A8) {
        at += 4;
        ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    }
    matches!(ethertype, 0x0800 | 0x86DD).then(|| frame.get(at + 2..))?
}

fn ipv4_udp(ip: &[u8]) -> Option<(IpAddr, u16, &[u8])> {
    let header = usize::from(ip.first()? & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let fragment = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
    // More fragments, or not the first: the datagram is not whole here.
    if fragment & 0x3FFF != 0 || *ip.get(9)? != 17 || header < 20 {
        return None;
    }
    let source = Ipv4Addr::new(*ip.get(12)?, *ip.get(13)?, *ip.get(14)?, *ip.get(15)?);
    let packet = ip.get(..total.min(ip.len()))?;
    udp(IpAddr::V4(source), packet.get(header..)?)
}

fn ipv6_udp(ip: &[u8]) -> Option<(IpAddr, u16, &[u8])> {
    if *ip.get(6)? != 17 {
        return None;
    }
    let octets: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
    udp(IpAddr::V6(Ipv6Addr::from(octets)), ip.get(40..)?)
}

fn udp(source: IpAddr, segment: &[u8]) -> Option<(IpAddr, u16, &[u8])> {
    let port = u16::from_be_bytes([*segment.get(2)?, *segment.get(3)?]);
    let length = usize::from(u16::from_be_bytes([*segment.get(4)?, *segment.get(5)?]));
    if length < 8 {
        return None;
    }
    Some((source, port, segment.get(8..length.min(segment.len()))?))
}
