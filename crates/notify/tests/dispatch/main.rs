//! End-to-end delivery through a real dispatcher, to a loopback HTTP server (`server.rs`)
//! and to `sh` commands: payloads and headers, retries and permanent failures, restarts,
//! and that `submit` never waits for a target. Backoffs are milliseconds; time bounds are
//! generous (seconds) so a loaded machine cannot make a test flaky.

mod server;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flowwatch_alarm::notify::AlarmDefinition;
use flowwatch_alarm::state::{AlarmKind, StateSnapshot};
use flowwatch_alarm::{AccountContext, Dimension, MetricAlarm, StateChange, StateValue};
use flowwatch_notify::{
    AlertmanagerTarget, Backoff, CommandTarget, Delivery, Dispatcher, Notification, Options,
    Outcome, Submitted, Target, Targets, WebhookTarget, deliveries,
};
use server::Server;

const OPS: &str = "arn:aws:sns:us-east-2:123456789012:ops";
const PAGER: &str = "arn:aws:sns:us-east-2:123456789012:pager";
const SCRIPT: &str = "arn:aws:sns:us-east-2:123456789012:script";
const LIMIT: Duration = Duration::from_secs(20);

fn at(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_747_187_891 + s, 589_000_000).expect("valid")
}

fn alarm(actions: &[&str]) -> MetricAlarm {
    MetricAlarm {
        alarm_name: "RejectedSSH".into(),
        metric_name: Some("Rejected".into()),
        namespace: Some("Flowwatch".into()),
        dimensions: vec![Dimension::new("ENI", "eni-1")],
        alarm_actions: actions.iter().map(|a| a.to_string()).collect(),
        ok_actions: actions.iter().map(|a| a.to_string()).collect(),
        evaluation_periods: 1,
        ..MetricAlarm::default()
    }
}

/// The transition `old -> new` at `t` seconds, running `actions`.
fn change(old: StateValue, new: StateValue, t: i64, actions: &[&str]) -> StateChange {
    let snap = |value, t| StateSnapshot {
        value,
        reason: format!("Threshold Crossed: went {value}"),
        reason_data: None,
        timestamp: at(t),
    };
    StateChange {
        alarm_name: "RejectedSSH".into(),
        kind: AlarmKind::Metric,
        old: snap(old, t - 60),
        new: snap(new, t),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        suppression: None,
        triggering_children: vec![],
    }
}

fn ctx() -> AccountContext {
    AccountContext::new("123456789012", "us-east-2")
}

/// The notification of `old -> new` at `t` for `target`.
fn notification(
    targets: &Targets,
    target: &str,
    old: StateValue,
    new: StateValue,
    t: i64,
) -> Notification {
    let a = alarm(&[target]);
    let c = change(old, new, t, &[target]);
    let mut ns = Notification::for_transition(AlarmDefinition::Metric(&a), &c, &ctx(), targets);
    assert_eq!(ns.len(), 1);
    ns.remove(0)
}

fn alarm_notification(targets: &Targets, target: &str) -> Notification {
    notification(targets, target, StateValue::Ok, StateValue::Alarm, 0)
}

fn webhook(arn: &str, url: String, max_attempts: u32) -> Target {
    Target {
        arn: arn.into(),
        webhook: Some(WebhookTarget {
            url,
            headers: [("Authorization".to_string(), "Bearer t0k3n".to_string())].into(),
        }),
        timeout_seconds: Some(2.0),
        max_attempts: Some(max_attempts),
        ..Target::default()
    }
}

fn command(arn: &str, script: &str, timeout: f64, max_attempts: u32) -> Target {
    Target {
        arn: arn.into(),
        command: Some(CommandTarget {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }),
        timeout_seconds: Some(timeout),
        max_attempts: Some(max_attempts),
        ..Target::default()
    }
}

fn fast() -> Options {
    Options {
        backoff: Backoff {
            initial: Duration::from_millis(10),
            factor: 2,
            max: Duration::from_millis(80),
            jitter: false,
        },
        ..Options::default()
    }
}

