//! INT telemetry: reports as received, the hops they carry, drops, queue congestion and flows.
use crate::column::{ColumnType::*, TableDef, col};

pub static REPORTS: TableDef = TableDef::new(
    "int_reports",
    "INT telemetry reports as received",
    &[
        col("switch_id", U32, "switch that sent the report"),
        col("sequence", U64, "report sequence number"),
    ],
    &[
        col("version", U32, "telemetry report version"),
        col("report_type", Str, "flow, drop, queue"),
        col("hw_id", U32, "hardware (ASIC slice) id"),
        col("src_ip", Str, "inner source address"),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
        col("hop_count", U32, "hops with metadata in the report"),
        col("collector", Str, "receiver address"),
    ],
);

pub static HOPS: TableDef = TableDef::new(
    "int_hops",
    "per-hop metadata carried in INT reports",
    &[
        col("switch_id", U32, "switch that sent the report"),
        col("sequence", U64, "report sequence number"),
        col("hop", U32, "hop index, 0 = first switch on the path"),
    ],
    &[
        col("hop_switch_id", U32, "switch id of this hop"),
        col("ingress_port", U32, "ingress port"),
        col("egress_port", U32, "egress port"),
        col("hop_latency_ns", U64, "time spent in this hop"),
        col("queue_id", U32, "egress queue"),
        col("queue_occupancy", U64, "egress queue occupancy in cells"),
        col("ingress_time", Time, "ingress timestamp"),
        col("egress_time", Time, "egress timestamp"),
        col("egress_tx_util", U32, "egress port utilisation"),
    ],
);

pub static DROPS: TableDef = TableDef::new(
    "int_drops",
    "packets dropped, as drop reports describe them",
    &[
        col("switch_id", U32, "switch that dropped"),
        col("sequence", U64, "report sequence number"),
    ],
    &[
        col("src_ip", Str, "inner source address"),
        col("dst_ip", Str, "inner destination address"),
        col("src_port", U32, "inner L4 source port"),
        col("dst_port", U32, "inner L4 destination port"),
        col("protocol", U32, "inner IP protocol"),
        col("ingress_port", U32, "ingress port"),
        col("egress_port", U32, "egress port"),
        col("queue_id", U32, "queue"),
        col("drop_reason", U32, "drop reason code"),
    ],
);

pub static QUEUES: TableDef = TableDef::new(
    "int_queues",
    "queue congestion reports",
    &[
        col("switch_id", U32, "switch"),
        col("egress_port", U32, "egress port"),
        col("queue_id", U32, "queue"),
    ],
    &[
        col("queue_occupancy", U64, "occupancy in cells"),
        col("hop_latency_ns", U64, "latency through the queue"),
        col("congested", Bool, "above the profile's threshold"),
    ],
);

pub static FLOWS: TableDef = TableDef::new(
    "int_flows",
    "flows seen in INT reports and the path they took",
    &[
        col("src_ip", Str, "source address"),
        col("dst_ip", Str, "destination address"),
        col("src_port", U32, "L4 source port"),
        col("dst_port", U32, "L4 destination port"),
        col("protocol", U32, "IP protocol"),
    ],
    &[
        col("path", StrList, "switch ids along the path"),
        col("max_hop_latency_ns", U64, "largest per-hop latency"),
        col("end_to_end_latency_ns", U64, "sum of hop latencies"),
        col("reports", U64, "reports seen for the flow"),
    ],
);

/// Drop reason codes in common use, as the p4lang `switch` pipeline numbers them (the codes
/// the reference Telemetry Report v0.5 examples carry), with the name `show int drops` prints.
pub static DROP_REASONS: &[(u8, &str)] = &[
    (0, "unknown"),
    (10, "outer source MAC zero"),
    (11, "outer source MAC multicast"),
    (12, "outer destination MAC zero"),
    (13, "outer Ethernet miss"),
    (14, "source MAC zero"),
    (15, "source MAC multicast"),
    (16, "destination MAC zero"),
    (25, "outer IP version invalid"),
    (26, "outer IP TTL zero"),
    (27, "outer IP source multicast"),
    (28, "outer IP source loopback"),
    (29, "outer IP miss"),
    (30, "IP version invalid"),
    (31, "IP TTL zero"),
    (32, "IP source multicast"),
    (33, "IP source loopback"),
    (40, "port VLAN mapping miss"),
    (41, "STP state learning"),
    (42, "STP state blocking"),
    (43, "same interface"),
    (44, "multicast snooping enabled"),
    (50, "MTU check fail"),
    (51, "traffic manager"),
    (60, "ACL deny"),
    (61, "router ACL deny"),
    (62, "uRPF check fail"),
    (63, "IP source guard miss"),
    (64, "interface index"),
];

/// The name of drop reason `code`, if it is one in common use.
pub fn drop_reason_name(code: u8) -> Option<&'static str> {
    DROP_REASONS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_are_named_once_each() {
        assert_eq!(drop_reason_name(50), Some("MTU check fail"));
        assert_eq!(drop_reason_name(60), Some("ACL deny"));
        assert_eq!(drop_reason_name(200), None);
        assert!(
            DROP_REASONS.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "in code order, no code twice"
        );
    }
}
