//! `around` and `between`: the instant or window a statement asks about, resolved against `now`.

use crate::ast::{Query, TimeClause, When, WhenKind};

use super::Planner;

/// How far back `changes`, `show events` and the event tables look without `between`.
pub const DEFAULT_WINDOW_US: i64 = 3_600 * 1_000_000;

/// A closed window `[from, to]` in µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// The times a statement asks about: the instant states are read at (names resolved, say), and
/// the window events are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub at: i64,
    pub window: Window,
}

impl Planner<'_> {
    /// The instant and the window of a statement: see [`Planner::state_time`] and
    /// [`Planner::change_window`].
    pub(crate) fn times(&self, query: &Query) -> Times {
        Times {
            at: self.state_time(query),
            window: self.change_window(query),
        }
    }

    /// µs since the epoch of a typed time.
    pub(super) fn instant(&self, when: &When) -> i64 {
        match when.kind {
            WhenKind::Now => self.now,
            WhenKind::Ago(ago) => self
                .now
                .saturating_sub(i64::try_from(ago.as_micros()).unwrap_or(i64::MAX)),
            WhenKind::At(at) => at,
        }
    }

    /// The instant a state question is about: `around T`, else now. `between` asks about its end.
    pub(super) fn state_time(&self, query: &Query) -> i64 {
        match &query.time {
            Some(TimeClause::Around(around)) => self.instant(&around.at),
            Some(TimeClause::Between(between)) => {
                self.window(between.from.clone(), between.to.clone()).to
            }
            None => self.now,
        }
    }

    /// The window a change question is about: `between A and B` in either order; `around T`
    /// means the default window ending at T; otherwise the default window ending now.
    pub(super) fn change_window(&self, query: &Query) -> Window {
        match &query.time {
            Some(TimeClause::Between(between)) => {
                self.window(between.from.clone(), between.to.clone())
            }
            Some(TimeClause::Around(around)) => {
                let to = self.instant(&around.at);
                Window {
                    from: to.saturating_sub(DEFAULT_WINDOW_US),
                    to,
                }
            }
            None => Window {
                from: self.now.saturating_sub(DEFAULT_WINDOW_US),
                to: self.now,
            },
        }
    }

    fn window(&self, a: When, b: When) -> Window {
        let (a, b) = (self.instant(&a), self.instant(&b));
        Window {
            from: a.min(b),
            to: a.max(b),
        }
    }
}
