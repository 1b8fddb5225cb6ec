//! The CloudWatch Logs Insights query language (classic command set): a lexer and parser that
//! turn query text into a checked [`Query`], and [`QueryError`]s that point at the problem with
//! a caret. No execution here — `flowwatch-query` plans and runs queries with DataFusion — so
//! this crate builds in seconds and later features (dashboards, saved queries) can reuse it.

pub mod ast;
mod check;
pub mod error;
pub mod functions;
mod lexer;
mod parser;

pub use ast::{Command, CommandKind, Expr, ExprKind, Query, Span};
pub use error::QueryError;
pub use lexer::period;
pub use parser::parse;
