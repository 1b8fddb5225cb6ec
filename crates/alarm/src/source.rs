//! Where datapoints and time come from, kept independent of storage: the evaluator asks a
//! [`MetricSource`] for per-period statistics and a [`Clock`] for the time. An
//! [`InMemorySource`] over raw samples serves tests, replays and small deployments.

use std::cell::Cell;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::model::Dimension;
use crate::stat::{Stat, aggregate};

/// One period's statistic. `timestamp` is the period's start.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    pub timestamp: DateTime<Utc>,
    pub value: f64,
    /// Samples behind the value, when known (needed for
    /// `EvaluateLowSampleCountPercentile`; shown as `sampleCount` in the reason data).
    pub sample_count: Option<f64>,
}

/// A metric's identity: namespace, name and dimensions (sorted, so equal metrics compare
/// equal whatever order the definition listed the dimensions in).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricRef {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<Dimension>,
}

impl MetricRef {
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        dimensions: impl IntoIterator<Item = Dimension>,
    ) -> MetricRef {
        let mut dimensions: Vec<Dimension> = dimensions.into_iter().collect();
        dimensions.sort();
        MetricRef {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
        }
    }
}

/// What the evaluator asks a store for.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery<'a> {
    pub metric: &'a MetricRef,
    pub stat: &'a Stat,
    /// Seconds.
    pub period: u32,
    /// The unit the alarm filters on, if any.
    pub unit: Option<&'a str>,
    /// Periods are `[start + i·period, start + (i+1)·period)` up to `end`. `start` sits on
    /// the evaluation grid (whole minutes, or 10 s for sub-minute periods), not necessarily
    /// on a multiple of `period`: CloudWatch's windows slide (a 5-minute alarm evaluated at
    /// minute 6 looks at minutes 1 to 6).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A store of metric data. Returns one datapoint per period that has data, in any order;
/// periods without data are simply absent (they are the "missing" datapoints).
pub trait MetricSource {
    fn datapoints(&self, query: &MetricQuery<'_>) -> Vec<Datapoint>;
}

/// Raw samples per metric, aggregated on demand with [`aggregate`].
#[derive(Clone, Debug, Default)]
pub struct InMemorySource {
    series: BTreeMap<MetricRef, Series>,
}

/// One metric's samples in the order they were put.
#[derive(Clone, Debug)]
struct Series {
    samples: Vec<(DateTime<Utc>, f64)>,
    /// Whether the samples are in time order (they are when put as they come): a query then
    /// aggregates only the samples in its range, found by binary search, instead of all of
    /// them. The same samples in the same order, so the same statistics.
    sorted: bool,
}

impl Default for Series {
    fn default() -> Series {
        Series {
            samples: Vec::new(),
            sorted: true,
        }
    }
}

impl Series {
    /// The samples `aggregate` keeps for `[start, end)`, in the order it sees them.
    fn range(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> &[(DateTime<Utc>, f64)] {
        if !self.sorted {
            return &self.samples;
        }
        let lo = self.samples.partition_point(|(ts, _)| *ts < start);
        let hi = self.samples.partition_point(|(ts, _)| *ts < end).max(lo);
        &self.samples[lo..hi]
    }
}

impl InMemorySource {
    pub fn new() -> InMemorySource {
        InMemorySource::default()
    }

    /// Records one sample (PutMetricData of one value).
    pub fn put(&mut self, metric: &MetricRef, timestamp: DateTime<Utc>, value: f64) {
        let series = self.series.entry(metric.clone()).or_default();
        series.sorted &= series.samples.last().is_none_or(|(ts, _)| *ts <= timestamp);
        series.samples.push((timestamp, value));
    }

    /// Drops samples older than `before` (retention).
    pub fn prune(&mut self, before: DateTime<Utc>) {
        for series in self.series.values_mut() {
            series.samples.retain(|(ts, _)| *ts >= before);
        }
    }
}

impl MetricSource for InMemorySource {
    fn datapoints(&self, query: &MetricQuery<'_>) -> Vec<Datapoint> {
        match self.series.get(query.metric) {
            Some(series) => aggregate(
                series.range(query.start, query.end),
                query.stat,
                query.period,
                query.start,
                query.end,
            ),
            None => Vec::new(),
        }
    }
}

/// The time, injected so evaluation is deterministic given clock and input.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, for the binary.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: tests and replays.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Cell<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Cell::new(now),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        self.now.set(now);
    }

    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Statistic;

