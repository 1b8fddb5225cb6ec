//! Reason text and `StateReasonData`, checked against payloads AWS published.

use chrono::TimeZone;

use super::*;
use crate::anomaly::AnomalyConfig;
use crate::evaluate::{Evaluation, classify, decide, evaluate};
use crate::model::{
    Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Statistic, TreatMissingData,
};
use crate::source::{Datapoint, MetricQuery, MetricSource};

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid")
}

struct Fixed(Vec<Datapoint>);

impl MetricSource for Fixed {
    fn datapoints(&self, q: &MetricQuery<'_>) -> Vec<Datapoint> {
        self.0
            .iter()
            .filter(|d| d.timestamp >= q.start && d.timestamp < q.end)
            .cloned()
            .collect()
    }
}

fn alarm(
    n: u32,
    m: Option<u32>,
    op: ComparisonOperator,
    threshold: f64,
    period: u32,
) -> MetricAlarm {
    MetricAlarm {
        alarm_name: "a".into(),
        namespace: Some("AWS/EC2".into()),
        metric_name: Some("CPUUtilization".into()),
        dimensions: vec![Dimension::new("InstanceId", "i-1")],
        statistic: Some(Statistic::Average),
        period: Some(period),
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: Some(threshold),
        comparison_operator: Some(op),
        ..MetricAlarm::default()
    }
}

fn run(def: &MetricAlarm, points: &[(DateTime<Utc>, f64)], now: DateTime<Utc>) -> Evaluation {
    let spec = def.validate().expect("valid");
    let source = Fixed(
        points
            .iter()
            .map(|(t, v)| Datapoint {
                timestamp: *t,
                value: *v,
                sample_count: None,
            })
            .collect(),
    );
    evaluate(&spec, &source, now, &AnomalyConfig::default())
}

fn reason(def: &MetricAlarm, points: &[(DateTime<Utc>, f64)], now: DateTime<Utc>) -> String {
    run(def, points, now).reason.expect("a state")
}

use ComparisonOperator::*;

#[test]
fn spec_example_alarm() {
    let def = alarm(1, Some(1), GreaterThanOrEqualToThreshold, 10.0, 60);
    assert_eq!(
        reason(
            &def,
            &[(t(2019, 6, 26, 3, 44, 0), 12.8)],
            t(2019, 6, 26, 3, 45, 12)
        ),
        "Threshold Crossed: 1 out of the last 1 datapoints [12.8 (26/06/19 03:44:00)] was greater than or equal to the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)."
    );
}

#[test]
fn ok_form() {
    let def = alarm(1, Some(1), GreaterThanOrEqualToThreshold, 80.0, 60);
    assert_eq!(
        reason(
            &def,
            &[(t(2024, 5, 20, 10, 15, 0), 10.0)],
            t(2024, 5, 20, 10, 16, 0)
        ),
        "Threshold Crossed: 1 out of the last 1 datapoints [10.0 (20/05/24 10:15:00)] was not greater than or equal to the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition)."
    );
}

#[test]
fn three_of_three_newest_first() {
    let def = alarm(3, Some(3), GreaterThanOrEqualToThreshold, 30.0, 300);
    let points = [
        (t(2020, 10, 9, 21, 14, 0), 1390.0),
        (t(2020, 10, 9, 21, 19, 0), 1226.0),
        (t(2020, 10, 9, 21, 24, 0), 1141.0),
    ];
    assert_eq!(
        reason(&def, &points, t(2020, 10, 9, 21, 29, 40)),
        "Threshold Crossed: 3 out of the last 3 datapoints [1141.0 (09/10/20 21:24:00), 1226.0 (09/10/20 21:19:00), 1390.0 (09/10/20 21:14:00)] were greater than or equal to the threshold (30.0) (minimum 3 datapoints for OK -> ALARM transition)."
    );
}

#[test]
fn m_of_n_ok_minimum_is_n_minus_m_plus_one() {
    let def = alarm(3, Some(2), LessThanThreshold, 1.0, 60);
    let points = [
        (t(2025, 5, 16, 6, 43, 0), 0.5),
        (t(2025, 5, 16, 6, 44, 0), 3.0),
        (t(2025, 5, 16, 6, 45, 0), 2.0),
    ];
    assert_eq!(
        reason(&def, &points, t(2025, 5, 16, 6, 46, 1)),
        "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (16/05/25 06:45:00), 3.0 (16/05/25 06:44:00)] were not less than the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."
    );
}

#[test]
fn premature_alarm_lists_fewer_than_m() {
    let def = alarm(3, Some(3), GreaterThanThreshold, 10.0, 60);
    // `- - X - -`: range 5 ending at 12:05, the breaching point at 12:02.
    assert_eq!(
        reason(
            &def,
            &[(t(2024, 1, 1, 12, 2, 0), 11.0)],
            t(2024, 1, 1, 12, 5, 30)
        ),
        "Threshold Crossed: 1 out of the last 3 datapoints [11.0 (01/01/24 12:02:00)] was greater than the threshold (10.0) (minimum 3 datapoints for OK -> ALARM transition)."
    );
}

