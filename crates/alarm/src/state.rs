//! An alarm's current state, its transitions and its history. State changes only on a
//! transition: re-evaluating to the same state changes nothing (no new reason, no action).
//! History keeps 14 days, like DescribeAlarmHistory.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::aws::aws_timestamp;
use crate::model::{ActionsSuppressedBy, StateValue};

/// How long history entries are kept.
pub const HISTORY_RETENTION_DAYS: i64 = 14;

/// The reason AWS gives a new alarm.
pub const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

/// A state with its reason, as `state`/`previousState` in EventBridge events.
#[derive(Clone, Debug, PartialEq)]
pub struct StateSnapshot {
    pub value: StateValue,
    pub reason: String,
    /// JSON text (`StateReasonData`).
    pub reason_data: Option<String>,
    pub timestamp: DateTime<Utc>,
}

/// Metric or composite; `AlarmType` in history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmKind {
    Metric,
    Composite,
}

impl AlarmKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Metric => "MetricAlarm",
            AlarmKind::Composite => "CompositeAlarm",
        }
    }
}

/// One recorded transition.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub old: StateSnapshot,
    pub new: StateSnapshot,
}

impl HistoryEntry {
    /// `Alarm updated from OK to ALARM`.
    pub fn summary(&self) -> String {
        format!(
            "Alarm updated from {} to {}",
            self.old.value, self.new.value
        )
    }

    /// The entry as DescribeAlarmHistory returns it (`HistoryItemType` `StateUpdate`).
    pub fn to_aws(&self, alarm_name: &str, kind: AlarmKind) -> AlarmHistoryItem {
        AlarmHistoryItem {
            alarm_name: alarm_name.to_string(),
            alarm_type: kind.as_str(),
            timestamp: aws_timestamp(self.new.timestamp),
            history_item_type: "StateUpdate",
            history_summary: self.summary(),
            history_data: format!(
                "{{\"version\":\"1.0\",\"oldState\":{},\"newState\":{}}}",
                history_state(&self.old),
                history_state(&self.new)
            ),
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn history_state(s: &StateSnapshot) -> String {
    let mut out = format!(
        "{{\"stateValue\":{},\"stateReason\":{}",
        json_string(s.value.as_str()),
        json_string(&s.reason)
    );
    // Reason data is embedded as an object, as AWS does; it is our own JSON text, but check
    // rather than trust it.
    if let Some(data) = &s.reason_data
        && serde_json::from_str::<serde_json::Value>(data).is_ok()
    {
        out.push_str(",\"stateReasonData\":");
        out.push_str(data);
    }
    out.push('}');
    out
}

/// A DescribeAlarmHistory `AlarmHistoryItems[]` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmHistoryItem {
    pub alarm_name: String,
    pub alarm_type: &'static str,
    pub timestamp: String,
    pub history_item_type: &'static str,
    pub history_summary: String,
    pub history_data: String,
}

/// An alarm's state over time.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmStatus {
    current: StateSnapshot,
    history: Vec<HistoryEntry>,
}

impl AlarmStatus {
    /// A new alarm: INSUFFICIENT_DATA, "Unchecked: Initial alarm creation".
    pub fn new(created: DateTime<Utc>) -> AlarmStatus {
        AlarmStatus::with_state(StateSnapshot {
            value: StateValue::InsufficientData,
            reason: INITIAL_REASON.into(),
            reason_data: None,
            timestamp: created,
        })
    }

    /// Resumes from a known state (for example `StateValue` of a `describe-alarms` entry),
    /// so a restart does not re-notify.
    pub fn with_state(current: StateSnapshot) -> AlarmStatus {
        AlarmStatus {
            current,
            history: Vec::new(),
        }
    }

    pub fn state(&self) -> StateValue {
        self.current.value
    }

    pub fn current(&self) -> &StateSnapshot {
        &self.current
    }

