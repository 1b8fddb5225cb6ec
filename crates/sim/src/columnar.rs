//! Parquet delivery: the records as AWS's Parquet objects, under Hive-compatible, per-hour
//! partitions: `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
//! year=YYYY/month=MM/day=DD/hour=HH/<account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHMMZ>_
//! <hash>.log.parquet`, one object per account, region and hour (by `end`). Columns are named
//! as AWS names them (`pkt_srcaddr`), typed from the field catalog (INT32, INT64, else UTF-8
//! strings), `-` as null, Parquet's GZIP codec. Values come from [`crate::value`], the same
//! function the text tokens come from, so the two deliveries always agree. Deterministic: no
//! time in the file, the hash from the seed and the key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::DateTime;
use flowwatch_core::format::Slot;
use flowwatch_core::{FieldType, LogFormat};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, GzipLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::error::{Result, SimError};
use crate::output::{Value, object_name, objects, value, write_file};
use crate::record::{Interface, Record, SimOutput};

/// Seconds covered by one Parquet object: one per hour partition.
pub const PARQUET_PERIOD: i64 = 3600;

/// Mixed into the seed for Parquet object hashes, so they differ from the text objects'.
const PARQUET_SALT: u64 = 0x7061_7271_7565_7400;

/// Write `out` under `root` as Parquet objects with `format`'s columns; returns the files in
/// key order.
pub fn write_parquet_layout(
    out: &SimOutput,
    root: &Path,
    format: &LogFormat,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for ((account, region, period), recs) in objects(out, PARQUET_PERIOD) {
        let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let dir = root.join(format!(
            "AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/{}",
            time.format("year=%Y/month=%m/day=%d/hour=%H")
        ));
        let name = object_name(
            out,
            out.seed ^ PARQUET_SALT,
            (&account, &region, period),
            "log.parquet",
        );
        let path = dir.join(name);
        let rows: Vec<(&Record, &Interface)> = recs
            .into_iter()
            .filter_map(|r| Some((r, out.interfaces.get(r.interface as usize)?)))
            .collect();
        let bytes = encode(&rows, format).map_err(|source| SimError::Parquet {
            path: path.clone(),
            source,
        })?;
        write_file(&path, &bytes)?;
        files.push(path);
    }
    Ok(files)
}

/// The Arrow schema of `format`'s Parquet objects: AWS's column names and types, all nullable.
pub fn parquet_schema(format: &LogFormat) -> Schema {
    Schema::new(
        format
            .slots()
            .iter()
            .map(|s| Field::new(s.column(), data_type(s), true))
            .collect::<Vec<_>>(),
    )
}

fn data_type(s: &Slot) -> DataType {
    match s {
        Slot::Known(id) => match id.def().ty {
            FieldType::Int32 { .. } => DataType::Int32,
            FieldType::Int64 => DataType::Int64,
            FieldType::Addr | FieldType::Enum(_) | FieldType::Text => DataType::Utf8,
        },
        Slot::Unknown(_) => DataType::Utf8,
    }
}

/// The Parquet bytes of one object.
fn encode(rows: &[(&Record, &Interface)], format: &LogFormat) -> Result<Vec<u8>, ParquetError> {
    let schema = Arc::new(parquet_schema(format));
    let version = format.version();
    let columns: Vec<ArrayRef> = format
        .slots()
        .iter()
        .map(|slot| column(rows, slot, version))
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    // AWS's files carry no Arrow schema blob; readers go by the Parquet schema alone.
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut writer = ArrowWriter::try_new_with_options(Vec::new(), schema, options)?;
    writer.write(&batch)?;
    writer.into_inner()
}

/// One column over the rows, typed as the schema says.
fn column(rows: &[(&Record, &Interface)], slot: &Slot, version: u8) -> ArrayRef {
    let Slot::Known(id) = slot else {
        return arrow::array::new_null_array(&DataType::Utf8, rows.len());
    };
    let values = rows.iter().map(|(r, i)| value(*id, r, i, version));
    match data_type(slot) {
        DataType::Int32 => Arc::new(
            values
                .map(|v| int(v).and_then(|n| i32::try_from(n).ok()))
                .collect::<Int32Array>(),
        ),
        DataType::Int64 => Arc::new(values.map(int).collect::<Int64Array>()),
        _ => Arc::new(
            values
                .map(|v| match v {
                    Value::Null => None,
                    Value::Int(n) => Some(n.to_string()),
                    Value::Str(s) => Some(s.into_owned()),
                })
                .collect::<StringArray>(),
        ),
    }
}

fn int(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Int(n) => Some(n),
        Value::Str(s) => s.parse().ok(),
    }
}
