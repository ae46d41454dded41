//! Sequence accounting for one report source, as the collector owes it: per (exporter, hw_id)
//! in v0.5, per (switch id, hw_id) in v1.0, per (node id, hw_id) in v2.0, whose 22-bit numbers
//! wrap often. Gaps, late (reordered) arrivals, duplicates, wraps and restarts are counted
//! apart, and a late arrival gives back the loss its gap was charged, so loss never goes
//! negative and never counts a report that came.

/// How far behind the newest number a report may arrive and still count as reordered (rather
/// than as the exporter restarting).
const WINDOW: u32 = 64;

/// What the accounting has seen of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loss {
    /// Reports the sequence numbers say were sent, counted since the first one.
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub reordered: u64,
    pub duplicated: u64,
    /// Times the numbers ran past their largest value and began again at 0.
    pub wraps: u64,
    /// Times the source started again from a number far behind (a restart or a reset counter).
    pub resets: u64,
}

/// The accounting of one source's sequence numbers, `bits` wide.
#[derive(Debug, Clone)]
pub struct Sequence {
    bits: u32,
    /// The newest number seen, and which of the `WINDOW` numbers before it have arrived (bit
    /// `k` is `newest - k - 1`).
    newest: Option<u32>,
    seen_before: u64,
    /// How many numbers the current run spans, the newest included (a restart begins a run).
    span: u64,
    loss: Loss,
}

impl Sequence {
    /// `bits` is 32 for v0.5 and v1.0, 22 for v2.0.
    pub fn new(bits: u32) -> Self {
        assert!((8..=32).contains(&bits), "sequence numbers of {bits} bits");
        Sequence {
            bits,
            newest: None,
            seen_before: 0,
            span: 0,
            loss: Loss::default(),
        }
    }

    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The newest number seen.
    pub fn newest(&self) -> Option<u32> {
        self.newest
    }

    /// The loss as far as it is settled: a number still inside the reorder window may yet
    /// arrive, so it is neither expected nor lost until it leaves the window. Every count only
    /// grows, so differences between two readings are never negative.
    pub fn settled(&self) -> Loss {
        let pending = self.pending();
        Loss {
            expected: self.loss.expected.saturating_sub(pending),
            lost: self.loss.lost.saturating_sub(pending),
            ..self.loss
        }
    }

    /// Numbers of the current run inside the window before the newest that have not arrived.
    fn pending(&self) -> u64 {
        let window = self.span.saturating_sub(1).min(u64::from(WINDOW));
        let mask = u64::MAX.checked_shr(64 - window as u32).unwrap_or(0);
        window - u64::from((self.seen_before & mask).count_ones())
    }

    /// Accounts one report numbered `number`.
    pub fn record(&mut self, number: u32) {
        let number = number & self.mask();
        let Some(newest) = self.newest else {
            self.restart(number);
            return;
        };
        let ahead = number.wrapping_sub(newest) & self.mask();
        if ahead == 0 {
            self.loss.duplicated += 1;
        } else if ahead <= self.half() {
            self.advance(newest, number, ahead);
        } else {
            self.behind(self.modulus() - u64::from(ahead), number);
        }
    }

    fn advance(&mut self, newest: u32, number: u32, ahead: u32) {
        if number < newest {
            self.loss.wraps += 1;
        }
        self.loss.expected += u64::from(ahead);
        self.loss.received += 1;
        self.loss.lost += u64::from(ahead - 1);
        self.seen_before = if ahead > WINDOW {
            0
        } else {
            self.seen_before.checked_shl(ahead).unwrap_or(0) | (1 << (ahead - 1))
        };
        self.newest = Some(number);
        self.span = self.span.saturating_add(u64::from(ahead));
    }

    fn behind(&mut self, by: u64, number: u32) {
        if by > u64::from(WINDOW) {
            self.loss.resets += 1;
            self.restart(number);
            return;
        }
        let bit = 1u64 << (by - 1);
        if self.seen_before & bit != 0 {
            self.loss.duplicated += 1;
        } else {
            self.seen_before |= bit;
            self.loss.reordered += 1;
            self.loss.received += 1;
            self.loss.lost = self.loss.lost.saturating_sub(1);
        }
    }

    /// Starts counting afresh from `number` (the first report, or one after a reset).
    fn restart(&mut self, number: u32) {
        self.newest = Some(number);
        self.seen_before = 0;
        self.span = 1;
        self.loss.expected += 1;
        self.loss.received += 1;
    }

    fn modulus(&self) -> u64 {
        1u64 << self.bits
    }

