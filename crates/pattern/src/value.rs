//! Comparisons shared by JSON and space-delimited patterns: `= != < > <= >=` against a text
//! value (with `*` wildcards), a number, a `%regex%` or `*` (any value), compiled once so a
//! test on an event field is a byte comparison, a `memmem` search or an integer compare.

use std::cmp::Ordering;

use memchr::memmem;

use crate::filter_regex::FilterRegex;
use crate::word;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }

    pub(crate) fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Gt | Op::Le | Op::Ge)
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
            Op::Le => ord != Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
        }
    }
}

/// A number as the pattern language reads it: integers stay exact (ports, byte counts and
/// epoch seconds compare without rounding), everything else is an `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            // Precision loss above 2^53 is inherent in a metric value (a double).
            #[allow(clippy::cast_precision_loss)]
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

/// Parses a number in the documented syntax: an optional sign, digits, an optional `.digits`
/// fraction and an optional exponent `e[+-]digits` (`1e-3`, `+1000`, `55.5`, `10e3`). Anything
/// else (`0x10`, `1.`, `.5`, `inf`, `10.0.0.1`) is not a number.
pub(crate) fn parse_num(b: &[u8]) -> Option<Num> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    // Fast path, one pass: plain integers of up to 18 digits, the common case in flow logs.
    if !digits.is_empty() && digits.len() <= 18 {
        let mut v: i64 = 0;
        let mut all_digits = true;
        for &d in digits {
            let x = d.wrapping_sub(b'0');
            all_digits &= x < 10;
            v = v.wrapping_mul(10).wrapping_add(i64::from(x));
        }
        if all_digits {
            return Some(Num::Int(if neg { -v } else { v }));
        }
    }
    let mut i = 0;
    let int_digits = count_digits(&digits[i..]);
    if int_digits == 0 {
        return None;
    }
    i += int_digits;
    if digits.get(i) == Some(&b'.') {
        let frac = count_digits(&digits[i + 1..]);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if matches!(digits.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(digits.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = count_digits(&digits[i..]);
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != digits.len() {
        return None;
    }
    // The grammar above is a subset of what `f64::from_str` accepts, and it is all ASCII.
    let text = std::str::from_utf8(b).ok()?;
    text.parse::<f64>().ok().map(Num::Float)
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// A text value with the documented wildcard rule: `*` at the start and/or the end matches
/// any text there (`*Event`, `Event*`, `*html*`); a `*` inside is literal (`Ev*ent` matches only
/// `Ev*ent`).
#[derive(Clone, Debug)]
pub(crate) enum Text {
    Exact(Box<[u8]>),
    Prefix(Box<[u8]>),
    Suffix(Box<[u8]>),
    // Boxed: a finder is ~300 bytes, the other variants 16.
    Contains(Box<memmem::Finder<'static>>),
}

impl Text {
    /// `None` when the value is only stars, which matches any value.
    pub(crate) fn new(value: &[u8]) -> Option<Text> {
        let lead = value.first() == Some(&b'*');
        let trail = value.len() > 1 && value.last() == Some(&b'*');
        let core = &value[usize::from(lead)..value.len() - usize::from(trail)];
        if core.iter().all(|&c| c == b'*') && (lead || trail) {
            return None;
        }
        let core: Box<[u8]> = core.into();
        Some(match (lead, trail) {
            (false, false) => Text::Exact(core),
            (false, true) => Text::Prefix(core),
            (true, false) => Text::Suffix(core),
            (true, true) => Text::Contains(Box::new(memmem::Finder::new(&core).into_owned())),
        })
    }

    #[cfg(test)]
    pub(crate) fn matches(&self, text: &[u8]) -> bool {
        match self {
            Text::Exact(v) => text == &**v,
            Text::Prefix(v) => text.starts_with(v),
            Text::Suffix(v) => text.ends_with(v),
            Text::Contains(f) => f.find(text).is_some(),
        }
    }
}

/// The right-hand side of a comparison, as parsed.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `*` or `"*"`: any value.
    Any,
    Text(Text),
    Number(Num),
    Regex(FilterRegex),
}

/// `op operand`, compiled into one flat enum so a test is a single dispatch, and tested
/// against the text of one value (a space-delimited field, or a JSON string, number or
/// boolean written as text).
///
/// Semantics (see the crate docs): `=`/`!=` against text, wildcard or regex compare the bytes
/// (`eq` false for `!=`); against a number they compare numerically when the value is a
/// number, and a value that is not a number is simply unequal; ordering operators need a
/// numeric value.
#[derive(Clone, Debug)]
pub(crate) enum Cond {
    /// `= *` (true) and `!= *` (false).
    Const(bool),
    /// `word` is `value` as one word when it has at most 8 bytes ([`Cond::test_at`]).
    Exact {
        value: Box<[u8]>,
        word: Option<u64>,
        eq: bool,
    },
    Prefix {
        value: Box<[u8]>,
        word: Option<u64>,
        eq: bool,
    },
    Suffix {
        value: Box<[u8]>,
        eq: bool,
    },
    Contains {
        finder: Box<memmem::Finder<'static>>,
        eq: bool,
    },
    Regex {
        regex: Box<FilterRegex>,
        eq: bool,
    },
    Number {
        op: Op,
        n: Num,
    },
}

impl Cond {
    pub(crate) fn new(op: Op, operand: Operand) -> Cond {
        let eq = op == Op::Eq;
        match operand {
            Operand::Any => Cond::Const(eq),
            Operand::Text(Text::Exact(value)) => Cond::Exact {
                word: word::literal(&value),
                value,
                eq,
            },
            Operand::Text(Text::Prefix(value)) => Cond::Prefix {
                word: word::literal(&value),
                value,
                eq,
            },
            Operand::Text(Text::Suffix(value)) => Cond::Suffix { value, eq },
            Operand::Text(Text::Contains(finder)) => Cond::Contains { finder, eq },
            Operand::Regex(regex) => Cond::Regex {
                regex: Box::new(regex),
                eq,
            },
            Operand::Number(n) => Cond::Number { op, n },
        }
    }

    /// [`Cond::test`] on the field `text[s..e]` of a split event (`s <= e <= text.len()`):
    /// short literals and integers are compared as words ([`crate::word`]), and `num` caches
    /// the field's number across the conditions of one slot.
    #[inline(always)]
    pub(crate) fn test_at(
        &self,
        text: &[u8],
        s: usize,
        e: usize,
        num: &mut Option<Option<Num>>,
    ) -> bool {
        let len = e.wrapping_sub(s);
        match self {
            // `&`, not `&&`: both sides are cheap, and a branch on the first would be a guess.
            Cond::Exact {
                value,
                word: Some(w),
                eq,
            } => {
                ((len == value.len()) & (word::head(text, s) & word::mask(value.len()) == *w))
                    == *eq
            }
            Cond::Prefix {
                value,
                word: Some(w),
                eq,
            } => {
                ((len >= value.len()) & (word::head(text, s) & word::mask(value.len()) == *w))
                    == *eq
            }
            Cond::Number { op, n } => number_test(
                *op,
                *n,
                *num.get_or_insert_with(|| word::number(text, s, e)),
            ),
            _ => text.get(s..e).is_some_and(|v| self.test(v)),
        }
    }

    #[inline(always)]
    pub(crate) fn test(&self, value: &[u8]) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Exact { value: v, eq, .. } => short_eq(value, v) == *eq,
            Cond::Prefix { value: v, eq, .. } => {
                value.get(..v.len()).is_some_and(|head| short_eq(head, v)) == *eq
            }
            Cond::Suffix { value: v, eq } => {
                (value.len() >= v.len() && short_eq(&value[value.len() - v.len()..], v)) == *eq
            }
            Cond::Contains { finder, eq } => finder.find(value).is_some() == *eq,
            Cond::Regex { regex, eq } => regex.is_match(value) == *eq,
            Cond::Number { op, n } => number_test(*op, *n, parse_num(value)),
        }
    }
}

#[inline(always)]
pub(crate) fn number_test(op: Op, n: Num, value: Option<Num>) -> bool {
    match value.and_then(|v| v.cmp(n)) {
        Some(ord) => op.holds(ord),
        None => op == Op::Ne,
    }
}

/// Slice equality without a `memcmp` call for the short values patterns compare (ports,
/// actions, protocol numbers).
#[inline]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16 {
        a.iter().zip(b).all(|(x, y)| x == y)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_documented_syntax() {
        assert_eq!(parse_num(b"22"), Some(Num::Int(22)));
        assert_eq!(parse_num(b"-7"), Some(Num::Int(-7)));
        assert_eq!(parse_num(b"+1000"), Some(Num::Int(1000)));
        assert_eq!(parse_num(b"55.5"), Some(Num::Float(55.5)));
        assert_eq!(parse_num(b"10e3"), Some(Num::Float(10e3)));
        assert_eq!(parse_num(b"10e-3"), Some(Num::Float(10e-3)));
        assert_eq!(parse_num(b"1.5E+2"), Some(Num::Float(150.0)));
        assert_eq!(
            parse_num(b"12345678901234567890"),
            Some(Num::Float(1.2345678901234567e19))
        );
        for bad in [
            "", "-", "+", "1.", ".5", "1e", "1e+", "0x10", "inf", "NaN", "10.0.0.1", "1 ",
        ] {
            assert_eq!(parse_num(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn integers_compare_exactly_and_mixed_as_floats() {
        assert_eq!(Num::Int(3).cmp(Num::Float(3.0)), Some(Ordering::Equal));
        assert_eq!(
            Num::Int(9_007_199_254_740_993).cmp(Num::Int(9_007_199_254_740_992)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn wildcards_only_at_the_ends() {
        let t = |v: &str, s: &str| Text::new(v.as_bytes()).is_none_or(|t| t.matches(s.as_bytes()));
        assert!(t("*Event", "PutEvent"));
        assert!(!t("*Event", "PutEvents"));
        assert!(t("Event*", "EventId"));
        assert!(t("*html*", "GET /index.html HTTP/1.0"));
        assert!(t("Ev*ent", "Ev*ent"));
        assert!(!t("Ev*ent", "Event"));
        assert!(t("123.123.*", "123.123.1.1"));
        assert!(Text::new(b"*").is_none());
        assert!(Text::new(b"**").is_none());
        assert!(Text::new(b"***").is_none());
        assert!(t("*", ""));
    }

    #[test]
    fn text_conditions() {
        let c = |op, v: &str| {
            Cond::new(
                op,
                Text::new(v.as_bytes()).map_or(Operand::Any, Operand::Text),
            )
        };
        for (op, v, s, want) in [
            (Op::Eq, "22", "22", true),
            (Op::Eq, "22", "2", false),
            (Op::Ne, "22", "23", true),
            (Op::Eq, "10.0.2.*", "10.0.2.7", true),
            (Op::Eq, "10.0.2.*", "10.0.2", false),
            (Op::Ne, "10.*", "172.31.0.1", true),
            (Op::Eq, "*.html", "a.html", true),
            (Op::Eq, "*.html", "html", false),
            (Op::Eq, "*html*", "x.html.y", true),
            (Op::Eq, "*", "x", true),
            (Op::Ne, "*", "x", false),
            (
                Op::Eq,
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz",
                true,
            ),
            (
                Op::Eq,
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyZ",
                false,
            ),
        ] {
            assert_eq!(c(op, v).test(s.as_bytes()), want, "{v} {op:?} {s}");
        }
    }

    #[test]
    fn number_conditions() {
        let c = |op, n| Cond::new(op, Operand::Number(n));
        assert!(c(Op::Eq, Num::Int(22)).test(b"22"));
        assert!(c(Op::Eq, Num::Int(22)).test(b"22.0"));
        assert!(!c(Op::Eq, Num::Int(22)).test(b"x"));
        assert!(c(Op::Ne, Num::Int(22)).test(b"x"));
        assert!(!c(Op::Ge, Num::Int(400)).test(b"-"));
        assert!(c(Op::Ge, Num::Int(400)).test(b"400"));
        assert!(c(Op::Lt, Num::Float(10e-3)).test(b"0.001"));
    }
}
