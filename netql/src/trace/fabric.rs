//! The fabric as one instant's state: per device its interfaces, addresses, routes, neighbours,
//! LLDP peers, MAC table and VXLAN devices, indexed for the walk.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use sonde_schema::HOSTNAME;

use super::parse_ip;
use crate::error::Result;

#[derive(Debug, Clone, Default)]
pub struct Interface {
    pub kind: String,
    pub up: bool,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub master: Option<String>,
    pub vrf: Option<String>,
    pub vlans: Option<String>,
    pub pvid: Option<u32>,
}

impl Interface {
    /// A VLAN interface (SVI): its VLAN, from its `vlan<N>` name or `<parent>.<N>`.
    pub fn svi_vlan(&self, name: &str) -> Option<u32> {
        if self.kind != "vlan" && !name.starts_with("vlan") {
            return None;
        }
        let digits = match name.rsplit_once('.') {
            Some((_, id)) => id,
            None => name.trim_start_matches("vlan"),
        };
        digits.parse().ok().or(self.pvid)
    }

    /// Whether frames in `vlan` may cross this port (no VLAN set reported: it carries all).
    pub fn carries(&self, vlan: u32) -> bool {
        if self.pvid == Some(vlan) {
            return true;
        }
        match self.vlans.as_deref() {
            None | Some("") => true,
            Some(ranges) => ranges.split(',').any(|range| {
                let mut ends = range.trim().splitn(2, '-').map(|n| n.trim().parse::<u32>());
                match (ends.next(), ends.next()) {
                    (Some(Ok(low)), None) => low == vlan,
                    (Some(Ok(low)), Some(Ok(high))) => (low..=high).contains(&vlan),
                    _ => false,
                }
            }),
        }
    }
}

/// An address prefix: `10.244.40.192/26`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

impl Net {
    pub fn parse(text: &str) -> Option<Net> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr.parse().ok()?, len.parse().ok()?),
            None => {
                let addr: IpAddr = text.parse().ok()?;
                (addr, if addr.is_ipv4() { 32 } else { 128 })
            }
        };
        Some(Net { addr, len })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) if self.len <= 32 => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) if self.len <= 128 => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// Every prefix, as agents write them (host bits cleared), that contains `ip`: the keys a
    /// route lookup for `ip` can match.
    pub fn covering(ip: IpAddr) -> Vec<String> {
        match ip {
            IpAddr::V4(v4) => (0..=32u32)
                .map(|len| {
                    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                    format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(v4) & mask))
                })
                .collect(),
            IpAddr::V6(v6) => (0..=128u32)
                .map(|len| {
                    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                    format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(v6) & mask))
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    pub net: Net,
    /// `(next hop, egress interface)` per ECMP path; no next hop for a connected route.
    pub hops: Vec<(Option<IpAddr>, String)>,
}

#[derive(Debug, Clone)]
pub struct Neighbor {
    pub mac: Option<String>,
    pub failed: bool,
}

#[derive(Debug, Clone)]
pub struct MacEntry {
    pub ifname: Option<String>,
    pub remote_vtep: Option<IpAddr>,
}

#[derive(Debug, Clone)]
pub struct Vxlan {
    pub ifname: String,
    pub vni: u32,
    pub vlan: Option<u32>,
}

/// One device's state.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub interfaces: BTreeMap<String, Interface>,
    /// Bond (or bridge) → its member ports, sorted.
    pub members: HashMap<String, Vec<String>>,
    /// `(interface, address)` of every address the device holds.
    pub addresses: Vec<(String, IpAddr)>,
    /// Per VRF, longest prefix first.
    pub routes: HashMap<String, Vec<Route>>,
    pub neighbors: HashMap<(String, IpAddr), Neighbor>,
    /// Port → `(peer hostname, peer port)`.
    pub lldp: HashMap<String, (String, String)>,
    pub macs: HashMap<(u32, String), MacEntry>,
    pub vxlan: Vec<Vxlan>,
}

impl Device {
    /// Longest prefix first, as [`Device::lookup`] scans them.
    fn sort_routes(&mut self) {
        for routes in self.routes.values_mut() {
            routes.sort_by_key(|r| std::cmp::Reverse(r.net.len));
        }
    }

    /// The route a packet to `ip` takes in `vrf`: the longest prefix that holds it.
    pub fn lookup(&self, vrf: &str, ip: IpAddr) -> Option<&Route> {
        self.routes.get(vrf)?.iter().find(|r| r.net.contains(ip))
    }

    pub fn owns_mac(&self, mac: &str) -> bool {
        self.interfaces
            .values()
            .any(|i| i.mac.as_deref() == Some(mac))
    }

    /// The physical ports an interface sends by: a bond's members, else itself.
    pub fn ports_of(&self, ifname: &str) -> Vec<String> {
        match self.members.get(ifname) {
            Some(members) if !members.is_empty() => members.clone(),
            _ => vec![ifname.to_string()],
        }
    }

    pub fn is_bond(&self, ifname: &str) -> bool {
        self.interfaces
            .get(ifname)
            .is_some_and(|i| i.kind == "bond")
            || self.members.contains_key(ifname)
    }

