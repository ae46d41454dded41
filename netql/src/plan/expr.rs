//! Expressions every command family uses: hostname patterns, value matches, time literals.

use arrow::datatypes::DataType;
use datafusion::functions::expr_fn::{lower, regexp_like};
use datafusion::functions_nested::expr_fn::{array_has, array_to_string};
use datafusion::logical_expr::{Case, Expr, cast, col, lit};

use crate::ast::{CompareOp, Hosts, Value, ValueKind};
use crate::error::{Error, Result};

/// µs since the epoch of a timestamp column.
pub(crate) fn micros(column: Expr) -> Expr {
    cast(
        cast(
            column,
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
        ),
        DataType::Int64,
    )
}

/// A timestamp literal, µs since the epoch in UTC, as the tables' `timestamp` columns hold them.
pub(crate) fn time_lit(micros: i64) -> Expr {
    lit(datafusion::common::ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some("UTC".into()),
    ))
}

pub(crate) fn text(column: Expr) -> Expr {
    cast(column, DataType::Utf8)
}

/// `^…$` regex for a glob: `*` any run, `?` one character, `[…]` a class, the rest literal.
pub(crate) fn glob_to_regex(glob: &str) -> String {
    format!("(?i)^{}$", glob_body(glob, "."))
}

/// The regex of a glob, unanchored; `any` is what `*` repeats and `?` is.
fn glob_body(glob: &str, any: &str) -> String {
    let mut regex = String::new();
    let mut in_class = false;
    for c in glob.chars() {
        match c {
            '[' if !in_class => {
                in_class = true;
                regex.push('[');
            }
            ']' if in_class => {
                in_class = false;
                regex.push(']');
            }
            _ if in_class => {
                if c == '\\' {
                    regex.push('\\');
                }
                regex.push(c);
            }
            '*' => {
                regex.push_str(any);
                regex.push('*');
            }
            '?' => regex.push_str(any),
            _ => regex.push_str(&regex_escape(c)),
        }
    }
    if in_class {
        regex.push(']');
    }
    regex
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii() {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// Whether a string expression matches a glob, ignoring case.
pub(crate) fn matches_glob(expr: Expr, glob: &str) -> Expr {
    regexp_like(expr, lit(glob_to_regex(glob)), None)
}

/// Whether a string expression equals `text`, ignoring case.
pub(crate) fn equals_text(expr: Expr, text: &str) -> Expr {
    lower(expr).eq(lit(text.to_lowercase()))
}

/// `hostname` (or another column holding hostnames) against the patterns typed before the command.
pub(crate) fn host_filter(column: Expr, hosts: &Hosts) -> Expr {
    hosts
        .patterns
        .iter()
        .map(|pattern| {
            if pattern.is_glob() {
                matches_glob(column.clone(), &pattern.text)
            } else {
                equals_text(column.clone(), &pattern.text)
            }
        })
        .reduce(Expr::or)
        .unwrap_or_else(|| lit(true))
}

/// A column of type `data_type` compared with a typed value: globs match, list columns contain
/// the value, an address matches a prefix column that holds it with any length, anything else is
/// compared as text, ignoring case.
pub(crate) fn value_matches(column: Expr, data_type: &DataType, value: &Value) -> Expr {
    let typed = value.kind.to_string();
    let raw = match &value.kind {
        ValueKind::Str(text) | ValueKind::Glob(text) | ValueKind::Word(text) => text.clone(),
        _ => typed,
    };
    if let DataType::List(_) = data_type {
        return match &value.kind {
            ValueKind::Glob(glob) => {
                matches_glob(array_to_string(column, lit(",")), &format!("*{glob}*"))
            }
            _ => array_has(column, lit(raw)),
        };
    }
    match &value.kind {
        ValueKind::Glob(glob) => matches_glob(text(column), glob),
        ValueKind::Ip(addr) => {
            let exact = equals_text(text(column.clone()), &addr.to_string());
            exact.or(matches_glob(text(column), &format!("{addr}/*")))
        }
        _ => equals_text(text(column), &raw),
    }
}

/// A column of type `data_type` against a typed value with `op`: `=` and `!=` as
/// [`value_matches`], `<`, `<=`, `>` and `>=` comparing numbers (`latency > 1000`,
/// `loss >= 0.5`). `field` is the column's name for errors.
pub(crate) fn compare(
    column: Expr,
    field: &str,
    data_type: &DataType,
    op: CompareOp,
    value: &Value,
) -> Result<Expr> {
    let bound = match op {
        CompareOp::Eq => return Ok(value_matches(column, data_type, value)),
        CompareOp::NotEq => return Ok(!value_matches(column, data_type, value)),
        _ => number(value, op)?,
    };
    if !data_type.is_numeric() {
        return Err(Error::plan(
            value.span,
            format!("`{field}` is not a number: `{op}` compares numbers"),
        ));
    }
    Ok(match op {
        CompareOp::Lt => column.lt(bound),
        CompareOp::LtEq => column.lt_eq(bound),
        CompareOp::Gt => column.gt(bound),
        _ => column.gt_eq(bound),
    })
}

/// A value an ordering compares with: a whole number, or a decimal such as `0.5`.
fn number(value: &Value, op: CompareOp) -> Result<Expr> {
    match &value.kind {
        ValueKind::Number(n) => Ok(lit(*n)),
        ValueKind::Word(text) => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(lit(n)),
            _ => Err(not_a_number(value, op)),
        },
        _ => Err(not_a_number(value, op)),
    }
}

fn not_a_number(value: &Value, op: CompareOp) -> Error {
    Error::plan(
        value.span,
        format!("`{op}` compares numbers, and `{}` is not one", value.kind),
    )
}

/// A list column holds an item matching `pattern` (a glob or a name), ignoring case.
pub(crate) fn list_has(column: Expr, pattern: &str) -> Expr {
    let item = glob_body(pattern, "[^,]");
    let joined = array_to_string(column, lit(","));
    regexp_like(joined, lit(format!("(?i)(^|,){item}(,|$)")), None)
}

/// The hostnames typed before the command against a list column: a row matches when an item
/// does.
pub(crate) fn host_list_filter(column: Expr, hosts: &Hosts) -> Expr {
    hosts
        .patterns
        .iter()
        .map(|pattern| list_has(column.clone(), &pattern.text))
        .reduce(Expr::or)
        .unwrap_or_else(|| lit(true))
}

/// `CASE WHEN condition THEN then ELSE otherwise END`.
pub(crate) fn if_else(condition: Expr, then: Expr, otherwise: Expr) -> Expr {
    Expr::Case(Case::new(
        None,
        vec![(Box::new(condition), Box::new(then))],
        Some(Box::new(otherwise)),
    ))
}

/// `value` unless null, then `fallback`.
pub(crate) fn or_else(value: Expr, fallback: &str) -> Expr {
    datafusion::functions::expr_fn::coalesce(vec![value, lit(fallback.to_string())])
}

/// `relation.column`.
pub(crate) fn q(relation: &str, column: &str) -> Expr {
    col(format!("{relation}.{column}"))
}
