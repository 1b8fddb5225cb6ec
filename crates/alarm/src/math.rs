//! Metric math in alarms: the `Expression` of the `Metrics[]` entry an alarm returns.
//!
//! What is evaluated (the part of CloudWatch's metric math that alarms on flow logs use):
//! numbers, the ids of other `Metrics[]` entries (a `MetricStat`, or another expression),
//! `+ - * /` and `^` with the usual precedence and parentheses, unary minus,
//! `INSIGHT_RULE_METRIC(rule, metric)` (a Contributor Insights rule's `UniqueContributors`,
//! `MaxContributorValue`, `SampleCount`, `Sum`, `Minimum`, `Maximum` or `Average`),
//! `FILL(x, value)` and `ABS(x)`. Any other function is refused as unsupported, naming it.
//!
//! Semantics (CloudWatch's where it documents them, ours where it does not — pinned by
//! tests):
//! * Series are aligned on period start times. A binary operation between two series keeps
//!   the timestamps present in both; between a series and a number it applies to every
//!   datapoint; an expression without any series is a constant at every period.
//! * A result that is not finite (division by zero, overflow) is no datapoint, so the alarm
//!   sees that period as missing and `TreatMissingData` decides.
//! * `FILL(x, v)` gives every period of the range a value: `x`'s where it has one, else `v`.
//! * `INSIGHT_RULE_METRIC` reads a metric with namespace [`INSIGHT_RULE_NAMESPACE`], the
//!   metric's name and one dimension `RuleName`; the [`MetricSource`] decides how to answer
//!   (flowwatch's monitor computes it from the rule's contributors in that period).
//! * Rule and metric names may be written bare or in single or double quotes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::{Dimension, Statistic};
use crate::source::{Datapoint, MetricQuery, MetricRef, MetricSource};
use crate::stat::Stat;

/// The namespace under which `INSIGHT_RULE_METRIC(rule, metric)` is asked for (parentheses
/// are not allowed in CloudWatch namespaces, so no published metric can collide).
pub const INSIGHT_RULE_NAMESPACE: &str = "INSIGHT_RULE_METRIC()";
/// The dimension naming the rule of an `INSIGHT_RULE_METRIC` series.
pub const RULE_NAME_DIMENSION: &str = "RuleName";
/// The metrics a Contributor Insights rule has.
pub const INSIGHT_RULE_METRICS: [&str; 7] = [
    "UniqueContributors",
    "MaxContributorValue",
    "SampleCount",
    "Sum",
    "Minimum",
    "Maximum",
    "Average",
];

/// The metric `INSIGHT_RULE_METRIC(rule, metric)` reads.
pub fn insight_rule_metric(rule: &str, metric: &str) -> MetricRef {
    MetricRef::new(
        INSIGHT_RULE_NAMESPACE,
        metric,
        [Dimension::new(RULE_NAME_DIMENSION, rule)],
    )
}

/// `(rule, metric)` when `metric` is an `INSIGHT_RULE_METRIC` series.
pub fn as_insight_rule_metric(metric: &MetricRef) -> Option<(&str, &str)> {
    if metric.namespace != INSIGHT_RULE_NAMESPACE {
        return None;
    }
    let rule = metric
        .dimensions
        .iter()
        .find(|d| d.name == RULE_NAME_DIMENSION)?;
    Some((rule.value.as_str(), metric.name.as_str()))
}

/// One series an expression reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub metric: MetricRef,
    pub stat: Stat,
    pub unit: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// A parsed expression; series are indices into [`MetricMath::leaves`].
#[derive(Clone, Debug, PartialEq)]
pub enum MathExpr {
    Number(f64),
    Series(usize),
    Neg(Box<MathExpr>),
    Abs(Box<MathExpr>),
    Fill(Box<MathExpr>, f64),
    Binary(BinOp, Box<MathExpr>, Box<MathExpr>),
}

/// An alarm's expression with the series it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricMath {
    pub expr: MathExpr,
    pub leaves: Vec<Leaf>,
}

/// A syntax or reference problem, with the byte offset in the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MathError {
    pub offset: usize,
    pub message: String,
    /// Valid metric math that this crate does not evaluate.
    pub unsupported: bool,
}

