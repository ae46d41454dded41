//! `agents`: one row per heartbeat or change of an agent; an agent whose newest heartbeat is older than
//! three periods is Rotten.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "agents",
    "agent heartbeats and versions",
    &[],
    &[
        col(
            "status",
            Str,
            "Fresh, or Rotten when three heartbeats were missed",
        ),
        col("version", Str, "agent version"),
        col("os", Str, "operating system and release"),
        col("ntp_sync", Str, "yes / no / unknown"),
        col(
            "boot_time",
            Time,
            "when the node booted (sys uptime = now - boot_time)",
        ),
        col("agent_start_time", Time, "when the agent started"),
        col(
            "reinit_time",
            Time,
            "when the agent last resynchronised its state",
        ),
        col("heartbeat_interval_s", U32, "seconds between heartbeats"),
    ],
);
