//! `sensors`: temperature, fan and power-supply sensors.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "sensors",
    "temperature, fan and power-supply sensors",
    &[
        col("kind", Str, "temp / fan / psu"),
        col("name", Str, "sensor name"),
    ],
    &[
        col("description", Str, "what the sensor measures"),
        col("state", Str, "ok, high, critical, absent, bad"),
        col("value", F64, "reading (°C, RPM or W)"),
        col("unit", Str, "C, rpm, W, V"),
        col("max", F64, "high threshold"),
        col("critical", F64, "critical threshold"),
        col("message", Str, "alarm text"),
    ],
);
