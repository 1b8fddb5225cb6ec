//! `@message`: the record text, stored only when it cannot be rebuilt, rebuilt otherwise.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use flowwatch_core::{LogFormat, format::Slot};

use crate::schema::{LOG_FORMAT, MESSAGE};

/// The record text of `row`, exactly as it was delivered (for text sources) or as AWS would have
/// written it in the record's format (for Parquet sources). None if the batch lacks the
/// metadata columns.
pub fn rebuild_message(batch: &RecordBatch, row: usize) -> Option<String> {
    if let Some(message) = batch.column_by_name(MESSAGE)
        && !message.is_null(row)
    {
        return Some(message.as_string::<i32>().value(row).to_string());
    }
    let format = batch.column_by_name(LOG_FORMAT)?;
    let header = arrow::util::display::array_value_to_string(format, row).ok()?;
    let format = LogFormat::parse(&header).ok()?;
    let mut out = String::with_capacity(128);
    for (i, slot) in format.slots().iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let column = match slot {
            Slot::Known(id) => batch.column_by_name(id.column()),
            Slot::Unknown(_) => batch.column_by_name(&crate::schema::extra_column(slot)),
        };
        match column {
            Some(c) if !c.is_null(row) => match c.data_type() {
                DataType::Int32 => {
                    out.push_str(&c.as_primitive::<Int32Type>().value(row).to_string())
                }
                DataType::Int64 => {
                    out.push_str(&c.as_primitive::<Int64Type>().value(row).to_string())
                }
                DataType::Utf8 => out.push_str(c.as_string::<i32>().value(row)),
                _ => out.push_str(&arrow::util::display::array_value_to_string(c, row).ok()?),
            },
            _ => out.push('-'),
        }
    }
    Some(out)
}
