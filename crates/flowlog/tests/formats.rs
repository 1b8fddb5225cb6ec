//! Every delivery format, with small fixtures written here: gzip (single, multi-member,
//! truncated), empty and binary input, CloudWatch exports and API output, subscription payloads
//! (plain, base64, Lambda), Firehose records and HTTP bodies, unknown fields, millisecond times,
//! bad records of every kind, a wrong `--log-format`, Parquet, and S3 key defaults.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use flowwatch_flowlog::s3path::defaults_from_path;
use flowwatch_flowlog::{Detected, MAX_LINE, ReadError, ReadOptions, SourceDefaults};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

const HEADER_V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const R1: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
const R2: &str = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK";
const NODATA: &str =
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA";
const V6: &str = "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK";
const NAT_HEADER: &str = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr";
const NAT: &str = "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5";

/// The source-level error of a read, as text ("" when there was none).
fn error_text(out: &Outcome) -> String {
    out.summary
        .error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn lines(records: &[&str]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// A CloudWatch Logs subscription payload (DATA_MESSAGE) for one stream.
fn subscription(stream: &str, messages: &[&str]) -> String {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("3797634226295322317903814471494588872256495196555516313{i}"), "timestamp": 1_702_918_083_000_i64, "message": m}))
        .collect();
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789010",
        "logGroup": "VPCFlowLogGroup",
        "logStream": stream,
        "subscriptionFilters": ["flowlogstest"],
        "logEvents": events,
    })
    .to_string()
}

const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1763029869851,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

// ---------------------------------------------------------------------------------------------
// Framing: gzip, empty, binary

#[test]
fn gzip_single_member_reads_like_plain_text() {
    let body = lines(&[HEADER_V2, R1, R2, NODATA, V6]);
    let plain = read_bytes(body.as_bytes(), &opts()).clean("plain");
    let gz = read_bytes(&gzip(body.as_bytes()), &opts()).clean("gzip");
    assert_eq!(gz.summary.detected, Detected::Text);
    assert_eq!(gz.messages(), [R1, R2, NODATA, V6]);
    assert_eq!(gz.rows, plain.rows);
    assert_eq!(gz.summary.skipped, 1, "the header");
}

#[test]
fn gzip_multi_member_with_a_new_header_per_member() {
    let mut data = gzip(lines(&[HEADER_V2, R1]).as_bytes());
    data.extend(gzip(lines(&[NAT_HEADER, NAT]).as_bytes()));
    data.extend(gzip(lines(&[R2]).as_bytes())); // no header: the last one still applies
    let out = read_bytes(&data, &opts());
    assert_eq!(out.messages(), [R1, NAT]);
    assert_eq!(
        out.reject_lines(),
        [5],
        "R2 has 14 fields, the NAT format 6"
    );
    assert_eq!(out.rows[0]["log_format"], HEADER_V2);
    assert_eq!(out.rows[1]["log_format"], NAT_HEADER);
    assert_eq!(out.rows[1]["pkt_dstaddr"], "203.0.113.5");
    assert_eq!(out.rows[1]["account_id"], Value::Null);
    assert!(out.summary.error.is_none());
}

/// Many distinct records, so the gzip stream is long enough to cut in the middle.
fn numbered_records(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "2 123456789010 eni-1235b8ca123456789 10.{}.{}.{} 172.31.16.21 {} 443 6 {} {} 1418530010 1418530070 ACCEPT OK",
                i % 7,
                i % 251,
                i % 13,
                1024 + i,
                i % 97 + 1,
                i * 37 % 100_000
            )
        })
        .collect()
}

#[test]
fn truncated_gzip_keeps_the_records_before_the_damage() {
    let records = numbered_records(20_000);
    let body: String = records.iter().map(|r| format!("{r}\n")).collect();
    let full = gzip(body.as_bytes());
    let cut = full.len() / 2;
    let out = read_bytes(&full[..cut], &opts());
    let n = out.rows.len();
    assert!(
        n > 1000 && n < records.len(),
        "kept {n} of {}",
        records.len()
    );
    assert_eq!(
        out.messages(),
        records[..n],
        "the records kept are the first ones, intact"
    );
    assert!(
        out.rejects.is_empty(),
        "a half line is not a record: {:?}",
        out.rejects.first()
    );
    match &out.summary.error {
        Some(e @ ReadError::Gzip { offset, .. }) => {
            assert!(
                *offset > 0 && *offset <= cut as u64,
                "offset {offset} of {cut}"
            );
            let msg = e.to_string();
            assert!(msg.contains(&format!("compressed byte {offset}")), "{msg}");
            assert!(msg.contains("test-input"), "names the source: {msg}");
        }
        other => panic!("expected a gzip error, got {other:?}"),
    }
}

