//! One notification: a transition's payloads addressed to one action ARN, with a stable id.
//!
//! The payloads are built once, when the transition happens, by `flowwatch-alarm`'s
//! builders (SNS message and subject, Alertmanager alerts), so a notification resumed after a
//! restart sends exactly the bytes it would have sent before. The struct is stored as one
//! line of the outbox (and inside a `failed` delivery record), hence `Serialize`: its field
//! names are an on-disk format.

use chrono::Duration;
use flowwatch_alarm::aws::aws_timestamp;
use flowwatch_alarm::notify::{AlarmDefinition, alertmanager, event_id, sns};
use flowwatch_alarm::{AccountContext, StateChange, StateValue};
use serde::{Deserialize, Serialize};

use crate::target::{DEFAULT_RESOLVE_AFTER_SECONDS, Targets};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The idempotency key: derived from the alarm's ARN, the transition (time, old and new
    /// state) and the target ARN, so the same transition to the same target always has the
    /// same id. Sent as `X-Flowwatch-Notification-Id` / `FLOWWATCH_NOTIFICATION_ID`; a
    /// receiver can drop repeats with it (delivery is at least once).
    pub id: String,
    /// The action ARN this goes to.
    pub target_arn: String,
    pub alarm_name: String,
    pub alarm_arn: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    pub alarm_type: String,
    pub old_state: StateValue,
    pub new_state: StateValue,
    pub reason: String,
    /// `2025-05-14T01:58:11.589+0000`, as in the SNS message.
    pub state_change_time: String,
    /// The SNS `Subject`: `ALARM: "<name>" in <Region>`.
    pub subject: String,
    /// The SNS `Message`: CloudWatch's alarm JSON.
    pub sns_message: String,
    /// The Alertmanager `POST /api/v2/alerts` body (`[]` for a transition between OK and
    /// INSUFFICIENT_DATA, which Alertmanager has nothing to say about).
    pub alertmanager: String,
}

impl Notification {
    /// One notification per action the transition runs (`change.actions`: empty when
    /// actions are disabled or suppressed), each ARN once, in the order the alarm lists them.
    /// ARNs without a target still get a notification: the dispatcher records it as failed,
    /// with the reason.
    pub fn for_transition(
        def: AlarmDefinition<'_>,
        change: &StateChange,
        ctx: &AccountContext,
        targets: &Targets,
    ) -> Vec<Notification> {
        let mut seen = std::collections::HashSet::new();
        change
            .actions
            .iter()
            .filter(|arn| seen.insert(arn.as_str()))
            .map(|arn| Notification::new(def, change, ctx, arn, targets))
            .collect()
    }

