//! flowwatch-monitor: CloudWatch metric filters and alarms over the flow logs in a flowwatch
//! data directory. The semantics live in `flowwatch-pattern` (the filter-pattern language,
//! metric transformations) and `flowwatch-alarm` (alarm evaluation); this crate adds the
//! definition file, the metric series on disk, their computation from stored history and
//! alarm replay. No DataFusion: stored Parquet is read with the `parquet` crate directly.
//!
//! # The definition file
//!
//! One JSON object with up to four lists, each in the exact shape AWS prints it:
//!
//! ```text
//! {
//!   "metricFilters":   [ ... ],   // aws logs describe-metric-filters
//!   "MetricAlarms":    [ ... ],   // aws cloudwatch describe-alarms
//!   "CompositeAlarms": [ ... ],   // aws cloudwatch describe-alarms
//!   "InsightRules":    [ ... ]    // aws cloudwatch describe-insight-rules
//! }
//! ```
//!
//! So the raw output of either AWS command is a valid file, and so is their union
//! (`jq -s add filters.json alarms.json`). `nextToken`/`NextToken` are accepted and ignored.
//! Any other top-level key is an error (a misspelt list would otherwise define nothing);
//! unknown keys inside a filter or alarm are ignored, since AWS keeps adding fields. A metric
//! filter must name its `logGroupName` (the flowwatch log group it reads). The complete
//! example is `docs/examples/monitor.json`; `docs/monitor.md` is the user guide.
//!
//! # Modules
//!
//! * [`definitions`]: [`Definitions`] (parse, merge by identity as the Put* APIs do, the copy
//!   stored in `<data-dir>/monitor/definitions.json`).
//! * [`check`](mod@check): every definition validated as AWS would, plus duplicates, cycles
//!   and alarms on metrics no filter produces; pattern and rule errors rendered with a caret.
//! * [`backfill`](mod@backfill): a log group's Parquet files → rebuilt record text → every
//!   filter → per-minute aggregates.
//! * [`series`]: the per-minute series on disk (one file per filter under
//!   `<data-dir>/metrics/`, replaced atomically) and [`MetricStore`], the
//!   [`flowwatch_alarm::MetricSource`] over them.
//! * [`replay`](mod@replay): alarms evaluated minute by minute with a simulated clock.
//! * [`rules`]: the contributor rules that alarms read (`INSIGHT_RULE_METRIC`), counted
//!   over the stored records and kept up to date by file; [`MonitorSource`], what alarms
//!   read (series and rule metrics).
//! * [`contributors`](mod@contributors): Contributor Insights rules (`flowwatch-contrib`) run
//!   over a log group's stored history, one GetInsightRuleReport per rule.
//!
//! # Decisions
//!
//! * Series are kept per minute: sum, count, minimum, maximum exactly, and up to
//!   [`series::MAX_SAMPLES`] values per minute (a deterministic reservoir beyond) for
//!   percentiles and trimmed statistics. Periods are whole minutes; a sub-minute period sees
//!   each minute whole in the period it starts in.
//! * A filter's `defaultValue` is published once for each minute in which the log group had
//!   records (in the computed range) but the filter matched none.
//! * An alarm with a `Unit` sees only series published in that unit; a filter without `unit`
//!   publishes `None`.
//! * Replay starts every alarm afresh (`INSUFFICIENT_DATA`), ignoring the state in the file.

pub mod backfill;
pub mod check;
pub mod contributors;
pub mod definitions;
pub mod error;
mod fsutil;
pub mod live;
mod records;
pub mod replay;
pub mod rules;
pub mod series;

pub use backfill::{BackfillOptions, BackfillReport, FilterReport, MetricAccumulator, backfill};
pub use check::{CheckReport, GroupFilter, Problem, check};
pub use contributors::{ContributorRun, RuleReport, contributor_reports};
pub use definitions::{Definitions, MergeSummary};
pub use error::{MonitorError, Result};
pub use live::{LiveAlarms, read_history, recover_metrics, update_metrics};
pub use replay::{Transition, replay, replay_stored};
pub use rules::{MonitorSource, RefreshStats, RuleMetrics};
pub use series::{FilterSeries, MetricInfo, MetricStore};
