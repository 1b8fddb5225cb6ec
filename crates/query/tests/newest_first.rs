//! Newest-first execution: a raw-event query in `@timestamp` descending order with its limit
//! last runs over the newest hour partitions first and stops when it has its rows. Each query
//! here is compared with the same question asked so that it runs over the whole store in one
//! plan (a trailing `fields` after the `limit` turns the optimisation off), over a store whose
//! hours have different columns (`vpc-id` only in the older hours).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use flowwatch_query::{InsightsOptions, QueryEngine, QueryStats};

mod common;

/// An hour boundary (epoch seconds).
const BASE: i64 = 1_699_999_200;
const HOURS: i64 = 6;
const PER_HOUR: i64 = 5;

fn line(h: i64, i: i64, with_vpc: bool) -> String {
    let start = BASE + h * 3600 + i * 600;
    let action = if i % 2 == 0 { "ACCEPT" } else { "REJECT" };
    let port = if i % 3 == 0 { 443 } else { 22 };
    let v2 = format!(
        "2 123456789012 eni-{h:02} 10.0.{h}.{i} 203.0.113.{i} {} {port} 6 {} {} {start} {} {action} OK",
        40000 + i,
        i + 1,
        (i + 1) * 100,
        start + 59
    );
    if with_vpc {
        format!("{v2} vpc-0{h}")
    } else {
        v2
    }
}

fn build_store(dir: &Path) -> std::path::PathBuf {
    // Older hours: a header with vpc-id; the newest two hours: the default format, no header.
    let old = dir.join("old.log");
    let mut text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id\n".to_string();
    for h in 0..HOURS - 2 {
        for i in 0..PER_HOUR {
            text.push_str(&line(h, i, true));
            text.push('\n');
        }
    }
    std::fs::write(&old, text).unwrap();
    let new = dir.join("new.log");
    let mut text = String::new();
    for h in HOURS - 2..HOURS {
        for i in 0..PER_HOUR {
            text.push_str(&line(h, i, false));
            text.push('\n');
        }
    }
    std::fs::write(&new, text).unwrap();
    let data = dir.join("data");
    for file in [&old, &new] {
        common::ingest(&data, "vpc", file);
    }
    data
}

fn run(
    engine: &QueryEngine,
    q: &str,
    options: &InsightsOptions,
) -> (Vec<String>, Vec<Vec<Option<String>>>, QueryStats) {
    let out = engine
        .insights(q, options)
        .unwrap_or_else(|e| panic!("{q}: {}", e.render(q)));
    (out.columns.clone(), out.rows(), out.stats)
}