    /// Transitions, oldest first, at most 14 days old.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// Moves to `new` if its value differs from the current one; returns the old snapshot.
    pub(crate) fn transition(&mut self, new: StateSnapshot) -> Option<StateSnapshot> {
        if new.value == self.current.value {
            return None;
        }
        let cutoff = new.timestamp - Duration::days(HISTORY_RETENTION_DAYS);
        self.history.retain(|h| h.new.timestamp >= cutoff);
        let old = std::mem::replace(&mut self.current, new.clone());
        self.history.push(HistoryEntry {
            old: old.clone(),
            new,
        });
        Some(old)
    }
}

/// Why a composite alarm's actions did not run on its transition.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppression {
    pub by: ActionsSuppressedBy,
    /// `Actions suppressed by WaitPeriod`.
    pub reason: String,
}

impl Suppression {
    pub fn new(by: ActionsSuppressedBy) -> Suppression {
        Suppression {
            by,
            reason: format!("Actions suppressed by {}", by.as_str()),
        }
    }
}

/// A child alarm's state as a composite alarm saw it (`triggeringAlarms`,
/// `TriggeringChildren`).
#[derive(Clone, Debug, PartialEq)]
pub struct TriggeringChild {
    pub arn: String,
    pub value: StateValue,
    pub timestamp: DateTime<Utc>,
}

/// A transition, everything a notification needs.
#[derive(Clone, Debug, PartialEq)]
pub struct StateChange {
    pub alarm_name: String,
    pub kind: AlarmKind,
    pub old: StateSnapshot,
    pub new: StateSnapshot,
    /// Actions to run now: the new state's actions, unless actions are disabled or
    /// suppressed.
    pub actions: Vec<String>,
    /// Composite alarms only: why `actions` is empty although the definition has some.
    pub suppression: Option<Suppression>,
    /// Composite alarms only: the children behind the transition.
    pub triggering_children: Vec<TriggeringChild>,
}

impl StateChange {
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.new.timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).expect("valid")
    }

    fn snap(value: StateValue, t: i64) -> StateSnapshot {
        StateSnapshot {
            value,
            reason: format!("to {value}"),
            reason_data: Some("{\"version\":\"1.0\"}".into()),
            timestamp: at(t),
        }
    }

    #[test]
    fn transitions_only_on_change_and_history_keeps_14_days() {
        let mut s = AlarmStatus::new(at(0));
        assert_eq!(s.state(), StateValue::InsufficientData);
        assert_eq!(s.current().reason, INITIAL_REASON);
        assert!(s.transition(snap(StateValue::Ok, 60)).is_some());
        assert!(s.transition(snap(StateValue::Ok, 120)).is_none());
        assert_eq!(s.current().timestamp, at(60));
        assert!(s.transition(snap(StateValue::Alarm, 180)).is_some());
        assert_eq!(s.history().len(), 2);
        let day = 86_400;
        s.transition(snap(StateValue::Ok, 15 * day));
        assert_eq!(
            s.history().len(),
            1,
            "entries older than 14 days are dropped"
        );
        assert_eq!(s.history()[0].summary(), "Alarm updated from ALARM to OK");
    }

    #[test]
    fn history_item_in_aws_shape() {
        let e = HistoryEntry {
            old: StateSnapshot {
                reason_data: None,
                ..snap(StateValue::Ok, 0)
            },
            new: snap(StateValue::Alarm, 60),
        };
        let item = e.to_aws("cpu", AlarmKind::Metric);
        let json = serde_json::to_value(&item).expect("serialises");
        assert_eq!(json["AlarmType"], "MetricAlarm");
        assert_eq!(json["HistoryItemType"], "StateUpdate");
        assert_eq!(json["HistorySummary"], "Alarm updated from OK to ALARM");
        assert_eq!(
            item.history_data,
            "{\"version\":\"1.0\",\"oldState\":{\"stateValue\":\"OK\",\"stateReason\":\"to OK\"},\
             \"newState\":{\"stateValue\":\"ALARM\",\"stateReason\":\"to ALARM\",\"stateReasonData\":{\"version\":\"1.0\"}}}"
        );
        let data: serde_json::Value = serde_json::from_str(&item.history_data).expect("json");
        assert_eq!(data["newState"]["stateReasonData"]["version"], "1.0");
    }
}
