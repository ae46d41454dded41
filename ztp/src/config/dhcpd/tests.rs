#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::path::Path;

use super::parse;
use crate::config::model::{Condition, DhcpConfig, OptionKind, OptionValue};
use crate::error::ZtpError;

/// The seed's `dhcp.conf`, as the seed prints it.
const SEED: &str = r#"authoritative;
default-lease-time 600;
max-lease-time 7200;
# This is only needed if the version is lower than 4.4
option loader-pathprefix code 210 = text;


subnet 10.0.0.0 netmask 255.255.255.0 {
  range 10.0.0.200 10.0.0.250;
  option routers 10.0.0.138;
  option domain-name-servers 10.0.0.210;
  option domain-name "local";
  host LEAF01 {
     # Identify client by MAC address.
     hardware ethernet 48:65:ee:11:da:85;
     fixed-address 10.0.0.250;
     option host-name LEAF01;
     # Set DHCP option 114 (default-url) to set the installer image URL.
     # ONIE loads the installer image from the specified URL.
     option default-url "http://managementserver/ztp/image";
     # Set DHCP option 210 (path prefix) to set the configuration base URL.
     # CTRLD loads all configuration files from this base URL.
     option loader-pathprefix "http://managementserver";
 }
}
"#;

fn ok(text: &str) -> DhcpConfig {
    match parse(Path::new("dhcpd.conf"), text) {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    }
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn text(s: &str) -> OptionValue {
    OptionValue::Text(s.into())
}

fn ips(list: &[&str]) -> OptionValue {
    OptionValue::IpAddresses(list.iter().map(|s| ip(s)).collect())
}

/// The error's (line, column, token, message).
fn err(text: &str) -> (usize, usize, String, String) {
    match parse(Path::new("dhcpd.conf"), text) {
        Err(ZtpError::Syntax {
            file,
            line,
            column,
            token,
            message,
        }) => {
            assert_eq!(file, Path::new("dhcpd.conf"));
            (line, column, token, message)
        }
        Err(other) => panic!("not a syntax error: {other}"),
        Ok(config) => panic!("parsed: {config:?}"),
    }
}

#[test]
fn the_seeds_file() {
    let c = ok(SEED);
    assert!(c.authoritative);
    assert_eq!(c.default_lease_time, Some(600));
    assert_eq!(c.max_lease_time, Some(7200));
    assert_eq!(c.option_defs.len(), 1);
    assert_eq!(c.option_defs[0].name, "loader-pathprefix");
    assert_eq!(c.option_defs[0].code, 210);
    assert_eq!(c.option_defs[0].kind, OptionKind::Text);
    assert!(c.options.0.is_empty());
    assert!(c.hosts.is_empty());
    assert_eq!(c.subnets.len(), 1);
    let s = &c.subnets[0];
    assert_eq!(s.cidr(), "10.0.0.0/24");
    assert_eq!(s.ranges, vec![(ip("10.0.0.200"), ip("10.0.0.250"))]);
    assert_eq!(s.options.get(3), Some(&ips(&["10.0.0.138"])));
    assert_eq!(s.options.get(6), Some(&ips(&["10.0.0.210"])));
    assert_eq!(s.options.get(15), Some(&text("local")));
    assert_eq!(s.hosts.len(), 1);
    let h = &s.hosts[0];
    assert_eq!(h.name, "LEAF01");
    assert_eq!(
        h.hardware_ethernet,
        Some([0x48, 0x65, 0xee, 0x11, 0xda, 0x85])
    );
    assert_eq!(h.fixed_address, Some(ip("10.0.0.250")));
    assert_eq!(h.options.get(12), Some(&text("LEAF01")));
    assert_eq!(
        h.options.get(114),
        Some(&text("http://managementserver/ztp/image"))
    );
    assert_eq!(h.options.get(210), Some(&text("http://managementserver")));
    assert_eq!(c.option_name(210), "loader-pathprefix");
    assert_eq!(c.option_name(114), "default-url");
    assert_eq!(c.option_name(200), "option-200");
}

#[test]
fn an_onie_class_and_conditions() {
    let c = ok(r#"
        option cumulus-provision-url code 239 = text;
        class "onie" {
            match if substring (option vendor-class-identifier, 0, 11) = "onie_vendor";
            option default-url "http://10.0.0.1/onie-installer";
            filename "onie-installer";
        }
        class "accton" {
            match if option vendor-class-identifier = "onie_vendor:x86_64-accton_as7712_32x-r0"
                  or (exists user-class and not option user-class = "x");
        }
        class "not-mellanox" {
            match if option vendor-class-identifier != "onie_vendor:x86_64-mlnx_msn2700-r0";
            option cumulus-provision-url "http://10.0.0.1/ztp.sh";
        }
    "#);
    assert_eq!(c.classes.len(), 3);
    let onie = &c.classes[0];
    assert_eq!(onie.name, "onie");
    assert_eq!(
        onie.condition,
        Condition::Substring {
            code: 60,
            offset: 0,
            length: 11,
            value: b"onie_vendor".to_vec()
        }
    );
    assert_eq!(
        onie.options.get(114),
        Some(&text("http://10.0.0.1/onie-installer"))
    );
    assert_eq!(onie.options.get(67), Some(&text("onie-installer")));
    let vendor = b"onie_vendor:x86_64-accton_as7712_32x-r0".to_vec();
    assert_eq!(
        c.classes[1].condition,
        Condition::Or(
            Box::new(Condition::Equals {
                code: 60,
                value: vendor.clone()
            }),
            Box::new(Condition::And(
                Box::new(Condition::Exists { code: 77 }),
                Box::new(Condition::Not(Box::new(Condition::Equals {
                    code: 77,
                    value: b"x".to_vec()
                })))
            ))
        )
    );
    let client = |code: u8| (code == 60).then_some(vendor.as_slice());
    assert!(onie.condition.matches(&client));
    assert!(c.classes[1].condition.matches(&client));
    assert!(c.classes[2].condition.matches(&client));
    assert_eq!(
        c.classes[2].options.get(239),
        Some(&text("http://10.0.0.1/ztp.sh"))
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let c =
        ok(r#"class "c" { match if exists host-name or exists routers and exists time-offset; }"#);
    assert_eq!(
        c.classes[0].condition,
        Condition::Or(
            Box::new(Condition::Exists { code: 12 }),
            Box::new(Condition::And(
                Box::new(Condition::Exists { code: 3 }),
                Box::new(Condition::Exists { code: 2 })
            ))
        )
    );
}

#[test]
fn every_value_type() {
    let c = ok(r#"
        option t code 200 = text;
        option s code 201 = string;
        option a code 202 = ip-address;
        option l code 203 = array of ip-address;
        option u8 code 204 = unsigned integer 8;
        option u16 code 205 = unsigned integer 16;
        option u32 code 206 = unsigned integer 32;
        option i32 code 207 = signed integer 32;
        option b code 208 = boolean;
        option t "a \"quoted\" \\ back\101\x42";
        option s 00:1a:2b:c;
        option a 10.1.2.3;
        option l 10.0.0.1, 10.0.0.2 ,10.0.0.3;
        option u8 255;
        option u16 65535;
        option u32 4294967295;
        option i32 -18000;
        option b false;
        option time-offset -3600;
        option dhcp-lease-time 3600;
        option dhcp-client-identifier "ser\000ial";
        option domain-search "a.example", "b.example";
        option routers gw;
    "#
    .replace("option routers gw;", "option host-name gw.local;")
    .as_str());
    let o = &c.options;
    assert_eq!(o.get(200), Some(&text("a \"quoted\" \\ backAB")));
    assert_eq!(
        o.get(201),
        Some(&OptionValue::Bytes(vec![0x00, 0x1a, 0x2b, 0x0c]))
    );
    assert_eq!(o.get(202), Some(&ips(&["10.1.2.3"])));
    assert_eq!(
        o.get(203),
        Some(&ips(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]))
    );
    assert_eq!(o.get(204), Some(&OptionValue::U8(255)));
    assert_eq!(o.get(205), Some(&OptionValue::U16(65535)));
    assert_eq!(o.get(206), Some(&OptionValue::U32(u32::MAX)));
    assert_eq!(o.get(207), Some(&OptionValue::I32(-18000)));
    assert_eq!(o.get(208), Some(&OptionValue::Bool(false)));
    assert_eq!(o.get(2), Some(&OptionValue::I32(-3600)));
    assert_eq!(o.get(51), Some(&OptionValue::U32(3600)));
    assert_eq!(o.get(61), Some(&OptionValue::Bytes(b"ser\0ial".to_vec())));
    assert_eq!(o.get(119), Some(&text("a.example b.example")));
    assert_eq!(o.get(12), Some(&text("gw.local")));
    assert_eq!(c.option_defs.len(), 9);
}

#[test]
fn statements_that_do_not_matter_are_skipped() {
    let c = ok(r#"
        ddns-update-style none;
        ddns-updates off;
        log-facility local7;
        update-static-leases on;
        one-lease-per-client true;
        deny unknown-clients;
        allow booting;
        ignore client-updates;
        key "k" { algorithm hmac-md5; secret "c2VjcmV0"; };
        not authoritative;
        ping-check true;
        min-lease-time 60;
        next-server 10.0.0.2;
        filename "pxelinux.0";
        server-identifier 10.0.0.1;
        option space onie;
    "#);
    assert!(!c.authoritative);
    assert!(c.ping_check);
    assert_eq!(c.min_lease_time, Some(60));
    assert_eq!(c.next_server, Some(ip("10.0.0.2")));
    assert_eq!(c.filename.as_deref(), Some("pxelinux.0"));
    assert_eq!(c.options.get(54), Some(&ips(&["10.0.0.1"])));
}

#[test]
fn shared_networks_groups_and_pools_flatten() {
    let c = ok(r#"
        shared-network mgmt {
            option domain-name "mgmt";
            default-lease-time 300;
            subnet 10.1.0.0 netmask 255.255.0.0 {
                option domain-name "inner";
                pool { range 10.1.1.1 10.1.1.9; range dynamic-bootp 10.1.2.1; }
            }
            subnet 192.168.0.0 netmask 255.255.255.0 { }
        }
        group {
            option default-url "http://g/image";
            next-server 10.9.9.9;
            host spine01 {
                option dhcp-client-identifier 00:53:45:52;
                serial-number "591654XK1902037";
                option default-url "http://own/image";
            }
            host spine02 { hardware ethernet 0:1:2:3:4:5; }
        }
        subnet 172.16.0.0 netmask 255.255.0.0 {
            group { option host-name "g"; host h3 { fixed-address 172.16.0.9; } }
        }
    "#);
    assert_eq!(c.subnets.len(), 3);
    let inner = &c.subnets[0];
    assert_eq!(inner.options.get(15), Some(&text("inner")));
    assert_eq!(inner.default_lease_time, Some(300));
    assert_eq!(
        inner.ranges,
        vec![
            (ip("10.1.1.1"), ip("10.1.1.9")),
            (ip("10.1.2.1"), ip("10.1.2.1"))
        ]
    );
    assert_eq!(c.subnets[1].options.get(15), Some(&text("mgmt")));
    assert_eq!(c.hosts.len(), 2);
    let spine01 = &c.hosts[0];
    assert_eq!(spine01.client_id, Some(vec![0, 0x53, 0x45, 0x52]));
    assert_eq!(spine01.serial.as_deref(), Some("591654XK1902037"));
    assert_eq!(spine01.options.get(114), Some(&text("http://own/image")));
    assert!(spine01.options.get(61).is_none());
    assert_eq!(spine01.next_server, Some(ip("10.9.9.9")));
    let spine02 = &c.hosts[1];
    assert_eq!(spine02.hardware_ethernet, Some([0, 1, 2, 3, 4, 5]));
    assert_eq!(spine02.options.get(114), Some(&text("http://g/image")));
    let h3 = &c.subnets[2].hosts[0];
    assert_eq!(h3.options.get(12), Some(&text("g")));
    assert_eq!(h3.fixed_address, Some(ip("172.16.0.9")));
}

#[test]
fn missing_semicolon() {
    let (line, column, token, message) =
        err("authoritative;\ndefault-lease-time 600\nmax-lease-time 7200;\n");
    assert_eq!((line, column, token.as_str()), (3, 1, "max-lease-time"));
    assert_eq!(message, "expected `;` after `default-lease-time 600`");
}

#[test]
fn unknown_option() {
    let (line, column, token, message) =
        err("subnet 10.0.0.0 netmask 255.0.0.0 {\n  option foo 1;\n}");
    assert_eq!((line, column, token.as_str()), (2, 10, "foo"));
    assert!(message.starts_with("unknown option `foo`"), "{message}");
}

#[test]
fn option_used_before_its_declaration() {
    let (line, column, token, message) =
        err("option my-url \"x\";\noption my-url code 250 = text;\n");
    assert_eq!((line, column, token.as_str()), (1, 8, "my-url"));
    assert!(
        message.contains("before its declaration on line 2"),
        "{message}"
    );
}

#[test]
fn range_outside_its_subnet() {
    let (line, column, token, message) = err("range 10.0.0.1 10.0.0.9;");
    assert_eq!((line, column, token.as_str()), (1, 1, "range"));
    assert_eq!(message, "`range` outside its subnet");
    let (line, column, token, message) =
        err("subnet 10.0.0.0 netmask 255.255.255.0 {\n range 10.0.0.1 10.0.1.9;\n}");
    assert_eq!((line, column, token.as_str()), (2, 17, "10.0.1.9"));
    assert_eq!(message, "10.0.1.9 is outside subnet 10.0.0.0/24");
    let (line, column, token, message) =
        err("subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.9 10.0.0.1; }");
    assert_eq!((line, column, token.as_str()), (1, 56, "10.0.0.1"));
    assert!(
        message.contains("first address is after the last"),
        "{message}"
    );
}

#[test]
fn netmasks_and_subnet_numbers() {
    let (line, column, token, message) = err("\n\nsubnet 10.0.0.0 netmask 255.0.255.0 { }");
    assert_eq!((line, column, token.as_str()), (3, 25, "255.0.255.0"));
    assert_eq!(message, "netmask 255.0.255.0 is not contiguous");
    let (_, column, token, message) = err("subnet 10.0.0.5 netmask 255.255.255.0 { }");
    assert_eq!((column, token.as_str()), (8, "10.0.0.5"));
    assert!(message.contains("host bits"), "{message}");
    let overlap = parse(
        Path::new("dhcpd.conf"),
        "subnet 10.0.0.0 netmask 255.0.0.0 { } subnet 10.1.0.0 netmask 255.255.0.0 { }",
    );
    assert!(
        matches!(overlap, Err(ZtpError::Invalid { .. })),
        "{overlap:?}"
    );
}

#[test]
fn host_names_where_addresses_go() {
    let (line, column, token, message) = err("option routers gw.local;");
    assert_eq!((line, column, token.as_str()), (1, 16, "gw.local"));
    assert!(message.contains("does not resolve host names"), "{message}");
    let (_, _, token, _) = err("host a { fixed-address leaf01.local; }");
    assert_eq!(token, "leaf01.local");
}

#[test]
fn bad_values() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("option time-offset 1.5;", 20, "1.5", "signed 32-bit"),
        (
            "option interface-mtu 70000;",
            22,
            "70000",
            "unsigned 16-bit",
        ),
        (
            "option dhcp-client-identifier zz:1;",
            31,
            "zz:1",
            "hex bytes",
        ),
        (
            "host h { hardware ethernet 00:11:22:33:44; }",
            28,
            "00:11:22:33:44",
            "MAC address",
        ),
        (
            "host h { hardware token-ring 00:11:22:33:44:55; }",
            19,
            "token-ring",
            "not supported",
        ),
        ("ping-check maybe;", 12, "maybe", "`true` or `false`"),
        ("default-lease-time ten;", 20, "ten", "number of seconds"),
        ("option x code 300 = text;", 15, "300", "1 to 254"),
        (
            "option x code 200 = signed integer 8;",
            36,
            "8",
            "not supported",
        ),
        ("option x code 200 = { text, text };", 21, "{", "record"),
        ("option domain-name \"\\q\";", 21, "\\q", "unknown escape"),
        ("option domain-name \"\\777\";", 21, "\\777", "over 255"),
        ("option domain-name \"open;", 20, "\"", "unterminated"),
        ("option domain-name \"\\xff\";", 20, "\"\\xff\"", "UTF-8"),
    ];
    for &(text, column, token, needle) in cases {
        let (line, c, t, message) = err(text);
        assert_eq!(
            (line, c, t.as_str()),
            (1, column, token),
            "{text}: {message}"
        );
        assert!(message.contains(needle), "{text}: {message}");
    }
}

#[test]
fn statements_in_the_wrong_place() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "hardware ethernet 00:11:22:33:44:55;",
            1,
            "hardware",
            "outside a host",
        ),
        ("match if exists routers;", 1, "match", "outside a class"),
        ("host h { host g { } }", 10, "host", "not allowed in a host"),
        (
            "subnet 10.0.0.0 netmask 255.0.0.0 { subnet 10.1.0.0 netmask 255.255.0.0 { } }",
            37,
            "subnet",
            "in a subnet",
        ),
        (
            "group { class \"c\" { match if exists routers; } }",
            9,
            "class",
            "in a group",
        ),
        (
            "class \"c\" { option routers 10.0.0.1; }",
            7,
            "\"c\"",
            "no `match if",
        ),
        (
            "class \"c\" { match option vendor-class-identifier; }",
            19,
            "option",
            "subclass",
        ),
        ("subclass \"c\" \"x\";", 1, "subclass", "not supported"),
        ("if exists routers { }", 1, "if", "class"),
        (
            "include \"/etc/other.conf\";",
            1,
            "include",
            "not supported",
        ),
        ("frobnicate on;", 1, "frobnicate", "unknown statement"),
        (
            "subnet 10.0.0.0 netmask 255.0.0.0 {\n range 10.0.0.1 10.0.0.2;\n",
            1,
            "end of file",
            "opened on line 1",
        ),
        ("}", 1, "}", "closes no block"),
        (
            "host h { fixed-address 10.0.0.1, 10.0.0.2; }",
            32,
            ",",
            "one fixed-address",
        ),
        (
            "class \"c\" { next-server 10.0.0.1; match if exists routers; }",
            13,
            "next-server",
            "class",
        ),
    ];
    for &(text, column, token, needle) in cases {
        let (_, c, t, message) = err(text);
        assert_eq!((c, t.as_str()), (column, token), "{text}: {message}");
        assert!(message.contains(needle), "{text}: {message}");
    }
}

