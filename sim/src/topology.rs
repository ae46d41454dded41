//! Who is connected to whom: nodes, cabled links, MLAG pairs, the overlay's VNIs, the OSPF links
//! and the LNV domain.

use std::sync::Arc;

/// What a node does in the fabric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Spine,
    Leaf,
    Exit,
    /// A host dual-homed to an MLAG pair (or to the exits, for `edge01`).
    Server,
    /// The provider's router beyond the exits.
    Internet,
}

impl Role {
    pub fn is_router(self) -> bool {
        !matches!(self, Role::Server)
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: Arc<str>,
    pub role: Role,
    pub asn: u32,
    /// Loopback (and router id) for routers; empty for hosts.
    pub loopback: String,
    pub os: &'static str,
    /// The MAC every interface of the node reports (its ports share the system MAC):
    /// `44:38:39:00:<hi>:<lo>` of the node's index, so bytes 0, 1, 4 and 5, the INT switch id's,
    /// name one node.
    pub mac: [u8; 6],
}

/// One end of a cable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub node: usize,
    pub ifname: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Routed, with an unnumbered eBGP session over it.
    Fabric,
    /// A member of an MLAG pair's peerlink bond.
    Peerlink,
    /// A host's NIC to a switch port that is a member of `bond` on the switch.
    Host,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub a: Port,
    pub b: Port,
    pub kind: LinkKind,
    pub mtu: u32,
    /// The switch-side bond a host link belongs to (`Host` links only).
    pub bond: Option<String>,
}

/// A dual-homed server's bond on both leaves of a pair.
#[derive(Debug, Clone)]
pub struct Bond {
    pub name: String,
    pub server: usize,
    pub clag_id: u32,
}

#[derive(Debug, Clone)]
pub struct MlagPair {
    /// Primary first.
    pub leaves: [usize; 2],
    pub bonds: Vec<Bond>,
    pub sysmac: String,
}

/// A layer-2 VNI stretched over every leaf.
#[derive(Debug, Clone, Copy)]
pub struct Vni {
    pub vni: u32,
    pub vlan: u32,
}

/// A routed /31 running OSPF point to point in area 0: the link and its ends' addresses (`a` first).
#[derive(Debug, Clone)]
pub struct OspfLink {
    pub link: usize,
    pub addresses: [String; 2],
}

/// VXLAN flooding through LNV: VTEPs registered (vxrd) with service nodes (vxsnd) that share
/// one anycast address.
#[derive(Debug, Clone)]
pub struct LnvDomain {
    pub vni: Vni,
    pub anycast: String,
    pub service_nodes: Vec<usize>,
    pub vteps: Vec<usize>,
}

pub const FABRIC_MTU: u32 = 9216;
pub const HOST_MTU: u32 = 9152;
pub const PEERLINK_VLANS: &str = "10-20";
pub const BOND_VLANS: &str = "10-20";

#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub pairs: Vec<MlagPair>,
    pub vnis: Vec<Vni>,
    pub ospf: Vec<OspfLink>,
    /// Router ids of OSPF speakers that have no fabric loopback (edge01, a firewall).
    pub ospf_router_ids: Vec<(usize, String)>,
    pub lnv: Option<LnvDomain>,
    /// The spines announce only a default route to the leaves (wide fabrics do, to keep the
    /// leaves' FIBs small), instead of every other leaf's subnet.
    pub default_only_leaves: bool,
    /// Each node's ports with what is at their far end, built on first use (a topology is not
    /// changed once it is used).
    ports: std::sync::OnceLock<Vec<Ports>>,
}

/// One node's ports: each port (and each bond, by its members) → the node at the far end and
/// the kind of cable, and the `a` ends it cables in order (its uplinks, for a leaf).
#[derive(Debug, Clone, Default)]
pub struct Ports {
    pub peers: std::collections::HashMap<String, (usize, LinkKind)>,
    pub a_ends: Vec<(String, usize, LinkKind)>,
}

/// Node names numbered from 1 with at least two digits: `leaf01`, `leaf0966`.
fn numbered(prefix: &str, i: usize, count: usize) -> String {
    let width = count.to_string().len().max(2);
    format!("{prefix}{:0width$}", i + 1)
}

