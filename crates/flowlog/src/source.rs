//! Reading one source (a file or a stream): detect what it is from its content, unwrap gzip and
//! base64 layers, then hand records to the text, JSON or Parquet paths.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use arrow::array::RecordBatch;
use flate2::bufread::MultiGzDecoder;
use flowwatch_core::{FieldId, LogFormat, field::all_fields_through, format::is_field_name};

use crate::builder::{Cell, Plan, RecordBuilder, RecordMeta, SourceDefaults};
use crate::error::{MAX_LINE, ReadError, Rejection};
use crate::lines::{CountingReader, Line, for_each_line};
use crate::{json, parquet_in};

/// What the user says a source is; `Auto` looks at the content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    #[default]
    Auto,
    /// Flow-log lines: S3 text (with or without header), CloudWatch export lines, copied lines.
    Text,
    /// Parquet as AWS delivers it.
    Parquet,
    /// Any of the JSON shapes: CloudWatch API output, subscription payloads, Firehose records.
    Json,
}

/// What a source turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Detected {
    #[default]
    Empty,
    Text,
    Parquet,
    Json,
}

#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub format: InputFormat,
    /// The format of header-less lines (`--log-format`); a header line in the data wins.
    pub log_format: Option<LogFormat>,
    /// Records per emitted batch.
    pub batch_rows: usize,
    /// `@ingestionTime` of every record read.
    pub ingestion_time_ms: i64,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: InputFormat::Auto,
            log_format: None,
            batch_rows: 65_536,
            ingestion_time_ms: 0,
        }
    }
}

/// What comes out of a reader, in order.
#[derive(Debug)]
pub enum Output {
    Batch(RecordBatch),
    Reject(Rejection),
}

/// The outcome of reading one source.
#[derive(Debug, Default)]
pub struct ReadSummary {
    pub detected: Detected,
    pub records: u64,
    pub rejected: u64,
    /// Header lines, blank lines, CloudWatch control messages.
    pub skipped: u64,
    /// The error that stopped the source early, if any. Records before it were emitted.
    pub error: Option<ReadError>,
    /// The reason shared by every rejected record, when all records were rejected for the same
    /// reason (a wrong `--log-format`, a file that is not a flow log): the one-line diagnosis.
    pub uniform_rejection: Option<String>,
    /// When nothing was read but records were rejected: one line naming the source and saying
    /// what went wrong, for the user.
    pub diagnosis: Option<String>,
}

/// Read a file. Never panics on any content; problems are in the summary and the rejections.
pub fn read_path(
    path: &Path,
    name: &str,
    defaults: SourceDefaults,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Output),
) -> ReadSummary {
    let mut reader = Reader::new(name, defaults, opts, out);
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            reader.summary.error = Some(ReadError::Io {
                source_name: name.to_string(),
                source: e,
            });
            return reader.finish();
        }
    };
    if opts.format == InputFormat::Parquet || is_parquet_file(path) {
        reader.summary.detected = Detected::Parquet;
        parquet_in::read(&mut reader, file);
        return reader.finish();
    }
    reader.read_stream(&mut { file }, 0);
    reader.finish()
}

/// Read any byte stream (stdin, an HTTP body).
pub fn read_stream(
    mut input: impl Read,
    name: &str,
    defaults: SourceDefaults,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Output),
) -> ReadSummary {
    let mut reader = Reader::new(name, defaults, opts, out);
    reader.read_stream(&mut input, 0);
    reader.finish()
}

fn is_parquet_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"PAR1"
}

/// The state of one source being read.
pub(crate) struct Reader<'a> {
    pub(crate) name: String,
    opts: &'a ReadOptions,
    defaults: SourceDefaults,
    builder: RecordBuilder,
    out: &'a mut dyn FnMut(Output),
    pub(crate) summary: ReadSummary,
    /// The format set by the last header line of a text stream.
    header_plan: Option<Rc<Plan>>,
    user_plan: Option<Rc<Plan>>,
    /// Plans for header-less lines, by token count.
    auto_plans: Vec<(usize, Rc<Plan>)>,
    first_reason: Option<String>,
    same_reason: bool,
    cells: Vec<Cell<'static>>,
    /// Records numbered so far by the JSON path; nested payloads continue the count.
    pub(crate) json_index: u64,
}

