//! The `%regex%` sublanguage of filter patterns, checked against AWS's allow-list and then
//! handed to the `regex` crate.
//!
//! AWS allows letters and digits; the symbols `: _ # = @ / ; , -` (and, as its own examples show,
//! the space); the operators `^ $ ? [ ] { } | \ * + .`; and the escapes `\d \D \s \S \w \W \xhh`.
//! There are no groups: `(` and `)` are rejected, as is any other character (`%something!%` is
//! AWS's own example of an invalid regex) and anything outside ASCII. Our additions, since AWS is
//! silent: a backslash before any ASCII symbol matches that symbol literally (`\.`, `\%`, `\(`),
//! and the regex is searched for anywhere in the value (anchor it with `^...$`). Matching is on
//! bytes with ASCII classes, so `\w` never matches `é`.

use regex::bytes::{Regex, RegexBuilder};

use crate::error::PatternError;

mod literals;

/// A compiled `%regex%` with the literal text every match needs ([`literals`]): matching a
/// value checks those bytes first and runs the regex engine only on values that have them.
#[derive(Clone, Debug)]
pub(crate) struct FilterRegex {
    regex: Regex,
    literals: literals::Literals,
}

impl FilterRegex {
    #[inline]
    pub(crate) fn is_match(&self, value: &[u8]) -> bool {
        self.literals.may_match(value) && self.regex.is_match(value)
    }
}

const ALLOWED: &str =
    "letters, digits, space, `: _ # = @ / ; , -` and the operators `^ $ ? [ ] { } | \\ * + .`";

/// Compiles the regex whose source (between the `%` delimiters) starts at byte `offset` of the
/// pattern.
pub(crate) fn compile(source: &str, offset: usize) -> Result<FilterRegex, PatternError> {
    let regex = compile_regex(source, offset)?;
    Ok(FilterRegex {
        regex,
        literals: literals::required(source.as_bytes()),
    })
}

