//! `flowwatch ingest`: expand paths, skip sources already stored, parse files on worker threads,
//! and commit them to the store in transactions that always hold whole files.
//!
//! Why whole files: a source's ledger entry (its content hash) commits with its records, so a
//! crash or kill at any moment leaves each file either fully stored or not at all, and the
//! re-run stores exactly what is missing. When a transaction is big enough the committer stops
//! handing out files, waits for the ones in flight, commits, and resumes.

use std::collections::HashSet;
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use flowwatch_flowlog::{InputFormat, Output, ReadOptions, ReadSummary, SourceDefaults, s3path};
use flowwatch_store::{PartitionedWriter, SourceEntry, Store, WrittenFile, now_ms};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Rows per transaction before the committer drains in-flight files and commits.
pub const DEFAULT_TXN_ROWS: u64 = 2_000_000;
/// Rejections echoed to stderr; the rest are only counted and quarantined.
const ECHO_REJECTIONS: u64 = 10;

#[derive(Clone, Debug)]
pub struct IngestArgs {
    pub paths: Vec<String>,
    pub log_group: String,
    pub format: InputFormat,
    pub log_format: Option<flowwatch_core::LogFormat>,
    pub force: bool,
    pub threads: usize,
    pub quiet: bool,
    /// Commit once a transaction holds this many rows (at the next file boundary).
    pub txn_rows: u64,
}

/// The report every ingest ends with (`--output json` prints it as is).
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub log_group: String,
    pub files: u64,
    pub files_ingested: u64,
    pub duplicates_skipped: u64,
    pub files_failed: u64,
    pub records_read: u64,
    pub records_stored: u64,
    pub records_rejected: u64,
    pub bytes_in: u64,
    pub bytes_on_disk: u64,
    pub transactions: u64,
    pub elapsed_secs: f64,
    pub records_per_sec: f64,
    pub quarantine: Vec<PathBuf>,
    pub errors: Vec<String>,
    pub partitions_pruned_files: u64,
    pub compacted_partitions: u64,
    /// Earliest and latest timestamp stored by this run (epoch ms).
    pub first_timestamp_ms: Option<i64>,
    pub last_timestamp_ms: Option<i64>,
    /// Metric-filter series recomputed for the hours this run stored into.
    pub metrics_updated: Option<MetricsUpdate>,
}

/// What `ingest` did to the metric series after storing.
#[derive(Debug, Default, Serialize)]
pub struct MetricsUpdate {
    pub filters: usize,
    pub matched: u64,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One source to read.
#[derive(Clone, Debug)]
struct Source {
    path: Option<PathBuf>,
    name: String,
    bytes: u64,
}

/// Work for one parsing thread.
enum Work {
    /// Read this source into the thread's writer.
    File(Source),
    /// Close the writer (replacing it with this one) and send its files back: the
    /// transaction is about to commit.
    Finish(PartitionedWriter),
}

/// What parsing threads report to the committer.
enum Msg {
    Reject {
        source: Arc<str>,
        line: u64,
        reason: String,
        text: String,
    },
    Done {
        worker: usize,
        entry: Option<SourceEntry>,
        summary: ReadSummary,
        bytes: u64,
        duplicate: bool,
        write_error: Option<String>,
    },
    Finished {
        files: std::result::Result<Vec<WrittenFile>, String>,
    },
}

/// Expand files, directories (recursively) and globs; `-` is stdin.
fn expand(paths: &[String]) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(Source {
                path: None,
                name: "<stdin>".into(),
                bytes: 0,
            });
            continue;
        }
        let mut matched: Vec<PathBuf> = Vec::new();
        if p.contains(['*', '?', '[']) {
            for entry in glob::glob(p).with_context(|| format!("invalid glob pattern '{p}'"))? {
                matched.push(entry?);
            }
            if matched.is_empty() {
                bail!("no file matches '{p}'");
            }
        } else {
            let path = PathBuf::from(p);
            if !path.exists() {
                bail!("{p}: no such file or directory");
            }
            matched.push(path);
        }
        for path in matched {
            if path.is_dir() {
                walk(&path, &mut out)?;
            } else {
                let bytes = path.metadata().map(|m| m.len()).unwrap_or(0);
                out.push(Source {
                    name: path.display().to_string(),
                    path: Some(path),
                    bytes,
                });
            }
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Source>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list directory", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Hidden files, and the probe object CloudWatch writes before an export.
        if name.starts_with('.') || name == "aws-logs-write-test" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(Source {
                name: path.display().to_string(),
                path: Some(path),
                bytes,
            });
        }
    }
    Ok(())
}

