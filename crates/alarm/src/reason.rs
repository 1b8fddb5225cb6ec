//! CloudWatch's reason text and `StateReasonData` for metric alarms, word for word:
//!
//! ```text
//! Threshold Crossed: 1 out of the last 1 datapoints [12.8 (26/06/19 03:44:00)] was greater than
//! or equal to the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition).
//! Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (03/10/19 15:58:00)] was less than the
//! lower thresholds [0.0205] or greater than the upper thresholds [0.3006] (minimum 1 datapoint
//! for OK -> ALARM transition).
//! Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were
//! treated as [Breaching].
//! Insufficient Data: 5 datapoints were unknown.
//! ```
//!
//! The datapoints listed are the evaluated ones that support the new state (breaching for
//! ALARM, not breaching for OK), newest first; "the last N" is EvaluationPeriods. The
//! minimum is M for OK -> ALARM and N - M + 1 for ALARM -> OK (the fewest non-breaching
//! datapoints that make M breaching impossible); AWS prints these two arrows whatever the
//! old state was. Alarms without `DatapointsToAlarm` get AWS's older short form
//! (`1 datapoint [0.0 (19/03/24 17:14:00)] was not greater than or equal to the threshold
//! (1.0).`): observed payloads with the short form lack `DatapointsToAlarm`, those with the
//! long form have it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::{aws_timestamp, java_double, reason_timestamp};
use crate::evaluate::{Basis, Class, Decision, Slot};
use crate::model::{ComparisonOperator, StateValue};
use crate::validate::{MetricAlarmSpec, ThresholdSpec};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn was(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

fn phrase(op: ComparisonOperator, negated: bool, lowers: &str, uppers: &str) -> String {
    let not = if negated { "not " } else { "" };
    match op {
        ComparisonOperator::GreaterThanOrEqualToThreshold => {
            format!("{not}greater than or equal to")
        }
        ComparisonOperator::GreaterThanThreshold => format!("{not}greater than"),
        ComparisonOperator::LessThanThreshold => format!("{not}less than"),
        ComparisonOperator::LessThanOrEqualToThreshold => format!("{not}less than or equal to"),
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => format!(
            "{not}less than the lower thresholds [{lowers}] or {not}greater than the upper thresholds [{uppers}]"
        ),
        ComparisonOperator::LessThanLowerThreshold => {
            format!("{not}less than the lower thresholds [{lowers}]")
        }
        ComparisonOperator::GreaterThanUpperThreshold => {
            format!("{not}greater than the upper thresholds [{uppers}]")
        }
    }
}

fn list(values: impl Iterator<Item = f64>) -> String {
    values.map(java_double).collect::<Vec<_>>().join(", ")
}

/// The reason text for `decision`, which names `state`.
pub(crate) fn text(
    spec: &MetricAlarmSpec,
    window: &[Slot],
    classes: &[Class],
    decision: &Decision,
    state: StateValue,
) -> String {
    let n = spec.evaluation_periods as usize;
    let m = spec.datapoints_to_alarm as usize;
    let band = matches!(spec.threshold, ThresholdSpec::Band { .. });
    let head = if band {
        "Thresholds Crossed"
    } else {
        "Threshold Crossed"
    };
    match decision.basis {
        Basis::NoData => format!(
            "Insufficient Data: {} {} unknown.",
            plural(decision.missing.len(), "datapoint", "datapoints"),
            was(decision.missing.len())
        ),
        Basis::TooFew => format!(
            "Insufficient Data: {} {} unknown.",
            plural(decision.missing.len(), "datapoint", "datapoints"),
            was(decision.missing.len())
        ),
        Basis::Filled { as_breaching } => {
            let treated = if as_breaching {
                "Breaching"
            } else {
                "NonBreaching"
            };
            let filled = decision.missing.len();
            let received = decision.evaluated.len();
            let received = if received == 0 {
                "no datapoints were".to_string()
            } else {
                format!(
                    "{} {}",
                    plural(received, "datapoint", "datapoints"),
                    was(received)
                )
            };
            format!(
                "{head}: {received} received for {} and {} {} treated as [{treated}].",
                plural(n, "period", "periods"),
                plural(filled, "missing datapoint", "missing datapoints"),
                was(filled),
            )
        }
        Basis::Datapoints => {
            let alarm = state == StateValue::Alarm;
            let want = if alarm {
                Class::Breaching
            } else {
                Class::NotBreaching
            };
            let shown: Vec<&Slot> = decision
                .evaluated
                .iter()
                .filter(|&&i| classes[i] == want)
                .map(|&i| &window[i])
                .collect();
            let points = shown
                .iter()
                .map(|s| {
                    format!(
                        "{} ({})",
                        java_double(s.value.unwrap_or(f64::NAN)),
                        reason_timestamp(s.start)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let lowers = list(shown.iter().map(|s| s.lower.unwrap_or(f64::NAN)));
            let uppers = list(shown.iter().map(|s| s.upper.unwrap_or(f64::NAN)));
            let op = phrase(spec.comparison, !alarm, &lowers, &uppers);
            let compared = match spec.threshold {
                ThresholdSpec::Static(t) => format!("{op} the threshold ({})", java_double(t)),
                ThresholdSpec::Band { .. } => op,
            };
            let k = shown.len();
            if spec.definition.datapoints_to_alarm.is_none() {
                return format!(
                    "{head}: {} [{points}] {} {compared}.",
                    plural(k, "datapoint", "datapoints"),
                    was(k)
                );
            }
            let (minimum, arrow) = if alarm {
                (m, "OK -> ALARM")
            } else {
                (n - m + 1, "ALARM -> OK")
            };
            format!(
                "{head}: {k} out of the last {n} datapoints [{points}] {} {compared} (minimum {} for {arrow} transition).",
                was(k),
                plural(minimum, "datapoint", "datapoints"),
            )
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonData<'a> {
    version: &'static str,
    query_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    period: u32,
    recent_datapoints: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recent_lower_thresholds: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recent_upper_thresholds: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    evaluated_datapoints: Vec<EvaluatedDatapoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluatedDatapoint {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
}

/// `StateReasonData` JSON: `version`, `queryDate`, `startDate` (oldest evaluated
/// datapoint), `statistic` (alarms with `Statistic`), `period`, `recentDatapoints` (oldest
/// first), `threshold` or the band's `recentLowerThresholds`/`recentUpperThresholds`, and
/// `evaluatedDatapoints` (newest first; counted missing periods carry only a timestamp).
pub(crate) fn data(
    spec: &MetricAlarmSpec,
    window: &[Slot],
    decision: &Decision,
    query_date: DateTime<Utc>,
) -> String {
    let oldest_first: Vec<&Slot> = decision
        .evaluated
        .iter()
        .rev()
        .map(|&i| &window[i])
        .collect();
    let values: Vec<f64> = oldest_first.iter().filter_map(|s| s.value).collect();
    let (lower, upper) = match spec.comparison {
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => (true, true),
        ComparisonOperator::LessThanLowerThreshold => (true, false),
        ComparisonOperator::GreaterThanUpperThreshold => (false, true),
        _ => (false, false),
    };
    let thresholds = |on: bool, pick: fn(&Slot) -> Option<f64>| {
        on.then(|| {
            oldest_first
                .iter()
                .filter_map(|s| pick(s))
                .collect::<Vec<f64>>()
        })
    };
    let single_side = |s: &Slot| match (lower, upper) {
        (true, false) => s.lower,
        (false, true) => s.upper,
        _ => None,
    };
    let mut evaluated: Vec<(DateTime<Utc>, EvaluatedDatapoint)> = decision
        .evaluated
        .iter()
        .map(|&i| {
            let s = &window[i];
            (
                s.start,
                EvaluatedDatapoint {
                    timestamp: aws_timestamp(s.start),
                    sample_count: s.sample_count,
                    value: s.value,
                    threshold: single_side(s),
                },
            )
        })
        .chain(decision.missing.iter().map(|&i| {
            (
                window[i].start,
                EvaluatedDatapoint {
                    timestamp: aws_timestamp(window[i].start),
                    sample_count: None,
                    value: None,
                    threshold: None,
                },
            )
        }))
        .collect();
    evaluated.sort_by_key(|e| std::cmp::Reverse(e.0));
    let data = ReasonData {
        version: "1.0",
        query_date: aws_timestamp(query_date),
        start_date: oldest_first.first().map(|s| aws_timestamp(s.start)),
        statistic: spec.definition.statistic.map(|s| s.as_str()),
        unit: spec.definition.unit.as_deref(),
        period: spec.period,
        recent_datapoints: values,
        recent_lower_thresholds: thresholds(lower, |s| s.lower),
        recent_upper_thresholds: thresholds(upper, |s| s.upper),
        threshold: match spec.threshold {
            ThresholdSpec::Static(t) => Some(t),
            ThresholdSpec::Band { .. } => None,
        },
        evaluated_datapoints: evaluated.into_iter().map(|(_, e)| e).collect(),
    };
    serde_json::to_string(&data).unwrap_or_else(|_| "{\"version\":\"1.0\"}".into())
}

#[cfg(test)]
mod tests;