fn compile_regex(source: &str, offset: usize) -> Result<Regex, PatternError> {
    let b = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 8);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                let Some(&e) = b.get(i + 1) else {
                    return Err(PatternError::new(
                        offset + i,
                        1,
                        "a regex cannot end with `\\`",
                    ));
                };
                match e {
                    b'd' | b'D' | b's' | b'S' | b'w' | b'W' => {
                        out.push('\\');
                        out.push(char::from(e));
                        i += 2;
                    }
                    b'x' => {
                        let hex = b
                            .get(i + 2..i + 4)
                            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                        let Some(hex) = hex else {
                            return Err(PatternError::new(
                                offset + i,
                                2,
                                "`\\x` in a regex needs exactly two hex digits, as in `\\x41`",
                            ));
                        };
                        out.push_str("\\x");
                        out.extend(hex.iter().map(|&h| char::from(h)));
                        i += 4;
                    }
                    e if e.is_ascii_punctuation() || e == b' ' => {
                        out.push_str(&regex::escape(char::from(e).encode_utf8(&mut [0; 4])));
                        i += 2;
                    }
                    _ => {
                        let shown = source[i..].chars().take(2).collect::<String>();
                        return Err(PatternError::new(
                            offset + i,
                            shown.len(),
                            format!("unsupported escape `{shown}` in a regex"),
                        )
                        .with_help(
                            "filter-pattern regexes support \\d \\D \\s \\S \\w \\W \\xhh and a backslash before a symbol",
                        ));
                    }
                }
            }
            b'(' | b')' => {
                return Err(PatternError::new(
                    offset + i,
                    1,
                    format!(
                        "`{}` is not allowed in a filter-pattern regex: CloudWatch regexes have no groups",
                        char::from(c)
                    ),
                )
                .with_help("use alternation without a group, such as `%ERROR|WARN%`, or `\\(` for a literal parenthesis"));
            }
            c if c.is_ascii_alphanumeric() => {
                out.push(char::from(c));
                i += 1;
            }
            b' ' | b':' | b'_' | b'#' | b'=' | b'@' | b'/' | b';' | b',' | b'-' | b'^' | b'$'
            | b'?' | b'[' | b']' | b'{' | b'}' | b'|' | b'*' | b'+' | b'.' => {
                out.push(char::from(c));
                i += 1;
            }
            _ => {
                let shown = source[i..].chars().next().unwrap_or('?');
                let what = if c.is_ascii() {
                    format!("`{shown}` is not allowed in a filter-pattern regex")
                } else {
                    format!("`{shown}` is not allowed in a filter-pattern regex: only ASCII is")
                };
                return Err(PatternError::new(offset + i, shown.len_utf8(), what)
                    .with_help(format!("allowed: {ALLOWED}; escape a symbol with `\\`")));
            }
        }
    }
    if out.is_empty() {
        return Err(PatternError::new(
            offset.saturating_sub(1),
            2,
            "empty regex `%%`",
        ));
    }
    RegexBuilder::new(&out)
        .unicode(false)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let detail = match &e {
                regex::Error::Syntax(s) => s.lines().last().unwrap_or(s).trim().to_owned(),
                other => other.to_string(),
            };
            let detail = detail.strip_prefix("error: ").unwrap_or(&detail).to_owned();
            PatternError::new(offset, source.len(), format!("invalid regex: {detail}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> FilterRegex {
        match compile(src, 1) {
            Ok(r) => r,
            Err(e) => panic!("{src:?}: {}", e.render(&format!("%{src}%"))),
        }
    }

    fn err(src: &str) -> PatternError {
        match compile(src, 1) {
            Ok(r) => panic!("{src:?} should be rejected, got {:?}", r.regex),
            Err(e) => e,
        }
    }

    #[test]
    fn allowed_constructs() {
        assert!(ok("ERROR|WARN").is_match(b"a WARN b"));
        assert!(ok("^eni-[0-9a-f]+$").is_match(b"eni-0a1"));
        assert!(!ok("^eni-[0-9a-f]+$").is_match(b"xeni-0a1"));
        assert!(ok("\\d{3}").is_match(b"404"));
        assert!(ok("bind: address already in use").is_match(b"err bind: address already in use"));
        assert!(ok("\\x41B").is_match(b"AB"));
        assert!(ok("a\\.b").is_match(b"a.b"));
        assert!(!ok("a\\.b").is_match(b"axb"));
        assert!(ok("100\\%").is_match(b"100%"));
        assert!(ok("f\\(x\\)").is_match(b"f(x)"));
        assert!(ok("#=@/;,_-").is_match(b"#=@/;,_-"));
        // ASCII classes: \w does not match a multibyte letter.
        assert!(!ok("^\\w$").is_match("é".as_bytes()));
    }

    proptest::proptest! {
        // The literal prefilter never changes an answer: the same as the regex engine alone,
        // for sources in the whole sublanguage (alternations, escapes, classes, counts).
        #[test]
        fn prefilter_agrees_with_the_regex_alone(
            src in "\\^?([ab1.: -]|\\\\[.$^%]|\\\\[dws]|\\[a1\\.\\]|\\]|[?*+|]|\\{[0-3](,[0-3]?)?\\}){1,8}\\$?",
            haystacks in proptest::collection::vec("[ab1.: $^%x-]{0,12}", 1..24),
        ) {
            let Ok(r) = compile(&src, 1) else { return Ok(()) };
            for h in &haystacks {
                proptest::prop_assert_eq!(
                    r.is_match(h.as_bytes()),
                    r.regex.is_match(h.as_bytes()),
                    "{} on {:?} ({:?})", src, h, r.literals
                );
            }
        }
    }

    #[test]
    fn prefilter_of_the_vpc_address_regex() {
        let r = ok(r"^10\.0\.[0-9]+\.1$");
        for (v, want) in [
            ("10.0.2.1", true),
            ("10.0.2.31", false),
            ("10.1.2.1", false),
            ("x10.0.2.1", false),
        ] {
            assert_eq!(r.is_match(v.as_bytes()), want, "{v}");
            assert_eq!(
                r.literals.may_match(v.as_bytes()),
                r.regex.is_match(v.as_bytes()),
                "{v}"
            );
        }
    }

    #[test]
    fn rejected_constructs_point_at_the_character() {
        let e = err("(ERROR|WARN)");
        assert_eq!((e.offset, e.len), (1, 1));
        assert!(e.message.contains("no groups"), "{}", e.message);
        let e = err("something!");
        assert_eq!(e.offset, 10);
        assert_eq!(e.message, "`!` is not allowed in a filter-pattern regex");
        let e = err("caf\u{e9}");
        assert_eq!((e.offset, e.len), (4, 2));
        let e = err("a\\bc");
        assert_eq!((e.offset, e.len), (2, 2));
        assert!(err("\\x4").message.contains("two hex digits"));
        assert!(err("ab\\").message.contains("end with"));
        assert!(err("").message.contains("empty"));
        let e = err("a{2");
        assert!(e.message.starts_with("invalid regex"), "{}", e.message);
        assert_eq!(e.offset, 1);
    }
}
