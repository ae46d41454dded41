//! Sonde's fabric simulator: for a topology and a timeline of faults, everything the fabric's
//! agents would send (and, as their collectors arrive, what switches' INT exporters and ZTP clients
//! would send), window by window, so that the same simulation can fill a store with history and
//! then keep running live.
//!
//! Rows are built with the agent's own `Row` and `to_batch`, against the one schema of
//! `sonde-schema`: a simulated row is an agent row.
//!
//! The reference history (`Simulation::reference`) has a fault of every `check` family on its
//! timeline (`timeline::reference_faults`): OSPF area, timer and MTU mismatches and a lost
//! adjacency; an MLAG peerlink down, a singly attached bond, a backup IP lost and a system MAC
//! mismatch; a VTEP's replication list, VLAN and VRF of a VNI, and a VNI down; an expired and a
//! missing licence; LNV registered with the wrong service node and down; a clock that loses its
//! NTP server; a congested spine queue, a leaf's ACL dropping a flow and lost INT reports; then
//! the seed's faults of the last ten hours (BGP, routes, MTU, VLANs, sensors, agents). Its
//! switches export INT telemetry reports of four tracked server-to-server flows (`int`), which
//! reach a sink through `Sink::int_datagram`. Four new leaves join it a day ago through ZTP
//! (`ztp`): ONIE's and CTRLD's DHCP and HTTP requests and GELF events, replayed through a
//! transport the caller provides, and the ZTP directory that answers them.
//!
//! ```no_run
//! for window in sonde_sim::Simulation::reference(now).windows(now, HOUR) {
//!     let (_until, batches) = window?;
//!     for (table, batch) in batches { /* append to the store */ }
//! }
//! ```

pub mod fabric;
pub mod hosts;
pub mod int;
pub mod lnv;
pub mod mlag;
pub mod ospf;
pub mod overlay;
pub mod simulation;
pub mod timeline;
pub mod topology;
pub mod ztp;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use sonde_schema::TableDef;
use sonde_schema::row::{Row, to_batch_from_hosts};

pub use int::IntVersion;
pub use simulation::{Churn, Simulation, Sink};
pub use timeline::Fault;
pub use topology::{Node, Role, Topology};

/// 2026-11-20T12:00:00Z: the `now` of the reference history in tests and golden files.
pub const REFERENCE_NOW: i64 = 1_795_176_000_000_000;

/// A sink that gathers agent rows into one record batch per table.
#[derive(Debug, Default)]
pub struct Batches {
    tables: BTreeMap<&'static str, Pending>,
    rows: usize,
}

#[derive(Debug)]
struct Pending {
    table: &'static TableDef,
    hosts: Vec<Arc<str>>,
    rows: Vec<Row>,
}

impl Sink for Batches {
    fn agent_row(&mut self, node: &Node, row: Row) {
        let table = row.table;
        let pending = self.tables.entry(table.name).or_insert_with(|| Pending {
            table,
            hosts: Vec::new(),
            rows: Vec::new(),
        });
        pending.hosts.push(Arc::clone(&node.name));
        pending.rows.push(row);
        self.rows += 1;
    }
}

impl Batches {
    /// Rows gathered since the last `take`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The gathered rows as one batch per table (in table-name order), leaving the sink empty.
    pub fn take(&mut self) -> Result<Vec<(&'static str, RecordBatch)>, ArrowError> {
        self.rows = 0;
        std::mem::take(&mut self.tables)
            .into_values()
            .map(|p| {
                Ok((
                    p.table.name,
                    to_batch_from_hosts(p.table, p.hosts.iter().map(|h| &**h), &p.rows)?,
                ))
            })
            .collect()
    }
}

/// One window of a simulation: its end and its rows as one batch per table.
pub type Window = (i64, Vec<(&'static str, RecordBatch)>);

impl Simulation {
    /// Runs from the start to `end` in windows of `window` µs, yielding each window's batches.
    pub fn windows(
        mut self,
        end: i64,
        window: i64,
    ) -> impl Iterator<Item = Result<Window, ArrowError>> {
        let mut batches = Batches::default();
        let mut at = self.start();
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let until = at.saturating_add(window).min(end);
            self.run(at, until, &mut batches);
            at = until;
            Some(batches.take().map(|tables| (until, tables)))
        })
    }
}

#[cfg(test)]
mod tests;
