//! PutMetricAlarm's and PutCompositeAlarm's rules: a definition becomes a checked spec
//! ([`MetricAlarmSpec`], [`CompositeAlarmSpec`]) or an error that names the alarm and the
//! field. The evaluator only ever sees specs.

use crate::error::{AlarmError, Result, invalid, unsupported};
use crate::math::{Leaf, MetricMath, Resolved as Resolved2};
use crate::model::{
    ComparisonOperator, CompositeAlarm, MetricAlarm, MetricDataQuery, TreatMissingData,
    alarm_name_of,
};
use crate::rule::{self, Rule};
use crate::source::MetricRef;
use crate::stat::Stat;

const DAY: u64 = 86_400;
const MAX_METRICS: usize = 10;
const MAX_DIMENSIONS: usize = 30;
const MAX_CHILDREN: usize = 100;
const MAX_RULE_LEN: usize = 10_240;
/// AWS suggests 60 s and CDK defaults both periods to 1 minute; PutCompositeAlarm's own
/// default is undocumented.
pub const DEFAULT_SUPPRESSOR_PERIOD: u32 = 60;

/// The threshold an alarm compares against.
#[derive(Clone, Debug, PartialEq)]
pub enum ThresholdSpec {
    Static(f64),
    /// `ThresholdMetricId` naming `ANOMALY_DETECTION_BAND(metric_id, deviations)`.
    Band {
        id: String,
        metric_id: String,
        deviations: f64,
    },
}

/// `EvaluateLowSampleCountPercentile`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LowSampleMode {
    #[default]
    Evaluate,
    /// Keep the state while a percentile datapoint rests on too few samples.
    Ignore,
}

/// A metric alarm that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricAlarmSpec {
    pub definition: MetricAlarm,
    pub metric: MetricRef,
    pub stat: Stat,
    pub unit: Option<String>,
    pub period: u32,
    /// N.
    pub evaluation_periods: u32,
    /// M (N when not given).
    pub datapoints_to_alarm: u32,
    pub threshold: ThresholdSpec,
    /// The returned entry's metric math, when it is an `Expression` (then `metric`, `stat`
    /// and `unit` are its first series', for display).
    pub math: Option<MetricMath>,
    pub comparison: ComparisonOperator,
    pub treat_missing: TreatMissingData,
    pub low_sample: LowSampleMode,
}

impl MetricAlarmSpec {
    pub fn name(&self) -> &str {
        &self.definition.alarm_name
    }

    /// Periods fetched per evaluation. AWS retrieves "a higher number of data points than
    /// Evaluation Periods" without saying how many (5 for N = 3 in its examples); this is
    /// LocalStack's rule, `N + max(floor(N/3), 2)`, which gives those 5.
    pub fn evaluation_range(&self) -> u32 {
        evaluation_range(self.evaluation_periods)
    }

    /// How often the alarm is evaluated: every minute, every 10 s for sub-minute periods.
    pub fn evaluation_step_seconds(&self) -> u32 {
        if self.period < 60 { 10 } else { 60 }
    }
}

/// `N + max(floor(N/3), 2)`.
pub fn evaluation_range(evaluation_periods: u32) -> u32 {
    evaluation_periods + (evaluation_periods / 3).max(2)
}

/// A composite alarm that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeAlarmSpec {
    pub definition: CompositeAlarm,
    pub rule: Rule,
    /// The suppressor alarm's name (an ARN is reduced to its name).
    pub suppressor: Option<String>,
    pub wait_period: u32,
    pub extension_period: u32,
}

impl CompositeAlarmSpec {
    pub fn name(&self) -> &str {
        &self.definition.alarm_name
    }

    /// Names of the alarms the rule reads, in rule order, without repeats.
    pub fn children(&self) -> Vec<String> {
        self.rule.alarm_names()
    }
}

