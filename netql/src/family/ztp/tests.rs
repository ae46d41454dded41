//! The ZTP families and `check ztp` over a morning of provisioning built by hand: leaf01
//! walks ONIE's waterfall to its image and fetches its configurations, leaf02's startup
//! configuration is not provided, leaf03 takes an address and asks for nothing, leaf04 only
//! renews, leaf05 has just booted, leaf06 asks with other devices' serials, spine01 was
//! provisioned before the last hour, and the pool fills up.

use sonde_schema::families::ztp::{DHCP, EVENTS, HTTP, LEASES};
use sonde_schema::row::{Row, time};

use crate::testing::MemCatalog;

/// 2026-11-20T12:00:00Z.
const NOW: i64 = 1_795_176_000_000_000;
const MINUTE: i64 = 60_000_000;

const S1: &str = "591654XK1902031";
const S2: &str = "591654XK1902032";
const S6: &str = "591654XK1902036";
const S9: &str = "591654XK1902039";

fn mac(n: u8) -> String {
    format!("48:65:EE:11:DA:{n:02X}")
}

fn ip(n: u8) -> String {
    format!("10.0.0.{}", 200 + u32::from(n))
}

fn ago(minutes: i64) -> i64 {
    NOW - minutes * MINUTE
}

/// One DHCP message of device `n` and its answer; `used` of the pool's 50 addresses after it.
fn dhcp(at: i64, n: u8, message: &str, reply: &str, serial: Option<&str>, used: u32) -> Row {
    let code = match reply {
        "OFFER" => "ZTP0101I",
        "ACK" if message == "INFORM" => "ZTP0106I",
        "ACK" => "ZTP0102I",
        _ => "ZTP0103W",
    };
    Row::new(&DHCP, at)
        .set("client_mac", mac(n))
        .set("xid", u32::from(n))
        .set("message_type", message)
        .set("reply", reply)
        .set("serial", serial)
        .set("vendor_class", "onie_vendor:x86_64-accton_as7726_32x-r0")
        .set("client_ip", ip(n))
        .set("subnet", "10.0.0.0/24")
        .set("lease_time", 7200u32)
        .set("pool_size", 50u32)
        .set("pool_used", used)
        .set("level", 6u32)
        .set("log_event", code)
}

/// A boot: DISCOVER/OFFER and REQUEST/ACK a second apart.
fn boot(at: i64, n: u8, serial: Option<&str>, used: u32) -> [Row; 2] {
    [
        dhcp(at, n, "DISCOVER", "OFFER", serial, used),
        dhcp(at + 1_000_000, n, "REQUEST", "ACK", serial, used),
    ]
}

/// One HTTP request of device `n` asking with `serial`.
fn http(at: i64, n: u8, serial: &str, path: &str, status: u32, code: &str) -> Row {
    let route = if path.starts_with("/ztp/config/") {
        Some("config")
    } else {
        None
    };
    let config = path.strip_prefix("/ztp/config/");
    Row::new(&HTTP, at)
        .set("client_ip", ip(n))
        .set("request_id", u64::try_from(at / MINUTE).unwrap_or(0))
        .set("client_mac", mac(n))
        .set("method", "GET")
        .set("path", path)
        .set("status", status)
        .set("bytes", if status == 200 { 1234u64 } else { 0 })
        .set("duration_us", 800u64)
        .set("serial", serial)
        .set("known_serial", true)
        .set("route", route)
        .set("config_name", config)
        .set("level", if status < 400 { 6u32 } else { 4 })
        .set("log_event", code)
}

fn lease(at: i64, n: u8, serial: Option<&str>, device: &str, state: &str) -> Row {
    Row::new(&LEASES, at)
        .set("ip", ip(n))
        .set("client_mac", mac(n))
        .set("serial", serial)
        .set("device", device)
        .set("state", state)
        .set("starts", time(at))
        .set("ends", time(at + 120 * MINUTE))
        .set("subnet", "10.0.0.0/24")
}

/// A row that says its object went away.
fn gone(mut row: Row) -> Row {
    row.active = false;
    row
}

