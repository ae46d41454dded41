//! Tests of the HTTP server: the routing core through [`HttpServer::respond`] here, real
//! loopback sockets in [`socket`]. The fixture is a ZTP directory in a temporary directory with
//! the seed's layout and a config.db of four serials.

#![allow(clippy::unwrap_used)]

mod objects;
mod socket;

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use sonde_schema::families::ztp::HTTP;
use sonde_schema::row::Value;
use tokio::sync::mpsc;

use super::{Body, HttpServer, Request, Response};
use crate::ZtpDir;
use crate::config::{ConfigDb, Device, Watched, ZtpConfig};
use crate::events::{Event, Recorder};
use crate::leases::{Lease, LeaseLookup, LeaseState, NoLeases};

pub(super) const MAC_M: [u8; 6] = [0x48, 0x65, 0xee, 0x11, 0xda, 0x85];
pub(super) const CLIENT: &str = "10.0.0.7:40000";
pub(super) const IMAGE_LEN: usize = 300_000;

/// Leases by address, each device named `dev-<last octet>`.
#[derive(Debug, Default)]
pub(super) struct FakeLeases(pub HashMap<Ipv4Addr, [u8; 6]>);

impl LeaseLookup for FakeLeases {
    fn mac_of(&self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        self.0.get(&ip).copied()
    }
    fn lease_of(&self, ip: Ipv4Addr) -> Option<Lease> {
        let mac = self.mac_of(ip)?;
        Some(Lease {
            ip,
            mac,
            client_id: None,
            serial: None,
            device: Some(format!("dev-{}", ip.octets()[3])),
            state: LeaseState::Bound,
            starts: 0,
            ends: 1,
            subnet: "10.0.0.0/24".into(),
            host: None,
        })
    }
}

pub(super) struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: HttpServer,
    pub events: mpsc::Receiver<Event>,
}