#[test]
fn corrupt_gzip_is_a_gzip_error_not_a_panic() {
    let body: String = numbered_records(2000)
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    let mut data = gzip(body.as_bytes());
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let out = read_bytes(&data, &opts());
    assert!(
        matches!(out.summary.error, Some(ReadError::Gzip { .. })),
        "{:?}",
        out.summary.error
    );
    assert!(out.rows.len() < 2000);
}

#[test]
fn empty_inputs_are_empty_not_errors() {
    for (what, data) in [("empty", Vec::new()), ("gzip of nothing", gzip(b""))] {
        let out = read_bytes(&data, &opts());
        assert_eq!(out.summary.records, 0, "{what}");
        assert!(
            out.summary.error.is_none(),
            "{what}: {:?}",
            out.summary.error
        );
        assert!(out.rejects.is_empty(), "{what}");
        assert_eq!(out.summary.uniform_rejection, None, "{what}");
    }
    let out = read_bytes(b"", &opts());
    assert_eq!(out.summary.detected, Detected::Empty);
    let out = read_bytes(b"\n\r\n  \n", &opts()).clean("blank lines");
    assert_eq!((out.summary.records, out.summary.skipped), (0, 3));
}

/// Deterministic noise (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_junk_is_a_clear_error() {
    let mut junk = noise(4096, 0x9e37_79b9_7f4a_7c15);
    junk[0] = 0x00;
    let out = read_bytes(&junk, &opts());
    assert_eq!(out.summary.records, 0);
    assert!(
        out.rejects.is_empty(),
        "no record-by-record noise for a binary file"
    );
    let msg = error_text(&out);
    assert!(msg.contains("binary"), "{msg}");

    // Junk behind each magic number is reported by the layer it claims to be.
    let mut fake_gzip = vec![0x1f, 0x8b];
    fake_gzip.extend(noise(512, 7));
    let out = read_bytes(&fake_gzip, &opts());
    assert!(
        matches!(out.summary.error, Some(ReadError::Gzip { .. })),
        "{:?}",
        out.summary.error
    );

    let mut fake_parquet = b"PAR1".to_vec();
    fake_parquet.extend(noise(512, 11));
    let out = read_bytes(&fake_parquet, &opts());
    assert_eq!(out.summary.detected, Detected::Parquet);
    let msg = error_text(&out);
    assert!(msg.contains("Parquet"), "{msg}");

    let out = read_bytes(b"H4sI!!!not base64!!!", &opts());
    let msg = error_text(&out);
    assert!(msg.contains("base64"), "{msg}");

    let out = read_bytes(b"{\"message\": \"2 1", &opts());
    let msg = error_text(&out);
    assert!(msg.contains("invalid JSON"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs: export to S3, console CSV, API output

#[test]
fn cloudwatch_export_lines_gzipped_in_a_stream_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir
        .path()
        .join("exportedlogs/5c7b1f04-task/eni-1235b8ca123456789-all");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let path = folder.join("000000.gz");
    let body = lines(&[
        &format!("2024-05-25T05:00:12.000Z {R1}"),
        &format!("2024-05-25T05:00:13.000Z {NODATA}"),
    ]);
    std::fs::write(&path, gzip(body.as_bytes())).expect("write");
    let out = read_file(&path, defaults_from_path(&path), &opts()).clean("export");
    assert_eq!(
        out.messages(),
        [R1, NODATA],
        "the export time prefix is not part of the record"
    );
    for row in &out.rows {
        assert_eq!(row["log_stream"], "eni-1235b8ca123456789-all");
        assert_eq!(int(&row["timestamp"]), int(&row["start"]).map(|s| s * 1000));
    }

    // Without `start` in the format the export's event time is the record time.
    let body = "2024-05-25T05:00:12.000Z eni-1235b8ca123456789 10.0.1.5 10.0.0.220 ACCEPT\n";
    let out = read_bytes(
        body.as_bytes(),
        &opts_with_format("interface-id srcaddr dstaddr action"),
    )
    .clean("export, no start");
    assert_eq!(out.rows[0]["timestamp"], 1_716_613_212_000_i64);
    assert_eq!(
        out.messages(),
        ["eni-1235b8ca123456789 10.0.1.5 10.0.0.220 ACCEPT"]
    );
}

#[test]
fn cloudwatch_console_csv() {
    let body = format!("timestamp,message\n1742570569000,{NODATA}\n");
    let out = read_bytes(body.as_bytes(), &opts()).clean("csv");
    assert_eq!(out.messages(), [NODATA]);
    assert_eq!(out.summary.skipped, 1);
}

#[test]
fn filter_log_events_output() {
    let body = json!({
        "events": [
            {"logStreamName": "eni-0c19436730cc350ae-all", "timestamp": 1_418_530_010_000_i64, "message": R1,
             "ingestionTime": 1_418_530_080_000_i64, "eventId": "31953106606966983378809025079804211143289615424298221568"},
            {"logStreamName": "eni-11111111aaaaaaaaa-all", "timestamp": 1_431_280_876_000_i64, "message": format!("{NODATA}\n"),
             "ingestionTime": 1_431_280_990_000_i64, "eventId": "31953106606966983378809025079804211143289615424298221569"},
            {"logStreamName": "eni-11111111aaaaaaaaa-all", "timestamp": 1_431_280_876_000_i64, "eventId": "3"},
        ],
        "searchedLogStreams": [],
    });
    let out = read_bytes(body.to_string().as_bytes(), &opts());
    assert_eq!(out.summary.detected, Detected::Json);
    assert_eq!(
        out.messages(),
        [R1, NODATA],
        "a trailing newline in a message is not kept"
    );
    assert_eq!(out.rows[0]["log_stream"], "eni-0c19436730cc350ae-all");
    assert_eq!(out.rows[1]["log_stream"], "eni-11111111aaaaaaaaa-all");
    // The event without a message is rejected alone, numbered by its position.
    assert_eq!(out.reject_lines(), [3]);
    assert!(
        out.rejects[0].reason.contains("message"),
        "{}",
        out.rejects[0].reason
    );
}

#[test]
fn get_log_events_output_without_stream_names() {
    // `start` is absent from this format, so the event timestamp is the record time.
    let body = json!({"events": [{"timestamp": 1_700_000_000_123_i64, "message": NAT, "ingestionTime": 1}],
                      "nextForwardToken": "f/1", "nextBackwardToken": "b/1"});
    let out = read_bytes(body.to_string().as_bytes(), &opts_with_format(NAT_HEADER))
        .clean("get-log-events");
    assert_eq!(out.rows[0]["timestamp"], 1_700_000_000_123_i64);
    assert_eq!(
        out.rows[0]["log_stream"], "eni-1235b8ca123456789-all",
        "derived from interface-id"
    );
}

// ---------------------------------------------------------------------------------------------
// Subscription payloads and Firehose

fn check_payload_rows(what: &str, out: &Outcome, stream: &str, records: &[&str]) {
    assert!(
        out.summary.error.is_none(),
        "{what}: {:?}",
        out.summary.error
    );
    assert!(out.rejects.is_empty(), "{what}: {:?}", out.rejects);
    assert_eq!(out.messages(), records, "{what}");
    for row in &out.rows {
        assert_eq!(row["log_stream"], stream, "{what}");
    }
}

#[test]
fn subscription_payload_gzip_base64_and_lambda() {
    let stream = "eni-0c19436730cc350ae-all";
    let payload = subscription(stream, &[R1, R2, NODATA]);
    let gz = gzip(payload.as_bytes());
    let b64 = base64(&gz);
    let lambda = json!({"awslogs": {"data": b64}}).to_string();
    for (what, data) in [
        ("plain", payload.as_bytes().to_vec()),
        ("gzip", gz.clone()),
        ("base64 gzip", b64.as_bytes().to_vec()),
        (
            "base64 gzip with a newline",
            format!("{b64}\n").into_bytes(),
        ),
        ("lambda event", lambda.into_bytes()),
        (
            "lambda event gzip'd",
            gzip(json!({"awslogs": {"data": b64}}).to_string().as_bytes()),
        ),
    ] {
        let out = read_bytes(&data, &opts());
        check_payload_rows(what, &out, stream, &[R1, R2, NODATA]);
        assert_eq!(out.summary.detected, Detected::Json, "{what}");
    }
}

#[test]
fn subscription_control_message_is_skipped() {
    for data in [CONTROL.as_bytes().to_vec(), gzip(CONTROL.as_bytes())] {
        let out = read_bytes(&data, &opts()).clean("control");
        assert_eq!((out.summary.records, out.summary.skipped), (0, 1));
    }
}

#[test]
fn firehose_concatenated_messages_without_separator() {
    let body = format!("{}{}", json!({"message": R1}), json!({"message": V6}));
    assert!(body.contains("}{"));
    let out = read_bytes(body.as_bytes(), &opts()).clean("firehose");
    assert_eq!(out.messages(), [R1, V6]);
    assert_eq!(
        out.rows[1]["srcaddr"],
        "2001:db8:1234:a100:8d6e:3477:df66:f105"
    );
    assert_eq!(out.rows[0]["log_stream"], "eni-1235b8ca123456789-all");
    // Gzip'd, as Firehose writes it to S3 with compression on.
    let out = read_bytes(&gzip(body.as_bytes()), &opts()).clean("firehose gzip");
    assert_eq!(out.messages(), [R1, V6]);
}

#[test]
fn firehose_http_endpoint_body() {
    let stream = "eni-0c19436730cc350ae-all";
    let direct = base64(json!({"message": R1}).to_string().as_bytes());
    let from_subscription = base64(&gzip(subscription(stream, &[R2, NODATA]).as_bytes()));
    let raw_line = base64(format!("{V6}\n").as_bytes());
    let body = json!({
        "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
        "timestamp": 1_578_090_901_599_i64,
        "records": [{"data": direct}, {"data": from_subscription}, {"data": raw_line}, {"data": "@@@"}],
    });
    let out = read_bytes(body.to_string().as_bytes(), &opts());
    assert_eq!(out.messages(), [R1, R2, NODATA, V6]);
    let streams: Vec<_> = out
        .rows
        .iter()
        .map(|r| text(&r["log_stream"]).unwrap_or_default())
        .collect();
    assert_eq!(
        streams,
        [
            "eni-1235b8ca123456789-all",
            stream,
            stream,
            "eni-1235b8ca123456789-all"
        ]
    );
    // Records are numbered by the flow-log events before them, nested payloads included.
    assert_eq!(out.reject_lines(), [5], "the record that is not base64");
    assert!(
        out.rejects[0].reason.contains("base64"),
        "{}",
        out.rejects[0].reason
    );
    // A compressed request body (Content-Encoding: gzip) is the same.
    let out = read_bytes(&gzip(body.to_string().as_bytes()), &opts());
    assert_eq!(out.messages(), [R1, R2, NODATA, V6]);
}

#[test]
fn firehose_records_with_damaged_data_are_rejected_alone() {
    let events = subscription(
        "eni-0c19436730cc350ae-all",
        &["not a record", R2, "nor this"],
    );
    let damaged_gzip = gzip(subscription("s", &[R1]).as_bytes());
    let body = json!({"requestId": "r", "timestamp": 1, "records": [
        {"data": base64(json!({"message": R1}).to_string().as_bytes())}, // 1
        {"data": base64(b"{\"message\": \"2 1234")},                   // 2: JSON cut short
        {"data": base64(&damaged_gzip[..damaged_gzip.len() / 2])},       // 3: gzip cut short
        {"data": base64(&gzip(events.as_bytes()))},                      // 4, 5, 6
        {"data": base64(json!({"message": V6}).to_string().as_bytes())}, // 7
    ]});
    let out = read_bytes(body.to_string().as_bytes(), &opts());
    assert!(
        out.summary.error.is_none(),
        "one damaged record does not fail the body: {:?}",
        out.summary.error
    );
    assert_eq!(out.messages(), [R1, R2, V6]);
    assert_eq!(
        out.reject_lines(),
        [2, 3, 4, 6],
        "unique, in order: {:#?}",
        out.rejects
    );
    assert!(
        out.rejects[0].reason.contains("JSON"),
        "{}",
        out.rejects[0].reason
    );
    assert!(
        out.rejects[1].reason.contains("gzip"),
        "{}",
        out.rejects[1].reason
    );
    assert_eq!(out.rejects[2].text, "not a record");

    // A Lambda event whose one payload is damaged: one rejection, no records.
    let lambda = json!({"awslogs": {"data": base64(&damaged_gzip[..damaged_gzip.len() / 2])}});
    let out = read_bytes(lambda.to_string().as_bytes(), &opts());
    assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    assert_eq!(out.reject_lines(), [1]);
    assert!(out.summary.uniform_rejection.is_some());
}

// ---------------------------------------------------------------------------------------------
// Formats: unknown fields, millisecond times

#[test]
fn unknown_future_field_becomes_an_extra_column() {
    let header = "version srcaddr dstaddr future-field encryption-status action log-status";
    let a = "11 10.0.0.71 52.95.128.179 opaque:Value/1 1 ACCEPT OK";
    let b = "11 10.0.0.71 52.95.128.179 - - REJECT OK";
    let body = lines(&[header, a, b, HEADER_V2, R1]);
    let opts = ReadOptions {
        batch_rows: 2,
        ..opts()
    };
    let out = read_bytes(body.as_bytes(), &opts).clean("future field");
    assert_eq!(out.messages(), [a, b, R1]);
    for batch in &out.batches {
        let schema = batch.schema();
        let field = schema.field(schema.fields().len() - 1);
        assert_eq!(
            (field.name().as_str(), field.data_type()),
            ("future_field", &DataType::Utf8)
        );
    }
    assert_eq!(out.rows[0]["future_field"], "opaque:Value/1");
    assert_eq!(out.rows[1]["future_field"], Value::Null);
    assert_eq!(
        out.rows[2]["future_field"],
        Value::Null,
        "later formats leave it null"
    );
    assert_eq!(out.rows[0]["encryption_status"], 1);
    assert_eq!(out.rows[0]["log_format"], header);
}

fn assert_unique_names(batch: &RecordBatch) {
    let schema = batch.schema();
    let mut names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "duplicate column names in {names:?}");
}

