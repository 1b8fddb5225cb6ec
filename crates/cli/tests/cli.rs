//! End-to-end tests of the `flowwatch` binary: ingest reports, idempotency, bad input, exit
//! codes, log-group management, retention, crash safety, and third-party readers of the store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use flate2::Compression;
use flate2::write::GzEncoder;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
/// 2026-11-02T00:00:00Z
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

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `flowwatch ingest PATH -g GROUP -o json`, parsed.
fn ingest_json(data: &Path, path: &Path, group: &str) -> Value {
    json(&run(
        data,
        &["ingest", path.to_str().unwrap(), "-g", group, "-o", "json"],
    ))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Record `i`: `bytes` is 1000 + i, so every record is identifiable.
fn record(i: u64) -> String {
    format!(
        "2 123456789012 eni-{:017x} 10.0.{}.{} 10.1.0.5 {} 443 6 10 {} {} {} ACCEPT OK",
        i % 7,
        (i / 250) % 250,
        i % 250 + 1,
        32768 + i % 20000,
        1000 + i,
        DAY + (i % 7200) as i64,
        DAY + (i % 7200) as i64 + 30
    )
}

fn write_gz(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = GzEncoder::new(File::create(path).unwrap(), Compression::fast());
    writeln!(gz, "{HEADER}").unwrap();
    for l in lines {
        writeln!(gz, "{l}").unwrap();
    }
    gz.finish().unwrap();
}

/// `bytes` of every stored record of a group, sorted.
fn stored_bytes(data: &Path, group_dir: &str) -> Vec<i64> {
    let mut files = Vec::new();
    collect(&data.join("groups").join(group_dir), &mut files);
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = batch
                .column_by_name("bytes")
                .unwrap()
                .as_primitive::<Int64Type>();
            out.extend(
                (0..col.len())
                    .filter(|&i| !col.is_null(i))
                    .map(|i| col.value(i)),
            );
        }
    }
    out.sort_unstable();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
}

/// `files` gzip objects of `per_file` records each (records numbered from 0) in the S3 key
/// layout under `dir`; returns the `AWSLogs` root.
fn write_s3_input(dir: &Path, files: u64, per_file: u64) -> PathBuf {
    let input = s3_dir(dir);
    for f in 0..files {
        let lines: Vec<String> = (f * per_file..(f + 1) * per_file).map(record).collect();
        write_gz(&input.join(format!("part{f:03}.log.gz")), &lines);
    }
    dir.join("AWSLogs")
}

fn s3_dir(root: &Path) -> PathBuf {
    root.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/02")
}

#[test]
fn ingest_reports_and_reingest_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = write_s3_input(tmp.path(), 3, 100);
    let data = tmp.path().join("data");
    let args = [
        "ingest",
        root.to_str().unwrap(),
        "-g",
        "prod",
        "--output",
        "json",
    ];
    let first = run(&data, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let r = json(&first);
    assert_eq!(r["files"], 3);
    assert_eq!(r["records_stored"], 300);
    assert_eq!(r["records_rejected"], 0);
    assert!(r["bytes_on_disk"].as_u64().unwrap() > 0);

    let again = run(&data, &args);
    assert!(again.status.success());
    let r = json(&again);
    assert_eq!(r["duplicates_skipped"], 3);
    assert_eq!(r["records_stored"], 0);
    assert_eq!(stored_bytes(&data, "prod").len(), 300);

    let forced = run(&data, &[&args[..], &["--force"]].concat());
    assert_eq!(json(&forced)["records_stored"], 300);
    assert_eq!(stored_bytes(&data, "prod").len(), 600);
}

