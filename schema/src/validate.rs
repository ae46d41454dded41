use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, ListArray, RecordBatch, RecordBatchOptions, TimestampMicrosecondArray,
    cast::AsArray, new_null_array, types::TimestampMicrosecondType,
};
use arrow_schema::{DataType, TimeUnit};

use crate::TableDef;

/// Why a batch was refused: always names the table and the column at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("table {table}: column `{column}` is required but missing")]
    MissingColumn { table: &'static str, column: String },
    #[error("table {table}: unknown column `{column}`")]
    UnknownColumn { table: &'static str, column: String },
    #[error("table {table}: column `{column}` has type {found}, expected {expected}")]
    WrongType {
        table: &'static str,
        column: String,
        expected: String,
        found: String,
    },
    #[error("table {table}: column `{column}` has {count} null value(s) but is a key column")]
    NullInKey {
        table: &'static str,
        column: String,
        count: usize,
    },
    #[error("table {table}: {message}")]
    Invalid {
        table: &'static str,
        message: String,
    },
}

/// Checks `batch` against `table` and returns it in the table's exact schema.
///
/// Columns may come in any order; nullable value columns may be left out (they are filled with
/// nulls); timestamps in µs with any UTC label and string lists with any item name are relabelled.
/// Anything else that differs is refused with an error naming the column.
pub fn conform_batch(table: &TableDef, batch: &RecordBatch) -> Result<RecordBatch, SchemaError> {
    let schema = table.schema();
    if let Some(extra) = batch
        .schema()
        .fields()
        .iter()
        .find(|f| schema.field_with_name(f.name()).is_err())
    {
        return Err(SchemaError::UnknownColumn {
            table: table.name,
            column: extra.name().clone(),
        });
    }
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let Some(column) = batch.column_by_name(field.name()) else {
                if field.is_nullable() {
                    return Ok(new_null_array(field.data_type(), batch.num_rows()));
                }
                return Err(SchemaError::MissingColumn {
                    table: table.name,
                    column: field.name().clone(),
                });
            };
            let column =
                relabel(column, field.data_type()).ok_or_else(|| SchemaError::WrongType {
                    table: table.name,
                    column: field.name().clone(),
                    expected: field.data_type().to_string(),
                    found: column.data_type().to_string(),
                })?;
            if !field.is_nullable() && column.null_count() > 0 {
                return Err(SchemaError::NullInKey {
                    table: table.name,
                    column: field.name().clone(),
                    count: column.null_count(),
                });
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema, columns, &options).map_err(|e| SchemaError::Invalid {
        table: table.name,
        message: e.to_string(),
    })
}

/// Returns `column` as `expected` when it only differs by a label, `None` when the types differ.
fn relabel(column: &ArrayRef, expected: &DataType) -> Option<ArrayRef> {
    if column.data_type() == expected {
        return Some(column.clone());
    }
    match (column.data_type(), expected) {
        (
            DataType::Timestamp(TimeUnit::Microsecond, tz),
            DataType::Timestamp(TimeUnit::Microsecond, Some(want)),
        ) if tz.as_deref().is_none_or(is_utc) => {
            let values: &TimestampMicrosecondArray =
                column.as_primitive::<TimestampMicrosecondType>();
            Some(Arc::new(values.clone().with_timezone(want.clone())))
        }
        (DataType::List(found), DataType::List(want)) if found.data_type() == want.data_type() => {
            let list = column.as_list::<i32>();
            let rebuilt = ListArray::try_new(
                want.clone(),
                list.offsets().clone(),
                list.values().clone(),
                list.nulls().cloned(),
            )
            .ok()?;
            Some(Arc::new(rebuilt))
        }
        _ => None,
    }
}

fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "utc" | "Z" | "+00:00" | "Etc/UTC")
}
