//! Property tests of NetQL's expressions: random expressions print and parse back to the same
//! tree, and a random `select` answers the same rows as the same question in SQL (`sonde sql`'s
//! engine, over `state_at`) on the reference fabric.

use std::sync::OnceLock;

use netql::ast::{BinaryOp, Command, CompareOp, Expr, ExprKind, Name, Span, Value, ValueKind};
use proptest::prelude::*;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::EngineCatalog;

use crate::fabric;
use crate::netql_parse::parsed;

fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn value(kind: ValueKind) -> Expr {
    node(ExprKind::Value(Value {
        kind,
        span: Span::default(),
    }))
}

fn boxed(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

const COLUMNS: &[&str] = &["asn", "peer_asn", "pfx_rx_ipv4", "hold_time", "keepalive"];

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::NotEq),
        Just(CompareOp::Lt),
        Just(CompareOp::LtEq),
        Just(CompareOp::Gt),
        Just(CompareOp::GtEq),
    ]
}

/// Integer columns and small numbers.
fn numeric_leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        proptest::sample::select(COLUMNS)
            .prop_map(|column| value(ValueKind::Word(column.to_string()))),
        (0u64..70_000).prop_map(|n| value(ValueKind::Number(n))),
        (0u64..8).prop_map(|n| value(ValueKind::Number(n))),
    ]
}

/// Sums and products of numeric leaves: what SQL and NetQL compute alike. (Not negation: NetQL
/// negates an unsigned counter as `0 - x`, which SQL's `-x` refuses.)
fn numeric() -> impl Strategy<Value = Expr> {
    numeric_leaf().prop_recursive(2, 6, 2, |inner| {
        (
            prop_oneof![
                Just(BinaryOp::Add),
                Just(BinaryOp::Subtract),
                Just(BinaryOp::Multiply)
            ],
            inner.clone(),
            inner,
        )
            .prop_map(|(op, left, right)| {
                node(ExprKind::Binary {
                    op,
                    left: boxed(left),
                    right: boxed(right),
                })
            })
    })
}

fn predicate() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (compare_op(), numeric(), numeric()).prop_map(|(op, left, right)| node(ExprKind::Binary {
            op: BinaryOp::Compare(op),
            left: boxed(left),
            right: boxed(right),
        })),
        (
            numeric(),
            proptest::collection::vec(numeric_leaf(), 1..4),
            any::<bool>()
        )
            .prop_map(|(expr, list, negated)| node(ExprKind::InList {
                expr: boxed(expr),
                list,
                negated,
            })),
        (numeric(), numeric_leaf(), numeric_leaf(), any::<bool>()).prop_map(
            |(expr, low, high, negated)| node(ExprKind::Between {
                expr: boxed(expr),
                low: boxed(low),
                high: boxed(high),
                negated,
            })
        ),
        (numeric(), any::<bool>()).prop_map(|(expr, negated)| node(ExprKind::IsNull {
            expr: boxed(expr),
            negated,
        })),
    ]
}

/// Conditions over the numeric columns, with `and`, `or` and `not`.
fn condition() -> impl Strategy<Value = Expr> {
    predicate().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                prop_oneof![Just(BinaryOp::And), Just(BinaryOp::Or)],
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, left, right)| node(ExprKind::Binary {
                    op,
                    left: boxed(left),
                    right: boxed(right),
                })),
            inner.prop_map(|expr| node(ExprKind::Not(boxed(expr)))),
        ]
    })
}

/// Any value the lexer reads back as itself.
fn any_value() -> impl Strategy<Value = Expr> {
    prop_oneof![
        numeric_leaf(),
        "[a-z_][a-z0-9_]{0,8}"
            .prop_filter("not a keyword", |w| !netql::ast::KEYWORDS
                .contains(&w.as_str()))
            .prop_map(|w| value(ValueKind::Word(w))),
        ".{0,8}".prop_map(|text| value(ValueKind::Str(text))),
        Just(value(ValueKind::Glob("leaf*".into()))),
        Just(value(ValueKind::Ip("10.0.0.1".parse().expect("address")))),
    ]
}

fn call(function: &str, distinct: bool, args: Vec<Expr>) -> Expr {
    node(ExprKind::Call {
        function: Name {
            text: function.to_string(),
            span: Span::default(),
        },
        distinct,
        args,
    })
}

