//! Where things live in the store: the time layout of Parquet partitions and checkpoints, in one place.

use std::fmt;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use object_store::path::Path;

pub const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// The start of an hour, µs since the epoch: the unit of partitioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(i64);

impl Hour {
    pub fn containing(micros: i64) -> Self {
        Hour(micros.div_euclid(MICROS_PER_HOUR) * MICROS_PER_HOUR)
    }

    pub fn start(self) -> i64 {
        self.0
    }

    /// First µs after the hour.
    pub fn end(self) -> i64 {
        self.0 + MICROS_PER_HOUR
    }

    pub fn next(self) -> Self {
        Hour(self.end())
    }

    fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    /// `date=YYYY-MM-DD/hour=HH`
    fn partition(self) -> String {
        let t = self.datetime();
        format!("date={}/hour={:02}", t.format("%Y-%m-%d"), t.hour())
    }

    fn parse_partition(date: &str, hour: &str) -> Option<Self> {
        let date = NaiveDate::parse_from_str(date.strip_prefix("date=")?, "%Y-%m-%d").ok()?;
        let hour: u32 = hour.strip_prefix("hour=")?.parse().ok()?;
        let t = date.and_hms_opt(hour, 0, 0)?.and_utc();
        Some(Hour(t.timestamp_micros()))
    }
}

impl fmt::Display for Hour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.datetime().format("%Y-%m-%dT%H:00Z"))
    }
}

/// How an event file came to be: written by the flush of one WAL segment, or merged by compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileOrigin {
    Flush(u64),
    Compaction(u64),
}

/// `<table>/date=YYYY-MM-DD/hour=HH/<f|c><id>.parquet`: one file of a table's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilePath {
    pub table: String,
    pub hour: Hour,
    pub origin: FileOrigin,
}

impl EventFilePath {
    pub fn new(table: &str, hour: Hour, origin: FileOrigin) -> Self {
        EventFilePath {
            table: table.to_string(),
            hour,
            origin,
        }
    }

    pub fn path(&self) -> Path {
        let name = match self.origin {
            FileOrigin::Flush(seg) => format!("f{seg:012}"),
            FileOrigin::Compaction(id) => format!("c{id:016}"),
        };
        Path::from(format!(
            "{}/{}/{name}.parquet",
            self.table,
            self.hour.partition()
        ))
    }

    pub fn parse(path: &Path) -> Option<Self> {
        let parts: Vec<_> = path.parts().collect();
        let [table, date, hour, file] = parts.as_slice() else {
            return None;
        };
        let stem = file.as_ref().strip_suffix(".parquet")?;
        let origin = match stem.split_at_checked(1)? {
            ("f", id) => FileOrigin::Flush(id.parse().ok()?),
            ("c", id) => FileOrigin::Compaction(id.parse().ok()?),
            _ => return None,
        };
        let hour = Hour::parse_partition(date.as_ref(), hour.as_ref())?;
        Some(EventFilePath {
            table: table.as_ref().to_string(),
            hour,
            origin,
        })
    }
}

/// `checkpoints/<table>/date=YYYY-MM-DD/hour=HH/checkpoint.parquet`: every key's latest active row as
/// of the start of the hour (all events with `timestamp < hour.start()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPath {
    pub table: String,
    pub hour: Hour,
}

pub const CHECKPOINT_ROOT: &str = "checkpoints";

impl CheckpointPath {
    pub fn new(table: &str, hour: Hour) -> Self {
        CheckpointPath {
            table: table.to_string(),
            hour,
        }
    }

    pub fn path(&self) -> Path {
        Path::from(format!(
            "{CHECKPOINT_ROOT}/{}/{}/checkpoint.parquet",
            self.table,
            self.hour.partition()
        ))
    }

