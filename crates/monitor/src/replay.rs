//! Alarm replay: every alarm evaluated over stored series minute by minute with a simulated
//! clock ([`ManualClock`]), from a fresh start (the state AWS printed in `describe-alarms` is
//! ignored), reporting every transition with CloudWatch's reason text.

use chrono::{DateTime, Duration, DurationRound, Utc};
use std::path::Path;

use flowwatch_alarm::{
    AccountContext, AlarmEvent, AnomalyConfig, DescribeAlarmsOutput, ManualClock, MetricSource,
    Monitor, StateValue,
};

use crate::check::{Problem, check};
use crate::definitions::Definitions;
use crate::error::{MonitorError, Result};
use crate::rules::{MonitorSource, RuleMetrics};
use crate::series::MetricStore;

/// One state transition during a replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub time: DateTime<Utc>,
    pub alarm: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    pub kind: &'static str,
    pub old: StateValue,
    pub new: StateValue,
    pub reason: String,
    /// `StateReasonData` JSON, metric alarms only.
    pub reason_data: Option<String>,
}

/// The account and Region in the first alarm ARN, else placeholders (they only appear in
/// composite-alarm reasons and ARNs).
pub(crate) fn context(defs: &Definitions) -> AccountContext {
    let arn = defs
        .metric_alarms
        .iter()
        .filter_map(|a| a.alarm_arn.as_deref())
        .chain(
            defs.composite_alarms
                .iter()
                .filter_map(|a| a.alarm_arn.as_deref()),
        )
        .next();
    if let Some(arn) = arn {
        let parts: Vec<&str> = arn.split(':').collect();
        if let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) {
            return AccountContext::new(*account, *region);
        }
    }
    AccountContext::new("000000000000", "us-east-1")
}

/// [`replay`] over what `data_dir` stores: the metric-filter series, and the contributor
/// rules the alarms read (`INSIGHT_RULE_METRIC`) counted over the stored records from as far
/// back as the alarms look before `start` up to `end`.
pub fn replay_stored(
    data_dir: &Path,
    defs: &Definitions,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Vec<Transition>> {
    let series = MetricStore::open(data_dir)?;
    let report = check(defs);
    let mut rules = if report.is_ok() {
        RuleMetrics::for_alarms(defs, &report, &AnomalyConfig::default())?
    } else {
        None
    };
    if let Some(r) = &mut rules {
        let from = start.timestamp_millis().saturating_sub(r.window_ms());
        // Periods end at the evaluation time: the last step reads up to `end`.
        let to = end.timestamp_millis().saturating_add(60_000);
        r.refresh_range(data_dir, from, to)?;
    }
    let source = MonitorSource {
        series: &series,
        rules: rules.as_ref().map(RuleMetrics::engine),
    };
    replay(defs, &source, start, end, only)
}

/// Evaluates every alarm of `defs` at each evaluation step in `[start, end]` and returns the
/// transitions (only `only`'s when given; the other alarms are still evaluated, since a
/// composite needs its children). Invalid definitions are an error.
pub fn replay(
    defs: &Definitions,
    source: &dyn MetricSource,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Vec<Transition>> {
    let report = check(defs);
    if !report.is_ok() {
        return Err(MonitorError::Invalid(
            report.errors.iter().map(Problem::to_string).collect(),
        ));
    }
    if let Some(name) = only
        && !defs.metric_alarms.iter().any(|a| a.alarm_name == name)
        && !defs.composite_alarms.iter().any(|a| a.alarm_name == name)
    {
        return Err(MonitorError::Invalid(vec![format!(
            "no alarm named \"{name}\""
        )]));
    }
    let mut alarms = DescribeAlarmsOutput {
        metric_alarms: defs.metric_alarms.clone(),
        composite_alarms: defs.composite_alarms.clone(),
    };
    for a in &mut alarms.metric_alarms {
        a.state_value = None;
        a.state_reason = None;
        a.state_reason_data = None;
    }
    for a in &mut alarms.composite_alarms {
        a.state_value = None;
        a.state_reason = None;
        a.state_reason_data = None;
    }
    // High-resolution alarms evaluate every 10 s; everything else every minute.
    let step = if alarms
        .metric_alarms
        .iter()
        .any(|a| a.period.is_some_and(|p| p < 60))
    {
        Duration::seconds(10)
    } else {
        Duration::minutes(1)
    };
    let first = start.duration_trunc(step).unwrap_or(start);
    let first = if first < start { first + step } else { first };
    let clock = ManualClock::new(first);
    let mut monitor = Monitor::new(&clock, context(defs));
    let errors = monitor.load(&alarms);
    if !errors.is_empty() {
        return Err(MonitorError::Invalid(
            errors.iter().map(ToString::to_string).collect(),
        ));
    }
    let mut out = Vec::new();
    let mut now = first;
    while now <= end {
        clock.set(now);
        for event in monitor.evaluate(source) {
            let AlarmEvent::Transition(change) = event else {
                continue;
            };
            if only.is_some_and(|n| n != change.alarm_name) {
                continue;
            }
            out.push(Transition {
                time: change.timestamp(),
                kind: change.kind.as_str(),
                alarm: change.alarm_name,
                old: change.old.value,
                new: change.new.value,
                reason: change.new.reason,
                reason_data: change.new.reason_data,
            });
        }
        now += step;
    }
    Ok(out)
}
