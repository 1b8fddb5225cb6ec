//! Metric-alarm evaluation through the public API: sliding windows, sub-minute periods,
//! low-sample percentiles, anomaly bands, actions, and resuming from `describe-alarms`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use flowwatch_alarm::model::{Metric, MetricDataQuery, MetricStat};
use flowwatch_alarm::{
    AccountContext, AlarmStatus, AnomalyConfig, ComparisonOperator, DescribeAlarmsOutput,
    Dimension, InMemorySource, ManualClock, MetricAlarm, MetricRef, Monitor, StateValue, Statistic,
    TreatMissingData, evaluate, evaluate_metric_alarm,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 4, 12, 0, 0)
        .single()
        .expect("valid")
}

fn metric() -> MetricRef {
    MetricRef::new("Flowwatch/VPC", "Bytes", [Dimension::new("LogGroup", "g")])
}

fn alarm(period: u32, n: u32, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        alarm_name: "bytes".into(),
        namespace: Some("Flowwatch/VPC".into()),
        metric_name: Some("Bytes".into()),
        dimensions: vec![Dimension::new("LogGroup", "g")],
        statistic: Some(Statistic::Sum),
        period: Some(period),
        evaluation_periods: n,
        threshold: Some(threshold),
        comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold),
        alarm_actions: vec!["arn:aws:sns:us-east-1:1:a".into()],
        ok_actions: vec!["arn:aws:sns:us-east-1:1:o".into()],
        ..MetricAlarm::default()
    }
}

#[test]
fn windows_slide_every_minute() {
    // Period 300, N = 1: the evaluation at minute 5 sums minutes 0-4, the one at minute 6
    // sums minutes 1-5.
    let spec = alarm(300, 1, 10.0).validate().expect("valid");
    let mut src = InMemorySource::new();
    for m in 0..10 {
        src.put(
            &metric(),
            t0() + Duration::minutes(m) + Duration::seconds(20),
            if m == 0 { 10.0 } else { 0.0 },
        );
    }
    let cfg = AnomalyConfig::default();
    let at5 = evaluate(
        &spec,
        &src,
        t0() + Duration::minutes(5) + Duration::seconds(3),
        &cfg,
    );
    assert_eq!(at5.decision.state, Some(StateValue::Alarm));
    assert_eq!(at5.window.last().map(|s| s.start), Some(t0()));
    let at6 = evaluate(&spec, &src, t0() + Duration::minutes(6), &cfg);
    assert_eq!(at6.decision.state, Some(StateValue::Ok));
    assert_eq!(
        at6.window.last().map(|s| s.start),
        Some(t0() + Duration::minutes(1))
    );
    assert_eq!(at6.window.len(), 3);
}

#[test]
fn sub_minute_periods_evaluate_every_10_seconds() {
    let spec = alarm(10, 2, 5.0).validate().expect("valid");
    assert_eq!(spec.evaluation_step_seconds(), 10);
    let mut src = InMemorySource::new();
    src.put(&metric(), t0() + Duration::seconds(1), 6.0);
    src.put(&metric(), t0() + Duration::seconds(12), 7.0);
    let e = evaluate(
        &spec,
        &src,
        t0() + Duration::seconds(27),
        &AnomalyConfig::default(),
    );
    assert_eq!(
        e.window.last().map(|s| s.start),
        Some(t0() + Duration::seconds(10))
    );
    assert_eq!(e.decision.state, Some(StateValue::Alarm));
}

#[test]
fn transitions_only_and_actions() {
    let spec = alarm(60, 1, 10.0).validate().expect("valid");
    let mut status = AlarmStatus::new(t0());
    let mut src = InMemorySource::new();
    let cfg = AnomalyConfig::default();
    src.put(&metric(), t0() + Duration::seconds(10), 50.0);
    let now = t0() + Duration::minutes(1);
    let c = evaluate_metric_alarm(&spec, &mut status, &src, now, &cfg).expect("to ALARM");
    assert_eq!(
        (c.old.value, c.new.value),
        (StateValue::InsufficientData, StateValue::Alarm)
    );
    assert_eq!(c.actions, vec!["arn:aws:sns:us-east-1:1:a".to_string()]);
    assert!(
        evaluate_metric_alarm(&spec, &mut status, &src, now + Duration::seconds(30), &cfg)
            .is_none()
    );
    let mut disabled = alarm(60, 1, 10.0);
    disabled.actions_enabled = Some(false);
    let spec = disabled.validate().expect("valid");
    let mut status = AlarmStatus::new(t0());
    let c = evaluate_metric_alarm(&spec, &mut status, &src, now, &cfg).expect("to ALARM");
    assert!(c.actions.is_empty());
}

fn p99_alarm(mode: &str) -> MetricAlarm {
    MetricAlarm {
        statistic: None,
        extended_statistic: Some("p99".into()),
        evaluate_low_sample_count_percentile: Some(mode.into()),
        treat_missing_data: Some(TreatMissingData::Missing),
        ..alarm(60, 1, 100.0)
    }
}

