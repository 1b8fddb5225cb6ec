//! A field of a split event read as one little-endian 64-bit word, so that the comparisons
//! space-delimited patterns make on short fields (`action = REJECT`, `srcaddr = 10.0.2.*`,
//! `dstport = 22`, `bytes >= 400`) are a load, a mask and a compare, without a byte loop whose
//! exit depends on the data (and so without a mispredicted branch per field).
//!
//! Everything here has a plain counterpart ([`crate::value::Cond::test`], [`parse_num`]) that
//! it must agree with; the tests below check that on arbitrary bytes.

use crate::value::{Num, parse_num};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

#[inline(always)]
fn le(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

/// The low `len` bytes of a word (`len` ≤ 8).
#[inline(always)]
pub(crate) fn mask(len: usize) -> u64 {
    u64::MAX
        .checked_shr(64 - 8 * len.min(8) as u32)
        .unwrap_or(0)
}

/// A literal of at most 8 bytes as the word [`head`] reads (zero above it).
pub(crate) fn literal(value: &[u8]) -> Option<u64> {
    let mut b = [0; 8];
    b.get_mut(..value.len())?.copy_from_slice(value);
    Some(u64::from_le_bytes(b))
}

/// The 8 bytes of `text` from `s` (byte `s` lowest), zero past the end of `text`.
#[inline(always)]
pub(crate) fn head(text: &[u8], s: usize) -> u64 {
    match text.get(s..s.wrapping_add(8)) {
        Some(b) => le(b),
        None => head_near_end(text, s),
    }
}

/// [`head`] for a field in the last 8 bytes (out of line: the hot loop stays small).
#[inline(never)]
fn head_near_end(text: &[u8], s: usize) -> u64 {
    // The last 8 bytes, shifted so that byte `s` comes lowest.
    let n = text.len();
    match text.get(n.wrapping_sub(8)..) {
        Some(last) if s <= n => le(last).checked_shr(8 * (s + 8 - n) as u32).unwrap_or(0),
        _ => {
            let rest = text.get(s..).unwrap_or_default();
            let mut b = [0; 8];
            b[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(b)
        }
    }
}

/// High bit set in each byte of `w` below `n` (`n` ≤ 0x80).
#[inline(always)]
fn bytes_below(w: u64, n: u8) -> u64 {
    !((w & LOW7).wrapping_add(u64::from(0x80 - n) * ONES) | w) & HIGH
}

/// `text[s..e]` as an integer when it is 1 to 8 ASCII digits (what [`parse_num`] then reads
/// as [`Num::Int`]), from one word.
#[inline(always)]
pub(crate) fn short_int(text: &[u8], s: usize, e: usize) -> Option<i64> {
    let len = e.wrapping_sub(s);
    if !(1..=8).contains(&len) {
        return None;
    }
    // Digits become 0..9, anything else 10 or more.
    let x = (head(text, s) ^ (0x30 * ONES)) & mask(len);
    if bytes_below(x, 10) & mask(len) != HIGH & mask(len) {
        return None;
    }
    // Leading zeros for the missing digits (the first digit is the lowest byte), then pairs,
    // fours and all eight digits combined by multiplication.
    let v = x << (8 * (8 - len));
    let v = v.wrapping_mul(10 * 256 + 1) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65_536 + 1) >> 16;
    let v = (v & 0x0000_FFFF_0000_FFFF).wrapping_mul((10_000 << 32) + 1) >> 32;
    Some(v as i64)
}

/// `text[s..e]` as a number, as [`parse_num`] reads it: plain integers of up to 8 digits
/// (ports, protocols, packet and byte counts) from one word, anything else by `parse_num`.
#[inline(always)]
pub(crate) fn number(text: &[u8], s: usize, e: usize) -> Option<Num> {
    match short_int(text, s, e) {
        Some(v) => Some(Num::Int(v)),
        None => number_slow(text, s, e),
    }
}

#[inline(never)]
fn number_slow(text: &[u8], s: usize, e: usize) -> Option<Num> {
    parse_num(text.get(s..e)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_reads_past_the_end_as_zero() {
        let t = b"2 123 ACCEPT OK";
        assert_eq!(head(t, 0), le(b"2 123 AC"));
        assert_eq!(head(t, 13), u64::from(b'O') | u64::from(b'K') << 8);
        assert_eq!(head(t, 15), 0);
        assert_eq!(head(b"ab", 0), 0x6261);
        assert_eq!(head(b"ab", 1), 0x62);
        assert_eq!(head(b"ab", 2), 0);
        assert_eq!(head(b"", 0), 0);
        assert_eq!(head(b"ab", 9), 0);
    }

    #[test]
    fn numbers_from_one_word() {
        for (s, want) in [
            ("0", Some(Num::Int(0))),
            ("7", Some(Num::Int(7))),
            ("22", Some(Num::Int(22))),
            ("007", Some(Num::Int(7))),
            ("12345678", Some(Num::Int(12_345_678))),
            ("99999999", Some(Num::Int(99_999_999))),
            ("1563108188", Some(Num::Int(1_563_108_188))),
            ("-", None),
            ("-5", Some(Num::Int(-5))),
            ("2.5", Some(Num::Float(2.5))),
            ("1:2", None),
            ("", None),
        ] {
            let text = format!("x {s} y");
            assert_eq!(number(text.as_bytes(), 2, 2 + s.len()), want, "{s}");
            assert_eq!(number(s.as_bytes(), 0, s.len()), want, "{s} alone");
        }
    }

    proptest::proptest! {
        #[test]
        fn number_agrees_with_parse_num(
            text in "[0-9]{0,12}|[0-9 .e+/:-]{0,12}|\\PC{0,12}",
            a in 0usize..14,
            b in 0usize..14,
        ) {
            let t = text.as_bytes();
            let (s, e) = (a.min(b).min(t.len()), a.max(b).min(t.len()));
            proptest::prop_assert_eq!(number(t, s, e), parse_num(&t[s..e]), "{:?}", &t[s..e]);
        }

        #[test]
        fn head_is_the_bytes_from_s(text in proptest::collection::vec(proptest::num::u8::ANY, 0..20), s in 0usize..22) {
            let mut want = [0u8; 8];
            for (k, b) in text.iter().skip(s).take(8).enumerate() {
                want[k] = *b;
            }
            proptest::prop_assert_eq!(head(&text, s), u64::from_le_bytes(want));
        }
    }
}