fn open(dir: &Path, targets: &Targets) -> Dispatcher {
    Dispatcher::open_with(dir, targets.clone(), fast()).expect("open dispatcher")
}

/// Submits `ns`, waits until nothing is pending, shuts down, returns the log.
fn run(dir: &Path, targets: &Targets, ns: Vec<Notification>) -> Vec<Delivery> {
    let d = open(dir, targets);
    for n in ns {
        assert_eq!(d.submit(n).expect("submit"), Submitted::Queued);
    }
    assert!(d.wait_idle(Instant::now() + LIMIT), "deliveries finished");
    assert_eq!(
        d.shutdown(Instant::now() + LIMIT).expect("shutdown"),
        0,
        "nothing left pending"
    );
    deliveries(dir).expect("log")
}

fn outcomes(log: &[Delivery]) -> Vec<(Outcome, u32)> {
    log.iter().map(|d| (d.outcome, d.attempts)).collect()
}

#[test]
fn webhook_posts_the_sns_message_with_subject_id_and_headers() {
    let server = Server::start();
    let targets = Targets::new(&[webhook(OPS, server.url("/hook?team=net"), 3)]).expect("valid");
    let n = alarm_notification(&targets, OPS);
    let log = run(
        tempfile::tempdir().expect("tmp").path(),
        &targets,
        vec![n.clone()],
    );
    assert_eq!(outcomes(&log), [(Outcome::Delivered, 1)]);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/hook?team=net")
    );
    assert_eq!(
        r.body, n.sns_message,
        "the body is CloudWatch's message itself"
    );
    let msg: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(msg["AlarmName"], "RejectedSSH");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["Region"], "US East (Ohio)");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("x-flowwatch-subject"),
        Some("ALARM: \"RejectedSSH\" in US East (Ohio)")
    );
    assert_eq!(r.header("x-flowwatch-notification-id"), Some(n.id.as_str()));
    assert_eq!(r.header("x-flowwatch-attempt"), Some("1"));
    assert_eq!(r.header("authorization"), Some("Bearer t0k3n"));
}

#[test]
fn alertmanager_gets_the_alerts_array_at_the_api_path() {
    let server = Server::start();
    let targets = Targets::new(&[Target {
        arn: PAGER.into(),
        alertmanager: Some(AlertmanagerTarget {
            url: server.url("/am/"),
            labels: [("severity".to_string(), "page".to_string())].into(),
            ..AlertmanagerTarget::default()
        }),
        ..Target::default()
    }])
    .expect("valid");
    let firing = alarm_notification(&targets, PAGER);
    let resolved = notification(&targets, PAGER, StateValue::Alarm, StateValue::Ok, 300);
    // Alertmanager has nothing to say about OK -> INSUFFICIENT_DATA.
    let nothing = notification(
        &targets,
        PAGER,
        StateValue::Ok,
        StateValue::InsufficientData,
        600,
    );
    let log = run(
        tempfile::tempdir().expect("tmp").path(),
        &targets,
        vec![firing.clone(), resolved.clone(), nothing],
    );
    assert_eq!(
        outcomes(&log),
        [
            (Outcome::Delivered, 1),
            (Outcome::Delivered, 1),
            (Outcome::Skipped, 0)
        ]
    );
    assert!(
        log[2]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("OK to INSUFFICIENT_DATA"))
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs.iter()
            .all(|r| r.method == "POST" && r.path == "/am/api/v2/alerts")
    );
    assert_eq!(reqs[0].body, firing.alertmanager);
    assert_eq!(reqs[1].body, resolved.alertmanager);
    let alerts: serde_json::Value = serde_json::from_str(&reqs[0].body).expect("json");
    assert_eq!(alerts[0]["labels"]["alertname"], "RejectedSSH");
    assert_eq!(alerts[0]["labels"]["severity"], "page");
    assert_eq!(
        alerts[0]["endsAt"], "2025-05-15T01:58:11.589Z",
        "default: a day"
    );
    let alerts: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    assert_eq!(
        alerts[0]["endsAt"], "2025-05-14T02:03:11.589Z",
        "resolved at the OK"
    );
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
}

