//! The dispatcher: accepts notifications without touching the network, delivers them on
//! background threads with retries, and records every outcome.
//!
//! * [`Dispatcher::submit`] appends the notification to the outbox (fsync) and wakes the
//!   target's lane; it never waits for a delivery, so an alarm evaluation (or an ingest) is
//!   never held up by a slow or dead target. Its only cost is one fsync.
//! * One lane (thread) per target delivers that target's notifications one at a time, in
//!   submission order: a notification waiting for its retry holds back the later ones of
//!   the same target, so an OK can never overtake the ALARM it resolves. Targets do not
//!   wait for each other.
//! * A failed attempt is retried after [`Backoff::delay`] (or the target's `Retry-After`,
//!   capped at [`Backoff::max`]) until the target's `MaxAttempts`; then, or at once for a
//!   permanent error, the notification is recorded as failed, with its payload.
//! * [`Dispatcher::open`] resumes what the outbox holds without a final record, counting
//!   the attempts already made; a notification with a final record is never sent again, and
//!   [`Dispatcher::submit`] of an id already known is a no-op ([`Submitted::Duplicate`]).
//!
//! Delivery is at least once: a crash after a target accepted a notification but before
//! the outcome was fsync'd sends it again on the next start. Receivers that care drop
//! repeats by the notification id.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use flowwatch_alarm::aws::aws_timestamp;
use flowwatch_alarm::{Clock, SystemClock};
use ureq::Agent;

use crate::backoff::Backoff;
use crate::deliver::{self, Attempt};
use crate::delivery::{Delivery, Outcome};
use crate::error::{NotifyError, Result};
use crate::http;
use crate::journal::Journal;
use crate::notification::Notification;
use crate::target::{Route, Targets, no_target_message};

/// Final entries the outbox may hold before it is compacted while other notifications are
/// still pending (it is compacted whenever nothing is pending anyway).
const COMPACT_AFTER: usize = 1024;

/// How a dispatcher behaves; the defaults suit production, tests shorten the backoff.
#[derive(Clone)]
pub struct Options {
    pub backoff: Backoff,
    /// Timestamps of delivery records (`recorded_at`). Waits use the monotonic clock.
    pub clock: Arc<dyn Clock + Send + Sync>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            backoff: Backoff::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// What [`Dispatcher::submit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// In the outbox; its lane will deliver it.
    Queued,
    /// A notification with this id was accepted before (pending or final): nothing done.
    Duplicate,
    /// No target has its ARN: recorded as failed at once.
    NoTarget,
}

struct Pending {
    seq: u64,
    notification: Notification,
    failed: u32,
    due: Instant,
}

struct State {
    /// None once shutdown has returned: the directory is released, and an attempt still
    /// running then records nothing (its notification stays pending for the next start).
    journal: Option<Journal>,
    /// Every id in the outbox or the log: submit is idempotent.
    known: HashSet<String>,
    lanes: HashMap<String, VecDeque<Pending>>,
    next_seq: u64,
    /// Outbox lines whose notification is final.
    outbox_final: usize,
    accepting: bool,
    /// Set by shutdown: lanes stop starting attempts at this instant.
    stop: Option<Instant>,
    running: usize,
    /// The last write that failed. After a failed delivery-log write the outbox is no
    /// longer compacted, so an outcome missing from the log means a re-send after restart,
    /// never a loss.
    io_error: Option<String>,
    log_broken: bool,
}

impl State {
    fn pending(&self) -> usize {
        self.lanes.values().map(VecDeque::len).sum()
    }

