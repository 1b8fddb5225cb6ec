//! A slot's conditions, as parsed ([`SlotTest`]) and as compiled for matching a split event
//! ([`Check`]): the shapes flow-log filters are made of get a flat representation that tests
//! a field without dispatching on each condition.
//!
//! * `action = REJECT`, `destport = "22"`, `srcaddr = 10.0.2.*` (a text of at most 8 bytes,
//!   exact or as a prefix, `=` or `!=`): one word load and compare ([`crate::word`]), and
//!   `logstatus = NODATA || logstatus = SKIPDATA` a few of them on the same word.
//! * `bytes >= 400`, `dstport = 80 || dstport = 8080`, `packets > 10 && packets < 100` (only
//!   numeric comparisons): the field's number is read once, from one word when it is a short
//!   integer, then compared.
//! * Anything else keeps the general [`SlotTest`].
//!
//! Each shape is exactly the general test written another way; `tests` checks that.

use crate::fields::Span;
use crate::value::{Cond, Num, Op, number_test};
use crate::word;

/// A slot's conditions in disjunctive normal form, with the common shapes unboxed so that
/// testing a field is one dispatch.
#[derive(Clone, Debug)]
pub(crate) enum SlotTest {
    None,
    One(Cond),
    All(Box<[Cond]>),
    AnyOf(Box<[Box<[Cond]>]>),
}

impl SlotTest {
    pub(crate) fn new(mut any_of: Vec<Vec<Cond>>) -> SlotTest {
        if any_of.len() > 1 {
            return SlotTest::AnyOf(any_of.into_iter().map(Vec::into_boxed_slice).collect());
        }
        let Some(mut all) = any_of.pop() else {
            return SlotTest::None;
        };
        match (all.len(), all.pop()) {
            (1, Some(one)) => SlotTest::One(one),
            (_, Some(last)) => {
                all.push(last);
                SlotTest::All(all.into_boxed_slice())
            }
            (_, None) => SlotTest::None,
        }
    }

    /// The conditions as `||` of `&&` lists.
    fn dnf(&self) -> Vec<&[Cond]> {
        match self {
            SlotTest::None => Vec::new(),
            SlotTest::One(c) => vec![std::slice::from_ref(c)],
            SlotTest::All(all) => vec![all],
            SlotTest::AnyOf(any) => any.iter().map(|all| &**all).collect(),
        }
    }

    /// Whether the field `text[s..e]` passes (`s <= e <= text.len()`).
    #[inline(always)]
    pub(crate) fn test(&self, text: &[u8], (s, e): Span) -> bool {
        // `&&` / `||` in a slot: the numeric value is parsed at most once.
        let mut num = None;
        match self {
            SlotTest::None => true,
            SlotTest::One(c) => c.test_at(text, s, e, &mut num),
            SlotTest::All(all) => all.iter().all(|c| c.test_at(text, s, e, &mut num)),
            SlotTest::AnyOf(any) => any
                .iter()
                .any(|all| all.iter().all(|c| c.test_at(text, s, e, &mut num))),
        }
    }
}

/// `= text`, `!= text`, `= text*` or `!= text*` with at most 8 bytes of text: the field's
/// length is in `min_len..=max_len` and its first bytes, masked, are `word`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WordTest {
    word: u64,
    mask: u64,
    min_len: usize,
    max_len: usize,
    eq: bool,
}

impl WordTest {
    fn new(c: &Cond) -> Option<WordTest> {
        let (value, word, exact, eq) = match c {
            Cond::Exact {
                value,
                word: Some(w),
                eq,
            } => (value, *w, true, *eq),
            Cond::Prefix {
                value,
                word: Some(w),
                eq,
            } => (value, *w, false, *eq),
            _ => return None,
        };
        Some(WordTest {
            word,
            mask: word::mask(value.len()),
            min_len: value.len(),
            max_len: if exact { value.len() } else { usize::MAX },
            eq,
        })
    }

