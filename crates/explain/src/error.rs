//! Errors of reading stored flow logs. Explaining itself never fails: a record that cannot be
//! used is skipped and counted with its [`crate::SkipReason`].

use std::path::PathBuf;

use flowwatch_store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// The store or the log group could not be opened or listed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A data file of the store could not be read.
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
}

pub type Result<T> = std::result::Result<T, ExplainError>;
