//! The thresholds INT answers are judged by: the switches' default profiles, as the seed's
//! switch documentation gives them, and the loss the telemetry itself may suffer.
//!
//! A switch configured otherwise reports against its own numbers; `check int` judges every
//! switch by these, so a queue the switch deemed fine may still fail here, and the other way
//! round.

/// The queue profile's default depth, in cells: a queue fuller than this is congested.
pub const QUEUE_DEPTH_CELLS: u64 = 300;

/// The queue profile's default latency, in ns: a packet queued longer than this saw congestion.
pub const QUEUE_LATENCY_NS: u64 = 2048;

/// The flow profile's default latency quantization: a flow is reported when a hop takes more
/// than 2 to this power nanoseconds.
pub const FLOW_LATENCY_QUANTIZATION: u32 = 11;

/// The hop latency, in ns, the flow profile reports flows over: 2^11 = 2048.
pub const HOP_LATENCY_NS: u64 = 1 << FLOW_LATENCY_QUANTIZATION;

/// The share of an exporter's reports, in percent of those its sequence numbers say were sent,
/// that may go missing before its telemetry is judged unreliable.
pub const LOSS_PERCENT: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hop_latency_is_two_to_the_quantization() {
        assert_eq!(HOP_LATENCY_NS, 2048);
        assert_eq!(QUEUE_LATENCY_NS, HOP_LATENCY_NS);
    }
}