    pub fn parse(path: &Path) -> Option<Self> {
        let parts: Vec<_> = path.parts().collect();
        let [root, table, date, hour, file] = parts.as_slice() else {
            return None;
        };
        if root.as_ref() != CHECKPOINT_ROOT || file.as_ref() != "checkpoint.parquet" {
            return None;
        }
        let hour = Hour::parse_partition(date.as_ref(), hour.as_ref())?;
        Some(CheckpointPath {
            table: table.as_ref().to_string(),
            hour,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-20T10:00:00Z in µs.
    const TEN: i64 = 1_795_168_800_000_000;

    #[test]
    fn hours_floor_to_the_hour_on_both_sides_of_the_epoch() {
        assert_eq!(Hour::containing(TEN).start(), TEN);
        assert_eq!(Hour::containing(TEN + MICROS_PER_HOUR - 1).start(), TEN);
        assert_eq!(Hour::containing(TEN).end(), TEN + MICROS_PER_HOUR);
        assert_eq!(
            Hour::containing(TEN).next(),
            Hour::containing(TEN + MICROS_PER_HOUR)
        );
        assert_eq!(Hour::containing(-1).start(), -MICROS_PER_HOUR);
        assert_eq!(Hour::containing(0).start(), 0);
        assert_eq!(
            Hour::containing(TEN + 61_000_000).to_string(),
            "2026-11-20T10:00Z"
        );
    }

    #[test]
    fn event_file_paths_are_hive_partitions_and_round_trip() {
        let hour = Hour::containing(TEN + 5);
        let flushed = EventFilePath::new("bgp", hour, FileOrigin::Flush(7));
        assert_eq!(
            flushed.path().as_ref(),
            "bgp/date=2026-11-20/hour=10/f000000000007.parquet"
        );
        let merged = EventFilePath::new("bgp", hour, FileOrigin::Compaction(42));
        assert_eq!(
            merged.path().as_ref(),
            "bgp/date=2026-11-20/hour=10/c0000000000000042.parquet"
        );
        for path in [flushed, merged] {
            assert_eq!(EventFilePath::parse(&path.path()), Some(path));
        }
    }

    #[test]
    fn every_hour_of_a_day_round_trips() {
        for h in 0..24 {
            let hour = Hour::containing(TEN + h * MICROS_PER_HOUR);
            let path = EventFilePath::new("routes", hour, FileOrigin::Flush(1));
            assert_eq!(
                EventFilePath::parse(&path.path()).map(|p| p.hour),
                Some(hour)
            );
        }
    }

    #[test]
    fn foreign_files_are_not_event_files() {
        for path in [
            "bgp/date=2026-11-20/hour=10/x1.parquet",
            "bgp/date=2026-11-20/hour=10/f1.csv",
            "bgp/date=2026-11-20/hour=10/fabc.parquet",
            "bgp/date=2026-11-20/hour=24/f1.parquet",
            "bgp/date=2026-13-20/hour=10/f1.parquet",
            "bgp/day=2026-11-20/hour=10/f1.parquet",
            "bgp/date=2026-11-20/f1.parquet",
            "checkpoints/bgp/date=2026-11-20/hour=10/checkpoint.parquet",
        ] {
            assert_eq!(EventFilePath::parse(&Path::from(path)), None, "{path}");
        }
    }

    #[test]
    fn checkpoint_paths_live_in_their_own_tree_and_round_trip() {
        let checkpoint = CheckpointPath::new("lldp", Hour::containing(TEN));
        assert_eq!(
            checkpoint.path().as_ref(),
            "checkpoints/lldp/date=2026-11-20/hour=10/checkpoint.parquet"
        );
        assert_eq!(CheckpointPath::parse(&checkpoint.path()), Some(checkpoint));
        let event = EventFilePath::new("lldp", Hour::containing(TEN), FileOrigin::Flush(1));
        assert_eq!(CheckpointPath::parse(&event.path()), None);
        let misnamed = Path::from("checkpoints/lldp/date=2026-11-20/hour=10/other.parquet");
        assert_eq!(CheckpointPath::parse(&misnamed), None);
    }
}
