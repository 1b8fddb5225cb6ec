//! Columnar assembly of flow records: one record is validated in full, then appended to Arrow
//! builders, so a bad record never leaves half a row behind.
//!
//! Columns are created lazily and padded with nulls, so a stream whose format changes mid-way
//! (concatenated S3 objects with different headers) still yields rectangular batches.

use std::net::IpAddr;
use std::sync::Arc;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use arrow::array::{
    ArrayRef, DictionaryArray, Int32Array, Int32Builder, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMillisecondArray, new_null_array,
};
use arrow::datatypes::Int32Type;
use flowwatch_core::time::normalise_epoch_seconds;
use flowwatch_core::{FIELDS, FieldId, FieldType, LogFormat, Slot};

use crate::schema::{self, FIELD_OFFSET};

/// One value as a source presents it.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// `-`, a Parquet null, or an absent JSON value.
    Null,
    Str(&'a str),
    Int(i64),
}

/// Where each slot of a format lands.
#[derive(Clone, Debug)]
enum Target {
    Known(FieldId),
    Extra(usize),
}

/// A format compiled against a builder.
#[derive(Clone, Debug)]
pub struct Plan {
    format: LogFormat,
    /// Key of the format's header line in the `log_format` dictionary.
    format_key: i32,
    targets: Vec<Target>,
    has_account: bool,
    has_region: bool,
    interface_slot: Option<usize>,
}

