//! `trace`: every path between two endpoints as of one instant, walked in Rust over the state
//! the agents reported, and the paths INT reports show the packets really took.
//!
//! The planner ([`crate::plan`]'s `trace.rs`) asks the catalog for the state at T of the tables a
//! walk needs — interfaces, addresses, routes (only the prefixes that can cover the addresses
//! traced, pushed down as a key filter), neighbours, LLDP, MACs and VXLAN devices — once per
//! trace; [`run`] executes those reads side by side, loads them into a [`Fabric`] and walks it:
//!
//! - at each device, the longest-prefix match in the VRF of the interface the packet came in by
//!   (the statement's VRF at the source), then every ECMP next hop;
//! - next hop → neighbour entry (no entry is a black hole) → egress interface, a bond expanded to
//!   its members, each one a path of its own; a down interface is a black hole;
//! - the egress's LLDP peer gives the next device and the interface it comes in by; without an
//!   LLDP peer the neighbour's MAC names the device (a warning), and without either the path
//!   breaks;
//! - a route through an SVI, and any frame arriving at a bridge port for a MAC that is not the
//!   device's own, is switched through the MAC table in its VLAN (the VLAN must be carried by
//!   the port); a MAC learned over VXLAN leaves by the VXLAN device toward its remote VTEP, whose
//!   owner takes the frame in the VLAN it maps the VNI to;
//! - the path ends where a device holds the address (or, for a MAC, owns it), at a device that
//!   reports nothing (the edge of what Sonde sees), or at a fault.
//!
//! Faults: errors break a path (a loop, no route, no neighbour, an interface down, no MAC entry,
//! a VLAN the port does not carry, an unknown next device); warnings weaken it (an MTU below the
//! source's, MTUs that differ across a link, a next device found without LLDP). The path MTU is
//! the smallest MTU of every interface a packet leaves or enters by on the way.
//!
//! Choices where NetQ's documentation is silent: a hop is printed as the device and the
//! interface it forwards by (the last one as the interface holding the address, as the seed
//! prints `server03:cali320be3ff5dd`); a hostname as destination stands for its loopback
//! address, else its first global IPv4 address; a walk stops at 64 hops and 10,000 paths.

