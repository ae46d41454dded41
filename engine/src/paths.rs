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
