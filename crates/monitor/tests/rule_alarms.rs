//! Alarms on contributor rules (`INSIGHT_RULE_METRIC` in metric math), over stored records:
//! replay with a simulated clock, the live counter kept in step with the store (new files
//! counted once, a compacted hour recounted, never doubled), and live alarms reacting to a
//! new commit.

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use flowwatch_alarm::{ManualClock, StateValue};
use flowwatch_contrib::InsightRuleMetric;
use flowwatch_monitor::{
    BackfillOptions, Definitions, LiveAlarms, RuleMetrics, backfill, check, replay_stored,
};
use flowwatch_store::Store;

const GROUP: &str = "vpc";
/// 2023-11-14T22:00:00Z.
const T0: i64 = 1_699_999_200;

fn at(min: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(T0 + min * 60, 0).expect("valid")
}

/// A REJECT (or ACCEPT) record from `src` starting `secs` after T0.
fn record(src: &str, secs: i64, action: &str) -> String {
    let start = T0 + secs;
    format!(
        "2 123456789012 eni-aaa {src} 10.0.1.9 40000 22 6 1 40 {start} {} {action} OK\n",
        start + 60
    )
}

fn ingest(dir: &Path, key: &str, text: &str) {
    common::ingest(dir, GROUP, key, text);
}

/// Two rules (rejected and all connections, keyed by source address) and two alarms:
/// more than 2 distinct rejected sources in a minute, and a rejected share above 50 %.
fn definitions() -> Definitions {
    let rule = |name: &str, filter: &str| {
        format!(
            r#"{{"Name": "{name}", "State": "ENABLED", "Definition": {{
                "Schema": {{"Name": "CloudWatchLogRule", "Version": 1}},
                "LogGroupNames": ["{GROUP}"], "LogFormat": "CLF",
                "Fields": {{"4": "srcaddr", "13": "action"}},
                "Contribution": {{"Keys": ["srcaddr"], "Filters": [{filter}]}},
                "AggregateOn": "Count"}}}}"#
        )
    };
    let text = format!(
        r#"{{"InsightRules": [{}, {}],
        "MetricAlarms": [
          {{"AlarmName": "many-rejected-sources", "EvaluationPeriods": 1,
            "Threshold": 2, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "Metrics": [{{"Id": "u", "Expression": "INSIGHT_RULE_METRIC(rejected, UniqueContributors)",
                          "Period": 60, "ReturnData": true}}]}},
          {{"AlarmName": "rejected-share", "EvaluationPeriods": 1,
            "Threshold": 50, "ComparisonOperator": "GreaterThanThreshold",
            "Metrics": [{{"Id": "r", "Expression": "INSIGHT_RULE_METRIC(\"rejected\", \"SampleCount\") / INSIGHT_RULE_METRIC(\"all\", \"SampleCount\") * 100",
                          "Period": 60}}]}}
        ]}}"#,
        rule("rejected", r#"{"Match": "action", "In": ["REJECT"]}"#),
        rule("all", r#"{"Match": "action", "IsPresent": true}"#),
    );
    let defs = Definitions::parse(&text, "defs.json").expect("parse");
    let report = check(&defs);
    assert!(report.is_ok(), "{:#?}", report.errors);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    defs
}

/// Minute 0: 2 rejected sources of 4 records (50 %: not above). Minute 2: 3 rejected
/// sources, 1 accepted (75 %).
fn minute0() -> String {
    [
        record("198.51.100.1", 5, "REJECT"),
        record("198.51.100.2", 10, "REJECT"),
        record("10.0.0.1", 20, "ACCEPT"),
        record("10.0.0.2", 30, "ACCEPT"),
    ]
    .concat()
}

fn minute2() -> String {
    [
        record("198.51.100.1", 125, "REJECT"),
        record("198.51.100.3", 130, "REJECT"),
        record("198.51.100.4", 140, "REJECT"),
        record("10.0.0.1", 150, "ACCEPT"),
    ]
    .concat()
}