#[test]
fn newest_first_gives_the_whole_store_answer_and_reads_less() {
    let tmp = tempfile::tempdir().unwrap();
    let data = build_store(tmp.path());
    let engine = QueryEngine::open(&data).unwrap();
    let options = InsightsOptions::default();
    let ranged = InsightsOptions {
        start_ms: Some((BASE + 3600 + 1200) * 1000),
        end_ms: Some((BASE + 5 * 3600 - 600) * 1000),
        ..InsightsOptions::default()
    };
    // (query, its whole-store twin, options, rows expected)
    let cases = [
        (
            "fields @timestamp, srcAddr, dstPort | sort @timestamp desc | limit 7",
            "fields @timestamp, srcAddr, dstPort | sort @timestamp desc | limit 7 | fields @timestamp",
            &options,
            7,
        ),
        (
            // vpcId lives only in the older hours, which the first chunk does not read.
            "filter dstPort = 443 | fields @timestamp, vpcId, srcAddr | limit 5",
            "filter dstPort = 443 | fields @timestamp, vpcId, srcAddr | limit 5 | fields vpcId",
            &options,
            5,
        ),
        (
            "fields @timestamp, @message | sort @timestamp desc | limit 12",
            "fields @timestamp, @message | sort @timestamp desc | limit 12 | fields @message",
            &options,
            12,
        ),
        (
            r#"filter action = "REJECT""#,
            r#"filter action = "REJECT" | limit 10000 | fields @timestamp, @message"#,
            &options,
            (HOURS * 2) as usize,
        ),
        (
            "fields @timestamp, interfaceId | limit 4",
            "fields @timestamp, interfaceId | limit 4 | fields interfaceId",
            &ranged,
            4,
        ),
        (
            "fields @timestamp, interfaceId",
            "fields @timestamp, interfaceId | limit 100 | fields interfaceId",
            &ranged,
            // hour 1 from minute 20 (3 records), hours 2 and 3, hour 4 up to minute 50 (all 5).
            (3 + 3 * PER_HOUR) as usize,
        ),
    ];
    // `dedup`: the first row per key over the whole store is in the newest chunk with the key.
    // (Two `sort`s, the last one deciding, make the whole-store twin.)
    let dedup_cases = [
        (
            "filter action = \"REJECT\" | fields @timestamp, srcAddr, dstPort | dedup dstPort | limit 2",
            "sort bytes | sort @timestamp desc | filter action = \"REJECT\" | fields @timestamp, srcAddr, dstPort | dedup dstPort | limit 2",
            &options,
            2,
        ),
        (
            // The same five source ports every hour: keys repeat across chunks.
            "fields @timestamp, srcPort | dedup srcPort",
            "sort bytes | sort @timestamp desc | fields @timestamp, srcPort | dedup srcPort",
            &options,
            PER_HOUR as usize,
        ),
        (
            // The key is not an output column: the whole store in one plan, same answer.
            "fields @timestamp | dedup srcPort | limit 3",
            "sort bytes | sort @timestamp desc | fields @timestamp | dedup srcPort | limit 3",
            &options,
            3,
        ),
    ];
    for (q, twin, options, rows) in cases.into_iter().chain(dedup_cases) {
        let (columns, got, stats) = run(&engine, q, options);
        let (twin_columns, want, twin_stats) = run(&engine, twin, options);
        assert_eq!(columns, twin_columns, "{q}");
        assert_eq!(got, want, "{q}");
        assert_eq!(got.len(), rows, "{q}");
        assert_eq!(
            stats.files_scanned + stats.files_pruned,
            twin_stats.files_scanned + twin_stats.files_pruned,
            "{q}: every file is counted once"
        );
        assert!(
            stats.files_scanned <= twin_stats.files_scanned,
            "{q}: {stats:?} vs {twin_stats:?}"
        );
    }
    // Both rejected ports are in the newest hour: the dedup stops after one file.
    let (_, _, stats) = run(&engine, dedup_cases[0].0, &options);
    assert_eq!(stats.files_scanned, 1, "{stats:?}");
    // Seven newest rows need the two newest hours: the first chunk (one hour, five rows) and
    // the second (two hours); the three older hours are never opened.
    let (_, _, stats) = run(&engine, cases[0].0, &options);
    let (_, _, twin) = run(&engine, cases[0].1, &options);
    assert!(stats.files_pruned >= 3, "{stats:?}");
    // (Bytes and records are not compared: DataFusion's own top-k pruning in the whole-store
    // plan depends on thread timing.)
    assert_eq!(
        (stats.files_scanned, twin.files_scanned),
        (3, 6),
        "{stats:?} vs {twin:?}"
    );
    // The newest row first, the sort descending across chunk boundaries.
    let (_, rows, _) = run(&engine, cases[0].0, &options);
    let times: Vec<&str> = rows.iter().map(|r| r[0].as_deref().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
}

/// A filter pushed into the Parquet scan (the query reads whole records) still counts every
/// record of the range as scanned and only the kept ones as matched, as CloudWatch reports.
#[test]
fn filter_push_down_keeps_cloudwatch_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let data = build_store(tmp.path());
    let engine = QueryEngine::open(&data).unwrap();
    let q = r#"filter action = "REJECT" | parse @message "* * * *" as v, acct, eni, rest | stats count(*) as n"#;
    let (_, rows, stats) = run(&engine, q, &InsightsOptions::default());
    let rejected = HOURS * 2;
    assert_eq!(rows, vec![vec![Some(rejected.to_string())]]);
    assert_eq!(
        stats.records_scanned,
        (HOURS * PER_HOUR) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.records_matched, rejected as u64, "{stats:?}");
}
