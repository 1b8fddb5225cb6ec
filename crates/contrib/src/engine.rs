//! The incremental accumulator: events go in one at a time (from stored history or live
//! ingestion, in any time order), each enabled rule that reads the event's log group counts
//! it in the period its timestamp falls in, and reports and metrics are computed on demand
//! for any range and any multiple of the engine's period.
//!
//! # Memory
//!
//! Exact answers need, per rule, every contributor's value in every period: a report's top
//! contributors are only known once the whole range is summed, and then each needs its
//! per-period datapoints. So the engine keeps, per rule:
//!
//! * each distinct key tuple once, encoded in one byte string, mapped to a `u32` id;
//! * per period (aligned to the epoch), the period's statistics and a map id → value of the
//!   contributors seen in it — about 20–30 bytes per (period, contributor) pair.
//!
//! Nothing is kept per event. Memory therefore grows with the number of periods times the
//! contributors active in each, so the engine's period should be the coarsest one the
//! reports need: a history run for a 1-hour report keeps 24 maps for a day, not 1,440
//! per-minute ones (a million contributors an hour is then ~0.6 GB; per minute it would be
//! whatever the per-minute cardinality adds up to). Live use drops old periods with
//! [`RuleEngine::retain_from`], which also forgets contributors no longer referenced. A
//! report merges one report period at a time, so it needs at most one extra map.

use std::collections::{BTreeMap, HashMap};

use flowwatch_pattern::FieldBuf;
use serde_json::Value;

use crate::compile::CompiledRule;
use crate::error::{ContribError, Result};
use crate::matcher::{Fields, contribution};
use crate::report::{InsightRuleMetric, InsightRuleReport, MetricPoint, ReportRequest};
use crate::rule::{InsightRule, LogFormat, RuleState};

/// The engine's period when none is given: one minute, the finest report period in common
/// use (the console's smallest).
pub const DEFAULT_PERIOD_SECS: u32 = 60;

