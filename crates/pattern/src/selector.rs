//! JSON selectors (`$.a.b`, `$.a[0]`, `$.c[0][1]`, `$.['cluster.name']`, `$.*`, `$.arr[*]`) and
//! their evaluation straight on the event's bytes: no tree is built, values the selector does
//! not reach are skipped with a byte scan, and strings are unescaped only when they contain a
//! backslash. The event must already have been checked to be valid JSON.

use std::borrow::Cow;

use memchr::memchr2;

use crate::error::PatternError;
use crate::lex::Cursor;

/// Longest selector accepted (steps); navigation recurses once per step.
const MAX_STEPS: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Key(Box<str>),
    Index(usize),
    /// `*` / `[*]`: every member of an object or element of an array.
    Any,
}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) steps: Vec<Step>,
}

impl Selector {
    pub(crate) fn wildcards(&self) -> usize {
        self.steps.iter().filter(|s| **s == Step::Any).count()
    }

    /// Parses a whole string as a selector (metric values and dimensions).
    pub(crate) fn parse_str(s: &str) -> Result<Selector, PatternError> {
        let mut c = Cursor::new(s, 0);
        let sel = parse(&mut c)?;
        if !c.eof() {
            return Err(c.expected("`.`, `[` or the end of the selector"));
        }
        Ok(sel)
    }
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Parses a selector at the cursor, which is on `$`.
pub(crate) fn parse(c: &mut Cursor<'_>) -> Result<Selector, PatternError> {
    let start = c.pos;
    if !c.eat("$") {
        return Err(c.expected("a selector starting with `$.`"));
    }
    if !matches!(c.peek(), Some(b'.' | b'[')) {
        return Err(c
            .expected_after("`.` or `[`", " after `$`")
            .with_help("selectors start at the root object, as in `$.eventName`"));
    }
    let mut steps = Vec::new();
    loop {
        match c.peek() {
            Some(b'.') => {
                c.pos += 1;
                match c.peek() {
                    Some(b'*') => {
                        c.pos += 1;
                        steps.push(Step::Any);
                    }
                    Some(b'[') => steps.push(bracket(c)?),
                    Some(b) if is_name_byte(b) => {
                        let s = c.pos;
                        while c.peek().is_some_and(is_name_byte) {
                            c.pos += 1;
                        }
                        steps.push(Step::Key(c.src[s..c.pos].into()));
                    }
                    _ => {
                        return Err(c
                            .expected_after("a property name, `*` or `[`", " after `.`")
                            .with_help(
                                "property names are letters, digits, `_` and `-`; write others as `['name']`",
                            ));
                    }
                }
            }
            Some(b'[') => steps.push(bracket(c)?),
            _ => break,
        }
        if steps.len() > MAX_STEPS {
            return Err(PatternError::new(
                start,
                c.pos - start,
                format!("a selector may have at most {MAX_STEPS} steps"),
            ));
        }
    }
    let sel = Selector { steps };
    if sel.wildcards() > 1 {
        return Err(PatternError::new(
            start,
            c.pos - start,
            "a selector may contain only one `*` wildcard",
        ));
    }
    Ok(sel)
}

/// `[0]`, `[*]` or `['name']` / `["name"]` at the cursor (on `[`).
fn bracket(c: &mut Cursor<'_>) -> Result<Step, PatternError> {
    c.pos += 1;
    let step = match c.peek() {
        Some(b'*') => {
            c.pos += 1;
            Step::Any
        }
        Some(b'\'') => {
            let s = c.pos + 1;
            let Some(len) = c.src[s..].find('\'') else {
                return Err(PatternError::new(
                    c.pos,
                    1,
                    "unterminated property name: expected a closing `'`",
                ));
            };
            c.pos = s + len + 1;
            Step::Key(c.src[s..s + len].into())
        }
        Some(b'"') => Step::Key(c.quoted()?.into()),
        Some(b) if b.is_ascii_digit() => {
            let s = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            let digits = &c.src[s..c.pos];
            match digits.parse::<usize>() {
                Ok(i) => Step::Index(i),
                Err(_) => {
                    return Err(PatternError::new(
                        s,
                        digits.len(),
                        "array index is too large",
                    ));
                }
            }
        }
        _ => return Err(c.expected_after("an array index, `*` or a quoted name", " after `[`")),
    };
    if !c.eat("]") {
        return Err(c.expected("`]`"));
    }
    Ok(step)
}

/// What a selector reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// The number's text as written.
    Number(&'a [u8]),
    /// The string's raw content between the quotes, and whether it has escapes.
    String(&'a [u8], bool),
    Object,
    Array,
}

impl<'a> Node<'a> {
    /// The text a comparison sees: strings unescaped, numbers as written, `true`/`false`.
    /// `None` for null, objects and arrays, which no comparison matches.
    pub(crate) fn text(self) -> Option<Cow<'a, [u8]>> {
        match self {
            Node::Bool(true) => Some(Cow::Borrowed(b"true")),
            Node::Bool(false) => Some(Cow::Borrowed(b"false")),
            Node::Number(n) => Some(Cow::Borrowed(n)),
            Node::String(s, false) => Some(Cow::Borrowed(s)),
            Node::String(s, true) => Some(Cow::Owned(unescape(s).into_bytes())),
            Node::Null | Node::Object | Node::Array => None,
        }
    }
}

/// Unescapes the raw content of a JSON string (validated earlier).
fn unescape(raw: &[u8]) -> String {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice::<String>(&quoted).unwrap_or_default()
}

#[inline]
fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Index just past the string whose opening quote is at `i`.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2;
    }
}

