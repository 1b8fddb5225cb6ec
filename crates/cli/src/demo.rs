//! `flowwatch demo`: simulate a day of flow logs from the demo's own AWS snapshot, ingest both
//! deliveries, report on what was stored with Logs Insights queries (printed, so they can be
//! reused) — read back from the store, so the report also proves the round trip — and explain
//! every REJECT of the day from the snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use flowwatch_demo::{DemoOptions, DemoOutput, generate};
use flowwatch_flowlog::InputFormat;
use flowwatch_query::{InsightsOptions, QueryEngine};
use flowwatch_store::Store;
use serde_json::Value;

use crate::ingest::{self, IngestArgs};
use crate::output::{OutputFormat, Table};

const TEXT_GROUP: &str = "demo/vpc-flow-logs";
const PARQUET_GROUP: &str = "demo/vpc-flow-logs-parquet";
const MARKER: &str = ".flowwatch-demo";

pub fn run(data_dir: &Path, dir: &Path, seed: u64, scale: f64, out: OutputFormat) -> Result<u8> {
    // Only a directory this command made before is cleared.
    if dir.exists() {
        if dir.join(MARKER).exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        } else if std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
        {
            anyhow::bail!(
                "{} exists and was not made by `flowwatch demo`: choose another --dir",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        b"written by flowwatch demo; safe to delete\n",
    )?;
    let opts = DemoOptions {
        seed,
        scale,
        ..DemoOptions::default()
    };
    let generated = generate(dir, &opts).context("demo generation failed")?;
    eprintln!(
        "simulated {} connections through the snapshot in {} (the morning on {}): {} records for {} as AWS delivers them, \
{} gzip text objects under {} and {} Parquet objects under {}",
        generated.stats.connections,
        generated.snapshot_dir.display(),
        generated.snapshot_before_noon_dir.display(),
        generated.records,
        opts.day,
        generated.text_files.len(),
        generated.text_root.display(),
        generated.parquet_files.len(),
        generated.parquet_root.display(),
    );

    let mut store =
        Store::open(data_dir).with_context(|| format!("cannot open {}", data_dir.display()))?;
    for (group, root) in [
        (TEXT_GROUP, &generated.text_root),
        (PARQUET_GROUP, &generated.parquet_root),
    ] {
        let args = IngestArgs {
            paths: vec![root.display().to_string()],
            log_group: group.to_string(),
            format: InputFormat::Auto,
            log_format: None,
            force: false,
            threads: 0,
            quiet: true,
            txn_rows: ingest::DEFAULT_TXN_ROWS,
        };
        let r = ingest::run(&mut store, &args)?;
        eprintln!(
            "ingested into '{group}': {} records stored, {} rejected, {} files already stored, {:.2} s",
            r.records_stored, r.records_rejected, r.duplicates_skipped, r.elapsed_secs
        );
    }

    // The report is a set of Logs Insights queries over what was stored, printed with their
    // text so they can be pasted into `flowwatch query` (or CloudWatch). The interface names
    // come from a lookup table written beside the generated files.
    let hosts = dir.join("hosts.csv");
    let mut csv = String::from("ip,name,interface\n");
    for h in &generated.hosts {
        csv.push_str(&format!("{},{},{}\n", h.private_ip, h.name, h.interface_id));
    }
    std::fs::write(&hosts, csv).with_context(|| format!("cannot write {}", hosts.display()))?;
    let engine = QueryEngine::open(data_dir)?;
    let options = InsightsOptions {
        log_groups: vec![TEXT_GROUP.to_string()],
        lookup_tables: vec![("hosts".into(), hosts.clone())],
        ..InsightsOptions::default()
    };
    let run = |title: &str, q: &str, opts: &InsightsOptions| -> Result<Vec<Vec<Option<String>>>> {
        println!("\n{title}:\n  flowwatch query '{q}'");
        let r = engine
            .insights(q, opts)
            .map_err(|e| anyhow::anyhow!("demo query failed: {}", e.render(q)))?;
        Ok(r.rows())
    };
    let cell = |v: &Option<String>| {
        v.clone().map_or(Value::Null, |s| {
            s.parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(s))
        })
    };
    let table = |headers: &[&str], rows: &[Vec<Option<String>>]| -> Result<()> {
        let mut t = Table::new(headers);
        for r in rows {
            t.push(r.iter().map(cell).collect());
        }
        t.print(out)?;
        Ok(())
    };

    println!("\nlog groups (data dir {}):", data_dir.display());
    let q = "stats count(*) as records, sum(action = \"ACCEPT\") as accepted, sum(action = \"REJECT\") as rejected, \
sum(logStatus = \"NODATA\") as nodata, sum(logStatus = \"SKIPDATA\") as skipdata by @log";
    let all = InsightsOptions {
        log_groups: vec![TEXT_GROUP.into(), PARQUET_GROUP.into()],
        ..options.clone()
    };
    let rows = run("records by log group and action", q, &all)?;
    table(
        &[
            "@log", "records", "accepted", "rejected", "nodata", "skipdata",
        ],
        &rows,
    )?;

    let q = "filter ispresent(srcAddr) | stats sum(bytes) as bytes, count(*) as records by srcAddr \
| sort bytes desc | limit 5 | lookup hosts ip as srcAddr OUTPUT name";
    let rows = run("busiest talkers (bytes sent)", q, &options)?;
    table(&["srcAddr", "bytes", "records", "name"], &rows)?;

    let q = "filter action = \"REJECT\" | stats count(*) as rejected_records, count_distinct(srcAddr) as distinct_sources by dstPort \
| sort rejected_records desc, dstPort | limit 8";
    let rows = run("most-rejected destination ports", q, &options)?;
    table(&["dstPort", "rejected_records", "distinct_sources"], &rows)?;

    let host = |name: &str| generated.hosts.iter().find(|h| h.name == name);
    if let (Some(a), Some(b)) = (host("app-a"), host("app-b")) {
        let day_ms = opts
            .day
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis());
        let afternoon = InsightsOptions {
            start_ms: Some(day_ms + 12 * 3_600_000),
            end_ms: Some(day_ms + 24 * 3_600_000),
            ..options.clone()
        };
        let q = format!(
            "filter protocol = 1 and srcAddr in [\"{a}\", \"{b}\"] and dstAddr in [\"{a}\", \"{b}\"] \
| stats count(*) as pings by srcAddr, dstAddr | diff",
            a = a.private_ip,
            b = b.private_ip
        );
        let rows = run(
            "ICMP between app-a and app-b, afternoon against morning (--start 12:00 --end 24:00, `diff`)",
            &q,
            &afternoon,
        )?;
        table(
            &[
                "srcAddr",
                "dstAddr",
                "pings",
                "pings_previous",
                "pings_change",
                "pings_change_pct",
                "@diff",
            ],
            &rows,
        )?;
        let count = |src: &str, new: bool| -> i64 {
            rows.iter()
                .find(|r| r[0].as_deref() == Some(src))
                .and_then(|r| {
                    r[if new { 2 } else { 3 }]
                        .as_deref()
                        .map(|v| v.parse().unwrap_or(0))
                })
                .unwrap_or(0)
        };
        let (a_ip, b_ip) = (a.private_ip.to_string(), b.private_ip.to_string());
        println!(
            "\npeering story: ICMP app-a {a_ip} -> app-b {b_ip}: {} records before 12:00 with {} replies (no peering: the default route sends them to the NAT gateway); \
{} after 12:00 with {} replies (peering and routes in place)",
            count(&a_ip, false),
            count(&b_ip, false),
            count(&a_ip, true),
            count(&b_ip, true),
        );
    }
    explain_day(data_dir, &generated, out)?;
    let snap = generated.snapshot_dir.display();
    println!(
        "\nnext: ask the snapshot why (`flowwatch reach --snapshot {snap} --source i-0f4d4a7c30c9e5b96 --destination \
i-09725305a567afc03 --protocol tcp --port 5432`), what the internet reaches (`flowwatch access --snapshot {snap} \
--builtin internet-exposed`), or the morning's missing route (`flowwatch reach --snapshot {} --source \
i-0e56286dd576cd7ad --destination i-00ad452ce554e13ce --protocol icmp`); the full explanation: `flowwatch explain \
--snapshot {snap} -g {TEXT_GROUP}`",
        generated.snapshot_before_noon_dir.display()
    );
    println!(
        "\nthen: run your own Logs Insights queries (`flowwatch query --help`), SQL \
(`flowwatch sql 'SELECT action, count(*) FROM flow_logs GROUP BY 1'`), or read the store with DuckDB: \
SELECT action, count(*) FROM read_parquet('{}/groups/*/**/*.parquet', hive_partitioning=true) GROUP BY 1",
        data_dir.display()
    );
    Ok(crate::exit::OK)
}

