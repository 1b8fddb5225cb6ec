//! flowwatch-contrib: CloudWatch Contributor Insights over log events. Pure logic — no IO, no
//! async, no Arrow or DataFusion: callers feed events (from stored history or live
//! ingestion) and ask for reports.
//!
//! # The path of an event
//!
//! 1. A rule comes as the JSON of PutInsightRule's `RuleDefinition` ([`RuleBody`]), or as an
//!    item of `aws cloudwatch describe-insight-rules` ([`InsightRule`], whose `Definition` is
//!    that JSON as a string).
//! 2. [`compile`] (or [`InsightRule::compile`]) validates it as PutInsightRule would — every
//!    problem named by rule and key, a bad JSON path by byte — and resolves its fields.
//! 3. [`RuleEngine::observe`] takes one event (log group, timestamp, text): every enabled rule
//!    reading that group splits (CLF) or parses (JSON) it once, applies the filters, and adds
//!    the event's value to its contributor (the key tuple) in the event's period.
//! 4. [`RuleEngine::report`] answers GetInsightRuleReport for any range and any multiple of
//!    the engine's period, in AWS's JSON shape ([`InsightRuleReport`]);
//!    [`RuleEngine::metric`] gives one metric's per-period values, for
//!    `INSIGHT_RULE_METRIC(rule, metric)` in alarms.
//!
//! # Decisions where AWS is silent
//!
//! * `AggregateOn: Sum` without `ValueOf` is accepted and adds 1 per matched event: AWS's
//!   own VPC sample rule "rejected TCP connections" is written that way. `ValueOf` with
//!   `Count` is accepted with a warning (it is ignored).
//! * An event that lacks any key field, or (for `Sum` with `ValueOf`) whose value is missing or
//!   not a number, does not contribute at all — not to its contributor, not to `SampleCount`.
//! * Unknown keys in a rule body are errors; unknown keys in a `describe-insight-rules` item
//!   are ignored (AWS adds fields).
//! * `LogGroupARNs` are matched by the log group name they contain; region and account are
//!   not checked (a flowwatch store has log groups by name only). A trailing `:*` is allowed.
//! * "Approximate" report values are exact.
//!
//! Field splitting and value semantics are listed in [`matcher`](mod@matcher); report and
//! metric semantics in [`report`](mod@report); memory in [`engine`](mod@engine).

mod compile;
pub mod engine;
pub mod error;
pub mod matcher;
mod path;
pub mod report;
pub mod rule;

pub use compile::{
    CompiledRule, GroupPattern, MAX_FILTER_STRINGS, MAX_FILTERS, MAX_KEYS, MAX_RULE_NAME, compile,
};
pub use engine::{DEFAULT_PERIOD_SECS, RuleEngine};
pub use error::{ContribError, Result, RuleError};
pub use path::JsonPath;
pub use report::{
    InsightRuleContributor, InsightRuleContributorDatapoint, InsightRuleMetric,
    InsightRuleMetricDatapoint, InsightRuleReport, MetricPoint, OrderBy, ReportRequest, Timestamp,
};
pub use rule::{
    AggregateOn, Contribution, DescribeInsightRulesOutput, Filter, FilterOperator, InsightRule,
    LogFormat, RuleBody, RuleSchema, RuleState,
};
