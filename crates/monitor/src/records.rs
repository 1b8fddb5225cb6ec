//! Stored history as record text: the Parquet files of a log group that overlap a time range
//! (by hour partition), and each record's text rebuilt exactly as CloudWatch would have seen
//! it ([`flowwatch_flowlog::rebuild_messages`]: the stored `message` when the original could
//! not be rebuilt, else the fields in the record's own `log_format`). Shared by metric
//! backfill and contributor reports, which differ only in what they do with each record.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use flowwatch_flowlog::schema::TIMESTAMP;
use flowwatch_store::{StoreReader, partition_hour_ms};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{MonitorError, Result};

const HOUR_MS: i64 = 3_600_000;

/// The data files of `group` whose hour partition overlaps [start, end) (epoch ms); files
/// outside any hour partition are always included.
pub(crate) fn group_files(
    reader: &StoreReader,
    group: &str,
    start: i64,
    end: i64,
) -> Result<Vec<PathBuf>> {
    let mut files = reader.data_files(group)?;
    // A partition holds [hour, hour + 1 h); skip those wholly outside the range.
    files.retain(|path| {
        partition_hour_ms(path)
            .is_none_or(|hour| hour.saturating_add(HOUR_MS) > start && hour < end)
    });
    Ok(files)
}

/// Calls `f(timestamp_ms, text)` for every record of the Parquet file at `path` whose
/// timestamp lies in [start, end), in file order.
pub(crate) fn for_each_record(
    path: &Path,
    start: i64,
    end: i64,
    f: &mut dyn FnMut(i64, &str),
) -> Result<()> {
    let bad = |e: &dyn std::fmt::Display| MonitorError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|e| bad(&e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| bad(&e))?;
    for batch in reader {
        let batch = plain_strings(&batch.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        let Some(ts) = batch
            .column_by_name(TIMESTAMP)
            .and_then(|c| arrow::compute::cast(c, &DataType::Int64).ok())
        else {
            return Err(bad(&"no timestamp column"));
        };
        let ts = ts.as_primitive::<Int64Type>();
        let messages = flowwatch_flowlog::rebuild_messages(&batch);
        for row in 0..batch.num_rows() {
            if ts.is_null(row) || messages.is_null(row) {
                continue;
            }
            let t = ts.value(row);
            if t < start || t >= end {
                continue;
            }
            f(t, messages.value(row));
        }
    }
    Ok(())
}

/// The batch with dictionary, view and large string columns as plain `Utf8`, the types the
/// message rebuild reads (another engine may have rewritten the files).
fn plain_strings(
    batch: &RecordBatch,
) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
    let needs = |t: &DataType| {
        matches!(t, DataType::Utf8View | DataType::LargeUtf8)
            || matches!(t, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8))
    };
    if !batch.schema().fields().iter().any(|f| needs(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if needs(f.data_type()) {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(arrow::compute::cast(c, &DataType::Utf8)?);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
