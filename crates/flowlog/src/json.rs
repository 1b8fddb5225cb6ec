//! The JSON shapes flow logs arrive in: CloudWatch Logs API output (`filter-log-events`,
//! `get-log-events`), subscription-filter payloads (plain, or inside a Lambda `awslogs` event),
//! Firehose records (`{"message": …}` objects with no separator, or an HTTP-endpoint request
//! whose `records[].data` are base64, possibly gzip'd payloads).

use std::io::{BufRead, Cursor};

use serde_json::{Map, Value};

use crate::ReadError;
use crate::source::{Reader, decode_base64};

pub(crate) fn read(reader: &mut Reader<'_>, input: impl BufRead, depth: u8) {
    // Continue the source's numbering: a nested payload's records follow those before it.
    let mut index = reader.json_index;
    let stream = serde_json::Deserializer::from_reader(input).into_iter::<Value>();
    for item in stream {
        match item {
            Ok(value) => value_(reader, value, &mut index, depth),
            Err(e) => {
                reader.flush();
                reader.summary.error = Some(crate::ReadError::format(
                    &reader.name,
                    format!("invalid JSON after {index} records: {e}"),
                ));
                break;
            }
        }
    }
    reader.json_index = index;
}

fn value_(reader: &mut Reader<'_>, value: Value, index: &mut u64, depth: u8) {
    match value {
        Value::Array(items) => items
            .into_iter()
            .for_each(|v| value_(reader, v, index, depth)),
        Value::Object(obj) => object(reader, obj, index, depth),
        other => {
            *index += 1;
            let text = other.to_string();
            reader.reject(
                *index,
                "expected a JSON object with a flow-log message".into(),
                text.as_bytes(),
            );
        }
    }
}

fn object(reader: &mut Reader<'_>, obj: Map<String, Value>, index: &mut u64, depth: u8) {
    if let Some(kind) = obj.get("messageType").and_then(Value::as_str)
        && kind != "DATA_MESSAGE"
    {
        // CONTROL_MESSAGE: CloudWatch's health probe of the destination.
        reader.summary.skipped += 1;
        return;
    }
    if let Some(events) = obj.get("logEvents").and_then(Value::as_array) {
        let stream = obj.get("logStream").and_then(Value::as_str);
        for event in events {
            *index += 1;
            event_(reader, event, stream, *index);
        }
        return;
    }
    if let Some(events) = obj.get("events").and_then(Value::as_array) {
        for event in events {
            *index += 1;
            let stream = event.get("logStreamName").and_then(Value::as_str);
            event_(reader, event, stream, *index);
        }
        return;
    }
    if let Some(data) = obj
        .get("awslogs")
        .and_then(|a| a.get("data"))
        .and_then(Value::as_str)
    {
        blob(reader, data, index, depth);
        return;
    }
    if let Some(records) = obj.get("records").and_then(Value::as_array) {
        for record in records {
            match record.get("data").and_then(Value::as_str) {
                Some(data) => blob(reader, data, index, depth),
                None => {
                    *index += 1;
                    reader.reject(
                        *index,
                        "Firehose record without a 'data' string".into(),
                        record.to_string().as_bytes(),
                    );
                }
            }
        }
        return;
    }
    if obj.contains_key("message") {
        *index += 1;
        event_(reader, &Value::Object(obj), None, *index);
        return;
    }
    *index += 1;
    let keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    reader.reject(
        *index,
        format!(
            "unrecognised JSON object with keys [{}]: expected a CloudWatch Logs event, subscription payload or Firehose record",
            keys.join(", ")
        ),
        Value::Object(obj).to_string().as_bytes(),
    );
}

/// One event with a `message` (and maybe `timestamp`).
fn event_(reader: &mut Reader<'_>, event: &Value, stream: Option<&str>, index: u64) {
    let Some(message) = event.get("message").and_then(Value::as_str) else {
        reader.reject(
            index,
            "event without a 'message' string".into(),
            event.to_string().as_bytes(),
        );
        return;
    };
    let timestamp = event.get("timestamp").and_then(Value::as_i64);
    // CloudWatch delivers one record per event, never a header.
    let message = message.trim_end_matches(['\n', '\r']);
    reader.message(index, message, timestamp, stream);
}

/// A base64 payload: gzip'd subscription data, or a Firehose record's `{"message"}` JSON.
fn blob(reader: &mut Reader<'_>, data: &str, index: &mut u64, depth: u8) {
    if depth >= 3 {
        *index += 1;
        reader.reject(*index, "payload nested too deeply".into(), data.as_bytes());
        return;
    }
    match decode_base64(data.as_bytes()) {
        Some(bytes) if bytes.starts_with(&[0x1f, 0x8b]) || bytes.first() == Some(&b'{') => {
            // A damaged payload is one bad record, not the end of the source: turn the error
            // the nested read stops with into a rejection and keep the source's own error.
            let outer_error = reader.summary.error.take();
            reader.json_index = *index;
            reader.read_stream(&mut Cursor::new(bytes), depth + 1);
            *index = reader.json_index;
            if let Some(e) = std::mem::replace(&mut reader.summary.error, outer_error) {
                *index += 1;
                let detail = match e {
                    ReadError::Gzip { detail, .. } => {
                        format!("gzip data is truncated or corrupt ({detail})")
                    }
                    ReadError::Format { detail, .. } => detail,
                    ReadError::Io { source, .. } => source.to_string(),
                };
                reader.reject(
                    *index,
                    format!("record data is damaged: {detail}"),
                    data.as_bytes(),
                );
            }
        }
        Some(bytes) => {
            // A raw flow-log line (Firehose with a record transformation).
            *index += 1;
            match std::str::from_utf8(&bytes) {
                Ok(text) => reader.message(*index, text.trim_end_matches(['\n', '\r']), None, None),
                Err(_) => reader.reject(*index, "Firehose record data is not UTF-8".into(), &bytes),
            }
        }
        None => {
            *index += 1;
            reader.reject(
                *index,
                "record data is not valid base64".into(),
                data.as_bytes(),
            );
        }
    }
}
