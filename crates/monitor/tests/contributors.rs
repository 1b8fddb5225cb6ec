//! Contributor reports over stored history: the three VPC sample rules of
//! `docs/examples/monitor.json`, run on a small fixture ingested into a temporary store, with
//! every expected value worked out by hand.

mod common;

use std::path::Path;

use flowwatch_contrib::{InsightRuleReport, ReportRequest};
use flowwatch_monitor::{ContributorRun, Definitions, check, contributor_reports};

/// The group the example file's rules read.
const GROUP: &str = "demo/vpc-flow-logs";

/// 2023-11-14T22:00:00Z. Records start at T0 + 5/10/30 s (hour 0) and T0 + 1 h + 20/30/40/50 s
/// (hour 1); CloudWatch's timestamp of a flow record is its `start`.
const T0: i64 = 1_699_999_200;

const FIXTURE: &str = "\
2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49152 443 6 10 5000 1699999205 1699999265 ACCEPT OK
2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49153 443 6 4 1200 1699999210 1699999270 ACCEPT OK
2 123456789012 eni-bbb 198.51.100.7 10.0.1.9 40000 22 6 1 40 1699999230 1699999290 REJECT OK
2 123456789012 eni-bbb 198.51.100.7 10.0.1.9 40001 22 6 1 40 1700002820 1700002880 REJECT OK
2 123456789012 eni-bbb 198.51.100.8 10.0.1.9 53 53 17 1 60 1700002830 1700002890 REJECT OK
2 123456789012 eni-aaa 10.0.0.3 10.0.1.6 49200 443 6 20 15000 1700002840 1700002900 ACCEPT OK
2 123456789012 eni-ccc - - - - - - - 1700002850 1700002910 - NODATA
";

fn ingest(dir: &Path, group: &str, text: &str) {
    common::ingest(dir, group, &format!("fixture-{group}"), text);
}

fn run(dir: &Path, start: i64, end: i64, period: u32) -> ContributorRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/monitor.json");
    let defs = Definitions::read(&path).expect("example parses");
    let report = check(&defs);
    assert!(report.is_ok(), "{:#?}", report.errors);
    contributor_reports(
        dir,
        &report.insight_rules,
        &ReportRequest::new(start * 1000, end * 1000, period),
    )
    .expect("reports")
}

/// A contributor as (keys joined by `|`, aggregate value, [(hour, value)]).
type Row = (String, f64, Vec<(i64, f64)>);
/// The same, written in a test.
type Want<'a> = (&'a str, f64, &'a [(i64, f64)]);

fn top(r: &InsightRuleReport) -> Vec<Row> {
    r.contributors
        .iter()
        .map(|c| {
            (
                c.keys.join("|"),
                c.approximate_aggregate_value,
                c.datapoints
                    .iter()
                    .map(|d| ((d.timestamp.0 / 1000 - T0) / 3600, d.approximate_value))
                    .collect(),
            )
        })
        .collect()
}

