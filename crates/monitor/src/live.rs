//! Monitoring as data arrives: what `flowwatch ingest` and `flowwatch watch` do after a
//! commit. Three pieces, each safe to interrupt:
//!
//! * [`update_metrics`]: the series of a log group's metric filters recomputed for the
//!   hours a commit touched, from everything stored in those hours (a
//!   [`backfill`](crate::backfill()) of that range). Recomputing rather than adding makes it
//!   idempotent: a re-run, a crash half-way or a file ingested twice never counts a record
//!   twice. The range is written to a journal (`<data-dir>/monitor/pending-metrics.json`)
//!   before the work and removed after, so [`recover_metrics`] finishes what a crash
//!   interrupted.
//! * [`LiveAlarms`]: the alarms evaluated on a clock over the stored series, their states
//!   kept in `<data-dir>/monitor/alarm-state.json` (replaced atomically) so a restart resumes
//!   where it stopped, and every transition appended to
//!   `<data-dir>/monitor/alarm-history.ndjson` in DescribeAlarmHistory's item shape.
//!   Alarms on contributor rules (`INSIGHT_RULE_METRIC`) read a [`RuleMetrics`] that counts
//!   the stored records of the hours they look at, refreshed before each evaluation.
//! * [`read_history`]: that log read back (a torn last line, from a crash mid-append, is
//!   skipped).
//!
//! Notifications are the caller's: [`LiveAlarms::evaluate`] returns the events whose actions
//! are due, after their states and history are durable.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use flowwatch_alarm::{
    AccountContext, AlarmDefinition, AlarmEvent, AnomalyConfig, Clock, DescribeAlarmsOutput,
    HistoryEntry, Monitor, StateChange, StateValue,
};
use serde::{Deserialize, Serialize};

use crate::backfill::{BackfillOptions, BackfillReport, backfill};
use crate::check::{Problem, check};
use crate::definitions::Definitions;
use crate::error::{IoContext, MonitorError, Result};
use crate::fsutil::write_atomic;
use crate::rules::{MonitorSource, RuleMetrics};
use crate::series::MetricStore;

const HOUR_MS: i64 = 3_600_000;

pub fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor").join("alarm-state.json")
}

pub fn history_path(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor").join("alarm-history.ndjson")
}

fn pending_path(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor").join("pending-metrics.json")
}

/// A range of a log group whose series must be recomputed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PendingRange {
    pub log_group: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

fn read_pending(data_dir: &Path) -> Result<Vec<PendingRange>> {
    read_json_or_default(
        &pending_path(data_dir),
        "delete the file and run `flowwatch metrics backfill`",
    )
}

/// A JSON file's content, or the default when the file does not exist; a file that does not
/// parse is an error naming it, with `advice`.
fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
    advice: &str,
) -> Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MonitorError::Syntax {
            source_name: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message: format!("{e}; {advice}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e).at(path),
    }
}

fn write_pending(data_dir: &Path, pending: &[PendingRange]) -> Result<()> {
    let path = pending_path(data_dir);
    if pending.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).at(&path),
            _ => Ok(()),
        };
    }
    let bytes = serde_json::to_vec_pretty(pending).map_err(std::io::Error::other);
    write_atomic(&path, &bytes.at(&path)?)
}

/// Recomputes the series of `log_group`'s metric filters over the whole hours that contain
/// `[min_ts, max_ts]` (epoch ms, the extent of what was just stored). Nothing to do (None)
/// when no imported filter reads the group.
pub fn update_metrics(
    data_dir: &Path,
    log_group: &str,
    min_ts: i64,
    max_ts: i64,
) -> Result<Option<BackfillReport>> {
    let defs = Definitions::load_stored(data_dir)?;
    if !defs
        .metric_filters
        .iter()
        .any(|f| f.log_group_name == log_group)
    {
        return Ok(None);
    }
    let range = PendingRange {
        log_group: log_group.to_string(),
        start_ms: min_ts.div_euclid(HOUR_MS) * HOUR_MS,
        end_ms: (max_ts.div_euclid(HOUR_MS) + 1) * HOUR_MS,
    };
    let mut pending = read_pending(data_dir)?;
    if !pending.contains(&range) {
        pending.push(range.clone());
        write_pending(data_dir, &pending)?;
    }
    let report = compute(data_dir, &defs, &range)?;
    pending.retain(|p| *p != range);
    write_pending(data_dir, &pending)?;
    Ok(Some(report))
}

