//! Conformance against the external corpus (`/work/shared/corpus/flowlogs`, see its SOURCES.md):
//! other projects' fixtures and their expected parse results, read with our reader.
//!
//! The corpus lives outside the repository. `FLOWWATCH_CORPUS` points at it (default:
//! `../../../shared/corpus` from this crate). When it is absent the tests say so on stderr and
//! pass, unless `FLOWWATCH_REQUIRE_CORPUS=1`, which makes absence a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use flowwatch_core::{FIELDS, LogFormat};
use flowwatch_flowlog::{Detected, SourceDefaults};
use serde_json::{Map, Value};

/// The `flowlogs/` directory of the corpus, or None (after saying why) when it is absent.
fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let dir = root.join("flowlogs");
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "corpus not found at {}; set FLOWWATCH_CORPUS",
        root.display()
    );
    if std::env::var("FLOWWATCH_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("{msg} (FLOWWATCH_REQUIRE_CORPUS=1)");
    }
    eprintln!("{msg}");
    None
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read_text(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_corpus_file(path: &Path) -> Outcome {
    read_file(path, SourceDefaults::default(), &opts())
}

/// The record lines of a text file: not blank, not the header.
fn record_lines<'a>(text: &'a str, header: Option<&str>) -> Vec<&'a str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && Some(*l) != header)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ECS documents (Elastic's expected output) against our rows.