fn owned(v: &[Want<'_>]) -> Vec<Row> {
    v.iter()
        .map(|(k, a, d)| (k.to_string(), *a, d.to_vec()))
        .collect()
}

#[test]
fn vpc_sample_rules_over_two_stored_hours() {
    let tmp = tempfile::tempdir().expect("tempdir");
    ingest(tmp.path(), GROUP, FIXTURE);
    // A group no rule reads: never opened.
    ingest(tmp.path(), "other/vpc", FIXTURE);

    let done = run(tmp.path(), T0, T0 + 7200, 3600);
    assert_eq!(
        (done.files, done.records),
        (2, 7),
        "one file per hour partition"
    );
    let names: Vec<&str> = done.rules.iter().map(|r| r.rule_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "VpcBytesBySourceDestination",
            "VpcHttpsRequestsByDestination",
            "VpcRejectedTcpByInterfaceSource"
        ]
    );
    assert!(done.rules.iter().all(|r| r.log_groups == [GROUP]));

    let bytes = &done.rules[0];
    // Every record but NODATA (bytes `-`).
    assert_eq!(bytes.matched, 6);
    assert_eq!(bytes.report.aggregate_value, 21_340.0);
    assert_eq!(bytes.report.approximate_unique_count, 4);
    assert_eq!(
        top(&bytes.report),
        owned(&[
            ("10.0.0.3|10.0.1.6", 15_000.0, &[(1, 15_000.0)]),
            ("10.0.0.1|10.0.1.5", 6_200.0, &[(0, 6_200.0)]),
            ("198.51.100.7|10.0.1.9", 80.0, &[(0, 40.0), (1, 40.0)]),
            ("198.51.100.8|10.0.1.9", 60.0, &[(1, 60.0)]),
        ])
    );
    let hours: Vec<(Option<f64>, Option<f64>, Option<f64>)> = bytes
        .report
        .metric_datapoints
        .as_ref()
        .expect("metrics")
        .iter()
        .map(|p| {
            (
                p.unique_contributors,
                p.sample_count,
                p.max_contributor_value,
            )
        })
        .collect();
    assert_eq!(
        hours,
        [
            (Some(2.0), Some(3.0), Some(6_200.0)),
            (Some(3.0), Some(3.0), Some(15_000.0))
        ]
    );

    let https = &done.rules[1];
    assert_eq!(
        top(&https.report),
        owned(&[
            ("10.0.1.6", 20.0, &[(1, 20.0)]),
            ("10.0.1.5", 14.0, &[(0, 14.0)]),
        ])
    );

    let rejected = &done.rules[2];
    // The rejected UDP flow is filtered out; Sum without ValueOf counts 1 per record.
    assert_eq!(
        top(&rejected.report),
        owned(&[("eni-bbb|198.51.100.7", 2.0, &[(0, 1.0), (1, 1.0)])])
    );
    assert_eq!(
        serde_json::to_value(&rejected.report).expect("json")["Contributors"][0]["Datapoints"][1]["Timestamp"],
        "2023-11-14T23:00:00+00:00"
    );
}

#[test]
fn only_the_range_is_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    ingest(tmp.path(), GROUP, FIXTURE);
    // The second hour only: the first hour's partition is not even opened.
    let done = run(tmp.path(), T0 + 3600, T0 + 7200, 60);
    assert_eq!((done.files, done.records), (1, 4));
    let bytes = &done.rules[0].report;
    assert_eq!(bytes.aggregate_value, 15_100.0);
    let keys: Vec<String> = bytes
        .contributors
        .iter()
        .map(|c| c.keys.join("|"))
        .collect();
    assert_eq!(
        keys,
        [
            "10.0.0.3|10.0.1.6",
            "198.51.100.8|10.0.1.9",
            "198.51.100.7|10.0.1.9"
        ]
    );
    // Per minute: all four records start in the minute 23:00.
    let minutes: Vec<i64> = bytes
        .metric_datapoints
        .as_ref()
        .expect("metrics")
        .iter()
        .map(|p| (p.timestamp.0 / 1000 - T0 - 3600) / 60)
        .collect();
    assert_eq!(minutes, [0]);

    // An empty store region and a bad request.
    let none = run(tmp.path(), T0 - 7200, T0, 3600);
    assert_eq!((none.files, none.records), (0, 0));
    assert!(none.rules.iter().all(|r| r.report.contributors.is_empty()));
    let err = contributor_reports(
        tmp.path(),
        &check(
            &Definitions::read(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/monitor.json"),
            )
            .expect("example"),
        )
        .insight_rules,
        &ReportRequest::new(T0 * 1000, T0 * 1000, 60),
    )
    .expect_err("empty range");
    assert!(
        err.to_string()
            .starts_with("EndTime: must be after StartTime"),
        "{err}"
    );
}
