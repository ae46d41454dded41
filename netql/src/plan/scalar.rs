//! NetQL expressions to DataFusion's, over the rows they filter or compute from.
//!
//! - A word is a column when the rows have one by that name (`show`'s aliases such as
//!   `interface` included); else, where a value is expected (right of a comparison, in an `in`
//!   list, the ends of a `between`, a `like` pattern) it is a value, and anywhere else it must be
//!   a number, a duration (`1h`, an interval), an RFC 3339 instant or `true`/`false`, or it is
//!   an unknown field.
//! - A column compared with a value matches as `show`'s filters do: ignoring case, a glob
//!   (`leaf*`) matching, an address matching a prefix column that holds it, a list column
//!   containing the value; `<`, `<=`, `>`, `>=` compare numbers, instants with timestamps, text
//!   with text. Any other comparison (two columns, arithmetic) is DataFusion's own.
//! - Aggregates are planned by `select`; after the aggregation each one, and each `group by`
//!   key, is read back as the column its canonical text names.

use arrow::datatypes::{DataType, IntervalMonthDayNano};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, ScalarUDF, binary_expr, ident, lit};
use sonde_schema::TableDef;
use std::sync::Arc;

use crate::ast::{self, BinaryOp, CompareOp, ExprKind, Span, Value, ValueKind};
use crate::error::{Error, Result};
use crate::parse_error::closest;
use crate::time::parse_duration;

use super::expr::{compare, text, time_lit};

/// The columns an expression may name: how each is typed, the column it is, its type.
pub(crate) struct Scope {
    /// What the rows are, for errors: `bgp`, `check bgp`.
    what: String,
    columns: Vec<ScopeColumn>,
    /// The statement's `now`, µs since the epoch.
    now: i64,
}

struct ScopeColumn {
    typed: String,
    column: Column,
    data_type: DataType,
}

impl ScopeColumn {
    fn expr(&self) -> Expr {
        Expr::Column(self.column.clone())
    }
}

/// The relations of a `select` that reads a row's peer (`peer.state`): the row's own, and its
/// peer's.
pub(crate) const SELF: &str = "t";
pub(crate) const PEER: &str = "p";
/// How a peer's column is typed: `peer.asn`.
pub(crate) const PEER_PREFIX: &str = "peer.";

/// Names `show` and `select` accept for a table's columns besides their own.
const ALIASES: &[(&str, &str)] = &[
    ("interface", "ifname"),
    ("port", "ifname"),
    ("time", "timestamp"),
    ("node", "hostname"),
    ("host", "hostname"),
];

impl Scope {
    /// A table's columns, by their names and `show`'s aliases.
    pub(crate) fn of_table(table: &TableDef, now: i64) -> Scope {
        Scope {
            what: table.name.to_string(),
            columns: table_columns(table, None, ""),
            now,
        }
    }

    /// A table joined with its peers' rows: its columns as relation [`SELF`], and the peer's as
    /// `peer.<column>` of relation [`PEER`].
    pub(crate) fn with_peer(table: &TableDef, now: i64) -> Scope {
        let mut columns = table_columns(table, Some(SELF), "");
        columns.extend(table_columns(table, Some(PEER), PEER_PREFIX));
        Scope {
            what: table.name.to_string(),
            columns,
            now,
        }
    }

    /// The columns of computed rows (a check's `Hostname`, `Reason`, …), typed in lower case with
    /// `_` for a space: `reason`, `last_changed`.
    pub(crate) fn of_rows(what: &str, schema: &DFSchema, now: i64) -> Scope {
        let columns = schema
            .fields()
            .iter()
            .map(|field| ScopeColumn {
                typed: field.name().to_lowercase().replace(' ', "_"),
                column: Column::new_unqualified(field.name()),
                data_type: field.data_type().clone(),
            })
            .collect();
        Scope {
            what: what.to_string(),
            columns,
            now,
        }
    }

    fn find(&self, word: &str) -> Option<&ScopeColumn> {
        let word = word.to_lowercase();
        self.columns.iter().find(|c| c.typed == word)
    }

    fn unknown(&self, word: &str, span: Span) -> Error {
        let names: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| {
                c.typed
                    .ends_with(&c.column.name.to_lowercase().replace(' ', "_"))
            })
            .map(|c| c.typed.as_str())
            .collect();
        let suggestion = closest(&word.to_lowercase(), &names)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Error::plan(
            span,
            format!(
                "`{}` has no field `{word}`{suggestion}; its fields are {}",
                self.what,
                names.join(", ")
            ),
        )
    }
}

