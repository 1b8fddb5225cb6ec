//! GetInsightRuleReport and `INSIGHT_RULE_METRIC` over an accumulator: the request, the
//! response in AWS's shape (PascalCase names, timestamps as the AWS CLI prints them), and the
//! per-period metrics.
//!
//! Semantics, per report period (AWS's wording in parentheses, our exact reading after it):
//!
//! | metric | meaning here |
//! |---|---|
//! | `UniqueContributors` | distinct key tuples with a matched event in the period |
//! | `MaxContributorValue` | the largest contributor value of the period (its identity may change from period to period) |
//! | `SampleCount` | matched events (events that passed the filters and had every key and a value) |
//! | `Sum` | sum of all contributors' values = of all matched events' values |
//! | `Minimum` / `Maximum` | smallest / largest single event's value ("single observation"; always 1 for `Count`) |
//! | `Average` | `Sum / UniqueContributors` ("average value from all contributors") |
//!
//! Decisions where AWS is silent:
//!
//! * "Approximate" values are exact: flowwatch counts every contributor.
//! * A period (engine or report) belongs to [start, end) when it overlaps it; report periods
//!   are aligned to the epoch, so the first may start before `StartTime`.
//! * Periods without a matched event have no datapoint (neither in `MetricDatapoints` nor in
//!   a contributor's `Datapoints`, which AWS documents as "only the data points when this
//!   contributor appeared").
//! * `OrderBy: Sum` ranks contributors by their total over the range, `Maximum` by their
//!   largest single report-period value; `ApproximateAggregateValue` is the value ranked by,
//!   so the list always reads in order. Ties go to the smaller key tuple (byte order), so a
//!   report is deterministic.
//! * `MetricDatapoints` is left out when no metric is asked for (as AWS does);
//!   [`ReportRequest::new`] asks for all seven.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::engine::{Period, RuleAccumulator, Stats};
use crate::error::{ContribError, Result};
use crate::matcher::decode_key;

/// MaxContributorCount when the request gives none.
pub const DEFAULT_MAX_CONTRIBUTORS: u32 = 10;
/// The largest MaxContributorCount the API accepts.
pub const MAX_CONTRIBUTORS: u32 = 100;

/// A metric of a rule, as `GetInsightRuleReport`'s `Metrics` and `INSIGHT_RULE_METRIC` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum InsightRuleMetric {
    UniqueContributors,
    MaxContributorValue,
    SampleCount,
    Sum,
    Minimum,
    Maximum,
    Average,
}

impl InsightRuleMetric {
    pub const ALL: [InsightRuleMetric; 7] = [
        InsightRuleMetric::UniqueContributors,
        InsightRuleMetric::MaxContributorValue,
        InsightRuleMetric::SampleCount,
        InsightRuleMetric::Sum,
        InsightRuleMetric::Minimum,
        InsightRuleMetric::Maximum,
        InsightRuleMetric::Average,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InsightRuleMetric::UniqueContributors => "UniqueContributors",
            InsightRuleMetric::MaxContributorValue => "MaxContributorValue",
            InsightRuleMetric::SampleCount => "SampleCount",
            InsightRuleMetric::Sum => "Sum",
            InsightRuleMetric::Minimum => "Minimum",
            InsightRuleMetric::Maximum => "Maximum",
            InsightRuleMetric::Average => "Average",
        }
    }
}

impl FromStr for InsightRuleMetric {
    type Err = ContribError;

    fn from_str(s: &str) -> Result<Self> {
        InsightRuleMetric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ContribError::InvalidRequest {
                field: "Metrics",
                message: format!(
                    "unknown metric \"{s}\" (expected one of {})",
                    InsightRuleMetric::ALL
                        .map(InsightRuleMetric::as_str)
                        .join(", ")
                ),
            })
    }
}

/// How contributors are ranked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum OrderBy {
    /// By the total over the range.
    #[default]
    Sum,
    /// By the largest value in any one report period.
    Maximum,
}

impl FromStr for OrderBy {
    type Err = ContribError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "Sum" => Ok(OrderBy::Sum),
            "Maximum" => Ok(OrderBy::Maximum),
            _ => Err(ContribError::InvalidRequest {
                field: "OrderBy",
                message: format!("unknown order \"{s}\" (expected Sum or Maximum)"),
            }),
        }
    }
}

