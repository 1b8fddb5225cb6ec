//! Metric-alarm evaluation: fetch the evaluation range, compare each datapoint with the
//! threshold, apply §3.2's rules, and move the alarm's state on a transition.
//!
//! The evaluation range is `N + max(floor(N/3), 2)` periods ending at the evaluation time
//! rounded down to the minute (10 s for sub-minute periods), newest last. Then:
//! 1. at least N real datapoints in the range: the N newest are evaluated, missing ones are
//!    ignored (this covers "the latest N all present");
//! 2. fewer than N with `breaching`/`notBreaching`: every real datapoint plus as many missing
//!    ones as needed to make N, counted as breaching or not;
//! 3. fewer than N with `missing`/`ignore`: no datapoint at all gives INSUFFICIENT_DATA
//!    (`ignore`: keep the state); at least M breaching gives ALARM; a non-breaching one gives
//!    OK; otherwise (only breaching datapoints, fewer than M) the premature-alarm rule: ALARM
//!    when the oldest breaching datapoint is at least M periods old (`ignore`: keep the state),
//!    else INSUFFICIENT_DATA (`ignore`: keep);
//! 4. ALARM iff at least M evaluated datapoints breach, else OK.
//!
//! Decisions where AWS is silent, pinned by tests: the premature rule needs *no*
//! non-breaching datapoint in the range (AWS's "2 of 3" table has `0 - X - -` as OK, which a
//! rule looking only at newer datapoints would make ALARM); "only breaching, fewer than M,
//! too recent" is INSUFFICIENT_DATA, as AWS's 2023 table had for `- - - - X`. A band alarm's
//! datapoint without a band (too little history) counts as missing. With
//! `EvaluateLowSampleCountPercentile: ignore` the state is kept when any evaluated
//! percentile datapoint has fewer samples than `10/(1-p)` (p >= 0.5) or `10/p`.

use chrono::{DateTime, Duration, Utc};

use crate::anomaly::{AnomalyConfig, SeasonalBaseline};
use crate::model::{ComparisonOperator, StateValue, TreatMissingData};
use crate::reason;
use crate::source::{Datapoint, MetricQuery, MetricSource};
use crate::state::{AlarmKind, AlarmStatus, StateChange, StateSnapshot};
use crate::validate::{LowSampleMode, MetricAlarmSpec, ThresholdSpec};

/// One period of the evaluation range.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub value: Option<f64>,
    pub sample_count: Option<f64>,
    /// Band alarms: this period's thresholds.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A datapoint compared with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Breaching,
    NotBreaching,
    Missing,
}

/// Which rule produced a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Real datapoints compared with the threshold (rules 1, 2, 4 and premature).
    Datapoints,
    /// Fewer than N datapoints; missing ones counted as breaching or not.
    Filled { as_breaching: bool },
    /// No datapoint in the range.
    NoData,
    /// Only breaching datapoints, fewer than M and too recent to alarm.
    TooFew,
}

/// What the rules concluded.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// `None`: keep the current state.
    pub state: Option<StateValue>,
    pub basis: Basis,
    /// Indices of the real datapoints evaluated, newest first.
    pub evaluated: Vec<usize>,
    /// Indices of the missing periods counted (filled or unknown), newest first.
    pub missing: Vec<usize>,
}