/// A table's columns and `show`'s aliases, typed with `prefix`, in `relation` if given.
fn table_columns(table: &TableDef, relation: Option<&str>, prefix: &str) -> Vec<ScopeColumn> {
    let schema = table.schema();
    let column = |name: &str| match relation {
        Some(relation) => Column::new(Some(relation), name),
        None => Column::new_unqualified(name),
    };
    let mut columns: Vec<ScopeColumn> = schema
        .fields()
        .iter()
        .map(|field| ScopeColumn {
            typed: format!("{prefix}{}", field.name()),
            column: column(field.name()),
            data_type: field.data_type().clone(),
        })
        .collect();
    for (alias, name) in ALIASES {
        if let Ok(field) = schema.field_with_name(name) {
            columns.push(ScopeColumn {
                typed: format!("{prefix}{alias}"),
                column: column(name),
                data_type: field.data_type().clone(),
            });
        }
    }
    columns
}

/// The name a select's column item gets: its column's, `peer.` before a peer's.
pub(crate) fn output_name(column: &Column) -> String {
    match column.relation.as_ref().map(|r| r.table()) {
        Some(PEER) => format!("{PEER_PREFIX}{}", column.name),
        _ => column.name.clone(),
    }
}

/// The column a bare word names, if the scope has one.
fn named_column<'s>(scope: &'s Scope, expr: &ast::Expr) -> Option<&'s ScopeColumn> {
    match &expr.kind {
        ExprKind::Value(Value {
            kind: ValueKind::Word(word),
            ..
        }) => scope.find(word),
        _ => None,
    }
}

/// What an aggregation made: each `group by` key and each aggregate, as the column named by its
/// canonical text.
#[derive(Default)]
pub(crate) struct Grouping {
    pub keys: Vec<(ast::Expr, String)>,
    pub aggregates: Vec<(ast::Expr, String)>,
}

/// Translates expressions over one scope; with a [`Grouping`], over the rows it made.
pub(crate) struct Translator<'a> {
    pub scope: &'a Scope,
    pub grouping: Option<&'a Grouping>,
}