/// The bytes of the test image: every offset distinct enough that a shifted range shows.
pub(super) fn image_bytes() -> Vec<u8> {
    (0..IMAGE_LEN).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn device(entries: &[(&str, &str)]) -> Device {
    let mut device = Device::default();
    for (key, value) in entries {
        let value = Some((*value).to_string());
        match *key {
            "ctrld" => device.ctrld = value,
            "ctrldrbac" => device.ctrldrbac = value,
            "startup" => device.startup = value,
            "element" => device.element = value,
            "image" => device.image = value,
            "mac" => device.mac = value,
            "script" => device.script = value,
            _ => unreachable!(),
        }
    }
    device
}

pub(super) fn write_tree(root: &std::path::Path) {
    let write = |name: &str, bytes: &[u8]| {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write("configs/ctrld.json", br#"{"ctrld": "A"}"#);
    write("configs/ctrldrbac.json", br#"{"rbac": "A"}"#);
    write("configs/A_startup.json", br#"{"startup": "A"}"#);
    write("configs/A_element.json", br#"{"element": "A"}"#);
    write("configs/B_startup.json", br#"{"startup": "B"}"#);
    write("configs/M_startup.json", br#"{"startup": "M"}"#);
    write(
        "configs/a.sh",
        b"#!/bin/bash\n# CUMULUS-AUTOPROVISIONING\nexit 0\n",
    );
    write("configs/bad.sh", b"#!/bin/bash\nexit 0\n");
    write("images/onl-installer.bin", &image_bytes());
    write("images/onie-installer-x86_64", b"x86 installer");
    write("onie-installer.bin", b"top-level installer");
    write("config.db", b"{}");
    write("secret", b"not to be served");
    std::os::unix::fs::symlink(
        root.join("images/onl-installer.bin"),
        root.join("images/inside"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("secret"), root.join("images/outside")).unwrap();
}

pub(super) fn config_db() -> ConfigDb {
    let mut devices = std::collections::BTreeMap::new();
    devices.insert(
        "SERIAL-A".to_string(),
        device(&[
            ("ctrld", "ctrld.json"),
            ("ctrldrbac", "ctrldrbac.json"),
            ("startup", "A_startup.json"),
            ("element", "A_element.json"),
            ("image", "onl-installer.bin"),
            ("script", "a.sh"),
        ]),
    );
    devices.insert(
        "SERIAL-B".to_string(),
        device(&[
            ("startup", "B_startup.json"),
            ("image", "http://pkg.example/_/images/nos.bin"),
            ("script", "bad.sh"),
        ]),
    );
    devices.insert(
        "SERIAL-C".to_string(),
        device(&[
            ("startup", "missing.json"),
            ("ctrld", "../config.db"),
            ("element", "/etc/hostname"),
            ("image", "../config.db"),
        ]),
    );
    devices.insert(
        "SERIAL-S".to_string(),
        device(&[("image", "http://10.0.0.1/images/sonic-stored.bin")]),
    );
    devices.insert(
        "SERIAL-M".to_string(),
        device(&[("startup", "M_startup.json"), ("mac", "48:65:ee:11:da:85")]),
    );
    ConfigDb { devices }
}

pub(super) fn fixture_with(leases: Arc<dyn LeaseLookup>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let config = ZtpConfig {
        db: config_db(),
        ..ZtpConfig::default()
    };
    let watched = Watched::fixed(ZtpDir::new(dir.path()), config);
    let (recorder, events) = Recorder::discard();
    let server = HttpServer::new(watched, recorder, leases);
    Fixture {
        dir,
        server,
        events,
    }
}

pub(super) fn fixture() -> Fixture {
    fixture_with(Arc::new(NoLeases))
}

pub(super) fn client() -> SocketAddr {
    CLIENT.parse().unwrap()
}

/// The bytes a response's body stands for.
pub(super) fn body(response: &Response) -> Vec<u8> {
    match &response.body {
        Body::Empty => Vec::new(),
        Body::Bytes(bytes) => bytes.to_vec(),
        Body::Object { .. } => panic!("an object body is only sent on a socket"),
        Body::File { path, offset, len } => {
            let mut file = std::fs::File::open(path).unwrap();
            file.seek(SeekFrom::Start(*offset)).unwrap();
            let mut out = vec![0; usize::try_from(*len).unwrap()];
            file.read_exact(&mut out).unwrap();
            out
        }
    }
}

/// A column of a `ztp_http` row.
pub(super) fn column<'a>(event: &'a Event, name: &str) -> &'a Value {
    let index = HTTP
        .keys
        .iter()
        .chain(HTTP.values.iter())
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &event.row.values[index]
}

pub(super) fn text(value: &Value) -> &str {
    match value {
        Value::Str(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

impl Fixture {
    fn ask(&self, method: &str, path: &str, serial: Option<&str>) -> Response {
        let mut request = Request::new(method, path).header("Host", "10.0.0.1");
        if let Some(serial) = serial {
            request = request.header("ONIE-SERIAL-NUMBER", serial);
        }
        self.server.respond(&request, client(), 1_000)
    }

    fn get(&self, path: &str, serial: Option<&str>) -> Response {
        self.ask("GET", path, serial)
    }

    /// The newest recorded event.
    fn last(&mut self) -> Event {
        let mut last = None;
        while let Ok(event) = self.events.try_recv() {
            last = Some(event);
        }
        last.expect("an event was recorded")
    }

    fn last_code(&mut self) -> String {
        text(column(&self.last(), "log_event")).to_string()
    }
}

#[test]
fn each_config_url_serves_its_own_file_for_its_serial() {
    let mut fx = fixture();
    for (url, expected) in [
        ("/ztp/config/ctrld", r#"{"ctrld": "A"}"#),
        ("/ztp/config/ctrldrbac", r#"{"rbac": "A"}"#),
        ("/ztp/config/startup", r#"{"startup": "A"}"#),
        ("/ztp/config/element", r#"{"element": "A"}"#),
    ] {
        let response = fx.get(url, Some("SERIAL-A"));
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(body(&response), expected.as_bytes(), "{url}");
        assert!(response.get("etag").is_some());
    }
    let event = fx.last();
    assert_eq!(text(column(&event, "log_event")), "ZTP0031I");
    assert_eq!(text(column(&event, "config_name")), "element");
    // SHA-1 of `{"element": "A"}`, computed with sha1sum.
    assert_eq!(
        text(column(&event, "config_sha1")),
        "461e287ab9a7263c36955e36b4f814e1f9c4b70f"
    );
    assert_eq!(column(&event, "known_serial"), &Value::Bool(true));
    assert_eq!(text(column(&event, "file")), "configs/A_element.json");
    assert_eq!(event.hostname, "SERIAL-A");
}

#[test]
fn another_serial_gets_its_own_file_or_404_never_the_first_ones() {
    let mut fx = fixture();
    let response = fx.get("/ztp/config/startup", Some("SERIAL-B"));
    assert_eq!(body(&response), br#"{"startup": "B"}"#);
    let response = fx.get("/ztp/config/ctrld", Some("SERIAL-B"));
    assert_eq!(response.status, 404);
    let event = fx.last();
    assert_eq!(text(column(&event, "log_event")), "ZTP0012W");
    assert_eq!(column(&event, "level"), &Value::U32(4));
    assert_eq!(column(&event, "known_serial"), &Value::Bool(true));
    assert_eq!(fx.get("/ztp/config/ctrld", Some("UNKNOWN")).status, 404);
    let event = fx.last();
    assert_eq!(text(column(&event, "log_event")), "ZTP0012W");
    assert_eq!(column(&event, "known_serial"), &Value::Bool(false));
    assert_eq!(fx.get("/ztp/config/ctrld", None).status, 404);
    assert_eq!(fx.get("/ztp/config/startup", Some("SERIAL-C")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0022W");
}

#[test]
fn other_serial_headers_are_accepted() {
    let fx = fixture();
    for header in ["CUMULUS-SERIAL", "SERIAL-NUMBER", "onie-serial-number"] {
        let request = Request::new("GET", "/ztp/config/startup").header(header, "SERIAL-A");
        let response = fx.server.respond(&request, client(), 0);
        assert_eq!(response.status, 200, "{header}");
    }
}

#[test]
fn post_is_answered_as_get_on_config_urls_and_other_methods_are_405() {
    let fx = fixture();
    let response = fx.ask("POST", "/ztp/config/startup", Some("SERIAL-A"));
    assert_eq!(
        (response.status, body(&response)),
        (200, br#"{"startup": "A"}"#.to_vec())
    );
    let response = fx.ask("PUT", "/ztp/config/startup", Some("SERIAL-A"));
    assert_eq!(response.status, 405);
    assert_eq!(response.get("allow"), Some("GET, HEAD, POST"));
    assert_eq!(
        fx.ask("POST", "/images/onl-installer.bin", None).status,
        405
    );
    assert_eq!(fx.ask("DELETE", "/ztp/image", Some("SERIAL-A")).status, 405);
}

#[test]
fn head_answers_the_get_head_without_a_body() {
    let fx = fixture();
    let response = fx.ask("HEAD", "/images/onl-installer.bin", None);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.get("content-length"),
        Some(IMAGE_LEN.to_string().as_str())
    );
    assert_eq!(response.body, Body::Empty);
}

#[test]
fn the_image_is_redirected_to_or_served() {
    let mut fx = fixture();
    let response = fx.get("/ztp/image", Some("SERIAL-B"));
    assert_eq!(response.status, 301);
    assert_eq!(
        response.get("location"),
        Some("http://pkg.example/_/images/nos.bin")
    );
    assert_eq!(fx.last_code(), "ZTP0202I");
    let response = fx.get("/ztp/image", Some("SERIAL-A"));
    assert_eq!(response.status, 200);
    assert_eq!(body(&response), image_bytes());
    let event = fx.last();
    assert_eq!(text(column(&event, "log_event")), "ZTP0201I");
    assert_eq!(column(&event, "bytes"), &Value::U64(IMAGE_LEN as u64));
    assert_eq!(fx.get("/ztp/image", Some("UNKNOWN")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0203W");
    assert_eq!(fx.get("/ztp/image", None).status, 404);
    assert_eq!(fx.get("/ztp/image", Some("SERIAL-M")).status, 403);
}

#[test]
fn an_image_url_on_this_server_is_served_from_images() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let mut db = config_db();
    db.devices.get_mut("SERIAL-B").unwrap().image =
        Some("http://10.0.0.1/images/onl-installer.bin".into());
    let config = ZtpConfig {
        db,
        ..ZtpConfig::default()
    };
    let (recorder, _events) = Recorder::discard();
    let server = HttpServer::new(
        Watched::fixed(ZtpDir::new(dir.path()), config),
        recorder,
        Arc::new(NoLeases),
    );
    let request = Request::new("GET", "/ztp/image")
        .header("Host", "10.0.0.1")
        .header("ONIE-SERIAL-NUMBER", "SERIAL-B");
    assert_eq!(server.respond(&request, client(), 0).status, 200);
    let elsewhere = Request::new("GET", "/ztp/image")
        .header("Host", "10.0.0.2")
        .header("ONIE-SERIAL-NUMBER", "SERIAL-B");
    assert_eq!(server.respond(&elsewhere, client(), 0).status, 301);
}

#[test]
fn the_script_needs_its_marker_and_the_default_stands_in() {
    let mut fx = fixture();
    let response = fx.get("/ztp/script", Some("SERIAL-A"));
    assert_eq!(response.status, 200);
    assert!(body(&response).starts_with(b"#!/bin/bash\n# CUMULUS"));
    assert_eq!(fx.last_code(), "ZTP0204I");
    assert_eq!(fx.get("/ztp/script", Some("SERIAL-B")).status, 500);
    assert_eq!(fx.last_code(), "ZTP0211E");
    assert_eq!(fx.get("/ztp/script", None).status, 404);
    assert_eq!(fx.last_code(), "ZTP0205W");
    std::fs::write(
        fx.dir.path().join("configs/ztp-default.sh"),
        "#!/bin/sh\n#  CUMULUS-AUTOPROVISIONING  \n",
    )
    .unwrap();
    let response = fx.get("/ztp/script", Some("UNKNOWN"));
    assert_eq!(response.status, 200);
    assert!(body(&response).starts_with(b"#!/bin/sh\n"));
    assert_eq!(text(column(&fx.last(), "file")), "configs/ztp-default.sh");
}

#[test]
fn images_are_served_without_listing() {
    let mut fx = fixture();
    let response = fx.get("/images/onie-installer-x86_64", None);
    assert_eq!(
        (response.status, body(&response)),
        (200, b"x86 installer".to_vec())
    );
    assert_eq!(fx.last_code(), "ZTP0209I");
    assert_eq!(fx.get("/images/", None).status, 404);
    assert_eq!(fx.get("/images", None).status, 404);
    assert_eq!(fx.get("/", None).status, 404);
    assert_eq!(fx.get("/images/absent.bin", None).status, 404);
    assert_eq!(fx.last_code(), "ZTP0208W");
    assert_eq!(fx.get("/config.db", None).status, 404);
    assert_eq!(fx.get("/secret", None).status, 404);
}

#[test]
fn the_onie_waterfall_finds_the_serials_image_then_images_then_the_top_level() {
    let mut fx = fixture();
    let names = [
        "/onie-installer-x86_64-accton_as7712_32x-r0",
        "/onie-installer-x86_64-accton_as7712_32x-r0.bin",
        "/onie-installer-x86_64",
        "/onie-installer.bin",
    ];
    let response = fx.get(names[0], Some("SERIAL-A"));
    assert_eq!(response.status, 200);
    assert_eq!(body(&response).len(), IMAGE_LEN);
    let event = fx.last();
    assert_eq!(text(column(&event, "route")), "onie");
    assert_eq!(text(column(&event, "path")), names[0]);
    assert_eq!(text(column(&event, "file")), "images/onl-installer.bin");
    // An unknown device walks the names until one exists.
    assert_eq!(fx.get(names[0], Some("UNKNOWN")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0203W");
    assert_eq!(fx.get(names[1], Some("UNKNOWN")).status, 404);
    let response = fx.get(names[2], Some("UNKNOWN"));
    assert_eq!(
        (response.status, body(&response)),
        (200, b"x86 installer".to_vec())
    );
    let response = fx.get(names[3], None);
    assert_eq!(
        (response.status, body(&response)),
        (200, b"top-level installer".to_vec())
    );
    assert_eq!(text(column(&fx.last(), "file")), "onie-installer.bin");
    // An updater name never gets the serial's NOS image.
    assert_eq!(fx.get("/onie-updater", Some("SERIAL-A")).status, 404);
    // A remote image does not answer an ONIE name.
    assert_eq!(fx.get(names[0], Some("SERIAL-B")).status, 404);
}

#[test]
fn traversal_attempts_all_fail() {
    let mut fx = fixture();
    for path in [
        "/images/../config.db",
        "/images/%2e%2e/config.db",
        "/images/%2E%2E%2Fconfig.db",
        "/images/..%2fsecret",
        "/ztp/../config.db",
        "/images/..\\secret",
        "/images/%5c..%5csecret",
        "/images/a%00b",
        "/images/%ff",
    ] {
        let response = fx.get(path, None);
        assert_eq!(response.status, 400, "{path}");
        assert!(!body(&response).starts_with(b"not to be"), "{path}");
    }
    for path in ["/images/%2fetc%2fpasswd", "/images//etc/passwd"] {
        assert_eq!(fx.get(path, None).status, 400, "{path}");
    }
    let response = fx.get("/images/outside", None);
    assert_eq!(response.status, 403);
    assert_eq!(fx.last_code(), "ZTP0207E");
    assert_eq!(fx.get("/images/inside", None).status, 200);
    // A serial from a header is only ever a key.
    for serial in ["../../etc/passwd", "../config.db", "/etc/passwd"] {
        assert_eq!(fx.get("/ztp/config/startup", Some(serial)).status, 404);
    }
    // config.db entries are resolved like URLs.
    assert_eq!(fx.get("/ztp/config/ctrld", Some("SERIAL-C")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0013E");
    assert_eq!(fx.get("/ztp/config/element", Some("SERIAL-C")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0033E");
    assert_eq!(fx.get("/ztp/image", Some("SERIAL-C")).status, 404);
    assert_eq!(fx.last_code(), "ZTP0207E");
}

#[test]
fn a_serial_bound_to_a_mac_is_served_only_to_its_lease() {
    let mut leases = FakeLeases::default();
    leases.0.insert(Ipv4Addr::new(10, 0, 0, 7), MAC_M);
    leases
        .0
        .insert(Ipv4Addr::new(10, 0, 0, 8), [2, 0, 0, 0, 0, 8]);
    let mut fx = fixture_with(Arc::new(leases));
    let ask = |fx: &Fixture, from: &str| {
        let request =
            Request::new("GET", "/ztp/config/startup").header("ONIE-SERIAL-NUMBER", "SERIAL-M");
        fx.server.respond(&request, from.parse().unwrap(), 0).status
    };
    assert_eq!(ask(&fx, "10.0.0.7:1000"), 200);
    let event = fx.last();
    assert_eq!(text(column(&event, "client_mac")), "48:65:ee:11:da:85");
    assert_eq!(event.hostname, "dev-7");
    assert_eq!(ask(&fx, "10.0.0.8:1000"), 403);
    let event = fx.last();
    assert_eq!(text(column(&event, "log_event")), "ZTP0206E");
    assert!(text(column(&event, "message")).contains("02:00:00:00:00:08"));
    assert_eq!(ask(&fx, "10.0.0.9:1000"), 403);
    assert_eq!(ask(&fx, "[::ffff:10.0.0.7]:1000"), 200);
}

#[test]
fn every_request_is_a_row_with_its_headers() {
    let mut fx = fixture();
    let request = Request::new("GET", "/ztp/config/ctrld?x=1")
        .header("ONIE-SERIAL-NUMBER", "SERIAL-A")
        .header("CONTAINER-NAME", "rtbrick")
        .header("ELEMENT-NAME", "leaf01")
        .header("HOST-NAME", "onl-leaf01")
        .header("ONIE-ARCH", "x86_64")
        .header("X-Other", "y")
        .header("Range", "bytes=0-3");
    let response = fx.server.respond(&request, client(), 42);
    assert_eq!(response.status, 206);
    let event = fx.last();
    assert_eq!(event.hostname, "onl-leaf01");
    assert_eq!(event.row.time, 42);
    assert_eq!(text(column(&event, "client_ip")), "10.0.0.7");
    assert_eq!(text(column(&event, "method")), "GET");
    assert_eq!(text(column(&event, "path")), "/ztp/config/ctrld?x=1");
    assert_eq!(column(&event, "status"), &Value::U32(206));
    assert_eq!(column(&event, "bytes"), &Value::U64(4));
    assert_eq!(text(column(&event, "range")), "bytes=0-3");
    assert_eq!(text(column(&event, "container_name")), "rtbrick");
    assert_eq!(text(column(&event, "element_name")), "leaf01");
    assert_eq!(text(column(&event, "host_name")), "onl-leaf01");
    assert_eq!(text(column(&event, "arch")), "x86_64");
    assert_eq!(column(&event, "headers"), &Value::Null);
    assert_eq!(text(column(&event, "route")), "config");
    let second = {
        fx.get("/nothing", None);
        fx.last()
    };
    assert_ne!(column(&second, "request_id"), column(&event, "request_id"));
    assert_eq!(text(column(&second, "route")), "none");
}

#[test]
fn a_config_db_in_the_seeds_format_is_served_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    std::fs::write(
        dir.path().join("config.db"),
        r#"{
    "591654XK1902037": {               # serial number
        "ctrld": "ctrld.json",         # ctrld configuration file
        "startup": "A_startup.json", # switch startup config file
        "image": "http://pkg.rtbrick.net/_/images/latest/rtbrick-onl-installer"
    }
}
"#,
    )
    .unwrap();
    let watched = Watched::open(ZtpDir::new(dir.path())).unwrap();
    let (recorder, _events) = Recorder::discard();
    let server = HttpServer::new(watched, recorder, Arc::new(NoLeases));
    let ask = |path: &str| {
        let request = Request::new("GET", path).header("ONIE-SERIAL-NUMBER", "591654XK1902037");
        server.respond(&request, client(), 0)
    };
    assert_eq!(body(&ask("/ztp/config/ctrld")), br#"{"ctrld": "A"}"#);
    assert_eq!(ask("/ztp/config/ctrldrbac").status, 404);
    let image = ask("/ztp/image");
    assert_eq!(
        (image.status, image.get("location")),
        (
            301,
            Some("http://pkg.rtbrick.net/_/images/latest/rtbrick-onl-installer")
        )
    );
}

proptest::proptest! {
    #[test]
    fn nothing_a_client_sends_panics(
        wire in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        path in "(/[a-z.%0-9]{0,12}){0,4}",
        serial in "[ -~]{0,20}",
        range in "bytes=[-0-9,]{0,12}",
    ) {
        let _ = super::request::parse_head(&wire, 64);
        let mut framed = b"GET ".to_vec();
        framed.extend_from_slice(&wire);
        let _ = super::request::parse_head(&framed, 64);
        let fx = fixture();
        for method in ["GET", "HEAD", "POST", "BREW"] {
            let request = Request::new(method, path.clone())
                .header("ONIE-SERIAL-NUMBER", serial.clone())
                .header("Range", range.clone())
                .header("If-None-Match", serial.clone());
            let response = fx.server.respond(&request, client(), 0);
            proptest::prop_assert!(response.status >= 200);
        }
    }
}