#[test]
fn short_form_without_datapoints_to_alarm_and_aws_reason_data() {
    let mut def = alarm(1, None, GreaterThanOrEqualToThreshold, 5.0, 300);
    def.statistic = Some(Statistic::Maximum);
    let spec = def.validate().expect("valid");
    let source = Fixed(vec![Datapoint {
        timestamp: t(2022, 4, 18, 14, 27, 0),
        value: 1.0,
        sample_count: Some(5.0),
    }]);
    let now = t(2022, 4, 18, 14, 32, 36) + chrono::Duration::milliseconds(846);
    let e = evaluate(&spec, &source, now, &AnomalyConfig::default());
    assert_eq!(
        e.reason.as_deref(),
        Some(
            "Threshold Crossed: 1 datapoint [1.0 (18/04/22 14:27:00)] was not greater than or equal to the threshold (5.0)."
        )
    );
    // AWS's StateReasonData for this alarm, byte for byte.
    assert_eq!(
        e.reason_data.as_deref(),
        Some(
            "{\"version\":\"1.0\",\"queryDate\":\"2022-04-18T14:32:36.846+0000\",\"startDate\":\"2022-04-18T14:27:00.000+0000\",\
             \"statistic\":\"Maximum\",\"period\":300,\"recentDatapoints\":[1.0],\"threshold\":5.0,\
             \"evaluatedDatapoints\":[{\"timestamp\":\"2022-04-18T14:27:00.000+0000\",\"sampleCount\":5.0,\"value\":1.0}]}"
        )
    );
}

#[test]
fn insufficient_data_reason_and_data() {
    let mut def = alarm(5, Some(5), GreaterThanThreshold, 5.0, 60);
    def.treat_missing_data = Some(TreatMissingData::Missing);
    let now = t(2023, 8, 4, 12, 31, 29) + chrono::Duration::milliseconds(591);
    let e = run(&def, &[], now);
    assert_eq!(
        e.reason.as_deref(),
        Some("Insufficient Data: 5 datapoints were unknown.")
    );
    assert_eq!(
        e.reason_data.as_deref(),
        Some(
            "{\"version\":\"1.0\",\"queryDate\":\"2023-08-04T12:31:29.591+0000\",\"statistic\":\"Average\",\"period\":60,\
             \"recentDatapoints\":[],\"threshold\":5.0,\"evaluatedDatapoints\":[\
             {\"timestamp\":\"2023-08-04T12:30:00.000+0000\"},{\"timestamp\":\"2023-08-04T12:29:00.000+0000\"},\
             {\"timestamp\":\"2023-08-04T12:28:00.000+0000\"},{\"timestamp\":\"2023-08-04T12:27:00.000+0000\"},\
             {\"timestamp\":\"2023-08-04T12:26:00.000+0000\"}]}"
        )
    );
    let one = alarm(1, None, GreaterThanThreshold, 5.0, 60);
    assert_eq!(
        run(&one, &[], now).reason.as_deref(),
        Some("Insufficient Data: 1 datapoint was unknown.")
    );
    // Only breaching, too few, too recent: the unknown ones are counted.
    let few = alarm(3, Some(3), GreaterThanThreshold, 5.0, 60);
    assert_eq!(
        reason(&few, &[(t(2023, 8, 4, 12, 30, 0), 9.0)], now),
        "Insufficient Data: 2 datapoints were unknown."
    );
}

#[test]
fn missing_datapoints_treated_as() {
    let mut def = alarm(2, Some(2), GreaterThanThreshold, 5.0, 60);
    def.treat_missing_data = Some(TreatMissingData::Breaching);
    let now = t(2024, 1, 1, 0, 10, 0);
    assert_eq!(
        reason(&def, &[], now),
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."
    );
    let mut one = alarm(1, Some(1), GreaterThanThreshold, 5.0, 60);
    one.treat_missing_data = Some(TreatMissingData::NotBreaching);
    assert_eq!(
        reason(&one, &[], now),
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );
    let mut three = alarm(3, Some(2), GreaterThanThreshold, 5.0, 60);
    three.treat_missing_data = Some(TreatMissingData::Breaching);
    let e = run(&three, &[(t(2024, 1, 1, 0, 7, 0), 1.0)], now);
    assert_eq!(e.decision.state, Some(StateValue::Alarm));
    assert_eq!(
        e.reason.as_deref(),
        Some(
            "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching]."
        )
    );
}

