//! Alarm definitions in AWS's JSON shapes: the output of `aws cloudwatch describe-alarms`
//! (`{"MetricAlarms": [...], "CompositeAlarms": [...]}`) deserialises into
//! [`DescribeAlarmsOutput`] as is, and a definition serialises back to the same field names.
//!
//! These are the wire format (a promise to users who paste AWS output); [`crate::validate`]
//! turns them into checked specs the evaluator works on. Unknown fields are ignored so newer
//! AWS output still parses; timestamps stay strings because the CLI and the SDKs print them
//! in different formats.

use serde::{Deserialize, Serialize};

/// `describe-alarms` output, or any document with these two lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsOutput {
    #[serde(default)]
    pub metric_alarms: Vec<MetricAlarm>,
    #[serde(default)]
    pub composite_alarms: Vec<CompositeAlarm>,
}

/// The three alarm states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl std::fmt::Display for StateValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard statistics (`Statistic`); percentiles and friends are `ExtendedStatistic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
}

/// All seven comparison operators; the last three only with an anomaly-detection band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            ComparisonOperator::LessThanLowerThreshold => "LessThanLowerThreshold",
            ComparisonOperator::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    /// True for the operators that compare against an anomaly-detection band.
    pub fn is_band(self) -> bool {
        matches!(
            self,
            ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold
                | ComparisonOperator::LessThanLowerThreshold
                | ComparisonOperator::GreaterThanUpperThreshold
        )
    }
}

/// `TreatMissingData`; `missing` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    #[default]
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::Ignore => "ignore",
        }
    }
}

/// `{"Name": ..., "Value": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

impl Dimension {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Dimension {
        Dimension {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A metric: namespace, name, dimensions (`Metric` in MetricDataQuery).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
}

/// `MetricStat`: a metric with its period, statistic and unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    pub metric: Metric,
    pub period: u32,
    /// A standard or extended statistic, as text (`Average`, `p99`).
    pub stat: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// One entry of `Metrics[]` (MetricDataQuery): a metric or an expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Omitted means true (PutMetricAlarm's rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl MetricDataQuery {
    pub fn returns_data(&self) -> bool {
        self.return_data.unwrap_or(true)
    }
}

/// A metric alarm (PutMetricAlarm input, DescribeAlarms `MetricAlarms[]` entry).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    pub alarm_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_configuration_updated_timestamp: Option<String>,
    /// Omitted means true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions", default, skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insufficient_data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_value: Option<StateValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_updated_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transitioned_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub evaluation_periods: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<ComparisonOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<TreatMissingData>,
    /// `evaluate` or `ignore` (percentile alarms only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricDataQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_metric_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_state: Option<String>,
}

impl MetricAlarm {
    pub fn actions_enabled(&self) -> bool {
        self.actions_enabled.unwrap_or(true)
    }

    /// The actions to run on entering `state`.
    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }
}

/// `ActionsSuppressedBy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionsSuppressedBy {
    WaitPeriod,
    ExtensionPeriod,
    Alarm,
}

impl ActionsSuppressedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionsSuppressedBy::WaitPeriod => "WaitPeriod",
            ActionsSuppressedBy::ExtensionPeriod => "ExtensionPeriod",
            ActionsSuppressedBy::Alarm => "Alarm",
        }
    }
}

/// A composite alarm (PutCompositeAlarm input, DescribeAlarms `CompositeAlarms[]` entry).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarm {
    pub alarm_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_configuration_updated_timestamp: Option<String>,
    pub alarm_rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions", default, skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insufficient_data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_value: Option<StateValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_updated_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transitioned_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressed_by: Option<ActionsSuppressedBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressed_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_wait_period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_extension_period: Option<u32>,
}

impl CompositeAlarm {
    pub fn actions_enabled(&self) -> bool {
        self.actions_enabled.unwrap_or(true)
    }

    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }
}