fn provisioning() -> MemCatalog {
    let mut c = MemCatalog::default();
    // spine01, an hour and a half ago: address and image.
    c.add(&DHCP, "spine01", &boot(ago(90), 9, Some(S9), 30));
    let image = http(ago(85), 9, S9, "/ztp/image", 301, "ZTP0202I");
    c.add(&HTTP, "spine01", &[image]);
    // leaf01: ONIE without a serial, the waterfall's misses, its image, then CTRLD's INFORM.
    c.add(&DHCP, "leaf01", &boot(ago(40), 1, None, 41));
    c.add(
        &DHCP,
        "leaf01",
        &[dhcp(ago(30), 1, "INFORM", "ACK", Some(S1), 43)],
    );
    let waterfall = "/onie-installer-x86_64-accton_as7726_32x-r0";
    let mut leaf01 = vec![
        http(ago(39), 1, S1, waterfall, 404, "ZTP0208W"),
        http(ago(39) + 1, 1, S1, "/onie-installer", 200, "ZTP0209I").set("route", "onie"),
    ];
    leaf01.extend(["ctrld", "startup"].map(|name| {
        http(
            ago(29),
            1,
            S1,
            &format!("/ztp/config/{name}"),
            200,
            "ZTP0011I",
        )
    }));
    c.add(&HTTP, "leaf01", &leaf01);
    // leaf02: its image, then no startup configuration for it.
    c.add(&DHCP, "leaf02", &boot(ago(38), 2, Some(S2), 42));
    let leaf02 = [
        http(ago(37), 2, S2, "/images/rtbrick.bin", 200, "ZTP0201I").set("route", "images"),
        http(ago(20), 2, S2, "/ztp/config/ctrld", 200, "ZTP0011I"),
        http(ago(20) + 1, 2, S2, "/ztp/config/startup", 404, "ZTP0022W"),
    ];
    c.add(&HTTP, "leaf02", &leaf02);
    // leaf03: an address, then nothing.
    c.add(&DHCP, "leaf03", &boot(ago(30), 3, None, 44));
    // leaf04: a renewal only.
    c.add(
        &DHCP,
        "leaf04",
        &[dhcp(ago(20), 4, "REQUEST", "ACK", None, 44)],
    );
    // leaf06: asks with leaf02's serial (served) and leaf01's (refused).
    c.add(&DHCP, "leaf06", &boot(ago(25), 6, Some(S6), 45));
    let leaf06 = [
        http(ago(24), 6, S2, "/ztp/config/startup", 200, "ZTP0021I"),
        http(ago(24) + 1, 6, S1, "/ztp/config/ctrld", 403, "ZTP0206E"),
    ];
    c.add(&HTTP, "leaf06", &leaf06);
    // leaf05: booted two minutes ago, no serial, no name.
    c.add(&DHCP, &mac(5), &boot(ago(2), 5, None, 46));
    let leases = [
        lease(ago(90), 9, Some(S9), "spine01", "bound").set("ends", time(ago(30))),
        lease(ago(40), 1, Some(S1), "leaf01", "bound"),
        lease(ago(38), 2, Some(S2), "leaf02", "bound"),
        lease(ago(30), 3, None, "leaf03", "bound"),
        lease(ago(25), 6, Some(S6), "leaf06", "bound"),
        gone(lease(ago(10), 6, Some(S6), "leaf06", "released")),
    ];
    c.add(&LEASES, "10.0.0.1", &leases);
    let gelf = Row::new(&EVENTS, ago(19))
        .set("source", ip(2))
        .set("log_event", "ZTP0022W")
        .set("level", 4u32)
        .set("short_message", "ztp startup config not provided")
        .set("serial", S2)
        .set("config_name", "startup");
    c.add(&EVENTS, "leaf02", &[gelf]);
    c
}

/// The answer's lines, trailing spaces trimmed.
async fn lines(catalog: &MemCatalog, text: &str) -> Vec<String> {
    catalog
        .answer(text, NOW)
        .await
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect()
}

