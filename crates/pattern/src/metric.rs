//! Metric filters as CloudWatch defines them: [`MetricTransformation`] (name, namespace, value,
//! default value, dimensions, unit) with PutMetricFilter's rules, and the JSON shape
//! `aws logs describe-metric-filters` prints ([`MetricFilters`], [`MetricFilter`]).
//!
//! These types are the wire format (a promise: users paste AWS output), so they are `serde`
//! types with AWS's camelCase names. Unknown fields are ignored rather than rejected: AWS adds
//! fields to this output (`applyOnTransformedLogs`, `fieldSelectionCriteria`, …).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::captures::{Captures, Planned, Reference};
use crate::error::{Error, Result};
use crate::fields::Event;
use crate::pattern::{Pattern, Style};
use crate::value::parse_num;

/// Longest metric name, namespace or dimension name.
pub const MAX_NAME_LEN: usize = 255;
/// Longest `metricValue`.
pub const MAX_METRIC_VALUE_LEN: usize = 100;
/// Most dimensions per transformation.
pub const MAX_DIMENSIONS: usize = 3;
/// Longest filter name.
pub const MAX_FILTER_NAME_LEN: usize = 512;
/// Longest filter pattern (PutMetricFilter's `filterPattern`).
pub const MAX_PATTERN_LEN: usize = 1024;

/// CloudWatch's `StandardUnit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    #[serde(rename = "Bytes/Second")]
    BytesPerSecond,
    #[serde(rename = "Kilobytes/Second")]
    KilobytesPerSecond,
    #[serde(rename = "Megabytes/Second")]
    MegabytesPerSecond,
    #[serde(rename = "Gigabytes/Second")]
    GigabytesPerSecond,
    #[serde(rename = "Terabytes/Second")]
    TerabytesPerSecond,
    #[serde(rename = "Bits/Second")]
    BitsPerSecond,
    #[serde(rename = "Kilobits/Second")]
    KilobitsPerSecond,
    #[serde(rename = "Megabits/Second")]
    MegabitsPerSecond,
    #[serde(rename = "Gigabits/Second")]
    GigabitsPerSecond,
    #[serde(rename = "Terabits/Second")]
    TerabitsPerSecond,
    #[serde(rename = "Count/Second")]
    CountPerSecond,
    None,
}

/// How a matching event becomes a metric data point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    /// A number (`1`), `$name` (space-delimited field), `$7` (legacy position) or `$.a.b`.
    pub metric_value: String,
    /// Reported for a minute with events but no match. Excludes `dimensions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    /// Dimension name to `$name` / `$.a.b` reference; at most 3.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

/// A metric value as written: a literal or a reference.
enum MetricValue<'s> {
    Literal(f64),
    Ref(Reference<'s>),
}

fn metric_value(s: &str) -> Result<MetricValue<'_>> {
    if let Some(n) = parse_num(s.as_bytes()) {
        return Ok(MetricValue::Literal(n.as_f64()));
    }
    Reference::parse(s).map(MetricValue::Ref).map_err(|e| {
        Error::invalid(
            "metricValue",
            format!(
                "`{s}` is not a number, `$field`, `$position` or `$.selector`: {}",
                e.message
            ),
        )
    })
}

fn check_name(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            field,
            format!("longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if let Some(c) = s.chars().find(|c| matches!(c, ':' | '*' | '$')) {
        return Err(Error::invalid(
            field,
            format!("`{s}` contains `{c}`, which CloudWatch does not allow (no `:`, `*` or `$`)"),
        ));
    }
    Ok(())
}

impl MetricTransformation {
    /// A count of matching events: `metricValue` `1`.
    pub fn count(namespace: &str, name: &str) -> MetricTransformation {
        MetricTransformation {
            metric_name: name.to_owned(),
            metric_namespace: namespace.to_owned(),
            metric_value: "1".to_owned(),
            default_value: None,
            dimensions: BTreeMap::new(),
            unit: None,
        }
    }

