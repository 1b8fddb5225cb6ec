//! `flowwatch monitor|metrics|alarms`: monitoring definitions (CloudWatch metric filters and
//! alarms in AWS's JSON), metric series computed over stored flow logs, and alarm replay.
//! The work is done by `flowwatch-monitor`; this file parses arguments and prints.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use flowwatch_alarm::model::Dimension;
use flowwatch_alarm::{
    ComparisonOperator, MetricAlarm, MetricQuery, MetricRef, MetricSource, Stat,
};
use flowwatch_monitor::{
    BackfillOptions, Definitions, MetricStore, backfill, check, replay_stored,
};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{OutputFormat, Table};

const MONITOR_ABOUT: &str = "Monitoring definitions are CloudWatch metric filters and alarms in AWS's own JSON: \
a file with `metricFilters` (the output of `aws logs describe-metric-filters`), `MetricAlarms` and \
`CompositeAlarms` (the output of `aws cloudwatch describe-alarms`). Either AWS output alone is a valid file, \
and so is their union (`jq -s add filters.json alarms.json`). Each metric filter's `logGroupName` names the \
flowwatch log group it reads. Format and example: docs/monitor.md, docs/examples/monitor.json.\n\n\
Examples:\n  flowwatch monitor check docs/examples/monitor.json\n  \
aws logs describe-metric-filters --log-group-name vpc-flow > filters.json\n  \
aws cloudwatch describe-alarms > alarms.json\n  flowwatch monitor import filters.json alarms.json";

/// `flowwatch monitor …`
#[derive(Subcommand, Debug)]
#[command(long_about = MONITOR_ABOUT)]
pub enum MonitorCommand {
    /// Validate a definition file without importing it (exit 1 if anything is invalid)
    #[command(
        long_about = "Checks every metric filter and alarm as CloudWatch's PutMetricFilter, PutMetricAlarm and \
PutCompositeAlarm would: pattern syntax (the error shows the pattern with a caret under the problem), metric \
transformations, periods, statistics, thresholds, alarm rules, cycles between composite alarms, duplicate names. \
Warns about alarms on metrics no filter produces.\n\nExamples:\n  flowwatch monitor check monitor.json\n  \
flowwatch monitor check monitor.json --output json"
    )]
    Check {
        /// The definition file.
        file: PathBuf,
    },
    /// Store definitions in the data directory (same name replaces, as the Put* APIs do)
    #[command(
        long_about = "Reads each file, merges them into the stored definitions (<data-dir>/monitor/definitions.json; \
a filter with the same log group and name, or an alarm with the same name, is replaced), checks the result and \
stores it only if everything is valid. Run `flowwatch metrics backfill` afterwards to compute the new filters' \
metrics over stored history.\n\nExamples:\n  flowwatch monitor import monitor.json\n  \
flowwatch monitor import filters.json alarms.json"
    )]
    Import {
        /// Definition files (metric filters, alarms, or both).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `flowwatch metrics …`
#[derive(Subcommand, Debug)]
pub enum MetricsCommand {
    /// Compute the imported metric filters' metrics over stored flow logs
    #[command(
        long_about = "Reads the stored records of each log group that has metric filters (only the hour partitions \
that overlap --start/--end), rebuilds each record's text exactly as CloudWatch would see it, runs every filter, \
and stores per-minute series under <data-dir>/metrics/. Recomputing a range replaces it, so running it twice \
changes nothing. Something CloudWatch cannot do: a new filter's metric over past data.\n\nExamples:\n  \
flowwatch metrics backfill\n  flowwatch metrics backfill --log-group prod --start 2026-11-02 --end 2026-11-03\n  \
flowwatch metrics backfill --start -7d --end now"
    )]
    Backfill {
        /// Only this log group's filters.
        #[arg(long, short = 'g')]
        log_group: Option<String>,
        /// Start of the range (ISO-8601, epoch seconds or ms, `-2h`, `now`); default: all stored data.
        #[arg(long, allow_hyphen_values = true)]
        start: Option<String>,
        /// End of the range (exclusive); default: all stored data.
        #[arg(long, allow_hyphen_values = true)]
        end: Option<String>,
    },
    /// List computed metrics with their dimensions and time span
    #[command(
        long_about = "Every metric with stored data: namespace, name, dimensions, unit, the number of \
minutes with data and the first and last of them.\n\nExamples:\n  flowwatch metrics list\n  flowwatch metrics list --output json"
    )]
    List,
    /// Print a metric's statistic per period, like `aws cloudwatch get-metric-statistics`
    #[command(
        long_about = "Prints one row per period that has data. Dimensions must match the metric's exactly, as in \
CloudWatch (a metric with an ENI dimension needs --dimension ENI=…). Statistics: SampleCount, Sum, Average, \
Minimum, Maximum, pNN (p99, p99.9), tmNN, TM(a%:b%), IQM, wmNN, tcNN, tsNN, PR(a:b).\n\nExamples:\n  \
flowwatch metrics get RejectedSSH\n  flowwatch metrics get RejectedSshRdp --dimension ENI=eni-0a1 --period 300 --stat Sum\n  \
flowwatch metrics get BytesAccepted --start 2026-11-02T12:00 --end 2026-11-02T13:00 --stat p99 --output csv"
    )]
    Get {
        /// The metric name.
        name: String,
        /// The namespace, when several have a metric of this name.
        #[arg(long)]
        namespace: Option<String>,
        /// A dimension, `Name=Value` (repeat for several).
        #[arg(long = "dimension", short = 'd', value_parser = parse_dimension)]
        dimensions: Vec<(String, String)>,
        /// Start (ISO-8601, epoch seconds or ms, `-2h`, `now`); default: the first minute with data.
        #[arg(long, allow_hyphen_values = true)]
        start: Option<String>,
        /// End (exclusive); default: after the last minute with data.
        #[arg(long, allow_hyphen_values = true)]
        end: Option<String>,
        /// Period in seconds, a multiple of 60.
        #[arg(long, default_value_t = 60)]
        period: u32,
        /// The statistic.
        #[arg(long, default_value = "Sum")]
        stat: String,
    },
}

