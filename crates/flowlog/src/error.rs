//! Errors and diagnostics of the readers.
//!
//! A [`ReadError`] stops one source (the records read before it are kept); a [`Rejection`] is one
//! bad record, counted and quarantined, never fatal to its source.

use std::io;

/// Why a whole source could not be read (or stopped early).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{source_name}: {source}")]
    Io {
        source_name: String,
        source: io::Error,
    },
    #[error(
        "{source_name}: gzip data is truncated or corrupt near compressed byte {offset} ({detail}); records before it were kept"
    )]
    Gzip {
        source_name: String,
        offset: u64,
        detail: String,
    },
    #[error("{source_name}: {detail}")]
    Format { source_name: String, detail: String },
}

impl ReadError {
    pub fn format(source_name: &str, detail: impl Into<String>) -> ReadError {
        ReadError::Format {
            source_name: source_name.to_string(),
            detail: detail.into(),
        }
    }
}

/// One rejected record: where it was, why, and its text (for the quarantine file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line number in the (decompressed) source, or the record/row number for JSON and
    /// Parquet sources.
    pub line: u64,
    pub reason: String,
    /// The offending text, lossily decoded, at most [`MAX_LINE`] bytes.
    pub text: String,
}

/// Records longer than this are rejected: no flow-log record comes close (the longest v11 line
/// with tags is under 4 KiB), so a longer line is corruption or the wrong file.
pub const MAX_LINE: usize = 64 * 1024;