    /// The VRF a packet coming in by `ifname` is routed in.
    pub fn vrf_of(&self, ifname: &str) -> Option<String> {
        let interface = self.interfaces.get(ifname)?;
        if let Some(vrf) = interface.vrf.as_deref().filter(|v| !v.is_empty()) {
            return Some(vrf.to_string());
        }
        let master = interface.master.as_deref()?;
        let master_interface = self.interfaces.get(master)?;
        if master_interface.kind == "vrf" {
            return Some(master.to_string());
        }
        master_interface.vrf.clone()
    }

    /// Whether a frame arriving by `ifname` is bridged (a bridge port or a bond member of one).
    pub fn bridges_on(&self, ifname: &str) -> bool {
        let Some(interface) = self.interfaces.get(ifname) else {
            return false;
        };
        let port = match interface.master.as_deref() {
            Some(master) if self.is_bond(master) => self.interfaces.get(master),
            _ => Some(interface),
        };
        port.is_some_and(|p| {
            p.pvid.is_some()
                || p.vlans.as_deref().is_some_and(|v| !v.is_empty())
                || p.master.as_deref() == Some("bridge")
        })
    }

    /// The port that carries frames of `ifname` (a member's bond), for VLAN checks.
    pub fn bridge_port<'a>(&'a self, ifname: &'a str) -> &'a str {
        match self
            .interfaces
            .get(ifname)
            .and_then(|i| i.master.as_deref())
        {
            Some(master) if self.is_bond(master) => master,
            _ => ifname,
        }
    }
}

/// Every device of the fabric, and who holds each address and MAC.
#[derive(Debug, Clone, Default)]
pub struct Fabric {
    pub devices: BTreeMap<String, Device>,
    /// Address → `(hostname, interface)`, for addresses only one device holds.
    pub owners: HashMap<IpAddr, (String, String)>,
    /// MAC → hostname, for MACs only one device holds.
    pub mac_owners: HashMap<String, String>,
}

impl Fabric {
    /// Loads the state reads, `(table, batches)`, of the tables in [`super::STATE_TABLES`].
    pub fn load(tables: &[(&str, Vec<RecordBatch>)]) -> Result<Fabric> {
        let mut fabric = Fabric::default();
        for (table, batches) in tables {
            fabric.add_batches(table, batches)?;
        }
        fabric.index();
        Ok(fabric)
    }

    /// Adds the routes of a second read; nothing else the index holds changes.
    pub fn add_routes(&mut self, batches: &[RecordBatch]) -> Result<()> {
        self.add_batches("routes", batches)?;
        self.devices.values_mut().for_each(Device::sort_routes);
        Ok(())
    }

    /// Adds every row of `batches` to its device. The rows come in key order, hostname first,
    /// so each device is looked up once per run of its rows.
    fn add_batches(&mut self, table: &str, batches: &[RecordBatch]) -> Result<()> {
        for batch in batches {
            let rows = Rows::new(batch)?;
            let mut row = 0;
            while row < batch.num_rows() {
                let Some(host) = rows.text(HOSTNAME, row) else {
                    row += 1;
                    continue;
                };
                if !self.devices.contains_key(host) {
                    self.devices.insert(host.to_string(), Device::default());
                }
                let device = self.devices.get_mut(host).expect("inserted above");
                while row < batch.num_rows() && rows.text(HOSTNAME, row) == Some(host) {
                    add_row(device, table, &rows, row);
                    row += 1;
                }
            }
        }
        Ok(())
    }
}

/// One row of `table` into its device's state.
fn add_row(device: &mut Device, table: &str, rows: &Rows, row: usize) {
    let text = |name: &str| rows.text(name, row).map(str::to_string);
    let ifname = text("ifname").unwrap_or_default();
    match table {
        "interfaces" => {
            let interface = Interface {
                kind: text("type").unwrap_or_default(),
                up: rows.text("state", row) != Some("down"),
                mtu: rows.number("mtu", row),
                mac: text("mac").map(|m| m.to_ascii_lowercase()),
                master: text("master").filter(|m| !m.is_empty()),
                vrf: text("vrf"),
                vlans: text("vlans"),
                pvid: rows.number("pvid", row),
            };
            device.interfaces.insert(ifname, interface);
        }
        "addresses" => {
            if let Some(ip) = rows.text("prefix", row).and_then(parse_ip) {
                device.addresses.push((ifname, ip));
            }
        }
        "routes" => {
            let Some(net) = rows.text("prefix", row).and_then(Net::parse) else {
                return;
            };
            let gateways = rows.list("nexthop_ips", row);
            let hops = rows
                .list("oifs", row)
                .into_iter()
                .enumerate()
                .map(|(i, oif)| (gateways.get(i).and_then(|g| parse_ip(g)), oif))
                .collect();
            let vrf = text("vrf").unwrap_or_else(|| "default".into());
            device
                .routes
                .entry(vrf)
                .or_default()
                .push(Route { net, hops });
        }
        "neighbors" => {
            if let Some(ip) = rows.text("ip", row).and_then(parse_ip) {
                let state = rows.text("state", row).unwrap_or_default();
                let neighbor = Neighbor {
                    mac: text("mac").map(|m| m.to_ascii_lowercase()),
                    failed: matches!(state, "failed" | "incomplete"),
                };
                device.neighbors.insert((ifname, ip), neighbor);
            }
        }
        "lldp" => {
            if let (Some(peer), Some(port)) = (text("peer_hostname"), text("peer_ifname")) {
                device.lldp.insert(ifname, (peer, port));
            }
        }
        "macs" => {
            if let (Some(mac), Some(vlan)) = (text("mac"), rows.number("vlan", row)) {
                let entry = MacEntry {
                    ifname: Some(ifname).filter(|i| !i.is_empty()),
                    remote_vtep: rows.text("remote_vtep", row).and_then(parse_ip),
                };
                device.macs.insert((vlan, mac.to_ascii_lowercase()), entry);
            }
        }
        "vxlan" => {
            if let Some(vni) = rows.number("vni", row) {
                device.vxlan.push(Vxlan {
                    ifname,
                    vni,
                    vlan: rows.number("vlan", row),
                });
            }
        }
        _ => {}
    }
}