impl<'a> Reader<'a> {
    fn new(
        name: &str,
        defaults: SourceDefaults,
        opts: &'a ReadOptions,
        out: &'a mut dyn FnMut(Output),
    ) -> Reader<'a> {
        let mut builder = RecordBuilder::new(opts.batch_rows.max(1), opts.ingestion_time_ms);
        let user_plan = opts.log_format.as_ref().map(|f| Rc::new(builder.plan(f)));
        Reader {
            name: name.to_string(),
            opts,
            defaults,
            builder,
            out,
            summary: ReadSummary::default(),
            header_plan: None,
            user_plan,
            auto_plans: Vec::new(),
            first_reason: None,
            same_reason: true,
            cells: Vec::new(),
            json_index: 0,
        }
    }

    fn finish(mut self) -> ReadSummary {
        self.flush();
        if self.summary.records == 0 && self.summary.rejected > 0 {
            let n = self.summary.rejected;
            let first = self.first_reason.take().unwrap_or_default();
            self.summary.diagnosis = Some(if self.same_reason {
                format!("{}: every record was rejected ({n}): {first}", self.name)
            } else {
                format!(
                    "{}: no flow-log records: all {n} were rejected, the first because {first}",
                    self.name
                )
            });
            if self.same_reason {
                self.summary.uniform_rejection = Some(first);
            }
        }
        self.summary
    }

    pub(crate) fn flush(&mut self) {
        match self.builder.finish() {
            Ok(Some(batch)) => (self.out)(Output::Batch(batch)),
            Ok(None) => {}
            Err(e) => {
                self.summary.error.get_or_insert_with(|| {
                    ReadError::format(
                        &self.name,
                        format!("internal error assembling records (please report): {e}"),
                    )
                });
            }
        }
    }

    pub(crate) fn plan(&mut self, format: &LogFormat) -> Plan {
        self.builder.plan(format)
    }

    pub(crate) fn reject(&mut self, line: u64, reason: String, text: &[u8]) {
        self.summary.rejected += 1;
        match &self.first_reason {
            None => self.first_reason = Some(reason.clone()),
            // Compare without the quoted values: a wrong format fails every line the same way
            // even though each line holds different values.
            Some(first) => self.same_reason &= unquoted(first) == unquoted(&reason),
        }
        let text = String::from_utf8_lossy(&text[..text.len().min(MAX_LINE)]).into_owned();
        (self.out)(Output::Reject(Rejection { line, reason, text }));
    }

    /// Validate and store one record given as cells of `plan`; the caller rejects it on error.
    pub(crate) fn push_cells(
        &mut self,
        plan: &Plan,
        cells: &[Cell<'_>],
        meta: &RecordMeta<'_>,
    ) -> Result<(), String> {
        self.builder.push(plan, cells, meta, &self.defaults)?;
        self.summary.records += 1;
        if self.builder.len() >= self.opts.batch_rows {
            self.flush();
        }
        Ok(())
    }

    /// Detect and read a byte stream. `depth` bounds nested gzip/base64 layers.
    pub(crate) fn read_stream(&mut self, input: &mut dyn Read, depth: u8) {
        let (counting, consumed) = CountingReader::new(input);
        let mut buffered = BufReader::with_capacity(256 * 1024, counting);
        let head = match buffered.fill_buf() {
            Ok(h) => h,
            Err(e) => {
                self.summary.error = Some(ReadError::Io {
                    source_name: self.name.clone(),
                    source: e,
                });
                return;
            }
        };
        if head.is_empty() {
            return;
        }
        if head.starts_with(&[0xef, 0xbb, 0xbf]) {
            // A UTF-8 byte-order mark from a hand-edited file: skip it, then detect as usual.
            buffered.consume(3);
            self.read_stream(&mut buffered, depth + 1);
            return;
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            if depth > 3 {
                self.summary.error = Some(ReadError::format(
                    &self.name,
                    "gzip nested more than 3 levels deep",
                ));
                return;
            }
            let decoder = MultiGzDecoder::new(buffered);
            let failed = self.read_decoded(decoder, depth + 1);
            if let Some(detail) = failed {
                self.summary.error = Some(ReadError::Gzip {
                    source_name: self.name.clone(),
                    offset: consumed.get(),
                    detail,
                });
            }
            return;
        }
        if head.starts_with(b"PAR1") {
            self.summary.detected = Detected::Parquet;
            let mut bytes = Vec::new();
            if let Err(e) = buffered.read_to_end(&mut bytes) {
                self.summary.error = Some(ReadError::Io {
                    source_name: self.name.clone(),
                    source: e,
                });
                return;
            }
            parquet_in::read_bytes(self, bytes.into());
            return;
        }
        let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
        let forced_json = self.opts.format == InputFormat::Json;
        let forced_text = self.opts.format == InputFormat::Text;
        if forced_json || (!forced_text && matches!(first, Some(b'{' | b'['))) {
            self.summary.detected = Detected::Json;
            json::read(self, buffered, depth);
            return;
        }
        if !forced_text && looks_binary(head) {
            self.summary.error = Some(ReadError::format(
                &self.name,
                "binary content that is not gzip or Parquet: expected flow-log text, gzip, Parquet or JSON",
            ));
            return;
        }
        if !forced_text && depth < 3 && looks_base64_gzip(head) {
            let mut text = Vec::new();
            if let Err(e) = buffered.read_to_end(&mut text) {
                self.summary.error = Some(ReadError::Io {
                    source_name: self.name.clone(),
                    source: e,
                });
                return;
            }
            match decode_base64(&text) {
                Some(bytes) => self.read_stream(&mut io::Cursor::new(bytes), depth + 1),
                None => {
                    self.summary.error =
                        Some(ReadError::format(&self.name, "invalid base64 payload"))
                }
            }
            return;
        }
        self.summary.detected = Detected::Text;
        if let Err(e) = self.read_lines(buffered) {
            self.summary.error = Some(ReadError::Io {
                source_name: self.name.clone(),
                source: e,
            });
        }
    }

    /// Read a decompressed stream; returns the decompression error text if it failed.
    fn read_decoded(&mut self, decoder: impl Read, depth: u8) -> Option<String> {
        let mut guard = ErrorGuard {
            inner: decoder,
            error: None,
        };
        self.read_stream(&mut guard, depth);
        let failed = guard.error.take();
        if failed.is_some() {
            // The stream layer saw the failure as an IO error; report it as a gzip one.
            if matches!(self.summary.error, Some(ReadError::Io { .. })) {
                self.summary.error = None;
            }
        }
        failed
    }

    /// The text path: headers, records, CloudWatch export lines.
    fn read_lines(&mut self, input: impl BufRead) -> io::Result<()> {
        let result = for_each_line(input, |line_no, line| match line {
            Line::TooLong { len, head } => {
                let reason = format!("line is {len} bytes long; records are at most {MAX_LINE}");
                self.reject(line_no, reason, head);
            }
            Line::Text(bytes) => self.text_line(line_no, bytes),
        });
        if result.is_err() {
            self.flush();
        }
        result
    }

    /// One line of a text source.
    pub(crate) fn text_line(&mut self, line_no: u64, bytes: &[u8]) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            self.summary.skipped += 1;
            return;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let reason = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to());
                self.reject(line_no, reason, bytes);
                return;
            }
        };
        if let Some(format) = header_format(text) {
            self.header_plan = Some(Rc::new(self.builder.plan(&format)));
            self.summary.skipped += 1;
            return;
        }
        if text.len() == 17 && text == "timestamp,message" {
            self.summary.skipped += 1;
            return;
        }
        let (event_time_ms, message) = split_export_prefix(text);
        self.message(line_no, message, event_time_ms, None);
    }

    /// One flow-log record as text, from a line or a JSON `message`.
    pub(crate) fn message(
        &mut self,
        line_no: u64,
        text: &str,
        event_time_ms: Option<i64>,
        stream: Option<&str>,
    ) {
        let mut cells = recycle(std::mem::take(&mut self.cells));
        // Tokens are separated by single spaces; runs of spaces are tolerated (AWS's own example
        // page has one). memchr keeps this off the profile.
        let mut start = 0;
        let mut token_bytes = 0;
        for end in memchr::memchr_iter(b' ', text.as_bytes()).chain(std::iter::once(text.len())) {
            if end > start {
                token_bytes += end - start;
                let token = &text[start..end];
                cells.push(if token.as_bytes() == b"-" {
                    Cell::Null
                } else {
                    Cell::Str(token)
                });
            }
            start = end + 1;
        }
        let count = cells.len();
        // Single spaces only, none leading or trailing: exactly what a rebuild would produce.
        let canonical = count > 0 && text.len() == token_bytes + count - 1;
        let plan = match self.plan_for(count) {
            Ok(plan) => plan,
            Err(reason) => {
                self.cells = recycle(cells);
                self.reject(line_no, reason, text.as_bytes());
                return;
            }
        };
        let meta = RecordMeta {
            event_time_ms,
            stream,
            text_is_canonical: canonical,
            original: Some(text),
        };
        let pushed = self.push_cells(&plan, &cells, &meta);
        self.cells = recycle(cells);
        if let Err(reason) = pushed {
            self.reject(line_no, reason, text.as_bytes());
        }
    }

    /// The format for a header-less record with `count` tokens.
    fn plan_for(&mut self, count: usize) -> Result<Rc<Plan>, String> {
        if let Some(plan) = self.header_plan.as_ref().or(self.user_plan.as_ref()) {
            return Ok(plan.clone());
        }
        if let Some((_, plan)) = self.auto_plans.iter().find(|(n, _)| *n == count) {
            return Ok(plan.clone());
        }
        let layout = [2u8, 3, 4, 5, 7, 8]
            .into_iter()
            .filter_map(all_fields_through)
            .find(|fields| fields.len() == count);
        match layout {
            Some(fields) => {
                let ids: Vec<FieldId> = fields.iter().map(|f| f.id).collect();
                let plan = Rc::new(self.builder.plan(&LogFormat::from_fields(&ids)));
                self.auto_plans.push((count, plan.clone()));
                Ok(plan)
            }
            None => Err(format!(
                "expected 14 fields (the default format) and found {count}; no header line precedes this record: pass the flow log's format with --log-format"
            )),
        }
    }
}

