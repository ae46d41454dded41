//! The ZTP clients' wire formats against vectors built from the layouts, and the reference
//! fleet replayed against a small server that answers from the directory `dir` writes.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::task::{Context, Poll, Waker};

use serde_json::Value;

use super::dhcp::{self, Reply};
use super::http::{self, ConfigKind};
use super::*;
use crate::REFERENCE_NOW;
use crate::fabric::{HOUR, MINUTE};

/// Polls a future whose transport answers at once.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the test transport answers at once"),
    }
}

fn fleet() -> Fleet {
    Fleet::reference(REFERENCE_NOW)
}

fn tlv(code: u8, value: &[u8]) -> Vec<u8> {
    let mut bytes = vec![code, value.len() as u8];
    bytes.extend_from_slice(value);
    bytes
}

/// The fixed BOOTREQUEST header of RFC 2131, figure 1, and the magic cookie.
fn header(xid: u32, ciaddr: [u8; 4], mac: [u8; 6]) -> Vec<u8> {
    let mut bytes = vec![1, 1, 6, 0];
    bytes.extend(xid.to_be_bytes());
    bytes.extend([0, 0, 0, 0]); // secs, flags
    bytes.extend(ciaddr);
    bytes.extend([0; 12]); // yiaddr, siaddr, giaddr
    bytes.extend(mac);
    bytes.extend([0; 10 + 64 + 128]); // chaddr padding, sname, file
    bytes.extend([0x63, 0x82, 0x53, 0x63]);
    bytes
}

#[test]
fn onie_discover_is_byte_exact() {
    let fleet = fleet();
    let leaf05 = fleet.device("leaf05").expect("leaf05");
    let mut expected = header(0x0102_0304, [0; 4], [0x48, 0x65, 0xee, 0x1a, 0x00, 0x05]);
    expected.extend([53, 1, 1]);
    expected.extend(tlv(61, b"\x00591654XK1902105"));
    expected.extend(tlv(60, b"onie_vendor:x86_64-accton_as7726_32x-r0"));
    expected.extend(tlv(77, b"onie_dhcp_user_class"));
    let mut vendor = tlv(3, b"accton_as7726_32x");
    vendor.extend(tlv(4, b"x86_64"));
    vendor.extend(tlv(5, b"0"));
    let mut vivso = vec![0x00, 0x00, 0xa6, 0x7f, vendor.len() as u8];
    vivso.extend(vendor);
    expected.extend(tlv(125, &vivso));
    expected.extend(tlv(
        55,
        &[1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 150],
    ));
    expected.push(255);
    assert_eq!(dhcp::onie_discover(leaf05, 0x0102_0304).encode(), expected);
}

#[test]
fn ctrld_inform_sends_the_serial_and_asks_for_54_and_210() {
    let fleet = fleet();
    let leaf08 = fleet.device("leaf08").expect("leaf08");
    let mut expected = header(7, [192, 168, 0, 18], leaf08.mac);
    expected.extend([53, 1, 8]);
    expected.extend(tlv(61, b"591654XK1902108"));
    expected.extend(tlv(55, &[54, 210]));
    expected.push(255);
    let inform = dhcp::ctrld_inform(leaf08, 7, Ipv4Addr::new(192, 168, 0, 18));
    assert_eq!(inform.encode(), expected);
}

/// A BOOTREPLY of `kind` with `options`, as a server would send it.
fn reply(kind: u8, xid: u32, yiaddr: [u8; 4], options: &[(u8, &[u8])]) -> Vec<u8> {
    let mut bytes = header(xid, [0; 4], [0x48, 0x65, 0xee, 0x1a, 0x00, 0x05]);
    bytes[0] = 2;
    bytes[16..20].copy_from_slice(&yiaddr);
    bytes.extend([53, 1, kind]);
    for (code, value) in options {
        bytes.extend(tlv(*code, value));
    }
    bytes.push(255);
    bytes
}

#[test]
fn replies_are_read_back_with_onie_and_ctrld_options() {
    let mut sub = tlv(1, b"http://192.168.0.254/images/x");
    sub.insert(0, sub.len() as u8);
    let mut vivso = 42623u32.to_be_bytes().to_vec();
    vivso.extend(sub);
    let bytes = reply(
        5,
        9,
        [192, 168, 0, 15],
        &[
            (54, &[192, 168, 0, 254][..]),
            (51, &86_400u32.to_be_bytes()[..]),
            (114, &b"http://192.168.0.254/ztp/image"[..]),
            (210, &b"http://192.168.0.254"[..]),
            (72, &[192, 168, 0, 254][..]),
            (125, &vivso[..]),
        ],
    );
    let ack = Reply::parse(&bytes).expect("a reply");
    assert_eq!((ack.kind, ack.xid), (dhcp::ACK, 9));
    assert_eq!(ack.yiaddr, Ipv4Addr::new(192, 168, 0, 15));
    assert_eq!(ack.server_id(), Some(Ipv4Addr::new(192, 168, 0, 254)));
    assert_eq!(ack.renewal_time(), Some(43_200));
    assert_eq!(
        ack.default_url().as_deref(),
        Some("http://192.168.0.254/ztp/image")
    );
    assert_eq!(ack.path_prefix().as_deref(), Some("http://192.168.0.254"));
    assert_eq!(ack.www_servers(), vec![Ipv4Addr::new(192, 168, 0, 254)]);
    assert_eq!(
        ack.vivso_installer().as_deref(),
        Some("http://192.168.0.254/images/x")
    );
    assert!(Reply::parse(&bytes[..200]).is_none(), "truncated");
    let mut request = bytes.clone();
    request[0] = 1;
    assert!(Reply::parse(&request).is_none(), "a request is no reply");
}