#[test]
fn replay_fires_rule_alarms_when_the_rules_say_so() {
    let dir = tempfile::tempdir().expect("tmp");
    ingest(dir.path(), "m0", &minute0());
    ingest(dir.path(), "m2", &minute2());
    let defs = definitions();
    let transitions = replay_stored(dir.path(), &defs, at(0), at(8), None).expect("replay");
    let got: Vec<(String, i64, StateValue)> = transitions
        .iter()
        .map(|t| (t.alarm.clone(), (t.time - at(0)).num_minutes(), t.new))
        .collect();
    assert_eq!(
        got,
        [
            // No data is not breaching: OK from the start. At minute 1 the minute-0
            // datapoints exist: 2 sources, 50 % (not above).
            ("many-rejected-sources".into(), 0, StateValue::Ok),
            ("rejected-share".into(), 1, StateValue::Ok),
            // Minute 2's period is complete at minute 3: 3 sources, 75 %.
            ("many-rejected-sources".into(), 3, StateValue::Alarm),
            ("rejected-share".into(), 3, StateValue::Alarm),
            // The range (3 periods) no longer holds minute 2 at minute 6: missing data
            // is not breaching for the first alarm; the second has no data at all.
            ("many-rejected-sources".into(), 6, StateValue::Ok),
            ("rejected-share".into(), 6, StateValue::InsufficientData),
        ]
    );
    let alarm = &transitions[2];
    assert!(
        alarm
            .reason
            .starts_with("Threshold Crossed: 1 datapoint [3.0 (14/11/23 22:02:00)] was greater than the threshold (2.0)."),
        "{}",
        alarm.reason
    );
    assert!(
        transitions[3].reason.contains("[75.0 "),
        "{}",
        transitions[3].reason
    );
}

#[test]
fn the_counter_follows_the_store_without_counting_twice() {
    let dir = tempfile::tempdir().expect("tmp");
    let defs = definitions();
    let report = check(&defs);
    let mut rules = RuleMetrics::for_alarms(&defs, &report, &Default::default())
        .expect("rules")
        .expect("two rules are read by alarms");
    // No store yet: nothing to count, no error.
    assert_eq!(
        rules
            .refresh(dir.path(), at(3).timestamp_millis())
            .expect("refresh")
            .files,
        0
    );
    ingest(dir.path(), "m0", &minute0());
    ingest(dir.path(), "m2", &minute2());
    let unique = |rules: &RuleMetrics| -> Vec<(i64, f64)> {
        rules
            .engine()
            .metric_from(
                "rejected",
                InsightRuleMetric::UniqueContributors,
                at(0).timestamp_millis(),
                at(4).timestamp_millis(),
                60,
            )
            .expect("metric")
            .iter()
            .map(|p| ((p.timestamp_ms / 1000 - T0) / 60, p.value))
            .collect()
    };
    let s = rules
        .refresh(dir.path(), at(3).timestamp_millis())
        .expect("refresh");
    assert_eq!((s.files, s.records, s.recounted_hours), (2, 8, 0));
    assert_eq!(unique(&rules), [(0, 2.0), (2, 3.0)]);
    // Nothing new: nothing read.
    let s = rules
        .refresh(dir.path(), at(3).timestamp_millis())
        .expect("refresh");
    assert_eq!((s.files, s.records), (0, 0));
    // A third file in the same hour: only it is read.
    ingest(dir.path(), "m3", &record("198.51.100.9", 150, "REJECT"));
    let s = rules
        .refresh(dir.path(), at(3).timestamp_millis())
        .expect("refresh");
    assert_eq!((s.files, s.records), (1, 1));
    assert_eq!(unique(&rules), [(0, 2.0), (2, 4.0)]);
    // Compaction replaces the hour's files: the hour is forgotten and counted again.
    let mut store = Store::open(dir.path()).expect("store");
    store.compact(GROUP, 2).expect("compact");
    drop(store);
    let s = rules
        .refresh(dir.path(), at(3).timestamp_millis())
        .expect("refresh");
    assert_eq!((s.recounted_hours, s.records), (1, 9));
    assert_eq!(unique(&rules), [(0, 2.0), (2, 4.0)], "the same counts");
    // The window (3 one-minute periods) moves on: minute 0 is forgotten, then all.
    rules
        .refresh(dir.path(), at(4).timestamp_millis())
        .expect("refresh");
    assert_eq!(unique(&rules), [(2, 4.0)]);
    let later = at(0) + Duration::hours(3);
    rules
        .refresh(dir.path(), later.timestamp_millis())
        .expect("refresh");
    assert_eq!(unique(&rules), []);
}