    /// PutMetricFilter's rules: names 1–255 characters without `:`, `*` or `$`; a value of at
    /// most 100 characters that is a number or a reference; at most 3 dimensions, each a
    /// reference; no `defaultValue` together with dimensions.
    pub fn validate(&self) -> Result<()> {
        check_name("metricName", &self.metric_name)?;
        check_name("metricNamespace", &self.metric_namespace)?;
        if self.metric_value.chars().count() > MAX_METRIC_VALUE_LEN {
            return Err(Error::invalid(
                "metricValue",
                format!("longer than {MAX_METRIC_VALUE_LEN} characters"),
            ));
        }
        metric_value(&self.metric_value)?;
        if let Some(v) = self.default_value.filter(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "defaultValue",
                format!("{v} is not a finite number"),
            ));
        }
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(Error::invalid(
                "dimensions",
                format!(
                    "{} dimensions; a metric filter may have at most {MAX_DIMENSIONS}",
                    self.dimensions.len()
                ),
            ));
        }
        if self.default_value.is_some() && !self.dimensions.is_empty() {
            return Err(Error::invalid(
                "defaultValue",
                "a metric filter with dimensions cannot have a default value",
            ));
        }
        for (name, value) in &self.dimensions {
            check_name("dimensions", name)?;
            Reference::parse(value).map_err(|_| {
                Error::invalid(
                    "dimensions",
                    format!(
                        "dimension `{name}`: `{value}` is not a `$field` or `$.selector` reference"
                    ),
                )
            })?;
        }
        Ok(())
    }

    /// [`MetricTransformation::validate`], and every reference fits the pattern: `$name` is a
    /// field the space-delimited pattern names, `$7` a position it always binds, `$.x` used
    /// with a JSON pattern.
    pub fn validate_for(&self, pattern: &Pattern) -> Result<()> {
        self.validate()?;
        if let MetricValue::Ref(r) = metric_value(&self.metric_value)? {
            check_ref(pattern, &r).map_err(|m| Error::invalid("metricValue", m))?;
        }
        for (name, value) in &self.dimensions {
            if let Ok(r) = Reference::parse(value) {
                check_ref(pattern, &r).map_err(|m| {
                    Error::invalid("dimensions", format!("dimension `{name}`: {m}"))
                })?;
            }
        }
        Ok(())
    }

    /// The data point for one matched event: the metric value and the dimensions (sorted by
    /// name). `None` when the value is not a number or a referenced field is missing, in which
    /// case CloudWatch publishes nothing for the event.
    pub fn apply(&self, captures: &Captures<'_>) -> Option<(f64, Vec<(String, String)>)> {
        let value = match metric_value(&self.metric_value).ok()? {
            MetricValue::Literal(v) => v,
            MetricValue::Ref(r) => {
                let text = captures.resolve(&r)?;
                parse_num(text.as_bytes())?.as_f64()
            }
        };
        let mut dims = Vec::with_capacity(self.dimensions.len());
        for (name, value) in &self.dimensions {
            let r = Reference::parse(value).ok()?;
            dims.push((name.clone(), captures.resolve(&r)?.into_owned()));
        }
        Some((value, dims))
    }
}

fn check_ref(pattern: &Pattern, r: &Reference<'_>) -> Result<(), String> {
    let style = pattern.style();
    match r {
        Reference::Json(_) if style == Style::Json => Ok(()),
        Reference::Json(_) => Err("a `$.selector` reference needs a JSON pattern `{ ... }`".into()),
        Reference::Field(name) => {
            if style != Style::SpaceDelimited {
                Err(format!(
                    "`${name}` needs a space-delimited pattern `[...]` naming it"
                ))
            } else if pattern.field_names().any(|n| n == *name) {
                Ok(())
            } else {
                Err(format!("the pattern names no field `{name}`"))
            }
        }
        Reference::Position(n) => {
            if pattern.has_fixed_position(*n) {
                Ok(())
            } else {
                Err(format!(
                    "`${n}` is not a position the space-delimited pattern always binds"
                ))
            }
        }
    }
}

/// A metric filter as `aws logs describe-metric-filters` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilter {
    pub filter_name: String,
    #[serde(default)]
    pub filter_pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub log_group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_on_transformed_logs: Option<bool>,
}

/// The output of `aws logs describe-metric-filters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilters {
    pub metric_filters: Vec<MetricFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl MetricFilter {
    /// Checks the filter as PutMetricFilter would (name 1–512 characters without `:` or `*`,
    /// pattern at most 1024 characters and valid, exactly one transformation that fits the
    /// pattern) and compiles it.
    pub fn compile(&self) -> Result<CompiledMetricFilter> {
        let name = &self.filter_name;
        if name.is_empty() || name.chars().count() > MAX_FILTER_NAME_LEN {
            return Err(Error::invalid(
                "filterName",
                format!("must be 1 to {MAX_FILTER_NAME_LEN} characters"),
            ));
        }
        if let Some(c) = name.chars().find(|c| matches!(c, ':' | '*')) {
            return Err(Error::invalid(
                "filterName",
                format!("`{name}` contains `{c}`, which CloudWatch does not allow"),
            ));
        }
        if self.filter_pattern.chars().count() > MAX_PATTERN_LEN {
            return Err(Error::invalid(
                "filterPattern",
                format!("longer than {MAX_PATTERN_LEN} characters"),
            ));
        }
        let pattern = Pattern::parse(&self.filter_pattern)?;
        let [transformation] = self.metric_transformations.as_slice() else {
            return Err(Error::invalid(
                "metricTransformations",
                format!(
                    "a metric filter has exactly one transformation, found {}",
                    self.metric_transformations.len()
                ),
            ));
        };
        transformation.validate_for(&pattern)?;
        let plan = Plan::new(transformation, &pattern)?;
        Ok(CompiledMetricFilter {
            name: name.clone(),
            pattern,
            transformation: transformation.clone(),
            plan,
        })
    }
}