/// Summary statistics of the matched events of one period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stats {
    pub(crate) samples: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            samples: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Stats {
    fn add(&mut self, v: f64) {
        self.samples += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub(crate) fn merge(&mut self, o: &Stats) {
        self.samples += o.samples;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// One period of one rule: its statistics and each contributor's value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Period {
    pub(crate) stats: Stats,
    pub(crate) values: HashMap<u32, f64>,
}

/// Everything one rule has accumulated.
#[derive(Clone, Debug)]
pub(crate) struct RuleAccumulator {
    pub(crate) rule: CompiledRule,
    /// Encoded key tuple → id.
    pub(crate) ids: HashMap<Box<[u8]>, u32>,
    /// Period start (epoch ms) → period.
    pub(crate) periods: BTreeMap<i64, Period>,
    matched: u64,
}

impl RuleAccumulator {
    fn add(&mut self, period: i64, key: &[u8], value: f64) {
        let id = match self.ids.get(key) {
            Some(&id) => id,
            None => {
                // Past 4 billion contributors the rest are dropped rather than wrapped.
                let Ok(id) = u32::try_from(self.ids.len()) else {
                    return;
                };
                self.ids.insert(key.into(), id);
                id
            }
        };
        let p = self.periods.entry(period).or_default();
        p.stats.add(value);
        *p.values.entry(id).or_insert(0.0) += value;
        self.matched += 1;
    }

    /// Drops periods wholly before `start_ms` and the contributors only they referenced.
    fn retain_from(&mut self, start_ms: i64, period_ms: i64) {
        // A period starting at p covers [p, p + period): it ends at or before start_ms
        // when p <= start_ms - period.
        let keep = self
            .periods
            .split_off(&start_ms.saturating_sub(period_ms - 1));
        let dropped = std::mem::replace(&mut self.periods, keep);
        if dropped.is_empty() {
            return;
        }
        self.compact_ids();
    }

    /// Drops the periods starting in [start_ms, end_ms) (to count them again from their
    /// records) and the contributors only they referenced.
    fn forget_range(&mut self, start_ms: i64, end_ms: i64) {
        if end_ms <= start_ms {
            return;
        }
        let mut tail = self.periods.split_off(&start_ms);
        let mut rest = tail.split_off(&end_ms);
        if tail.is_empty() {
            self.periods.append(&mut rest);
            return;
        }
        let forgotten: u64 = tail.values().map(|p| p.stats.samples).sum();
        self.matched = self.matched.saturating_sub(forgotten);
        self.periods.append(&mut rest);
        self.compact_ids();
    }

    /// Renumbers the contributors still referenced by a period, forgetting the others.
    fn compact_ids(&mut self) {
        const GONE: u32 = u32::MAX;
        let mut remap = vec![GONE; self.ids.len()];
        let mut next = 0;
        for p in self.periods.values() {
            for &id in p.values.keys() {
                if let Some(slot) = remap.get_mut(id as usize)
                    && *slot == GONE
                {
                    *slot = next;
                    next += 1;
                }
            }
        }
        self.ids.retain(|_, id| match remap.get(*id as usize) {
            Some(&n) if n != GONE => {
                *id = n;
                true
            }
            _ => false,
        });
        for p in self.periods.values_mut() {
            p.values = p
                .values
                .drain()
                .filter_map(|(id, v)| remap.get(id as usize).map(|&n| (n, v)))
                .collect();
        }
    }
}

/// Which rules read the last log group seen, so a run of events from one group matches
/// group patterns once.
#[derive(Clone, Debug, Default)]
struct GroupCache {
    group: Option<String>,
    rules: Vec<usize>,
    clf: bool,
    json: bool,
}

/// The Contributor Insights engine: rules, and what they have counted.
#[derive(Clone, Debug)]
pub struct RuleEngine {
    rules: Vec<RuleAccumulator>,
    period_ms: i64,
    buf: FieldBuf,
    key: Vec<u8>,
    cache: GroupCache,
}

impl RuleEngine {
    /// An engine with one-minute periods.
    pub fn new(rules: impl IntoIterator<Item = CompiledRule>) -> Result<RuleEngine> {
        RuleEngine::with_period(rules, DEFAULT_PERIOD_SECS)
    }

    /// An engine counting in periods of `period_secs` (aligned to the epoch). Reports and
    /// metrics can use any multiple of it.
    pub fn with_period(
        rules: impl IntoIterator<Item = CompiledRule>,
        period_secs: u32,
    ) -> Result<RuleEngine> {
        if period_secs == 0 {
            return Err(ContribError::InvalidRequest {
                field: "Period",
                message: "must be at least 1 second".into(),
            });
        }
        let mut accs: Vec<RuleAccumulator> = Vec::new();
        for rule in rules {
            if accs.iter().any(|a| a.rule.name == rule.name) {
                return Err(ContribError::DuplicateRule(rule.name));
            }
            accs.push(RuleAccumulator {
                rule,
                ids: HashMap::new(),
                periods: BTreeMap::new(),
                matched: 0,
            });
        }
        Ok(RuleEngine {
            rules: accs,
            period_ms: i64::from(period_secs) * 1000,
            buf: FieldBuf::new(),
            key: Vec::new(),
            cache: GroupCache::default(),
        })
    }

    /// Compiles `rules` (as `describe-insight-rules` lists them) into an engine with
    /// one-minute periods; every problem of every rule is reported.
    pub fn from_insight_rules(rules: &[InsightRule]) -> Result<RuleEngine> {
        let mut compiled = Vec::new();
        let mut errors = Vec::new();
        for r in rules {
            match r.compile() {
                Ok(c) => compiled.push(c),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(ContribError::InvalidRules(errors));
        }
        RuleEngine::new(compiled)
    }

    pub fn period_secs(&self) -> u32 {
        u32::try_from(self.period_ms / 1000).unwrap_or(u32::MAX)
    }

    pub fn rules(&self) -> impl Iterator<Item = &CompiledRule> {
        self.rules.iter().map(|a| &a.rule)
    }

    /// Whether any enabled rule reads `log_group` (a history run can skip the others).
    pub fn reads_group(&self, log_group: &str) -> bool {
        self.rules
            .iter()
            .any(|a| a.rule.state == RuleState::Enabled && a.rule.reads(log_group))
    }

    /// Counts one event of `log_group` at `timestamp_ms` (epoch ms) for every enabled rule
    /// that reads the group; returns how many rules it contributed to. A `DISABLED` rule
    /// counts nothing, as in CloudWatch.
    pub fn observe(&mut self, log_group: &str, timestamp_ms: i64, text: &str) -> usize {
        if self.cache.group.as_deref() != Some(log_group) {
            let rules: Vec<usize> = (0..self.rules.len())
                .filter(|&i| {
                    let r = &self.rules[i].rule;
                    r.state == RuleState::Enabled && r.reads(log_group)
                })
                .collect();
            self.cache = GroupCache {
                group: Some(log_group.to_string()),
                clf: rules
                    .iter()
                    .any(|&i| self.rules[i].rule.format == LogFormat::Clf),
                json: rules
                    .iter()
                    .any(|&i| self.rules[i].rule.format == LogFormat::Json),
                rules,
            };
        }
        let RuleEngine {
            rules,
            period_ms,
            buf,
            key,
            cache,
        } = self;
        if cache.rules.is_empty() {
            return 0;
        }
        let period = timestamp_ms.saturating_sub(timestamp_ms.rem_euclid(*period_ms));
        let event = cache.clf.then(|| buf.split(text));
        let doc: Option<Value> = if cache.json {
            serde_json::from_str(text).ok()
        } else {
            None
        };
        let mut contributed = 0;
        for &i in &cache.rules {
            let acc = &mut rules[i];
            let fields = match (acc.rule.format, event, &doc) {
                (LogFormat::Clf, Some(e), _) => Fields::Clf(e),
                (LogFormat::Json, _, Some(d)) => Fields::Json(d),
                _ => continue,
            };
            if let Some(value) = contribution(&acc.rule, fields, key) {
                acc.add(period, key, value);
                contributed += 1;
            }
        }
        contributed
    }

    /// Events that contributed to `rule` so far.
    pub fn matched(&self, rule: &str) -> Option<u64> {
        self.find(rule).ok().map(|a| a.matched)
    }

    /// Forgets every period that ends at or before `start_ms`, and the contributors seen only
    /// in them (bounded memory for live use).
    pub fn retain_from(&mut self, start_ms: i64) {
        for acc in &mut self.rules {
            acc.retain_from(start_ms, self.period_ms);
        }
    }

    /// Forgets what was counted in the periods starting in [start_ms, end_ms), so those
    /// records can be observed again without counting twice (live monitoring recounts an
    /// hour from its stored files when they change).
    pub fn forget_range(&mut self, start_ms: i64, end_ms: i64) {
        for acc in &mut self.rules {
            acc.forget_range(start_ms, end_ms);
        }
    }

    /// GetInsightRuleReport for `rule` over what the engine has counted.
    pub fn report(&self, rule: &str, request: &ReportRequest) -> Result<InsightRuleReport> {
        crate::report::report(self.find(rule)?, self.period_ms, request)
    }

    /// `INSIGHT_RULE_METRIC(rule, metric)`: one value per period of `period_secs` in
    /// [start, end) that had matched events, oldest first.
    pub fn metric(
        &self,
        rule: &str,
        metric: InsightRuleMetric,
        start_ms: i64,
        end_ms: i64,
        period_secs: u32,
    ) -> Result<Vec<MetricPoint>> {
        crate::report::metric(
            self.find(rule)?,
            self.period_ms,
            metric,
            start_ms,
            end_ms,
            period_secs,
        )
    }

    /// [`RuleEngine::metric`] with periods `[start + i·period, …)` anchored at `start_ms`
    /// rather than at the epoch: what an alarm asks for, whose windows slide by the minute
    /// (`start_ms` must lie on the engine's period grid, as alarm ranges do).
    pub fn metric_from(
        &self,
        rule: &str,
        metric: InsightRuleMetric,
        start_ms: i64,
        end_ms: i64,
        period_secs: u32,
    ) -> Result<Vec<MetricPoint>> {
        crate::report::metric_anchored(
            self.find(rule)?,
            self.period_ms,
            metric,
            start_ms,
            end_ms,
            period_secs,
        )
    }

    fn find(&self, rule: &str) -> Result<&RuleAccumulator> {
        self.rules
            .iter()
            .find(|a| a.rule.name == rule)
            .ok_or_else(|| ContribError::UnknownRule(rule.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::RuleBody;

    fn rule(name: &str, groups: &str) -> CompiledRule {
        let text = format!(
            r#"{{"Schema":{{"Name":"CloudWatchLogRule","Version":1}},"LogGroupNames":{groups},
               "LogFormat":"CLF","Contribution":{{"Keys":["1"]}},"AggregateOn":"Count"}}"#
        );
        crate::compile(name, &RuleBody::parse(name, &text).expect("parses")).expect("valid")
    }

    #[test]
    fn groups_states_and_duplicates() {
        let mut disabled = rule("off", r#"["g"]"#);
        disabled.state = RuleState::Disabled;
        let mut e = RuleEngine::new([rule("a", r#"["g"]"#), rule("b", r#"["g*"]"#), disabled])
            .expect("engine");
        assert_eq!(e.observe("g", 0, "x"), 2);
        assert_eq!(e.observe("g2", 0, "x"), 1);
        assert_eq!(e.observe("h", 0, "x"), 0);
        assert_eq!(e.observe("g", 0, "x"), 2);
        assert_eq!(e.matched("a"), Some(2));
        assert_eq!(e.matched("b"), Some(3));
        assert_eq!(e.matched("off"), Some(0));
        assert!(e.reads_group("g2") && !e.reads_group("h"));
        assert!(matches!(
            RuleEngine::new([rule("a", r#"["g"]"#), rule("a", r#"["h"]"#)]),
            Err(ContribError::DuplicateRule(n)) if n == "a"
        ));
        assert!(RuleEngine::with_period([], 0).is_err());
    }

    #[test]
    fn retain_from_drops_old_periods_and_their_contributors() {
        let mut e = RuleEngine::new([rule("a", r#"["g"]"#)]).expect("engine");
        e.observe("g", 0, "old");
        e.observe("g", 59_999, "both");
        e.observe("g", 60_000, "both");
        e.observe("g", 125_000, "new");
        e.retain_from(60_001);
        let acc = &e.rules[0];
        assert_eq!(
            acc.periods.keys().copied().collect::<Vec<_>>(),
            [60_000, 120_000]
        );
        assert_eq!(acc.ids.len(), 2);
        let mut ids: Vec<u32> = acc.ids.values().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, [0, 1]);
        let report = e
            .report("a", &ReportRequest::new(0, 180_000, 60))
            .expect("report");
        let keys: Vec<&str> = report
            .contributors
            .iter()
            .map(|c| c.keys[0].as_str())
            .collect();
        assert_eq!(keys, ["both", "new"]);
        // Nothing to drop: unchanged.
        e.retain_from(0);
        assert_eq!(e.rules[0].ids.len(), 2);
    }

    #[test]
    fn forget_range_then_recount_gives_the_same_answer() {
        let mut e = RuleEngine::new([rule("a", r#"["g"]"#)]).expect("engine");
        let events = [(0, "x"), (30_000, "y"), (60_000, "x"), (125_000, "z")];
        for (t, k) in events {
            e.observe("g", t, k);
        }
        let before = e
            .report("a", &ReportRequest::new(0, 180_000, 60))
            .expect("report");
        // Forget minute 1, recount it: nothing doubles.
        e.forget_range(60_000, 120_000);
        assert_eq!(e.matched("a"), Some(3));
        assert_eq!(e.rules[0].ids.len(), 3, "x is still referenced by minute 0");
        e.observe("g", 60_000, "x");
        let after = e
            .report("a", &ReportRequest::new(0, 180_000, 60))
            .expect("report");
        assert_eq!(before, after);
        assert_eq!(e.matched("a"), Some(4));
        // Forgetting a range without periods changes nothing.
        e.forget_range(600_000, 700_000);
        e.forget_range(10, 10);
        assert_eq!(e.matched("a"), Some(4));
        // The only contributor of a forgotten period is forgotten too.
        e.forget_range(120_000, 180_000);
        assert_eq!(e.rules[0].ids.len(), 2);
    }

    #[test]
    fn metric_from_anchors_periods_at_the_start() {
        let mut e = RuleEngine::new([rule("a", r#"["g"]"#)]).expect("engine");
        for (t, k) in [
            (60_000, "a"),
            (120_000, "b"),
            (180_000, "b"),
            (300_000, "c"),
        ] {
            e.observe("g", t, k);
        }
        // Epoch-aligned 2-minute periods: [0,2) [2,4) [4,6).
        let epoch = e
            .metric(
                "a",
                InsightRuleMetric::UniqueContributors,
                60_000,
                360_000,
                120,
            )
            .expect("metric");
        let at: Vec<(i64, f64)> = epoch.iter().map(|p| (p.timestamp_ms, p.value)).collect();
        assert_eq!(at, [(0, 1.0), (120_000, 1.0), (240_000, 1.0)]);
        // Anchored at minute 1: [1,3) [3,5) [5,7).
        let anchored = e
            .metric_from(
                "a",
                InsightRuleMetric::UniqueContributors,
                60_000,
                360_000,
                120,
            )
            .expect("metric");
        let at: Vec<(i64, f64)> = anchored.iter().map(|p| (p.timestamp_ms, p.value)).collect();
        assert_eq!(at, [(60_000, 2.0), (180_000, 1.0), (300_000, 1.0)]);
    }

    #[test]
    fn events_in_any_order_land_in_their_period() {
        let mut e = RuleEngine::new([rule("a", r#"["g"]"#)]).expect("engine");
        e.observe("g", 120_500, "x");
        e.observe("g", -1, "x");
        e.observe("g", 0, "x");
        let periods: Vec<i64> = e.rules[0].periods.keys().copied().collect();
        assert_eq!(periods, [-60_000, 0, 120_000]);
    }
}
