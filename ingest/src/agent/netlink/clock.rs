//! How rows are timed: kernel ages and boot-relative timestamps turned into times since the epoch.

/// Kernel ages (`clock_t`) and address timestamps count USER_HZ = 100 ticks a second.
const TICK_US: i64 = 10_000;

/// How rows are timed: a dump uses the kernel's time of an object's last change where it gives
/// one, the monitor the time a notification arrived.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) now: i64,
    /// Whether kernel times are used at all (not in the monitor).
    kernel_times: bool,
    /// µs since the epoch at boot, for the timestamps the kernel counts from boot.
    boot: Option<i64>,
}

impl Clock {
    /// For a dump at `now`: kernel times where there are some.
    pub(super) fn for_dump(now: i64) -> Clock {
        Clock {
            now,
            kernel_times: true,
            boot: boot_time(now),
        }
    }

    /// For a notification received at `now`: that time.
    pub(super) fn for_notification(now: i64) -> Clock {
        Clock {
            now,
            kernel_times: false,
            boot: None,
        }
    }

    /// `ticks` before now (kernel ages such as `ndm_updated`).
    pub(super) fn ago(&self, ticks: Option<u32>) -> i64 {
        match ticks {
            Some(ticks) if self.kernel_times => self.bounded(self.now - i64::from(ticks) * TICK_US),
            _ => self.now,
        }
    }

    /// `ticks` after boot (address timestamps), which wrap after 497 days of uptime.
    pub(super) fn since_boot(&self, ticks: Option<u32>) -> i64 {
        match (self.boot, ticks) {
            (Some(boot), Some(ticks))
                if self.kernel_times && self.now - boot < i64::from(u32::MAX) * TICK_US =>
            {
                self.bounded(boot + i64::from(ticks) * TICK_US)
            }
            _ => self.now,
        }
    }

    fn bounded(&self, time: i64) -> i64 {
        time.clamp(0, self.now)
    }
}

/// µs since the epoch at boot, from `/proc/uptime`.
fn boot_time(now: i64) -> Option<i64> {
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let seconds: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    // An uptime is far below 2^63 µs; the cast cannot overflow meaningfully.
    Some(now - (seconds * 1e6) as i64)
}