/// Applies the rules to the classified range (oldest first).
pub fn decide(classes: &[Class], n: usize, m: usize, treat: TreatMissingData) -> Decision {
    let real: Vec<usize> = (0..classes.len())
        .rev()
        .filter(|&i| classes[i] != Class::Missing)
        .collect();
    let missing_newest = |k: usize| -> Vec<usize> {
        (0..classes.len())
            .rev()
            .filter(|&i| classes[i] == Class::Missing)
            .take(k)
            .collect()
    };
    let breaching = |idx: &[usize]| {
        idx.iter()
            .filter(|&&i| classes[i] == Class::Breaching)
            .count()
    };
    let alarm_if = |b: usize| {
        if b >= m {
            StateValue::Alarm
        } else {
            StateValue::Ok
        }
    };
    if real.len() >= n {
        let evaluated = real[..n].to_vec();
        return Decision {
            state: Some(alarm_if(breaching(&evaluated))),
            basis: Basis::Datapoints,
            evaluated,
            missing: Vec::new(),
        };
    }
    let fill = n - real.len();
    match treat {
        TreatMissingData::Breaching | TreatMissingData::NotBreaching => {
            let as_breaching = treat == TreatMissingData::Breaching;
            let b = breaching(&real) + if as_breaching { fill } else { 0 };
            Decision {
                state: Some(alarm_if(b)),
                basis: Basis::Filled { as_breaching },
                evaluated: real,
                missing: missing_newest(fill),
            }
        }
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            let keep_or = |s: StateValue| (treat == TreatMissingData::Missing).then_some(s);
            if real.is_empty() {
                return Decision {
                    state: keep_or(StateValue::InsufficientData),
                    basis: Basis::NoData,
                    evaluated: real,
                    missing: missing_newest(n),
                };
            }
            let b = breaching(&real);
            let (state, basis, missing) = if b >= m {
                (Some(StateValue::Alarm), Basis::Datapoints, Vec::new())
            } else if b < real.len() {
                (Some(StateValue::Ok), Basis::Datapoints, Vec::new())
            } else {
                // Only breaching datapoints, fewer than M: the premature-alarm rule.
                let oldest = real.last().copied().unwrap_or(classes.len());
                let age = classes.len() - oldest;
                if age >= m {
                    (keep_or(StateValue::Alarm), Basis::Datapoints, Vec::new())
                } else {
                    (
                        keep_or(StateValue::InsufficientData),
                        Basis::TooFew,
                        missing_newest(fill),
                    )
                }
            };
            Decision {
                state,
                basis,
                evaluated: real,
                missing,
            }
        }
    }
}

/// Compares one period with its threshold.
pub fn classify(slot: &Slot, comparison: ComparisonOperator, threshold: Option<f64>) -> Class {
    let Some(v) = slot.value.filter(|v| v.is_finite()) else {
        return Class::Missing;
    };
    let breach = match comparison {
        ComparisonOperator::GreaterThanOrEqualToThreshold => threshold.map(|t| v >= t),
        ComparisonOperator::GreaterThanThreshold => threshold.map(|t| v > t),
        ComparisonOperator::LessThanThreshold => threshold.map(|t| v < t),
        ComparisonOperator::LessThanOrEqualToThreshold => threshold.map(|t| v <= t),
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => {
            slot.lower.zip(slot.upper).map(|(l, u)| v < l || v > u)
        }
        ComparisonOperator::LessThanLowerThreshold => slot.lower.map(|l| v < l),
        ComparisonOperator::GreaterThanUpperThreshold => slot.upper.map(|u| v > u),
    };
    match breach {
        Some(true) => Class::Breaching,
        Some(false) => Class::NotBreaching,
        None => Class::Missing,
    }
}

/// The result of one evaluation, before it is applied to the alarm's state.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub query_date: DateTime<Utc>,
    /// The evaluation range, oldest first.
    pub window: Vec<Slot>,
    pub classes: Vec<Class>,
    pub decision: Decision,
    /// Reason text and `StateReasonData`, when the decision names a state.
    pub reason: Option<String>,
    pub reason_data: Option<String>,
}

/// The grid time of an evaluation at `now`: `now` rounded down to the minute (10 s for
/// sub-minute periods).
pub fn evaluation_end(spec: &MetricAlarmSpec, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = i64::from(spec.evaluation_step_seconds()) * 1000;
    let ms = now.timestamp_millis();
    DateTime::<Utc>::from_timestamp_millis(ms - ms.rem_euclid(step)).unwrap_or(now)
}

/// Evaluates `spec` at `now` without touching any state.
pub fn evaluate(
    spec: &MetricAlarmSpec,
    source: &dyn MetricSource,
    now: DateTime<Utc>,
    anomaly: &AnomalyConfig,
) -> Evaluation {
    evaluate_explained(
        spec,
        source,
        now,
        anomaly,
        &mut BaselineCache::default(),
        |_| true,
    )
}

