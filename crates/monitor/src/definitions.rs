//! The monitoring definition file: metric filters in the shape `aws logs
//! describe-metric-filters` prints and alarms in the shape `aws cloudwatch describe-alarms`
//! prints, side by side in one JSON object (see the crate docs for the format). Either AWS
//! output alone is a valid file, so is `jq -s add` of both.
//!
//! Also the data directory's copy of the imported definitions
//! (`<data-dir>/monitor/definitions.json`), written atomically.

use std::path::{Path, PathBuf};

use flowwatch_alarm::{CompositeAlarm, MetricAlarm};
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
    }

    /// Adds `other`'s definitions; one with the same identity replaces the old one (a filter
    /// is identified by log group and filter name, an alarm by its name), as PutMetricFilter
    /// and PutMetricAlarm do.
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
