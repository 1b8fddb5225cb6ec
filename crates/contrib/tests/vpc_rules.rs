//! The three VPC Flow Logs sample rules of the Contributor Insights docs (spec §4.2) on a small
//! fixture of default-format records, every expected value worked out by hand below, plus
//! the `describe-insight-rules` shape and the exact JSON of a report.

use flowwatch_contrib::{
    DescribeInsightRulesOutput, InsightRuleMetric, InsightRuleReport, MetricPoint, OrderBy,
    ReportRequest, RuleBody, RuleEngine, RuleState, compile,
};
use serde_json::json;

const GROUP: &str = "/aws/vpc/flows";

/// 2023-11-14T22:00:00Z: every record below is `(seconds after T0, line)`.
const T0: i64 = 1_699_999_200;

/// Minute 0: L1–L4. Minute 1: L5–L8. Minute 2: L9.
const RECORDS: [(i64, &str); 9] = [
    (
        5,
        "2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49152 443 6 10 5000 1699999205 1699999265 ACCEPT OK",
    ),
    (
        10,
        "2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49153 443 6 4 1200 1699999210 1699999270 ACCEPT OK",
    ),
    (
        20,
        "2 123456789012 eni-aaa 10.0.0.2 10.0.1.5 50000 80 6 3 900 1699999220 1699999280 ACCEPT OK",
    ),
    (
        30,
        "2 123456789012 eni-bbb 198.51.100.7 10.0.1.9 40000 22 6 1 40 1699999230 1699999290 REJECT OK",
    ),
    (
        65,
        "2 123456789012 eni-bbb 198.51.100.7 10.0.1.9 40001 22 6 1 40 1699999265 1699999325 REJECT OK",
    ),
    (
        70,
        "2 123456789012 eni-bbb 198.51.100.8 10.0.1.9 53 53 17 1 60 1699999270 1699999330 REJECT OK",
    ),
    (
        80,
        "2 123456789012 eni-aaa 10.0.0.3 10.0.1.6 49200 443 6 20 15000 1699999280 1699999340 ACCEPT OK",
    ),
    (
        90,
        "2 123456789012 eni-ccc - - - - - - - 1699999290 1699999350 - NODATA",
    ),
    (
        130,
        "2 123456789012 eni-bbb 203.0.113.9 10.0.1.9 41000 3389 6 2 80 1699999330 1699999390 REJECT OK",
    ),
];

fn rule(fields: &str, contribution: &str) -> String {
    format!(
        r#"{{"Schema": {{"Name": "CloudWatchLogRule", "Version": 1}},
            "LogGroupNames": ["/aws/vpc/*"], "LogFormat": "CLF", "Fields": {fields},
            "Contribution": {contribution}, "AggregateOn": "Sum"}}"#
    )
}

fn bytes_rule() -> String {
    rule(
        r#"{"4": "srcaddr", "5": "dstaddr", "10": "bytes"}"#,
        r#"{"Keys": ["srcaddr", "dstaddr"], "ValueOf": "bytes", "Filters": []}"#,
    )
}

fn https_rule() -> String {
    rule(
        r#"{"5": "destination address", "7": "destination port", "9": "packet count"}"#,
        r#"{"Keys": ["destination address"], "ValueOf": "packet count",
            "Filters": [{"Match": "destination port", "EqualTo": 443}]}"#,
    )
}

fn rejected_rule() -> String {
    rule(
        r#"{"3": "interfaceID", "4": "sourceAddress", "8": "protocol", "13": "action"}"#,
        r#"{"Keys": ["interfaceID", "sourceAddress"],
            "Filters": [{"Match": "protocol", "EqualTo": 6}, {"Match": "action", "In": ["REJECT"]}]}"#,
    )
}

fn engine(period_secs: u32) -> RuleEngine {
    let rules = [
        ("Bytes", bytes_rule()),
        ("Https", https_rule()),
        ("RejectedTcp", rejected_rule()),
    ]
    .map(|(name, text)| {
        compile(name, &RuleBody::parse(name, &text).expect("parses")).expect("valid")
    });
    let mut e = RuleEngine::with_period(rules, period_secs).expect("engine");
    for (offset, line) in RECORDS {
        e.observe(GROUP, (T0 + offset) * 1000, line);
    }
    // Another group: no rule reads it.
    e.observe("/other", T0 * 1000, RECORDS[0].1);
    e
}

fn at(minute: i64) -> i64 {
    (T0 + 60 * minute) * 1000
}

/// A report for the three minutes after T0.
fn report(e: &RuleEngine, rule: &str, period: u32, order_by: OrderBy) -> InsightRuleReport {
    let mut req = ReportRequest::new(at(0), at(3), period);
    req.order_by = order_by;
    e.report(rule, &req).expect("report")
}

