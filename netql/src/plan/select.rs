//! `select … from … [where …] [group by …] [having …] [order by …] [limit …] [offset …]`:
//! NetQ's query form over a table's state at the statement's time (or its rows in a `between`
//! window). Expressions are [`super::scalar`]'s; the aggregates are `count(*)`, `count(x)`,
//! `count(distinct x)`, `min`, `max`, `sum` and `avg`.
//!
//! `peer.<column>` reads the row's peer in the same table (a BGP session's other end, an LLDP
//! link's far port): the table's state is joined with itself, and its own columns keep their
//! names.
//!
//! The plan: rows → `where` → aggregate (`group by` keys and every aggregate named anywhere) →
//! `having` → sort → the select list → offset and limit. Sorting before the projection lets
//! `order by` name columns the list leaves out; a key that is a select item's alias sorts by
//! that item.

use datafusion::common::JoinType;
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, ident, lit};
use sonde_schema::TableDef;

use crate::answer::AnswerKind;
use crate::ast::{self, ExprKind, Query, Select, SelectItemKind, TimeClause, Value, ValueKind};
use crate::error::{Error, Result};

use super::expr::q;
use super::scalar::{Grouping, PEER, PEER_PREFIX, SELF, Scope, Translator, output_name};
use super::{Planned, Planner};

