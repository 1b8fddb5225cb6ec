//! The store → backfill → series path on the spec's fixture (§1.8) with the VPC guide's
//! rejected-SSH filter (§2.5), and the documented example definition file.

mod common;

use std::path::Path;

use chrono::DateTime;
use flowwatch_alarm::model::Dimension;
use flowwatch_alarm::{MetricQuery, MetricRef, MetricSource, Stat};
use flowwatch_monitor::{BackfillOptions, Definitions, MetricStore, backfill, check, replay};

const FIXTURE: &str = "\
2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK
2 123456789012 eni-0a1 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK
2 123456789012 eni-0a1 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK
2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK
";

const GROUP: &str = "/aws/vpc/fixture";

fn ingest(dir: &Path, text: &str) {
    common::ingest(dir, GROUP, "fixture", text);
}

fn definitions() -> Definitions {
    let text = format!(
        r#"{{"metricFilters": [{{
            "filterName": "RejectedSSH", "logGroupName": "{GROUP}",
            "filterPattern": "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]",
            "metricTransformations": [{{"metricName": "RejectedSSH", "metricNamespace": "VPC",
                "metricValue": "1", "dimensions": {{"ENI": "$eni"}}}}]
        }}],
        "MetricAlarms": [{{"AlarmName": "ssh", "MetricName": "RejectedSSH", "Namespace": "VPC",
            "Dimensions": [{{"Name": "ENI", "Value": "eni-0a1"}}],
            "Statistic": "Sum", "Period": 3600, "EvaluationPeriods": 1, "Threshold": 2,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"}}]}}"#
    );
    Definitions::parse(&text, "defs.json").expect("definitions parse")
}

#[test]
fn rejected_ssh_matches_fixture_lines_one_and_two_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    ingest(tmp.path(), FIXTURE);
    let defs = definitions();
    let report = check(&defs);
    assert!(report.is_ok(), "{:?}", report.errors);
    let done =
        backfill(tmp.path(), &report.filters, &BackfillOptions::default()).expect("backfill");
    assert_eq!(done.records, 4);
    assert_eq!(done.filters[0].matched, 2);

    let store = MetricStore::open(tmp.path()).expect("metrics");
    let metric = MetricRef::new("VPC", "RejectedSSH", [Dimension::new("ENI", "eni-0a1")]);
    let stat = Stat::parse("Sum").expect("stat");
    let at = |s: i64| DateTime::from_timestamp(s, 0).expect("time");
    let points = store.datapoints(&MetricQuery {
        metric: &metric,
        stat: &stat,
        period: 60,
        unit: None,
        start: at(1_563_100_000 / 60 * 60),
        end: at(1_563_200_000),
    });
    // Line 1 starts at 12:43:08, line 2 at 12:57:10 (2019-07-14 UTC); lines 3 and 4 do not match.
    let got: Vec<(i64, f64)> = points
        .iter()
        .map(|p| (p.timestamp.timestamp(), p.value))
        .collect();
    assert_eq!(got, vec![(1_563_108_180, 1.0), (1_563_109_020, 1.0)]);

    // A repeated backfill replaces, never doubles.
    backfill(tmp.path(), &report.filters, &BackfillOptions::default()).expect("again");
    let store = MetricStore::open(tmp.path()).expect("metrics");
    let hour = store.datapoints(&MetricQuery {
        metric: &metric,
        stat: &stat,
        period: 3600,
        unit: None,
        start: at(1_563_105_600),
        end: at(1_563_109_200),
    });
    assert_eq!(hour.len(), 1);
    assert_eq!(hour[0].value, 2.0);

    // The VPC guide's alarm (Sum over an hour >= threshold) fires once the second attempt lands.
    let transitions =
        replay(&defs, &store, at(1_563_105_600), at(1_563_112_800), None).expect("replay");
    let states: Vec<String> = transitions
        .iter()
        .map(|t| format!("{} {}", t.time.format("%H:%M"), t.new))
        .collect();
    assert_eq!(
        states[..3],
        ["12:00 OK", "12:58 ALARM", "13:44 OK"],
        "{transitions:#?}"
    );
    assert!(
        transitions[1]
            .reason
            .starts_with("Threshold Crossed: 1 datapoint [2.0"),
        "{}",
        transitions[1].reason
    );
}

#[test]
fn the_documented_example_file_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/monitor.json");
    let defs = Definitions::read(&path).expect("docs/examples/monitor.json parses");
    let report = check(&defs);
    assert!(report.is_ok(), "{:#?}", report.errors);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    assert_eq!(report.filters.len(), 3);
    assert_eq!(defs.metric_alarms.len(), 2);
    assert_eq!(defs.composite_alarms.len(), 1);
    assert_eq!(report.insight_rules.len(), 3, "the three VPC sample rules");
    assert_eq!(
        defs.notification_targets.len(),
        2,
        "a webhook and an Alertmanager"
    );
}

#[test]
fn alarm_actions_without_a_notification_target_are_warned_about() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/monitor.json");
    let mut defs = Definitions::read(&path).expect("parses");
    defs.notification_targets.pop();
    let report = check(&defs);
    assert!(report.is_ok(), "{:#?}", report.errors);
    assert_eq!(report.warnings.len(), 1, "{:#?}", report.warnings);
    assert!(
        report.warnings[0].message.contains("network-pager"),
        "{}",
        report.warnings[0]
    );
    defs.notification_targets[0].arn = "not-an-arn".into();
    assert!(!check(&defs).is_ok());
}

#[test]
fn misspelt_top_level_keys_are_errors_with_a_position() {
    let err = Definitions::parse("{\n  \"MetricFilters\": []\n}", "x.json").expect_err("rejected");
    let text = err.to_string();
    assert!(text.starts_with("x.json: line 2, column"), "{text}");
    assert!(text.contains("unknown field `MetricFilters`"), "{text}");
}