/// `flowwatch alarms …`
#[derive(Subcommand, Debug)]
pub enum AlarmsCommand {
    /// List the imported alarms
    #[command(
        long_about = "Every imported metric and composite alarm with its condition or rule.\n\nExamples:\n  \
flowwatch alarms list\n  flowwatch alarms list --output json"
    )]
    List,
    /// Show one alarm's definition
    #[command(
        long_about = "Prints the alarm's definition; `--output json` prints it in describe-alarms' shape.\n\n\
Examples:\n  flowwatch alarms describe ssh-brute-force\n  flowwatch alarms describe ssh-brute-force --output json"
    )]
    Describe {
        /// The alarm name.
        name: String,
    },
    /// Evaluate alarms over stored metrics with a simulated clock and print every transition
    #[command(
        long_about = "Evaluates every imported alarm minute by minute (every 10 s with high-resolution alarms) from \
--start to --end over the series `flowwatch metrics backfill` computed, exactly as CloudWatch would have \
(evaluation range, M out of N, missing-data treatment), starting from INSUFFICIENT_DATA, and prints each \
transition with its time, old and new state and CloudWatch's reason text. Composite alarms follow their children.\n\n\
Examples:\n  flowwatch alarms replay --start 2026-11-02 --end 2026-11-03\n  \
flowwatch alarms replay --alarm ssh-brute-force --start -7d --end now --output csv"
    )]
    /// The state transitions recorded by `flowwatch watch` and `alarms set-state`
    #[command(
        long_about = "Every state change of the live alarms, oldest first, as DescribeAlarmHistory items \
(`--output json` prints `{\"AlarmHistoryItems\": [...]}` in AWS's shape). Kept in \
<data-dir>/monitor/alarm-history.ndjson. For what *would* have happened over past data, see `alarms replay`.\n\n\
Examples:\n  flowwatch alarms history\n  flowwatch alarms history --alarm ssh-brute-force --start -1d --output json"
    )]
    History {
        /// Only this alarm's transitions.
        #[arg(long)]
        alarm: Option<String>,
        /// Only transitions at or after this time (ISO-8601, epoch, `-2h`, `now`).
        #[arg(long, allow_hyphen_values = true)]
        start: Option<String>,
        /// Only transitions before this time.
        #[arg(long, allow_hyphen_values = true)]
        end: Option<String>,
    },
    /// Set an alarm's state until its next evaluation (like `aws cloudwatch set-alarm-state`)
    #[command(
        long_about = "Sets the state of a metric or composite alarm, records the transition in its history and \
fires the actions for the new state (so a notification route can be tested end to end). As in CloudWatch, \
the state holds only until the alarm is next evaluated (by a running `flowwatch watch`).\n\n\
Examples:\n  flowwatch alarms set-state ssh-brute-force --state-value ALARM --state-reason \"testing the pager\""
    )]
    SetState {
        /// The alarm name.
        name: String,
        /// OK, ALARM or INSUFFICIENT_DATA.
        #[arg(long, value_parser = parse_state)]
        state_value: flowwatch_alarm::StateValue,
        /// The reason, in words.
        #[arg(long)]
        state_reason: String,
        /// The reason as JSON (`StateReasonData`).
        #[arg(long)]
        state_reason_data: Option<String>,
    },
    Replay {
        /// Only this alarm's transitions (the others are still evaluated).
        #[arg(long)]
        alarm: Option<String>,
        /// Start (ISO-8601, epoch seconds or ms, `-2h`, `now`).
        #[arg(long, allow_hyphen_values = true)]
        start: String,
        /// End (inclusive: the last evaluation time).
        #[arg(long, allow_hyphen_values = true)]
        end: String,
    },
}

