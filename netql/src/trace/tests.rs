//! The walk on small fabrics built for one fault each: a routing loop, black holes (no route,
//! no neighbour, a port down), an L2 segment stretched over VXLAN, a VLAN a port does not carry,
//! a next device found without LLDP, and an MTU below the source's.

use std::net::IpAddr;

use super::fabric::{Fabric, Interface, MacEntry, Neighbor, Net, Route, Vxlan};
use super::{Endpoint, Path, Request, Severity, walk};
use crate::ast::Span;

fn mac(n: u8) -> String {
    format!("44:38:39:00:00:{n:02x}")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// A fabric built by hand: each device's MAC is `44:38:39:00:00:<n>` of its number.
#[derive(Default)]
struct Build {
    fabric: Fabric,
    macs: Vec<String>,
}

impl Build {
    fn device(&mut self, host: &str) -> &mut super::fabric::Device {
        if !self.macs.iter().any(|h| h == host) {
            self.macs.push(host.to_string());
        }
        self.fabric.devices.entry(host.to_string()).or_default()
    }

    fn mac_of(&self, host: &str) -> String {
        let n = self
            .macs
            .iter()
            .position(|h| h == host)
            .expect("known host");
        mac(n as u8 + 1)
    }

    fn port(&mut self, host: &str, ifname: &str, mtu: u32) -> &mut Interface {
        self.device(host);
        let mac = self.mac_of(host);
        let device = self.device(host);
        device
            .interfaces
            .entry(ifname.to_string())
            .or_insert(Interface {
                kind: "swp".into(),
                up: true,
                mtu: Some(mtu),
                mac: Some(mac),
                vrf: Some("default".into()),
                ..Interface::default()
            })
    }

    /// A cable: both ports up, LLDP both ways, each end's neighbour entry for the other's
    /// link-local address `fe80::<n>`.
    fn cable(&mut self, a: (&str, &str), b: (&str, &str), mtu: u32) {
        self.port(a.0, a.1, mtu);
        self.port(b.0, b.1, mtu);
        for ((host, ifname), (peer, peer_if)) in [(a, b), (b, a)] {
            let peer_mac = self.mac_of(peer);
            let device = self.device(host);
            device
                .lldp
                .insert(ifname.to_string(), (peer.to_string(), peer_if.to_string()));
            device.neighbors.insert(
                (ifname.to_string(), link_local(&peer_mac)),
                Neighbor {
                    mac: Some(peer_mac),
                    failed: false,
                },
            );
        }
    }

    fn address(&mut self, host: &str, ifname: &str, address: &str) {
        self.port(host, ifname, 9000);
        self.device(host)
            .addresses
            .push((ifname.to_string(), ip(address)));
    }

    /// A route over `(next hop device, port)` pairs: the next hop is that device's link-local.
    fn route(&mut self, host: &str, prefix: &str, via: &[(&str, &str)]) {
        let hops = via
            .iter()
            .map(|(peer, port)| (Some(link_local(&self.mac_of(peer))), port.to_string()))
            .collect();
        let net = Net::parse(prefix).expect("prefix");
        self.device(host)
            .routes
            .entry("default".into())
            .or_default()
            .push(Route { net, hops });
    }

    fn done(mut self) -> Fabric {
        self.fabric.index();
        self.fabric
    }
}

fn link_local(mac: &str) -> IpAddr {
    ip(&format!("fe80::{}", mac.rsplit(':').next().unwrap_or("1")))
}

fn trace(fabric: &Fabric, to: &str, from: &str) -> Vec<Path> {
    let endpoint = |text: &str| match text.parse() {
        Ok(ip) => Endpoint::Ip(ip),
        Err(_) => Endpoint::Host(text.to_string()),
    };
    let request = Request {
        destination: endpoint(to),
        source: endpoint(from),
        vrf: None,
        vlan: None,
        bidir: false,
        source_span: Span::default(),
        destination_span: Span::default(),
    };
    walk(fabric, &request).expect("walks").forward
}

/// `host:ifname` per hop, as the paths are drawn.
fn drawn(path: &Path) -> Vec<String> {
    path.hops
        .iter()
        .map(|h| format!("{}:{}", h.hostname, h.out_ifname.as_deref().unwrap_or("")))
        .collect()
}

fn errors(path: &Path) -> Vec<String> {
    path.hops
        .iter()
        .flat_map(|h| &h.faults)
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.clone())
        .collect()
}