#[test]
fn unknown_fields_never_shadow_our_columns() {
    // Unknown fields spelled like flowwatch's metadata columns must not produce a second column
    // of the same name (the store could not write it, SQL could not name it).
    let header = "version message timestamp log-stream ingestion-time log-format";
    let record = "2 a b c d e";
    let out = read_bytes(lines(&[header, record]).as_bytes(), &opts()).clean("reserved names");
    assert_unique_names(&out.batches[0]);
    assert_eq!(out.messages(), [record]);
    assert_eq!(
        out.rows[0]["log_stream"],
        Value::Null,
        "our own columns keep their meaning"
    );
    assert_eq!(out.rows[0]["message"], Value::Null);
    assert_eq!(
        out.rows[0]["_message"], "a",
        "the unknown field is kept under `_message`"
    );
    assert_eq!(out.rows[0]["_timestamp"], "b");
}

#[test]
fn millisecond_times_become_seconds_and_keep_the_original() {
    let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010123 1418530070999 ACCEPT OK";
    let out = read_bytes(lines(&[line, R1]).as_bytes(), &opts()).clean("millis");
    let row = &out.rows[0];
    assert_eq!(row["start"], 1_418_530_010_i64);
    assert_eq!(row["end"], 1_418_530_070_i64);
    assert_eq!(row["timestamp"], 1_418_530_010_000_i64);
    assert_eq!(row["message"], line, "the original text is stored");
    assert_eq!(out.messages(), [line, R1]);
    assert_eq!(
        out.rows[1]["message"],
        Value::Null,
        "canonical text is not stored"
    );
}