/// GetInsightRuleReport's parameters (the rule is named separately).
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRequest {
    /// Epoch ms, inclusive.
    pub start_ms: i64,
    /// Epoch ms, exclusive.
    pub end_ms: i64,
    /// A multiple of the engine's period.
    pub period_secs: u32,
    /// 1–100; `None` = 10.
    pub max_contributor_count: Option<u32>,
    /// The statistics `MetricDatapoints` carries; empty = no `MetricDatapoints`.
    pub metrics: Vec<InsightRuleMetric>,
    pub order_by: OrderBy,
}

impl ReportRequest {
    /// A request for [start, end) with every metric, the top 10, ordered by sum.
    pub fn new(start_ms: i64, end_ms: i64, period_secs: u32) -> ReportRequest {
        ReportRequest {
            start_ms,
            end_ms,
            period_secs,
            max_contributor_count: None,
            metrics: InsightRuleMetric::ALL.to_vec(),
            order_by: OrderBy::Sum,
        }
    }
}

/// An instant, epoch ms, serialised as the AWS CLI prints timestamps:
/// `2019-07-14T12:43:00+00:00` (microseconds only when not whole seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn to_iso(self) -> Option<String> {
        let t = chrono::DateTime::from_timestamp_millis(self.0)?;
        Some(if self.0.rem_euclid(1000) == 0 {
            t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
        } else {
            t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
        })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.to_iso() {
            Some(text) => s.serialize_str(&text),
            None => Err(serde::ser::Error::custom(format!(
                "timestamp {} ms is out of range",
                self.0
            ))),
        }
    }
}

/// GetInsightRuleReport's response.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightRuleReport {
    pub key_labels: Vec<String>,
    /// The rule's `AggregateOn`: `Count` or `Sum`.
    pub aggregation_statistic: String,
    /// Sum of every contributor's value over the range.
    pub aggregate_value: f64,
    /// Distinct contributors over the range (exact).
    pub approximate_unique_count: u64,
    pub contributors: Vec<InsightRuleContributor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_datapoints: Option<Vec<InsightRuleMetricDatapoint>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightRuleContributor {
    pub keys: Vec<String>,
    pub approximate_aggregate_value: f64,
    pub datapoints: Vec<InsightRuleContributorDatapoint>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightRuleContributorDatapoint {
    pub timestamp: Timestamp,
    pub approximate_value: f64,
}

/// One report period's metrics; each is present only when the request asked for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightRuleMetricDatapoint {
    pub timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_contributors: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_contributor_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
}

/// One value of `INSIGHT_RULE_METRIC` for the period starting at `timestamp_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricPoint {
    pub timestamp_ms: i64,
    pub value: f64,
}

/// One report period: its engine periods, merged statistics and contributor summary.
struct Bucket<'a> {
    start: i64,
    periods: Vec<&'a Period>,
    stats: Stats,
    unique: usize,
    max_contributor: f64,
}

impl Bucket<'_> {
    fn value(&self, metric: InsightRuleMetric) -> f64 {
        match metric {
            InsightRuleMetric::UniqueContributors => self.unique as f64,
            InsightRuleMetric::MaxContributorValue => self.max_contributor,
            InsightRuleMetric::SampleCount => self.stats.samples as f64,
            InsightRuleMetric::Sum => self.stats.sum,
            InsightRuleMetric::Minimum => self.stats.min,
            InsightRuleMetric::Maximum => self.stats.max,
            InsightRuleMetric::Average => self.stats.sum / self.unique.max(1) as f64,
        }
    }
}

/// Per contributor id over the range: total and largest report-period value
/// (`NEG_INFINITY` = not seen).
type Totals = Vec<(f64, f64)>;

fn invalid(field: &'static str, message: impl Into<String>) -> ContribError {
    ContribError::InvalidRequest {
        field,
        message: message.into(),
    }
}

/// The report period in ms, checked against the range and the engine's period.
fn report_period(start: i64, end: i64, period_secs: u32, engine_ms: i64) -> Result<i64> {
    if end <= start {
        return Err(invalid("EndTime", "must be after StartTime"));
    }
    let period = i64::from(period_secs) * 1000;
    if period == 0 || period % engine_ms != 0 {
        return Err(invalid(
            "Period",
            format!(
                "must be a positive multiple of the engine's period ({} s), found {period_secs}",
                engine_ms / 1000
            ),
        ));
    }
    Ok(period)
}

