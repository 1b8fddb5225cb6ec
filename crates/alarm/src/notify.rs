//! Notification payloads for a transition, built but not delivered (HTTP lives elsewhere):
//! * [`sns`]: the JSON CloudWatch publishes to SNS (the SNS `Message`) and its `Subject`;
//! * [`eventbridge`]: the "CloudWatch Alarm State Change" event;
//! * [`alertmanager`]: a Prometheus Alertmanager `POST /api/v2/alerts` body.

pub mod alertmanager;
pub mod eventbridge;
pub mod sns;

use chrono::DateTime;

use crate::aws::AccountContext;
use crate::model::{CompositeAlarm, MetricAlarm, StateValue};
use crate::state::StateChange;

/// The definition a transition belongs to.
#[derive(Clone, Copy, Debug)]
pub enum AlarmDefinition<'a> {
    Metric(&'a MetricAlarm),
    Composite(&'a CompositeAlarm),
}

impl<'a> AlarmDefinition<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            AlarmDefinition::Metric(m) => &m.alarm_name,
            AlarmDefinition::Composite(c) => &c.alarm_name,
        }
    }

    pub fn description(&self) -> Option<&'a str> {
        match self {
            AlarmDefinition::Metric(m) => m.alarm_description.as_deref(),
            AlarmDefinition::Composite(c) => c.alarm_description.as_deref(),
        }
    }

    pub fn arn(&self, ctx: &AccountContext) -> String {
        let given = match self {
            AlarmDefinition::Metric(m) => m.alarm_arn.as_deref(),
            AlarmDefinition::Composite(c) => c.alarm_arn.as_deref(),
        };
        given.map_or_else(|| ctx.alarm_arn(self.name()), str::to_string)
    }

    fn actions(&self, state: StateValue) -> &'a [String] {
        match self {
            AlarmDefinition::Metric(m) => m.actions_for(state),
            AlarmDefinition::Composite(c) => c.actions_for(state),
        }
    }

    fn configuration_updated(&self) -> Option<&'a str> {
        match self {
            AlarmDefinition::Metric(m) => m.alarm_configuration_updated_timestamp.as_deref(),
            AlarmDefinition::Composite(c) => c.alarm_configuration_updated_timestamp.as_deref(),
        }
    }
}

/// SNS subjects are at most 100 characters; CloudWatch shortens the alarm name and marks
/// the cut with `...`.
const SUBJECT_LIMIT: usize = 100;

/// `ALARM: "<name>" in <Region display name>`.
pub fn subject(alarm_name: &str, state: StateValue, ctx: &AccountContext) -> String {
    let region = ctx.region_display_name();
    let full = format!("{state}: \"{alarm_name}\" in {region}");
    if full.chars().count() <= SUBJECT_LIMIT {
        return full;
    }
    let fixed = format!("{state}: \"...\" in {region}").chars().count();
    let keep = SUBJECT_LIMIT.saturating_sub(fixed);
    let short: String = alarm_name.chars().take(keep).collect();
    format!("{state}: \"{short}...\" in {region}")
}

/// Timestamps in definitions come in the CLI's (`2025-05-13T09:50:08.366000+00:00`) or the
/// API's format; notifications use AWS's `2025-05-13T09:50:08.366+0000`.
fn normalise_timestamp(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| crate::aws::aws_timestamp(t.to_utc()))
        .unwrap_or_else(|_| text.to_string())
}

/// A UUID-shaped id derived from the transition, so payloads are deterministic (a retry
/// of the same transition carries the same id).
pub fn event_id(change: &StateChange, arn: &str) -> String {
    let key = format!(
        "{arn}\u{0}{}\u{0}{}\u{0}{}",
        change.new.timestamp.timestamp_millis(),
        change.old.value,
        change.new.value
    );
    let hash = |seed: u64| {
        key.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        let ctx = AccountContext::new("1", "us-east-2");
        assert_eq!(
            subject("cpu", StateValue::Alarm, &ctx),
            "ALARM: \"cpu\" in US East (Ohio)"
        );
        assert_eq!(
            subject("cpu", StateValue::Ok, &ctx),
            "OK: \"cpu\" in US East (Ohio)"
        );
        let london = AccountContext::new("1", "eu-west-2");
        let name = "AutoAlarm-i-0bb9ca09aa2d09012-Amazon-Linux-StatusCheckFailed_Instance-eu-west-2-and-more";
        let s = subject(name, StateValue::InsufficientData, &london);
        assert_eq!(s.chars().count(), 100);
        assert!(
            s.starts_with("INSUFFICIENT_DATA: \"AutoAlarm-i-0bb9"),
            "{s}"
        );
        assert!(s.ends_with("...\" in EU (London)"), "{s}");
    }

    #[test]
    fn timestamps_are_normalised() {
        assert_eq!(
            normalise_timestamp("2025-05-13T09:50:08.366000+00:00"),
            "2025-05-13T09:50:08.366+0000"
        );
        assert_eq!(
            normalise_timestamp("2025-05-13T09:50:08.366+0000"),
            "2025-05-13T09:50:08.366+0000"
        );
        assert_eq!(normalise_timestamp("yesterday"), "yesterday");
    }
}
