//! Sending and receiving: the socket [`bind`] makes (SO_REUSEADDR, SO_BROADCAST and, given an
//! interface, SO_BINDTODEVICE so the limited broadcast leaves that interface and only its
//! requests arrive), where a reply goes (RFC 2131 §4.1), and the run loop: one task per
//! datagram under a semaphore of `max_in_flight` permits, a datagram arriving with none left
//! dropped and counted, the expiry sweep on a timer, and on shutdown every task in flight
//! finished before `run` returns.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::config::DhcpConfig;
use crate::error::{Result, ZtpError};

use super::message::Request;
use super::{DhcpServer, SWEEP_EVERY, bump};

/// The port clients listen on.
const CLIENT_PORT: u16 = 68;
/// The port servers and relays listen on.
const SERVER_PORT: u16 = 67;
/// The largest datagram read.
const RECEIVE_BUFFER: usize = 4096;
/// The socket's receive buffer: a burst of thousands of booting clients (a rack powered on at
/// once) waits in the kernel rather than being dropped. Forced past `rmem_max` when the server
/// may (root); otherwise the kernel's cap applies.
const SOCKET_BUFFER: usize = 8 << 20;

/// A UDP socket for the server: SO_REUSEADDR, SO_BROADCAST, SO_BINDTODEVICE when given.
pub fn bind(address: SocketAddr, interface: Option<&str>) -> Result<UdpSocket> {
    let error = |source: std::io::Error| ZtpError::Bind {
        address: match interface {
            Some(dev) => format!("{address} on {dev}"),
            None => address.to_string(),
        },
        source,
    };
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(error)?;
    socket.set_reuse_address(true).map_err(error)?;
    socket.set_broadcast(true).map_err(error)?;
    if let Some(dev) = interface {
        socket.bind_device(Some(dev.as_bytes())).map_err(error)?;
    }
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&socket, SOCKET_BUFFER).is_err() {
        let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    }
    socket.set_nonblocking(true).map_err(error)?;
    socket.bind(&address.into()).map_err(error)?;
    UdpSocket::from_std(socket.into()).map_err(error)
}

/// Where the reply to `request` (received from `from`) goes.
pub fn destination(request: &Request, from: SocketAddr, nak: bool) -> SocketAddr {
    if request.relayed() {
        let port = match from {
            SocketAddr::V4(v4) if *v4.ip() == request.giaddr => v4.port(),
            _ => SERVER_PORT,
        };
        return SocketAddr::V4(SocketAddrV4::new(request.giaddr, port));
    }
    if !nak && !request.ciaddr.is_unspecified() {
        return SocketAddr::V4(SocketAddrV4::new(request.ciaddr, CLIENT_PORT));
    }
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT))
}

/// A server identifier when none is configured: a local address on a configured subnet (the
/// kernel's `/proc/net/fib_trie` lists them), else the first subnet's first router.
pub fn default_server_id(config: &DhcpConfig) -> Option<Ipv4Addr> {
    let local = std::fs::read_to_string("/proc/net/fib_trie")
        .map(|t| local_addresses(&t))
        .unwrap_or_default();
    local
        .into_iter()
        .find(|ip| config.subnets.iter().any(|s| s.contains(*ip)))
        .or_else(|| {
            config.subnets.iter().find_map(|s| match s.options.get(3) {
                Some(crate::config::OptionValue::IpAddresses(ips)) => ips.first().copied(),
                _ => None,
            })
        })
}

/// The addresses `/proc/net/fib_trie` marks `/32 host LOCAL`.
fn local_addresses(text: &str) -> Vec<Ipv4Addr> {
    let mut found = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let line = line.trim_start_matches([' ', '|', '+', '-']);
        if let Ok(ip) = line.trim().parse::<Ipv4Addr>() {
            last = Some(ip);
        } else if line.contains("/32 host LOCAL")
            && let Some(ip) = last
            && !ip.is_loopback()
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    found
}

/// The run loop behind [`DhcpServer::run`].
pub async fn serve(
    server: DhcpServer,
    socket: UdpSocket,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<()> {
    let local = socket
        .local_addr()
        .map_err(|e| ZtpError::io("dhcp socket", e))?;
    if let IpAddr::V4(ip) = local.ip() {
        server.adopt_server_id(ip);
    }
    info!(%local, server_id = %server.server_id(), "DHCP server listening");
    let socket = Arc::new(socket);
    let permits = server.inner.options.max_in_flight.max(1);
    let bound = Arc::new(Semaphore::new(permits));
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = sweep.tick() => {
                let server = server.clone();
                tokio::spawn(async move { server.expire(sonde_schema::row::now_us()).await });
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => dispatch(&server, &socket, &bound, &buf[..len], from),
                Err(error) => {
                    // ICMP errors of earlier sends surface here on Linux; they are not fatal.
                    debug!(%error, "DHCP receive failed");
                }
            },
        }
    }
    let all = u32::try_from(permits).unwrap_or(u32::MAX);
    let _drained = bound.acquire_many(all).await;
    info!("DHCP server stopped");
    Ok(())
}

fn dispatch(
    server: &DhcpServer,
    socket: &Arc<UdpSocket>,
    bound: &Arc<Semaphore>,
    bytes: &[u8],
    from: SocketAddr,
) {
    let Ok(permit) = Arc::clone(bound).try_acquire_owned() else {
        bump(&server.inner.counters.received);
        bump(&server.inner.counters.dropped);
        return;
    };
    let (server, socket, bytes) = (server.clone(), Arc::clone(socket), bytes.to_vec());
    tokio::spawn(async move {
        let _permit = permit;
        let now = sonde_schema::row::now_us();
        if let Some((reply, to)) = server.handle(&bytes, from, now).await
            && let Err(error) = socket.send_to(&reply, to).await
        {
            warn!(%error, %to, "DHCP reply not sent");
            server
                .inner
                .counters
                .answered
                .fetch_sub(1, Ordering::Relaxed);
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses_come_from_fib_trie() {
        let text = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 10.0.0.0/24 2 0 2\n        |-- 10.0.0.0\n           /24 link UNICAST\n        |-- 10.0.0.1\n           /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\n";
        assert_eq!(local_addresses(text), vec![Ipv4Addr::new(10, 0, 0, 1)]);
    }
}
