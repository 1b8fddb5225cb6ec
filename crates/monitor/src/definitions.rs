//! The monitoring definition file: metric filters in the shape `aws logs
//! describe-metric-filters` prints, alarms in the shape `aws cloudwatch describe-alarms`
//! prints and Contributor Insights rules in the shape `aws cloudwatch describe-insight-rules`
//! prints, side by side in one JSON object (see the crate docs for the format). Any AWS
//! output alone is a valid file, so is `jq -s add` of them.
//!
//! Also the data directory's copy of the imported definitions
//! (`<data-dir>/monitor/definitions.json`), written atomically.

use std::path::{Path, PathBuf};

use flowwatch_alarm::{CompositeAlarm, MetricAlarm};
use flowwatch_contrib::InsightRule;
use flowwatch_notify::Target;
use flowwatch_pattern::MetricFilter;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::{IoContext, MonitorError, Result};
use crate::fsutil::write_atomic;

/// Everything a monitoring file declares. Unknown keys at the top level are an error (a typo
/// such as `MetricFilters` would otherwise silently define nothing); unknown keys inside a
/// filter or an alarm are ignored, because AWS keeps adding fields to its output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    #[serde(rename = "metricFilters", default)]
    pub metric_filters: Vec<MetricFilter>,
    #[serde(rename = "MetricAlarms", default)]
    pub metric_alarms: Vec<MetricAlarm>,
    #[serde(rename = "CompositeAlarms", default)]
    pub composite_alarms: Vec<CompositeAlarm>,
    /// Contributor Insights rules; `Definition` is the rule body as a JSON string (as AWS
    /// prints it) or, in a hand-written file, as an object.
    #[serde(rename = "InsightRules", default)]
    pub insight_rules: Vec<InsightRule>,
    /// Where alarm actions go: each entry maps an action ARN (as alarms list it in
    /// `AlarmActions`/`OKActions`/`InsufficientDataActions`) to a webhook, an Alertmanager or
    /// a command (flowwatch's own list; AWS has no such output).
    #[serde(rename = "NotificationTargets", default)]
    pub notification_targets: Vec<Target>,
    /// Pagination tokens of the AWS outputs: accepted and dropped.
    #[serde(rename = "nextToken", default, skip_serializing)]
    next_token: Option<IgnoredAny>,
    #[serde(rename = "NextToken", default, skip_serializing)]
    next_token_alarms: Option<IgnoredAny>,
}

/// How [`Definitions::merge`] changed a set of definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub added: usize,
    pub replaced: usize,
}

impl Definitions {
    /// Parses a definition file's text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Definitions> {
        let defs: Definitions = serde_json::from_str(text).map_err(|e| MonitorError::Syntax {
            source_name: source_name.to_string(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })?;
        Ok(defs)
    }

    /// Reads and parses a definition file.
    pub fn read(path: &Path) -> Result<Definitions> {
        let text = std::fs::read_to_string(path).at(path)?;
        Definitions::parse(&text, &path.display().to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.metric_filters.is_empty()
            && self.metric_alarms.is_empty()
            && self.composite_alarms.is_empty()
            && self.insight_rules.is_empty()
            && self.notification_targets.is_empty()
    }

    /// Adds `other`'s definitions; one with the same identity replaces the old one (a filter
    /// is identified by log group and filter name, an alarm or a contributor rule by its
    /// name), as PutMetricFilter, PutMetricAlarm and PutInsightRule do.
    pub fn merge(&mut self, other: Definitions) -> MergeSummary {
        let mut s = MergeSummary::default();
        for f in other.metric_filters {
            upsert(
                &mut self.metric_filters,
                f,
                |a, b| a.log_group_name == b.log_group_name && a.filter_name == b.filter_name,
                &mut s,
            );
        }
        for a in other.metric_alarms {
            upsert(
                &mut self.metric_alarms,
                a,
                |x, y| x.alarm_name == y.alarm_name,
                &mut s,
            );
        }
        for a in other.composite_alarms {
            upsert(
                &mut self.composite_alarms,
                a,
                |x, y| x.alarm_name == y.alarm_name,
                &mut s,
            );
        }
        for r in other.insight_rules {
            upsert(&mut self.insight_rules, r, |x, y| x.name == y.name, &mut s);
        }
        for t in other.notification_targets {
            upsert(
                &mut self.notification_targets,
                t,
                |x, y| x.arn == y.arn,
                &mut s,
            );
        }
        s
    }

    /// The definitions stored in a data directory (empty if none were imported).
    pub fn load_stored(data_dir: &Path) -> Result<Definitions> {
        let path = stored_path(data_dir);
        if !path.exists() {
            return Ok(Definitions::default());
        }
        Definitions::read(&path)
    }

    /// Stores these definitions in a data directory (temp file, fsync, rename).
    pub fn save_stored(&self, data_dir: &Path) -> Result<PathBuf> {
        let path = stored_path(data_dir);
        let text = serde_json::to_string_pretty(self).map_err(|e| MonitorError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, same: impl Fn(&T, &T) -> bool, s: &mut MergeSummary) {
    match list.iter_mut().find(|x| same(x, &item)) {
        Some(slot) => {
            *slot = item;
            s.replaced += 1;
        }
        None => {
            list.push(item);
            s.added += 1;
        }
    }
}

/// `<data-dir>/monitor/definitions.json`.
pub fn stored_path(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor").join("definitions.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Definitions {
        Definitions::parse(text, "rules.json").expect("parses")
    }

    #[test]
    fn describe_insight_rules_output_is_a_definition_file() {
        let defs = rules(
            r#"{"InsightRules": [{"Name": "a", "State": "DISABLED", "Schema": "CloudWatchLogRule/1",
                "Definition": "{\"AggregateOn\": \"Count\"}", "ManagedRule": false}],
                "NextToken": "t"}"#,
        );
        assert_eq!(defs.insight_rules.len(), 1);
        assert_eq!(
            defs.insight_rules[0].definition,
            r#"{"AggregateOn": "Count"}"#
        );
        assert!(!defs.is_empty());
    }

    #[test]
    fn insight_rules_merge_by_name() {
        let mut defs = rules(
            r#"{"InsightRules": [{"Name": "a", "Definition": "1"}, {"Name": "b", "Definition": "2"}]}"#,
        );
        let s = defs.merge(rules(
            r#"{"InsightRules": [{"Name": "b", "Definition": "3"}, {"Name": "c", "Definition": "4"}]}"#,
        ));
        assert_eq!(
            s,
            MergeSummary {
                added: 1,
                replaced: 1
            }
        );
        let got: Vec<(&str, &str)> = defs
            .insight_rules
            .iter()
            .map(|r| (r.name.as_str(), r.definition.as_str()))
            .collect();
        assert_eq!(got, [("a", "1"), ("b", "3"), ("c", "4")]);
    }

    #[test]
    fn stored_copy_round_trips_object_definitions_as_strings() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let defs =
            rules(r#"{"InsightRules": [{"Name": "a", "Definition": {"AggregateOn": "Sum"}}]}"#);
        defs.save_stored(tmp.path()).expect("saved");
        let text = std::fs::read_to_string(stored_path(tmp.path())).expect("read");
        assert!(
            text.contains(r#""Definition": "{\"AggregateOn\":\"Sum\"}""#),
            "{text}"
        );
        assert_eq!(Definitions::load_stored(tmp.path()).expect("loads"), defs);
    }
}
