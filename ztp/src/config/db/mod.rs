//! `config.db`: the seed's JSON map from serial number to a device's files and image, as the
//! seed's nginx JavaScript reads it, with the seed's `#` comments tolerated ([`reader`]).
//!
//! Keys: `ctrld`, `ctrldrbac`, `startup`, `element` (files under `configs/`), `image` (an
//! `http`, `https` or `tftp` URL, or a file under `images/`, written `NAME` or `images/NAME`),
//! and Sonde's `mac` (binds the serial to a MAC) and `ztp_script` (a Cumulus ZTP script under
//! `configs/`). Any other key with a string value is kept in [`Device::extra`] so a rewrite by
//! `sonde ztp` loses nothing but comments. A `null` value is the key's absence.
//!
//! Checks (each error names the serial and key): a file name is relative, has no `..` or `.`
//! component, no empty component, no backslash and no NUL or control character; a MAC is six
//! hex bytes separated by `:` or `-` and is kept lowercase with `:`; a serial or key appears once.
//! [`render`] writes the database back as pretty JSON without comments: serials sorted, each
//! device's keys in the order above, then the extra keys sorted.

mod reader;

#[cfg(test)]
mod tests;

use std::path::Path;

use super::model::{ConfigDb, Device};
use crate::error::{Result, ZtpError};

/// The keys Sonde reads, in [`render`]'s order.
pub const KEYS: [&str; 7] = [
    "ctrld",
    "ctrldrbac",
    "startup",
    "element",
    "image",
    "mac",
    "ztp_script",
];

/// Parses `text`, read from `file` (named in errors). Empty text is an empty database.
pub fn parse(file: &Path, text: &str) -> Result<ConfigDb> {
    let entries = reader::read(file, text)?;
    let mut db = ConfigDb::default();
    for (serial, fields) in entries {
        let syntax = |line, column, token: &str, message: String| ZtpError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            token: token.to_string(),
            message,
        };
        if let Err(message) = check_serial(&serial.name) {
            return Err(syntax(serial.line, serial.column, &serial.name, message));
        }
        if db.devices.contains_key(&serial.name) {
            let message = format!("serial `{}` appears twice", serial.name);
            return Err(syntax(serial.line, serial.column, &serial.name, message));
        }
        let mut device = Device::default();
        let mut seen = Vec::new();
        for (key, value) in fields {
            if seen.contains(&key.name) {
                let message = format!(
                    "key `{}` appears twice for serial `{}`",
                    key.name, serial.name
                );
                return Err(syntax(key.line, key.column, &key.name, message));
            }
            seen.push(key.name.clone());
            let Some(text) = value.text else { continue };
            if let Err(message) = set(&mut device, &key.name, text.clone()) {
                let message = format!("serial `{}`, `{}`: {message}", serial.name, key.name);
                return Err(syntax(value.line, value.column, &text, message));
            }
        }
        db.devices.insert(serial.name, device);
    }
    Ok(db)
}

/// Sets `key` of `device` to `value`, checked (and a MAC normalised).
pub fn set(device: &mut Device, key: &str, value: String) -> Result<(), String> {
    match key {
        "ctrld" | "ctrldrbac" | "startup" | "element" | "ztp_script" => check_file_name(&value)?,
        "image" => check_image(&value)?,
        "mac" => {
            device.mac = Some(normalize_mac(&value)?);
            return Ok(());
        }
        _ => {}
    }
    let slot = match key {
        "ctrld" => &mut device.ctrld,
        "ctrldrbac" => &mut device.ctrldrbac,
        "startup" => &mut device.startup,
        "element" => &mut device.element,
        "image" => &mut device.image,
        "ztp_script" => &mut device.script,
        other => {
            device.extra.insert(other.to_string(), value);
            return Ok(());
        }
    };
    *slot = Some(value);
    Ok(())
}

/// Checks every device (for a database built in code, as `sonde ztp` does before writing).
pub fn validate(db: &ConfigDb) -> Result<(), String> {
    for (serial, device) in &db.devices {
        check_serial(serial)?;
        if let Some(key) = device.extra.keys().find(|k| KEYS.contains(&k.as_str())) {
            return Err(format!("serial `{serial}`: `{key}` is not an extra key"));
        }
        for (key, value) in fields(device) {
            let checked = match key {
                "image" => check_image(value),
                "mac" => normalize_mac(value).map(drop),
                _ if KEYS.contains(&key) => check_file_name(value),
                _ => Ok(()),
            };
            checked.map_err(|message| format!("serial `{serial}`, `{key}`: {message}"))?;
        }
    }
    Ok(())
}

/// A device's keys and values in [`render`]'s order.
pub fn fields(device: &Device) -> Vec<(&str, &str)> {
    let known = [
        &device.ctrld,
        &device.ctrldrbac,
        &device.startup,
        &device.element,
        &device.image,
        &device.mac,
        &device.script,
    ];
    let mut out: Vec<(&str, &str)> = KEYS
        .iter()
        .zip(known)
        .filter_map(|(key, value)| value.as_deref().map(|v| (*key, v)))
        .collect();
    out.extend(device.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    out
}

/// The database in the seed's format, as `sonde ztp` writes it back: pretty JSON, four-space
/// indent, no comments, stable order, ending in a newline.
pub fn render(db: &ConfigDb) -> String {
    let mut out = String::from("{");
    for (i, (serial, device)) in db.devices.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&format!("    {}: {{", quote(serial)));
        for (j, (key, value)) in fields(device).into_iter().enumerate() {
            out.push_str(if j == 0 { "\n" } else { ",\n" });
            out.push_str(&format!("        {}: {}", quote(key), quote(value)));
        }
        out.push_str(if fields(device).is_empty() {
            "}"
        } else {
            "\n    }"
        });
    }
    out.push_str(if db.devices.is_empty() {
        "}\n"
    } else {
        "\n}\n"
    });
    out
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A serial: not empty, no control characters (it travels in HTTP headers and file names).
pub fn check_serial(serial: &str) -> Result<(), String> {
    if serial.trim().is_empty() {
        return Err("a serial number may not be empty".into());
    }
    if serial.chars().any(char::is_control) {
        return Err(format!("serial {serial:?} has a control character"));
    }
    Ok(())
}

/// A file name under `configs/` or `images/`: relative, no `..`/`.`/empty component, no
/// backslash, no control character.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a file name may not be empty".into());
    }
    if name.starts_with('/') {
        return Err(format!(
            "`{name}` is an absolute path; name a file under the directory"
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(format!("{name:?} has a NUL or control character"));
    }
    if name.contains('\\') {
        return Err(format!("`{name}` has a backslash"));
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "`{name}` has an empty, `.` or `..` component; name a file under the directory"
        ));
    }
    Ok(())
}

/// `image`: an `http`, `https` or `tftp` URL with a host, or a file under `images/`.
pub fn check_image(image: &str) -> Result<(), String> {
    if let Some((scheme, rest)) = image.split_once("://") {
        let known = ["http", "https", "tftp"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme));
        if !known {
            return Err(format!("`{image}`: an image URL is http, https or tftp"));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || image.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!("`{image}` is not a URL with a host"));
        }
        return Ok(());
    }
    let name = image.strip_prefix("images/").unwrap_or(image);
    check_file_name(name)
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`, any case) → lowercase with `:`.
pub fn normalize_mac(mac: &str) -> Result<String, String> {
    let parts: Vec<&str> = mac.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        return Err(format!(
            "`{mac}` is not a MAC address like 48:65:ee:11:da:85"
        ));
    }
    Ok(parts.join(":").to_ascii_lowercase())
}