impl MetricAlarm {
    /// Checks the definition against PutMetricAlarm's rules.
    pub fn validate(&self) -> Result<MetricAlarmSpec> {
        let name = self.alarm_name.as_str();
        check_alarm_name(name)?;
        let n = self.evaluation_periods;
        if n == 0 {
            return Err(invalid(name, "EvaluationPeriods", "must be at least 1"));
        }
        let m = self.datapoints_to_alarm.unwrap_or(n);
        if m == 0 || m > n {
            return Err(invalid(
                name,
                "DatapointsToAlarm",
                format!("{m} is not between 1 and EvaluationPeriods ({n})"),
            ));
        }
        let comparison = self
            .comparison_operator
            .ok_or_else(|| invalid(name, "ComparisonOperator", "is required"))?;
        let resolved = if self.metrics.is_empty() {
            self.single_metric()?
        } else {
            self.metric_math()?
        };
        let threshold = match (&resolved.band, comparison.is_band()) {
            (Some(_), false) => {
                return Err(invalid(
                    name,
                    "ComparisonOperator",
                    format!(
                        "{} compares with a static Threshold; an anomaly-detection band needs \
                         LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold or \
                         GreaterThanUpperThreshold",
                        comparison.as_str()
                    ),
                ));
            }
            (None, true) => {
                return Err(invalid(
                    name,
                    "ThresholdMetricId",
                    format!(
                        "{} needs ThresholdMetricId naming an ANOMALY_DETECTION_BAND expression",
                        comparison.as_str()
                    ),
                ));
            }
            (Some(band), true) => {
                if self.threshold.is_some() {
                    return Err(invalid(
                        name,
                        "Threshold",
                        "is not allowed with ThresholdMetricId",
                    ));
                }
                if resolved.period < 60 {
                    return Err(invalid(
                        name,
                        "Period",
                        format!(
                            "anomaly-detection alarms need a period of at least 60 s, not {}",
                            resolved.period
                        ),
                    ));
                }
                band.clone()
            }
            (None, false) => match self.threshold {
                Some(t) if t.is_finite() => ThresholdSpec::Static(t),
                Some(t) => {
                    return Err(invalid(
                        name,
                        "Threshold",
                        format!("{t} is not a finite number"),
                    ));
                }
                None => return Err(invalid(name, "Threshold", "is required")),
            },
        };
        check_period(name, resolved.period)?;
        check_range(name, resolved.period, n)?;
        let low_sample = match self.evaluate_low_sample_count_percentile.as_deref() {
            None | Some("") | Some("evaluate") => LowSampleMode::Evaluate,
            Some("ignore") => LowSampleMode::Ignore,
            Some(other) => {
                return Err(invalid(
                    name,
                    "EvaluateLowSampleCountPercentile",
                    format!("`{other}` is neither `evaluate` nor `ignore`"),
                ));
            }
        };
        // "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing
        // data even if you choose a different option" (PutMetricAlarm).
        let treat_missing = if resolved.metric.namespace == "AWS/DynamoDB" {
            TreatMissingData::Ignore
        } else {
            self.treat_missing_data.unwrap_or_default()
        };
        Ok(MetricAlarmSpec {
            definition: self.clone(),
            metric: resolved.metric,
            stat: resolved.stat,
            unit: resolved.unit,
            period: resolved.period,
            evaluation_periods: n,
            datapoints_to_alarm: m,
            threshold,
            math: resolved.math,
            comparison,
            treat_missing,
            low_sample,
        })
    }

    fn single_metric(&self) -> Result<Resolved> {
        let name = self.alarm_name.as_str();
        if self.threshold_metric_id.is_some() {
            return Err(invalid(
                name,
                "ThresholdMetricId",
                "needs Metrics[] with an ANOMALY_DETECTION_BAND expression",
            ));
        }
        let metric_name = self
            .metric_name
            .as_deref()
            .ok_or_else(|| invalid(name, "MetricName", "is required (or give Metrics[])"))?;
        let namespace = self
            .namespace
            .as_deref()
            .ok_or_else(|| invalid(name, "Namespace", "is required with MetricName"))?;
        let stat = match (&self.statistic, &self.extended_statistic) {
            (Some(s), None) => Stat::Standard(*s),
            (None, Some(e)) => Stat::parse_extended(e).ok_or_else(|| {
                invalid(
                    name,
                    "ExtendedStatistic",
                    format!("`{e}` is not p0.0..p100, tmNN, TM(a%:b%), wm, tc, ts, IQM or PR(a:b)"),
                )
            })?,
            (Some(_), Some(_)) => {
                return Err(invalid(
                    name,
                    "Statistic",
                    "give either Statistic or ExtendedStatistic, not both",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    name,
                    "Statistic",
                    "one of Statistic or ExtendedStatistic is required",
                ));
            }
        };
        check_dimensions(name, &self.dimensions)?;
        let period = self
            .period
            .ok_or_else(|| invalid(name, "Period", "is required with MetricName"))?;
        Ok(Resolved {
            metric: MetricRef::new(namespace, metric_name, self.dimensions.iter().cloned()),
            stat,
            unit: self.unit.clone(),
            period,
            band: None,
            math: None,
        })
    }