/// Index just past the value starting at `i`. Containers are skipped with a depth counter,
/// not recursion, so no nesting depth can overflow the stack.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

fn node_at(b: &[u8], i: usize) -> Option<Node<'_>> {
    Some(match *b.get(i)? {
        b'{' => Node::Object,
        b'[' => Node::Array,
        b'"' => {
            let end = skip_string(b, i)?;
            let raw = b.get(i + 1..end - 1)?;
            Node::String(raw, raw.contains(&b'\\'))
        }
        b'n' => Node::Null,
        b't' => Node::Bool(true),
        b'f' => Node::Bool(false),
        _ => Node::Number(b.get(i..skip_value(b, i)?)?),
    })
}

fn key_is(raw: &[u8], key: &str) -> bool {
    if raw.contains(&b'\\') {
        unescape(raw) == key
    } else {
        raw == key.as_bytes()
    }
}

/// Calls `f` on every node `steps` reach from the value at `i`, until `f` returns true (then
/// returns true).
fn visit<'a>(b: &'a [u8], i: usize, steps: &[Step], f: &mut dyn FnMut(Node<'a>) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return node_at(b, i).is_some_and(f);
    };
    let Some(&open) = b.get(i) else { return false };
    match (open, step) {
        (b'{', Step::Key(_) | Step::Any) => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b'}') {
                return false;
            }
            loop {
                let Some(key_end) = skip_string(b, j) else {
                    return false;
                };
                let Some(raw) = b.get(j + 1..key_end - 1) else {
                    return false;
                };
                j = ws(b, key_end);
                if b.get(j) != Some(&b':') {
                    return false;
                }
                let v = ws(b, j + 1);
                let hit = match step {
                    Step::Key(k) => key_is(raw, k),
                    _ => true,
                };
                if hit && visit(b, v, rest, f) {
                    return true;
                }
                if hit && matches!(step, Step::Key(_)) {
                    // The first member with the name decides, as for JSON objects in general.
                    return false;
                }
                let Some(end) = skip_value(b, v) else {
                    return false;
                };
                j = ws(b, end);
                match b.get(j) {
                    Some(b',') => j = ws(b, j + 1),
                    _ => return false,
                }
            }
        }
        (b'[', Step::Index(_) | Step::Any) => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return false;
            }
            let mut n = 0usize;
            loop {
                let hit = match step {
                    Step::Index(k) => *k == n,
                    _ => true,
                };
                if hit && visit(b, j, rest, f) {
                    return true;
                }
                if hit && matches!(step, Step::Index(_)) {
                    return false;
                }
                let Some(end) = skip_value(b, j) else {
                    return false;
                };
                j = ws(b, end);
                match b.get(j) {
                    Some(b',') => j = ws(b, j + 1),
                    _ => return false,
                }
                n += 1;
            }
        }
        _ => false,
    }
}

/// Calls `f` on every node the selector reaches in the JSON document `doc` (valid JSON),
/// stopping early when `f` returns true; returns whether it did.
pub(crate) fn find<'a>(doc: &'a [u8], sel: &Selector, f: &mut dyn FnMut(Node<'a>) -> bool) -> bool {
    visit(doc, ws(doc, 0), &sel.steps, f)
}