mod fabric;
mod observed;
mod render;
#[cfg(test)]
mod tests;
mod walk;

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{BooleanBuilder, RecordBatch, StringBuilder, UInt32Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::logical_expr::LogicalPlan;

use crate::error::{Error, Result};
use crate::plan::Catalog;

pub use fabric::Fabric;
pub use observed::Observation;
pub(crate) use render::{render_json, render_text};
pub use walk::{Endpoint, Request, walk};

/// The tables a walk reads, each as the state at the trace's instant, and the columns it reads
/// of them (besides `hostname`).
pub const STATE_TABLES: &[(&str, &[&str])] = &[
    (
        "interfaces",
        &[
            "ifname", "type", "state", "mtu", "mac", "master", "vrf", "vlans", "pvid",
        ],
    ),
    ("addresses", &["ifname", "prefix"]),
    ("routes", &["vrf", "prefix", "nexthop_ips", "oifs"]),
    ("neighbors", &["ifname", "ip", "mac", "state"]),
    ("lldp", &["ifname", "peer_hostname", "peer_ifname"]),
    ("macs", &["mac", "vlan", "ifname", "remote_vtep"]),
    ("vxlan", &["ifname", "vni", "vlan"]),
];

/// What the planner hands the walk: the request and one plan per table it reads.
#[derive(Debug)]
pub struct TraceInputs {
    pub request: Request,
    /// `(table, plan)`: the state reads of [`STATE_TABLES`].
    pub state: Vec<(&'static str, LogicalPlan)>,
    /// The INT hop rows of the traced flow in the minutes before the instant, if INT is kept.
    pub observed: Option<LogicalPlan>,
}

/// How bad a fault is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The path is broken here.
    Error,
    /// The path works but is weakened.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub severity: Severity,
    pub message: String,
}

impl Fault {
    pub fn error(message: impl Into<String>) -> Fault {
        Fault {
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Fault {
        Fault {
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

/// One device on a path: where the packet came in, where it leaves (the interface holding the
/// address, at the end), and what is wrong there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hop {
    pub hostname: String,
    pub in_ifname: Option<String>,
    pub out_ifname: Option<String>,
    pub vrf: Option<String>,
    pub vlan: Option<u32>,
    /// MTU of the interface the packet comes in by.
    pub in_mtu: Option<u32>,
    /// MTU of the interface it leaves by (not counted at the last hop).
    pub mtu: Option<u32>,
    /// The remote VTEP, when the hop leaves by a VXLAN tunnel.
    pub tunnel: Option<String>,
    pub faults: Vec<Fault>,
}

/// One way through the fabric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path {
    pub hops: Vec<Hop>,
    /// Whether INT reports showed packets of the flow on this path's switches (None: no INT
    /// report of the flow at all).
    pub observed: Option<bool>,
    /// A path INT reports showed but the walk did not compute.
    pub only_observed: bool,
}

impl Path {
    fn faults(&self, severity: Severity) -> impl Iterator<Item = (&Hop, &Fault)> {
        self.hops.iter().flat_map(move |hop| {
            hop.faults
                .iter()
                .filter(move |f| f.severity == severity)
                .map(move |f| (hop, f))
        })
    }

    pub fn has(&self, severity: Severity) -> bool {
        self.faults(severity).next().is_some()
    }

    /// The smallest MTU a packet meets on the way.
    pub fn mtu(&self) -> Option<u32> {
        smallest_mtu(self.hops.iter().map(|h| (h.in_mtu, h.mtu)))
    }

    /// The devices a packet crosses between the endpoints (what INT reports can show).
    pub fn switches(&self) -> Vec<&str> {
        let inner = self.hops.len().saturating_sub(1);
        self.hops
            .iter()
            .take(inner)
            .skip(1)
            .map(|h| h.hostname.as_str())
            .collect()
    }
}

/// The paths one way, and back when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traced {
    pub forward: Vec<Path>,
    pub reverse: Option<Vec<Path>>,
}

/// Runs the reads of `inputs` through `catalog`, walks them and returns the hops as rows.
///
/// Routes are read only for the prefixes that can hold an address the walk looks up: first the
/// addresses the statement names, then (once the other tables are in) a hostname's address and
/// the VTEPs a VXLAN hop needs.
pub async fn run(catalog: &dyn Catalog, inputs: &TraceInputs) -> Result<Vec<RecordBatch>> {
    let request = &inputs.request;
    let named: Vec<IpAddr> = [&request.destination, &request.source]
        .into_iter()
        .filter_map(|e| match e {
            Endpoint::Ip(ip) => Some(*ip),
            _ => None,
        })
        .collect();
    let named = &named;
    let reads = inputs.state.iter().map(|(table, plan)| async move {
        let plan = match *table {
            "routes" => routes_for(plan, named)?,
            _ => plan.clone(),
        };
        Ok::<_, Error>((*table, catalog.execute(plan).await?))
    });
    let observed = async {
        match &inputs.observed {
            Some(plan) => Ok::<_, Error>(Some(catalog.execute(plan.clone()).await?)),
            None => Ok(None),
        }
    };
    let (tables, observed) =
        futures::future::join(futures::future::try_join_all(reads), observed).await;
    let mut fabric = Fabric::load(&tables?)?;
    let more: Vec<IpAddr> = walk::lookups(&fabric, request)
        .into_iter()
        .filter(|ip| !named.contains(ip))
        .collect();
    if let Some((_, routes)) = inputs.state.iter().find(|(t, _)| *t == "routes")
        && !more.is_empty()
    {
        let batches = catalog.execute(routes_for(routes, &more)?).await?;
        fabric.add_routes(&batches)?;
    }
    let mut traced = walk(&fabric, request)?;
    if let Some(batches) = observed? {
        let source = walk::addresses_of(&fabric, &request.source);
        let destination = walk::addresses_of(&fabric, &request.destination);
        let observation = Observation::load(&fabric, &batches, &source, &destination)?;
        observation.mark(&mut traced.forward);
    }
    Ok(vec![rows(&traced)?])
}

/// The routes of `state` whose prefix can hold one of `addresses` (a key filter, pushed down
/// into the scan); none when there is no address.
fn routes_for(state: &LogicalPlan, addresses: &[IpAddr]) -> Result<LogicalPlan> {
    let prefixes: Vec<datafusion::logical_expr::Expr> = addresses
        .iter()
        .flat_map(|ip| fabric::Net::covering(*ip))
        .map(datafusion::logical_expr::lit)
        .collect();
    let filter = if prefixes.is_empty() {
        datafusion::logical_expr::lit(false)
    } else {
        datafusion::logical_expr::col("prefix").in_list(prefixes, false)
    };
    Ok(
        datafusion::logical_expr::LogicalPlanBuilder::from(state.clone())
            .filter(filter)?
            .build()?,
    )
}

/// The answer's columns: one row per hop of every path.
pub fn schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let number = |name: &str| Field::new(name, DataType::UInt32, true);
    Arc::new(Schema::new(vec![
        text("Direction"),
        number("Path"),
        number("Hop"),
        text("Hostname"),
        text("In Interface"),
        text("Out Interface"),
        text("VRF"),
        number("VLAN"),
        number("In MTU"),
        number("MTU"),
        text("Tunnel"),
        text("Error"),
        text("Warning"),
        Field::new("Observed", DataType::Boolean, true),
        Field::new("Computed", DataType::Boolean, true),
    ]))
}

fn rows(traced: &Traced) -> Result<RecordBatch> {
    let mut columns = Columns::default();
    columns.push_paths("forward", &traced.forward);
    if let Some(reverse) = &traced.reverse {
        columns.push_paths("reverse", reverse);
    }
    Ok(RecordBatch::try_new(schema(), columns.finish())?)
}

#[derive(Default)]
struct Columns {
    direction: StringBuilder,
    path: UInt32Builder,
    hop: UInt32Builder,
    hostname: StringBuilder,
    in_ifname: StringBuilder,
    out_ifname: StringBuilder,
    vrf: StringBuilder,
    vlan: UInt32Builder,
    in_mtu: UInt32Builder,
    mtu: UInt32Builder,
    tunnel: StringBuilder,
    error: StringBuilder,
    warning: StringBuilder,
    observed: BooleanBuilder,
    computed: BooleanBuilder,
}

impl Columns {
    fn push_paths(&mut self, direction: &str, paths: &[Path]) {
        for (p, path) in paths.iter().enumerate() {
            for (h, hop) in path.hops.iter().enumerate() {
                let joined = |severity| {
                    let messages: Vec<&str> = hop
                        .faults
                        .iter()
                        .filter(|f| f.severity == severity)
                        .map(|f| f.message.as_str())
                        .collect();
                    (!messages.is_empty()).then(|| messages.join("; "))
                };
                self.direction.append_value(direction);
                self.path.append_value(p as u32 + 1);
                self.hop.append_value(h as u32 + 1);
                self.hostname.append_value(&hop.hostname);
                self.in_ifname.append_option(hop.in_ifname.as_deref());
                self.out_ifname.append_option(hop.out_ifname.as_deref());
                self.vrf.append_option(hop.vrf.as_deref());
                self.vlan.append_option(hop.vlan);
                self.in_mtu.append_option(hop.in_mtu);
                self.mtu.append_option(hop.mtu);
                self.tunnel.append_option(hop.tunnel.as_deref());
                self.error.append_option(joined(Severity::Error));
                self.warning.append_option(joined(Severity::Warning));
                self.observed.append_option(path.observed);
                self.computed.append_value(!path.only_observed);
            }
        }
    }

    fn finish(mut self) -> Vec<arrow::array::ArrayRef> {
        vec![
            Arc::new(self.direction.finish()),
            Arc::new(self.path.finish()),
            Arc::new(self.hop.finish()),
            Arc::new(self.hostname.finish()),
            Arc::new(self.in_ifname.finish()),
            Arc::new(self.out_ifname.finish()),
            Arc::new(self.vrf.finish()),
            Arc::new(self.vlan.finish()),
            Arc::new(self.in_mtu.finish()),
            Arc::new(self.mtu.finish()),
            Arc::new(self.tunnel.finish()),
            Arc::new(self.error.finish()),
            Arc::new(self.warning.finish()),
            Arc::new(self.observed.finish()),
            Arc::new(self.computed.finish()),
        ]
    }
}

/// The smallest of every hop's `(in, out)` MTUs, but the last hop's out (the interface holding
/// the address, which the packet does not leave by).
pub(crate) fn smallest_mtu(
    hops: impl ExactSizeIterator<Item = (Option<u32>, Option<u32>)>,
) -> Option<u32> {
    let last = hops.len().saturating_sub(1);
    hops.enumerate()
        .flat_map(|(i, (mtu_in, mtu_out))| [mtu_in, mtu_out.filter(|_| i < last)])
        .flatten()
        .min()
}

/// An address as the tables write it, without a prefix length.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.split('/').next()?.trim().parse().ok()
}
