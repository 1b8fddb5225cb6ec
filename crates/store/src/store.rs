//! The store: a directory of log groups, each a Hive-partitioned Parquet table, changed only
//! through transactions.
//!
//! Commit protocol (crash-safe at every step; see ARCHITECTURE.md):
//! 1. data files are written and fsync'd under `_staging/<txn>/`;
//! 2. the transaction record (files to add and remove, sources ingested) is written to a temp
//!    file, fsync'd, and linked to `_txn/<seq>.json` — **the commit point**;
//! 3. staged files are renamed into their partitions, removed files deleted;
//! 4. an `<seq>.applied` marker is written.
//!
//! Opening the store redoes step 3 for every record without a marker (renames and deletes are
//! idempotent) and deletes staging directories no record names. So after any crash the next
//! run sees either the whole transaction or none of it, with no manual step. Files in partition
//! directories are always complete: they only ever arrive there by rename.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result, StoreError};
use crate::group::{self, GroupMeta};
use crate::writer::{PartitionedWriter, WrittenFile};

const GROUPS: &str = "groups";
const TXN: &str = "_txn";
const STAGING: &str = "_staging";
const QUARANTINE: &str = "quarantine";
const GROUP_META: &str = "_group.json";
const CHECKPOINT: &str = "checkpoint.json";
/// Records kept before they are folded into the checkpoint.
const CHECKPOINT_AFTER: usize = 256;

/// A source (file, object, stream) ingested in a transaction: the idempotency ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// Content hash: the same bytes ingested again into the same group are recognised.
    pub key: String,
    pub name: String,
    pub bytes: u64,
    pub records: u64,
    pub rejected: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FileEntry {
    staging: String,
    path: String,
    rows: u64,
    bytes: u64,
    min_ts: i64,
    max_ts: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TxnRecord {
    id: String,
    seq: u64,
    kind: String,
    group: String,
    created_ms: i64,
    added: Vec<FileEntry>,
    removed: Vec<String>,
    sources: Vec<SourceEntry>,
    quarantine: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    last_seq: u64,
    ledger: Vec<(String, String)>,
}

/// What a commit stored.
#[derive(Clone, Debug, Default)]
pub struct CommitSummary {
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    /// Earliest and latest record timestamp stored (epoch ms), None when nothing was.
    pub time_range: Option<(i64, i64)>,
    pub quarantine: Option<PathBuf>,
}

/// Size and extent of one group.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupStats {
    pub files: u64,
    pub partitions: u64,
    pub records: u64,
    pub stored_bytes: u64,
}

/// An open store. Holds an exclusive lock on the data directory while alive.
pub struct Store {
    root: PathBuf,
    ledger: HashSet<(String, String)>,
    last_seq: u64,
    records_since_checkpoint: usize,
    _lock: File,
}

