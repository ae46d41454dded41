//! NetQL's parser: every statement form, the print-and-parse round trip, error messages that
//! point at the offending token, and no panic whatever the input.

use std::net::IpAddr;
use std::time::Duration;

use netql::ast::*;
use netql::time::TimeError;
use netql::{ParseError, parse};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 2026-11-20T10:00:00Z in µs since the epoch.
const NOV_20_10H: i64 = 1_795_168_800_000_000;

fn parsed(input: &str) -> Statement {
    match parse(input) {
        Ok(statement) => statement,
        Err(error) => panic!("{input:?} should parse:\n{}", error.render(input)),
    }
}

fn query(input: &str) -> Query {
    match parsed(input) {
        Statement::Query(query) => query,
        other => panic!("{input:?} should be a plain query, got {other:?}"),
    }
}

fn command(input: &str) -> Command {
    query(input).command
}

fn error(input: &str) -> ParseError {
    match parse(input) {
        Ok(statement) => panic!("{input:?} should not parse, got {statement:?}"),
        Err(error) => error,
    }
}

/// Spans do not take part in equality, so expected nodes use a default one.
fn at() -> Span {
    Span::default()
}

fn family(name: &'static str) -> Family {
    Family { name, span: at() }
}

fn name(text: &str) -> Name {
    Name {
        text: text.to_string(),
        span: at(),
    }
}

fn value(kind: ValueKind) -> Value {
    Value { kind, span: at() }
}

fn word(text: &str) -> Value {
    value(ValueKind::Word(text.to_string()))
}