/// A checked metric filter, ready to run on events.
///
/// The transformation's references are resolved against the pattern when the filter is
/// compiled, so [`CompiledMetricFilter::evaluate`] parses nothing per event: `transformation`
/// is what was compiled, to read, not to change.
#[derive(Clone, Debug)]
pub struct CompiledMetricFilter {
    pub name: String,
    pub pattern: Pattern,
    pub transformation: MetricTransformation,
    plan: Plan,
}

/// A transformation's value and dimensions, resolved against the pattern.
#[derive(Clone, Debug)]
struct Plan {
    value: Option<Planned>,
    literal: f64,
    /// Sorted by name, as [`MetricTransformation::apply`] returns them.
    dimensions: Vec<(String, Planned)>,
}

impl Plan {
    fn new(t: &MetricTransformation, pattern: &Pattern) -> Result<Plan> {
        let (value, literal) = match metric_value(&t.metric_value)? {
            MetricValue::Literal(v) => (None, v),
            MetricValue::Ref(r) => (Some(Planned::new(r, pattern)), 0.0),
        };
        let mut dimensions = Vec::with_capacity(t.dimensions.len());
        for (name, value) in &t.dimensions {
            let r = Reference::parse(value).map_err(|e| Error::invalid("dimensions", e.message))?;
            dimensions.push((name.clone(), Planned::new(r, pattern)));
        }
        Ok(Plan {
            value,
            literal,
            dimensions,
        })
    }

    #[inline]
    fn value(&self, c: &Captures<'_>) -> Option<f64> {
        match &self.value {
            None => Some(self.literal),
            Some(r) => Some(parse_num(c.resolve_planned(r)?.as_bytes())?.as_f64()),
        }
    }
}

impl CompiledMetricFilter {
    /// The data point `event` produces, if it matches: what
    /// [`MetricTransformation::apply`] gives for the match, without parsing the references.
    pub fn evaluate(&self, event: Event<'_>) -> Option<(f64, Vec<(String, String)>)> {
        self.evaluate_with(event, |value, dims| {
            let dims = dims
                .iter()
                .map(|(name, v)| ((*name).to_owned(), v.clone().into_owned()))
                .collect();
            (value, dims)
        })
    }

