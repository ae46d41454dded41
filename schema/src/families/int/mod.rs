//! INT telemetry, one module per table: the reports as received, the hops their stacks and
//! local headers carry, drops, queue congestion, the telemetry's own loss, and the datagrams
//! the collector could not decode.
//!
//! The frame's `hostname` of every INT row is the exporter: the address the report came from.
//! Which switch a `switch_id` names is worked out at query time from the MACs the agents report
//! in `interfaces` (the seed's rule: bytes 0, 1, 4 and 5 of the MAC), so the answer follows the
//! inventory as it changes.

mod congestion;
mod drop_reasons;
mod drops;
mod errors;
mod hops;
mod loss;
mod reports;

pub use congestion::CONGESTION;
pub use drop_reasons::{DROP_REASONS, drop_reason_name};
pub use drops::DROPS;
pub use errors::ERRORS;
pub use hops::HOPS;
pub use loss::LOSS;
pub use reports::REPORTS;

/// The switch id a MAC address stands for: its bytes 0, 1, 4 and 5, big-endian.
pub fn switch_id_of_mac(mac: [u8; 6]) -> u32 {
    u32::from_be_bytes([mac[0], mac[1], mac[4], mac[5]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_id_is_four_bytes_of_its_mac() {
        let mac = [0x44, 0x38, 0x39, 0x00, 0x00, 0x15];
        assert_eq!(switch_id_of_mac(mac), 0x4438_0015);
    }
}
