//! Whether an address is already in use on the wire before it is offered: the kernel's
//! neighbour table (`/proc/net/arp`, re-read at most once a second) naming another MAC for it,
//! and, with `ping-check true;`, an ICMP echo answered within [`PING_TIMEOUT`] (isc's
//! `ping-timeout` is 1 s; a ZTP network answers far sooner).
//!
//! The echo uses an unprivileged ICMP datagram socket when `net.ipv4.ping_group_range` allows
//! it and a raw ICMP socket otherwise (root); it runs on the blocking pool with a read timeout.
//! When neither socket can be opened the check is skipped (logged once): a server that cannot
//! ping still serves.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

/// How long a read of `/proc/net/arp` is trusted.
const ARP_FRESH: Duration = Duration::from_secs(1);
/// How long an echo reply is waited for.
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// IP → MAC of the complete neighbour entries.
pub type Neighbours = HashMap<Ipv4Addr, [u8; 6]>;

/// The kernel's neighbour table, cached briefly.
#[derive(Debug, Default)]
pub struct ArpCache {
    cached: Mutex<Option<(Instant, Arc<Neighbours>)>>,
}

impl ArpCache {
    /// The complete entries now (IP → MAC).
    pub fn snapshot(&self) -> Arc<Neighbours> {
        let mut cached = self.cached.lock();
        if let Some((at, table)) = cached.as_ref()
            && at.elapsed() < ARP_FRESH
        {
            return Arc::clone(table);
        }
        let table = Arc::new(
            std::fs::read_to_string("/proc/net/arp")
                .map(|text| parse_arp(&text))
                .unwrap_or_default(),
        );
        *cached = Some((Instant::now(), Arc::clone(&table)));
        table
    }
}

/// `/proc/net/arp`: `IP address  HW type  Flags  HW address  Mask  Device`, complete entries
/// (flag 0x2) with a non-zero MAC.
pub fn parse_arp(text: &str) -> HashMap<Ipv4Addr, [u8; 6]> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let ip = fields.next()?.parse().ok()?;
            let _hw_type = fields.next()?;
            let flags = u32::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok()?;
            let mac = crate::leases::parse_mac(fields.next()?)?;
            (flags & 2 != 0 && mac != [0; 6]).then_some((ip, mac))
        })
        .collect()
}

static PING_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether `ip` answers an ICMP echo within [`PING_TIMEOUT`].
pub async fn answers_ping(ip: Ipv4Addr) -> bool {
    tokio::task::spawn_blocking(move || ping(ip, PING_TIMEOUT))
        .await
        .unwrap_or(false)
}

fn open_icmp() -> Option<(Socket, bool)> {
    if let Ok(socket) = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4)) {
        return Some((socket, false));
    }
    match Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)) {
        Ok(socket) => Some((socket, true)),
        Err(error) => {
            if !PING_UNAVAILABLE.swap(true, Ordering::Relaxed) {
                warn!(%error, "ping-check skipped: no ICMP socket can be opened");
            }
            None
        }
    }
}

fn ping(ip: Ipv4Addr, timeout: Duration) -> bool {
    let Some((socket, raw)) = open_icmp() else {
        return false;
    };
    // A datagram socket's recvfrom/sendto are the same calls for ICMP: std's UDP type reads
    // into an initialised buffer without unsafe code.
    let socket = std::net::UdpSocket::from(socket);
    let id = (std::process::id() & 0xffff) as u16;
    let target = SocketAddr::V4(SocketAddrV4::new(ip, 0));
    if socket.send_to(&echo_request(id, 1), target).is_err() {
        return false;
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            return false;
        };
        if from.ip() == std::net::IpAddr::V4(ip) && is_echo_reply(&buf[..len], raw) {
            return true;
        }
    }
}

/// An ICMP echo request (RFC 792): type 8, code 0, checksum, identifier, sequence, payload.
pub fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut packet = vec![8, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(b"sonde-dhcp-ping");
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// The Internet checksum (RFC 1071).
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo reply (type 0), behind its IPv4 header on a raw socket.
fn is_echo_reply(bytes: &[u8], raw: bool) -> bool {
    let icmp = if raw {
        let header = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
        bytes.get(header..)
    } else {
        Some(bytes)
    };
    icmp.and_then(|i| i.first()) == Some(&0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn arp_lines_with_complete_entries_are_read() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device\n\
                    10.0.0.5         0x1         0x2         48:65:ee:11:da:85     *        eth0\n\
                    10.0.0.6         0x1         0x0         00:00:00:00:00:00     *        eth0\n";
        let table = parse_arp(text);
        assert_eq!(table.len(), 1);
        assert_eq!(
            table[&Ipv4Addr::new(10, 0, 0, 5)],
            [0x48, 0x65, 0xee, 0x11, 0xda, 0x85]
        );
    }

    #[test]
    fn echo_request_checksums_to_zero() {
        let packet = echo_request(0x1234, 1);
        assert_eq!(&packet[..2], &[8, 0]);
        assert_eq!(checksum(&packet), 0);
    }
}