    fn metric_math(&self) -> Result<Resolved> {
        let name = self.alarm_name.as_str();
        let conflicting = [
            ("MetricName", self.metric_name.is_some()),
            ("Namespace", self.namespace.is_some()),
            ("Statistic", self.statistic.is_some()),
            ("ExtendedStatistic", self.extended_statistic.is_some()),
            ("Period", self.period.is_some()),
            ("Dimensions", !self.dimensions.is_empty()),
        ];
        if let Some((field, _)) = conflicting.iter().find(|(_, set)| *set) {
            return Err(invalid(
                name,
                field,
                "is not allowed together with Metrics[]",
            ));
        }
        if self.metrics.len() > MAX_METRICS {
            return Err(invalid(
                name,
                "Metrics",
                format!(
                    "{} entries, at most {MAX_METRICS} are allowed",
                    self.metrics.len()
                ),
            ));
        }
        for (i, q) in self.metrics.iter().enumerate() {
            check_query_id(name, &q.id)?;
            if self.metrics[..i].iter().any(|p| p.id == q.id) {
                return Err(invalid(
                    name,
                    "Metrics",
                    format!("Id `{}` is used twice", q.id),
                ));
            }
            match (&q.metric_stat, &q.expression) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(invalid(
                        name,
                        "Metrics",
                        format!("`{}` needs exactly one of MetricStat or Expression", q.id),
                    ));
                }
            }
        }
        let mut period: Option<u32> = None;
        for q in &self.metrics {
            if let Some(ms) = &q.metric_stat {
                match period {
                    Some(p) if p != ms.period => {
                        return Err(invalid(
                            name,
                            "Metrics",
                            format!(
                                "all metrics need the same Period; `{}` has {} s, another {p} s",
                                q.id, ms.period
                            ),
                        ));
                    }
                    _ => period = Some(ms.period),
                }
            }
        }
        let band = match &self.threshold_metric_id {
            Some(id) => {
                let q = self.metrics.iter().find(|q| &q.id == id).ok_or_else(|| {
                    invalid(
                        name,
                        "ThresholdMetricId",
                        format!("no Metrics[] entry has Id `{id}`"),
                    )
                })?;
                let expr = q.expression.as_deref().unwrap_or_default();
                let (metric_id, deviations) = parse_band(expr).ok_or_else(|| {
                    invalid(
                        name,
                        "ThresholdMetricId",
                        format!("`{id}` is not ANOMALY_DETECTION_BAND(m[, k]) (got `{expr}`)"),
                    )
                })?;
                Some(ThresholdSpec::Band {
                    id: id.clone(),
                    metric_id,
                    deviations,
                })
            }
            None => None,
        };
        let band_id = self.threshold_metric_id.as_deref();
        let returned: Vec<&MetricDataQuery> = self
            .metrics
            .iter()
            .filter(|q| q.returns_data() && Some(q.id.as_str()) != band_id)
            .collect();
        let target = match returned.as_slice() {
            [one] => *one,
            _ => {
                return Err(invalid(
                    name,
                    "Metrics",
                    format!(
                        "exactly one entry{} must have ReturnData true (omitted counts as true), found {}",
                        if band_id.is_some() {
                            " besides the band"
                        } else {
                            ""
                        },
                        returned.len()
                    ),
                ));
            }
        };
        if let Some(ThresholdSpec::Band { metric_id, .. }) = &band
            && metric_id != &target.id
        {
            return Err(invalid(
                name,
                "Metrics",
                format!(
                    "the band is computed from `{metric_id}` but the alarm returns `{}`",
                    target.id
                ),
            ));
        }
        let Some(ms) = &target.metric_stat else {
            return self.expression_target(target, period, band);
        };
        let (Some(namespace), Some(metric_name)) = (
            ms.metric.namespace.as_deref(),
            ms.metric.metric_name.as_deref(),
        ) else {
            return Err(invalid(
                name,
                "Metrics",
                format!(
                    "`{}` needs MetricStat.Metric.Namespace and MetricName",
                    target.id
                ),
            ));
        };
        check_dimensions(name, &ms.metric.dimensions)?;
        let stat = Stat::parse(&ms.stat).ok_or_else(|| {
            invalid(
                name,
                "Metrics",
                format!("`{}`: unknown Stat `{}`", target.id, ms.stat),
            )
        })?;
        Ok(Resolved {
            metric: MetricRef::new(namespace, metric_name, ms.metric.dimensions.iter().cloned()),
            stat,
            unit: ms.unit.clone(),
            period: period.unwrap_or(ms.period),
            band,
            math: None,
        })
    }

    /// The returned entry is an `Expression`: metric math over the other entries
    /// ([`crate::math`]).
    fn expression_target(
        &self,
        target: &MetricDataQuery,
        stat_period: Option<u32>,
        band: Option<ThresholdSpec>,
    ) -> Result<Resolved> {
        let name = self.alarm_name.as_str();
        let mut visiting = vec![target.id.clone()];
        let math = self.parse_expression(target, &mut visiting)?;
        let period = match (stat_period, target.period) {
            (Some(p), Some(q)) if p != q => {
                return Err(invalid(
                    name,
                    "Metrics",
                    format!(
                        "`{}` has Period {q} s but its metrics have {p} s",
                        target.id
                    ),
                ));
            }
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                return Err(invalid(
                    name,
                    "Metrics",
                    format!(
                        "`{}` needs a Period (an expression without a MetricStat has no other)",
                        target.id
                    ),
                ));
            }
        };
        let (metric, stat, unit) = match math.leaves.first() {
            Some(l) => (l.metric.clone(), l.stat.clone(), l.unit.clone()),
            None => (
                MetricRef::new("", target.id.clone(), []),
                Stat::Standard(crate::model::Statistic::Sum),
                None,
            ),
        };
        Ok(Resolved {
            metric,
            stat,
            unit,
            period,
            band,
            math: Some(math),
        })
    }

    fn parse_expression(
        &self,
        q: &MetricDataQuery,
        visiting: &mut Vec<String>,
    ) -> Result<MetricMath> {
        let name = self.alarm_name.as_str();
        let text = q.expression.as_deref().unwrap_or_default();
        let mut resolve = |id: &str| -> std::result::Result<Resolved2, String> {
            let Some(other) = self.metrics.iter().find(|m| m.id == id) else {
                return Err(format!("no Metrics[] entry has Id `{id}`"));
            };
            if visiting.iter().any(|v| v == id) {
                return Err(format!(
                    "`{id}` refers to itself ({} -> {id})",
                    visiting.join(" -> ")
                ));
            }
            if self.threshold_metric_id.as_deref() == Some(id) {
                return Err(format!(
                    "`{id}` is the anomaly-detection band, not a series"
                ));
            }
            if let Some(ms) = &other.metric_stat {
                let (Some(namespace), Some(metric_name)) = (
                    ms.metric.namespace.as_deref(),
                    ms.metric.metric_name.as_deref(),
                ) else {
                    return Err(format!(
                        "`{id}` needs MetricStat.Metric.Namespace and MetricName"
                    ));
                };
                let stat = Stat::parse(&ms.stat)
                    .ok_or_else(|| format!("`{id}`: unknown Stat `{}`", ms.stat))?;
                return Ok(Resolved2::Leaf(Leaf {
                    metric: MetricRef::new(
                        namespace,
                        metric_name,
                        ms.metric.dimensions.iter().cloned(),
                    ),
                    stat,
                    unit: ms.unit.clone(),
                }));
            }
            visiting.push(id.to_string());
            let parsed = self.parse_expression(other, visiting);
            visiting.pop();
            parsed.map(Resolved2::Expression).map_err(|e| match e {
                AlarmError::Invalid { message, .. } | AlarmError::Unsupported { message, .. } => {
                    message
                }
                other => other.to_string(),
            })
        };
        MetricMath::parse(text, &mut resolve).map_err(|e| {
            let message = format!("`{}`: byte {}: {}: \"{text}\"", q.id, e.offset, e.message);
            if e.unsupported {
                unsupported(name, "Metrics", message)
            } else {
                invalid(name, "Metrics", message)
            }
        })
    }
}