fn number(n: u64) -> Value {
    value(ValueKind::Number(n))
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn filter(field: &str, value: Value) -> Filter {
    Filter {
        field: name(field),
        value,
        span: at(),
    }
}

fn hosts(patterns: &[&str]) -> Option<Hosts> {
    let patterns = patterns
        .iter()
        .map(|p| HostPattern {
            text: p.to_string(),
            span: at(),
        })
        .collect();
    Some(Hosts {
        patterns,
        span: at(),
    })
}

fn when(kind: WhenKind) -> When {
    When { kind, span: at() }
}

fn ago(secs: u64) -> When {
    when(WhenKind::Ago(Duration::from_secs(secs)))
}

fn around(at_: When) -> Option<TimeClause> {
    Some(TimeClause::Around(Around {
        at: at_,
        span: at(),
    }))
}

fn between(from: When, to: When) -> Option<TimeClause> {
    Some(TimeClause::Between(Between {
        from,
        to,
        span: at(),
    }))
}

fn show(
    family_name: &'static str,
    target: Option<Value>,
    filters: Vec<Filter>,
    changes: bool,
) -> Command {
    Command::Show(Show {
        family: family(family_name),
        target,
        filters,
        changes,
        span: at(),
    })
}

fn item(kind: SelectItemKind) -> SelectItem {
    SelectItem { kind, span: at() }
}

fn condition(column: &str, op: CompareOp, value: Value) -> Condition {
    Condition {
        column: name(column),
        op,
        value,
        span: at(),
    }
}

/// The column where the `^` run starts on the rendered error's third line, and its length.
fn carets(rendered: &str) -> (usize, usize) {
    let line = rendered.lines().nth(2).expect("a caret line");
    let line = line.strip_prefix("  ").expect("indented caret line");
    let start = line.chars().take_while(|c| *c != '^').count();
    let width = line.chars().skip(start).take_while(|c| *c == '^').count();
    (start, width)
}

/// Asserts that `render` shows the input and underlines exactly the columns of the last `token`.
fn assert_underlines(input: &str, error: &ParseError, token: &str) {
    let rendered = error.render(input);
    let start = input.rfind(token).expect("token in input");
    let column = input[..start].chars().count();
    assert_eq!(
        rendered.lines().next(),
        Some(format!("error: {error}").as_str()),
        "{rendered}"
    );
    assert_eq!(
        rendered.lines().nth(1),
        Some(format!("  {input}").as_str()),
        "{rendered}"
    );
    assert_eq!(
        carets(&rendered),
        (column, token.chars().count()),
        "{rendered}"
    );
}

#[test]
fn netql_check_with_hostnames_time_and_json() {
    let expected = Query {
        hosts: hosts(&["spine01"]),
        command: Command::Check(Check {
            family: family("bgp"),
            span: at(),
        }),
        time: around(ago(10 * 3600)),
        json: true,
        span: at(),
    };
    assert_eq!(query("spine01 check bgp around 10h json"), expected);
    assert_eq!(
        query("SPINE01 Check BGP Around 10h JSON").command,
        expected.command
    );
}

#[test]
fn netql_every_check_family_parses() {
    for name in CHECK_FAMILIES {
        let Command::Check(check) = command(&format!("check {name}")) else {
            panic!("check {name}")
        };
        assert_eq!(check.family.name, *name);
    }
}

#[test]
fn netql_every_show_family_parses() {
    for name in SHOW_FAMILIES {
        let Command::Show(show) = command(&format!("show {}", name.to_uppercase())) else {
            panic!("show {name}")
        };
        assert_eq!(show.family.name, *name);
        assert_eq!(show.target, None);
        assert!(show.filters.is_empty());
    }
}

#[test]
fn netql_show_filters_are_field_value_pairs() {
    let q = query("leaf01,leaf02 show bgp vrf default asn 65020 state Established");
    assert_eq!(q.hosts, hosts(&["leaf01", "leaf02"]));
    let expected = vec![
        filter("vrf", word("default")),
        filter("asn", number(65020)),
        filter("state", word("Established")),
    ];
    assert_eq!(q.command, show("bgp", None, expected, false));
    assert_eq!(
        command("show interfaces type swp"),
        show("interfaces", None, vec![filter("type", word("swp"))], false)
    );
}

#[test]
fn netql_show_takes_a_leading_target() {
    let prefix = value(ValueKind::Prefix {
        addr: ip("10.0.0.0"),
        len: 24,
    });
    assert_eq!(
        command("show ip routes 10.0.0.0/24 vrf default"),
        show(
            "ip routes",
            Some(prefix),
            vec![filter("vrf", word("default"))],
            false
        )
    );
    assert_eq!(
        command("show interfaces swp1 type swp"),
        show(
            "interfaces",
            Some(word("swp1")),
            vec![filter("type", word("swp"))],
            false
        )
    );
    let mac = value(ValueKind::Mac([0x44, 0x38, 0x39, 0, 0, 1]));
    assert_eq!(
        command("show macs 44:38:39:00:00:01 vlan 10"),
        show("macs", Some(mac), vec![filter("vlan", number(10))], false)
    );
    assert_eq!(
        command("show ipv6 neighbors fe80::1"),
        show(
            "ipv6 neighbors",
            Some(value(ValueKind::Ip(ip("fe80::1")))),
            vec![],
            false
        )
    );
    assert_eq!(
        command("show ip addresses 10.1.1.1"),
        show(
            "ip addresses",
            Some(value(ValueKind::Ip(ip("10.1.1.1")))),
            vec![],
            false
        )
    );
}

#[test]
fn netql_values_are_classified() {
    let cases = [
        ("65020", ValueKind::Number(65020)),
        ("10.0.0.1", ValueKind::Ip(ip("10.0.0.1"))),
        ("2001:db8::1", ValueKind::Ip(ip("2001:db8::1"))),
        (
            "2001:db8::/32",
            ValueKind::Prefix {
                addr: ip("2001:db8::"),
                len: 32,
            },
        ),
        (
            "44:38:39:00:00:0a",
            ValueKind::Mac([0x44, 0x38, 0x39, 0, 0, 0x0a]),
        ),
        ("swp*", ValueKind::Glob("swp*".to_string())),
        ("swp6.2", ValueKind::Word("swp6.2".to_string())),
        ("10.0.0.0/33", ValueKind::Word("10.0.0.0/33".to_string())),
        ("\"ntp server\"", ValueKind::Str("ntp server".to_string())),
        ("'it\\'s'", ValueKind::Str("it's".to_string())),
        (
            "\"a \\\"b\\\" \\\\ c\"",
            ValueKind::Str("a \"b\" \\ c".to_string()),
        ),
        ("\"leaf*\"", ValueKind::Str("leaf*".to_string())),
    ];
    for (text, kind) in cases {
        let Command::Show(show) = command(&format!("show services name {text}")) else {
            panic!("{text}")
        };
        assert_eq!(show.filters[0].value.kind, kind, "{text}");
    }
}

#[test]
fn netql_show_changes_and_events() {
    assert_eq!(
        query("show bgp changes between 2d and now").time,
        between(ago(2 * 86_400), when(WhenKind::Now))
    );
    assert_eq!(command("show bgp changes"), show("bgp", None, vec![], true));
    assert_eq!(
        command("show changes"),
        Command::ShowChanges(ShowChanges {
            family: None,
            span: at()
        })
    );
    let q = query("show changes type ip routes between 1d4h and 1h");
    assert_eq!(
        q.command,
        Command::ShowChanges(ShowChanges {
            family: Some(family("ip routes")),
            span: at()
        })
    );
    assert_eq!(q.time, between(ago(28 * 3600), ago(3600)));
    let level = Level {
        severity: Severity::Error,
        span: at(),
    };
    let expected = Command::ShowEvents(ShowEvents {
        family: Some(family("bgp")),
        level: Some(level),
        span: at(),
    });
    assert_eq!(command("show events type bgp level error"), expected);
    assert_eq!(command("show events level ERROR type bgp"), expected);
    assert_eq!(
        command("show events"),
        Command::ShowEvents(ShowEvents {
            family: None,
            level: None,
            span: at()
        })
    );
}

#[test]
fn netql_show_tables_describe_and_explain() {
    assert_eq!(
        command("show tables"),
        Command::ShowTables(ShowTables { span: at() })
    );
    assert_eq!(
        command("describe BGP"),
        Command::Describe(Describe {
            table: name("bgp"),
            span: at()
        })
    );
    assert!(query("describe int_hops json").json);
    let Statement::Explain(explain) = parsed("explain spine01 check bgp around 10h") else {
        panic!("explain")
    };
    assert_eq!(explain.query, query("spine01 check bgp around 10h"));
    assert_eq!(
        parsed("EXPLAIN select * from bgp")
            .query()
            .command
            .keyword(),
        "select"
    );
}

#[test]
fn netql_select_every_clause() {
    let input = "SELECT hostname, count(*), count(peer), count(DISTINCT asn) FROM bgp \
                 WHERE state != Established AND hostname = leaf* \
                 GROUP BY hostname, vrf ORDER BY hostname DESC, vrf asc LIMIT 10 json";
    let expected = Select {
        items: vec![
            item(SelectItemKind::Column(name("hostname"))),
            item(SelectItemKind::CountAll),
            item(SelectItemKind::Count(name("peer"))),
            item(SelectItemKind::CountDistinct(name("asn"))),
        ],
        table: name("bgp"),
        conditions: vec![
            condition("state", CompareOp::NotEq, word("Established")),
            condition(
                "hostname",
                CompareOp::Eq,
                value(ValueKind::Glob("leaf*".to_string())),
            ),
        ],
        group_by: vec![name("hostname"), name("vrf")],
        order_by: vec![
            OrderKey {
                column: name("hostname"),
                descending: true,
                span: at(),
            },
            OrderKey {
                column: name("vrf"),
                descending: false,
                span: at(),
            },
        ],
        limit: Some(Number {
            value: 10,
            span: at(),
        }),
        span: at(),
    };
    let q = query(input);
    assert_eq!(q.command, Command::Select(expected));
    assert!(q.json);
    assert_eq!(
        parsed(input).to_string(),
        "select hostname, count(*), count(peer), count(distinct asn) from bgp \
         where state != Established and hostname = leaf* \
         group by hostname, vrf order by hostname desc, vrf limit 10 json"
    );
    let Command::Select(star) = command("select * from interfaces where hostname=spine0[12]")
    else {
        panic!()
    };
    assert_eq!(star.items, vec![item(SelectItemKind::All)]);
    assert_eq!(
        star.conditions[0].value.kind,
        ValueKind::Glob("spine0[12]".to_string())
    );
    assert!(star.group_by.is_empty() && star.order_by.is_empty() && star.limit.is_none());
}

#[test]
fn netql_trace_forms() {
    let expected = Trace {
        destination: value(ValueKind::Ip(ip("10.244.40.193"))),
        source: value(ValueKind::Ip(ip("10.244.6.6"))),
        vrf: None,
        vlan: None,
        span: at(),
    };
    assert_eq!(
        command("trace 10.244.40.193 from 10.244.6.6"),
        Command::Trace(expected)
    );
    let q = query("trace 44:38:39:00:00:01 vlan 10 from leaf01 vrf default around 1h json");
    let Command::Trace(trace) = q.command else {
        panic!("trace")
    };
    assert_eq!(
        trace.destination.kind,
        ValueKind::Mac([0x44, 0x38, 0x39, 0, 0, 1])
    );
    assert_eq!(trace.source, word("leaf01"));
    assert_eq!(trace.vrf, Some(word("default")));
    assert_eq!(
        trace.vlan,
        Some(Number {
            value: 10,
            span: at()
        })
    );
    assert_eq!(q.time, around(ago(3600)));
    assert!(q.json);
}

#[test]
fn netql_times_are_kept_unresolved() {
    let cases = [
        ("30s", WhenKind::Ago(Duration::from_secs(30))),
        ("10m", WhenKind::Ago(Duration::from_secs(600))),
        ("2d", WhenKind::Ago(Duration::from_secs(2 * 86_400))),
        ("1w", WhenKind::Ago(Duration::from_secs(604_800))),
        ("1d4h", WhenKind::Ago(Duration::from_secs(100_800))),
        ("NOW", WhenKind::Now),
        ("2026-11-20T10:00:00Z", WhenKind::At(NOV_20_10H)),
        ("2026-11-20T12:00:00+02:00", WhenKind::At(NOV_20_10H)),
        (
            "2026-11-20T10:00:00.25Z",
            WhenKind::At(NOV_20_10H + 250_000),
        ),
    ];
    for (text, kind) in cases {
        assert_eq!(
            query(&format!("check bgp around {text}")).time,
            around(when(kind)),
            "{text}"
        );
    }
    assert_eq!(
        parsed("check bgp around 2026-11-20T12:00:00+02:00").to_string(),
        "check bgp around 2026-11-20T10:00:00Z"
    );
    assert_eq!(
        parsed("check bgp around 90m").to_string(),
        "check bgp around 1h30m"
    );
}

#[test]
fn netql_hostname_globs() {
    for (input, pattern) in [
        ("leaf* show bgp", "leaf*"),
        ("spine0[12] check bgp", "spine0[12]"),
        ("exit? show interfaces", "exit?"),
        ("* check bgp", "*"),
    ] {
        let hosts = query(input).hosts.expect("hostnames");
        assert_eq!(hosts.patterns[0].text, pattern);
        assert!(hosts.patterns[0].is_glob(), "{input}");
    }
    let hosts = query("act-omp03-fc101 show agents")
        .hosts
        .expect("hostnames");
    assert!(!hosts.patterns[0].is_glob());
}

#[test]
fn netql_nodes_carry_spans() {
    let input = "spine01 check bgp around 10h";
    let q = query(input);
    assert_eq!(q.span, Span::new(0, input.len()));
    assert_eq!(q.hosts.expect("hosts").span, Span::new(0, 7));
    let Command::Check(check) = &q.command else {
        panic!("check")
    };
    assert_eq!(check.span, Span::new(8, 17));
    assert_eq!(check.family.span, Span::new(14, 17));
    let Some(TimeClause::Around(around)) = &q.time else {
        panic!("around")
    };
    assert_eq!(around.span, Span::new(18, 28));
    assert_eq!(around.at.span, Span::new(25, 28));
    let Command::Show(show) = command("show ip routes 10.0.0.0/24 vrf default") else {
        panic!("show")
    };
    assert_eq!(show.family.span, Span::new(5, 14));
    assert_eq!(show.target.expect("target").span, Span::new(15, 26));
    assert_eq!(show.filters[0].span, Span::new(27, 38));
    assert_eq!(show.filters[0].value.span, Span::new(31, 38));
}

const ROUND_TRIP: &[&str] = &[
    "check bgp",
    "spine01 check bgp around 10h",
    "leaf01,leaf02 check clag json",
    "spine0[12] check mtu between 2d and 1d",
    "* check agents",
    "check ntp around 2026-11-20T10:00:00Z",
    "check sensors around 2026-11-20T10:00:00.123456Z json",
    "check vxlan around now",
    "show agents",
    "show bgp vrf default",
    "spine01 show bgp around 10h",
    "show bgp asn 65020 state Established json",
    "show interfaces swp1",
    "show interfaces swp1 type swp",
    "leaf* show interfaces state down changes between 1w and now",
    "show ip routes 10.0.0.0/24 vrf default",
    "show ipv6 routes 2001:db8::/32",
    "show ip addresses 10.1.1.1",
    "show ipv6 neighbors fe80::1",
    "show ip neighbors vrf mgmt",
    "show macs 44:38:39:00:00:01 vlan 10",
    "show lldp swp51",
    "show services name \"ntp server\" status ok",
    "show services name \"say \\\"hi\\\" \\\\ bye\"",
    "show evpn vni 10100",
    "show int_drops switch_id 7",
    "show ztp_dhcp mac 44:38:39:00:00:02",
    "show kubernetes",
    "show bgp changes",
    "show changes",
    "show changes type bgp between 1d4h and 1h",
    "show changes type ipv6 routes",
    "show events",
    "show events type clag level critical around 1h",
    "exit? show events level info",
    "show tables",
    "show tables json",
    "describe bgp",
    "describe int_reports json",
    "trace 10.244.40.193 from 10.244.6.6",
    "trace 44:38:39:00:00:01 from leaf01 vrf default vlan 10 around 30m json",
    "select * from bgp",
    "select hostname, count(*) from interfaces where state != up group by hostname",
    "select count(distinct asn), count(peer) from bgp where hostname = leaf* and vrf = default \
     order by asn desc, peer limit 5 around 1h json",
    "explain spine01 check bgp around 10h",
    "explain select * from macs limit 1",
];

#[test]
fn netql_printing_and_parsing_again_gives_the_same_tree() {
    for input in ROUND_TRIP {
        let tree = parsed(input);
        let text = tree.to_string();
        assert_eq!(text, *input, "canonical text");
        assert_eq!(parsed(&text), tree, "{input}");
    }
}

#[test]
fn netql_non_canonical_text_round_trips_through_its_canonical_form() {
    for input in [
        "SPINE01   CHECK   BGP   AROUND   600s   JSON",
        "leaf01 , leaf02 show BGP VRF default",
        "show ip routes 010.0.0.1/24",
        "show macs 44:38:39:0A:0B:0C",
        "show ipv6 neighbors 2001:0db8:0000::0001",
        "check bgp between 168h and 00s",
        "select HOSTNAME,COUNT( * ) from BGP where VRF=default order by HOSTNAME asc",
        "show services name 'single'",
        "trace 10.0.0.1 vlan 0010 from leaf01",
    ] {
        let tree = parsed(input);
        assert_eq!(parsed(&tree.to_string()), tree, "{input} printed as {tree}");
    }
    assert_eq!(
        parsed("check bgp between 168h and 00s").to_string(),
        "check bgp between 1w and 0s"
    );
    assert_eq!(
        parsed("show macs 44:38:39:0A:0B:0C").to_string(),
        "show macs 44:38:39:0a:0b:0c"
    );
}

#[test]
fn netql_unknown_family_lists_the_families() {
    let input = "check bgpp";
    let err = error(input);
    assert!(matches!(err, ParseError::Unknown { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("unknown check family `bgpp`"), "{message}");
    assert!(message.contains(
        "agents, bgp, clag, evpn, interfaces, license, lnv, mtu, ntp, ospf, sensors, vlan, vxlan"
    ));
    assert!(message.contains("did you mean `bgp`?"), "{message}");
    assert_underlines(input, &err, "bgpp");

    let input = "leaf01 show ip rootes vrf default";
    let err = error(input);
    let message = err.to_string();
    assert!(
        message.contains("unknown show family `ip rootes`"),
        "{message}"
    );
    assert!(
        message.contains("ip routes") && message.contains("tables"),
        "{message}"
    );
    assert!(message.contains("did you mean `ip routes`?"), "{message}");
    assert_underlines(input, &err, "ip rootes");

    let err = error("check docker");
    assert!(err.to_string().contains("unknown check family `docker`"));
}

#[test]
fn netql_between_without_and_says_and_is_expected() {
    let input = "show bgp between 10h 2h";
    let err = error(input);
    assert_eq!(err.to_string(), "found `2h`, expected `and`");
    assert_underlines(input, &err, "2h");

    let input = "show bgp between 10h";
    let err = error(input);
    assert!(matches!(err, ParseError::UnexpectedEnd { .. }), "{err:?}");
    assert!(err.to_string().contains("expected `and`"), "{err}");
    assert_eq!(carets(&err.render(input)), (input.len(), 1));

    let err = error("check bgp around");
    assert!(
        err.to_string()
            .contains("expected a time: now, a duration like 30s"),
        "{err}"
    );
}

#[test]
fn netql_bad_duration_names_the_units() {
    let input = "spine01 check bgp around 10x json";
    let err = error(input);
    assert_eq!(
        err,
        ParseError::InvalidTime {
            span: Span::new(25, 28),
            source: TimeError::Duration("10x".to_string())
        }
    );
    let message = err.to_string();
    assert!(message.contains("`10x` is not a duration"), "{message}");
    assert!(message.contains("s, m, h, d, w"), "{message}");
    assert_underlines(input, &err, "10x");

    let input = "show bgp between 2026-13-45T10:00:00Z and now";
    let err = error(input);
    assert!(err.to_string().contains("is not a time"), "{err}");
    assert_underlines(input, &err, "2026-13-45T10:00:00Z");
}

#[test]
fn netql_unterminated_string_is_underlined_to_the_end() {
    let input = "show services name \"ntp server";
    let err = error(input);
    assert!(
        matches!(err, ParseError::UnterminatedString { quote: '"', .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("unterminated string: expected a closing \""),
        "{err}"
    );
    assert_underlines(input, &err, "\"ntp server");
}

#[test]
fn netql_errors_name_what_was_expected() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "check bgp extra",
            "found `extra`, expected `around`, `between` or `json`",
            "extra",
        ),
        (
            "leaf01 leaf02 check bgp",
            "found `leaf02`, expected `check`, `describe`",
            "leaf02",
        ),
        (
            "select * from bgp limit ten",
            "found `ten`, expected a number",
            "ten",
        ),
        (
            "trace leaf01 from leaf02",
            "found `leaf01`, expected an IP or MAC address",
            "leaf01",
        ),
        (
            "trace 10.0.0.1 from leaf01 vlan 5000",
            "expected a VLAN id from 1 to 4094",
            "5000",
        ),
        (
            "show events level loud",
            "unknown event level `loud`: expected one of info, warning, error, critical",
            "loud",
        ),
        (
            "show events colour red",
            "unknown show events option `colour`",
            "colour",
        ),
        ("show bgp vrf a vrf b", "`vrf` is given twice", "vrf"),
        (
            "leaf01 describe bgp",
            "hostnames cannot be given to `describe`",
            "leaf01",
        ),
        (
            "show tables around 1h",
            "a time cannot be given to `show tables`",
            "around 1h",
        ),
        (
            "leaf01 select * from bgp",
            "hostnames cannot be given to `select`",
            "leaf01",
        ),
        (
            "show tables changes",
            "`changes` cannot be given to `show tables`",
            "changes",
        ),
        ("show bgp 10.0.0.1 vrf", "expected a value after `vrf`", ""),
        (
            "show ip",
            "expected `addresses`, `routes` or `neighbors` after `ip`",
            "",
        ),
        (
            "show bgp \"vrf\" default",
            "expected a field name",
            "\"vrf\"",
        ),
        (
            "select * from bgp where 1x = 2",
            "found `1x`, expected a name",
            "1x",
        ),
        ("show bgp vrf café", "found `é`", "é"),
    ];
    for (input, message, token) in cases {
        let err = error(input);
        assert!(err.to_string().contains(message), "{input}: {err}");
        if token.is_empty() {
            assert_eq!(
                carets(&err.render(input)),
                (input.chars().count(), 1),
                "{input}"
            );
        } else {
            assert_underlines(input, &err, token);
        }
    }
    for input in ["", "   ", "leaf01"] {
        let err = error(input);
        assert!(err.to_string().contains("expected"), "{input:?}: {err}");
        assert!(err.render(input).contains('^'));
    }
    let err = error("leaf01");
    assert!(
        err.to_string().contains("`check`") && err.to_string().contains("`show`"),
        "{err}"
    );
}

#[test]
fn netql_render_counts_columns_in_characters() {
    let input = "show services name \"ünïcödé\" between 1h 2h";
    let err = error(input);
    assert_underlines(input, &err, "2h");
}

/// Words of the language and near misses, for the random statements below.
const VOCABULARY: &[&str] = &[
    "check",
    "show",
    "trace",
    "describe",
    "explain",
    "select",
    "from",
    "where",
    "and",
    "group",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "count",
    "distinct",
    "around",
    "between",
    "json",
    "changes",
    "tables",
    "events",
    "type",
    "level",
    "error",
    "bgp",
    "interfaces",
    "ip",
    "ipv6",
    "routes",
    "neighbors",
    "addresses",
    "vlan",
    "vrf",
    "default",
    "asn",
    "65020",
    "leaf01",
    "spine0[12]",
    "leaf*",
    "exit?",
    "*",
    ",",
    "(",
    ")",
    "=",
    "!=",
    "10h",
    "1d4h",
    "now",
    "10x",
    "2026-11-20T10:00:00Z",
    "2026-13-45T99:00:00Z",
    "10.0.0.1",
    "10.0.0.0/24",
    "fe80::1",
    "44:38:39:00:00:01",
    "\"quoted text\"",
    "'single'",
    "\"unterminated",
    "\\",
    "swp1",
    "0",
    "99999999999999999999999",
    "\"",
    "é",
    "\t",
    "\n",
];

fn random_piece(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => rng.random::<char>().to_string(),
        1 => char::from(rng.random_range(b' '..=b'~')).to_string(),
        _ => VOCABULARY[rng.random_range(0..VOCABULARY.len())].to_string(),
    }
}

/// Up to 14 pieces of vocabulary and random characters, mostly space-separated.
pub(crate) fn random_statement(rng: &mut StdRng) -> String {
    let mut text = String::new();
    for _ in 0..rng.random_range(0..14) {
        text.push_str(&random_piece(rng));
        if rng.random_bool(0.8) {
            text.push(' ');
        }
    }
    text
}

/// A valid statement with up to three words removed, inserted, replaced or upper-cased.
pub(crate) fn mutated_statement(rng: &mut StdRng) -> String {
    let base = ROUND_TRIP[rng.random_range(0..ROUND_TRIP.len())];
    let mut words: Vec<String> = base.split(' ').map(str::to_string).collect();
    for _ in 0..rng.random_range(0..4) {
        let at = rng.random_range(0..=words.len());
        let last = at.min(words.len().saturating_sub(1));
        match rng.random_range(0..4) {
            0 if !words.is_empty() => drop(words.remove(last)),
            1 if !words.is_empty() => words[last] = random_piece(rng),
            2 if !words.is_empty() => words[last] = words[last].to_uppercase(),
            _ => words.insert(at, random_piece(rng)),
        }
    }
    words.join(" ")
}

#[test]
fn netql_parse_never_panics_on_random_input() {
    let mut rng = StdRng::seed_from_u64(0x4e65_7451);
    let mut parsed_ok = 0;
    for round in 0..6000 {
        let input = if round % 2 == 0 {
            random_statement(&mut rng)
        } else {
            mutated_statement(&mut rng)
        };
        match parse(&input) {
            Ok(tree) => {
                parsed_ok += 1;
                let text = tree.to_string();
                assert_eq!(
                    parse(&text).as_ref(),
                    Ok(&tree),
                    "{input:?} printed as {text:?}"
                );
            }
            Err(err) => {
                let span = err.span();
                assert!(
                    span.start <= span.end && span.end <= input.len(),
                    "{input:?}: {err:?}"
                );
                assert!(err.render(&input).contains('^'), "{input:?}");
            }
        }
    }
    assert!(parsed_ok > 300, "only {parsed_ok} random statements parsed");
}
