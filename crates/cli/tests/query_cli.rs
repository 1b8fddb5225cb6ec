//! End-to-end tests of `flowwatch query`, `flowwatch sql` and `flowwatch athena-ddl` on the
//! demo's day of flow logs: every VPC sample query from the AWS documentation runs unchanged,
//! output formats have the documented shapes, errors exit 1 with a caret, and SQL agrees with
//! Logs Insights.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The demo day (2026-11-02) starts at this epoch second.
const DAY: i64 = 1_793_577_600;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowwatch"))
}

fn run(data: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("flowwatch runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// A data directory holding the demo day at a small scale.
fn demo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = tmp.path().join("demo");
    let out = run(
        &data,
        &["demo", "--scale", "0.05", "--dir", dir.to_str().unwrap()],
    );
    assert!(out.status.success(), "demo failed: {}", stderr(&out));
    (tmp, data)
}

fn query(data: &Path, q: &str) -> Vec<Value> {
    let v = json(&run(
        data,
        &["query", "-g", "demo/vpc-flow-logs", "-o", "json", q],
    ));
    v.as_array().expect("an array of rows").clone()
}

/// The VPC examples of CWL_QuerySyntax-examples and the console's sample list (spec §1.8),
/// exactly as AWS prints them, with the rows each must give on the demo day.
#[test]
fn aws_sample_queries_run_unchanged_on_demo_data() {
    let (_tmp, data) = demo();
    let samples: &[(&str, &str, bool)] = &[
        (
            "V1",
            "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred  desc | limit 15",
            true,
        ),
        (
            "V2",
            "filter isIpv4InSubnet(srcAddr, \"10.0.0.0/8\") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15",
            true,
        ),
        ("V3", "filter protocol=17 | stats count(*) by srcAddr", true),
        (
            "V4",
            "filter logStatus=\"SKIPDATA\" | stats count(*) by bin(1h) as t | sort t",
            false,
        ),
        (
            "V5",
            "fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes | filter logStream = 'vpc-flow-logs' and interfaceId = 'eni-0123456789abcdef0' | sort @timestamp desc | dedup srcAddr, dstAddr, srcPort, dstPort, protocol | limit 20",
            false,
        ),
        (
            "V6",
            "stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr",
            true,
        ),
        (
            "V7",
            "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
            true,
        ),
        (
            "V8",
            "filter action=\"REJECT\" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20",
            true,
        ),
        (
            "V9",
            "filter (dstAddr like '10.0.' and srcAddr like '10.0.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
            true,
        ),
        ("V10", "stats avg(bytes), max(bytes) by dstAddr", true),
        (
            "V11",
            "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
            true,
        ),
        ("V12", "stats sum(bytes) as b by bin(5m)", true),
        (
            "console: recent flows",
            "fields @timestamp, @message | sort @timestamp desc | limit 20",
            true,
        ),
        (
            "console: REJECT by port",
            "filter action = 'REJECT' | stats count(*) as rejections by dstPort | sort rejections desc | limit 10",
            true,
        ),
    ];
    for (name, q, nonempty) in samples {
        let rows = query(&data, q);
        assert!(
            !*nonempty || !rows.is_empty(),
            "{name} gave no rows on the demo day: {q}"
        );
        assert!(rows.len() <= 10_000, "{name}: row cap");
    }
    // Shapes: V1 columns in query order, sorted descending, at most 15 rows.
    let v1 = query(&data, samples[0].1);
    assert!(v1.len() <= 15);
    // Keys in the query's output order (serde_json's Value sorts them, so read the text).
    let raw = stdout(&run(
        &data,
        &[
            "query",
            "-g",
            "demo/vpc-flow-logs",
            "-o",
            "ndjson",
            samples[0].1,
        ],
    ));
    let first = raw.lines().next().unwrap();
    let at = |k: &str| first.find(&format!("\"{k}\"")).unwrap();
    assert!(
        at("srcAddr") < at("dstAddr") && at("dstAddr") < at("packetsTransferred"),
        "{first}"
    );
    let p: Vec<i64> = v1
        .iter()
        .map(|r| r["packetsTransferred"].as_i64().unwrap())
        .collect();
    assert!(p.windows(2).all(|w| w[0] >= w[1]), "{p:?}");
    // V12: every bin on a 5-minute boundary.
    for r in query(&data, "stats sum(bytes) as b by bin(5m)") {
        let t = r["bin(5m)"].as_str().unwrap();
        let minute: u32 = t[14..16].parse().unwrap();
        assert!(minute.is_multiple_of(5) && t.ends_with(":00.000"), "{t}");
    }
}

#[test]
fn output_formats_have_the_documented_shapes() {
    let (_tmp, data) = demo();
    let q = "filter action = 'REJECT' | stats count(*) as n by dstPort | sort n desc | limit 3";
    let cw = json(&run(
        &data,
        &["query", "-g", "demo/vpc-flow-logs", "-o", "cloudwatch", q],
    ));
    assert_eq!(cw["status"], "Complete");
    let rows = cw["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        for cell in row.as_array().unwrap() {
            assert!(
                cell["field"].is_string() && cell["value"].is_string(),
                "{cell}"
            );
        }
    }
    let stats = &cw["statistics"];
    assert!(stats["recordsScanned"].as_f64().unwrap() > 0.0);
    assert!(stats["recordsMatched"].as_f64().unwrap() <= stats["recordsScanned"].as_f64().unwrap());
    assert!(stats["bytesScanned"].as_f64().unwrap() > 0.0);

    let csv = run(
        &data,
        &["query", "-g", "demo/vpc-flow-logs", "-o", "csv", q],
    );
    let text = stdout(&csv);
    assert_eq!(text.lines().next(), Some("dstPort,n"));
    assert_eq!(text.lines().count(), 4);

    let nd = run(
        &data,
        &["query", "-g", "demo/vpc-flow-logs", "-o", "ndjson", q],
    );
    for line in stdout(&nd).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["n"].is_number(), "typed values: {line}");
    }

    let table = run(&data, &["query", "-g", "demo/vpc-flow-logs", q]);
    assert!(table.status.success());
    assert!(stdout(&table).contains("dstPort"));
    assert!(
        stderr(&table).contains("records scanned"),
        "{}",
        stderr(&table)
    );
}

