//! Replay: half an hour of per-minute samples fed as a simulated clock advances, a metric
//! alarm (2 out of 3, notBreaching), a "maintenance" alarm and a composite alarm suppressed
//! by it; every transition and every released action is checked, in order.

use chrono::{DateTime, Duration, TimeZone, Utc};
use flowwatch_alarm::model::{ActionsSuppressedBy, CompositeAlarm, StateValue};
use flowwatch_alarm::notify::sns;
use flowwatch_alarm::state::AlarmKind;
use flowwatch_alarm::{
    AccountContext, AlarmDefinition, AlarmEvent, Clock, ComparisonOperator, Dimension,
    InMemorySource, ManualClock, MetricAlarm, MetricRef, Monitor, Statistic, TreatMissingData,
};

const PAGE: &str = "arn:aws:sns:us-east-1:123456789012:page";
const OK: &str = "arn:aws:sns:us-east-1:123456789012:ok";
const REJECTS: &str = "arn:aws:sns:us-east-1:123456789012:rejects";

/// Monday 4 March 2024 10:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0)
        .single()
        .expect("valid")
}

fn rejects_metric() -> MetricRef {
    MetricRef::new(
        "Flowwatch/VPC",
        "RejectedFlows",
        [Dimension::new("LogGroup", "/aws/vpc/flows")],
    )
}

fn maintenance_metric() -> MetricRef {
    MetricRef::new("Flowwatch/Ops", "Maintenance", [])
}

fn alarms() -> (MetricAlarm, MetricAlarm, CompositeAlarm) {
    let rejects = MetricAlarm {
        alarm_name: "rejects-high".into(),
        alarm_actions: vec![REJECTS.into()],
        namespace: Some("Flowwatch/VPC".into()),
        metric_name: Some("RejectedFlows".into()),
        dimensions: vec![Dimension::new("LogGroup", "/aws/vpc/flows")],
        statistic: Some(Statistic::Sum),
        period: Some(60),
        evaluation_periods: 3,
        datapoints_to_alarm: Some(2),
        threshold: Some(10.0),
        comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold),
        treat_missing_data: Some(TreatMissingData::NotBreaching),
        ..MetricAlarm::default()
    };
    let maintenance = MetricAlarm {
        alarm_name: "maintenance".into(),
        namespace: Some("Flowwatch/Ops".into()),
        metric_name: Some("Maintenance".into()),
        statistic: Some(Statistic::Maximum),
        period: Some(60),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        threshold: Some(1.0),
        comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold),
        ..MetricAlarm::default()
    };
    let incident = CompositeAlarm {
        alarm_name: "incident".into(),
        alarm_rule: "ALARM(\"rejects-high\")".into(),
        alarm_actions: vec![PAGE.into()],
        ok_actions: vec![OK.into()],
        actions_suppressor: Some("maintenance".into()),
        actions_suppressor_wait_period: Some(60),
        actions_suppressor_extension_period: Some(120),
        ..CompositeAlarm::default()
    };
    (rejects, maintenance, incident)
}

/// Rejected flows per minute (`None`: nothing reported) and the maintenance flag.
fn series(minute: i64) -> (Option<f64>, f64) {
    let rejects = match minute {
        0..=4 => Some(2.0),
        5 | 6 => Some(15.0),
        7..=9 => Some(2.0),
        10..=14 | 16 => None,
        15 | 17 => Some(30.0),
        18..=22 => Some(1.0),
        _ => Some(50.0),
    };
    let maintenance = if (16..=18).contains(&minute) || (22..=25).contains(&minute) {
        1.0
    } else {
        0.0
    };
    (rejects, maintenance)
}

/// (minute:second of the clock, alarm, old, new, actions run now, suppressed by, released?)
type Expected = (
    &'static str,
    &'static str,
    StateValue,
    StateValue,
    Vec<&'static str>,
    Option<ActionsSuppressedBy>,
    bool,
);