impl Translator<'_> {
    pub(crate) fn new(scope: &Scope) -> Translator<'_> {
        Translator {
            scope,
            grouping: None,
        }
    }

    /// A condition or a computed value.
    pub(crate) fn expr(&self, expr: &ast::Expr) -> Result<Expr> {
        if let Some(grouping) = self.grouping {
            let column = named_column(self.scope, expr).map(|c| &c.column);
            let same_key = |key: &ast::Expr| {
                key == expr
                    || column.is_some_and(|c| {
                        named_column(self.scope, key).map(|k| &k.column) == Some(c)
                    })
            };
            if let Some((_, name)) = grouping.keys.iter().find(|(key, _)| same_key(key)) {
                return Ok(ident(name));
            }
            if expr.is_aggregate() {
                return grouping
                    .aggregates
                    .iter()
                    .find(|(aggregate, _)| aggregate == expr)
                    .map(|(_, name)| ident(name))
                    .ok_or_else(|| Error::Internal(format!("aggregate {expr} was not planned")));
            }
            if let Some(column) = named_column(self.scope, expr) {
                return Err(Error::plan(
                    expr.span,
                    format!(
                        "`{}` must be in `group by` or inside an aggregate",
                        column.typed
                    ),
                ));
            }
        } else if expr.is_aggregate() {
            return Err(Error::plan(
                expr.span,
                format!(
                    "`{expr}` is an aggregate: it goes in a select list, `having` or `order by`"
                ),
            ));
        }
        match &expr.kind {
            ExprKind::Value(value) => self.operand(value),
            ExprKind::Star => Err(Error::plan(expr.span, "`*` stands only in `count(*)`")),
            ExprKind::Not(inner) => Ok(!self.expr(inner)?),
            // `0 - x` rather than `-x`: counters are unsigned, and their negation is signed.
            ExprKind::Negative(inner) => Ok(lit(0i64) - self.expr(inner)?),
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right),
            ExprKind::InList {
                expr: subject,
                list,
                negated,
            } => {
                let any = list
                    .iter()
                    .map(|item| self.compare(CompareOp::Eq, subject, item))
                    .reduce(|a, b| Ok(a?.or(b?)))
                    .unwrap_or_else(|| Ok(lit(false)))?;
                Ok(if *negated { !any } else { any })
            }
            ExprKind::Between {
                expr: subject,
                low,
                high,
                negated,
            } => {
                let inside = self
                    .compare(CompareOp::GtEq, subject, low)?
                    .and(self.compare(CompareOp::LtEq, subject, high)?);
                Ok(if *negated { !inside } else { inside })
            }
            ExprKind::Like {
                expr: subject,
                pattern,
                negated,
            } => Ok(Expr::Like(Like::new(
                *negated,
                Box::new(text(self.expr(subject)?)),
                Box::new(text(self.value_or_column(pattern)?)),
                None,
                true,
            ))),
            ExprKind::IsNull {
                expr: subject,
                negated,
            } => {
                let value = self.expr(subject)?;
                Ok(if *negated {
                    value.is_not_null()
                } else {
                    value.is_null()
                })
            }
            ExprKind::Call { function, args, .. } => self.call(function, args, expr.span),
        }
    }

    fn binary(&self, op: BinaryOp, left: &ast::Expr, right: &ast::Expr) -> Result<Expr> {
        let operator = match op {
            BinaryOp::Compare(op) => return self.compare(op, left, right),
            BinaryOp::Or => Operator::Or,
            BinaryOp::And => Operator::And,
            BinaryOp::Add => Operator::Plus,
            BinaryOp::Subtract => Operator::Minus,
            BinaryOp::Multiply => Operator::Multiply,
            BinaryOp::Divide => Operator::Divide,
            BinaryOp::Modulo => Operator::Modulo,
        };
        Ok(binary_expr(self.expr(left)?, operator, self.expr(right)?))
    }

    /// `left <op> right`: a column against a value matches as `show`'s filters do; anything
    /// else compares as DataFusion does.
    fn compare(&self, op: CompareOp, left: &ast::Expr, right: &ast::Expr) -> Result<Expr> {
        let grouped = self.grouping.is_some();
        if !grouped {
            if let (Some(column), ExprKind::Value(value)) =
                (named_column(self.scope, left), &right.kind)
                && named_column(self.scope, right).is_none()
            {
                return self.column_against_value(column, op, value);
            }
            if let (ExprKind::Value(value), Some(column)) =
                (&left.kind, named_column(self.scope, right))
                && named_column(self.scope, left).is_none()
            {
                return self.column_against_value(column, flipped(op), value);
            }
        }
        let left = self.expr(left)?;
        let right = self.value_or_column(right)?;
        Ok(binary_expr(left, operator(op), right))
    }

    fn column_against_value(
        &self,
        column: &ScopeColumn,
        op: CompareOp,
        value: &Value,
    ) -> Result<Expr> {
        let expr = column.expr();
        let plain = match (&column.data_type, &value.kind) {
            (DataType::Timestamp(..), _) => Some(self.instant(value)?),
            (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View, ValueKind::Str(text))
                if op.is_ordering() =>
            {
                Some(lit(text.clone()))
            }
            _ => None,
        };
        match plain {
            Some(bound) => Ok(binary_expr(expr, operator(op), bound)),
            None => compare(expr, &column.typed, &column.data_type, op, value),
        }
    }

    /// An instant a timestamp column is compared with.
    fn instant(&self, value: &Value) -> Result<Expr> {
        if let ValueKind::Word(word) | ValueKind::Str(word) = &value.kind
            && let Ok(at) = chrono::DateTime::parse_from_rfc3339(word)
        {
            return Ok(time_lit(at.timestamp_micros()));
        }
        let hint = match &value.kind {
            ValueKind::Word(word) if parse_duration(word).is_ok() => {
                format!("; for that long ago write `now() - {word}`")
            }
            _ => String::new(),
        };
        Err(Error::plan(
            value.span,
            format!(
                "a time is compared with an RFC 3339 instant or a time expression, not `{}`{hint}",
                value.kind
            ),
        ))
    }

    /// Where a value is expected: a column if the word names one, else the value itself.
    fn value_or_column(&self, expr: &ast::Expr) -> Result<Expr> {
        match &expr.kind {
            ExprKind::Value(value) if named_column(self.scope, expr).is_none() => {
                Ok(self.literal(value).unwrap_or_else(|| lit(raw_text(value))))
            }
            _ => self.expr(expr),
        }
    }

    /// A word where a column or a literal is expected.
    fn operand(&self, value: &Value) -> Result<Expr> {
        if let ValueKind::Word(word) = &value.kind
            && let Some(column) = self.scope.find(word)
        {
            return Ok(column.expr());
        }
        match (&value.kind, self.literal(value)) {
            (_, Some(literal)) => Ok(literal),
            (ValueKind::Word(word), None) => Err(self.scope.unknown(word, value.span)),
            _ => Ok(lit(raw_text(value))),
        }
    }

    /// Numbers, `true`/`false`, durations and instants; `None` for other words.
    fn literal(&self, value: &Value) -> Option<Expr> {
        match &value.kind {
            ValueKind::Number(n) => Some(match i64::try_from(*n) {
                Ok(n) => lit(n),
                Err(_) => lit(*n),
            }),
            ValueKind::Str(text) => Some(lit(text.clone())),
            ValueKind::Word(word) => word_literal(word),
            _ => None,
        }
    }

    fn call(&self, function: &ast::Name, args: &[ast::Expr], span: Span) -> Result<Expr> {
        let name = function.text.as_str();
        if name == "now" {
            if let Some(arg) = args.first() {
                return Err(Error::plan(arg.span, "`now()` takes no arguments"));
            }
            return Ok(time_lit(self.scope.now));
        }
        let Some(&(_, udf, min, max)) = FUNCTIONS.iter().find(|(known, ..)| *known == name) else {
            let mut known: Vec<&str> = FUNCTIONS.iter().map(|(n, ..)| *n).collect();
            known.push("now");
            known.extend(ast::AGGREGATES);
            let suggestion = closest(name, &known)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(Error::plan(
                function.span,
                format!(
                    "no function `{name}`{suggestion}; NetQL has {}",
                    known.join(", ")
                ),
            ));
        };
        if args.len() < min || args.len() > max {
            let wanted = if min == max {
                format!("{min} argument{}", if min == 1 { "" } else { "s" })
            } else if max == usize::MAX {
                format!("at least {min} arguments")
            } else {
                format!("{min} to {max} arguments")
            };
            return Err(Error::plan(
                span,
                format!("`{name}` takes {wanted}, not {}", args.len()),
            ));
        }
        let args = args
            .iter()
            .map(|arg| self.expr(arg))
            .collect::<Result<Vec<_>>>()?;
        Ok(udf().call(args))
    }
}

