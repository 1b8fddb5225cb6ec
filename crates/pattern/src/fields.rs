//! Splitting an event into space-delimited fields, once per event for every pattern.
//!
//! Fields are separated by runs of ASCII whitespace. A field that starts with `[` runs to the
//! next `]`, and one that starts with `"` to the next `"`, spaces included; the field's value is
//! what lies between the delimiters, and the next field starts right after the closing one. An
//! opening `[` or `"` without its closing partner is an ordinary character. There are no escapes.

use memchr::memchr;

/// A field: byte range of its value in the event.
pub(crate) type Span = (usize, usize);

#[inline(always)]
fn is_space(c: u8) -> bool {
    // ASCII whitespace: space, \t, \n, \x0b, \x0c, \r.
    c == b' ' || c.wrapping_sub(b'\t') < 5
}

/// Index of the first whitespace byte at or after `i` (or `b.len()`), eight bytes at a time:
/// `(w - 0x21…) & !w & 0x80…` flags bytes below 0x21, and its lowest flag is exact (a borrow
/// only runs upwards from a flagged byte). A flagged control character that is not whitespace
/// is skipped. Fields in flow logs are short, so most take a single word.
#[inline(always)]
fn find_space(b: &[u8], mut i: usize) -> usize {
    const LOW: u64 = 0x2121_2121_2121_2121;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(bytes);
        let flags = w.wrapping_sub(LOW) & !w & HIGH;
        if flags == 0 {
            i += 8;
            continue;
        }
        let j = i + (flags.trailing_zeros() / 8) as usize;
        if b.get(j).copied().is_some_and(is_space) {
            return j;
        }
        i = j + 1;
    }
    while i < b.len() && !is_space(b[i]) {
        i += 1;
    }
    i
}

/// An iterator over the fields of an event, allocation-free.
pub(crate) struct Splitter<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Splitter<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Splitter<'a> {
        Splitter { b: text, pos: 0 }
    }

    /// True when no field is left (only whitespace remains).
    pub(crate) fn at_end(&mut self) -> bool {
        self.skip_space();
        self.pos >= self.b.len()
    }

    #[inline]
    fn skip_space(&mut self) {
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
        }
    }
}

/// The next field at or after `*pos`, advancing `*pos` past it.
#[inline(always)]
fn next_field(b: &[u8], pos: &mut usize) -> Option<Span> {
    let mut start = *pos;
    while start < b.len() && is_space(b[start]) {
        start += 1;
    }
    let first = *b.get(start)?;
    if first == b'[' || first == b'"' {
        let close = if first == b'[' { b']' } else { b'"' };
        if let Some(i) = memchr(close, &b[start + 1..]) {
            let end = start + 1 + i;
            *pos = end + 1;
            return Some((start + 1, end));
        }
    }
    let end = find_space(b, start + 1);
    *pos = end;
    Some((start, end))
}