/// The first node the selector reaches.
pub(crate) fn first<'a>(doc: &'a [u8], sel: &Selector) -> Option<Node<'a>> {
    let mut out = None;
    find(doc, sel, &mut |n| {
        out = Some(n);
        true
    });
    out
}

/// Whether `doc` is one valid JSON value whose outermost value is an object. (serde_json skips
/// `IgnoredAny` values without recursing, so any nesting depth is safe.)
pub(crate) fn is_json_object(doc: &[u8]) -> bool {
    doc.get(ws(doc, 0)) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(doc).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> Selector {
        Selector::parse_str(s).unwrap()
    }

    fn texts(doc: &str, s: &str) -> Vec<String> {
        assert!(is_json_object(doc.as_bytes()), "{doc}");
        let mut out = Vec::new();
        find(doc.as_bytes(), &sel(s), &mut |n| {
            out.push(match n.text() {
                Some(t) => String::from_utf8_lossy(&t).into_owned(),
                None => format!("{n:?}"),
            });
            false
        });
        out
    }

    #[test]
    fn selector_syntax() {
        use Step::*;
        assert_eq!(sel("$.a.b").steps, [Key("a".into()), Key("b".into())]);
        assert_eq!(
            sel("$.c[0][1]").steps,
            [Key("c".into()), Index(0), Index(1)]
        );
        assert_eq!(
            sel("$.['cluster.name']").steps,
            [Key("cluster.name".into())]
        );
        assert_eq!(sel("$[\"x y\"]").steps, [Key("x y".into())]);
        assert_eq!(sel("$.*").steps, [Any]);
        assert_eq!(
            sel("$.arr[*].id").steps,
            [Key("arr".into()), Any, Key("id".into())]
        );
        assert_eq!(sel("$.event-id_2").steps, [Key("event-id_2".into())]);
        for bad in [
            "$", "$.", "x", "$.a[", "$.a[x]", "$.a['b", "$.*.b[*]", "$.a.@b",
        ] {
            assert!(Selector::parse_str(bad).is_err(), "{bad}");
        }
        let deep = format!("${}", ".a".repeat(40));
        assert!(
            Selector::parse_str(&deep)
                .unwrap_err()
                .message
                .contains("at most")
        );
    }

    #[test]
    fn navigation() {
        let doc = r#"{ "user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [{"id": 2}, {"id": 3, "x": [1, {"y": "z"}]}],
            "coordinates": [[0, 1, 2], [4, 5, 6]], "cluster.name": "c1",
            "esc": "a\"b\u00e9", "k\u0065y": true, "n": null, "e": {}, "ea": [] }"#;
        assert_eq!(texts(doc, "$.user.email"), ["John.Stiles@example.com"]);
        assert_eq!(texts(doc, "$.users[1].id"), ["3"]);
        assert_eq!(texts(doc, "$.users[1].x[1].y"), ["z"]);
        assert_eq!(texts(doc, "$.users[*].id"), ["2", "3"]);
        assert_eq!(texts(doc, "$.coordinates[0][1]"), ["1"]);
        assert_eq!(texts(doc, "$.coordinates[1][*]"), ["4", "5", "6"]);
        assert_eq!(texts(doc, "$.['cluster.name']"), ["c1"]);
        assert_eq!(texts(doc, "$.esc"), ["a\"b\u{e9}"]);
        assert_eq!(texts(doc, "$.key"), ["true"]);
        assert_eq!(texts(doc, "$.n"), ["Null"]);
        assert_eq!(texts(doc, "$.user"), ["Object"]);
        assert!(texts(doc, "$.users[5]").is_empty());
        assert!(texts(doc, "$.e.x").is_empty());
        assert!(texts(doc, "$.ea[0]").is_empty());
        assert!(texts(doc, "$.user.email.x").is_empty());
        assert!(texts(doc, "$.missing").is_empty());
        assert_eq!(texts(doc, "$.user.*"), ["1", "John.Stiles@example.com"]);
    }

    #[test]
    fn validity() {
        assert!(is_json_object(b" {\"a\": 1} "));
        assert!(!is_json_object(b"[1]"));
        assert!(!is_json_object(b"{\"a\": 1"));
        assert!(!is_json_object(b"{\"a\": 1} x"));
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(is_json_object(deep.as_bytes()));
        assert!(!is_json_object(&deep.as_bytes()[..deep.len() - 1]));
    }
}