impl Plan {
    pub fn format(&self) -> &LogFormat {
        &self.format
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Per-record context that does not come from the record's own fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordMeta<'a> {
    /// The delivery's event time (CloudWatch event `timestamp`, export-line time), in ms.
    pub event_time_ms: Option<i64>,
    /// The CloudWatch log stream the record came from.
    pub stream: Option<&'a str>,
    /// Whether the caller's original text equals the text rebuilt from the cells.
    pub text_is_canonical: bool,
    /// The original text, stored when it cannot be rebuilt.
    pub original: Option<&'a str>,
}

/// Values that apply to every record of a source.
#[derive(Clone, Debug, Default)]
pub struct SourceDefaults {
    /// Account and region from the S3 key, used when the format lacks them.
    pub account: Option<String>,
    pub region: Option<String>,
    /// A time for records that carry neither `start` nor an event time (the S3 key's date).
    pub fallback_time_ms: Option<i64>,
    /// The log stream when the source names it (a CloudWatch export's `<stream>/000000.gz`).
    pub stream: Option<String>,
}

enum Data {
    I32(Int32Builder),
    I64(Int64Builder),
    Str(StringBuilder),
}

struct Column {
    data: Option<Data>,
    len: usize,
}

impl Column {
    const fn empty() -> Column {
        Column { data: None, len: 0 }
    }

    fn data(&mut self, ty: FieldType, row: usize, cap: usize) -> &mut Data {
        let data = self.data.get_or_insert_with(|| match ty {
            FieldType::Int32 { .. } => Data::I32(Int32Builder::with_capacity(cap)),
            FieldType::Int64 => Data::I64(Int64Builder::with_capacity(cap)),
            _ => Data::Str(StringBuilder::with_capacity(cap, cap * 16)),
        });
        if self.len < row {
            let missing = row - self.len;
            match data {
                Data::I32(b) => b.append_nulls(missing),
                Data::I64(b) => b.append_nulls(missing),
                Data::Str(b) => (0..missing).for_each(|_| b.append_null()),
            }
        }
        self.len = row + 1;
        data
    }

    fn finish(&mut self, ty: &arrow::datatypes::DataType, rows: usize) -> ArrayRef {
        let Some(data) = self.data.as_mut() else {
            return new_null_array(ty, rows);
        };
        let missing = rows - self.len;
        self.len = 0;
        match data {
            Data::I32(b) => {
                b.append_nulls(missing);
                Arc::new(b.finish())
            }
            Data::I64(b) => {
                b.append_nulls(missing);
                Arc::new(b.finish())
            }
            Data::Str(b) => {
                (0..missing).for_each(|_| b.append_null());
                Arc::new(b.finish())
            }
        }
    }
}

/// A validated but not yet appended value. Strings are not copied: `Str` means "the cell at
/// the same position", which the caller still holds.
#[derive(Clone, Copy)]
enum Parsed {
    Null,
    Int(i64),
    Str,
}

/// Accumulates validated records into Arrow record batches of the flow schema.
pub struct RecordBuilder {
    rows: usize,
    capacity: usize,
    ingestion_time_ms: i64,
    timestamp: Vec<i64>,
    fields: Vec<Column>,
    stream: Dict,
    format_keys: Vec<i32>,
    format_values: Vec<String>,
    message: StringBuilder,
    extra_names: Vec<String>,
    extras: Vec<Column>,
    parsed: Vec<Parsed>,
}

impl RecordBuilder {
    pub fn new(capacity: usize, ingestion_time_ms: i64) -> RecordBuilder {
        RecordBuilder {
            rows: 0,
            capacity,
            ingestion_time_ms,
            timestamp: Vec::with_capacity(capacity),
            fields: (0..FIELDS.len()).map(|_| Column::empty()).collect(),
            stream: Dict::default(),
            format_keys: Vec::with_capacity(capacity),
            format_values: Vec::new(),
            message: StringBuilder::new(),
            extra_names: Vec::new(),
            extras: Vec::new(),
            parsed: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Compile a format: unknown fields get (or reuse) an extra column.
    pub fn plan(&mut self, format: &LogFormat) -> Plan {
        let targets = format
            .slots()
            .iter()
            .map(|slot| match slot {
                Slot::Known(id) => Target::Known(*id),
                Slot::Unknown(_) => {
                    let column = schema::extra_column(slot);
                    let idx = match self.extra_names.iter().position(|n| *n == column) {
                        Some(i) => i,
                        None => {
                            self.extra_names.push(column);
                            self.extras.push(Column::empty());
                            self.extras.len() - 1
                        }
                    };
                    Target::Extra(idx)
                }
            })
            .collect();
        let header = format.header();
        let format_key = match self.format_values.iter().position(|h| *h == header) {
            Some(i) => i as i32,
            None => {
                self.format_values.push(header);
                self.format_values.len() as i32 - 1
            }
        };
        Plan {
            format_key,
            targets,
            has_account: format.contains(FieldId::AccountId),
            has_region: format.contains(FieldId::Region),
            interface_slot: format
                .slots()
                .iter()
                .position(|s| *s == Slot::Known(FieldId::InterfaceId)),
            format: format.clone(),
        }
    }

    /// Validate one record and append it, or say why it was refused (nothing is appended then).
    /// `cells` must have exactly `plan.len()` entries.
    pub fn push(
        &mut self,
        plan: &Plan,
        cells: &[Cell<'_>],
        meta: &RecordMeta<'_>,
        defaults: &SourceDefaults,
    ) -> Result<(), String> {
        if cells.len() != plan.targets.len() {
            return Err(format!(
                "expected {} fields ({}), found {}",
                plan.targets.len(),
                describe_format(&plan.format),
                cells.len()
            ));
        }
        // Validate everything first; nothing is appended unless every value is good.
        let mut parsed = std::mem::take(&mut self.parsed);
        parsed.clear();
        let mut canonical = meta.text_is_canonical;
        let mut start = None;
        for (i, (target, cell)) in plan.targets.iter().zip(cells).enumerate() {
            let p = match target {
                Target::Known(id) => match validate(*id, *cell) {
                    Ok(Parsed::Int(v)) if matches!(id, FieldId::Start | FieldId::End) => {
                        let (secs, rewritten) = normalise_epoch_seconds(v);
                        // Rebuilt from `secs`: neither milliseconds nor leading zeros come back.
                        let zeros =
                            matches!(cell, Cell::Str(s) if s.len() > 1 && s.starts_with('0'));
                        canonical &= !rewritten && !zeros;
                        if *id == FieldId::Start {
                            start = Some(secs);
                        }
                        Parsed::Int(secs)
                    }
                    Ok(p) => {
                        // `0080` reads as 80 but would be rebuilt as `80`: keep the original.
                        if let (Parsed::Int(_), Cell::Str(s)) = (p, cell) {
                            canonical &= s.len() == 1 || !s.starts_with('0');
                        }
                        p
                    }
                    Err(e) => {
                        self.parsed = parsed;
                        return Err(format!("field {} ({}): {e}", i + 1, id.name()));
                    }
                },
                Target::Extra(_) => match *cell {
                    Cell::Null => Parsed::Null,
                    Cell::Str(_) => Parsed::Str,
                    Cell::Int(v) => {
                        canonical = false;
                        Parsed::Int(v)
                    }
                },
            };
            parsed.push(p);
        }

        let row = self.rows;
        let cap = self.capacity;
        for ((target, p), cell) in plan.targets.iter().zip(parsed.iter()).zip(cells) {
            let (column, ty) = match target {
                Target::Known(id) => (&mut self.fields[id.index()], id.def().ty),
                Target::Extra(i) => (&mut self.extras[*i], FieldType::Text),
            };
            if matches!(p, Parsed::Null) {
                continue; // padded on the next append or at finish
            }
            match (column.data(ty, row, cap), p, cell) {
                (Data::I32(b), Parsed::Int(v), _) => b.append_value(*v as i32),
                (Data::I64(b), Parsed::Int(v), _) => b.append_value(*v),
                (Data::Str(b), Parsed::Str, Cell::Str(s)) => b.append_value(s),
                (Data::Str(b), Parsed::Int(v), _) => b.append_value(v.to_string()),
                (Data::I32(b), _, _) => b.append_null(),
                (Data::I64(b), _, _) => b.append_null(),
                (Data::Str(b), _, _) => b.append_null(),
            }
        }
        if !plan.has_account
            && let Some(account) = &defaults.account
        {
            append_str(
                &mut self.fields[FieldId::AccountId.index()],
                row,
                cap,
                account,
            );
        }
        if !plan.has_region
            && let Some(region) = &defaults.region
        {
            append_str(&mut self.fields[FieldId::Region.index()], row, cap, region);
        }

        let ts = match (start, meta.event_time_ms) {
            (Some(s), _) => s.saturating_mul(1000),
            (None, Some(t)) => t,
            (None, None) => defaults.fallback_time_ms.unwrap_or(self.ingestion_time_ms),
        };
        self.timestamp.push(ts);

        match meta.stream.or(defaults.stream.as_deref()) {
            Some(s) => self.stream.push(Some(s)),
            None => match plan.interface_slot.map(|i| (parsed[i], cells[i])) {
                Some((Parsed::Str, Cell::Str(eni))) => {
                    self.stream.push_suffixed(eni, STREAM_SUFFIX)
                }
                _ => self.stream.push(None),
            },
        }
        self.format_keys.push(plan.format_key);
        match (canonical, meta.original) {
            (false, Some(text)) => self.message.append_value(text),
            _ => self.message.append_null(),
        }
        self.parsed = parsed;
        self.rows += 1;
        Ok(())
    }

    /// Take the records so far as a batch (`Ok(None)` when empty). An error means an internal
    /// inconsistency (a bug, never bad input); the caller reports it on the source.
    pub fn finish(&mut self) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = self.rows;
        let schema = schema::schema_with_extras(&self.extra_names);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        let ts = std::mem::replace(&mut self.timestamp, Vec::with_capacity(self.capacity));
        columns.push(Arc::new(
            TimestampMillisecondArray::from(ts).with_timezone("UTC"),
        ));
        for (i, column) in self.fields.iter_mut().enumerate() {
            columns.push(column.finish(schema.field(FIELD_OFFSET + i).data_type(), rows));
        }
        columns.push(Arc::new(self.stream.finish()));
        let keys = Int32Array::from(std::mem::replace(
            &mut self.format_keys,
            Vec::with_capacity(self.capacity),
        ));
        let values = Arc::new(StringArray::from_iter_values(self.format_values.iter()));
        columns.push(Arc::new(DictionaryArray::<Int32Type>::new(keys, values)));
        columns.push(Arc::new(self.message.finish()));
        columns.push(Arc::new(
            TimestampMillisecondArray::from(vec![self.ingestion_time_ms; rows])
                .with_timezone("UTC"),
        ));
        let base = schema::base_width();
        for (i, column) in self.extras.iter_mut().enumerate() {
            columns.push(column.finish(schema.field(base + i).data_type(), rows));
        }
        self.rows = 0;
        // Extras persist across batches so plans stay valid; a batch simply carries them as null
        // columns when unused.
        // Every column is built with the schema's type and `rows` entries, so this only fails
        // on a bug; it is reported, not panicked on.
        RecordBatch::try_new(schema, columns).map(Some)
    }
}

/// A string dictionary column built by hand: the last value is compared first (consecutive
/// records usually share an ENI), then a hash map, so no row rehashes a string needlessly.
#[derive(Default)]
struct Dict {
    keys: Vec<Option<i32>>,
    values: Vec<String>,
    /// Keyed by the value without its suffix (`eni-…` for `eni-…-all`), so a row never builds
    /// the string just to look it up.
    /// One map for plain values, one for suffixed ones.
    index: [HashMap<String, i32, BuildHasherDefault<FxHasher>>; 2],
    last: Option<(i32, usize)>,
}

/// CloudWatch's stream name for a VPC flow log is the ENI with this suffix.
const STREAM_SUFFIX: &str = "-all";

impl Dict {
    fn push(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.push_suffixed(v, ""),
            None => self.keys.push(None),
        }
    }

    /// Append `base` + `suffix`.
    fn push_suffixed(&mut self, base: &str, suffix: &'static str) {
        if let Some((k, base_len)) = self.last {
            let v = &self.values[k as usize];
            if base_len == base.len()
                && v.len() == base.len() + suffix.len()
                && v.starts_with(base)
                && v.ends_with(suffix)
            {
                self.keys.push(Some(k));
                return;
            }
        }
        let index = &mut self.index[usize::from(!suffix.is_empty())];
        let k = match index.get(base) {
            Some(&k) => k,
            None => {
                let k = self.values.len() as i32;
                self.values.push(format!("{base}{suffix}"));
                index.insert(base.to_string(), k);
                k
            }
        };
        self.last = Some((k, base.len()));
        self.keys.push(Some(k));
    }

    fn finish(&mut self) -> DictionaryArray<Int32Type> {
        let keys = Int32Array::from(std::mem::take(&mut self.keys));
        let values = Arc::new(StringArray::from_iter_values(self.values.drain(..)));
        self.index.iter_mut().for_each(HashMap::clear);
        self.last = None;
        DictionaryArray::new(keys, values)
    }
}

/// The Fx hash (rustc's): a multiply and a rotate per word, plenty for short ids in a
/// per-batch map, and several times cheaper than SipHash.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn append_str(column: &mut Column, row: usize, cap: usize, value: &str) {
    if let Data::Str(b) = column.data(FieldType::Text, row, cap) {
        b.append_value(value);
    }
}

fn describe_format(format: &LogFormat) -> String {
    if *format == LogFormat::default_v2() {
        "the default v2 format".to_string()
    } else {
        format!("format '{}'", format.header())
    }
}

/// Check one value against its field's type.
fn validate(id: FieldId, cell: Cell<'_>) -> Result<Parsed, String> {
    let ty = id.def().ty;
    match (ty, cell) {
        (_, Cell::Null) => Ok(Parsed::Null),
        (FieldType::Int32 { max }, Cell::Str(s)) => match parse_uint(s) {
            Some(v) if v <= max as u64 => Ok(Parsed::Int(v as i64)),
            Some(_) => Err(format!("{s} is out of range (0-{max})")),
            None => Err(format!("expected a number, found '{}'", clip(s))),
        },
        (FieldType::Int32 { max }, Cell::Int(v)) => {
            if (0..=max as i64).contains(&v) {
                Ok(Parsed::Int(v))
            } else {
                Err(format!("{v} is out of range (0-{max})"))
            }
        }
        (FieldType::Int64, Cell::Str(s)) => match parse_uint(s) {
            Some(v) if v <= i64::MAX as u64 => Ok(Parsed::Int(v as i64)),
            _ => Err(format!("expected a number, found '{}'", clip(s))),
        },
        (FieldType::Int64, Cell::Int(v)) => {
            if v >= 0 {
                Ok(Parsed::Int(v))
            } else {
                Err(format!("{v} is negative"))
            }
        }
        (FieldType::Addr, Cell::Str(s)) => {
            if is_ip(s) {
                Ok(Parsed::Str)
            } else {
                Err(format!(
                    "expected an IPv4 or IPv6 address, found '{}'",
                    clip(s)
                ))
            }
        }
        (FieldType::Enum(values), Cell::Str(s)) => {
            if values.contains(&s) {
                Ok(Parsed::Str)
            } else {
                Err(format!(
                    "expected {}, found '{}'",
                    values.join(" or "),
                    clip(s)
                ))
            }
        }
        (FieldType::Text, Cell::Str(_)) => Ok(Parsed::Str),
        (FieldType::Text, Cell::Int(v)) => Ok(Parsed::Int(v)),
        (FieldType::Addr | FieldType::Enum(_), Cell::Int(v)) => {
            Err(format!("expected text, found the number {v}"))
        }
    }
}

/// Whether `s` is an address `IpAddr::from_str` accepts; dotted quads are checked by hand
/// (the standard parser showed up in profiles), anything with a colon goes to the standard one.
fn is_ip(s: &str) -> bool {
    let b = s.as_bytes();
    if b.contains(&b':') {
        return s.parse::<IpAddr>().is_ok();
    }
    let mut octets = 0;
    for part in b.split(|&c| c == b'.') {
        octets += 1;
        let ok = match part {
            [d] => d.is_ascii_digit(),
            [b'1'..=b'9', d] => d.is_ascii_digit(),
            [b'1'..=b'9', d, e] => {
                d.is_ascii_digit()
                    && e.is_ascii_digit()
                    && (part[0] - b'0') as u16 * 100 + (d - b'0') as u16 * 10 + (e - b'0') as u16
                        <= 255
            }
            _ => false,
        };
        if !ok || octets > 4 {
            return false;
        }
    }
    octets == 4
}

/// ASCII decimal digits only (no sign, no spaces), at most 19 of them.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u64;
    }
    Some(v)
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_check_agrees_with_the_standard_parser() {
        let mut cases: Vec<String> = [
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "",
            "a.b.c.d",
            "10.0.0.1",
            "192.168.001.1",
            "1.2.3.4 ",
            "2001:db8::1",
            "::",
            "::ffff:10.0.0.1",
            "2001:db8:::1",
            "199.250.10.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [
            0, 1, 9, 10, 25, 99, 100, 199, 200, 249, 250, 255, 256, 299, 300, 999,
        ] {
            cases.push(format!("{a}.{a}.1.{a}"));
        }
        for case in cases {
            assert_eq!(is_ip(&case), case.parse::<IpAddr>().is_ok(), "{case:?}");
        }
    }
}