    fn record(&mut self, d: &Delivery) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if let Err(e) = journal.append_log(d) {
            self.io_error = Some(e.to_string());
            self.log_broken = true;
        }
    }

    /// Rewrites the outbox with the pending notifications, in submission order.
    fn compact(&mut self) -> Result<()> {
        let Some(journal) = &mut self.journal else {
            return Ok(());
        };
        if self.outbox_final == 0 || self.log_broken {
            return Ok(());
        }
        let mut pending: Vec<&Pending> = self.lanes.values().flatten().collect();
        pending.sort_by_key(|p| p.seq);
        journal.rewrite_outbox(pending.into_iter().map(|p| &p.notification))?;
        self.outbox_final = 0;
        Ok(())
    }

    fn finished_one(&mut self) {
        self.outbox_final += 1;
        if (self.outbox_final >= COMPACT_AFTER || self.pending() == 0)
            && let Err(e) = self.compact()
        {
            self.io_error = Some(e.to_string());
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Lanes wait here for work, a due time, or shutdown.
    wake: Condvar,
    /// Signalled when a notification becomes final or a lane stops.
    idle: Condvar,
    targets: Targets,
    backoff: Backoff,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now_text(&self) -> String {
        aws_timestamp(self.clock.now())
    }
}

/// Delivers notifications from a directory's outbox; see the module docs.
pub struct Dispatcher {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Dispatcher {
    /// [`Dispatcher::open_with`] with the default [`Options`].
    pub fn open(dir: &Path, targets: Targets) -> Result<Dispatcher> {
        Dispatcher::open_with(dir, targets, Options::default())
    }

    /// Locks `dir` (created if needed), resumes its pending notifications and starts one
    /// lane per target. Pending notifications whose ARN no longer has a target, or whose
    /// attempts already reach the target's `MaxAttempts`, are recorded as failed here.
    pub fn open_with(dir: &Path, targets: Targets, options: Options) -> Result<Dispatcher> {
        let (mut journal, loaded) = Journal::open(dir)?;
        let mut finals = HashSet::new();
        let mut attempts: HashMap<&str, (u32, Option<&str>)> = HashMap::new();
        for d in &loaded.log {
            if d.is_final() {
                finals.insert(d.id.as_str());
            } else {
                let entry = attempts.entry(d.id.as_str()).or_default();
                entry.0 = entry.0.max(d.attempts);
                entry.1 = d.error.as_deref();
            }
        }
        let now_text = aws_timestamp(options.clock.now());
        let mut lanes: HashMap<String, VecDeque<Pending>> = targets
            .arns()
            .map(|arn| (arn.to_string(), VecDeque::new()))
            .collect();
        let mut known: HashSet<String> = loaded.log.iter().map(|d| d.id.clone()).collect();
        let mut outbox_final = 0;
        let mut late_failures = Vec::new();
        let now = Instant::now();
        let mut next_seq = 0;
        let mut in_outbox = HashSet::new();
        for n in loaded.outbox {
            if finals.contains(n.id.as_str()) || !in_outbox.insert(n.id.clone()) {
                // Final already, or a second line of an id (both cleared by compaction).
                outbox_final += 1;
                continue;
            }
            known.insert(n.id.clone());
            let (failed, last_error) = attempts.get(n.id.as_str()).copied().unwrap_or_default();
            match (targets.route(&n.target_arn), lanes.get_mut(&n.target_arn)) {
                (Some(route), Some(queue)) if failed < route.max_attempts => {
                    queue.push_back(Pending {
                        seq: next_seq,
                        notification: n,
                        failed,
                        due: now,
                    });
                    next_seq += 1;
                }
                (Some(_), _) => {
                    let error = last_error.unwrap_or("MaxAttempts reached").to_string();
                    late_failures.push(
                        Delivery::new(&n, Outcome::Failed, failed, now_text.clone())
                            .with_error(error),
                    );
                    outbox_final += 1;
                }
                (None, _) => {
                    let error = no_target_message(&n.target_arn);
                    late_failures.push(
                        Delivery::new(&n, Outcome::Failed, failed, now_text.clone())
                            .with_error(error),
                    );
                    outbox_final += 1;
                }
            }
        }
        for d in &late_failures {
            journal.append_log(d)?;
        }
        let mut state = State {
            journal: Some(journal),
            known,
            lanes,
            next_seq,
            outbox_final,
            accepting: true,
            stop: None,
            running: 0,
            io_error: None,
            log_broken: false,
        };
        state.compact()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            wake: Condvar::new(),
            idle: Condvar::new(),
            targets,
            backoff: options.backoff,
            clock: options.clock,
        });
        let routes: Vec<Route> = shared.targets.routes().cloned().collect();
        let mut threads = Vec::with_capacity(routes.len());
        for route in routes {
            let agent = http::agent(route.timeout);
            let lane_shared = Arc::clone(&shared);
            let name = format!("notify {}", route.arn);
            shared.lock().running += 1;
            let spawned = thread::Builder::new()
                .name(name)
                .spawn(move || lane(lane_shared, route, agent));
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    shared.lock().running -= 1;
                    let dispatcher = Dispatcher { shared, threads };
                    drop(dispatcher);
                    return Err(NotifyError::Io {
                        path: dir.to_path_buf(),
                        source: e,
                    });
                }
            }
        }
        Ok(Dispatcher { shared, threads })
    }

    /// Accepts `n` durably (outbox append + fsync) and returns; delivery happens on the
    /// target's lane. An error means it was not accepted.
    pub fn submit(&self, n: Notification) -> Result<Submitted> {
        let shared = &self.shared;
        let mut st = shared.lock();
        if !st.accepting {
            return Err(NotifyError::ShutDown(n.id));
        }
        if st.known.contains(&n.id) {
            return Ok(Submitted::Duplicate);
        }
        let State {
            journal: Some(journal),
            ..
        } = &mut *st
        else {
            return Err(NotifyError::ShutDown(n.id));
        };
        if shared.targets.route(&n.target_arn).is_none() {
            let error = no_target_message(&n.target_arn);
            let d = Delivery::new(&n, Outcome::Failed, 0, shared.now_text()).with_error(error);
            journal.append_log(&d)?;
            st.known.insert(n.id);
            shared.idle.notify_all();
            return Ok(Submitted::NoTarget);
        }
        journal.append_outbox(&n)?;
        st.known.insert(n.id.clone());
        let seq = st.next_seq;
        st.next_seq += 1;
        if let Some(queue) = st.lanes.get_mut(&n.target_arn) {
            queue.push_back(Pending {
                seq,
                notification: n,
                failed: 0,
                due: Instant::now(),
            });
        }
        shared.wake.notify_all();
        Ok(Submitted::Queued)
    }

    /// Notifications accepted and not yet final.
    pub fn pending(&self) -> usize {
        self.shared.lock().pending()
    }

    /// The last write that failed in the background (the delivery log or an outbox
    /// compaction), if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.lock().io_error.clone()
    }

    /// Waits until nothing is pending or `deadline` passes; true when nothing is pending.
    pub fn wait_idle(&self, deadline: Instant) -> bool {
        let mut st = self.shared.lock();
        loop {
            if st.pending() == 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .idle
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops accepting, lets the lanes deliver what falls due before `deadline`, then
    /// stops them; returns how many notifications stay pending for the next start. The
    /// directory is released when this returns. An attempt still running at the deadline
    /// is abandoned: its thread ends by itself (within the target's timeout) and records
    /// nothing, so its notification stays pending and the next start sends it again.
    pub fn shutdown(mut self, deadline: Instant) -> Result<usize> {
        let shared = Arc::clone(&self.shared);
        let mut st = shared.lock();
        st.accepting = false;
        st.stop = Some(deadline);
        shared.wake.notify_all();
        while st.running > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = shared
                .idle
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let stopped = st.running == 0;
        let compacted = st.compact();
        let pending = st.pending();
        // Release the directory now, even if an attempt is still running.
        st.journal = None;
        drop(st);
        compacted?;
        let threads = std::mem::take(&mut self.threads);
        if stopped {
            for t in threads {
                let _ = t.join();
            }
        }
        Ok(pending)
    }
}

impl Drop for Dispatcher {
    /// Without [`Dispatcher::shutdown`]: stop at once, without waiting, and release the
    /// directory; what is pending stays in the outbox.
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.accepting = false;
        if st.stop.is_none() {
            st.stop = Some(Instant::now());
        }
        st.journal = None;
        self.shared.wake.notify_all();
    }
}

