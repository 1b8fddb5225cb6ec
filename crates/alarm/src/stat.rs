//! Statistics of one period: the five standard ones, percentiles and the other extended
//! statistics (`tm99`, `TM(10%:90%)`, `wm`, `tc`, `ts`, `IQM`, `PR(a:b)`), computed from raw
//! samples, and [`aggregate`], which cuts a sample series into periods.
//!
//! Definitions (CloudWatch computes some of these from sketches; these are exact):
//! * `pNN` is the nearest-rank percentile: the smallest sample with at least NN % of the
//!   samples at or below it (`p0` is the minimum, `p100` the maximum).
//! * Percentage bounds `X(a%:b%)` trim by rank: of the n sorted samples, those with index
//!   `floor(a·n/100) <= i < ceil(b·n/100)` are kept. `tmNN` means `TM(0%:NN%)` (and so on for
//!   `wm`, `tc`, `ts`); `IQM` is `TM(25%:75%)`.
//! * Value bounds `X(a:b)` keep samples with `a < v <= b` (either side may be empty).
//! * `WM` replaces trimmed samples by the nearest kept boundary value and averages all n.
//! * `PR(a:b)` is the percentage of samples with `a < v <= b`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::model::Statistic;
use crate::source::Datapoint;

/// A statistic an alarm evaluates: standard or extended.
#[derive(Clone, Debug, PartialEq)]
pub enum Stat {
    Standard(Statistic),
    /// `pNN`, NN in `[0, 100]`.
    Percentile(f64),
    TrimmedMean(Bounds),
    WinsorizedMean(Bounds),
    TrimmedCount(Bounds),
    TrimmedSum(Bounds),
    /// `PR(a:b)`, value bounds only.
    PercentileRank {
        low: Option<f64>,
        high: Option<f64>,
    },
}

/// The bounds of a trimmed statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// By rank, in percent of the samples (`0 <= low < high <= 100`).
    Percent { low: f64, high: f64 },
    /// By value: keep `low < v <= high`.
    Value { low: Option<f64>, high: Option<f64> },
}

impl Stat {
    /// Parses `Average`, `p99`, `tm90`, `TM(2%:98%)`, `IQM`, `PR(100:2000)`, ...
    pub fn parse(text: &str) -> Option<Stat> {
        let standard = match text {
            "SampleCount" => Some(Statistic::SampleCount),
            "Average" => Some(Statistic::Average),
            "Sum" => Some(Statistic::Sum),
            "Minimum" => Some(Statistic::Minimum),
            "Maximum" => Some(Statistic::Maximum),
            _ => None,
        };
        if let Some(s) = standard {
            return Some(Stat::Standard(s));
        }
        Stat::parse_extended(text)
    }

