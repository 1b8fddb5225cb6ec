//! `flowwatch watch`: live mode. Follows directories (and stdin) for new flow-log files,
//! ingests each once through the same path as `flowwatch ingest` (so metric series update
//! in the same step), evaluates the alarms on the wall clock and delivers their
//! notifications in the background.
//!
//! One tick (every `--interval`, 500 ms by default):
//! 1. list the watched directories; a file is taken once its size and modification time
//!    have not changed for one tick (a writer still copying it is left alone);
//! 2. ingest the new files in one run (the store's content-hash ledger makes a file seen
//!    again, after a restart for example, a no-op) — this also recomputes the metric series
//!    of the hours the files touched;
//! 3. evaluate the alarms: all of them when new data arrived (a file can raise an alarm
//!    within the tick), else those due at this minute (CloudWatch's once-a-minute cadence);
//! 4. hand each transition's notifications to the dispatcher, which writes them to its
//!    outbox and delivers them on its own threads (never blocking the next tick).
//!
//! Stdin, when `-` is given, is read line by line on a thread; each tick's lines are written
//! to a spool file in `<data-dir>/watch-spool/` first and ingested from there, so a crash
//! loses nothing that was read (the spool is ingested on the next start).
//!
//! Ctrl-C (or SIGTERM) stops after the current tick: nothing half-stored, pending
//! notifications left in the outbox for the next start.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use flowwatch_alarm::{AlarmEvent, Clock, SystemClock};
use flowwatch_monitor::{Definitions, LiveAlarms};
use flowwatch_notify::{Dispatcher, Notification, Submitted, Targets};
use flowwatch_store::Store;

use crate::exit;
use crate::ingest::{self, IngestArgs};

/// Where the dispatcher keeps its outbox and delivery log.
pub fn notifications_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor").join("notifications")
}

fn spool_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("watch-spool")
}

/// What `watch` was asked to do.
pub struct WatchOptions {
    pub paths: Vec<String>,
    pub log_group: String,
    pub format: flowwatch_flowlog::InputFormat,
    pub log_format: Option<flowwatch_core::LogFormat>,
    pub monitor: Option<PathBuf>,
    pub interval: Duration,
    /// Stop after this many ticks (tests and scripts); None = until Ctrl-C.
    pub ticks: Option<u64>,
    pub quiet: bool,
}

/// A file seen in a watched directory: its size and mtime at the last listing.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(".tmp") || name == "aws-logs-write-test" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => list_files(&e.path(), out),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

fn stamp(path: &Path) -> Option<Seen> {
    let m = std::fs::metadata(path).ok()?;
    Some(Seen {
        len: m.len(),
        modified: m.modified().ok(),
    })
}

fn log(quiet: bool, msg: impl AsRef<str>) {
    if !quiet {
        let now = chrono::Utc::now().format("%H:%M:%S");
        eprintln!("{now} {}", msg.as_ref());
    }
}

/// Builds and submits the notifications of `events`; returns how many were queued.
fn submit(
    live: &LiveAlarms<impl Clock>,
    targets: &Targets,
    dispatcher: &Dispatcher,
    events: &[AlarmEvent],
    quiet: bool,
) -> Result<usize> {
    let mut queued = 0;
    for e in events {
        let change = e.change();
        if let AlarmEvent::Transition(c) = e {
            log(
                quiet,
                format!(
                    "alarm {}: {} -> {}: {}",
                    c.alarm_name, c.old.value, c.new.value, c.new.reason
                ),
            );
        }
        let Some(def) = live.definition(&change.alarm_name) else {
            continue;
        };
        for n in Notification::for_transition(def, change, live.context(), targets) {
            let arn = n.target_arn.clone();
            match dispatcher.submit(n)? {
                Submitted::Queued => queued += 1,
                Submitted::Duplicate => {}
                Submitted::NoTarget => eprintln!(
                    "warning: {}: action {arn} has no NotificationTargets entry; recorded as failed \
                     (add one to the monitoring file and `flowwatch monitor import` it)",
                    change.alarm_name
                ),
            }
        }
    }
    Ok(queued)
}

fn targets(defs: &Definitions) -> Result<Targets> {
    Targets::new(&defs.notification_targets)
        .context("invalid NotificationTargets in the imported monitoring definitions")
}