fn parse_state(s: &str) -> std::result::Result<flowwatch_alarm::StateValue, String> {
    use flowwatch_alarm::StateValue;
    match s {
        "OK" => Ok(StateValue::Ok),
        "ALARM" => Ok(StateValue::Alarm),
        "INSUFFICIENT_DATA" => Ok(StateValue::InsufficientData),
        _ => Err(format!(
            "expected OK, ALARM or INSUFFICIENT_DATA, found `{s}`"
        )),
    }
}

fn parse_dimension(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected Name=Value, found `{s}`")),
    }
}

fn time(t: &str) -> Result<i64> {
    crate::query::parse_time(t, flowwatch_store::now_ms())
        .with_context(|| format!("invalid time '{t}'"))
}

fn datetime(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).with_context(|| format!("time {ms} out of range"))
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn run_monitor(data_dir: &Path, cmd: MonitorCommand, out: OutputFormat) -> Result<u8> {
    match cmd {
        MonitorCommand::Check { file } => {
            let defs = Definitions::read(&file)?;
            let report = check(&defs);
            let problems = |list: &[flowwatch_monitor::Problem]| -> Vec<Value> {
                list.iter()
                    .map(|p| json!({"location": p.location, "message": p.message}))
                    .collect()
            };
            if matches!(out, OutputFormat::Table | OutputFormat::Csv) {
                for e in &report.errors {
                    eprintln!("error: {e}");
                }
                for w in &report.warnings {
                    eprintln!("warning: {w}");
                }
                println!(
                    "{}: {} metric filter(s), {} metric alarm(s), {} composite alarm(s): {}",
                    file.display(),
                    defs.metric_filters.len(),
                    defs.metric_alarms.len(),
                    defs.composite_alarms.len(),
                    if report.is_ok() {
                        "valid".to_string()
                    } else {
                        format!("{} error(s)", report.errors.len())
                    }
                );
            } else {
                let v = json!({
                    "file": file.display().to_string(),
                    "valid": report.is_ok(),
                    "metricFilters": defs.metric_filters.len(),
                    "metricAlarms": defs.metric_alarms.len(),
                    "compositeAlarms": defs.composite_alarms.len(),
                    "errors": problems(&report.errors),
                    "warnings": problems(&report.warnings),
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            }
            Ok(if report.is_ok() {
                exit::OK
            } else {
                exit::FAILED
            })
        }
        MonitorCommand::Import { files } => {
            let mut defs = Definitions::load_stored(data_dir)?;
            let mut summary = flowwatch_monitor::MergeSummary::default();
            for f in &files {
                let s = defs.merge(Definitions::read(f)?);
                summary.added += s.added;
                summary.replaced += s.replaced;
            }
            let report = check(&defs);
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            if !report.is_ok() {
                for e in &report.errors {
                    eprintln!("error: {e}");
                }
                eprintln!("nothing imported: fix the errors above");
                return Ok(exit::FAILED);
            }
            let path = defs.save_stored(data_dir)?;
            let mut t = Table::new(&[
                "added",
                "replaced",
                "metric filters",
                "metric alarms",
                "composite alarms",
                "stored in",
            ]);
            t.push(vec![
                summary.added.into(),
                summary.replaced.into(),
                defs.metric_filters.len().into(),
                defs.metric_alarms.len().into(),
                defs.composite_alarms.len().into(),
                path.display().to_string().into(),
            ]);
            t.print(out)?;
            Ok(exit::OK)
        }
    }
}

pub fn run_metrics(data_dir: &Path, cmd: MetricsCommand, out: OutputFormat) -> Result<u8> {
    match cmd {
        MetricsCommand::Backfill {
            log_group,
            start,
            end,
        } => {
            let defs = Definitions::load_stored(data_dir)?;
            let report = check(&defs);
            if !report.is_ok() {
                for e in &report.errors {
                    eprintln!("error: {e}");
                }
                return Ok(exit::FAILED);
            }
            if report.filters.is_empty() {
                bail!("no metric filters imported: run `flowwatch monitor import FILE` first");
            }
            if let Some(g) = &log_group
                && !report.filters.iter().any(|f| &f.log_group == g)
            {
                bail!("no metric filter reads log group '{g}'");
            }
            let opts = BackfillOptions {
                log_group,
                start_ms: start.as_deref().map(time).transpose()?,
                end_ms: end.as_deref().map(time).transpose()?,
            };
            let done = backfill(data_dir, &report.filters, &opts)?;
            let mut t = Table::new(&["log group", "filter", "matched", "minutes"]);
            for f in &done.filters {
                t.push(vec![
                    f.log_group.clone().into(),
                    f.filter_name.clone().into(),
                    f.matched.into(),
                    f.minutes.into(),
                ]);
            }
            t.print(out)?;
            eprintln!("read {} records from {} files", done.records, done.files);
            Ok(exit::OK)
        }
        MetricsCommand::List => {
            let store = MetricStore::open(data_dir)?;
            let mut t = Table::new(&[
                "namespace",
                "metric",
                "dimensions",
                "unit",
                "minutes",
                "first",
                "last",
            ]);
            for m in store.list() {
                t.push(vec![
                    m.metric.namespace.clone().into(),
                    m.metric.name.clone().into(),
                    dims_text(&m.metric.dimensions).into(),
                    m.unit.clone().map_or(Value::Null, Value::from),
                    m.minutes.into(),
                    m.first.map(iso).into(),
                    m.last.map(iso).into(),
                ]);
            }
            t.print(out)?;
            Ok(exit::OK)
        }
        MetricsCommand::Get {
            name,
            namespace,
            dimensions,
            start,
            end,
            period,
            stat,
        } => {
            if period == 0 || period % 60 != 0 {
                bail!("--period {period}: series are kept per minute, use a multiple of 60");
            }
            let Some(statistic) = Stat::parse(&stat) else {
                bail!(
                    "unknown statistic '{stat}': use SampleCount, Sum, Average, Minimum, Maximum or pNN"
                );
            };
            let store = MetricStore::open(data_dir)?;
            let list = store.list();
            let named: Vec<_> = list
                .iter()
                .filter(|m| m.metric.name == name)
                .filter(|m| namespace.as_ref().is_none_or(|n| &m.metric.namespace == n))
                .collect();
            if named.is_empty() {
                bail!("no metric named '{name}' has data (see `flowwatch metrics list`)");
            }
            let spaces: std::collections::BTreeSet<&str> =
                named.iter().map(|m| m.metric.namespace.as_str()).collect();
            if spaces.len() > 1 {
                bail!(
                    "metric '{name}' exists in several namespaces ({}): pass --namespace",
                    spaces.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            let ns = named[0].metric.namespace.clone();
            let metric = MetricRef::new(
                ns,
                name.clone(),
                dimensions.iter().map(|(k, v)| Dimension::new(k, v)),
            );
            let Some(info) = named.iter().find(|m| m.metric == metric) else {
                let sets: Vec<String> = named
                    .iter()
                    .map(|m| {
                        let d = dims_text(&m.metric.dimensions);
                        if d.is_empty() {
                            "(none)".to_string()
                        } else {
                            d
                        }
                    })
                    .collect();
                bail!(
                    "metric '{name}' has no series with exactly these dimensions; it has: {}",
                    sets.join("; ")
                );
            };
            let start = match start {
                Some(s) => datetime(time(&s)?)?,
                None => info.first.context("metric has no data")?,
            };
            let end = match end {
                Some(e) => datetime(time(&e)?)?,
                None => info.last.context("metric has no data")? + chrono::Duration::minutes(1),
            };
            let mut points = store.datapoints(&MetricQuery {
                metric: &metric,
                stat: &statistic,
                period,
                unit: None,
                start,
                end,
            });
            points.sort_by_key(|p| p.timestamp);
            let mut t = Table::new(&["timestamp", stat.as_str(), "samples"]);
            for p in points {
                t.push(vec![
                    iso(p.timestamp).into(),
                    json_number(p.value),
                    p.sample_count.map_or(Value::Null, json_number),
                ]);
            }
            t.print(out)?;
            Ok(exit::OK)
        }
    }
}

fn json_number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

fn dims_text(d: &[Dimension]) -> String {
    d.iter()
        .map(|d| format!("{}={}", d.name, d.value))
        .collect::<Vec<_>>()
        .join(",")
}

fn condition(a: &MetricAlarm) -> String {
    let stat = a
        .statistic
        .map(|s| s.as_str().to_string())
        .or_else(|| a.extended_statistic.clone())
        .unwrap_or_else(|| "metric math".into());
    let op = match a.comparison_operator {
        Some(ComparisonOperator::GreaterThanOrEqualToThreshold) => ">=".to_string(),
        Some(ComparisonOperator::GreaterThanThreshold) => ">".to_string(),
        Some(ComparisonOperator::LessThanThreshold) => "<".to_string(),
        Some(ComparisonOperator::LessThanOrEqualToThreshold) => "<=".to_string(),
        Some(other) => other.as_str().to_string(),
        None => "?".to_string(),
    };
    let threshold = a
        .threshold
        .map(flowwatch_alarm::aws::java_double)
        .or_else(|| a.threshold_metric_id.clone())
        .unwrap_or_default();
    let n = a.evaluation_periods;
    let m = a.datapoints_to_alarm.unwrap_or(n);
    let period = a
        .period
        .map(|p| format!("{p} s"))
        .unwrap_or_else(|| "?".into());
    format!("{stat} {op} {threshold} for {m} of {n} periods of {period}")
}

pub fn run_alarms(data_dir: &Path, cmd: AlarmsCommand, out: OutputFormat) -> Result<u8> {
    let defs = Definitions::load_stored(data_dir)?;
    match cmd {
        AlarmsCommand::List => {
            let mut t = Table::new(&["name", "type", "metric", "condition"]);
            for a in &defs.metric_alarms {
                let metric = match (&a.namespace, &a.metric_name) {
                    (Some(ns), Some(n)) => {
                        let d = dims_text(&a.dimensions);
                        if d.is_empty() {
                            format!("{ns}/{n}")
                        } else {
                            format!("{ns}/{n} {d}")
                        }
                    }
                    _ => "metric math".into(),
                };
                t.push(vec![
                    a.alarm_name.clone().into(),
                    "MetricAlarm".into(),
                    metric.into(),
                    condition(a).into(),
                ]);
            }
            for a in &defs.composite_alarms {
                t.push(vec![
                    a.alarm_name.clone().into(),
                    "CompositeAlarm".into(),
                    Value::Null,
                    a.alarm_rule.clone().into(),
                ]);
            }
            t.print(out)?;
            Ok(exit::OK)
        }
        AlarmsCommand::Describe { name } => {
            let v = if let Some(a) = defs.metric_alarms.iter().find(|a| a.alarm_name == name) {
                json!({"MetricAlarms": [a], "CompositeAlarms": []})
            } else if let Some(a) = defs.composite_alarms.iter().find(|a| a.alarm_name == name) {
                json!({"MetricAlarms": [], "CompositeAlarms": [a]})
            } else {
                bail!("no alarm named '{name}' (see `flowwatch alarms list`)");
            };
            if matches!(out, OutputFormat::Table | OutputFormat::Csv) {
                let obj = v
                    .get("MetricAlarms")
                    .and_then(|l| l.get(0))
                    .or_else(|| v.get("CompositeAlarms").and_then(|l| l.get(0)))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let mut t = Table::new(&["field", "value"]);
                for (k, val) in obj {
                    let text = match val {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    t.push(vec![k.into(), text.into()]);
                }
                t.print(out)?;
            } else {
                println!("{}", serde_json::to_string_pretty(&v)?);
            }
            Ok(exit::OK)
        }
        AlarmsCommand::History { alarm, start, end } => {
            let start = start.as_deref().map(time).transpose()?;
            let end = end.as_deref().map(time).transpose()?;
            let items: Vec<Value> = flowwatch_monitor::read_history(data_dir)?
                .into_iter()
                .filter(|i| {
                    alarm
                        .as_deref()
                        .is_none_or(|a| i.get("AlarmName").and_then(Value::as_str) == Some(a))
                })
                .filter(|i| {
                    let t = i
                        .get("Timestamp")
                        .and_then(Value::as_str)
                        .and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").ok())
                        .map(|t| t.timestamp_millis());
                    match t {
                        Some(t) => start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e),
                        None => true,
                    }
                })
                .collect();
            if matches!(out, OutputFormat::Json | OutputFormat::Cloudwatch) {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({ "AlarmHistoryItems": items }))?
                );
                return Ok(exit::OK);
            }
            let mut t = Table::new(&["time", "alarm", "type", "summary", "reason"]);
            for i in &items {
                let get = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or_default();
                let reason = serde_json::from_str::<Value>(get("HistoryData"))
                    .ok()
                    .and_then(|d| {
                        d.pointer("/newState/stateReason")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                t.push(vec![
                    get("Timestamp").into(),
                    get("AlarmName").into(),
                    get("AlarmType").into(),
                    get("HistorySummary").into(),
                    reason.into(),
                ]);
            }
            t.print(out)?;
            if items.is_empty() {
                eprintln!(
                    "no transitions recorded: alarms change state while `flowwatch watch` runs \
                     (for past data, see `flowwatch alarms replay`)"
                );
            }
            Ok(exit::OK)
        }
        AlarmsCommand::SetState {
            name,
            state_value,
            state_reason,
            state_reason_data,
        } => {
            if let Some(d) = &state_reason_data {
                serde_json::from_str::<Value>(d).context("--state-reason-data is not JSON")?;
            }
            let mut live =
                flowwatch_monitor::LiveAlarms::open(data_dir, flowwatch_alarm::SystemClock)?;
            if live.definition(&name).is_none() {
                bail!("no alarm named '{name}' (see `flowwatch alarms list`)");
            }
            let event = live.set_state(
                &name,
                state_value,
                &state_reason,
                state_reason_data.as_deref(),
            )?;
            match event {
                Some(e) => {
                    let c = e.change();
                    eprintln!("{name}: {} -> {}", c.old.value, c.new.value);
                    crate::watch::deliver_now(data_dir, &live, std::slice::from_ref(&e))?;
                }
                None => eprintln!("{name} is already {state_value}: nothing changed"),
            }
            Ok(exit::OK)
        }
        AlarmsCommand::Replay { alarm, start, end } => {
            if defs.metric_alarms.is_empty() && defs.composite_alarms.is_empty() {
                bail!("no alarms imported: run `flowwatch monitor import FILE` first");
            }
            let start = datetime(time(&start)?)?;
            let end = datetime(time(&end)?)?;
            if end < start {
                bail!("--end is before --start");
            }
            let transitions = replay_stored(data_dir, &defs, start, end, alarm.as_deref())?;
            let json_out = matches!(
                out,
                OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch
            );
            let mut headers = vec!["time", "alarm", "old", "new", "reason"];
            if json_out {
                headers.push("reasonData");
            }
            let mut t = Table::new(&headers);
            for tr in &transitions {
                let mut row: Vec<Value> = vec![
                    iso(tr.time).into(),
                    tr.alarm.clone().into(),
                    tr.old.as_str().into(),
                    tr.new.as_str().into(),
                    tr.reason.clone().into(),
                ];
                if json_out {
                    row.push(
                        tr.reason_data
                            .as_deref()
                            .and_then(|d| serde_json::from_str(d).ok())
                            .unwrap_or(Value::Null),
                    );
                }
                t.push(row);
            }
            t.print(out)?;
            if transitions.is_empty() {
                eprintln!("no transitions between {} and {}", iso(start), iso(end));
            }
            Ok(exit::OK)
        }
    }
}

/// `flowwatch contributors …`
#[derive(Subcommand, Debug)]
pub enum ContributorsCommand {
    /// List the imported Contributor Insights rules
    #[command(
        long_about = "Every imported rule (`InsightRules` of the monitoring file, the shape of `aws cloudwatch \
describe-insight-rules`), its state, log groups and keys.\n\nExamples:\n  flowwatch contributors list"
    )]
    List,
    /// Top contributors of a rule over stored flow logs (GetInsightRuleReport)
    #[command(
        long_about = "Runs a Contributor Insights rule over the stored records of its log groups between --start \
and --end and prints the top contributors with their values, then the rule's metrics per period \
(UniqueContributors, MaxContributorValue, SampleCount, Sum, Minimum, Maximum, Average). `--output json` prints \
GetInsightRuleReport's shape. Values are exact (AWS's are approximate).\n\n\
Examples:\n  flowwatch contributors report RejectedTcpByEni --start -1d --end now\n  \
flowwatch contributors report BytesBySourceAndDestination --start 2026-11-02 --end 2026-11-03 --period 1h --top 5\n  \
flowwatch contributors report BytesBySourceAndDestination --start -6h --end now --order-by Maximum --output json"
    )]
    Report {
        /// The rule name.
        rule: String,
        /// Start (ISO-8601, epoch seconds or ms, `-2h`, `now`).
        #[arg(long, allow_hyphen_values = true)]
        start: String,
        /// End (exclusive).
        #[arg(long, allow_hyphen_values = true)]
        end: String,
        /// Period of the datapoints, e.g. 1m, 5m, 1h (or seconds).
        #[arg(long, default_value = "5m", value_parser = parse_period)]
        period: u32,
        /// How many contributors (1-100).
        #[arg(long, default_value_t = 10)]
        top: u32,
        /// Rank by the total over the range (Sum) or the largest single period (Maximum).
        #[arg(long, default_value = "Sum", value_parser = ["Sum", "Maximum"])]
        order_by: String,
    },
}

