//! The alarm message CloudWatch publishes to SNS (SNS delivers it as the `Message` string),
//! field for field as AWS documents and sends it:
//!
//! ```text
//! {"AlarmName":"...","AlarmDescription":null,"AWSAccountId":"123456789012",
//!  "AlarmConfigurationUpdatedTimestamp":"2025-05-13T09:50:08.366+0000","NewStateValue":"ALARM",
//!  "NewStateReason":"...","StateChangeTime":"2025-05-14T01:58:11.589+0000","Region":"US East (Ohio)",
//!  "AlarmArn":"...","OldStateValue":"OK","OKActions":[],"AlarmActions":[...],"InsufficientDataActions":[],
//!  "Trigger":{"MetricName":"CPUUtilization","Namespace":"AWS/EC2","StatisticType":"Statistic",
//!   "Statistic":"MAXIMUM","Unit":null,"Dimensions":[{"value":"i-...","name":"InstanceId"}],"Period":60,
//!   "EvaluationPeriods":1,"DatapointsToAlarm":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold",
//!   "Threshold":90.0,"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":""}}
//! ```
//!
//! `Statistic` is upper-case, an extended statistic goes under `ExtendedStatistic` as
//! written; dimensions use lower-case `value`/`name`. Alarms on `Metrics[]` carry
//! `Trigger.Metrics` (alphabetical keys, as AWS prints them) instead of the metric fields,
//! and band alarms `ThresholdMetricId` instead of `Threshold`. `DatapointsToAlarm` appears
//! when the alarm sets it; `TreatMissingData` is the effective treatment (`missing` when
//! unset). Composite alarms carry `AlarmRule` and `TriggeringChildren` instead of `Trigger`.

use serde::Serialize;

use super::{AlarmDefinition, normalise_timestamp};
use crate::aws::{AccountContext, aws_timestamp};
use crate::model::{Dimension, MetricAlarm, MetricDataQuery, StateValue};
use crate::state::StateChange;

pub use super::subject;

#[derive(Serialize)]
struct LowerDimension<'a> {
    value: &'a str,
    name: &'a str,
}