#[test]
fn server_errors_are_retried_then_delivery_is_recorded_with_attempts() {
    let server = Server::start();
    server.fail_first(2, 500);
    let targets = Targets::new(&[webhook(OPS, server.url("/hook"), 5)]).expect("valid");
    let n = alarm_notification(&targets, OPS);
    let log = run(
        tempfile::tempdir().expect("tmp").path(),
        &targets,
        vec![n.clone()],
    );
    assert_eq!(
        outcomes(&log),
        [
            (Outcome::AttemptFailed, 1),
            (Outcome::AttemptFailed, 2),
            (Outcome::Delivered, 3)
        ]
    );
    let e = log[0].error.as_deref().expect("error");
    assert!(e.contains("http 500") && e.contains("no thanks"), "{e}");
    assert_eq!(log[0].retry_in_ms, Some(10));
    assert_eq!(log[1].retry_in_ms, Some(20));
    assert!(log.iter().all(|d| d.id == n.id));
    let attempts: Vec<_> = server
        .requests()
        .iter()
        .map(|r| {
            r.header("x-flowwatch-attempt")
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(server.requests().iter().all(|r| r.body == n.sns_message));
}

#[test]
fn too_many_requests_is_retried_but_bad_request_is_permanent() {
    let server = Server::start();
    server.fail_first(1, 429);
    let targets = Targets::new(&[webhook(OPS, server.url("/hook"), 5)]).expect("valid");
    let dir = tempfile::tempdir().expect("tmp");
    let log = run(
        dir.path(),
        &targets,
        vec![alarm_notification(&targets, OPS)],
    );
    assert_eq!(
        outcomes(&log),
        [(Outcome::AttemptFailed, 1), (Outcome::Delivered, 2)]
    );

    let server = Server::start();
    server.always(400);
    let targets = Targets::new(&[webhook(OPS, server.url("/hook"), 5)]).expect("valid");
    let n = alarm_notification(&targets, OPS);
    let dir = tempfile::tempdir().expect("tmp");
    let log = run(dir.path(), &targets, vec![n.clone()]);
    assert_eq!(outcomes(&log), [(Outcome::Failed, 1)], "no retry");
    assert_eq!(server.requests().len(), 1);
    let e = log[0].error.as_deref().expect("error");
    assert!(e.contains("http 400"), "{e}");
    assert_eq!(
        log[0].notification.as_deref(),
        Some(&n),
        "a failed notification is kept whole"
    );

    // A redirect is not followed (a POST must not turn into a GET elsewhere).
    let server = Server::start();
    server.always(301);
    let targets = Targets::new(&[webhook(OPS, server.url("/hook"), 5)]).expect("valid");
    let dir = tempfile::tempdir().expect("tmp");
    let log = run(
        dir.path(),
        &targets,
        vec![alarm_notification(&targets, OPS)],
    );
    assert_eq!(outcomes(&log), [(Outcome::Failed, 1)]);
    let e = log[0].error.as_deref().expect("error");
    assert!(
        e.contains("http 301") && e.contains("redirects are not followed"),
        "{e}"
    );
}

#[test]
fn connection_refused_is_retried_then_recorded_as_failed_after_max_attempts() {
    let url = format!("http://{}/hook", Server::unused_addr());
    let targets = Targets::new(&[webhook(OPS, url, 4)]).expect("valid");
    let n = alarm_notification(&targets, OPS);
    let dir = tempfile::tempdir().expect("tmp");
    let log = run(dir.path(), &targets, vec![n.clone()]);
    assert_eq!(
        outcomes(&log),
        [
            (Outcome::AttemptFailed, 1),
            (Outcome::AttemptFailed, 2),
            (Outcome::AttemptFailed, 3),
            (Outcome::Failed, 4)
        ]
    );
    let e = log[3].error.as_deref().expect("error");
    assert!(e.to_lowercase().contains("refused"), "{e}");
    assert_eq!(log[3].notification.as_deref(), Some(&n));
    let history = log[3].history_item().expect("final");
    assert_eq!(
        history.history_summary,
        format!("Failed to execute action {OPS}")
    );
    // Final: the outbox is compacted to nothing.
    assert_eq!(
        fs::read_to_string(dir.path().join("outbox.ndjson")).expect("outbox"),
        ""
    );
}

#[test]
fn command_gets_the_alarm_in_its_environment_and_the_message_on_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let script = format!(
        "cat > {0}/stdin; env > {0}/env; echo \"$@\" > {0}/args",
        out.display()
    );
    let mut target = command(SCRIPT, &script, 10.0, 2);
    if let Some(c) = &mut target.command {
        c.args
            .extend(["sh".to_string(), "first".into(), "second".into()]);
    }
    let targets = Targets::new(&[target]).expect("valid");
    let n = alarm_notification(&targets, SCRIPT);
    let log = run(&dir.path().join("notify"), &targets, vec![n.clone()]);
    assert_eq!(outcomes(&log), [(Outcome::Delivered, 1)]);

    assert_eq!(
        fs::read_to_string(out.join("stdin")).expect("stdin"),
        n.sns_message
    );
    assert_eq!(
        fs::read_to_string(out.join("args")).expect("args"),
        "first second\n"
    );
    let env = fs::read_to_string(out.join("env")).expect("env");
    let expect = [
        ("FLOWWATCH_ALARM_NAME", "RejectedSSH".to_string()),
        ("FLOWWATCH_NEW_STATE", "ALARM".into()),
        ("FLOWWATCH_OLD_STATE", "OK".into()),
        ("FLOWWATCH_REASON", "Threshold Crossed: went ALARM".into()),
        (
            "FLOWWATCH_STATE_CHANGE_TIME",
            "2025-05-14T01:58:11.589+0000".into(),
        ),
        (
            "FLOWWATCH_SUBJECT",
            "ALARM: \"RejectedSSH\" in US East (Ohio)".into(),
        ),
        ("FLOWWATCH_NOTIFICATION_ID", n.id.clone()),
        ("FLOWWATCH_TARGET_ARN", SCRIPT.into()),
        ("FLOWWATCH_ATTEMPT", "1".into()),
    ];
    for (name, value) in expect {
        let line = format!("{name}={value}");
        assert!(
            env.lines().any(|l| l == line),
            "{line} missing from:\n{env}"
        );
    }
}

#[test]
fn command_failures_and_timeouts_are_retried_then_recorded() {
    let dir = tempfile::tempdir().expect("tmp");
    let targets = Targets::new(&[
        command(OPS, "echo broken pipe >&2; exit 3", 10.0, 2),
        command(PAGER, "exec sleep 30", 0.3, 2),
        Target {
            arn: SCRIPT.into(),
            command: Some(CommandTarget {
                program: "/nonexistent/flowwatch-hook".into(),
                args: vec![],
            }),
            ..Target::default()
        },
    ])
    .expect("valid");
    let started = Instant::now();
    let mut log = run(
        dir.path(),
        &targets,
        vec![
            alarm_notification(&targets, OPS),
            alarm_notification(&targets, PAGER),
            alarm_notification(&targets, SCRIPT),
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the sleeping command was killed: {:?}",
        started.elapsed()
    );
    log.sort_by(|a, b| {
        a.target_arn
            .cmp(&b.target_arn)
            .then(a.attempts.cmp(&b.attempts))
    });
    let by = |arn: &str| -> Vec<&Delivery> { log.iter().filter(|d| d.target_arn == arn).collect() };

    let ops = by(OPS);
    assert_eq!(
        ops.iter()
            .map(|d| (d.outcome, d.attempts))
            .collect::<Vec<_>>(),
        [(Outcome::AttemptFailed, 1), (Outcome::Failed, 2)]
    );
    let e = ops[1].error.as_deref().expect("error");
    assert!(
        e.contains("exit status: 3") && e.contains("broken pipe"),
        "{e}"
    );

    let pager = by(PAGER);
    assert_eq!(pager.len(), 2);
    let e = pager[1].error.as_deref().expect("error");
    assert!(e.contains("killed"), "{e}");

    let script = by(SCRIPT);
    assert_eq!(
        script
            .iter()
            .map(|d| (d.outcome, d.attempts))
            .collect::<Vec<_>>(),
        [(Outcome::Failed, 1)],
        "a program that cannot start is not retried"
    );
    assert!(
        script[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("cannot run /nonexistent/flowwatch-hook"))
    );
}

#[test]
fn a_restart_resumes_pending_notifications_and_never_resends_delivered_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let addr = Server::unused_addr();
    let targets = Targets::new(&[webhook(OPS, format!("http://{addr}/hook"), 100)]).expect("valid");
    let first = alarm_notification(&targets, OPS);
    let second = notification(&targets, OPS, StateValue::Alarm, StateValue::Ok, 120);

    // The target is down. With a retry a minute away, shutdown lets the first attempt
    // finish (so no attempt is left running to race the restart) and stops the lane at
    // once; the second notification waits behind the first.
    let slow = Options {
        backoff: Backoff {
            initial: Duration::from_secs(60),
            ..Backoff::default()
        },
        ..Options::default()
    };
    let d = Dispatcher::open_with(dir.path(), targets.clone(), slow).expect("open");
    assert_eq!(d.submit(first.clone()).expect("submit"), Submitted::Queued);
    assert_eq!(d.submit(second.clone()).expect("submit"), Submitted::Queued);
    assert_eq!(d.pending(), 2);
    let started = Instant::now();
    assert_eq!(d.shutdown(Instant::now() + LIMIT).expect("shutdown"), 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no wait for the retry"
    );
    let before = deliveries(dir.path()).expect("log");
    assert_eq!(outcomes(&before), [(Outcome::AttemptFailed, 1)]);
    assert_eq!(before[0].id, first.id);

    // The target is up: the next start delivers both, once each, in order.
    let server = Server::bind(addr);
    let d = open(dir.path(), &targets);
    assert!(d.wait_idle(Instant::now() + LIMIT));
    assert_eq!(d.shutdown(Instant::now() + LIMIT).expect("shutdown"), 0);
    let bodies: Vec<String> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies,
        [first.sns_message.clone(), second.sns_message.clone()]
    );
    let log = deliveries(dir.path()).expect("log");
    let finals: Vec<_> = log.iter().filter(|d| d.is_final()).collect();
    assert_eq!(finals.len(), 2);
    assert!(finals.iter().all(|d| d.outcome == Outcome::Delivered));
    // Attempts count across the restart.
    assert_eq!(finals[0].attempts, 2);
    assert_eq!(finals[1].attempts, 1);

    // Another start sends nothing, and re-submitting the same transition is a no-op.
    let d = open(dir.path(), &targets);
    assert_eq!(d.pending(), 0);
    assert_eq!(
        d.submit(first.clone()).expect("submit"),
        Submitted::Duplicate
    );
    assert!(d.wait_idle(Instant::now() + LIMIT));
    assert_eq!(d.shutdown(Instant::now() + LIMIT).expect("shutdown"), 0);
    assert_eq!(server.requests().len(), 2, "nothing re-sent");
    assert_eq!(deliveries(dir.path()).expect("log").len(), log.len());
}