#[test]
fn low_sample_percentiles() {
    let mut src = InMemorySource::new();
    // 50 samples: p99 needs 1000 to be significant.
    for i in 0..50 {
        src.put(&metric(), t0() + Duration::milliseconds(i * 100), 500.0);
    }
    let now = t0() + Duration::minutes(1);
    let cfg = AnomalyConfig::default();
    let ignore = p99_alarm("ignore").validate().expect("valid");
    let e = evaluate(&ignore, &src, now, &cfg);
    assert_eq!(e.decision.state, None, "ignore: keep the state");
    assert_eq!(e.window.last().and_then(|s| s.sample_count), Some(50.0));
    let evaluate_anyway = p99_alarm("evaluate").validate().expect("valid");
    assert_eq!(
        evaluate(&evaluate_anyway, &src, now, &cfg).decision.state,
        Some(StateValue::Alarm)
    );
    for i in 0..1000 {
        src.put(
            &metric(),
            t0() + Duration::seconds(10) + Duration::milliseconds(i * 10),
            500.0,
        );
    }
    assert_eq!(
        evaluate(&ignore, &src, now, &cfg).decision.state,
        Some(StateValue::Alarm)
    );
}

fn band_alarm() -> MetricAlarm {
    MetricAlarm {
        alarm_name: "bytes-anomaly".into(),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        comparison_operator: Some(ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold),
        threshold_metric_id: Some("ad1".into()),
        metrics: vec![
            MetricDataQuery {
                id: "m1".into(),
                metric_stat: Some(MetricStat {
                    metric: Metric {
                        namespace: Some("Flowwatch/VPC".into()),
                        metric_name: Some("Bytes".into()),
                        dimensions: vec![Dimension::new("LogGroup", "g")],
                    },
                    period: 300,
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
                expression: Some("ANOMALY_DETECTION_BAND(m1, 3)".into()),
                label: Some("Bytes (expected)".into()),
                return_data: Some(true),
                period: None,
                account_id: None,
            },
        ],
        ..MetricAlarm::default()
    }
}

#[test]
fn anomaly_band_alarm_end_to_end() {
    let spec = band_alarm().validate().expect("valid");
    let mut src = InMemorySource::new();
    let cfg = AnomalyConfig::default();
    // Not enough history yet: the datapoint has no band and counts as missing.
    src.put(&metric(), t0() - Duration::minutes(4), 1010.0);
    let early = evaluate(&spec, &src, t0() + Duration::seconds(30), &cfg);
    assert_eq!(early.decision.state, Some(StateValue::InsufficientData));
    // Two weeks of a daily pattern: 1000 + a little noise by day, 100 by night, one sample
    // per 5 minutes.
    let start = t0() - Duration::days(14);
    let mut t = start;
    while t < t0() - Duration::minutes(5) {
        let day = (8..20).contains(&chrono::Timelike::hour(&t));
        let noise = f64::from(chrono::Timelike::minute(&t) % 3);
        src.put(
            &metric(),
            t + Duration::seconds(1),
            if day {
                1000.0 + 10.0 * noise
            } else {
                100.0 + noise
            },
        );
        t += Duration::minutes(5);
    }
    let normal = evaluate(&spec, &src, t0() + Duration::seconds(30), &cfg);
    assert_eq!(
        normal.decision.state,
        Some(StateValue::Ok),
        "{:?}",
        normal.reason
    );
    let slot = normal.window.last().expect("slot");
    assert!(
        slot.lower.is_some_and(|l| l > 900.0) && slot.upper.is_some_and(|u| u < 1100.0),
        "{slot:?}"
    );
    // A spike.
    src.put(&metric(), t0() + Duration::minutes(1), 5000.0);
    let spike = evaluate(
        &spec,
        &src,
        t0() + Duration::minutes(5) + Duration::seconds(30),
        &cfg,
    );
    assert_eq!(spike.decision.state, Some(StateValue::Alarm));
    let reason = spike.reason.expect("reason");
    assert!(reason.starts_with("Thresholds Crossed: 1 out of the last 1 datapoints [5000.0 (04/03/24 12:00:00)] was less than the lower thresholds ["), "{reason}");
    let data: serde_json::Value =
        serde_json::from_str(&spike.reason_data.expect("data")).expect("json");
    assert_eq!(data["recentDatapoints"], serde_json::json!([5000.0]));
    assert!(
        data["recentUpperThresholds"][0]
            .as_f64()
            .is_some_and(|u| u < 1100.0)
    );
    assert!(data.get("threshold").is_none());
}

#[test]
fn resume_from_describe_alarms_without_renotifying() {
    let doc = r#"{"MetricAlarms": [{
        "AlarmName": "bytes", "Namespace": "Flowwatch/VPC", "MetricName": "Bytes",
        "Dimensions": [{"Name": "LogGroup", "Value": "g"}], "Statistic": "Sum", "Period": 60,
        "EvaluationPeriods": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold",
        "StateValue": "ALARM", "StateReason": "Threshold Crossed: earlier"
    }, {
        "AlarmName": "broken", "Namespace": "N", "MetricName": "M", "Statistic": "Sum",
        "Period": 45, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"
    }], "CompositeAlarms": []}"#;
    let defs: DescribeAlarmsOutput = serde_json::from_str(doc).expect("parses");
    let clock = ManualClock::new(t0() + Duration::seconds(5));
    let mut monitor = Monitor::new(&clock, AccountContext::new("1", "us-east-1"));
    let errors = monitor.load(&defs);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "alarm broken: Period: 45 is not 10, 20, 30 or a multiple of 60"
    );
    assert_eq!(monitor.state("bytes"), Some(StateValue::Alarm));
    let mut src = InMemorySource::new();
    src.put(&metric(), t0() - Duration::seconds(30), 50.0);
    assert!(
        monitor.evaluate(&src).is_empty(),
        "still ALARM: no transition, no notification"
    );
    assert!(monitor.delete_alarm("bytes"));
    assert!(!monitor.delete_alarm("bytes"));
}