/// The report periods overlapping [start, end) that had matched events, oldest first; with
/// `totals`, every contributor's total and maximum are folded in as well.
fn buckets<'a>(
    acc: &'a RuleAccumulator,
    engine_ms: i64,
    start: i64,
    end: i64,
    period: i64,
    anchor: i64,
    mut totals: Option<&mut Totals>,
) -> Vec<Bucket<'a>> {
    let mut out: Vec<Bucket<'a>> = Vec::new();
    // Engine periods overlapping [start, end): p < end and p + engine_ms > start.
    for (&p, period_data) in acc.periods.range(start.saturating_sub(engine_ms - 1)..end) {
        let b = p.saturating_sub((p - anchor).rem_euclid(period));
        match out.last_mut() {
            Some(last) if last.start == b => last.periods.push(period_data),
            _ => out.push(Bucket {
                start: b,
                periods: vec![period_data],
                stats: Stats::default(),
                unique: 0,
                max_contributor: f64::NEG_INFINITY,
            }),
        }
    }
    let mut scratch: HashMap<u32, f64> = HashMap::new();
    for bucket in &mut out {
        for p in &bucket.periods {
            bucket.stats.merge(&p.stats);
        }
        let values: &HashMap<u32, f64> = if let [only] = bucket.periods.as_slice() {
            &only.values
        } else {
            scratch.clear();
            for p in &bucket.periods {
                for (&id, &v) in &p.values {
                    *scratch.entry(id).or_insert(0.0) += v;
                }
            }
            &scratch
        };
        bucket.unique = values.len();
        for (&id, &v) in values {
            bucket.max_contributor = bucket.max_contributor.max(v);
            if let Some(t) = totals.as_deref_mut().and_then(|t| t.get_mut(id as usize)) {
                t.0 += v;
                t.1 = t.1.max(v);
            }
        }
    }
    out
}

pub(crate) fn metric(
    acc: &RuleAccumulator,
    engine_ms: i64,
    metric: InsightRuleMetric,
    start: i64,
    end: i64,
    period_secs: u32,
) -> Result<Vec<MetricPoint>> {
    let period = report_period(start, end, period_secs, engine_ms)?;
    Ok(buckets(acc, engine_ms, start, end, period, 0, None)
        .iter()
        .map(|b| MetricPoint {
            timestamp_ms: b.start,
            value: b.value(metric),
        })
        .collect())
}

/// [`metric`] with report periods anchored at `start` instead of the epoch.
pub(crate) fn metric_anchored(
    acc: &RuleAccumulator,
    engine_ms: i64,
    metric: InsightRuleMetric,
    start: i64,
    end: i64,
    period_secs: u32,
) -> Result<Vec<MetricPoint>> {
    let period = report_period(start, end, period_secs, engine_ms)?;
    Ok(buckets(acc, engine_ms, start, end, period, start, None)
        .iter()
        .map(|b| MetricPoint {
            timestamp_ms: b.start,
            value: b.value(metric),
        })
        .collect())
}

/// The key tuple's parts, for ordering ties without decoding.
fn parts(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
        let (part, rest) = rest.split_at(len);
        bytes = rest;
        Some(part)
    })
}

