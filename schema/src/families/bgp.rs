//! `bgp`: BGP sessions as FRR reports them.
use crate::column::{ColumnType::*, TableDef, col};

pub static TABLE: TableDef = TableDef::new(
    "bgp",
    "BGP sessions",
    &[
        col("vrf", Str, "VRF of the session"),
        col("peer", Str, "neighbour: interface (unnumbered) or address"),
    ],
    &[
        col("peer_hostname", Str, "hostname the neighbour announced"),
        col("ifname", Str, "interface the session runs over"),
        col("asn", U32, "local AS number"),
        col("peer_asn", U32, "neighbour's AS number"),
        col("router_id", Str, "local router id"),
        col("peer_router_id", Str, "neighbour's router id"),
        col(
            "state",
            Str,
            "Established, Idle, Connect, Active, OpenSent, OpenConfirm",
        ),
        col("hold_time", U32, "negotiated hold time in seconds"),
        col("keepalive", U32, "negotiated keepalive in seconds"),
        col("config_hold_time", U32, "configured hold time in seconds"),
        col("config_keepalive", U32, "configured keepalive in seconds"),
        col("afi_safi", Str, "enabled address families, comma separated"),
        col("pfx_rx_ipv4", U64, "IPv4 unicast prefixes received"),
        col("pfx_rx_ipv6", U64, "IPv6 unicast prefixes received"),
        col("pfx_rx_evpn", U64, "EVPN prefixes received"),
        col(
            "established_at",
            Time,
            "when the session last became Established",
        ),
        col("last_reset_reason", Str, "why the session last went down"),
        col(
            "last_notification",
            Str,
            "last BGP NOTIFICATION sent or received",
        ),
    ],
);
