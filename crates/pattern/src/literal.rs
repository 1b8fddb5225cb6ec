//! A literal term's substring search, for events of a few hundred bytes: on x86-64 with AVX2
//! it calls `memchr`'s packed-pair searcher directly (the same algorithm and rare-byte pair
//! `memmem::Finder` picks), skipping the dispatch `memmem` does on every call, which on a
//! 120-byte flow-log line is a third of the search. Anything else goes through
//! `memmem::Finder`.

use memchr::memmem;

#[derive(Clone, Debug)]
pub(crate) struct Literal {
    finder: memmem::Finder<'static>,
    #[cfg(target_arch = "x86_64")]
    pair: Option<memchr::arch::x86_64::avx2::packedpair::Finder>,
}

impl Literal {
    pub(crate) fn new(needle: &[u8]) -> Literal {
        Literal {
            finder: memmem::Finder::new(needle).into_owned(),
            #[cfg(target_arch = "x86_64")]
            pair: memchr::arch::x86_64::avx2::packedpair::Finder::new(needle),
        }
    }

    /// Whether the needle occurs in `haystack`.
    #[inline(always)]
    pub(crate) fn is_in(&self, haystack: &[u8]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(pair) = &self.pair
            && haystack.len() >= pair.min_haystack_len()
        {
            return pair.find(haystack, self.finder.needle()).is_some();
        }
        self.finder.find(haystack).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(needle: &[u8], haystack: &[u8]) -> bool {
        needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn flow_log_terms() {
        let line = b"2 123456789012 eni-0a1 10.0.2.7 172.31.0.1 39611 443 6 1 40 1563108188 1563108227 REJECT OK";
        for (needle, want) in [
            ("REJECT", true),
            ("ACCEPT", false),
            (" 443 ", true),
            ("172.31.", true),
            ("OK", true),
            ("K", true),
            ("", true),
            ("REJECT OK", true),
            ("REJECT OK ", false),
        ] {
            let l = Literal::new(needle.as_bytes());
            assert_eq!(l.is_in(line), want, "{needle}");
            assert_eq!(
                l.is_in(&line[..20]),
                naive(needle.as_bytes(), &line[..20]),
                "{needle}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_naive_search(
            needle in "[ab ]{0,6}|[a-z0-9. ]{1,12}",
            haystack in "[ab ]{0,300}|[a-z0-9. ]{0,300}",
        ) {
            let l = Literal::new(needle.as_bytes());
            proptest::prop_assert_eq!(l.is_in(haystack.as_bytes()), naive(needle.as_bytes(), haystack.as_bytes()));
        }
    }
}
