//! flowwatch-flowlog: read VPC Flow Logs in every form AWS delivers them, into Arrow batches.
//!
//! The layers, outermost first:
//! 1. **framing** ([`lines`]): bytes to lines with a length cap, gzip (multi-member) and base64
//!    unwrapped by `source`, which detects each layer from the content, not the file name;
//! 2. **envelopes** (`json`, `parquet_in`): CloudWatch Logs API output, subscription
//!    payloads, Firehose records, Parquet columns — each yields record text or typed cells;
//! 3. **format** ([`builder`]): cells zipped with the record format (from a header line, the
//!    user's `--log-format`, or a known header-less layout), validated per field type, appended
//!    column by column into batches with the [`schema`] every later stage shares.
//!
//! Invariants: one bad record never fails its source (it becomes a [`Rejection`] with its line
//! and reason); nothing here panics on any input; no async, no DataFusion, no file writing.

pub mod builder;
mod error;
mod json;
pub mod lines;
mod message;
mod parquet_in;
pub mod s3path;
pub mod schema;
mod source;

pub use builder::SourceDefaults;
pub use error::{MAX_LINE, ReadError, Rejection};
pub use message::{rebuild_message, rebuild_messages};
pub use source::{Detected, InputFormat, Output, ReadOptions, ReadSummary, read_path, read_stream};