#[test]
fn replay_checks_every_transition() {
    use ActionsSuppressedBy::{Alarm as ByAlarm, ExtensionPeriod, WaitPeriod};
    use StateValue::{Alarm, InsufficientData as Insufficient, Ok as Good};

    let clock = ManualClock::new(t0());
    let ctx = AccountContext::new("123456789012", "us-east-1");
    let mut monitor = Monitor::new(&clock, ctx.clone());
    let (rejects, maintenance, incident) = alarms();
    monitor.put_metric_alarm(rejects.clone()).expect("valid");
    monitor.put_metric_alarm(maintenance).expect("valid");
    monitor
        .put_composite_alarm(incident.clone())
        .expect("valid");
    let mut source = InMemorySource::new();

    let mut seen = Vec::new();
    for minute in 0..30 {
        // The minute's samples arrive at :30; evaluation runs 5 s into the next minute.
        clock.set(t0() + Duration::minutes(minute) + Duration::seconds(30));
        let (r, m) = series(minute);
        if let Some(r) = r {
            source.put(&rejects_metric(), clock.now(), r);
        }
        source.put(&maintenance_metric(), clock.now(), m);
        clock.set(t0() + Duration::minutes(minute + 1) + Duration::seconds(5));
        for event in monitor.evaluate(&source) {
            let released = matches!(event, AlarmEvent::ReleasedActions(_));
            let c = event.change().clone();
            seen.push((clock.now(), c, released));
        }
        // A second evaluation in the same minute changes nothing.
        assert!(monitor.evaluate(&source).is_empty());
    }

    let expected: Vec<Expected> = vec![
        (
            "01:05",
            "rejects-high",
            Insufficient,
            Good,
            vec![],
            None,
            false,
        ),
        (
            "01:05",
            "maintenance",
            Insufficient,
            Good,
            vec![],
            None,
            false,
        ),
        (
            "01:05",
            "incident",
            Insufficient,
            Good,
            vec![],
            Some(WaitPeriod),
            false,
        ),
        (
            "02:05",
            "incident",
            Insufficient,
            Good,
            vec![OK],
            None,
            true,
        ),
        (
            "07:05",
            "rejects-high",
            Good,
            Alarm,
            vec![REJECTS],
            None,
            false,
        ),
        (
            "07:05",
            "incident",
            Good,
            Alarm,
            vec![],
            Some(WaitPeriod),
            false,
        ),
        ("08:05", "incident", Good, Alarm, vec![PAGE], None, true),
        ("09:05", "rejects-high", Alarm, Good, vec![], None, false),
        (
            "09:05",
            "incident",
            Alarm,
            Good,
            vec![],
            Some(WaitPeriod),
            false,
        ),
        ("10:05", "incident", Alarm, Good, vec![OK], None, true),
        ("17:05", "maintenance", Good, Alarm, vec![], None, false),
        (
            "18:05",
            "rejects-high",
            Good,
            Alarm,
            vec![REJECTS],
            None,
            false,
        ),
        (
            "18:05",
            "incident",
            Good,
            Alarm,
            vec![],
            Some(ByAlarm),
            false,
        ),
        ("20:05", "rejects-high", Alarm, Good, vec![], None, false),
        ("20:05", "maintenance", Alarm, Good, vec![], None, false),
        (
            "20:05",
            "incident",
            Alarm,
            Good,
            vec![],
            Some(ExtensionPeriod),
            false,
        ),
        // 22:05: the held OK is dropped, the page for 18:05 never went out.
        ("23:05", "maintenance", Good, Alarm, vec![], None, false),
        (
            "25:05",
            "rejects-high",
            Good,
            Alarm,
            vec![REJECTS],
            None,
            false,
        ),
        (
            "25:05",
            "incident",
            Good,
            Alarm,
            vec![],
            Some(ByAlarm),
            false,
        ),
        ("27:05", "maintenance", Alarm, Good, vec![], None, false),
        ("29:05", "incident", Good, Alarm, vec![PAGE], None, true),
    ];
    let got: Vec<String> = seen
        .iter()
        .map(|(at, c, released)| {
            format!(
                "{} {} {}->{} {:?} {:?} {}",
                at.format("%M:%S"),
                c.alarm_name,
                c.old.value,
                c.new.value,
                c.actions,
                c.suppression.as_ref().map(|s| s.by),
                released
            )
        })
        .collect();
    let want: Vec<String> = expected
        .iter()
        .map(|(at, name, old, new, actions, by, released)| {
            format!("{at} {name} {old}->{new} {actions:?} {by:?} {released}")
        })
        .collect();
    assert_eq!(got, want);

    // Reasons and history along the way.
    let rejects_changes: Vec<_> = seen
        .iter()
        .filter(|(_, c, _)| c.alarm_name == "rejects-high")
        .collect();
    assert_eq!(
        rejects_changes[1].1.new.reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [15.0 (04/03/24 10:06:00), 15.0 (04/03/24 10:05:00)] \
         were greater than or equal to the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    assert_eq!(
        rejects_changes[2].1.new.reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (04/03/24 10:08:00), 2.0 (04/03/24 10:07:00)] \
         were not greater than or equal to the threshold (10.0) (minimum 2 datapoints for ALARM -> OK transition)."
    );
    // 10:18: two breaching datapoints around a gap, the gap not needed.
    assert_eq!(
        rejects_changes[3].1.new.reason,
        "Threshold Crossed: 2 datapoints were received for 3 periods and 1 missing datapoint was treated as [NonBreaching]."
    );
    let incident_changes: Vec<_> = seen
        .iter()
        .filter(|(_, c, r)| c.alarm_name == "incident" && !r)
        .collect();
    assert_eq!(
        incident_changes[0].1.new.reason,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:incident was created and its alarm rule evaluates to OK"
    );
    assert_eq!(
        incident_changes[1].1.new.reason,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:rejects-high transitioned to ALARM at Monday 04 March, 2024 10:07:05 UTC"
    );
    assert_eq!(incident_changes[1].1.kind, AlarmKind::Composite);
    let history = monitor.status("rejects-high").expect("exists").history();
    assert_eq!(history.len(), 6);
    assert_eq!(history[1].summary(), "Alarm updated from OK to ALARM");
    assert_eq!(monitor.state("incident"), Some(Alarm));

    // The released page carries the original transition, ready for SNS.
    let (_, page, _) = seen.last().expect("events");
    let msg: serde_json::Value = serde_json::from_str(&sns::message(
        AlarmDefinition::Composite(&incident),
        page,
        &ctx,
    ))
    .expect("json");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["StateChangeTime"], "2024-03-04T10:25:05.000+0000");
    assert_eq!(
        msg["TriggeringChildren"][0]["Arn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:rejects-high"
    );
}

