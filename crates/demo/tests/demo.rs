//! End-to-end checks of a generated demo day: determinism, the text and Parquet deliveries, and
//! the stories the demo tells (peering at noon, NAT addresses, scanners, NODATA).

// The helpers below are test code too; clippy's allow-unwrap-in-tests only covers #[test] fns.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use flate2::read::MultiGzDecoder;
use flowwatch_demo::{DemoError, DemoOptions, DemoOutput, LOG_FORMAT, generate};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Type as Physical};

fn day(seed: u64, scale: f64) -> (tempfile::TempDir, DemoOutput) {
    let dir = tempfile::tempdir().unwrap();
    let opts = DemoOptions {
        seed,
        scale,
        ..DemoOptions::default()
    };
    let out = generate(dir.path(), &opts).unwrap();
    (dir, out)
}

/// Every file under `root`, by path relative to it, with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The decoded text of a `.log.gz` object.
fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    MultiGzDecoder::new(File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// All records of the text delivery, each as its field tokens.
fn text_records(out: &DemoOutput) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for path in &out.text_files {
        let text = gunzip(path);
        for line in text.lines().skip(1) {
            records.push(line.split(' ').map(str::to_string).collect());
        }
    }
    records
}

/// Index of a field in the demo format.
fn col(name: &str) -> usize {
    let header = LOG_FORMAT.replace("${", "").replace('}', "");
    header.split(' ').position(|f| f == name).unwrap()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let (_a, first) = day(7, 0.2);
    let (_b, again) = day(7, 0.2);
    let (_c, other) = day(8, 0.2);
    for root in [
        |o: &DemoOutput| o.text_root.clone(),
        |o: &DemoOutput| o.parquet_root.clone(),
    ] {
        let (x, y, z) = (
            tree(&root(&first)),
            tree(&root(&again)),
            tree(&root(&other)),
        );
        assert!(!x.is_empty());
        assert!(
            x == y,
            "same seed, different output under {}",
            root(&first).display()
        );
        assert!(x != z, "different seeds, same output");
    }
    assert_eq!(first.records, again.records);
}

