//! Errors: invalid alarm definitions, alarm-rule syntax errors that point at a byte with a
//! caret, and composite-alarm cycles.

use std::fmt;

/// Why an alarm definition cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AlarmError {
    /// A field breaks one of PutMetricAlarm's or PutCompositeAlarm's rules.
    #[error("alarm {alarm}: {field}: {message}")]
    Invalid {
        alarm: String,
        field: &'static str,
        message: String,
    },
    /// Valid for AWS, but beyond what this crate evaluates (general metric math).
    #[error("alarm {alarm}: {field}: {message} (not supported)")]
    Unsupported {
        alarm: String,
        field: &'static str,
        message: String,
    },
    /// The composite alarm's `AlarmRule` does not parse.
    #[error("alarm {alarm}: AlarmRule: {source}")]
    Rule {
        alarm: String,
        #[source]
        source: RuleError,
    },
    /// Composite alarms that (indirectly) reference themselves; none of them is evaluated.
    #[error("composite alarms form a cycle: {}", .path.join(" -> "))]
    Cycle { path: Vec<String> },
}

pub type Result<T> = std::result::Result<T, AlarmError>;

pub(crate) fn invalid(alarm: &str, field: &'static str, message: impl Into<String>) -> AlarmError {
    AlarmError::Invalid {
        alarm: alarm.to_string(),
        field,
        message: message.into(),
    }
}

pub(crate) fn unsupported(
    alarm: &str,
    field: &'static str,
    message: impl Into<String>,
) -> AlarmError {
    AlarmError::Unsupported {
        alarm: alarm.to_string(),
        field,
        message: message.into(),
    }
}

/// A syntax error in a composite alarm rule, with the byte range it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub message: String,
    /// Byte offsets into the rule text, `start <= end`.
    pub start: usize,
    pub end: usize,
    pub help: Option<String>,
}

impl RuleError {
    pub(crate) fn new(message: impl Into<String>, start: usize, end: usize) -> RuleError {
        RuleError {
            message: message.into(),
            start,
            end: end.max(start),
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> RuleError {
        self.help = Some(help.into());
        self
    }

    /// The error as a user sees it, the rule's line with a caret under the problem:
    ///
    /// ```text
    /// error: expected `(` after ALARM at byte 6
    ///   |
    /// 1 | ALARM CPUHigh
    ///   |       ^^^^^^^
    /// ```
    pub fn render(&self, rule: &str) -> String {
        let start = floor_char_boundary(rule, self.start);
        let line_start = rule[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = rule[start..].find('\n').map_or(rule.len(), |i| start + i);
        let line_no = rule[..start].matches('\n').count() + 1;
        let end = floor_char_boundary(rule, self.end.clamp(start, line_end));
        let column = rule[line_start..start].chars().count();
        let width = rule[start..end].chars().count().max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        let mut out = format!(
            "error: {} at byte {}\n{gutter} |\n{line_no} | {}\n{gutter} | {}{}",
            self.message,
            self.start,
            &rule[line_start..line_end],
            " ".repeat(column),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("\n{gutter} = help: {help}"));
        }
        out
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.start)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleError {}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_the_span() {
        let e = RuleError::new("expected `(` after ALARM", 6, 13);
        assert_eq!(
            e.render("ALARM CPUHigh"),
            "error: expected `(` after ALARM at byte 6\n  |\n1 | ALARM CPUHigh\n  |       ^^^^^^^"
        );
    }

    #[test]
    fn render_at_end_of_input_has_one_caret() {
        let e = RuleError::new("unexpected end of rule", 8, 8).with_help("close the `(`");
        assert_eq!(
            e.render("ALARM(a "),
            "error: unexpected end of rule at byte 8\n  |\n1 | ALARM(a \n  |         ^\n  = help: close the `(`"
        );
    }

    #[test]
    fn render_second_line_and_multibyte() {
        let rule = "ALARM(é)\nAND x";
        let e = RuleError::new("expected a state function", 14, 15);
        assert_eq!(
            e.render(rule),
            "error: expected a state function at byte 14\n  |\n2 | AND x\n  |     ^"
        );
    }

    #[test]
    fn invalid_message_names_alarm_and_field() {
        let e = invalid("cpu", "Period", "45 is not 10, 20, 30 or a multiple of 60");
        assert_eq!(
            e.to_string(),
            "alarm cpu: Period: 45 is not 10, 20, 30 or a multiple of 60"
        );
    }
}
