//! `docker`: containers on hosts, as the Docker engine reports them.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "docker",
    "Docker containers",
    &[col("container_id", Str, "container id")],
    &[
        col("name", Str, "container name"),
        col("image", Str, "image the container runs"),
        col("state", Str, "running, exited, paused, …"),
        col("network", Str, "network mode or network name"),
        col("ip", Str, "container address"),
        col("mac", Str, "container MAC address"),
        col("ports", StrList, "published ports"),
        col("started_at", Time, "when the container started"),
    ],
);