/// A band alarm's trained baseline, kept between evaluations. The training window is the
/// `training_days` before the hour in which the evaluation range starts, so the model is
/// retrained once an hour (AWS retrains periodically too), not at every evaluation: a
/// replay over a week, or a live monitor evaluating every 10 s, reads the two weeks of
/// history 168 times, not 10,080.
#[derive(Clone, Debug, Default)]
pub struct BaselineCache {
    trained: Option<(DateTime<Utc>, SeasonalBaseline)>,
}

impl BaselineCache {
    fn get(
        &mut self,
        spec: &MetricAlarmSpec,
        source: &dyn MetricSource,
        range_start: DateTime<Utc>,
        anomaly: &AnomalyConfig,
    ) -> &SeasonalBaseline {
        let ms = range_start.timestamp_millis();
        let hour = DateTime::<Utc>::from_timestamp_millis(ms - ms.rem_euclid(3_600_000))
            .unwrap_or(range_start);
        let fresh = matches!(&self.trained, Some((h, _)) if *h == hour);
        if !fresh {
            let history = fetch(
                spec,
                source,
                &MetricQuery {
                    metric: &spec.metric,
                    stat: &spec.stat,
                    period: spec.period,
                    unit: spec.unit.as_deref(),
                    start: hour - Duration::days(anomaly.training_days),
                    end: hour,
                },
            );
            // Each period is placed at its midpoint, as evaluated periods are.
            let half = Duration::milliseconds(i64::from(spec.period) * 500);
            let points: Vec<_> = history
                .iter()
                .map(|d| (d.timestamp + half, d.value))
                .collect();
            self.trained = Some((hour, SeasonalBaseline::train(&points, anomaly.min_points)));
        }
        match &self.trained {
            Some((_, b)) => b,
            None => unreachable!("trained above"),
        }
    }
}

/// The datapoints of the alarm's series: its metric, or its metric math.
fn fetch(
    spec: &MetricAlarmSpec,
    source: &dyn MetricSource,
    query: &MetricQuery<'_>,
) -> Vec<Datapoint> {
    match &spec.math {
        Some(math) => math.datapoints(source, query.start, query.end, query.period),
        None => source.datapoints(query),
    }
}

/// [`evaluate`], writing the reason text and data only when `explain` says the decided
/// state needs them (an unchanged state's reason is never shown: formatting it was most of
/// an evaluation's cost).
fn evaluate_explained(
    spec: &MetricAlarmSpec,
    source: &dyn MetricSource,
    now: DateTime<Utc>,
    anomaly: &AnomalyConfig,
    baselines: &mut BaselineCache,
    explain: impl Fn(StateValue) -> bool,
) -> Evaluation {
    let period = Duration::seconds(i64::from(spec.period));
    let range = spec.evaluation_range() as usize;
    let end = evaluation_end(spec, now);
    let start = end - period * spec.evaluation_range() as i32;
    let mut window: Vec<Slot> = (0..range)
        .map(|i| Slot {
            start: start + period * i as i32,
            value: None,
            sample_count: None,
            lower: None,
            upper: None,
        })
        .collect();
    let query = MetricQuery {
        metric: &spec.metric,
        stat: &spec.stat,
        period: spec.period,
        unit: spec.unit.as_deref(),
        start,
        end,
    };
    let period_ms = i64::from(spec.period) * 1000;
    for dp in fetch(spec, source, &query) {
        let offset = (dp.timestamp - start).num_milliseconds();
        if offset < 0 {
            continue;
        }
        if let Some(slot) = window.get_mut((offset / period_ms) as usize) {
            slot.value = Some(dp.value);
            slot.sample_count = dp.sample_count;
        }
    }
    let static_threshold = match &spec.threshold {
        ThresholdSpec::Static(t) => Some(*t),
        ThresholdSpec::Band { deviations, .. } => {
            let baseline = baselines.get(spec, source, start, anomaly);
            for slot in &mut window {
                if let Some(b) = baseline.band(slot.start + period / 2, *deviations) {
                    slot.lower = Some(b.lower);
                    slot.upper = Some(b.upper);
                }
            }
            None
        }
    };
    let classes: Vec<Class> = window
        .iter()
        .map(|s| classify(s, spec.comparison, static_threshold))
        .collect();
    let mut decision = decide(
        &classes,
        spec.evaluation_periods as usize,
        spec.datapoints_to_alarm as usize,
        spec.treat_missing,
    );
    if spec.low_sample == LowSampleMode::Ignore
        && let Some(limit) = spec.stat.low_sample_limit()
        && decision
            .evaluated
            .iter()
            .any(|&i| window[i].sample_count.is_some_and(|c| c < limit))
    {
        decision.state = None;
    }
    let (reason, reason_data) = match decision.state {
        Some(state) if explain(state) => (
            Some(reason::text(spec, &window, &classes, &decision, state)),
            Some(reason::data(spec, &window, &decision, now)),
        ),
        _ => (None, None),
    };
    Evaluation {
        query_date: now,
        window,
        classes,
        decision,
        reason,
        reason_data,
    }
}