    /// Parses an `ExtendedStatistic` (everything but the five standard names).
    pub fn parse_extended(text: &str) -> Option<Stat> {
        let lower = text.to_ascii_lowercase();
        if lower == "iqm" {
            return Some(Stat::TrimmedMean(Bounds::Percent {
                low: 25.0,
                high: 75.0,
            }));
        }
        if let Some(rest) = lower.strip_prefix('p') {
            if let Some(args) = rest.strip_prefix("r(").and_then(|r| r.strip_suffix(')')) {
                return match parse_bounds(args)? {
                    Bounds::Value { low, high } => Some(Stat::PercentileRank { low, high }),
                    Bounds::Percent { .. } => None,
                };
            }
            let p = parse_number(rest)?;
            return (0.0..=100.0).contains(&p).then_some(Stat::Percentile(p));
        }
        let (Some(kind), Some(rest)) = (lower.get(..2), lower.get(2..)) else {
            return None;
        };
        let make: fn(Bounds) -> Stat = match kind {
            "tm" => Stat::TrimmedMean,
            "wm" => Stat::WinsorizedMean,
            "tc" => Stat::TrimmedCount,
            "ts" => Stat::TrimmedSum,
            _ => return None,
        };
        let bounds = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(args) => parse_bounds(args)?,
            None => {
                let high = parse_number(rest)?;
                if !(high > 0.0 && high <= 100.0) {
                    return None;
                }
                Bounds::Percent { low: 0.0, high }
            }
        };
        Some(make(bounds))
    }

    /// The percentile as a fraction, for `pNN` only.
    pub fn percentile_fraction(&self) -> Option<f64> {
        match self {
            Stat::Percentile(p) => Some(p / 100.0),
            _ => None,
        }
    }

    /// Below this many samples a percentile datapoint is "low sample count"
    /// (`EvaluateLowSampleCountPercentile`): `10/(1-p)` for p in [0.5, 1), `10/p` for p in
    /// (0, 0.5). `p0` and `p100` (minimum and maximum) are exact and never low.
    pub fn low_sample_limit(&self) -> Option<f64> {
        let p = self.percentile_fraction()?;
        if (0.5..1.0).contains(&p) {
            Some(10.0 / (1.0 - p))
        } else if p > 0.0 && p < 0.5 {
            Some(10.0 / p)
        } else {
            None
        }
    }

    /// The statistic of one period's samples; `None` when there are none (a missing
    /// datapoint) or the statistic is undefined for them (a trimmed mean of nothing).
    pub fn compute(&self, samples: &[f64]) -> Option<f64> {
        let samples: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        if samples.is_empty() {
            return None;
        }
        let n = samples.len() as f64;
        match self {
            Stat::Standard(s) => Some(match s {
                Statistic::SampleCount => n,
                Statistic::Sum => samples.iter().sum(),
                Statistic::Average => samples.iter().sum::<f64>() / n,
                Statistic::Minimum => samples.iter().copied().fold(f64::INFINITY, f64::min),
                Statistic::Maximum => samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }),
            Stat::Percentile(p) => {
                let sorted = sorted(samples);
                let rank = exact_ceil(p / 100.0 * n).max(1.0) as usize;
                sorted.get(rank.min(sorted.len()) - 1).copied()
            }
            Stat::TrimmedMean(b) => {
                let kept = kept(&samples, *b);
                (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
            }
            Stat::TrimmedCount(b) => Some(kept(&samples, *b).len() as f64),
            Stat::TrimmedSum(b) => Some(kept(&samples, *b).iter().sum()),
            Stat::WinsorizedMean(b) => winsorized_mean(samples, *b),
            Stat::PercentileRank { low, high } => {
                let inside = samples.iter().filter(|v| in_value_range(**v, *low, *high));
                Some(100.0 * inside.count() as f64 / n)
            }
        }
    }
}

fn parse_number(text: &str) -> Option<f64> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1;
    if !ok {
        return None;
    }
    text.parse().ok().filter(|v: &f64| v.is_finite())
}

fn parse_bounds(args: &str) -> Option<Bounds> {
    let (low, high) = args.split_once(':')?;
    let (low, high) = (low.trim(), high.trim());
    let percent = low.ends_with('%') || high.ends_with('%');
    if percent {
        let side = |s: &str, default: f64| -> Option<f64> {
            if s.is_empty() {
                return Some(default);
            }
            parse_number(s.strip_suffix('%')?)
        };
        let (low, high) = (side(low, 0.0)?, side(high, 100.0)?);
        (0.0 <= low && low < high && high <= 100.0).then_some(Bounds::Percent { low, high })
    } else {
        let side = |s: &str| -> Option<Option<f64>> {
            if s.is_empty() {
                return Some(None);
            }
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, s),
            };
            parse_number(digits).map(|v| Some(if neg { -v } else { v }))
        };
        let (low, high) = (side(low)?, side(high)?);
        if let (Some(l), Some(h)) = (low, high)
            && l >= h
        {
            return None;
        }
        Some(Bounds::Value { low, high })
    }
}

fn sorted(mut samples: Vec<f64>) -> Vec<f64> {
    samples.sort_by(f64::total_cmp);
    samples
}

/// `ceil`, but 99.00000000000001 (from 0.99 · 100) counts as 99.
fn exact_ceil(x: f64) -> f64 {
    if (x - x.round()).abs() < 1e-9 {
        x.round()
    } else {
        x.ceil()
    }
}