/// Delivers the notifications of `events` now and waits (up to 30 s) for the outcome:
/// `alarms set-state`.
pub fn deliver_now(
    data_dir: &Path,
    live: &LiveAlarms<impl Clock>,
    events: &[AlarmEvent],
) -> Result<()> {
    let targets = targets(live.definitions())?;
    let dir = notifications_dir(data_dir);
    let dispatcher = Dispatcher::open(&dir, targets.clone())
        .with_context(|| format!("cannot open the notification outbox in {}", dir.display()))?;
    let queued = submit(live, &targets, &dispatcher, events, true)?;
    if queued > 0 {
        let deadline = Instant::now() + Duration::from_secs(30);
        dispatcher.wait_idle(deadline);
        let left = dispatcher.shutdown(Instant::now() + Duration::from_secs(1))?;
        if left > 0 {
            eprintln!(
                "{left} notification(s) still pending (retrying); `flowwatch watch` delivers them \
                 when it next runs"
            );
        } else {
            eprintln!(
                "{queued} notification(s) handled; see the delivery log in {}",
                dir.display()
            );
        }
    } else {
        dispatcher.shutdown(Instant::now())?;
    }
    Ok(())
}

/// Reads stdin lines into a shared buffer until EOF.
fn spawn_stdin_reader(buffer: Arc<Mutex<Vec<String>>>, eof: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) => buffer.lock().unwrap_or_else(|p| p.into_inner()).push(l),
                Err(_) => break,
            }
        }
        eof.store(true, Ordering::SeqCst);
    });
}

