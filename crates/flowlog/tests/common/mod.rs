//! Helpers shared by the integration tests: run a reader, turn its batches into JSON rows.
#![allow(dead_code)] // each test crate uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit, TimestampMillisecondType};
use flate2::Compression;
use flate2::write::GzEncoder;
use flowwatch_flowlog::{
    Output, ReadOptions, ReadSummary, Rejection, SourceDefaults, read_path, read_stream,
    rebuild_message,
};
use serde_json::{Map, Value};

/// One record as JSON: every column of the batch under its name (null for null), plus
/// [`REBUILT`] = `rebuild_message`.
pub type Row = Map<String, Value>;

/// The key under which [`row_json`] stores `rebuild_message(batch, row)`.
pub const REBUILT: &str = "@message";

/// Everything one read produced.
#[derive(Debug)]
pub struct Outcome {
    pub batches: Vec<RecordBatch>,
    pub rows: Vec<Row>,
    pub rejects: Vec<Rejection>,
    pub summary: ReadSummary,
}

impl Outcome {
    fn new(outputs: Vec<Output>, summary: ReadSummary) -> Outcome {
        let mut batches = Vec::new();
        let mut rejects = Vec::new();
        for output in outputs {
            match output {
                Output::Batch(b) => batches.push(b),
                Output::Reject(r) => rejects.push(r),
            }
        }
        let rows = batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |i| row_json(b, i)))
            .collect::<Vec<_>>();
        assert_eq!(
            rows.len() as u64,
            summary.records,
            "summary.records vs rows emitted"
        );
        assert_eq!(
            rejects.len() as u64,
            summary.rejected,
            "summary.rejected vs rejections emitted"
        );
        Outcome {
            batches,
            rows,
            rejects,
            summary,
        }
    }

    /// Panics unless every record was read without rejection or error.
    pub fn clean(self, what: &str) -> Outcome {
        assert!(
            self.rejects.is_empty(),
            "{what}: unexpected rejections {:#?}",
            self.rejects
        );
        assert!(
            self.summary.error.is_none(),
            "{what}: unexpected error {:?}",
            self.summary.error
        );
        self
    }

    /// The rebuilt record texts, in order.
    pub fn messages(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| text(&r[REBUILT]).unwrap_or_default())
            .collect()
    }

    /// Rejected line numbers, in order.
    pub fn reject_lines(&self) -> Vec<u64> {
        self.rejects.iter().map(|r| r.line).collect()
    }
}

pub fn opts() -> ReadOptions {
    ReadOptions::default()
}

pub fn opts_with_format(format: &str) -> ReadOptions {
    ReadOptions {
        log_format: Some(flowwatch_core::LogFormat::parse(format).expect("valid test format")),
        ..ReadOptions::default()
    }
}

pub fn read_bytes(bytes: &[u8], opts: &ReadOptions) -> Outcome {
    read_bytes_with(bytes, SourceDefaults::default(), opts)
}

pub fn read_bytes_with(bytes: &[u8], defaults: SourceDefaults, opts: &ReadOptions) -> Outcome {
    let mut outputs = Vec::new();
    let summary = read_stream(bytes, "test-input", defaults, opts, &mut |o| {
        outputs.push(o)
    });
    Outcome::new(outputs, summary)
}

pub fn read_file(path: &Path, defaults: SourceDefaults, opts: &ReadOptions) -> Outcome {
    let mut outputs = Vec::new();
    let name = path.display().to_string();
    let summary = read_path(path, &name, defaults, opts, &mut |o| outputs.push(o));
    Outcome::new(outputs, summary)
}

/// One row as a JSON object (see [`Row`]).
pub fn row_json(batch: &RecordBatch, row: usize) -> Row {
    let mut map = Map::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        map.insert(field.name().clone(), cell_json(column, row));
    }
    let rebuilt = rebuild_message(batch, row).map_or(Value::Null, Value::String);
    map.insert(REBUILT.to_string(), rebuilt);
    map
}

fn cell_json(c: &ArrayRef, row: usize) -> Value {
    if c.is_null(row) {
        return Value::Null;
    }
    match c.data_type() {
        DataType::Int32 => c.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => c.as_primitive::<Int64Type>().value(row).into(),
        DataType::Utf8 => c.as_string::<i32>().value(row).into(),
        DataType::Timestamp(TimeUnit::Millisecond, _) => c
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .into(),
        DataType::Dictionary(key, value)
            if **key == DataType::Int32 && **value == DataType::Utf8 =>
        {
            let dict = c.as_dictionary::<Int32Type>();
            let key = usize::try_from(dict.keys().value(row)).expect("dictionary key");
            dict.values().as_string::<i32>().value(key).into()
        }
        other => panic!("column type {other} is not part of the flow schema"),
    }
}

/// A JSON scalar as the text a flow log would carry; None for null.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// An integer cell.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Number(n) => Some(n.as_i64().expect("integer cell")),
        other => panic!("expected an integer cell, found {other}"),
    }
}

/// Epoch seconds as ISO-8601 UTC with milliseconds, as Elastic renders `event.start`.
pub fn iso_millis(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("epoch in range")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Parse an ISO-8601 UTC time to epoch seconds.
pub fn iso_to_secs(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .expect("ISO-8601 time")
        .timestamp()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

pub fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Check each record line against its row, token by token: `-` is null, anything else equals
/// the column's value as text; and the rebuilt message is the line itself. `format` is the
/// header (hyphen names); `None` means the default v2 format.
pub fn check_lines(ctx: &str, format: Option<&str>, lines: &[&str], rows: &[Row]) {
    let format = match format {
        Some(f) => flowwatch_core::LogFormat::parse(f).expect("valid format"),
        None => flowwatch_core::LogFormat::default_v2(),
    };
    assert_eq!(rows.len(), lines.len(), "{ctx}: record count");
    for (n, (line, row)) in lines.iter().zip(rows).enumerate() {
        let tokens: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
        assert_eq!(
            tokens.len(),
            format.len(),
            "{ctx} record {n}: token count of {line:?}"
        );
        for (slot, token) in format.slots().iter().zip(&tokens) {
            let column = slot.column();
            let got = row
                .get(&column)
                .unwrap_or_else(|| panic!("{ctx}: no column {column}"));
            let want = (*token != "-").then(|| (*token).to_string());
            assert_eq!(
                text(got),
                want,
                "{ctx} record {n}, column {column} of {line:?}"
            );
        }
        assert_eq!(
            text(&row[REBUILT]).as_deref(),
            Some(*line),
            "{ctx} record {n}: rebuilt text"
        );
    }
}