    /// [`CompiledMetricFilter::evaluate`] without allocating: `f` gets the value and the
    /// dimensions (name, value), borrowed from the filter and the event, and its result is
    /// returned. `None` (and `f` is not called) when the event produces no data point.
    #[inline]
    pub fn evaluate_with<R>(
        &self,
        event: Event<'_>,
        f: impl FnOnce(f64, &[(&str, Cow<'_, str>)]) -> R,
    ) -> Option<R> {
        let captures = self.pattern.matches_event(event)?;
        let value = self.plan.value(&captures)?;
        let mut dims: [(&str, Cow<'_, str>); MAX_DIMENSIONS] = Default::default();
        for (slot, (name, r)) in dims.iter_mut().zip(&self.plan.dimensions) {
            *slot = (name, captures.resolve_planned(r)?);
        }
        Some(f(
            value,
            &dims[..self.plan.dimensions.len().min(MAX_DIMENSIONS)],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> MetricTransformation {
        MetricTransformation::count("VPC", "RejectedSSH")
    }

    fn invalid_field(r: Result<()>) -> &'static str {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn names() {
        assert!(t().validate().is_ok());
        for bad in ["", "a:b", "a*", "$x"] {
            let mut m = t();
            m.metric_name = bad.to_owned();
            assert_eq!(invalid_field(m.validate()), "metricName", "{bad}");
        }
        let mut m = t();
        m.metric_namespace = "x".repeat(256);
        assert_eq!(invalid_field(m.validate()), "metricNamespace");
        m.metric_namespace = "é".repeat(255);
        assert!(m.validate().is_ok());
    }

    #[test]
    fn values_and_dimensions() {
        for ok in ["1", "2.5", "$bytes", "$7", "$.latency", "$.a[0].b"] {
            let mut m = t();
            m.metric_value = ok.to_owned();
            assert!(m.validate().is_ok(), "{ok}");
        }
        for bad in ["bytes", "$", "$0", "x".repeat(101).as_str()] {
            let mut m = t();
            m.metric_value = bad.to_owned();
            assert_eq!(invalid_field(m.validate()), "metricValue", "{bad}");
        }
        let mut m = t();
        for (i, k) in ["a", "b", "c", "d"].iter().enumerate() {
            m.dimensions.insert((*k).to_owned(), format!("$f{i}"));
        }
        assert_eq!(invalid_field(m.validate()), "dimensions");
        m.dimensions.remove("d");
        assert!(m.validate().is_ok());
        m.default_value = Some(0.0);
        assert_eq!(invalid_field(m.validate()), "defaultValue");
        let mut m = t();
        m.dimensions.insert("ENI".into(), "eni".into());
        assert_eq!(invalid_field(m.validate()), "dimensions");
    }

    #[test]
    fn evaluate_agrees_with_apply() {
        let filter = |pattern: &str, value: &str, dims: &[(&str, &str)]| {
            let mut t = MetricTransformation::count("VPC", "m");
            t.metric_value = value.to_owned();
            for (k, v) in dims {
                t.dimensions.insert((*k).to_owned(), (*v).to_owned());
            }
            MetricFilter {
                filter_name: "f".into(),
                filter_pattern: pattern.into(),
                metric_transformations: vec![t],
                creation_time: None,
                log_group_name: String::new(),
                apply_on_transformed_logs: None,
            }
            .compile()
            .unwrap()
        };
        let filters = [
            filter(
                "[v, a, eni, ..., action = REJECT, s]",
                "$2",
                &[("ENI", "$eni"), ("S", "$s")],
            ),
            filter(
                "[v, a, eni, ..., bytes, action, s]",
                "$bytes",
                &[("A", "$action"), ("E", "$3")],
            ),
            filter("[v, a, eni, ..., action, s]", "2.5", &[]),
            filter("[..., x, y]", "$y", &[("X", "$x")]),
            filter("{ $.a = * }", "$.n", &[("A", "$.a"), ("Q", "$.q.r")]),
            filter("{ $.a = * }", "1", &[]),
            filter("REJECT", "3", &[]),
        ];
        let events = [
            "2 123 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 40 1 2 REJECT OK",
            "2 123 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 - 1 2 ACCEPT OK",
            "2 123 eni-1 a b REJECT -",
            "x y",
            r#"{"a": "x\"y", "n": 4, "q": {"r": "é"}}"#,
            r#"{"a": 1, "n": "x"}"#,
            r#"{"a": 1}"#,
        ];
        let mut buf = crate::FieldBuf::new();
        let mut produced = 0;
        for f in &filters {
            for e in events {
                let event = buf.split(e);
                let want = f
                    .pattern
                    .matches_event(event)
                    .and_then(|c| f.transformation.apply(&c));
                assert_eq!(f.evaluate(event), want, "{} on {e}", f.pattern);
                let borrowed = f.evaluate_with(event, |v, d| {
                    (
                        v,
                        d.iter()
                            .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                            .collect::<Vec<_>>(),
                    )
                });
                assert_eq!(borrowed, want, "{} on {e}", f.pattern);
                produced += usize::from(want.is_some());
            }
        }
        assert!(produced >= 8, "{produced}");
    }

    #[test]
    fn references_must_fit_the_pattern() {
        let space = Pattern::parse("[a, b, ..., c]").unwrap();
        let json = Pattern::parse("{ $.x = 1 }").unwrap();
        let mut m = t();
        m.metric_value = "$b".into();
        assert!(m.validate_for(&space).is_ok());
        assert_eq!(invalid_field(m.validate_for(&json)), "metricValue");
        m.metric_value = "$zz".into();
        assert_eq!(invalid_field(m.validate_for(&space)), "metricValue");
        m.metric_value = "$2".into();
        assert!(m.validate_for(&space).is_ok());
        m.metric_value = "$3".into();
        assert_eq!(invalid_field(m.validate_for(&space)), "metricValue");
        m.metric_value = "$.x".into();
        assert!(m.validate_for(&json).is_ok());
        assert_eq!(invalid_field(m.validate_for(&space)), "metricValue");
        m.metric_value = "1".into();
        m.dimensions.insert("D".into(), "$q".into());
        assert_eq!(invalid_field(m.validate_for(&space)), "dimensions");
    }
}
