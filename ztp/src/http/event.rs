//! The access event: every request becomes one row of `ztp_http`, built from the request, what
//! the routing decided ([`Outcome`]), the lease that holds the client's address, and what the
//! connection really sent.
//!
//! The vendors' headers map onto columns (ONIE's first, then Cumulus', then SONiC's names for
//! the same fact); the other `ONIE-`, `CUMULUS-` and `SONiC-` headers land in `headers` as a
//! JSON object (names as sent; `ONIE-SECURITY-KEY`'s value is recorded as `redacted`). The
//! row's frame hostname is the HOST-NAME header, else the lease's device name, else the serial,
//! else the client's address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use sonde_schema::families::ztp::HTTP;
use sonde_schema::row::Row;

use super::request::Request;
use crate::codes::Code;
use crate::leases::{LeaseLookup, mac_text};

/// Longest request target kept in a row.
const PATH_KEPT: usize = 1024;

/// The header names for the serial number, in the order they are believed.
pub const SERIAL_HEADERS: [&str; 3] = ["ONIE-SERIAL-NUMBER", "CUMULUS-SERIAL", "SERIAL-NUMBER"];

/// Columns filled from vendor headers, each from the first of its names present.
const MAPPED: [(&str, &[&str]); 10] = [
    ("serial", &SERIAL_HEADERS),
    (
        "base_mac",
        &["ONIE-ETH-ADDR", "CUMULUS-BASE-MAC", "BASE-MAC-ADDRESS"],
    ),
    ("vendor", &["ONIE-VENDOR-ID", "CUMULUS-MANUFACTURER"]),
    (
        "machine",
        &["ONIE-MACHINE", "CUMULUS-PRODUCTNAME", "PRODUCT-NAME"],
    ),
    ("machine_rev", &["ONIE-MACHINE-REV"]),
    ("arch", &["ONIE-ARCH", "CUMULUS-ARCH"]),
    ("operation", &["ONIE-OPERATION"]),
    (
        "nos_version",
        &["ONIE-VERSION", "CUMULUS-VERSION", "SONiC-VERSION"],
    ),
    ("container_name", &["CONTAINER-NAME"]),
    ("element_name", &["ELEMENT-NAME"]),
];

/// What the routing decided about one request, for its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `config`, `image`, `script`, `images`, `onie` or `none`.
    pub route: &'static str,
    pub code: &'static str,
    pub level: u32,
    pub message: String,
    /// The file served (or looked for), relative to the ZTP directory.
    pub file: Option<String>,
    pub config_name: Option<&'static str>,
    pub config_sha1: Option<String>,
    pub known_serial: bool,
}

impl Outcome {
    pub fn new(route: &'static str, code: Code, message: impl Into<String>) -> Outcome {
        Outcome {
            route,
            code: code.code,
            level: code.level,
            message: message.into(),
            file: None,
            config_name: None,
            config_sha1: None,
            known_serial: false,
        }
    }

    /// An outcome with one of the seed's codes (`ZTP0011I`, …), its level from the last letter.
    pub fn coded(route: &'static str, code: &'static str, message: impl Into<String>) -> Outcome {
        let level = match code.as_bytes().last() {
            Some(b'I') => 6,
            Some(b'W') => 4,
            Some(b'E') => 3,
            _ => 5,
        };
        Outcome {
            level,
            ..Outcome::new(
                route,
                Code {
                    code,
                    level,
                    text: "",
                },
                message,
            )
        }
    }

    pub fn file(mut self, file: impl Into<String>) -> Outcome {
        self.file = Some(file.into());
        self
    }
}

/// What the connection did with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub status: u16,
    /// Body bytes written.
    pub bytes: u64,
    pub duration_us: u64,
}

/// The client's address as IPv4, when it is one (IPv4-mapped IPv6 included).
pub fn client_v4(client: SocketAddr) -> Option<Ipv4Addr> {
    match client.ip() {
        IpAddr::V4(ip) => Some(ip),
        IpAddr::V6(ip) => ip.to_ipv4_mapped(),
    }
}