#[test]
fn full_day_text_and_parquet_hold_the_same_well_formed_records() {
    let started = Instant::now();
    let (_dir, out) = day(42, 1.0);
    eprintln!(
        "scale 1.0: {} records, {} text and {} parquet objects in {:?}",
        out.records,
        out.text_files.len(),
        out.parquet_files.len(),
        started.elapsed()
    );
    assert!(
        (100_000..=200_000).contains(&out.records),
        "{} records",
        out.records
    );

    // Text: keys, header, field counts, final newline, end inside the object's 5 minutes.
    let header = LOG_FORMAT.replace("${", "").replace('}', "");
    let fields = header.split(' ').count();
    let mut text_count = 0u64;
    let mut statuses = BTreeMap::new();
    for path in &out.text_files {
        let rel = path.strip_prefix(&out.text_root).unwrap().to_str().unwrap();
        assert!(
            rel.starts_with("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/02/"),
            "{rel}"
        );
        let name = rel.rsplit('/').next().unwrap();
        assert!(
            name.starts_with("123456789012_vpcflowlogs_us-east-1_fl-084f56f31e9cf2cf8_20261102T")
        );
        assert!(name.ends_with(".log.gz"));
        let stamp = name.split('_').nth(4).unwrap();
        let slot = NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
            + stamp[9..11].parse::<i64>().unwrap() * 3600
            + stamp[11..13].parse::<i64>().unwrap() * 60;
        let text = gunzip(path);
        assert!(text.ends_with('\n') && !text.contains('\r'));
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(header.as_str()));
        for line in lines {
            let tokens: Vec<&str> = line.split(' ').collect();
            assert_eq!(tokens.len(), fields, "{line}");
            assert!(tokens.iter().all(|t| !t.is_empty()), "{line}");
            assert_eq!(tokens[0], "5");
            let end: i64 = tokens[col("end")].parse().unwrap();
            let start: i64 = tokens[col("start")].parse().unwrap();
            assert!(
                (slot..slot + 300).contains(&end) && start <= end && end - start < 60,
                "{line}"
            );
            *statuses
                .entry(tokens[col("log-status")].to_string())
                .or_insert(0u64) += 1;
            text_count += 1;
        }
    }
    assert_eq!(text_count, out.records);
    eprintln!("log-status counts: {statuses:?}");
    assert!(statuses["NODATA"] > 0 && statuses["SKIPDATA"] > 0);

    // Parquet: keys, GZIP codec, AWS column types, same rows.
    let mut parquet_count = 0u64;
    for path in &out.parquet_files {
        let rel = path
            .strip_prefix(&out.parquet_root)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(rel.starts_with(
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/hour="
        ), "{rel}");
        assert!(
            rel.contains("_fl-08046dcd80e27d50c_") && rel.ends_with(".log.parquet"),
            "{rel}"
        );
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        let meta = builder.metadata().clone();
        let schema = meta.file_metadata().schema_descr();
        assert_eq!(schema.num_columns(), fields);
        for (i, name) in header.split(' ').enumerate() {
            let column = schema.column(i);
            assert_eq!(column.name(), name.replace('-', "_"));
            let expected = match name {
                "version" | "srcport" | "dstport" | "protocol" | "tcp-flags" | "traffic-path" => {
                    Physical::INT32
                }
                "packets" | "bytes" | "start" | "end" => Physical::INT64,
                _ => Physical::BYTE_ARRAY,
            };
            assert_eq!(column.physical_type(), expected, "{name}");
            if expected == Physical::BYTE_ARRAY {
                assert!(
                    column.logical_type_ref().is_some(),
                    "{name} is not annotated as a string"
                );
            }
            for rg in meta.row_groups() {
                assert!(matches!(rg.column(i).compression(), Compression::GZIP(_)));
            }
        }
        for batch in builder.build().unwrap() {
            parquet_count += batch.unwrap().num_rows() as u64;
        }
    }
    assert_eq!(parquet_count, out.records);
}

#[test]
fn parquet_rows_equal_text_records_with_dashes_as_nulls() {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int32Type, Int64Type};
    let (_dir, out) = day(3, 0.1);
    let text = text_records(&out);
    let mut rows = Vec::new();
    for path in &out.parquet_files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            for r in 0..batch.num_rows() {
                let row: Vec<String> = batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            "-".to_string()
                        } else if let Some(a) = c.as_primitive_opt::<Int32Type>() {
                            a.value(r).to_string()
                        } else if let Some(a) = c.as_primitive_opt::<Int64Type>() {
                            a.value(r).to_string()
                        } else {
                            let s = c.as_string::<i32>().value(r);
                            assert_ne!(s, "-", "parquet must write - as null");
                            s.to_string()
                        }
                    })
                    .collect();
                rows.push(row);
            }
        }
    }
    assert_eq!(rows, text);
}