/// Content hash of a file: the idempotency key.
fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Read one source, sending its batches and rejections. Runs on a worker thread.
fn read_one(
    worker: usize,
    source: &Source,
    opts: &ReadOptions,
    seen: &Mutex<HashSet<String>>,
    force: bool,
    writer: &mut PartitionedWriter,
    tx: &SyncSender<Msg>,
) {
    let name: Arc<str> = Arc::from(source.name.as_str());
    let mut write_error: Option<String> = None;
    let mut send = |out: Output| match out {
        Output::Batch(b) => {
            if write_error.is_none()
                && let Err(e) = writer.write(&b)
            {
                write_error = Some(e.to_string());
            }
        }
        Output::Reject(r) => {
            let _ = tx.send(Msg::Reject {
                source: name.clone(),
                line: r.line,
                reason: r.reason,
                text: r.text,
            });
        }
    };
    let done = |summary: ReadSummary, bytes: u64, duplicate: bool| {
        let _ = tx.send(Msg::Done {
            worker,
            write_error: None,
            entry: None,
            summary,
            bytes,
            duplicate,
        });
    };
    let io_failure = |e: std::io::Error| ReadSummary {
        error: Some(flowwatch_flowlog::ReadError::Io {
            source_name: source.name.clone(),
            source: e,
        }),
        ..ReadSummary::default()
    };
    // The content key first: a source already stored is skipped before any parsing.
    let (key, data) = match &source.path {
        Some(path) => match hash_file(path) {
            Ok(key) => (key, None),
            Err(e) => return done(io_failure(e), source.bytes, false),
        },
        None => {
            let mut data = Vec::new();
            if let Err(e) = std::io::stdin().lock().read_to_end(&mut data) {
                return done(io_failure(e), 0, false);
            }
            (blake3::hash(&data).to_hex().to_string(), Some(data))
        }
    };
    let bytes = data.as_ref().map_or(source.bytes, |d| d.len() as u64);
    if !force
        && !seen
            .lock()
            .map(|mut s| s.insert(key.clone()))
            .unwrap_or(true)
    {
        return done(ReadSummary::default(), bytes, true);
    }
    let summary = match (&source.path, data) {
        (_, Some(data)) => flowwatch_flowlog::read_stream(
            &data[..],
            &source.name,
            SourceDefaults::default(),
            opts,
            &mut send,
        ),
        (Some(path), None) => flowwatch_flowlog::read_path(
            path,
            &source.name,
            s3path::defaults_from_path(path),
            opts,
            &mut send,
        ),
        (None, None) => ReadSummary::default(),
    };
    // A source that stopped early (truncated gzip) is still recorded: what it held before the
    // damage is stored, and re-ingesting the same damaged bytes would add nothing new.
    let entry = SourceEntry {
        key,
        name: source.name.clone(),
        bytes,
        records: summary.records,
        rejected: summary.rejected,
    };
    let _ = tx.send(Msg::Done {
        worker,
        write_error: None,
        entry: Some(entry),
        summary,
        bytes,
        duplicate: false,
    });
}

