//! Composite alarms: AWS reason text, suppression timelines, cycles.

use super::*;
use crate::model::CompositeAlarm;
use std::cell::RefCell;

fn at(s: i64) -> DateTime<Utc> {
    // Friday 22 July 2022 15:57:45 UTC.
    DateTime::<Utc>::from_timestamp(1_658_505_465 + s, 0).expect("valid")
}

fn ctx() -> AccountContext {
    AccountContext::new("123456789012", "us-east-1")
}

fn spec(rule: &str, suppressor: Option<&str>) -> CompositeAlarmSpec {
    CompositeAlarm {
        alarm_name: "Main".into(),
        alarm_rule: rule.into(),
        alarm_actions: vec!["arn:aws:sns:us-east-1:123456789012:page".into()],
        ok_actions: vec!["arn:aws:sns:us-east-1:123456789012:ok".into()],
        actions_suppressor: suppressor.map(str::to_string),
        actions_suppressor_wait_period: suppressor.map(|_| 120),
        actions_suppressor_extension_period: suppressor.map(|_| 180),
        ..CompositeAlarm::default()
    }
    .validate()
    .expect("valid")
}

/// Child states that tests change as time passes.
struct World {
    states: RefCell<BTreeMap<String, ChildState>>,
}

impl World {
    fn new(children: &[&str], t: DateTime<Utc>) -> World {
        let w = World {
            states: RefCell::new(BTreeMap::new()),
        };
        for c in children {
            w.set(c, StateValue::Ok, t);
        }
        w
    }

    fn set(&self, name: &str, value: StateValue, t: DateTime<Utc>) {
        let mut s = self.states.borrow_mut();
        let previous = s.get(name).map(|c| c.value);
        s.insert(
            name.to_string(),
            ChildState {
                arn: ctx().alarm_arn(name),
                value,
                timestamp: t,
                previous,
            },
        );
    }
}

impl ChildStates for World {
    fn child(&self, name: &str) -> Option<ChildState> {
        self.states.borrow().get(name).cloned()
    }
}

#[test]
fn first_evaluation_then_transitions_with_aws_reasons() {
    let s = spec(
        "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
        None,
    );
    let w = World::new(
        &["ServerCpuTooHigh", "TotalNetworkTrafficTooHigh"],
        at(-1000),
    );
    let mut st = CompositeStatus::new(at(-100));
    let first = evaluate_composite(&s, &mut st, &w, &ctx(), at(-90))
        .change
        .expect("first");
    assert_eq!(first.old.value, StateValue::InsufficientData);
    assert_eq!(
        first.new.reason,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Main was created and its alarm rule evaluates to OK"
    );
    assert_eq!(
        first.new.reason_data.as_deref(),
        Some(
            "{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\",\
             \"state\":{\"value\":\"OK\",\"timestamp\":\"2022-07-22T15:41:05.000+0000\"}},\
             {\"arn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:TotalNetworkTrafficTooHigh\",\
             \"state\":{\"value\":\"OK\",\"timestamp\":\"2022-07-22T15:41:05.000+0000\"}}]}"
        )
    );
    assert_eq!(
        first.actions,
        vec!["arn:aws:sns:us-east-1:123456789012:ok".to_string()]
    );
    assert_eq!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(-30)),
        CompositeOutcome::default()
    );
    w.set("ServerCpuTooHigh", StateValue::Alarm, at(0));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(1))
        .change
        .expect("to alarm");
    assert_eq!(
        c.new.reason,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC"
    );
    assert_eq!(c.triggering_children.len(), 1);
    assert_eq!(
        c.actions,
        vec!["arn:aws:sns:us-east-1:123456789012:page".to_string()]
    );
    assert_eq!(st.status.history().len(), 2);
}

#[test]
fn undefined_children_read_as_insufficient_data() {
    let s = spec("INSUFFICIENT_DATA(ghost)", None);
    let w = World::new(&[], at(0));
    let mut st = CompositeStatus::new(at(0));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(1))
        .change
        .expect("first");
    assert_eq!(c.new.value, StateValue::Alarm);
}

#[test]
fn suppressed_while_suppressor_in_alarm_then_released_after_extension() {
    let s = spec("ALARM(a)", Some("maint"));
    let w = World::new(&["a", "maint"], at(-1000));
    let mut st = CompositeStatus::new(at(-1000));
    evaluate_composite(&s, &mut st, &w, &ctx(), at(-900));
    w.set("maint", StateValue::Alarm, at(0));
    w.set("a", StateValue::Alarm, at(10));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(10))
        .change
        .expect("alarm");
    assert!(c.actions.is_empty());
    assert_eq!(
        c.suppression,
        Some(Suppression::new(ActionsSuppressedBy::Alarm))
    );
    assert_eq!(
        c.suppression.as_ref().map(|s| s.reason.as_str()),
        Some("Actions suppressed by Alarm")
    );
    assert_eq!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(600)),
        CompositeOutcome::default()
    );
    w.set("maint", StateValue::Ok, at(700));
    let o = evaluate_composite(&s, &mut st, &w, &ctx(), at(720));
    assert_eq!(o, CompositeOutcome::default());
    assert_eq!(
        st.actions_suppressed(),
        Some(Suppression::new(ActionsSuppressedBy::ExtensionPeriod))
    );
    let o = evaluate_composite(&s, &mut st, &w, &ctx(), at(880));
    let released = o.released.expect("released after 180 s extension");
    assert_eq!(
        released.actions,
        vec!["arn:aws:sns:us-east-1:123456789012:page".to_string()]
    );
    assert_eq!(st.actions_suppressed(), None);
}

