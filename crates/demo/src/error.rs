//! The demo generator's error type.

use std::path::PathBuf;

/// Why [`generate`](crate::generate) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error("scale must be a finite number in (0, {max}], got {got}")]
    InvalidScale { got: f64, max: f64 },
    #[error("output directory {} is not empty: refusing to mix two demo days", .0.display())]
    OutputNotEmpty(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode parquet file {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot build arrow batch for {}: {source}", path.display())]
    Arrow {
        path: PathBuf,
        source: arrow::error::ArrowError,
    },
}

/// Result alias for this crate.
pub type Result<T, E = DemoError> = std::result::Result<T, E>;