#[test]
fn bad_conditions() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "class \"c\" { match if option vendor-class-identifier \"x\"; }",
            "\"x\"",
            "expected `=` or `!=`",
        ),
        (
            "class \"c\" { match if \"a\" = \"b\"; }",
            "\"a\"",
            "an option",
        ),
        (
            "class \"c\" { match if suffix (option host-name, 3) = \"x\"; }",
            "suffix",
            "expected `option NAME`",
        ),
        (
            "class \"c\" { match if substring (\"x\", 0, 1) = \"x\"; }",
            "\"x\"",
            "takes `option NAME`",
        ),
        (
            "class \"c\" { match if (exists routers; }",
            ";",
            "expected `)`",
        ),
        (
            "class \"c\" { match if exists nothing-known; }",
            "nothing-known",
            "unknown option",
        ),
        (
            "class \"c\" { match if option host-name ! \"x\"; }",
            "!",
            "`!=`",
        ),
    ];
    for &(text, token, needle) in cases {
        let (_, _, t, message) = err(text);
        assert_eq!(t, token, "{text}: {message}");
        assert!(message.contains(needle), "{text}: {message}");
    }
}

#[test]
fn builtin_names_and_declarations() {
    let table = super::builtin_options();
    for (name, code) in [
        ("subnet-mask", 1),
        ("time-offset", 2),
        ("routers", 3),
        ("domain-name-servers", 6),
        ("log-servers", 7),
        ("host-name", 12),
        ("domain-name", 15),
        ("broadcast-address", 28),
        ("ntp-servers", 42),
        ("dhcp-lease-time", 51),
        ("dhcp-server-identifier", 54),
        ("vendor-class-identifier", 60),
        ("dhcp-client-identifier", 61),
        ("tftp-server-name", 66),
        ("bootfile-name", 67),
        ("www-server", 72),
        ("user-class", 77),
        ("default-url", 114),
        ("domain-search", 119),
        ("loader-pathprefix", 210),
        ("cumulus-provision-url", 239),
    ] {
        assert!(
            table.iter().any(|&(n, c, _)| n == name && c == code),
            "{name}"
        );
    }
    let c = ok("option provision-url code 239 = text;\noption provision-url \"http://x/ztp\";");
    assert_eq!(c.options.get(239), Some(&text("http://x/ztp")));
    assert_eq!(c.option_name(239), "provision-url");
    assert_eq!(c.option_def("PROVISION-URL").map(|d| d.code), Some(239));
    assert_eq!(c.option_def("routers").map(|d| d.code), Some(3));
}