#[test]
fn set_alarm_state_holds_until_the_next_evaluation() {
    let clock = ManualClock::new(t0() + Duration::seconds(5));
    let mut monitor = Monitor::new(&clock, AccountContext::new("1", "us-east-1"));
    let (rejects, _, _) = alarms();
    monitor.put_metric_alarm(rejects).expect("valid");
    let mut source = InMemorySource::new();
    source.put(&rejects_metric(), t0() - Duration::seconds(30), 1.0);
    assert_eq!(
        monitor.evaluate(&source).len(),
        1,
        "INSUFFICIENT_DATA -> OK"
    );
    let forced = monitor
        .set_alarm_state("rejects-high", StateValue::Alarm, "testing the pager", None)
        .expect("exists")
        .expect("a transition");
    assert_eq!(forced.change().actions, vec![REJECTS.to_string()]);
    assert_eq!(monitor.state("rejects-high"), Some(StateValue::Alarm));
    // Same minute: not due again, the forced state holds.
    assert!(monitor.evaluate(&source).is_empty());
    assert_eq!(monitor.state("rejects-high"), Some(StateValue::Alarm));
    clock.advance(Duration::minutes(1));
    let back = monitor.evaluate(&source);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].change().new.value, StateValue::Ok);
    assert!(
        monitor
            .set_alarm_state("nope", StateValue::Ok, "x", None)
            .is_err()
    );
}

#[test]
fn composite_cycles_are_refused() {
    let clock = ManualClock::new(t0());
    let mut monitor = Monitor::new(&clock, AccountContext::new("1", "us-east-1"));
    let c = |name: &str, rule: &str| CompositeAlarm {
        alarm_name: name.into(),
        alarm_rule: rule.into(),
        ..CompositeAlarm::default()
    };
    monitor
        .put_composite_alarm(c("a", "ALARM(b)"))
        .expect("no cycle yet");
    let e = monitor
        .put_composite_alarm(c("b", "ALARM(a)"))
        .expect_err("cycle");
    assert_eq!(e.to_string(), "composite alarms form a cycle: a -> b -> a");
    assert!(monitor.composite_alarm("b").is_none());
    let mut loaded = Monitor::new(&clock, AccountContext::new("1", "us-east-1"));
    let errors = loaded.load(&flowwatch_alarm::DescribeAlarmsOutput {
        metric_alarms: Vec::new(),
        composite_alarms: vec![c("a", "ALARM(b)"), c("b", "ALARM(a)"), c("ok", "TRUE")],
    });
    assert_eq!(errors.len(), 1);
    let events = loaded.evaluate(&InMemorySource::new());
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.change().alarm_name.as_str())
        .collect();
    assert_eq!(names, vec!["ok"], "alarms on a cycle are not evaluated");
}