fn band_alarm(op: ComparisonOperator) -> MetricAlarm {
    MetricAlarm {
        alarm_name: "band".into(),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        comparison_operator: Some(op),
        threshold_metric_id: Some("ad1".into()),
        metrics: vec![
            MetricDataQuery {
                id: "m1".into(),
                metric_stat: Some(MetricStat {
                    metric: Metric {
                        namespace: Some("AWS/Lambda".into()),
                        metric_name: Some("Errors".into()),
                        dimensions: Vec::new(),
                    },
                    period: 60,
                    stat: "Sum".into(),
                    unit: None,
                }),
                expression: None,
                label: None,
                return_data: Some(true),
                period: None,
                account_id: None,
            },
            MetricDataQuery {
                id: "ad1".into(),
                metric_stat: None,
                expression: Some("ANOMALY_DETECTION_BAND(m1, 2)".into()),
                label: None,
                return_data: Some(true),
                period: None,
                account_id: None,
            },
        ],
        ..MetricAlarm::default()
    }
}

/// Runs the rules on a hand-made one-slot window (bands fixed by the test).
fn band_reason(
    op: ComparisonOperator,
    value: f64,
    lower: f64,
    upper: f64,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (String, String) {
    let spec = band_alarm(op).validate().expect("valid");
    let window: Vec<Slot> = [
        start - chrono::Duration::minutes(2),
        start - chrono::Duration::minutes(1),
    ]
    .into_iter()
    .map(|s| Slot {
        start: s,
        value: None,
        sample_count: None,
        lower: None,
        upper: None,
    })
    .chain([Slot {
        start,
        value: Some(value),
        sample_count: None,
        lower: Some(lower),
        upper: Some(upper),
    }])
    .collect();
    let classes: Vec<Class> = window.iter().map(|s| classify(s, op, None)).collect();
    let d = decide(&classes, 1, 1, TreatMissingData::Missing);
    let state = d.state.expect("state");
    (
        text(&spec, &window, &classes, &d, state),
        data(&spec, &window, &d, now),
    )
}

#[test]
fn band_forms() {
    let start = t(2019, 10, 3, 15, 58, 0);
    let now = t(2019, 10, 3, 16, 0, 4);
    let (r, d) = band_reason(
        LessThanLowerOrGreaterThanUpperThreshold,
        0.0,
        0.020599444741798756,
        0.3006915352732461,
        start,
        now,
    );
    assert_eq!(
        r,
        "Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (03/10/19 15:58:00)] was less than the lower thresholds [0.020599444741798756] or greater than the upper thresholds [0.3006915352732461] (minimum 1 datapoint for OK -> ALARM transition)."
    );
    assert!(d.contains("\"recentDatapoints\":[0.0],\"recentLowerThresholds\":[0.020599444741798756],\"recentUpperThresholds\":[0.3006915352732461]"), "{d}");
    let (r, _) = band_reason(
        LessThanLowerOrGreaterThanUpperThreshold,
        0.166666666664241,
        0.0206719426210418,
        0.30076870222143803,
        t(2019, 10, 3, 15, 57, 0),
        now,
    );
    assert_eq!(
        r,
        "Thresholds Crossed: 1 out of the last 1 datapoints [0.166666666664241 (03/10/19 15:57:00)] was not less than the lower thresholds [0.0206719426210418] or not greater than the upper thresholds [0.30076870222143803] (minimum 1 datapoint for ALARM -> OK transition)."
    );
    let (r, _) = band_reason(LessThanLowerThreshold, 1.0, 2.0, 9.0, start, now);
    assert!(r.ends_with("was less than the lower thresholds [2.0] (minimum 1 datapoint for OK -> ALARM transition)."), "{r}");
}

#[test]
fn greater_than_upper_matches_aws_exactly() {
    let start = t(2024, 7, 25, 7, 21, 0);
    let now = t(2024, 7, 25, 7, 22, 32) + chrono::Duration::milliseconds(386);
    let (r, d) = band_reason(
        GreaterThanUpperThreshold,
        239.0,
        0.0,
        225.71426732099445,
        start,
        now,
    );
    assert_eq!(
        r,
        "Thresholds Crossed: 1 out of the last 1 datapoints [239.0 (25/07/24 07:21:00)] was greater than the upper thresholds [225.71426732099445] (minimum 1 datapoint for OK -> ALARM transition)."
    );
    assert_eq!(
        d,
        "{\"version\":\"1.0\",\"queryDate\":\"2024-07-25T07:22:32.386+0000\",\"startDate\":\"2024-07-25T07:21:00.000+0000\",\
         \"period\":60,\"recentDatapoints\":[239.0],\"recentUpperThresholds\":[225.71426732099445],\
         \"evaluatedDatapoints\":[{\"timestamp\":\"2024-07-25T07:21:00.000+0000\",\"value\":239.0,\"threshold\":225.71426732099445}]}"
    );
}
