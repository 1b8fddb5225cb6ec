//! flowwatch-query: Logs Insights queries over the store, planned into DataFusion DataFrames.
//! The only crate that depends on DataFusion (scripts/test enforces it).
//!
//! Flow: [`flowwatch_insights::parse`] → `plan` resolves field names against the log groups'
//! schemas and builds a DataFrame (file list pruned by the time range first) → DataFusion
//! executes it → [`QueryOutput`] renders cells as CloudWatch prints them.

mod addrkey;
pub mod athena;
mod engine;
pub mod lookup;
mod plan;
pub mod render;
mod reorder;
pub mod sql;
mod strategy;
pub mod udf;

pub use engine::{Error, InsightsOptions, QueryEngine, QueryOutput, QueryStats};
