//! Sets of half-open time spans `[from, to)`, kept sorted and disjoint: when a flow takes a
//! path, when a report stream is active, and how many ticks of a periodic schedule fall in them.

/// Sorted, disjoint, non-empty `[from, to)` spans of µs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spans(Vec<(i64, i64)>);

impl Spans {
    /// `[from, to)`, or nothing if it is empty.
    pub(crate) fn between(from: i64, to: i64) -> Spans {
        Spans::of([(from, to)])
    }

    /// `[from, …)`.
    pub(crate) fn since(from: i64) -> Spans {
        Spans::between(from, i64::MAX)
    }

    /// The union of any spans.
    pub(crate) fn of(spans: impl IntoIterator<Item = (i64, i64)>) -> Spans {
        let mut spans: Vec<(i64, i64)> = spans.into_iter().filter(|(a, b)| a < b).collect();
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Spans(merged)
    }

    pub(crate) fn union(&self, other: &Spans) -> Spans {
        Spans::of(self.0.iter().chain(&other.0).copied())
    }

    pub(crate) fn intersect(&self, other: &Spans) -> Spans {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(&(a, b)), Some(&(c, d))) = (self.0.get(i), other.0.get(j)) {
            let (from, to) = (a.max(c), b.min(d));
            if from < to {
                out.push((from, to));
            }
            if b < d {
                i += 1;
            } else {
                j += 1;
            }
        }
        Spans(out)
    }

    /// What is left of all of time outside these spans.
    pub(crate) fn complement(&self) -> Spans {
        let mut out = Vec::new();
        let mut from = i64::MIN;
        for &(a, b) in &self.0 {
            if from < a {
                out.push((from, a));
            }
            from = b;
        }
        if from < i64::MAX {
            out.push((from, i64::MAX));
        }
        Spans(out)
    }

    pub(crate) fn minus(&self, other: &Spans) -> Spans {
        self.intersect(&other.complement())
    }

    pub(crate) fn contains(&self, at: i64) -> bool {
        let after = self.0.partition_point(|&(a, _)| a <= at);
        after > 0 && at < self.0[after - 1].1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many ticks of the schedule `first + k·period` (k ≥ 0) fall in these spans before
    /// `before`.
    pub(crate) fn ticks_before(&self, first: i64, period: i64, before: i64) -> u64 {
        let ticks_below = |x: i64| -> u64 {
            if x <= first {
                0
            } else {
                (i128::from(x) - i128::from(first) + i128::from(period) - 1)
                    .div_euclid(i128::from(period)) as u64
            }
        };
        self.0
            .iter()
            .take_while(|&&(a, _)| a < before)
            .map(|&(a, b)| ticks_below(b.min(before)) - ticks_below(a))
            .sum()
    }
}
