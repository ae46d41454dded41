//! The names of drop reason codes in common use.

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
