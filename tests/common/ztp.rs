//! A day of zero-touch provisioning on the management LAN 10.0.0.0/24 (a pool of 50 addresses,
//! 40 held by other devices), as the ZTP server writes it into `ztp_dhcp`, `ztp_http`,
//! `ztp_leases` and `ztp_events`, at fixed offsets from the golden files' `NOW`:
//!
//! - leaf01 boots ONIE 20h ago, installs the image `default-url` points at, boots its NOS 15
//!   minutes later and fetches its four configurations; it renews its lease every hour;
//! - leaf02 does the same 6h20m ago, finding its installer at the fifth step of ONIE's waterfall;
//! - leaf03 (the seed's serial 591654XK1902037) boots 40 minutes ago and is told its startup
//!   configuration is not provided (404, ZTP0022W), which its CTRLD reports too;
//! - leaf04 boots 35 minutes ago and fetches leaf03's startup configuration with leaf03's serial;
//! - spine01 takes an address 25 minutes ago and asks for nothing;
//! - an unknown device (no reservation, no serial) takes an address 2 minutes ago, filling the
//!   pool to 46 of 50.
//!
//! ONIE's DHCP exchanges carry no serial; the NOS's (CTRLD's option 61) and the leases do.

use arrow::array::RecordBatch;
use sonde_schema::TableDef;
use sonde_schema::families::ztp::{DHCP, EVENTS, HTTP, LEASES};
use sonde_schema::row::{Row, time, to_batch_from_hosts};

use crate::fabric::NOW;

const MINUTE: i64 = 60_000_000;
const LEASE_SECONDS: u32 = 7200;
const RENEW_EVERY: i64 = 60 * MINUTE;
const SERVER: &str = "10.0.0.1";
const OTHER_LEASES: u32 = 40;

/// One provisioning device.
struct Device {
    name: &'static str,
    /// The DHCP frame's hostname: the reservation's host-name, else the MAC.
    dhcp_name: Option<&'static str>,
    serial: Option<&'static str>,
    mac: &'static str,
    ip: &'static str,
}

const LEAF01: Device = Device {
    name: "leaf01",
    dhcp_name: Some("leaf01"),
    serial: Some("591654XK1902031"),
    mac: "48:65:ee:11:da:81",
    ip: "10.0.0.201",
};
const LEAF02: Device = Device {
    name: "leaf02",
    dhcp_name: Some("leaf02"),
    serial: Some("591654XK1902032"),
    mac: "48:65:ee:11:da:82",
    ip: "10.0.0.202",
};
const LEAF03: Device = Device {
    name: "leaf03",
    dhcp_name: Some("leaf03"),
    serial: Some("591654XK1902037"),
    mac: "48:65:ee:11:da:85",
    ip: "10.0.0.203",
};
const LEAF04: Device = Device {
    name: "leaf04",
    dhcp_name: Some("leaf04"),
    serial: Some("591654XK1902038"),
    mac: "48:65:ee:11:da:86",
    ip: "10.0.0.204",
};
const SPINE01: Device = Device {
    name: "spine01",
    dhcp_name: Some("spine01"),
    serial: None,
    mac: "48:65:ee:11:da:87",
    ip: "10.0.0.205",
};
const STRANGER: Device = Device {
    name: "48:65:ee:11:da:88",
    dhcp_name: None,
    serial: None,
    mac: "48:65:ee:11:da:88",
    ip: "10.0.0.206",
};

const ONIE_VENDOR: &str = "onie_vendor:x86_64-accton_as7726_32x-r0";
const MACHINE: &str = "accton_as7726_32x";

fn ago(minutes: i64) -> i64 {
    NOW - minutes * MINUTE
}

/// Rows of the four tables, each with its frame hostname.
#[derive(Default)]
struct Tables {
    dhcp: Vec<(String, Row)>,
    http: Vec<(String, Row)>,
    leases: Vec<(String, Row)>,
    events: Vec<(String, Row)>,
    /// When each device first took its address, for the pool's use.
    acquired: Vec<i64>,
    requests: u64,
}

impl Tables {
    /// A DHCP message of `device` and its answer; `nos` when its NOS (CTRLD) sent it.
    fn dhcp(&mut self, at: i64, device: &Device, message: &str, reply: &str, nos: bool) {
        let (code, text) = match (message, reply) {
            ("DISCOVER", _) => ("ZTP0101I", "dhcp address offered"),
            ("INFORM", _) => ("ZTP0106I", "dhcp inform answered"),
            _ => ("ZTP0102I", "dhcp address acknowledged"),
        };
        let serial = if nos { device.serial } else { None };
        let mut row = Row::new(&DHCP, at)
            .set("client_mac", device.mac)
            .set(
                "xid",
                u32::try_from(at / 1_000_000 % 1_000_000).unwrap_or(0),
            )
            .set("message_type", message)
            .set("reply", reply)
            .set("serial", serial)
            .set("client_ip", device.ip)
            .set("subnet", "10.0.0.0/24")
            .set("host", device.dhcp_name)
            .set("pool_size", 50u32)
            .set("duration_us", 150u64)
            .set("level", 6u32)
            .set("log_event", code)
            .set("message", text);
        if nos {
            row.put("vendor_class", "rtbrick");
            if message == "INFORM" {
                row.put("path_prefix", "http://10.0.0.1/ztp/config/");
            }
        } else {
            row.put("vendor_class", ONIE_VENDOR);
            row.put("onie_machine", MACHINE);
            row.put("onie_arch", "x86_64");
            if device.dhcp_name.is_some() {
                row.put("default_url", "http://10.0.0.1/ztp/image");
            }
        }
        if message != "INFORM" {
            row.put("lease_time", LEASE_SECONDS);
        }
        let host = device.dhcp_name.unwrap_or(device.mac);
        self.dhcp.push((host.to_string(), row));
    }