fn lower_dimensions(dims: &[Dimension]) -> Vec<LowerDimension<'_>> {
    dims.iter()
        .map(|d| LowerDimension {
            value: &d.value,
            name: &d.name,
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricTrigger<'a> {
    metric_name: Option<&'a str>,
    namespace: Option<&'a str>,
    statistic_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    unit: Option<&'a str>,
    dimensions: Vec<LowerDimension<'a>>,
    period: Option<u32>,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    comparison_operator: Option<&'static str>,
    threshold: Option<f64>,
    treat_missing_data: &'static str,
    evaluate_low_sample_count_percentile: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MathTrigger<'a> {
    period: Option<u32>,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    comparison_operator: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<&'a str>,
    treat_missing_data: &'static str,
    evaluate_low_sample_count_percentile: &'a str,
    metrics: Vec<TriggerQuery<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_stat: Option<TriggerMetricStat<'a>>,
    return_data: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerMetricStat<'a> {
    metric: TriggerMetric<'a>,
    period: u32,
    stat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerMetric<'a> {
    dimensions: Vec<LowerDimension<'a>>,
    metric_name: Option<&'a str>,
    namespace: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Trigger<'a> {
    Metric(MetricTrigger<'a>),
    Math(MathTrigger<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricMessage<'a> {
    alarm_name: &'a str,
    alarm_description: Option<&'a str>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_configuration_updated_timestamp: Option<String>,
    new_state_value: &'static str,
    new_state_reason: &'a str,
    state_change_time: String,
    region: &'a str,
    alarm_arn: String,
    old_state_value: &'static str,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    trigger: Trigger<'a>,
}

/// AWS's composite schema puts `OldStateValue` after the action lists and has no
/// configuration timestamp.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CompositeMessage<'a> {
    alarm_name: &'a str,
    alarm_description: Option<&'a str>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    new_state_value: &'static str,
    new_state_reason: &'a str,
    state_change_time: String,
    region: &'a str,
    alarm_arn: String,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    old_state_value: &'static str,
    alarm_rule: &'a str,
    triggering_children: Vec<TriggeringChild<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggeringChild<'a> {
    arn: &'a str,
    state: ChildStateValue,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ChildStateValue {
    value: &'static str,
    timestamp: String,
}

fn trigger(m: &MetricAlarm) -> Trigger<'_> {
    let treat = m.treat_missing_data.unwrap_or_default().as_str();
    let low = m
        .evaluate_low_sample_count_percentile
        .as_deref()
        .unwrap_or("");
    let op = m.comparison_operator.map(|o| o.as_str());
    if m.metrics.is_empty() {
        let (statistic_type, statistic, extended) = match (&m.statistic, &m.extended_statistic) {
            (_, Some(e)) => ("ExtendedStatistic", None, Some(e.as_str())),
            (s, None) => ("Statistic", s.map(|s| s.as_str().to_uppercase()), None),
        };
        return Trigger::Metric(MetricTrigger {
            metric_name: m.metric_name.as_deref(),
            namespace: m.namespace.as_deref(),
            statistic_type,
            statistic,
            extended_statistic: extended,
            unit: m.unit.as_deref(),
            dimensions: lower_dimensions(&m.dimensions),
            period: m.period,
            evaluation_periods: m.evaluation_periods,
            datapoints_to_alarm: m.datapoints_to_alarm,
            comparison_operator: op,
            threshold: m.threshold,
            treat_missing_data: treat,
            evaluate_low_sample_count_percentile: low,
        });
    }
    let period = m
        .metrics
        .iter()
        .find_map(|q| q.metric_stat.as_ref().map(|s| s.period))
        .or(m.period);
    Trigger::Math(MathTrigger {
        period,
        evaluation_periods: m.evaluation_periods,
        datapoints_to_alarm: m.datapoints_to_alarm,
        comparison_operator: op,
        threshold: m.threshold,
        threshold_metric_id: m.threshold_metric_id.as_deref(),
        treat_missing_data: treat,
        evaluate_low_sample_count_percentile: low,
        metrics: m.metrics.iter().map(trigger_query).collect(),
    })
}

fn trigger_query(q: &MetricDataQuery) -> TriggerQuery<'_> {
    TriggerQuery {
        expression: q.expression.as_deref(),
        id: &q.id,
        label: q.label.as_deref(),
        metric_stat: q.metric_stat.as_ref().map(|s| TriggerMetricStat {
            metric: TriggerMetric {
                dimensions: lower_dimensions(&s.metric.dimensions),
                metric_name: s.metric.metric_name.as_deref(),
                namespace: s.metric.namespace.as_deref(),
            },
            period: s.period,
            stat: &s.stat,
            unit: s.unit.as_deref(),
        }),
        return_data: q.returns_data(),
    }
}

/// The SNS `Message` for a transition.
pub fn message(def: AlarmDefinition<'_>, change: &StateChange, ctx: &AccountContext) -> String {
    let json = match def {
        AlarmDefinition::Metric(m) => serde_json::to_string(&MetricMessage {
            alarm_name: def.name(),
            alarm_description: def.description(),
            aws_account_id: &ctx.account_id,
            alarm_configuration_updated_timestamp: def
                .configuration_updated()
                .map(normalise_timestamp),
            new_state_value: change.new.value.as_str(),
            new_state_reason: &change.new.reason,
            state_change_time: aws_timestamp(change.new.timestamp),
            region: ctx.region_display_name(),
            alarm_arn: def.arn(ctx),
            old_state_value: change.old.value.as_str(),
            ok_actions: def.actions(StateValue::Ok),
            alarm_actions: def.actions(StateValue::Alarm),
            insufficient_data_actions: def.actions(StateValue::InsufficientData),
            trigger: trigger(m),
        }),
        AlarmDefinition::Composite(c) => serde_json::to_string(&CompositeMessage {
            alarm_name: def.name(),
            alarm_description: def.description(),
            aws_account_id: &ctx.account_id,
            new_state_value: change.new.value.as_str(),
            new_state_reason: &change.new.reason,
            state_change_time: aws_timestamp(change.new.timestamp),
            region: ctx.region_display_name(),
            alarm_arn: def.arn(ctx),
            ok_actions: def.actions(StateValue::Ok),
            alarm_actions: def.actions(StateValue::Alarm),
            insufficient_data_actions: def.actions(StateValue::InsufficientData),
            old_state_value: change.old.value.as_str(),
            alarm_rule: &c.alarm_rule,
            triggering_children: change
                .triggering_children
                .iter()
                .map(|t| TriggeringChild {
                    arn: &t.arn,
                    state: ChildStateValue {
                        value: t.value.as_str(),
                        timestamp: aws_timestamp(t.timestamp),
                    },
                })
                .collect(),
        }),
    };
    json.unwrap_or_default()
}
