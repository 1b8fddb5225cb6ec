//! Errors: [`RuleError`] for a rule that PutInsightRule would refuse (naming the rule, the
//! offending key and, inside a JSON path, the byte), and [`ContribError`] for misuse of the
//! engine (an unknown rule, a bad report request).

use std::fmt;

/// `Result` with this crate's [`ContribError`].
pub type Result<T, E = ContribError> = std::result::Result<T, E>;

/// One problem with one rule: `rule "TopTalkers": Contribution.Keys[1]: unknown CLF field
/// "dst"`. `key` is the path of the offending key inside the rule body (`Definition` when the
/// body is not JSON, `Name` for the rule name); `position` is a byte offset inside that key's
/// string value (a JSON path) when the problem is at one place in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub rule: String,
    pub key: String,
    pub position: Option<usize>,
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(rule: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError {
            rule: rule.to_string(),
            key: key.into(),
            position: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    /// The problem without the rule's name: `Contribution.Keys[0]: byte 3: …`, for callers
    /// that name the rule themselves.
    pub fn detail(&self) -> String {
        match self.position {
            Some(p) => format!("{}: byte {p}: {}", self.key, self.message),
            None => format!("{}: {}", self.key, self.message),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule \"{}\": {}", self.rule, self.detail())
    }
}

impl std::error::Error for RuleError {}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContribError {
    /// Rules that did not validate (every problem found, in order).
    #[error("{} invalid rule definition(s):\n{}", .0.len(), list(.0))]
    InvalidRules(Vec<RuleError>),
    /// Two rules given to one engine share a name.
    #[error("rule \"{0}\" is given twice")]
    DuplicateRule(String),
    #[error("no rule named \"{0}\"")]
    UnknownRule(String),
    /// A report or metric request the API would refuse (`field` is its parameter name).
    #[error("{field}: {message}")]
    InvalidRequest {
        field: &'static str,
        message: String,
    },
}

fn list(errors: &[RuleError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_rule_key_and_byte() {
        let e = RuleError::new("r", "Contribution.Keys[0]", "expected a property name").at(4);
        assert_eq!(
            e.to_string(),
            "rule \"r\": Contribution.Keys[0]: byte 4: expected a property name"
        );
        let e = RuleError::new("r", "AggregateOn", "is required");
        assert_eq!(e.detail(), "AggregateOn: is required");
    }
}
