//! End-to-end checks of a generated demo day: determinism, the text and Parquet deliveries, the
//! stories the demo tells (peering at noon, NAT addresses, scanners, NODATA, SKIPDATA), and that
//! every REJECT of the day has a real rule of the shipped snapshot behind it.

// The helpers below are test code too; clippy's allow-unwrap-in-tests only covers #[test] fns.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use flate2::read::MultiGzDecoder;
use flowwatch_demo::{DemoError, DemoOptions, DemoOutput, Host, LOG_FORMAT, generate};
use flowwatch_explain::{Action, ExplainOptions, FlowRecord, Reason, explain_records};
use flowwatch_net::{Direction, ExplanationCode, Query, Severity, Snapshot, reach};
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

/// The host with this `Name`.
fn host<'a>(out: &'a DemoOutput, name: &str) -> &'a Host {
    out.hosts.iter().find(|h| h.name == name).unwrap()
}

#[test]
fn app_b_hears_app_a_only_after_the_noon_peering() {
    let (_dir, out) = day(11, 0.1);
    let (a, b, nat) = (
        host(&out, "app-a"),
        host(&out, "app-b"),
        host(&out, "nat-gw"),
    );
    let b_ip = b.private_ip.to_string();
    let noon = NaiveDate::from_ymd_opt(2026, 11, 2)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let (mut before_on_a, mut before_on_nat, mut after_replies_on_a, mut after_replies_from_b) =
        (0, 0, 0, 0);
    for r in text_records(&out) {
        let f = |name: &str| r[col(name)].as_str();
        let end: i64 = f("end").parse().unwrap();
        let icmp = f("protocol") == "1";
        if end < noon {
            if f("interface-id") == b.interface_id {
                assert_eq!(
                    f("log-status"),
                    "NODATA",
                    "app-b saw traffic before noon: {r:?}"
                );
            }
            if icmp && f("pkt-dstaddr") == b_ip {
                // No peering yet: the default route sends the ping to the NAT gateway, which
                // forwards it to the internet gateway, where a private destination dies.
                assert_eq!(f("action"), "ACCEPT", "{r:?}");
                if f("interface-id") == a.interface_id {
                    assert_eq!((f("flow-direction"), f("traffic-path")), ("egress", "1"));
                    before_on_a += 1;
                }
                if f("interface-id") == nat.interface_id {
                    before_on_nat += 1;
                }
            }
            if icmp && f("srcaddr") == b_ip {
                panic!("a reply from app-b before the peering: {r:?}");
            }
        } else if f("start").parse::<i64>().unwrap() >= noon && icmp {
            if f("interface-id") == a.interface_id && f("srcaddr") == b_ip {
                assert_eq!(f("flow-direction"), "ingress");
                after_replies_on_a += 1;
            }
            if f("interface-id") == b.interface_id && f("srcaddr") == b_ip {
                assert_eq!((f("flow-direction"), f("traffic-path")), ("egress", "4"));
                after_replies_from_b += 1;
            }
        }
    }
    // 0.1 pings a minute over 720 minutes: about 72 of each.
    assert!(
        before_on_a > 40 && before_on_nat > 40,
        "{before_on_a} {before_on_nat}"
    );
    assert!(
        after_replies_on_a > 40 && after_replies_from_b > 40,
        "{after_replies_on_a} {after_replies_from_b}"
    );
}

#[test]
fn nat_scanner_and_s3_records_look_like_aws() {
    let (_dir, out) = day(5, 0.3);
    let (nat, worker) = (host(&out, "nat-gw"), host(&out, "worker"));
    let (nat_ip, worker_ip) = (nat.private_ip.to_string(), worker.private_ip.to_string());
    let (mut nat_to_worker, mut s3) = (0, 0);
    let mut rejects: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in text_records(&out) {
        let f = |name: &str| r[col(name)].as_str();
        if f("flow-direction") == "ingress" {
            assert_eq!(f("traffic-path"), "-", "{r:?}");
        }
        if f("interface-id") == nat.interface_id {
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
            let name = out
                .hosts
                .iter()
                .find(|h| h.interface_id == f("interface-id"))
                .map(|h| h.name.clone())
                .unwrap();
            *rejects
                .entry((name, f("flow-direction").to_string()))
                .or_default() += 1;
        }
        if f("pkt-dst-aws-service") == "S3" {
            assert_eq!(f("traffic-path"), "7");
            s3 += 1;
        }
    }
    assert!(nat_to_worker > 0 && s3 > 0, "{nat_to_worker} {s3}");
    // Scanners and pings at web; the worker, psql and the replies NACL at db; nothing else.
    let keys: Vec<(&str, &str)> = rejects
        .keys()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        keys,
        [("db", "egress"), ("db", "ingress"), ("web", "ingress")],
        "{rejects:?}"
    );
}