impl Topology {
    /// The seed's reference data centre: spine01–02; leaf01–04 in two MLAG pairs with peerlinks;
    /// server01–04 dual-homed; exit01–02 with edge01 behind them and the internet router beyond.
    /// The exits run OSPF with edge01 (a firewall, router id 10.0.0.51) over 10.9.<n>.0/31, and
    /// flood a legacy VNI 100 between them through LNV service nodes on the spines (10.0.0.100).
    pub fn reference() -> Topology {
        let mut t = Topology::default();
        let spines = t.add_nodes(Role::Spine, "spine", 2, |i| {
            (65020, format!("10.0.0.{}", 21 + i))
        });
        let leaves = t.add_nodes(Role::Leaf, "leaf", 4, |i| {
            (65011 + i as u32, format!("10.0.0.{}", 11 + i))
        });
        let exits = t.add_nodes(Role::Exit, "exit", 2, |i| {
            (65041 + i as u32, format!("10.0.0.{}", 41 + i))
        });
        let servers = t.add_nodes(Role::Server, "server", 4, |_| (0, String::new()));
        t.cable_uplinks(&leaves, &exits, &spines);
        t.pair_leaves(&leaves, &servers);
        let edge = t.add_node(Role::Server, "edge01".into(), 0, String::new());
        let internet = t.add_node(
            Role::Internet,
            "internet".into(),
            25253,
            "10.0.0.253".into(),
        );
        for (n, &exit) in exits.iter().enumerate() {
            t.cable(
                exit,
                "swp44",
                internet,
                &format!("swp{}", n + 1),
                LinkKind::Fabric,
                FABRIC_MTU,
                None,
            );
            t.cable(
                exit,
                "swp1",
                edge,
                &format!("eth{}", n + 1),
                LinkKind::Host,
                HOST_MTU,
                None,
            );
            t.ospf.push(OspfLink {
                link: t.links.len() - 1,
                addresses: [format!("10.9.{}.0", n + 1), format!("10.9.{}.1", n + 1)],
            });
        }
        t.vnis = vec![Vni { vni: 10, vlan: 10 }, Vni { vni: 20, vlan: 20 }];
        t.ospf_router_ids = vec![(edge, "10.0.0.51".into())];
        t.lnv = Some(LnvDomain {
            vni: Vni {
                vni: 100,
                vlan: 100,
            },
            anycast: "10.0.0.100".into(),
            service_nodes: spines,
            vteps: exits,
        });
        t
    }

    /// A CLOS fabric of about `nodes` switches for scale: 2–32 spines (a multiple of four from four
    /// on, in groups of four), leaves in MLAG pairs with four uplinks each, two exits; no servers (they would only multiply the leaves' rows).
    pub fn clos(nodes: usize) -> Topology {
        let mut t = Topology::default();
        let spine_count = match (nodes / 32).clamp(2, 32) {
            n if n >= 4 => n / 4 * 4,
            n => n,
        };
        let leaf_count = nodes.saturating_sub(spine_count + 2).max(2) & !1;
        let wide = leaf_count > 8;
        let spines = t.add_nodes(Role::Spine, "spine", spine_count, |i| {
            (65020, format!("10.0.1.{}", i + 1))
        });
        let leaves = t.add_nodes(Role::Leaf, "leaf", leaf_count, |i| {
            let asn = if wide {
                4_200_000_000 + i as u32
            } else {
                65011 + i as u32
            };
            (
                asn,
                format!("10.{}.{}.{}", 2 + i / 65_536, i / 256 % 256, i % 256),
            )
        });
        let exits = t.add_nodes(Role::Exit, "exit", 2, |i| {
            (65041 + i as u32, format!("10.0.0.{}", 41 + i))
        });
        t.cable_uplinks(&leaves, &exits, &spines);
        t.pair_leaves(&leaves, &[]);
        t.vnis = vec![Vni { vni: 10, vlan: 10 }, Vni { vni: 20, vlan: 20 }];
        t
    }

