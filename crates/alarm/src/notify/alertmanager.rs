//! A Prometheus Alertmanager `POST /api/v2/alerts` body (a JSON array of alerts) for a
//! transition.
//!
//! Mapping (our choice; Alertmanager has no notion of INSUFFICIENT_DATA):
//! * into ALARM: a firing alert, `startsAt` = the transition, `endsAt` = the caller's
//!   [`Options::firing_ends_at`] or absent. Alertmanager resolves an alert without `endsAt`
//!   after its `resolve_timeout` (5 min by default), so a deliverer that only posts
//!   transitions should set `firing_ends_at` far enough ahead or re-post while firing;
//! * out of ALARM (to OK or INSUFFICIENT_DATA): the same labels with `endsAt` = the
//!   transition, which resolves it; `startsAt` is when the alarm entered ALARM;
//! * transitions between OK and INSUFFICIENT_DATA: an empty array (nothing to say).
//!
//! Labels identify the alert (Alertmanager fingerprints them, so they must not change
//! between firing and resolving): `alertname` (the alarm name), `alarm_type`, `account_id`,
//! `region`, and for single-metric alarms `namespace`, `metric_name` and one
//! `dimension_<Name>` per dimension (names sanitised to `[a-zA-Z0-9_]`), plus the caller's.
//! Annotations carry `summary` (the SNS subject), `description` (the reason), `state`,
//! `previous_state`, `alarm_arn`, and `alarm_description`/`reason_data` when present.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AlarmDefinition, subject};
use crate::aws::{AccountContext, rfc3339};
use crate::model::StateValue;
use crate::state::StateChange;

/// Caller-supplied parts of the alert.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// `generatorURL`, a link back to the alarm.
    pub generator_url: Option<String>,
    /// Added to every alert's labels (`severity`, `team`, ...); cannot override ours.
    pub extra_labels: BTreeMap<String, String>,
    /// `endsAt` of a firing alert.
    pub firing_ends_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Alert {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    generator_url: Option<String>,
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: other characters become `_`.
pub fn label_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The alerts (JSON array) for a transition.
pub fn alerts(
    def: AlarmDefinition<'_>,
    change: &StateChange,
    ctx: &AccountContext,
    options: &Options,
) -> String {
    let firing = change.new.value == StateValue::Alarm;
    if !firing && change.old.value != StateValue::Alarm {
        return "[]".into();
    }
    let mut labels: BTreeMap<String, String> = options
        .extra_labels
        .iter()
        .map(|(k, v)| (label_name(k), v.clone()))
        .collect();
    labels.insert("alertname".into(), def.name().to_string());
    labels.insert("account_id".into(), ctx.account_id.clone());
    labels.insert("region".into(), ctx.region.clone());
    match def {
        AlarmDefinition::Metric(m) => {
            labels.insert("alarm_type".into(), "metric".into());
            if let Some(ns) = &m.namespace {
                labels.insert("namespace".into(), ns.clone());
            }
            if let Some(name) = &m.metric_name {
                labels.insert("metric_name".into(), name.clone());
            }
            for d in &m.dimensions {
                labels.insert(
                    label_name(&format!("dimension_{}", d.name)),
                    d.value.clone(),
                );
            }
        }
        AlarmDefinition::Composite(_) => {
            labels.insert("alarm_type".into(), "composite".into());
        }
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "summary".to_string(),
        subject(def.name(), change.new.value, ctx),
    );
    annotations.insert("description".to_string(), change.new.reason.clone());
    annotations.insert("state".to_string(), change.new.value.to_string());
    annotations.insert("previous_state".to_string(), change.old.value.to_string());
    annotations.insert("alarm_arn".to_string(), def.arn(ctx));
    if let Some(d) = def.description() {
        annotations.insert("alarm_description".to_string(), d.to_string());
    }
    if let Some(d) = &change.new.reason_data {
        annotations.insert("reason_data".to_string(), d.clone());
    }
    let (starts_at, ends_at) = if firing {
        (change.new.timestamp, options.firing_ends_at)
    } else {
        (change.old.timestamp, Some(change.new.timestamp))
    };
    let alert = Alert {
        labels,
        annotations,
        starts_at: rfc3339(starts_at),
        ends_at: ends_at.map(rfc3339),
        generator_url: options.generator_url.clone(),
    };
    serde_json::to_string(&[alert]).unwrap_or_else(|_| "[]".into())
}
