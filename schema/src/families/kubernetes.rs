//! `kubernetes`: pods scheduled on each node, as the kubelet reports them.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "kubernetes",
    "Kubernetes pods",
    &[
        col("namespace", Str, "pod namespace"),
        col("pod", Str, "pod name"),
    ],
    &[
        col("phase", Str, "Pending, Running, Succeeded, Failed, Unknown"),
        col("ip", Str, "pod address"),
        col(
            "controller",
            Str,
            "owning controller: deployment, daemonset, …",
        ),
        col("containers", StrList, "container names"),
        col("started_at", Time, "when the pod started"),
    ],
);