/// A target's lane: delivers the head of its queue when due, until shutdown.
fn lane(shared: Arc<Shared>, route: Route, agent: Agent) {
    let mut st = shared.lock();
    loop {
        let now = Instant::now();
        if st.stop.is_some_and(|d| now >= d) {
            break;
        }
        let head = st
            .lanes
            .get(&route.arn)
            .and_then(VecDeque::front)
            .map(|p| (p.due, p.failed, p.notification.clone()));
        let Some((due, failed, n)) = head else {
            if st.stop.is_some() {
                break;
            }
            st = shared.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        if due > now {
            if st.stop.is_some_and(|d| due > d) {
                break;
            }
            let until = st.stop.map_or(due, |d| d.min(due));
            st = shared
                .wake
                .wait_timeout(st, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        drop(st);
        let number = failed + 1;
        let result = deliver::attempt(&route, &agent, &n, number);
        st = shared.lock();
        settle(&shared, &mut st, &route, &n, number, result);
        shared.idle.notify_all();
    }
    st.running -= 1;
    shared.idle.notify_all();
}

/// Records an attempt's result and pops or reschedules the lane's head.
fn settle(
    shared: &Shared,
    st: &mut State,
    route: &Route,
    n: &Notification,
    number: u32,
    result: Attempt,
) {
    let at = shared.now_text();
    let final_record = match result {
        Attempt::Delivered => Delivery::new(n, Outcome::Delivered, number, at),
        Attempt::Skipped(why) => Delivery::new(n, Outcome::Skipped, number - 1, at).with_note(why),
        Attempt::Permanent(error) => {
            Delivery::new(n, Outcome::Failed, number, at).with_error(error)
        }
        Attempt::Retry { error, .. } if number >= route.max_attempts => {
            Delivery::new(n, Outcome::Failed, number, at).with_error(error)
        }
        Attempt::Retry { error, after } => {
            let mut wait = shared.backoff.delay(number, &n.id);
            if let Some(hint) = after {
                wait = wait.max(hint.min(shared.backoff.max));
            }
            let mut d = Delivery::new(n, Outcome::AttemptFailed, number, at).with_error(error);
            d.retry_in_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
            st.record(&d);
            if let Some(head) = st.lanes.get_mut(&route.arn).and_then(VecDeque::front_mut)
                && head.notification.id == n.id
            {
                head.failed = number;
                head.due = Instant::now() + wait;
            }
            return;
        }
    };
    st.record(&final_record);
    let queue = st.lanes.get_mut(&route.arn);
    if let Some(queue) = queue
        && queue.front().is_some_and(|p| p.notification.id == n.id)
    {
        queue.pop_front();
    }
    st.finished_one();
}
