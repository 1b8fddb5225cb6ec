//! Notification payload shapes: the SNS message against §3.3 of the spec and the key sets of
//! AWS's published examples (aws/aws-lambda-go `events/testdata/cloudwatch-alarm-sns-payload-*`,
//! the CloudWatch EventBridge documentation), EventBridge events, Alertmanager alerts.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use flowwatch_alarm::model::{
    ActionsSuppressedBy, ComparisonOperator, CompositeAlarm, Dimension, Metric, MetricAlarm,
    MetricDataQuery, MetricStat, StateValue, Statistic, TreatMissingData,
};
use flowwatch_alarm::notify::{alertmanager, eventbridge, sns};
use flowwatch_alarm::state::{AlarmKind, StateChange, StateSnapshot, Suppression, TriggeringChild};
use flowwatch_alarm::{AccountContext, AlarmDefinition};
use serde_json::Value;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid")
        + Duration::milliseconds(ms)
}

fn ctx() -> AccountContext {
    AccountContext::new("123456789012", "us-east-2")
}

fn cpu_alarm() -> MetricAlarm {
    MetricAlarm {
        alarm_name: "name".into(),
        alarm_configuration_updated_timestamp: Some("2025-05-13T09:50:08.366000+00:00".into()),
        alarm_actions: vec!["arn:aws:sns:us-east-2:123456789012:ops".into()],
        namespace: Some("AWS/EC2".into()),
        metric_name: Some("CPUUtilization".into()),
        statistic: Some(Statistic::Maximum),
        dimensions: vec![Dimension::new("InstanceId", "i-0123456789abcdef0")],
        period: Some(60),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        threshold: Some(90.0),
        comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold),
        treat_missing_data: Some(TreatMissingData::Missing),
        ..MetricAlarm::default()
    }
}

