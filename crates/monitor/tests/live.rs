//! Live monitoring pieces: metric series recomputed for the hours a commit touched (and an
//! interrupted recomputation finished on the next start), alarm states that survive a
//! restart, SetAlarmState recorded in the history.

mod common;

use std::path::Path;

use chrono::DateTime;
use flowwatch_alarm::{ManualClock, StateValue};
use flowwatch_monitor::live::{history_path, load_states, state_path};
use flowwatch_monitor::{
    Definitions, FilterSeries, LiveAlarms, read_history, recover_metrics, update_metrics,
};

const GROUP: &str = "live";
/// 2019-07-14 12:43:08 UTC and nearby.
const LINES: &str = "\
2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK
2 123456789012 eni-0a1 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563108190 1563108227 REJECT OK
2 123456789012 eni-0a1 182.68.238.9 172.31.83.158 42228 22 6 1 44 1563108191 1563108227 REJECT OK
";

fn ingest(dir: &Path, key: &str, text: &str) {
    common::ingest(dir, GROUP, key, text);
}

fn import(dir: &Path) {
    let text = format!(
        r#"{{"metricFilters": [{{
            "filterName": "RejectedSSH", "logGroupName": "{GROUP}",
            "filterPattern": "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]",
            "metricTransformations": [{{"metricName": "RejectedSSH", "metricNamespace": "VPC", "metricValue": "1"}}]
        }}],
        "MetricAlarms": [{{"AlarmName": "ssh", "MetricName": "RejectedSSH", "Namespace": "VPC",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 2,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"]}}]}}"#
    );
    let defs = Definitions::parse(&text, "defs.json").expect("parse");
    defs.save_stored(dir).expect("save");
}

fn matched_total(dir: &Path) -> f64 {
    let fs = FilterSeries::read(&FilterSeries::path(dir, GROUP, "RejectedSSH")).expect("series");
    fs.series
        .iter()
        .flat_map(|d| d.minutes.values())
        .map(|m| m.sum)
        .sum()
}

#[test]
fn metrics_are_recomputed_not_added_and_a_crash_is_finished_later() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    import(dir);
    ingest(dir, "a", LINES);
    let t0 = 1_563_108_188_000;
    let r = update_metrics(dir, GROUP, t0, t0 + 3_000)
        .expect("update")
        .expect("a filter");
    assert_eq!(r.filters[0].matched, 3);
    // Again (a re-run): still 3, not 6.
    update_metrics(dir, GROUP, t0, t0 + 3_000).expect("update");
    assert_eq!(matched_total(dir), 3.0);
    // A group no filter reads: nothing to do.
    assert!(update_metrics(dir, "other", t0, t0).expect("ok").is_none());

    // A crash after the commit, before the series were saved: the journal says what to redo.
    ingest(dir, "b", &LINES.replace("39611", "39612"));
    let pending = dir.join("monitor").join("pending-metrics.json");
    std::fs::write(
        &pending,
        format!(
            r#"[{{"log_group": "{GROUP}", "start_ms": 1563105600000, "end_ms": 1563109200000}}]"#
        ),
    )
    .expect("journal");
    assert_eq!(recover_metrics(dir).expect("recover"), 1);
    assert!(!pending.exists(), "the journal is cleared");
    assert_eq!(matched_total(dir), 6.0);
    assert_eq!(recover_metrics(dir).expect("nothing left"), 0);
}

#[test]
fn alarm_states_survive_a_restart_and_set_state_is_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    import(dir);
    ingest(dir, "a", LINES);
    update_metrics(dir, GROUP, 1_563_108_188_000, 1_563_108_191_000).expect("update");
    let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").to_utc();

    let clock = ManualClock::new(at("2019-07-14T12:45:00Z"));
    let mut live = LiveAlarms::open(dir, &clock).expect("open");
    let events = live.evaluate(false).expect("evaluate");
    assert_eq!(events.len(), 1);
    let c = events[0].change();
    assert_eq!(
        (c.old.value, c.new.value),
        (StateValue::InsufficientData, StateValue::Alarm)
    );
    assert_eq!(c.actions, ["arn:aws:sns:us-east-1:123456789012:ops"]);
    assert_eq!(
        load_states(dir).expect("states")["ssh"].state_value,
        StateValue::Alarm
    );
    // Evaluating again in the same minute with new_data forces it; same state, no event.
    assert!(live.evaluate(true).expect("again").is_empty());
    drop(live);

    // A restart resumes in ALARM: no INSUFFICIENT_DATA -> ALARM again.
    let clock = ManualClock::new(at("2019-07-14T12:46:00Z"));
    let mut live = LiveAlarms::open(dir, &clock).expect("reopen");
    assert_eq!(live.states()["ssh"], StateValue::Alarm);
    assert!(live.evaluate(false).expect("evaluate").is_empty());
    // An hour later the data is out of range: notBreaching -> OK.
    clock.set(at("2019-07-14T13:50:00Z"));
    let events = live.evaluate(false).expect("evaluate");
    assert_eq!(events[0].change().new.value, StateValue::Ok);

    let e = live
        .set_state("ssh", StateValue::Alarm, "testing the pager", None)
        .expect("set")
        .expect("a change");
    assert_eq!(e.change().new.reason, "testing the pager");
    assert!(live.set_state("nope", StateValue::Ok, "x", None).is_err());

    let history = read_history(dir).expect("history");
    let summaries: Vec<&str> = history
        .iter()
        .map(|h| h["HistorySummary"].as_str().expect("summary"))
        .collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM"
        ]
    );
    assert!(state_path(dir).exists() && history_path(dir).exists());
    // A torn last line (a crash mid-append) is skipped, the rest still read.
    let mut text = std::fs::read_to_string(history_path(dir)).expect("read");
    text.push_str("{\"AlarmName\": \"ss");
    std::fs::write(history_path(dir), text).expect("write");
    assert_eq!(read_history(dir).expect("history").len(), 3);
}
