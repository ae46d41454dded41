//! The switches' HTTP requests and their GELF business events.
//!
//! - ONIE's installer waterfall ([`waterfall`]): option 114's URL (or option 125's installer
//!   URL) first, then on every server of options 72, siaddr and 54 the default names from the
//!   most specific down, each also with `.bin`: `onie-installer-<arch>-<vendor>_<machine>-r<rev>`,
//!   `onie-installer-<arch>-<vendor>_<machine>`, `onie-installer-<vendor>_<machine>`,
//!   `onie-installer-<arch>-<asic>`, `onie-installer-<arch>`, `onie-installer`. Every fetch
//!   carries ONIE-SERIAL-NUMBER, ONIE-ETH-ADDR, ONIE-VENDOR-ID, ONIE-MACHINE, ONIE-MACHINE-REV,
//!   ONIE-ARCH, ONIE-SECURITY-KEY, ONIE-OPERATION (`os-install`) and ONIE-VERSION, with
//!   busybox wget's User-Agent `onie/1.0 (<platform>)`.
//! - CTRLD ([`ctrld_request`]): `<base>/ztp/config/{ctrld,element,ctrldrbac,startup}`, the
//!   seed's order, with ONIE-SERIAL-NUMBER, CONTAINER-NAME, ELEMENT-NAME and HOST-NAME.
//! - After each fetch CTRLD logs the seed's business event ([`gelf_event`]): ZTPxx1I "config set"
//!   with `_config_sha1` when the file came, ZTPxx2W "not provided" on a 404, ZTPxx3E "not set"
//!   on any other failure, in the seed's GELF 1.1 JSON.

use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use super::fleet::ZtpDevice;
use super::{HttpReply, HttpRequest, mac_text};

/// The RBFS container CTRLD provisions (the element is named after the switch).
pub const CONTAINER: &str = "rtbrick";
const CTRLD_AGENT: &str = "ctrld/20.4.0";

/// One of the four configurations CTRLD fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Ctrld,
    Element,
    CtrldRbac,
    Startup,
}

impl ConfigKind {
    /// In the order CTRLD fetches them (the seed's list).
    pub const ALL: [ConfigKind; 4] = [
        ConfigKind::Ctrld,
        ConfigKind::Element,
        ConfigKind::CtrldRbac,
        ConfigKind::Startup,
    ];

    /// The URL's last segment and the config.db key.
    pub fn name(self) -> &'static str {
        match self {
            ConfigKind::Ctrld => "ctrld",
            ConfigKind::Element => "element",
            ConfigKind::CtrldRbac => "ctrldrbac",
            ConfigKind::Startup => "startup",
        }
    }

    /// The seed's business events: set, not provided, not set.
    pub fn codes(self) -> [&'static str; 3] {
        match self {
            ConfigKind::Ctrld => ["ZTP0011I", "ZTP0012W", "ZTP0013E"],
            ConfigKind::Startup => ["ZTP0021I", "ZTP0022W", "ZTP0023E"],
            ConfigKind::Element => ["ZTP0031I", "ZTP0032W", "ZTP0033E"],
            ConfigKind::CtrldRbac => ["ZTP0041I", "ZTP0042W", "ZTP0043E"],
        }
    }

    /// How the seed's messages name it: `ctrld rbac`.
    fn words(self) -> &'static str {
        match self {
            ConfigKind::CtrldRbac => "ctrld rbac",
            other => other.name(),
        }
    }
}

/// A GET of `url` (absolute, `http://host/path`) with `headers` after Host and User-Agent.
pub fn get(url: &str, agent: &str, headers: Vec<(String, String)>) -> HttpRequest {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let mut all = vec![
        ("Host".to_string(), host.to_string()),
        ("User-Agent".to_string(), agent.to_string()),
    ];
    all.extend(headers);
    HttpRequest {
        method: "GET".into(),
        url: format!("http://{host}{path}"),
        path: path.to_string(),
        headers: all,
    }
}

