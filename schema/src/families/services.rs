//! `services`: system services (systemd units) the agent monitors.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "services",
    "system services and their state",
    &[
        col("name", Str, "service (unit) name"),
        col("vrf", Str, "VRF the service runs in"),
    ],
    &[
        col("state", Str, "active, inactive, failed"),
        col("enabled", Bool, "enabled at boot"),
        col("monitored", Bool, "watched by the agent"),
        col("pid", U32, "main process id"),
        col("started_at", Time, "when the service last started"),
    ],
);
