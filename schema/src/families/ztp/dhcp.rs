//! `ztp_dhcp`: one row per DHCP message the server handled, with what it answered.
use crate::column::{ColumnType::*, TableDef, col};

pub static DHCP: TableDef = TableDef::new(
    "ztp_dhcp",
    "DHCP exchanges of the ZTP server: each message received and the answer",
    &[
        col("client_mac", Str, "client hardware address (chaddr)"),
        col("xid", U32, "transaction id"),
    ],
    &[
        col(
            "message_type",
            Str,
            "DISCOVER, REQUEST, DECLINE, RELEASE or INFORM",
        ),
        col(
            "reply",
            Str,
            "OFFER, ACK or NAK; empty when nothing was sent",
        ),
        col("client_id", Str, "option 61, hex"),
        col("serial", Str, "serial number (option 61 of ONIE and CTRLD)"),
        col("vendor_class", Str, "option 60 (onie_vendor:…)"),
        col("user_class", Str, "option 77"),
        col("requested_ip", Str, "option 50 or ciaddr"),
        col("client_ip", Str, "address offered or acknowledged (yiaddr)"),
        col("relay_ip", Str, "relay agent (giaddr)"),
        col("circuit_id", Str, "option 82 circuit id"),
        col("remote_id", Str, "option 82 remote id"),
        col("subnet", Str, "subnet the address came from"),
        col("host", Str, "reservation that matched (host NAME)"),
        col("class", Str, "classes that matched, comma separated"),
        col("lease_time", U32, "lease seconds granted"),
        col("default_url", Str, "option 114 handed out (ONIE installer)"),
        col(
            "path_prefix",
            Str,
            "option 210 handed out (CTRLD configuration base)",
        ),
        col(
            "script_url",
            Str,
            "option 239 handed out (Cumulus ZTP script)",
        ),
        col(
            "onie_machine",
            Str,
            "option 125 (enterprise 42623) sub-option 3: ONIE machine",
        ),
        col(
            "onie_arch",
            Str,
            "option 125 (enterprise 42623) sub-option 4: ONIE architecture",
        ),
        col(
            "onie_revision",
            Str,
            "option 125 (enterprise 42623) sub-option 5: machine revision",
        ),
        col(
            "requested_options",
            Str,
            "option 55, the codes comma separated in the client's order",
        ),
        col("pool_size", U32, "addresses of the subnet's pools"),
        col(
            "pool_used",
            U32,
            "addresses of the subnet held by leases after this exchange",
        ),
        col("duration_us", U64, "time from receipt to answer, µs"),
        col("level", U32, "severity (RFC 5424)"),
        col("log_event", Str, "event code, e.g. ZTP0101I"),
        col("message", Str, "what happened"),
    ],
);