    /// A CLOS fabric of about `nodes` switches whose every leaf (and exit) is cabled to each of
    /// `ecmp` spines: `ecmp`-way ECMP at the spine layer. The spines announce only a default
    /// route to the leaves, and learn every leaf's subnet.
    pub fn clos_ecmp(nodes: usize, ecmp: usize) -> Topology {
        let mut t = Topology::default();
        let spine_count = ecmp.max(1);
        let leaf_count = nodes.saturating_sub(spine_count + 2).max(2) & !1;
        let spines = t.add_nodes(Role::Spine, "spine", spine_count, |i| {
            (65020, format!("10.0.1.{}", i + 1))
        });
        let leaves = t.add_nodes(Role::Leaf, "leaf", leaf_count, |i| {
            (
                4_200_000_000 + i as u32,
                format!("10.{}.{}.{}", 2 + i / 65_536, i / 256 % 256, i % 256),
            )
        });
        let exits = t.add_nodes(Role::Exit, "exit", 2, |i| {
            (65041 + i as u32, format!("10.0.0.{}", 41 + i))
        });
        t.cable_uplinks_to(&leaves, &exits, &spines, spine_count);
        t.pair_leaves(&leaves, &[]);
        t.vnis = vec![Vni { vni: 10, vlan: 10 }];
        t.default_only_leaves = true;
        t
    }

    fn add_node(&mut self, role: Role, name: String, asn: u32, loopback: String) -> usize {
        let os = if role.is_router() {
            "Cumulus Linux 3.7.0"
        } else {
            "Ubuntu 22.04"
        };
        let [.., hi, lo] = (self.nodes.len() as u64).to_be_bytes();
        self.nodes.push(Node {
            name: name.into(),
            role,
            asn,
            loopback,
            os,
            mac: [0x44, 0x38, 0x39, 0x00, hi, lo],
        });
        self.nodes.len() - 1
    }

