//! Rebuilding a report's full time from the 32-bit nanosecond timestamps switches send, which
//! wrap every 4.29 s: the full time is the one whose low 32 bits they are, nearest to when the
//! collector received the report.

const WRAP: i64 = 1 << 32;

/// The nanoseconds since the epoch whose low 32 bits are `low`, nearest to `received_ns`.
pub fn rebuild_ns(received_ns: i64, low: u32) -> i64 {
    let candidate = (received_ns & !(WRAP - 1)) | i64::from(low);
    [candidate - WRAP, candidate, candidate + WRAP]
        .into_iter()
        .min_by_key(|t| (t - received_ns).unsigned_abs())
        .unwrap_or(candidate)
}

/// Time spent between two 32-bit timestamps of one switch: `(egress - ingress) mod 2^32`.
pub fn latency_ns(ingress: u32, egress: u32) -> u32 {
    egress.wrapping_sub(ingress)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVED: i64 = 1_795_000_000_000_000_000;

    #[test]
    fn a_timestamp_just_before_the_receive_time() {
        let low = (RECEIVED - 1_500) as u32;
        assert_eq!(rebuild_ns(RECEIVED, low), RECEIVED - 1_500);
    }

    #[test]
    fn across_a_wrap_of_the_low_32_bits() {
        let received = (RECEIVED & !(WRAP - 1)) + 5;
        assert_eq!(rebuild_ns(received, 0xFFFF_FF00), received - 5 - 0x100);
        let received = (RECEIVED & !(WRAP - 1)) + WRAP - 10;
        assert_eq!(rebuild_ns(received, 20), received + 30);
    }

    #[test]
    fn latency_across_a_wrap() {
        assert_eq!(latency_ns(0xFFFF_FF00, 0x100), 0x200);
        assert_eq!(latency_ns(100, 350), 250);
    }
}