    #[test]
    fn in_memory_source_matches_dimensions_in_any_order() {
        let t0 = DateTime::<Utc>::from_timestamp(600, 0).expect("valid");
        let a = MetricRef::new(
            "NS",
            "M",
            [Dimension::new("b", "2"), Dimension::new("a", "1")],
        );
        let b = MetricRef::new(
            "NS",
            "M",
            [Dimension::new("a", "1"), Dimension::new("b", "2")],
        );
        let mut src = InMemorySource::new();
        src.put(&a, t0, 5.0);
        src.put(&a, t0 + Duration::seconds(30), 7.0);
        let stat = Stat::Standard(Statistic::Maximum);
        let q = MetricQuery {
            metric: &b,
            stat: &stat,
            period: 60,
            unit: None,
            start: t0,
            end: t0 + Duration::seconds(60),
        };
        assert_eq!(
            src.datapoints(&q),
            vec![Datapoint {
                timestamp: t0,
                value: 7.0,
                sample_count: Some(2.0)
            }]
        );
        src.prune(t0 + Duration::seconds(1));
        assert_eq!(src.datapoints(&q).len(), 1);
        src.prune(t0 + Duration::seconds(31));
        assert!(src.datapoints(&q).is_empty());
    }

    #[test]
    fn range_queries_agree_with_a_full_scan_in_and_out_of_order() {
        let t0 = DateTime::<Utc>::from_timestamp(6000, 0).expect("valid");
        let m = MetricRef::new("NS", "M", []);
        let stat = Stat::parse("p90").expect("valid");
        let mut sorted = InMemorySource::new();
        let mut shuffled = InMemorySource::new();
        let mut all = Vec::new();
        for i in 0..300i64 {
            // Several samples per second sometimes, and repeated timestamps.
            let at = t0 + Duration::seconds(i / 3 * 2);
            let v = ((i * 37) % 101) as f64 / 7.0;
            sorted.put(&m, at, v);
            all.push((at, v));
        }
        for k in (0..all.len()).rev() {
            shuffled.put(&m, all[k].0, all[k].1);
        }
        assert!(sorted.series.get(&m).is_some_and(|s| s.sorted));
        assert!(shuffled.series.get(&m).is_some_and(|s| !s.sorted));
        for (start, end) in [
            (0, 60),
            (-100, 50),
            (13, 14),
            (30, 31),
            (170, 400),
            (500, 600),
            (40, 20),
        ] {
            for period in [10, 60] {
                let q = MetricQuery {
                    metric: &m,
                    stat: &stat,
                    period,
                    unit: None,
                    start: t0 + Duration::seconds(start),
                    end: t0 + Duration::seconds(end),
                };
                let want = aggregate(&all, &stat, period, q.start, q.end);
                assert_eq!(sorted.datapoints(&q), want, "{start}..{end}");
                let mut rev = all.clone();
                rev.reverse();
                assert_eq!(
                    shuffled.datapoints(&q),
                    aggregate(&rev, &stat, period, q.start, q.end),
                    "{start}..{end}"
                );
            }
        }
        sorted.prune(t0 + Duration::seconds(100));
        assert!(sorted.series.get(&m).is_some_and(|s| s.sorted));
    }

    #[test]
    fn manual_clock_moves_when_told() {
        let t0 = DateTime::<Utc>::from_timestamp(0, 0).expect("valid");
        let c = ManualClock::new(t0);
        c.advance(Duration::seconds(90));
        assert_eq!(c.now(), t0 + Duration::seconds(90));
        c.set(t0);
        fn through<C: Clock>(clock: C) -> DateTime<Utc> {
            clock.now()
        }
        assert_eq!(through(&c), t0, "a borrowed clock is a clock");
    }
}