#[test]
fn the_waterfall_asks_the_most_specific_name_first() {
    let fleet = fleet();
    let leaf08 = fleet.device("leaf08").expect("leaf08");
    let server = Ipv4Addr::new(192, 168, 0, 254);
    let urls = http::waterfall(leaf08, &[], &[server, Ipv4Addr::UNSPECIFIED, server]);
    let names: Vec<&str> = urls
        .iter()
        .map(|u| &u["http://192.168.0.254/".len()..])
        .collect();
    assert_eq!(
        names,
        [
            "onie-installer-x86_64-accton_as5916_54xks-r0",
            "onie-installer-x86_64-accton_as5916_54xks-r0.bin",
            "onie-installer-x86_64-accton_as5916_54xks",
            "onie-installer-x86_64-accton_as5916_54xks.bin",
            "onie-installer-accton_as5916_54xks",
            "onie-installer-accton_as5916_54xks.bin",
            "onie-installer-x86_64-bcm",
            "onie-installer-x86_64-bcm.bin",
            "onie-installer-x86_64",
            "onie-installer-x86_64.bin",
            "onie-installer",
            "onie-installer.bin",
        ]
    );
    let request = http::onie_request(leaf08, &urls[0]);
    assert_eq!(
        request.path,
        "/onie-installer-x86_64-accton_as5916_54xks-r0"
    );
    assert_eq!(request.header("host"), Some("192.168.0.254"));
    assert_eq!(
        request.header("ONIE-SERIAL-NUMBER"),
        Some("591654XK1902108")
    );
    assert_eq!(request.header("ONIE-ETH-ADDR"), Some("48:65:ee:1a:00:08"));
    assert_eq!(request.header("ONIE-MACHINE"), Some("accton_as5916_54xks"));
    assert_eq!(request.header("ONIE-OPERATION"), Some("os-install"));
}

#[test]
fn ctrld_logs_the_seeds_business_event_for_each_fetch() {
    let fleet = fleet();
    let leaf05 = fleet.device("leaf05").expect("leaf05");
    let served = HttpReply {
        status: 200,
        location: None,
        body: b"{}".to_vec(),
    };
    let at = 1_588_382_356_000_511;
    let event: Value =
        serde_json::from_slice(&http::gelf_event(leaf05, ConfigKind::Ctrld, &served, at))
            .expect("json");
    assert_eq!(event["version"], "1.1");
    assert_eq!(event["host"], "leaf05");
    assert_eq!(event["level"], 6);
    assert_eq!(event["_log_event"], "ZTP0011I");
    assert_eq!(event["short_message"], "ztp ctrld config set");
    assert_eq!(event["_config_name"], "ctrld");
    assert_eq!(event["_serial_number"], "591654XK1902105");
    // sha1("{}")
    assert_eq!(
        event["_config_sha1"],
        "bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f"
    );
    assert!((event["timestamp"].as_f64().expect("a time") - 1_588_382_356.000_511).abs() < 1e-5);
    let missing = HttpReply {
        status: 404,
        ..HttpReply::default()
    };
    let event: Value =
        serde_json::from_slice(&http::gelf_event(leaf05, ConfigKind::Startup, &missing, at))
            .expect("json");
    assert_eq!(event["_log_event"], "ZTP0022W");
    assert_eq!(event["level"], 4);
    assert_eq!(event["short_message"], "ztp startup config not provided");
    assert!(event.get("_config_sha1").is_none());
    let rbac = http::gelf_event(leaf05, ConfigKind::CtrldRbac, &HttpReply::default(), at);
    let event: Value = serde_json::from_slice(&rbac).expect("json");
    assert_eq!(event["_log_event"], "ZTP0043E");
    assert_eq!(event["short_message"], "ztp ctrld rbac config not set");
}

mod server;

use server::{Call, FakeServer};