impl Fabric {
    /// Sorts what the walk scans and indexes bonds' members and who holds each address and MAC.
    pub(super) fn index(&mut self) {
        let mut addresses: HashMap<IpAddr, Vec<(String, String)>> = HashMap::new();
        let mut macs: HashMap<String, Vec<String>> = HashMap::new();
        for (host, device) in &mut self.devices {
            device.sort_routes();
            device.members.clear();
            for (ifname, interface) in &device.interfaces {
                if let Some(master) = &interface.master {
                    let members = device.members.entry(master.clone()).or_default();
                    members.push(ifname.clone());
                }
            }
            for members in device.members.values_mut() {
                members.sort_by_key(|m| natural(m));
            }
            for (ifname, ip) in &device.addresses {
                addresses
                    .entry(*ip)
                    .or_default()
                    .push((host.clone(), ifname.clone()));
            }
            let mut own: Vec<&String> = device
                .interfaces
                .values()
                .filter_map(|i| i.mac.as_ref())
                .collect();
            own.sort();
            own.dedup();
            for mac in own {
                macs.entry(mac.clone()).or_default().push(host.clone());
            }
        }
        self.owners = addresses
            .into_iter()
            .filter_map(|(ip, holders)| {
                let mut hosts: Vec<&String> = holders.iter().map(|(h, _)| h).collect();
                hosts.dedup();
                (hosts.len() == 1).then(|| (ip, holders[0].clone()))
            })
            .collect();
        self.mac_owners = macs
            .into_iter()
            .filter(|(_, hosts)| hosts.len() == 1)
            .map(|(mac, mut hosts)| (mac, hosts.remove(0)))
            .collect();
    }

    pub fn device(&self, host: &str) -> Option<&Device> {
        self.devices.get(host)
    }
}

/// `swp2` before `swp10`: names compared with their digit runs as numbers.
fn natural(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (stem.to_string(), number.parse().unwrap_or(0))
}

/// A batch's columns by name, read as text, numbers and lists of text.
struct Rows<'a> {
    batch: &'a RecordBatch,
    text: HashMap<&'a str, arrow::array::ArrayRef>,
}

impl<'a> Rows<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Rows<'a>> {
        let mut text = HashMap::new();
        for (field, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
            let column = match column.data_type() {
                DataType::Utf8 | DataType::UInt32 | DataType::List(_) => column.clone(),
                DataType::LargeList(_) | DataType::ListView(_) => cast(
                    column,
                    &DataType::List(Field::new_list_field(DataType::Utf8, true).into()),
                )?,
                DataType::UInt8
                | DataType::UInt16
                | DataType::UInt64
                | DataType::Int32
                | DataType::Int64 => cast(column, &DataType::UInt32)?,
                DataType::Boolean | DataType::Timestamp(..) => continue,
                _ => cast(column, &DataType::Utf8)?,
            };
            text.insert(field.name().as_str(), column);
        }
        Ok(Rows { batch, text })
    }

    fn text(&self, name: &str, row: usize) -> Option<&str> {
        let column = self.text.get(name)?.as_string_opt::<i32>()?;
        column.is_valid(row).then(|| column.value(row))
    }

    fn number(&self, name: &str, row: usize) -> Option<u32> {
        let column = self
            .text
            .get(name)?
            .as_primitive_opt::<arrow::datatypes::UInt32Type>()?;
        column.is_valid(row).then(|| column.value(row))
    }

    fn list(&self, name: &str, row: usize) -> Vec<String> {
        let Some(column) = self.text.get(name).and_then(|c| c.as_list_opt::<i32>()) else {
            return Vec::new();
        };
        if row >= self.batch.num_rows() || column.is_null(row) {
            return Vec::new();
        }
        let values = column.value(row);
        let Ok(values) = cast(&values, &DataType::Utf8) else {
            return Vec::new();
        };
        let values = values.as_string::<i32>();
        (0..values.len())
            .map(|i| values.value(i).to_string())
            .collect()
    }
}
