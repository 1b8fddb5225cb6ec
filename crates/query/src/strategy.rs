//! How a query is run beyond its plan: Parquet filter push-down only for queries that read
//! whole records, and newest-first execution over hour partitions for queries that want the
//! newest events.

use std::collections::HashSet;

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use flowwatch_store::partition_hour_ms;

use crate::engine::{Error, GroupFiles, InsightsOptions, QueryEngine, QueryStats, run_streamed};
use crate::plan;

impl QueryEngine {
    /// Run a newest-first query ([`newest_first_limit`]) over `chunks` of hour partitions,
    /// newest first, until `limit` rows are out; chunks not reached count as pruned files.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn newest_first(
        &self,
        ctx: &SessionContext,
        parsed: &flowwatch_insights::ast::Query,
        files: &[GroupFiles],
        chunks: &[Vec<i64>],
        limit: usize,
        options: &InsightsOptions,
        stats: &mut QueryStats,
        sink: &mut impl FnMut(RecordBatch) -> Result<(), Error>,
    ) -> Result<Option<Vec<String>>, Error> {
        // With a `dedup`, each chunk runs without the final `limit` and uncapped; a key already
        // output by a newer chunk is dropped here (the first row per key overall is in the
        // newest chunk that has the key).
        let dedup = dedup_fields(parsed);
        let (query, chunk_options) = match &dedup {
            None => (parsed.clone(), options.clone()),
            Some(_) => {
                let mut q = parsed.clone();
                if matches!(
                    q.commands.last().map(|c| &c.kind),
                    Some(flowwatch_insights::ast::CommandKind::Limit(_))
                ) {
                    q.commands.pop();
                }
                let o = InsightsOptions {
                    default_limit: usize::MAX,
                    ..options.clone()
                };
                (q, o)
            }
        };
        let mut seen: HashSet<Vec<Option<String>>> = HashSet::new();
        let mut key_columns: Vec<usize> = vec![];
        self.runtime().block_on(async {
            let mut schemas = vec![];
            for g in files {
                schemas.push(match g.files.is_empty() {
                    true => None,
                    false => Some(Self::infer_schema(ctx, &g.files).await?),
                });
            }
            let total_files: u64 = files.iter().map(|g| g.files.len() as u64).sum();
            let mut read_files = 0u64;
            let mut remaining = limit;
            let mut columns = None;
            for hours in chunks {
                let chunk: Vec<GroupFiles> = files
                    .iter()
                    .zip(&schemas)
                    .map(|(g, schema)| GroupFiles {
                        name: g.name.clone(),
                        files: (g.files.iter())
                            .filter(|f| partition_hour_ms(f).is_some_and(|h| hours.contains(&h)))
                            .cloned()
                            .collect(),
                        schema: schema.clone(),
                    })
                    .collect();
                read_files += chunk.iter().map(|g| g.files.len() as u64).sum::<u64>();
                let planned = plan::plan(ctx, &query, &chunk, None, &chunk_options).await?;
                if columns.is_none()
                    && let Some(fields) = &dedup
                {
                    // The keys must be output columns to be compared across chunks.
                    for f in fields {
                        match planned.columns.iter().position(|c| c == f) {
                            Some(i) => key_columns.push(i),
                            None => return Ok(None),
                        }
                    }
                }
                columns.get_or_insert(planned.columns);
                run_streamed(ctx, planned.df, stats, |mut batch| {
                    if dedup.is_some() {
                        batch = first_per_key(&batch, &key_columns, &mut seen)?;
                    }
                    let take = batch.num_rows().min(remaining);
                    remaining -= take;
                    sink(batch.slice(0, take))?;
                    Ok(remaining > 0)
                })
                .await?;
                if remaining == 0 {
                    break;
                }
            }
            stats.files_scanned -= total_files - read_files;
            stats.files_pruned += total_files - read_files;
            Ok(Some(columns.unwrap_or_default()))
        })
    }
}

