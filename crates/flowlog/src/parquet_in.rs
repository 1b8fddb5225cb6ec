//! Parquet as AWS delivers it (`.log.parquet`): columns by name (hyphens as underscores),
//! INT32/INT64/string, `-` as null or as the string `-`. Columns written with other types by
//! other tools (floats from pandas, dictionary or large strings) are cast first.

use std::fs::File;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bytes::Bytes;
use flowwatch_core::LogFormat;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;

use crate::builder::{Cell, RecordMeta};
use crate::error::ReadError;
use crate::source::Reader;

pub(crate) fn read(reader: &mut Reader<'_>, file: File) {
    read_from(reader, file);
}

pub(crate) fn read_bytes(reader: &mut Reader<'_>, bytes: Bytes) {
    read_from(reader, bytes);
}

fn read_from<T: ChunkReader + 'static>(reader: &mut Reader<'_>, input: T) {
    let builder = match ParquetRecordBatchReaderBuilder::try_new(input) {
        Ok(b) => b,
        Err(e) => {
            reader.summary.error = Some(ReadError::format(
                &reader.name,
                format!("not a readable Parquet file: {e}"),
            ));
            return;
        }
    };
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let format = match LogFormat::parse(&names.join(" ")) {
        Ok(f) => f,
        Err(e) => {
            reader.summary.error = Some(ReadError::format(
                &reader.name,
                format!("Parquet columns are not flow-log fields: {e}"),
            ));
            return;
        }
    };
    let plan = reader.plan(&format);
    let batches = match builder.with_batch_size(8192).build() {
        Ok(b) => b,
        Err(e) => {
            reader.summary.error = Some(ReadError::format(
                &reader.name,
                format!("cannot read Parquet data: {e}"),
            ));
            return;
        }
    };
    let mut row_no = 0u64;
    for batch in batches {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                reader.flush();
                reader.summary.error = Some(ReadError::format(
                    &reader.name,
                    format!("Parquet data is damaged after row {row_no}: {e}"),
                ));
                return;
            }
        };
        let columns = normalise(&batch);
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(columns.len());
        for row in 0..batch.num_rows() {
            row_no += 1;
            cells.clear();
            cells.extend(columns.iter().map(|c| cell(c, row)));
            let meta = RecordMeta {
                text_is_canonical: true,
                ..RecordMeta::default()
            };
            if let Err(reason) = reader.push_cells(&plan, &cells, &meta) {
                let text = render(&cells);
                reader.reject(row_no, reason, text.as_bytes());
            }
        }
    }
}

/// Integer columns as Int32/Int64, everything else as Utf8.
fn normalise(batch: &RecordBatch) -> Vec<ArrayRef> {
    batch
        .columns()
        .iter()
        .map(|c| {
            let target = match c.data_type() {
                DataType::Int32 | DataType::Int64 | DataType::Utf8 => return c.clone(),
                DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16 => {
                    DataType::Int32
                }
                DataType::UInt32 | DataType::UInt64 | DataType::Float32 | DataType::Float64 => {
                    DataType::Int64
                }
                _ => DataType::Utf8,
            };
            cast(c, &target)
                .unwrap_or_else(|_| arrow::array::new_null_array(&DataType::Utf8, c.len()))
        })
        .collect()
}

fn cell(column: &ArrayRef, row: usize) -> Cell<'_> {
    if column.is_null(row) {
        return Cell::Null;
    }
    match column.data_type() {
        DataType::Int32 => Cell::Int(column.as_primitive::<Int32Type>().value(row) as i64),
        DataType::Int64 => Cell::Int(column.as_primitive::<Int64Type>().value(row)),
        DataType::Utf8 => match column.as_string::<i32>().value(row) {
            "-" => Cell::Null,
            s => Cell::Str(s),
        },
        _ => Cell::Null,
    }
}

fn render(cells: &[Cell<'_>]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .map(|c| match c {
            Cell::Null => "-".to_string(),
            Cell::Str(s) => s.to_string(),
            Cell::Int(v) => v.to_string(),
        })
        .collect();
    parts.join(" ")
}
