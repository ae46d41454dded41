//! `show <family> [target] [field value …] [changes]`, `show changes`, `show events`: a table's
//! state at a time, or its rows in a window, in NetQ's columns (each family's in its registry
//! file, `family/<name>.rs`).

use arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{CHANGE_OBJECT, CHANGE_STATE, CHANGE_TABLE, HOSTNAME, TIMESTAMP, TableDef};

use crate::answer::AnswerKind;
use crate::ast::{Family, Filter, Query, Show, ShowChanges, ShowEvents, Span, Value};
use crate::error::{Error, Result};
use crate::family::{self, FamilyDef, ShowDef, ViewDef, is_state_table, list};

use super::expr::{compare, equals_text, host_filter, host_list_filter, value_matches};
use super::scalar::{Scope, Translator};
use super::time::DEFAULT_WINDOW_US;
use super::{CHANGE, Planned, Planner};

fn header(name: &'static str, expr: Expr) -> Expr {
    expr.alias(name)
}

/// The registry's entry for a family the parser accepted.
fn registered(family: &Family) -> Result<&'static FamilyDef> {
    family::find(family.name).ok_or_else(|| {
        Error::Internal(format!(
            "`{}` parsed but is not in the registry",
            family.name
        ))
    })
}

/// What `show` displays of a family the parser accepted as one it shows.
fn shown(family: &Family) -> Result<&'static ShowDef> {
    registered(family)?
        .show
        .as_ref()
        .ok_or_else(|| Error::plan(family.span, format!("`{}` has no show", family.name)))
}

/// NetQ's columns for the family, or every column by name; always ending with `Last Changed`.
fn columns(source: &ShowDef, table: &TableDef, at: i64) -> Vec<Expr> {
    let mut out = match source.columns {
        Some(columns) => columns(at),
        None => generic_columns(table),
    };
    out.push(header("Last Changed", col(TIMESTAMP)));
    out
}