#[test]
fn leading_zeros_and_double_spaces_are_preserved() {
    let zeros = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 020641 0022 6 20 4249 1418530010 1418530070 ACCEPT OK";
    let zero_start =
        "2 123456789010 eni-1235b8ca123456789 - - - - - - - 01431280876 1431280934 - NODATA";
    let spaced = R1.replace(" 22 ", "  22 ");
    let out = read_bytes(lines(&[zeros, zero_start, &spaced]).as_bytes(), &opts()).clean("quirks");
    assert_eq!(out.messages(), [zeros, zero_start, spaced.as_str()]);
    assert_eq!(out.rows[0]["srcport"], 20641);
    assert_eq!(out.rows[0]["dstport"], 22);
    assert_eq!(out.rows[1]["start"], 1_431_280_876_i64);
    assert_eq!(out.rows[2]["dstport"], 22);
    for row in &out.rows {
        assert!(
            !row["message"].is_null(),
            "none of these can be rebuilt from the fields"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bad records

#[test]
fn bad_records_are_rejected_alone_with_their_line_numbers() {
    let mut body = lines(&[
        HEADER_V2,                                        // 1
        R1,                                               // 2
        &R1.replacen(" ACCEPT OK", " ACCEPT", 1),         // 3 wrong field count
        R2,                                               // 4
        &R1.replacen(" 20641 ", " http ", 1),             // 5 non-numeric port
        &R1.replacen(" 22 ", " 70000 ", 1),               // 6 port out of range
        &R1.replacen("172.31.16.21", "172.31.16.256", 1), // 7 invalid address
        &R1.replacen("ACCEPT", "MAYBE", 1),               // 8 unknown action
        &R1.replacen(" 6 20 ", " 256 20 ", 1),            // 9 protocol out of range
        &R1.replacen(" 4249 ", " -4249 ", 1),             // 10 negative count
    ])
    .into_bytes();
    body.extend(b"2 123456789010 eni-\xff\xfe 172.31.16.139 - - - - - - - 1 2 - NODATA\n"); // 11 bad UTF-8
    body.extend(R1.as_bytes()); // 12: a 70 KiB line
    body.extend(std::iter::repeat_n(b'x', 70 * 1024));
    body.extend(b"\n");
    body.extend(lines(&["", NODATA, V6]).as_bytes()); // 13 blank, 14, 15
    let out = read_bytes(&body, &opts());
    assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    assert_eq!(
        out.messages(),
        [R1, R2, NODATA, V6],
        "the good records around the bad ones"
    );
    assert_eq!(out.reject_lines(), [3, 5, 6, 7, 8, 9, 10, 11, 12]);
    let want = [
        "found 13",
        "field 6 (srcport): expected a number, found 'http'",
        "field 7 (dstport): 70000 is out of range (0-65535)",
        "field 5 (dstaddr): expected an IPv4 or IPv6 address, found '172.31.16.256'",
        "field 13 (action): expected ACCEPT or REJECT, found 'MAYBE'",
        "field 8 (protocol): 256 is out of range (0-255)",
        "field 10 (bytes): expected a number, found '-4249'",
        "invalid UTF-8",
        "bytes long",
    ];
    for (reject, want) in out.rejects.iter().zip(want) {
        assert!(
            reject.reason.contains(want),
            "line {}: {:?} lacks {want:?}",
            reject.line,
            reject.reason
        );
    }
    assert!(
        out.rejects[7].text.contains("eni-\u{fffd}\u{fffd}"),
        "lossy text: {}",
        out.rejects[7].text
    );
    let long = &out.rejects[8];
    assert!(
        long.text.starts_with(R1) && long.text.len() < MAX_LINE,
        "the head of the long line only"
    );
    assert_eq!(out.summary.skipped, 2, "header and blank line");
    assert_eq!(out.summary.uniform_rejection, None);
}

#[test]
fn wrong_log_format_rejects_everything_with_one_diagnosis() {
    let body = lines(&[R1, R2, NODATA]);
    let out = read_bytes(body.as_bytes(), &opts_with_format(NAT_HEADER));
    assert!(out.rows.is_empty());
    assert_eq!(out.reject_lines(), [1, 2, 3]);
    let reason = out
        .summary
        .uniform_rejection
        .as_deref()
        .expect("a uniform rejection");
    assert!(reason.contains("expected 6 fields"), "{reason}");
    assert!(reason.contains("found 14"), "{reason}");
    assert!(
        reason.contains(NAT_HEADER),
        "names the format it tried: {reason}"
    );

    // A header line in the data wins over --log-format.
    let body = lines(&[HEADER_V2, R1]);
    let out = read_bytes(body.as_bytes(), &opts_with_format(NAT_HEADER)).clean("header wins");
    assert_eq!(out.messages(), [R1]);
}

#[test]
fn headerless_lines_of_unknown_width_ask_for_the_format() {
    let out = read_bytes(lines(&[NAT, NAT]).as_bytes(), &opts());
    assert!(out.rows.is_empty());
    let reason = out
        .summary
        .uniform_rejection
        .as_deref()
        .expect("a uniform rejection");
    assert!(
        reason.contains("--log-format") && reason.contains("found 6"),
        "{reason}"
    );
    let out =
        read_bytes(lines(&[NAT]).as_bytes(), &opts_with_format(NAT_HEADER)).clean("with format");
    assert_eq!(out.messages(), [NAT]);
}

// ---------------------------------------------------------------------------------------------
// Parquet

fn utf8(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn i32s(values: &[Option<i32>]) -> ArrayRef {
    Arc::new(Int32Array::from(values.to_vec()))
}

fn i64s(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// Write columns as a Parquet file the way AWS does: plain INT32/INT64/BYTE_ARRAY columns, the
/// GZIP codec, no Arrow schema hint.
fn parquet_bytes(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("batch");
    write_parquet(&batch)
}

fn write_parquet(batch: &RecordBatch) -> Vec<u8> {
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut writer =
        ArrowWriter::try_new_with_options(Vec::new(), batch.schema(), options).expect("writer");
    writer.write(batch).expect("write");
    writer.into_inner().expect("finish")
}

#[test]
fn our_own_parquet_output_read_back_keeps_column_names_unique() {
    // Someone points the reader at flowwatch's own files: our metadata columns come back as
    // unknown fields, under names that cannot clash with the live ones.
    let first = read_bytes(lines(&[R1, NODATA]).as_bytes(), &opts()).clean("text");
    let out = read_bytes(&write_parquet(&first.batches[0]), &opts()).clean("own parquet");
    assert_eq!(out.rows.len(), 2);
    assert_unique_names(&out.batches[0]);
    assert_eq!(out.rows[0]["srcaddr"], "172.31.16.139");
    assert_eq!(out.rows[0]["_log_stream"], "eni-1235b8ca123456789-all");
    assert_eq!(out.rows[1]["log_status"], "NODATA");
}

/// Three v5-shaped rows: a flow, NODATA with nulls, NODATA with `-` strings.
fn aws_parquet() -> Vec<u8> {
    let nodata = [None, Some("-")];
    parquet_bytes(vec![
        ("version", i32s(&[Some(5), Some(5), Some(5)])),
        ("account_id", utf8(&[Some("123456789010"); 3])),
        ("interface_id", utf8(&[Some("eni-1235b8ca123456789"); 3])),
        ("srcaddr", utf8(&[Some("10.0.0.71"), nodata[0], nodata[1]])),
        (
            "dstaddr",
            utf8(&[Some("52.95.128.179"), nodata[0], nodata[1]]),
        ),
        ("srcport", i32s(&[Some(34210), None, None])),
        ("dstport", i32s(&[Some(443), None, None])),
        ("protocol", i32s(&[Some(6), None, None])),
        ("packets", i64s(&[Some(7), None, None])),
        ("bytes", i64s(&[Some(5_000_000_000), None, None])),
        ("start", i64s(&[Some(1_616_729_292); 3])),
        ("end", i64s(&[Some(1_616_729_349); 3])),
        ("action", utf8(&[Some("ACCEPT"), nodata[0], nodata[1]])),
        (
            "log_status",
            utf8(&[Some("OK"), Some("NODATA"), Some("NODATA")]),
        ),
        (
            "pkt_dst_aws_service",
            utf8(&[Some("S3"), nodata[0], nodata[1]]),
        ),
        ("traffic_path", i32s(&[Some(8), None, None])),
        (
            "flow_direction",
            utf8(&[Some("egress"), nodata[0], nodata[1]]),
        ),
    ])
}

#[test]
fn parquet_in_aws_shape_from_file_and_stream() {
    let data = aws_parquet();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir
        .path()
        .join("123456789010_vpcflowlogs_us-east-1_fl-1_20210326T0305Z_abcd.log.parquet");
    std::fs::write(&path, &data).expect("write");
    let from_file = read_file(&path, SourceDefaults::default(), &opts()).clean("parquet file");
    let from_stream = read_bytes(&data, &opts()).clean("parquet stream");
    assert_eq!(from_file.rows, from_stream.rows);
    assert_eq!(from_file.summary.detected, Detected::Parquet);
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-dst-aws-service traffic-path flow-direction";
    let nodata =
        "5 123456789010 eni-1235b8ca123456789 - - - - - - - 1616729292 1616729349 - NODATA - - -";
    assert_eq!(
        from_file.messages(),
        [
            "5 123456789010 eni-1235b8ca123456789 10.0.0.71 52.95.128.179 34210 443 6 7 5000000000 1616729292 1616729349 ACCEPT OK S3 8 egress",
            nodata,
            nodata,
        ]
    );
    check_lines(
        "parquet",
        Some(header),
        &from_file
            .messages()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &from_file.rows,
    );
    let row = &from_file.rows[0];
    assert_eq!(
        (&row["bytes"], &row["dstport"], &row["traffic_path"]),
        (&json!(5_000_000_000_i64), &json!(443), &json!(8))
    );
    assert_eq!(row["timestamp"], 1_616_729_292_000_i64);
    assert_eq!(
        from_file.rows[1], from_file.rows[2],
        "null and '-' read the same"
    );
}

#[test]
fn parquet_with_bad_rows_unknown_columns_and_float_ports() {
    // pandas-style floats for ports, an unknown column, and one row with a port out of range.
    let data = parquet_bytes(vec![
        (
            "srcaddr",
            utf8(&[Some("10.0.0.1"), Some("10.0.0.2"), Some("10.0.0.3")]),
        ),
        (
            "srcport",
            Arc::new(Float64Array::from(vec![Some(443.0), Some(25238.0), None])) as ArrayRef,
        ),
        ("dstport", i32s(&[Some(80), Some(70000), Some(22)])),
        ("future_field", utf8(&[Some("x"), Some("y"), Some("-")])),
    ]);
    let out = read_bytes(&data, &opts());
    assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    assert_eq!(out.messages(), ["10.0.0.1 443 80 x", "10.0.0.3 - 22 -"]);
    assert_eq!(out.reject_lines(), [2], "row numbers count from 1");
    assert!(
        out.rejects[0].reason.contains("70000 is out of range"),
        "{}",
        out.rejects[0].reason
    );
    assert_eq!(out.rejects[0].text, "10.0.0.2 25238 70000 y");
    assert_eq!(out.rows[0]["srcport"], 443);
    assert_eq!(out.rows[0]["future_field"], "x");

    let data = parquet_bytes(vec![("Not A Field", utf8(&[Some("x")]))]);
    let out = read_bytes(&data, &opts());
    let msg = error_text(&out);
    assert!(msg.contains("not flow-log fields"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// S3 keys

fn write_under(root: &Path, key: &str, data: &[u8]) -> std::path::PathBuf {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, data).expect("write");
    path
}

#[test]
fn s3_key_gives_account_region_and_date_when_the_format_lacks_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "interface-id srcaddr dstaddr srcport dstport protocol action log-status";
    let record = "eni-1235b8ca123456789 10.0.1.5 10.0.0.220 43416 5001 6 ACCEPT OK";
    let body = gzip(lines(&[header, record]).as_bytes());
    let classic = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/25/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f60718_20240525T0505Z_9e8d7c6b.log.gz";
    let hive = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=25/hour=05/f.log.gz";
    for (key, time) in [(classic, 1_716_595_200_000_i64), (hive, 1_716_613_200_000)] {
        let path = write_under(dir.path(), key, &body);
        let out = read_file(&path, defaults_from_path(&path), &opts()).clean(key);
        let row = &out.rows[0];
        assert_eq!(row["account_id"], "123456789012", "{key}");
        assert_eq!(row["region"], "eu-west-1", "{key}");
        assert_eq!(
            row["timestamp"], time,
            "{key}: the key's date when the record has no start"
        );
        assert_eq!(
            out.messages(),
            [record],
            "{key}: defaults are not part of the record text"
        );
    }

    // A record's own account-id wins over the key's; region still comes from the key.
    let path = write_under(
        dir.path(),
        classic,
        &gzip(lines(&[HEADER_V2, R1]).as_bytes()),
    );
    let out = read_file(&path, defaults_from_path(&path), &opts()).clean("own account");
    assert_eq!(out.rows[0]["account_id"], "123456789010");
    assert_eq!(out.rows[0]["region"], "eu-west-1");
    assert_eq!(out.rows[0]["timestamp"], 1_418_530_010_000_i64);
    assert_eq!(out.messages(), [R1]);
}

// ---------------------------------------------------------------------------------------------
// Any input: no panic, consistent counts (checked by `read_bytes`), never a half-built row.

fn any_input() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let noise = proptest::collection::vec(any::<u8>(), 0..600);
    let texty = proptest::collection::vec(
        prop_oneof![
            Just(b' '),
            Just(b'\n'),
            Just(b'-'),
            Just(b'{'),
            Just(b'"'),
            b'0'..=b'9',
            b'a'..=b'z'
        ],
        0..600,
    );
    let prefix = prop_oneof![
        Just(Vec::new()),
        Just(vec![0x1f, 0x8b, 0x08]),
        Just(b"PAR1".to_vec()),
        Just(b"H4sI".to_vec()),
        Just(b"{\"records\":[{\"data\":\"".to_vec()),
        Just(format!("{HEADER_V2}\n{R1}\n").into_bytes()),
    ];
    (prefix, prop_oneof![noise, texty], any::<bool>()).prop_map(|(mut data, tail, zip)| {
        data.extend(tail);
        if zip { gzip(&data) } else { data }
    })
}

/// A Firehose body whose records carry arbitrary (base64'd, maybe gzip'd) data.
fn any_firehose_body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let record = (any_input(), any::<bool>()).prop_map(|(data, zip)| {
        let data = if zip { gzip(&data) } else { data };
        json!({"data": base64(&data)})
    });
    proptest::collection::vec(record, 0..4).prop_map(|records| {
        json!({"requestId": "r", "timestamp": 1, "records": records})
            .to_string()
            .into_bytes()
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 256, failure_persistence: None, ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_input_never_panics(data in any_input(), firehose in any_firehose_body()) {
        for data in [&data, &firehose] {
            let out = read_bytes(data, &opts());
            // Every row that was kept is a whole record that rebuilds.
            for row in &out.rows {
                proptest::prop_assert!(!row[REBUILT].is_null());
            }
        }
    }
}