#[test]
fn submit_never_waits_for_a_hanging_target() {
    let server = Server::start();
    server.hang();
    let dir = tempfile::tempdir().expect("tmp");
    let mut slow = webhook(OPS, server.url("/hook"), 3);
    slow.timeout_seconds = Some(5.0);
    let targets = Targets::new(&[slow]).expect("valid");
    let d = open(dir.path(), &targets);
    let first = alarm_notification(&targets, OPS);
    assert_eq!(d.submit(first).expect("submit"), Submitted::Queued);
    assert_eq!(server.wait_for(1, LIMIT).len(), 1, "the request is hanging");
    let started = Instant::now();
    for t in 1..=10 {
        let n = notification(&targets, OPS, StateValue::Alarm, StateValue::Ok, t * 60);
        assert_eq!(d.submit(n).expect("submit"), Submitted::Queued);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "10 submits behind a request hanging for 5 s took {took:?}"
    );
    assert_eq!(d.pending(), 11);
    // Shutdown does not wait for the hanging request past its deadline.
    let started = Instant::now();
    let left = d
        .shutdown(Instant::now() + Duration::from_millis(100))
        .expect("shutdown");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(left, 11);
}

#[test]
fn an_unknown_action_arn_is_recorded_as_failed_with_the_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let targets = Targets::new(&[]).expect("valid");
    let a = alarm(&[OPS]);
    let c = change(StateValue::Ok, StateValue::Alarm, 0, &[OPS]);
    let ns = Notification::for_transition(AlarmDefinition::Metric(&a), &c, &ctx(), &targets);
    let d = open(dir.path(), &targets);
    assert_eq!(
        d.submit(ns[0].clone()).expect("submit"),
        Submitted::NoTarget
    );
    assert_eq!(d.pending(), 0);
    drop(d);
    let log = deliveries(dir.path()).expect("log");
    assert_eq!(outcomes(&log), [(Outcome::Failed, 0)]);
    assert_eq!(
        log[0].error.as_deref(),
        Some(
            "no NotificationTargets entry for arn:aws:sns:us-east-2:123456789012:ops; \
             add one to the monitoring file"
        )
    );
}

