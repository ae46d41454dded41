//! The seed's reference data centre from the project's simulator: two days of agent rows up to
//! `NOW`, with the timeline of faults described in `sonde_sim::timeline::reference_faults`, and
//! the INT reports its switches export, decoded by the server's own collector.

use std::collections::BTreeMap;
use std::net::IpAddr;

use arrow::array::RecordBatch;
use sonde_ingest::int::{Collector, CollectorConfig};
use sonde_schema::row::Row;
use sonde_sim::{Batches, Node, Simulation, Sink};

/// 2026-11-20T12:00:00Z, the `now` of the golden files.
pub const NOW: i64 = sonde_sim::REFERENCE_NOW;

/// How much simulated time passes between two hand-overs of the INT collector: each is an
/// interval of `int_loss` and `int_errors`, as a server's collector would write them.
const INT_INTERVAL: i64 = 10 * 60 * 1_000_000;

/// Agent rows gathered per table; INT datagrams decoded as a server receives them.
struct FixtureSink {
    agents: Batches,
    int: Collector,
}

impl Sink for FixtureSink {
    fn agent_row(&mut self, node: &Node, row: Row) {
        self.agents.agent_row(node, row);
    }

    fn int_datagram(&mut self, _exporter: &Node, address: IpAddr, at: i64, datagram: &[u8]) {
        self.int.datagram(address, at, datagram);
    }
}

/// The reference history as one batch per table.
pub fn reference_batches() -> Vec<(&'static str, RecordBatch)> {
    let mut simulation = Simulation::reference(NOW);
    let mut sink = FixtureSink {
        agents: Batches::default(),
        int: Collector::new(CollectorConfig::default()),
    };
    let mut int: BTreeMap<&'static str, Vec<RecordBatch>> = BTreeMap::new();
    let mut at = simulation.start();
    while at < NOW {
        let until = (at + INT_INTERVAL).min(NOW);
        simulation.run(at, until, &mut sink);
        for (table, batch) in sink.int.take(until).expect("INT rows build batches") {
            int.entry(table.name).or_default().push(batch);
        }
        at = until;
    }
    let mut tables = sink.agents.take().expect("simulated rows build batches");
    for (name, batches) in int {
        let schema = batches[0].schema();
        let batch = arrow::compute::concat_batches(&schema, &batches).expect("one schema");
        tables.push((name, batch));
    }
    tables
}
