//! [`Pattern`]: a parsed, precompiled filter pattern of any of the three styles, and the
//! matching entry points.

use std::borrow::Cow;

use crate::captures::{Captures, Inner};
use crate::error::PatternError;
use crate::fields::{Event, Span, Splitter};
use crate::json::{self, Json};
use crate::space::{self, Space};
use crate::terms::{self, Terms};

/// Which of the pattern language's styles a pattern is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Empty, blank, `""` or `" "`: every event matches.
    All,
    /// Unstructured terms: `ERROR -Exiting`, `?ERROR ?WARN`, `"exact phrase"`, `%regex%`.
    Terms,
    /// `{ $.selector op value && ... }`.
    Json,
    /// `[name, name=value, ...]`.
    SpaceDelimited,
}

/// Something in a pattern that parses but probably does not do what its author meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternWarning {
    /// Byte offset in the pattern text.
    pub offset: usize,
    pub message: String,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    All,
    Terms(Terms),
    Json(Json),
    Space(Space),
}

/// A parsed filter pattern, compiled for matching: literals are `memmem` finders, regexes are
/// built, numbers are parsed, so matching an event does no parsing of the pattern and, for
/// [`Pattern::is_match`] and [`Pattern::matches_event`], no allocation.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    pub(crate) kind: Kind,
    warnings: Vec<PatternWarning>,
}

impl Pattern {
    /// Parses a filter pattern. The style is chosen by the first non-blank character: `{` is
    /// JSON, `[` space-delimited, anything else unstructured terms.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let mut warnings = Vec::new();
        let start = text.len() - text.trim_start().len();
        let kind = match text.as_bytes().get(start) {
            None => Kind::All,
            Some(b'{') => Kind::Json(json::parse(text, start)?),
            Some(b'[') => Kind::Space(space::parse(text, start)?),
            Some(_) => {
                let t = terms::parse(text, &mut warnings)?;
                if t.matches_everything() {
                    Kind::All
                } else {
                    Kind::Terms(t)
                }
            }
        };
        Ok(Pattern {
            text: text.to_owned(),
            kind,
            warnings,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn style(&self) -> Style {
        match self.kind {
            Kind::All => Style::All,
            Kind::Terms(_) => Style::Terms,
            Kind::Json(_) => Style::Json,
            Kind::Space(_) => Style::SpaceDelimited,
        }
    }

    /// Parts of the pattern that have no effect (such as `?` terms next to plain terms).
    pub fn warnings(&self) -> &[PatternWarning] {
        &self.warnings
    }

    /// The field names of a space-delimited pattern, in slot order (empty for other styles).
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        let names = match &self.kind {
            Kind::Space(s) => s.names.as_slice(),
            _ => &[],
        };
        names.iter().map(|(n, _)| &**n)
    }

    /// Whether a space-delimited pattern always binds field `position` (1-based): true for a
    /// slot before `...` or, without `...`, any slot.
    pub(crate) fn has_fixed_position(&self, position: usize) -> bool {
        match &self.kind {
            Kind::Space(s) => position >= 1 && (position <= s.front.len()),
            _ => false,
        }
    }

    /// A cheap necessary condition: false means the event cannot match. A JSON pattern needs
    /// an event whose first non-blank byte is `{`; other styles always pass.
    #[inline]
    pub fn may_match(&self, event: &str) -> bool {
        match self.kind {
            Kind::Json(_) => starts_like_json(event.as_bytes()),
            _ => true,
        }
    }

    /// Whether `event` matches. Allocation-free (space-delimited patterns split the event as
    /// they go and stop at the first failed condition). To test many patterns against one
    /// event, split it once with [`crate::FieldBuf`] and use [`Pattern::is_match_event`].
    #[inline]
    pub fn is_match(&self, event: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => t.is_match(event.as_bytes()),
            Kind::Json(j) => starts_like_json(event.as_bytes()) && j.is_match(event.as_bytes()),
            Kind::Space(s) => s.is_match_streaming(event.as_bytes()),
        }
    }

    /// Whether an already split event matches.
    #[inline]
    pub fn is_match_event(&self, event: Event<'_>) -> bool {
        let text = event.text.as_bytes();
        match &self.kind {
            Kind::Space(s) => s.is_match_spans(text, event.spans),
            Kind::Terms(t) => t.is_match(text),
            Kind::Json(j) => starts_like_json(text) && j.is_match(text),
            Kind::All => true,
        }
    }

    /// Matches `event` and gives access to its extracted values. For a space-delimited
    /// pattern this allocates the list of fields; [`Pattern::matches_event`] does not.
    pub fn matches<'a>(&'a self, event: &'a str) -> Option<Captures<'a>> {
        match &self.kind {
            Kind::Space(s) => {
                let spans: Vec<Span> = Splitter::new(event.as_bytes()).collect();
                s.is_match_spans(event.as_bytes(), &spans)
                    .then(|| Captures::space(event, s, Cow::Owned(spans)))
            }
            _ => self.is_match(event).then(|| self.captures_unsplit(event)),
        }
    }

    /// Matches an already split event; the captures borrow its fields.
    #[inline]
    pub fn matches_event<'a>(&'a self, event: Event<'a>) -> Option<Captures<'a>> {
        match &self.kind {
            Kind::Space(s) => s
                .is_match_spans(event.text.as_bytes(), event.spans)
                .then(|| Captures::space(event.text, s, Cow::Borrowed(event.spans))),
            _ => self
                .is_match(event.text)
                .then(|| self.captures_unsplit(event.text)),
        }
    }

    fn captures_unsplit<'a>(&'a self, event: &'a str) -> Captures<'a> {
        Captures {
            event,
            inner: match self.kind {
                Kind::Json(_) => Inner::Json,
                _ => Inner::Text,
            },
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Pattern, PatternError> {
        Pattern::parse(s)
    }
}

#[inline]
fn starts_like_json(b: &[u8]) -> bool {
    b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
}
