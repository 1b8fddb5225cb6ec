//! Metric series: per minute, per metric filter and dimension set, the sum, count, minimum,
//! maximum and a bounded sample of the values (for percentiles). One JSON file per metric
//! filter under `<data-dir>/metrics/<log group>/<filter>.json`, replaced atomically, so
//! recomputing a filter touches only its own file and two filters that publish the same
//! metric add up when read, as in CloudWatch.
//!
//! [`MetricStore`] reads every file and serves [`MetricSource`] queries: periods that are
//! multiples of 60 s combine whole minutes; standard statistics come from the minute
//! aggregates exactly, the others (percentiles, trimmed means, ...) from the samples.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use flowwatch_alarm::model::Dimension;
use flowwatch_alarm::{Datapoint, MetricQuery, MetricRef, MetricSource, Stat, Statistic};
use serde::{Deserialize, Serialize};

use crate::error::{IoContext, MonitorError, Result};
use crate::fsutil::{encode_name, write_atomic};

/// Values kept per minute for percentiles. Beyond it a deterministic reservoir keeps a uniform
/// sample, so percentiles of very busy minutes are estimates (sum, count, min, max stay exact).
pub const MAX_SAMPLES: usize = 1000;

const MINUTE_MS: i64 = 60_000;

/// One minute of one series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Minute {
    pub sum: f64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    /// Up to [`MAX_SAMPLES`] of the values; empty when every value was the same (then the
    /// sample is `min` repeated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<f64>,
}

impl Minute {
    pub fn add(&mut self, v: f64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
            self.sum = v;
            self.count = 1;
            return;
        }
        // While every value is the same the sample stays empty (it is `min` repeated): a
        // count filter (`metricValue` 1) never stores one. The first different value
        // writes the repeated one out; the result is the sample the values would have
        // made one by one.
        if self.sample.is_empty() && self.min == self.max {
            if v == self.min {
                self.sum += v;
                self.count += 1;
                return;
            }
            self.sample = vec![self.min; (self.count as usize).min(MAX_SAMPLES)];
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
        if self.sample.len() < MAX_SAMPLES {
            self.sample.push(v);
        } else {
            // Reservoir sampling (Algorithm R) with a counter-derived index: deterministic.
            let j = (splitmix(self.count) % self.count) as usize;
            if let Some(slot) = self.sample.get_mut(j) {
                *slot = v;
            }
        }
    }

    /// Adds another minute's data (another filter publishing the same metric).
    pub fn merge(&mut self, other: &Minute) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self.count += other.count;
        let mut sample = self.samples();
        sample.extend(other.samples());
        sample.truncate(MAX_SAMPLES);
        self.sample = sample;
    }

    /// The values, or a sample of them.
    pub fn samples(&self) -> Vec<f64> {
        if self.sample.is_empty() {
            vec![self.min; (self.count as usize).min(MAX_SAMPLES)]
        } else {
            self.sample.clone()
        }
    }

    /// Drops the sample when it carries no information (every value equal).
    fn compact(&mut self) {
        if self.min == self.max {
            self.sample.clear();
        }
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One dimension set's minutes (epoch milliseconds of the minute's start).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DimensionSeries {
    pub dimensions: BTreeMap<String, String>,
    pub minutes: BTreeMap<i64, Minute>,
}

/// Everything one metric filter produced: the file format under `metrics/`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSeries {
    pub log_group: String,
    pub filter_name: String,
    pub namespace: String,
    pub metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub series: Vec<DimensionSeries>,
}

impl FilterSeries {
    /// `<data-dir>/metrics/<log group>/<filter>.json`, names percent-encoded.
    pub fn path(data_dir: &Path, log_group: &str, filter_name: &str) -> PathBuf {
        metrics_dir(data_dir)
            .join(encode_name(log_group))
            .join(format!("{}.json", encode_name(filter_name)))
    }