fn exact_floor(x: f64) -> f64 {
    if (x - x.round()).abs() < 1e-9 {
        x.round()
    } else {
        x.floor()
    }
}

/// Rank window `[lo, hi)` of percentage bounds over n sorted samples.
fn rank_window(n: usize, low: f64, high: f64) -> (usize, usize) {
    let nf = n as f64;
    let lo = (exact_floor(low / 100.0 * nf) as usize).min(n);
    let hi = (exact_ceil(high / 100.0 * nf) as usize).min(n);
    (lo, hi.max(lo))
}

fn in_value_range(v: f64, low: Option<f64>, high: Option<f64>) -> bool {
    low.is_none_or(|l| v > l) && high.is_none_or(|h| v <= h)
}

fn kept(samples: &[f64], bounds: Bounds) -> Vec<f64> {
    match bounds {
        Bounds::Percent { low, high } => {
            let sorted = sorted(samples.to_vec());
            let (lo, hi) = rank_window(sorted.len(), low, high);
            sorted[lo..hi].to_vec()
        }
        Bounds::Value { low, high } => samples
            .iter()
            .copied()
            .filter(|v| in_value_range(*v, low, high))
            .collect(),
    }
}

fn winsorized_mean(samples: Vec<f64>, bounds: Bounds) -> Option<f64> {
    let n = samples.len() as f64;
    let (floor, ceiling) = match bounds {
        Bounds::Percent { low, high } => {
            let sorted = sorted(samples.clone());
            let (lo, hi) = rank_window(sorted.len(), low, high);
            if lo >= hi {
                return None;
            }
            (sorted[lo], sorted[hi - 1])
        }
        Bounds::Value { low, high } => (
            low.unwrap_or(f64::NEG_INFINITY),
            high.unwrap_or(f64::INFINITY),
        ),
    };
    Some(samples.iter().map(|v| v.clamp(floor, ceiling)).sum::<f64>() / n)
}