pub fn run(store: &mut Store, args: &IngestArgs) -> Result<IngestReport> {
    let started = Instant::now();
    let sources = expand(&args.paths)?;
    if sources.is_empty() {
        bail!(
            "no files found under {}: nothing to ingest",
            args.paths.join(", ")
        );
    }
    store.ensure_group(&args.log_group)?;
    // Finish metric updates an earlier run was interrupted in.
    if let Err(e) = flowwatch_monitor::recover_metrics(store.root()) {
        eprintln!("warning: could not finish an interrupted metric update: {e}");
    }
    let mut report = IngestReport {
        log_group: args.log_group.clone(),
        files: sources.len() as u64,
        ..IngestReport::default()
    };

    // Sources already stored are skipped before any parsing.
    let seen: Mutex<HashSet<String>> = Mutex::new(if args.force {
        HashSet::new()
    } else {
        store.ledger_keys(&args.log_group).into_iter().collect()
    });
    let group = args.log_group.clone();
    let opts = ReadOptions {
        format: args.format,
        log_format: args.log_format.clone(),
        batch_rows: flowwatch_store::writer::READ_BATCH_ROWS,
        ingestion_time_ms: now_ms(),
    };
    let total_bytes: u64 = sources.iter().map(|s| s.bytes).sum();
    let progress = if !args.quiet && std::io::stderr().is_terminal() && total_bytes > 32 << 20 {
        let bar = ProgressBar::new(total_bytes);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} ingesting [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };

    let threads = match args.threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n,
    };
    let mut echoed = 0u64;
    let mut txn = store_begin(store, &group)?;
    let workers = threads.max(1);
    let result: Result<()> = std::thread::scope(|scope| {
        let (msg_tx, msg_rx) = sync_channel::<Msg>(64);
        let mut work_txs = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (work_tx, work_rx) = sync_channel::<Work>(1);
            work_txs.push(work_tx);
            let msg_tx = msg_tx.clone();
            let (opts, seen, force) = (&opts, &seen, args.force);
            let mut writer = txn.writer();
            scope.spawn(move || {
                for work in work_rx {
                    match work {
                        Work::File(source) => {
                            read_one(worker, &source, opts, seen, force, &mut writer, &msg_tx)
                        }
                        Work::Finish(next) => {
                            let files = std::mem::replace(&mut writer, next)
                                .finish()
                                .map_err(|e| e.to_string());
                            let _ = msg_tx.send(Msg::Finished { files });
                        }
                    }
                }
            });
        }
        drop(msg_tx);
        let mut pending = sources.iter();
        let mut idle: Vec<usize> = (0..workers).rev().collect();
        let mut txn_rows = 0u64;
        let mut failure: Option<anyhow::Error> = None;
        loop {
            // Hand out files unless a commit is due.
            while txn_rows < args.txn_rows && failure.is_none() && !idle.is_empty() {
                let Some(source) = pending.next() else { break };
                let worker = idle.pop().unwrap_or_default();
                if work_txs[worker].send(Work::File(source.clone())).is_err() {
                    failure = Some(anyhow::anyhow!("an ingest thread stopped unexpectedly"));
                }
            }
            let busy = workers - idle.len();
            if busy == 0 {
                // A commit point: every thread closes its files into the transaction.
                let done = pending.len() == 0 || failure.is_some();
                // Threads switch to writers of the next transaction before this one commits.
                let mut next_txn = store_begin(store, &group)?;
                let mut files = Vec::new();
                for work_tx in &work_txs {
                    if work_tx.send(Work::Finish(next_txn.writer())).is_err() {
                        failure.get_or_insert_with(|| {
                            anyhow::anyhow!("an ingest thread stopped unexpectedly")
                        });
                    }
                }
                for _ in 0..workers {
                    match msg_rx.recv() {
                        Ok(Msg::Finished { files: Ok(f) }) => files.extend(f),
                        Ok(Msg::Finished { files: Err(e) }) => {
                            failure.get_or_insert_with(|| {
                                anyhow::anyhow!("writing Parquet failed: {e}")
                            });
                        }
                        _ => {
                            failure.get_or_insert_with(|| {
                                anyhow::anyhow!("an ingest thread stopped unexpectedly")
                            });
                        }
                    }
                }
                if let Some(e) = failure.take() {
                    // Dropping the transaction discards its staging; nothing becomes visible.
                    return Err(e);
                }
                let mut finished = std::mem::replace(&mut txn, next_txn);
                finished.add_files(files);
                commit(store, finished, &mut report)?;
                txn_rows = 0;
                if done {
                    break;
                }
                continue;
            }
            let Ok(msg) = msg_rx.recv() else { break };
            match msg {
                Msg::Reject {
                    source,
                    line,
                    reason,
                    text,
                } => {
                    if echoed < ECHO_REJECTIONS && !args.quiet {
                        let msg = format!("{source}:{line}: {reason}");
                        match &progress {
                            Some(bar) => bar.println(msg),
                            None => eprintln!("{msg}"),
                        }
                        echoed += 1;
                    }
                    txn.quarantine(&source, line, &reason, &text)?;
                }
                Msg::Done {
                    worker,
                    entry,
                    summary,
                    bytes,
                    duplicate,
                    write_error,
                } => {
                    idle.push(worker);
                    report.bytes_in += bytes;
                    if let Some(bar) = &progress {
                        bar.inc(bytes);
                    }
                    if let Some(e) = write_error {
                        failure
                            .get_or_insert_with(|| anyhow::anyhow!("writing Parquet failed: {e}"));
                    }
                    txn_rows += summary.records;
                    account(&mut report, &summary, duplicate, &progress, args.quiet);
                    if let Some(entry) = entry {
                        txn.add_source(entry);
                    }
                }
                Msg::Finished { .. } => {}
            }
        }
        drop(work_txs);
        Ok(())
    });
    result?;
    // The transaction begun after the last commit holds nothing; dropping it discards it.
    drop(txn);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    report.partitions_pruned_files = store.prune(&group, now_ms())?;
    report.compacted_partitions = store.compact(&group, 8)?.0;
    // Metric filters see what was stored: their series are recomputed for the hours it
    // touched (idempotent, so a re-run or an interrupted update never double-counts).
    if let (Some(lo), Some(hi)) = (report.first_timestamp_ms, report.last_timestamp_ms) {
        match flowwatch_monitor::update_metrics(store.root(), &group, lo, hi) {
            Ok(Some(done)) => {
                report.metrics_updated = Some(MetricsUpdate {
                    filters: done.filters.len(),
                    matched: done.filters.iter().map(|f| f.matched).sum(),
                    start_ms: lo.div_euclid(3_600_000) * 3_600_000,
                    end_ms: (hi.div_euclid(3_600_000) + 1) * 3_600_000,
                });
            }
            Ok(None) => {}
            Err(e) => report.errors.push(format!(
                "the records are stored but the metric series were not updated: {e}; \
                 run `flowwatch metrics backfill --log-group {group}`"
            )),
        }
    }
    report.records_read = report.records_stored + report.records_rejected;
    report.elapsed_secs = started.elapsed().as_secs_f64();
    report.records_per_sec = if report.elapsed_secs > 0.0 {
        report.records_read as f64 / report.elapsed_secs
    } else {
        0.0
    };
    Ok(report)
}

