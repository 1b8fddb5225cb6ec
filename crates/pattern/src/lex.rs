//! A byte cursor over the pattern text, shared by the three parsers: whitespace, quoted strings,
//! `%regex%` literals, bare values, comparison operators and errors that say what was expected.

use crate::error::PatternError;
use crate::filter_regex;
use crate::value::{Cond, Op, Operand, Text, parse_num};

/// Most regexes a JSON or space-delimited pattern may contain (AWS quota).
pub(crate) const MAX_REGEXES: usize = 2;

pub(crate) struct Cursor<'a> {
    pub(crate) src: &'a str,
    pub(crate) pos: usize,
    /// Regexes seen so far, for the per-pattern limit.
    pub(crate) regexes: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str, pos: usize) -> Cursor<'a> {
        Cursor {
            src,
            pos,
            regexes: 0,
        }
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    pub(crate) fn at(&self, s: &str) -> bool {
        self.bytes()[self.pos.min(self.src.len())..].starts_with(s.as_bytes())
    }

    pub(crate) fn eat(&mut self, s: &str) -> bool {
        let yes = self.at(s);
        if yes {
            self.pos += s.len();
        }
        yes
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    pub(crate) fn eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// The character at the cursor, for messages: `` `x` `` or `end of pattern`.
    pub(crate) fn found(&self) -> String {
        match self.src.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => format!("`{c}`"),
            None => "end of pattern".to_owned(),
        }
    }

    fn found_len(&self) -> usize {
        self.src
            .get(self.pos..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8)
    }

    /// ``expected {what}, found `x` `` at the cursor.
    pub(crate) fn expected(&self, what: &str) -> PatternError {
        self.expected_after(what, "")
    }

    /// Like [`Cursor::expected`], with context: ``expected {what}{context}, found `x` ``.
    pub(crate) fn expected_after(&self, what: &str, context: &str) -> PatternError {
        let mut e = PatternError::new(
            self.pos,
            self.found_len(),
            format!("expected {what}{context}, found {}", self.found()),
        );
        e.expected = Some(what.to_owned());
        e
    }

    /// A `"..."` string at the cursor (which is on the opening quote): `\"` and `\\` are
    /// escapes, any other backslash is itself. Returns the unescaped content.
    pub(crate) fn quoted(&mut self) -> Result<String, PatternError> {
        let open = self.pos;
        let b = self.bytes();
        let mut out = String::new();
        let mut i = open + 1;
        let mut run = i;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    out.push_str(&self.src[run..i]);
                    self.pos = i + 1;
                    return Ok(out);
                }
                b'\\' if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                    out.push_str(&self.src[run..i]);
                    run = i + 1;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        Err(
            PatternError::new(open, 1, "unterminated string: expected a closing `\"`")
                .with_help("write a `\"` inside a string as `\\\"`"),
        )
    }

    /// A `%regex%` at the cursor (which is on the opening `%`): the source between the
    /// delimiters (`\%` does not close it) and its offset.
    pub(crate) fn regex_source(&mut self) -> Result<(&'a str, usize), PatternError> {
        let open = self.pos;
        let b = self.bytes();
        let mut i = open + 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'%' => {
                    self.pos = i + 1;
                    return Ok((&self.src[open + 1..i], open + 1));
                }
                _ => i += 1,
            }
        }
        Err(PatternError::new(
            open,
            1,
            "unterminated regex: expected a closing `%`",
        ))
    }

    /// A `%regex%` at the cursor, compiled, counted against the per-pattern limit.
    pub(crate) fn regex(&mut self) -> Result<filter_regex::FilterRegex, PatternError> {
        let open = self.pos;
        let (source, offset) = self.regex_source()?;
        self.regexes += 1;
        if self.regexes > MAX_REGEXES {
            return Err(PatternError::new(
                open,
                self.pos - open,
                format!("a pattern may contain at most {MAX_REGEXES} regexes"),
            ));
        }
        filter_regex::compile(source, offset)
    }

    /// A comparison operator at the cursor, if there is one.
    pub(crate) fn op(&mut self) -> Option<Op> {
        for (s, op) in [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat(s) {
                return Some(op);
            }
        }
        None
    }

    /// A bare (unquoted) value: everything up to whitespace or a character with a meaning in
    /// patterns.
    fn bare(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || is_value_terminator(c) {
                break;
            }
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// The value after `op` (the cursor is just past the operator): `*`, a quoted string, a
    /// `%regex%`, a number or a bare text value.
    pub(crate) fn operand(&mut self, op: Op) -> Result<Cond, PatternError> {
        self.skip_ws();
        let start = self.pos;
        let operand = match self.peek() {
            Some(b'"') if !op.is_ordering() => {
                let s = self.quoted()?;
                Text::new(s.as_bytes()).map_or(Operand::Any, Operand::Text)
            }
            Some(b'%') if !op.is_ordering() => Operand::Regex(self.regex()?),
            _ => {
                let word = self.bare();
                if word.is_empty() {
                    self.pos = start;
                    let what = if op.is_ordering() {
                        "a number"
                    } else {
                        "a value"
                    };
                    return Err(self.expected_after(what, &format!(" after `{}`", op.symbol())));
                }
                match parse_num(word.as_bytes()) {
                    Some(n) => Operand::Number(n),
                    None if op.is_ordering() => {
                        let mut e = PatternError::new(
                            start,
                            word.len(),
                            format!("expected a number after `{}`, found `{word}`", op.symbol()),
                        );
                        e.expected = Some("a number".to_owned());
                        return Err(e);
                    }
                    None => Text::new(word.as_bytes()).map_or(Operand::Any, Operand::Text),
                }
            }
        };
        Ok(Cond::new(op, operand))
    }
}

