//! Encoding and decoding of the Parquet files: sorted by key then time, ZSTD, ~100k-row row groups,
//! page statistics, and the sort order declared in the footer.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::row::{RowConverter, SortField};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use sonde_schema::TableDef;

use crate::error::Result;
use crate::paths::Hour;

pub const ROW_GROUP_ROWS: usize = 100_000;

/// The timestamps of a batch that conforms to a table schema.
pub(crate) fn timestamps(batch: &RecordBatch) -> &TimestampMicrosecondArray {
    batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("conformed batches start with a µs timestamp")
}

/// Smallest and largest timestamp of a non-empty conformed batch.
pub(crate) fn time_range(batch: &RecordBatch) -> Option<(i64, i64)> {
    let ts = timestamps(batch);
    let min = arrow::compute::min(ts)?;
    let max = arrow::compute::max(ts)?;
    Some((min, max))
}

/// Splits conformed batches into one batch per hour of their timestamps.
pub(crate) fn split_by_hour(batches: &[RecordBatch]) -> Result<BTreeMap<Hour, Vec<RecordBatch>>> {
    let mut out: BTreeMap<Hour, Vec<RecordBatch>> = BTreeMap::new();
    for batch in batches {
        let Some((min, max)) = time_range(batch) else {
            continue;
        };
        if Hour::containing(min) == Hour::containing(max) {
            out.entry(Hour::containing(min))
                .or_default()
                .push(batch.clone());
            continue;
        }
        let mut rows: BTreeMap<Hour, Vec<u32>> = BTreeMap::new();
        for (i, ts) in timestamps(batch).values().iter().enumerate() {
            rows.entry(Hour::containing(*ts))
                .or_default()
                .push(i as u32);
        }
        for (hour, indices) in rows {
            let part = take_record_batch(batch, &UInt32Array::from(indices))?;
            out.entry(hour).or_default().push(part);
        }
    }
    Ok(out)
}

/// Concatenates and sorts batches by the table's key columns, then time. Sorting compares rows in
/// Arrow's row format, which is much cheaper than comparing several string columns one by one.
pub(crate) fn sorted(table: &TableDef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let batch = concat_batches(&table.schema(), batches)?;
    if batch.num_rows() <= 1 {
        return Ok(batch);
    }
    let names = table.sort_columns();
    let columns: Vec<ArrayRef> = names
        .iter()
        .map(|name| {
            batch
                .column_by_name(name)
                .expect("conformed batch has every column")
                .clone()
        })
        .collect();
    let fields = columns
        .iter()
        .map(|c| SortField::new(c.data_type().clone()))
        .collect();
    let rows = RowConverter::new(fields)?.convert_columns(&columns)?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_unstable_by(|a, b| rows.row(*a as usize).cmp(&rows.row(*b as usize)));
    if order.windows(2).all(|w| w[0] < w[1]) {
        return Ok(batch);
    }
    Ok(take_record_batch(&batch, &UInt32Array::from(order))?)
}

fn writer_properties(table: &TableDef) -> WriterProperties {
    let schema = table.schema();
    let sorting = table
        .sort_columns()
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .map(|i| SortingColumn {
            column_idx: i as i32,
            descending: false,
            nulls_first: false,
        })
        .collect();
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_sorting_columns(Some(sorting))
        .set_created_by(format!("sonde {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sorts the batches and encodes them as one Parquet file.
pub(crate) fn encode_sorted(table: &TableDef, batches: &[RecordBatch]) -> Result<Bytes> {
    let batch = sorted(table, batches)?;
    let mut buffer = Vec::with_capacity(batch.get_array_memory_size() / 4 + 4096);
    let mut writer =
        ArrowWriter::try_new(&mut buffer, table.schema(), Some(writer_properties(table)))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(Bytes::from(buffer))
}

/// Decodes a whole Parquet file of `table`.
pub(crate) fn decode(table: &TableDef, bytes: Bytes) -> Result<Vec<RecordBatch>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .with_batch_size(64 * 1024)
        .build()?;
    let schema = table.schema();
    reader
        .map(|batch| {
            let batch = batch?;
            Ok(RecordBatch::try_new(
                Arc::clone(&schema),
                batch.columns().to_vec(),
            )?)
        })
        .collect()
}

pub(crate) fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}