static TXN_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Open (creating if needed) the store at `root`, recovering any interrupted transaction.
    pub fn open(root: &Path) -> Result<Store> {
        for dir in [GROUPS, TXN, STAGING, QUARANTINE] {
            fs::create_dir_all(root.join(dir)).at(root.join(dir))?;
        }
        let lock_path = root.join(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .at(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Busy(root.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source: e,
                });
            }
        }
        let mut store = Store {
            root: root.to_path_buf(),
            ledger: HashSet::new(),
            last_seq: 0,
            records_since_checkpoint: 0,
            _lock: lock,
        };
        store.recover()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a group's table (what Athena's `LOCATION` points at).
    pub fn group_dir(&self, name: &str) -> PathBuf {
        self.root.join(GROUPS).join(group::dir_name(name))
    }

    fn recover(&mut self) -> Result<()> {
        let txn_dir = self.root.join(TXN);
        let checkpoint_path = txn_dir.join(CHECKPOINT);
        if checkpoint_path.exists() {
            let cp: Checkpoint = read_json(&checkpoint_path)?;
            self.last_seq = cp.last_seq;
            self.ledger = cp.ledger.into_iter().collect();
        }
        let base = self.last_seq;
        let mut seqs: Vec<u64> = Vec::new();
        for entry in fs::read_dir(&txn_dir).at(&txn_dir)? {
            let name = entry.at(&txn_dir)?.file_name();
            let name = name.to_string_lossy();
            if let Some(seq) = name
                .strip_suffix(".json")
                .and_then(|s| s.parse::<u64>().ok())
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        for seq in seqs {
            if seq <= base {
                continue;
            }
            let path = txn_dir.join(format!("{seq:012}.json"));
            let record: TxnRecord = read_json(&path)?;
            if !txn_dir.join(format!("{seq:012}.applied")).exists() {
                self.apply(&record)?;
            }
            self.absorb(&record);
            self.last_seq = self.last_seq.max(seq);
            self.records_since_checkpoint += 1;
        }
        // Staging directories of transactions that never reached their commit point.
        // Also the temp copy of a record killed before (or just after) its link, and the
        // remains of a deleted group.
        let staging = self.root.join(STAGING);
        for entry in fs::read_dir(&staging).at(&staging)? {
            let entry = entry.at(&staging)?;
            let path = entry.path();
            if entry.file_type().at(&path)?.is_dir() {
                fs::remove_dir_all(&path).at(&path)?;
            } else {
                fs::remove_file(&path).at(&path)?;
            }
        }
        Ok(())
    }

    fn absorb(&mut self, record: &TxnRecord) {
        if record.kind == "delete-group" {
            self.ledger.retain(|(g, _)| *g != record.group);
        }
        for s in &record.sources {
            self.ledger.insert((record.group.clone(), s.key.clone()));
        }
    }

    /// Step 3 of the protocol; idempotent.
    fn apply(&self, record: &TxnRecord) -> Result<()> {
        if record.kind == "delete-group" {
            let dir = self.group_dir(&record.group);
            if dir.exists() {
                // Out of `groups/` in one rename; the rest is cleanup recovery also does.
                let trash = self
                    .root
                    .join(STAGING)
                    .join(format!("deleted-{}", record.id));
                fs::rename(&dir, &trash).at(&dir)?;
                fs::remove_dir_all(&trash).at(&trash)?;
            }
        }
        let mut dirs = BTreeSet::new();
        for f in &record.added {
            let staged = self.root.join(&f.staging);
            let target = self.root.join(&f.path);
            if staged.exists() {
                let parent = target.parent().unwrap_or(&self.root).to_path_buf();
                fs::create_dir_all(&parent).at(&parent)?;
                fs::rename(&staged, &target).at(&target)?;
                dirs.insert(parent);
            } else if !target.exists() {
                return Err(StoreError::Corrupt {
                    path: target,
                    detail: format!(
                        "transaction {} lost this file before it was applied",
                        record.seq
                    ),
                });
            }
        }
        for rel in &record.removed {
            let path = self.root.join(rel);
            match fs::remove_file(&path) {
                Ok(()) => {
                    if let Some(p) = path.parent() {
                        dirs.insert(p.to_path_buf());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Io { path, source: e }),
            }
        }
        if let Some(q) = &record.quarantine {
            let staged = self
                .root
                .join(STAGING)
                .join(&record.id)
                .join("quarantine.jsonl");
            let target = self.root.join(q);
            if staged.exists() {
                let parent = target.parent().unwrap_or(&self.root).to_path_buf();
                fs::create_dir_all(&parent).at(&parent)?;
                fs::rename(&staged, &target).at(&target)?;
            }
        }
        for dir in &dirs {
            sync_dir(dir)?;
            if record.kind != "ingest" {
                remove_empty_partition_dirs(dir, &self.root.join(GROUPS));
            }
        }
        let staging = self.root.join(STAGING).join(&record.id);
        if staging.exists() {
            fs::remove_dir_all(&staging).at(&staging)?;
        }
        let marker = self
            .root
            .join(TXN)
            .join(format!("{:012}.applied", record.seq));
        File::create(&marker).at(&marker)?;
        Ok(())
    }

    /// Write a transaction record and apply it.
    fn commit_record(&mut self, mut record: TxnRecord) -> Result<()> {
        let txn_dir = self.root.join(TXN);
        let tmp = self.root.join(STAGING).join(format!("{}.json", record.id));
        loop {
            record.seq = self.last_seq + 1;
            let bytes = serde_json::to_vec_pretty(&record).map_err(|e| StoreError::Corrupt {
                path: tmp.clone(),
                detail: e.to_string(),
            })?;
            write_synced(&tmp, &bytes)?;
            let path = txn_dir.join(format!("{:012}.json", record.seq));
            // hard_link fails if the name exists, so two writers can never claim one number.
            match fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    sync_dir(&txn_dir)?;
                    let _ = fs::remove_file(&tmp);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.last_seq += 1,
                Err(e) => return Err(StoreError::Io { path, source: e }),
            }
        }
        self.last_seq = record.seq;
        self.apply(&record)?;
        self.absorb(&record);
        self.records_since_checkpoint += 1;
        if self.records_since_checkpoint >= CHECKPOINT_AFTER {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Fold applied records into `checkpoint.json` and delete them.
    fn checkpoint(&mut self) -> Result<()> {
        let txn_dir = self.root.join(TXN);
        let mut ledger: Vec<(String, String)> = self.ledger.iter().cloned().collect();
        ledger.sort();
        let cp = Checkpoint {
            last_seq: self.last_seq,
            ledger,
        };
        let tmp = txn_dir.join("checkpoint.json.tmp");
        let bytes = serde_json::to_vec(&cp).map_err(|e| StoreError::Corrupt {
            path: tmp.clone(),
            detail: e.to_string(),
        })?;
        write_synced(&tmp, &bytes)?;
        let path = txn_dir.join(CHECKPOINT);
        fs::rename(&tmp, &path).at(&path)?;
        sync_dir(&txn_dir)?;
        for entry in fs::read_dir(&txn_dir).at(&txn_dir)? {
            let path = entry.at(&txn_dir)?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let seq = name.split('.').next().and_then(|s| s.parse::<u64>().ok());
            if seq.is_some_and(|s| s <= cp.last_seq) {
                let _ = fs::remove_file(&path);
            }
        }
        self.records_since_checkpoint = 0;
        Ok(())
    }

    // ---- log groups ----

    pub fn groups(&self) -> Result<Vec<GroupMeta>> {
        list_groups(&self.root)
    }

    pub fn group(&self, name: &str) -> Result<GroupMeta> {
        let meta = self.group_dir(name).join(GROUP_META);
        if !meta.exists() {
            return Err(StoreError::NoSuchGroup(name.to_string()));
        }
        read_json(&meta)
    }

    pub fn create_group(&mut self, name: &str, retention_days: Option<u32>) -> Result<GroupMeta> {
        group::validate_name(name)?;
        group::validate_retention(retention_days)?;
        if self.group_dir(name).join(GROUP_META).exists() {
            return Err(StoreError::GroupExists(name.to_string()));
        }
        let meta = GroupMeta {
            name: name.to_string(),
            retention_days,
            created_ms: now_ms(),
        };
        self.write_group_meta(&meta)?;
        Ok(meta)
    }

    /// The group, created with retention "never" if it does not exist (as an ingest does).
    pub fn ensure_group(&mut self, name: &str) -> Result<GroupMeta> {
        match self.group(name) {
            Ok(g) => Ok(g),
            Err(StoreError::NoSuchGroup(_)) => self.create_group(name, None),
            Err(e) => Err(e),
        }
    }

    pub fn set_retention(&mut self, name: &str, retention_days: Option<u32>) -> Result<GroupMeta> {
        group::validate_retention(retention_days)?;
        let mut meta = self.group(name)?;
        meta.retention_days = retention_days;
        self.write_group_meta(&meta)?;
        Ok(meta)
    }

    fn write_group_meta(&self, meta: &GroupMeta) -> Result<()> {
        let dir = self.group_dir(&meta.name);
        fs::create_dir_all(&dir).at(&dir)?;
        let path = dir.join(GROUP_META);
        let tmp = dir.join("_group.json.tmp");
        let bytes = serde_json::to_vec_pretty(meta).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        write_synced(&tmp, &bytes)?;
        fs::rename(&tmp, &path).at(&path)?;
        Ok(())
    }

    /// Delete a group and its data, and forget its sources so they can be ingested anew.
    pub fn delete_group(&mut self, name: &str) -> Result<()> {
        self.group(name)?;
        // The record is the commit point; applying it moves the directory away (see `apply`),
        // so a crash at any step is finished by the next open.
        let record = TxnRecord {
            id: txn_id(),
            seq: 0,
            kind: "delete-group".into(),
            group: name.to_string(),
            created_ms: now_ms(),
            added: vec![],
            removed: vec![],
            sources: vec![],
            quarantine: None,
        };
        self.commit_record(record)
    }

    /// Content keys of every source already ingested into the group.
    pub fn ledger_keys(&self, group: &str) -> Vec<String> {
        self.ledger
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// Whether this content was already ingested into the group.
    pub fn has_source(&self, group: &str, key: &str) -> bool {
        self.ledger.contains(&(group.to_string(), key.to_string()))
    }

    /// Every data file of a group, relative to the store root, sorted.
    pub fn data_files(&self, name: &str) -> Result<Vec<PathBuf>> {
        group_files(&self.group_dir(name))
    }

    pub fn stats(&self, name: &str) -> Result<GroupStats> {
        let files = self.data_files(name)?;
        let mut stats = GroupStats::default();
        let mut partitions = BTreeSet::new();
        for path in &files {
            stats.files += 1;
            stats.stored_bytes += fs::metadata(path).at(path)?.len();
            let file = File::open(path).at(path)?;
            let reader = SerializedFileReader::new(file).map_err(|source| StoreError::Parquet {
                path: path.clone(),
                source,
            })?;
            stats.records += reader.metadata().file_metadata().num_rows() as u64;
            if let Some(p) = path.parent() {
                partitions.insert(p.to_path_buf());
            }
        }
        stats.partitions = partitions.len() as u64;
        Ok(stats)
    }

    // ---- transactions ----

    /// Start an ingest transaction into `group` (created if missing).
    pub fn begin(&mut self, group: &str) -> Result<Txn> {
        self.ensure_group(group)?;
        let id = txn_id();
        let staging = self.root.join(STAGING).join(&id);
        fs::create_dir_all(&staging).at(&staging)?;
        Ok(Txn {
            writer: PartitionedWriter::new(&staging, &format!("part-{id}")),
            _cleanup: StagingDir(Some(staging.clone())),
            staging,
            id,
            group: group.to_string(),
            sources: Vec::new(),
            quarantine: None,
            extra_files: Vec::new(),
            writers: 0,
        })
    }

    /// Drop whole hour partitions older than the group's retention. Returns files removed.
    pub fn prune(&mut self, name: &str, now_ms: i64) -> Result<u64> {
        let meta = self.group(name)?;
        let Some(days) = meta.retention_days else {
            return Ok(0);
        };
        let cutoff = now_ms - i64::from(days) * 86_400_000;
        let mut removed = Vec::new();
        for file in self.data_files(name)? {
            if partition_end_ms(&file).is_some_and(|end| end <= cutoff) {
                removed.push(self.relative(&file));
            }
        }
        let count = removed.len() as u64;
        if count > 0 {
            self.commit_record(TxnRecord {
                id: txn_id(),
                seq: 0,
                kind: "prune".into(),
                group: name.to_string(),
                created_ms: now_ms,
                added: vec![],
                removed,
                sources: vec![],
                quarantine: None,
            })?;
        }
        Ok(count)
    }

    /// Merge the files of every partition holding at least `min_files` into one sorted file
    /// per schema. Returns (partitions compacted, files before, files after).
    pub fn compact(&mut self, name: &str, min_files: usize) -> Result<(u64, u64, u64)> {
        self.group(name)?;
        let files = self.data_files(name)?;
        let mut by_partition: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
        for f in files {
            let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
            match by_partition.last_mut() {
                Some((d, v)) if *d == dir => v.push(f),
                _ => by_partition.push((dir, vec![f])),
            }
        }
        let (mut parts, mut before, mut after) = (0, 0, 0);
        for (_, inputs) in by_partition
            .into_iter()
            .filter(|(_, v)| v.len() >= min_files.max(2))
        {
            let id = txn_id();
            let staging = self.root.join(STAGING).join(&id);
            fs::create_dir_all(&staging).at(&staging)?;
            let mut writer = PartitionedWriter::with_row_groups(
                &staging,
                &format!("part-{id}"),
                crate::writer::COMPACT_ROW_GROUP_ROWS,
            );
            for input in &inputs {
                let file = File::open(input).at(input)?;
                let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                    .and_then(|b| b.with_batch_size(65_536).build())
                    .map_err(|source| StoreError::Parquet {
                        path: input.clone(),
                        source,
                    })?;
                for batch in reader {
                    writer.write(&batch?)?;
                }
            }
            let written = writer.finish()?;
            before += inputs.len() as u64;
            after += written.len() as u64;
            parts += 1;
            let record = TxnRecord {
                id,
                seq: 0,
                kind: "compact".into(),
                group: name.to_string(),
                created_ms: now_ms(),
                added: self.entries(name, &written),
                removed: inputs.iter().map(|p| self.relative(p)).collect(),
                sources: vec![],
                quarantine: None,
            };
            self.commit_record(record)?;
        }
        Ok((parts, before, after))
    }

    fn entries(&self, group: &str, written: &[WrittenFile]) -> Vec<FileEntry> {
        let dir = Path::new(GROUPS).join(group::dir_name(group));
        written
            .iter()
            .map(|w| FileEntry {
                staging: self.relative(&w.staging),
                path: dir.join(&w.relative).to_string_lossy().into_owned(),
                rows: w.rows,
                bytes: w.bytes,
                min_ts: w.min_ts,
                max_ts: w.max_ts,
            })
            .collect()
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// One ingest transaction. Dropping it without [`Store::commit`] discards what it staged.
pub struct Txn {
    id: String,
    group: String,
    staging: PathBuf,
    writer: PartitionedWriter,
    sources: Vec<SourceEntry>,
    quarantine: Option<BufWriter<File>>,
    /// Files written by extra writers (one per ingest thread), added at commit.
    extra_files: Vec<WrittenFile>,
    writers: usize,
    _cleanup: StagingDir,
}

#[derive(Serialize)]
struct QuarantineLine<'a> {
    source: &'a str,
    line: u64,
    reason: &'a str,
    text: &'a str,
}

impl Txn {
    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch)
    }

    /// Another writer into this transaction's staging area, for a thread of its own. Its
    /// finished files must come back through [`Txn::add_files`] before the commit.
    pub fn writer(&mut self) -> PartitionedWriter {
        self.writers += 1;
        let dir = self.staging.join(format!("w{}", self.writers));
        PartitionedWriter::new(&dir, &format!("part-{}-w{}", self.id, self.writers))
    }

    pub fn add_files(&mut self, files: Vec<WrittenFile>) {
        self.extra_files.extend(files);
    }

    /// Record a source as part of this transaction (its ledger entry commits with the data).
    pub fn add_source(&mut self, source: SourceEntry) {
        self.sources.push(source);
    }

    /// Keep a rejected record in the quarantine file (JSON lines).
    pub fn quarantine(&mut self, source: &str, line: u64, reason: &str, text: &str) -> Result<()> {
        let path = self.staging.join("quarantine.jsonl");
        if self.quarantine.is_none() {
            self.quarantine = Some(BufWriter::new(File::create(&path).at(&path)?));
        }
        if let Some(w) = self.quarantine.as_mut() {
            let line = QuarantineLine {
                source,
                line,
                reason,
                text,
            };
            serde_json::to_writer(&mut *w, &line).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            w.write_all(b"\n").at(&path)?;
        }
        Ok(())
    }
}

impl Store {
    /// Commit a transaction: after this returns, its records and sources are durable.
    pub fn commit(&mut self, txn: Txn) -> Result<CommitSummary> {
        let store = self;
        let Txn {
            id,
            group,
            staging,
            writer,
            sources,
            quarantine,
            extra_files,
            writers: _,
            mut _cleanup,
        } = txn;
        let mut written = writer.finish()?;
        written.extend(extra_files);
        let quarantine_rel = match quarantine {
            Some(w) => {
                let path = staging.join("quarantine.jsonl");
                let file = w.into_inner().map_err(|e| StoreError::Io {
                    path: path.clone(),
                    source: e.into_error(),
                })?;
                file.sync_all().at(&path)?;
                Some(format!(
                    "{QUARANTINE}/{}/{id}.jsonl",
                    group::dir_name(&group)
                ))
            }
            None => None,
        };
        let summary = CommitSummary {
            files: written.len(),
            rows: written.iter().map(|w| w.rows).sum(),
            bytes: written.iter().map(|w| w.bytes).sum(),
            time_range: written
                .iter()
                .filter(|w| w.rows > 0)
                .map(|w| (w.min_ts, w.max_ts))
                .reduce(|(a, b), (c, d)| (a.min(c), b.max(d))),
            quarantine: quarantine_rel.as_ref().map(|q| store.root.join(q)),
        };
        let record = TxnRecord {
            added: store.entries(&group, &written),
            id,
            seq: 0,
            kind: "ingest".into(),
            group,
            created_ms: now_ms(),
            removed: vec![],
            sources,
            quarantine: quarantine_rel,
        };
        _cleanup.0 = None;
        store.commit_record(record)?;
        Ok(summary)
    }
}

/// Removes a transaction's staging directory when dropped: after a commit it is gone already;
/// otherwise (error, abandoned transaction) this discards what was staged.
/// Disarmed just before the commit point: from then on recovery owns the directory.
struct StagingDir(Option<PathBuf>);

impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn txn_id() -> String {
    let n = TXN_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}-{n}", now_ms(), std::process::id())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).at(path)?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).at(path)?;
    f.write_all(bytes).at(path)?;
    f.sync_all().at(path)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source: e,
            });
        }
    };
    for entry in entries {
        let entry = entry.at(dir)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type().at(&path)?.is_dir() {
            collect_parquet(&path, out)?;
        } else if name.ends_with(".parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// End of the hour a file's partition covers, from its `year=/month=/day=/hour=` directories.
fn partition_end_ms(file: &Path) -> Option<i64> {
    let mut parts = [None; 4];
    for comp in file.iter().filter_map(|c| c.to_str()) {
        for (i, key) in ["year=", "month=", "day=", "hour="].iter().enumerate() {
            if let Some(v) = comp.strip_prefix(key) {
                parts[i] = v.parse::<u32>().ok();
            }
        }
    }
    let date = chrono::NaiveDate::from_ymd_opt(parts[0]? as i32, parts[1]?, parts[2]?)?;
    let start = date
        .and_hms_opt(parts[3]?, 0, 0)?
        .and_utc()
        .timestamp_millis();
    Some(start + 3_600_000)
}

/// Remove partition directories left empty, up to the groups directory.
fn remove_empty_partition_dirs(dir: &Path, stop: &Path) {
    let mut dir = dir.to_path_buf();
    while dir.starts_with(stop) && dir != stop {
        let is_partition = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains('='));
        if !is_partition || fs::remove_dir(&dir).is_err() {
            break;
        }
        if !dir.pop() {
            break;
        }
    }
}

/// A read-only view of a data directory for queries: takes no lock and changes nothing, so
/// queries run while an ingest writes. It sees every applied transaction; files of a
/// transaction being applied at that instant may be seen in part (queries are not snapshot
/// isolated, see ARCHITECTURE.md).
#[derive(Clone, Debug)]
pub struct StoreReader {
    root: PathBuf,
}

impl StoreReader {
    /// Fails if `root` is not a flowwatch data directory.
    pub fn open(root: &Path) -> Result<StoreReader> {
        if !root.join(GROUPS).is_dir() {
            return Err(StoreError::NotAStore(root.to_path_buf()));
        }
        Ok(StoreReader {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn group_dir(&self, name: &str) -> PathBuf {
        self.root.join(GROUPS).join(group::dir_name(name))
    }

    pub fn groups(&self) -> Result<Vec<GroupMeta>> {
        list_groups(&self.root)
    }

    /// Every data file of a group (absolute paths), sorted.
    pub fn data_files(&self, name: &str) -> Result<Vec<PathBuf>> {
        group_files(&self.group_dir(name))
    }
}

/// The start (epoch ms) of the hour partition a data file lives in, from its
/// `year=/month=/day=/hour=` directories.
pub fn partition_hour_ms(path: &Path) -> Option<i64> {
    let mut parts = [None::<u32>; 4];
    for comp in path.components() {
        let s = comp.as_os_str().to_str()?;
        for (i, key) in ["year=", "month=", "day=", "hour="].iter().enumerate() {
            if let Some(v) = s.strip_prefix(key) {
                parts[i] = v.parse().ok();
            }
        }
    }
    let [Some(y), Some(m), Some(d), Some(h)] = parts else {
        return None;
    };
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d)?;
    Some(date.and_hms_opt(h, 0, 0)?.and_utc().timestamp_millis())
}

fn list_groups(root: &Path) -> Result<Vec<GroupMeta>> {
    let dir = root.join(GROUPS);
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).at(&dir)? {
        let meta = entry.at(&dir)?.path().join(GROUP_META);
        if meta.exists() {
            out.push(read_json(&meta)?);
        }
    }
    out.sort_by(|a: &GroupMeta, b| a.name.cmp(&b.name));
    Ok(out)
}

fn group_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    collect_parquet(dir, &mut out)?;
    out.sort();
    Ok(out)
}