#[test]
fn wait_period_then_suppressor_alarm_keeps_actions_suppressed() {
    let s = spec("ALARM(a)", Some("maint"));
    let w = World::new(&["a", "maint"], at(-1000));
    let mut st = CompositeStatus::new(at(-1000));
    evaluate_composite(&s, &mut st, &w, &ctx(), at(-900));
    w.set("a", StateValue::Alarm, at(0));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(0))
        .change
        .expect("alarm");
    assert_eq!(
        c.suppression,
        Some(Suppression::new(ActionsSuppressedBy::WaitPeriod))
    );
    w.set("maint", StateValue::Alarm, at(60));
    assert_eq!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(60)),
        CompositeOutcome::default()
    );
    assert_eq!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(500)),
        CompositeOutcome::default()
    );
    assert_eq!(
        st.actions_suppressed(),
        Some(Suppression::new(ActionsSuppressedBy::Alarm))
    );
    // The alarm clears during maintenance: its ALARM actions are dropped, the OK is held.
    w.set("a", StateValue::Ok, at(600));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(600))
        .change
        .expect("ok");
    assert!(c.actions.is_empty());
}

#[test]
fn wait_period_expires_without_suppressor() {
    let s = spec("ALARM(a)", Some("maint"));
    let w = World::new(&["a", "maint"], at(-1000));
    let mut st = CompositeStatus::new(at(-1000));
    evaluate_composite(&s, &mut st, &w, &ctx(), at(-900));
    w.set("a", StateValue::Alarm, at(0));
    evaluate_composite(&s, &mut st, &w, &ctx(), at(0));
    assert_eq!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(119)).released,
        None
    );
    let r = evaluate_composite(&s, &mut st, &w, &ctx(), at(120))
        .released
        .expect("released");
    assert_eq!(r.new.value, StateValue::Alarm);
    assert_eq!(r.new.timestamp, at(0), "the original transition");
}

#[test]
fn transition_during_extension_is_suppressed_by_extension() {
    let s = spec("ALARM(a)", Some("maint"));
    let w = World::new(&["a", "maint"], at(-1000));
    let mut st = CompositeStatus::new(at(-1000));
    evaluate_composite(&s, &mut st, &w, &ctx(), at(-900));
    w.set("maint", StateValue::Alarm, at(-500));
    w.set("maint", StateValue::Ok, at(-100));
    w.set("a", StateValue::Alarm, at(0));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(0))
        .change
        .expect("alarm");
    assert_eq!(
        c.suppression,
        Some(Suppression::new(ActionsSuppressedBy::ExtensionPeriod))
    );
    assert!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(79))
            .released
            .is_none()
    );
    assert!(
        evaluate_composite(&s, &mut st, &w, &ctx(), at(80))
            .released
            .is_some()
    );
}

#[test]
fn disabled_actions_are_never_suppressed_or_run() {
    let mut s = spec("ALARM(a)", Some("maint"));
    s.definition.actions_enabled = Some(false);
    let w = World::new(&["a", "maint"], at(-1000));
    let mut st = CompositeStatus::new(at(-1000));
    let c = evaluate_composite(&s, &mut st, &w, &ctx(), at(0))
        .change
        .expect("first");
    assert!(c.actions.is_empty() && c.suppression.is_none());
}

fn named(name: &str, rule: &str) -> CompositeAlarmSpec {
    CompositeAlarm {
        alarm_name: name.into(),
        alarm_rule: rule.into(),
        ..CompositeAlarm::default()
    }
    .validate()
    .expect("valid")
}

#[test]
fn cycles_are_found_and_skipped() {
    let specs = vec![
        named("top", "ALARM(x) OR ALARM(mid)"),
        named("mid", "ALARM(low)"),
        named("low", "ALARM(m1)"),
        named("a", "ALARM(b)"),
        named("b", "ALARM(c) AND ALARM(m2)"),
        named("c", "ALARM(a)"),
        named("above_cycle", "ALARM(a)"),
    ];
    let cycles = find_cycles(&specs);
    assert_eq!(
        cycles,
        vec![vec!["a".to_string(), "b".into(), "c".into(), "a".into()]]
    );
    let (order, errors) = evaluation_order(&specs);
    let names: Vec<&str> = order.iter().map(|&i| specs[i].name()).collect();
    assert_eq!(names, vec!["low", "mid", "top"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "composite alarms form a cycle: a -> b -> c -> a"
    );
}
