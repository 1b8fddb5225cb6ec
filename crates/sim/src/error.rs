//! The simulator's error type.

use std::path::PathBuf;

/// Why parsing a traffic file, simulating or writing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The traffic file is not valid: `line` is 1-based (0 when unknown).
    #[error("line {line} of the traffic file: {message}")]
    Traffic { line: usize, message: String },
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode {} as Parquet: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
}

impl SimError {
    pub(crate) fn traffic(line: usize, message: impl Into<String>) -> Self {
        SimError::Traffic {
            line,
            message: message.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