fn parse_period(s: &str) -> std::result::Result<u32, String> {
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86_400),
        _ => (s, 1),
    };
    let n: u32 = num
        .parse()
        .map_err(|_| format!("expected a period such as 60, 5m or 1h, found `{s}`"))?;
    match n.checked_mul(mult) {
        Some(p) if p >= 60 && p % 60 == 0 => Ok(p),
        _ => Err(format!(
            "`{s}`: the period must be a whole number of minutes"
        )),
    }
}

pub fn run_contributors(
    data_dir: &Path,
    cmd: ContributorsCommand,
    out: OutputFormat,
) -> Result<u8> {
    let defs = Definitions::load_stored(data_dir)?;
    let report = check(&defs);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if !report.is_ok() {
        for e in &report.errors {
            eprintln!("error: {e}");
        }
        return Ok(exit::FAILED);
    }
    match cmd {
        ContributorsCommand::List => {
            let mut t = Table::new(&["name", "state", "log groups", "keys", "aggregate"]);
            for r in &defs.insight_rules {
                let compiled = report.insight_rules.iter().find(|c| c.name() == r.name);
                let groups = compiled.map(|c| {
                    c.log_groups()
                        .iter()
                        .map(|g| match g {
                            flowwatch_contrib::GroupPattern::Exact(n) => n.clone(),
                            flowwatch_contrib::GroupPattern::Prefix(p) => format!("{p}*"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                let state = match compiled.map(|c| c.state()) {
                    Some(flowwatch_contrib::RuleState::Disabled) => "DISABLED",
                    Some(_) => "ENABLED",
                    None => "MANAGED (skipped)",
                };
                t.push(vec![
                    r.name.clone().into(),
                    state.into(),
                    groups.unwrap_or_default().into(),
                    compiled
                        .map(|c| c.key_labels().join(", "))
                        .unwrap_or_default()
                        .into(),
                    compiled
                        .map(|c| c.aggregate_on().as_str().to_string())
                        .unwrap_or_default()
                        .into(),
                ]);
            }
            t.print(out)?;
            if defs.insight_rules.is_empty() {
                eprintln!(
                    "no contributor rules imported: add `InsightRules` to a monitoring file and `flowwatch monitor import` it"
                );
            }
            Ok(exit::OK)
        }
        ContributorsCommand::Report {
            rule,
            start,
            end,
            period,
            top,
            order_by,
        } => {
            let Some(compiled) = report.insight_rules.iter().find(|c| c.name() == rule) else {
                let names: Vec<&str> = report.insight_rules.iter().map(|c| c.name()).collect();
                bail!(
                    "no contributor rule named '{rule}'{}",
                    if names.is_empty() {
                        " (none imported: see `flowwatch contributors list`)".to_string()
                    } else {
                        format!("; imported: {}", names.join(", "))
                    }
                );
            };
            let (start, end) = (time(&start)?, time(&end)?);
            if end <= start {
                bail!("--end must be after --start");
            }
            let mut request = flowwatch_contrib::ReportRequest::new(start, end, period);
            request.max_contributor_count = Some(top);
            request.order_by = if order_by == "Maximum" {
                flowwatch_contrib::OrderBy::Maximum
            } else {
                flowwatch_contrib::OrderBy::Sum
            };
            let run = flowwatch_monitor::contributor_reports(
                data_dir,
                std::slice::from_ref(compiled),
                &request,
            )?;
            let Some(r) = run.rules.into_iter().next() else {
                bail!("rule '{rule}' produced no report");
            };
            if matches!(
                out,
                OutputFormat::Json | OutputFormat::Cloudwatch | OutputFormat::Ndjson
            ) {
                println!("{}", serde_json::to_string_pretty(&r.report)?);
                return Ok(exit::OK);
            }
            let mut headers: Vec<String> = vec!["rank".into()];
            headers.extend(r.report.key_labels.iter().cloned());
            headers.push(r.report.aggregation_statistic.to_lowercase());
            headers.push("share %".into());
            let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut t = Table::new(&hdr);
            for (i, c) in r.report.contributors.iter().enumerate() {
                let mut row: Vec<Value> = vec![(i + 1).into()];
                row.extend(c.keys.iter().map(|k| Value::from(k.clone())));
                row.push(json_number(c.approximate_aggregate_value));
                let share = if r.report.aggregate_value > 0.0 {
                    100.0 * c.approximate_aggregate_value / r.report.aggregate_value
                } else {
                    0.0
                };
                row.push(format!("{share:.1}").into());
                t.push(row);
            }
            t.print(out)?;
            if out == OutputFormat::Table {
                eprintln!(
                    "{} contributor(s) in total, {} {} overall, {} record(s) matched of {} read in {} file(s)",
                    r.report.approximate_unique_count,
                    json_number(r.report.aggregate_value),
                    r.report.aggregation_statistic,
                    r.matched,
                    run.records,
                    run.files
                );
            }
            Ok(exit::OK)
        }
    }
}
