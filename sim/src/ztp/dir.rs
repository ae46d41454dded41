//! The ZTP directory that serves a fleet exactly what its switches ask for, in the seed's files:
//!
//! - `dhcpd.conf` in isc-dhcp's syntax as the seed writes it: a day's leases, option 210
//!   declared, a class for ONIE's vendor strings handing out the management server as option 72
//!   (www-server, where ONIE's installer waterfall looks), the management subnet with its pool,
//!   router, DNS and option 210, and a host per switch: by `hardware ethernet` or by
//!   `serial-number` (Sonde's extension, matched against option 61), its `fixed-address`,
//!   `host-name`, and option 114 (`/ztp/image`) for those that install through it.
//! - `config.db` in the seed's JSON with its `#` comments: serial → ctrld, ctrldrbac, startup,
//!   element and the image URL; a switch whose fate is [`Fate::StartupConfigMissing`] has no
//!   startup entry (nor file), one that walks ONIE's waterfall no image.
//! - `configs/`: the shared ctrld.json and ctrldrbac.json, and each switch's
//!   `<serial>_startup.json` and `<serial>_element.json`.
//! - `images/`: a small fake RBFS installer per platform that config.db names; at the top level,
//!   the installer under the ONIE default name a waterfall switch finds.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde_json::json;

use super::fleet::{Fate, Fleet, Installer, Reservation, ZtpDevice};
use super::mac_text;

/// Writes the directory's files under `root` (created when missing; existing files replaced).
pub fn write(fleet: &Fleet, root: &Path) -> io::Result<()> {
    for (path, bytes) in files(fleet) {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

/// Every file of the directory, by path relative to its root.
pub fn files(fleet: &Fleet) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        ("dhcpd.conf".to_string(), dhcpd_conf(fleet).into_bytes()),
        ("config.db".to_string(), config_db(fleet).into_bytes()),
        ("configs/ctrld.json".to_string(), ctrld_config(fleet)),
        ("configs/ctrldrbac.json".to_string(), rbac_policy()),
    ];
    let mut images = BTreeSet::new();
    for device in &fleet.devices {
        files.push((
            format!("configs/{}", device.element_file()),
            element_config(device),
        ));
        if device.fate != Fate::StartupConfigMissing {
            files.push((
                format!("configs/{}", device.startup_file()),
                startup_config(device),
            ));
        }
        match device.installer {
            Installer::DefaultUrl => {
                images.insert(device.image());
            }
            Installer::Waterfall => files.push((
                waterfall_name(device),
                installer(&device.platform.platform()),
            )),
        }
    }
    files.extend(images.into_iter().map(|image| {
        let bytes = installer(&image);
        (format!("images/{image}"), bytes)
    }));
    files
}

/// The default name a waterfall switch's installer is found under: ONIE's second guess
/// (`onie-installer-<arch>-<vendor>_<machine>`), after the revision-specific name and its `.bin`.
pub fn waterfall_name(device: &ZtpDevice) -> String {
    let p = &device.platform;
    format!("onie-installer-{}-{}", p.arch, p.machine())
}

/// `dhcpd.conf`: see the module's doc.
pub fn dhcpd_conf(fleet: &Fleet) -> String {
    let server = fleet.server;
    let mut text = format!(
        "# The reference fabric's out-of-band management network: the ZTP server of the Sonde demo.\n\
         authoritative;\n\
         default-lease-time {lease};\n\
         max-lease-time {max};\n\
         # This is only needed if the version is lower than 4.4\n\
         option loader-pathprefix code 210 = text;\n\
         \n\
         # ONIE looks for its installer's default names on option 72's servers.\n\
         class \"onie\" {{\n\
         \x20 match if substring (option vendor-class-identifier, 0, 11) = \"onie_vendor\";\n\
         \x20 option www-server {server};\n\
         }}\n\
         \n\
         subnet {network} netmask {netmask} {{\n\
         \x20 range {first} {last};\n\
         \x20 option routers {server};\n\
         \x20 option domain-name-servers {server};\n\
         \x20 option domain-name \"oob.local\";\n\
         \x20 # CTRLD loads all configuration files from this base URL (option 210).\n\
         \x20 option loader-pathprefix \"{base}\";\n",
        lease = fleet.lease_time_s,
        max = fleet.lease_time_s * 2,
        network = fleet.network,
        netmask = fleet.netmask,
        first = fleet.range.0,
        last = fleet.range.1,
        base = fleet.base_url(),
    );
    for device in &fleet.devices {
        text.push_str(&host(fleet, device));
    }
    text.push_str("}\n");
    text
}

