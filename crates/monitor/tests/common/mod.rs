//! What the monitor's integration tests share: storing flow-log text into a temporary store.

use std::path::Path;

use flowwatch_flowlog::{Output, ReadOptions, SourceDefaults, read_stream};
use flowwatch_store::{SourceEntry, Store};

/// Reads `text` (flow-log lines, any form the reader detects) and commits it into `group` of
/// the store in `dir` as one source named `key`; a rejected line fails the test.
pub fn ingest(dir: &Path, group: &str, key: &str, text: &str) {
    let mut store = Store::open(dir).expect("store");
    store.ensure_group(group).expect("group");
    let mut txn = store.begin(group).expect("txn");
    let summary = read_stream(
        text.as_bytes(),
        key,
        SourceDefaults::default(),
        &ReadOptions::default(),
        &mut |o| match o {
            Output::Batch(b) => txn.write(&b).expect("write"),
            Output::Reject(r) => panic!("rejected: {r:?}"),
        },
    );
    txn.add_source(SourceEntry {
        key: key.into(),
        name: key.into(),
        bytes: text.len() as u64,
        records: summary.records,
        rejected: 0,
    });
    store.commit(txn).expect("commit");
}
