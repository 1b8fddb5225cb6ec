//! Store errors.

use std::io;
use std::path::PathBuf;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{}: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "invalid log group name '{0}': use 1-512 characters from a-z A-Z 0-9 . - _ / # (CloudWatch's rule)"
    )]
    BadGroupName(String),
    #[error(
        "invalid retention {0} days: CloudWatch allows 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (or never)"
    )]
    BadRetention(u32),
    #[error("log group '{0}' does not exist: see `flowwatch log-groups list`")]
    NoSuchGroup(String),
    #[error("{} is not a flowwatch data directory (no groups/ folder): ingest something first, or pass --data-dir", .0.display())]
    NotAStore(std::path::PathBuf),
    #[error("{}: another flowwatch process is writing to this data directory; wait for it or use another --data-dir", .0.display())]
    Busy(PathBuf),
    #[error("log group '{0}' already exists")]
    GroupExists(String),
}

pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| StoreError::Io {
            path: path.into(),
            source,
        })
    }
}