#[test]
fn app_b_hears_app_a_only_after_the_noon_peering() {
    let (_dir, out) = day(11, 0.1);
    let env = &out.environment;
    let (a, b) = (
        env.interface("app-a").unwrap(),
        env.interface("app-b").unwrap(),
    );
    let (a_ip, b_ip) = (a.private_ip.to_string(), b.private_ip.to_string());
    let noon = env.peering.active_from;
    let (mut before_on_a, mut after_replies_on_a, mut after_replies_from_b) = (0, 0, 0);
    for r in text_records(&out) {
        let f = |name: &str| r[col(name)].as_str();
        let end: i64 = f("end").parse().unwrap();
        let icmp = f("protocol") == "1";
        if end < noon {
            assert!(
                !(f("interface-id") == b.id && f("srcaddr") == a_ip),
                "app-b saw app-a before the peering: {r:?}"
            );
            if f("interface-id") == b.id {
                assert_eq!(f("log-status"), "NODATA", "{r:?}");
            }
            if f("interface-id") == a.id && icmp {
                // Only the unanswered request, leaving app-a with no path.
                assert_eq!(
                    (f("srcaddr"), f("dstaddr"), f("flow-direction")),
                    (&*a_ip, &*b_ip, "egress")
                );
                assert_eq!(
                    (f("srcport"), f("dstport"), f("action"), f("traffic-path")),
                    ("0", "0", "ACCEPT", "-")
                );
                before_on_a += 1;
            }
        } else if f("start").parse::<i64>().unwrap() >= noon && icmp {
            if f("interface-id") == a.id && f("srcaddr") == b_ip {
                assert_eq!(f("flow-direction"), "ingress");
                after_replies_on_a += 1;
            }
            if f("interface-id") == b.id && f("srcaddr") == b_ip {
                assert_eq!((f("flow-direction"), f("traffic-path")), ("egress", "4"));
                after_replies_from_b += 1;
            }
        }
    }
    assert!(
        before_on_a > 700,
        "{before_on_a} request records before noon"
    );
    assert!(after_replies_on_a > 700 && after_replies_from_b > 700);
}

#[test]
fn nat_scanner_and_s3_records_look_like_aws() {
    let (_dir, out) = day(5, 0.3);
    let env = &out.environment;
    let nat = env.interface("nat-gw").unwrap();
    let web = env.interface("web").unwrap();
    let worker_ip = env.interface("worker").unwrap().private_ip.to_string();
    let nat_ip = nat.private_ip.to_string();
    let (mut nat_to_worker, mut rejects, mut s3) = (0, 0, 0);
    for r in text_records(&out) {
        let f = |name: &str| r[col(name)].as_str();
        if f("flow-direction") == "ingress" {
            assert_eq!(f("traffic-path"), "-", "{r:?}");
        }
        if f("interface-id") == nat.id {
            assert_eq!(f("instance-id"), "-");
            // The NAT's reply towards the worker: its own address, the real peer in pkt-srcaddr.
            if f("srcaddr") == nat_ip && f("dstaddr") == worker_ip {
                assert_ne!(f("pkt-srcaddr"), nat_ip);
                assert_eq!(
                    (f("pkt-dstaddr"), f("flow-direction")),
                    (&*worker_ip, "egress")
                );
                nat_to_worker += 1;
            }
            if f("flow-direction") == "egress" && !f("dstaddr").starts_with("10.") {
                assert_eq!(f("traffic-path"), "8", "{r:?}");
            }
        }
        if f("action") == "REJECT" {
            assert_eq!(
                (f("interface-id"), f("flow-direction")),
                (web.id, "ingress")
            );
            if f("protocol") == "6" {
                assert_eq!(f("tcp-flags"), "2");
            }
            rejects += 1;
        }
        if f("pkt-dst-aws-service") == "S3" {
            assert_eq!(f("traffic-path"), "7");
            s3 += 1;
        }
    }
    assert!(
        nat_to_worker > 0 && rejects > 0 && s3 > 0,
        "{nat_to_worker} {rejects} {s3}"
    );
}

#[test]
fn refuses_a_bad_scale_and_a_used_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    for scale in [0.0, -1.0, f64::NAN, 1000.0] {
        let opts = DemoOptions {
            scale,
            ..DemoOptions::default()
        };
        assert!(matches!(
            generate(dir.path(), &opts),
            Err(DemoError::InvalidScale { .. })
        ));
    }
    let opts = DemoOptions {
        scale: 0.01,
        ..DemoOptions::default()
    };
    generate(dir.path(), &opts).unwrap();
    let err = generate(dir.path(), &opts).unwrap_err();
    assert!(matches!(err, DemoError::OutputNotEmpty(_)), "{err}");
    assert!(err.to_string().starts_with("output directory "));
}
