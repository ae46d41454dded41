//! One switch's boot as a state machine, and [`replay`], which runs a fleet's switches in time
//! order through a transport.
//!
//! A switch's steps, from its `boots_at` (B):
//! - B: ONIE's DISCOVER, and 300 ms later its REQUEST for the offer; a switch whose fate is
//!   to die stops once acknowledged.
//! - B + 5 s: the installer waterfall, a request every 200 ms until one answers 2xx (a redirect
//!   to the management server is followed).
//! - B + 11 min: the installed NOS reboots: an INIT-REBOOT REQUEST for the address, then 40 s
//!   later CTRLD's DHCPINFORM, then 2 s later the four configuration fetches 1.5 s apart, each
//!   followed 50 ms later by its GELF business event.
//! - Then a renewal every T1 from the last acknowledgement, while the replay lasts.
//!
//! A step that gets no answer ends the switch's boot (ONIE would retry forever; the replay keeps
//! what a store would show: a request and no answer). Every step starts before the replay's end;
//! a step's later messages (at most seconds later) are sent even past it.

use std::net::{Ipv4Addr, SocketAddr};

use crate::fabric::{MINUTE, SECOND};

use super::dhcp::{self, ACK, Message, OFFER, Reply};
use super::fleet::{Fate, Fleet, ZtpDevice};
use super::http::{self, ConfigKind};
use super::{HttpReply, HttpRequest, ZtpTransport};

const MS: i64 = 1_000;
const CLIENT_PORT: u16 = 68;
const FIRST_HTTP_PORT: u16 = 40_000;

/// What a replay sent and got back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replay {
    pub dhcp_sent: usize,
    pub dhcp_answered: usize,
    pub http_requests: usize,
    pub http_ok: usize,
    pub gelf_events: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    OnieDhcp,
    OnieInstall,
    NosReboot,
    CtrldInform,
    CtrldFetch,
    Renew,
}

/// The address a switch holds.
#[derive(Debug, Clone, Copy)]
struct Held {
    ip: Ipv4Addr,
    server: Ipv4Addr,
    /// When it was last acknowledged, µs.
    bound_at: i64,
    /// T1, seconds.
    renew_after_s: u32,
}

struct Client<'a> {
    fleet: &'a Fleet,
    device: &'a ZtpDevice,
    next: Option<(i64, Step)>,
    xid: u32,
    held: Option<Held>,
    /// ONIE's acknowledgement: its options steer the waterfall.
    onie_ack: Option<Reply>,
    /// Option 210, or the server's own URL when the INFORM's answer had none.
    prefix: Option<String>,
    http_port: u16,
}

/// Runs every switch of `fleet` through `transport`, steps in time order, up to `until` (µs).
pub async fn replay(fleet: &Fleet, transport: &dyn ZtpTransport, until: i64) -> Replay {
    let mut clients: Vec<Client<'_>> = fleet
        .devices
        .iter()
        .map(|device| Client::new(fleet, device))
        .collect();
    let mut replay = Replay::default();
    loop {
        let due = clients
            .iter_mut()
            .filter_map(|c| c.next.map(|(at, _)| (at, c)))
            .filter(|(at, _)| *at < until)
            .min_by_key(|(at, _)| *at);
        let Some((_, client)) = due else {
            return replay;
        };
        client.step(transport, &mut replay).await;
    }
}

