//! Delivery records: one line of the delivery log per failed attempt and per final outcome
//! (`delivered`, `failed`, `skipped`). The log is the notification history a
//! `flowwatch alarms history` command reads ([`crate::deliveries`]); a final record also
//! renders as DescribeAlarmHistory's `Action` item ([`Delivery::history_item`]).

use chrono::DateTime;
use flowwatch_alarm::StateValue;
use flowwatch_alarm::state::AlarmHistoryItem;
use serde::{Deserialize, Serialize};

use crate::notification::Notification;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An attempt failed and another is scheduled (`retry_in_ms`).
    AttemptFailed,
    /// The target accepted it (HTTP 2xx, exit status 0). Final.
    Delivered,
    /// Given up: a permanent error, `MaxAttempts` reached, or no target for the ARN. Final;
    /// the record carries the notification, so nothing is lost.
    Failed,
    /// Nothing to send (an Alertmanager target and a transition between OK and
    /// INSUFFICIENT_DATA). Final.
    Skipped,
}

impl Outcome {
    pub fn is_final(self) -> bool {
        !matches!(self, Outcome::AttemptFailed)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The notification's id.
    pub id: String,
    pub outcome: Outcome,
    pub target_arn: String,
    pub alarm_name: String,
    pub alarm_type: String,
    pub old_state: StateValue,
    pub new_state: StateValue,
    /// The transition's time, `2025-05-14T01:58:11.589+0000`.
    pub state_change_time: String,
    /// When this record was written, same format (from the dispatcher's clock).
    pub recorded_at: String,
    /// Attempts made so far: the failed attempt's number for `attempt_failed`, the total for
    /// final outcomes (0 when none was made).
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `skipped`: why nothing was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `attempt_failed`: the wait before the next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    /// `failed`: what was not delivered, to re-send it by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Box<Notification>>,
}

impl Delivery {
    pub(crate) fn new(
        n: &Notification,
        outcome: Outcome,
        attempts: u32,
        recorded_at: String,
    ) -> Delivery {
        Delivery {
            id: n.id.clone(),
            outcome,
            target_arn: n.target_arn.clone(),
            alarm_name: n.alarm_name.clone(),
            alarm_type: n.alarm_type.clone(),
            old_state: n.old_state,
            new_state: n.new_state,
            state_change_time: n.state_change_time.clone(),
            recorded_at,
            attempts,
            error: None,
            note: None,
            retry_in_ms: None,
            notification: (outcome == Outcome::Failed).then(|| Box::new(n.clone())),
        }
    }

    pub(crate) fn with_error(mut self, error: impl Into<String>) -> Delivery {
        self.error = Some(error.into());
        self
    }

    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Delivery {
        self.note = Some(note.into());
        self
    }

    pub fn is_final(&self) -> bool {
        self.outcome.is_final()
    }

    /// The record as a DescribeAlarmHistory `Action` item, for final outcomes: summary
    /// `Successfully executed action <arn>` or `Failed to execute action <arn>`, history data
    /// `{"actionState","stateUpdateTimestamp","notificationResource"}` as AWS writes it,
    /// plus `attempts` and `error` (ours).
    pub fn history_item(&self) -> Option<AlarmHistoryItem> {
        let (state, summary) = match self.outcome {
            Outcome::AttemptFailed => return None,
            Outcome::Delivered | Outcome::Skipped => ("Succeeded", "Successfully executed action"),
            Outcome::Failed => ("Failed", "Failed to execute action"),
        };
        let state_ms = DateTime::parse_from_str(&self.state_change_time, "%Y-%m-%dT%H:%M:%S%.f%z")
            .map(|t| t.timestamp_millis())
            .ok();
        let mut data = serde_json::json!({
            "actionState": state,
            "stateUpdateTimestamp": state_ms,
            "notificationResource": self.target_arn,
            "attempts": self.attempts,
        });
        if let Some(e) = &self.error {
            data["error"] = serde_json::Value::String(e.clone());
        }
        Some(AlarmHistoryItem {
            alarm_name: self.alarm_name.clone(),
            alarm_type: if self.alarm_type == "CompositeAlarm" {
                "CompositeAlarm"
            } else {
                "MetricAlarm"
            },
            timestamp: self.recorded_at.clone(),
            history_item_type: "Action",
            history_summary: format!("{summary} {}", self.target_arn),
            history_data: data.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification() -> Notification {
        Notification {
            id: "id-1".into(),
            target_arn: "arn:aws:sns:us-east-1:1:ops".into(),
            alarm_name: "a".into(),
            alarm_arn: "arn:aws:cloudwatch:us-east-1:1:alarm:a".into(),
            alarm_type: "MetricAlarm".into(),
            old_state: StateValue::Ok,
            new_state: StateValue::Alarm,
            reason: "r".into(),
            state_change_time: "2025-05-14T01:58:11.589+0000".into(),
            subject: "s".into(),
            sns_message: "{}".into(),
            alertmanager: "[]".into(),
        }
    }

    #[test]
    fn failed_records_keep_the_notification_and_render_as_history() {
        let n = notification();
        let d = Delivery::new(
            &n,
            Outcome::Failed,
            3,
            "2025-05-14T02:00:00.000+0000".into(),
        )
        .with_error("http 500");
        assert_eq!(d.notification.as_deref(), Some(&n));
        let line = serde_json::to_string(&d).expect("ser");
        assert!(line.contains(r#""outcome":"failed""#), "{line}");
        assert_eq!(serde_json::from_str::<Delivery>(&line).expect("de"), d);
        let h = d.history_item().expect("final");
        assert_eq!(h.history_item_type, "Action");
        assert_eq!(
            h.history_summary,
            "Failed to execute action arn:aws:sns:us-east-1:1:ops"
        );
        let data: serde_json::Value = serde_json::from_str(&h.history_data).expect("json");
        assert_eq!(data["actionState"], "Failed");
        assert_eq!(data["stateUpdateTimestamp"], 1_747_187_891_589_i64);
        assert_eq!(data["error"], "http 500");

        let ok = Delivery::new(&n, Outcome::Delivered, 1, String::new());
        assert!(ok.notification.is_none());
        assert!(
            ok.history_item()
                .expect("final")
                .history_summary
                .starts_with("Successfully executed action")
        );
        let retry = Delivery::new(&n, Outcome::AttemptFailed, 1, String::new());
        assert!(retry.history_item().is_none());
    }
}