/// Finishes the recomputations a crash interrupted; returns how many ranges it redid.
pub fn recover_metrics(data_dir: &Path) -> Result<usize> {
    let pending = read_pending(data_dir)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let defs = Definitions::load_stored(data_dir)?;
    for range in &pending {
        compute(data_dir, &defs, range)?;
    }
    write_pending(data_dir, &[])?;
    Ok(pending.len())
}

fn compute(data_dir: &Path, defs: &Definitions, range: &PendingRange) -> Result<BackfillReport> {
    let report = check(defs);
    if !report.is_ok() {
        return Err(MonitorError::Invalid(
            report.errors.iter().map(Problem::to_string).collect(),
        ));
    }
    let opts = BackfillOptions {
        log_group: Some(range.log_group.clone()),
        start_ms: Some(range.start_ms),
        end_ms: Some(range.end_ms),
    };
    backfill(data_dir, &report.filters, &opts)
}

/// An alarm's state as kept between runs (the `State*` fields of describe-alarms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SavedState {
    pub state_value: StateValue,
    pub state_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    pub state_updated_timestamp: String,
}

/// The saved states, by alarm name (empty before the first evaluation).
pub fn load_states(data_dir: &Path) -> Result<BTreeMap<String, SavedState>> {
    read_json_or_default(
        &state_path(data_dir),
        "delete the file to start every alarm afresh",
    )
}

fn save_states(data_dir: &Path, states: &BTreeMap<String, SavedState>) -> Result<()> {
    let path = state_path(data_dir);
    let bytes = serde_json::to_vec_pretty(states).map_err(std::io::Error::other);
    write_atomic(&path, &bytes.at(&path)?)
}