/// A transaction id seeded from the serial (FNV-1a), so replays repeat exactly.
fn first_xid(serial: &str) -> u32 {
    serial.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl<'a> Client<'a> {
    fn new(fleet: &'a Fleet, device: &'a ZtpDevice) -> Client<'a> {
        Client {
            fleet,
            device,
            next: Some((device.boots_at, Step::OnieDhcp)),
            xid: first_xid(&device.serial),
            held: None,
            onie_ack: None,
            prefix: None,
            http_port: FIRST_HTTP_PORT,
        }
    }

    async fn step(&mut self, transport: &dyn ZtpTransport, replay: &mut Replay) {
        let Some((at, step)) = self.next.take() else {
            return;
        };
        self.next = match step {
            Step::OnieDhcp => self.onie_dhcp(transport, replay, at).await,
            Step::OnieInstall => self.onie_install(transport, replay, at).await,
            Step::NosReboot => self.nos_reboot(transport, replay, at).await,
            Step::CtrldInform => self.ctrld_inform(transport, replay, at).await,
            Step::CtrldFetch => self.ctrld_fetch(transport, replay, at).await,
            Step::Renew => self.renew(transport, replay, at).await,
        };
    }

    fn next_xid(&mut self) -> u32 {
        self.xid = self.xid.wrapping_add(1);
        self.xid
    }

    /// Sends `message` from `from`; the answer when it is one of ours of kind `want`.
    async fn exchange(
        &self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
        from: SocketAddr,
        message: Message,
        want: u8,
    ) -> Option<Reply> {
        replay.dhcp_sent += 1;
        let bytes = transport.dhcp(at, from, message.encode()).await?;
        let reply = Reply::parse(&bytes).filter(|r| r.xid == message.xid)?;
        replay.dhcp_answered += 1;
        (reply.kind == want).then_some(reply)
    }

    fn unbound() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, CLIENT_PORT))
    }

    fn bound(&self) -> Option<SocketAddr> {
        self.held.map(|h| SocketAddr::from((h.ip, CLIENT_PORT)))
    }

    /// Holds the address `ack` acknowledges at `at`; the renewal that follows.
    fn bind(&mut self, ack: &Reply, ip: Ipv4Addr, at: i64) {
        let lease = ack.lease_time().unwrap_or(self.fleet.lease_time_s);
        self.held = Some(Held {
            ip,
            server: ack.server_id().unwrap_or(self.fleet.server),
            bound_at: at,
            renew_after_s: ack.renewal_time().unwrap_or(lease / 2).max(1),
        });
    }

    fn renewal(&self) -> Option<(i64, Step)> {
        let held = self.held?;
        Some((
            held.bound_at + i64::from(held.renew_after_s) * SECOND,
            Step::Renew,
        ))
    }

    async fn onie_dhcp(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let xid = self.next_xid();
        let discover = dhcp::onie_discover(self.device, xid);
        let offer = self
            .exchange(transport, replay, at, Self::unbound(), discover, OFFER)
            .await?;
        let request = dhcp::onie_request(self.device, xid, &offer);
        let acked = at + 300 * MS;
        let ack = self
            .exchange(transport, replay, acked, Self::unbound(), request, ACK)
            .await?;
        let ip = if ack.yiaddr.is_unspecified() {
            offer.yiaddr
        } else {
            ack.yiaddr
        };
        self.bind(&ack, ip, acked);
        self.onie_ack = Some(ack);
        (self.device.fate != Fate::DiesAfterLease).then_some((at + 5 * SECOND, Step::OnieInstall))
    }

    /// An HTTP request from the switch's address; a redirect to the management server is
    /// followed once, 100 ms later.
    async fn fetch(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
        request: HttpRequest,
        redirected: impl Fn(&str) -> HttpRequest,
    ) -> HttpReply {
        let reply = self.send(transport, replay, at, request).await;
        let follow = match &reply.location {
            Some(location) if (300..400).contains(&reply.status) => {
                self.on_management_server(location)
            }
            _ => None,
        };
        match follow {
            Some(url) => {
                let request = redirected(&url);
                self.send(transport, replay, at + 100 * MS, request).await
            }
            None => reply,
        }
    }

    async fn send(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
        request: HttpRequest,
    ) -> HttpReply {
        let ip = self.held.map_or(Ipv4Addr::UNSPECIFIED, |h| h.ip);
        self.http_port = self.http_port.checked_add(1).unwrap_or(FIRST_HTTP_PORT);
        replay.http_requests += 1;
        let reply = transport
            .http(at, SocketAddr::from((ip, self.http_port)), request)
            .await;
        replay.http_ok += usize::from(reply.ok());
        reply
    }

    /// `location` as an absolute URL on the management server, if it is one.
    fn on_management_server(&self, location: &str) -> Option<String> {
        let base = self.fleet.base_url();
        if location.starts_with('/') {
            return Some(format!("{base}{location}"));
        }
        location
            .strip_prefix(&base)
            .filter(|rest| rest.starts_with('/'))
            .map(|rest| format!("{base}{rest}"))
    }

    async fn onie_install(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let ack = self.onie_ack.clone()?;
        let first: Vec<String> = [ack.vivso_installer(), ack.default_url()]
            .into_iter()
            .flatten()
            .collect();
        let mut servers = ack.www_servers();
        servers.push(ack.siaddr);
        servers.extend(ack.server_id());
        let device = self.device;
        let urls = http::waterfall(device, &first, &servers);
        for (n, url) in urls.iter().enumerate() {
            let when = at + n as i64 * 200 * MS;
            let request = http::onie_request(device, url);
            let reply = self
                .fetch(transport, replay, when, request, |url| {
                    http::onie_request(device, url)
                })
                .await;
            if reply.ok() {
                return Some((at + 11 * MINUTE, Step::NosReboot));
            }
        }
        None
    }

    async fn nos_reboot(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let ip = self.held?.ip;
        let xid = self.next_xid();
        let request = dhcp::reboot_request(self.device, xid, ip);
        let ack = self
            .exchange(transport, replay, at, Self::unbound(), request, ACK)
            .await?;
        self.bind(&ack, ip, at);
        Some((at + 40 * SECOND, Step::CtrldInform))
    }

    async fn ctrld_inform(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let held = self.held?;
        let xid = self.next_xid();
        let inform = dhcp::ctrld_inform(self.device, xid, held.ip);
        let from = self.bound()?;
        let answer = self
            .exchange(transport, replay, at, from, inform, ACK)
            .await;
        // Without option 210 CTRLD reads its configurations from the ZTP server's address.
        let server = answer
            .as_ref()
            .and_then(Reply::server_id)
            .unwrap_or(held.server);
        self.prefix = Some(
            answer
                .and_then(|a| a.path_prefix())
                .unwrap_or_else(|| format!("http://{server}")),
        );
        Some((at + 2 * SECOND, Step::CtrldFetch))
    }

    async fn ctrld_fetch(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let base = self.prefix.clone()?;
        let device = self.device;
        for (n, kind) in ConfigKind::ALL.into_iter().enumerate() {
            let when = at + n as i64 * 1_500 * MS;
            let request = http::ctrld_request(device, &base, kind);
            let reply = self
                .fetch(transport, replay, when, request, |url| {
                    let mut again = http::ctrld_request(device, &base, kind);
                    again.url = url.to_string();
                    again.path = url.strip_prefix(&base).unwrap_or(url).to_string();
                    again
                })
                .await;
            let event = http::gelf_event(device, kind, &reply, when + 50 * MS);
            let from = SocketAddr::from((self.held?.ip, 49_152 + n as u16));
            transport.gelf(when + 50 * MS, from, event).await;
            replay.gelf_events += 1;
        }
        self.renewal()
    }

    async fn renew(
        &mut self,
        transport: &dyn ZtpTransport,
        replay: &mut Replay,
        at: i64,
    ) -> Option<(i64, Step)> {
        let held = self.held?;
        let xid = self.next_xid();
        let request = dhcp::renewal(self.device, xid, held.ip);
        let from = self.bound()?;
        let ack = self
            .exchange(transport, replay, at, from, request, ACK)
            .await?;
        self.bind(&ack, held.ip, at);
        self.renewal()
    }
}
