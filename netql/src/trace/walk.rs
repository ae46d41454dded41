//! The walk: from the source device, every way a packet to the destination can go, hop by hop,
//! as the module documentation of [`super`] describes.

use std::net::IpAddr;

use super::fabric::{Device, Fabric};
use super::{Fault, Hop, Path, Severity, Traced};
use crate::ast::Span;
use crate::error::{Error, Result};

/// The longest path walked before it is called a loop of its own.
const MAX_HOPS: usize = 64;
/// The most paths one trace lists.
const MAX_PATHS: usize = 10_000;

/// One end of a trace, as the statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Ip(IpAddr),
    /// `44:38:39:00:00:0a`, lower case.
    Mac(String),
    Host(String),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub destination: Endpoint,
    pub source: Endpoint,
    pub vrf: Option<String>,
    pub vlan: Option<u32>,
    pub bidir: bool,
    /// Where the statement names each end, for errors about it.
    pub source_span: Span,
    pub destination_span: Span,
}

/// What the packet is addressed to.
#[derive(Debug, Clone)]
enum Target {
    Ip(IpAddr),
    Mac(String),
}

/// Every path of `request` (and back, for `bidir`) through `fabric`.
pub fn walk(fabric: &Fabric, request: &Request) -> Result<Traced> {
    let source = source_host(fabric, &request.source)
        .map_err(|message| Error::plan(request.source_span, message))?;
    let target = target_of(fabric, &request.destination)
        .map_err(|message| Error::plan(request.destination_span, message))?;
    let vrf = request.vrf.clone().unwrap_or_else(|| "default".into());
    let forward = Walker::new(fabric, target, request.vlan).paths(&source, &vrf);
    let reverse = if request.bidir {
        Some(reverse(fabric, request, &forward, &vrf)?)
    } else {
        None
    };
    Ok(Traced { forward, reverse })
}

/// The way back: from where the forward paths end to the source's address.
fn reverse(fabric: &Fabric, request: &Request, forward: &[Path], vrf: &str) -> Result<Vec<Path>> {
    let back_to = match &request.source {
        Endpoint::Ip(ip) => Target::Ip(*ip),
        other => {
            target_of(fabric, other).map_err(|message| Error::plan(request.source_span, message))?
        }
    };
    let far_end = forward
        .iter()
        .filter(|p| !p.has(Severity::Error))
        .find_map(|p| p.hops.last())
        .map(|hop| hop.hostname.clone());
    let Some(far_end) = far_end else {
        return Ok(Vec::new());
    };
    Ok(Walker::new(fabric, back_to, request.vlan).paths(&far_end, vrf))
}

fn source_host(fabric: &Fabric, source: &Endpoint) -> std::result::Result<String, String> {
    match source {
        Endpoint::Host(host) if fabric.device(host).is_some() => Ok(host.clone()),
        Endpoint::Host(host) => Err(format!("no node `{host}` reported its state at that time")),
        Endpoint::Ip(ip) => fabric
            .owners
            .get(ip)
            .map(|(host, _)| host.clone())
            .ok_or_else(|| format!("no node holds the source address {ip}")),
        Endpoint::Mac(mac) => fabric
            .mac_owners
            .get(mac)
            .cloned()
            .ok_or_else(|| format!("no node holds the source MAC {mac}")),
    }
}

fn target_of(fabric: &Fabric, destination: &Endpoint) -> std::result::Result<Target, String> {
    match destination {
        Endpoint::Ip(ip) => Ok(Target::Ip(*ip)),
        Endpoint::Mac(mac) => Ok(Target::Mac(mac.clone())),
        Endpoint::Host(host) => {
            let device = fabric
                .device(host)
                .ok_or_else(|| format!("no node `{host}` reported its state at that time"))?;
            host_address(device)
                .map(Target::Ip)
                .ok_or_else(|| format!("`{host}` holds no address to trace to"))
        }
    }
}