/// Cuts raw samples into periods `[start + i·period, start + (i+1)·period)` before `end`
/// and computes `stat` for each period that has samples. The datapoint's timestamp is its
/// period's start; its sample count is the number of samples in the period.
pub fn aggregate(
    samples: &[(DateTime<Utc>, f64)],
    stat: &Stat,
    period: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Datapoint> {
    let period_ms = i64::from(period.max(1)) * 1000;
    let mut buckets: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (ts, value) in samples {
        if *ts < start || *ts >= end {
            continue;
        }
        let index = (*ts - start).num_milliseconds() / period_ms;
        buckets.entry(index).or_default().push(*value);
    }
    buckets
        .into_iter()
        .filter_map(|(index, values)| {
            let value = stat.compute(&values)?;
            Some(Datapoint {
                timestamp: start + Duration::milliseconds(index * period_ms),
                value,
                sample_count: Some(values.len() as f64),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stat: &str, samples: &[f64], expect: Option<f64>) {
        let s = Stat::parse(stat).unwrap_or_else(|| panic!("{stat} parses"));
        assert_eq!(s.compute(samples), expect, "{stat} of {samples:?}");
    }

    fn one_to(n: usize) -> Vec<f64> {
        (1..=n).map(|v| v as f64).collect()
    }

    #[test]
    fn standard_statistics() {
        let v = [4.0, 1.0, 7.0];
        check("SampleCount", &v, Some(3.0));
        check("Sum", &v, Some(12.0));
        check("Average", &v, Some(4.0));
        check("Minimum", &v, Some(1.0));
        check("Maximum", &v, Some(7.0));
        check("Average", &[], None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = one_to(100);
        check("p99", &v, Some(99.0));
        check("p50", &v, Some(50.0));
        check("p99.5", &v, Some(100.0));
        check("p0", &v, Some(1.0));
        check("p0.0", &v, Some(1.0));
        check("p100", &v, Some(100.0));
        check("p90", &[3.0, 1.0, 2.0], Some(3.0));
        check("p50", &[5.0], Some(5.0));
    }

    #[test]
    fn trimmed_statistics_by_rank() {
        let v = one_to(10);
        check("TM(10%:90%)", &v, Some(5.5));
        check("tm90", &v, Some(5.0));
        check("TM(:90%)", &v, Some(5.0));
        check("IQM", &one_to(8), Some(4.5));
        check("tc90", &v, Some(9.0));
        check("ts90", &v, Some(45.0));
        check(
            "WM(10%:90%)",
            &v,
            Some((2.0 + 2.0 + 3.0 + 4.0 + 5.0 + 6.0 + 7.0 + 8.0 + 9.0 + 9.0) / 10.0),
        );
        check("tm99", &one_to(100), Some(50.0));
    }

    #[test]
    fn trimmed_statistics_by_value() {
        let v = one_to(10);
        check("TM(2:5)", &v, Some(4.0));
        check("TC(:3)", &v, Some(3.0));
        check("TS(8:)", &v, Some(19.0));
        check("PR(:5)", &v, Some(50.0));
        check("PR(-1:1)", &v, Some(10.0));
        check("WM(2:5)", &[1.0, 3.0, 9.0], Some((2.0 + 3.0 + 5.0) / 3.0));
        check("TM(20:30)", &v, None);
        check("TC(20:30)", &v, Some(0.0));
    }

    #[test]
    fn extended_statistic_syntax_errors() {
        for bad in [
            "p",
            "p101",
            "px",
            "p9.9.9",
            "tm",
            "tm0",
            "tm101",
            "TM(90%:10%)",
            "TM(5:2)",
            "PR(1%:2%)",
            "TM(1%:5)",
            "average",
            "xx99",
            "TM(a:b)",
            "TM10%:90%",
            "t\u{e9}",
            "",
        ] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
        assert_eq!(Stat::parse("P99"), Some(Stat::Percentile(99.0)));
    }

    #[test]
    fn low_sample_limits() {
        assert_eq!(
            Stat::Percentile(99.0).low_sample_limit().map(f64::round),
            Some(1000.0)
        );
        assert_eq!(Stat::Percentile(50.0).low_sample_limit(), Some(20.0));
        assert_eq!(Stat::Percentile(10.0).low_sample_limit(), Some(100.0));
        assert_eq!(Stat::Percentile(100.0).low_sample_limit(), None);
        assert_eq!(Stat::Percentile(0.0).low_sample_limit(), None);
        assert_eq!(Stat::Standard(Statistic::Average).low_sample_limit(), None);
    }

    #[test]
    fn aggregate_cuts_periods_from_start() {
        let t0 = DateTime::<Utc>::from_timestamp(1_000_020, 0).expect("valid");
        let at = |s: i64| t0 + Duration::seconds(s);
        let samples = vec![
            (at(0), 1.0),
            (at(59), 3.0),
            (at(60), 10.0),
            (at(185), 7.0),
            (at(-1), 99.0),
        ];
        let points = aggregate(&samples, &Stat::Standard(Statistic::Sum), 60, t0, at(240));
        assert_eq!(
            points,
            vec![
                Datapoint {
                    timestamp: at(0),
                    value: 4.0,
                    sample_count: Some(2.0)
                },
                Datapoint {
                    timestamp: at(60),
                    value: 10.0,
                    sample_count: Some(1.0)
                },
                Datapoint {
                    timestamp: at(180),
                    value: 7.0,
                    sample_count: Some(1.0)
                },
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,16}") {
            if let Some(stat) = Stat::parse(&text) {
                let _ = stat.compute(&[1.0, 2.0, 3.0]);
            }
            let _ = crate::validate::parse_band(&text);
        }

        #[test]
        fn percentiles_are_samples(p in 0.0f64..=100.0, mut v in proptest::collection::vec(-1e6f64..1e6, 1..50)) {
            let got = Stat::Percentile(p).compute(&v).expect("non-empty");
            proptest::prop_assert!(v.contains(&got));
            v.sort_by(f64::total_cmp);
            proptest::prop_assert!(got >= v[0] && got <= v[v.len() - 1]);
        }
    }
}
