//! JSON patterns: `{ $.a.b = "x" && ($.n > 3 || $.c IS NULL) }`.
//!
//! Precedence is `()` > `&&` > `||`. A condition holds when some value its selector reaches
//! satisfies it (a selector without `*` reaches at most one). Objects and arrays satisfy no
//! comparison (`=` and `!=` alike); `null` satisfies only `IS NULL`; `NOT EXISTS` holds when the
//! selector reaches nothing. Only events that are a valid JSON object are matched.

use crate::error::PatternError;
use crate::lex::Cursor;
use crate::selector::{self, Node, Selector};
use crate::value::Cond;

/// Most `*` wildcards in one JSON pattern (AWS quota).
const MAX_WILDCARDS: usize = 3;
/// Deepest parenthesis nesting accepted; the parser recurses once per level.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug)]
pub(crate) enum Check {
    Cmp(Cond),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Test(Selector, Check),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Clone, Debug)]
pub(crate) struct Json {
    pub(crate) expr: Expr,
}

impl Json {
    /// `event` must start (after whitespace) with `{`; checks validity, then the expression.
    pub(crate) fn is_match(&self, event: &[u8]) -> bool {
        selector::is_json_object(event) && eval(&self.expr, event)
    }
}

fn eval(e: &Expr, doc: &[u8]) -> bool {
    match e {
        Expr::And(xs) => xs.iter().all(|x| eval(x, doc)),
        Expr::Or(xs) => xs.iter().any(|x| eval(x, doc)),
        Expr::Test(sel, check) => match check {
            Check::NotExists => !selector::find(doc, sel, &mut |_| true),
            Check::IsNull => selector::find(doc, sel, &mut |n| n == Node::Null),
            Check::IsTrue => selector::find(doc, sel, &mut |n| n == Node::Bool(true)),
            Check::IsFalse => selector::find(doc, sel, &mut |n| n == Node::Bool(false)),
            Check::Cmp(cond) => {
                selector::find(doc, sel, &mut |n| n.text().is_some_and(|t| cond.test(&t)))
            }
        },
    }
}

struct Parser<'a> {
    c: Cursor<'a>,
    wildcards: usize,
}

/// Parses a JSON pattern; `start` is the offset of its `{`.
pub(crate) fn parse(src: &str, start: usize) -> Result<Json, PatternError> {
    let mut p = Parser {
        c: Cursor::new(src, start + 1),
        wildcards: 0,
    };
    p.c.skip_ws();
    if p.c.at("}") {
        return Err(p
            .c
            .expected("a condition such as `$.eventName = \"UpdateTrail\"`"));
    }
    let expr = p.or(0)?;
    p.c.skip_ws();
    if !p.c.eat("}") {
        return Err(p.c.expected("`&&`, `||` or `}`"));
    }
    p.c.skip_ws();
    if !p.c.eof() {
        return Err(PatternError::new(
            p.c.pos,
            src.len() - p.c.pos,
            "unexpected text after the closing `}` of a JSON pattern",
        ));
    }
    Ok(Json { expr })
}

