//! Live mode end to end: a flow-log file dropped into a watched folder is ingested, its
//! metric filter's series updated, the alarm on it raised, and the webhook receiver (a
//! loopback test server) gets exactly one notification; a restart neither re-ingests the
//! file nor re-sends the notification. Also `alarms set-state` and `alarms history`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("flowwatch runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One received request: path, header lines, body.
type Request = (String, Vec<String>, String);

/// A webhook receiver: records each request's path, headers and body, answers 200.
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

fn receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let line = line.trim_end().to_string();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                headers.push(line);
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            seen.lock()
                .unwrap()
                .push((path, headers, String::from_utf8_lossy(&body).into_owned()));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    Receiver { port, requests }
}

fn definitions(port: u16) -> String {
    format!(
        r#"{{
  "metricFilters": [{{
    "filterName": "RejectedSsh",
    "logGroupName": "live",
    "filterPattern": "[version, account, eni, source, destination, srcport, destport = 22, protocol = 6, packets, bytes, windowstart, windowend, action = REJECT, flowlogstatus]",
    "metricTransformations": [{{"metricName": "RejectedSsh", "metricNamespace": "VPC/FlowLogs", "metricValue": "1"}}]
  }}],
  "MetricAlarms": [{{
    "AlarmName": "ssh-scan",
    "MetricName": "RejectedSsh",
    "Namespace": "VPC/FlowLogs",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 3,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
    "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"]
  }}],
  "NotificationTargets": [{{
    "Arn": "arn:aws:sns:us-east-1:123456789012:ops",
    "Webhook": {{"Url": "http://127.0.0.1:{port}/hook"}}
  }}]
}}"#
    )
}

/// Default-format records 90 s old: inside the alarm's evaluation range now.
fn flow_file(dir: &Path, name: &str, rejects: usize) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (start, end) = (now - 90, now - 80);
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for i in 0..rejects {
        text.push_str(&format!(
            "2 123456789012 eni-0a1b2c3d 198.51.100.{i} 10.0.1.5 {} 22 6 1 40 {start} {end} REJECT OK\n",
            40000 + i
        ));
    }
    text.push_str(&format!(
        "2 123456789012 eni-0a1b2c3d 10.0.1.5 203.0.113.9 443 51000 6 10 8000 {start} {end} ACCEPT OK\n"
    ));
    // Written beside, then renamed in, as sync tools do.
    let tmp = dir.join(format!(".{name}"));
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

fn count(data: &Path) -> u64 {
    let out = ok(&run(data, &["query", "-o", "csv", "stats count(*) as n"]));
    out.lines()
        .nth(1)
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn a_dropped_file_raises_the_alarm_and_notifies_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let hook = receiver();
    let monitor = tmp.path().join("monitor.json");
    std::fs::write(&monitor, definitions(hook.port)).expect("monitor file");
    flow_file(&inbox, "flows-1.log", 5);

    let out = run(
        &data,
        &[
            "watch",
            inbox.to_str().unwrap(),
            "--log-group",
            "live",
            "--monitor",
            monitor.to_str().unwrap(),
            "--interval",
            "200ms",
            "--ticks",
            "10",
        ],
    );
    ok(&out);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        log.contains("ssh-scan: OK -> ALARM")
            || log.contains("ssh-scan: INSUFFICIENT_DATA -> ALARM"),
        "{log}"
    );
    assert_eq!(count(&data), 6, "{log}");
    {
        let reqs = hook.requests.lock().unwrap();
        assert_eq!(reqs.len(), 1, "exactly one notification: {reqs:?}");
        let (path, headers, body) = &reqs[0];
        assert_eq!(path, "/hook");
        assert!(
            headers.iter().any(|h| h
                .to_ascii_lowercase()
                .starts_with("content-type: application/json")),
            "{headers:?}"
        );
        let msg: Value = serde_json::from_str(body).expect("SNS message JSON");
        assert_eq!(msg["AlarmName"], "ssh-scan");
        assert_eq!(msg["NewStateValue"], "ALARM");
        assert_eq!(msg["Trigger"]["MetricName"], "RejectedSsh");
    }

    // The history records the transition in DescribeAlarmHistory's shape.
    let hist: Value =
        serde_json::from_str(&ok(&run(&data, &["alarms", "history", "-o", "json"]))).expect("json");
    let items = hist["AlarmHistoryItems"].as_array().expect("items");
    assert!(
        items.iter().any(|i| i["AlarmName"] == "ssh-scan"
            && i["HistorySummary"]
                .as_str()
                .unwrap_or_default()
                .ends_with("to ALARM")),
        "{hist}"
    );

    // A restart: the file is not ingested again, the alarm resumes in ALARM, nothing is
    // re-sent.
    let out = run(
        &data,
        &[
            "watch",
            inbox.to_str().unwrap(),
            "--log-group",
            "live",
            "--interval",
            "200ms",
            "--ticks",
            "4",
        ],
    );
    ok(&out);
    assert_eq!(count(&data), 6);
    assert_eq!(hook.requests.lock().unwrap().len(), 1);

    // set-state fires the actions of the new state: OK has none, ALARM has the webhook.
    ok(&run(
        &data,
        &[
            "alarms",
            "set-state",
            "ssh-scan",
            "--state-value",
            "OK",
            "--state-reason",
            "test",
        ],
    ));
    assert_eq!(hook.requests.lock().unwrap().len(), 1);
    ok(&run(
        &data,
        &[
            "alarms",
            "set-state",
            "ssh-scan",
            "--state-value",
            "ALARM",
            "--state-reason",
            "paging test",
        ],
    ));
    let reqs = hook.requests.lock().unwrap();
    assert_eq!(reqs.len(), 2);
    let msg: Value = serde_json::from_str(&reqs[1].2).expect("json");
    assert_eq!(msg["NewStateReason"], "paging test");
}

#[test]
fn ingest_updates_metric_series_of_the_hours_it_stores() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let monitor = tmp.path().join("monitor.json");
    std::fs::write(&monitor, definitions(9)).expect("monitor file");
    ok(&run(
        &data,
        &["monitor", "import", monitor.to_str().unwrap()],
    ));
    flow_file(&inbox, "a.log", 4);
    let out: Value = serde_json::from_str(&ok(&run(
        &data,
        &[
            "ingest",
            inbox.to_str().unwrap(),
            "-g",
            "live",
            "-o",
            "json",
        ],
    )))
    .expect("json");
    assert_eq!(out["metrics_updated"]["matched"], 4, "{out}");
    // Ingesting more into the same hour recomputes it: 4 + 2, not 4 + 4 + 2.
    flow_file(&inbox, "b.log", 2);
    let out: Value = serde_json::from_str(&ok(&run(
        &data,
        &[
            "ingest",
            inbox.to_str().unwrap(),
            "-g",
            "live",
            "-o",
            "json",
        ],
    )))
    .expect("json");
    assert_eq!(out["files_ingested"], 1, "{out}");
    let got = ok(&run(
        &data,
        &[
            "metrics",
            "get",
            "RejectedSsh",
            "--start",
            "-1h",
            "--end",
            "now",
            "--period",
            "3600",
            "--stat",
            "Sum",
            "-o",
            "csv",
        ],
    ));
    let total: f64 = got
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(total, 6.0, "{got}");
}

#[test]
fn watch_rejects_a_file_argument_with_advice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("x.log");
    std::fs::write(&file, "x").expect("write");
    let out = run(&tmp.path().join("d"), &["watch", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a directory") && err.contains("flowwatch ingest"),
        "{err}"
    );
}