struct Resolved {
    metric: MetricRef,
    stat: Stat,
    unit: Option<String>,
    period: u32,
    band: Option<ThresholdSpec>,
    math: Option<MetricMath>,
}

impl CompositeAlarm {
    /// Checks the definition against PutCompositeAlarm's rules and parses the rule.
    pub fn validate(&self) -> Result<CompositeAlarmSpec> {
        let name = self.alarm_name.as_str();
        check_alarm_name(name)?;
        if self.alarm_rule.len() > MAX_RULE_LEN {
            return Err(invalid(
                name,
                "AlarmRule",
                format!(
                    "{} characters, at most {MAX_RULE_LEN} are allowed",
                    self.alarm_rule.len()
                ),
            ));
        }
        let rule = rule::parse(&self.alarm_rule).map_err(|source| AlarmError::Rule {
            alarm: name.to_string(),
            source,
        })?;
        let children = rule.alarm_names();
        if children.len() > MAX_CHILDREN {
            return Err(invalid(
                name,
                "AlarmRule",
                format!(
                    "{} alarms, at most {MAX_CHILDREN} are allowed",
                    children.len()
                ),
            ));
        }
        if children.iter().any(|c| c == name) {
            return Err(invalid(
                name,
                "AlarmRule",
                "a composite alarm cannot watch itself",
            ));
        }
        let suppressor = self
            .actions_suppressor
            .as_deref()
            .map(|s| alarm_name_of(s).to_string());
        match &suppressor {
            Some(s) if s == name => {
                return Err(invalid(
                    name,
                    "ActionsSuppressor",
                    "cannot be the alarm itself",
                ));
            }
            Some(s) if s.is_empty() => {
                return Err(invalid(name, "ActionsSuppressor", "is empty"));
            }
            None if self.actions_suppressor_wait_period.is_some() => {
                return Err(invalid(
                    name,
                    "ActionsSuppressorWaitPeriod",
                    "needs ActionsSuppressor",
                ));
            }
            None if self.actions_suppressor_extension_period.is_some() => {
                return Err(invalid(
                    name,
                    "ActionsSuppressorExtensionPeriod",
                    "needs ActionsSuppressor",
                ));
            }
            _ => {}
        }
        Ok(CompositeAlarmSpec {
            definition: self.clone(),
            rule,
            suppressor,
            wait_period: self
                .actions_suppressor_wait_period
                .unwrap_or(DEFAULT_SUPPRESSOR_PERIOD),
            extension_period: self
                .actions_suppressor_extension_period
                .unwrap_or(DEFAULT_SUPPRESSOR_PERIOD),
        })
    }
}

