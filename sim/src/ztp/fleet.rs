//! The switches that boot through ZTP, and the management network they boot on.
//!
//! The reference fleet is four leaves joining the reference fabric (leaf01–04 run since two days)
//! a day ago: leaf05–leaf08, Edgecore boxes with ONIE that install RtBrick's RBFS (the seed's
//! process), on the out-of-band network 192.168.0.0/24 whose management server (DHCP, HTTP and
//! the GELF endpoint) is 192.168.0.254. Their addresses follow the fabric's numbering
//! (192.168.0.15 for leaf05, as leaf01 has .11). Serials are Edgecore's (`591654XK…`, the seed's
//! shape), MACs Edgecore's OUI 48:65:ee.

use std::net::Ipv4Addr;

use crate::fabric::{HOUR, MINUTE};

/// ONIE's idea of the hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `accton`.
    pub vendor: &'static str,
    /// `as7726_32x`.
    pub model: &'static str,
    /// `x86_64`.
    pub arch: &'static str,
    pub revision: u8,
    /// The switch ASIC family ONIE names installers by (`bcm`).
    pub asic: &'static str,
    /// The vendor's IANA enterprise number (ONIE-VENDOR-ID).
    pub vendor_id: u32,
    /// ONIE's version (ONIE-VERSION).
    pub onie_version: &'static str,
}

impl Platform {
    /// ONIE's machine: `accton_as7726_32x`.
    pub fn machine(&self) -> String {
        format!("{}_{}", self.vendor, self.model)
    }

    /// ONIE's platform: `x86_64-accton_as7726_32x-r0`.
    pub fn platform(&self) -> String {
        format!("{}-{}-r{}", self.arch, self.machine(), self.revision)
    }

    /// Option 60: `onie_vendor:x86_64-accton_as7726_32x-r0`.
    pub fn vendor_class(&self) -> String {
        format!("onie_vendor:{}", self.platform())
    }
}

/// How `dhcpd.conf` recognises the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// `hardware ethernet …;`
    Mac,
    /// `serial-number "…";` (matched against option 61).
    Serial,
}

/// How ONIE finds its installer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    /// The reservation hands out option 114, `/ztp/image`, which config.db maps to the image.
    DefaultUrl,
    /// No option 114: ONIE's default names on the management server (option 72).
    Waterfall,
}

/// What becomes of the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Installed and configured.
    Provisioned,
    /// config.db has no startup configuration for its serial: that fetch is a 404 (ZTP0022W),
    /// the other three succeed.
    StartupConfigMissing,
    /// Acknowledged its address, then died (a dead power supply): nothing fetched, no renewal.
    DiesAfterLease,
}

/// One switch that boots through ZTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZtpDevice {
    /// The host name its reservation gives it: `leaf05`.
    pub name: String,
    pub serial: String,
    /// The management port's MAC (eth0), ONIE-ETH-ADDR.
    pub mac: [u8; 6],
    /// The address reserved for it.
    pub address: Ipv4Addr,
    pub platform: Platform,
    pub reservation: Reservation,
    pub installer: Installer,
    /// When ONIE's first DISCOVER goes out, µs.
    pub boots_at: i64,
    pub fate: Fate,
}

impl ZtpDevice {
    /// The installer file config.db names for the switch (under `images/`).
    pub fn image(&self) -> String {
        format!("rtbrick-onl-installer-{}-20.4.0", self.platform.machine())
    }

    /// The startup configuration's file under `configs/`, as the seed names it.
    pub fn startup_file(&self) -> String {
        format!("{}_startup.json", self.serial)
    }

    /// The element configuration's file under `configs/`.
    pub fn element_file(&self) -> String {
        format!("{}_element.json", self.serial)
    }
}

/// The management network and the switches that boot on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// The management server: DHCP server identifier, HTTP server and GELF endpoint.
    pub server: Ipv4Addr,
    pub network: Ipv4Addr,
    pub netmask: Ipv4Addr,
    /// The dynamic pool for switches that have no reservation.
    pub range: (Ipv4Addr, Ipv4Addr),
    /// `default-lease-time`, seconds: a day, so a switch that renews keeps its lease and one
    /// that died loses it visibly a day after its boot.
    pub lease_time_s: u32,
    /// The GELF endpoint's UDP port.
    pub gelf_port: u16,
    pub devices: Vec<ZtpDevice>,
}

/// Edgecore's AS7726-32X (Trident3), the new leaves' box.
fn as7726() -> Platform {
    Platform {
        vendor: "accton",
        model: "as7726_32x",
        arch: "x86_64",
        revision: 0,
        asic: "bcm",
        vendor_id: 259,
        onie_version: "2019.11",
    }
}

/// Edgecore's AS5916-54XKS (Qumran), the seed's access leaf.
fn as5916() -> Platform {
    Platform {
        model: "as5916_54xks",
        ..as7726()
    }
}

impl Fleet {
    /// The reference fleet relative to `now`: see the module's doc.
    pub fn reference(now: i64) -> Fleet {
        let ago = |hours: i64, minutes: i64| now - (hours * HOUR + minutes * MINUTE);
        let device = |n: u8, platform, reservation, installer, boots_at, fate| ZtpDevice {
            name: format!("leaf{n:02}"),
            serial: format!("591654XK19021{n:02}"),
            mac: [0x48, 0x65, 0xee, 0x1a, 0x00, n],
            address: Ipv4Addr::new(192, 168, 0, 10 + n),
            platform,
            reservation,
            installer,
            boots_at,
            fate,
        };
        let (mac, serial) = (Reservation::Mac, Reservation::Serial);
        let (url, waterfall) = (Installer::DefaultUrl, Installer::Waterfall);
        Fleet {
            server: Ipv4Addr::new(192, 168, 0, 254),
            network: Ipv4Addr::new(192, 168, 0, 0),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            range: (
                Ipv4Addr::new(192, 168, 0, 100),
                Ipv4Addr::new(192, 168, 0, 199),
            ),
            lease_time_s: 86_400,
            gelf_port: 12201,
            devices: vec![
                device(5, as7726(), mac, url, ago(22, 0), Fate::Provisioned),
                device(
                    6,
                    as7726(),
                    mac,
                    url,
                    ago(21, 45),
                    Fate::StartupConfigMissing,
                ),
                device(7, as7726(), mac, url, ago(21, 30), Fate::DiesAfterLease),
                device(
                    8,
                    as5916(),
                    serial,
                    waterfall,
                    ago(21, 15),
                    Fate::Provisioned,
                ),
            ],
        }
    }

    pub fn device(&self, name: &str) -> Option<&ZtpDevice> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// The management server's base URL, `http://192.168.0.254`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server)
    }

    /// `192.168.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, u32::from(self.netmask).count_ones())
    }
}
