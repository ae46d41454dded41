//! The seed's reference data centre from the project's simulator: two days of agent rows up to
//! `NOW`, with the timeline of faults described in `sonde_sim::timeline::reference_faults`.

use arrow::array::RecordBatch;
use sonde_sim::Simulation;

/// 2026-11-20T12:00:00Z, the `now` of the golden files.
pub const NOW: i64 = sonde_sim::REFERENCE_NOW;

/// The reference history as one batch per table.
pub fn reference_batches() -> Vec<(&'static str, RecordBatch)> {
    Simulation::reference(NOW)
        .windows(NOW, i64::MAX)
        .flat_map(|window| window.expect("simulated rows build batches").1)
        .collect()
}