    fn add_nodes(
        &mut self,
        role: Role,
        prefix: &str,
        count: usize,
        address: impl Fn(usize) -> (u32, String),
    ) -> Vec<usize> {
        (0..count)
            .map(|i| {
                let (asn, loopback) = address(i);
                self.add_node(role, numbered(prefix, i, count), asn, loopback)
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn cable(
        &mut self,
        a: usize,
        a_port: &str,
        b: usize,
        b_port: &str,
        kind: LinkKind,
        mtu: u32,
        bond: Option<String>,
    ) {
        self.links.push(Link {
            a: Port {
                node: a,
                ifname: a_port.into(),
            },
            b: Port {
                node: b,
                ifname: b_port.into(),
            },
            kind,
            mtu,
            bond,
        });
    }

    /// Leaves and exits take swp51… up to four spines; spines number their ports by leaf.
    fn cable_uplinks(&mut self, leaves: &[usize], exits: &[usize], spines: &[usize]) {
        self.cable_uplinks_to(leaves, exits, spines, 4);
    }

    /// Leaves and exits take swp51… to `uplinks` spines each (a group of them, in turn, when
    /// there are more spines); spines number their ports by leaf.
    fn cable_uplinks_to(
        &mut self,
        leaves: &[usize],
        exits: &[usize],
        spines: &[usize],
        uplinks: usize,
    ) {
        let uplinks = spines.len().min(uplinks);
        let groups = spines.len() / uplinks;
        for (i, &node) in leaves.iter().chain(exits).enumerate() {
            let group = if exits.contains(&node) { 0 } else { i % groups };
            for k in 0..uplinks {
                let spine = spines[group * uplinks + k];
                self.cable(
                    node,
                    &format!("swp{}", 51 + k),
                    spine,
                    &format!("swp{}", i + 1),
                    LinkKind::Fabric,
                    FABRIC_MTU,
                    None,
                );
            }
        }
    }

    /// Consecutive leaves pair up over swp49–50 (the peerlink); the servers are spread over the
    /// pairs, each on bond<n> with eth1 to the primary and eth2 to the secondary.
    fn pair_leaves(&mut self, leaves: &[usize], servers: &[usize]) {
        let pairs = leaves.len() / 2;
        for p in 0..pairs {
            let [primary, secondary] = [leaves[2 * p], leaves[2 * p + 1]];
            for port in ["swp49", "swp50"] {
                self.cable(
                    primary,
                    port,
                    secondary,
                    port,
                    LinkKind::Peerlink,
                    FABRIC_MTU,
                    None,
                );
            }
            let mut bonds = Vec::new();
            for (n, &server) in servers
                .iter()
                .enumerate()
                .filter(|(n, _)| n * pairs / servers.len() == p)
            {
                let bond = format!("bond{}", n + 1);
                let port = format!("swp{}", bonds.len() + 1);
                for (side, leaf) in [primary, secondary].into_iter().enumerate() {
                    self.cable(
                        leaf,
                        &port,
                        server,
                        &format!("eth{}", side + 1),
                        LinkKind::Host,
                        HOST_MTU,
                        Some(bond.clone()),
                    );
                }
                bonds.push(Bond {
                    name: bond,
                    server,
                    clag_id: n as u32 + 1,
                });
            }
            self.pairs.push(MlagPair {
                leaves: [primary, secondary],
                bonds,
                sysmac: format!("44:38:39:ff:{:02x}:{:02x}", p / 256, p % 256 + 1),
            });
        }
    }

    /// `node`'s ports and what is at their far ends.
    pub fn ports(&self, node: usize) -> &Ports {
        let all = self.ports.get_or_init(|| {
            let mut all = vec![Ports::default(); self.nodes.len()];
            for link in &self.links {
                for (this, other) in [(&link.a, &link.b), (&link.b, &link.a)] {
                    let ports = &mut all[this.node];
                    ports
                        .peers
                        .insert(this.ifname.clone(), (other.node, link.kind));
                    if let Some(bond) = link
                        .bond
                        .as_ref()
                        .filter(|_| self.nodes[this.node].role.is_router())
                    {
                        ports.peers.insert(bond.clone(), (other.node, link.kind));
                    }
                }
                all[link.a.node]
                    .a_ends
                    .push((link.a.ifname.clone(), link.b.node, link.kind));
            }
            all
        });
        &all[node]
    }

    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| &*n.name == name)
    }

    /// The MLAG pair a leaf belongs to, and its side (0: primary).
    pub fn pair_of(&self, leaf: usize) -> Option<(usize, usize)> {
        self.pairs.iter().enumerate().find_map(|(p, pair)| {
            pair.leaves
                .iter()
                .position(|&l| l == leaf)
                .map(|side| (p, side))
        })
    }

    pub fn vni(&self, vni: u32) -> Option<Vni> {
        self.vnis.iter().copied().find(|v| v.vni == vni)
    }

    pub fn leaves(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].role == Role::Leaf)
    }

    /// The routed links (each with an eBGP session), with their indices.
    pub fn fabric_links(&self) -> impl Iterator<Item = (usize, &Link)> + '_ {
        self.links
            .iter()
            .enumerate()
            .filter(|(_, l)| l.kind == LinkKind::Fabric)
    }

    /// The link cabled to `ifname` on `node`, and which end of it that is (true: `a`).
    pub fn link_at(&self, node: usize, ifname: &str) -> Option<(usize, bool)> {
        self.links.iter().enumerate().find_map(|(i, l)| {
            if l.a.node == node && l.a.ifname == ifname {
                Some((i, true))
            } else if l.b.node == node && l.b.ifname == ifname {
                Some((i, false))
            } else {
                None
            }
        })
    }

    /// The address a leaf holds in its subnet (on `vlan10`): the subnet's first, `10.1.30.1`.
    pub fn leaf_gateway(&self, leaf_rank: usize) -> String {
        let subnet = self.leaf_subnet(leaf_rank);
        let network = subnet.split('/').next().unwrap_or_default();
        match network.rsplit_once('.') {
            Some((net, _)) => format!("{net}.1"),
            None => network.to_string(),
        }
    }

    /// The subnet behind a leaf's servers (VLAN 10's gateway network), `10.1.<10·(n+1)>.0/24` style.
    pub fn leaf_subnet(&self, leaf_rank: usize) -> String {
        if leaf_rank < 25 {
            format!("10.1.{}.0/24", (leaf_rank + 1) * 10)
        } else {
            format!("10.{}.{}.0/24", 100 + leaf_rank / 256, leaf_rank % 256)
        }
    }
}