impl Iterator for Splitter<'_> {
    type Item = Span;

    #[inline]
    fn next(&mut self) -> Option<Span> {
        next_field(self.b, &mut self.pos)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// High bit set in each byte of `w` below `n` (`n` ≤ 0x80), exactly: the low seven bits plus
/// `0x80 - n` reach the high bit iff they are ≥ `n`, without carrying into the next byte.
#[inline(always)]
fn bytes_below(w: u64, n: u8) -> u64 {
    !((w & LOW7).wrapping_add(u64::from(0x80 - n) * ONES) | w) & HIGH
}

/// One bit per byte of an eight-byte word: whether it is ASCII whitespace.
#[inline(always)]
fn space_bits(w: u64) -> u64 {
    let space = bytes_below(w ^ (u64::from(b' ') * ONES), 1);
    let control = bytes_below(w, b'\r' + 1) & !bytes_below(w, b'\t');
    // Gather the eight high bits into the low byte (byte i to bit i).
    ((space | control) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Whitespace bitmap of the 64 bytes at `base` (bit i = byte `base + i`); bytes past the end
/// count as whitespace, so a field running to the end of the event ends there.
#[inline(always)]
fn block_mask(b: &[u8], base: usize) -> u64 {
    let rest = b.get(base..).unwrap_or_default();
    let mut pad = [b' '; 64];
    let block: &[u8] = match rest.get(..64) {
        Some(full) => full,
        None => {
            pad[..rest.len()].copy_from_slice(rest);
            &pad
        }
    };
    let mut mask = 0;
    for (k, word) in block.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([b' '; 8]));
        mask |= space_bits(w) << (8 * k);
    }
    mask
}

/// Splits `b` into `out` a 64-byte block at a time: one whitespace bitmap per block gives the
/// field starts (non-space after space) and ends (space after non-space) as bit masks, which
/// alternate, so each field is two `trailing_zeros`. Same fields as [`Splitter`].
fn split_into(b: &[u8], out: &mut Vec<Span>) {
    let mut base = 0;
    // Start of a field that runs on past the end of the previous block.
    let mut pending: Option<usize> = None;
    'blocks: while base < b.len() {
        let non = !block_mask(b, base);
        let before = (non << 1) | u64::from(pending.is_some());
        let mut starts = non & !before;
        let mut ends = !non & before;
        if let Some(s) = pending {
            if ends == 0 {
                base += 64;
                continue;
            }
            out.push((s, base + ends.trailing_zeros() as usize));
            ends &= ends - 1;
            pending = None;
        }
        while starts != 0 {
            let abs = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if let Some(&first @ (b'[' | b'"')) = b.get(abs) {
                let close = if first == b'[' { b']' } else { b'"' };
                if let Some(i) = memchr(close, &b[abs + 1..]) {
                    let end = abs + 1 + i;
                    out.push((abs + 1, end));
                    // The next field starts right after the closing delimiter.
                    base = end + 1;
                    continue 'blocks;
                }
            }
            if ends == 0 {
                pending = Some(abs);
                break;
            }
            out.push((abs, base + ends.trailing_zeros() as usize));
            ends &= ends - 1;
        }
        base += 64;
    }
    if let Some(s) = pending {
        out.push((s, b.len()));
    }
}

/// A reusable buffer for the fields of one event. Split each event once with
/// [`FieldBuf::split`] and test every pattern against the [`Event`] it returns; after the
/// first few events this allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct FieldBuf {
    spans: Vec<Span>,
}

impl FieldBuf {
    pub fn new() -> FieldBuf {
        FieldBuf::default()
    }

    /// Splits `text` into fields (replacing the previous event's).
    pub fn split<'a>(&'a mut self, text: &'a str) -> Event<'a> {
        self.spans.clear();
        split_into(text.as_bytes(), &mut self.spans);
        Event {
            text,
            spans: &self.spans,
        }
    }
}

/// One log event, split into space-delimited fields.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    pub(crate) text: &'a str,
    pub(crate) spans: &'a [Span],
}

impl<'a> Event<'a> {
    /// The event's text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of space-delimited fields.
    pub fn field_count(&self) -> usize {
        self.spans.len()
    }

