//! ZTP access events: every DHCP exchange and HTTP request of a provisioning switch.
use crate::column::{ColumnType::*, TableDef, col};

pub static DHCP: TableDef = TableDef::new(
    "ztp_dhcp",
    "DHCP exchanges of the ZTP server",
    &[
        col("client_mac", Str, "client hardware address"),
        col("xid", U32, "transaction id"),
    ],
    &[
        col(
            "message_type",
            Str,
            "DISCOVER, OFFER, REQUEST, ACK, NAK, INFORM, RELEASE, DECLINE",
        ),
        col(
            "serial",
            Str,
            "ONIE serial number, when the client sent one",
        ),
        col("vendor_class", Str, "option 60"),
        col("client_ip", Str, "address offered or acknowledged"),
        col("relay_ip", Str, "giaddr"),
        col("provisioning_url", Str, "option 114 / 239 handed out"),
        col("code", Str, "business event code, e.g. ZTP0011I"),
        col("message", Str, "event text"),
    ],
);

pub static HTTP: TableDef = TableDef::new(
    "ztp_http",
    "HTTP requests for images and configurations",
    &[
        col("client_ip", Str, "client address"),
        col("request_id", U64, "request number"),
    ],
    &[
        col("method", Str, "HTTP method"),
        col("path", Str, "requested path"),
        col("serial", Str, "ONIE serial the request was for"),
        col("status", U32, "HTTP status"),
        col("bytes", U64, "bytes sent"),
        col("user_agent", Str, "user agent"),
        col("code", Str, "business event code"),
        col("message", Str, "event text"),
    ],
);