/// The row and its frame hostname.
pub fn row(
    request: &Request,
    client: SocketAddr,
    now_us: i64,
    request_id: u64,
    outcome: &Outcome,
    sent: Sent,
    leases: &dyn LeaseLookup,
) -> (String, Row) {
    let ip = client.ip().to_string();
    let lease = client_v4(client).and_then(|v4| leases.lease_of(v4));
    let mut row = Row::new(&HTTP, now_us)
        .set("client_ip", ip.clone())
        .set("request_id", request_id)
        .set("status", u32::from(sent.status))
        .set("bytes", sent.bytes)
        .set("duration_us", sent.duration_us)
        .set("level", outcome.level)
        .set("log_event", outcome.code)
        .set("message", outcome.message.clone())
        .set("known_serial", outcome.known_serial)
        .set("route", outcome.route);
    let mut put = |column: &str, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            row.put(column, value.to_string());
        }
    };
    put(
        "client_mac",
        lease.as_ref().map(|l| mac_text(&l.mac)).as_deref(),
    );
    put("method", Some(&request.method));
    put("path", Some(truncated(&request.path, PATH_KEPT)));
    put("range", request.get("range"));
    put("file", outcome.file.as_deref());
    put("config_name", outcome.config_name);
    put("config_sha1", outcome.config_sha1.as_deref());
    put("host_name", request.get("HOST-NAME"));
    put("user_agent", request.get("User-Agent"));
    for (column, names) in MAPPED {
        put(column, request.first_of(names));
    }
    if let Some(json) = other_vendor_headers(request) {
        row.put("headers", json);
    }
    let hostname = request
        .first_of(&["HOST-NAME"])
        .map(str::to_string)
        .or_else(|| lease.and_then(|l| l.device))
        .or_else(|| request.first_of(&SERIAL_HEADERS).map(str::to_string))
        .unwrap_or(ip);
    (hostname, row)
}

/// The vendor headers no column holds, as a JSON object; `None` when there are none.
fn other_vendor_headers(request: &Request) -> Option<String> {
    let mut map = serde_json::Map::new();
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        let vendor = ["onie-", "cumulus-", "sonic-"]
            .iter()
            .any(|p| lower.starts_with(p));
        let mapped = MAPPED
            .iter()
            .flat_map(|(_, names)| names.iter())
            .any(|n| n.eq_ignore_ascii_case(name));
        if !vendor || mapped || map.contains_key(name) {
            continue;
        }
        let value = if lower == "onie-security-key" {
            "redacted".to_string()
        } else {
            value.trim().to_string()
        };
        map.insert(name.clone(), serde_json::Value::String(value));
    }
    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
}

fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codes;
    use crate::leases::NoLeases;
    use sonde_schema::row::Value;

    fn value<'a>(row: &'a Row, column: &str) -> &'a Value {
        let index = HTTP
            .keys
            .iter()
            .chain(HTTP.values.iter())
            .position(|c| c.name == column)
            .unwrap();
        &row.values[index]
    }

    #[test]
    fn vendor_headers_map_to_columns_and_the_rest_to_json() {
        let request = Request::new("GET", "/onie-installer")
            .header("ONIE-SERIAL-NUMBER", "591654XK1902037")
            .header("ONIE-ETH-ADDR", "48:65:ee:11:da:85")
            .header("ONIE-VENDOR-ID", "259")
            .header("ONIE-MACHINE", "accton_as7712_32x")
            .header("ONIE-SECURITY-KEY", "d3b07384d-113edec49eaa-6238ad5ff00")
            .header("CUMULUS-BUILD", "5.9.1")
            .header("User-Agent", "onie/1.0");
        let client: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        let outcome = Outcome::new("onie", codes::HTTP_IMAGE_SERVED, "served");
        let sent = Sent {
            status: 200,
            bytes: 10,
            duration_us: 3,
        };
        let (host, row) = row(&request, client, 5, 1, &outcome, sent, &NoLeases);
        assert_eq!(host, "591654XK1902037");
        assert_eq!(value(&row, "serial"), &Value::from("591654XK1902037"));
        assert_eq!(value(&row, "base_mac"), &Value::from("48:65:ee:11:da:85"));
        assert_eq!(value(&row, "machine"), &Value::from("accton_as7712_32x"));
        assert_eq!(value(&row, "log_event"), &Value::from("ZTP0201I"));
        assert_eq!(value(&row, "level"), &Value::U32(6));
        assert_eq!(
            value(&row, "headers"),
            &Value::from(r#"{"CUMULUS-BUILD":"5.9.1","ONIE-SECURITY-KEY":"redacted"}"#)
        );
        assert_eq!(value(&row, "client_mac"), &Value::Null);
    }

    #[test]
    fn the_seed_codes_carry_their_level() {
        assert_eq!(Outcome::coded("config", "ZTP0011I", "").level, 6);
        assert_eq!(Outcome::coded("config", "ZTP0012W", "").level, 4);
        assert_eq!(Outcome::coded("config", "ZTP0013E", "").level, 3);
    }

    #[test]
    fn the_hostname_falls_back_to_the_address() {
        let client: SocketAddr = "[::ffff:10.0.0.9]:80".parse().unwrap();
        assert_eq!(client_v4(client), Some(Ipv4Addr::new(10, 0, 0, 9)));
        let outcome = Outcome::new("none", codes::HTTP_NOT_FOUND, "");
        let sent = Sent {
            status: 404,
            bytes: 0,
            duration_us: 0,
        };
        let request = Request::new("GET", "/x");
        let (host, _) = row(&request, client, 0, 0, &outcome, sent, &NoLeases);
        assert_eq!(host, "::ffff:10.0.0.9");
        let named = request.header("HOST-NAME", "leaf01");
        let (host, _) = row(&named, client, 0, 0, &outcome, sent, &NoLeases);
        assert_eq!(host, "leaf01");
    }
}