/// The alarm name an ARN or a bare name refers to (`arn:...:alarm:NAME` -> `NAME`).
pub fn alarm_name_of(reference: &str) -> &str {
    match reference.find(":alarm:") {
        Some(i) if reference.starts_with("arn:") => &reference[i + ":alarm:".len()..],
        _ => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Written after `aws cloudwatch describe-alarms` output (field names and nesting as the
    // CLI prints them); the values are ours.
    const DESCRIBE: &str = r#"{
      "MetricAlarms": [{
        "AlarmName": "vpc-rejects-high",
        "AlarmArn": "arn:aws:cloudwatch:us-east-2:123456789012:alarm:vpc-rejects-high",
        "AlarmDescription": "REJECTed flows per minute",
        "AlarmConfigurationUpdatedTimestamp": "2025-05-13T09:50:08.366000+00:00",
        "ActionsEnabled": true,
        "OKActions": ["arn:aws:sns:us-east-2:123456789012:ops-ok"],
        "AlarmActions": ["arn:aws:sns:us-east-2:123456789012:ops"],
        "InsufficientDataActions": [],
        "StateValue": "OK",
        "StateReason": "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (14/05/25 01:57:00)] was not greater than or equal to the threshold (10.0) (minimum 1 datapoint for ALARM -> OK transition).",
        "StateReasonData": "{\"version\":\"1.0\"}",
        "StateUpdatedTimestamp": "2025-05-14T01:58:11.589000+00:00",
        "MetricName": "RejectedFlows",
        "Namespace": "Flowwatch/VPC",
        "Statistic": "Sum",
        "Dimensions": [{"Name": "LogGroup", "Value": "/aws/vpc/flows"}],
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "StateTransitionedTimestamp": "2025-05-14T01:58:11.589000+00:00"
      }, {
        "AlarmName": "bytes-anomaly",
        "EvaluationPeriods": 2,
        "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
        "ThresholdMetricId": "ad1",
        "Metrics": [
          {"Id": "m1", "ReturnData": true, "MetricStat": {"Metric": {"Namespace": "Flowwatch/VPC",
            "MetricName": "Bytes", "Dimensions": [{"Name": "LogGroup", "Value": "g"}]},
            "Period": 300, "Stat": "p90"}},
          {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "Label": "Bytes (expected)", "ReturnData": true}
        ],
        "EvaluateLowSampleCountPercentile": "ignore"
      }],
      "CompositeAlarms": [{
        "AlarmName": "service-degraded",
        "AlarmRule": "ALARM(vpc-rejects-high) AND NOT ALARM(\"maintenance window\")",
        "ActionsSuppressor": "maintenance window",
        "ActionsSuppressorWaitPeriod": 120,
        "ActionsSuppressorExtensionPeriod": 180,
        "ActionsSuppressedBy": "WaitPeriod",
        "StateValue": "ALARM"
      }]
    }"#;

    #[test]
    fn describe_alarms_output_deserialises() {
        let out: DescribeAlarmsOutput = serde_json::from_str(DESCRIBE).expect("parses");
        assert_eq!(out.metric_alarms.len(), 2);
        let a = &out.metric_alarms[0];
        assert_eq!(a.statistic, Some(Statistic::Sum));
        assert_eq!(
            a.dimensions,
            vec![Dimension::new("LogGroup", "/aws/vpc/flows")]
        );
        assert_eq!(a.treat_missing_data, Some(TreatMissingData::NotBreaching));
        assert_eq!(a.alarm_actions.len(), 1);
        assert_eq!(a.state_value, Some(StateValue::Ok));
        let band = &out.metric_alarms[1];
        assert_eq!(band.metrics.len(), 2);
        assert!(band.metrics[1].returns_data());
        assert_eq!(band.threshold_metric_id.as_deref(), Some("ad1"));
        let c = &out.composite_alarms[0];
        assert_eq!(c.actions_suppressor_wait_period, Some(120));
        assert_eq!(
            c.actions_suppressed_by,
            Some(ActionsSuppressedBy::WaitPeriod)
        );
    }

    #[test]
    fn definitions_round_trip_with_aws_field_names() {
        let out: DescribeAlarmsOutput = serde_json::from_str(DESCRIBE).expect("parses");
        let text = serde_json::to_string(&out).expect("serialises");
        for key in [
            "\"OKActions\"",
            "\"AlarmActions\"",
            "\"EvaluateLowSampleCountPercentile\"",
            "\"ThresholdMetricId\"",
            "\"MetricStat\"",
            "\"ActionsSuppressorExtensionPeriod\"",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
        let back: DescribeAlarmsOutput = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back, out);
    }

    #[test]
    fn unknown_operator_is_a_clear_serde_error() {
        let e = serde_json::from_str::<MetricAlarm>(
            r#"{"AlarmName":"a","EvaluationPeriods":1,"ComparisonOperator":"Bigger"}"#,
        )
        .expect_err("rejects");
        assert!(e.to_string().contains("unknown variant `Bigger`"), "{e}");
    }

    #[test]
    fn alarm_names_from_arns() {
        assert_eq!(
            alarm_name_of("arn:aws:cloudwatch:us-east-1:1:alarm:a:b"),
            "a:b"
        );
        assert_eq!(alarm_name_of("plain"), "plain");
        assert_eq!(alarm_name_of("x:alarm:y"), "x:alarm:y");
    }
}