impl Parser<'_> {
    fn or(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut xs = vec![self.and(depth)?];
        loop {
            self.c.skip_ws();
            if !self.c.eat("||") {
                break;
            }
            xs.push(self.and(depth)?);
        }
        Ok(if xs.len() == 1 {
            xs.swap_remove(0)
        } else {
            Expr::Or(xs)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut xs = vec![self.primary(depth)?];
        loop {
            self.c.skip_ws();
            if !self.c.eat("&&") {
                break;
            }
            xs.push(self.primary(depth)?);
        }
        Ok(if xs.len() == 1 {
            xs.swap_remove(0)
        } else {
            Expr::And(xs)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, PatternError> {
        self.c.skip_ws();
        if self.c.at("(") {
            let open = self.c.pos;
            if depth >= MAX_DEPTH {
                return Err(PatternError::new(
                    open,
                    1,
                    format!("parentheses nested deeper than {MAX_DEPTH} levels"),
                ));
            }
            self.c.pos += 1;
            let e = self.or(depth + 1)?;
            self.c.skip_ws();
            if !self.c.eat(")") {
                return Err(self.c.expected("`&&`, `||` or `)`"));
            }
            return Ok(e);
        }
        if !self.c.at("$") {
            return Err(self.c.expected("a selector such as `$.field`, or `(`"));
        }
        let sel_start = self.c.pos;
        let sel = selector::parse(&mut self.c)?;
        self.wildcards += sel.wildcards();
        if self.wildcards > MAX_WILDCARDS {
            return Err(PatternError::new(
                sel_start,
                self.c.pos - sel_start,
                format!(
                    "a JSON pattern may contain at most {MAX_WILDCARDS} `*` wildcards in selectors"
                ),
            ));
        }
        self.c.skip_ws();
        let check = if let Some(op) = self.c.op() {
            Check::Cmp(self.c.operand(op)?)
        } else {
            self.keyword_check()?
        };
        Ok(Expr::Test(sel, check))
    }

    fn word(&mut self) -> (usize, &str) {
        let s = self.c.pos;
        while self.c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.c.pos += 1;
        }
        (s, &self.c.src[s..self.c.pos])
    }

    /// `IS NULL`, `IS TRUE`, `IS FALSE` or `NOT EXISTS` (keywords in any case).
    fn keyword_check(&mut self) -> Result<Check, PatternError> {
        const WANT: &str =
            "`=`, `!=`, `<`, `>`, `<=`, `>=`, `IS NULL`, `IS TRUE`, `IS FALSE` or `NOT EXISTS`";
        let (s, w) = self.word();
        let w = w.to_ascii_uppercase();
        match w.as_str() {
            "IS" => {
                self.c.skip_ws();
                let (s2, w2) = self.word();
                match w2.to_ascii_uppercase().as_str() {
                    "NULL" => Ok(Check::IsNull),
                    "TRUE" => Ok(Check::IsTrue),
                    "FALSE" => Ok(Check::IsFalse),
                    "NOT" => Err(PatternError::new(s, s2 + 3 - s, "`IS NOT` is not supported")
                        .with_help("use `!=` or `NOT EXISTS`")),
                    _ => {
                        self.c.pos = s2;
                        Err(self.c.expected_after("`NULL`, `TRUE` or `FALSE`", " after `IS`"))
                    }
                }
            }
            "NOT" => {
                self.c.skip_ws();
                let (s2, w2) = self.word();
                if w2.eq_ignore_ascii_case("EXISTS") {
                    Ok(Check::NotExists)
                } else {
                    self.c.pos = s2;
                    Err(self.c.expected_after("`EXISTS`", " after `NOT`"))
                }
            }
            "EXISTS" => Err(PatternError::new(s, 6, "`EXISTS` is not supported")
                .with_help("`$.field = *` matches when the field has a value; `NOT EXISTS` when it is absent")),
            _ => {
                self.c.pos = s;
                Err(self.c.expected_after(WANT, " after the selector"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, event: &str) -> bool {
        parse(pattern, 0).unwrap().is_match(event.as_bytes())
    }

    #[test]
    fn precedence_and_before_or() {
        let ev = r#"{"a": 1, "b": 2, "c": 3}"#;
        assert!(m("{ $.a = 1 || $.b = 9 && $.c = 9 }", ev));
        assert!(!m("{ ($.a = 1 || $.b = 9) && $.c = 9 }", ev));
        assert!(m("{ (($.a = 1)) }", ev));
    }

    #[test]
    fn type_rules() {
        let ev = r#"{"o": {"x": 1}, "arr": [1, 2], "n": null, "t": true, "s": "abc", "num": 2.50}"#;
        assert!(!m("{ $.o = 1 }", ev));
        assert!(!m("{ $.o != 1 }", ev));
        assert!(!m("{ $.arr != 1 }", ev));
        assert!(m("{ $.arr[*] = 2 }", ev));
        assert!(m("{ $.n IS NULL }", ev));
        assert!(!m("{ $.n = * }", ev));
        assert!(!m("{ $.n != \"x\" }", ev));
        assert!(!m("{ $.missing IS NULL }", ev));
        assert!(m("{ $.missing NOT EXISTS }", ev));
        assert!(!m("{ $.n NOT EXISTS }", ev));
        assert!(m("{ $.t IS TRUE }", ev));
        assert!(!m("{ $.t IS FALSE }", ev));
        assert!(m("{ $.t = true }", ev));
        assert!(m("{ $.s = * }", ev));
        assert!(m("{ $.num = 2.5 }", ev));
        assert!(m("{ $.num = \"2.50\" }", ev));
        assert!(m("{ $.s != 5 }", ev));
        assert!(!m("{ $.s > 5 }", ev));
        assert!(m("{ $.s = %^a.c$% }", ev));
        assert!(!m("{ $.s != %b% }", ev));
        // Invalid JSON never matches.
        assert!(!m("{ $.a = 1 }", r#"{"a": 1,}"#));
    }

    #[test]
    fn errors() {
        let e = |p: &str| parse(p, 0).unwrap_err();
        assert_eq!(e("{ }").offset, 2);
        assert_eq!(
            e("{ $.a = 1").message,
            "expected `&&`, `||` or `}`, found end of pattern"
        );
        assert_eq!(
            e("{ $.a IS NOT NULL }").message,
            "`IS NOT` is not supported"
        );
        assert_eq!(e("{ $.a EXISTS }").offset, 6);
        assert_eq!(
            e("{ $.a ~ 1 }").message,
            "expected `=`, `!=`, `<`, `>`, `<=`, `>=`, `IS NULL`, `IS TRUE`, `IS FALSE` or `NOT EXISTS` after the selector, found `~`"
        );
        assert_eq!(e("{ $.a = 1 } x").offset, 12);
        assert_eq!(
            e("{ ($.a = 1 }").message,
            "expected `&&`, `||` or `)`, found `}`"
        );
        assert!(
            e("{ $.a.* = 1 && $.b.* = 1 && $.c.* = 1 && $.d.* = 1 }")
                .message
                .contains("at most 3")
        );
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(40), ")".repeat(40));
        assert!(e(&deep).message.contains("nested"));
        assert!(
            e("{ $.a = %x% || $.b = %y% || $.c = %z% }")
                .message
                .contains("at most 2 regexes")
        );
    }
}
