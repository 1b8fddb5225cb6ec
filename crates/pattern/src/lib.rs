//! The CloudWatch Logs filter-pattern language, used by metric filters, subscription filters,
//! FilterLogEvents and Live Tail: a parser that turns pattern text into a precompiled
//! [`Pattern`] (or a [`PatternError`] that renders with a caret), a matcher built to run on every
//! ingested flow record, and [`MetricTransformation`]s that turn matches into data points.
//!
//! ```text
//! let pattern = Pattern::parse(r#"[version, account, eni, source, destination, srcport,
//!     destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT",
//!     flowlogstatus]"#)?;
//! let mut buf = FieldBuf::new();
//! for line in lines {
//!     let event = buf.split(line);              // split once, share across patterns
//!     if let Some(c) = pattern.matches_event(event) {
//!         let eni = c.field("eni");             // Some("eni-0a1")
//!     }
//! }
//! ```
//!
//! # The three styles (spec §2)
//!
//! * **Terms** ([`Style::Terms`]): `ERROR` (contains), `ERROR ARGUMENTS` (all), `?ERROR ?WARN`
//!   (any), `-Exiting` (exclude), `"INTERNAL SERVER ERROR"` (phrase), `%regex%`.
//! * **JSON** ([`Style::Json`]): `{ $.a.b = "x" && ($.n > 3 || $.c IS NULL) }` with selectors
//!   `$.a[0]`, `$.['cluster.name']`, `$.*`, `$.arr[*]`, string / wildcard / number / regex
//!   comparisons, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; precedence `()` > `&&` > `||`.
//! * **Space-delimited** ([`Style::SpaceDelimited`]): `[ip, user, ..., status_code = 4*, bytes > 1000]`.
//!
//! # Decisions where AWS is silent or unclear (each pinned by a test)
//!
//! * A term matches any substring, case-sensitively: AWS's own example has `ERROR` match
//!   `Exiting with ERRORCODE: -1`. Unquoted terms may contain any non-blank character but `"`
//!   (AWS asks for quotes around anything but letters, digits and `_`; we accept the superset).
//! * `?` terms mixed with plain terms are ignored (AWS's rule), recorded as a
//!   [`PatternWarning`]; `-` terms are not plain terms, so `?a ?b -c` means (a or b) and not c.
//!   An operator may be followed by a space (`"ERROR" - "Exiting"`, from AWS's docs).
//! * Empty, blank, `""` and `" "` patterns match everything; a blank quoted phrase inside a
//!   terms pattern constrains nothing. In quoted strings `\"` and `\\` are the only escapes.
//! * `*` is a wildcard at the start and/or end of a value only (`*Event`, `Event*`, `*html*`);
//!   inside it is literal (`Ev*ent` matches only `Ev*ent`, as AWS documents); `*` and `"*"`
//!   alone match any value. Wildcards apply inside quotes too (`"*"` is documented).
//! * A bare value in number syntax (`22`, `-1.5`, `1e-3`, `+1000`) is a number: `=`/`!=` compare
//!   numerically when the event's value is a number (`22.0 = 22`), and a non-number is unequal;
//!   `< > <= >=` need a number on both sides. A quoted value (`"22"`) is always text.
//! * JSON: only events that are one valid JSON object match (the cheap [`Pattern::may_match`]
//!   test rejects anything not starting with `{`). Objects and arrays satisfy no comparison,
//!   `=` or `!=`; `null` satisfies only `IS NULL` (not `= *`); booleans compare as the text
//!   `true`/`false`; numbers compare as written (`"2.50"` equals the number `2.50`). A condition
//!   with a `*` selector holds if any reached value satisfies it; `NOT EXISTS` if none is
//!   reached. The first of duplicate keys counts. Keywords are case-insensitive; `IS NOT` and
//!   `EXISTS` are rejected with a hint. Property names are letters, digits, `_`, `-`; others
//!   go in `['...']`.
//! * Space-delimited: without `...` the field count must match exactly (confirmed by AWS's
//!   `[w1=ERROR, w2]` example, which does not match the three-word `ERROR WARN message`). At
//!   most one `...` (or `…`). All conditions in a slot must name the slot's field. A field that
//!   starts with `[` or `"` runs to the next `]` or `"` and its value excludes the delimiters;
//!   without a closing delimiter it is an ordinary field. Events split on ASCII whitespace.
//! * Regexes (`%...%`): AWS's allow-list (letters, digits, space, `: _ # = @ / ; , -`, the
//!   operators `^ $ ? [ ] { } | \ * + .`, `\d \D \s \S \w \W \xhh`), no groups, ASCII only; searched anywhere in the value (anchor with `^...$`); `\` before a
//!   symbol is that symbol; at most two per JSON or space-delimited pattern.
//! * Metric values: a non-numeric value (or a missing field) produces no data point; `$7` must
//!   be a position the pattern always binds; `$.x` needs a JSON pattern.
//!
//! # Speed
//!
//! Everything is compiled at parse time. [`Pattern::is_match`] never allocates: terms are
//! substring searches (`memchr`'s packed-pair searcher, called directly on x86-64), space-
//! delimited patterns split the event as they go and stop at the first failed condition,
//! numbers are parsed only for numeric comparisons (integers without going through `f64`).
//! With many patterns, split each event once with [`FieldBuf::split`] and use
//! [`Pattern::is_match_event`] / [`Pattern::matches_event`]: a space-delimited pattern then
//! checks the field count and only its conditioned fields, and its [`Captures`] borrow the
//! buffer. Splitting builds a whitespace bitmap per 64 bytes (word-at-a-time, safe code) and
//! reads field boundaries off it with `trailing_zeros`.
//!
//! The conditions flow-log filters are made of have a flat compiled form (`space/check.rs`):
//! a text of at most 8 bytes (`action = REJECT`, `srcaddr = 10.0.2.*`) is one 64-bit load,
//! mask and compare (`word.rs`), a short integer field is read in one word with
//! SWAR arithmetic, and a pattern with a single condition is tested inline. A `%regex%`
//! first checks the literal text every match must contain (an anchored prefix, a suffix, an
//! inner run: `filter_regex/literals.rs`), so the regex engine runs only on candidates. A
//! [`CompiledMetricFilter`] resolves its value and dimension references once;
//! [`CompiledMetricFilter::evaluate_with`] produces a data point without allocating. Each of
//! these fast paths has a test (a proptest where the input space allows) showing it agrees
//! with the general path.
//!
//! `examples/bench.rs` measures records per second through 20 mixed filters against the
//! `regex` crate (`scripts/bench-monitor` also runs DuckDB); see BENCHMARKS.md.

mod captures;
pub mod error;
mod fields;
mod filter_regex;
mod json;
mod lex;
mod literal;
mod metric;
mod pattern;
mod selector;
mod space;
mod terms;
mod value;
mod word;

pub use captures::Captures;
pub use error::{Error, PatternError, Result};
pub use fields::{Event, FieldBuf};
pub use metric::{
    CompiledMetricFilter, MAX_DIMENSIONS, MAX_FILTER_NAME_LEN, MAX_METRIC_VALUE_LEN, MAX_NAME_LEN,
    MAX_PATTERN_LEN, MetricFilter, MetricFilters, MetricTransformation, Unit,
};
pub use pattern::{Pattern, PatternWarning, Style};