/// What an id in an expression stands for, as the caller (alarm validation) resolves it.
pub enum Resolved {
    Leaf(Leaf),
    /// Another expression entry, parsed in turn (the caller guards against cycles).
    Expression(MetricMath),
}

impl MetricMath {
    /// Parses `text`; `resolve(id)` gives what another `Metrics[]` entry stands for (an
    /// error message when the id is unknown).
    pub fn parse(
        text: &str,
        resolve: &mut dyn FnMut(&str) -> std::result::Result<Resolved, String>,
    ) -> std::result::Result<MetricMath, MathError> {
        let mut p = Parser {
            text,
            pos: 0,
            leaves: Vec::new(),
            resolve,
            depth: 0,
        };
        let expr = p.expr()?;
        p.skip_ws();
        if p.pos < text.len() {
            return Err(p.error(format!("unexpected `{}`", p.rest_token())));
        }
        Ok(MetricMath {
            expr,
            leaves: p.leaves,
        })
    }

    /// The expression's datapoints for periods `[start + i·period, …)` up to `end`.
    pub fn datapoints(
        &self,
        source: &dyn MetricSource,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        period: u32,
    ) -> Vec<Datapoint> {
        let series: Vec<BTreeMap<i64, f64>> = self
            .leaves
            .iter()
            .map(|leaf| {
                source
                    .datapoints(&MetricQuery {
                        metric: &leaf.metric,
                        stat: &leaf.stat,
                        period,
                        unit: leaf.unit.as_deref(),
                        start,
                        end,
                    })
                    .into_iter()
                    .map(|d| (d.timestamp.timestamp_millis(), d.value))
                    .collect()
            })
            .collect();
        let grid = Grid {
            start: start.timestamp_millis(),
            end: end.timestamp_millis(),
            period: i64::from(period.max(1)) * 1000,
        };
        let values = match eval(&self.expr, &series, &grid) {
            Value::Scalar(v) => grid.points().map(|t| (t, v)).collect(),
            Value::Series(s) => s,
        };
        values
            .into_iter()
            .filter(|(_, v)| v.is_finite())
            .filter_map(|(t, value)| {
                Some(Datapoint {
                    timestamp: DateTime::<Utc>::from_timestamp_millis(t)?,
                    value,
                    sample_count: None,
                })
            })
            .collect()
    }
}

struct Grid {
    start: i64,
    end: i64,
    period: i64,
}

impl Grid {
    fn points(&self) -> impl Iterator<Item = i64> + '_ {
        (0..)
            .map(|i| self.start + i * self.period)
            .take_while(|t| *t < self.end)
    }
}

enum Value {
    Scalar(f64),
    Series(BTreeMap<i64, f64>),
}

fn apply(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => a.powf(b),
    }
}

fn map(v: Value, f: impl Fn(f64) -> f64) -> Value {
    match v {
        Value::Scalar(x) => Value::Scalar(f(x)),
        Value::Series(s) => Value::Series(s.into_iter().map(|(t, x)| (t, f(x))).collect()),
    }
}

fn eval(e: &MathExpr, series: &[BTreeMap<i64, f64>], grid: &Grid) -> Value {
    match e {
        MathExpr::Number(n) => Value::Scalar(*n),
        MathExpr::Series(i) => Value::Series(series.get(*i).cloned().unwrap_or_default()),
        MathExpr::Neg(x) => map(eval(x, series, grid), |v| -v),
        MathExpr::Abs(x) => map(eval(x, series, grid), f64::abs),
        MathExpr::Fill(x, fill) => match eval(x, series, grid) {
            Value::Scalar(v) => Value::Scalar(v),
            Value::Series(s) => Value::Series(
                grid.points()
                    .map(|t| (t, s.get(&t).copied().unwrap_or(*fill)))
                    .collect(),
            ),
        },
        MathExpr::Binary(op, a, b) => match (eval(a, series, grid), eval(b, series, grid)) {
            (Value::Scalar(x), Value::Scalar(y)) => Value::Scalar(apply(*op, x, y)),
            (Value::Series(s), Value::Scalar(y)) => {
                Value::Series(s.into_iter().map(|(t, x)| (t, apply(*op, x, y))).collect())
            }
            (Value::Scalar(x), Value::Series(s)) => {
                Value::Series(s.into_iter().map(|(t, y)| (t, apply(*op, x, y))).collect())
            }
            (Value::Series(s), Value::Series(r)) => Value::Series(
                s.into_iter()
                    .filter_map(|(t, x)| r.get(&t).map(|y| (t, apply(*op, x, *y))))
                    .collect(),
            ),
        },
    }
}

