//! Expressions every command family uses: hostname patterns, value matches, time literals.

use arrow::datatypes::DataType;
use datafusion::functions::expr_fn::{lower, regexp_like};
use datafusion::functions_nested::expr_fn::{array_has, array_to_string};
use datafusion::logical_expr::{Case, Expr, cast, col, lit};

use crate::ast::{Hosts, Value, ValueKind};

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

pub(crate) fn text(column: Expr) -> Expr {
    cast(column, DataType::Utf8)
}

/// `^…$` regex for a glob: `*` any run, `?` one character, `[…]` a class, the rest literal.
pub(crate) fn glob_to_regex(glob: &str) -> String {
    let mut regex = String::from("(?i)^");
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
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            _ => regex.push_str(&regex_escape(c)),
        }
    }
    if in_class {
        regex.push(']');
    }
    regex.push('$');
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
