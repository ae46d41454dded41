//! The packet a report carries: Ethernet (with up to two VLAN tags), IPv4 or IPv6, then TCP,
//! UDP or ICMP; its 5-tuple is the flow's identity, and an INT-MD stack after the TCP or UDP
//! header is read into the report's hops.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::DecodeError;
use super::reader::Reader;
use super::report::{Flow, Report};
use super::stack;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const MAX_VLAN_TAGS: usize = 2;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
/// IPv6 extension headers skipped on the way to the transport header.
const IPV6_EXTENSIONS: [u8; 3] = [0, 43, 60];

/// Whether `bytes` start like an Ethernet frame carrying IP or a VLAN tag: the layout check
/// that tells a v0.5 report from other versions.
pub(crate) fn looks_like_ethernet(bytes: &[u8]) -> bool {
    bytes.len() >= 14
        && matches!(
            u16::from_be_bytes([bytes[12], bytes[13]]),
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 | ETHERTYPE_VLAN | ETHERTYPE_QINQ
        )
}

/// An Ethernet frame: skips the addresses and VLAN tags, then reads the IP packet. Frames of
/// other ethertypes carry no flow.
pub(crate) fn ethernet(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    r.take(12, "inner Ethernet header")?;
    let mut ethertype = r.u16("inner Ethernet header")?;
    let mut tags = 0;
    while matches!(ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(DecodeError::Unsupported {
                what: "VLAN tag depth",
                value: tags as u32,
            });
        }
        r.u16("inner VLAN tag")?;
        ethertype = r.u16("inner VLAN tag")?;
    }
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(r, report),
        ETHERTYPE_IPV6 => ipv6(r, report),
        _ => Ok(()),
    }
}

pub(crate) fn ipv4(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    let first = ip_version(&mut r, 4, "inner IPv4 header")?;
    let header_len = usize::from(first & 0x0F) * 4;
    if header_len < 20 {
        return Err(DecodeError::BadLength("inner IPv4 header"));
    }
    r.take(8, "inner IPv4 header")?;
    let protocol = r.u8("inner IPv4 header")?;
    r.take(2, "inner IPv4 header")?;
    let src = Ipv4Addr::from(r.u32("inner IPv4 header")?);
    let dst = Ipv4Addr::from(r.u32("inner IPv4 header")?);
    r.take(header_len - 20, "inner IPv4 options")?;
    transport(r, report, IpAddr::V4(src), IpAddr::V4(dst), protocol)
}

pub(crate) fn ipv6(mut r: Reader<'_>, report: &mut Report) -> Result<(), DecodeError> {
    ip_version(&mut r, 6, "inner IPv6 header")?;
    r.take(5, "inner IPv6 header")?;
    let mut next = r.u8("inner IPv6 header")?;
    r.u8("inner IPv6 header")?;
    let src = address6(r.take(16, "inner IPv6 header")?);
    let dst = address6(r.take(16, "inner IPv6 header")?);
    while IPV6_EXTENSIONS.contains(&next) {
        next = r.u8("inner IPv6 extension header")?;
        let len = usize::from(r.u8("inner IPv6 extension header")?) * 8 + 6;
        r.take(len, "inner IPv6 extension header")?;
    }
    transport(r, report, IpAddr::V6(src), IpAddr::V6(dst), next)
}

/// The first byte of an IP header, refused unless its version nibble is `version`.
fn ip_version(r: &mut Reader<'_>, version: u8, what: &'static str) -> Result<u8, DecodeError> {
    let first = r.u8(what)?;
    if first >> 4 != version {
        return Err(DecodeError::Unsupported {
            what: "inner IP version",
            value: u32::from(first >> 4),
        });
    }
    Ok(first)
}

fn address6(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(bytes);
    Ipv6Addr::from(octets)
}

/// The transport header's ports, then the INT stack that may follow a TCP or UDP header.
fn transport(
    mut r: Reader<'_>,
    report: &mut Report,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
) -> Result<(), DecodeError> {
    let mut flow = Flow {
        src,
        dst,
        src_port: 0,
        dst_port: 0,
        protocol,
    };
    if matches!(protocol, PROTO_TCP | PROTO_UDP) {
        flow.src_port = r.u16("inner transport header")?;
        flow.dst_port = r.u16("inner transport header")?;
        report.flow = Some(flow);
        if protocol == PROTO_UDP {
            r.take(4, "inner UDP header")?;
        } else {
            r.take(8, "inner TCP header")?;
            let offset = usize::from(r.u8("inner TCP header")? >> 4) * 4;
            if offset < 20 {
                return Err(DecodeError::BadLength("inner TCP header"));
            }
            r.take(offset - 13, "inner TCP header")?;
        }
        return stack::read(r, report);
    }
    report.flow = Some(flow);
    Ok(())
}