fn change(kind: AlarmKind, old: StateValue, new: StateValue, at: DateTime<Utc>) -> StateChange {
    StateChange {
        alarm_name: "name".into(),
        kind,
        old: StateSnapshot {
            value: old,
            reason: "before".into(),
            reason_data: None,
            timestamp: at - Duration::minutes(30),
        },
        new: StateSnapshot {
            value: new,
            reason: "Threshold Crossed: 1 out of the last 1 datapoints [95.0 (14/05/25 01:57:00)] was greater than or equal to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).".into(),
            reason_data: Some("{\"version\":\"1.0\"}".into()),
            timestamp: at,
        },
        actions: Vec::new(),
        suppression: None,
        triggering_children: Vec::new(),
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sns_message_is_the_spec_example_exactly() {
    let c = change(
        AlarmKind::Metric,
        StateValue::Ok,
        StateValue::Alarm,
        t(2025, 5, 14, 1, 58, 11, 589),
    );
    let msg = sns::message(AlarmDefinition::Metric(&cpu_alarm()), &c, &ctx());
    assert_eq!(
        msg,
        "{\"AlarmName\":\"name\",\"AlarmDescription\":null,\"AWSAccountId\":\"123456789012\",\
         \"AlarmConfigurationUpdatedTimestamp\":\"2025-05-13T09:50:08.366+0000\",\"NewStateValue\":\"ALARM\",\
         \"NewStateReason\":\"Threshold Crossed: 1 out of the last 1 datapoints [95.0 (14/05/25 01:57:00)] was greater than or equal to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).\",\
         \"StateChangeTime\":\"2025-05-14T01:58:11.589+0000\",\"Region\":\"US East (Ohio)\",\
         \"AlarmArn\":\"arn:aws:cloudwatch:us-east-2:123456789012:alarm:name\",\"OldStateValue\":\"OK\",\
         \"OKActions\":[],\"AlarmActions\":[\"arn:aws:sns:us-east-2:123456789012:ops\"],\"InsufficientDataActions\":[],\
         \"Trigger\":{\"MetricName\":\"CPUUtilization\",\"Namespace\":\"AWS/EC2\",\"StatisticType\":\"Statistic\",\
         \"Statistic\":\"MAXIMUM\",\"Unit\":null,\"Dimensions\":[{\"value\":\"i-0123456789abcdef0\",\"name\":\"InstanceId\"}],\
         \"Period\":60,\"EvaluationPeriods\":1,\"DatapointsToAlarm\":1,\"ComparisonOperator\":\"GreaterThanOrEqualToThreshold\",\
         \"Threshold\":90.0,\"TreatMissingData\":\"missing\",\"EvaluateLowSampleCountPercentile\":\"\"}}"
    );
    assert_eq!(
        sns::subject("name", StateValue::Alarm, &ctx()),
        "ALARM: \"name\" in US East (Ohio)"
    );
}

#[test]
fn sns_single_metric_keys_match_aws_lambda_go_fixture() {
    // cloudwatch-alarm-sns-payload-single-metric.json is an older payload: no action lists,
    // no configuration timestamp, no DatapointsToAlarm. Everything it has, we have.
    let fixture_top = set(&[
        "AlarmName",
        "AlarmDescription",
        "AWSAccountId",
        "NewStateValue",
        "NewStateReason",
        "StateChangeTime",
        "Region",
        "AlarmArn",
        "OldStateValue",
        "Trigger",
    ]);
    let fixture_trigger = set(&[
        "MetricName",
        "Namespace",
        "StatisticType",
        "Statistic",
        "Unit",
        "Dimensions",
        "Period",
        "EvaluationPeriods",
        "ComparisonOperator",
        "Threshold",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
    ]);
    let mut def = cpu_alarm();
    def.datapoints_to_alarm = None;
    def.alarm_configuration_updated_timestamp = None;
    def.unit = Some("Bytes".into());
    let c = change(
        AlarmKind::Metric,
        StateValue::InsufficientData,
        StateValue::Alarm,
        t(2015, 6, 3, 17, 43, 27, 123),
    );
    let v: Value = serde_json::from_str(&sns::message(AlarmDefinition::Metric(&def), &c, &ctx()))
        .expect("json");
    let extra: BTreeSet<String> = keys(&v).difference(&fixture_top).cloned().collect();
    assert_eq!(
        extra,
        set(&["OKActions", "AlarmActions", "InsufficientDataActions"])
    );
    assert!(fixture_top.is_subset(&keys(&v)));
    assert_eq!(keys(&v["Trigger"]), fixture_trigger);
    assert_eq!(
        keys(&v["Trigger"]["Dimensions"][0]),
        set(&["value", "name"])
    );
    assert_eq!(v["Trigger"]["Unit"], "Bytes");
    assert_eq!(v["StateChangeTime"], "2015-06-03T17:43:27.123+0000");
}

#[test]
fn sns_math_trigger_matches_aws_lambda_go_multiple_metrics_fixture() {
    let def = MetricAlarm {
        alarm_name: "math".into(),
        evaluation_periods: 1,
        threshold: Some(0.0),
        comparison_operator: Some(ComparisonOperator::GreaterThanThreshold),
        metrics: vec![
            MetricDataQuery {
                id: "e1".into(),
                metric_stat: None,
                expression: Some("m1*1".into()),
                label: Some("Expression1".into()),
                return_data: Some(true),
                period: None,
                account_id: None,
            },
            MetricDataQuery {
                id: "m1".into(),
                metric_stat: Some(MetricStat {
                    metric: Metric {
                        namespace: Some("AWS/EC2".into()),
                        metric_name: Some("NetworkOut".into()),
                        dimensions: vec![Dimension::new("InstanceId", "i-1")],
                    },
                    period: 60,
                    stat: "Average".into(),
                    unit: None,
                }),
                expression: None,
                label: None,
                return_data: Some(false),
                period: None,
                account_id: None,
            },
        ],
        ..MetricAlarm::default()
    };
    let c = change(
        AlarmKind::Metric,
        StateValue::InsufficientData,
        StateValue::Alarm,
        t(2015, 6, 3, 17, 43, 27, 123),
    );
    let v: Value = serde_json::from_str(&sns::message(AlarmDefinition::Metric(&def), &c, &ctx()))
        .expect("json");
    let trigger = &v["Trigger"];
    assert_eq!(
        *trigger,
        serde_json::json!({
            "Period": 60, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0, "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": "",
            "Metrics": [
                {"Expression": "m1*1", "Id": "e1", "Label": "Expression1", "ReturnData": true},
                {"Id": "m1", "MetricStat": {"Metric": {"Dimensions": [{"value": "i-1", "name": "InstanceId"}],
                    "MetricName": "NetworkOut", "Namespace": "AWS/EC2"}, "Period": 60, "Stat": "Average"},
                 "ReturnData": false}
            ]
        })
    );
    let raw = sns::message(AlarmDefinition::Metric(&def), &c, &ctx());
    assert!(
        raw.contains("\"Trigger\":{\"Period\":60,\"EvaluationPeriods\":1,\"ComparisonOperator\""),
        "{raw}"
    );
    assert!(
        raw.contains(
            "{\"Expression\":\"m1*1\",\"Id\":\"e1\",\"Label\":\"Expression1\",\"ReturnData\":true}"
        ),
        "{raw}"
    );
}

#[test]
fn sns_extended_statistic_and_band_trigger() {
    let mut def = cpu_alarm();
    def.statistic = None;
    def.extended_statistic = Some("p99".into());
    def.evaluate_low_sample_count_percentile = Some("ignore".into());
    let c = change(
        AlarmKind::Metric,
        StateValue::Ok,
        StateValue::Alarm,
        t(2025, 1, 1, 0, 0, 0, 0),
    );
    let v: Value = serde_json::from_str(&sns::message(AlarmDefinition::Metric(&def), &c, &ctx()))
        .expect("json");
    assert_eq!(v["Trigger"]["StatisticType"], "ExtendedStatistic");
    assert_eq!(v["Trigger"]["ExtendedStatistic"], "p99");
    assert!(v["Trigger"].get("Statistic").is_none());
    assert_eq!(v["Trigger"]["EvaluateLowSampleCountPercentile"], "ignore");

    let band = MetricAlarm {
        alarm_name: "band".into(),
        evaluation_periods: 2,
        comparison_operator: Some(ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold),
        threshold_metric_id: Some("ad1".into()),
        metrics: vec![MetricDataQuery {
            id: "ad1".into(),
            metric_stat: None,
            expression: Some("ANOMALY_DETECTION_BAND(m1, 2)".into()),
            label: None,
            return_data: None,
            period: None,
            account_id: None,
        }],
        ..MetricAlarm::default()
    };
    let v: Value = serde_json::from_str(&sns::message(AlarmDefinition::Metric(&band), &c, &ctx()))
        .expect("json");
    assert_eq!(v["Trigger"]["ThresholdMetricId"], "ad1");
    assert!(v["Trigger"].get("Threshold").is_none());
}

fn composite() -> CompositeAlarm {
    CompositeAlarm {
        alarm_name: "ServiceAggregatedAlarm".into(),
        alarm_rule: "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)".into(),
        alarm_actions: vec!["arn:aws:sns:us-east-1:123456789012:page".into()],
        actions_suppressor: Some("ServiceMaintenanceAlarm".into()),
        actions_suppressor_wait_period: Some(120),
        actions_suppressor_extension_period: Some(180),
        ..CompositeAlarm::default()
    }
}

fn composite_change() -> StateChange {
    let at = t(2022, 7, 22, 15, 57, 45, 394);
    let mut c = change(AlarmKind::Composite, StateValue::Ok, StateValue::Alarm, at);
    c.alarm_name = "ServiceAggregatedAlarm".into();
    c.new.reason = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC".into();
    c.triggering_children = vec![TriggeringChild {
        arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh".into(),
        value: StateValue::Alarm,
        timestamp: at,
    }];
    c.suppression = Some(Suppression::new(ActionsSuppressedBy::WaitPeriod));
    c
}

#[test]
fn sns_composite_message_in_aws_order() {
    let ctx = AccountContext::new("123456789012", "us-east-1");
    let msg = sns::message(
        AlarmDefinition::Composite(&composite()),
        &composite_change(),
        &ctx,
    );
    assert_eq!(
        msg,
        "{\"AlarmName\":\"ServiceAggregatedAlarm\",\"AlarmDescription\":null,\"AWSAccountId\":\"123456789012\",\
         \"NewStateValue\":\"ALARM\",\"NewStateReason\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC\",\
         \"StateChangeTime\":\"2022-07-22T15:57:45.394+0000\",\"Region\":\"US East (N. Virginia)\",\
         \"AlarmArn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm\",\
         \"OKActions\":[],\"AlarmActions\":[\"arn:aws:sns:us-east-1:123456789012:page\"],\"InsufficientDataActions\":[],\
         \"OldStateValue\":\"OK\",\"AlarmRule\":\"ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)\",\
         \"TriggeringChildren\":[{\"Arn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\",\
         \"State\":{\"Value\":\"ALARM\",\"Timestamp\":\"2022-07-22T15:57:45.394+0000\"}}]}"
    );
}

#[test]
fn eventbridge_metric_event_shape() {
    let ctx = AccountContext::new("123456789012", "us-east-1");
    let mut def = cpu_alarm();
    def.alarm_description = Some("Goes into alarm when server CPU utilization is too high!".into());
    let c = change(
        AlarmKind::Metric,
        StateValue::Ok,
        StateValue::Alarm,
        t(2019, 10, 2, 17, 4, 40, 989),
    );
    let text = eventbridge::event(AlarmDefinition::Metric(&def), &c, &ctx);
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        keys(&v),
        set(&[
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail"
        ])
    );
    assert_eq!(v["detail-type"], "CloudWatch Alarm State Change");
    assert_eq!(v["source"], "aws.cloudwatch");
    assert_eq!(v["version"], "0");
    assert_eq!(v["time"], "2019-10-02T17:04:40Z");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(
        v["resources"][0],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:name"
    );
    let id = v["id"].as_str().expect("id");
    assert_eq!(
        id.split('-').map(str::len).collect::<Vec<_>>(),
        vec![8, 4, 4, 4, 12]
    );
    assert_eq!(
        text,
        eventbridge::event(AlarmDefinition::Metric(&def), &c, &ctx),
        "deterministic"
    );
    let detail = &v["detail"];
    assert_eq!(
        keys(detail),
        set(&["alarmName", "state", "previousState", "configuration"])
    );
    assert_eq!(
        keys(&detail["state"]),
        set(&["value", "reason", "reasonData", "timestamp"])
    );
    assert_eq!(detail["state"]["timestamp"], "2019-10-02T17:04:40.989+0000");
    assert_eq!(
        keys(&detail["previousState"]),
        set(&["value", "reason", "timestamp"])
    );
    assert_eq!(
        keys(&detail["configuration"]),
        set(&["description", "metrics"])
    );
    let m = &detail["configuration"]["metrics"][0];
    assert_eq!(keys(m), set(&["id", "metricStat", "returnData"]));
    assert_eq!(keys(&m["metricStat"]), set(&["metric", "period", "stat"]));
    assert_eq!(
        keys(&m["metricStat"]["metric"]),
        set(&["dimensions", "name", "namespace"])
    );
    assert_eq!(
        m["metricStat"]["metric"]["dimensions"]["InstanceId"],
        "i-0123456789abcdef0"
    );
    assert_eq!(m["metricStat"]["stat"], "Maximum");
}

#[test]
fn eventbridge_composite_event_shape() {
    let ctx = AccountContext::new("123456789012", "us-east-1");
    let v: Value = serde_json::from_str(&eventbridge::event(
        AlarmDefinition::Composite(&composite()),
        &composite_change(),
        &ctx,
    ))
    .expect("json");
    let detail = &v["detail"];
    assert_eq!(
        keys(&detail["state"]),
        set(&[
            "actionsSuppressedBy",
            "actionsSuppressedReason",
            "value",
            "reason",
            "reasonData",
            "timestamp"
        ])
    );
    assert_eq!(detail["state"]["actionsSuppressedBy"], "WaitPeriod");
    assert_eq!(
        detail["state"]["actionsSuppressedReason"],
        "Actions suppressed by WaitPeriod"
    );
    assert_eq!(
        detail["configuration"],
        serde_json::json!({
            "alarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
            "actionsSuppressor": "ServiceMaintenanceAlarm",
            "actionsSuppressorWaitPeriod": 120,
            "actionsSuppressorExtensionPeriod": 180
        })
    );
    assert_eq!(v["time"], "2022-07-22T15:57:45Z");
}

#[test]
fn alertmanager_firing_and_resolved() {
    let mut def = cpu_alarm();
    def.dimensions.push(Dimension::new("Log-Group", "/aws/vpc"));
    let at = t(2025, 5, 14, 1, 58, 11, 589);
    let opts = alertmanager::Options {
        generator_url: Some("http://flowwatch/alarms/name".into()),
        extra_labels: [("severity".to_string(), "page".to_string())]
            .into_iter()
            .collect(),
        firing_ends_at: Some(at + Duration::hours(24)),
    };
    let firing = change(AlarmKind::Metric, StateValue::Ok, StateValue::Alarm, at);
    let v: Value = serde_json::from_str(&alertmanager::alerts(
        AlarmDefinition::Metric(&def),
        &firing,
        &ctx(),
        &opts,
    ))
    .expect("json");
    let a = &v[0];
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(
        keys(&a["labels"]),
        set(&[
            "alertname",
            "account_id",
            "region",
            "alarm_type",
            "namespace",
            "metric_name",
            "dimension_InstanceId",
            "dimension_Log_Group",
            "severity",
        ])
    );
    assert_eq!(a["labels"]["alertname"], "name");
    assert_eq!(a["startsAt"], "2025-05-14T01:58:11.589Z");
    assert_eq!(a["endsAt"], "2025-05-15T01:58:11.589Z");
    assert_eq!(a["generatorURL"], "http://flowwatch/alarms/name");
    assert_eq!(
        a["annotations"]["summary"],
        "ALARM: \"name\" in US East (Ohio)"
    );
    assert_eq!(a["annotations"]["state"], "ALARM");

    let resolved = change(AlarmKind::Metric, StateValue::Alarm, StateValue::Ok, at);
    let r: Value = serde_json::from_str(&alertmanager::alerts(
        AlarmDefinition::Metric(&def),
        &resolved,
        &ctx(),
        &alertmanager::Options::default(),
    ))
    .expect("json");
    assert_eq!(r[0]["labels"]["alertname"], "name");
    assert_eq!(
        r[0]["startsAt"], "2025-05-14T01:28:11.589Z",
        "when it entered ALARM"
    );
    assert_eq!(r[0]["endsAt"], "2025-05-14T01:58:11.589Z");
    assert!(r[0].get("generatorURL").is_none());

    let quiet = change(
        AlarmKind::Metric,
        StateValue::InsufficientData,
        StateValue::Ok,
        at,
    );
    assert_eq!(
        alertmanager::alerts(AlarmDefinition::Metric(&def), &quiet, &ctx(), &opts),
        "[]"
    );
    let firing_composite = composite_change();
    let c: Value = serde_json::from_str(&alertmanager::alerts(
        AlarmDefinition::Composite(&composite()),
        &firing_composite,
        &ctx(),
        &alertmanager::Options::default(),
    ))
    .expect("json");
    assert_eq!(c[0]["labels"]["alarm_type"], "composite");
    assert!(c[0].get("endsAt").is_none());
    assert_eq!(alertmanager::label_name("9lives.x"), "_9lives_x");
}
