//! Query errors that point at the problem: line, column, the line itself and a caret.

use std::fmt;

use crate::ast::Span;

/// A problem in a query, with where it is and, when there is one, a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl QueryError {
    pub fn new(message: impl Into<String>, span: Span) -> QueryError {
        QueryError {
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> QueryError {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column (in characters) of the error's start.
    pub fn position(&self, query: &str) -> (usize, usize) {
        let start = floor_char_boundary(query, self.span.start);
        let before = &query[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, query[line_start..start].chars().count() + 1)
    }

    /// The error as a user sees it:
    ///
    /// ```text
    /// error: unknown function `cont` at line 1, column 7
    ///   |
    /// 1 | stats cont(*) by srcAddr
    ///   |       ^^^^
    ///   = help: did you mean `count`?
    /// ```
    pub fn render(&self, query: &str) -> String {
        let (line, column) = self.position(query);
        let start = floor_char_boundary(query, self.span.start);
        let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = query[start..].find('\n').map_or(query.len(), |i| start + i);
        let text = &query[line_start..line_end];
        let end = floor_char_boundary(query, self.span.end.clamp(start, line_end));
        let width = query[start..end].chars().count().max(1);
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

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