/// Nested objects as dotted keys (Beats' expected files are already flat; Elastic Agent's nest).
fn flatten(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// TCP flag names as Elastic lists them, by bit.
const TCP_FLAGS: [(i64, &str); 8] = [
    (1, "fin"),
    (2, "syn"),
    (4, "rst"),
    (8, "psh"),
    (16, "ack"),
    (32, "urg"),
    (64, "ece"),
    (128, "cwr"),
];

/// What one ECS key says about one of our columns, as the text the column should render to.
enum Want {
    /// Column `.0` renders as this text (None: null). `-` in Elastic's output means null.
    Column(&'static str, Option<String>),
    /// The tcp-flags bit names.
    FlagNames(BTreeSet<String>),
    /// A key we do not map (GeoIP, community id, derived ECS fields).
    Ignored,
}

fn ecs_want(key: &str, value: &Value) -> Want {
    let s = text(value).filter(|s| s != "-");
    let column = match key {
        "source.ip" | "source.address" => "srcaddr",
        "destination.ip" | "destination.address" => "dstaddr",
        "source.port" => "srcport",
        "destination.port" => "dstport",
        "network.iana_number" => "protocol",
        "network.bytes" => "bytes",
        "network.packets" => "packets",
        "network.direction" => "flow_direction",
        "event.start" => return Want::Column("start", s.map(|t| iso_to_secs(&t).to_string())),
        "event.end" => return Want::Column("end", s.map(|t| iso_to_secs(&t).to_string())),
        "event.outcome" => {
            let action = match s.as_deref() {
                Some("allow" | "success") => "ACCEPT",
                Some("deny" | "failure") => "REJECT",
                other => panic!("event.outcome {other:?}"),
            };
            return Want::Column("action", Some(action.to_string()));
        }
        "event.action" => "action",
        "event.reason" => "reject_reason",
        "event.original" => REBUILT,
        "cloud.account.id" => "account_id",
        "cloud.instance.id" => "instance_id",
        "cloud.region" => "region",
        "cloud.availability_zone" => "az_id",
        "orchestrator.cluster.id" => "ecs_cluster_arn",
        "orchestrator.cluster.name" => "ecs_cluster_name",
        "orchestrator.resource.id" => "ecs_container_instance_id",
        "orchestrator.resource.name" => "ecs_container_instance_arn",
        "service.name" => "ecs_service_name",
        "aws.vpcflow.pkt_src_service" => "pkt_src_aws_service",
        "aws.vpcflow.pkt_dst_service" => "pkt_dst_aws_service",
        "aws.vpcflow.tcp_flags_array" => {
            let names = value.as_array().expect("flag array").iter();
            return Want::FlagNames(
                names
                    .map(|v| v.as_str().expect("flag").to_string())
                    .collect(),
            );
        }
        _ => match key.strip_prefix("aws.vpcflow.") {
            Some(field) => {
                let def = FIELDS.iter().find(|f| f.column == field);
                def.unwrap_or_else(|| panic!("unmapped expected key {key}"))
                    .column
            }
            None => return Want::Ignored,
        },
    };
    Want::Column(column, s)
}

/// Compare one of our rows with one ECS document: every mapped key must match, and every known
/// field the document does not mention must be null in our row.
fn check_ecs(ctx: &str, row: &Row, doc: &Value) {
    let mut flat = Map::new();
    flatten("", doc, &mut flat);
    let mut named = BTreeSet::new();
    for (key, value) in &flat {
        match ecs_want(key, value) {
            Want::Column(column, want) => {
                let got = row
                    .get(column)
                    .unwrap_or_else(|| panic!("{ctx}: no column {column}"));
                assert_eq!(text(got), want, "{ctx}: {key} vs our {column}");
                named.insert(column);
            }
            Want::FlagNames(want) => {
                let flags = int(&row["tcp_flags"]).expect("tcp_flags");
                let got: BTreeSet<String> = TCP_FLAGS
                    .iter()
                    .filter(|(bit, _)| flags & bit != 0)
                    .map(|(_, n)| n.to_string())
                    .collect();
                assert_eq!(got, want, "{ctx}: {key} vs tcp_flags {flags}");
            }
            Want::Ignored => {}
        }
    }
    assert!(
        named.contains(REBUILT),
        "{ctx}: expected document lacks event.original"
    );
    for f in FIELDS {
        if !named.contains(f.column) {
            assert_eq!(
                row[f.column],
                Value::Null,
                "{ctx}: {} should be absent",
                f.column
            );
        }
    }
    // Our @timestamp convention: `start` when the record has it.
    if let Some(start) = int(&row["start"]) {
        assert_eq!(
            int(&row["timestamp"]),
            Some(start * 1000),
            "{ctx}: timestamp"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// flowlogs/beats-vpcflow

/// A Beats fixture: `<name>.log` read as a file must give the rows of `<name>.log-expected.json`.
fn check_beats(name: &str) {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("beats-vpcflow");
    let log = dir.join(format!("{name}.log"));
    let expected = read_json(&dir.join(format!("{name}.log-expected.json")));
    let expected = expected.as_array().expect("array of documents");
    let out = read_corpus_file(&log).clean(name);
    assert_eq!(out.summary.detected, Detected::Text, "{name}");
    assert_eq!(out.rows.len(), expected.len(), "{name}: record count");
    for (i, (row, doc)) in out.rows.iter().zip(expected).enumerate() {
        check_ecs(&format!("{name} record {i}"), row, doc);
    }
    // And the typed values against the text itself.
    let text = read_text(&log);
    let header = text.lines().next().filter(|l| LogFormat::parse(l).is_ok());
    check_lines(name, header, &record_lines(&text, header), &out.rows);
}

#[test]
fn beats_accept_reject_traffic() {
    check_beats("accept-reject-traffic");
}

#[test]
fn beats_custom_nat_gateway() {
    check_beats("custom-nat-gateway");
}

#[test]
fn beats_custom_transit_gateway() {
    check_beats("custom-transit-gateway");
}

#[test]
fn beats_ipv6() {
    check_beats("ipv6");
}

#[test]
fn beats_no_data_skip_data() {
    check_beats("no-data-skip-data");
}

#[test]
fn beats_tcp_flag_sequence() {
    check_beats("tcp-flag-sequence");
}

#[test]
fn beats_tcp_flag_sequence_skip_data() {
    // Two concatenated files: header, record, blank line, header, record.
    check_beats("tcp-flag-sequence-skip-data");
    let Some(dir) = corpus() else { return };
    let out = read_corpus_file(&dir.join("beats-vpcflow/tcp-flag-sequence-skip-data.log"));
    assert_eq!(out.summary.skipped, 3, "two headers and one blank line");
}

#[test]
fn beats_bad_log_is_rejected() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("beats-vpcflow");
    let expected = read_json(&dir.join("bad.log-expected.json"));
    let original = expected[0]["event.original"]
        .as_str()
        .expect("event.original");
    let out = read_corpus_file(&dir.join("bad.log"));
    assert!(out.rows.is_empty());
    assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    assert_eq!(out.reject_lines(), [1]);
    let reject = &out.rejects[0];
    assert_eq!(reject.text, original);
    assert!(reject.reason.contains("found 4"), "{}", reject.reason);
    assert!(
        reject.reason.contains("--log-format"),
        "the reason says how to fix it: {}",
        reject.reason
    );
    assert_eq!(
        out.summary.uniform_rejection.as_deref(),
        Some(reject.reason.as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// flowlogs/elastic-integrations-vpcflow

fn check_elastic(name: &str) {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("elastic-integrations-vpcflow");
    let expected = read_json(&dir.join(format!("{name}.log-expected.json")));
    let expected = expected["expected"].as_array().expect("expected documents");
    let out = read_corpus_file(&dir.join(format!("{name}.log"))).clean(name);
    assert_eq!(out.rows.len(), expected.len(), "{name}: record count");
    for (i, (row, doc)) in out.rows.iter().zip(expected).enumerate() {
        check_ecs(&format!("{name} record {i}"), row, doc);
    }
}

#[test]
fn elastic_v5_all_fields_headerless_29() {
    check_elastic("test-v5-all-fields");
    let Some(dir) = corpus() else { return };
    let out = read_corpus_file(&dir.join("elastic-integrations-vpcflow/test-v5-all-fields.log"));
    // The truncated epoch stays seconds (it is below the millisecond threshold).
    assert_eq!(int(&out.rows[0]["start"]), Some(164_000_066));
    assert_eq!(
        out.rows[0]["log_format"],
        Value::from(all_fields_header(29))
    );
}

#[test]
fn elastic_v8_samples_headerless_40() {
    check_elastic("test-v8-samples");
    let Some(dir) = corpus() else { return };
    let out = read_corpus_file(&dir.join("elastic-integrations-vpcflow/test-v8-samples.log"));
    assert_eq!(
        out.rows[0]["log_format"],
        Value::from(all_fields_header(40))
    );
}

#[test]
fn elastic_message_field_json() {
    check_elastic("test-with-message-field");
    let Some(dir) = corpus() else { return };
    let out =
        read_corpus_file(&dir.join("elastic-integrations-vpcflow/test-with-message-field.log"));
    assert_eq!(out.summary.detected, Detected::Json);
    assert_eq!(out.rows[0]["log_stream"], "eni-0e0bf7be352692297-all");
}

/// The header of the first `n` catalog fields.
fn all_fields_header(n: usize) -> String {
    FIELDS[..n]
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// flowlogs/aws-vpc-user-guide (no expected files: the text itself is the expectation)

/// Read a guide example file; the first line is the header when it parses as a format.
fn guide(name: &str) -> Option<(String, Option<String>, Outcome)> {
    let dir = corpus()?.join("aws-vpc-user-guide");
    let path = dir.join(name);
    let text = read_text(&path);
    let first = text.lines().next().unwrap_or_default();
    let header = LogFormat::parse(first).ok().map(|_| first.to_string());
    Some((text, header, read_corpus_file(&path)))
}

#[test]
fn guide_default_format_examples() {
    let Some((text, header, out)) = guide("default-format-examples.log") else {
        return;
    };
    assert_eq!(header, None);
    let out = out.clean("default-format-examples");
    assert_eq!(out.rows.len(), 7);
    check_lines(
        "default-format-examples",
        None,
        &record_lines(&text, None),
        &out.rows,
    );
    let statuses: Vec<_> = out.rows.iter().map(|r| text_of(r, "log_status")).collect();
    assert_eq!(
        statuses,
        ["OK", "OK", "NODATA", "SKIPDATA", "OK", "OK", "OK"]
    );
}

fn text_of(row: &Row, column: &str) -> String {
    text(&row[column]).unwrap_or_else(|| "-".to_string())
}

#[test]
fn guide_tcp_flag_sequence_keeps_the_double_space() {
    let Some((text, header, out)) = guide("tcp-flag-sequence.log") else {
        return;
    };
    let out = out.clean("tcp-flag-sequence");
    let lines = record_lines(&text, header.as_deref());
    assert_eq!(lines.len(), 8);
    assert!(
        lines[7].contains("43638  10.0.0.62"),
        "the fixture's double space"
    );
    check_lines("tcp-flag-sequence", header.as_deref(), &lines, &out.rows);
    // Only the record that cannot be rebuilt from its fields stores its text.
    let stored: Vec<bool> = out.rows.iter().map(|r| !r["message"].is_null()).collect();
    assert_eq!(
        stored,
        [false, false, false, false, false, false, false, true]
    );
    let flags: Vec<_> = out
        .rows
        .iter()
        .map(|r| int(&r["tcp_flags"]).unwrap_or(-1))
        .collect();
    assert_eq!(flags, [2, 18, 2, 18, 1, 1, 3, 19]);
}

#[test]
fn guide_nat_gateway_rejects_the_commented_lines() {
    let Some((text, header, out)) = guide("nat-gateway.log") else {
        return;
    };
    let lines = record_lines(&text, header.as_deref());
    assert_eq!(lines.len(), 6);
    assert!(out.summary.error.is_none());
    // The four plain records parse; the two with trailing `#comment` text are rejected alone
    // (lines 6 and 7 of the file, counting the header), with their text and a reason.
    check_lines("nat-gateway", header.as_deref(), &lines[..4], &out.rows);
    assert_eq!(out.reject_lines(), [6, 7]);
    for (reject, line) in out.rejects.iter().zip(&lines[4..]) {
        assert_eq!(reject.text, *line);
        assert!(
            reject.reason.contains("expected 6 fields"),
            "{}",
            reject.reason
        );
        let tokens = line.split_whitespace().count();
        assert!(
            reject.reason.contains(&format!("found {tokens}")),
            "{}",
            reject.reason
        );
    }
    assert_eq!(
        out.summary.uniform_rejection, None,
        "some records were fine"
    );
    assert_eq!(out.rows[0]["instance_id"], Value::Null);
}

#[test]
fn guide_transit_gateway() {
    let Some((text, header, out)) = guide("transit-gateway.log") else {
        return;
    };
    assert!(header.is_some());
    let out = out.clean("transit-gateway");
    check_lines(
        "transit-gateway",
        header.as_deref(),
        &record_lines(&text, header.as_deref()),
        &out.rows,
    );
    let instances: Vec<_> = out
        .rows
        .iter()
        .map(|r| r["instance_id"].is_null())
        .collect();
    assert_eq!(instances, [false, false, true, true]);
}

#[test]
fn guide_service_traffic_path_flow_direction() {
    let Some((text, header, out)) = guide("service-traffic-path-flow-direction.log") else {
        return;
    };
    let out = out.clean("service-traffic-path-flow-direction");
    let lines = record_lines(&text, header.as_deref());
    check_lines("service-traffic-path", header.as_deref(), &lines, &out.rows);
    assert_eq!(out.rows[0]["traffic_path"], Value::Null);
    assert_eq!(out.rows[1]["traffic_path"], 8);
    assert_eq!(out.rows[0]["pkt_src_aws_service"], "S3");
    assert_eq!(out.rows[1]["pkt_dst_aws_service"], "S3");
    assert_eq!(out.rows[1]["flow_direction"], "egress");
    assert_eq!(out.rows[0]["version"], 5);
}

// ---------------------------------------------------------------------------------------------
// flowlogs/vector-vrl

/// The double-quoted string literals of a VRL call (the examples use no escapes).
fn vrl_strings(source: &str) -> Vec<&str> {
    source.split('"').skip(1).step_by(2).collect()
}

#[test]
fn vrl_parse_aws_vpc_flow_log_examples() {
    let Some(dir) = corpus() else { return };
    let doc = read_json(&dir.join("vector-vrl/parse_aws_vpc_flow_log.json"));
    let examples = doc["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 4);
    for example in examples {
        let title = example["title"].as_str().expect("title");
        let source = example["source"].as_str().expect("source");
        let strings = vrl_strings(source);
        let (record, format) = match strings.as_slice() {
            [record] => (*record, None),
            [record, format] => (*record, Some(*format)),
            other => panic!("{title}: unexpected VRL source strings {other:?}"),
        };
        let options = format.map_or_else(opts, opts_with_format);
        let out = read_bytes(format!("{record}\n").as_bytes(), &options).clean(title);
        assert_eq!(out.rows.len(), 1, "{title}");
        let row = &out.rows[0];
        let want = example["return"].as_object().expect("return object");
        // Same typing convention: ints for numeric fields, null for `-`.
        for (key, value) in want {
            assert_eq!(row.get(key), Some(value), "{title}: {key}");
        }
        // VRL returns every field of the format, and so do we.
        let layout = format.map_or_else(LogFormat::default_v2, |f| {
            LogFormat::parse(f).expect("format")
        });
        let ours: BTreeSet<String> = layout.slots().iter().map(|s| s.column()).collect();
        let theirs: BTreeSet<String> = want.keys().cloned().collect();
        assert_eq!(ours, theirs, "{title}: field sets");
        assert_eq!(
            text(&row[REBUILT]).as_deref(),
            Some(record),
            "{title}: rebuilt text"
        );
    }
}

#[test]
fn vrl_subscription_message_is_not_a_flow_log() {
    let Some(dir) = corpus() else { return };
    let doc = read_json(&dir.join("vector-vrl/parse_aws_cloudwatch_log_subscription_message.json"));
    let example = &doc["examples"][0];
    let source = example["source"].as_str().expect("source");
    let payload = source
        .split_once("s'")
        .and_then(|(_, rest)| rest.rsplit_once("')"))
        .map(|(payload, _)| payload)
        .expect("raw string argument");
    let want = &example["return"];
    assert_eq!(want["message_type"], "DATA_MESSAGE");
    let event = &want["log_events"][0];
    // The payload is a DATA_MESSAGE whose one event is an access-log line, not a flow record:
    // the envelope is understood and the event is rejected with its text.
    let out = read_bytes(payload.as_bytes(), &opts());
    assert_eq!(out.summary.detected, Detected::Json);
    assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    assert!(out.rows.is_empty());
    assert_eq!(out.reject_lines(), [1]);
    assert_eq!(
        Some(out.rejects[0].text.as_str()),
        event["message"].as_str()
    );
    assert!(
        out.rejects[0].reason.contains("found 1"),
        "{}",
        out.rejects[0].reason
    );
    // The same envelope carrying a flow record instead is read, stream name included.
    let flow = "2 111111111111 eni-1235b8ca123456789 - - - - - - - 1600110569 1600110629 - NODATA";
    let mut payload: Value = serde_json::from_str(payload).expect("payload JSON");
    payload["logEvents"][0]["message"] = Value::from(flow);
    let out = read_bytes(payload.to_string().as_bytes(), &opts()).clean("swapped payload");
    assert_eq!(out.messages(), [flow]);
    assert_eq!(out.rows[0]["log_stream"], "test");
}

// ---------------------------------------------------------------------------------------------
// flowlogs/obsrvbl-flowlogs-reader

fn check_obsrvbl(name: &str) {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("obsrvbl-flowlogs-reader");
    let path = dir.join(format!("{name}.log"));
    let expected = read_json(&dir.join(format!("{name}.expected.json")));
    let expected = expected.as_array().expect("expected records");
    let out = read_corpus_file(&path).clean(name);
    assert_eq!(out.rows.len(), expected.len(), "{name}: record count");
    for (i, (row, want)) in out.rows.iter().zip(expected).enumerate() {
        for (key, value) in want.as_object().expect("record") {
            let got = match key.as_str() {
                "start" | "end" => Value::from(iso_to_secs(value.as_str().expect("time"))),
                _ => value.clone(),
            };
            assert_eq!(row[key.as_str()], got, "{name} record {i}: {key}");
        }
        assert_eq!(
            row["interface_id"],
            Value::Null,
            "{name}: not in the format"
        );
    }
    let text = read_text(&path);
    let header = text.lines().next();
    check_lines(name, header, &record_lines(&text, header), &out.rows);
}

#[test]
fn obsrvbl_v3_file_alphabetical_header() {
    check_obsrvbl("V3_FILE");
}

#[test]
fn obsrvbl_v4_file_alphabetical_header() {
    check_obsrvbl("V4_FILE");
}

#[test]
fn obsrvbl_v2_records_headerless() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("obsrvbl-flowlogs-reader/V2_RECORDS.log");
    let out = read_corpus_file(&path).clean("V2_RECORDS");
    let text = read_text(&path);
    check_lines("V2_RECORDS", None, &record_lines(&text, None), &out.rows);
    assert_eq!(out.rows.len(), 5);
    let streams: Vec<_> = out.rows.iter().map(|r| text_of(r, "log_stream")).collect();
    assert_eq!(streams[0], "eni-102010ab-all");
    assert_eq!(streams[4], "eni-4b118871-all");
}

// ---------------------------------------------------------------------------------------------
// flowlogs/otel-collector-contrib-awslogs

/// The attributes of `valid_vpc_flow_cw_expected.yaml`: resource attributes, then per log
/// record its attributes and `timeUnixNano`. A line-based reader for this one file's shape.
fn otel_expected(yaml: &str) -> (BTreeMap<String, String>, Vec<BTreeMap<String, String>>) {
    let mut resource = BTreeMap::new();
    let mut records: Vec<BTreeMap<String, String>> = Vec::new();
    let mut key = None;
    let mut in_scope = false;
    for line in yaml.lines().map(str::trim) {
        if line == "scope:" {
            in_scope = true;
        } else if line == "- attributes:" {
            in_scope = false;
            records.push(BTreeMap::new());
        } else if let Some(k) = line.strip_prefix("- key: ") {
            key = Some(k.to_string());
        } else if let Some(v) = line.strip_prefix("timeUnixNano: ") {
            let record = records.last_mut().expect("record before timeUnixNano");
            record.insert("timeUnixNano".into(), v.trim_matches('"').to_string());
        } else if let Some((_, v)) = line.split_once("Value: ").filter(|_| !in_scope) {
            let k = key.take().expect("key before value");
            let target = records.last_mut().unwrap_or(&mut resource);
            target.insert(k, v.trim_matches('"').to_string());
        }
    }
    (resource, records)
}

#[test]
fn otel_subscription_payload_two_records() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("otel-collector-contrib-awslogs");
    let out = read_corpus_file(&dir.join("valid_vpc_flow_cw.json")).clean("valid_vpc_flow_cw");
    assert_eq!(out.summary.detected, Detected::Json);
    let (resource, records) =
        otel_expected(&read_text(&dir.join("valid_vpc_flow_cw_expected.yaml")));
    assert_eq!(records.len(), 2);
    assert_eq!(out.rows.len(), 2);
    assert_eq!(out.rows[1]["log_stream"], "eni-1235b8ca123456789");
    let columns = [
        ("aws.vpc.flow.log.version", "version"),
        ("network.interface.name", "interface_id"),
        ("source.port", "srcport"),
        ("destination.port", "dstport"),
        ("aws.vpc.flow.packets", "packets"),
        ("aws.vpc.flow.bytes", "bytes"),
        ("aws.vpc.flow.start", "start"),
        ("aws.vpc.flow.action", "action"),
        ("aws.vpc.flow.status", "log_status"),
        ("source.address", "srcaddr"),
        ("destination.address", "dstaddr"),
    ];
    for (i, (row, want)) in out.rows.iter().zip(&records).enumerate() {
        // The log stream comes from the payload, not from the interface id.
        assert_eq!(
            Some(text_of(row, "log_stream")),
            resource.get("aws.log.stream.names").cloned()
        );
        assert_eq!(
            Some(text_of(row, "account_id")),
            resource.get("cloud.account.id").cloned()
        );
        for (attr, column) in columns {
            assert_eq!(
                Some(text_of(row, column)),
                want.get(attr).cloned(),
                "record {i}: {attr}"
            );
        }
        let protocol = match want["network.protocol.name"].as_str() {
            "tcp" => 6,
            "udp" => 17,
            "icmp" => 1,
            other => panic!("protocol {other}"),
        };
        assert_eq!(row["protocol"], protocol, "record {i}: protocol");
        let end_ns = int(&row["end"]).expect("end") * 1_000_000_000;
        assert_eq!(
            want["timeUnixNano"],
            end_ns.to_string(),
            "record {i}: time = end"
        );
        assert!(row["message"].is_null(), "canonical text is not stored");
    }
}

#[test]
fn otel_control_message_is_skipped() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("otel-collector-contrib-awslogs/valid_cloudwatch_log_control.json");
    let out = read_corpus_file(&path).clean("control message");
    assert_eq!(out.summary.detected, Detected::Json);
    assert_eq!(out.summary.records, 0);
    assert_eq!(out.summary.skipped, 1);
    assert!(out.rows.is_empty());
}

#[test]
fn corpus_switch_is_honoured() {
    // The absence path is exercised when FLOWWATCH_CORPUS points nowhere; here: when the corpus
    // is present, every flowlogs/ directory SOURCES.md lists is there.
    let Some(dir) = corpus() else { return };
    for sub in [
        "beats-vpcflow",
        "elastic-integrations-vpcflow",
        "aws-vpc-user-guide",
        "vector-vrl",
        "obsrvbl-flowlogs-reader",
        "otel-collector-contrib-awslogs",
    ] {
        assert!(dir.join(sub).is_dir(), "{sub} missing from the corpus");
    }
}