/// The words of each row after the header and its rule; none for no match.
async fn rows(catalog: &MemCatalog, text: &str) -> Vec<Vec<String>> {
    let lines = lines(catalog, text).await;
    if lines.first().is_some_and(|l| l.starts_with("No matching")) {
        return Vec::new();
    }
    assert!(lines.len() >= 3, "{text}: {lines:?}");
    lines[3..]
        .iter()
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn dhcp_shows_the_windows_exchanges_by_device() {
    let c = provisioning();
    let all = lines(&c, "show ztp dhcp").await;
    assert_eq!(all[0], "Matching ztp dhcp records:");
    assert!(
        all[1].starts_with("Hostname           Type      Reply  MAC"),
        "{}",
        all[1]
    );
    // spine01's boot was before the hour.
    assert_eq!(all.len() - 3, 12, "{all:#?}");
    let leaf01 = rows(&c, "leaf01 show ztp dhcp").await;
    assert_eq!(
        leaf01[0],
        [
            "leaf01",
            "DISCOVER",
            "OFFER",
            "48:65:ee:11:da:01",
            "10.0.0.201",
            "10.0.0.0/24",
            "41/50",
            "7200",
            "ZTP0101I",
            "40m",
            "ago"
        ]
    );
    assert_eq!(rows(&c, "show ztp dhcp type DISCOVER").await.len(), 5);
    assert_eq!(
        rows(&c, "show ztp dhcp mac 48:65:ee:11:da:03").await.len(),
        2
    );
    assert_eq!(rows(&c, &format!("show ztp dhcp {S2}")).await.len(), 2);
    assert_eq!(
        rows(&c, "show ztp dhcp ip 10.0.0.206 reply ACK")
            .await
            .len(),
        1
    );
    assert_eq!(rows(&c, "show ztp dhcp pool_used >= 45").await.len(), 4);
    assert_eq!(rows(&c, "show ztp dhcp between 95m and 80m").await.len(), 2);
    assert_eq!(rows(&c, "show ztp dhcp around 1h").await.len(), 2);
}

#[tokio::test]
async fn http_shows_requests_with_status_and_code() {
    let c = provisioning();
    let missing = rows(&c, "show ztp http status 404").await;
    assert_eq!(missing.len(), 2);
    assert_eq!(
        missing[1][..7],
        [
            "leaf02",
            "10.0.0.202",
            "48:65:ee:11:da:02",
            S2,
            "GET",
            "/ztp/config/startup",
            "404"
        ]
    );
    assert_eq!(rows(&c, "show ztp http code ZTP0022W").await.len(), 1);
    assert_eq!(rows(&c, "show ztp http route config").await.len(), 6);
    // A row without a route is read off its path.
    assert_eq!(
        rows(&c, "show ztp http route image around 80m").await.len(),
        1
    );
    assert_eq!(
        rows(&c, "leaf06 show ztp http status >= 400").await.len(),
        1
    );
}

#[tokio::test]
async fn events_show_the_devices_business_events() {
    let c = provisioning();
    let events = rows(&c, "show ztp events").await;
    assert_eq!(
        events,
        [[
            "leaf02",
            "10.0.0.202",
            "ZTP0022W",
            "Warning",
            S2,
            "startup",
            "ztp",
            "startup",
            "config",
            "not",
            "provided",
            "19m",
            "ago"
        ]]
    );
    assert!(rows(&c, "show ztp events level < 4").await.is_empty());
}

#[tokio::test]
async fn leases_are_the_table_at_the_time_asked() {
    let c = provisioning();
    let now = rows(&c, "show ztp leases").await;
    let held: Vec<&str> = now.iter().map(|r| r[0].as_str()).collect();
    // leaf06 released its address ten minutes ago; spine01's ended half an hour ago.
    assert_eq!(
        held,
        ["10.0.0.201", "10.0.0.202", "10.0.0.203", "10.0.0.209"]
    );
    assert_eq!(now[3][3..5], ["spine01", "expired"]);
    assert_eq!(now[0][3..5], ["leaf01", "bound"]);
    let before = rows(&c, "show ztp leases around 15m").await;
    assert_eq!(before.len(), 5);
    assert_eq!(rows(&c, "leaf0* show ztp leases").await.len(), 3);
    assert_eq!(rows(&c, &format!("show ztp leases {S2}")).await.len(), 1);
    assert_eq!(rows(&c, "show ztp leases state expired").await.len(), 1);
}

#[tokio::test]
async fn devices_have_one_row_each_with_a_status() {
    let c = provisioning();
    let devices = rows(&c, "show ztp devices").await;
    let status: Vec<(String, String)> = devices
        .iter()
        .map(|r| (r[0].clone(), r[r.len() - 1].clone()))
        .collect();
    let expected = [
        ("leaf01", "provisioned"),
        ("leaf02", "missing"),
        ("leaf03", "only"),
        ("leaf06", "refused"),
        ("leaf04", "renewing"),
        ("48:65:ee:11:da:05", "only"),
    ];
    assert_eq!(
        status,
        expected.map(|(name, status)| (name.to_string(), status.to_string()))
    );
    let leaf01 = lines(&c, "leaf01 show ztp devices").await;
    assert!(leaf01[3].contains(S1), "{}", leaf01[3]);
    assert!(leaf01[3].contains("2 (ctrld, startup)"), "{}", leaf01[3]);
    assert!(leaf01[3].contains(" yes "), "{}", leaf01[3]);
    assert_eq!(rows(&c, "show ztp devices status refused").await.len(), 1);
    assert_eq!(rows(&c, "show ztp devices configs > 0").await.len(), 3);
    assert_eq!(
        rows(&c, "show ztp devices 48:65:ee:11:da:05").await.len(),
        1
    );
    let earlier = rows(&c, "show ztp devices around 1h").await;
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0][0], "spine01");
    assert_eq!(earlier[0][earlier[0].len() - 1], "provisioned");
}

