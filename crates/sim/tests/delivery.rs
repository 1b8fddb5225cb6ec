//! `pkt-*-aws-service` from the snapshot's AWS-managed prefix lists, and Parquet delivery
//! agreeing with the text delivery record for record.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::array::{Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::DataType;
use common::*;
use flowwatch_sim::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// `test-vpc-endpoint-gateway`: an S3 gateway endpoint (prefix list `pl-63a5400a`,
/// `com.amazonaws.us-east-1.s3`) routed from both subnets; the public one also has an IGW.
const SCENARIO: &str = "test-vpc-endpoint-gateway";
const PRIVATE_I: &str = "i-01c6c0647fdccc89e"; // 10.1.101.36, routes S3 to the endpoint only
const PRIVATE_I_ENI: &str = "eni-07c757c9635932972";
const PUBLIC_I: &str = "i-0464d440ca0ee9e34"; // 10.1.1.169, public 18.206.223.222

const TRAFFIC: &str = r#"
[[flow]]
name = "s3"
source = "i-01c6c0647fdccc89e"
destination = "52.216.0.10"
port = 443
source_port = 50000
rate = 1
[[flow]]
name = "dynamodb"
source = "i-0464d440ca0ee9e34"
destination = "52.94.0.5"
port = 443
source_port = 50001
rate = 1
end = "20m"
[[flow]]
name = "dns"
source = "i-0464d440ca0ee9e34"
destination = "8.8.8.8"
protocol = "udp"
port = 53
source_port = 50002
rate = 1
end = "10m"
"#;

const SVC: &str = "interface-id dstaddr srcaddr pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

#[test]
fn managed_prefix_lists_name_the_aws_service_of_packet_addresses() {
    let s = load(SCENARIO);
    let out = simulate(
        &s,
        &Traffic::parse(TRAFFIC).unwrap(),
        t0(),
        Duration::from_secs(60),
        &Options::default(),
    )
    .unwrap();
    let l: Vec<String> = lines(&out, SVC)
        .into_iter()
        .filter(|x| !x.contains(" - - - - - -"))
        .collect();
    let has = |x: &str| assert!(l.iter().any(|y| y == x), "missing {x} in {l:#?}");
    // Through the gateway endpoint (traffic-path 7), request and reply.
    has(&format!(
        "{PRIVATE_I_ENI} 52.216.0.10 10.1.101.36 - S3 egress 7"
    ));
    has(&format!(
        "{PRIVATE_I_ENI} 10.1.101.36 52.216.0.10 S3 - ingress -"
    ));
    // DynamoDB's list holds the address even without an endpoint for it (out through the IGW).
    let pub_eni = &s.eni(s.eni_idx(PUBLIC_I).unwrap()).id;
    has(&format!(
        "{pub_eni} 52.94.0.5 10.1.1.169 - DYNAMODB egress 8"
    ));
    has(&format!(
        "{pub_eni} 10.1.1.169 52.94.0.5 DYNAMODB - ingress -"
    ));
    // Other addresses: `-`.
    has(&format!("{pub_eni} 8.8.8.8 10.1.1.169 - - egress 8"));
    // The v5 default format ends with the two fields.
    let v5 = lines(&out, &default_format().header());
    assert!(v5.iter().any(|x| x.ends_with(" egress 7 - S3")), "{v5:#?}");
    assert!(
        v5.iter().any(|x| x.ends_with(" ingress - DYNAMODB -")),
        "{v5:#?}"
    );
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().to_string()
}

/// The text records of every object, in key order, as token lists (header lines dropped).
fn text_rows(files: &[PathBuf]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in files {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        rows.extend(
            text.lines()
                .skip(1)
                .map(|l| l.split(' ').map(String::from).collect()),
        );
    }
    rows
}

/// The Parquet rows of every object, in key order, as text tokens (null as `-`), and the
/// column names and types.
fn parquet_rows(files: &[PathBuf]) -> (Vec<Vec<String>>, Vec<(String, DataType)>) {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut schema = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            schema = batch
                .schema()
                .fields()
                .iter()
                .map(|x| (x.name().clone(), x.data_type().clone()))
                .collect();
            for i in 0..batch.num_rows() {
                let row = batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(i) {
                            return "-".to_string();
                        }
                        let any = c.as_any();
                        if let Some(a) = any.downcast_ref::<Int32Array>() {
                            a.value(i).to_string()
                        } else if let Some(a) = any.downcast_ref::<Int64Array>() {
                            a.value(i).to_string()
                        } else {
                            any.downcast_ref::<StringArray>()
                                .unwrap()
                                .value(i)
                                .to_string()
                        }
                    })
                    .collect();
                rows.push(row);
            }
        }
    }
    (rows, schema)
}