/// The rows of `batch` whose key (the cells of `keys`) no earlier row had; a row with a
/// missing key cell is always kept, as `dedup` keeps them.
fn first_per_key(
    batch: &RecordBatch,
    keys: &[usize],
    seen: &mut HashSet<Vec<Option<String>>>,
) -> Result<RecordBatch, Error> {
    let mut keep = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let key: Vec<Option<String>> = keys
            .iter()
            .map(|&k| crate::render::cell(batch.column(k), row))
            .collect();
        let fresh = key.iter().any(Option::is_none) || seen.insert(key);
        keep.push(fresh);
    }
    arrow::compute::filter_record_batch(batch, &arrow::array::BooleanArray::from(keep))
        .map_err(|e| Error::Engine(e.into()))
}

/// The fields of the query's `dedup`, when it has one.
fn dedup_fields(q: &flowwatch_insights::ast::Query) -> Option<Vec<String>> {
    q.commands.iter().find_map(|c| match &c.kind {
        flowwatch_insights::ast::CommandKind::Dedup(fields) => {
            Some(fields.iter().map(|f| f.name.clone()).collect())
        }
        _ => None,
    })
}

/// The row count of a query whose answer is the newest events: raw events (no `stats` or
/// `diff`; a `dedup` only with nothing but the `limit` after it) in `@timestamp` descending order (no `sort`, or one whose first key is
/// `@timestamp desc`), at most one `limit` and only as the last command (else the 10,000-row
/// cap). Hour partitions hold disjoint time ranges, so such a query run over the newest hours
/// first gives its answer as the concatenation of the per-chunk answers, and can stop as soon
/// as it has `limit` rows: the console's `fields @timestamp, @message | sort @timestamp desc |
/// limit 20` reads the newest hour, not the whole store.
pub(crate) fn newest_first_limit(
    q: &flowwatch_insights::ast::Query,
    default_limit: usize,
) -> Option<usize> {
    use flowwatch_insights::ast::{CommandKind as C, ExprKind};
    let is_timestamp = |e: &flowwatch_insights::ast::Expr| matches!(&e.kind, ExprKind::Field(f) if f == "@timestamp");
    let mut sorts = 0;
    let mut deduped = false;
    let mut limit = default_limit;
    let last = q.commands.len().checked_sub(1);
    for (i, c) in q.commands.iter().enumerate() {
        match &c.kind {
            C::Stats(_) | C::Diff(_) => return None,
            // One `dedup`, followed by nothing or the final `limit`.
            C::Dedup(_) => {
                let only_limit_after = q.commands[i + 1..]
                    .iter()
                    .all(|c| matches!(c.kind, C::Limit(_)));
                if deduped || !only_limit_after {
                    return None;
                }
                deduped = true;
            }
            C::Sort(keys) => {
                sorts += 1;
                let first = keys.first()?;
                if sorts > 1 || !first.descending || !is_timestamp(&first.expr) {
                    return None;
                }
            }
            C::Limit(n) => {
                if Some(i) != last {
                    return None;
                }
                limit = usize::try_from(*n).unwrap_or(usize::MAX);
            }
            // `@timestamp` must stay the record's own time.
            C::Fields(ps) | C::Display(ps) => {
                if ps
                    .iter()
                    .any(|p| p.name() == "@timestamp" && !is_timestamp(&p.expr))
                {
                    return None;
                }
            }
            C::Filter(_) | C::Parse(_) | C::Lookup(_) => {}
        }
    }
    Some(limit)
}

/// The hour partitions of `files`, newest first, in chunks of 1, 2, 4, … hours (a few plans
/// even over a long range). None when a file is outside the hour layout.
pub(crate) fn newest_first_chunks(files: &[GroupFiles]) -> Option<Vec<Vec<i64>>> {
    let mut hours = std::collections::BTreeSet::new();
    for f in files.iter().flat_map(|g| &g.files) {
        hours.insert(partition_hour_ms(f)?);
    }
    let mut hours = hours.into_iter().rev().peekable();
    let mut chunks = vec![];
    let mut size = 1;
    while hours.peek().is_some() {
        chunks.push(hours.by_ref().take(size).collect());
        size *= 2;
    }
    Some(chunks)
}

