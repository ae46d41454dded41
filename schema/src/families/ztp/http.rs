//! `ztp_http`: one row per HTTP request for an image, a configuration or a script.
use crate::column::{ColumnType::*, TableDef, col};

pub static HTTP: TableDef = TableDef::new(
    "ztp_http",
    "HTTP requests for images, configurations and scripts",
    &[
        col("client_ip", Str, "client address"),
        col("request_id", U64, "request number, unique per server run"),
    ],
    &[
        col(
            "client_mac",
            Str,
            "MAC of the lease that holds client_ip, when known",
        ),
        col("method", Str, "HTTP method"),
        col("path", Str, "requested path"),
        col("status", U32, "HTTP status"),
        col("bytes", U64, "body bytes sent"),
        col("range", Str, "Range header, when the download was resumed"),
        col("duration_us", U64, "time from request to last byte, µs"),
        col("file", Str, "file served, relative to the ZTP directory"),
        col(
            "serial",
            Str,
            "ONIE-SERIAL-NUMBER, CUMULUS-SERIAL or SERIAL-NUMBER",
        ),
        col(
            "base_mac",
            Str,
            "ONIE-ETH-ADDR, CUMULUS-BASE-MAC or BASE-MAC-ADDRESS",
        ),
        col("vendor", Str, "ONIE-VENDOR-ID or CUMULUS-MANUFACTURER"),
        col(
            "machine",
            Str,
            "ONIE-MACHINE, CUMULUS-PRODUCTNAME or PRODUCT-NAME",
        ),
        col("machine_rev", Str, "ONIE-MACHINE-REV"),
        col("arch", Str, "ONIE-ARCH or CUMULUS-ARCH"),
        col("operation", Str, "ONIE-OPERATION (os-install, onie-update)"),
        col(
            "nos_version",
            Str,
            "ONIE-VERSION, CUMULUS-VERSION or SONiC-VERSION",
        ),
        col("container_name", Str, "CONTAINER-NAME (CTRLD)"),
        col("element_name", Str, "ELEMENT-NAME (CTRLD)"),
        col("host_name", Str, "HOST-NAME (CTRLD)"),
        col("user_agent", Str, "User-Agent"),
        col(
            "headers",
            Str,
            "the other ONIE-, CUMULUS- and SONiC headers, as JSON",
        ),
        col("level", U32, "severity (RFC 5424)"),
        col("log_event", Str, "event code, e.g. ZTP0011I"),
        col(
            "config_name",
            Str,
            "configuration asked for (ctrld, startup, …)",
        ),
        col("config_sha1", Str, "SHA-1 of the configuration served"),
        col("message", Str, "what happened"),
        col(
            "known_serial",
            Bool,
            "whether config.db knows the request's serial",
        ),
        col(
            "route",
            Str,
            "what the URL asked for: config, image, script, images, onie or none",
        ),
    ],
);
