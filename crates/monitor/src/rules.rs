//! Contributor rules as alarm metrics: `INSIGHT_RULE_METRIC(rule, metric)` in an alarm's
//! metric math is answered from a [`RuleEngine`] that counts the rule's contributors over
//! the stored records, kept up to date as files are committed.
//!
//! * Only the rules some alarm reads are run, each from as far back as its alarms look: the
//!   evaluation range (`N + max(N/3, 2)` periods), plus the band's training days for
//!   anomaly-detection alarms.
//! * [`RuleMetrics::refresh`] compares the stored data files of every hour in that window
//!   with those it has counted: a new file is counted; an hour that lost a file (compaction,
//!   retention, deletion) is forgotten and counted again from its files. Counting is
//!   therefore a function of what is stored, like the metric series: re-runs and crashes
//!   never count a record twice, and files committed by another process (a separate
//!   `flowwatch ingest`) are seen too.
//! * [`MonitorSource`] is the [`MetricSource`] alarms read: metric-filter series from the
//!   [`MetricStore`], rule metrics from the engine, per period anchored at the alarm's range
//!   start (alarm windows slide by the minute).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flowwatch_alarm::{
    AnomalyConfig, Datapoint, MetricQuery, MetricSource, as_insight_rule_metric,
    validate::ThresholdSpec,
};
use flowwatch_contrib::{CompiledRule, InsightRuleMetric, RuleEngine};
use flowwatch_store::{StoreReader, partition_hour_ms};

use crate::check::CheckReport;
use crate::definitions::Definitions;
use crate::error::Result;
use crate::records::for_each_record;
use crate::series::MetricStore;

const HOUR_MS: i64 = 3_600_000;
/// The key of files outside any hour partition (not written by flowwatch, but readable).
const UNPARTITIONED: i64 = i64::MIN;

/// The contributor rules that `defs`'s alarms read, each with how far back (ms) its alarms
/// look, and the engine period (60 s, or 10 s when a rule alarm has a sub-minute period).
pub fn rules_read_by_alarms(
    defs: &Definitions,
    anomaly: &AnomalyConfig,
) -> (BTreeMap<String, i64>, u32) {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    let mut period_secs = 60;
    for a in &defs.metric_alarms {
        let Ok(spec) = a.validate() else { continue };
        let Some(math) = &spec.math else { continue };
        let mut lookback = i64::from(spec.evaluation_range()) * i64::from(spec.period) * 1000;
        if matches!(spec.threshold, ThresholdSpec::Band { .. }) {
            // The band trains on the days before the hour the range starts in.
            lookback += anomaly.training_days * 24 * HOUR_MS + HOUR_MS;
        }
        for leaf in &math.leaves {
            if let Some((rule, _)) = as_insight_rule_metric(&leaf.metric) {
                if spec.period < 60 {
                    period_secs = 10;
                }
                let e = out.entry(rule.to_string()).or_insert(0);
                *e = (*e).max(lookback);
            }
        }
    }
    (out, period_secs)
}

/// What one [`RuleMetrics::refresh`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Files counted (new, or in a recounted hour).
    pub files: usize,
    /// Hours forgotten and counted again because their files changed.
    pub recounted_hours: usize,
    /// Records read.
    pub records: u64,
}

/// The rules alarms read, counted over the stored history they need.
pub struct RuleMetrics {
    engine: RuleEngine,
    /// Per rule, how far back its alarms look (ms).
    lookback: BTreeMap<String, i64>,
    /// Per (log group, hour partition), the files counted.
    counted: BTreeMap<(String, i64), BTreeSet<PathBuf>>,
}

impl RuleMetrics {
    /// The rules of `report` that `defs`'s alarms read; None when no alarm reads a rule.
    /// Call [`RuleMetrics::refresh`] before evaluating.
    pub fn for_alarms(
        defs: &Definitions,
        report: &CheckReport,
        anomaly: &AnomalyConfig,
    ) -> Result<Option<RuleMetrics>> {
        let (lookback, period_secs) = rules_read_by_alarms(defs, anomaly);
        let rules: Vec<CompiledRule> = report
            .insight_rules
            .iter()
            .filter(|r| lookback.contains_key(r.name()))
            .cloned()
            .collect();
        if rules.is_empty() {
            return Ok(None);
        }
        Ok(Some(RuleMetrics {
            engine: RuleEngine::with_period(rules, period_secs)?,
            lookback,
            counted: BTreeMap::new(),
        }))
    }

    pub fn engine(&self) -> &RuleEngine {
        &self.engine
    }

    /// How far back (ms) the longest-looking alarm reads.
    pub fn window_ms(&self) -> i64 {
        self.lookback.values().copied().max().unwrap_or(0)
    }

    /// Counts what was stored since the last refresh, for the window ending at `now_ms`
    /// (and everything after it), and forgets what fell out of the window.
    pub fn refresh(&mut self, data_dir: &Path, now_ms: i64) -> Result<RefreshStats> {
        let from = now_ms.saturating_sub(self.window_ms());
        self.refresh_range(data_dir, from, i64::MAX)
    }