/// Writes buffered stdin lines to a new spool file (fsync'd); None when there were none.
fn spool(data_dir: &Path, buffer: &Mutex<Vec<String>>) -> Result<Option<PathBuf>> {
    let lines = std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()));
    if lines.is_empty() {
        return Ok(None);
    }
    let dir = spool_dir(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = format!(
        "stdin-{}-{}.log",
        flowwatch_store::now_ms(),
        std::process::id()
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    for l in &lines {
        writeln!(f, "{l}")?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(Some(path))
}

pub fn run(store: &mut Store, opts: WatchOptions) -> Result<u8> {
    let data_dir = store.root().to_path_buf();
    if let Some(file) = &opts.monitor {
        let mut defs = Definitions::load_stored(&data_dir)?;
        let new = Definitions::read(file)?;
        let report = flowwatch_monitor::check(&new);
        if !report.is_ok() {
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            bail!(
                "{}: fix the definitions above, then run again",
                file.display()
            );
        }
        let merged = defs.merge(new);
        defs.save_stored(&data_dir)?;
        log(
            opts.quiet,
            format!(
                "imported {}: {} added, {} replaced",
                file.display(),
                merged.added,
                merged.replaced
            ),
        );
    }
    let read_stdin = opts.paths.iter().any(|p| p == "-");
    let dirs: Vec<PathBuf> = opts
        .paths
        .iter()
        .filter(|p| *p != "-")
        .map(PathBuf::from)
        .collect();
    for d in &dirs {
        if !d.is_dir() {
            bail!(
                "{}: not a directory (watch follows directories; use `flowwatch ingest` for files)",
                d.display()
            );
        }
    }
    store.ensure_group(&opts.log_group)?;

    let mut live = LiveAlarms::open(&data_dir, SystemClock)?;
    let targets = targets(live.definitions())?;
    let notif_dir = notifications_dir(&data_dir);
    let dispatcher = Dispatcher::open(&notif_dir, targets.clone()).with_context(|| {
        format!(
            "cannot open the notification outbox in {}",
            notif_dir.display()
        )
    })?;
    if dispatcher.pending() > 0 {
        log(
            opts.quiet,
            format!(
                "{} notification(s) left from the last run: delivering",
                dispatcher.pending()
            ),
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // A second handler cannot be installed (tests run watch in-process only once).
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let stdin_buffer = Arc::new(Mutex::new(Vec::new()));
    let stdin_eof = Arc::new(AtomicBool::new(!read_stdin));
    if read_stdin {
        spawn_stdin_reader(Arc::clone(&stdin_buffer), Arc::clone(&stdin_eof));
    }

    log(
        opts.quiet,
        format!(
            "watching {} into log group {} ({} alarm(s), {} notification target(s)); Ctrl-C stops",
            if dirs.is_empty() {
                "stdin".to_string()
            } else {
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            opts.log_group,
            live.states().len(),
            targets.len()
        ),
    );

    let mut seen: BTreeMap<PathBuf, Seen> = BTreeMap::new();
    let mut taken: BTreeSet<PathBuf> = BTreeSet::new();
    let mut tick = 0u64;
    // Spool files left by a crash are ingested on the first tick.
    let mut spooled: Vec<PathBuf> = Vec::new();
    let mut leftovers = Vec::new();
    list_files(&spool_dir(&data_dir), &mut leftovers);
    spooled.extend(leftovers);
    let mut failed = false;
    let mut last_step: Option<i64> = None;
    loop {
        let started = Instant::now();
        tick += 1;
        // 1. New, settled files.
        let mut ready: Vec<PathBuf> = Vec::new();
        let mut listed = Vec::new();
        for d in &dirs {
            list_files(d, &mut listed);
        }
        for path in listed {
            if taken.contains(&path) {
                continue;
            }
            let Some(now) = stamp(&path) else { continue };
            match seen.insert(path.clone(), now) {
                Some(before) if before == now => ready.push(path),
                _ => {}
            }
        }
        if let Some(p) = spool(&data_dir, &stdin_buffer)? {
            spooled.push(p);
        }
        let mut batch: Vec<PathBuf> = ready.clone();
        batch.extend(spooled.iter().cloned());
        // 2. Ingest (and update the metric series).
        let mut new_data = false;
        if !batch.is_empty() {
            let args = IngestArgs {
                paths: batch.iter().map(|p| p.display().to_string()).collect(),
                log_group: opts.log_group.clone(),
                format: opts.format,
                log_format: opts.log_format.clone(),
                force: false,
                threads: 0,
                quiet: true,
                txn_rows: ingest::DEFAULT_TXN_ROWS,
            };
            match ingest::run(store, &args) {
                Ok(report) => {
                    new_data = report.records_stored > 0;
                    if report.files_ingested > 0 || report.files_failed > 0 {
                        log(
                            opts.quiet,
                            format!(
                                "ingested {} file(s): {} records stored, {} rejected, {} already stored{}",
                                report.files_ingested,
                                report.records_stored,
                                report.records_rejected,
                                report.duplicates_skipped,
                                if report.files_failed > 0 {
                                    format!(", {} failed", report.files_failed)
                                } else {
                                    String::new()
                                }
                            ),
                        );
                    }
                    for e in &report.errors {
                        eprintln!("error: {e}");
                    }
                    for p in &ready {
                        taken.insert(p.clone());
                        seen.remove(p);
                    }
                    for p in spooled.drain(..) {
                        let _ = std::fs::remove_file(&p);
                    }
                }
                Err(e) => {
                    // Nothing of a failed run is stored; the files are retried next tick.
                    eprintln!("error: ingest failed: {e:#}; retrying next tick");
                    failed = true;
                }
            }
        }
        // 3. Alarms, 4. notifications.
        // Alarms are due every minute (every 10 s for high-resolution ones): between those
        // steps, only new data is worth reading the series for.
        let step = SystemClock.now().timestamp().div_euclid(10);
        if !live.is_empty() && (new_data || last_step != Some(step)) {
            last_step = Some(step);
            match live.evaluate(new_data) {
                Ok(events) => {
                    submit(&live, &targets, &dispatcher, &events, opts.quiet)?;
                }
                Err(e) => {
                    eprintln!("error: alarm evaluation failed: {e}");
                    failed = true;
                }
            }
        }
        if let Some(e) = dispatcher.last_error() {
            eprintln!("error: notification log: {e}");
        }
        let done_stdin = stdin_eof.load(Ordering::SeqCst)
            && stdin_buffer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty();
        if stop.load(Ordering::SeqCst)
            || opts.ticks.is_some_and(|n| tick >= n)
            || (dirs.is_empty() && done_stdin && spooled.is_empty())
        {
            break;
        }
        // Sleep out the tick, waking early to stop.
        while started.elapsed() < opts.interval && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50).min(opts.interval));
        }
    }
    let pending = dispatcher.shutdown(Instant::now() + Duration::from_secs(5))?;
    log(
        opts.quiet,
        if pending > 0 {
            format!("stopped; {pending} notification(s) pending, delivered on the next start")
        } else {
            "stopped".to_string()
        },
    );
    Ok(if failed { exit::FAILED } else { exit::OK })
}
