//! PutMetricAlarm's and PutCompositeAlarm's rules, each with its error message.

use super::*;
use crate::model::{Dimension, Metric, MetricStat, Statistic};

fn base() -> MetricAlarm {
    MetricAlarm {
        alarm_name: "a".into(),
        metric_name: Some("RejectedFlows".into()),
        namespace: Some("Flowwatch/VPC".into()),
        statistic: Some(Statistic::Sum),
        period: Some(60),
        evaluation_periods: 3,
        threshold: Some(10.0),
        comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold),
        ..MetricAlarm::default()
    }
}

fn err(alarm: MetricAlarm) -> String {
    alarm.validate().expect_err("invalid").to_string()
}

fn band_alarm() -> MetricAlarm {
    MetricAlarm {
        alarm_name: "band".into(),
        evaluation_periods: 2,
        comparison_operator: Some(ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold),
        threshold_metric_id: Some("ad1".into()),
        metrics: vec![
            MetricDataQuery {
                id: "m1".into(),
                metric_stat: Some(MetricStat {
                    metric: Metric {
                        namespace: Some("NS".into()),
                        metric_name: Some("Bytes".into()),
                        dimensions: vec![Dimension::new("LogGroup", "g")],
                    },
                    period: 300,
                    stat: "p90".into(),
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
                label: None,
                return_data: Some(true),
                period: None,
                account_id: None,
            },
        ],
        ..MetricAlarm::default()
    }
}

#[test]
fn valid_single_metric_alarm() {
    let spec = base().validate().expect("valid");
    assert_eq!(spec.datapoints_to_alarm, 3);
    assert_eq!(spec.evaluation_range(), 5);
    assert_eq!(spec.threshold, ThresholdSpec::Static(10.0));
    assert_eq!(spec.treat_missing, TreatMissingData::Missing);
    assert_eq!(spec.evaluation_step_seconds(), 60);
}

#[test]
fn dynamodb_alarms_always_ignore_missing_data() {
    let spec = MetricAlarm {
        namespace: Some("AWS/DynamoDB".into()),
        treat_missing_data: Some(TreatMissingData::Breaching),
        ..base()
    }
    .validate()
    .expect("valid");
    assert_eq!(spec.treat_missing, TreatMissingData::Ignore);
}

#[test]
fn evaluation_range_rule() {
    assert_eq!(
        [1, 2, 3, 5, 6, 9, 10].map(evaluation_range),
        [3, 4, 5, 7, 8, 12, 13]
    );
}

#[test]
fn period_rules() {
    for ok in [10, 20, 30, 60, 120, 3600] {
        assert!(
            MetricAlarm {
                period: Some(ok),
                evaluation_periods: 1,
                ..base()
            }
            .validate()
            .is_ok(),
            "{ok}"
        );
    }
    for bad in [0, 5, 15, 45, 61, 90] {
        let e = err(MetricAlarm {
            period: Some(bad),
            evaluation_periods: 1,
            ..base()
        });
        assert_eq!(
            e,
            format!("alarm a: Period: {bad} is not 10, 20, 30 or a multiple of 60")
        );
    }
}

#[test]
fn period_times_evaluation_periods_limits() {
    assert!(
        MetricAlarm {
            period: Some(60),
            evaluation_periods: 1440,
            ..base()
        }
        .validate()
        .is_ok()
    );
    assert_eq!(
        err(MetricAlarm {
            period: Some(60),
            evaluation_periods: 1441,
            ..base()
        }),
        "alarm a: EvaluationPeriods: Period × EvaluationPeriods = 60 × 1441 = 86460 s exceeds \
         1 day (86400 s), the limit when Period is under 1 hour"
    );
    assert!(
        MetricAlarm {
            period: Some(3600),
            evaluation_periods: 168,
            ..base()
        }
        .validate()
        .is_ok()
    );
    assert!(
        err(MetricAlarm {
            period: Some(3600),
            evaluation_periods: 169,
            ..base()
        })
        .contains("exceeds 7 days (604800 s)")
    );
}

#[test]
fn m_out_of_n() {
    assert!(
        MetricAlarm {
            datapoints_to_alarm: Some(2),
            ..base()
        }
        .validate()
        .is_ok()
    );
    assert_eq!(
        err(MetricAlarm {
            datapoints_to_alarm: Some(4),
            ..base()
        }),
        "alarm a: DatapointsToAlarm: 4 is not between 1 and EvaluationPeriods (3)"
    );
    assert!(
        err(MetricAlarm {
            datapoints_to_alarm: Some(0),
            ..base()
        })
        .contains("DatapointsToAlarm")
    );
    assert_eq!(
        err(MetricAlarm {
            evaluation_periods: 0,
            ..base()
        }),
        "alarm a: EvaluationPeriods: must be at least 1"
    );
}

#[test]
fn exactly_one_statistic() {
    assert_eq!(
        err(MetricAlarm {
            extended_statistic: Some("p99".into()),
            ..base()
        }),
        "alarm a: Statistic: give either Statistic or ExtendedStatistic, not both"
    );
    assert_eq!(
        err(MetricAlarm {
            statistic: None,
            ..base()
        }),
        "alarm a: Statistic: one of Statistic or ExtendedStatistic is required"
    );
    let spec = MetricAlarm {
        statistic: None,
        extended_statistic: Some("p99.9".into()),
        ..base()
    }
    .validate()
    .expect("valid");
    assert_eq!(spec.stat, Stat::Percentile(99.9));
    assert!(
        err(MetricAlarm {
            statistic: None,
            extended_statistic: Some("p200".into()),
            ..base()
        })
        .starts_with("alarm a: ExtendedStatistic: `p200` is not")
    );
}

#[test]
fn thresholds_and_operators() {
    assert_eq!(
        err(MetricAlarm {
            threshold: None,
            ..base()
        }),
        "alarm a: Threshold: is required"
    );
    assert!(
        err(MetricAlarm {
            comparison_operator: Some(ComparisonOperator::GreaterThanUpperThreshold),
            ..base()
        })
        .contains("needs ThresholdMetricId")
    );
    assert!(
        err(MetricAlarm {
            comparison_operator: None,
            ..base()
        })
        .contains("ComparisonOperator")
    );
    assert!(
        err(MetricAlarm {
            threshold: Some(f64::NAN),
            ..base()
        })
        .contains("not a finite")
    );
    assert!(
        err(MetricAlarm {
            evaluate_low_sample_count_percentile: Some("skip".into()),
            ..base()
        })
        .contains("neither `evaluate` nor `ignore`")
    );
}

#[test]
fn anomaly_band_alarm() {
    let spec = band_alarm().validate().expect("valid");
    assert_eq!(
        spec.threshold,
        ThresholdSpec::Band {
            id: "ad1".into(),
            metric_id: "m1".into(),
            deviations: 3.0
        }
    );
    assert_eq!(spec.period, 300);
    assert_eq!(spec.stat, Stat::Percentile(90.0));
    let mut static_op = band_alarm();
    static_op.comparison_operator = Some(ComparisonOperator::GreaterThanThreshold);
    assert!(err(static_op).contains("compares with a static Threshold"));
    let mut with_threshold = band_alarm();
    with_threshold.threshold = Some(1.0);
    assert_eq!(
        err(with_threshold),
        "alarm band: Threshold: is not allowed with ThresholdMetricId"
    );
    let mut short = band_alarm();
    if let Some(ms) = short.metrics[0].metric_stat.as_mut() {
        ms.period = 30;
    }
    assert!(err(short).contains("at least 60 s"));
    let mut missing = band_alarm();
    missing.threshold_metric_id = Some("ad9".into());
    assert_eq!(
        err(missing),
        "alarm band: ThresholdMetricId: no Metrics[] entry has Id `ad9`"
    );
}

#[test]
fn metric_math_rules() {
    let mut two_returned = band_alarm();
    two_returned.threshold_metric_id = None;
    two_returned.comparison_operator = Some(ComparisonOperator::GreaterThanThreshold);
    two_returned.threshold = Some(1.0);
    two_returned.metrics[1].expression = Some("m1 * 2".into());
    assert!(err(two_returned.clone()).contains("exactly one entry must have ReturnData true"));
    two_returned.metrics[0].return_data = Some(false);
    // Metric math over the other entry: evaluated.
    let spec = two_returned.validate().expect("math is evaluated");
    assert_eq!(spec.period, 300);
    assert_eq!(spec.math.as_ref().map(|m| m.leaves.len()), Some(1));
    let mut general = two_returned.clone();
    general.metrics[1].expression = Some("SUM(METRICS())".into());
    let e = general.validate().expect_err("general math");
    assert!(matches!(e, AlarmError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("SUM() is not evaluated"), "{e}");
    let mut unknown = two_returned.clone();
    unknown.metrics[1].expression = Some("m1 / m7".into());
    assert_eq!(
        err(unknown),
        "alarm band: Metrics: `ad1`: byte 5: no Metrics[] entry has Id `m7`: \"m1 / m7\""
    );
    let mut cycle = two_returned.clone();
    cycle.metrics[0] = MetricDataQuery {
        id: "e0".into(),
        metric_stat: None,
        expression: Some("ad1 + 1".into()),
        label: None,
        return_data: Some(false),
        period: None,
        account_id: None,
    };
    cycle.metrics[1].expression = Some("e0 * 2".into());
    assert!(err(cycle).contains("refers to itself"));
    // INSIGHT_RULE_METRIC alone needs the expression's Period.
    let mut insight = two_returned.clone();
    insight.metrics.remove(0);
    insight.metrics[0].expression = Some(
        r#"INSIGHT_RULE_METRIC("Rejected", "Sum") / INSIGHT_RULE_METRIC("Total", "Sum") * 100"#
            .into(),
    );
    assert!(err(insight.clone()).contains("needs a Period"));
    insight.metrics[0].period = Some(300);
    let spec = insight.validate().expect("ratio of two rules");
    assert_eq!(
        (spec.period, spec.math.map(|m| m.leaves.len())),
        (300, Some(2))
    );
    let mut both = base();
    both.metrics = band_alarm().metrics;
    assert_eq!(
        err(both),
        "alarm a: MetricName: is not allowed together with Metrics[]"
    );
    let mut bad_id = band_alarm();
    bad_id.metrics[0].id = "M1".into();
    assert!(err(bad_id).contains("must start with a lower-case letter"));
}

#[test]
fn band_expressions() {
    assert_eq!(
        parse_band("ANOMALY_DETECTION_BAND(m1)"),
        Some(("m1".into(), 2.0))
    );
    assert_eq!(
        parse_band(" ANOMALY_DETECTION_BAND (m1, 0.8) "),
        Some(("m1".into(), 0.8))
    );
    assert_eq!(parse_band("ANOMALY_DETECTION_BAND(m1, -1)"), None);
    assert_eq!(parse_band("ANOMALY_DETECTION_BAND(M1)"), None);
    assert_eq!(parse_band("SUM(METRICS())"), None);
    assert_eq!(parse_band("ANOMALY"), None);
}

#[test]
fn names_and_dimensions() {
    assert!(
        err(MetricAlarm {
            alarm_name: String::new(),
            ..base()
        })
        .contains("1 to 255")
    );
    assert!(
        err(MetricAlarm {
            alarm_name: "caf\u{e9}".into(),
            ..base()
        })
        .contains("ASCII")
    );
    let many = (0..31)
        .map(|i| Dimension::new(format!("d{i}"), "v"))
        .collect();
    assert!(
        err(MetricAlarm {
            dimensions: many,
            ..base()
        })
        .contains("at most 30")
    );
    assert!(
        err(MetricAlarm {
            namespace: None,
            ..base()
        })
        .contains("Namespace")
    );
    assert!(
        err(MetricAlarm {
            period: None,
            ..base()
        })
        .contains("Period: is required")
    );
}

fn composite(rule: &str) -> CompositeAlarm {
    CompositeAlarm {
        alarm_name: "c".into(),
        alarm_rule: rule.into(),
        ..CompositeAlarm::default()
    }
}

#[test]
fn composite_rules() {
    let spec = composite("ALARM(a) OR ALARM(\"arn:aws:cloudwatch:us-east-1:1:alarm:b\") OR OK(a)")
        .validate()
        .expect("valid");
    assert_eq!(spec.children(), vec!["a".to_string(), "b".to_string()]);
    assert_eq!(spec.wait_period, DEFAULT_SUPPRESSOR_PERIOD);
    assert!(
        composite("ALARM(c)")
            .validate()
            .expect_err("self")
            .to_string()
            .contains("itself")
    );
    let e = composite("ALARM(a) AND").validate().expect_err("syntax");
    assert!(matches!(e, AlarmError::Rule { .. }));
    let wide = (0..101)
        .map(|i| format!("ALARM(a{i})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert!(
        composite(&wide)
            .validate()
            .expect_err("wide")
            .to_string()
            .contains("at most 100")
    );
    let mut c = composite("ALARM(a)");
    c.actions_suppressor_wait_period = Some(10);
    assert!(
        c.validate()
            .expect_err("no suppressor")
            .to_string()
            .contains("needs ActionsSuppressor")
    );
    c.actions_suppressor = Some("arn:aws:cloudwatch:us-east-1:1:alarm:maint".into());
    let spec = c.validate().expect("valid");
    assert_eq!(spec.suppressor.as_deref(), Some("maint"));
    assert_eq!((spec.wait_period, spec.extension_period), (10, 60));
}
