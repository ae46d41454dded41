//! NetQL's parser: every statement form as the tree it parses to, and the spans on its nodes.
//! The print-and-parse round trip is in `netql_roundtrip`, the error messages in `netql_errors`.

use std::net::IpAddr;
use std::time::Duration;

use netql::ast::*;
use netql::family::{CHECK_FAMILIES, SHOW_FAMILIES};
use netql::parse;

/// 2026-11-20T10:00:00Z in µs since the epoch.
const NOV_20_10H: i64 = 1_795_168_800_000_000;

pub(crate) fn parsed(input: &str) -> Statement {
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
    compared(field, CompareOp::Eq, value)
}

fn compared(field: &str, op: CompareOp, value: Value) -> Filter {
    Filter {
        field: name(field),
        op,
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
        filter: None,
        span: at(),
    })
}

fn item(kind: SelectItemKind) -> SelectItem {
    SelectItem { kind, span: at() }
}

fn item_of(expr: Expr) -> SelectItem {
    item(SelectItemKind::Expr { expr, alias: None })
}

fn expr(kind: ExprKind) -> Expr {
    Expr::new(kind, at())
}

fn value_expr(value: Value) -> Expr {
    expr(ExprKind::Value(value))
}

fn column(text: &str) -> Expr {
    value_expr(word(text))
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    expr(ExprKind::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    })
}

fn condition(field: &str, op: CompareOp, value: Value) -> Expr {
    binary(BinaryOp::Compare(op), column(field), value_expr(value))
}

fn call(function: &str, distinct: bool, args: Vec<Expr>) -> Expr {
    expr(ExprKind::Call {
        function: name(function),
        distinct,
        args,
    })
}

#[test]
fn netql_check_with_hostnames_time_and_json() {
    let expected = Query {
        hosts: hosts(&["spine01"]),
        command: Command::Check(Check {
            family: family("bgp"),
            filter: None,
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
    for name in CHECK_FAMILIES.iter() {
        let Command::Check(check) = command(&format!("check {name}")) else {
            panic!("check {name}")
        };
        assert_eq!(check.family.name, *name);
    }
}

#[test]
fn netql_every_show_family_parses() {
    for name in SHOW_FAMILIES.iter() {
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
fn netql_show_int_families_and_comparisons() {
    assert_eq!(
        command("show int hops spine01 latency > 1000 occupancy >= 300"),
        show(
            "int hops",
            Some(word("spine01")),
            vec![
                compared("latency", CompareOp::Gt, number(1000)),
                compared("occupancy", CompareOp::GtEq, number(300)),
            ],
            false
        )
    );
    // `=` is the pair's other spelling: it goes with the pairs, before the other comparisons.
    assert_eq!(
        command("show int flows dst_port < 1024 src_ip = 10.1.1.10 protocol 6"),
        show(
            "int flows",
            None,
            vec![
                filter("protocol", number(6)),
                filter("src_ip", value(ValueKind::Ip(ip("10.1.1.10")))),
                compared("dst_port", CompareOp::Lt, number(1024)),
            ],
            false
        )
    );
    // A comparison stands apart from the words' count: `leaf01` is still the target.
    assert_eq!(
        command("show int drops hop != 0 leaf01 reason \"ACL deny\""),
        show(
            "int drops",
            Some(word("leaf01")),
            vec![
                filter("reason", value(ValueKind::Str("ACL deny".into()))),
                compared("hop", CompareOp::NotEq, number(0)),
            ],
            false
        )
    );
    // A range names a field twice, with two operators.
    let Command::Show(range) = command("show int hops latency > 100 latency <= 5000") else {
        panic!("show")
    };
    assert_eq!(range.filters.len(), 2);
    let q = query("leaf0* check int between 13h and 12h json");
    let Command::Check(check) = &q.command else {
        panic!("check")
    };
    assert_eq!(check.family.name, "int");
    assert!(q.json);
    for family in [
        "reports",
        "hops",
        "drops",
        "congestion",
        "loss",
        "flows",
        "errors",
    ] {
        let Command::Show(show) = command(&format!("show INT {family}")) else {
            panic!("show int {family}")
        };
        assert_eq!(show.family.name, format!("int {family}"));
    }
}

#[test]
fn netql_select_compares_numbers() {
    let Command::Select(select) = command("select * from int_hops where hop_latency_ns > 2048")
    else {
        panic!("select")
    };
    assert_eq!(
        select.filter,
        Some(condition("hop_latency_ns", CompareOp::Gt, number(2048)))
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
            item_of(column("hostname")),
            item_of(call("count", false, vec![expr(ExprKind::Star)])),
            item_of(call("count", false, vec![column("peer")])),
            item_of(call("count", true, vec![column("asn")])),
        ],
        table: name("bgp"),
        filter: Some(binary(
            BinaryOp::And,
            condition("state", CompareOp::NotEq, word("Established")),
            condition(
                "hostname",
                CompareOp::Eq,
                value(ValueKind::Glob("leaf*".to_string())),
            ),
        )),
        group_by: vec![column("hostname"), column("vrf")],
        having: None,
        order_by: vec![
            OrderKey {
                expr: column("hostname"),
                descending: true,
                span: at(),
            },
            OrderKey {
                expr: column("vrf"),
                descending: false,
                span: at(),
            },
        ],
        limit: Some(Number {
            value: 10,
            span: at(),
        }),
        offset: None,
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
        star.filter,
        Some(condition(
            "hostname",
            CompareOp::Eq,
            value(ValueKind::Glob("spine0[12]".to_string()))
        ))
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
        detail: false,
        bidir: false,
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
    let q = query("trace server03 from server02 bidir vrf default detail");
    let Command::Trace(trace) = q.command else {
        panic!("trace")
    };
    assert_eq!(trace.destination, word("server03"));
    assert!(trace.bidir && trace.detail);
    assert_eq!(trace.vrf, Some(word("default")));
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
    let Command::Show(show) = command("show int hops latency > 1000") else {
        panic!("show")
    };
    assert_eq!(show.family.span, Span::new(5, 13));
    assert_eq!(show.filters[0].span, Span::new(14, 28));
    assert_eq!(show.filters[0].field.span, Span::new(14, 21));
    assert_eq!(show.filters[0].value.span, Span::new(24, 28));
}