/// Evaluates and applies the result: a [`StateChange`] when the state changes.
pub fn evaluate_metric_alarm(
    spec: &MetricAlarmSpec,
    status: &mut AlarmStatus,
    source: &dyn MetricSource,
    now: DateTime<Utc>,
    anomaly: &AnomalyConfig,
) -> Option<StateChange> {
    evaluate_metric_alarm_with(
        spec,
        status,
        source,
        now,
        anomaly,
        &mut BaselineCache::default(),
    )
}

/// [`evaluate_metric_alarm`] reusing the band baseline of earlier evaluations.
pub fn evaluate_metric_alarm_with(
    spec: &MetricAlarmSpec,
    status: &mut AlarmStatus,
    source: &dyn MetricSource,
    now: DateTime<Utc>,
    anomaly: &AnomalyConfig,
    baselines: &mut BaselineCache,
) -> Option<StateChange> {
    // A decision equal to the current state changes nothing (no transition, no new
    // reason), so its reason is not written.
    let current = status.state();
    let e = evaluate_explained(spec, source, now, anomaly, baselines, |s| s != current);
    let state = e.decision.state?;
    if state == current {
        return None;
    }
    let new = StateSnapshot {
        value: state,
        reason: e.reason.unwrap_or_default(),
        reason_data: e.reason_data,
        timestamp: now,
    };
    apply(spec, status, new)
}

/// SetAlarmState: forces a state until the next evaluation decides otherwise. Actions run
/// as for any transition.
pub fn set_alarm_state(
    spec: &MetricAlarmSpec,
    status: &mut AlarmStatus,
    value: StateValue,
    reason: &str,
    reason_data: Option<&str>,
    now: DateTime<Utc>,
) -> Option<StateChange> {
    let new = StateSnapshot {
        value,
        reason: reason.to_string(),
        reason_data: reason_data.map(str::to_string),
        timestamp: now,
    };
    apply(spec, status, new)
}