#[tokio::test]
async fn check_ztp_fails_each_fault_with_its_reason() {
    let c = provisioning();
    let lines = lines(&c, "check ztp").await;
    assert_eq!(
        lines[0], "Total Nodes: 6, Failed Nodes: 4, Total Objects: 17, Failed Objects: 5",
        "{lines:#?}"
    );
    let failures: Vec<&str> = lines[3..].iter().map(String::as_str).collect();
    assert_eq!(
        failures,
        [
            "dhcp    pool 10.0.0.0/24                               Pool 10.0.0.0/24 92% used (46 of 50)                                                         1m ago",
            "leaf02  startup config                                 404 for known serial 591654XK1902032: startup config not provided                            19m ago",
            "leaf03  address 10.0.0.203                             Got address 10.0.0.203 but fetched no image or configuration                                 29m ago",
            "leaf06  serial 591654XK1902031 from 48:65:ee:11:da:06  Config for serial 591654XK1902031 refused to 48:65:ee:11:da:06, leased to 48:65:ee:11:da:01  23m ago",
            "leaf06  serial 591654XK1902032 from 48:65:ee:11:da:06  Config for serial 591654XK1902032 fetched by 48:65:ee:11:da:06, leased to 48:65:ee:11:da:02  24m ago",
        ]
    );
    let json = c.answer("check ztp json", NOW).await;
    assert!(json.contains("\"failedObjectCount\": 5"), "{json}");
    assert!(
        json.contains("\"reason\": \"Got address 10.0.0.203"),
        "{json}"
    );
    let leaf = c.answer("leaf03 check ztp", NOW).await;
    assert!(
        leaf.starts_with("Total Nodes: 1, Failed Nodes: 1"),
        "{leaf}"
    );
}

#[tokio::test]
async fn check_ztp_passes_before_the_faults() {
    let c = provisioning();
    let lines = lines(&c, "check ztp around 1h").await;
    assert_eq!(
        lines,
        ["Total Nodes: 2, Failed Nodes: 0, Total Objects: 4, Failed Objects: 0"]
    );
    let quiet = c.answer("check ztp around 1d", NOW).await;
    assert_eq!(
        quiet.trim(),
        "Total Nodes: 0, Failed Nodes: 0, Total Objects: 0, Failed Objects: 0"
    );
}

#[tokio::test]
async fn unknown_fields_name_the_views_fields() {
    let c = provisioning();
    let error = c.answer("show ztp devices colour red", NOW).await;
    assert!(
        error.contains("no field `colour` here; the fields are hostname"),
        "{error}"
    );
    let error = c.answer("show ztp", NOW).await;
    assert!(error.contains("`dhcp`"), "{error}");
}
