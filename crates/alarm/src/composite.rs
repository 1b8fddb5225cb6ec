//! Composite-alarm evaluation: the rule against the children's current states, reason text
//! in AWS's words, cycle detection, and actions suppression.
//!
//! State: INSUFFICIENT_DATA until the first evaluation (the only time a composite alarm is
//! in it; AWS does not document this, the spec marks it unconfirmed), then ALARM when the
//! rule holds and OK when it does not. A child that is not defined reads as
//! INSUFFICIENT_DATA.
//!
//! Reasons: the first evaluation says `<arn> was created and its alarm rule evaluates to OK`
//! and lists every child in `triggeringAlarms`; later transitions name the child that
//! changed most recently: `<child arn> transitioned to ALARM at Friday 22 July, 2022
//! 15:57:45 UTC`.
//!
//! Suppression (`ActionsSuppressor`), applied to the actions of every transition; periods
//! default to 60 s:
//! * suppressor in ALARM: actions suppressed (`Alarm`) for as long as it stays there;
//! * suppressor left ALARM less than `ExtensionPeriod` ago: suppressed (`ExtensionPeriod`)
//!   until the extension ends;
//! * otherwise: held for `WaitPeriod` (`WaitPeriod`) in case the suppressor is about to go
//!   into ALARM.
//!
//! Held actions are released ([`CompositeOutcome::released`]) when their wait or extension
//! ends with the suppressor out of ALARM; a newer transition replaces them unreleased. So
//! an alarm that outlasts a maintenance window still notifies once the window (plus its
//! extension) is over, and one that clears during it never does. Nor does its OK: actions
//! that would repeat the last state notified are dropped.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::aws::{AccountContext, aws_timestamp, composite_reason_timestamp};
use crate::error::AlarmError;
use crate::model::{ActionsSuppressedBy, StateValue};
use crate::state::{
    AlarmKind, AlarmStatus, StateChange, StateSnapshot, Suppression, TriggeringChild,
};
use crate::validate::CompositeAlarmSpec;

/// What a composite alarm knows about another alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildState {
    pub arn: String,
    pub value: StateValue,
    /// When it entered `value`.
    pub timestamp: DateTime<Utc>,
    /// The state before `value`.
    pub previous: Option<StateValue>,
}

/// Looks up alarms by name.
pub trait ChildStates {
    fn child(&self, name: &str) -> Option<ChildState>;
}

impl<F: Fn(&str) -> Option<ChildState>> ChildStates for F {
    fn child(&self, name: &str) -> Option<ChildState> {
        self(name)
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Pending {
    change: StateChange,
    by: ActionsSuppressedBy,
    until: Option<DateTime<Utc>>,
}

/// A composite alarm's state and its held actions.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeStatus {
    pub status: AlarmStatus,
    pending: Option<Pending>,
    /// The state whose actions ran last (suppressed alarms only).
    last_notified: Option<StateValue>,
}

impl CompositeStatus {
    pub fn new(created: DateTime<Utc>) -> CompositeStatus {
        CompositeStatus::with_status(AlarmStatus::new(created))
    }

    /// Resumes from a known state.
    pub fn with_status(status: AlarmStatus) -> CompositeStatus {
        CompositeStatus {
            status,
            pending: None,
            last_notified: None,
        }
    }

    pub fn state(&self) -> StateValue {
        self.status.state()
    }

    /// `ActionsSuppressedBy` / `ActionsSuppressedReason` while actions are held.
    pub fn actions_suppressed(&self) -> Option<Suppression> {
        self.pending.as_ref().map(|p| Suppression::new(p.by))
    }
}

/// One evaluation of a composite alarm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompositeOutcome {
    pub change: Option<StateChange>,
    /// Actions of an earlier transition whose wait or extension period just ended.
    pub released: Option<StateChange>,
}

#[derive(Serialize)]
struct ReasonData<'a> {
    #[serde(rename = "triggeringAlarms")]
    triggering_alarms: Vec<TriggeringAlarm<'a>>,
}

#[derive(Serialize)]
struct TriggeringAlarm<'a> {
    arn: &'a str,
    state: TriggeringState,
}

#[derive(Serialize)]
struct TriggeringState {
    value: &'static str,
    timestamp: String,
}

fn reason_data(children: &[TriggeringChild]) -> String {
    let data = ReasonData {
        triggering_alarms: children
            .iter()
            .map(|c| TriggeringAlarm {
                arn: &c.arn,
                state: TriggeringState {
                    value: c.value.as_str(),
                    timestamp: aws_timestamp(c.timestamp),
                },
            })
            .collect(),
    };
    serde_json::to_string(&data).unwrap_or_else(|_| "{\"triggeringAlarms\":[]}".into())
}