/// a — b — c, c holding 10.0.0.3; a and b route 10.0.0.0/24 onward.
fn line() -> Build {
    let mut b = Build::default();
    b.cable(("a", "swp1"), ("b", "swp1"), 9000);
    b.cable(("b", "swp2"), ("c", "swp1"), 9000);
    b.address("c", "lo", "10.0.0.3");
    b.route("a", "10.0.0.0/24", &[("b", "swp1")]);
    b.route("b", "10.0.0.0/24", &[("c", "swp2")]);
    b
}

#[test]
fn a_clean_line_reaches_the_address() {
    let paths = trace(&line().done(), "10.0.0.3", "a");
    assert_eq!(paths.len(), 1);
    assert_eq!(drawn(&paths[0]), ["a:swp1", "b:swp2", "c:lo"]);
    assert!(!paths[0].has(Severity::Error) && !paths[0].has(Severity::Warning));
    assert_eq!(paths[0].mtu(), Some(9000));
}

#[test]
fn a_routing_loop_is_an_error() {
    let mut b = line();
    b.device("b").routes.clear();
    b.route("b", "10.0.0.0/24", &[("a", "swp1")]);
    b.route("a", "10.0.0.0/8", &[("b", "swp1")]);
    let paths = trace(&b.done(), "10.0.0.3", "a");
    assert_eq!(paths.len(), 1);
    assert_eq!(errors(&paths[0]), ["loop: the path comes back to a"]);
}

#[test]
fn black_holes_name_what_is_missing() {
    let mut no_route = line();
    no_route.device("b").routes.clear();
    let paths = trace(&no_route.done(), "10.0.0.3", "a");
    assert_eq!(
        errors(&paths[0]),
        ["no route to 10.0.0.3 in VRF default on b"]
    );

    let mut no_neighbor = line();
    no_neighbor.device("b").neighbors.clear();
    let paths = trace(&no_neighbor.done(), "10.0.0.3", "a");
    assert_eq!(errors(&paths[0]).len(), 1);
    assert!(errors(&paths[0])[0].starts_with("no neighbour entry for fe80::"));

    let mut down = line();
    down.port("b", "swp2", 9000).up = false;
    let paths = trace(&down.done(), "10.0.0.3", "a");
    assert_eq!(errors(&paths[0]), ["b:swp2 is down"]);
    assert_eq!(drawn(&paths[0]), ["a:swp1", "b:swp2"]);
}

#[test]
fn ecmp_over_a_bond_fans_out_to_its_members() {
    let mut b = Build::default();
    b.cable(("a", "swp1"), ("b", "swp1"), 9000);
    b.cable(("a", "swp2"), ("c", "swp1"), 9000);
    for (spine, port) in [("b", "swp2"), ("c", "swp2")] {
        b.cable(
            (spine, port),
            ("d", if spine == "b" { "swp1" } else { "swp2" }),
            9000,
        );
        b.route(spine, "10.0.0.0/24", &[("d", port)]);
    }
    b.route("a", "10.0.0.0/24", &[("b", "swp1"), ("c", "swp2")]);
    b.cable(("d", "swp3"), ("h", "eth1"), 1500);
    b.cable(("d", "swp4"), ("h", "eth2"), 1500);
    for member in ["swp3", "swp4"] {
        b.port("d", member, 1500).master = Some("bond1".into());
    }
    b.port("d", "bond1", 1500).kind = "bond".into();
    let h_mac = b.mac_of("h");
    b.device("d").neighbors.insert(
        ("bond1".into(), link_local(&h_mac)),
        Neighbor {
            mac: Some(h_mac),
            failed: false,
        },
    );
    b.route("d", "10.0.0.0/24", &[("h", "bond1")]);
    b.address("h", "lo", "10.0.0.9");
    let mut fabric = b.done();
    fabric.index();
    let paths = trace(&fabric, "10.0.0.9", "a");
    let lines: Vec<Vec<String>> = paths.iter().map(drawn).collect();
    assert_eq!(
        lines,
        [
            ["a:swp1", "b:swp2", "d:swp3", "h:lo"],
            ["a:swp1", "b:swp2", "d:swp4", "h:lo"],
            ["a:swp2", "c:swp2", "d:swp3", "h:lo"],
            ["a:swp2", "c:swp2", "d:swp4", "h:lo"],
        ]
    );
    // The path MTU is the bond members' 1500, below the source's 9000: a warning, not an error.
    assert!(paths.iter().all(|p| p.mtu() == Some(1500)));
    assert!(
        paths
            .iter()
            .all(|p| p.has(Severity::Warning) && !p.has(Severity::Error))
    );
}

