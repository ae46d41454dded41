//! The answer to each message type (RFC 2131 §4.3), as an ordered pipeline: scope, then the
//! type's handler, which decides under the table's lock, makes the change durable outside it,
//! and builds the reply. A change that cannot be made durable is undone and answered with
//! nothing (`DHCP_NOT_STORED`).

use std::net::Ipv4Addr;
use std::sync::Arc;

use tracing::{info, warn};

use crate::codes::{self, Code};
use crate::config::ZtpConfig;
use crate::leases::{Lease, LeaseState};

use super::event::Outcome;
use super::message::{Kind, Request};
use super::options::{Header, encode_reply};
use super::reply::reply_options;
use super::select::{Scope, reserved_for_other};
use super::table::ClientKey;
use super::{DECLINE_HOLD, Inner, bump, conflict};

use dhcproto::v4::MessageType;

/// Addresses tried for one DISCOVER before the pool counts as exhausted.
const MAX_TRIES: usize = 64;
/// Addresses probed by ping for one DISCOVER.
const MAX_PINGS: usize = 4;

/// One exchange being handled.
pub(super) struct Exchange<'a> {
    inner: &'a Inner,
    config: &'a Arc<ZtpConfig>,
    request: &'a Request,
    scope: Scope<'a>,
    server_id: Ipv4Addr,
    now: i64,
    key: ClientKey,
}

/// Handles one well-formed request.
pub(super) async fn handle(
    inner: &Inner,
    request: &Request,
    server_id: Ipv4Addr,
    now: i64,
) -> Outcome {
    let config = inner.config.get();
    let scope = Scope::of(&config.dhcp, request, server_id);
    let ex = Exchange {
        inner,
        config: &config,
        request,
        scope,
        server_id,
        now,
        key: ClientKey::of(request.client_id(), request.mac),
    };
    let mut outcome = match request.kind {
        Kind::Discover => ex.discover().await,
        Kind::Request => ex.request().await,
        Kind::Decline => ex.decline().await,
        Kind::Release => ex.release().await,
        Kind::Inform => ex.inform(),
    };
    ex.describe(&mut outcome);
    outcome
}

fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl Exchange<'_> {
    fn describe(&self, outcome: &mut Outcome) {
        outcome.subnet = self.scope.subnet.map(|s| s.cidr());
        outcome.host = self.scope.host.map(|h| h.name.clone());
        outcome.host_name = self.scope.host.and_then(|_| self.scope.text(12));
        outcome.classes = self.scope.classes.iter().map(|c| c.to_string()).collect();
        if let Some(cidr) = &outcome.subnet {
            outcome.pool = self.inner.table.lock().pool_counts(cidr);
        }
    }

    fn cidr(&self) -> String {
        self.scope.subnet.map(|s| s.cidr()).unwrap_or_default()
    }

    fn lease(&self, ip: Ipv4Addr, state: LeaseState, ends: i64) -> Lease {
        Lease {
            ip,
            mac: self.request.mac,
            client_id: self.request.client_id().map(<[u8]>::to_vec),
            serial: self.request.serial(),
            device: self.scope.text(12).or_else(|| self.request.host_name()),
            state,
            starts: self.now,
            ends,
            subnet: self.cidr(),
            host: self.scope.host.map(|h| h.name.clone()),
        }
    }

    fn answer(
        &self,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        lease_time: Option<u32>,
        code: Code,
        message: String,
    ) -> Outcome {
        let (options, mandatory) =
            reply_options(&self.scope, self.request, self.server_id, lease_time);
        let header = Header {
            kind,
            yiaddr,
            ciaddr: if kind == MessageType::Ack {
                self.request.ciaddr
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            siaddr: self.scope.next_server.unwrap_or(Ipv4Addr::UNSPECIFIED),
            file: self.scope.filename.clone(),
        };
        let bytes = encode_reply(self.request, &header, &options, mandatory);
        let mut outcome = Outcome::silent(code, message);
        outcome.reply = bytes.is_some().then_some(match kind {
            MessageType::Offer => "OFFER",
            _ => "ACK",
        });
        outcome.bytes = bytes;
        outcome.client_ip = (!yiaddr.is_unspecified()).then_some(yiaddr);
        outcome.lease_time = lease_time;
        outcome.handed = options;
        outcome
    }

    /// A NAK when authoritative; silence (and the reason in the row) otherwise.
    fn nak(&self, why: &str) -> Outcome {
        if !self.config.dhcp.authoritative {
            return Outcome::silent(
                codes::DHCP_IGNORED,
                format!("not authoritative, not refused: {why}"),
            );
        }
        let header = Header {
            kind: MessageType::Nak,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            file: None,
        };
        let options = [(
            super::message::code::SERVER_ID,
            self.server_id.octets().to_vec(),
        )];
        let mut outcome = Outcome::silent(codes::DHCP_NAKED, why.to_string());
        outcome.bytes = encode_reply(self.request, &header, &options, 1);
        outcome.reply = outcome.bytes.is_some().then_some("NAK");
        outcome
    }

    fn no_subnet(&self) -> Outcome {
        let via = if self.request.relayed() {
            format!("relay {}", self.request.giaddr)
        } else {
            format!("the local network of {}", self.server_id)
        };
        Outcome::silent(
            codes::DHCP_NO_SUBNET,
            format!("no subnet configured for {via}"),
        )
    }

    /// Persists `leases`; on failure undoes `undo` (address, what we wrote, what was there).
    async fn persist(
        &self,
        leases: Vec<Lease>,
        undo: Vec<(Lease, Option<Lease>)>,
    ) -> Result<(), Outcome> {
        if leases.is_empty() {
            return Ok(());
        }
        match self.inner.store.persist(leases, self.now).await {
            Ok(()) => Ok(()),
            Err(error) => {
                let mut table = self.inner.table.lock();
                for (ours, previous) in undo {
                    table.restore(ours.ip, &ours, previous);
                }
                drop(table);
                warn!(%error, mac = %crate::leases::mac_text(&self.request.mac), "DHCP lease not stored; no answer sent");
                Err(Outcome::silent(
                    codes::DHCP_NOT_STORED,
                    format!("lease not stored: {error}"),
                ))
            }
        }
    }

    async fn discover(&self) -> Outcome {
        let Some(_) = self.scope.subnet else {
            return self.no_subnet();
        };
        let lease_time = self.scope.lease_time(self.request.lease_time());
        let (ip, conflicts) = match self.choose().await {
            Ok(found) => found,
            Err((outcome, conflicts)) => {
                return match self.persist(conflicts, vec![]).await {
                    Ok(()) => outcome,
                    Err(outcome) => outcome,
                };
            }
        };
        if let Err(outcome) = self.persist(conflicts, vec![]).await {
            return outcome;
        }
        self.answer(
            MessageType::Offer,
            ip,
            Some(lease_time),
            codes::DHCP_OFFERED,
            format!("{ip} offered for {lease_time} s"),
        )
    }

    /// The address to offer, reserved as Offered; and conflict marks to persist.
    async fn choose(&self) -> Result<(Ipv4Addr, Vec<Lease>), (Outcome, Vec<Lease>)> {
        let arp = self.inner.arp.snapshot();
        let mut conflicts = Vec::new();
        let mut tried: Vec<Ipv4Addr> = Vec::new();
        for _ in 0..MAX_PINGS {
            let picked = self.pick(&arp, &mut tried, &mut conflicts);
            let Some((ip, probe)) = picked else {
                let cidr = self.cidr();
                warn!(subnet = %cidr, "DHCP pool exhausted");
                let outcome =
                    Outcome::silent(codes::DHCP_EXHAUSTED, format!("no free address in {cidr}"));
                return Err((outcome, conflicts));
            };
            if !(probe && self.config.dhcp.ping_check && conflict::answers_ping(ip).await) {
                return Ok((ip, conflicts));
            }
            conflicts.push(self.mark_conflict(ip, None));
            tried.push(ip);
        }
        let outcome = Outcome::silent(
            codes::DHCP_EXHAUSTED,
            "every address probed answered a ping".to_string(),
        );
        Err((outcome, conflicts))
    }

    /// Under the lock: the fixed address, the client's lease, its requested address, or the
    /// lowest free one, inserted as Offered; whether it still needs a ping.
    fn pick(
        &self,
        arp: &std::collections::HashMap<Ipv4Addr, [u8; 6]>,
        tried: &mut Vec<Ipv4Addr>,
        conflicts: &mut Vec<Lease>,
    ) -> Option<(Ipv4Addr, bool)> {
        let hold = self
            .now
            .saturating_add(seconds(self.inner.options.offer_hold));
        let mut table = self.inner.table.lock();
        table.sync_config(self.config);
        if let Some(fixed) = self.scope.fixed_address() {
            return Some((self.offer(&mut table, fixed, hold), false));
        }
        let subnet = self.scope.subnet?;
        let in_pool =
            |t: &super::table::Table, ip: Ipv4Addr| t.pools.of(ip).is_some_and(|p| p.has(ip));
        if let Some(lease) = table.of_client(&self.key)
            && subnet.contains(lease.ip)
            && in_pool(&table, lease.ip)
            && !reserved_for_other(&self.config.dhcp, lease.ip, self.scope.host)
        {
            let ip = lease.ip;
            return Some((self.offer(&mut table, ip, hold), false));
        }
        let taken_on_wire = |ip: &Ipv4Addr| arp.get(ip).is_some_and(|mac| *mac != self.request.mac);
        if let Some(ip) = self.request.requested_ip()
            && subnet.contains(ip)
            && !tried.contains(&ip)
            && table.pools.of(ip).is_some_and(|p| p.is_free(ip))
            && !taken_on_wire(&ip)
        {
            return Some((self.offer(&mut table, ip, hold), true));
        }
        for _ in 0..MAX_TRIES {
            let pool = table.pools.named(&subnet.cidr())?;
            let ip = match pool.lowest_free(|ip| tried.contains(&ip)) {
                Some(ip) => ip,
                None if table.take_expired(self.now).is_empty() => return None,
                None => continue,
            };
            if taken_on_wire(&ip) {
                let mark = self.conflict_lease(ip, arp.get(&ip).copied());
                table.insert(mark.clone());
                conflicts.push(mark);
                tried.push(ip);
                continue;
            }
            return Some((self.offer(&mut table, ip, hold), true));
        }
        None
    }

    /// Reserves `ip` for the client as Offered (a bound lease of the client's stays bound).
    fn offer(&self, table: &mut super::table::Table, ip: Ipv4Addr, hold: i64) -> Ipv4Addr {
        let mine = table
            .get(ip)
            .filter(|l| {
                ClientKey::of_lease(l) == self.key && l.state == LeaseState::Bound && l.ends > hold
            })
            .is_some();
        if !mine {
            table.insert(self.lease(ip, LeaseState::Offered, hold));
        }
        ip
    }

    fn conflict_lease(&self, ip: Ipv4Addr, mac: Option<[u8; 6]>) -> Lease {
        bump(&self.inner.counters.conflicts);
        warn!(%ip, "DHCP address in use on the network; marked in conflict");
        Lease {
            ip,
            mac: mac.unwrap_or([0; 6]),
            client_id: None,
            serial: None,
            device: None,
            state: LeaseState::Declined,
            starts: self.now,
            ends: self.now.saturating_add(seconds(DECLINE_HOLD)),
            subnet: self.cidr(),
            host: None,
        }
    }

    /// Replaces the Offered lease of `ip` by a conflict mark.
    fn mark_conflict(&self, ip: Ipv4Addr, mac: Option<[u8; 6]>) -> Lease {
        let mark = self.conflict_lease(ip, mac);
        self.inner.table.lock().insert(mark.clone());
        mark
    }

    async fn request(&self) -> Outcome {
        let request = self.request;
        if let Some(chosen) = request.server_id()
            && chosen != self.server_id
        {
            let mut table = self.inner.table.lock();
            if let Some(offer) = table
                .of_client(&self.key)
                .filter(|l| l.state == LeaseState::Offered)
            {
                let ip = offer.ip;
                table.remove(ip);
            }
            return Outcome::silent(
                codes::DHCP_IGNORED,
                format!("the client chose server {chosen}"),
            );
        }
        let ciaddr = (!request.ciaddr.is_unspecified()).then_some(request.ciaddr);
        let (ip, state) = match (request.server_id(), request.requested_ip(), ciaddr) {
            (Some(_), Some(ip), _) => (ip, "selecting"),
            (Some(_), None, Some(ip)) => (ip, "selecting"),
            (None, _, Some(ip)) => (
                ip,
                if request.broadcast {
                    "rebinding"
                } else {
                    "renewing"
                },
            ),
            (None, Some(ip), None) => (ip, "init-reboot"),
            (_, None, None) => {
                return Outcome::silent(
                    codes::DHCP_IGNORED,
                    "a REQUEST naming no address".to_string(),
                );
            }
        };
        self.confirm(ip, state).await
    }

    /// ACKs `ip` to the client when it may have it, extending or granting the lease.
    async fn confirm(&self, ip: Ipv4Addr, state: &str) -> Outcome {
        let Some(subnet) = self.scope.subnet else {
            return self.no_subnet();
        };
        if !subnet.contains(ip) {
            return self.nak(&format!(
                "{state}: {ip} is not on the client's network {}",
                subnet.cidr()
            ));
        }
        if let Some(fixed) = self.scope.fixed_address()
            && fixed != ip
        {
            return self.nak(&format!(
                "{state}: the client's reservation is {fixed}, not {ip}"
            ));
        }
        let lease_time = self.scope.lease_time(self.request.lease_time());
        let ends = self.now.saturating_add(i64::from(lease_time) * 1_000_000);
        let (ours, previous) = {
            let mut table = self.inner.table.lock();
            table.sync_config(self.config);
            let existing = table.get(ip);
            let mine = existing.is_some_and(|l| {
                l.state != LeaseState::Declined && ClientKey::of_lease(l) == self.key
            });
            if existing.is_some() && !mine {
                return self.nak(&format!("{state}: {ip} is held by another client"));
            }
            let fixed = self.scope.fixed_address() == Some(ip);
            let free = table.pools.of(ip).is_some_and(|p| p.is_free(ip));
            if !mine
                && !fixed
                && (!free || reserved_for_other(&self.config.dhcp, ip, self.scope.host))
            {
                return self.nak(&format!(
                    "{state}: {ip} is not an address this server can lease"
                ));
            }
            let kept_start = existing
                .filter(|l| l.state == LeaseState::Bound)
                .map(|l| l.starts);
            let mut lease = self.lease(ip, LeaseState::Bound, ends);
            lease.starts = kept_start.unwrap_or(lease.starts);
            let previous = table.insert(lease.clone());
            (lease, previous)
        };
        if let Err(outcome) = self
            .persist(vec![ours.clone()], vec![(ours, previous)])
            .await
        {
            return outcome;
        }
        self.answer(
            MessageType::Ack,
            ip,
            Some(lease_time),
            codes::DHCP_ACKED,
            format!("{state}: {ip} acknowledged for {lease_time} s"),
        )
    }

    async fn decline(&self) -> Outcome {
        if self
            .request
            .server_id()
            .is_some_and(|id| id != self.server_id)
        {
            return Outcome::silent(
                codes::DHCP_IGNORED,
                "a DECLINE for another server".to_string(),
            );
        }
        let Some(ip) = self.request.requested_ip() else {
            return Outcome::silent(
                codes::DHCP_IGNORED,
                "a DECLINE naming no address".to_string(),
            );
        };
        let (ours, previous) = {
            let mut table = self.inner.table.lock();
            if !table.get(ip).is_some_and(|l| {
                ClientKey::of_lease(l) == self.key && l.state != LeaseState::Declined
            }) {
                return Outcome::silent(
                    codes::DHCP_IGNORED,
                    format!("declined {ip}, which it does not hold"),
                );
            }
            let mut lease = self.lease(
                ip,
                LeaseState::Declined,
                self.now.saturating_add(seconds(DECLINE_HOLD)),
            );
            if let Some(old) = table.get(ip) {
                lease.subnet = old.subnet.clone();
            }
            let previous = table.insert(lease.clone());
            (lease, previous)
        };
        if let Err(outcome) = self
            .persist(vec![ours.clone()], vec![(ours, previous)])
            .await
        {
            return outcome;
        }
        let mac = crate::leases::mac_text(&self.request.mac);
        warn!(%ip, %mac, "DHCP address declined by the client: in use on the network; held for an hour");
        let mut outcome = Outcome::silent(
            codes::DHCP_DECLINED,
            format!("{ip} declined; held for {} s", DECLINE_HOLD.as_secs()),
        );
        outcome.client_ip = Some(ip);
        outcome
    }

    async fn release(&self) -> Outcome {
        if self
            .request
            .server_id()
            .is_some_and(|id| id != self.server_id)
        {
            return Outcome::silent(
                codes::DHCP_IGNORED,
                "a RELEASE for another server".to_string(),
            );
        }
        let ip = self.request.ciaddr;
        let previous = {
            let mut table = self.inner.table.lock();
            if !table.get(ip).is_some_and(|l| {
                ClientKey::of_lease(l) == self.key && l.state != LeaseState::Declined
            }) {
                return Outcome::silent(
                    codes::DHCP_IGNORED,
                    format!("released {ip}, which it does not hold"),
                );
            }
            table.remove(ip)
        };
        let Some(previous) = previous else {
            return Outcome::silent(
                codes::DHCP_IGNORED,
                format!("released {ip}, which it does not hold"),
            );
        };
        let released = Lease {
            state: LeaseState::Released,
            ends: self.now,
            ..previous.clone()
        };
        if let Err(error) = self.inner.store.persist(vec![released], self.now).await {
            let mut table = self.inner.table.lock();
            if table.get(ip).is_none() {
                table.insert(previous);
            }
            warn!(%error, "DHCP release not stored; the lease stays");
            return Outcome::silent(
                codes::DHCP_NOT_STORED,
                format!("release not stored: {error}"),
            );
        }
        info!(%ip, "DHCP address released");
        let mut outcome = Outcome::silent(codes::DHCP_RELEASED, format!("{ip} released"));
        outcome.client_ip = Some(ip);
        outcome
    }

    fn inform(&self) -> Outcome {
        self.answer(
            MessageType::Ack,
            Ipv4Addr::UNSPECIFIED,
            None,
            codes::DHCP_INFORMED,
            format!("inform from {} answered", self.request.ciaddr),
        )
    }
}