const MAX_DEPTH: usize = 64;

struct Parser<'a, 'r> {
    text: &'a str,
    pos: usize,
    leaves: Vec<Leaf>,
    resolve: &'r mut dyn FnMut(&str) -> std::result::Result<Resolved, String>,
    depth: usize,
}

impl Parser<'_, '_> {
    fn error(&self, message: impl Into<String>) -> MathError {
        MathError {
            offset: self.pos,
            message: message.into(),
            unsupported: false,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek()
            && c.is_whitespace()
        {
            self.pos += c.len_utf8();
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn rest_token(&self) -> String {
        self.text[self.pos..].chars().take(12).collect()
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> std::result::Result<(), MathError> {
        if self.eat(c) {
            Ok(())
        } else if self.pos >= self.text.len() {
            Err(self.error(format!("expected `{c}` before the end")))
        } else {
            Err(self.error(format!("expected `{c}`, found `{}`", self.rest_token())))
        }
    }

    fn nest(&mut self) -> std::result::Result<(), MathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("expression nested too deeply"));
        }
        Ok(())
    }

    fn expr(&mut self) -> std::result::Result<MathExpr, MathError> {
        self.nest()?;
        let mut left = self.term()?;
        loop {
            let op = if self.eat('+') {
                BinOp::Add
            } else if self.eat('-') {
                BinOp::Sub
            } else {
                break;
            };
            let right = self.term()?;
            left = MathExpr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> std::result::Result<MathExpr, MathError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat('*') {
                BinOp::Mul
            } else if self.eat('/') {
                BinOp::Div
            } else {
                break;
            };
            let right = self.unary()?;
            left = MathExpr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> std::result::Result<MathExpr, MathError> {
        if self.eat('-') {
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(MathExpr::Neg(Box::new(inner)));
        }
        let base = self.atom()?;
        if self.eat('^') {
            self.nest()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(MathExpr::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn number(&mut self) -> std::result::Result<f64, MathError> {
        self.skip_ws();
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_digit()
                || bytes[end] == b'.'
                || ((bytes[end] == b'e' || bytes[end] == b'E') && end > start)
                || ((bytes[end] == b'-' || bytes[end] == b'+')
                    && end > start
                    && matches!(bytes[end - 1], b'e' | b'E')))
        {
            end += 1;
        }
        let text = &self.text[start..end];
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                self.pos = end;
                Ok(v)
            }
            _ => Err(self.error(format!("`{text}` is not a number"))),
        }
    }

    fn word(&mut self) -> &str {
        self.skip_ws();
        let start = self.pos;
        while let Some(c) = self.peek()
            && (c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// A function argument that names something: quoted, or bare up to `,` or `)`.
    fn name_arg(&mut self) -> std::result::Result<String, MathError> {
        self.skip_ws();
        if let Some(q @ ('"' | '\'')) = self.peek() {
            let start = self.pos + 1;
            let Some(len) = self.text[start..].find(q) else {
                return Err(self.error(format!("unclosed {q}")));
            };
            self.pos = start + len + 1;
            return Ok(self.text[start..start + len].to_string());
        }
        let start = self.pos;
        let len = self.text[start..]
            .find([',', ')'])
            .unwrap_or(self.text.len() - start);
        let name = self.text[start..start + len].trim();
        if name.is_empty() {
            return Err(self.error("expected a name"));
        }
        self.pos = start + len;
        Ok(name.to_string())
    }

    fn atom(&mut self) -> std::result::Result<MathExpr, MathError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("expected a number, an id or a function before the end")),
            Some('(') => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => Ok(MathExpr::Number(self.number()?)),
            Some(c) if c.is_ascii_alphabetic() => {
                let at = self.pos;
                let word = self.word().to_string();
                if self.eat('(') {
                    return self.call(&word, at);
                }
                match (self.resolve)(&word) {
                    Ok(Resolved::Leaf(leaf)) => Ok(MathExpr::Series(self.push(leaf))),
                    Ok(Resolved::Expression(math)) => Ok(self.splice(math)),
                    Err(message) => Err(MathError {
                        offset: at,
                        message,
                        unsupported: false,
                    }),
                }
            }
            Some(_) => Err(self.error(format!("unexpected `{}`", self.rest_token()))),
        }
    }

    fn push(&mut self, leaf: Leaf) -> usize {
        if let Some(i) = self.leaves.iter().position(|l| *l == leaf) {
            return i;
        }
        self.leaves.push(leaf);
        self.leaves.len() - 1
    }

    /// Another expression's tree, its leaves renumbered into ours.
    fn splice(&mut self, math: MetricMath) -> MathExpr {
        let map: Vec<usize> = math.leaves.into_iter().map(|l| self.push(l)).collect();
        fn renumber(e: MathExpr, map: &[usize]) -> MathExpr {
            match e {
                MathExpr::Series(i) => MathExpr::Series(map.get(i).copied().unwrap_or(i)),
                MathExpr::Neg(x) => MathExpr::Neg(Box::new(renumber(*x, map))),
                MathExpr::Abs(x) => MathExpr::Abs(Box::new(renumber(*x, map))),
                MathExpr::Fill(x, v) => MathExpr::Fill(Box::new(renumber(*x, map)), v),
                MathExpr::Binary(op, a, b) => {
                    MathExpr::Binary(op, Box::new(renumber(*a, map)), Box::new(renumber(*b, map)))
                }
                n @ MathExpr::Number(_) => n,
            }
        }
        renumber(math.expr, &map)
    }

    fn call(&mut self, name: &str, at: usize) -> std::result::Result<MathExpr, MathError> {
        match name {
            "INSIGHT_RULE_METRIC" => {
                let rule = self.name_arg()?;
                self.expect(',')?;
                self.skip_ws();
                let metric_at = self.pos;
                let metric = self.name_arg()?;
                self.expect(')')?;
                if !INSIGHT_RULE_METRICS.contains(&metric.as_str()) {
                    return Err(MathError {
                        offset: metric_at,
                        message: format!(
                            "`{metric}` is not a Contributor Insights metric (expected one of {})",
                            INSIGHT_RULE_METRICS.join(", ")
                        ),
                        unsupported: false,
                    });
                }
                let leaf = Leaf {
                    metric: insight_rule_metric(&rule, &metric),
                    // The source computes the named metric; the statistic is not used.
                    stat: Stat::Standard(Statistic::Sum),
                    unit: None,
                };
                Ok(MathExpr::Series(self.push(leaf)))
            }
            "FILL" => {
                let x = self.expr()?;
                self.expect(',')?;
                let negative = self.eat('-');
                let v = self.number()?;
                self.expect(')')?;
                Ok(MathExpr::Fill(Box::new(x), if negative { -v } else { v }))
            }
            "ABS" => {
                let x = self.expr()?;
                self.expect(')')?;
                Ok(MathExpr::Abs(Box::new(x)))
            }
            other => Err(MathError {
                offset: at,
                message: format!(
                    "function {other}() is not evaluated (supported: INSIGHT_RULE_METRIC, FILL, ABS and + - * / ^)"
                ),
                unsupported: true,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::InMemorySource;

    fn leaf(name: &str) -> Leaf {
        Leaf {
            metric: MetricRef::new("NS", name, []),
            stat: Stat::Standard(Statistic::Sum),
            unit: None,
        }
    }

    fn parse(text: &str) -> std::result::Result<MetricMath, MathError> {
        MetricMath::parse(text, &mut |id| match id {
            "m1" => Ok(Resolved::Leaf(leaf("A"))),
            "m2" => Ok(Resolved::Leaf(leaf("B"))),
            "e1" => Ok(Resolved::Expression(
                MetricMath::parse("m2 * 2", &mut |_| Ok(Resolved::Leaf(leaf("B")))).unwrap(),
            )),
            other => Err(format!("no Metrics[] entry has Id `{other}`")),
        })
    }

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_040 + min * 60, 0).unwrap()
    }

    fn source() -> InMemorySource {
        let mut s = InMemorySource::new();
        for (m, a, b) in [(0, 10.0, 2.0), (1, 20.0, 0.0), (3, 5.0, 5.0)] {
            s.put(&MetricRef::new("NS", "A", []), t(m), a);
            s.put(&MetricRef::new("NS", "B", []), t(m), b);
        }
        s.put(&MetricRef::new("NS", "A", []), t(2), 7.0);
        s
    }

    fn values(text: &str) -> Vec<(i64, f64)> {
        let math = parse(text).expect("parses");
        math.datapoints(&source(), t(0), t(5), 60)
            .into_iter()
            .map(|d| ((d.timestamp - t(0)).num_minutes(), d.value))
            .collect()
    }

    #[test]
    fn precedence_alignment_and_division_by_zero() {
        // 1 + 2 * 3 ^ 2 = 19 at every period: a constant series.
        assert_eq!(values("1 + 2 * 3 ^ 2").len(), 5);
        assert!(values("1 + 2 * 3 ^ 2").iter().all(|(_, v)| *v == 19.0));
        // Minute 2 has A only (dropped), minute 1 divides by zero (dropped).
        assert_eq!(values("m1 / m2 * 100"), [(0, 500.0), (3, 100.0)]);
        assert_eq!(
            values("-(m1 - 30)"),
            [(0, 20.0), (1, 10.0), (2, 23.0), (3, 25.0)]
        );
        assert_eq!(values("m1 + e1"), [(0, 14.0), (1, 20.0), (3, 15.0)]);
        assert_eq!(
            values("FILL(m2, -1)"),
            [(0, 2.0), (1, 0.0), (2, -1.0), (3, 5.0), (4, -1.0)]
        );
        assert_eq!(values("ABS(m2 - m1)")[0], (0, 8.0));
        // The same series used twice is one leaf.
        assert_eq!(parse("m1 + m1 * m1").unwrap().leaves.len(), 1);
    }

    #[test]
    fn insight_rule_metric_names_a_reserved_series() {
        for text in [
            "INSIGHT_RULE_METRIC(my-rule, UniqueContributors)",
            "INSIGHT_RULE_METRIC(\"my-rule\", 'UniqueContributors')",
            "INSIGHT_RULE_METRIC( 'my-rule' ,UniqueContributors )",
        ] {
            let math = parse(text).expect(text);
            let leaf = &math.leaves[0];
            assert_eq!(
                as_insight_rule_metric(&leaf.metric),
                Some(("my-rule", "UniqueContributors")),
                "{text}"
            );
        }
        let ratio = parse(
            r#"INSIGHT_RULE_METRIC("Rejected", "Sum") / INSIGHT_RULE_METRIC("Total", "Sum") * 100"#,
        )
        .expect("the spec's ratio alarm");
        assert_eq!(ratio.leaves.len(), 2);
        let e = parse("INSIGHT_RULE_METRIC(r, Count)").unwrap_err();
        assert_eq!(e.offset, 23);
        assert!(
            e.message.contains("not a Contributor Insights metric"),
            "{e:?}"
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("m1 + m9").unwrap_err();
        assert_eq!((e.offset, e.unsupported), (5, false));
        assert!(e.message.contains("m9"));
        let e = parse("SUM(METRICS())").unwrap_err();
        assert!(e.unsupported && e.offset == 0, "{e:?}");
        let e = parse("(m1 + 2").unwrap_err();
        assert!(e.message.contains("expected `)`"), "{e:?}");
        let e = parse("m1 2").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(parse("").is_err());
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).unwrap_err().message.contains("deeply"));
        let minus = "-".repeat(500) + "1";
        assert!(parse(&minus).is_err());
    }
}
