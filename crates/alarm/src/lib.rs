//! CloudWatch metric alarms and composite alarms as pure logic: definitions in AWS's JSON
//! shapes, evaluation against an injected clock and a storage-agnostic metric source,
//! anomaly-detection bands, and the payloads CloudWatch sends on a transition. No IO, no
//! async, no DataFusion: the caller brings the data ([`MetricSource`]), the time
//! ([`Clock`]) and the delivery (HTTP elsewhere).
//!
//! A tour:
//! * [`model`]: `describe-alarms` output deserialises into [`DescribeAlarmsOutput`]
//!   ([`MetricAlarm`], [`CompositeAlarm`]); [`MetricAlarm::validate`] and
//!   [`CompositeAlarm::validate`] check PutMetricAlarm's and PutCompositeAlarm's rules and
//!   give the specs the evaluator works on ([`validate`]).
//! * [`stat`]: per-period statistics from raw samples (standard, percentiles, trimmed
//!   means, ...); [`source`]: the [`MetricSource`] trait, an [`InMemorySource`] of raw
//!   samples, the [`Clock`] trait and a [`ManualClock`].
//! * [`evaluate`](mod@evaluate): §3.2's rules (evaluation range, missing-data treatments, M out of N, the
//!   premature-alarm rule), [`reason`] text and `StateReasonData` word for word;
//!   [`state`]: transitions, history, SetAlarmState.
//! * [`anomaly`]: the seasonal baseline behind `ANOMALY_DETECTION_BAND` (retrained once an
//!   hour per alarm, [`BaselineCache`]).
//! * [`math`]: metric math in the returned `Metrics[]` entry (arithmetic over ids,
//!   `INSIGHT_RULE_METRIC`, `FILL`, `ABS`).
//! * [`rule`]: the `AlarmRule` language with errors that point at a byte;
//!   [`composite`]: composite evaluation, cycles, actions suppression.
//! * [`monitor`]: a set of alarms evaluated together, metric alarms then composites.
//! * [`notify`]: SNS message and subject, EventBridge event, Alertmanager alerts.
//!
//! Decisions where AWS is silent (each pinned by a test):
//! * Evaluation range `N + max(floor(N/3), 2)` periods (LocalStack's rule; AWS's 5 for
//!   N = 3), ending at the evaluation time rounded down to the minute (10 s for sub-minute
//!   periods); windows slide rather than align to the period.
//! * The premature-alarm rule requires that no evaluated datapoint is non-breaching; only
//!   breaching datapoints, fewer than M and too recent, give INSUFFICIENT_DATA (`ignore`:
//!   keep) — see [`evaluate`](mod@evaluate).
//! * Low-sample percentiles with `ignore` keep the state when any evaluated datapoint is
//!   below `10/(1-p)` (`10/p` under p50); `p0`/`p100` are never low.
//! * Reason text: the short form (`1 datapoint [...] was ...`) when `DatapointsToAlarm` is
//!   unset; ALARM -> OK minimum is N - M + 1 ([`reason`]).
//! * Composite alarms: INSUFFICIENT_DATA only before the first evaluation; undefined
//!   children read as INSUFFICIENT_DATA; NOT > AND > OR; upper-case keywords; AT_LEAST
//!   counts between 1 and the list length; suppression periods default to 60 s and apply
//!   to every transition's actions; held actions are released when the wait or extension
//!   ends ([`composite`]).
//! * Anomaly model: per hour-of-week median ± k·1.4826·MAD, falling back to hour-of-day and
//!   global slots with fewer than 8 values ([`anomaly`]).
//! * Payloads: `TreatMissingData` is the effective treatment in SNS triggers; event ids are
//!   derived from the transition; Alertmanager mapping in [`notify::alertmanager`].

pub mod anomaly;
pub mod aws;
pub mod composite;
pub mod error;
pub mod evaluate;
pub mod math;
pub mod model;
pub mod monitor;
pub mod notify;
pub mod reason;
pub mod rule;
pub mod source;
pub mod stat;
pub mod state;
pub mod validate;

pub use anomaly::{AnomalyConfig, Band, SeasonalBaseline};
pub use aws::AccountContext;
pub use composite::{
    ChildState, ChildStates, CompositeOutcome, CompositeStatus, evaluate_composite, find_cycles,
};
pub use error::{AlarmError, Result, RuleError};
pub use evaluate::{
    BaselineCache, Evaluation, evaluate, evaluate_metric_alarm, evaluate_metric_alarm_with,
    set_alarm_state,
};
pub use math::{INSIGHT_RULE_NAMESPACE, MetricMath, as_insight_rule_metric, insight_rule_metric};
pub use model::{
    ComparisonOperator, CompositeAlarm, DescribeAlarmsOutput, Dimension, MetricAlarm, StateValue,
    Statistic, TreatMissingData,
};
pub use monitor::{AlarmEvent, Monitor};
pub use notify::AlarmDefinition;
pub use rule::Rule;
pub use source::{
    Clock, Datapoint, InMemorySource, ManualClock, MetricQuery, MetricRef, MetricSource,
    SystemClock,
};
pub use stat::{Stat, aggregate};
pub use state::{AlarmStatus, HistoryEntry, StateChange, StateSnapshot};
pub use validate::{CompositeAlarmSpec, MetricAlarmSpec};
