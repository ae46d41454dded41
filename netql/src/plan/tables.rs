//! `show tables` and `describe <table>`: the catalog, as plans over literal rows.

use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use sonde_schema::{ACTIVE, HOSTNAME, TIMESTAMP, TableDef};

use crate::answer::AnswerKind;
use crate::ast::Describe;
use crate::error::{Error, Result};

use super::{Planned, Planner};

impl Planner<'_> {
    pub(super) fn plan_show_tables(&self) -> Result<Planned> {
        let rows: Vec<Vec<Expr>> = self
            .catalog
            .tables()
            .iter()
            .map(|t| vec![lit(t.name), lit(t.doc), lit(keys_of(t))])
            .collect();
        literal_table(rows, &["Table", "Holds", "Keys"])
    }

    pub(super) fn plan_describe(&self, describe: &Describe) -> Result<Planned> {
        let name = describe.table.text.as_str();
        let table = self.table(name).ok_or_else(|| {
            let names: Vec<&str> = self.catalog.tables().iter().map(|t| t.name).collect();
            Error::plan(
                describe.table.span,
                format!("no table `{name}`; the tables are {}", names.join(", ")),
            )
        })?;
        let schema = table.schema();
        let rows: Vec<Vec<Expr>> = schema
            .fields()
            .iter()
            .map(|field| {
                let name = field.name().as_str();
                vec![
                    lit(name.to_string()),
                    lit(type_name(field.data_type())),
                    lit(role(table, name)),
                    lit(table.column_doc(name).unwrap_or_default()),
                ]
            })
            .collect();
        literal_table(rows, &["Field", "Type", "Role", "Description"])
    }
}

/// Literal rows under `headers`, as a plan.
fn literal_table(rows: Vec<Vec<Expr>>, headers: &[&str]) -> Result<Planned> {
    let named = headers
        .iter()
        .enumerate()
        .map(|(i, header)| col(format!("column{}", i + 1)).alias(*header));
    let plan = LogicalPlanBuilder::values(rows)?.project(named)?.build()?;
    Ok(Planned {
        walk: None,
        plan,
        kind: AnswerKind::Table,
    })
}

fn keys_of(table: &TableDef) -> String {
    table.key_columns().collect::<Vec<_>>().join(", ")
}

fn role(table: &TableDef, column: &str) -> &'static str {
    match column {
        TIMESTAMP | ACTIVE => "frame",
        HOSTNAME => "key",
        _ if table.keys.iter().any(|k| k.name == column) => "key",
        _ => "value",
    }
}

fn type_name(data_type: &arrow::datatypes::DataType) -> String {
    use arrow::datatypes::DataType::*;
    match data_type {
        Utf8 => "text".into(),
        Boolean => "bool".into(),
        UInt32 | UInt64 | Int64 => "integer".into(),
        Float64 => "float".into(),
        Timestamp(..) => "timestamp (µs, UTC)".into(),
        List(_) => "list of text".into(),
        other => other.to_string(),
    }
}