type Udf = fn() -> Arc<ScalarUDF>;

/// Scalar functions: name, implementation, fewest and most arguments.
const FUNCTIONS: &[(&str, Udf, usize, usize)] = &[
    ("lower", datafusion::functions::string::lower, 1, 1),
    ("upper", datafusion::functions::string::upper, 1, 1),
    ("trim", datafusion::functions::string::btrim, 1, 1),
    (
        "concat",
        datafusion::functions::string::concat,
        1,
        usize::MAX,
    ),
    (
        "length",
        datafusion::functions::unicode::character_length,
        1,
        1,
    ),
    (
        "coalesce",
        datafusion::functions::core::coalesce,
        1,
        usize::MAX,
    ),
    ("abs", datafusion::functions::math::abs, 1, 1),
    ("ceil", datafusion::functions::math::ceil, 1, 1),
    ("floor", datafusion::functions::math::floor, 1, 1),
    ("round", datafusion::functions::math::round, 1, 2),
];

/// A bare word as a literal: a decimal, `true`/`false`, a duration (an interval, for time
/// arithmetic) or an RFC 3339 instant.
fn word_literal(word: &str) -> Option<Expr> {
    if let Ok(n) = word.parse::<i64>() {
        return Some(lit(n));
    }
    if let Ok(n) = word.parse::<f64>()
        && n.is_finite()
    {
        return Some(lit(n));
    }
    match word.to_ascii_lowercase().as_str() {
        "true" => return Some(lit(true)),
        "false" => return Some(lit(false)),
        _ => {}
    }
    if let Ok(duration) = parse_duration(word) {
        let nanos = i64::try_from(duration.as_nanos()).ok()?;
        return Some(lit(ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(0, 0, nanos),
        ))));
    }
    chrono::DateTime::parse_from_rfc3339(word)
        .ok()
        .map(|at| time_lit(at.timestamp_micros()))
}

/// The value's text without quotes, as a string literal holds it.
fn raw_text(value: &Value) -> String {
    match &value.kind {
        ValueKind::Str(text) | ValueKind::Glob(text) | ValueKind::Word(text) => text.clone(),
        other => other.to_string(),
    }
}

fn operator(op: CompareOp) -> Operator {
    match op {
        CompareOp::Eq => Operator::Eq,
        CompareOp::NotEq => Operator::NotEq,
        CompareOp::Lt => Operator::Lt,
        CompareOp::LtEq => Operator::LtEq,
        CompareOp::Gt => Operator::Gt,
        CompareOp::GtEq => Operator::GtEq,
    }
}

/// `5 < x` is `x > 5`.
fn flipped(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        same => same,
    }
}