    /// DISCOVER/OFFER then REQUEST/ACK, and the lease bound.
    fn boot(&mut self, at: i64, device: &Device, nos: bool) {
        if !nos {
            self.acquired.push(at);
        }
        self.dhcp(at, device, "DISCOVER", "OFFER", nos);
        self.dhcp(at + 2_000_000, device, "REQUEST", "ACK", nos);
        self.lease(at + 2_000_000, device);
    }

    /// The lease of `device` bound (or renewed) at `at`.
    fn lease(&mut self, at: i64, device: &Device) {
        let row = Row::new(&LEASES, at)
            .set("ip", device.ip)
            .set("client_mac", device.mac)
            .set("serial", device.serial)
            .set("device", device.dhcp_name)
            .set("state", "bound")
            .set("starts", time(at))
            .set("ends", time(at + i64::from(LEASE_SECONDS) * 1_000_000))
            .set("subnet", "10.0.0.0/24")
            .set("host", device.dhcp_name);
        self.leases.push((SERVER.to_string(), row));
    }

    /// Renewals every hour from `from` until now.
    fn renewals(&mut self, from: i64, device: &Device) {
        let mut at = from + RENEW_EVERY;
        while at < NOW {
            self.dhcp(at, device, "REQUEST", "ACK", true);
            self.lease(at, device);
            at += RENEW_EVERY;
        }
    }

    /// An HTTP request of `device` with `serial` in its headers.
    #[allow(clippy::too_many_arguments)]
    fn http(
        &mut self,
        at: i64,
        device: &Device,
        serial: Option<&str>,
        path: &str,
        status: u32,
        code: &str,
        bytes: u64,
    ) {
        self.requests += 1;
        let route = match path {
            p if p.starts_with("/ztp/config/") => "config",
            p if p.starts_with("/ztp/image") => "image",
            p if p.starts_with("/images/") => "images",
            _ => "onie",
        };
        let config = path.strip_prefix("/ztp/config/");
        let mut row = Row::new(&HTTP, at)
            .set("client_ip", device.ip)
            .set("request_id", self.requests)
            .set("client_mac", device.mac)
            .set("method", "GET")
            .set("path", path)
            .set("status", status)
            .set("bytes", bytes)
            .set("duration_us", 900 + bytes / 4096)
            .set("serial", serial)
            .set("known_serial", serial.is_some())
            .set("route", route)
            .set("level", if status < 400 { 6u32 } else { 4 })
            .set("log_event", code);
        if let Some(config) = config {
            row.put("config_name", config);
            row.put("container_name", "rtbrick");
            row.put("element_name", device.name);
            row.put("host_name", device.name);
            row.put("user_agent", "ctrld/20.5");
            if status == 200 {
                row.put("config_sha1", "f1e06ef1e53becde6f8baf2b2fafe7dc9c36f6f0");
                row.put("file", format!("configs/{}-{config}.json", device.name));
            }
        } else {
            row.put("base_mac", device.mac);
            row.put("vendor", "Accton");
            row.put("machine", MACHINE);
            row.put("arch", "x86_64");
            row.put("operation", "os-install");
            row.put("nos_version", "2021.11.0");
            row.put("user_agent", "Wget");
        }
        self.http.push((device.name.to_string(), row));
    }

    /// The four configurations of the seed, each answered `status` with the code of `codes`.
    fn configs(&mut self, at: i64, device: &Device, missing: Option<&str>) {
        let configs = [
            ("ctrld", "ZTP0011I", "ZTP0012W"),
            ("ctrldrbac", "ZTP0041I", "ZTP0042W"),
            ("startup", "ZTP0021I", "ZTP0022W"),
            ("element", "ZTP0031I", "ZTP0032W"),
        ];
        for (i, (config, set, not_provided)) in configs.into_iter().enumerate() {
            let at = at + i64::try_from(i).unwrap_or(0) * 1_000_000;
            let path = format!("/ztp/config/{config}");
            if missing == Some(config) {
                self.http(at, device, device.serial, &path, 404, not_provided, 0);
                self.event(at + 500_000, device, not_provided, config, false);
            } else {
                self.http(at, device, device.serial, &path, 200, set, 2048);
                self.event(at + 500_000, device, set, config, true);
            }
        }
    }