impl Planner<'_> {
    pub(super) fn plan_select(&self, query: &Query, select: &Select) -> Result<Planned> {
        let table = self.table(&select.table.text).ok_or_else(|| {
            Error::plan(
                select.table.span,
                format!("no table `{}`; `show tables` lists them", select.table.text),
            )
        })?;
        let peer = reads_peer(select);
        let mut rows = match (&query.time, peer) {
            (_, Some(span)) => self.with_peers(query, table, span)?,
            (Some(TimeClause::Between(_)), None) => {
                let window = self.change_window(query);
                LogicalPlanBuilder::from(self.catalog.changes(
                    table.name,
                    window.from,
                    window.to,
                )?)
            }
            _ => self.state(table.name, self.state_time(query))?,
        };
        let scope = match peer {
            Some(_) => Scope::with_peer(table, self.now),
            None => Scope::of_table(table, self.now),
        };
        let plain = Translator::new(&scope);
        if let Some(filter) = &select.filter {
            if let Some(aggregate) = first_aggregate(filter) {
                return Err(Error::plan(
                    aggregate.span,
                    format!("`{aggregate}` is an aggregate: conditions on it go in `having`"),
                ));
            }
            rows = rows.filter(plain.expr(filter)?)?;
        }
        let aggregates = aggregates_of(select);
        let grouping = if select.group_by.is_empty() && aggregates.is_empty() {
            None
        } else {
            let (grouping, keys, computed) = self.grouping(&plain, select, aggregates)?;
            rows = rows.aggregate(keys, computed)?;
            Some(grouping)
        };
        let translator = Translator {
            scope: &scope,
            grouping: grouping.as_ref(),
        };
        if let Some(having) = &select.having {
            rows = rows.filter(translator.expr(having)?)?;
        }
        if !select.order_by.is_empty() {
            let order = select
                .order_by
                .iter()
                .map(|key| {
                    let expr = aliased_item(select, &key.expr).unwrap_or(&key.expr);
                    Ok(translator.expr(expr)?.sort(!key.descending, false))
                })
                .collect::<Result<Vec<_>>>()?;
            rows = rows.sort(order)?;
        }
        rows = rows.project(select_list(&translator, table, select, peer.is_some())?)?;
        if select.limit.is_some() || select.offset.is_some() {
            let skip = select.offset.as_ref().map_or(0, |n| to_usize(n.value));
            let fetch = select.limit.as_ref().map(|n| to_usize(n.value));
            rows = rows.limit(skip, fetch)?;
        }
        Ok(Planned {
            walk: None,
            plan: rows.build()?,
            kind: AnswerKind::Table,
        })
    }

    /// The state of `table` at the statement's time, each row with its peer's row (relations
    /// [`SELF`] and [`PEER`]; the peer's columns null where it has none).
    fn with_peers(
        &self,
        query: &Query,
        table: &'static TableDef,
        span: ast::Span,
    ) -> Result<LogicalPlanBuilder> {
        let Some((_, joins)) = PEERS.iter().find(|(name, _)| *name == table.name) else {
            let tables: Vec<&str> = PEERS.iter().map(|(name, _)| *name).collect();
            return Err(Error::plan(
                span,
                format!(
                    "`{}` rows have no peer row; `peer.` reads the tables {}",
                    table.name,
                    tables.join(", ")
                ),
            ));
        };
        if let Some(TimeClause::Between(between)) = &query.time {
            return Err(Error::plan(
                between.span,
                "`peer.` reads the state at a time: use `around`, not `between`",
            ));
        }
        let at = self.state_time(query);
        let on: Vec<Expr> = joins
            .iter()
            .map(|(mine, theirs)| q(SELF, mine).eq(q(PEER, theirs)))
            .collect();
        Ok(
            LogicalPlanBuilder::from(self.state_as(table.name, at, SELF)?).join_on(
                self.state_as(table.name, at, PEER)?,
                JoinType::Left,
                on,
            )?,
        )
    }

    /// The `group by` keys and the aggregates, each named by its canonical text (a key that is a
    /// column keeps the column's name).
    fn grouping(
        &self,
        plain: &Translator<'_>,
        select: &Select,
        aggregates: Vec<&ast::Expr>,
    ) -> Result<(Grouping, Vec<Expr>, Vec<Expr>)> {
        let mut grouping = Grouping::default();
        let mut keys = Vec::new();
        for key in &select.group_by {
            let expr = plain.expr(key)?;
            let name = match &expr {
                Expr::Column(column) if is_word(key) => output_name(column),
                _ => key.to_string(),
            };
            keys.push(expr.alias(&name));
            grouping.keys.push((key.clone(), name));
        }
        let mut computed = Vec::new();
        for aggregate in aggregates {
            let name = aggregate.to_string();
            computed.push(aggregate_expr(plain, aggregate)?.alias(&name));
            grouping.aggregates.push((aggregate.clone(), name));
        }
        Ok((grouping, keys, computed))
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn is_word(expr: &ast::Expr) -> bool {
    matches!(
        &expr.kind,
        ExprKind::Value(Value {
            kind: ValueKind::Word(_),
            ..
        })
    )
}

/// The select list: `*` is every column (not with an aggregation), an item is named by its
/// alias, its column, or its canonical text.
fn select_list(
    translator: &Translator<'_>,
    table: &'static TableDef,
    select: &Select,
    joined: bool,
) -> Result<Vec<Expr>> {
    let mut out = Vec::new();
    for item in &select.items {
        match &item.kind {
            SelectItemKind::All if translator.grouping.is_some() => {
                return Err(Error::plan(
                    item.span,
                    "`*` cannot be selected with `group by` or an aggregate",
                ));
            }
            SelectItemKind::All => out.extend(table.schema().fields().iter().map(|f| {
                if joined {
                    q(SELF, f.name()).alias(f.name())
                } else {
                    ident(f.name().as_str())
                }
            })),
            SelectItemKind::Expr { expr, alias } => {
                let value = translator.expr(expr)?;
                let name = match (alias, &value) {
                    (Some(alias), _) => alias.text.clone(),
                    (None, Expr::Column(column)) if is_word(expr) => output_name(column),
                    _ => expr.to_string(),
                };
                out.push(value.alias(name));
            }
        }
    }
    Ok(out)
}

/// The tables whose rows have a peer row in the same table (`peer.state` in a select), and how a
/// row finds it: its column equal to the peer's.
const PEERS: &[(&str, &[(&str, &str)])] = &[
    (
        "bgp",
        &[
            ("peer_hostname", "hostname"),
            ("hostname", "peer_hostname"),
            ("vrf", "vrf"),
        ],
    ),
    (
        "lldp",
        &[("peer_hostname", "hostname"), ("peer_ifname", "ifname")],
    ),
];

/// Where the select first names a peer's column (`peer.asn`), if it does.
fn reads_peer(select: &Select) -> Option<ast::Span> {
    let items = select.items.iter().filter_map(|item| match &item.kind {
        SelectItemKind::Expr { expr, .. } => Some(expr),
        SelectItemKind::All => None,
    });
    items
        .chain(select.filter.iter())
        .chain(select.group_by.iter())
        .chain(select.having.iter())
        .chain(select.order_by.iter().map(|key| &key.expr))
        .find_map(peer_word)
}

fn peer_word(expr: &ast::Expr) -> Option<ast::Span> {
    match &expr.kind {
        ExprKind::Value(Value {
            kind: ValueKind::Word(word),
            span,
        }) if word.to_ascii_lowercase().starts_with(PEER_PREFIX) => Some(*span),
        _ => expr.children().into_iter().find_map(peer_word),
    }
}

/// The item an `order by` key names by its alias (`count(*) as n … order by n`).
fn aliased_item<'s>(select: &'s Select, key: &ast::Expr) -> Option<&'s ast::Expr> {
    let ExprKind::Value(Value {
        kind: ValueKind::Word(word),
        ..
    }) = &key.kind
    else {
        return None;
    };
    select.items.iter().find_map(|item| match &item.kind {
        SelectItemKind::Expr {
            expr,
            alias: Some(alias),
        } if alias.text.eq_ignore_ascii_case(word) => Some(expr),
        _ => None,
    })
}

