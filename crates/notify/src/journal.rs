//! The two files of a notification directory, both newline-delimited JSON, appended with one
//! `write` and fsync'd before the call returns:
//!
//! ```text
//! <dir>/outbox.ndjson       one Notification per line: accepted, maybe not yet final
//! <dir>/deliveries.ndjson   one Delivery per line: failed attempts and final outcomes
//! <dir>/.lock               held (OS file lock) by the one dispatcher using the directory
//! ```
//!
//! A notification is pending while it is in the outbox without a final record in the log.
//! The order of writes makes every crash safe: the outbox line is durable before `submit`
//! returns; a final record is durable before compaction may drop the outbox line; compaction
//! replaces the outbox by rename. A crash can only tear the last line of a file (an
//! unacknowledged submit, or an outcome whose attempt is then made again); opening truncates
//! such a line away.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::delivery::Delivery;
use crate::error::{IoContext, NotifyError, Result};
use crate::notification::Notification;

pub(crate) const OUTBOX: &str = "outbox.ndjson";
pub(crate) const LOG: &str = "deliveries.ndjson";
const LOCK: &str = ".lock";

pub(crate) struct Journal {
    dir: PathBuf,
    outbox: File,
    log: File,
    _lock: File,
}

/// What a directory held when it was opened.
pub(crate) struct Loaded {
    pub outbox: Vec<Notification>,
    pub log: Vec<Delivery>,
}

impl Journal {
    /// Locks `dir` (creating it), repairs torn last lines, and reads both files.
    pub fn open(dir: &Path) -> Result<(Journal, Loaded)> {
        fs::create_dir_all(dir).at(dir)?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .at(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(NotifyError::Busy(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(e).at(&lock_path),
        }
        let outbox_path = dir.join(OUTBOX);
        let log_path = dir.join(LOG);
        repair(&outbox_path)?;
        repair(&log_path)?;
        let loaded = Loaded {
            outbox: read_records(&outbox_path)?,
            log: read_records(&log_path)?,
        };
        let journal = Journal {
            dir: dir.to_path_buf(),
            outbox: append(&outbox_path)?,
            log: append(&log_path)?,
            _lock: lock,
        };
        sync_dir(dir);
        Ok((journal, loaded))
    }

    pub fn append_outbox(&mut self, n: &Notification) -> Result<()> {
        let path = self.dir.join(OUTBOX);
        write_line(&mut self.outbox, n, &path)
    }

    pub fn append_log(&mut self, d: &Delivery) -> Result<()> {
        let path = self.dir.join(LOG);
        write_line(&mut self.log, d, &path)
    }

    /// Replaces the outbox with `pending` (temporary file, fsync, rename, directory fsync).
    pub fn rewrite_outbox<'a>(
        &mut self,
        pending: impl IntoIterator<Item = &'a Notification>,
    ) -> Result<()> {
        let path = self.dir.join(OUTBOX);
        let tmp = self.dir.join(format!(".{OUTBOX}.tmp"));
        let mut bytes = Vec::new();
        for n in pending {
            line(n, &mut bytes, &path)?;
        }
        // The new file's own handle becomes the append handle: nothing can fail between
        // the rename and the switch, so appends never go to the replaced file.
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&tmp)
            .at(&tmp)?;
        f.write_all(&bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
        fs::rename(&tmp, &path).at(&path)?;
        self.outbox = f;
        sync_dir(&self.dir);
        Ok(())
    }
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .at(path)
}

fn line<T: Serialize>(record: &T, out: &mut Vec<u8>, path: &Path) -> Result<()> {
    serde_json::to_writer(&mut *out, record)
        .map_err(std::io::Error::other)
        .at(path)?;
    out.push(b'\n');
    Ok(())
}

/// One `write` call per record: with `O_APPEND` a record is never interleaved with another.
fn write_line<T: Serialize>(file: &mut File, record: &T, path: &Path) -> Result<()> {
    let mut bytes = Vec::with_capacity(512);
    line(record, &mut bytes, path)?;
    file.write_all(&bytes).at(path)?;
    file.sync_data().at(path)
}

/// Makes a rename or a file creation durable; best effort (not every filesystem allows
/// opening a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Truncates a torn last line (no final newline): the write it belongs to never returned.
fn repair(path: &Path) -> Result<()> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).at(path),
    };
    if bytes.last().is_none_or(|&b| b == b'\n') {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let f = OpenOptions::new().write(true).open(path).at(path)?;
    f.set_len(keep as u64).at(path)?;
    f.sync_all().at(path)
}

