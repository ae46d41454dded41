//! What the store says of the run: the DHCP and HTTP events with their codes, a device's GELF
//! message in `ztp_events`, and `check ztp` naming the switch that got an address and stopped.

use std::process::Stdio;

use super::*;

/// The seed's example GELF message, as CTRLD sends it.
const GELF: &str = r#"{
    "_config_name": "ctrld",
    "_config_sha1": "f1e06ef1e53becde6f8baf2b2fafe7dc9c36f6f0",
    "_daemon": "ctrld",
    "_element_name": "leaf01",
    "_log_event": "ZTP0011I",
    "_log_module": "ztp",
    "_serial_number": "591654XK1902037",
    "host": "leaf01",
    "level": 6,
    "short_message": "ztp ctrld config set",
    "timestamp": 1588382356.000511,
    "version": "1.1"
 }"#;

/// The seed's GELF message over UDP from the client's address lands in `ztp_events`, at the
/// message's own time (sent as a device with a set clock would: the seed's stamp is of 2020,
/// which the server replaces with the receive time, being more than a day off).
pub fn gelf_message_is_stored(ztp: &Ztp) {
    let seconds = sonde_schema::row::now_us() / 1_000_000 - 5;
    let message = GELF.replace("1588382356.000511", &format!("{seconds}.000511"));
    let send = format!(
        "import socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.bind(('{CLIENT_IP}', 0))\n\
         s.sendto(sys.stdin.buffer.read(), ('{SRV_IP}', 12201))\n"
    );
    let mut child = ztp
        .pair
        .cli_command("python3")
        .args(["-c", &send])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(message.as_bytes())
            .expect("writes the message");
    }
    assert!(child.wait().expect("python3 ends").success());
    let rows = ztp.sql_until(
        "SELECT hostname, source, log_event, level, short_message, daemon, log_module, serial, \
         element_name, config_name, config_sha1, CAST(timestamp AS BIGINT) AS ts FROM ztp_events \
         WHERE log_event = 'ZTP0011I'",
        "the GELF message in ztp_events",
        |rows| !rows.is_empty(),
    );
    let row = &rows[0];
    let field = |k: &str| text(&row[k]);
    assert_eq!(field("hostname"), "leaf01", "{row}");
    assert!(field("source").starts_with(CLIENT_IP), "{row}");
    assert_eq!(field("level"), "6");
    assert_eq!(field("short_message"), "ztp ctrld config set");
    assert_eq!(field("daemon"), "ctrld");
    assert_eq!(field("log_module"), "ztp");
    assert_eq!(field("serial"), LEAF01_SERIAL);
    assert_eq!(field("element_name"), "leaf01");
    assert_eq!(field("config_name"), "ctrld");
    assert_eq!(
        field("config_sha1"),
        "f1e06ef1e53becde6f8baf2b2fafe7dc9c36f6f0"
    );
    // The message's own time, in µs (a float of seconds: within a µs).
    let sent = seconds * 1_000_000 + 511;
    assert!(
        row["ts"].as_i64().is_some_and(|t| t.abs_diff(sent) <= 1),
        "stored at another time than {sent}: {row}"
    );
}

