//! Errors: a definition file that cannot be read or parsed (naming the file, line and column),
//! invalid definitions, and IO under the data directory (naming the path).

use std::path::PathBuf;

/// `Result` with this crate's [`MonitorError`].
pub type Result<T, E = MonitorError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A definition file is not valid JSON or not one of the accepted shapes.
    #[error("{source_name}: line {line}, column {column}: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Definitions that [`crate::check()`] rejected; each entry is one rendered problem.
    #[error("{} invalid definition(s):\n{}", .0.len(), .0.join("\n"))]
    Invalid(Vec<String>),
    /// A stored Parquet file could not be read.
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    /// The data directory's store could not be opened or listed.
    #[error(transparent)]
    Store(#[from] flowwatch_store::StoreError),
    /// A contributor report the engine refused (unknown rule, bad period or range).
    #[error(transparent)]
    Contrib(#[from] flowwatch_contrib::ContribError),
}

pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| MonitorError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}
