//! Tokens, produced on demand: whether `/` starts a regex or divides depends on where the parser
//! is (an operand position or an operator position), so the parser says which it wants.

use crate::ast::{Period, Span};
use crate::error::QueryError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name; `quoted` when it was written in backticks (then never a keyword).
    Ident {
        name: String,
        quoted: bool,
    },
    Int(i64),
    Float(f64),
    Period(Period),
    Str(String),
    Regex(String),
    Punct(&'static str),
    Eof,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident { name, .. } => format!("`{name}`"),
            Tok::Int(n) => format!("number {n}"),
            Tok::Float(n) => format!("number {n}"),
            Tok::Period(_) => "a time period".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Regex(_) => "a regular expression".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the query".into(),
        }
    }

    /// Whether this is the (unquoted) keyword `kw`, case-insensitively.
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident { name, quoted: false } if name.eq_ignore_ascii_case(kw))
    }
}

const PUNCT: &[&str] = &[
    "!=", "<=", ">=", "=~", "==", "|", ",", "(", ")", "[", "]", "+", "-", "*", "/", "%", "^", "=",
    "<", ">", "!", ":",
];

/// Skip whitespace and `#` comments from `pos`.
pub fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let bytes = src.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
    }
    pos
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@'
}

/// The token at `pos` (after trivia), its span, and where the next one starts.
pub fn lex(src: &str, pos: usize, regex_allowed: bool) -> Result<(Tok, Span), QueryError> {
    let start = skip_trivia(src, pos);
    let rest = &src[start..];
    let Some(c) = rest.chars().next() else {
        return Ok((Tok::Eof, Span::new(start, start)));
    };
    if c == '\'' || c == '"' {
        return lex_string(src, start, c);
    }
    if c == '/' && regex_allowed {
        return lex_regex(src, start);
    }
    if c == '`' || is_ident_start(c) {
        return lex_ident(src, start);
    }
    if c.is_ascii_digit() {
        return lex_number(src, start);
    }
    for p in PUNCT {
        if rest.starts_with(p) {
            let p: &'static str = if *p == "==" { "=" } else { p };
            let len = if rest.starts_with("==") { 2 } else { p.len() };
            return Ok((Tok::Punct(p), Span::new(start, start + len)));
        }
    }
    Err(QueryError::new(
        format!("unexpected character `{c}`"),
        Span::new(start, start + c.len_utf8()),
    ))
}

fn lex_string(src: &str, start: usize, quote: char) -> Result<(Tok, Span), QueryError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((Tok::Str(out), Span::new(start, start + 1 + i + 1)));
        }
        if c == '\\' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, e @ ('\\' | '\'' | '"'))) => out.push(e),
                // Other escapes are kept as written, so regex-like strings survive.
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            }
        } else {
            out.push(c);
        }
    }
    Err(QueryError::new(
        format!("unterminated string: expected a closing {quote}"),
        Span::new(start, src.len()),
    ))
}

fn lex_regex(src: &str, start: usize) -> Result<(Tok, Span), QueryError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' => return Ok((Tok::Regex(out), Span::new(start, start + 1 + i + 1))),
            '\\' => match chars.next() {
                Some((_, '/')) => out.push('/'),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            },
            '\n' => break,
            c => out.push(c),
        }
    }
    Err(QueryError::new(
        "unterminated regular expression: expected a closing /",
        Span::new(start, src.len()),
    ))
}

fn lex_ident(src: &str, start: usize) -> Result<(Tok, Span), QueryError> {
    let mut name = String::new();
    let mut pos = start;
    let mut quoted = false;
    loop {
        let rest = &src[pos..];
        let Some(c) = rest.chars().next() else { break };
        if c == '`' {
            let Some(close) = rest[1..].find('`') else {
                return Err(QueryError::new(
                    "unterminated field name: expected a closing `",
                    Span::new(pos, src.len()),
                ));
            };
            name.push_str(&rest[1..1 + close]);
            pos += close + 2;
            quoted = true;
        } else if is_ident_char(c) && (!name.is_empty() || is_ident_start(c)) {
            name.push(c);
            pos += c.len_utf8();
        } else {
            break;
        }
    }
    Ok((Tok::Ident { name, quoted }, Span::new(start, pos)))
}

fn lex_number(src: &str, start: usize) -> Result<(Tok, Span), QueryError> {
    let bytes = src.as_bytes();
    let mut pos = start;
    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut float = false;
    if pos + 1 < bytes.len() && bytes[pos] == b'.' && bytes[pos + 1].is_ascii_digit() {
        float = true;
        pos += 1;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
    }
    let digits = &src[start..pos];
    let unit_end = src[pos..]
        .find(|c: char| !c.is_ascii_alphabetic())
        .map_or(src.len(), |i| pos + i);
    if unit_end > pos {
        let span = Span::new(start, unit_end);
        let unit = &src[pos..unit_end];
        let value: i64 = match (float, digits.parse()) {
            (false, Ok(v)) => v,
            _ => {
                return Err(QueryError::new(
                    format!("a time period needs a whole number, found `{digits}`"),
                    span,
                ));
            }
        };
        return match period(value, unit) {
            Some(p) => Ok((Tok::Period(p), span)),
            None => Err(QueryError::new(format!("unknown time unit `{unit}`"), span)
                .with_help("units are ms, s, m, h, d, w, mo, q, y (and their long forms)")),
        };
    }
    let span = Span::new(start, pos);
    if float {
        digits
            .parse()
            .map(|v| (Tok::Float(v), span))
            .map_err(|_| QueryError::new("invalid number", span))
    } else {
        match digits.parse() {
            Ok(v) => Ok((Tok::Int(v), span)),
            Err(_) => digits
                .parse()
                .map(|v| (Tok::Float(v), span))
                .map_err(|_| QueryError::new("invalid number", span)),
        }
    }
}

/// A period literal. CloudWatch caps the number per unit (`ms` ≤ 1000, `s` ≤ 60, `m` ≤ 60,
/// `h` ≤ 24), so `bin(300s)` behaves as `bin(60s)`; flowwatch does the same.
pub fn period(value: i64, unit: &str) -> Option<Period> {
    let unit = unit.to_ascii_lowercase();
    let unit = match unit.as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        "w" | "week" | "weeks" => "w",
        "mo" | "mos" | "mon" | "mons" | "month" | "months" => "mo",
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => "q",
        "y" | "yr" | "yrs" | "year" | "years" => "y",
        _ => return None,
    };
    let fixed = |cap: i64, ms: i64| Period {
        millis: value.min(cap).max(1) * ms,
        months: 0,
    };
    let months = |per: i64| Period {
        millis: 0,
        months: u32::try_from(value.max(1).saturating_mul(per)).unwrap_or(u32::MAX),
    };
    Some(match unit {
        "ms" => fixed(1000, 1),
        "s" => fixed(60, 1000),
        "m" => fixed(60, 60_000),
        "h" => fixed(24, 3_600_000),
        "d" => fixed(i64::MAX / 86_400_000, 86_400_000),
        "w" => fixed(i64::MAX / 604_800_000, 604_800_000),
        "mo" => months(1),
        "q" => months(3),
        _ => months(12),
    })
}