/// The DHCP and HTTP rows of the run carry the right event codes.
pub fn codes_are_queryable(ztp: &Ztp) {
    // DHCP: offered and acknowledged for LEAF01 (by MAC), INFORM answered.
    let leaf01 = ztp.sql_until(
        &format!(
            "SELECT hostname, message_type, reply, log_event, client_ip, host, serial, vendor_class, \
             default_url, onie_machine FROM ztp_dhcp WHERE lower(client_mac) = '{LEAF01_MAC}' \
             ORDER BY timestamp"
        ),
        "LEAF01's DHCP rows",
        |rows| rows.iter().any(|r| r["message_type"] == "INFORM"),
    );
    let has = |rows: &[Value], message: &str, reply: &str, code: &str| {
        rows.iter()
            .any(|r| r["message_type"] == message && r["reply"] == reply && r["log_event"] == code)
    };
    assert!(has(&leaf01, "DISCOVER", "OFFER", "ZTP0101I"), "{leaf01:#?}");
    assert!(has(&leaf01, "REQUEST", "ACK", "ZTP0102I"), "{leaf01:#?}");
    assert!(has(&leaf01, "INFORM", "ACK", "ZTP0106I"), "{leaf01:#?}");
    let ack = leaf01
        .iter()
        .find(|r| r["message_type"] == "REQUEST" && r["reply"] == "ACK")
        .expect("an ACK");
    assert_eq!(text(&ack["client_ip"]), "10.0.0.250", "{ack}");
    assert_eq!(text(&ack["host"]), "LEAF01", "{ack}");
    assert_eq!(text(&ack["hostname"]), "LEAF01", "{ack}");
    assert_eq!(text(&ack["serial"]), LEAF01_SERIAL, "{ack}");
    assert_eq!(text(&ack["vendor_class"]), ONIE_VENDOR, "{ack}");
    assert_eq!(
        text(&ack["default_url"]),
        "http://managementserver/ztp/image",
        "{ack}"
    );

    // LEAF02's reservation by serial.
    let leaf02 = ztp.sql(&format!(
        "SELECT host, client_ip, log_event FROM ztp_dhcp WHERE serial = '{LEAF02_SERIAL}' \
         AND reply = 'ACK' AND message_type = 'REQUEST'"
    ));
    assert!(
        leaf02
            .iter()
            .any(|r| r["host"] == "LEAF02" && r["client_ip"] == "10.0.0.21"),
        "{leaf02:#?}"
    );

    // HTTP: the seed's codes for configurations set and not provided.
    let http = ztp.sql_until(
        "SELECT serial, path, status, log_event, config_name, config_sha1, client_ip, \
         container_name, element_name, host_name, machine, arch, route FROM ztp_http \
         WHERE path LIKE '/ztp/config/%' ORDER BY timestamp",
        "the configuration requests",
        |rows| rows.len() >= 8,
    );
    let find = |serial: &str, path: &str| {
        http.iter()
            .find(|r| r["serial"] == serial && r["path"] == path)
            .unwrap_or_else(|| panic!("no row for {serial} {path}: {http:#?}"))
    };
    let set = find(LEAF01_SERIAL, "/ztp/config/startup");
    assert_eq!(text(&set["log_event"]), "ZTP0021I", "{set}");
    assert_eq!(text(&set["status"]), "200", "{set}");
    assert_eq!(text(&set["config_name"]), "startup", "{set}");
    assert_eq!(text(&set["client_ip"]), CLIENT_IP, "{set}");
    assert_eq!(text(&set["container_name"]), "rtbrick", "{set}");
    assert_eq!(text(&set["element_name"]), "leaf01", "{set}");
    assert_eq!(text(&set["host_name"]), "onl-leaf01", "{set}");
    assert_eq!(text(&set["config_sha1"]).len(), 40, "{set}");
    let not_provided = find(LEAF02_SERIAL, "/ztp/config/startup");
    assert_eq!(
        text(&not_provided["log_event"]),
        "ZTP0022W",
        "{not_provided}"
    );
    assert_eq!(text(&not_provided["status"]), "404", "{not_provided}");
    for (path, code) in [
        ("/ztp/config/ctrld", "ZTP0011I"),
        ("/ztp/config/element", "ZTP0031I"),
        ("/ztp/config/ctrldrbac", "ZTP0041I"),
    ] {
        assert_eq!(
            text(&find(LEAF01_SERIAL, path)["log_event"]),
            code,
            "{path}"
        );
    }
    assert_eq!(
        text(&find(LEAF02_SERIAL, "/ztp/config/ctrld")["log_event"]),
        "ZTP0012W"
    );

    // The installer fetches carry ONIE's headers.
    let onie = ztp.sql(
        "SELECT path, status, serial, machine, arch, operation, route FROM ztp_http \
         WHERE path LIKE '/onie-installer%' ORDER BY timestamp",
    );
    assert!(
        onie.iter()
            .any(|r| r["path"] == "/onie-installer-accton_as7712_32x"
                && text(&r["status"]) == "200"
                && r["machine"] == "accton_as7712_32x"
                && r["arch"] == "x86_64"
                && r["operation"] == "os-install"),
        "{onie:#?}"
    );

    // Refused paths are events too, never a 200.
    let escapes =
        ztp.sql("SELECT path, status FROM ztp_http WHERE path LIKE '%passwd%' AND status = 200");
    assert!(escapes.is_empty(), "{escapes:#?}");
}

/// `check ztp` over Flight names SPINE01: an address, and nothing fetched. The check gives a
/// switch a grace period to start its downloads, so it is asked as of a few minutes on (the
/// window then still holds the whole run).
pub fn check_ztp_finds_the_stopped_device(ztp: &mut Ztp) {
    let later = chrono::Utc::now() + chrono::Duration::minutes(10);
    let at = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (ok, answer) = ztp.netql(&format!("check ztp around {at} json"));
    let json: Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("check ztp answered no JSON ({e}): {answer}"));
    let failed = json["failedNodes"].as_array().cloned().unwrap_or_default();
    let spine01 = failed
        .iter()
        .find(|r| r["node"] == "SPINE01")
        .unwrap_or_else(|| panic!("check ztp does not name SPINE01: {answer}"));
    assert_eq!(spine01["object"], "address 10.0.0.31", "{spine01}");
    assert!(
        text(&spine01["reason"]).contains("fetched no image or configuration"),
        "{spine01}"
    );
    // LEAF01 fetched its files: never blamed for an address without them.
    assert!(
        !failed
            .iter()
            .any(|r| r["node"] == "LEAF01" && text(&r["object"]).starts_with("address")),
        "{answer}"
    );
    assert!(!ok, "check ztp found failures but exited 0");
    let (_, shown) = ztp.netql("show ztp devices json");
    assert!(shown.contains("SPINE01"), "{shown}");
}