/// Every aggregate the select list, `having` and `order by` name, each once.
fn aggregates_of(select: &Select) -> Vec<&ast::Expr> {
    let mut found = Vec::new();
    let items = select.items.iter().filter_map(|item| match &item.kind {
        SelectItemKind::Expr { expr, .. } => Some(expr),
        SelectItemKind::All => None,
    });
    let order = select.order_by.iter().map(|key| &key.expr);
    for expr in items.chain(select.having.iter()).chain(order) {
        collect_aggregates(expr, &mut found);
    }
    found
}

fn collect_aggregates<'e>(expr: &'e ast::Expr, found: &mut Vec<&'e ast::Expr>) {
    if expr.is_aggregate() {
        if !found.contains(&expr) {
            found.push(expr);
        }
        return;
    }
    for child in expr.children() {
        collect_aggregates(child, found);
    }
}

fn first_aggregate(expr: &ast::Expr) -> Option<&ast::Expr> {
    if expr.is_aggregate() {
        return Some(expr);
    }
    expr.children().into_iter().find_map(first_aggregate)
}

/// An aggregate call over the rows before the aggregation.
fn aggregate_expr(plain: &Translator<'_>, call: &ast::Expr) -> Result<Expr> {
    let ExprKind::Call {
        function,
        distinct,
        args,
    } = &call.kind
    else {
        return Err(Error::Internal(format!("{call} is not an aggregate")));
    };
    let [arg] = args.as_slice() else {
        return Err(Error::plan(
            call.span,
            format!("`{}` takes one argument, not {}", function.text, args.len()),
        ));
    };
    if let Some(inner) = first_aggregate(arg) {
        return Err(Error::plan(
            inner.span,
            format!("`{inner}` is inside another aggregate"),
        ));
    }
    if arg.kind == ExprKind::Star {
        return Ok(count(lit(1u8)));
    }
    let value = plain.expr(arg)?;
    Ok(match (function.text.as_str(), distinct) {
        ("count", true) => count_distinct(value),
        ("count", false) => count(value),
        ("min", _) => min(value),
        ("max", _) => max(value),
        ("sum", _) => sum(value),
        _ => avg(value),
    })
}