#[test]
fn parquet_rows_equal_text_records_with_dashes_as_nulls() {
    let s = load(SCENARIO);
    let traffic = Traffic::parse(&format!(
        "{TRAFFIC}\n[[capture_loss]]\ninterface = \"{PRIVATE_I}\"\nat = \"40m\"\n"
    ))
    .unwrap();
    // 11:30 to 12:30: two hour partitions, text objects every 5 minutes.
    let start = t0() - chrono::Duration::minutes(30);
    let out = simulate(
        &s,
        &traffic,
        start,
        Duration::from_secs(3600),
        &Options::default(),
    )
    .unwrap();
    assert!(
        out.records
            .iter()
            .any(|r| r.log_status == LogStatus::SkipData)
    );
    assert!(
        out.records
            .iter()
            .any(|r| r.log_status == LogStatus::NoData)
    );
    let format = default_format();
    let text_dir = tempfile::tempdir().unwrap();
    let pq_dir = tempfile::tempdir().unwrap();
    let text_files = write_s3_layout(&out, text_dir.path(), &format).unwrap();
    let pq_files = write_parquet_layout(&out, pq_dir.path(), &format).unwrap();
    assert_eq!(text_files.len(), 12);
    assert_eq!(pq_files.len(), 2);

    let text = text_rows(&text_files);
    let (pq, schema) = parquet_rows(&pq_files);
    assert_eq!(text.len(), out.records.len());
    assert_eq!(pq, text);

    // Columns as AWS names and types them.
    let names: Vec<&str> = schema.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..4],
        ["version", "account_id", "interface_id", "srcaddr"]
    );
    assert!(names.contains(&"pkt_srcaddr") && names.contains(&"log_status"));
    assert!(names.contains(&"pkt_dst_aws_service") && names.contains(&"traffic_path"));
    let ty = |n: &str| schema.iter().find(|(x, _)| x == n).unwrap().1.clone();
    assert_eq!(ty("version"), DataType::Int32);
    assert_eq!(ty("srcport"), DataType::Int32);
    assert_eq!(ty("tcp_flags"), DataType::Int32);
    assert_eq!(ty("packets"), DataType::Int64);
    assert_eq!(ty("start"), DataType::Int64);
    assert_eq!(ty("srcaddr"), DataType::Utf8);
    assert_eq!(ty("action"), DataType::Utf8);

    // The key layout: Hive-compatible, hourly, named after the hour.
    let acct = &out.interfaces[0].account;
    let region = &out.interfaces[0].region;
    let fl = &out.flow_log_id;
    for (f, hour) in pq_files.iter().zip(["11", "12"]) {
        let r = rel(pq_dir.path(), f);
        let prefix = format!(
            "AWSLogs/aws-account-id={acct}/aws-service=vpcflowlogs/aws-region={region}/year=2026/month=11/day=02/hour={hour}/{acct}_vpcflowlogs_{region}_{fl}_20261102T{hour}00Z_"
        );
        assert!(r.starts_with(&prefix), "{r} vs {prefix}");
        let hash = r
            .strip_prefix(&prefix)
            .unwrap()
            .strip_suffix(".log.parquet")
            .unwrap();
        assert!(
            hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{r}"
        );
        // GZIP, as AWS writes.
        let meta = SerializedFileReader::new(std::fs::File::open(f).unwrap()).unwrap();
        let rg = meta.metadata().row_group(0);
        assert!((0..rg.num_columns()).all(|c| matches!(
            rg.column(c).compression(),
            parquet::basic::Compression::GZIP(_)
        )),);
    }

    // Deterministic bytes.
    let again = tempfile::tempdir().unwrap();
    let files2 = write_parquet_layout(&out, again.path(), &format).unwrap();
    for (a, b) in pq_files.iter().zip(&files2) {
        assert_eq!(rel(pq_dir.path(), a), rel(again.path(), b));
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    // Any format: its columns only, in its order.
    let small = LogFormat::parse("interface-id log-status pkt-dst-aws-service bytes").unwrap();
    let d = tempfile::tempdir().unwrap();
    let (rows, schema) = parquet_rows(&write_parquet_layout(&out, d.path(), &small).unwrap());
    let names: Vec<&str> = schema.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["interface_id", "log_status", "pkt_dst_aws_service", "bytes"]
    );
    assert_eq!(rows.len(), out.records.len());
    assert!(rows.iter().any(|r| r[2] == "S3"));
}