/// A contributor as (keys joined by `|`, aggregate value, [(minute, value)]).
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
                    .map(|d| ((d.timestamp.0 / 1000 - T0) / 60, d.approximate_value))
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
fn bytes_by_source_and_destination() {
    let e = engine(60);
    let r = report(&e, "Bytes", 60, OrderBy::Sum);
    assert_eq!(r.key_labels, ["srcaddr", "dstaddr"]);
    assert_eq!(r.aggregation_statistic, "Sum");
    // 6200 + 900 + 80 + 60 + 15000 + 80; the NODATA record (bytes `-`) does not count.
    assert_eq!(r.aggregate_value, 22_320.0);
    assert_eq!(r.approximate_unique_count, 6);
    assert_eq!(
        top(&r),
        owned(&[
            ("10.0.0.3|10.0.1.6", 15_000.0, &[(1, 15_000.0)]),
            ("10.0.0.1|10.0.1.5", 6_200.0, &[(0, 6_200.0)]),
            ("10.0.0.2|10.0.1.5", 900.0, &[(0, 900.0)]),
            // A tie at 80: the smaller key tuple first.
            ("198.51.100.7|10.0.1.9", 80.0, &[(0, 40.0), (1, 40.0)]),
            ("203.0.113.9|10.0.1.9", 80.0, &[(2, 80.0)]),
            ("198.51.100.8|10.0.1.9", 60.0, &[(1, 60.0)]),
        ])
    );
    assert_eq!(e.matched("Bytes"), Some(8));

    // Ordered by each contributor's largest minute instead: 198.51.100.7 peaks at 40.
    let r = report(&e, "Bytes", 60, OrderBy::Maximum);
    let order: Vec<(String, f64)> = top(&r).into_iter().map(|(k, v, _)| (k, v)).collect();
    let want = [
        ("10.0.0.3|10.0.1.6", 15_000.0),
        ("10.0.0.1|10.0.1.5", 6_200.0),
        ("10.0.0.2|10.0.1.5", 900.0),
        ("203.0.113.9|10.0.1.9", 80.0),
        ("198.51.100.8|10.0.1.9", 60.0),
        ("198.51.100.7|10.0.1.9", 40.0),
    ];
    assert_eq!(order, want.map(|(k, v)| (k.to_string(), v)));

    // MaxContributorCount cuts the list, not the totals.
    let mut req = ReportRequest::new(at(0), at(3), 60);
    req.max_contributor_count = Some(2);
    let r = e.report("Bytes", &req).expect("report");
    assert_eq!(r.contributors.len(), 2);
    assert_eq!(r.approximate_unique_count, 6);
    assert_eq!(r.contributors[1].keys, ["10.0.0.1", "10.0.1.5"]);
}

#[test]
fn per_minute_and_hourly_metrics() {
    let e = engine(60);
    let r = report(&e, "Bytes", 60, OrderBy::Sum);
    let points = r.metric_datapoints.expect("metrics asked for");
    let rows: Vec<[f64; 8]> = points
        .iter()
        .map(|p| {
            [
                ((p.timestamp.0 / 1000 - T0) / 60) as f64,
                p.unique_contributors.unwrap_or(f64::NAN),
                p.max_contributor_value.unwrap_or(f64::NAN),
                p.sample_count.unwrap_or(f64::NAN),
                p.sum.unwrap_or(f64::NAN),
                p.minimum.unwrap_or(f64::NAN),
                p.maximum.unwrap_or(f64::NAN),
                p.average.unwrap_or(f64::NAN),
            ]
        })
        .collect();
    // minute, unique, max contributor, samples, sum, min, max, average (= sum / unique)
    assert_eq!(
        rows,
        [
            // (10.0.0.1: 5000 + 1200), (10.0.0.2: 900), (198.51.100.7: 40)
            [0.0, 3.0, 6200.0, 4.0, 7140.0, 40.0, 5000.0, 2380.0],
            // (198.51.100.7: 40), (198.51.100.8: 60), (10.0.0.3: 15000); NODATA skipped
            [
                1.0,
                3.0,
                15000.0,
                3.0,
                15100.0,
                40.0,
                15000.0,
                15100.0 / 3.0
            ],
            [2.0, 1.0, 80.0, 1.0, 80.0, 80.0, 80.0, 80.0],
        ]
    );

    // One hour: the minutes merged. The maximum single observation stays 15000, and the
    // largest contributor is still 10.0.0.3 (15000 > 6200).
    let r = report(&e, "Bytes", 3600, OrderBy::Sum);
    let p = &r.metric_datapoints.as_ref().expect("metrics")[0];
    assert_eq!(p.timestamp.0, T0 * 1000);
    assert_eq!(
        (p.unique_contributors, p.sample_count, p.sum, p.average),
        (Some(6.0), Some(8.0), Some(22_320.0), Some(3_720.0))
    );
    assert_eq!(
        r.contributors[3].datapoints.len(),
        1,
        "one hourly datapoint"
    );
    assert_eq!(r.contributors[3].datapoints[0].approximate_value, 80.0);

    // An engine counting per hour gives the same hourly report.
    let hourly = engine(3600);
    assert_eq!(report(&hourly, "Bytes", 3600, OrderBy::Sum), r);
    // ... but cannot answer per minute.
    let err = hourly
        .report("Bytes", &ReportRequest::new(at(0), at(3), 60))
        .expect_err("finer than the engine");
    assert!(
        err.to_string()
            .starts_with("Period: must be a positive multiple"),
        "{err}"
    );

    // INSIGHT_RULE_METRIC, as an alarm would read it.
    let max = e
        .metric(
            "Bytes",
            InsightRuleMetric::MaxContributorValue,
            at(0),
            at(3),
            60,
        )
        .expect("metric");
    assert_eq!(
        max,
        [(0, 6200.0), (1, 15000.0), (2, 80.0)].map(|(m, v)| MetricPoint {
            timestamp_ms: at(m),
            value: v
        })
    );
    let later = e
        .metric(
            "Bytes",
            InsightRuleMetric::UniqueContributors,
            at(1),
            at(2),
            60,
        )
        .expect("metric");
    assert_eq!(
        later,
        [MetricPoint {
            timestamp_ms: at(1),
            value: 3.0
        }]
    );
}