fn host(fleet: &Fleet, device: &ZtpDevice) -> String {
    let mut text = format!("  host {} {{\n", device.name);
    match device.reservation {
        Reservation::Mac => {
            text.push_str("    # Identify client by MAC address.\n");
            let _ = writeln!(text, "    hardware ethernet {};", mac_text(&device.mac));
        }
        Reservation::Serial => {
            text.push_str("    # Identify client by serial number (option 61).\n");
            let _ = writeln!(text, "    serial-number \"{}\";", device.serial);
        }
    }
    let _ = writeln!(text, "    fixed-address {};", device.address);
    let _ = writeln!(text, "    option host-name \"{}\";", device.name);
    if device.installer == Installer::DefaultUrl {
        text.push_str(
            "    # ONIE loads the installer image from the specified URL (option 114).\n",
        );
        let _ = writeln!(
            text,
            "    option default-url \"{}/ztp/image\";",
            fleet.base_url()
        );
    }
    text.push_str("  }\n");
    text
}

/// `config.db`: see the module's doc.
pub fn config_db(fleet: &Fleet) -> String {
    let entries: Vec<String> = fleet
        .devices
        .iter()
        .map(|device| db_entry(fleet, device))
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

fn db_entry(fleet: &Fleet, device: &ZtpDevice) -> String {
    let comment = match device.fate {
        Fate::StartupConfigMissing => {
            format!("# {}: startup config still to be written", device.name)
        }
        _ => format!("# {}", device.name),
    };
    let mut fields = vec![
        ("ctrld", "ctrld.json".to_string()),
        ("ctrldrbac", "ctrldrbac.json".to_string()),
    ];
    if device.fate != Fate::StartupConfigMissing {
        fields.push(("startup", device.startup_file()));
    }
    fields.push(("element", device.element_file()));
    if device.installer == Installer::DefaultUrl {
        fields.push((
            "image",
            format!("{}/images/{}", fleet.base_url(), device.image()),
        ));
    }
    let fields: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| format!("        \"{key}\": \"{value}\""))
        .collect();
    format!(
        "    \"{}\": {{   {comment}\n{}\n    }}",
        device.serial,
        fields.join(",\n")
    )
}

fn pretty(value: serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// CTRLD's base configuration: where RBMS and Graylog are.
fn ctrld_config(fleet: &Fleet) -> Vec<u8> {
    pretty(json!({
        "rbms": { "enable": true, "url": format!("{}:8080", fleet.base_url()) },
        "graylog": { "enable": true, "url": format!("udp://{}:{}", fleet.server, fleet.gelf_port) },
        "auth": { "enable": false }
    }))
}

fn rbac_policy() -> Vec<u8> {
    pretty(json!({
        "roles": {
            "operator": { "allow": ["GET"] },
            "admin": { "allow": ["GET", "PUT", "POST", "DELETE"] }
        }
    }))
}

fn element_config(device: &ZtpDevice) -> Vec<u8> {
    pretty(json!({
        "element_name": device.name,
        "container_name": super::http::CONTAINER,
        "ztp": { "enable": true }
    }))
}

/// The switch's RBFS startup configuration: host name, management and loopback addresses.
fn startup_config(device: &ZtpDevice) -> Vec<u8> {
    let loopback = format!("10.0.0.{}/32", device.address.octets()[3]);
    pretty(json!({
        "ietf-restconf:data": {
            "rtbrick-config:system": { "hostname": device.name, "serial-number": device.serial },
            "rtbrick-config:interface": [
                { "name": "ma1", "address": format!("{}/24", device.address) },
                { "name": "lo-0/0/0", "address": loopback }
            ]
        }
    }))
}

/// A fake ONIE installer: a shell script that says what it would install.
fn installer(name: &str) -> Vec<u8> {
    format!(
        "#!/bin/sh\n\
         # ONIE installer {name} (a stand-in served by the Sonde demo)\n\
         echo \"Installing RBFS 20.4.0 on $onie_platform\"\n\
         exit 0\n"
    )
    .into_bytes()
}