    /// CTRLD's business event for a configuration.
    fn event(&mut self, at: i64, device: &Device, code: &str, config: &str, set: bool) {
        let name = if config == "ctrldrbac" {
            "ctrld rbac"
        } else {
            config
        };
        let message = if set {
            format!("ztp {name} config set")
        } else {
            format!("ztp {name} config not provided")
        };
        let row = Row::new(&EVENTS, at)
            .set("source", device.ip)
            .set("log_event", code)
            .set("level", if set { 6u32 } else { 4 })
            .set("short_message", message)
            .set("daemon", "ctrld")
            .set("log_module", "ztp")
            .set("serial", device.serial)
            .set("element_name", device.name)
            .set("config_name", config);
        self.events.push((device.name.to_string(), row));
    }

    fn batch(table: &'static TableDef, rows: &[(String, Row)]) -> (&'static str, RecordBatch) {
        let hosts = rows.iter().map(|(host, _)| host.as_str());
        let rows: Vec<Row> = rows.iter().map(|(_, row)| row.clone()).collect();
        let batch = to_batch_from_hosts(table, hosts, &rows).expect("ZTP rows build a batch");
        (table.name, batch)
    }
}

/// A device installed through `default-url`, then configured by its NOS.
fn provisioned(t: &mut Tables, boot: i64, device: &Device) {
    t.boot(ago(boot), device, false);
    let image = "/ztp/image";
    t.http(
        ago(boot) + MINUTE,
        device,
        device.serial,
        image,
        200,
        "ZTP0201I",
        512 << 20,
    );
    t.boot(ago(boot - 15), device, true);
    t.dhcp(ago(boot - 15) + 5_000_000, device, "INFORM", "ACK", true);
    t.configs(ago(boot - 16), device, None);
    t.renewals(ago(boot - 15), device);
}

/// The day's rows, one batch per table.
pub fn ztp_batches() -> Vec<(&'static str, RecordBatch)> {
    let mut t = Tables::default();
    provisioned(&mut t, 20 * 60, &LEAF01);
    // leaf02 has no default-url: ONIE walks its waterfall to the fifth name.
    t.boot(ago(380), &LEAF02, false);
    let waterfall = [
        "/onie-installer-x86_64-accton_as7726_32x-r0",
        "/onie-installer-x86_64-accton_as7726_32x",
        "/onie-installer-accton_as7726_32x",
        "/onie-installer-x86_64-accton",
        "/onie-installer-x86_64",
    ];
    for (i, path) in waterfall.iter().enumerate() {
        let at = ago(379) + i64::try_from(i).unwrap_or(0) * 1_000_000;
        let found = i == waterfall.len() - 1;
        let (status, code, bytes) = if found {
            (200, "ZTP0201I", 512 << 20)
        } else {
            (404, "ZTP0203W", 0)
        };
        t.http(at, &LEAF02, LEAF02.serial, path, status, code, bytes);
    }
    t.boot(ago(370), &LEAF02, true);
    t.dhcp(ago(370) + 5_000_000, &LEAF02, "INFORM", "ACK", true);
    t.configs(ago(369), &LEAF02, None);
    t.renewals(ago(370), &LEAF02);
    // leaf03: its startup configuration is not provided.
    t.boot(ago(40), &LEAF03, false);
    let image = "/ztp/image";
    t.http(
        ago(39),
        &LEAF03,
        LEAF03.serial,
        image,
        200,
        "ZTP0201I",
        512 << 20,
    );
    t.boot(ago(30), &LEAF03, true);
    t.dhcp(ago(30) + 5_000_000, &LEAF03, "INFORM", "ACK", true);
    t.configs(ago(29), &LEAF03, Some("startup"));
    // leaf04: its own ctrld configuration, then leaf03's startup one.
    t.boot(ago(35), &LEAF04, false);
    t.http(
        ago(34),
        &LEAF04,
        LEAF04.serial,
        image,
        200,
        "ZTP0201I",
        512 << 20,
    );
    t.boot(ago(26), &LEAF04, true);
    t.dhcp(ago(26) + 5_000_000, &LEAF04, "INFORM", "ACK", true);
    let (ctrld, startup) = ("/ztp/config/ctrld", "/ztp/config/startup");
    t.http(
        ago(25),
        &LEAF04,
        LEAF04.serial,
        ctrld,
        200,
        "ZTP0011I",
        2048,
    );
    t.http(
        ago(25) + 1_000_000,
        &LEAF04,
        LEAF03.serial,
        startup,
        200,
        "ZTP0021I",
        2048,
    );
    // spine01: an address and nothing else; the stranger: an address just now.
    t.boot(ago(25), &SPINE01, false);
    t.boot(ago(2), &STRANGER, false);
    for (_, row) in &mut t.dhcp {
        let held = t.acquired.iter().filter(|at| **at <= row.time).count();
        row.put("pool_used", OTHER_LEASES + u32::try_from(held).unwrap_or(0));
    }
    vec![
        Tables::batch(&DHCP, &t.dhcp),
        Tables::batch(&HTTP, &t.http),
        Tables::batch(&LEASES, &t.leases),
        Tables::batch(&EVENTS, &t.events),
    ]
}