/// The headers ONIE sends with every installer fetch.
pub fn onie_headers(device: &ZtpDevice) -> Vec<(String, String)> {
    let p = &device.platform;
    [
        ("ONIE-SERIAL-NUMBER", device.serial.clone()),
        ("ONIE-ETH-ADDR", mac_text(&device.mac)),
        ("ONIE-VENDOR-ID", p.vendor_id.to_string()),
        ("ONIE-MACHINE", p.machine()),
        ("ONIE-MACHINE-REV", p.revision.to_string()),
        ("ONIE-ARCH", p.arch.to_string()),
        ("ONIE-SECURITY-KEY", "d4a2f1e8-7f3c4b19".to_string()),
        ("ONIE-OPERATION", "os-install".to_string()),
        ("ONIE-VERSION", p.onie_version.to_string()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

/// ONIE's installer fetch of `url`.
pub fn onie_request(device: &ZtpDevice, url: &str) -> HttpRequest {
    let agent = format!("onie/1.0 ({})", device.platform.platform());
    get(url, &agent, onie_headers(device))
}

/// ONIE's default installer names, most specific first, each also with `.bin`.
pub fn default_names(device: &ZtpDevice) -> Vec<String> {
    let p = &device.platform;
    let machine = p.machine();
    let stems = [
        format!("onie-installer-{}", p.platform()),
        format!("onie-installer-{}-{machine}", p.arch),
        format!("onie-installer-{machine}"),
        format!("onie-installer-{}-{}", p.arch, p.asic),
        format!("onie-installer-{}", p.arch),
        "onie-installer".to_string(),
    ];
    stems
        .into_iter()
        .flat_map(|stem| {
            let bin = format!("{stem}.bin");
            [stem, bin]
        })
        .collect()
}

/// The URLs ONIE tries in order: `first` (option 125's or 114's URL), then every default
/// name on every server in `servers` (72, siaddr, 54, duplicates left out).
pub fn waterfall(
    device: &ZtpDevice,
    first: &[String],
    servers: &[std::net::Ipv4Addr],
) -> Vec<String> {
    let mut urls: Vec<String> = first.to_vec();
    let mut seen = Vec::new();
    for server in servers.iter().filter(|s| !s.is_unspecified()) {
        if seen.contains(server) {
            continue;
        }
        seen.push(*server);
        urls.extend(
            default_names(device)
                .into_iter()
                .map(|name| format!("http://{server}/{name}")),
        );
    }
    urls
}

/// CTRLD's fetch of one configuration under `base` (option 210, without a trailing `/`).
pub fn ctrld_request(device: &ZtpDevice, base: &str, kind: ConfigKind) -> HttpRequest {
    let url = format!("{}/ztp/config/{}", base.trim_end_matches('/'), kind.name());
    let headers = [
        ("ONIE-SERIAL-NUMBER", device.serial.as_str()),
        ("CONTAINER-NAME", CONTAINER),
        ("ELEMENT-NAME", device.name.as_str()),
        ("HOST-NAME", device.name.as_str()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    get(&url, CTRLD_AGENT, headers)
}

/// Hex SHA-1, as `_config_sha1` carries it.
pub fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The business event CTRLD logs after fetching `kind` at `at` (µs) and getting `reply`.
pub fn gelf_event(device: &ZtpDevice, kind: ConfigKind, reply: &HttpReply, at: i64) -> Vec<u8> {
    let [set, not_provided, not_set] = kind.codes();
    let (code, level, outcome) = match reply.status {
        200..=299 => (set, 6, "set"),
        404 => (not_provided, 4, "not provided"),
        _ => (not_set, 1, "not set"),
    };
    let mut message = Map::new();
    message.insert("version".into(), json!("1.1"));
    message.insert("host".into(), json!(device.name));
    message.insert("level".into(), json!(level));
    message.insert("timestamp".into(), json!(at as f64 / 1e6));
    message.insert(
        "short_message".into(),
        json!(format!("ztp {} config {outcome}", kind.words())),
    );
    message.insert("_daemon".into(), json!("ctrld"));
    message.insert("_log_module".into(), json!("ztp"));
    message.insert("_log_event".into(), json!(code));
    message.insert("_serial_number".into(), json!(device.serial));
    message.insert("_element_name".into(), json!(device.name));
    message.insert("_config_name".into(), json!(kind.name()));
    if reply.ok() {
        message.insert("_config_sha1".into(), json!(sha1_hex(&reply.body)));
    }
    Value::Object(message).to_string().into_bytes()
}