fn append_history(data_dir: &Path, changes: &[&StateChange]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let path = history_path(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    let mut text = String::new();
    for c in changes {
        let entry = HistoryEntry {
            old: c.old.clone(),
            new: c.new.clone(),
        };
        let item = entry.to_aws(&c.alarm_name, c.kind);
        text.push_str(
            &serde_json::to_string(&item)
                .map_err(std::io::Error::other)
                .at(&path)?,
        );
        text.push('\n');
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .at(&path)?;
    f.write_all(text.as_bytes()).at(&path)?;
    f.sync_data().at(&path)?;
    Ok(())
}

/// The transitions recorded in `<data-dir>/monitor/alarm-history.ndjson`, oldest first, as
/// DescribeAlarmHistory items (JSON objects). A line that is not JSON (a torn write) is
/// skipped.
pub fn read_history(data_dir: &Path) -> Result<Vec<serde_json::Value>> {
    let path = history_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).at(&path),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// The imported alarms evaluated on a clock, with their states persisted.
pub struct LiveAlarms<C: Clock> {
    data_dir: PathBuf,
    defs: Definitions,
    monitor: Monitor<C>,
    states: BTreeMap<String, SavedState>,
    /// The contributor rules the alarms read, counted over the stored records.
    rules: Option<RuleMetrics>,
}

impl<C: Clock> LiveAlarms<C> {
    /// Loads the imported alarms, resuming each from its saved state (or
    /// `INSUFFICIENT_DATA` when it has none). Invalid definitions are an error.
    pub fn open(data_dir: &Path, clock: C) -> Result<LiveAlarms<C>> {
        let defs = Definitions::load_stored(data_dir)?;
        let report = check(&defs);
        if !report.is_ok() {
            return Err(MonitorError::Invalid(
                report.errors.iter().map(Problem::to_string).collect(),
            ));
        }
        let states = load_states(data_dir)?;
        let mut alarms = DescribeAlarmsOutput {
            metric_alarms: defs.metric_alarms.clone(),
            composite_alarms: defs.composite_alarms.clone(),
        };
        // The saved state wins over whatever `describe-alarms` printed at import.
        for a in &mut alarms.metric_alarms {
            let saved = states.get(&a.alarm_name);
            a.state_value = saved.map(|s| s.state_value);
            a.state_reason = saved.map(|s| s.state_reason.clone());
            a.state_reason_data = saved.and_then(|s| s.state_reason_data.clone());
        }
        for a in &mut alarms.composite_alarms {
            let saved = states.get(&a.alarm_name);
            a.state_value = saved.map(|s| s.state_value);
            a.state_reason = saved.map(|s| s.state_reason.clone());
            a.state_reason_data = saved.and_then(|s| s.state_reason_data.clone());
        }
        let rules = RuleMetrics::for_alarms(&defs, &report, &AnomalyConfig::default())?;
        let mut monitor = Monitor::new(clock, crate::replay::context(&defs));
        let errors = monitor.load(&alarms);
        if !errors.is_empty() {
            return Err(MonitorError::Invalid(
                errors.iter().map(ToString::to_string).collect(),
            ));
        }
        Ok(LiveAlarms {
            data_dir: data_dir.to_path_buf(),
            defs,
            monitor,
            states,
            rules,
        })
    }

    pub fn definitions(&self) -> &Definitions {
        &self.defs
    }

    pub fn context(&self) -> &AccountContext {
        self.monitor.context()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.metric_alarms.is_empty() && self.defs.composite_alarms.is_empty()
    }

    /// The alarm a transition belongs to, for building its notifications.
    pub fn definition(&self, name: &str) -> Option<AlarmDefinition<'_>> {
        if let Some(m) = self
            .defs
            .metric_alarms
            .iter()
            .find(|a| a.alarm_name == name)
        {
            return Some(AlarmDefinition::Metric(m));
        }
        self.defs
            .composite_alarms
            .iter()
            .find(|a| a.alarm_name == name)
            .map(AlarmDefinition::Composite)
    }

    /// The current state of every alarm, by name.
    pub fn states(&self) -> BTreeMap<String, StateValue> {
        self.defs
            .metric_alarms
            .iter()
            .map(|a| &a.alarm_name)
            .chain(self.defs.composite_alarms.iter().map(|a| &a.alarm_name))
            .filter_map(|n| self.monitor.state(n).map(|s| (n.clone(), s)))
            .collect()
    }

    /// Evaluates every alarm due at the clock's time over the stored series (read afresh),
    /// or every alarm when `new_data` (the series just changed), records the transitions
    /// (state file, history) and returns the events.
    pub fn evaluate(&mut self, new_data: bool) -> Result<Vec<AlarmEvent>> {
        let series = MetricStore::open(&self.data_dir)?;
        if let Some(rules) = &mut self.rules {
            rules.refresh(&self.data_dir, self.monitor.now().timestamp_millis())?;
        }
        let source = MonitorSource {
            series: &series,
            rules: self.rules.as_ref().map(RuleMetrics::engine),
        };
        let events = if new_data {
            self.monitor.evaluate_all(&source)
        } else {
            self.monitor.evaluate(&source)
        };
        self.record(&events)?;
        Ok(events)
    }

    /// SetAlarmState: the state holds until the alarm's next evaluation; recorded and
    /// returned like an evaluated transition (None when the state does not change).
    pub fn set_state(
        &mut self,
        name: &str,
        value: StateValue,
        reason: &str,
        reason_data: Option<&str>,
    ) -> Result<Option<AlarmEvent>> {
        let event = self
            .monitor
            .set_alarm_state(name, value, reason, reason_data)
            .map_err(|e| MonitorError::Invalid(vec![e.to_string()]))?;
        if let Some(e) = &event {
            self.record(std::slice::from_ref(e))?;
        }
        Ok(event)
    }

    fn record(&mut self, events: &[AlarmEvent]) -> Result<()> {
        let changes: Vec<&StateChange> = events
            .iter()
            .filter_map(|e| match e {
                AlarmEvent::Transition(c) => Some(c),
                AlarmEvent::ReleasedActions(_) => None,
            })
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        for c in &changes {
            self.states.insert(
                c.alarm_name.clone(),
                SavedState {
                    state_value: c.new.value,
                    state_reason: c.new.reason.clone(),
                    state_reason_data: c.new.reason_data.clone(),
                    state_updated_timestamp: flowwatch_alarm::aws::aws_timestamp(c.new.timestamp),
                },
            );
        }
        // History first: a crash between the two re-evaluates (and re-records) the
        // transition rather than losing it.
        append_history(&self.data_dir, &changes)?;
        save_states(&self.data_dir, &self.states)
    }
}
