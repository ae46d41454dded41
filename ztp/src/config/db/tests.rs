#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::{parse, render, validate};
use crate::config::model::{ConfigDb, Device};
use crate::error::ZtpError;

/// The seed's example `config.db`, as the seed prints it.
const SEED: &str = r#"{
    "591654XK1902037": {               # serial number
        "ctrld": "ctrld.json",         # ctrld configuration file
        "ctrldrbac": "ctrldrbac.json", # ctrld rbac policy file
        "startup": "591654XK1902037_startup.json", # switch startup config file
        "element": "591654XK1902037_element.json", # switch element config file
        "image":                                   # NOS installer file "http://pkg.rtbrick.net/_/images/latest/rtbrick-onl-installer/rtbrick-onl-installer-accessleaf-qmx-20.4.0-g6daily.20200409071129+Bdevelopment.Ce8ba33ec"
    }
}
"#;

fn ok(text: &str) -> ConfigDb {
    match parse(Path::new("config.db"), text) {
        Ok(db) => db,
        Err(e) => panic!("{e}"),
    }
}

fn err(text: &str) -> (usize, usize, String, String) {
    match parse(Path::new("config.db"), text) {
        Err(ZtpError::Syntax {
            file,
            line,
            column,
            token,
            message,
        }) => {
            assert_eq!(file, Path::new("config.db"));
            (line, column, token, message)
        }
        other => panic!("not a syntax error: {other:?}"),
    }
}

#[test]
fn the_seeds_file() {
    let db = ok(SEED);
    assert_eq!(db.devices.len(), 1);
    let d = &db.devices["591654XK1902037"];
    assert_eq!(d.ctrld.as_deref(), Some("ctrld.json"));
    assert_eq!(d.ctrldrbac.as_deref(), Some("ctrldrbac.json"));
    assert_eq!(d.startup.as_deref(), Some("591654XK1902037_startup.json"));
    assert_eq!(d.element.as_deref(), Some("591654XK1902037_element.json"));
    assert_eq!(
        d.image.as_deref(),
        Some(
            "http://pkg.rtbrick.net/_/images/latest/rtbrick-onl-installer/rtbrick-onl-installer-accessleaf-qmx-20.4.0-g6daily.20200409071129+Bdevelopment.Ce8ba33ec"
        )
    );
    assert!(d.mac.is_none() && d.script.is_none() && d.extra.is_empty());
    assert_eq!(ok(&render(&db)), db);
}

#[test]
fn a_value_after_a_comment_on_a_later_line() {
    let db = ok("{\"s\": {\"image\": # the \"latest\" build\n   \"images/onie.bin\"}}");
    assert_eq!(db.devices["s"].image.as_deref(), Some("images/onie.bin"));
}

#[test]
fn plain_json_sonde_keys_extra_null_and_trailing_commas() {
    let db = ok(r#"{
        "A1": {"startup": "a/startup.json", "mac": "48-65-EE-11-DA-85", "ztp_script": "cumulus.sh",
               "owner": "lab \"3\" \u00e9\ud83d\ude00", "element": null,},
        "B2": {},
    }"#);
    let a = &db.devices["A1"];
    assert_eq!(a.startup.as_deref(), Some("a/startup.json"));
    assert_eq!(a.mac.as_deref(), Some("48:65:ee:11:da:85"));
    assert_eq!(a.script.as_deref(), Some("cumulus.sh"));
    assert_eq!(a.extra["owner"], "lab \"3\" é😀");
    assert!(a.element.is_none());
    assert_eq!(db.devices["B2"], Device::default());
    assert_eq!(ok(&render(&db)), db);
    assert_eq!(ok(""), ConfigDb::default());
    assert_eq!(ok("  # nothing yet\n"), ConfigDb::default());
    assert_eq!(ok("{}"), ConfigDb::default());
}

#[test]
fn render_is_stable_pretty_json() {
    let mut db = ConfigDb::default();
    let mut d = Device {
        image: Some("http://x/i".into()),
        ctrld: Some("c.json".into()),
        ..Device::default()
    };
    d.extra.insert("zz".into(), "tab\there".into());
    db.devices.insert("S2".into(), d);
    db.devices.insert("S1".into(), Device::default());
    let text = render(&db);
    assert_eq!(
        text,
        "{\n    \"S1\": {},\n    \"S2\": {\n        \"ctrld\": \"c.json\",\n        \"image\": \"http://x/i\",\n        \"zz\": \"tab\\there\"\n    }\n}\n"
    );
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["S2"]["zz"], "tab\there");
    assert_eq!(render(&ConfigDb::default()), "{}\n");
    assert_eq!(ok(&text), db);
}

#[test]
fn syntax_errors_point_at_the_token() {
    let cases: &[(&str, usize, usize, &str, &str)] = &[
        (
            "{\n  \"s\": {\"ctrld\": 5}\n}",
            2,
            18,
            "5",
            "quoted string or null",
        ),
        (
            "{\n  \"s\": {\"ctrld\" \"x\"}\n}",
            2,
            17,
            "\"x\"",
            "expected `:`",
        ),
        (
            "{\"s\": {\"ctrld\": \"x\" \"startup\": \"y\"}}",
            1,
            21,
            "\"startup\"",
            "`,` or `}`",
        ),
        ("{\"s\": {\"ctrld\": \"x}}", 1, 17, "\"", "unterminated"),
        (
            "{\"s\": {\"ctrld\": \"\\q\"}}",
            1,
            18,
            "\\q",
            "unknown escape",
        ),
        (
            "{\"s\": {\"image\": # no value here\n}}",
            2,
            1,
            "}",
            "quoted string or null",
        ),
        ("{\"s\": {}} trailing", 1, 11, "trailing", "end of the file"),
        ("{\"s\": {}", 1, 9, "end of file", "`,` or `}`"),
        ("[1]", 1, 1, "[", "expected `{`"),
        ("{\"s\": {}, \"s\": {}}", 1, 11, "s", "appears twice"),
        (
            "{\"s\": {\"ctrld\": \"a\", \"ctrld\": \"b\"}}",
            1,
            22,
            "ctrld",
            "appears twice",
        ),
        ("{\"\": {}}", 1, 2, "", "empty"),
    ];
    for &(text, line, column, token, needle) in cases {
        let (l, c, t, message) = err(text);
        assert_eq!(
            (l, c, t.as_str()),
            (line, column, token),
            "{text}: {message}"
        );
        assert!(message.contains(needle), "{text}: {message}");
    }
}

