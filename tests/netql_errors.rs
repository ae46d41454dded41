//! NetQL's parse errors: what each names (the families, the expected tokens, the units) and the
//! token it underlines, counted in characters.

use netql::ast::Span;
use netql::time::TimeError;
use netql::{ParseError, parse};

fn error(input: &str) -> ParseError {
    match parse(input) {
        Ok(statement) => panic!("{input:?} should not parse, got {statement:?}"),
        Err(error) => error,
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
            "found `extra`, expected `around`, `between`, `json` or `where`",
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
            "trace 10.0.0.0/24 from leaf02",
            "found `10.0.0.0/24`, expected an IP or MAC address or a hostname",
            "10.0.0.0/24",
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
            "show int",
            "expected `reports`, `hops`, `drops`, `congestion`, `loss`, `flows` or `errors` after `int`",
            "",
        ),
        ("show int hop", "unknown show family `int hop`", "int hop"),
        ("show int hops latency >", "expected a name or value", ""),
        (
            "show latency > 5",
            "found `latency`, expected a family to show",
            "latency",
        ),
        (
            "show int latency > 5 hops",
            "found `latency`, expected the family's second word",
            "latency",
        ),
        (
            "show int hops latency > 5 latency > 6",
            "`latency` is given twice",
            "latency",
        ),
        (
            "show events level > 1",
            "found `level`, expected no comparison here",
            "level",
        ),
        ("show int hops 5 > 4", "expected a field name", "5"),
        (
            "show bgp \"vrf\" default",
            "expected a field name",
            "\"vrf\"",
        ),
        (
            "select * from bgp where asn <> 2",
            "found `>`, expected",
            ">",
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