#[test]
fn time_ranges_prune_partitions() {
    let (_tmp, data) = demo();
    let count = |args: &[&str]| -> (i64, f64) {
        let mut a = vec!["query", "-g", "demo/vpc-flow-logs", "-o", "cloudwatch"];
        a.extend_from_slice(args);
        // A filter, so the count reads a column (a bare count(*) is answered from footers).
        a.push("filter ispresent(srcAddr) | stats count(*) as n");
        let v = json(&run(&data, &a));
        let n = v["results"][0][0]["value"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        (n, v["statistics"]["bytesScanned"].as_f64().unwrap())
    };
    let (all, all_bytes) = count(&[]);
    let start = (DAY + 3 * 3600).to_string();
    let end = (DAY + 4 * 3600).to_string();
    let (hour, hour_bytes) = count(&["--start", &start, "--end", &end]);
    assert!(hour > 0 && hour < all, "{hour} of {all}");
    // Footers are read whole, so at this small scale an hour costs about a ninth of the day.
    assert!(
        hour_bytes * 4.0 < all_bytes,
        "one hour reads a fraction: {hour_bytes} of {all_bytes}"
    );
    // ISO-8601 and milliseconds name the same range.
    let (iso, _) = count(&[
        "--start",
        "2026-11-02T03:00:00Z",
        "--end",
        &((DAY + 4 * 3600) * 1000).to_string(),
    ]);
    assert_eq!(iso, hour);
    // SQL over the same hour partition agrees.
    let sql = json(&run(
        &data,
        &[
            "sql",
            "-o",
            "json",
            "SELECT count(*) AS n FROM \"demo/vpc-flow-logs\" WHERE day = '02' AND hour = '03' AND srcaddr IS NOT NULL",
        ],
    ));
    assert_eq!(sql[0]["n"].as_i64(), Some(hour));
    let bad = run(
        &data,
        &["query", "--start", "yesterday-ish", "stats count(*)"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("cannot read the time"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn query_errors_exit_1_with_a_caret_and_a_suggestion() {
    let (_tmp, data) = demo();
    let out = run(&data, &["query", "stats count(*) by srcAdr"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains('^') && e.contains("did you mean `srcAddr`"),
        "{e}"
    );
    let out = run(&data, &["query", "-g", "nope", "stats count(*)"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("log-groups list"), "{}", stderr(&out));
}

#[test]
fn sql_agrees_with_logs_insights_and_only_reads() {
    let (_tmp, data) = demo();
    let insights = query(
        &data,
        "filter action = 'REJECT' | stats count(*) as n by dstPort | sort n desc, dstPort | limit 5",
    );
    let sql = json(&run(
        &data,
        &[
            "sql",
            "-o",
            "json",
            "SELECT dstport AS \"dstPort\", count(*) AS n FROM \"demo/vpc-flow-logs\" WHERE action = 'REJECT' GROUP BY dstport ORDER BY n DESC, dstport LIMIT 5",
        ],
    ));
    assert_eq!(sql.as_array().unwrap(), &insights);
    // The all-groups view holds both demo groups.
    let v = json(&run(
        &data,
        &[
            "sql",
            "-o",
            "json",
            "SELECT log_group, count(*) AS n FROM flow_logs GROUP BY log_group ORDER BY log_group",
        ],
    ));
    let groups: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["log_group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["demo/vpc-flow-logs", "demo/vpc-flow-logs-parquet"]);
    // Writes are refused and the store is untouched.
    for stmt in [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE flow_logs",
        "INSERT INTO flow_logs SELECT * FROM flow_logs",
    ] {
        let out = run(&data, &["sql", stmt]);
        assert_eq!(out.status.code(), Some(1), "{stmt} must fail");
    }
    let out = run(&data, &["sql", "SELECT * FROM no_such_table"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\"demo/vpc-flow-logs\""),
        "{}",
        stderr(&out)
    );
    let tables = run(&data, &["sql", "--tables", "-o", "csv"]);
    assert!(tables.status.success(), "{}", stderr(&tables));
    let t = stdout(&tables);
    for want in ["flow_logs,srcaddr", "demo/vpc-flow-logs,hour,Utf8"] {
        assert!(t.contains(want), "--tables lacks {want}: {t}");
    }
}

#[test]
fn athena_ddl_describes_every_stored_column() {
    let (_tmp, data) = demo();
    let out = run(
        &data,
        &[
            "athena-ddl",
            "-g",
            "demo/vpc-flow-logs",
            "--location",
            "s3://bucket/fw/",
            "--database",
            "netlogs",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ddl = stdout(&out);
    for want in [
        "CREATE DATABASE IF NOT EXISTS `netlogs`;",
        "CREATE EXTERNAL TABLE IF NOT EXISTS `netlogs`.`demo_vpc_flow_logs` (",
        "  `srcaddr` string,",
        "  `dstport` int,",
        "  `bytes` bigint,",
        "  `end` bigint,",
        "  `timestamp` timestamp,",
        "PARTITIONED BY (`year` string, `month` string, `day` string, `hour` string)",
        "STORED AS PARQUET",
        "LOCATION 's3://bucket/fw/groups/demo%2Fvpc-flow-logs/'",
        "'projection.enabled'='true'",
        "'projection.year.range'='2026,2031'",
        "'storage.location.template'='s3://bucket/fw/groups/demo%2Fvpc-flow-logs/year=${year}/month=${month}/day=${day}/hour=${hour}'",
    ] {
        assert!(ddl.contains(want), "DDL lacks {want:?}:\n{ddl}");
    }
    let trino = stdout(&run(
        &data,
        &["athena-ddl", "--dialect", "trino", "--database", "hive.net"],
    ));
    assert!(
        trino.contains("partitioned_by = ARRAY['year', 'month', 'day', 'hour']"),
        "{trino}"
    );
    assert!(
        trino.contains("CALL system.sync_partition_metadata('net', 'demo_vpc_flow_logs', 'ADD');"),
        "{trino}"
    );
}

#[test]
fn lookup_and_diff_from_the_command_line() {
    let (tmp, data) = demo();
    let csv = tmp.path().join("ports.csv");
    std::fs::write(&csv, "port,service\n22,ssh\n443,https\n3389,rdp\n").unwrap();
    let v = json(&run(
        &data,
        &[
            "query",
            "-g",
            "demo/vpc-flow-logs",
            "-o",
            "json",
            "--lookup-table",
            &format!("svc={}", csv.display()),
            "filter action = 'REJECT' | lookup svc port as dstPort OUTPUT service | filter ispresent(service) | stats count(*) as n by service | sort service",
        ],
    ));
    let services: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service"].as_str().unwrap())
        .collect();
    assert!(services.contains(&"ssh"), "{services:?}");
    let bad = run(&data, &["query", "--lookup-table", "svc", "stats count(*)"]);
    assert_eq!(bad.status.code(), Some(2), "usage error");

    // The afternoon against the morning: same length, just before.
    let v = json(&run(
        &data,
        &[
            "query",
            "-g",
            "demo/vpc-flow-logs",
            "-o",
            "json",
            "--start",
            &(DAY + 12 * 3600).to_string(),
            "--end",
            &(DAY + 24 * 3600).to_string(),
            "filter protocol = 1 | stats count(*) as pings by srcAddr, dstAddr | diff",
        ],
    ));
    let rows = v.as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        let state = r["@diff"].as_str().unwrap();
        assert!(["new", "gone", "same", "changed"].contains(&state), "{r}");
        if state == "new" {
            assert!(r["pings_previous"].is_null());
        }
    }
    let out = run(&data, &["query", "stats count(*) by srcAddr | diff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--start and --end"),
        "{}",
        stderr(&out)
    );
}
