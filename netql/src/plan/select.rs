//! `select … from … where … group by … order by … limit …`: NetQ's early-access query form over
//! a table's state at the statement's time (or its changes with `between`). Conditions are `=`
//! and `!=` (values may be globs) and `<`, `<=`, `>`, `>=` on numbers, joined by `and`; aggregates are `count(*)`, `count(c)` and
//! `count(distinct c)`.

use datafusion::functions_aggregate::expr_fn::{count, count_distinct};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::TableDef;

use crate::answer::AnswerKind;
use crate::ast::{Name, Query, Select, SelectItemKind, TimeClause};
use crate::error::{Error, Result};

use super::expr::compare;
use super::show::{resolve_field, unknown_field};
use super::{Planned, Planner};

impl Planner<'_> {
    pub(super) fn plan_select(&self, query: &Query, select: &Select) -> Result<Planned> {
        let table = self.table(&select.table.text).ok_or_else(|| {
            Error::plan(
                select.table.span,
                format!("no table `{}`; `show tables` lists them", select.table.text),
            )
        })?;
        let mut rows = match &query.time {
            Some(TimeClause::Between(_)) => {
                let window = self.change_window(query);
                LogicalPlanBuilder::from(self.catalog.changes(
                    table.name,
                    window.from,
                    window.to,
                )?)
            }
            _ => self.state(table.name, self.state_time(query))?,
        };
        let mut conditions = Vec::new();
        for condition in &select.conditions {
            let column = column(table, &condition.column)?;
            let schema = table.schema();
            let field = schema
                .field_with_name(column)
                .map_err(|_| unknown_field(table, column, condition.column.span))?;
            conditions.push(compare(
                col(column),
                column,
                field.data_type(),
                condition.op,
                &condition.value,
            )?);
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let aggregates = aggregates(table, select)?;
        let grouped = !select.group_by.is_empty() || !aggregates.is_empty();
        if grouped {
            let groups = select
                .group_by
                .iter()
                .map(|name| Ok(col(column(table, name)?)))
                .collect::<Result<Vec<_>>>()?;
            rows = rows.aggregate(groups, aggregates)?;
        }
        let projection = self.select_items(table, select, grouped)?;
        rows = rows.project(projection)?;
        if !select.order_by.is_empty() {
            let order = select
                .order_by
                .iter()
                .map(|key| Ok(col(column(table, &key.column)?).sort(!key.descending, false)))
                .collect::<Result<Vec<_>>>()?;
            rows = rows.sort(order)?;
        }
        if let Some(limit) = &select.limit {
            rows = rows.limit(0, Some(usize::try_from(limit.value).unwrap_or(usize::MAX)))?;
        }
        Ok(Planned {
            plan: rows.build()?,
            kind: AnswerKind::Table,
        })
    }

    fn select_items(
        &self,
        table: &'static TableDef,
        select: &Select,
        grouped: bool,
    ) -> Result<Vec<Expr>> {
        let mut out = Vec::new();
        for item in &select.items {
            match &item.kind {
                SelectItemKind::All if grouped => {
                    return Err(Error::plan(
                        item.span,
                        "`*` cannot be selected with `group by` or `count`",
                    ));
                }
                SelectItemKind::All => out.extend(
                    table
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| col(f.name().as_str())),
                ),
                SelectItemKind::Column(name) => {
                    let column = column(table, name)?;
                    if grouped
                        && !select
                            .group_by
                            .iter()
                            .any(|g| g.text == name.text || g.text == column)
                    {
                        return Err(Error::plan(
                            name.span,
                            format!("`{column}` must be in `group by` to be selected"),
                        ));
                    }
                    out.push(col(column));
                }
                _ => out.push(col(item.to_string())),
            }
        }
        Ok(out)
    }
}

fn column(table: &'static TableDef, name: &Name) -> Result<&'static str> {
    resolve_field(table, &name.text).ok_or_else(|| unknown_field(table, &name.text, name.span))
}

/// The `count` items, named as typed (`count(*)`, `count(distinct peer)`).
fn aggregates(table: &'static TableDef, select: &Select) -> Result<Vec<Expr>> {
    let mut out = Vec::new();
    for item in &select.items {
        let expr = match &item.kind {
            SelectItemKind::CountAll => count(lit(1u8)),
            SelectItemKind::Count(name) => count(col(column(table, name)?)),
            SelectItemKind::CountDistinct(name) => count_distinct(col(column(table, name)?)),
            _ => continue,
        };
        out.push(expr.alias(item.to_string()));
    }
    Ok(out)
}
