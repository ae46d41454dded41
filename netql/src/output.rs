//! How answers are printed: NetQ's aligned tables and JSON with µs timestamps.

use arrow::array::{Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use std::sync::Arc;

/// Renders batches as an aligned table: a header row, a dashed rule, then one line per row,
/// each column as wide as its widest cell. Nulls print as empty cells.
pub fn aligned_table(batches: &[RecordBatch]) -> Result<String, ArrowError> {
    let Some(schema) = batches.first().map(|b| b.schema()) else {
        return Ok(String::new());
    };
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(layout(&headers, &rows, " "))
}

/// Header, dashed rule and rows, each column as wide as its widest cell, columns `gap` apart.
pub(crate) fn layout(headers: &[String], rows: &[Vec<String>], gap: &str) -> String {
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = String::new();
    for line in [headers, rule.as_slice()]
        .into_iter()
        .chain(rows.iter().map(Vec::as_slice))
    {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join(gap).trim_end());
        out.push('\n');
    }
    out
}

/// A timestamp column as µs since the epoch.
pub(crate) fn micros(column: &Arc<dyn Array>) -> Result<Arc<dyn Array>, ArrowError> {
    let naive = cast(
        column,
        &DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
    )?;
    cast(&naive, &DataType::Int64)
}

/// Renders batches as a JSON array of objects; timestamps become µs since the epoch, as NetQ's JSON has them.
pub fn json_rows(batches: &[RecordBatch]) -> Result<String, ArrowError> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in batches {
        writer.write(&timestamps_as_micros(batch)?)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    let text = String::from_utf8(bytes).map_err(|e| ArrowError::JsonError(e.to_string()))?;
    Ok(if text.is_empty() {
        "[]".to_string()
    } else {
        text
    })
}

fn timestamps_as_micros(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if let DataType::Timestamp(..) = field.data_type() {
            let micros = micros(column)?;
            fields.push(Field::new(
                field.name(),
                DataType::Int64,
                field.is_nullable(),
            ));
            columns.push(micros);
        } else {
            fields.push(field.as_ref().clone());
            columns.push(Arc::clone(column) as Arc<dyn Array>);
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