/// Evaluates the rule at `now` and applies the result, including suppression.
pub fn evaluate_composite(
    spec: &CompositeAlarmSpec,
    status: &mut CompositeStatus,
    children: &dyn ChildStates,
    ctx: &AccountContext,
    now: DateTime<Utc>,
) -> CompositeOutcome {
    let names = spec.children();
    let lookup = |name: &str| -> ChildState {
        children.child(name).unwrap_or_else(|| ChildState {
            arn: ctx.alarm_arn(name),
            value: StateValue::InsufficientData,
            timestamp: now,
            previous: None,
        })
    };
    let states: BTreeMap<&str, ChildState> =
        names.iter().map(|n| (n.as_str(), lookup(n))).collect();
    let holds = spec.rule.evaluate(&|name| {
        states
            .get(name)
            .map_or(StateValue::InsufficientData, |c| c.value)
    });
    let value = if holds {
        StateValue::Alarm
    } else {
        StateValue::Ok
    };
    let suppressor = spec.suppressor.as_deref().map(lookup);
    let mut outcome = CompositeOutcome::default();

    if value != status.state() {
        let first =
            status.state() == StateValue::InsufficientData && status.status.history().is_empty();
        let as_child = |c: &ChildState| TriggeringChild {
            arn: c.arn.clone(),
            value: c.value,
            timestamp: c.timestamp,
        };
        let (reason, triggering) = if first {
            let own_arn = spec
                .definition
                .alarm_arn
                .clone()
                .unwrap_or_else(|| ctx.alarm_arn(spec.name()));
            (
                format!("{own_arn} was created and its alarm rule evaluates to {value}"),
                names
                    .iter()
                    .filter_map(|n| states.get(n.as_str()))
                    .map(as_child)
                    .collect(),
            )
        } else {
            // The child that changed last; ties go to the first in rule order.
            let mut latest: Option<&ChildState> = None;
            for n in &names {
                if let Some(c) = states.get(n.as_str())
                    && latest.is_none_or(|l| c.timestamp > l.timestamp)
                {
                    latest = Some(c);
                }
            }
            match latest {
                Some(c) => (
                    format!(
                        "{} transitioned to {} at {}",
                        c.arn,
                        c.value,
                        composite_reason_timestamp(c.timestamp)
                    ),
                    vec![as_child(c)],
                ),
                None => (format!("alarm rule evaluates to {value}"), Vec::new()),
            }
        };
        let new = StateSnapshot {
            value,
            reason,
            reason_data: Some(reason_data(&triggering)),
            timestamp: now,
        };
        if let Some(old) = status.status.transition(new.clone()) {
            let def = &spec.definition;
            let actions = if def.actions_enabled() {
                def.actions_for(value).to_vec()
            } else {
                Vec::new()
            };
            let mut change = StateChange {
                alarm_name: def.alarm_name.clone(),
                kind: AlarmKind::Composite,
                old,
                new,
                actions,
                suppression: None,
                triggering_children: triggering,
            };
            status.pending = None;
            if let Some(s) = &suppressor
                && !change.actions.is_empty()
            {
                match hold(spec, s, now) {
                    Some((by, until)) => {
                        status.pending = Some(Pending {
                            change: change.clone(),
                            by,
                            until,
                        });
                        change.actions = Vec::new();
                        change.suppression = Some(Suppression::new(by));
                    }
                    None if status.last_notified == Some(value) => change.actions = Vec::new(),
                    None => status.last_notified = Some(value),
                }
            }
            outcome.change = Some(change);
            return outcome;
        }
    }

    // No transition: move held actions along.
    if let (Some(p), Some(s)) = (status.pending.as_mut(), &suppressor) {
        if s.value == StateValue::Alarm {
            p.by = ActionsSuppressedBy::Alarm;
            p.until = None;
        } else if p.by == ActionsSuppressedBy::Alarm {
            p.by = ActionsSuppressedBy::ExtensionPeriod;
            p.until = Some(s.timestamp + Duration::seconds(i64::from(spec.extension_period)));
        }
        if p.until.is_some_and(|u| now >= u) {
            release(status, &mut outcome);
        }
    } else if status.pending.is_some() {
        // The suppressor was removed from the definition: release.
        release(status, &mut outcome);
    }
    outcome
}