/// Whether a query filters raw events and then reads whole records: `@message` anywhere
/// (`parse` without a field reads it), or the default output (`@timestamp`, `@message`) when
/// there is no `fields`, `display` or `stats`.
pub(crate) fn filters_whole_records(q: &flowwatch_insights::ast::Query) -> bool {
    use flowwatch_insights::ast::{CommandKind as C, Expr, ExprKind};
    fn reads_message(e: &Expr) -> bool {
        let mut found = false;
        e.walk(&mut |e| found |= matches!(&e.kind, ExprKind::Field(f) if f == "@message"));
        found
    }
    let mut filters = false;
    let mut message = false;
    let mut shapes_output = false;
    let see = |e: &Expr, message: &mut bool| *message |= reads_message(e);
    for c in &q.commands {
        match &c.kind {
            C::Filter(e) => {
                filters |= !shapes_output;
                see(e, &mut message);
            }
            C::Fields(ps) | C::Display(ps) => {
                shapes_output = true;
                ps.iter().for_each(|p| see(&p.expr, &mut message));
            }
            C::Stats(s) => {
                shapes_output = true;
                (s.aggregates.iter().chain(&s.by)).for_each(|p| see(&p.expr, &mut message));
            }
            C::Sort(keys) => keys.iter().for_each(|k| see(&k.expr, &mut message)),
            C::Parse(p) => {
                message |= p.source.as_ref().is_none_or(|f| f.name == "@message");
            }
            C::Dedup(fs) => message |= fs.iter().any(|f| f.name == "@message"),
            C::Limit(_) | C::Lookup(_) | C::Diff(_) => {}
        }
    }
    filters && (message || !shapes_output)
}

#[cfg(test)]
mod tests {
    use super::{filters_whole_records, newest_first_limit};

    fn whole(q: &str) -> bool {
        filters_whole_records(&flowwatch_insights::parse(q).expect("query parses"))
    }

    #[test]
    fn filter_push_down_only_for_queries_that_read_whole_records() {
        // A filter, then @message (explicit, through parse, or the default output).
        assert!(whole(r#"filter action = "REJECT""#));
        assert!(whole(
            r#"filter action = "REJECT" | parse "* * *" as a, b, c | stats count(*) by a"#
        ));
        assert!(whole(
            r#"filter dstPort = 22 | fields @timestamp, @message"#
        ));
        assert!(whole(r#"filter dstPort = 22 | dedup @message"#));
        // Narrow projections, no filter, or a filter only after stats: no push-down.
        assert!(!whole(
            r#"filter action = "REJECT" | stats count(*) by dstPort"#
        ));
        assert!(!whole(
            r#"filter action = "REJECT" | fields srcAddr | dedup srcAddr"#
        ));
        assert!(!whole(
            "fields @timestamp, @message | sort @timestamp desc | limit 20"
        ));
        assert!(!whole("stats count(*) as n by srcAddr | filter n > 10"));
    }

    #[test]
    fn newest_first_only_for_newest_events_with_the_limit_last() {
        let limit = |q: &str| newest_first_limit(&flowwatch_insights::parse(q).unwrap(), 10_000);
        assert_eq!(
            limit("fields @timestamp, @message | sort @timestamp desc | limit 20"),
            Some(20)
        );
        assert_eq!(limit(r#"filter action = "REJECT""#), Some(10_000));
        assert_eq!(
            limit("parse @message '* *' as a, b | sort @timestamp desc, a"),
            Some(10_000)
        );
        // Another order, an aggregation, a limit before other commands, or a redefined
        // @timestamp: the whole store in one plan.
        assert_eq!(limit("sort @timestamp asc | limit 5"), None);
        assert_eq!(limit("sort bytes desc | limit 5"), None);
        assert_eq!(limit("stats count(*) by srcAddr"), None);
        assert_eq!(limit("fields srcAddr | dedup srcAddr | limit 5"), Some(5));
        assert_eq!(limit("dedup srcAddr, dstAddr"), Some(10_000));
        assert_eq!(limit("limit 5 | fields srcAddr"), None);
        assert_eq!(
            limit("sort @timestamp desc | sort bytes desc | limit 5"),
            None
        );
        assert_eq!(limit("fields start as @timestamp | limit 5"), None);
    }
}
