//! The scope of one request, as isc-dhcp builds it: the subnet the client is on, the host
//! reservation that names it, the classes it matches, and the options merged host over class
//! over subnet over global.
//!
//! - The subnet is the relay's (the one containing giaddr) when relayed; otherwise, for an
//!   INFORM or a renewal, the one containing ciaddr; otherwise the local one: the subnet
//!   containing the server identifier, else the only subnet configured.
//! - A host matches by client identifier (option 61 equal to its `dhcp-client-identifier`), by
//!   serial (its `serial-number` equal to the serial option 61 carries), or by `hardware
//!   ethernet`, tried in that order over the subnet's hosts, then every other host (isc treats
//!   host declarations as global). Its `fixed-address` is used only when it lies on the
//!   client's subnet; its options apply wherever it is declared.
//! - Classes are tried in declaration order; every class that matches contributes, a later
//!   one over an earlier one.

use std::net::Ipv4Addr;

use crate::config::{DhcpConfig, Host, Options, Subnet};

use super::message::{Kind, Request};

/// isc-dhcp's defaults when `dhcpd.conf` gives none.
pub const DEFAULT_LEASE_TIME: u32 = 43_200;
pub const MAX_LEASE_TIME: u32 = 86_400;

/// Everything the configuration says about one request.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub subnet: Option<&'a Subnet>,
    pub host: Option<&'a Host>,
    pub classes: Vec<&'a str>,
    pub options: Options,
    pub next_server: Option<Ipv4Addr>,
    pub filename: Option<String>,
    default_lease: u32,
    min_lease: u32,
    max_lease: u32,
}

impl<'a> Scope<'a> {
    /// The scope of `request` under `config`, the server being `server_id`.
    pub fn of(config: &'a DhcpConfig, request: &Request, server_id: Ipv4Addr) -> Scope<'a> {
        let subnet = subnet_of(config, request, server_id);
        let host = host_of(config, subnet, request);
        let option = |code: u8| request.option(code);
        let matched: Vec<_> = config
            .classes
            .iter()
            .filter(|c| c.condition.matches(&option))
            .collect();
        let mut options = config.options.clone();
        if let Some(subnet) = subnet {
            options = options.overlaid(&subnet.options);
        }
        for class in &matched {
            options = options.overlaid(&class.options);
        }
        if let Some(host) = host {
            options = options.overlaid(&host.options);
        }
        let pick = |h: Option<&'a Host>, s: Option<&'a Subnet>| {
            (
                h.and_then(|h| h.next_server)
                    .or(s.and_then(|s| s.next_server))
                    .or(config.next_server),
                h.and_then(|h| h.filename.clone())
                    .or(s.and_then(|s| s.filename.clone()))
                    .or(config.filename.clone()),
            )
        };
        let (next_server, filename) = pick(host, subnet);
        let max_lease = subnet
            .and_then(|s| s.max_lease_time)
            .or(config.max_lease_time)
            .unwrap_or(MAX_LEASE_TIME);
        Scope {
            subnet,
            host,
            classes: matched.iter().map(|c| c.name.as_str()).collect(),
            options,
            next_server,
            filename,
            default_lease: subnet
                .and_then(|s| s.default_lease_time)
                .or(config.default_lease_time)
                .unwrap_or(DEFAULT_LEASE_TIME),
            min_lease: config.min_lease_time.unwrap_or(0),
            max_lease,
        }
    }

    /// The lease seconds granted: the client's option 51 clamped to min/max, else the default.
    pub fn lease_time(&self, asked: Option<u32>) -> u32 {
        let max = self.max_lease.max(self.min_lease);
        asked
            .unwrap_or(self.default_lease)
            .clamp(self.min_lease, max)
            .max(1)
    }

    /// The reservation's address, when it has one on the client's subnet.
    pub fn fixed_address(&self) -> Option<Ipv4Addr> {
        let fixed = self.host?.fixed_address?;
        self.subnet.filter(|s| s.contains(fixed)).map(|_| fixed)
    }

    /// The text of an option as handed out (114, 210, 239, 12, …).
    pub fn text(&self, code: u8) -> Option<String> {
        self.options.get(code).map(|v| v.to_text())
    }
}

fn subnet_of<'a>(
    config: &'a DhcpConfig,
    request: &Request,
    server_id: Ipv4Addr,
) -> Option<&'a Subnet> {
    let containing = |ip: Ipv4Addr| config.subnets.iter().find(|s| s.contains(ip));
    if request.relayed() {
        return containing(request.giaddr);
    }
    let by_client = !request.ciaddr.is_unspecified()
        && matches!(request.kind, Kind::Inform | Kind::Request | Kind::Release);
    if by_client && let Some(subnet) = containing(request.ciaddr) {
        return Some(subnet);
    }
    containing(server_id).or(match config.subnets.as_slice() {
        [only] => Some(only),
        _ => None,
    })
}

/// Every host of the configuration: the subnet's first, then the rest.
fn hosts<'a>(config: &'a DhcpConfig, subnet: Option<&'a Subnet>) -> impl Iterator<Item = &'a Host> {
    let first = subnet.map(|s| s.hosts.as_slice()).unwrap_or(&[]);
    let others = config
        .subnets
        .iter()
        .filter(move |s| !subnet.is_some_and(|first| std::ptr::eq(*s, first)))
        .flat_map(|s| s.hosts.iter());
    first.iter().chain(others).chain(config.hosts.iter())
}

fn host_of<'a>(
    config: &'a DhcpConfig,
    subnet: Option<&'a Subnet>,
    request: &Request,
) -> Option<&'a Host> {
    let client_id = request.client_id();
    let serial = request.serial();
    let by_id = |h: &&Host| client_id.is_some() && h.client_id.as_deref() == client_id;
    let by_serial = |h: &&Host| serial.is_some() && h.serial.as_deref() == serial.as_deref();
    let by_mac = |h: &&Host| h.hardware_ethernet == Some(request.mac);
    hosts(config, subnet)
        .find(by_id)
        .or_else(|| hosts(config, subnet).find(by_serial))
        .or_else(|| hosts(config, subnet).find(by_mac))
}

/// Every `fixed-address` of the configuration with its host: reserved for that host alone.
pub fn fixed_addresses(config: &DhcpConfig) -> impl Iterator<Item = (Ipv4Addr, &Host)> {
    config
        .subnets
        .iter()
        .flat_map(|s| s.hosts.iter())
        .chain(config.hosts.iter())
        .filter_map(|h| h.fixed_address.map(|ip| (ip, h)))
}

/// Whether `host` is the reservation of `ip` (a fixed address), and it is not `client`'s.
pub fn reserved_for_other(config: &DhcpConfig, ip: Ipv4Addr, client: Option<&Host>) -> bool {
    fixed_addresses(config)
        .any(|(fixed, host)| fixed == ip && client.is_none_or(|c| c.name != host.name))
}