/// The text records as `explain` takes them.
fn flow_records(out: &DemoOutput) -> Vec<FlowRecord> {
    text_records(out)
        .iter()
        .filter(|r| r[col("log-status")] == "OK")
        .map(|r| {
            let f = |name: &str| r[col(name)].as_str();
            let n = |name: &str| f(name).parse::<u16>().unwrap();
            let action = Action::parse(f("action")).unwrap();
            let mut rec = FlowRecord::new(
                f("interface-id"),
                f("srcaddr").parse().unwrap(),
                n("srcport"),
                f("dstaddr").parse().unwrap(),
                n("dstport"),
                f("protocol").parse().unwrap(),
                action,
            )
            .with_start(f("start").parse().unwrap());
            rec.flow_direction = flowwatch_explain::parse_direction(f("flow-direction"));
            rec.pkt_srcaddr = f("pkt-srcaddr").parse().ok();
            rec.pkt_dstaddr = f("pkt-dstaddr").parse().ok();
            rec
        })
        .collect()
}

#[test]
fn every_reject_of_the_day_has_a_real_rule_behind_it() {
    let (_dir, out) = day(42, 0.3);
    let (snap, problems) = Snapshot::load(&out.snapshot_dir);
    assert!(
        problems.iter().all(|p| p.severity == Severity::Note),
        "{problems:?}"
    );
    let report = explain_records(&snap, &flow_records(&out), ExplainOptions::default());
    assert!(report.counts.rejected > 0);
    assert_eq!(report.counts.skipped, 0, "{:?}", report.skipped);
    assert!(report.drift.is_empty(), "drift: {:?}", report.drift);
    let (web, db, worker) = (host(&out, "web"), host(&out, "db"), host(&out, "worker"));
    let mut seen = BTreeMap::new();
    for g in &report.rejects {
        let iface = g.interface.interface_id.as_str();
        let story = match &g.reason {
            // The web server's group admits 443 and 80 from anywhere, 22 from the VPC only.
            Reason::SecurityGroup { groups, .. } if iface == web.interface_id => {
                assert_eq!(groups, &["sg-0a1e5b3c7d9f2e4a6"]);
                assert!(!g.peer_address.starts_with("10."), "{g:?}");
                "web sg"
            }
            // psql from web: the NACL allows the VPC, the db group only the app tier.
            Reason::SecurityGroup { groups, .. } if iface == db.interface_id => {
                assert_eq!(groups, &["sg-0e5c9f7a1b3d6c8e0"]);
                assert_eq!((g.peer_address.as_str(), g.port), ("10.0.1.10", 5432));
                "db sg"
            }
            Reason::NetworkAcl {
                acl_id,
                direction,
                rule_number,
                ..
            } => {
                assert_eq!(
                    (acl_id.as_str(), iface),
                    ("acl-0b8c7d6e5f4a3b2c1", &*db.interface_id)
                );
                match (direction, rule_number) {
                    // The batch subnet is denied by rule 90.
                    (Direction::Ingress, 90) => {
                        assert_eq!(g.peer_address, worker.private_ip.to_string());
                        "db nacl 90"
                    }
                    // app-a's replies to ports above 60999 fall to the * rule on the way out.
                    (Direction::Egress, 32767) => {
                        assert!(g.reply && g.port == 5432, "{g:?}");
                        assert_eq!(g.peer_address, "10.0.2.20");
                        "db nacl * egress"
                    }
                    other => panic!("unexpected NACL rule {other:?}: {g:?}"),
                }
            }
            other => panic!("a REJECT without a rule behind it: {other:?} {g:?}"),
        };
        *seen.entry(story).or_insert(0u64) += g.records;
    }
    let stories: Vec<&str> = seen.keys().copied().collect();
    assert_eq!(
        stories,
        ["db nacl * egress", "db nacl 90", "db sg", "web sg"],
        "{seen:?}"
    );
}

#[test]
fn the_shipped_snapshot_loads_cleanly_and_reach_tells_the_stories() {
    let (_dir, out) = day(1, 0.01);
    let (after, problems) = Snapshot::load(&out.snapshot_dir);
    assert!(
        problems.iter().all(|p| p.severity == Severity::Note),
        "{problems:?}"
    );
    let (before, problems) = Snapshot::load(&out.snapshot_before_noon_dir);
    assert!(
        problems.iter().all(|p| p.severity == Severity::Note),
        "{problems:?}"
    );
    assert_eq!((after.vpcs.len(), after.enis.len()), (2, 7));
    let ping = |s: &Snapshot| {
        let q = Query::new("i-0e56286dd576cd7ad", "i-00ad452ce554e13ce").protocol(1);
        reach(s, &q).network_path_found
    };
    assert!(!ping(&before), "no peering before noon");
    assert!(ping(&after), "peering and routes after noon");
    let worker_db = Query::new("i-0f4d4a7c30c9e5b96", "i-09725305a567afc03")
        .protocol(6)
        .port(5432);
    let a = reach(&after, &worker_db);
    assert!(!a.network_path_found);
    assert!(
        a.explanations
            .iter()
            .any(|e| e.explanation_code == ExplanationCode::SubnetAclRestriction),
        "{:?}",
        a.explanations
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
