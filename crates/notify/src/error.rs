//! Errors of this crate: invalid notification targets (with the entry and field they are
//! about), IO on the outbox and the delivery log, and a closed dispatcher. A failed
//! *delivery* is not an error: it is an outcome, recorded in the delivery log.

use std::io;
use std::path::{Path, PathBuf};

pub type Result<T, E = NotifyError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// One `NotificationTargets` entry breaks a rule; `index` is its position in the list.
    #[error("NotificationTargets[{index}] ({arn}): {field}: {message}")]
    InvalidTarget {
        index: usize,
        arn: String,
        field: &'static str,
        message: String,
    },
    /// Every problem of a target list at once, so a user fixes them in one go.
    #[error("{}", join(.0))]
    InvalidTargets(Vec<NotifyError>),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A line of the outbox or the delivery log that is not a record (a torn last line is
    /// repaired, not reported).
    #[error("{} line {line}: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{}: another flowwatch process is delivering notifications from this directory",
        .0.display()
    )]
    Busy(PathBuf),
    /// `submit` after `shutdown` began.
    #[error("the notification dispatcher is shut down; notification {0} was not accepted")]
    ShutDown(String),
}

fn join(errors: &[NotifyError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| NotifyError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}
