//! Space-delimited patterns: `[version, account, eni, source, destination, srcport,
//! destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT",
//! flowlogstatus]`.
//!
//! Slots bind to fields by position. Without `...` the event must have exactly as many fields
//! as the pattern has slots (AWS's own `[w1=ERROR, w2]` example does not match the three-word
//! `ERROR WARN message`); `...` (at most one, also written `…`) absorbs any number of fields,
//! so slots before it bind from the start and slots after it from the end. A slot is a name, a
//! name with conditions (`status_code = 404 || status_code = 410`, `&&` binding tighter than
//! `||`, every condition naming the slot's own field), or empty (an unnamed field).

mod check;

use crate::error::PatternError;
use crate::fields::{Span, Splitter};
use crate::lex::Cursor;
use crate::value::Cond;
use check::Check;
pub(crate) use check::SlotTest;

/// A slot: an optional name and its conditions.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub(crate) name: Option<Box<str>>,
    pub(crate) test: SlotTest,
}

impl Slot {
    fn has_conditions(&self) -> bool {
        !matches!(self.test, SlotTest::None)
    }
}

/// Where a named slot's field is in the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The `i`-th field (0-based).
    Front(usize),
    /// The `i`-th of the fields after `...`, counted as `event fields - suffix + i`.
    Back(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct Space {
    pub(crate) front: Vec<Slot>,
    pub(crate) back: Vec<Slot>,
    pub(crate) ellipsis: bool,
    /// The conditioned slots, compiled, so matching a split event skips the unconditioned
    /// slots and does no double indexing.
    checks: Vec<Check>,
    /// The only check, when there is one and no `...`.
    single: Option<Check>,
    /// Field counts an event may have: exactly the slot count, or at least as many as the
    /// slots around `...`.
    min_fields: usize,
    max_fields: usize,
    pub(crate) names: Vec<(Box<str>, Place)>,
}

/// Above this many slots after `...`, streaming matches collect the fields in a `Vec`.
const RING: usize = 32;

impl Space {
    /// Index in the event of the field at `place`, given the event's field count.
    pub(crate) fn index(&self, place: Place, fields: usize) -> usize {
        match place {
            Place::Front(i) => i,
            Place::Back(i) => fields - self.back.len() + i,
        }
    }

    /// The slot name bound to field `index` of an event with `fields` fields.
    pub(crate) fn name_at(&self, index: usize, fields: usize) -> Option<&str> {
        let slot = if index < self.front.len() {
            self.front.get(index)
        } else if self.ellipsis && index >= fields - self.back.len() {
            self.back.get(index - (fields - self.back.len()))
        } else {
            None
        };
        slot.and_then(|s| s.name.as_deref())
    }

    /// Whether an event with these field spans matches.
    #[inline(always)]
    pub(crate) fn is_match_spans(&self, text: &[u8], spans: &[Span]) -> bool {
        // The common shape, `[a, b, c = x, d]`: one condition, no `...`, inline.
        if let Some(c) = &self.single {
            return spans.len() == self.min_fields
                && spans.get(c.index).is_some_and(|&span| c.test(text, span));
        }
        self.is_match_spans_general(text, spans)
    }

    /// [`Space::is_match_spans`] for any shape. Not inlined: the caller then stays a small
    /// dispatch that saves no registers, which with twenty patterns per event matters.
    #[inline(never)]
    fn is_match_spans_general(&self, text: &[u8], spans: &[Span]) -> bool {
        let n = spans.len();
        if n < self.min_fields || n > self.max_fields {
            return false;
        }
        // Slots after `...` count from `n - back.len()`; the others from 0.
        let base = n - self.back.len();
        // Spans come from splitting `text`, so they lie within it.
        for c in &self.checks {
            match spans.get(c.index + (base & c.back_mask())) {
                Some(&span) if c.test(text, span) => {}
                _ => return false,
            }
        }
        true
    }

    /// Whether the event matches, splitting it as it goes and stopping at the first failed
    /// condition. Allocation-free unless more than 32 slots follow `...`.
    pub(crate) fn is_match_streaming(&self, text: &[u8]) -> bool {
        let mut fields = Splitter::new(text);
        for slot in &self.front {
            let Some(span) = fields.next() else {
                return false;
            };
            if !slot.test.test(text, span) {
                return false;
            }
        }
        if !self.ellipsis {
            return fields.at_end();
        }
        let m = self.back.len();
        if m == 0 {
            return true;
        }
        let test_back = |get: &dyn Fn(usize) -> Span| {
            self.checks
                .iter()
                .filter(|c| c.back)
                .all(|c| c.test(text, get(c.index)))
        };
        if m <= RING {
            let mut ring = [(0, 0); RING];
            let mut count = 0usize;
            for span in fields {
                ring[count % m] = span;
                count += 1;
            }
            count >= m && test_back(&|i| ring[(count - m + i) % m])
        } else {
            let rest: Vec<Span> = fields.collect();
            rest.len() >= m && test_back(&|i| rest[rest.len() - m + i])
        }
    }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Parses a space-delimited pattern; `start` is the offset of its `[`.
pub(crate) fn parse(src: &str, start: usize) -> Result<Space, PatternError> {
    let mut c = Cursor::new(src, start + 1);
    let mut front = Vec::new();
    let mut back = Vec::new();
    let mut ellipsis_at: Option<usize> = None;
    let mut names: Vec<(Box<str>, Place)> = Vec::new();
    let mut last_name: Option<Box<str>>;
    c.skip_ws();
    if c.at("]") {
        return Err(c
            .expected("a field name or `...`")
            .with_help("name the fields, as in `[ip, user, ..., status_code, bytes]`"));
    }
    loop {
        c.skip_ws();
        let slot_start = c.pos;
        if c.eat("...") || c.eat("\u{2026}") {
            if let Some(first) = ellipsis_at {
                return Err(PatternError::new(
                    slot_start,
                    c.pos - slot_start,
                    "`...` may appear only once in a pattern",
                )
                .with_help(format!("the first `...` is at byte {first}")));
            }
            ellipsis_at = Some(slot_start);
            last_name = None;
        } else {
            let slot = parse_slot(&mut c)?;
            last_name = slot.name.clone();
            if let Some(name) = &slot.name {
                if names.iter().any(|(n, _)| n == name) {
                    return Err(PatternError::new(
                        slot_start,
                        name.len(),
                        format!("field `{name}` is named twice"),
                    ));
                }
                let place = if ellipsis_at.is_some() {
                    Place::Back(back.len())
                } else {
                    Place::Front(front.len())
                };
                names.push((name.clone(), place));
            }
            if ellipsis_at.is_some() {
                back.push(slot);
            } else {
                front.push(slot);
            }
        }
        c.skip_ws();
        match c.peek() {
            Some(b',') => c.pos += 1,
            Some(b']') => {
                c.pos += 1;
                break;
            }
            _ => {
                let after = last_name.map_or(String::new(), |n| format!(" after field `{n}`"));
                let mut e = c.expected_after("`,` or `]`", &after);
                if c.peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    e = e.with_help("fields are separated by commas");
                }
                return Err(e);
            }
        }
    }
    c.skip_ws();
    if !c.eof() {
        return Err(PatternError::new(
            c.pos,
            src.len() - c.pos,
            "unexpected text after the closing `]` of a space-delimited pattern",
        ));
    }
    let checks = (front.iter().enumerate().map(|(i, s)| (i, false, s)))
        .chain(back.iter().enumerate().map(|(i, s)| (i, true, s)))
        .filter(|(_, _, slot)| slot.has_conditions())
        .map(|(i, back, slot)| Check::new(i, back, &slot.test))
        .collect::<Vec<_>>();
    let single = match checks.as_slice() {
        [one] if ellipsis_at.is_none() => Some(one.clone()),
        _ => None,
    };
    let min_fields = front.len() + back.len();
    let max_fields = if ellipsis_at.is_some() {
        usize::MAX
    } else {
        min_fields
    };
    Ok(Space {
        checks,
        single,
        min_fields,
        max_fields,
        front,
        back,
        ellipsis: ellipsis_at.is_some(),
        names,
    })
}

/// One slot: empty, `name`, or `name op value (&&|| name op value)*`.
fn parse_slot(c: &mut Cursor<'_>) -> Result<Slot, PatternError> {
    if matches!(c.peek(), Some(b',' | b']')) {
        return Ok(Slot {
            name: None,
            test: SlotTest::None,
        });
    }
    let name = field_name(c)?;
    c.skip_ws();
    let mut any_of: Vec<Vec<Cond>> = Vec::new();
    if matches!(c.peek(), Some(b',' | b']') | None) {
        return Ok(Slot {
            name: Some(name.into()),
            test: SlotTest::None,
        });
    }
    let mut all = Vec::new();
    let mut current = name;
    loop {
        let Some(op) = c.op() else {
            let mut e = c.expected_after(
                "`,`, `]` or a comparison (`=`, `!=`, `<`, `>`, `<=`, `>=`)",
                &format!(" after field `{current}`"),
            );
            if c.peek().is_some_and(is_name_byte) {
                e = e.with_help("fields are separated by commas");
            }
            return Err(e);
        };
        all.push(c.operand(op)?);
        c.skip_ws();
        let or = if c.eat("&&") {
            false
        } else if c.eat("||") {
            true
        } else {
            break;
        };
        if or {
            any_of.push(std::mem::take(&mut all));
        }
        c.skip_ws();
        let at = c.pos;
        let next = field_name(c)?;
        if next != name {
            return Err(PatternError::new(
                at,
                next.len(),
                format!("a condition in the slot of field `{name}` names field `{next}`"),
            )
            .with_help("conditions in one slot test that slot's field; separate fields with `,`"));
        }
        current = next;
        c.skip_ws();
    }
    any_of.push(all);
    Ok(Slot {
        name: Some(name.into()),
        test: SlotTest::new(any_of),
    })
}

fn field_name<'a>(c: &mut Cursor<'a>) -> Result<&'a str, PatternError> {
    let s = c.pos;
    if !c.peek().is_some_and(is_name_start) {
        let mut e = c.expected("a field name, `...` or `,`");
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            e = e.with_help("field names start with a letter or `_`; positions are `$1`, `$2`, …");
        }
        return Err(e);
    }
    while c.peek().is_some_and(is_name_byte) {
        c.pos += 1;
    }
    Ok(&c.src[s..c.pos])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldBuf;

    fn m(pattern: &str, event: &str) -> bool {
        let p = parse(pattern, 0).unwrap();
        let streaming = p.is_match_streaming(event.as_bytes());
        let mut buf = FieldBuf::new();
        let ev = buf.split(event);
        assert_eq!(
            streaming,
            p.is_match_spans(event.as_bytes(), ev.spans),
            "{pattern} on {event}"
        );
        streaming
    }

    #[test]
    fn positions_and_ellipsis() {
        assert!(m("[a, b]", "x y"));
        assert!(!m("[a, b]", "x y z"));
        assert!(!m("[a, b]", "x"));
        assert!(m("[a, ...]", "x"));
        assert!(m("[..., z=3]", "1 2 3"));
        assert!(!m("[..., z=3]", "1 3 2"));
        assert!(m("[a=1, ..., y=2, z=3]", "1 2 3"));
        assert!(m("[a=1, ..., y=2, z=3]", "1 9 9 2 3"));
        assert!(!m("[a=1, ..., y=2, z=3]", "1 3"));
        assert!(m("[a, , c=3]", "1 2 3"));
        assert!(m("[..., b=2,]", "1 2 3"));
        assert!(m("[\u{2026}, b=2]", "1 2"));
    }

    #[test]
    fn many_slots_after_the_ellipsis() {
        let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let pattern = format!("[x, ..., {}, last=end]", names.join(", "));
        let event = format!("{} end", vec!["v"; 45].join(" "));
        assert!(m(&pattern, &event));
        assert!(!m(&pattern, &event.replace("end", "nope")));
    }

    #[test]
    fn slot_conditions() {
        assert!(m("[w1=ERROR || w1=WARN, w2]", "WARN message"));
        assert!(!m("[w1=ERROR || w1=WARN, w2]", "INFO message"));
        assert!(m("[w1!=ERROR && w1!=WARN, w2]", "INFO message"));
        assert!(m("[a > 1 && a < 5 || a = 9]", "9"));
        assert!(m("[a > 1 && a < 5 || a = 9]", "3"));
        assert!(!m("[a > 1 && a < 5 || a = 9]", "7"));
    }

    #[test]
    fn errors() {
        let e = |p: &str| parse(p, 0).unwrap_err();
        assert_eq!(e("[]").message, "expected a field name or `...`, found `]`");
        assert_eq!(
            e("[a, b").message,
            "expected `,` or `]` after field `b`, found end of pattern"
        );
        let x = e("[a b]");
        assert_eq!((x.offset, x.help.is_some()), (3, true));
        assert_eq!(e("[a, a]").message, "field `a` is named twice");
        assert_eq!(e("[..., a, ...]").offset, 9);
        assert_eq!(e("[a = 1 && b = 2]").offset, 10);
        assert_eq!(e("[1, 2]").offset, 1);
        assert_eq!(e("[a] x").offset, 4);
        assert_eq!(
            e("[a ~ 1]").message,
            "expected `,`, `]` or a comparison (`=`, `!=`, `<`, `>`, `<=`, `>=`) after field `a`, found `~`"
        );
        assert!(e("[a=%x%, b=%y%, c=%z%]").message.contains("at most 2"));
    }
}
