//! What the query test binaries share: a store built from flow-log files.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;

use flowwatch_flowlog::{Output, ReadOptions, SourceDefaults, read_path};
use flowwatch_store::Store;

/// Read `file` (any format flowwatch detects), failing the test on any rejected line, and
/// commit its records to log group `group` of the store at `data`, one transaction per file.
/// Returns the number of records stored.
pub fn ingest(data: &Path, group: &str, file: &Path) -> usize {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut batches = vec![];
    let summary = read_path(
        file,
        &name,
        SourceDefaults::default(),
        &ReadOptions::default(),
        &mut |out| match out {
            Output::Batch(b) => batches.push(b),
            Output::Reject(r) => panic!("{name}:{} rejected: {}", r.line, r.reason),
        },
    );
    assert!(summary.error.is_none(), "{name}: {:?}", summary.error);
    let mut store = Store::open(data).expect("open store");
    store.ensure_group(group).expect("group");
    let mut txn = store.begin(group).expect("begin");
    for b in &batches {
        txn.write(b).expect("write");
    }
    store.commit(txn).expect("commit");
    batches.iter().map(|b| b.num_rows()).sum()
}