/// Every kind of node, for the print-and-parse round trip.
fn any_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        any_value(),
        Just(call("count", false, vec![node(ExprKind::Star)])),
        Just(call("now", false, Vec::new())),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let op = prop_oneof![
            Just(BinaryOp::Or),
            Just(BinaryOp::And),
            compare_op().prop_map(BinaryOp::Compare),
            Just(BinaryOp::Add),
            Just(BinaryOp::Subtract),
            Just(BinaryOp::Multiply),
            Just(BinaryOp::Divide),
            Just(BinaryOp::Modulo),
        ];
        prop_oneof![
            (op, inner.clone(), inner.clone()).prop_map(|(op, left, right)| node(
                ExprKind::Binary {
                    op,
                    left: boxed(left),
                    right: boxed(right),
                }
            )),
            inner
                .clone()
                .prop_map(|expr| node(ExprKind::Not(boxed(expr)))),
            inner
                .clone()
                .prop_map(|expr| node(ExprKind::Negative(boxed(expr)))),
            (
                inner.clone(),
                proptest::collection::vec(inner.clone(), 1..3),
                any::<bool>()
            )
                .prop_map(|(expr, list, negated)| node(ExprKind::InList {
                    expr: boxed(expr),
                    list,
                    negated,
                })),
            (inner.clone(), inner.clone(), inner.clone(), any::<bool>()).prop_map(
                |(expr, low, high, negated)| node(ExprKind::Between {
                    expr: boxed(expr),
                    low: boxed(low),
                    high: boxed(high),
                    negated,
                })
            ),
            (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(expr, pattern, negated)| {
                node(ExprKind::Like {
                    expr: boxed(expr),
                    pattern: boxed(pattern),
                    negated,
                })
            }),
            (inner.clone(), any::<bool>()).prop_map(|(expr, negated)| node(ExprKind::IsNull {
                expr: boxed(expr),
                negated,
            })),
            (
                proptest::sample::select(&["lower", "max", "coalesce", "count"][..]),
                proptest::collection::vec(inner, 1..3)
            )
                .prop_map(|(function, args)| {
                    let distinct = function == "count" && args.len() == 1;
                    call(function, distinct, args)
                }),
        ]
    })
}

fn filter_of(statement: &str) -> Option<Expr> {
    match &parsed(statement).query().command {
        Command::Select(select) => select.filter.clone(),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn netql_random_expressions_print_and_parse_back(expr in any_expr()) {
        let statement = format!("select hostname from bgp where {expr}");
        prop_assert_eq!(filter_of(&statement), Some(expr), "{}", statement);
    }
}

/// The reference fabric in a store, loaded once for every case.
fn fabric_engine() -> &'static (tokio::runtime::Runtime, Engine, tempfile::TempDir) {
    static ENGINE: OnceLock<(tokio::runtime::Runtime, Engine, tempfile::TempDir)> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let dir = tempfile::tempdir().expect("temporary directory");
        let engine = runtime.block_on(async {
            let engine = Engine::open(EngineConfig::local(dir.path()))
                .await
                .expect("store");
            for (table, batch) in fabric::reference_batches() {
                engine.append(table, &batch).await.expect("append");
            }
            engine
        });
        (runtime, engine, dir)
    })
}

fn rows(batches: &[arrow::array::RecordBatch]) -> Vec<String> {
    let text = netql::output::json_rows(batches).expect("rows as JSON");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON rows");
    rows.iter().map(|row| row.to_string()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn netql_random_select_answers_as_sql_does(condition in condition()) {
        let (runtime, engine, _dir) = fabric_engine();
        let at = chrono::DateTime::from_timestamp_micros(fabric::NOW - 3_600_000_000)
            .expect("instant")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let netql = format!(
            "select hostname, vrf, peer from bgp where {condition} \
             order by hostname, vrf, peer around {at}"
        );
        let sql = format!(
            "SELECT hostname, vrf, peer FROM state_at('bgp', '{at}') WHERE {condition} \
             ORDER BY hostname, vrf, peer"
        );
        let (ours, theirs) = runtime.block_on(async {
            let catalog = EngineCatalog::new(engine.clone());
            let ours = netql::run(&catalog, &netql, fabric::NOW).await;
            let theirs = match engine.sql(&sql).await {
                Ok(frame) => frame.collect().await.map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            (ours, theirs)
        });
        let ours = ours.map_err(|e| e.render(&netql));
        match (ours, theirs) {
            (Ok(answer), Ok(batches)) => {
                prop_assert_eq!(rows(&answer.batches), rows(&batches), "{}\n{}", netql, sql);
            }
            (Err(ours), Err(_)) => prop_assert!(!ours.is_empty()),
            (ours, theirs) => prop_assert!(
                false,
                "{netql} gave {:?}, {sql} gave {:?}",
                ours.map(|a| a.rows()),
                theirs.map(|b| b.len())
            ),
        }
    }
}
