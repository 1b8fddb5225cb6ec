//! Store-level tests: records survive text → reader → store → Parquet → text unchanged, and
//! uncommitted work never becomes visible.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::fs::File;
use std::path::{Path, PathBuf};

use flowwatch_flowlog::{Output, ReadOptions, SourceDefaults, read_stream, rebuild_message};
use flowwatch_store::{SourceEntry, Store};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const INPUT: &str = "\
version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010000 1418530070000 REJECT OK

version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status future-field
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638 10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK something-new
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62  52.213.180.42 5001 43638 10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK -
";

fn records() -> Vec<String> {
    INPUT
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("version"))
        .map(str::to_string)
        .collect()
}

/// A transaction holding [`INPUT`], not yet committed.
fn stage(store: &mut Store, group: &str) -> (flowwatch_store::Txn, flowwatch_flowlog::ReadSummary) {
    let mut txn = store.begin(group).unwrap();
    let summary = read_stream(
        INPUT.as_bytes(),
        "input",
        SourceDefaults::default(),
        &ReadOptions::default(),
        &mut |o| {
            if let Output::Batch(b) = o {
                txn.write(&b).unwrap();
            }
        },
    );
    (txn, summary)
}

fn read_back(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut out = Vec::new();
    for f in files {
        for batch in ParquetRecordBatchReaderBuilder::try_new(File::open(f).unwrap())
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            out.extend((0..batch.num_rows()).map(|r| rebuild_message(&batch, r).unwrap()));
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
}

#[test]
fn text_survives_the_store_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path()).unwrap();
    let (mut txn, summary) = stage(&mut store, "/aws/vpc/roundtrip");
    assert_eq!(summary.rejected, 0, "{summary:?}");
    txn.add_source(SourceEntry {
        key: "k".into(),
        name: "input".into(),
        bytes: 1,
        records: summary.records,
        rejected: 0,
    });
    let committed = store.commit(txn).unwrap();
    assert_eq!(committed.rows, 6);
    // Records land in several hour partitions (2014, 2015, 2016, 2019).
    assert!(committed.files >= 4);
    let mut want = records();
    want.sort();
    assert_eq!(read_back(&store.group_dir("/aws/vpc/roundtrip")), want);
    assert!(store.has_source("/aws/vpc/roundtrip", "k"));
    drop(store);
    // Reopening sees the same ledger.
    let store = Store::open(tmp.path()).unwrap();
    assert!(store.has_source("/aws/vpc/roundtrip", "k"));
    assert_eq!(store.stats("/aws/vpc/roundtrip").unwrap().records, 6);
}

#[test]
fn an_uncommitted_transaction_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path()).unwrap();
    let (mut txn, _) = stage(&mut store, "g");
    txn.add_source(SourceEntry {
        key: "k".into(),
        name: "input".into(),
        bytes: 1,
        records: 6,
        rejected: 0,
    });
    drop(txn);
    assert_eq!(store.stats("g").unwrap().records, 0);
    assert!(!store.has_source("g", "k"));
    assert_eq!(
        std::fs::read_dir(tmp.path().join("_staging"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let _first = Store::open(tmp.path()).unwrap();
    // File locks are per open file description, so a second open in-process conflicts too.
    let second = std::fs::File::options()
        .write(true)
        .open(tmp.path().join(".lock"))
        .unwrap();
    assert!(second.try_lock().is_err());
}

/// Regression: a kill between writing a transaction record's temp file and linking it left a
/// file in `_staging`, and recovery, expecting only directories, refused to open the store.
#[test]
fn recovery_clears_a_stray_record_file_in_staging() {
    let tmp = tempfile::tempdir().unwrap();
    drop(Store::open(tmp.path()).unwrap());
    std::fs::write(
        tmp.path().join("_staging/1795439533113-2638-4.json"),
        b"{\"partial",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("_staging/1795439533113-2638-5/w1")).unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(tmp.path().join("_staging"))
            .unwrap()
            .count(),
        0
    );
    drop(store);
}