#[test]
fn file_names_images_and_macs_are_checked() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"S": {"startup": "../etc/passwd"}}"#,
            "../etc/passwd",
            "`..`",
        ),
        (
            r#"{"S": {"ctrld": "/etc/passwd"}}"#,
            "/etc/passwd",
            "absolute",
        ),
        (r#"{"S": {"element": "a\u0000b"}}"#, "a\0b", "NUL"),
        (r#"{"S": {"ctrldrbac": "a\\b"}}"#, "a\\b", "backslash"),
        (r#"{"S": {"ztp_script": "a//b"}}"#, "a//b", "empty"),
        (r#"{"S": {"ctrld": ""}}"#, "", "empty"),
        (
            r#"{"S": {"image": "ftp://x/y"}}"#,
            "ftp://x/y",
            "http, https or tftp",
        ),
        (r#"{"S": {"image": "http:///y"}}"#, "http:///y", "host"),
        (r#"{"S": {"image": "images/../x"}}"#, "images/../x", "`..`"),
        (
            r#"{"S": {"mac": "48:65:ee:11:da"}}"#,
            "48:65:ee:11:da",
            "MAC",
        ),
    ];
    for &(text, token, needle) in cases {
        let (_, _, t, message) = err(text);
        assert_eq!(t, token, "{text}: {message}");
        assert!(message.contains(needle), "{text}: {message}");
        assert!(message.contains("serial `S`"), "{text}: {message}");
    }
    let db =
        ok(r#"{"S": {"image": "TFTP://10.0.0.1/onie-installer", "ctrld": "leaf/ctrld.json"}}"#);
    assert!(validate(&db).is_ok());
    let db = ok(r#"{"S": {"image": "onie-installer.bin"}}"#);
    assert_eq!(db.devices["S"].image.as_deref(), Some("onie-installer.bin"));
}

#[test]
fn validate_catches_what_code_builds() {
    let mut db = ConfigDb::default();
    db.devices.insert(
        "S".into(),
        Device {
            startup: Some("../x".into()),
            ..Device::default()
        },
    );
    let message = validate(&db).unwrap_err();
    assert!(message.contains("serial `S`, `startup`"), "{message}");
    let mut d = Device::default();
    d.extra.insert("ctrld".into(), "x".into());
    let db = ConfigDb {
        devices: [("S".to_string(), d)].into(),
    };
    assert!(validate(&db).is_err());
}

mod roundtrip {
    use proptest::prelude::*;

    use super::*;

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.-]{0,12}[A-Za-z0-9_]".prop_filter("not a dot name", |s| s != "." && s != "..")
    }

    fn device() -> impl Strategy<Value = Device> {
        (
            proptest::option::of(name()),
            proptest::option::of(name()),
            proptest::option::of(name()),
            proptest::option::of("[a-z]{1,8}/[a-z0-9]{1,8}\\.json"),
            proptest::option::of("(http|https|tftp)://[a-z0-9.]{1,12}/[ -~&&[^ ]]{0,20}"),
            proptest::option::of("([0-9a-f]{2}:){5}[0-9a-f]{2}"),
            proptest::option::of(name()),
            proptest::collection::btree_map("x_[a-z]{1,6}", "\\PC{0,16}", 0..3),
        )
            .prop_map(
                |(ctrld, ctrldrbac, startup, element, image, mac, script, extra)| Device {
                    ctrld,
                    ctrldrbac,
                    startup,
                    element,
                    image,
                    mac,
                    script,
                    extra,
                },
            )
    }

    proptest! {
        #[test]
        fn parse_of_render_is_the_database(
            devices in proptest::collection::btree_map("[A-Z0-9]{1,16}", device(), 0..5)
        ) {
            let db = ConfigDb { devices };
            prop_assert!(validate(&db).is_ok());
            let text = render(&db);
            let back = parse(Path::new("config.db"), &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, db);
        }
    }
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = parse(Path::new("config.db"), &text);
        }

        #[test]
        fn on_the_seed_cut_anywhere(cut in 0usize..SEED.len(), insert in "[{}:\"#,\\\\ a-z0-9\n]{0,3}") {
            let mut text: String = SEED.chars().take(cut).collect();
            text.push_str(&insert);
            text.extend(SEED.chars().skip(cut));
            let _ = parse(Path::new("config.db"), &text);
        }
    }
}

/// The seed's two files as files (`tests/data/seed/`), loaded the way the server loads a ZTP
/// directory: byte for byte the texts the tests above parse.
#[test]
fn the_seeds_directory_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed");
    assert_eq!(
        std::fs::read_to_string(root.join("config.db")).unwrap(),
        SEED
    );
    let config = crate::config::ZtpConfig::load(&crate::ZtpDir::new(&root)).unwrap();
    assert_eq!(config.db, ok(SEED));
    assert_eq!(config.dhcp.subnets[0].hosts[0].name, "LEAF01");
    assert_eq!(config.dhcp.option_name(210), "loader-pathprefix");
}