    /// The value of field `i` (0-based), without its `[]` or `""` delimiters.
    pub fn field(&self, i: usize) -> Option<&'a str> {
        self.spans.get(i).and_then(|&(s, e)| self.text.get(s..e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<&str> {
        Splitter::new(s.as_bytes()).map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn brackets_and_quotes_are_single_fields() {
        assert_eq!(
            split(
                r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#
            ),
            [
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
    }

    #[test]
    fn whitespace_runs_and_edges() {
        assert_eq!(split("  a \t b\r\n c  "), ["a", "b", "c"]);
        assert!(split("").is_empty());
        assert!(split(" \t ").is_empty());
        assert_eq!(split("[]"), [""]);
        assert_eq!(split(r#""""#), [""]);
        // Unterminated delimiters are ordinary characters.
        assert_eq!(split("[a b"), ["[a", "b"]);
        assert_eq!(split("\"a b"), ["\"a", "b"]);
        // The next field starts right after the closing delimiter.
        assert_eq!(split("[a b]c d"), ["a b", "c", "d"]);
        // Delimiters inside a field are ordinary.
        assert_eq!(split("a[b c]"), ["a[b", "c]"]);
        assert_eq!(split("é ü"), ["é", "ü"]);
    }

    #[test]
    fn word_at_a_time_scan_agrees_with_a_byte_loop() {
        let naive = |b: &[u8], i: usize| (i..b.len()).find(|&j| is_space(b[j])).unwrap_or(b.len());
        let samples: [&[u8]; 6] = [
            b"abcdefghijklmnop qrs",
            b"a\x01b\x00c\x1fd\x7f\xffe\x80f\x20g",
            b"0123456 89abcdef\tx",
            b"!!!!!!!!\"\"\"\"\"\"\"\" \x21\x21",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9} x".as_bytes(),
            b"",
        ];
        for b in samples {
            for i in 0..=b.len() {
                assert_eq!(find_space(b, i), naive(b, i), "{b:?} from {i}");
            }
        }
        for c in 0..=255u8 {
            let mut b = [b'a'; 20];
            for k in 0..20 {
                b[k] = c;
                assert_eq!(find_space(&b, 0), naive(&b, 0), "byte {c} at {k}");
                b[k] = b'a';
            }
        }
    }

    #[test]
    fn bitmap_split_agrees_with_the_field_scanner() {
        let samples = [
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#.to_owned(),
            "2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK".to_owned(),
            format!("{} tail", "x".repeat(200)),
            format!("{}[{}] \"{}\"x", " ".repeat(63), "a b ".repeat(40), "q ".repeat(50)),
            "a\x01b\tc\x0bd\x0ce\rf\ng\x0eh\x1fi\x7fj\u{e9}k".to_owned(),
            "[unterminated and \"also".to_owned(),
            String::new(),
            " ".repeat(130),
        ];
        let mut buf = FieldBuf::new();
        for s in &samples {
            for cut in 0..s.len().min(140) {
                let Some(t) = s.get(cut..) else { continue };
                let want: Vec<Span> = Splitter::new(t.as_bytes()).collect();
                assert_eq!(buf.split(t).spans, want.as_slice(), "{t:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn bitmap_split_agrees_on_arbitrary_text(
            t in "[ \t\n\x0b\x0c\r\\[\\]\"a-c\x00-\x1f\u{e9}]{0,200}|\\PC{0,200}"
        ) {
            let want: Vec<Span> = Splitter::new(t.as_bytes()).collect();
            let mut buf = FieldBuf::new();
            proptest::prop_assert_eq!(buf.split(&t).spans, want.as_slice());
        }
    }

    #[test]
    fn space_bits_is_exact_for_every_byte() {
        for c in 0..=255u8 {
            for k in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[k] = c;
                let want = if c.is_ascii_whitespace() || c == 0x0b {
                    1 << k
                } else {
                    0
                };
                assert_eq!(
                    space_bits(u64::from_le_bytes(bytes)),
                    want,
                    "byte {c} at {k}"
                );
            }
        }
        assert_eq!(space_bits(u64::from_le_bytes(*b" \t\n\x0b\x0c\r  ")), 0xff);
    }

    #[test]
    fn field_buf_reuses_its_buffer() {
        let mut buf = FieldBuf::new();
        let e = buf.split("a b c");
        assert_eq!(e.field_count(), 3);
        assert_eq!(e.field(2), Some("c"));
        assert_eq!(e.field(3), None);
        let e = buf.split("x");
        assert_eq!((e.field_count(), e.field(0)), (1, Some("x")));
        let mut s = Splitter::new(b"a  ");
        assert_eq!(s.next(), Some((0, 1)));
        assert!(s.at_end());
    }
}
