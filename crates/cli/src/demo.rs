//! `flowwatch demo`: generate a day of flow logs, ingest both deliveries, and report on what was
//! stored — read back from the store, so the report also proves the round trip.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
use flowwatch_demo::{DemoOptions, generate};
use flowwatch_flowlog::InputFormat;
use flowwatch_store::Store;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

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
        "generated {} records for {} as AWS delivers them: {} gzip text objects under {} and {} Parquet objects under {}",
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

    let names: HashMap<String, &str> = generated
        .environment
        .interfaces
        .iter()
        .map(|i| (i.private_ip.to_string(), i.name))
        .collect();
    let label = |ip: &str| {
        names
            .get(ip)
            .map_or(ip.to_string(), |n| format!("{ip} ({n})"))
    };

    let text = scan(&store, TEXT_GROUP)?;
    let parquet = scan(&store, PARQUET_GROUP)?;
    println!("\nlog groups (data dir {}):", data_dir.display());
    let mut t = Table::new(&[
        "log_group",
        "records",
        "accepted",
        "rejected",
        "nodata",
        "skipdata",
    ]);
    for (g, s) in [(TEXT_GROUP, &text), (PARQUET_GROUP, &parquet)] {
        t.push(vec![
            json!(g),
            json!(s.records),
            json!(s.accept),
            json!(s.reject),
            json!(s.nodata),
            json!(s.skipdata),
        ]);
    }
    t.print(out)?;

    println!("\nbusiest talkers (bytes sent):");
    let mut t = Table::new(&["source", "bytes", "records"]);
    for (ip, (bytes, n)) in top(&text.talkers, 5, |v| v.0) {
        t.push(vec![json!(label(&ip)), json!(bytes), json!(n)]);
    }
    t.print(out)?;

    println!("\nmost-rejected destination ports:");
    let mut t = Table::new(&["port", "rejected_records", "distinct_sources"]);
    for (port, (n, sources)) in top(&text.rejected_ports, 8, |v| v.0 as i64) {
        t.push(vec![json!(port), json!(n), json!(sources.len())]);
    }
    t.print(out)?;

    if let (Some(a), Some(b)) = (
        generated.environment.interface("app-a"),
        generated.environment.interface("app-b"),
    ) {
        let (before, after) = text
            .pings
            .get(&(a.private_ip.to_string(), b.private_ip.to_string()))
            .copied()
            .unwrap_or_default();
        let (rb, ra) = text
            .pings
            .get(&(b.private_ip.to_string(), a.private_ip.to_string()))
            .copied()
            .unwrap_or_default();
        println!(
            "\npeering story: ICMP app-a {} -> app-b {}: {before} records before 12:00 with {rb} replies (no route, no peering); \
{after} after 12:00 with {ra} replies (peering and routes in place)",
            a.private_ip, b.private_ip
        );
    }
    println!(
        "\nnext: `flowwatch log-groups list`, or read the store with DuckDB: \
SELECT action, count(*) FROM read_parquet('{}/groups/*/**/*.parquet', hive_partitioning=true) GROUP BY 1",
        data_dir.display()
    );
    Ok(crate::exit::OK)
}

#[derive(Default)]
struct Summary {
    records: u64,
    accept: u64,
    reject: u64,
    nodata: u64,
    skipdata: u64,
    talkers: HashMap<String, (i64, u64)>,
    rejected_ports: HashMap<i32, (u64, std::collections::HashSet<String>)>,
    /// (src, dst) ICMP records before and after noon.
    pings: HashMap<(String, String), (u64, u64)>,
}

fn top<K: Clone + Ord, V: Clone>(
    map: &HashMap<K, V>,
    n: usize,
    key: impl Fn(&V) -> i64,
) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn scan(store: &Store, group: &str) -> Result<Summary> {
    let mut s = Summary::default();
    let cols = [
        "timestamp",
        "srcaddr",
        "dstaddr",
        "dstport",
        "protocol",
        "bytes",
        "action",
        "log_status",
    ];
    for path in store.data_files(group)? {
        let file = File::open(&path)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = cols
            .iter()
            .filter_map(|c| schema.columns().iter().position(|d| d.name() == *c))
            .collect();
        let mask = ProjectionMask::leaves(schema, indices);
        for batch in builder.with_projection(mask).build()? {
            add(&mut s, &batch?);
        }
    }
    Ok(s)
}

fn add(s: &mut Summary, b: &RecordBatch) {
    let col = |n: &str| b.column_by_name(n);
    let (
        Some(ts),
        Some(src),
        Some(dst),
        Some(port),
        Some(proto),
        Some(bytes),
        Some(action),
        Some(status),
    ) = (
        col("timestamp"),
        col("srcaddr"),
        col("dstaddr"),
        col("dstport"),
        col("protocol"),
        col("bytes"),
        col("action"),
        col("log_status"),
    )
    else {
        return;
    };
    let ts = ts.as_primitive::<TimestampMillisecondType>();
    let (src, dst, action, status) = (
        src.as_string::<i32>(),
        dst.as_string::<i32>(),
        action.as_string::<i32>(),
        status.as_string::<i32>(),
    );
    let (port, proto, bytes) = (
        port.as_primitive::<Int32Type>(),
        proto.as_primitive::<Int32Type>(),
        bytes.as_primitive::<Int64Type>(),
    );
    for i in 0..b.num_rows() {
        s.records += 1;
        match status.value(i) {
            "NODATA" => s.nodata += 1,
            "SKIPDATA" => s.skipdata += 1,
            _ => {}
        }
        if action.is_null(i) {
            continue;
        }
        let rejected = action.value(i) == "REJECT";
        if rejected {
            s.reject += 1;
            if !port.is_null(i) {
                let e = s.rejected_ports.entry(port.value(i)).or_default();
                e.0 += 1;
                e.1.insert(src.value(i).to_string());
            }
        } else {
            s.accept += 1;
        }
        if !src.is_null(i) && !bytes.is_null(i) {
            let e = s.talkers.entry(src.value(i).to_string()).or_default();
            e.0 += bytes.value(i);
            e.1 += 1;
        }
        if !proto.is_null(i) && proto.value(i) == 1 && !src.is_null(i) && !dst.is_null(i) {
            let noon = (ts.value(i).rem_euclid(86_400_000)) >= 12 * 3_600_000;
            let e = s
                .pings
                .entry((src.value(i).to_string(), dst.value(i).to_string()))
                .or_default();
            if noon { e.1 += 1 } else { e.0 += 1 }
        }
    }
}