#[test]
fn a_pending_notification_whose_target_was_removed_fails_on_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let down = format!("http://{}/hook", Server::unused_addr());
    let targets = Targets::new(&[webhook(OPS, down, 100)]).expect("valid");
    let d = open(dir.path(), &targets);
    d.submit(alarm_notification(&targets, OPS)).expect("submit");
    assert_eq!(d.shutdown(Instant::now()).expect("shutdown"), 1);

    let none = Targets::new(&[]).expect("valid");
    let d = open(dir.path(), &none);
    assert_eq!(d.pending(), 0);
    drop(d);
    let log = deliveries(dir.path()).expect("log");
    let last = log.last().expect("record");
    assert_eq!(last.outcome, Outcome::Failed);
    assert!(
        last.error
            .as_deref()
            .is_some_and(|e| e.contains("no NotificationTargets entry"))
    );
}

#[test]
fn a_retrying_notification_holds_back_later_ones_of_its_target_only() {
    let flaky = Server::start();
    flaky.fail_first(2, 503);
    let steady = Server::start();
    let targets = Targets::new(&[
        webhook(OPS, flaky.url("/hook"), 5),
        webhook(PAGER, steady.url("/hook"), 5),
    ])
    .expect("valid");
    let alarm_n = alarm_notification(&targets, OPS);
    let ok_n = notification(&targets, OPS, StateValue::Alarm, StateValue::Ok, 60);
    let other = alarm_notification(&targets, PAGER);
    let dir = tempfile::tempdir().expect("tmp");
    let log = run(
        dir.path(),
        &targets,
        vec![alarm_n.clone(), ok_n.clone(), other.clone()],
    );
    let order: Vec<String> = flaky.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(
        order,
        [
            alarm_n.sns_message.clone(),
            alarm_n.sns_message.clone(),
            alarm_n.sns_message.clone(),
            ok_n.sns_message.clone()
        ],
        "the OK waits for its ALARM"
    );
    assert_eq!(steady.requests().len(), 1);
    let finals: Vec<_> = log.iter().filter(|d| d.is_final()).collect();
    assert_eq!(finals.len(), 3);
    assert!(finals.iter().all(|d| d.outcome == Outcome::Delivered));
}