fn apply(
    spec: &MetricAlarmSpec,
    status: &mut AlarmStatus,
    new: StateSnapshot,
) -> Option<StateChange> {
    let value = new.value;
    let old = status.transition(new.clone())?;
    let def = &spec.definition;
    let actions = if def.actions_enabled() {
        def.actions_for(value).to_vec()
    } else {
        Vec::new()
    };
    Some(StateChange {
        alarm_name: def.alarm_name.clone(),
        kind: AlarmKind::Metric,
        old,
        new,
        actions,
        suppression: None,
        triggering_children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use StateValue::{Alarm, InsufficientData, Ok};
    use TreatMissingData::{Breaching, Ignore, Missing, NotBreaching};

    fn classes(pattern: &str) -> Vec<Class> {
        pattern
            .split_whitespace()
            .map(|t| match t {
                "0" => Class::NotBreaching,
                "X" => Class::Breaching,
                "-" => Class::Missing,
                other => panic!("bad token {other}"),
            })
            .collect()
    }

    /// `expect` lists the outcome for missing / ignore / breaching / notBreaching; `keep`
    /// means the state does not change (checked from every starting state).
    fn check(n: usize, m: usize, pattern: &str, expect: [&str; 4]) {
        let c = classes(pattern);
        for (treat, want) in [Missing, Ignore, Breaching, NotBreaching]
            .into_iter()
            .zip(expect)
        {
            let got = decide(&c, n, m, treat).state;
            let want = match want {
                "OK" => Some(Ok),
                "ALARM" => Some(Alarm),
                "INSUFFICIENT_DATA" => Some(InsufficientData),
                "keep" => None,
                other => panic!("bad expectation {other}"),
            };
            assert_eq!(got, want, "N={n} M={m} `{pattern}` with {treat:?}");
        }
    }

    #[test]
    fn aws_vectors_3_out_of_3() {
        let t = [
            ("0 - X - X", ["OK", "OK", "OK", "OK"]),
            ("0 - - - -", ["OK", "OK", "OK", "OK"]),
            ("- - - - -", ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"]),
            ("0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("- - X - -", ["ALARM", "keep", "ALARM", "OK"]),
        ];
        for (pattern, expect) in t {
            check(3, 3, pattern, expect);
        }
    }

    #[test]
    fn aws_vectors_2_out_of_3() {
        let t = [
            ("0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("0 - X - -", ["OK", "OK", "ALARM", "OK"]),
            ("- - - - 0", ["OK", "OK", "ALARM", "OK"]),
            ("- - - X -", ["ALARM", "keep", "ALARM", "OK"]),
        ];
        for (pattern, expect) in t {
            check(3, 2, pattern, expect);
        }
    }

    // Rows of AWS's 2023 tables that the current documentation dropped; our rule reproduces
    // them (decision: "only breaching, too few, too recent" is INSUFFICIENT_DATA).
    #[test]
    fn aws_2023_vectors() {
        check(
            3,
            3,
            "- - - - X",
            ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
        );
        check(3, 3, "X - - - -", ["ALARM", "keep", "ALARM", "OK"]);
        check(
            3,
            2,
            "- - - - X",
            ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
        );
    }

    #[test]
    fn more_rules() {
        // Rule 2: gaps but >= N real points: the N newest real points, treatment unused.
        check(3, 3, "X X - X -", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        check(3, 3, "0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        check(3, 3, "X 0 X X -", ["OK", "OK", "OK", "OK"]);
        // M = 1: a single breaching point is enough under every treatment.
        check(3, 1, "- - - - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        // N = M = 1, range 3.
        check(1, 1, "- - -", ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"]);
        check(1, 1, "0 - -", ["OK", "OK", "OK", "OK"]);
        check(1, 1, "X - -", ["ALARM", "ALARM", "ALARM", "ALARM"]);
    }

    #[test]
    fn decision_lists_evaluated_and_filled_periods() {
        let d = decide(&classes("0 - X - -"), 3, 2, Breaching);
        assert_eq!(d.basis, Basis::Filled { as_breaching: true });
        assert_eq!(d.evaluated, vec![2, 0]);
        assert_eq!(d.missing, vec![4]);
        let d = decide(&classes("- - - - -"), 3, 3, Missing);
        assert_eq!((d.basis, d.missing), (Basis::NoData, vec![4, 3, 2]));
        let d = decide(&classes("0 X X - X"), 3, 3, Missing);
        assert_eq!((d.basis, d.evaluated), (Basis::Datapoints, vec![4, 2, 1]));
        let d = decide(&classes("- - - - X"), 3, 3, Missing);
        assert_eq!(
            (d.basis, d.evaluated, d.missing),
            (Basis::TooFew, vec![4], vec![3, 2])
        );
    }

    #[test]
    fn classify_every_operator() {
        let slot = |v: f64| Slot {
            start: DateTime::<Utc>::UNIX_EPOCH,
            value: Some(v),
            sample_count: None,
            lower: Some(1.0),
            upper: Some(3.0),
        };
        use ComparisonOperator::*;
        let cases = [
            (GreaterThanOrEqualToThreshold, 2.0, Class::Breaching),
            (GreaterThanOrEqualToThreshold, 1.9, Class::NotBreaching),
            (GreaterThanThreshold, 2.0, Class::NotBreaching),
            (LessThanThreshold, 1.9, Class::Breaching),
            (LessThanOrEqualToThreshold, 2.0, Class::Breaching),
            (LessThanOrEqualToThreshold, 2.1, Class::NotBreaching),
            (
                LessThanLowerOrGreaterThanUpperThreshold,
                0.5,
                Class::Breaching,
            ),
            (
                LessThanLowerOrGreaterThanUpperThreshold,
                3.5,
                Class::Breaching,
            ),
            (
                LessThanLowerOrGreaterThanUpperThreshold,
                3.0,
                Class::NotBreaching,
            ),
            (LessThanLowerThreshold, 0.5, Class::Breaching),
            (LessThanLowerThreshold, 3.5, Class::NotBreaching),
            (GreaterThanUpperThreshold, 3.5, Class::Breaching),
            (GreaterThanUpperThreshold, 0.5, Class::NotBreaching),
        ];
        for (op, v, want) in cases {
            assert_eq!(classify(&slot(v), op, Some(2.0)), want, "{op:?} {v}");
        }
        let no_band = Slot {
            lower: None,
            upper: None,
            ..slot(9.0)
        };
        assert_eq!(
            classify(&no_band, GreaterThanUpperThreshold, None),
            Class::Missing
        );
        let nan = Slot {
            value: Some(f64::NAN),
            ..slot(0.0)
        };
        assert_eq!(
            classify(&nan, GreaterThanThreshold, Some(1.0)),
            Class::Missing
        );
    }

    fn class() -> impl proptest::strategy::Strategy<Value = Class> {
        proptest::prop_oneof![
            proptest::strategy::Just(Class::Breaching),
            proptest::strategy::Just(Class::NotBreaching),
            proptest::strategy::Just(Class::Missing),
        ]
    }

    proptest::proptest! {
        // `ignore` only ever differs from `missing` by keeping the state.
        #[test]
        fn ignore_is_missing_or_keep(n in 1usize..8, m_seed in 0usize..8, extra in proptest::collection::vec(class(), 12)) {
            let m = 1 + m_seed % n;
            let range = (n + (n / 3).max(2)).min(extra.len());
            let c = &extra[..range];
            let missing = decide(c, n, m, Missing).state;
            let ignore = decide(c, n, m, Ignore).state;
            proptest::prop_assert!(ignore.is_none() || ignore == missing, "{c:?}: {missing:?} vs {ignore:?}");
        }

        // ALARM needs a breaching datapoint, unless missing ones are treated as breaching;
        // OK needs a non-breaching one, unless missing ones are treated as not breaching.
        #[test]
        fn states_need_evidence(n in 1usize..8, m_seed in 0usize..8, extra in proptest::collection::vec(class(), 12)) {
            let m = 1 + m_seed % n;
            let range = (n + (n / 3).max(2)).min(extra.len());
            let c = &extra[..range];
            for treat in [Missing, Ignore, Breaching, NotBreaching] {
                let d = decide(c, n, m, treat);
                let evaluated = |want: Class| d.evaluated.iter().any(|&i| c[i] == want);
                match d.state {
                    Some(Alarm) => proptest::prop_assert!(evaluated(Class::Breaching) || treat == Breaching),
                    Some(Ok) => proptest::prop_assert!(evaluated(Class::NotBreaching) || treat == NotBreaching),
                    _ => {}
                }
                proptest::prop_assert!(d.evaluated.len() <= n);
                proptest::prop_assert!(d.evaluated.len() + d.missing.len() <= n);
            }
        }
    }
}
