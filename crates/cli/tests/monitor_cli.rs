//! End-to-end tests of `flowwatch monitor`, `flowwatch metrics` and `flowwatch alarms` on the
//! demo's day of flow logs: import an SSH/RDP REJECT counter and an alarm on it, backfill the
//! metric from the stored records, read it back, and replay the day to see the alarm fire.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The demo day (2026-11-02) starts at this epoch second.
const DAY: i64 = 1_793_577_600;

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("flowwatch runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn definitions(threshold: u64) -> String {
    format!(
        r#"{{
  "metricFilters": [{{
    "filterName": "RejectedSshRdp",
    "logGroupName": "demo/vpc-flow-logs",
    "filterPattern": "[version, account, eni, source, destination, srcport, destport = 22 || destport = 3389, protocol = 6, packets, bytes, windowstart, windowend, action = REJECT, flowlogstatus, ...]",
    "metricTransformations": [{{"metricName": "RejectedSshRdp", "metricNamespace": "VPC/FlowLogs", "metricValue": "1"}}]
  }}],
  "MetricAlarms": [{{
    "AlarmName": "ssh-rdp-scan",
    "MetricName": "RejectedSshRdp",
    "Namespace": "VPC/FlowLogs",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": {threshold},
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching"
  }}]
}}"#
    )
}

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

#[test]
fn import_backfill_and_replay_the_demo_day() {
    let (tmp, data) = demo();
    let file = tmp.path().join("monitor.json");
    std::fs::write(&file, definitions(1)).unwrap();
    let file = file.to_str().unwrap();

    let checked = run(&data, &["monitor", "check", file]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    let imported = json(&run(&data, &["monitor", "import", file, "-o", "json"]));
    assert_eq!(imported[0]["added"], 2, "{imported}");
    assert!(data.join("monitor/definitions.json").is_file());

    let filled = json(&run(&data, &["metrics", "backfill", "-o", "json"]));
    let matched = filled[0]["matched"].as_u64().unwrap();
    assert!(matched > 0, "{filled}");
    // Backfilling again replaces the series: the same numbers.
    assert_eq!(
        json(&run(&data, &["metrics", "backfill", "-o", "json"])),
        filled
    );

    let listed = json(&run(&data, &["metrics", "list", "-o", "json"]));
    assert_eq!(listed[0]["metric"], "RejectedSshRdp", "{listed}");
    let per_hour = json(&run(
        &data,
        &[
            "metrics",
            "get",
            "RejectedSshRdp",
            "--period",
            "3600",
            "--stat",
            "Sum",
            "-o",
            "json",
        ],
    ));
    let total: u64 = per_hour
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Sum"].as_u64().unwrap())
        .sum();
    assert_eq!(total, matched, "hourly sums add up to the matched records");

    // The alarm's threshold: the busiest 5 minutes of the day, so it must fire there.
    let five = json(&run(
        &data,
        &[
            "metrics",
            "get",
            "RejectedSshRdp",
            "--period",
            "300",
            "-o",
            "json",
        ],
    ));
    let peak = five
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Sum"].as_u64().unwrap())
        .max()
        .unwrap();
    std::fs::write(tmp.path().join("monitor.json"), definitions(peak)).unwrap();
    let again = json(&run(&data, &["monitor", "import", file, "-o", "json"]));
    assert_eq!(again[0]["replaced"], 2, "{again}");
    let start = DAY.to_string();
    let end = (DAY + 86_400).to_string();
    let replay = json(&run(
        &data,
        &[
            "alarms", "replay", "--start", &start, "--end", &end, "-o", "json",
        ],
    ));
    let rows = replay.as_array().unwrap();
    assert_eq!(rows[0]["old"], "INSUFFICIENT_DATA", "{replay}");
    let alarms: Vec<&Value> = rows.iter().filter(|r| r["new"] == "ALARM").collect();
    assert!(!alarms.is_empty(), "the alarm never fired: {replay}");
    for a in &alarms {
        let reason = a["reason"].as_str().unwrap();
        assert!(reason.starts_with("Threshold Crossed:"), "{reason}");
        assert!(
            reason.contains(&format!(
                "greater than or equal to the threshold ({peak}.0)"
            )),
            "{reason}"
        );
    }
    // Every transition starts from the state the previous one ended in.
    for w in rows.windows(2) {
        assert_eq!(w[0]["new"], w[1]["old"], "{replay}");
    }

    let csv = run(
        &data,
        &[
            "alarms",
            "replay",
            "--alarm",
            "ssh-rdp-scan",
            "--start",
            &start,
            "--end",
            &end,
            "-o",
            "csv",
        ],
    );
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("time,alarm,old,new,reason\n"), "{text}");
    assert_eq!(text.lines().count(), rows.len() + 1);

    let list = json(&run(&data, &["alarms", "list", "-o", "json"]));
    assert_eq!(
        list[0]["condition"],
        format!("Sum >= {peak}.0 for 1 of 1 periods of 300 s")
    );
    let described = json(&run(
        &data,
        &["alarms", "describe", "ssh-rdp-scan", "-o", "json"],
    ));
    assert_eq!(described["MetricAlarms"][0]["Period"], 300);
}

#[test]
fn check_points_at_a_bad_pattern_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = definitions(5).replace("destport = 22 ||", "destport = 22 |");
    let file = tmp.path().join("bad.json");
    std::fs::write(&file, bad).unwrap();
    let data = tmp.path().join("data");
    let out = run(&data, &["monitor", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: metricFilters[0] \"RejectedSshRdp\""),
        "{err}"
    );
    assert!(err.contains('^'), "{err}");
    // Import refuses it and stores nothing.
    let out = run(&data, &["monitor", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!data.join("monitor/definitions.json").exists());
    // A malformed file names the line.
    std::fs::write(&file, "{\n  \"metricFilters\": [,]\n}").unwrap();
    let out = run(&data, &["monitor", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2, column"), "{}", stderr(&out));
    // A bad --dimension is a usage error.
    let out = run(&data, &["metrics", "get", "M", "--dimension", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
}