/// Whether the actions of a transition at `now` are held, by what and until when.
fn hold(
    spec: &CompositeAlarmSpec,
    s: &ChildState,
    now: DateTime<Utc>,
) -> Option<(ActionsSuppressedBy, Option<DateTime<Utc>>)> {
    let extension_end = s.timestamp + Duration::seconds(i64::from(spec.extension_period));
    if s.value == StateValue::Alarm {
        Some((ActionsSuppressedBy::Alarm, None))
    } else if s.previous == Some(StateValue::Alarm) && now < extension_end {
        Some((ActionsSuppressedBy::ExtensionPeriod, Some(extension_end)))
    } else if spec.wait_period > 0 {
        Some((
            ActionsSuppressedBy::WaitPeriod,
            Some(now + Duration::seconds(i64::from(spec.wait_period))),
        ))
    } else {
        None
    }
}

/// Releases held actions, unless they would repeat the last notification (the alarm went
/// to ALARM and back while suppressed: nobody heard of the ALARM, so no OK either).
fn release(status: &mut CompositeStatus, outcome: &mut CompositeOutcome) {
    if let Some(p) = status.pending.take()
        && status.last_notified != Some(p.change.new.value)
    {
        status.last_notified = Some(p.change.new.value);
        outcome.released = Some(p.change);
    }
}

/// Composite alarms that reach themselves through other composites; each cycle once,
/// as the names along it (first name repeated at the end).
pub fn find_cycles(composites: &[CompositeAlarmSpec]) -> Vec<Vec<String>> {
    let edges: BTreeMap<&str, Vec<String>> = composites
        .iter()
        .map(|c| (c.name(), c.children()))
        .collect();
    let mut cycles = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in edges.keys() {
        let mut path: Vec<&str> = Vec::new();
        visit(start, &edges, &mut path, &mut done, &mut cycles);
    }
    cycles
}

fn visit<'a>(
    node: &'a str,
    edges: &'a BTreeMap<&'a str, Vec<String>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
    cycles: &mut Vec<Vec<String>>,
) {
    if let Some(i) = path.iter().position(|p| *p == node) {
        let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
        cycle.push(node.to_string());
        cycles.push(cycle);
        return;
    }
    if done.contains(node) {
        return;
    }
    let Some((key, children)) = edges.get_key_value(node) else {
        return;
    };
    path.push(key);
    for child in children {
        visit(child, edges, path, done, cycles);
    }
    path.pop();
    done.insert(key);
}

/// Composite alarms ordered so that every composite comes after the composites it reads;
/// alarms on a cycle are left out and reported.
pub fn evaluation_order(composites: &[CompositeAlarmSpec]) -> (Vec<usize>, Vec<AlarmError>) {
    let cycles = find_cycles(composites);
    let on_cycle: BTreeSet<&str> = cycles.iter().flatten().map(String::as_str).collect();
    let index: BTreeMap<&str, usize> = composites
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name(), i))
        .collect();
    let mut order = Vec::new();
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    // Depends on a cycle member (directly or not): skipped too, it could never settle.
    fn blocked(
        i: usize,
        composites: &[CompositeAlarmSpec],
        index: &BTreeMap<&str, usize>,
        on_cycle: &BTreeSet<&str>,
        seen: &mut BTreeSet<usize>,
    ) -> bool {
        if !seen.insert(i) {
            return false;
        }
        let c = &composites[i];
        on_cycle.contains(c.name())
            || c.children().iter().any(|n| {
                index
                    .get(n.as_str())
                    .is_some_and(|&j| blocked(j, composites, index, on_cycle, seen))
            })
    }
    fn place(
        i: usize,
        composites: &[CompositeAlarmSpec],
        index: &BTreeMap<&str, usize>,
        placed: &mut BTreeSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if !placed.insert(i) {
            return;
        }
        for n in composites[i].children() {
            if let Some(&j) = index.get(n.as_str()) {
                place(j, composites, index, placed, order);
            }
        }
        order.push(i);
    }
    let mut skipped = BTreeSet::new();
    for i in 0..composites.len() {
        if blocked(i, composites, &index, &on_cycle, &mut BTreeSet::new()) {
            skipped.insert(i);
        }
    }
    for i in 0..composites.len() {
        if !skipped.contains(&i) {
            place(i, composites, &index, &mut placed, &mut order);
        }
    }
    let errors = cycles
        .into_iter()
        .map(|path| AlarmError::Cycle { path })
        .collect();
    (order, errors)
}

#[cfg(test)]
mod tests;
