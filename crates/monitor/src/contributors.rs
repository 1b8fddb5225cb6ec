//! Contributor Insights over stored history: the Parquet files of every stored log group that
//! a rule reads (`LogGroupNames`, prefixes included), each record's text rebuilt as for metric
//! backfill (`records.rs`), every rule run on it by a [`RuleEngine`], and one
//! GetInsightRuleReport per rule for the requested range.
//!
//! Only records whose timestamp lies in [start, end) are read, so a report period that
//! straddles `StartTime` holds only the part inside the range. The engine counts in the
//! request's own period (the coarsest the report needs), which bounds memory by the number of
//! report periods times the contributors active in each. Nothing is written: reports are
//! computed on demand.

use std::path::Path;

use flowwatch_contrib::{CompiledRule, InsightRuleReport, ReportRequest, RuleEngine};
use flowwatch_store::StoreReader;

use crate::error::Result;
use crate::records::{for_each_record, group_files};

/// What a run read and what each rule reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ContributorRun {
    pub files: usize,
    /// Records in the range, over every log group read.
    pub records: u64,
    /// One per rule, in the order given.
    pub rules: Vec<RuleReport>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleReport {
    pub rule_name: String,
    /// The stored log groups the rule read (sorted).
    pub log_groups: Vec<String>,
    /// Records that contributed.
    pub matched: u64,
    pub report: InsightRuleReport,
}

/// Runs `rules` over the history in `data_dir` for `request`'s range and reports each. A
/// `DISABLED` rule reads nothing and reports nothing, as in CloudWatch.
pub fn contributor_reports(
    data_dir: &Path,
    rules: &[CompiledRule],
    request: &ReportRequest,
) -> Result<ContributorRun> {
    let mut engine = RuleEngine::with_period(rules.iter().cloned(), request.period_secs)?;
    let mut run = ContributorRun {
        files: 0,
        records: 0,
        rules: Vec::new(),
    };
    let Some(first) = rules.first() else {
        return Ok(run);
    };
    // Refuse a bad request (range, contributor count) before reading anything.
    engine.report(first.name(), request)?;

    let (start, end) = (request.start_ms, request.end_ms);
    let reader = StoreReader::open(data_dir)?;
    let mut groups: Vec<String> = reader.groups()?.into_iter().map(|g| g.name).collect();
    groups.sort();
    groups.retain(|g| engine.reads_group(g));
    for group in &groups {
        for path in group_files(&reader, group, start, end)? {
            run.files += 1;
            for_each_record(&path, start, end, &mut |t, text| {
                run.records += 1;
                engine.observe(group, t, text);
            })?;
        }
    }
    for rule in rules {
        run.rules.push(RuleReport {
            rule_name: rule.name().to_string(),
            log_groups: groups.iter().filter(|g| rule.reads(g)).cloned().collect(),
            matched: engine.matched(rule.name()).unwrap_or_default(),
            report: engine.report(rule.name(), request)?,
        });
    }
    Ok(run)
}
