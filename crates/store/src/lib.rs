//! flowwatch-store: log groups stored as Hive-partitioned, zstd Parquet tables that Athena,
//! Trino, Spark and DuckDB read unchanged, changed only through crash-safe transactions.
//!
//! Layout of a data directory:
//! ```text
//! groups/<group>/_group.json                       name, retention
//! groups/<group>/year=YYYY/month=MM/day=DD/hour=HH/part-<txn>-<n>.parquet
//! _txn/<seq>.json, <seq>.applied, checkpoint.json   the transaction log and idempotency ledger
//! _staging/<txn>/                                   files not yet committed
//! quarantine/<group>/<txn>.jsonl                    rejected records, one JSON object per line
//! ```
//! Group names are percent-encoded in directory names (`/aws/vpc` → `%2Faws%2Fvpc`).
//!
//! Invariants: a data file appears in a partition only by rename after it was fsync'd; a
//! transaction is visible in full or not at all after recovery; a source's ledger entry commits
//! with its data, so re-running an ingest never duplicates records. No DataFusion, no async.

mod error;
pub mod group;
mod store;
pub mod writer;

pub use error::{Result, StoreError};
pub use group::{GroupMeta, RETENTION_DAYS};
pub use store::{
    CommitSummary, GroupStats, SourceEntry, Store, StoreReader, Txn, now_ms, partition_hour_ms,
};
pub use writer::{PartitionedWriter, WrittenFile};
