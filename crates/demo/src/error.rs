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
    /// A shipped asset is broken (a bug in this crate, caught by its tests).
    #[error("demo asset {name} is invalid: {message}")]
    Asset { name: &'static str, message: String },
    #[error("the demo snapshot in {} has a problem: {message}", dir.display())]
    Snapshot { dir: PathBuf, message: String },
    #[error(transparent)]
    Sim(#[from] flowwatch_sim::SimError),
}

/// Result alias for this crate.
pub type Result<T, E = DemoError> = std::result::Result<T, E>;
