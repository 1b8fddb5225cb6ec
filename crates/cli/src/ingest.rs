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
use arrow::array::RecordBatch;
use flowwatch_flowlog::{InputFormat, Output, ReadOptions, ReadSummary, SourceDefaults, s3path};
use flowwatch_store::{SourceEntry, Store, now_ms};
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
}

/// One source to read.
#[derive(Clone, Debug)]
struct Source {
    path: Option<PathBuf>,
    name: String,
    bytes: u64,
}

enum Msg {
    Batch(RecordBatch),
    Reject {
        source: Arc<str>,
        line: u64,
        reason: String,
        text: String,
    },
    Done {
        entry: Option<SourceEntry>,
        summary: ReadSummary,
        bytes: u64,
        duplicate: bool,
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
    source: &Source,
    opts: &ReadOptions,
    seen: &Mutex<HashSet<String>>,
    force: bool,
    tx: &SyncSender<Msg>,
) {
    let name: Arc<str> = Arc::from(source.name.as_str());
    let mut send = |out: Output| {
        let msg = match out {
            Output::Batch(b) => Msg::Batch(b),
            Output::Reject(r) => Msg::Reject {
                source: name.clone(),
                line: r.line,
                reason: r.reason,
                text: r.text,
            },
        };
        let _ = tx.send(msg);
    };
    let (key, summary, bytes) = match &source.path {
        Some(path) => {
            let key = match hash_file(path) {
                Ok(k) => k,
                Err(e) => {
                    let summary = ReadSummary {
                        error: Some(flowwatch_flowlog::ReadError::Io {
                            source_name: source.name.clone(),
                            source: e,
                        }),
                        ..ReadSummary::default()
                    };
                    let _ = tx.send(Msg::Done {
                        entry: None,
                        summary,
                        bytes: source.bytes,
                        duplicate: false,
                    });
                    return;
                }
            };
            if !force
                && !seen
                    .lock()
                    .map(|mut s| s.insert(key.clone()))
                    .unwrap_or(true)
            {
                let _ = tx.send(Msg::Done {
                    entry: None,
                    summary: ReadSummary::default(),
                    bytes: source.bytes,
                    duplicate: true,
                });
                return;
            }
            let defaults = s3path::defaults_from_path(path);
            let summary =
                flowwatch_flowlog::read_path(path, &source.name, defaults, opts, &mut send);
            (key, summary, source.bytes)
        }
        None => {
            let mut data = Vec::new();
            if let Err(e) = std::io::stdin().lock().read_to_end(&mut data) {
                let summary = ReadSummary {
                    error: Some(flowwatch_flowlog::ReadError::Io {
                        source_name: source.name.clone(),
                        source: e,
                    }),
                    ..ReadSummary::default()
                };
                let _ = tx.send(Msg::Done {
                    entry: None,
                    summary,
                    bytes: 0,
                    duplicate: false,
                });
                return;
            }
            let key = blake3::hash(&data).to_hex().to_string();
            if !force
                && !seen
                    .lock()
                    .map(|mut s| s.insert(key.clone()))
                    .unwrap_or(true)
            {
                let _ = tx.send(Msg::Done {
                    entry: None,
                    summary: ReadSummary::default(),
                    bytes: data.len() as u64,
                    duplicate: true,
                });
                return;
            }
            let bytes = data.len() as u64;
            let summary = flowwatch_flowlog::read_stream(
                &data[..],
                &source.name,
                SourceDefaults::default(),
                opts,
                &mut send,
            );
            (key, summary, bytes)
        }
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
        batch_rows: 65_536,
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
    let mut txn = Some(store_begin(store, &group)?);
    let mut txn_rows = 0u64;
    let result: Result<()> = std::thread::scope(|scope| {
        let (work_tx, work_rx) = sync_channel::<Source>(threads);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (msg_tx, msg_rx) = sync_channel::<Msg>(16);
        let workers = threads.max(1);
        for _ in 0..workers {
            let work_rx = work_rx.clone();
            let msg_tx = msg_tx.clone();
            let opts = &opts;
            let seen = &seen;
            let force = args.force;
            scope.spawn(move || {
                loop {
                    let next = work_rx.lock().ok().and_then(|rx| rx.recv().ok());
                    let Some(source) = next else { break };
                    read_one(&source, opts, seen, force, &msg_tx);
                }
            });
        }
        drop(msg_tx);
        let mut pending = sources.iter();
        let mut in_flight = 0usize;
        let mut draining = false;
        let mut dispatch = |in_flight: &mut usize, draining: bool| {
            while !draining && *in_flight < workers {
                match pending.next() {
                    Some(s) => {
                        if work_tx.send(s.clone()).is_err() {
                            break;
                        }
                        *in_flight += 1;
                    }
                    None => break,
                }
            }
        };
        dispatch(&mut in_flight, draining);
        while in_flight > 0 {
            let Ok(msg) = msg_rx.recv() else { break };
            match msg {
                Msg::Batch(batch) => {
                    txn_rows += batch.num_rows() as u64;
                    if let Some(t) = txn.as_mut() {
                        t.write(&batch)?;
                    }
                }
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
                    if let Some(t) = txn.as_mut() {
                        t.quarantine(&source, line, &reason, &text)?;
                    }
                }
                Msg::Done {
                    entry,
                    summary,
                    bytes,
                    duplicate,
                } => {
                    in_flight -= 1;
                    report.bytes_in += bytes;
                    if let Some(bar) = &progress {
                        bar.inc(bytes);
                    }
                    account(&mut report, &summary, duplicate, &progress, args.quiet);
                    if let (Some(entry), Some(t)) = (entry, txn.as_mut()) {
                        t.add_source(entry);
                    }
                    if txn_rows >= args.txn_rows {
                        draining = true;
                    }
                    if draining && in_flight == 0 {
                        commit(store, txn.take(), &mut report)?;
                        txn_rows = 0;
                        txn = Some(store_begin(store, &group)?);
                        draining = false;
                    }
                    dispatch(&mut in_flight, draining);
                }
            }
        }
        drop(work_tx);
        Ok(())
    });
    result?;
    commit(store, txn.take(), &mut report)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    report.partitions_pruned_files = store.prune(&group, now_ms())?;
    report.compacted_partitions = store.compact(&group, 8)?.0;
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

fn commit(
    store: &mut Store,
    txn: Option<flowwatch_store::Txn>,
    report: &mut IngestReport,
) -> Result<()> {
    if let Some(t) = txn {
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
    if let Some(reason) = &summary.uniform_rejection {
        let msg = format!("every record was rejected: {reason}");
        report.errors.push(msg);
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