    /// The notification of `change` for `target_arn`. The Alertmanager body uses that
    /// target's `Labels`, `GeneratorUrl` and `ResolveAfterSeconds` when it is an Alertmanager
    /// target.
    pub fn new(
        def: AlarmDefinition<'_>,
        change: &StateChange,
        ctx: &AccountContext,
        target_arn: &str,
        targets: &Targets,
    ) -> Notification {
        let alarm_arn = def.arn(ctx);
        let am = targets.alertmanager(target_arn);
        let resolve_after = am
            .and_then(|a| a.resolve_after_seconds)
            .unwrap_or(DEFAULT_RESOLVE_AFTER_SECONDS);
        let options = alertmanager::Options {
            generator_url: am.and_then(|a| a.generator_url.clone()),
            extra_labels: am.map(|a| a.labels.clone()).unwrap_or_default(),
            firing_ends_at: i64::try_from(resolve_after)
                .ok()
                .and_then(Duration::try_seconds)
                .and_then(|d| change.new.timestamp.checked_add_signed(d)),
        };
        Notification {
            id: event_id(change, &format!("{alarm_arn}\u{0}{target_arn}")),
            target_arn: target_arn.to_string(),
            alarm_name: change.alarm_name.clone(),
            alarm_type: change.kind.as_str().to_string(),
            old_state: change.old.value,
            new_state: change.new.value,
            reason: change.new.reason.clone(),
            state_change_time: aws_timestamp(change.new.timestamp),
            subject: sns::subject(def.name(), change.new.value, ctx),
            sns_message: sns::message(def, change, ctx),
            alertmanager: alertmanager::alerts(def, change, ctx, &options),
            alarm_arn,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, Utc};
    use flowwatch_alarm::state::{AlarmKind, StateSnapshot};
    use flowwatch_alarm::{Dimension, MetricAlarm};

    use super::*;
    use crate::target::{AlertmanagerTarget, Target, WebhookTarget};

    pub(crate) const OPS: &str = "arn:aws:sns:us-east-2:123456789012:ops";
    pub(crate) const PAGER: &str = "arn:aws:sns:us-east-2:123456789012:pager";

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_747_187_891 + s, 589_000_000).expect("valid")
    }

    pub(crate) fn alarm() -> MetricAlarm {
        MetricAlarm {
            alarm_name: "RejectedSSH".into(),
            metric_name: Some("Rejected".into()),
            namespace: Some("Flowwatch".into()),
            dimensions: vec![Dimension::new("ENI", "eni-1")],
            alarm_actions: vec![OPS.into(), PAGER.into(), OPS.into()],
            evaluation_periods: 1,
            ..MetricAlarm::default()
        }
    }

    pub(crate) fn change(new: StateValue, old: StateValue, t: i64) -> StateChange {
        let snap = |value, t| StateSnapshot {
            value,
            reason: format!("to {value}"),
            reason_data: None,
            timestamp: at(t),
        };
        StateChange {
            alarm_name: "RejectedSSH".into(),
            kind: AlarmKind::Metric,
            old: snap(old, t - 60),
            new: snap(new, t),
            actions: vec![OPS.into(), PAGER.into(), OPS.into()],
            suppression: None,
            triggering_children: vec![],
        }
    }

    pub(crate) fn targets() -> Targets {
        Targets::new(&[
            Target {
                arn: OPS.into(),
                webhook: Some(WebhookTarget {
                    url: "http://127.0.0.1:9/hook".into(),
                    ..WebhookTarget::default()
                }),
                ..Target::default()
            },
            Target {
                arn: PAGER.into(),
                alertmanager: Some(AlertmanagerTarget {
                    url: "http://127.0.0.1:9".into(),
                    labels: [("severity".to_string(), "page".to_string())].into(),
                    resolve_after_seconds: Some(600),
                    ..AlertmanagerTarget::default()
                }),
                ..Target::default()
            },
        ])
        .expect("valid targets")
    }

    #[test]
    fn one_per_action_with_stable_distinct_ids() {
        let ctx = AccountContext::new("123456789012", "us-east-2");
        let a = alarm();
        let c = change(StateValue::Alarm, StateValue::Ok, 0);
        let ns = Notification::for_transition(AlarmDefinition::Metric(&a), &c, &ctx, &targets());
        assert_eq!(ns.len(), 2, "duplicate action ARNs notify once");
        assert_eq!(ns[0].target_arn, OPS);
        assert_eq!(ns[1].target_arn, PAGER);
        assert_ne!(ns[0].id, ns[1].id);
        let again = Notification::for_transition(AlarmDefinition::Metric(&a), &c, &ctx, &targets());
        assert_eq!(ns, again, "deterministic");
        let later = change(StateValue::Alarm, StateValue::Ok, 60);
        let other = Notification::new(AlarmDefinition::Metric(&a), &later, &ctx, OPS, &targets());
        assert_ne!(other.id, ns[0].id, "another transition, another id");

        let n = &ns[0];
        assert_eq!(n.subject, "ALARM: \"RejectedSSH\" in US East (Ohio)");
        assert_eq!(n.state_change_time, "2025-05-14T01:58:11.589+0000");
        assert_eq!(n.alarm_type, "MetricAlarm");
        let msg: serde_json::Value = serde_json::from_str(&n.sns_message).expect("json");
        assert_eq!(msg["NewStateValue"], "ALARM");
        assert_eq!(msg["OldStateValue"], "OK");
        assert_eq!(
            msg["AlarmArn"],
            "arn:aws:cloudwatch:us-east-2:123456789012:alarm:RejectedSSH"
        );
    }

    #[test]
    fn alertmanager_body_uses_the_target_options() {
        let ctx = AccountContext::new("123456789012", "us-east-2");
        let a = alarm();
        let c = change(StateValue::Alarm, StateValue::Ok, 0);
        let n = Notification::new(AlarmDefinition::Metric(&a), &c, &ctx, PAGER, &targets());
        let alerts: serde_json::Value = serde_json::from_str(&n.alertmanager).expect("json");
        assert_eq!(alerts[0]["labels"]["severity"], "page");
        assert_eq!(alerts[0]["labels"]["alertname"], "RejectedSSH");
        assert_eq!(alerts[0]["startsAt"], "2025-05-14T01:58:11.589Z");
        assert_eq!(alerts[0]["endsAt"], "2025-05-14T02:08:11.589Z");
        // Any other target gets the default lifetime and no extra labels.
        let w = Notification::new(AlarmDefinition::Metric(&a), &c, &ctx, OPS, &targets());
        let alerts: serde_json::Value = serde_json::from_str(&w.alertmanager).expect("json");
        assert_eq!(alerts[0]["endsAt"], "2025-05-15T01:58:11.589Z");
        assert!(alerts[0]["labels"].get("severity").is_none());
    }

    #[test]
    fn round_trips_through_json() {
        let ctx = AccountContext::new("123456789012", "us-east-2");
        let a = alarm();
        let c = change(StateValue::Ok, StateValue::Alarm, 0);
        let n = Notification::new(AlarmDefinition::Metric(&a), &c, &ctx, OPS, &targets());
        let line = serde_json::to_string(&n).expect("ser");
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Notification>(&line).expect("de"), n);
    }
}