    fn mask(&self) -> u32 {
        (self.modulus() - 1) as u32
    }

    fn half(&self) -> u32 {
        (self.modulus() / 2) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bits: u32, numbers: &[u32]) -> Loss {
        let mut sequence = Sequence::new(bits);
        for &n in numbers {
            sequence.record(n);
        }
        sequence.loss()
    }

    #[test]
    fn in_order_reports_lose_nothing() {
        let loss = run(32, &[5, 6, 7, 8]);
        assert_eq!((loss.expected, loss.received, loss.lost), (4, 4, 0));
    }

    #[test]
    fn a_gap_is_lost_until_its_reports_arrive_late() {
        assert_eq!(run(32, &[1, 2, 5]).lost, 2);
        let late = run(32, &[1, 2, 5, 4, 3]);
        assert_eq!(
            (late.lost, late.reordered, late.received, late.expected),
            (0, 2, 5, 5)
        );
    }

    #[test]
    fn a_gap_inside_the_window_is_pending_not_lost_until_it_leaves() {
        let mut sequence = Sequence::new(32);
        for n in [1, 2, 5] {
            sequence.record(n);
        }
        let settled = sequence.settled();
        assert_eq!((settled.expected, settled.lost), (3, 0));
        sequence.record(3);
        assert_eq!(sequence.settled().lost, 0);
        for n in 6..=5 + WINDOW {
            sequence.record(n);
        }
        let settled = sequence.settled();
        assert_eq!((settled.lost, settled.expected), (1, settled.received + 1));
        assert_eq!(settled.lost, sequence.loss().lost);
    }

    #[test]
    fn settled_counts_only_grow() {
        let mut sequence = Sequence::new(16);
        let mut last = sequence.settled();
        let mut state = 7u32;
        for n in 0..20_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let jitter = (state >> 16) % 8;
            if jitter != 0 {
                sequence.record(n.wrapping_sub(jitter % 3));
            }
            let now = sequence.settled();
            assert!(
                now.expected >= last.expected && now.lost >= last.lost,
                "at {n}"
            );
            last = now;
        }
    }

    #[test]
    fn duplicates_count_apart_and_are_not_received_twice() {
        let loss = run(32, &[1, 2, 2, 3, 1]);
        assert_eq!((loss.duplicated, loss.received, loss.lost), (2, 3, 0));
    }

    #[test]
    fn a_wrap_of_32_and_of_22_bits() {
        let loss = run(32, &[u32::MAX - 1, u32::MAX, 0, 1]);
        assert_eq!((loss.wraps, loss.lost, loss.expected), (1, 0, 4));
        let top = (1 << 22) - 1;
        let loss = run(22, &[top - 1, top, 1]);
        assert_eq!((loss.wraps, loss.lost, loss.expected), (1, 1, 4));
        let late = run(22, &[top, 1, 0]);
        assert_eq!((late.lost, late.reordered), (0, 1));
    }

    #[test]
    fn an_exporter_restart_is_a_reset_not_a_loss() {
        let loss = run(32, &[1_000_000, 1_000_001, 3, 4]);
        assert_eq!((loss.resets, loss.lost, loss.received), (1, 0, 4));
    }

    #[test]
    fn gaps_at_the_edge_of_the_window() {
        let loss = run(32, &[0, 64, 1, 128, 63]);
        assert_eq!(
            (loss.reordered, loss.resets),
            (1, 1),
            "1 is late, 63 is too far behind"
        );
        let loss = run(32, &[0, 65, 1, 0]);
        assert_eq!(
            (loss.lost, loss.reordered, loss.resets),
            (63, 1, 1),
            "0 is 65 behind"
        );
    }

    #[test]
    fn random_numbers_keep_the_counts_consistent() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for bits in [22, 32] {
            let mut sequence = Sequence::new(bits);
            let mut next = 0u32;
            for _ in 0..100_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                next = match state % 10 {
                    0 => next.wrapping_sub((state >> 8) as u32 % 100),
                    1 => (state >> 8) as u32,
                    _ => next.wrapping_add(1 + (state >> 8) as u32 % 3),
                };
                sequence.record(next);
                let loss = sequence.loss();
                assert!(loss.received <= loss.expected + loss.reordered, "{loss:?}");
                assert!(loss.lost <= loss.expected, "{loss:?}");
            }
        }
    }

    #[test]
    fn loss_is_never_negative() {
        let loss = run(32, &[10, 9, 8, 7, 10, 9]);
        assert_eq!(loss.lost, 0);
    }
}
