//! `ztp_events`: business events in the seed's GELF shape, sent by devices (CTRLD's
//! ZTP0011I…ZTP0043E over GELF/UDP) or derived by the server from what it served.
use crate::column::{ColumnType::*, TableDef, col};

pub static EVENTS: TableDef = TableDef::new(
    "ztp_events",
    "ZTP business events (GELF): the devices' own and the server's",
    &[
        col("source", Str, "address the message came from"),
        col("log_event", Str, "event code (_log_event), e.g. ZTP0011I"),
    ],
    &[
        col("level", U32, "severity (RFC 5424)"),
        col("short_message", Str, "short_message"),
        col("full_message", Str, "full_message"),
        col("daemon", Str, "_daemon"),
        col("log_module", Str, "_log_module"),
        col("serial", Str, "_serial_number"),
        col("element_name", Str, "_element_name"),
        col("config_name", Str, "_config_name"),
        col("config_sha1", Str, "_config_sha1"),
        col("fields", Str, "the message's other fields, as JSON"),
    ],
);