#[test]
fn https_requests_by_destination() {
    let r = report(&engine(60), "Https", 60, OrderBy::Sum);
    assert_eq!(r.key_labels, ["destination address"]);
    // Packets of the three flows to port 443: 10 + 4 to 10.0.1.5, 20 to 10.0.1.6.
    assert_eq!(r.aggregate_value, 34.0);
    assert_eq!(
        top(&r),
        owned(&[
            ("10.0.1.6", 20.0, &[(1, 20.0)]),
            ("10.0.1.5", 14.0, &[(0, 14.0)]),
        ])
    );
}

#[test]
fn rejected_tcp_counts_one_per_match() {
    let e = engine(60);
    let r = report(&e, "RejectedTcp", 60, OrderBy::Sum);
    // Sum without ValueOf: +1 per matched record. The rejected UDP flow (protocol 17) is out.
    assert_eq!(r.aggregation_statistic, "Sum");
    assert_eq!(r.aggregate_value, 3.0);
    assert_eq!(
        top(&r),
        owned(&[
            ("eni-bbb|198.51.100.7", 2.0, &[(0, 1.0), (1, 1.0)]),
            ("eni-bbb|203.0.113.9", 1.0, &[(2, 1.0)]),
        ])
    );
    let points = r.metric_datapoints.expect("metrics");
    assert!(
        points
            .iter()
            .all(|p| p.minimum == Some(1.0) && p.maximum == Some(1.0))
    );
}

#[test]
fn report_json_has_the_aws_shape() {
    let e = engine(60);
    let mut req = ReportRequest::new(at(2), at(3), 60);
    req.metrics = vec![
        InsightRuleMetric::UniqueContributors,
        InsightRuleMetric::Sum,
    ];
    let r = e.report("RejectedTcp", &req).expect("report");
    assert_eq!(
        serde_json::to_value(&r).expect("serialises"),
        json!({
            "KeyLabels": ["interfaceID", "sourceAddress"],
            "AggregationStatistic": "Sum",
            "AggregateValue": 1.0,
            "ApproximateUniqueCount": 1,
            "Contributors": [{
                "Keys": ["eni-bbb", "203.0.113.9"],
                "ApproximateAggregateValue": 1.0,
                "Datapoints": [{"Timestamp": "2023-11-14T22:02:00+00:00", "ApproximateValue": 1.0}]
            }],
            "MetricDatapoints": [{
                "Timestamp": "2023-11-14T22:02:00+00:00", "UniqueContributors": 1.0, "Sum": 1.0
            }]
        })
    );
    // No metrics asked for: no MetricDatapoints at all (as AWS answers).
    req.metrics.clear();
    let v = serde_json::to_value(e.report("RejectedTcp", &req).expect("report")).expect("json");
    assert!(v.get("MetricDatapoints").is_none(), "{v}");
    // An empty range is a report with nothing in it.
    let v = serde_json::to_value(
        e.report("Https", &ReportRequest::new(at(5), at(6), 60))
            .expect("report"),
    )
    .expect("json");
    assert_eq!(v["Contributors"], json!([]));
    assert_eq!(v["MetricDatapoints"], json!([]));
    assert_eq!(v["AggregateValue"], json!(0.0));
}

