//! `ntp`: clock synchronisation state.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "ntp",
    "clock synchronisation state",
    &[],
    &[
        col("synced", Bool, "clock synchronised"),
        col("service", Str, "chrony, ntpd, systemd-timesyncd"),
        col("source", Str, "current time source"),
        col("stratum", U32, "stratum of the source"),
        col("offset_s", F64, "offset from the source in seconds"),
    ],
);
