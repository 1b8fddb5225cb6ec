//! Errors: a [`PatternError`] points at a byte offset of the pattern text and says what was
//! expected there; [`enum@Error`] adds the metric-transformation and metric-filter checks of
//! PutMetricFilter, each naming the field that is wrong.

use thiserror::Error;

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can be wrong with a metric filter definition.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The filter pattern does not parse.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// A field of a metric transformation or filter breaks one of CloudWatch's rules
    /// (`field` is the AWS JSON name, such as `metricName`).
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl Error {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A filter pattern that does not parse: where (`offset`, `len` bytes), what is wrong and, for
/// a syntax error, what the parser expected there.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message} at byte {offset}")]
pub struct PatternError {
    /// Byte offset of the problem in the pattern text.
    pub offset: usize,
    /// Length in bytes of the offending text (0 at the end of the pattern).
    pub len: usize,
    /// The whole message, such as ``expected `,` or `]`, found `;` ``.
    pub message: String,
    /// What the parser would have accepted at `offset`, when the error is a syntax error.
    pub expected: Option<String>,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl PatternError {
    pub(crate) fn new(offset: usize, len: usize, message: impl Into<String>) -> PatternError {
        PatternError {
            offset,
            len,
            message: message.into(),
            expected: None,
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> PatternError {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column (in characters) of the error in `pattern`.
    pub fn position(&self, pattern: &str) -> (usize, usize) {
        let start = floor_char_boundary(pattern, self.offset);
        let before = &pattern[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, pattern[line_start..start].chars().count() + 1)
    }

    /// The error as a user sees it, with the pattern's line and a caret under the problem:
    ///
    /// ```text
    /// error: expected `,` or `]` after field `b`, found `;` at line 1, column 5
    ///   |
    /// 1 | [a, b; c]
    ///   |      ^
    ///   = help: fields are separated by commas
    /// ```
    pub fn render(&self, pattern: &str) -> String {
        let (line, column) = self.position(pattern);
        let start = floor_char_boundary(pattern, self.offset);
        let line_start = pattern[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = pattern[start..]
            .find('\n')
            .map_or(pattern.len(), |i| start + i);
        let text = &pattern[line_start..line_end];
        let end = floor_char_boundary(pattern, (self.offset + self.len).clamp(start, line_end));
        let width = pattern[start..end].chars().count().max(1);
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let mut out = format!(
            "error: {} at line {line}, column {column}\n{pad} |\n{line} | {text}\n{pad} | {}{}",
            self.message,
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("\n{pad} = help: {help}"));
        }
        out
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_the_offset() {
        let e = PatternError::new(5, 1, "expected `,` or `]`, found `;`").with_help("commas");
        let got = e.render("[a, b; c]");
        assert_eq!(
            got,
            "error: expected `,` or `]`, found `;` at line 1, column 6\n  |\n1 | [a, b; c]\n  |      ^\n  = help: commas"
        );
    }

    #[test]
    fn render_at_end_and_on_later_lines() {
        let e = PatternError::new(10, 0, "expected `}`");
        assert!(
            e.render("{\n $.a = 1")
                .ends_with("2 |  $.a = 1\n  |         ^")
        );
        // Offsets inside a multibyte character, or past the end, never panic.
        let e = PatternError::new(2, 3, "x");
        assert!(e.render("é").contains('^'));
        let e = PatternError::new(99, 3, "x");
        assert!(e.render("ab").contains('^'));
    }
}
