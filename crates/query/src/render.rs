//! Cells as CloudWatch prints them: timestamps `YYYY-MM-DD HH:MM:SS.mmm` (UTC), integers as
//! integers, floats in Rust's shortest round-trip form, booleans `true`/`false`.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};

/// Every row of `batches`, each cell rendered; None for null.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<Option<String>>> {
    let mut out = vec![];
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(b.columns().iter().map(|c| cell(c, r)).collect());
        }
    }
    out
}

/// Whether a column holds numbers (right-aligned in tables, unquoted in JSON).
pub fn is_number(t: &DataType) -> bool {
    t.is_numeric()
}

pub fn cell(col: &ArrayRef, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Timestamp(unit, _) => {
            let v = match unit {
                TimeUnit::Second => col
                    .as_primitive::<arrow::datatypes::TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1000),
                TimeUnit::Millisecond => col
                    .as_primitive::<arrow::datatypes::TimestampMillisecondType>()
                    .value(row),
                TimeUnit::Microsecond => {
                    col.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                        .value(row)
                        / 1000
                }
                TimeUnit::Nanosecond => {
                    col.as_primitive::<arrow::datatypes::TimestampNanosecondType>()
                        .value(row)
                        / 1_000_000
                }
            };
            format_ts(v)
        }
        DataType::Float64 => fmt_float(
            col.as_primitive::<arrow::datatypes::Float64Type>()
                .value(row),
        ),
        DataType::Float32 => fmt_float(f64::from(
            col.as_primitive::<arrow::datatypes::Float32Type>()
                .value(row),
        )),
        _ => arrow::util::display::array_value_to_string(col, row).unwrap_or_default(),
    })
}

fn fmt_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `2019-07-14 12:43:08.000`.
pub fn format_ts(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => ms.to_string(),
    }
}
