//! Literal text every match of a filter-pattern regex must contain, found from the regex
//! source, so that most values are rejected by a byte comparison before the regex engine runs
//! (its per-call overhead dwarfs the work on a 12-byte field).
//!
//! The sublanguage has no groups, so a regex is a sequence of possibly quantified atoms, or
//! an alternation of such sequences. For a sequence, consecutive literal atoms that must occur
//! form a run that every match contains; with `^` first the first run is a prefix of the
//! value, with `$` last the last run a suffix. Anything this analysis does not understand
//! (an alternation, an anchor in the middle, a nested class) yields no literals: the prefilter
//! then passes everything and the regex decides alone, as before.

use memchr::memmem;

/// Necessary conditions for a value to match: it starts with `prefix`, ends with `suffix` and
/// contains `inner`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Literals {
    pub(crate) prefix: Option<Box<[u8]>>,
    pub(crate) suffix: Option<Box<[u8]>>,
    // Boxed: a finder is ~300 bytes.
    pub(crate) inner: Option<Box<memmem::Finder<'static>>>,
}

impl Literals {
    /// False when no match of the regex is possible in `value`.
    #[inline]
    pub(crate) fn may_match(&self, value: &[u8]) -> bool {
        self.prefix.as_ref().is_none_or(|p| value.starts_with(p))
            && self.suffix.as_ref().is_none_or(|s| value.ends_with(s))
            && self.inner.as_ref().is_none_or(|f| f.find(value).is_some())
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.prefix.is_none() && self.suffix.is_none() && self.inner.is_none()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Atom {
    Literal(u8),
    /// A class, `.`, `\d` and the like: matches one byte we do not track.
    Other,
}

/// Copies of a literal appended to a run for a repetition such as `a{3}` (a match contains
/// at least this many in a row, so fewer is still a necessary condition).
const MAX_COPIES: u32 = 8;

/// The literal runs of a validated filter-pattern regex source (see the module docs).
pub(crate) fn required(source: &[u8]) -> Literals {
    analyse(source).unwrap_or_default()
}

fn analyse(b: &[u8]) -> Option<Literals> {
    let mut i = 0;
    let anchored_start = b.first() == Some(&b'^');
    if anchored_start {
        i = 1;
    }
    let anchored_end = b.len() > i && b.last() == Some(&b'$') && !escaped_at(b, b.len() - 1);
    let end = if anchored_end { b.len() - 1 } else { b.len() };
    // (atom, minimum count, whether the count is exact)
    let mut items: Vec<(Atom, u32, bool)> = Vec::new();
    while i < end {
        let (atom, next) = match b[i] {
            b'\\' => {
                let e = *b.get(i + 1)?;
                match e {
                    b'd' | b'D' | b's' | b'S' | b'w' | b'W' => (Atom::Other, i + 2),
                    b'x' => (Atom::Other, i + 4),
                    e if e.is_ascii_punctuation() || e == b' ' => (Atom::Literal(e), i + 2),
                    _ => return None,
                }
            }
            b'[' => (Atom::Other, class_end(b, i)?),
            b'.' | b']' | b'}' => (Atom::Other, i + 1),
            b'^' | b'$' | b'|' | b'(' | b')' | b'?' | b'*' | b'+' | b'{' => return None,
            c => (Atom::Literal(c), i + 1),
        };
        let (min, exact, after) = quantifier(b, next.min(end), end)?;
        items.push((atom, min, exact));
        i = after;
    }
    let mut runs: Vec<(Vec<u8>, bool, bool)> = Vec::new(); // (bytes, at start, at end)
    let mut run = Vec::new();
    let mut run_at_start = anchored_start;
    for &(atom, min, exact) in &items {
        let copies = min.min(MAX_COPIES) as usize;
        match atom {
            Atom::Literal(c) if min >= 1 => {
                run.extend(std::iter::repeat_n(c, copies));
                if !exact || min > MAX_COPIES {
                    // What follows is preceded by (at least) `copies` copies, not by the run.
                    runs.push((std::mem::take(&mut run), run_at_start, false));
                    run.extend(std::iter::repeat_n(c, copies));
                    run_at_start = false;
                }
            }
            _ => {
                runs.push((std::mem::take(&mut run), run_at_start, false));
                run_at_start = false;
            }
        }
    }
    runs.push((run, run_at_start, anchored_end));
    runs.retain(|(r, _, _)| !r.is_empty());
    let mut out = Literals::default();
    let mut longest: Option<&[u8]> = None;
    for (r, at_start, at_end) in &runs {
        if *at_start && out.prefix.is_none() {
            out.prefix = Some(r.as_slice().into());
        } else if *at_end {
            out.suffix = Some(r.as_slice().into());
        } else if r.len() >= 2 && longest.is_none_or(|l| r.len() > l.len()) {
            longest = Some(r);
        }
    }
    out.inner = longest.map(|l| Box::new(memmem::Finder::new(l).into_owned()));
    Some(out)
}

/// Whether the byte at `i` is escaped by an odd number of backslashes before it.
fn escaped_at(b: &[u8], i: usize) -> bool {
    b[..i].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// The index after the class that opens at `i` (`[`), or `None` for anything unusual (a
/// nested `[`, no closing `]`).
fn class_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if b.get(j) == Some(&b'^') {
        j += 1;
    }
    // A `]` right after `[` or `[^` is a member.
    if b.get(j) == Some(&b']') {
        j += 1;
    }
    while let Some(&c) = b.get(j) {
        match c {
            b']' => return Some(j + 1),
            b'[' => return None,
            b'\\' => j += if b.get(j + 1) == Some(&b'x') { 4 } else { 2 },
            _ => j += 1,
        }
    }
    None
}

/// The quantifier at `i` (up to `end`), if any: (minimum count, exact, index after it,
/// including a lazy `?`). `None` for something unexpected, such as a stacked quantifier.
fn quantifier(b: &[u8], i: usize, end: usize) -> Option<(u32, bool, usize)> {
    let at = |k: usize| if k < end { b.get(k).copied() } else { None };
    let (min, exact, mut next) = match at(i) {
        Some(b'?' | b'*') => (0, false, i + 1),
        Some(b'+') => (1, false, i + 1),
        Some(b'{') => {
            let close = (i + 1..end).find(|&k| b[k] == b'}')?;
            let body = std::str::from_utf8(&b[i + 1..close]).ok()?;
            let (lo, hi) = match body.split_once(',') {
                Some((lo, hi)) => (lo, Some(hi)),
                None => (body, None),
            };
            let min: u32 = lo.trim().parse().ok()?;
            let exact = match hi {
                None => true,
                Some(h) if h.trim().is_empty() => false,
                Some(h) => h.trim().parse::<u32>().ok()? == min,
            };
            (min, exact, close + 1)
        }
        _ => return Some((1, true, i)),
    };
    if at(next) == Some(b'?') {
        next += 1;
    }
    if matches!(at(next), Some(b'?' | b'*' | b'+' | b'{')) {
        return None;
    }
    Some((min, exact, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(src: &str) -> (Option<String>, Option<String>, Option<String>) {
        let l = required(src.as_bytes());
        let s = |b: &Option<Box<[u8]>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        (
            s(&l.prefix),
            s(&l.suffix),
            l.inner
                .as_ref()
                .map(|f| String::from_utf8_lossy(f.needle()).into_owned()),
        )
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn anchored_runs_become_prefix_and_suffix() {
        assert_eq!(
            lits(r"^10\.0\.[0-9]+\.1$"),
            (some("10.0."), some(".1"), None)
        );
        assert_eq!(lits("^eni-[0-9a-f]+$"), (some("eni-"), None, None));
        assert_eq!(lits("ab+c"), (None, None, some("ab")));
        assert_eq!(lits("^ab+c$"), (some("ab"), some("bc"), None));
        assert_eq!(lits("^a{3}b"), (some("aaab"), None, None));
        assert_eq!(lits("x{2,}y$"), (None, some("xxy"), some("xx")));
        assert_eq!(
            lits("^ab{9}c"),
            (some("abbbbbbbb"), None, some("bbbbbbbbc"))
        );
        assert_eq!(
            lits("bind: address already in use"),
            (None, None, some("bind: address already in use"))
        );
        assert_eq!(lits(r"\d{3}"), (None, None, None));
        assert_eq!(lits(r"a\$b\^$"), (None, some("a$b^"), None));
        assert_eq!(lits("^ERRORS?$"), (some("ERROR"), None, None));
        assert_eq!(lits("[]a]bc"), (None, None, some("bc")));
    }

    #[test]
    fn anything_unusual_gives_no_literals() {
        for src in [
            "ERROR|WARN",
            "a^b",
            "a$b",
            "a**",
            "[[:alpha:]]xy",
            "^*a",
            "a{2",
        ] {
            assert!(required(src.as_bytes()).is_empty(), "{src}");
        }
    }

    proptest::proptest! {
        // The prefilter is a necessary condition: whenever the regex matches, it passes.
        #[test]
        fn never_rejects_a_match(
            start in proptest::bool::ANY,
            end in proptest::bool::ANY,
            atoms in proptest::collection::vec(
                ("[ab1 ]|\\\\\\.|\\.|\\[ab\\]|\\\\d", "|\\?|\\*|\\+|\\{2\\}|\\{0,2\\}|\\{1,\\}|\\+\\?"),
                1..6,
            ),
            haystacks in proptest::collection::vec("[ab1. x]{0,10}", 1..20),
        ) {
            let mut src = String::from(if start { "^" } else { "" });
            for (a, q) in &atoms {
                src.push_str(a);
                src.push_str(q);
            }
            if end {
                src.push('$');
            }
            let re = regex::bytes::RegexBuilder::new(&src).unicode(false).build().unwrap();
            let lits = required(src.as_bytes());
            for h in &haystacks {
                if re.is_match(h.as_bytes()) {
                    proptest::prop_assert!(lits.may_match(h.as_bytes()), "{src} on {h:?}: {lits:?}");
                }
            }
        }
    }
}
