//! What a match extracted: named and positional fields of a space-delimited pattern (`$name`,
//! `$7`) and JSON values (`$.a.b`), as metric values and dimensions refer to them.

use std::borrow::Cow;

use crate::error::PatternError;
use crate::fields::Span;
use crate::pattern::{Kind, Pattern};
use crate::selector::{self, Selector};
use crate::space::{Place, Space};
use crate::value::parse_num;

/// The values of one matched event.
#[derive(Clone, Debug)]
pub struct Captures<'a> {
    pub(crate) event: &'a str,
    pub(crate) inner: Inner<'a>,
}

#[derive(Clone, Debug)]
pub(crate) enum Inner<'a> {
    /// Unstructured terms (or match-all): nothing is extracted.
    Text,
    /// A JSON pattern: any selector can be read from the event.
    Json,
    Space {
        pattern: &'a Space,
        spans: Cow<'a, [Span]>,
    },
}

/// A reference to an extracted value, as a metric value or dimension writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reference<'s> {
    /// `$name`: a named field of a space-delimited pattern.
    Field(&'s str),
    /// `$7`: the 7th field (1-based) of a space-delimited event (AWS's legacy form).
    Position(usize),
    /// `$.a.b`: a JSON value.
    Json(Selector),
}

impl<'s> Reference<'s> {
    pub(crate) fn parse(s: &'s str) -> Result<Reference<'s>, PatternError> {
        let Some(rest) = s.strip_prefix('$') else {
            return Err(PatternError::new(
                0,
                s.len(),
                "expected a reference such as `$name`, `$7` or `$.field`",
            ));
        };
        if rest.starts_with('.') || rest.starts_with('[') {
            return Selector::parse_str(s).map(Reference::Json);
        }
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return match rest.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Reference::Position(n)),
                _ => Err(PatternError::new(
                    1,
                    rest.len(),
                    "field positions start at `$1`",
                )),
            };
        }
        let valid = rest
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Reference::Field(rest))
        } else {
            Err(PatternError::new(
                1,
                rest.len(),
                format!("`{s}` is not a field name, position or JSON selector"),
            ))
        }
    }
}

/// A [`Reference`] resolved against its pattern once, so that evaluating a metric filter on
/// every matching event does no parsing and no name lookup: a named field becomes its place.
#[derive(Clone, Debug)]
pub(crate) enum Planned {
    Place(Place),
    Position(usize),
    Json(Selector),
    /// A name the pattern does not bind (validation rejects it): never resolves.
    Missing,
}

impl Planned {
    pub(crate) fn new(r: Reference<'_>, pattern: &Pattern) -> Planned {
        match r {
            Reference::Field(name) => match &pattern.kind {
                Kind::Space(s) => s
                    .names
                    .iter()
                    .find(|(n, _)| &**n == name)
                    .map_or(Planned::Missing, |&(_, place)| Planned::Place(place)),
                _ => Planned::Missing,
            },
            Reference::Position(n) => Planned::Position(n),
            Reference::Json(sel) => Planned::Json(sel),
        }
    }
}

impl<'a> Captures<'a> {
    pub(crate) fn space(event: &'a str, pattern: &'a Space, spans: Cow<'a, [Span]>) -> Self {
        Captures {
            event,
            inner: Inner::Space { pattern, spans },
        }
    }

    /// The matched event's text.
    pub fn event(&self) -> &'a str {
        self.event
    }

    /// A named field of a space-delimited pattern (`name` or `$name`).
    pub fn field(&self, name: &str) -> Option<&'a str> {
        let name = name.strip_prefix('$').unwrap_or(name);
        let Inner::Space { pattern, spans } = &self.inner else {
            return None;
        };
        let &(_, place) = pattern.names.iter().find(|(n, _)| &**n == name)?;
        let (s, e) = *spans.get(pattern.index(place, spans.len()))?;
        self.event.get(s..e)
    }

    /// Field `n` (1-based) of a space-delimited event, named in the pattern or not.
    pub fn position(&self, n: usize) -> Option<&'a str> {
        let Inner::Space { spans, .. } = &self.inner else {
            return None;
        };
        let &(s, e) = spans.get(n.checked_sub(1)?)?;
        self.event.get(s..e)
    }

    /// The value a JSON selector (`$.a.b`) reaches, as text: strings unescaped, numbers as
    /// written, `true`/`false`. `None` when nothing, `null`, an object or an array is there.
    pub fn json(&self, selector: &str) -> Option<Cow<'a, str>> {
        let sel = Selector::parse_str(selector).ok()?;
        self.json_value(&sel)
    }

    fn json_value(&self, sel: &Selector) -> Option<Cow<'a, str>> {
        if !matches!(self.inner, Inner::Json) {
            return None;
        }
        match selector::first(self.event.as_bytes(), sel)?.text()? {
            Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(v) => String::from_utf8(v).ok().map(Cow::Owned),
        }
    }

    /// A value by reference: `$name`, `$7` or `$.a.b`.
    pub fn get(&self, reference: &str) -> Option<Cow<'a, str>> {
        self.resolve(&Reference::parse(reference).ok()?)
    }

    pub(crate) fn resolve(&self, r: &Reference<'_>) -> Option<Cow<'a, str>> {
        match r {
            Reference::Field(name) => self.field(name).map(Cow::Borrowed),
            Reference::Position(n) => self.position(*n).map(Cow::Borrowed),
            Reference::Json(sel) => self.json_value(sel),
        }
    }

    /// [`Captures::resolve`] for a reference planned against this match's pattern.
    #[inline]
    pub(crate) fn resolve_planned(&self, r: &Planned) -> Option<Cow<'a, str>> {
        match r {
            Planned::Place(place) => {
                let Inner::Space { pattern, spans } = &self.inner else {
                    return None;
                };
                let (s, e) = *spans.get(pattern.index(*place, spans.len()))?;
                self.event.get(s..e).map(Cow::Borrowed)
            }
            Planned::Position(n) => self.position(*n).map(Cow::Borrowed),
            Planned::Json(sel) => self.json_value(sel),
            Planned::Missing => None,
        }
    }

    /// A value by reference, as a number (in the pattern language's number syntax).
    pub fn number(&self, reference: &str) -> Option<f64> {
        let text = self.get(reference)?;
        parse_num(text.as_bytes()).map(|n| n.as_f64())
    }

    /// Every field of a space-delimited match, as AWS's test-metric-filter lists them: named
    /// fields as `$name`, the others as `$position`, in field order. Empty for other styles.
    pub fn extracted(&self) -> Vec<(String, &'a str)> {
        let Inner::Space { pattern, spans } = &self.inner else {
            return Vec::new();
        };
        spans
            .iter()
            .enumerate()
            .map(|(i, &(s, e))| {
                let key = match pattern.name_at(i, spans.len()) {
                    Some(name) => format!("${name}"),
                    None => format!("${}", i + 1),
                };
                (key, self.event.get(s..e).unwrap_or_default())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            Reference::parse("$bytes").unwrap(),
            Reference::Field("bytes")
        );
        assert_eq!(Reference::parse("$7").unwrap(), Reference::Position(7));
        assert!(matches!(
            Reference::parse("$.a.b").unwrap(),
            Reference::Json(_)
        ));
        for bad in [
            "bytes",
            "$",
            "$0",
            "$1x",
            "$a b",
            "$.",
            "$9999999999999999999999",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