/// `size_bytes` → `Size Bytes`.
fn title_case(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every column but the frame ones, headed by its own name.
fn generic_columns(table: &TableDef) -> Vec<Expr> {
    let mut out = vec![header("Hostname", col(HOSTNAME))];
    for column in table.keys.iter().chain(table.values) {
        let expr = match column.ty {
            sonde_schema::ColumnType::StrList => list(column.name),
            _ => col(column.name),
        };
        out.push(expr.alias(title_case(column.name)));
    }
    out
}

impl Planner<'_> {
    pub(super) fn plan_show(&self, query: &Query, show: &Show) -> Result<Planned> {
        let source = shown(&show.family)?;
        if let Some(view) = source.view {
            return self.plan_view(query, show, view);
        }
        let table = self.known_table(source.table, show.family.span)?;
        let changes = show.changes
            || source.events
            || matches!(query.time, Some(crate::ast::TimeClause::Between(_)));
        let at = self.state_time(query);
        let mut rows = if changes {
            let window = self.change_window(query);
            LogicalPlanBuilder::from(self.catalog.changes(table.name, window.from, window.to)?)
        } else {
            self.state(table.name, at)?
        };
        let mut conditions = Vec::new();
        if let Some(hosts) = &query.hosts {
            conditions.push(host_filter(col(HOSTNAME), hosts));
        }
        if let Some((column, value)) = source.only {
            conditions.push(equals_text(col(column), value));
        }
        if let Some(target) = &show.target {
            let column = source.target.ok_or_else(|| {
                Error::plan(
                    target.span,
                    format!(
                        "`show {}` takes no target; filter with a field and a value",
                        show.family
                    ),
                )
            })?;
            conditions.push(self.field_matches(table, column, target)?);
        }
        for filter in &show.filters {
            let column = resolve_field(table, &filter.field.text)
                .ok_or_else(|| unknown_field(table, &filter.field.text, filter.field.span))?;
            conditions.push(field_compare(table, column, filter)?);
        }
        if let Some(filter) = &show.filter {
            let scope = Scope::of_table(table, self.now);
            conditions.push(Translator::new(&scope).expr(filter)?);
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let mut order: Vec<_> = table
            .key_columns()
            .map(|k| col(k).sort(true, false))
            .collect();
        if changes {
            order.insert(0, col(TIMESTAMP).sort(true, false));
        }
        let mut projection = columns(source, table, at);
        if changes {
            projection.insert(projection.len() - 1, header("DbState", col(CHANGE)));
        }
        let plan = rows.sort(order)?.project(projection)?.build()?;
        Ok(Planned {
            walk: None,
            plan,
            kind: AnswerKind::Rows {
                title: show.family.name.to_string(),
            },
        })
    }

    /// `show <family>` of a family planned as a view: its rows at the statement's times, the
    /// hostnames, target and filters against the view's fields, headed by the view's columns.
    fn plan_view(&self, query: &Query, show: &Show, view: &ViewDef) -> Result<Planned> {
        let mut rows = (view.rows)(self, self.times(query))?;
        let schema = rows.schema().clone();
        let mut conditions = Vec::new();
        if let Some(hosts) = &query.hosts {
            conditions.push(match view_field(&schema, view.hosts, hosts.span)? {
                DataType::List(_) => host_list_filter(col(view.hosts), hosts),
                _ => host_filter(col(view.hosts), hosts),
            });
        }
        if let Some(target) = &show.target {
            let mut any = Vec::new();
            for field in view.targets {
                let data_type = view_field(&schema, field, target.span)?;
                any.push(value_matches(col(*field), &data_type, target));
            }
            conditions.extend(any.into_iter().reduce(Expr::or));
        }
        for filter in &show.filters {
            let field = filter.field.text.as_str();
            let data_type = view_field(&schema, field, filter.field.span)?;
            conditions.push(compare(
                col(field),
                field,
                &data_type,
                filter.op,
                &filter.value,
            )?);
        }
        if let Some(filter) = &show.filter {
            let scope = Scope::of_rows(&format!("show {}", show.family), &schema, self.now);
            conditions.push(Translator::new(&scope).expr(filter)?);
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let order = view.order.iter().map(|f| col(*f).sort(true, false));
        let plan = rows
            .sort(order.collect::<Vec<_>>())?
            .project((view.columns)())?
            .build()?;
        Ok(Planned {
            walk: None,
            plan,
            kind: AnswerKind::Rows {
                title: show.family.name.to_string(),
            },
        })
    }

    /// `show changes [type <family>]`: the change log of every table (or one), oldest first.
    pub(super) fn plan_show_changes(
        &self,
        query: &Query,
        changes: &ShowChanges,
    ) -> Result<Planned> {
        let window = self.change_window(query);
        let tables: Vec<&'static TableDef> = match &changes.family {
            Some(family) => vec![self.known_table(shown(family)?.table, family.span)?],
            None => self
                .catalog
                .tables()
                .iter()
                .copied()
                .filter(|t| is_state_table(t))
                .collect(),
        };
        let mut rows =
            LogicalPlanBuilder::from(self.catalog.change_log(&tables, window.from, window.to)?);
        if let Some(hosts) = &query.hosts {
            rows = rows.filter(host_filter(col(HOSTNAME), hosts))?;
        }
        // Renames only: a computed column would let DataFusion spread the rows over several
        // partitions and lose the change log's order.
        let plan = rows
            .project(vec![
                header("Hostname", col(HOSTNAME)),
                header("Type", col(CHANGE_TABLE)),
                header("Object", col(CHANGE_OBJECT)),
                header("State", col(CHANGE_STATE)),
                header("DbState", col(CHANGE)),
                header("Last Changed", col(TIMESTAMP)),
            ])?
            .build()?;
        Ok(Planned {
            walk: None,
            plan,
            kind: AnswerKind::Rows {
                title: "changes".into(),
            },
        })
    }

    /// `show events [type <family>] [level <severity>]`: the `events` table in the window, newest first.
    pub(super) fn plan_show_events(&self, query: &Query, events: &ShowEvents) -> Result<Planned> {
        let window = match query.time {
            None => super::Window {
                from: self.now.saturating_sub(24 * DEFAULT_WINDOW_US),
                to: self.now,
            },
            Some(_) => self.change_window(query),
        };
        let mut rows =
            LogicalPlanBuilder::from(self.catalog.changes("events", window.from, window.to)?);
        let mut conditions = Vec::new();
        if let Some(hosts) = &query.hosts {
            conditions.push(host_filter(col(HOSTNAME), hosts));
        }
        if let Some(family) = &events.family {
            conditions.push(equals_text(col("type"), event_type(family)?));
        }
        if let Some(level) = &events.level {
            let at_least: Vec<Expr> = crate::ast::EVENT_LEVELS
                .iter()
                .filter(|name| {
                    crate::ast::Severity::from_name(name).is_some_and(|s| s >= level.severity)
                })
                .map(|name| lit(*name))
                .collect();
            conditions.push(
                datafusion::functions::expr_fn::lower(col("severity")).in_list(at_least, false),
            );
        }
        if let Some(condition) = conditions.into_iter().reduce(Expr::and) {
            rows = rows.filter(condition)?;
        }
        let plan = rows
            .sort(vec![
                col(TIMESTAMP).sort(false, false),
                col(HOSTNAME).sort(true, false),
                col("type").sort(true, false),
                col("id").sort(true, false),
            ])?
            .project(vec![
                header("Hostname", col(HOSTNAME)),
                header("Type", col("type")),
                header("Severity", col("severity")),
                header("Object", col("object")),
                header("Message", col("message")),
                header("Time", col(TIMESTAMP)),
            ])?
            .build()?;
        Ok(Planned {
            walk: None,
            plan,
            kind: AnswerKind::Rows {
                title: "events".into(),
            },
        })
    }

    pub(super) fn known_table(
        &self,
        name: &str,
        span: crate::ast::Span,
    ) -> Result<&'static TableDef> {
        self.table(name)
            .ok_or_else(|| Error::plan(span, format!("this server has no `{name}` table")))
    }

    /// A column of `table` against a typed value.
    pub(super) fn field_matches(
        &self,
        table: &'static TableDef,
        column: &str,
        value: &Value,
    ) -> Result<Expr> {
        let schema = table.schema();
        let field = schema
            .field_with_name(column)
            .map_err(|_| unknown_field(table, column, value.span))?;
        Ok(value_matches(col(column), field.data_type(), value))
    }
}

