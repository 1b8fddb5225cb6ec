//! Property: for random records of random formats (any subset of the known fields in any order,
//! plus now and then a field flowwatch does not know, random valid values including `-`, IPv4
//! and IPv6), text → read → `rebuild_message` gives the exact line back, and the typed columns
//! hold the generated values. Delivered as an S3 object with a header, as lines with
//! `--log-format`, as Firehose `{"message"}` objects, and as a gzip'd subscription payload.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::*;
use flowwatch_core::{FIELDS, FieldDef, FieldId, FieldType, LogFormat, Slot};
use flowwatch_flowlog::ReadOptions;
use flowwatch_flowlog::schema::extra_column;
use proptest::prelude::*;
use serde_json::{Value, json};

/// One generated value: the token written and the typed value expected back.
#[derive(Clone, Debug)]
struct Cell {
    token: String,
    want: Value,
    /// Whether the token is exactly how the typed value would be written back.
    canonical: bool,
}

impl Cell {
    fn new(token: String, want: Value, canonical: bool) -> Cell {
        Cell {
            token,
            want,
            canonical,
        }
    }
}

fn null() -> BoxedStrategy<Cell> {
    Just(Cell::new("-".into(), Value::Null, true)).boxed()
}

/// A non-negative integer, sometimes written with leading zeros (which the text keeps) as long
/// as the token stays within the 19 digits a number may have.
fn number(max: i64) -> BoxedStrategy<Cell> {
    (0..=max, prop_oneof![8 => Just(0usize), 1 => 1..3usize])
        .prop_map(|(v, zeros)| {
            let zeros = zeros.min(19 - v.to_string().len());
            Cell::new(format!("{}{v}", "0".repeat(zeros)), json!(v), zeros == 0)
        })
        .boxed()
}

/// `start`/`end`: epoch seconds, or milliseconds (normalised to seconds, text kept).
fn epoch() -> BoxedStrategy<Cell> {
    let ms = i64::from(i32::MAX) + 1..=4_102_444_800_000_i64;
    prop_oneof![
        3 => number(i64::from(i32::MAX)),
        1 => ms.prop_map(|v| Cell::new(v.to_string(), json!(v / 1000), false)),
    ]
    .boxed()
}

fn address() -> BoxedStrategy<Cell> {
    let text = |s: String| Cell::new(s.clone(), json!(s), true);
    prop_oneof![
        any::<Ipv4Addr>().prop_map(move |a| text(a.to_string())),
        any::<Ipv6Addr>().prop_map(move |a| text(a.to_string())),
        // Uncompressed IPv6 is valid and stored as written.
        any::<[u16; 8]>().prop_map(move |s| text(s.map(|g| format!("{g:x}")).join(":"))),
    ]
    .boxed()
}

/// A text value: never `-`, never a field name (a line of only field names is a header line),
/// never the start of a base64 gzip payload.
fn free_text() -> BoxedStrategy<Cell> {
    "[A-Za-z0-9][A-Za-z0-9:/._=+@-]{0,30}"
        .prop_filter("not a field name", |s| {
            FieldId::lookup(s).is_none() && !s.starts_with("H4sI")
        })
        .prop_map(|s| Cell::new(s.clone(), json!(s), true))
        .boxed()
}

/// A field of a generated format.
#[derive(Clone, Copy, Debug)]
enum Col {
    Known(&'static FieldDef),
    /// Not in the catalog (a future AWS field), including names that clash with our own columns.
    Unknown(&'static str),
}

const UNKNOWN: &[&str] = &[
    "future-field",
    "next-gen-id",
    "message",
    "timestamp",
    "log-stream",
];

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Known(def) => def.name,
            Col::Unknown(name) => name,
        }
    }

    /// Where the reader stores the field.
    fn column(self) -> String {
        match self {
            Col::Known(def) => def.column.to_string(),
            Col::Unknown(name) => extra_column(&Slot::Unknown(name.to_string())),
        }
    }

    fn is(self, id: FieldId) -> bool {
        matches!(self, Col::Known(def) if def.id == id)
    }

    fn value(self) -> BoxedStrategy<Cell> {
        let some = match self {
            Col::Unknown(_) => free_text(),
            Col::Known(def) => match def.ty {
                FieldType::Int32 { max } => number(i64::from(max)),
                FieldType::Int64 if matches!(def.id, FieldId::Start | FieldId::End) => epoch(),
                FieldType::Int64 => number(i64::MAX),
                FieldType::Addr => address(),
                FieldType::Enum(values) => proptest::sample::select(values)
                    .prop_map(|v| Cell::new(v.to_string(), json!(v), true))
                    .boxed(),
                FieldType::Text => free_text(),
            },
        };
        prop_oneof![1 => null(), 4 => some].boxed()
    }
}

/// A format: a random subset of the known fields, and sometimes unknown ones, in random order.
fn format() -> impl Strategy<Value = Vec<Col>> {
    let known: Vec<Col> = FIELDS.iter().map(Col::Known).collect();
    let unknown: Vec<Col> = UNKNOWN.iter().copied().map(Col::Unknown).collect();
    let unknown =
        prop_oneof![3 => Just(Vec::new()), 1 => proptest::sample::subsequence(unknown, 1..3)];
    (
        proptest::sample::subsequence(known, 1..=FIELDS.len()),
        unknown,
    )
        .prop_map(|(mut cols, unknown)| {
            cols.extend(unknown);
            cols
        })
        .prop_shuffle()
}

/// One record of `cols`: its cells and the separators after each but the last.
fn record(cols: &[Col]) -> impl Strategy<Value = (Vec<Cell>, Vec<&'static str>)> + use<> {
    let cells: Vec<_> = cols.iter().map(|c| c.value()).collect();
    let seps = proptest::collection::vec(
        prop_oneof![12 => Just(" "), 1 => Just("  ")],
        cols.len() - 1,
    );
    (cells, seps)
}