/// Every REJECT of the day, explained from the end-of-day snapshot, summarised per interface
/// and reason (the per-port groups of a port scan fold into one line).
fn explain_day(data_dir: &Path, generated: &DemoOutput, out: OutputFormat) -> Result<()> {
    use flowwatch_explain::{ExplainOptions, Reason};
    let (snapshot, _) = flowwatch_net::Snapshot::load(&generated.snapshot_dir);
    let reader = flowwatch_store::StoreReader::open(data_dir)?;
    let (report, _) = flowwatch_explain::explain_store(
        &snapshot,
        &reader,
        TEXT_GROUP,
        i64::MIN,
        i64::MAX,
        ExplainOptions::default(),
    )?;
    println!(
        "\nevery REJECT explained from the snapshot:\n  flowwatch explain --snapshot {} -g {TEXT_GROUP}",
        generated.snapshot_dir.display()
    );
    let name = |eni: &str| {
        generated
            .hosts
            .iter()
            .find(|h| h.interface_id == eni)
            .map_or_else(|| eni.to_string(), |h| h.name.clone())
    };
    let mut lines: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
    for g in &report.rejects {
        let reason = match &g.reason {
            Reason::SecurityGroup {
                direction, groups, ..
            } => format!(
                "security group: no {} rule of {} matches",
                if *direction == flowwatch_net::Direction::Ingress {
                    "inbound"
                } else {
                    "outbound"
                },
                groups.join(", ")
            ),
            other => format!("{}: {}", other.kind(), other.summary()),
        };
        let dir = g.direction.map_or("-", |d| {
            if d == flowwatch_net::Direction::Ingress {
                "ingress"
            } else {
                "egress"
            }
        });
        let e = lines
            .entry((name(&g.interface.interface_id), dir.to_string(), reason))
            .or_default();
        e.0 += 1;
        e.1 += g.records;
    }
    let mut rows: Vec<_> = lines.into_iter().collect();
    rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(&b.0)));
    let mut t = Table::new(&["interface", "direction", "reason", "groups", "records"]);
    for ((iface, dir, reason), (groups, records)) in rows {
        t.push(vec![
            Value::from(iface),
            Value::from(dir),
            Value::from(reason),
            Value::from(groups),
            Value::from(records),
        ]);
    }
    t.print(out)?;
    let unexplained: u64 = report
        .rejects
        .iter()
        .filter(|g| matches!(g.reason, Reason::Unexplained | Reason::UnknownInterface))
        .map(|g| g.records)
        .sum();
    println!(
        "{} REJECT records in {} groups, {} without a rule behind them; {} ACCEPTed groups the snapshot would reject (drift)",
        report.counts.rejected,
        report.rejects.len(),
        unexplained,
        report.drift.len()
    );
    Ok(())
}