/// Characters that end a bare value: separators and operators of the three pattern styles.
pub(crate) fn is_value_terminator(c: u8) -> bool {
    matches!(
        c,
        b',' | b'['
            | b']'
            | b'('
            | b')'
            | b'{'
            | b'}'
            | b'"'
            | b'&'
            | b'|'
            | b'='
            | b'!'
            | b'<'
            | b'>'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_unescape_quote_and_backslash_only() {
        let mut c = Cursor::new(r#""a \"b\" \\ \d" rest"#, 0);
        assert_eq!(c.quoted().unwrap(), r#"a "b" \ \d"#);
        assert_eq!(&c.src[c.pos..], " rest");
        let e = Cursor::new("x \"abc", 2).quoted().unwrap_err();
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn regex_limit_is_per_pattern() {
        let mut c = Cursor::new("%a% %b% %c%", 0);
        for _ in 0..2 {
            c.regex().unwrap();
            c.skip_ws();
        }
        let e = c.regex().unwrap_err();
        assert_eq!((e.offset, e.len), (8, 3));
    }

    #[test]
    fn operands() {
        let cond = |s: &str| Cursor::new(s, 0).operand(Op::Eq).unwrap();
        assert!(matches!(cond("*"), Cond::Const(true)));
        assert!(matches!(cond("\"*\""), Cond::Const(true)));
        assert!(matches!(cond("22"), Cond::Number { .. }));
        assert!(matches!(cond("\"22\""), Cond::Exact { .. }));
        assert!(matches!(cond("10.0.0.1"), Cond::Exact { .. }));
        assert!(matches!(cond("10.0.*"), Cond::Prefix { .. }));
        assert!(matches!(cond("1e-3"), Cond::Number { .. }));
        let e = Cursor::new(" abc", 0).operand(Op::Ge).unwrap_err();
        assert_eq!(e.message, "expected a number after `>=`, found `abc`");
        assert_eq!((e.offset, e.len), (1, 3));
        let e = Cursor::new(" ,", 0).operand(Op::Eq).unwrap_err();
        assert_eq!(e.message, "expected a value after `=`, found `,`");
    }
}
