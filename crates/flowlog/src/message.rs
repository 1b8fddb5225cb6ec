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

/// [`rebuild_message`] for every row of a batch, parsing each distinct `log_format` once.
/// Rows whose format cannot be parsed get null.
pub fn rebuild_messages(batch: &RecordBatch) -> arrow::array::StringArray {
    use std::collections::HashMap;
    use std::fmt::Write as _;

    /// A column read without a type dispatch per cell.
    enum Cells<'a> {
        I32(&'a arrow::array::Int32Array),
        I64(&'a arrow::array::Int64Array),
        Utf8(&'a arrow::array::StringArray),
        View(&'a arrow::array::StringViewArray),
        Other(&'a arrow::array::ArrayRef),
    }

    let rows = batch.num_rows();
    let mut out = arrow::array::StringBuilder::with_capacity(rows, rows * 96);
    let message = batch
        .column_by_name(MESSAGE)
        .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
        .map(|c| c.as_string::<i32>().clone());
    let format = batch
        .column_by_name(LOG_FORMAT)
        .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
        .map(|c| c.as_string::<i32>().clone());
    let cells: Vec<Cells<'_>> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Int32 => Cells::I32(c.as_primitive::<Int32Type>()),
            DataType::Int64 => Cells::I64(c.as_primitive::<Int64Type>()),
            DataType::Utf8 => Cells::Utf8(c.as_string::<i32>()),
            DataType::Utf8View => Cells::View(c.as_string_view()),
            _ => Cells::Other(c),
        })
        .collect();
    // Per distinct format: for each slot, the column it reads (None: always `-`). Rows of a
    // batch nearly always share one format, so the last one is kept at hand.
    let mut plans: HashMap<String, Option<Vec<Option<usize>>>> = HashMap::new();
    let mut last: Option<(usize, Option<Vec<Option<usize>>>)> = None;
    let schema = batch.schema();
    let mut line = String::with_capacity(256);
    for row in 0..rows {
        if let Some(m) = &message
            && !m.is_null(row)
        {
            out.append_value(m.value(row));
            continue;
        }
        let Some(f) = format.as_ref().filter(|f| !f.is_null(row)) else {
            out.append_null();
            continue;
        };
        let header = f.value(row);
        let same = last.as_ref().is_some_and(|(r, _)| f.value(*r) == header);
        if !same {
            if !plans.contains_key(header) {
                let plan = LogFormat::parse(header).ok().map(|format| {
                    format
                        .slots()
                        .iter()
                        .map(|slot| {
                            let name = match slot {
                                Slot::Known(id) => id.column().to_string(),
                                Slot::Unknown(_) => crate::schema::extra_column(slot),
                            };
                            schema.index_of(&name).ok()
                        })
                        .collect()
                });
                plans.insert(header.to_string(), plan);
            }
            last = Some((row, plans.get(header).cloned().flatten()));
        }
        let Some((_, Some(plan))) = &last else {
            out.append_null();
            continue;
        };
        line.clear();
        for (i, column) in plan.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            let Some(c) = column.and_then(|c| cells.get(c)) else {
                line.push('-');
                continue;
            };
            let ok = match c {
                Cells::I32(a) if a.is_valid(row) => write!(line, "{}", a.value(row)).is_ok(),
                Cells::I64(a) if a.is_valid(row) => write!(line, "{}", a.value(row)).is_ok(),
                Cells::Utf8(a) if a.is_valid(row) => {
                    line.push_str(a.value(row));
                    true
                }
                Cells::View(a) if a.is_valid(row) => {
                    line.push_str(a.value(row));
                    true
                }
                Cells::Other(a) if a.is_valid(row) => {
                    match arrow::util::display::array_value_to_string(a, row) {
                        Ok(s) => {
                            line.push_str(&s);
                            true
                        }
                        Err(_) => false,
                    }
                }
                _ => false,
            };
            if !ok {
                line.push('-');
            }
        }
        out.append_value(&line);
    }
    out.finish()
}
