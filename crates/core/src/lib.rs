//! flowwatch-core: the vocabulary every other flowwatch crate shares.
//!
//! - [`field`]: the catalog of VPC Flow Logs fields (v2–v11), each with its name in every
//!   spelling users meet (format token, S3 header, Parquet/Athena column, Logs Insights name)
//!   and the type AWS gives it in Parquet delivery.
//! - [`mod@format`]: a record format, the ordered list of fields a flow log writes, including fields
//!   flowwatch does not know yet (kept as strings, never dropped).
//! - [`time`]: epoch-time normalisation.
//!
//! Invariant: no IO, no Arrow, no async. This crate compiles in seconds and everything depends
//! on it.

pub mod field;
pub mod format;
pub mod time;

pub use field::{FIELD_COUNT, FIELDS, FieldDef, FieldId, FieldType, V5_FORMAT};
pub use format::{LogFormat, Slot};