/// Every complete line of `path` (a missing file is empty). A last line without its newline
/// is a write in progress and is left out; any other line that is not a record is an error.
pub(crate) fn read_records<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).at(path),
    };
    let mut out = Vec::new();
    let mut lines = bytes.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((i, text)) = lines.next() {
        if lines.peek().is_none() {
            // After the last newline: empty, or a write in progress.
            break;
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = serde_json::from_slice(text).map_err(|e| NotifyError::Corrupt {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?;
        out.push(record);
    }
    Ok(out)
}

/// The delivery log of `dir`, oldest first. Safe to call while a dispatcher is writing it.
pub fn deliveries(dir: &Path) -> Result<Vec<Delivery>> {
    read_records(&dir.join(LOG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Outcome;
    use flowwatch_alarm::StateValue;

    fn n(id: &str) -> Notification {
        Notification {
            id: id.into(),
            target_arn: "arn:aws:sns:us-east-1:1:ops".into(),
            alarm_name: "a".into(),
            alarm_arn: "arn:aws:cloudwatch:us-east-1:1:alarm:a".into(),
            alarm_type: "MetricAlarm".into(),
            old_state: StateValue::Ok,
            new_state: StateValue::Alarm,
            reason: "r".into(),
            state_change_time: "2025-05-14T01:58:11.589+0000".into(),
            subject: "s".into(),
            sns_message: "{}".into(),
            alertmanager: "[]".into(),
        }
    }

    #[test]
    fn torn_last_lines_are_repaired_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (mut j, loaded) = Journal::open(dir.path()).expect("open");
            assert!(loaded.outbox.is_empty() && loaded.log.is_empty());
            j.append_outbox(&n("1")).expect("append");
            j.append_log(&Delivery::new(
                &n("1"),
                Outcome::Delivered,
                1,
                String::new(),
            ))
            .expect("append");
        }
        // A crash in the middle of the next appends.
        let outbox = dir.path().join(OUTBOX);
        let log = dir.path().join(LOG);
        let mut f = append(&outbox).expect("open");
        f.write_all(b"{\"id\":\"2\",\"tar").expect("write");
        let mut f = append(&log).expect("open");
        f.write_all(b"{\"id\":").expect("write");
        // Readers skip the torn line even before a repair.
        assert_eq!(deliveries(dir.path()).expect("read").len(), 1);

        let (mut j, loaded) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(loaded.outbox, vec![n("1")]);
        assert_eq!(loaded.log.len(), 1);
        j.append_outbox(&n("3")).expect("append after repair");
        drop(j);
        let (_j, loaded) = Journal::open(dir.path()).expect("reopen");
        let ids: Vec<_> = loaded.outbox.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["1", "3"]);
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(LOG), "\nnot json\n").expect("write");
        let err = deliveries(dir.path()).expect_err("corrupt").to_string();
        assert!(err.contains("deliveries.ndjson line 2: expected"), "{err}");
    }

    #[test]
    fn rewrite_replaces_the_outbox_and_appends_continue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut j, _) = Journal::open(dir.path()).expect("open");
        for id in ["1", "2", "3"] {
            j.append_outbox(&n(id)).expect("append");
        }
        let keep = n("2");
        j.rewrite_outbox([&keep]).expect("rewrite");
        j.append_outbox(&n("4")).expect("append");
        let ids: Vec<String> = read_records::<Notification>(&dir.path().join(OUTBOX))
            .expect("read")
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, ["2", "4"]);
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");
    }

    #[test]
    fn one_dispatcher_per_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _held = Journal::open(dir.path()).expect("open");
        assert!(matches!(
            Journal::open(dir.path()),
            Err(NotifyError::Busy(_))
        ));
    }
}