    /// `head` is the word at the field's start, `len` its length.
    #[inline(always)]
    fn test(&self, head: u64, len: usize) -> bool {
        // `&`, not `&&`: all three are cheap, and a branch on each would be a guess.
        ((len >= self.min_len) & (len <= self.max_len) & (head & self.mask == self.word)) == self.eq
    }
}

/// A conditioned slot compiled for a split event.
#[derive(Clone, Debug)]
pub(crate) struct Check {
    /// The slot's position among the slots before `...`, or (with `back`) after it.
    pub(crate) index: usize,
    pub(crate) back: bool,
    kind: Kind,
}

/// An `&&` list of numeric comparisons.
type Comparisons = Box<[(Op, Num)]>;

#[derive(Clone, Debug)]
enum Kind {
    Word(WordTest),
    /// `||` of word tests.
    AnyWord(Box<[WordTest]>),
    /// `||` of `&&` lists of numeric comparisons.
    Numeric(Box<[Comparisons]>),
    General(SlotTest),
}

impl Check {
    /// All ones for a slot after `...`, to add the event's base index without a branch.
    #[inline(always)]
    pub(crate) fn back_mask(&self) -> usize {
        usize::from(self.back).wrapping_neg()
    }

    pub(crate) fn new(index: usize, back: bool, test: &SlotTest) -> Check {
        let dnf = test.dnf();
        let words: Option<Vec<WordTest>> = dnf
            .iter()
            .map(|all| match all {
                [one] => WordTest::new(one),
                _ => None,
            })
            .collect();
        let numbers: Option<Vec<Comparisons>> = dnf
            .iter()
            .map(|all| {
                all.iter()
                    .map(|c| match c {
                        Cond::Number { op, n } => Some((*op, *n)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let kind = match (words, numbers) {
            (Some(w), _) if w.len() == 1 => Kind::Word(w[0]),
            (Some(w), _) if !w.is_empty() => Kind::AnyWord(w.into()),
            (_, Some(n)) if !n.is_empty() => Kind::Numeric(n.into()),
            _ => Kind::General(test.clone()),
        };
        Check { index, back, kind }
    }

    /// Whether the field `text[s..e]` passes (`s <= e <= text.len()`).
    #[inline(always)]
    pub(crate) fn test(&self, text: &[u8], (s, e): Span) -> bool {
        let len = e.wrapping_sub(s);
        match &self.kind {
            Kind::Word(w) => w.test(word::head(text, s), len),
            Kind::AnyWord(ws) => {
                let head = word::head(text, s);
                ws.iter().fold(false, |any, w| any | w.test(head, len))
            }
            Kind::Numeric(any) => match word::short_int(text, s, e) {
                Some(v) => any_of(any, Some(Num::Int(v))),
                None => numeric(any, text, s, e),
            },
            Kind::General(t) => general(t, text, (s, e)),
        }
    }
}

#[inline(always)]
fn any_of(any: &[Comparisons], num: Option<Num>) -> bool {
    any.iter()
        .any(|all| all.iter().all(|&(op, n)| number_test(op, n, num)))
}

// Out of line, so that the loop over a pattern's checks keeps few registers live.
#[inline(never)]
fn numeric(any: &[Comparisons], text: &[u8], s: usize, e: usize) -> bool {
    any_of(any, word::number(text, s, e))
}

#[inline(never)]
fn general(test: &SlotTest, text: &[u8], span: Span) -> bool {
    test.test(text, span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space;

    /// Every check of `pattern` against every field of `event`, compiled and general.
    fn agree(pattern: &str, event: &str) {
        let p = space::parse(pattern, 0).unwrap();
        let text = event.as_bytes();
        let spans: Vec<Span> = crate::fields::Splitter::new(text).collect();
        for slot in p.front.iter().chain(&p.back) {
            let check = Check::new(0, false, &slot.test);
            for &(s, e) in &spans {
                let general = slot
                    .test
                    .dnf()
                    .iter()
                    .any(|all| all.iter().all(|c| c.test(&text[s..e])));
                assert_eq!(
                    check.test(text, (s, e)),
                    general,
                    "{pattern} on {:?}",
                    &event[s..e]
                );
                assert_eq!(
                    slot.test.test(text, (s, e)),
                    general,
                    "{pattern} on {:?}",
                    &event[s..e]
                );
            }
        }
    }

    #[test]
    fn shapes_are_recognised() {
        let kind = |p: &str| {
            let p = space::parse(p, 0).unwrap();
            match Check::new(0, false, &p.front[0].test).kind {
                Kind::Word(_) => "word",
                Kind::AnyWord(_) => "any word",
                Kind::Numeric(_) => "numeric",
                Kind::General(_) => "general",
            }
        };
        assert_eq!(kind("[a = REJECT]"), "word");
        assert_eq!(kind("[a = \"22\"]"), "word");
        assert_eq!(kind("[a != 10.*]"), "word");
        assert_eq!(kind("[a = NODATA || a = SKIPDATA]"), "any word");
        assert_eq!(kind("[a >= 400]"), "numeric");
        assert_eq!(kind("[a = 80 || a = 8080]"), "numeric");
        assert_eq!(kind("[a > 10 && a < 100]"), "numeric");
        assert_eq!(kind("[a = ABCDEFGHI]"), "general");
        assert_eq!(kind("[a = *html]"), "general");
        assert_eq!(kind("[a = x && a != y]"), "general");
        assert_eq!(kind("[a = 1 || a = x]"), "general");
        assert_eq!(kind("[a = %x%]"), "general");
    }

    #[test]
    fn compiled_checks_agree_with_the_conditions() {
        let events = [
            "2 123456789012 eni-0a1 10.0.2.7 172.31.0.1 39611 22 6 1 40 1563108188 1563108227 REJECT OK",
            "REJECTED REJEC 10.0.2 10.0.2. 10. 1 10 100 400 399 4000 +400 400.0 4e2 - NODATA SKIPDATA NODATAX",
            "22 022 22.0 \"22\" 80 8080 808 11 99 100 10 0 -1 eni-00a eni-0 eni-00 é 1:2 12345678 123456789",
            "",
        ];
        for p in [
            "[a = REJECT]",
            "[a != REJECT]",
            "[a = \"22\"]",
            "[a = 22]",
            "[a = 10.0.2.*]",
            "[a != 10.*]",
            "[a = eni-00*]",
            "[a = NODATA || a = SKIPDATA]",
            "[a != NODATA || a != OK]",
            "[a >= 400]",
            "[a = 80 || a = 8080]",
            "[a > 10 && a < 100]",
            "[a != 22]",
            "[a <= 1e2]",
            "[a = \"\"]",
            "[a = *]",
            "[a != *]",
            "[a = 12345678]",
        ] {
            for e in events {
                agree(p, e);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn compiled_checks_agree_on_arbitrary_fields(
            event in "([a-c0-9.*+e-]{0,10} ?){0,6}|\\PC{0,30}",
            value in "[a-c0-9.-]{0,9}\\*?",
            op in 0usize..6,
            second in "[a-c0-9.]{0,9}",
        ) {
            let ops = ["=", "!=", "<", ">", "<=", ">="];
            let quote = |v: &str| if v.is_empty() || !v.bytes().any(|b| b.is_ascii_digit()) { format!("\"{v}\"") } else { v.to_owned() };
            for p in [
                format!("[a {} {}]", ops[op], quote(&value)),
                format!("[a = {} || a = {}]", quote(&value), quote(&second)),
                format!("[a {} {} && a != {}]", ops[op], quote(&value), quote(&second)),
            ] {
                if space::parse(&p, 0).is_ok() {
                    agree(&p, &event);
                }
            }
        }
    }
}