fn store_begin(store: &mut Store, group: &str) -> Result<flowwatch_store::Txn> {
    store
        .begin(group)
        .with_context(|| format!("cannot start a transaction in log group '{group}'"))
}

fn commit(store: &mut Store, t: flowwatch_store::Txn, report: &mut IngestReport) -> Result<()> {
    {
        let summary = store
            .commit(t)
            .context("commit failed; the next run recovers and nothing is half-stored")?;
        report.records_stored += summary.rows;
        report.bytes_on_disk += summary.bytes;
        if summary.files > 0 {
            report.transactions += 1;
        }
        if let Some(q) = summary.quarantine {
            report.quarantine.push(q);
        }
        if let Some((lo, hi)) = summary.time_range {
            report.first_timestamp_ms = Some(report.first_timestamp_ms.map_or(lo, |f| f.min(lo)));
            report.last_timestamp_ms = Some(report.last_timestamp_ms.map_or(hi, |l| l.max(hi)));
        }
    }
    Ok(())
}

fn account(
    report: &mut IngestReport,
    summary: &ReadSummary,
    duplicate: bool,
    progress: &Option<ProgressBar>,
    quiet: bool,
) {
    if duplicate {
        report.duplicates_skipped += 1;
        return;
    }
    report.records_rejected += summary.rejected;
    if let Some(diagnosis) = &summary.diagnosis {
        report.errors.push(diagnosis.clone());
    }
    match &summary.error {
        Some(e) => {
            report.errors.push(e.to_string());
            if summary.records == 0 {
                report.files_failed += 1;
            } else {
                report.files_ingested += 1;
            }
            if !quiet {
                let msg = format!("error: {e}");
                match progress {
                    Some(bar) => bar.println(msg),
                    None => eprintln!("{msg}"),
                }
            }
        }
        None if summary.records == 0 && summary.rejected > 0 => report.files_failed += 1,
        None => report.files_ingested += 1,
    }
}
