//! The EventBridge event for a transition (`detail-type: "CloudWatch Alarm State Change"`):
//!
//! ```text
//! {"version":"0","id":"...","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",
//!  "account":"123456789012","time":"2019-10-02T17:04:40Z","region":"us-east-1","resources":["<arn>"],
//!  "detail":{"alarmName":"...","state":{"value","reason","reasonData","timestamp"},"previousState":{...},
//!   "configuration":{"description","metrics":[{"id","metricStat":{"metric":{"namespace","name",
//!   "dimensions":{...}},"period","stat"},"returnData"}]}}}
//! ```
//!
//! Composite alarms' `configuration` is `{alarmRule, actionsSuppressor,
//! actionsSuppressorWaitPeriod, actionsSuppressorExtensionPeriod}` and their `state` carries
//! `actionsSuppressedBy`/`actionsSuppressedReason` while actions are held. A single-metric
//! alarm's one entry gets the id `m1` (AWS puts a generated UUID there); the event `id` is
//! derived from the transition ([`super::event_id`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AlarmDefinition, event_id};
use crate::aws::{AccountContext, aws_timestamp, event_time};
use crate::model::{Dimension, MetricAlarm, MetricDataQuery};
use crate::state::{StateChange, StateSnapshot, Suppression};

#[derive(Serialize)]
struct Event<'a> {
    version: &'static str,
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    source: &'static str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: Vec<String>,
    detail: Detail<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    alarm_name: &'a str,
    state: State<'a>,
    previous_state: State<'a>,
    configuration: Configuration<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct State<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_suppressed_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_suppressed_reason: Option<&'a str>,
    value: &'static str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_data: Option<&'a str>,
    timestamp: String,
}

fn state<'a>(s: &'a StateSnapshot, suppression: Option<&'a Suppression>) -> State<'a> {
    State {
        actions_suppressed_by: suppression.map(|x| x.by.as_str()),
        actions_suppressed_reason: suppression.map(|x| x.reason.as_str()),
        value: s.value.as_str(),
        reason: &s.reason,
        reason_data: s.reason_data.as_deref(),
        timestamp: aws_timestamp(s.timestamp),
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Configuration<'a> {
    Metric(MetricConfiguration<'a>),
    Composite(CompositeConfiguration<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricConfiguration<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    metrics: Vec<Query<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompositeConfiguration<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    alarm_rule: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_suppressor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_suppressor_wait_period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_suppressor_extension_period: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Query<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_stat: Option<MetricStat<'a>>,
    return_data: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricStat<'a> {
    metric: Metric<'a>,
    period: u32,
    stat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

#[derive(Serialize)]
struct Metric<'a> {
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    dimensions: BTreeMap<&'a str, &'a str>,
}

fn dims(d: &[Dimension]) -> BTreeMap<&str, &str> {
    d.iter()
        .map(|d| (d.name.as_str(), d.value.as_str()))
        .collect()
}

fn query(q: &MetricDataQuery) -> Query<'_> {
    Query {
        id: &q.id,
        expression: q.expression.as_deref(),
        label: q.label.as_deref(),
        metric_stat: q.metric_stat.as_ref().map(|s| MetricStat {
            metric: Metric {
                namespace: s.metric.namespace.as_deref(),
                name: s.metric.metric_name.as_deref(),
                dimensions: dims(&s.metric.dimensions),
            },
            period: s.period,
            stat: &s.stat,
            unit: s.unit.as_deref(),
        }),
        return_data: q.returns_data(),
    }
}

fn metric_queries(m: &MetricAlarm) -> Vec<Query<'_>> {
    if !m.metrics.is_empty() {
        return m.metrics.iter().map(query).collect();
    }
    let stat = m
        .extended_statistic
        .as_deref()
        .or(m.statistic.map(|s| s.as_str()))
        .unwrap_or_default();
    vec![Query {
        id: "m1",
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric: Metric {
                namespace: m.namespace.as_deref(),
                name: m.metric_name.as_deref(),
                dimensions: dims(&m.dimensions),
            },
            period: m.period.unwrap_or_default(),
            stat,
            unit: m.unit.as_deref(),
        }),
        return_data: true,
    }]
}

/// The EventBridge event (JSON) for a transition.
pub fn event(def: AlarmDefinition<'_>, change: &StateChange, ctx: &AccountContext) -> String {
    let arn = def.arn(ctx);
    let configuration = match def {
        AlarmDefinition::Metric(m) => Configuration::Metric(MetricConfiguration {
            description: m.alarm_description.as_deref(),
            metrics: metric_queries(m),
        }),
        AlarmDefinition::Composite(c) => Configuration::Composite(CompositeConfiguration {
            description: c.alarm_description.as_deref(),
            alarm_rule: &c.alarm_rule,
            actions_suppressor: c.actions_suppressor.as_deref(),
            actions_suppressor_wait_period: c.actions_suppressor_wait_period,
            actions_suppressor_extension_period: c.actions_suppressor_extension_period,
        }),
    };
    let e = Event {
        version: "0",
        id: event_id(change, &arn),
        detail_type: "CloudWatch Alarm State Change",
        source: "aws.cloudwatch",
        account: &ctx.account_id,
        time: event_time(change.new.timestamp),
        region: &ctx.region,
        resources: vec![arn.clone()],
        detail: Detail {
            alarm_name: def.name(),
            state: state(&change.new, change.suppression.as_ref()),
            previous_state: state(&change.old, None),
            configuration,
        },
    };
    serde_json::to_string(&e).unwrap_or_default()
}