/// Every address the walk of `request` looks a route up for: the destination's, the source's
/// (for the way back) and each VTEP a MAC is learned behind.
pub(crate) fn lookups(fabric: &Fabric, request: &Request) -> Vec<IpAddr> {
    let mut addresses = Vec::new();
    if let Ok(Target::Ip(ip)) = target_of(fabric, &request.destination) {
        addresses.push(ip);
    }
    if request.bidir {
        match &request.source {
            Endpoint::Ip(ip) => addresses.push(*ip),
            other => addresses.extend(target_of(fabric, other).ok().and_then(|t| match t {
                Target::Ip(ip) => Some(ip),
                Target::Mac(_) => None,
            })),
        }
    }
    for device in fabric.devices.values() {
        addresses.extend(device.macs.values().filter_map(|m| m.remote_vtep));
    }
    addresses.sort();
    addresses.dedup();
    addresses
}

/// The addresses an endpoint stands for: itself, or every address of its device.
pub(crate) fn addresses_of(fabric: &Fabric, endpoint: &Endpoint) -> Vec<IpAddr> {
    let host = match endpoint {
        Endpoint::Ip(ip) => return vec![*ip],
        Endpoint::Host(host) => Some(host.clone()),
        Endpoint::Mac(mac) => fabric.mac_owners.get(mac).cloned(),
    };
    host.and_then(|h| fabric.device(&h))
        .map(|d| d.addresses.iter().map(|(_, ip)| *ip).collect())
        .unwrap_or_default()
}

/// The address a hostname stands for: its loopback's, else its first global IPv4 address.
pub(crate) fn host_address(device: &Device) -> Option<IpAddr> {
    let global = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
        IpAddr::V6(_) => false,
    };
    let mut addresses: Vec<&(String, IpAddr)> = device
        .addresses
        .iter()
        .filter(|(_, ip)| global(ip))
        .collect();
    addresses.sort_by_key(|(ifname, ip)| (ifname != "lo", ifname.clone(), *ip));
    addresses.first().map(|(_, ip)| *ip)
}

/// Where a packet goes next: the interface it leaves by and the device (and port) it reaches.
struct Egress {
    out_ifname: Option<String>,
    next: Option<Arrival>,
    vlan: Option<u32>,
    tunnel: Option<String>,
    faults: Vec<Fault>,
}

/// A packet arriving at a device.
#[derive(Clone)]
struct Arrival {
    host: String,
    in_ifname: Option<String>,
    /// The frame's destination MAC and VLAN, when it is switched on arrival.
    frame: Option<(Option<u32>, String)>,
}

struct Walker<'a> {
    fabric: &'a Fabric,
    target: Target,
    vlan: Option<u32>,
    paths: Vec<Path>,
}