#[test]
fn the_directory_names_only_files_it_has() {
    let fleet = fleet();
    let server = FakeServer::new(&fleet);
    for (serial, entry) in server.db() {
        for (key, file) in entry.as_object().expect("an entry") {
            let file = file.as_str().expect("a name");
            match key.as_str() {
                "image" => {
                    let name = file
                        .strip_prefix("http://192.168.0.254/images/")
                        .expect("local");
                    assert!(server.file(&format!("images/{name}")).is_some(), "{file}");
                }
                _ => assert!(
                    server.file(&format!("configs/{file}")).is_some(),
                    "{serial} {file}"
                ),
            }
        }
    }
    let leaf06 = &server.db()["591654XK1902106"];
    assert!(leaf06.get("startup").is_none());
    assert!(
        server.db()["591654XK1902108"].get("image").is_none(),
        "leaf08 walks the waterfall"
    );
    let conf = dir::dhcpd_conf(&fleet);
    assert!(
        conf.contains("subnet 192.168.0.0 netmask 255.255.255.0 {"),
        "{conf}"
    );
    assert!(
        conf.contains("    hardware ethernet 48:65:ee:1a:00:05;\n    fixed-address 192.168.0.15;")
    );
    assert!(
        conf.contains("    serial-number \"591654XK1902108\";\n    fixed-address 192.168.0.18;")
    );
    assert!(conf.contains("option loader-pathprefix code 210 = text;"));
    assert_eq!(conf.matches("option default-url").count(), 3, "{conf}");
}

#[test]
fn the_reference_fleet_boots_as_its_fates_say() {
    let fleet = fleet();
    let server = FakeServer::new(&fleet);
    let replay = block_on(replay(&fleet, &server, REFERENCE_NOW));
    let calls = server.calls.lock().expect("calls");
    let of = |name: &str| -> Vec<&Call> { calls.iter().filter(|c| c.device == name).collect() };

    let leaf07 = of("leaf07");
    assert_eq!(leaf07.len(), 2, "DISCOVER and REQUEST only: {leaf07:?}");
    assert_eq!(leaf07[0].at, REFERENCE_NOW - (21 * HOUR + 30 * MINUTE));

    let leaf05 = of("leaf05");
    let http: Vec<(&str, u16)> = leaf05
        .iter()
        .filter_map(|c| c.http.as_ref().map(|(p, s)| (p.as_str(), *s)))
        .collect();
    assert_eq!(
        http,
        [
            ("/ztp/image", 301),
            (
                "/images/rtbrick-onl-installer-accton_as7726_32x-20.4.0",
                200
            ),
            ("/ztp/config/ctrld", 200),
            ("/ztp/config/element", 200),
            ("/ztp/config/ctrldrbac", 200),
            ("/ztp/config/startup", 200),
        ]
    );
    let codes =
        |calls: &[&Call]| -> Vec<String> { calls.iter().filter_map(|c| c.gelf.clone()).collect() };
    assert_eq!(
        codes(&leaf05),
        ["ZTP0011I", "ZTP0031I", "ZTP0041I", "ZTP0021I"]
    );
    let leaf06 = of("leaf06");
    assert_eq!(
        codes(&leaf06),
        ["ZTP0011I", "ZTP0031I", "ZTP0041I", "ZTP0022W"]
    );
    assert!(
        leaf06
            .iter()
            .any(|c| c.http == Some(("/ztp/config/startup".into(), 404)))
    );

    let leaf08 = of("leaf08");
    let installs: Vec<(&str, u16)> = leaf08
        .iter()
        .filter_map(|c| c.http.as_ref().map(|(p, s)| (p.as_str(), *s)))
        .take(3)
        .collect();
    assert_eq!(
        installs,
        [
            ("/onie-installer-x86_64-accton_as5916_54xks-r0", 404),
            ("/onie-installer-x86_64-accton_as5916_54xks-r0.bin", 404),
            ("/onie-installer-x86_64-accton_as5916_54xks", 200),
        ]
    );
    assert_eq!(
        codes(&leaf08),
        ["ZTP0011I", "ZTP0031I", "ZTP0041I", "ZTP0021I"]
    );

    // The live switches renew at T1, half their day's lease; the dead one never does.
    for name in ["leaf05", "leaf06", "leaf08"] {
        let all = of(name);
        let renewals: Vec<&&Call> = all.iter().filter(|c| c.renewal).collect();
        assert_eq!(renewals.len(), 1, "{name}");
        assert!(
            renewals[0].at < REFERENCE_NOW - 9 * HOUR && renewals[0].at > REFERENCE_NOW - 11 * HOUR
        );
    }
    assert!(
        calls.windows(2).all(|w| w[0].at <= w[1].at),
        "in time order"
    );
    assert_eq!(replay.gelf_events, 12);
    assert_eq!(replay.dhcp_sent, replay.dhcp_answered);
    let _: SocketAddr = calls[0].from;
}

#[test]
fn a_replay_stops_at_its_end() {
    let fleet = fleet();
    let server = FakeServer::new(&fleet);
    let until = REFERENCE_NOW - (21 * HOUR + 40 * MINUTE);
    block_on(replay(&fleet, &server, until));
    let calls = server.calls.lock().expect("calls");
    let devices: BTreeMap<&str, usize> = calls.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.device.as_str()).or_default() += 1;
        m
    });
    assert_eq!(
        devices.keys().copied().collect::<Vec<_>>(),
        ["leaf05", "leaf06"]
    );
    assert!(calls.iter().all(|c| c.at < until + MINUTE));
}
