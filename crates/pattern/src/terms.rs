//! Unstructured patterns: terms searched for anywhere in the event, case-sensitively.
//!
//! `ERROR Exception` needs both terms, `?ERROR ?WARN` either, `-Exiting` excludes, a quoted
//! phrase is one term with its spaces, `%regex%` is a term matched by the regex. When plain
//! terms and `?` terms are mixed, the `?` terms are ignored (AWS's rule; the parse records a
//! warning). Each term is a substring search (`ERROR` matches `ERRORCODE:`, as in AWS's
//! example), precompiled into a substring finder ([`Literal`]).

use crate::error::PatternError;
use crate::filter_regex::FilterRegex;
use crate::lex::Cursor;
use crate::literal::Literal;
use crate::pattern::PatternWarning;

#[derive(Clone, Debug)]
pub(crate) enum Term {
    // Boxed: a finder is ~300 bytes.
    Literal(Box<Literal>),
    Regex(FilterRegex),
}

impl Term {
    fn literal(needle: &[u8]) -> Term {
        Term::Literal(Box::new(Literal::new(needle)))
    }

    #[inline(always)]
    fn found(&self, event: &[u8]) -> bool {
        match self {
            Term::Literal(l) => l.is_in(event),
            Term::Regex(r) => r.is_match(event),
        }
    }
}

/// All of `all`, at least one of `any` (when there are any), none of `none`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Terms {
    pub(crate) all: Vec<Term>,
    pub(crate) any: Vec<Term>,
    pub(crate) none: Vec<Term>,
}

impl Terms {
    #[inline]
    pub(crate) fn is_match(&self, event: &[u8]) -> bool {
        self.all.iter().all(|t| t.found(event))
            && (self.any.is_empty() || self.any.iter().any(|t| t.found(event)))
            && !self.none.iter().any(|t| t.found(event))
    }

    pub(crate) fn matches_everything(&self) -> bool {
        self.all.is_empty() && self.any.is_empty() && self.none.is_empty()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    All,
    Any,
    None,
}

pub(crate) fn parse(src: &str, warnings: &mut Vec<PatternWarning>) -> Result<Terms, PatternError> {
    let mut c = Cursor::new(src, 0);
    let mut terms = Terms::default();
    let mut first_optional = None;
    loop {
        c.skip_ws();
        let Some(ch) = c.peek() else { break };
        let start = c.pos;
        let kind = match ch {
            b'?' => Kind::Any,
            b'-' => Kind::None,
            _ => Kind::All,
        };
        if kind != Kind::All {
            c.pos += 1;
            // `"ERROR" - "Exiting"` (AWS's example) puts a space after the operator.
            c.skip_ws();
            if c.eof() {
                let op = char::from(ch);
                return Err(
                    PatternError::new(start, 1, format!("expected a term after `{op}`")).with_help(
                        format!("write the term right after `{op}`, as in `{op}ERROR`"),
                    ),
                );
            }
        }
        let term = match c.peek() {
            Some(b'"') => {
                let phrase = c.quoted()?;
                // `" "` matches every event: a blank phrase constrains nothing.
                (!phrase.trim().is_empty()).then(|| Term::literal(phrase.as_bytes()))
            }
            Some(b'%') => Some(Term::Regex(c.regex_unlimited()?)),
            _ => {
                let word_start = c.pos;
                while let Some(b) = c.peek() {
                    if b.is_ascii_whitespace() {
                        break;
                    }
                    if b == b'"' {
                        return Err(PatternError::new(c.pos, 1, "unexpected `\"` inside a term")
                            .with_help("put the whole term in double quotes"));
                    }
                    c.pos += 1;
                }
                let word = &src[word_start..c.pos];
                Some(Term::literal(word.as_bytes()))
            }
        };
        let Some(term) = term else { continue };
        match kind {
            Kind::All => terms.all.push(term),
            Kind::Any => {
                first_optional.get_or_insert(start);
                terms.any.push(term);
            }
            Kind::None => terms.none.push(term),
        }
    }
    if let Some(offset) = first_optional.filter(|_| !terms.all.is_empty()) {
        terms.any.clear();
        warnings.push(PatternWarning {
            offset,
            message: "`?` terms are ignored when the pattern also has terms without `?`".to_owned(),
        });
    }
    Ok(terms)
}

impl Cursor<'_> {
    /// A regex term of an unstructured pattern; the two-regex quota is for JSON and
    /// space-delimited patterns.
    fn regex_unlimited(&mut self) -> Result<FilterRegex, PatternError> {
        let (source, offset) = self.regex_source()?;
        crate::filter_regex::compile(source, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, event: &str) -> bool {
        parse(pattern, &mut Vec::new())
            .unwrap()
            .is_match(event.as_bytes())
    }

    #[test]
    fn and_or_exclude() {
        assert!(m("ERROR", "Exiting with ERRORCODE: -1"));
        assert!(!m("ERROR", "error"));
        assert!(m("ERROR WARN", "ERROR WARN message"));
        assert!(!m("ERROR WARN", "ERROR message"));
        assert!(m("?ERROR ?WARN", "WARN message"));
        assert!(!m("?ERROR ?WARN", "INFO message"));
        assert!(m("ERROR -WARN", "ERROR message"));
        assert!(!m("ERROR -WARN", "ERROR WARN message"));
        assert!(m("?ERROR ?WARN -INFO", "WARN x"));
        assert!(!m("?ERROR ?WARN -INFO", "WARN INFO"));
    }

    #[test]
    fn optional_terms_are_dropped_next_to_plain_ones() {
        let mut w = Vec::new();
        let t = parse("ERROR ?WARN ?INFO", &mut w).unwrap();
        assert!(t.any.is_empty());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].offset, 6);
        assert!(t.is_match(b"ERROR only"));
        assert!(!t.is_match(b"WARN only"));
    }

    #[test]
    fn operator_needs_a_term() {
        let e = parse("ERROR -", &mut Vec::new()).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (6, "expected a term after `-`")
        );
        let e = parse("ab\"c", &mut Vec::new()).unwrap_err();
        assert_eq!(e.offset, 2);
    }
}
