//! The Arrow schema of flow records: what every reader produces and what the store writes.
//!
//! Columns, in order: `timestamp` (CloudWatch's `@timestamp`), every known field under its
//! Parquet/Athena name with the type AWS documents for Parquet delivery, the record metadata
//! (`log_stream`, `log_format`, `message`, `ingestion_time`), then one string column per unknown
//! field, named like AWS would name it in Parquet.
//!
//! `message` holds the original record text only when it cannot be rebuilt exactly from the
//! fields and `log_format` (a double space, a millisecond `start`, leading zeros); otherwise it is
//! null and [`crate::rebuild_message`] reproduces it, so `@message` costs almost nothing to store.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use flowwatch_core::{FIELDS, FieldType, Slot};

/// `@timestamp`: `start` × 1000 when the record has `start`, else the delivery's event time.
pub const TIMESTAMP: &str = "timestamp";
/// `@logStream`: `eni-…-all` as CloudWatch names VPC flow-log streams.
pub const LOG_STREAM: &str = "log_stream";
/// The record's format as an S3 header line (hyphenated names, in order).
pub const LOG_FORMAT: &str = "log_format";
/// The original text, only when it differs from the rebuilt one.
pub const MESSAGE: &str = "message";
/// `@ingestionTime`: when flowwatch stored the record.
pub const INGESTION_TIME: &str = "ingestion_time";

/// Number of leading columns before the known fields.
pub const FIELD_OFFSET: usize = 1;

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

pub fn dictionary_utf8() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The Arrow type flowwatch stores a known field as.
pub fn arrow_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::Int32 { .. } => DataType::Int32,
        FieldType::Int64 => DataType::Int64,
        FieldType::Addr | FieldType::Enum(_) | FieldType::Text => DataType::Utf8,
    }
}

static BASE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = Vec::with_capacity(FIELDS.len() + 5);
    fields.push(Field::new(TIMESTAMP, timestamp_type(), false));
    for f in FIELDS {
        fields.push(Field::new(f.column, arrow_type(f.ty), true));
    }
    fields.push(Field::new(LOG_STREAM, dictionary_utf8(), true));
    fields.push(Field::new(LOG_FORMAT, dictionary_utf8(), false));
    fields.push(Field::new(MESSAGE, DataType::Utf8, true));
    fields.push(Field::new(INGESTION_TIME, timestamp_type(), false));
    Arc::new(Schema::new(fields))
});

/// The schema without unknown-field columns.
pub fn base_schema() -> SchemaRef {
    BASE.clone()
}

/// Index of the first metadata column after the known fields.
pub const fn meta_offset() -> usize {
    FIELD_OFFSET + FIELDS.len()
}

/// Number of columns in [`base_schema`]; unknown-field columns follow.
pub const fn base_width() -> usize {
    meta_offset() + 4
}

/// The column an unknown field is stored in: its Parquet name, or that name after a `_` when the
/// base schema already has a column of that name (a field spelled `message` or `timestamp`, or a
/// re-read flowwatch export), so a batch never carries two columns of one name. Field names
/// start with a letter, so the `_` form cannot meet another field's column.
pub fn extra_column(slot: &Slot) -> String {
    let name = slot.column();
    if BASE.fields().iter().any(|f| *f.name() == name) {
        format!("_{name}")
    } else {
        name
    }
}

/// The schema with extra string columns for unknown fields (already Parquet-named).
pub fn schema_with_extras(extras: &[String]) -> SchemaRef {
    if extras.is_empty() {
        return base_schema();
    }
    let mut fields: Vec<Field> = BASE.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(
        extras
            .iter()
            .map(|name| Field::new(name, DataType::Utf8, true)),
    );
    Arc::new(Schema::new(fields))
}