fn check_alarm_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid(name, "AlarmName", "must be 1 to 255 characters"));
    }
    if !name.is_ascii() {
        return Err(invalid(
            name,
            "AlarmName",
            "must contain only ASCII characters",
        ));
    }
    Ok(())
}

fn check_period(name: &str, period: u32) -> Result<()> {
    if matches!(period, 10 | 20 | 30) || (period >= 60 && period.is_multiple_of(60)) {
        Ok(())
    } else {
        Err(invalid(
            name,
            "Period",
            format!("{period} is not 10, 20, 30 or a multiple of 60"),
        ))
    }
}

fn check_range(name: &str, period: u32, n: u32) -> Result<()> {
    let total = u64::from(period) * u64::from(n);
    let (limit, which) = if period < 3600 {
        (
            DAY,
            "1 day (86400 s), the limit when Period is under 1 hour",
        )
    } else {
        (7 * DAY, "7 days (604800 s)")
    };
    if total > limit {
        return Err(invalid(
            name,
            "EvaluationPeriods",
            format!("Period × EvaluationPeriods = {period} × {n} = {total} s exceeds {which}"),
        ));
    }
    Ok(())
}

fn check_dimensions(name: &str, dims: &[crate::model::Dimension]) -> Result<()> {
    if dims.len() > MAX_DIMENSIONS {
        return Err(invalid(
            name,
            "Dimensions",
            format!(
                "{} dimensions, at most {MAX_DIMENSIONS} are allowed",
                dims.len()
            ),
        ));
    }
    if let Some(d) = dims
        .iter()
        .find(|d| d.name.is_empty() || d.value.is_empty())
    {
        return Err(invalid(
            name,
            "Dimensions",
            format!("dimension `{}` needs a non-empty Name and Value", d.name),
        ));
    }
    Ok(())
}

fn check_query_id(name: &str, id: &str) -> Result<()> {
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            name,
            "Metrics",
            format!(
                "Id `{id}` must start with a lower-case letter and use only letters, digits and _"
            ),
        ))
    }
}

/// `ANOMALY_DETECTION_BAND(m1)` or `ANOMALY_DETECTION_BAND(m1, 2.5)` -> (`m1`, k); k
/// defaults to 2.
pub fn parse_band(expr: &str) -> Option<(String, f64)> {
    let expr = expr.trim();
    let head = "ANOMALY_DETECTION_BAND";
    if !expr.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let args = expr[head.len()..]
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (id, k) = match args.split_once(',') {
        Some((id, k)) => (id.trim(), k.trim().parse::<f64>().ok()?),
        None => (args.trim(), 2.0),
    };
    let mut chars = id.chars();
    let id_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (id_ok && k.is_finite() && k > 0.0).then(|| (id.to_string(), k))
}

#[cfg(test)]
mod tests;