    pub fn read(path: &Path) -> Result<FilterSeries> {
        let text = fs::read_to_string(path).at(path)?;
        serde_json::from_str(&text).map_err(|e| MonitorError::Syntax {
            source_name: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically (temp file, fsync, rename).
    pub fn save(&mut self, data_dir: &Path) -> Result<PathBuf> {
        for s in &mut self.series {
            s.minutes.values_mut().for_each(Minute::compact);
        }
        self.series.retain(|s| !s.minutes.is_empty());
        let path = FilterSeries::path(data_dir, &self.log_group, &self.filter_name);
        let text = serde_json::to_string(self).map_err(|e| MonitorError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Replaces the minutes in `[start, end)` with `fresh`'s (a recomputation of that range).
    pub fn replace_range(&mut self, fresh: FilterSeries, start: i64, end: i64) {
        for s in &mut self.series {
            s.minutes.retain(|m, _| *m < start || *m >= end);
        }
        for f in fresh.series {
            match self
                .series
                .iter_mut()
                .find(|s| s.dimensions == f.dimensions)
            {
                Some(s) => s.minutes.extend(f.minutes),
                None => self.series.push(f),
            }
        }
        self.namespace = fresh.namespace;
        self.metric_name = fresh.metric_name;
        self.unit = fresh.unit;
    }
}

/// `<data-dir>/metrics`.
pub fn metrics_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("metrics")
}

/// A metric as listed: identity, unit, and the minutes it has data for.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricInfo {
    pub metric: MetricRef,
    pub unit: Option<String>,
    pub minutes: usize,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// Every stored series, merged by metric identity.
#[derive(Clone, Debug, Default)]
pub struct MetricStore {
    series: BTreeMap<MetricRef, (Option<String>, BTreeMap<i64, Minute>)>,
}

impl MetricStore {
    /// Reads every series file of a data directory (none yet: an empty store).
    pub fn open(data_dir: &Path) -> Result<MetricStore> {
        let mut store = MetricStore::default();
        let dir = metrics_dir(data_dir);
        if !dir.is_dir() {
            return Ok(store);
        }
        let mut files = Vec::new();
        for group in fs::read_dir(&dir).at(&dir)? {
            let group = group.at(&dir)?.path();
            if !group.is_dir() {
                continue;
            }
            for f in fs::read_dir(&group).at(&group)? {
                let f = f.at(&group)?.path();
                let hidden = f
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if !hidden && f.extension().is_some_and(|e| e == "json") {
                    files.push(f);
                }
            }
        }
        files.sort();
        for f in files {
            store.add(&FilterSeries::read(&f)?);
        }
        Ok(store)
    }

    /// Adds a filter's series (summing with any other filter that publishes the same metric).
    pub fn add(&mut self, fs: &FilterSeries) {
        for s in &fs.series {
            let metric = MetricRef::new(
                fs.namespace.clone(),
                fs.metric_name.clone(),
                s.dimensions.iter().map(|(k, v)| Dimension::new(k, v)),
            );
            let entry = self
                .series
                .entry(metric)
                .or_insert_with(|| (fs.unit.clone(), BTreeMap::new()));
            for (m, minute) in &s.minutes {
                entry.1.entry(*m).or_default().merge(minute);
            }
        }
    }

    /// Every metric, sorted by namespace, name and dimensions.
    pub fn list(&self) -> Vec<MetricInfo> {
        self.series
            .iter()
            .map(|(metric, (unit, minutes))| MetricInfo {
                metric: metric.clone(),
                unit: unit.clone(),
                minutes: minutes.len(),
                first: minutes
                    .keys()
                    .next()
                    .and_then(|m| DateTime::from_timestamp_millis(*m)),
                last: minutes
                    .keys()
                    .next_back()
                    .and_then(|m| DateTime::from_timestamp_millis(*m)),
            })
            .collect()
    }

    /// The unit a metric was published with.
    pub fn unit(&self, metric: &MetricRef) -> Option<&str> {
        self.series.get(metric).and_then(|(u, _)| u.as_deref())
    }
}

/// A statistic of one period's merged minutes.
fn statistic(stat: &Stat, m: &Minute) -> Option<f64> {
    if m.count == 0 {
        return None;
    }
    match stat {
        Stat::Standard(s) => Some(match s {
            Statistic::SampleCount => m.count as f64,
            Statistic::Sum => m.sum,
            Statistic::Average => m.sum / m.count as f64,
            Statistic::Minimum => m.min,
            Statistic::Maximum => m.max,
        }),
        other => other.compute(&m.samples()),
    }
}

impl MetricSource for MetricStore {
    fn datapoints(&self, query: &MetricQuery<'_>) -> Vec<Datapoint> {
        let Some((unit, minutes)) = self.series.get(query.metric) else {
            return Vec::new();
        };
        // An alarm that names a unit sees only data published in that unit (CloudWatch);
        // a filter without a unit publishes `None`.
        if let Some(want) = query.unit
            && unit.as_deref().unwrap_or("None") != want
        {
            return Vec::new();
        }
        let start = query.start.timestamp_millis();
        let end = query.end.timestamp_millis();
        // Minute data cannot be split: a sub-minute period gets each minute whole, in the
        // period the minute starts in.
        let period = i64::from(query.period.max(1)) * 1000;
        let mut buckets: BTreeMap<i64, Minute> = BTreeMap::new();
        for (m, minute) in minutes.range(start..end) {
            buckets
                .entry((m - start) / period)
                .or_default()
                .merge(minute);
        }
        buckets
            .into_iter()
            .filter_map(|(i, m)| {
                Some(Datapoint {
                    timestamp: query.start + Duration::milliseconds(i * period),
                    value: statistic(query.stat, &m)?,
                    sample_count: Some(m.count as f64),
                })
            })
            .collect()
    }
}

/// The minute (epoch ms) a timestamp falls in.
pub fn minute_of(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(MINUTE_MS) * MINUTE_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(min * 60, 0).expect("valid")
    }

    fn store(values: &[(i64, f64)]) -> (MetricStore, MetricRef) {
        let mut s = DimensionSeries::default();
        s.dimensions.insert("ENI".into(), "eni-1".into());
        for (min, v) in values {
            s.minutes.entry(min * 60_000).or_default().add(*v);
        }
        let fs = FilterSeries {
            log_group: "g".into(),
            filter_name: "f".into(),
            namespace: "NS".into(),
            metric_name: "M".into(),
            unit: Some("Bytes".into()),
            series: vec![s],
        };
        let mut store = MetricStore::default();
        store.add(&fs);
        store.add(&fs); // a second filter publishing the same metric adds up
        (
            store,
            MetricRef::new("NS", "M", [Dimension::new("ENI", "eni-1")]),
        )
    }

    fn get(
        store: &MetricStore,
        m: &MetricRef,
        stat: &str,
        period: u32,
        unit: Option<&str>,
    ) -> Vec<(i64, f64)> {
        let stat = Stat::parse(stat).expect("stat");
        store
            .datapoints(&MetricQuery {
                metric: m,
                stat: &stat,
                period,
                unit,
                start: at(0),
                end: at(10),
            })
            .into_iter()
            .map(|d| (d.timestamp.timestamp() / 60, d.value))
            .collect()
    }

    #[test]
    fn periods_combine_minutes() {
        let (s, m) = store(&[(0, 1.0), (1, 5.0), (1, 3.0), (6, 2.0), (12, 9.0)]);
        assert_eq!(
            get(&s, &m, "Sum", 60, None),
            vec![(0, 2.0), (1, 16.0), (6, 4.0)]
        );
        assert_eq!(get(&s, &m, "Sum", 300, None), vec![(0, 18.0), (5, 4.0)]);
        assert_eq!(
            get(&s, &m, "SampleCount", 300, None),
            vec![(0, 6.0), (5, 2.0)]
        );
        assert_eq!(
            get(&s, &m, "Maximum", 300, Some("Bytes")),
            vec![(0, 5.0), (5, 2.0)]
        );
        assert_eq!(get(&s, &m, "Average", 600, None), vec![(0, 22.0 / 8.0)]);
        assert_eq!(get(&s, &m, "p50", 300, None), vec![(0, 3.0), (5, 2.0)]);
        assert!(
            get(&s, &m, "Sum", 60, Some("Count")).is_empty(),
            "unit mismatch"
        );
    }

    #[test]
    fn samples_stay_bounded_and_exact_aggregates() {
        let mut m = Minute::default();
        for i in 0..5000 {
            m.add(f64::from(i));
        }
        assert_eq!(m.sample.len(), MAX_SAMPLES);
        assert_eq!((m.count, m.min, m.max), (5000, 0.0, 4999.0));
        let mut ones = Minute::default();
        (0..10).for_each(|_| ones.add(1.0));
        ones.compact();
        assert!(ones.sample.is_empty());
        assert_eq!(ones.samples(), vec![1.0; 10]);
    }

    /// The sample kept one value at a time, as `add` did before it skipped constant runs.
    fn eager(values: &[f64]) -> Vec<f64> {
        let mut sample = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            let count = i as u64 + 1;
            if sample.len() < MAX_SAMPLES {
                sample.push(v);
            } else {
                let j = (splitmix(count) % count) as usize;
                if let Some(slot) = sample.get_mut(j) {
                    *slot = v;
                }
            }
        }
        sample
    }

    #[test]
    fn constant_runs_are_not_stored_but_give_the_same_sample() {
        for (run, tail) in [
            (0, 3),
            (1, 1),
            (5, 2),
            (999, 1),
            (1000, 1),
            (4000, 500),
            (3, 0),
        ] {
            let mut values = vec![7.0; run];
            values.extend((0..tail).map(|i| f64::from(i % 4)));
            let mut m = Minute::default();
            for &v in &values {
                m.add(v);
            }
            assert_eq!(m.count, values.len() as u64);
            assert_eq!(m.sum, values.iter().sum::<f64>());
            assert_eq!(m.samples(), eager(&values), "run {run}, tail {tail}");
        }
    }

    #[test]
    fn files_round_trip_and_ranges_replace() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut a = FilterSeries {
            log_group: "/aws/vpc".into(),
            filter_name: "f/1".into(),
            namespace: "NS".into(),
            metric_name: "M".into(),
            ..FilterSeries::default()
        };
        let mut s = DimensionSeries::default();
        for min in 0..10 {
            s.minutes.entry(min * 60_000).or_default().add(1.0);
        }
        a.series.push(s);
        let mut fresh = a.clone();
        fresh.series[0].minutes.retain(|m, _| *m < 120_000);
        fresh.series[0]
            .minutes
            .values_mut()
            .for_each(|m| m.add(1.0));
        a.replace_range(fresh, 0, 300_000);
        let sums: Vec<f64> = a.series[0].minutes.values().map(|m| m.sum).collect();
        assert_eq!(sums, vec![2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        a.save(tmp.path()).expect("save");
        let store = MetricStore::open(tmp.path()).expect("open");
        assert_eq!(store.list().len(), 1);
        assert_eq!(store.list()[0].minutes, 7);
    }
}