/// Two hosts in one subnet (VLAN 10) on two leaves, the segment stretched over VXLAN (VNI 10):
/// hx — leafx ═ underlay ═ leafy — hy.
fn stretched() -> Build {
    let mut b = Build::default();
    b.cable(("hx", "eth0"), ("leafx", "swp1"), 9000);
    b.cable(("hy", "eth0"), ("leafy", "swp1"), 9000);
    b.cable(("leafx", "swp51"), ("leafy", "swp51"), 9216);
    b.address("hx", "eth0", "10.1.10.1");
    b.address("hy", "eth0", "10.1.10.2");
    b.address("leafx", "lo", "10.0.0.1");
    b.address("leafy", "lo", "10.0.0.2");
    b.route("leafx", "10.0.0.2/32", &[("leafy", "swp51")]);
    let hy_mac = b.mac_of("hy");
    let hx = b.device("hx");
    hx.routes.entry("default".into()).or_default().push(Route {
        net: Net::parse("10.1.10.0/24").expect("prefix"),
        hops: vec![(None, "eth0".into())],
    });
    hx.neighbors.insert(
        ("eth0".into(), ip("10.1.10.2")),
        Neighbor {
            mac: Some(hy_mac.clone()),
            failed: false,
        },
    );
    for leaf in ["leafx", "leafy"] {
        b.port(leaf, "swp1", 9000).pvid = Some(10);
        let vni = b.port(leaf, "vni10", 9000);
        vni.kind = "vxlan".into();
        vni.pvid = Some(10);
        b.device(leaf).vxlan.push(Vxlan {
            ifname: "vni10".into(),
            vni: 10,
            vlan: Some(10),
        });
    }
    b.device("leafx").macs.insert(
        (10, hy_mac.clone()),
        MacEntry {
            ifname: Some("vni10".into()),
            remote_vtep: Some(ip("10.0.0.2")),
        },
    );
    b.device("leafy").macs.insert(
        (10, hy_mac),
        MacEntry {
            ifname: Some("swp1".into()),
            remote_vtep: None,
        },
    );
    b
}

#[test]
fn an_l2_segment_crosses_vxlan_to_the_far_vtep() {
    let paths = trace(&stretched().done(), "10.1.10.2", "hx");
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(
        drawn(&paths[0]),
        ["hx:eth0", "leafx:vni10", "leafy:swp1", "hy:eth0"]
    );
    assert_eq!(paths[0].hops[1].tunnel.as_deref(), Some("10.0.0.2"));
    assert_eq!(paths[0].hops[1].vlan, Some(10));
    assert!(!paths[0].has(Severity::Error));
}

#[test]
fn a_vlan_the_port_does_not_carry_breaks_the_segment() {
    let mut b = stretched();
    let port = b.port("leafy", "swp1", 9000);
    port.pvid = Some(20);
    port.vlans = Some("20".into());
    let paths = trace(&b.done(), "10.1.10.2", "hx");
    assert_eq!(errors(&paths[0]), ["VLAN 10 is not on leafy:swp1"]);
}

#[test]
fn a_vtep_without_an_underlay_route_is_an_error() {
    let mut b = stretched();
    b.device("leafx").routes.clear();
    let paths = trace(&b.done(), "10.1.10.2", "hx");
    assert_eq!(
        errors(&paths[0]),
        ["no underlay route to VTEP 10.0.0.2 on leafx"]
    );
}

#[test]
fn a_next_device_without_lldp_is_found_by_its_mac_with_a_warning() {
    let mut b = line();
    b.device("a").lldp.clear();
    let paths = trace(&b.done(), "10.0.0.3", "a");
    assert_eq!(drawn(&paths[0]), ["a:swp1", "b:swp2", "c:lo"]);
    assert!(paths[0].has(Severity::Warning) && !paths[0].has(Severity::Error));

    let mut unknown = line();
    unknown.device("a").lldp.clear();
    unknown
        .device("a")
        .neighbors
        .values_mut()
        .for_each(|n| n.mac = None);
    let paths = trace(&unknown.done(), "10.0.0.3", "a");
    assert_eq!(
        errors(&paths[0]),
        ["a:swp1 leads to an unknown device (no LLDP neighbour)"]
    );
}