/// The `events.type` a family's events carry.
fn event_type(family: &Family) -> Result<&'static str> {
    Ok(shown(family)?.table)
}

/// A filter on a column of `table`.
fn field_compare(table: &'static TableDef, column: &str, filter: &Filter) -> Result<Expr> {
    let schema = table.schema();
    let field = schema
        .field_with_name(column)
        .map_err(|_| unknown_field(table, column, filter.field.span))?;
    compare(
        col(column),
        &filter.field.text,
        field.data_type(),
        filter.op,
        &filter.value,
    )
}

/// The type of a view's field, or an error naming the fields it has.
fn view_field(schema: &DFSchema, field: &str, span: Span) -> Result<DataType> {
    if let Ok(found) = schema.field_with_unqualified_name(field) {
        return Ok(found.data_type().clone());
    }
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Err(Error::plan(
        span,
        format!(
            "no field `{field}` here; the fields are {}",
            fields.join(", ")
        ),
    ))
}

/// A field name as typed, or one of its aliases, to the table's column.
pub(super) fn resolve_field(table: &'static TableDef, field: &str) -> Option<&'static str> {
    let wanted = match field {
        "interface" | "port" => "ifname",
        "time" => TIMESTAMP,
        "node" | "host" => HOSTNAME,
        other => other,
    };
    [TIMESTAMP, HOSTNAME, sonde_schema::ACTIVE]
        .into_iter()
        .chain(table.keys.iter().chain(table.values).map(|c| c.name))
        .find(|name| *name == wanted)
}

pub(super) fn unknown_field(table: &TableDef, field: &str, span: crate::ast::Span) -> Error {
    let fields: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Error::plan(
        span,
        format!(
            "`{}` has no field `{field}`; its fields are {}",
            table.name,
            fields.join(", ")
        ),
    )
}
