//! The tracked flows: server-to-server flows across the fabric, each with the switches it
//! crosses (ports taken from the topology's cables) through every spine it may take, preferred
//! first, and the addresses the servers have in their leaves' subnets.

use std::net::Ipv4Addr;

use crate::topology::Topology;

/// The transport a flow runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Udp,
    Tcp,
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Udp => 17,
            Protocol::Tcp => 6,
        }
    }
}

/// One switch a flow crosses: the ports it enters and leaves by (the number of `swp<n>`), and
/// the cables it arrives and departs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub node: usize,
    pub ingress: u16,
    pub egress: u16,
    pub links: [usize; 2],
}

/// A tracked flow from one server to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub src_host: usize,
    pub dst_host: usize,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: Protocol,
    /// The egress queue its packets wait in at every hop.
    pub queue: u8,
    /// Payload bytes per packet (reports carry the headers only, as switches truncate them).
    pub payload: u16,
    /// Source leaf, spine, sink leaf: one path per spine the flow may take, preferred first.
    pub paths: Vec<Vec<Crossing>>,
}

impl Flow {
    /// The leaf where the flow enters the fabric.
    pub fn source(&self) -> Option<usize> {
        self.paths.first()?.first().map(|c| c.node)
    }

    /// The leaf where it leaves the fabric: the INT sink, which reports it.
    pub fn sink(&self) -> Option<usize> {
        self.paths.first()?.last().map(|c| c.node)
    }
}

/// A flow as the reference fabric runs it: which NIC of which server to which, over which
/// spines, on which ports.
struct Spec {
    src: (&'static str, &'static str),
    dst: (&'static str, &'static str),
    spines: [&'static str; 2],
    protocol: Protocol,
    ports: (u16, u16),
    queue: u8,
    payload: u16,
}

/// server01 → server03 (UDP, an iperf stream) and server02 → server03 (TCP, HTTPS) by spine01,
/// server02 → server04 (TCP) by spine02, server03 → server01 (TCP, PostgreSQL replies) by
/// spine02; each falls back on the other spine when a cable of its path is down.
const REFERENCE_FLOWS: [Spec; 4] = [
    Spec {
        src: ("server01", "eth1"),
        dst: ("server03", "eth1"),
        spines: ["spine01", "spine02"],
        protocol: Protocol::Udp,
        ports: (49152, 5201),
        queue: 3,
        payload: 1200,
    },
    Spec {
        src: ("server02", "eth1"),
        dst: ("server03", "eth1"),
        spines: ["spine01", "spine02"],
        protocol: Protocol::Tcp,
        ports: (51234, 443),
        queue: 0,
        payload: 1400,
    },
    Spec {
        src: ("server02", "eth2"),
        dst: ("server04", "eth2"),
        spines: ["spine02", "spine01"],
        protocol: Protocol::Tcp,
        ports: (40522, 8080),
        queue: 0,
        payload: 1400,
    },
    Spec {
        src: ("server03", "eth1"),
        dst: ("server01", "eth1"),
        spines: ["spine02", "spine01"],
        protocol: Protocol::Tcp,
        ports: (5432, 40100),
        queue: 0,
        payload: 900,
    },
];

/// The reference flows the topology has every server, cable and address for.
pub fn tracked_flows(t: &Topology) -> Vec<Flow> {
    REFERENCE_FLOWS
        .iter()
        .filter_map(|spec| resolve(t, spec))
        .collect()
}

fn resolve(t: &Topology, spec: &Spec) -> Option<Flow> {
    let (src_host, dst_host) = (t.node(spec.src.0)?, t.node(spec.dst.0)?);
    let first = host_port(t, src_host, spec.src.1)?;
    let last = host_port(t, dst_host, spec.dst.1)?;
    let paths: Vec<Vec<Crossing>> = spec
        .spines
        .iter()
        .filter_map(|name| path(t, first, t.node(name)?, last))
        .collect();
    if paths.is_empty() {
        return None;
    }
    Some(Flow {
        src_host,
        dst_host,
        src: host_address(t, src_host)?,
        dst: host_address(t, dst_host)?,
        src_port: spec.ports.0,
        dst_port: spec.ports.1,
        protocol: spec.protocol,
        queue: spec.queue,
        payload: spec.payload,
        paths,
    })
}

/// The switch end of a host's NIC: (cable, switch, switch port number).
fn host_port(t: &Topology, host: usize, nic: &str) -> Option<(usize, usize, u16)> {
    let (l, a_side) = t.link_at(host, nic)?;
    let link = &t.links[l];
    let switch = if a_side { &link.b } else { &link.a };
    Some((l, switch.node, port_number(&switch.ifname)?))
}

/// The fabric cable between two nodes: (cable, `a`'s port number, `b`'s port number).
fn fabric_port(t: &Topology, a: usize, b: usize) -> Option<(usize, u16, u16)> {
    t.fabric_links().find_map(|(l, link)| {
        let ports = if (link.a.node, link.b.node) == (a, b) {
            (&link.a.ifname, &link.b.ifname)
        } else if (link.a.node, link.b.node) == (b, a) {
            (&link.b.ifname, &link.a.ifname)
        } else {
            return None;
        };
        Some((l, port_number(ports.0)?, port_number(ports.1)?))
    })
}

/// Source leaf → spine → sink leaf, between two hosts' switch ports.
fn path(
    t: &Topology,
    (in_link, source, in_port): (usize, usize, u16),
    spine: usize,
    (out_link, sink, out_port): (usize, usize, u16),
) -> Option<Vec<Crossing>> {
    let (up, up_leaf, up_spine) = fabric_port(t, source, spine)?;
    let (down, down_spine, down_leaf) = fabric_port(t, spine, sink)?;
    let crossing = |node, ingress, egress, links| Crossing {
        node,
        ingress,
        egress,
        links,
    };
    Some(vec![
        crossing(source, in_port, up_leaf, [in_link, up]),
        crossing(spine, up_spine, down_spine, [up, down]),
        crossing(sink, down_leaf, out_port, [down, out_link]),
    ])
}

/// The number of a port name: 51 of `swp51`.
pub fn port_number(ifname: &str) -> Option<u16> {
    let digits = ifname.trim_start_matches(|c: char| !c.is_ascii_digit());
    digits.parse().ok()
}

/// A dual-homed server's address: host 100 + its bond's clag id in its pair's primary leaf's
/// subnet (server01 is 10.1.10.101, server03 10.1.30.103).
pub fn host_address(t: &Topology, host: usize) -> Option<Ipv4Addr> {
    let (primary, clag_id) = t.pairs.iter().find_map(|pair| {
        let bond = pair.bonds.iter().find(|b| b.server == host)?;
        Some((pair.leaves[0], bond.clag_id))
    })?;
    let rank = t.leaves().position(|l| l == primary)?;
    let subnet = t.leaf_subnet(rank);
    let network: Ipv4Addr = subnet.split('/').next()?.parse().ok()?;
    let [a, b, c, _] = network.octets();
    Some(Ipv4Addr::new(a, b, c, u8::try_from(100 + clag_id).ok()?))
}