    /// Counts the stored records in [from, to) not counted yet (replay uses a fixed range).
    pub fn refresh_range(&mut self, data_dir: &Path, from: i64, to: i64) -> Result<RefreshStats> {
        let mut stats = RefreshStats::default();
        let first_hour = from.div_euclid(HOUR_MS) * HOUR_MS;
        self.engine.retain_from(from);
        self.counted
            .retain(|(_, hour), _| *hour == UNPARTITIONED || *hour >= first_hour);
        let reader = match StoreReader::open(data_dir) {
            Ok(r) => r,
            // No store yet: nothing to count.
            Err(_) if !data_dir.join("groups").exists() => return Ok(stats),
            Err(e) => return Err(e.into()),
        };
        let mut groups: Vec<String> = reader.groups()?.into_iter().map(|g| g.name).collect();
        groups.sort();
        groups.retain(|g| self.engine.reads_group(g));
        for group in &groups {
            let mut by_hour: BTreeMap<i64, BTreeSet<PathBuf>> = BTreeMap::new();
            for path in reader.data_files(group)? {
                let hour = partition_hour_ms(&path).unwrap_or(UNPARTITIONED);
                if hour == UNPARTITIONED || (hour + HOUR_MS > from && hour < to) {
                    by_hour.entry(hour).or_default().insert(path);
                }
            }
            let unpartitioned = by_hour.remove(&UNPARTITIONED).unwrap_or_default();
            let key = (group.clone(), UNPARTITIONED);
            let before = self.counted.get(&key).cloned().unwrap_or_default();
            if !before.is_subset(&unpartitioned) {
                // Rare (files flowwatch did not write, then removed): their records may lie in
                // any period of any rule, so everything is forgotten and counted again. After
                // the reset nothing is counted, so this cannot recur in the second pass.
                self.engine.forget_range(i64::MIN, i64::MAX);
                self.counted.clear();
                return self.refresh_range(data_dir, from, to);
            }
            for path in unpartitioned.difference(&before) {
                stats.files += 1;
                self.observe(group, path, from, to, &mut stats)?;
            }
            self.counted.insert(key, unpartitioned.clone());
            // Hours that had files and lost all of them.
            let gone: Vec<i64> = self
                .counted
                .keys()
                .filter(|(g, h)| g == group && *h != UNPARTITIONED && !by_hour.contains_key(h))
                .map(|(_, h)| *h)
                .collect();
            for hour in gone {
                self.engine.forget_range(hour, hour + HOUR_MS);
                self.counted.remove(&(group.clone(), hour));
                stats.recounted_hours += 1;
                for path in &unpartitioned {
                    self.observe(
                        group,
                        path,
                        hour.max(from),
                        (hour + HOUR_MS).min(to),
                        &mut stats,
                    )?;
                }
            }
            for (hour, files) in by_hour {
                let key = (group.clone(), hour);
                let lo = hour.max(from);
                let hi = (hour + HOUR_MS).min(to);
                let counted = self.counted.get(&key);
                let new: Vec<PathBuf> = match counted {
                    Some(c) if c.is_subset(&files) => files.difference(c).cloned().collect(),
                    Some(_) => {
                        // A file went away: forget the hour and count all of it again.
                        self.engine.forget_range(hour, hour + HOUR_MS);
                        stats.recounted_hours += 1;
                        for path in &unpartitioned {
                            self.observe(group, path, lo, hi, &mut stats)?;
                        }
                        files.iter().cloned().collect()
                    }
                    None => files.iter().cloned().collect(),
                };
                for path in &new {
                    stats.files += 1;
                    self.observe(group, path, lo, hi, &mut stats)?;
                }
                self.counted.insert(key, files);
            }
        }
        Ok(stats)
    }

    fn observe(
        &mut self,
        group: &str,
        path: &Path,
        from: i64,
        to: i64,
        stats: &mut RefreshStats,
    ) -> Result<()> {
        let engine = &mut self.engine;
        for_each_record(path, from, to, &mut |t, text| {
            stats.records += 1;
            engine.observe(group, t, text);
        })
    }
}

/// What alarms read in flowwatch: metric-filter series, and contributor-rule metrics.
pub struct MonitorSource<'a> {
    pub series: &'a MetricStore,
    pub rules: Option<&'a RuleEngine>,
}

impl MetricSource for MonitorSource<'_> {
    fn datapoints(&self, query: &MetricQuery<'_>) -> Vec<Datapoint> {
        let Some((rule, metric)) = as_insight_rule_metric(query.metric) else {
            return self.series.datapoints(query);
        };
        let (Some(engine), Some(metric)) = (self.rules, parse_metric(metric)) else {
            return Vec::new();
        };
        engine
            .metric_from(
                rule,
                metric,
                query.start.timestamp_millis(),
                query.end.timestamp_millis(),
                query.period,
            )
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                Some(Datapoint {
                    timestamp: chrono::DateTime::from_timestamp_millis(p.timestamp_ms)?,
                    value: p.value,
                    sample_count: None,
                })
            })
            .collect()
    }
}

fn parse_metric(name: &str) -> Option<InsightRuleMetric> {
    InsightRuleMetric::ALL
        .into_iter()
        .find(|m| m.as_str() == name)
}