#[test]
fn bad_requests_name_the_parameter() {
    let e = engine(60);
    let msg = |req: ReportRequest| e.report("Bytes", &req).expect_err("refused").to_string();
    assert!(
        msg(ReportRequest::new(at(1), at(1), 60)).starts_with("EndTime: must be after StartTime")
    );
    assert!(msg(ReportRequest::new(at(0), at(1), 90)).starts_with("Period:"));
    let mut req = ReportRequest::new(at(0), at(1), 60);
    req.max_contributor_count = Some(101);
    assert!(msg(req).starts_with("MaxContributorCount: must be 1 to 100"));
    let err = e
        .report("Nope", &ReportRequest::new(at(0), at(1), 60))
        .expect_err("unknown");
    assert_eq!(err.to_string(), "no rule named \"Nope\"");
}

#[test]
fn json_rules_follow_paths() {
    // Route 53 resolver style: NXDOMAIN answers by source address.
    let text = r#"{"Schema": {"Name": "CloudWatchLogRule", "Version": 1}, "LogGroupNames": ["dns"],
        "LogFormat": "JSON", "AggregateOn": "Count",
        "Contribution": {"Keys": ["$.srcaddr", "$.query.types[0]"],
            "Filters": [{"Match": "$.rcode", "StartsWith": ["NXDOMAIN"]}]}}"#;
    let r = compile("Nx", &RuleBody::parse("Nx", text).expect("parses")).expect("valid");
    let mut e = RuleEngine::new([r]).expect("engine");
    let events = [
        r#"{"srcaddr":"10.0.0.1","rcode":"NXDOMAIN","query":{"types":["A"]}}"#,
        r#"{"srcaddr":"10.0.0.1","rcode":"NXDOMAIN","query":{"types":["A","AAAA"]}}"#,
        r#"{"srcaddr":"10.0.0.2","rcode":"NXDOMAIN","query":{"types":["AAAA"]}}"#,
        r#"{"srcaddr":"10.0.0.2","rcode":"NOERROR","query":{"types":["AAAA"]}}"#,
        r#"{"srcaddr":"10.0.0.3","rcode":"NXDOMAIN","query":{"types":[]}}"#,
        "not json at all",
    ];
    for (i, ev) in events.iter().enumerate() {
        e.observe("dns", 1000 * i as i64, ev);
    }
    let r = e
        .report("Nx", &ReportRequest::new(0, 60_000, 60))
        .expect("report");
    assert_eq!(r.aggregation_statistic, "Count");
    let got: Vec<(Vec<String>, f64)> = r
        .contributors
        .iter()
        .map(|c| (c.keys.clone(), c.approximate_aggregate_value))
        .collect();
    let want = [(["10.0.0.1", "A"], 2.0), (["10.0.0.2", "AAAA"], 1.0)];
    assert_eq!(got, want.map(|(k, v)| (k.map(String::from).to_vec(), v)));
}

#[test]
fn describe_insight_rules_output_parses_and_compiles() {
    // As `aws cloudwatch describe-insight-rules` prints it: Definition is a JSON string.
    let definition = serde_json::to_string(&bytes_rule()).expect("quoted");
    let text = format!(
        r#"{{"InsightRules": [
            {{"Name": "Bytes", "State": "ENABLED", "Schema": "CloudWatchLogRule/1",
              "Definition": {definition}, "ManagedRule": false}},
            {{"Name": "Old", "State": "DISABLED", "Schema": "CloudWatchLogRule/1",
              "Definition": {definition}, "ManagedRule": false, "ApplyOnTransformedLogs": false}}
        ], "NextToken": "abc"}}"#
    );
    let out: DescribeInsightRulesOutput = serde_json::from_str(&text).expect("parses");
    assert_eq!(out.insight_rules.len(), 2);
    assert_eq!(out.insight_rules[1].state, RuleState::Disabled);
    let mut e = RuleEngine::from_insight_rules(&out.insight_rules).expect("valid");
    for (offset, line) in RECORDS {
        e.observe(GROUP, (T0 + offset) * 1000, line);
    }
    assert_eq!(e.matched("Bytes"), Some(8));
    assert_eq!(e.matched("Old"), Some(0), "a DISABLED rule counts nothing");

    // Every problem of every rule, each naming its rule.
    let mut bad = out.insight_rules.clone();
    bad[0].definition = bad[0]
        .definition
        .replace("\"srcaddr\", \"dstaddr\"", "\"src\"");
    bad[1].definition = "{\"Schema\":".into();
    let err = RuleEngine::from_insight_rules(&bad)
        .expect_err("invalid")
        .to_string();
    assert!(
        err.contains("rule \"Bytes\": Contribution.Keys[0]: unknown CLF field \"src\""),
        "{err}"
    );
    assert!(
        err.contains("rule \"Old\": Definition: not valid JSON: line 1, column 10"),
        "{err}"
    );
}
