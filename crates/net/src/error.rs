//! Errors and load-time problems. Loading never fails as a whole: each file or item that
//! cannot be used becomes a [`Problem`] naming the file (and line/column for malformed JSON)
//! and the ids involved, and the rest of the snapshot loads.

use std::path::PathBuf;

use serde::Serialize;

/// Why a query cannot be answered at all (as opposed to "not reachable", which is an answer).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The snapshot root does not exist or is not a directory.
    #[error("snapshot {0}: not a directory")]
    NotADirectory(PathBuf),
    /// A source or destination id that no resource of the snapshot has.
    #[error("unknown resource {0}")]
    UnknownResource(String),
    /// A source or destination that cannot play that role (e.g. a route table).
    #[error("{id}: a {kind} cannot be the {role} of a path")]
    UnsupportedEndpoint {
        id: String,
        kind: &'static str,
        role: &'static str,
    },
    /// A query field out of range (e.g. a port on a protocol without ports).
    #[error("query: {0}")]
    InvalidQuery(String),
    /// A Network Access Scope that cannot be parsed.
    #[error("access scope: {0}")]
    InvalidScope(String),
}

pub type Result<T> = std::result::Result<T, NetError>;

/// How much a problem matters for analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: a key that is not modelled, a non-active resource skipped.
    Note,
    /// Something is missing or dangling; analysis goes on without it.
    Warning,
    /// A file or item could not be read at all.
    Error,
}

/// One thing the loader could not use, with enough context to find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The file, relative to the snapshot root when possible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Resource ids involved (the referring resource first, then the missing one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let (Some(l), Some(c)) = (self.line, self.column) {
                write!(f, ":{l}:{c}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if !self.ids.is_empty() {
            write!(f, " ({})", self.ids.join(", "))?;
        }
        Ok(())
    }
}