pub(crate) fn report(
    acc: &RuleAccumulator,
    engine_ms: i64,
    req: &ReportRequest,
) -> Result<InsightRuleReport> {
    let period = report_period(req.start_ms, req.end_ms, req.period_secs, engine_ms)?;
    let max = req
        .max_contributor_count
        .unwrap_or(DEFAULT_MAX_CONTRIBUTORS);
    if !(1..=MAX_CONTRIBUTORS).contains(&max) {
        return Err(invalid(
            "MaxContributorCount",
            format!("must be 1 to {MAX_CONTRIBUTORS}, found {max}"),
        ));
    }
    let mut totals: Totals = vec![(0.0, f64::NEG_INFINITY); acc.ids.len()];
    let buckets = buckets(
        acc,
        engine_ms,
        req.start_ms,
        req.end_ms,
        period,
        0,
        Some(&mut totals),
    );

    let mut keys: Vec<&[u8]> = vec![&[]; acc.ids.len()];
    for (k, &id) in &acc.ids {
        if let Some(slot) = keys.get_mut(id as usize) {
            *slot = k;
        }
    }
    let mut ranked: Vec<(u32, f64)> = totals
        .iter()
        .enumerate()
        .filter(|(_, t)| t.1 > f64::NEG_INFINITY)
        .map(|(id, &(sum, max))| {
            let rank = match req.order_by {
                OrderBy::Sum => sum,
                OrderBy::Maximum => max,
            };
            (id as u32, rank)
        })
        .collect();
    let unique = ranked.len() as u64;
    let key_of = |id: u32| keys.get(id as usize).copied().unwrap_or_default();
    let order = |a: &(u32, f64), b: &(u32, f64)| -> Ordering {
        b.1.total_cmp(&a.1)
            .then_with(|| parts(key_of(a.0)).cmp(parts(key_of(b.0))))
    };
    let n = max as usize;
    if ranked.len() > n {
        ranked.select_nth_unstable_by(n - 1, order);
        ranked.truncate(n);
    }
    ranked.sort_by(order);

    let contributors = ranked
        .iter()
        .map(|&(id, rank)| InsightRuleContributor {
            keys: decode_key(key_of(id)),
            approximate_aggregate_value: rank,
            datapoints: buckets
                .iter()
                .filter_map(|b| {
                    let mut seen = false;
                    let mut v = 0.0;
                    for p in &b.periods {
                        if let Some(x) = p.values.get(&id) {
                            seen = true;
                            v += x;
                        }
                    }
                    seen.then_some(InsightRuleContributorDatapoint {
                        timestamp: Timestamp(b.start),
                        approximate_value: v,
                    })
                })
                .collect(),
        })
        .collect();

    let metric_datapoints = (!req.metrics.is_empty()).then(|| {
        buckets
            .iter()
            .map(|b| {
                let want = |m: InsightRuleMetric| req.metrics.contains(&m).then(|| b.value(m));
                InsightRuleMetricDatapoint {
                    timestamp: Timestamp(b.start),
                    unique_contributors: want(InsightRuleMetric::UniqueContributors),
                    max_contributor_value: want(InsightRuleMetric::MaxContributorValue),
                    sample_count: want(InsightRuleMetric::SampleCount),
                    average: want(InsightRuleMetric::Average),
                    sum: want(InsightRuleMetric::Sum),
                    minimum: want(InsightRuleMetric::Minimum),
                    maximum: want(InsightRuleMetric::Maximum),
                }
            })
            .collect()
    });

    Ok(InsightRuleReport {
        key_labels: acc.rule.key_labels.clone(),
        aggregation_statistic: acc.rule.aggregate_on.as_str().to_string(),
        aggregate_value: buckets.iter().map(|b| b.stats.sum).sum(),
        approximate_unique_count: unique,
        contributors,
        metric_datapoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_the_aws_cli_does() {
        assert_eq!(
            Timestamp(1_563_108_180_000).to_iso().as_deref(),
            Some("2019-07-14T12:43:00+00:00")
        );
        assert_eq!(
            Timestamp(1_563_108_180_250).to_iso().as_deref(),
            Some("2019-07-14T12:43:00.250000+00:00")
        );
        assert_eq!(Timestamp(i64::MAX).to_iso(), None);
        assert!(serde_json::to_string(&Timestamp(i64::MAX)).is_err());
    }

    #[test]
    fn metric_and_order_names_parse() {
        for m in InsightRuleMetric::ALL {
            assert_eq!(m.as_str().parse::<InsightRuleMetric>().ok(), Some(m));
        }
        let e = "Count"
            .parse::<InsightRuleMetric>()
            .expect_err("not a metric");
        assert!(
            e.to_string()
                .starts_with("Metrics: unknown metric \"Count\""),
            "{e}"
        );
        assert_eq!("Maximum".parse::<OrderBy>().ok(), Some(OrderBy::Maximum));
        assert!("max".parse::<OrderBy>().is_err());
    }

    #[test]
    fn tie_order_is_by_key_parts_not_encoding() {
        let enc = |parts: &[&str]| {
            let mut out = Vec::new();
            for p in parts {
                crate::matcher::encode_key(&mut out, p);
            }
            out
        };
        // "b" is shorter than "aa" but sorts after it.
        let (a, b) = (enc(&["aa"]), enc(&["b"]));
        assert_eq!(parts(&a).cmp(parts(&b)), Ordering::Less);
        let (a, b) = (enc(&["x", "2"]), enc(&["x", "10"]));
        assert_eq!(parts(&a).cmp(parts(&b)), Ordering::Greater);
    }
}