impl<'a> Walker<'a> {
    fn new(fabric: &'a Fabric, target: Target, vlan: Option<u32>) -> Walker<'a> {
        Walker {
            fabric,
            target,
            vlan,
            paths: Vec::new(),
        }
    }

    fn paths(mut self, source: &str, vrf: &str) -> Vec<Path> {
        let frame = match &self.target {
            Target::Mac(mac) => Some((self.vlan, mac.clone())),
            Target::Ip(_) => None,
        };
        let start = Arrival {
            host: source.to_string(),
            in_ifname: None,
            frame,
        };
        let mut trail = Vec::new();
        self.visit(start, Some(vrf), &mut trail);
        self.paths.iter_mut().for_each(mark_mtu);
        self.paths
    }

    fn finish(&mut self, trail: &[Hop]) {
        if self.paths.len() < MAX_PATHS {
            self.paths.push(Path {
                hops: trail.to_vec(),
                ..Path::default()
            });
        }
    }

    fn visit(&mut self, arrival: Arrival, source_vrf: Option<&str>, trail: &mut Vec<Hop>) {
        if self.paths.len() >= MAX_PATHS {
            return;
        }
        let host = arrival.host.as_str();
        let mut hop = Hop {
            hostname: host.to_string(),
            in_ifname: arrival.in_ifname.clone(),
            ..Hop::default()
        };
        let Some(device) = self.fabric.device(host) else {
            hop.faults.push(Fault::warning(format!(
                "{host} reports nothing: the path leaves what Sonde sees"
            )));
            return self.end(trail, hop);
        };
        hop.in_mtu = arrival
            .in_ifname
            .as_deref()
            .and_then(|i| device.interfaces.get(i))
            .and_then(|i| i.mtu);
        if trail.iter().any(|h| h.hostname == host) {
            hop.faults
                .push(Fault::error(format!("loop: the path comes back to {host}")));
            return self.end(trail, hop);
        }
        if trail.len() >= MAX_HOPS {
            hop.faults
                .push(Fault::error(format!("more than {MAX_HOPS} hops")));
            return self.end(trail, hop);
        }
        if let Some(ifname) = self.arrived(device, &arrival) {
            hop.out_ifname = Some(ifname);
            return self.end(trail, hop);
        }
        let vrf = arrival
            .in_ifname
            .as_deref()
            .and_then(|i| device.vrf_of(i))
            .or_else(|| source_vrf.map(str::to_string))
            .unwrap_or_else(|| "default".into());
        let egresses = match &arrival.frame {
            Some((vlan, mac)) if !device.owns_mac(mac) && self.switched(device, &arrival) => {
                hop.vlan = *vlan;
                let vlan = vlan.or_else(|| {
                    let port = device.bridge_port(arrival.in_ifname.as_deref()?);
                    device.interfaces.get(port)?.pvid
                });
                self.switch(device, &arrival, vlan, mac)
            }
            _ => {
                hop.vrf = Some(vrf.clone());
                self.route(device, host, &vrf)
            }
        };
        for egress in egresses {
            let mut hop = hop.clone();
            hop.out_ifname = egress.out_ifname.clone();
            hop.mtu = hop
                .out_ifname
                .as_deref()
                .and_then(|i| device.interfaces.get(i))
                .and_then(|i| i.mtu);
            hop.vlan = egress.vlan.or(hop.vlan);
            hop.tunnel = egress.tunnel.clone();
            hop.faults.extend(egress.faults.iter().cloned());
            let broken = hop.faults.iter().any(|f| f.severity == Severity::Error);
            match egress.next {
                Some(next) if !broken => {
                    trail.push(hop);
                    self.visit(next, None, trail);
                    trail.pop();
                }
                _ => self.end(trail, hop),
            }
        }
    }

    fn end(&mut self, trail: &mut Vec<Hop>, hop: Hop) {
        trail.push(hop);
        self.finish(trail);
        trail.pop();
    }

    /// The interface holding the target, when the packet has reached its device.
    fn arrived(&self, device: &Device, arrival: &Arrival) -> Option<String> {
        match &self.target {
            Target::Ip(ip) => device
                .addresses
                .iter()
                .find(|(_, held)| held == ip)
                .map(|(ifname, _)| ifname.clone()),
            Target::Mac(mac) => {
                let own = device
                    .interfaces
                    .iter()
                    .find(|(_, i)| i.mac.as_deref() == Some(mac.as_str()))?;
                // A switch whose ports share the MAC only arrives when it is not bridging.
                let bridging = arrival
                    .in_ifname
                    .as_deref()
                    .is_some_and(|i| device.bridges_on(i));
                (!bridging).then(|| own.0.clone())
            }
        }
    }

    /// Whether the frame of `arrival` is bridged here rather than routed.
    fn switched(&self, device: &Device, arrival: &Arrival) -> bool {
        match arrival.in_ifname.as_deref() {
            Some(ifname) => device.bridges_on(ifname),
            None => matches!(self.target, Target::Mac(_)),
        }
    }

    /// The longest-prefix match in `vrf` and every ECMP next hop of it.
    fn route(&self, device: &Device, host: &str, vrf: &str) -> Vec<Egress> {
        let Target::Ip(ip) = self.target else {
            return vec![broken(format!(
                "{host} has no MAC table entry and no route for a MAC address"
            ))];
        };
        let Some(route) = device.lookup(vrf, ip) else {
            return vec![broken(format!("no route to {ip} in VRF {vrf} on {host}"))];
        };
        let mut egresses = Vec::new();
        for (gateway, oif) in &route.hops {
            let next_hop = gateway.unwrap_or(ip);
            egresses.extend(self.forward(device, host, oif, next_hop));
        }
        if egresses.is_empty() {
            egresses.push(broken(format!(
                "the route {}/{} on {host} has no next hop",
                route.net.addr, route.net.len
            )));
        }
        egresses
    }

    /// A routed packet leaving by `oif` toward `next_hop`.
    fn forward(&self, device: &Device, host: &str, oif: &str, next_hop: IpAddr) -> Vec<Egress> {
        let Some(interface) = device.interfaces.get(oif) else {
            return vec![broken_at(
                oif,
                format!("{host} routes by {oif}, which it does not report"),
            )];
        };
        let neighbor = device.neighbors.get(&(oif.to_string(), next_hop));
        let mac = match neighbor {
            Some(n) if !n.failed => n.mac.clone(),
            _ => {
                return vec![broken_at(
                    oif,
                    format!("no neighbour entry for {next_hop} on {host}:{oif}"),
                )];
            }
        };
        if let (Some(vlan), Some(mac)) = (interface.svi_vlan(oif), mac.as_deref()) {
            let arrival = Arrival {
                host: host.to_string(),
                in_ifname: None,
                frame: Some((Some(vlan), mac.to_string())),
            };
            return self.switch(device, &arrival, Some(vlan), mac);
        }
        device
            .ports_of(oif)
            .into_iter()
            .map(|port| self.leave(device, host, &port, mac.as_deref(), None))
            .collect()
    }

    /// A frame switched in `vlan` toward `mac` through the MAC table.
    fn switch(
        &self,
        device: &Device,
        arrival: &Arrival,
        vlan: Option<u32>,
        mac: &str,
    ) -> Vec<Egress> {
        let host = arrival.host.as_str();
        let Some(vlan) = vlan else {
            return vec![broken(format!(
                "{host} cannot tell the VLAN of the frame to {mac}"
            ))];
        };
        if let Some(ingress) = arrival.in_ifname.as_deref() {
            let port = device.bridge_port(ingress);
            if device
                .interfaces
                .get(port)
                .is_some_and(|i| !i.carries(vlan))
            {
                return vec![broken(format!("VLAN {vlan} is not on {host}:{port}"))];
            }
        }
        let Some(entry) = device.macs.get(&(vlan, mac.to_string())) else {
            return vec![broken(format!(
                "no MAC entry for {mac} in VLAN {vlan} on {host}"
            ))];
        };
        if let Some(vtep) = entry.remote_vtep {
            return vec![self.tunnel(device, host, entry.ifname.as_deref(), vtep, vlan, mac)];
        }
        let Some(ifname) = entry.ifname.as_deref() else {
            return vec![broken(format!(
                "the MAC entry for {mac} on {host} names no port"
            ))];
        };
        if device
            .interfaces
            .get(ifname)
            .is_some_and(|i| !i.carries(vlan))
        {
            return vec![broken_at(
                ifname,
                format!("VLAN {vlan} is not on {host}:{ifname}"),
            )];
        }
        device
            .ports_of(ifname)
            .into_iter()
            .map(|port| self.leave(device, host, &port, Some(mac), Some(vlan)))
            .collect()
    }

    /// A frame leaving by a VXLAN device toward the VTEP `vtep`.
    fn tunnel(
        &self,
        device: &Device,
        host: &str,
        ifname: Option<&str>,
        vtep: IpAddr,
        vlan: u32,
        mac: &str,
    ) -> Egress {
        let local = device
            .vxlan
            .iter()
            .find(|v| Some(v.ifname.as_str()) == ifname || v.vlan == Some(vlan));
        let out_ifname = ifname
            .map(str::to_string)
            .or_else(|| local.map(|v| v.ifname.clone()));
        let mut egress = Egress {
            out_ifname: out_ifname.clone(),
            next: None,
            vlan: Some(vlan),
            tunnel: Some(vtep.to_string()),
            faults: Vec::new(),
        };
        let underlay = device
            .routes
            .values()
            .any(|routes| routes.iter().any(|r| r.net.contains(vtep)));
        if !underlay {
            egress.faults.push(Fault::error(format!(
                "no underlay route to VTEP {vtep} on {host}"
            )));
            return egress;
        }
        let Some((remote, _)) = self.fabric.owners.get(&vtep) else {
            egress.faults.push(Fault::error(format!(
                "no node holds the VTEP address {vtep}"
            )));
            return egress;
        };
        let remote_device = self.fabric.device(remote);
        let vni = local.map(|v| v.vni);
        let remote_vxlan = remote_device.and_then(|d| d.vxlan.iter().find(|v| Some(v.vni) == vni));
        match remote_vxlan {
            Some(v) => {
                egress.next = Some(Arrival {
                    host: remote.clone(),
                    in_ifname: Some(v.ifname.clone()),
                    frame: Some((v.vlan, mac.to_string())),
                });
            }
            None => egress.faults.push(Fault::error(format!(
                "{remote} has no VXLAN device for VNI {}",
                vni.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
            ))),
        }
        egress
    }

    /// A packet leaving by the physical `port`: the device and port on the other end.
    fn leave(
        &self,
        device: &Device,
        host: &str,
        port: &str,
        mac: Option<&str>,
        vlan: Option<u32>,
    ) -> Egress {
        let mut egress = Egress {
            out_ifname: Some(port.to_string()),
            next: None,
            vlan,
            tunnel: None,
            faults: Vec::new(),
        };
        if device.interfaces.get(port).is_some_and(|i| !i.up) {
            egress
                .faults
                .push(Fault::error(format!("{host}:{port} is down")));
            return egress;
        }
        let frame = mac.map(|m| (vlan, m.to_string()));
        if let Some((peer, peer_port)) = device.lldp.get(port) {
            egress.next = Some(Arrival {
                host: peer.clone(),
                in_ifname: Some(peer_port.clone()),
                frame,
            });
            return egress;
        }
        match mac.and_then(|m| self.fabric.mac_owners.get(m)) {
            Some(owner) => {
                egress.faults.push(Fault::warning(format!(
                    "no LLDP neighbour on {host}:{port}; the next hop's MAC names {owner}"
                )));
                egress.next = Some(Arrival {
                    host: owner.clone(),
                    in_ifname: None,
                    frame,
                });
            }
            None => egress.faults.push(Fault::error(format!(
                "{host}:{port} leads to an unknown device (no LLDP neighbour)"
            ))),
        }
        egress
    }
}

/// A hop that goes nowhere, with why.
fn broken(message: String) -> Egress {
    Egress {
        out_ifname: None,
        next: None,
        vlan: None,
        tunnel: None,
        faults: vec![Fault::error(message)],
    }
}

fn broken_at(ifname: &str, message: String) -> Egress {
    Egress {
        out_ifname: Some(ifname.to_string()),
        ..broken(message)
    }
}

/// Warns of MTUs below the source's and of links whose ends' MTUs differ.
fn mark_mtu(path: &mut Path) {
    let Some(source) = path.hops.first().and_then(|h| h.mtu) else {
        return;
    };
    let last = path.hops.len() - 1;
    for i in 0..path.hops.len() {
        let previous = (i > 0).then(|| {
            (
                path.hops[i - 1].hostname.clone(),
                path.hops[i - 1].out_ifname.clone(),
                path.hops[i - 1].mtu,
            )
        });
        let hop = &mut path.hops[i];
        if let (Some((prev_host, Some(prev_if), Some(sent))), Some(received)) =
            (&previous, hop.in_mtu)
            && *sent != received
        {
            let here = hop.in_ifname.as_deref().unwrap_or("?");
            hop.faults.push(Fault::warning(format!(
                "MTU mismatch: {prev_host}:{prev_if} has {sent}, {}:{here} has {received}",
                hop.hostname
            )));
        }
        let out = if i < last { hop.mtu } else { None };
        let below = [(hop.in_mtu, &hop.in_ifname), (out, &hop.out_ifname)]
            .into_iter()
            .find_map(|(mtu, ifname)| Some((mtu.filter(|&m| m < source)?, ifname.clone())));
        if let Some((mtu, ifname)) = below.filter(|_| i > 0) {
            hop.faults.push(Fault::warning(format!(
                "MTU {mtu} on {}:{} is below the source's {source}",
                hop.hostname,
                ifname.as_deref().unwrap_or("?")
            )));
        }
    }
}