#[derive(Clone, Copy, Debug)]
enum Delivery {
    /// An S3 text object: header line, then records.
    Header,
    /// Header-less lines with `--log-format`.
    LogFormat,
    /// Firehose `{"message": …}` objects with `--log-format`.
    Firehose,
    /// A gzip'd CloudWatch Logs subscription payload with `--log-format`.
    Subscription,
}

const STREAM: &str = "flow-stream";
const EVENT_TIME: i64 = 1_600_000_000_000;
const INGESTION_TIME: i64 = 1_700_000_000_000;

struct Case {
    cols: Vec<Col>,
    records: Vec<(Vec<Cell>, Vec<&'static str>)>,
    delivery: Delivery,
    batch_rows: usize,
}

/// Shrunk failures print as the text they feed the reader.
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.records.iter().map(line).collect();
        f.debug_struct("Case")
            .field("header", &header(&self.cols))
            .field("lines", &lines)
            .field("delivery", &self.delivery)
            .field("batch_rows", &self.batch_rows)
            .finish()
    }
}

fn case() -> impl Strategy<Value = Case> {
    format().prop_flat_map(|cols| {
        let records = proptest::collection::vec(record(&cols), 1..6);
        let delivery = prop_oneof![
            Just(Delivery::Header),
            Just(Delivery::LogFormat),
            Just(Delivery::Firehose),
            Just(Delivery::Subscription),
        ];
        (Just(cols), records, delivery, 1..4usize).prop_map(
            |(cols, records, delivery, batch_rows)| Case {
                cols,
                records,
                delivery,
                batch_rows,
            },
        )
    })
}

fn header(cols: &[Col]) -> String {
    cols.iter().map(|c| c.name()).collect::<Vec<_>>().join(" ")
}

fn line((cells, seps): &(Vec<Cell>, Vec<&str>)) -> String {
    let mut out = cells[0].token.clone();
    for (cell, sep) in cells[1..].iter().zip(seps) {
        out.push_str(sep);
        out.push_str(&cell.token);
    }
    out
}

/// The bytes a case is delivered as, and the options to read them with.
fn input(case: &Case, lines: &[String]) -> (Vec<u8>, ReadOptions) {
    let header = header(&case.cols);
    let mut opts = ReadOptions {
        batch_rows: case.batch_rows,
        ingestion_time_ms: INGESTION_TIME,
        log_format: Some(LogFormat::parse(&header).expect("format")),
        ..ReadOptions::default()
    };
    let bytes = match case.delivery {
        Delivery::Header => {
            opts.log_format = None;
            format!("{header}\n{}\n", lines.join("\n")).into_bytes()
        }
        Delivery::LogFormat => format!("{}\n", lines.join("\n")).into_bytes(),
        Delivery::Firehose => lines
            .iter()
            .map(|l| json!({"message": l}).to_string())
            .collect::<String>()
            .into_bytes(),
        Delivery::Subscription => {
            let events: Vec<Value> = lines
                .iter()
                .map(|l| json!({"id": "1", "timestamp": EVENT_TIME, "message": l}))
                .collect();
            let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g",
                                 "logStream": STREAM, "subscriptionFilters": [], "logEvents": events});
            gzip(payload.to_string().as_bytes())
        }
    };
    (bytes, opts)
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let lines: Vec<String> = case.records.iter().map(line).collect();
    let (bytes, opts) = input(case, &lines);
    let out = read_bytes(&bytes, &opts);
    prop_assert!(out.rejects.is_empty(), "rejected: {:?}", out.rejects);
    prop_assert!(out.summary.error.is_none(), "{:?}", out.summary.error);
    prop_assert_eq!(out.messages(), lines.clone(), "rebuilt text");
    let position = |id| case.cols.iter().position(|c| c.is(id));
    for ((row, (cells, seps)), text) in out.rows.iter().zip(&case.records).zip(&lines) {
        for (col, cell) in case.cols.iter().zip(cells) {
            prop_assert_eq!(
                &row[col.column().as_str()],
                &cell.want,
                "{} in {:?}",
                col.name(),
                text
            );
        }
        for f in FIELDS.iter().filter(|f| position(f.id).is_none()) {
            prop_assert_eq!(
                &row[f.column],
                &Value::Null,
                "{} is not in the format",
                f.column
            );
        }
        let canonical = cells.iter().all(|c| c.canonical) && seps.iter().all(|s| *s == " ");
        prop_assert_eq!(
            row["message"].is_null(),
            canonical,
            "message stored only when needed: {:?}",
            text
        );
        prop_assert_eq!(&row["log_format"], &json!(header(&case.cols)));
        let start = position(FieldId::Start).and_then(|i| cells[i].want.as_i64());
        let delivered = match case.delivery {
            Delivery::Subscription => EVENT_TIME,
            _ => INGESTION_TIME,
        };
        prop_assert_eq!(
            &row["timestamp"],
            &json!(start.map_or(delivered, |s| s * 1000))
        );
        let eni = position(FieldId::InterfaceId).and_then(|i| cells[i].want.as_str());
        let stream = match case.delivery {
            Delivery::Subscription => json!(STREAM),
            _ => eni.map_or(Value::Null, |e| json!(format!("{e}-all"))),
        };
        prop_assert_eq!(&row["log_stream"], &stream);
    }
    Ok(())
}

proptest! {
    // No regression files: the crate directory belongs to the repository.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn text_read_rebuild_round_trip(case in case()) {
        check(&case)?;
    }
}