#[test]
fn live_alarms_react_to_a_new_commit() {
    let dir = tempfile::tempdir().expect("tmp");
    definitions().save_stored(dir.path()).expect("save");
    ingest(dir.path(), "m0", &minute0());
    let clock = ManualClock::new(at(1));
    let mut live = LiveAlarms::open(dir.path(), &clock).expect("open");
    live.evaluate(true).expect("evaluate");
    assert_eq!(
        live.states().get("many-rejected-sources"),
        Some(&StateValue::Ok)
    );
    clock.set(at(3));
    ingest(dir.path(), "m2", &minute2());
    let events = live.evaluate(true).expect("evaluate");
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(
        live.states().get("many-rejected-sources"),
        Some(&StateValue::Alarm)
    );
    // A restart counts the store afresh and keeps the state (no new transition).
    drop(live);
    let mut live = LiveAlarms::open(dir.path(), &clock).expect("reopen");
    assert!(live.evaluate(true).expect("evaluate").is_empty());
    assert_eq!(
        live.states().get("rejected-share"),
        Some(&StateValue::Alarm)
    );
}

/// An anomaly-detection alarm on a metric filter, trained from the stored history: 15 days
/// of a daily pattern (busy 08:00-20:00), then a burst at night. Replay over the last day
/// finds the burst, and only it.
#[test]
fn anomaly_band_alarm_trained_from_stored_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let day0 = 1_700_006_400; // 2023-11-15T00:00:00Z
    let mut text = String::new();
    for slot in 0..(15 * 288) {
        let start = day0 + slot * 300;
        let hour = (slot % 288) / 12;
        // A little noise: 5-7 by day, 1-3 by night.
        let noise = (slot * 7 % 3) - 1;
        let n = if (8..20).contains(&hour) { 6 } else { 2 } + noise;
        for i in 0..n {
            text.push_str(&format!(
                "2 123456789012 eni-aaa 10.0.0.{i} 10.0.1.9 40000 443 6 1 40 {} {} ACCEPT OK\n",
                start + i,
                start + 60
            ));
        }
    }
    // Day 15, 03:00: 40 records in five minutes instead of 2.
    let burst = day0 + 14 * 86_400 + 3 * 3600;
    for i in 0..40 {
        text.push_str(&format!(
            "2 123456789012 eni-aaa 10.0.0.{i} 10.0.1.9 40000 443 6 1 40 {} {} ACCEPT OK\n",
            burst + i,
            burst + 60
        ));
    }
    ingest(dir.path(), "history", &text);
    let defs = Definitions::parse(
        &format!(
            r#"{{"metricFilters": [{{"filterName": "flows", "logGroupName": "{GROUP}",
                "filterPattern": "[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]",
                "metricTransformations": [{{"metricName": "Flows", "metricNamespace": "VPC", "metricValue": "1"}}]}}],
              "MetricAlarms": [{{"AlarmName": "unusual-flows", "EvaluationPeriods": 1,
                "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
                "ThresholdMetricId": "ad1", "TreatMissingData": "ignore",
                "Metrics": [
                  {{"Id": "m1", "ReturnData": true, "MetricStat": {{"Metric": {{"Namespace": "VPC", "MetricName": "Flows"}},
                    "Period": 300, "Stat": "Sum"}}}},
                  {{"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 3)"}}]}}]}}"#
        ),
        "defs.json",
    )
    .expect("parse");
    let report = check(&defs);
    assert!(report.is_ok(), "{:#?}", report.errors);
    backfill(dir.path(), &report.filters, &BackfillOptions::default()).expect("backfill");
    let day14 = DateTime::<Utc>::from_timestamp(day0 + 14 * 86_400, 0).expect("valid");
    let transitions =
        replay_stored(dir.path(), &defs, day14, day14 + Duration::hours(23), None).expect("replay");
    let got: Vec<(i64, StateValue)> = transitions
        .iter()
        .map(|t| ((t.time - day14).num_minutes(), t.new))
        .collect();
    // OK as soon as evaluated (14 days of history), ALARM at 03:01 when the newest
    // 5-minute period (sliding by the minute: 02:56-03:01) holds the burst, OK at 03:06
    // when the newest no longer does (N = 1). Nothing at the 08:00 and 20:00 steps: the
    // band follows the daily pattern smoothly.
    assert_eq!(
        got,
        [
            (0, StateValue::Ok),
            (181, StateValue::Alarm),
            (186, StateValue::Ok)
        ],
        "{transitions:#?}"
    );
    assert!(
        transitions[1].reason.contains("1 datapoint [41.0 (29/11/23 02:56:00)] was less than the lower thresholds [0.0] or greater than the upper thresholds [6."),
        "{}",
        transitions[1].reason
    );
}