#[test]
fn strings_keep_comment_characters_and_lines_count_through_them() {
    let c = ok("option domain-name \"a#b\"; # trailing\noption host-name \"x\ny\";");
    assert_eq!(c.options.get(15), Some(&text("a#b")));
    assert_eq!(c.options.get(12), Some(&text("x\ny")));
    let (line, column, token, _) = err("option host-name \"x\ny\";\n  bogus;");
    assert_eq!((line, column, token.as_str()), (3, 3, "bogus"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep_groups = format!("{}{}", "group { ".repeat(10_000), "}".repeat(10_000));
    let (_, _, _, message) = err(&deep_groups);
    assert!(message.contains("nested more than"), "{message}");
    let deep_condition = format!(
        "class \"c\" {{ match if {}exists routers{}; }}",
        "not (".repeat(10_000),
        ")".repeat(10_000)
    );
    let (_, _, _, message) = err(&deep_condition);
    assert!(message.contains("nested more than"), "{message}");
    let fine = format!("{}{}", "group { ".repeat(20), "}".repeat(20));
    ok(&fine);
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = parse(Path::new("dhcpd.conf"), &text);
        }

        #[test]
        fn on_tokens_of_the_grammar(words in proptest::collection::vec(
            proptest::sample::select(vec![
                "subnet", "10.0.0.0", "netmask", "255.255.255.0", "{", "}", ";", "range", "10.0.0.5",
                "host", "h", "option", "routers", "class", "\"c\"", "match", "if", "substring", "(",
                ")", ",", "0", "=", "!=", "\"x\"", "and", "or", "not", "exists", "group", "pool",
                "hardware", "ethernet", "00:11:22:33:44:55", "code", "210", "text", "\"\\x4\"",
                "shared-network", "fixed-address", "# c\n", "\n", "authoritative", "key",
            ]),
            0..60,
        )) {
            let _ = parse(Path::new("dhcpd.conf"), &words.join(" "));
        }

        #[test]
        fn on_the_seed_cut_anywhere(cut in 0usize..SEED.len(), insert in "[{};\"#,=()a-z0-9. ]{0,3}") {
            let mut text: String = SEED.chars().take(cut).collect();
            text.push_str(&insert);
            text.extend(SEED.chars().skip(cut));
            let _ = parse(Path::new("dhcpd.conf"), &text);
        }
    }
}

#[test]
fn onie_documentation_style() {
    let c = ok(r#"
        subnet 10.0.1.0 netmask 255.255.255.0 {
            range 10.0.1.10 10.0.1.99;
            option default-url = "http://10.0.1.251/onie-installer-x86_64";
            on commit { set clip = binary-to-ascii(10, 8, ".", leased-address); }
        }
    "#);
    assert_eq!(
        c.subnets[0].options.get(114),
        Some(&text("http://10.0.1.251/onie-installer-x86_64"))
    );
    let (_, _, token, message) = err("option host-name = concat(\"a\", \"b\");");
    assert_eq!(token, "concat");
    assert!(
        message.contains("expressions are not supported"),
        "{message}"
    );
}

#[test]
fn the_seeds_file_on_disk_is_the_same_text() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed/dhcpd.conf");
    assert_eq!(std::fs::read_to_string(path).unwrap(), SEED);
}