#[test]
fn bad_lines_are_rejected_alone_and_quarantined() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mixed.log");
    let mut text = format!("{HEADER}\n{}\n", record(1));
    text.push_str("2 123456789012 eni-1 10.0.0.1 10.0.0.2 80 443 6 1 1 1 2 ACCEPT\n"); // 13 fields
    text.push_str("2 123456789012 eni-1 10.0.0.1 10.0.0.2 http 443 6 1 1 1 2 ACCEPT OK\n");
    text.push_str("2 123456789012 eni-1 10.0.0.999 10.0.0.2 80 443 6 1 1 1 2 ACCEPT OK\n");
    text.push_str("2 123456789012 eni-1 10.0.0.1 10.0.0.2 80 443 6 1 1 1 2 MAYBE OK\n");
    text.push_str(&format!("{}\n", record(2)));
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"2 123456789012 eni-1 \xff\xfe 10.0.0.2 80 443 6 1 1 1 2 ACCEPT OK\n");
    bytes.extend_from_slice(&vec![b'x'; 70 * 1024]);
    bytes.extend_from_slice(format!("\n{}\n", record(3)).as_bytes());
    std::fs::write(&path, bytes).unwrap();

    let data = tmp.path().join("data");
    let out = run(
        &data,
        &["ingest", path.to_str().unwrap(), "-g", "g", "-o", "json"],
    );
    assert!(
        out.status.success(),
        "a few bad lines are not a failure: {}",
        stderr(&out)
    );
    let r = json(&out);
    assert_eq!(r["records_stored"], 3);
    assert_eq!(r["records_rejected"], 6);
    let err = stderr(&out);
    for want in [
        ":3: expected 14 fields",
        ":4: field 6 (srcport)",
        ":5: field 4 (srcaddr)",
        ":6: field 13 (action)",
        ":8: invalid UTF-8",
        ":9: line is 71680 bytes",
    ] {
        assert!(err.contains(want), "stderr lacks {want:?}:\n{err}");
    }
    let q = r["quarantine"][0].as_str().unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(q)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["line"], 3);
    assert!(lines[0]["text"].as_str().unwrap().ends_with("ACCEPT"));

    let strict = run(
        &data,
        &[
            "ingest",
            path.to_str().unwrap(),
            "-g",
            "g2",
            "--strict",
            "-q",
        ],
    );
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn truncated_gzip_keeps_records_before_the_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full.log.gz");
    let lines: Vec<String> = (0..20_000).map(record).collect();
    write_gz(&full, &lines);
    let bytes = std::fs::read(&full).unwrap();
    let cut = tmp.path().join("cut.log.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let data = tmp.path().join("data");
    let out = run(
        &data,
        &["ingest", cut.to_str().unwrap(), "-g", "g", "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&out);
    let stored = r["records_stored"].as_u64().unwrap();
    assert!(stored > 1000 && stored < 20_000, "stored {stored}");
    let err = r["errors"][0].as_str().unwrap();
    assert!(
        err.contains("cut.log.gz") && err.contains("compressed byte"),
        "{err}"
    );
    // What was stored is a prefix of the file, each record once.
    let got = stored_bytes(&data, "g");
    assert_eq!(got, (1000..1000 + got.len() as i64).collect::<Vec<_>>());
}

#[test]
fn empty_junk_and_wrong_formats_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let empty = tmp.path().join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let out = run(&data, &["ingest", empty.to_str().unwrap(), "-o", "json"]);
    assert!(
        out.status.success(),
        "an empty file is fine: {}",
        stderr(&out)
    );

    let junk = tmp.path().join("junk.bin");
    std::fs::write(
        &junk,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let out = run(&data, &["ingest", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("junk.bin: binary content"),
        "{}",
        stderr(&out)
    );

    let v3 = tmp.path().join("v3.log");
    std::fs::write(&v3, "3 vpc-1 subnet-1 i-1 eni-1 123 IPv4 1.1.1.1 2.2.2.2 1 2 1.1.1.1 2.2.2.2 6 10 1 5 6 ACCEPT 2\n".repeat(5)).unwrap();
    let out = run(
        &data,
        &[
            "ingest",
            v3.to_str().unwrap(),
            "--log-format",
            "${version} ${srcaddr}",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("v3.log: every record was rejected (5): expected 2 fields"),
        "{}",
        stderr(&out)
    );

    let readme = tmp.path().join("README.txt");
    std::fs::write(
        &readme,
        "This folder holds\nour flow logs from last week.\n",
    )
    .unwrap();
    let out = run(&data, &["ingest", readme.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("README.txt: no flow-log records: all 2 were rejected"),
        "{err}"
    );

    let missing = run(&data, &["ingest", "/no/such/dir"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/no/such/dir: no such file or directory"));

    let bad_group = run(
        &data,
        &["ingest", empty.to_str().unwrap(), "-g", "bad name"],
    );
    assert!(stderr(&bad_group).contains("invalid log group name"));
}

#[test]
fn cloudwatch_json_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let events: Vec<Value> = (0..5)
        .map(|i| {
            serde_json::json!({"logStreamName": "eni-0c19436730cc350ae-all", "timestamp": 1_702_918_083_000i64,
                "message": record(i), "ingestionTime": 1_702_918_090_000i64, "eventId": format!("{i}")})
        })
        .collect();
    let body = serde_json::json!({"events": events, "searchedLogStreams": []}).to_string();
    let mut child = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "-", "-g", "cw", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["records_stored"], 5);
}

#[test]
fn log_group_lifecycle_and_retention() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(
        run(
            &data,
            &[
                "log-groups",
                "create",
                "/aws/vpc/old",
                "--retention-days",
                "7"
            ]
        )
        .status
        .success()
    );
    let dup = run(&data, &["log-groups", "create", "/aws/vpc/old"]);
    assert!(!dup.status.success() && stderr(&dup).contains("already exists"));
    let bad = run(
        &data,
        &["log-groups", "create", "x", "--retention-days", "2"],
    );
    assert!(stderr(&bad).contains("invalid retention 2 days"));

    // Records from 2014 are beyond a 7-day retention: the ingest stores, then prunes them.
    let old = tmp.path().join("old.log");
    std::fs::write(&old, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n").unwrap();
    let r = ingest_json(&data, &old, "/aws/vpc/old");
    assert_eq!(r["records_stored"], 1);
    assert_eq!(r["partitions_pruned_files"], 1);

    let fresh = tmp.path().join("fresh.log");
    std::fs::write(&fresh, format!("{}\n", record(1))).unwrap();
    assert!(
        run(&data, &["ingest", fresh.to_str().unwrap(), "-g", "keep"])
            .status
            .success()
    );
    let list = json(&run(&data, &["log-groups", "list", "-o", "json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/aws/vpc/old", "keep"]);
    assert_eq!(list[0]["records"], 0);
    assert_eq!(list[1]["records"], 1);
    assert_eq!(list[0]["retention"], "7 days");

    assert!(
        run(&data, &["log-groups", "set-retention", "keep", "never"])
            .status
            .success()
    );
    let refuse = run(&data, &["log-groups", "delete", "keep"]);
    assert!(!refuse.status.success() && stderr(&refuse).contains("--yes"));
    assert!(
        run(&data, &["log-groups", "delete", "keep", "--yes"])
            .status
            .success()
    );
    let list = json(&run(&data, &["log-groups", "list", "-o", "json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Deleting a group forgets its sources: the same file can be ingested anew.
    let r = ingest_json(&data, &fresh, "keep");
    assert_eq!(r["records_stored"], 1);
}

#[test]
fn compaction_merges_small_files_without_losing_records() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for f in 0..5u64 {
        let p = tmp.path().join(format!("small{f}.log.gz"));
        write_gz(&p, &(f * 10..f * 10 + 10).map(record).collect::<Vec<_>>());
        assert!(
            run(&data, &["ingest", p.to_str().unwrap(), "-g", "c", "-q"])
                .status
                .success()
        );
    }
    let before = stored_bytes(&data, "c");
    let out = run(&data, &["log-groups", "compact", "c"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("files became"), "{}", stderr(&out));
    let mut files = Vec::new();
    collect(&data.join("groups/c"), &mut files);
    let partitions: std::collections::BTreeSet<_> = files
        .iter()
        .map(|f| f.parent().unwrap().to_path_buf())
        .collect();
    assert_eq!(
        files.len(),
        partitions.len(),
        "one file per partition after compaction"
    );
    assert_eq!(stored_bytes(&data, "c"), before);
}

/// Kill the ingest with SIGKILL at random moments, then let it finish: every record must be
/// stored exactly once, with no manual recovery step.
#[test]
fn kill_9_at_random_points_never_loses_or_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let (files, per_file) = (40u64, 5_000u64);
    let root = write_s3_input(tmp.path(), files, per_file);
    let data = tmp.path().join("data");
    let args = [
        "ingest",
        root.to_str().unwrap(),
        "-g",
        "crash",
        "-q",
        "--commit-every",
        "15000",
    ];
    // A deterministic spread of kill delays (no RNG dependency needed).
    let delays_ms = [
        40u64, 130, 260, 75, 410, 190, 330, 55, 520, 240, 160, 95, 15, 25, 110, 145, 205, 290,
    ];
    for d in delays_ms {
        let mut child = bin()
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(d));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let last = run(&data, &args);
    assert!(last.status.success(), "{}", stderr(&last));
    let got = stored_bytes(&data, "crash");
    let want: Vec<i64> = (0..files * per_file).map(|i| 1000 + i as i64).collect();
    assert_eq!(got.len(), want.len(), "record count after kills");
    assert_eq!(got, want, "every record exactly once");
    // Nothing half-written is left behind.
    assert_eq!(std::fs::read_dir(data.join("_staging")).unwrap().count(), 0);
}

#[test]
fn demo_runs_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let demo = tmp.path().join("demo");
    let out = run(
        &data,
        &["demo", "--scale", "0.1", "--dir", demo.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for want in [
        "demo/vpc-flow-logs",
        "busiest talkers",
        "most-rejected destination ports",
        "peering story",
        "with 0 replies",
    ] {
        assert!(text.contains(want), "demo report lacks {want:?}:\n{text}");
    }
    // The same seed again: everything is already stored, and the report is identical.
    let again = run(
        &data,
        &["demo", "--scale", "0.1", "--dir", demo.to_str().unwrap()],
    );
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout), text);
}

/// DuckDB reads the store as it is (the test command installs the duckdb Python package).
#[test]
fn duckdb_reads_the_store_unchanged() {
    if std::env::var_os("FLOWWATCH_SKIP_DUCKDB").is_some() {
        eprintln!("FLOWWATCH_SKIP_DUCKDB set: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = s3_dir(tmp.path()).join("x.log.gz");
    write_gz(&p, &(0..1000).map(record).collect::<Vec<_>>());
    assert!(
        run(
            &data,
            &["ingest", p.to_str().unwrap(), "-g", "/aws/vpc/duck", "-q"]
        )
        .status
        .success()
    );
    let script = format!(
        "import duckdb; r = duckdb.connect().execute(\"SELECT count(*), sum(bytes), min(start), count(DISTINCT year) FROM read_parquet('{}/groups/*/**/*.parquet', hive_partitioning=true)\").fetchone(); print(r)",
        data.display()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "duckdb failed (install with `pip install duckdb`): {}",
        stderr(&out)
    );
    let want: i64 = (0..1000).map(|i| 1000 + i).sum();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("(1000, {want}, {DAY}, 1)")
    );
}

/// The Batfish scenario directory `name`, or None (with a note) when the corpus is absent.
fn batfish_snapshot(name: &str) -> Option<PathBuf> {
    let corpus = std::env::var_os("FLOWWATCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let dir = corpus
        .join("aws-snapshots/batfish/representation-aws")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus snapshot {} absent: skipped", dir.display());
        None
    }
}

#[test]
fn snapshot_load_and_reach_with_exit_codes() {
    let Some(snap) = batfish_snapshot("test-public-subnet") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = snap.to_str().unwrap();
    let load = run(tmp.path(), &["snapshot", "load", s, "-o", "json"]);
    assert!(load.status.success(), "{}", stderr(&load));
    let v = json(&load);
    assert_eq!(v["summary"]["counts"]["vpcs"], 1);
    assert_eq!(v["summary"]["vpcs"][0]["vpc_id"], "vpc-0672bce73895d7252");

    // Out to the internet: reachable, exit 0, AWS's NetworkInsightsAnalysis shape.
    let out = run(
        tmp.path(),
        &[
            "reach",
            "--snapshot",
            s,
            "--source",
            "i-06669a407b2ef3ae5",
            "--destination",
            "8.8.8.8",
            "--port",
            "443",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = json(&out);
    assert_eq!(a["NetworkPathFound"], true);
    let hops: Vec<&str> = a["ForwardPathComponents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Component"]["Id"].as_str().unwrap())
        .collect();
    assert_eq!(hops.first(), Some(&"eni-00064850627e198ee"));
    assert_eq!(hops.last(), Some(&"internet"));
    assert!(!a["ReturnPathComponents"].as_array().unwrap().is_empty());

    // In from the internet on port 80: the security group blocks it, exit 3, with the code.
    let out = run(
        tmp.path(),
        &[
            "reach",
            "--snapshot",
            s,
            "--source",
            "8.8.8.8",
            "--destination",
            "18.216.80.133",
            "--port",
            "80",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT REACHABLE"), "{text}");
    assert!(
        text.contains("ENI_SG_RULES_MISMATCH at eni-00064850627e198ee"),
        "{text}"
    );
    assert!(text.contains("sg-09ccba6656672061b"), "{text}");

    // From the internet an instance id means its public address: 22 is open, 80 is not.
    let to_instance = |port: &str| {
        run(
            tmp.path(),
            &[
                "reach",
                "--snapshot",
                s,
                "--source",
                "8.8.8.8",
                "--destination",
                "i-06669a407b2ef3ae5",
                "--port",
                port,
            ],
        )
    };
    let open = to_instance("22");
    assert_eq!(
        open.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&open.stdout)
    );
    let closed = to_instance("80");
    assert_eq!(closed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&closed.stdout).contains("ENI_SG_RULES_MISMATCH"));

    // An unknown id is an error (exit 1) that says so; so is a missing snapshot.
    let out = run(
        tmp.path(),
        &[
            "reach",
            "--snapshot",
            s,
            "--source",
            "i-nope",
            "--destination",
            "8.8.8.8",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("i-nope"), "{}", stderr(&out));
    let out = run(
        tmp.path(),
        &[
            "reach",
            "--snapshot",
            "/nonexistent",
            "--source",
            "a",
            "--destination",
            "b",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("snapshot capture --help"),
        "{}",
        stderr(&out)
    );
    let out = run(
        tmp.path(),
        &[
            "reach",
            "--snapshot",
            s,
            "--source",
            "a",
            "--destination",
            "b",
            "--protocol",
            "sctpx",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--protocol"), "{}", stderr(&out));
}

#[test]
fn snapshot_capture_prints_the_aws_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        &[
            "snapshot",
            "capture",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--profile",
            "prod",
            "--dir",
            "./snap",
        ],
    );
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    for call in [
        "aws --profile prod --region us-east-1 --output json ec2 describe-vpcs > \"$OUT/Vpcs.json\"",
        "ec2 describe-security-groups",
        "ec2 describe-network-acls",
        "ec2 describe-instances > \"$OUT/Reservations.json\"",
        "ec2 search-transit-gateway-routes",
        "elbv2 describe-load-balancers > \"$OUT/LoadBalancers.json\"",
        "elbv2 describe-target-health --target-group-arn \"$TG\"",
        "LoadBalancerTargetHealth: [{TargetGroupArn: '$TG'",
        "--region eu-west-1",
        "OUT=\"$DIR/aws_configs/accounts/$ACCOUNT/us-east-1\"",
    ] {
        assert!(script.contains(call), "missing `{call}` in:\n{script}");
    }
    // An empty directory holds no VPC: exit 1 with a hint.
    let out = run(
        tmp.path(),
        &["snapshot", "load", tmp.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no VPC found"), "{}", stderr(&out));
}

#[test]
fn access_finds_ssh_open_to_the_internet_and_simulate_writes_flow_logs() {
    let Some(snap) = batfish_snapshot("test-public-subnet") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = snap.to_str().unwrap();
    // The web instance's group allows tcp 22 from 0.0.0.0/0: one finding, exit 3.
    let out = run(
        tmp.path(),
        &[
            "access",
            "--snapshot",
            s,
            "--builtin",
            "ssh-rdp-from-internet",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json(&out);
    let findings = v["AnalysisFindings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v:#}");
    assert_eq!(findings[0]["Destination"]["Id"], "eni-00064850627e198ee");
    let ports: Vec<&Value> = findings[0]["Headers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["DestinationPortRanges"].as_array().unwrap())
        .collect();
    assert!(
        ports.iter().all(|p| p["From"] == 22 && p["To"] == 22),
        "only 22, not 3389: {ports:?}"
    );
    let out = run(
        tmp.path(),
        &["access", "--snapshot", s, "--builtin", "no-such-scope"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("internet-exposed"),
        "{}",
        stderr(&out)
    );

    // Simulate: the internet probes port 80 (REJECT by the group) and the instance calls out
    // on 443 (ACCEPT both ways); the files are ingested and queried.
    let traffic = tmp.path().join("traffic.toml");
    std::fs::write(
        &traffic,
        r#"
[[flow]]
name = "web probe"
source = "198.51.100.7"
destination = "i-06669a407b2ef3ae5"
protocol = "tcp"
port = 80
rate = 2

[[flow]]
name = "updates"
source = "i-06669a407b2ef3ae5"
destination = "8.8.8.8"
protocol = "tcp"
port = 443
rate = 1
"#,
    )
    .unwrap();
    let data = tmp.path().join("data");
    let sim_dir = tmp.path().join("sim");
    let out = run(
        &data,
        &[
            "simulate",
            "--snapshot",
            s,
            "--traffic",
            traffic.to_str().unwrap(),
            "--start",
            "2026-11-02T00:00:00Z",
            "--duration",
            "10m",
            "--out",
            sim_dir.to_str().unwrap(),
            "--log-group",
            "sim",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let q = run(
        &data,
        &[
            "query",
            "-o",
            "json",
            "--start",
            "2026-11-02T00:00:00Z",
            "--end",
            "2026-11-02T00:10:00Z",
            "filter logStatus = \"OK\" | stats count(*) as n by action, dstPort | sort action, dstPort",
        ],
    );
    assert!(q.status.success(), "{}", stderr(&q));
    let rows = json(&q);
    let by: Vec<(String, i64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["dstPort"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert!(by.contains(&("REJECT".to_string(), 80)), "{by:?}");
    assert!(by.contains(&("ACCEPT".to_string(), 443)), "{by:?}");
    assert!(!by.contains(&("ACCEPT".to_string(), 80)), "{by:?}");

    // Explain: the simulated REJECTs of port 80 are the web group's, which allows only 22.
    let e = run(&data, &["explain", "--snapshot", s, "--log-group", "sim"]);
    assert!(e.status.success(), "{}", stderr(&e));
    let text = String::from_utf8_lossy(&e.stdout);
    assert!(text.contains("sg-09ccba6656672061b"), "{text}");
    assert!(text.contains("not 80"), "{text}");
    let e = run(
        &data,
        &[
            "explain",
            "--snapshot",
            s,
            "--log-group",
            "sim",
            "-o",
            "json",
        ],
    );
    assert!(e.status.success(), "{}", stderr(&e));
    let whole = json(&e);
    assert!(whole["read"]["records"].as_u64().unwrap() > 0);
    let total_rejected = whole["report"]["counts"]["rejected"].as_u64().unwrap();
    assert!(total_rejected > 0, "{whole}");

    // --filter narrows the judged records with a Logs Insights filter; the rest of the range is
    // read as reply evidence only.
    let filtered = |filter: &str| {
        run(
            &data,
            &[
                "explain",
                "--snapshot",
                s,
                "--log-group",
                "sim",
                "-o",
                "json",
                "--filter",
                filter,
            ],
        )
    };
    let e = filtered("dstPort = 80 and action = 'REJECT'");
    assert!(e.status.success(), "{}", stderr(&e));
    let port80 = json(&e);
    let counts = &port80["report"]["counts"];
    assert_eq!(counts["accepted"].as_u64(), Some(0), "{port80}");
    assert_eq!(
        counts["rejected"].as_u64(),
        Some(total_rejected),
        "{port80}"
    );
    assert!(counts["context_records"].as_u64().unwrap() > 0, "{port80}");
    assert!(
        port80["report"]["rejects"]
            .to_string()
            .contains("sg-09ccba6656672061b")
    );
    let e = filtered("dstPort = 443");
    assert!(e.status.success(), "{}", stderr(&e));
    let port443 = json(&e);
    assert_eq!(
        port443["report"]["counts"]["rejected"].as_u64(),
        Some(0),
        "{port443}"
    );
    assert!(port443["report"]["counts"]["accepted"].as_u64().unwrap() > 0);
    assert_eq!(
        port443["report"]["rejects"].as_array().map(Vec::len),
        Some(0)
    );
    // A filter that is not Logs Insights is a usage error naming the problem, not a panic.
    let e = filtered("dstPort = = 80");
    assert!(!e.status.success());
    assert!(
        stderr(&e).contains("--filter is not a valid"),
        "{}",
        stderr(&e)
    );
    assert!(stderr(&e).contains('^'), "{}", stderr(&e));
}

#[test]
fn reach_through_a_load_balancer_names_listener_and_target() {
    let Some(snap) = batfish_snapshot("test-load-balancer") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = snap.to_str().unwrap();
    let load = run(tmp.path(), &["snapshot", "load", s, "-o", "json"]);
    assert!(load.status.success(), "{}", stderr(&load));
    assert_eq!(json(&load)["summary"]["counts"]["load-balancers"], 1);
    let reach_to = |destination: &str, port: &str| {
        run(
            tmp.path(),
            &[
                "reach",
                "--snapshot",
                s,
                "--source",
                "i-0c8ce8bbdd98cc4e8",
                "--destination",
                destination,
                "--port",
                port,
            ],
        )
    };
    let reach = |port: &str| reach_to("10.1.1.237", port);
    // Listener 80 forwards to the first target's port 22, and the reply comes back.
    let out = reach("80");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("listener TCP 80 -> i-0f4af951d61a19245 port 22"),
        "{text}"
    );
    assert!(text.contains("REACHABLE"), "{text}");
    // No listener on 81: not reachable (exit 3), AWS's explanation code.
    let out = reach("81");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ELBV2_LISTENER_PORT_RESTRICTION"), "{text}");
    // The load balancer by name: its first node.
    let out = reach_to("test-lb", "80");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("listener TCP 80"));
}