/// A rejection reason with its quoted values (`'…'`) removed.
fn unquoted(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Reuse a vector's allocation for values of another lifetime. The in-place `collect` of an
/// emptied vector into a same-layout element type keeps the buffer, so this costs nothing per
/// record and needs no `unsafe`.
fn recycle<'b>(mut v: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    v.clear();
    v.into_iter().map(|_| Cell::Null).collect()
}

/// Passes reads through, remembering the first error so the caller can tell a decompression
/// failure from a parse failure.
struct ErrorGuard<R> {
    inner: R,
    error: Option<String>,
}

impl<R: Read> Read for ErrorGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e.to_string());
                }
                Err(e)
            }
        }
    }
}

/// A header line: every token a field name and at least one a known field.
fn header_format(text: &str) -> Option<LogFormat> {
    let mut any_known = false;
    for token in text.split_ascii_whitespace() {
        if !is_field_name(token) {
            return None;
        }
        any_known |= FieldId::lookup(token).is_some();
    }
    if !any_known {
        return None;
    }
    LogFormat::parse(text).ok()
}

/// `2024-05-25T05:00:12.000Z <message>` (CloudWatch export to S3) or `1742570569000,<message>`
/// (console CSV download): split off the event time.
fn split_export_prefix(text: &str) -> (Option<i64>, &str) {
    let b = text.as_bytes();
    if b.len() > 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[..4].iter().all(u8::is_ascii_digit)
        && let Some(space) = text.find(' ')
    {
        let (ts, rest) = text.split_at(space);
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) {
            return (Some(t.timestamp_millis()), rest.trim_start_matches(' '));
        }
    }
    if let Some(comma) = b.iter().take(14).position(|&c| c == b',')
        && (10..=13).contains(&comma)
        && b[..comma].iter().all(u8::is_ascii_digit)
    {
        let ms = crate::builder::parse_uint(&text[..comma]).map(|v| {
            let v = v as i64;
            if comma <= 10 { v * 1000 } else { v }
        });
        let rest = text[comma + 1..].trim_matches('"');
        return (ms, rest);
    }
    (None, text)
}

fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(512)];
    let odd = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')))
        .count();
    odd > 0 && odd * 20 > sample.len().max(1)
}

fn looks_base64_gzip(head: &[u8]) -> bool {
    // base64 of 1f 8b 08 is "H4sI".
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    head[start..].starts_with(b"H4sI")
}

pub(crate) fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_prefixes() {
        assert_eq!(
            split_export_prefix("2024-05-25T05:00:12.000Z 2 123 eni-1 - - - - - - - 1 2 - NODATA"),
            (
                Some(1_716_613_212_000),
                "2 123 eni-1 - - - - - - - 1 2 - NODATA"
            )
        );
        assert_eq!(
            split_export_prefix("1742570569000,2 627 eni-1"),
            (Some(1_742_570_569_000), "2 627 eni-1")
        );
        assert_eq!(split_export_prefix("2 123 eni-1"), (None, "2 123 eni-1"));
    }

    fn read(input: &[u8], opts: &ReadOptions) -> ReadSummary {
        read_stream(input, "t", SourceDefaults::default(), opts, &mut |_| {})
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_header() {
        let input = b"\xef\xbb\xbfversion srcaddr action\n2 10.0.0.1 ACCEPT\n";
        let s = read(input, &ReadOptions::default());
        assert_eq!((s.records, s.rejected), (1, 0), "{s:?}");
    }

    #[test]
    fn a_wrong_format_of_the_right_width_is_diagnosed_once() {
        let opts = ReadOptions {
            log_format: LogFormat::parse("version srcaddr dstport").ok(),
            ..ReadOptions::default()
        };
        let s = read(b"2 eni-1 10.0.0.1\n2 eni-2 10.0.0.2\n", &opts);
        assert_eq!(s.records, 0);
        let reason = s.uniform_rejection.expect("one shared reason");
        assert!(reason.contains("field 2 (srcaddr)"), "{reason}");
    }

    #[test]
    fn headers_are_recognised() {
        assert!(header_format("version account-id interface-id srcaddr").is_some());
        assert!(
            header_format(
                "flow-direction traffic-path srcaddr dstaddr srcport dstport encryption-status"
            )
            .is_some()
        );
        assert!(header_format("ingress - 10.0.133.8 10.0.128.55 43236 80 1").is_none());
        assert!(header_format("phony unsupported log format.").is_none());
        assert!(header_format("hello world").is_none());
    }
}
