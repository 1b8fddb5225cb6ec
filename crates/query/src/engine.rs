//! The synchronous entry point: open a data directory, run a query, get rows and statistics.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use flowwatch_insights::QueryError;
use flowwatch_store::{StoreReader, partition_hour_ms};
use futures::StreamExt;

use crate::plan;
use crate::strategy::{filters_whole_records, newest_first_chunks, newest_first_limit};

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mistake in the query text, with its position.
    #[error("{0}")]
    Query(QueryError),
    #[error(transparent)]
    Store(#[from] flowwatch_store::StoreError),
    #[error("query execution failed: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The error for a user: query mistakes with line, column and caret.
    pub fn render(&self, query: &str) -> String {
        match self {
            Error::Query(e) => e.render(query),
            other => format!("error: {other}"),
        }
    }
}

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Error {
        Error::Query(e)
    }
}

/// What a query runs over.
#[derive(Clone, Debug)]
pub struct InsightsOptions {
    /// Log group names; a trailing `*` selects by prefix. Empty: every group (or the query's
    /// `SOURCE`).
    pub log_groups: Vec<String>,
    /// Range on `@timestamp`, epoch ms, start inclusive, end exclusive.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Row cap when the query has no `limit` (CloudWatch: 10,000).
    pub default_limit: usize,
    /// The query's start, epoch ms (`now()`).
    pub now_ms: i64,
    /// Tables for the `lookup` command: (name, CSV file).
    pub lookup_tables: Vec<(String, std::path::PathBuf)>,
}

impl Default for InsightsOptions {
    fn default() -> InsightsOptions {
        InsightsOptions {
            log_groups: vec![],
            start_ms: None,
            end_ms: None,
            default_limit: 10_000,
            now_ms: chrono::Utc::now().timestamp_millis(),
            lookup_tables: vec![],
        }
    }
}

/// Statistics in CloudWatch's terms.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStats {
    pub records_matched: u64,
    pub records_scanned: u64,
    pub bytes_scanned: u64,
    pub files_scanned: u64,
    pub files_pruned: u64,
    #[serde(skip)]
    pub elapsed_secs: f64,
}

/// A query's result.
#[derive(Clone, Debug)]
pub struct QueryOutput {
    pub columns: Vec<String>,
    pub batches: Vec<RecordBatch>,
    pub stats: QueryStats,
}

impl QueryOutput {
    /// Every cell as CloudWatch prints it; None for null.
    pub fn rows(&self) -> Vec<Vec<Option<String>>> {
        crate::render::rows(&self.batches)
    }
}

/// DataFusion's memory pool when none is given: half of the memory this process may use
/// (the machine's, or the cgroup limit of its container when lower), at least 1 GiB; 2 GiB
/// when neither can be read. Sorts and aggregations spill to disk beyond it.
pub fn default_memory_limit() -> usize {
    const GIB: u64 = 1 << 30;
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = match (total, cgroup) {
        (Some(t), Some(c)) => t.min(c),
        (Some(t), None) => t,
        (None, Some(c)) => c,
        (None, None) => 4 * GIB,
    };
    usize::try_from((limit / 2).max(GIB)).unwrap_or(usize::MAX)
}

/// Queries over one data directory.
pub struct QueryEngine {
    store: StoreReader,
    runtime: tokio::runtime::Runtime,
    memory_limit: usize,
}

/// A log group resolved for a query: its name and the data files inside the time range.
pub(crate) struct GroupFiles {
    pub name: String,
    pub files: Vec<std::path::PathBuf>,
    /// The schema of all the group's files when `files` is only some of them (a newest-first
    /// chunk), so every chunk sees the same columns; None: inferred from `files`.
    pub schema: Option<SchemaRef>,
}

impl QueryEngine {
    pub fn open(data_dir: &Path) -> Result<QueryEngine, Error> {
        let store = StoreReader::open(data_dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start the query runtime: {e}")))?;
        Ok(QueryEngine {
            store,
            runtime,
            memory_limit: default_memory_limit(),
        })
    }

    /// Cap DataFusion's memory (bytes); above it, sorts and aggregations spill or fail
    /// with a clear error instead of the process being killed.
    pub fn with_memory_limit(mut self, bytes: usize) -> QueryEngine {
        self.memory_limit = bytes;
        self
    }

    pub(crate) fn store(&self) -> &StoreReader {
        &self.store
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    pub(crate) fn group_dir(&self, name: &str) -> std::path::PathBuf {
        self.store.group_dir(name)
    }

    pub(crate) fn context(&self) -> Result<SessionContext, Error> {
        self.context_for(false)
    }

    /// A session; `whole_records`: the query reads every column of the records a filter keeps
    /// (`@message`), so the filter is evaluated while decoding (Parquet filter push-down) and
    /// the other columns are decoded only for the rows it keeps. For narrow projections the
    /// push-down costs more than it saves, so it is off otherwise (measured in BENCHMARKS.md).
    fn context_for(&self, whole_records: bool) -> Result<SessionContext, Error> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(self.memory_limit)))
            .build_arc()?;
        // `DATAFUSION_*` environment variables tune the engine (documented in docs/insights.md)
        // and win over the choice above.
        let mut config = SessionConfig::from_env()?.with_information_schema(false);
        if whole_records
            && std::env::var_os("DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS").is_none()
        {
            let parquet = &mut config.options_mut().execution.parquet;
            parquet.pushdown_filters = true;
            parquet.reorder_filters = true;
        }
        let state = datafusion::execution::session_state::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(crate::reorder::ExpensiveLast))
            .build();
        Ok(SessionContext::new_with_state(state))
    }

    /// Names of groups matching `patterns` (exact, or prefix with a trailing `*`); all groups
    /// when empty.
    pub fn resolve_groups(&self, patterns: &[String]) -> Result<Vec<String>, Error> {
        let all: Vec<String> = self.store.groups()?.into_iter().map(|g| g.name).collect();
        if patterns.is_empty() {
            return Ok(all);
        }
        let mut out = vec![];
        for p in patterns {
            let matched: Vec<&String> = match p.strip_suffix('*') {
                Some(prefix) => all.iter().filter(|g| g.starts_with(prefix)).collect(),
                None => all.iter().filter(|g| *g == p).collect(),
            };
            if matched.is_empty() {
                return Err(Error::Other(format!(
                    "no log group matches '{p}': see `flowwatch log-groups list`"
                )));
            }
            for m in matched {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn group_files(
        &self,
        groups: &[String],
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        stats: &mut QueryStats,
    ) -> Result<Vec<GroupFiles>, Error> {
        let mut out = vec![];
        for name in groups {
            let mut files = vec![];
            for f in self.store.data_files(name)? {
                let keep = match partition_hour_ms(&f) {
                    Some(hour) => {
                        start_ms.is_none_or(|s| hour + 3_600_000 > s)
                            && end_ms.is_none_or(|e| hour < e)
                    }
                    None => true,
                };
                if keep {
                    files.push(f);
                } else {
                    stats.files_pruned += 1;
                }
            }
            stats.files_scanned += files.len() as u64;
            out.push(GroupFiles {
                name: name.clone(),
                files,
                schema: None,
            });
        }
        Ok(out)
    }

    /// A DataFrame over the given files (schemas merged: columns missing from a file read
    /// as null).
    pub(crate) async fn scan(ctx: &SessionContext, group: &GroupFiles) -> Result<DataFrame, Error> {
        let config = Self::listing(&group.files)?;
        let config = match &group.schema {
            Some(schema) => config.with_schema(Arc::clone(schema)),
            None => config.infer_schema(&ctx.state()).await?,
        };
        let table = ListingTable::try_new(config)?;
        Ok(ctx.read_table(Arc::new(table))?)
    }

    fn listing(files: &[std::path::PathBuf]) -> Result<ListingTableConfig, Error> {
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(f.to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        Ok(ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options))
    }

    /// The merged schema of `files` (columns missing from a file read as null).
    pub(crate) async fn infer_schema(
        ctx: &SessionContext,
        files: &[std::path::PathBuf],
    ) -> Result<SchemaRef, Error> {
        let config = Self::listing(files)?.infer_schema(&ctx.state()).await?;
        config
            .file_schema
            .ok_or_else(|| Error::Other("no schema inferred for the data files".into()))
    }

    /// Run a Logs Insights query.
    pub fn insights(&self, query: &str, options: &InsightsOptions) -> Result<QueryOutput, Error> {
        let mut batches = vec![];
        let (columns, stats) = self.insights_each(query, options, |b| {
            batches.push(b);
            Ok(())
        })?;
        Ok(QueryOutput {
            columns,
            batches,
            stats,
        })
    }

    /// Run a Logs Insights query and hand each result batch to `sink` as the engine produces
    /// it, instead of collecting them: memory stays bounded by the plan (sorts and aggregations
    /// spill), not by the size of the answer. Returns the output columns and the statistics.
    /// An error from `sink` stops the query and is returned.
    pub fn insights_each(
        &self,
        query: &str,
        options: &InsightsOptions,
        mut sink: impl FnMut(RecordBatch) -> Result<(), Error>,
    ) -> Result<(Vec<String>, QueryStats), Error> {
        let started = Instant::now();
        let parsed = flowwatch_insights::parse(query)?;
        let mut patterns = options.log_groups.clone();
        for s in &parsed.sources {
            match s {
                flowwatch_insights::ast::Source::Group(g) => patterns.push(g.clone()),
                flowwatch_insights::ast::Source::Prefixes(ps) => {
                    patterns.extend(ps.iter().map(|p| format!("{p}*")))
                }
            }
        }
        let groups = self.resolve_groups(&patterns)?;
        let mut stats = QueryStats::default();
        let files = self.group_files(&groups, options.start_ms, options.end_ms, &mut stats)?;
        let baseline = match parsed.commands.iter().find_map(|c| match c.kind {
            flowwatch_insights::ast::CommandKind::Diff(base) => Some((base, c.span)),
            _ => None,
        }) {
            Some((base, span)) => {
                let range =
                    baseline_range(base, options.start_ms, options.end_ms).ok_or_else(|| {
                        QueryError::new(
                            "`diff` needs a time range to compare with an earlier one",
                            span,
                        )
                        .with_help("give both --start and --end, e.g. --start -1h --end now")
                    })?;
                let files = self.group_files(&groups, range.start_ms, range.end_ms, &mut stats)?;
                Some((files, range))
            }
            None => None,
        };
        let ctx = self.context_for(filters_whole_records(&parsed))?;
        let newest_first = match &baseline {
            None => newest_first_limit(&parsed, options.default_limit),
            Some(_) => None,
        };
        if let Some(limit) = newest_first
            && let Some(chunks) = newest_first_chunks(&files)
        {
            // None: the query cannot run so after all (a `dedup` key that is not an output
            // column); nothing was produced yet, so it runs over the whole store below.
            if let Some(columns) = self.newest_first(
                &ctx, &parsed, &files, &chunks, limit, options, &mut stats, &mut sink,
            )? {
                stats.elapsed_secs = started.elapsed().as_secs_f64();
                return Ok((columns, stats));
            }
        }
        let columns = self.runtime.block_on(async {
            let base = baseline.as_ref().map(|(groups, range)| plan::Baseline {
                groups,
                range: *range,
            });
            let planned = plan::plan(&ctx, &parsed, &files, base, options).await?;
            run_streamed(&ctx, planned.df, &mut stats, |batch| {
                sink(batch)?;
                Ok(true)
            })
            .await?;
            Ok::<_, Error>(planned.columns)
        })?;
        stats.elapsed_secs = started.elapsed().as_secs_f64();
        Ok((columns, stats))
    }
}

/// Execute `df`, handing each batch to `each` until it returns false, then add the plan's
/// statistics to `stats` (and print the plan with `FLOWWATCH_EXPLAIN`).
pub(crate) async fn run_streamed(
    ctx: &SessionContext,
    df: DataFrame,
    stats: &mut QueryStats,
    mut each: impl FnMut(RecordBatch) -> Result<bool, Error>,
) -> Result<(), Error> {
    let physical = df.create_physical_plan().await?;
    let mut stream = execute_stream(physical.clone(), ctx.task_ctx())?;
    while let Some(batch) = stream.next().await {
        if !each(batch?)? {
            break;
        }
    }
    drop(stream);
    collect_metrics(physical.as_ref(), stats);
    explain_to_stderr(physical.as_ref());
    Ok(())
}

/// With `FLOWWATCH_EXPLAIN` set (to anything but `0`), the executed physical plan with its
/// metrics (rows, time per operator) goes to stderr: how to see why a query is slow.
pub(crate) fn explain_to_stderr(plan: &dyn ExecutionPlan) {
    if std::env::var_os("FLOWWATCH_EXPLAIN").is_some_and(|v| v != "0") {
        let shown =
            datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan)
                .indent(true);
        eprintln!("-- physical plan (FLOWWATCH_EXPLAIN) --\n{shown}");
    }
}

/// Records scanned and bytes scanned from the scans (with Parquet filter push-down, the rows
/// the scan's own filter dropped count as scanned); records matched from the filters directly
/// above the scans, else what the scans put out.
pub(crate) fn collect_metrics(plan: &dyn ExecutionPlan, stats: &mut QueryStats) {
    #[derive(Default)]
    struct Seen {
        /// Rows out of the scans.
        scans_out: u64,
        /// Rows out of the filters directly above the scans, if any.
        filtered: Option<u64>,
    }
    fn walk(plan: &dyn ExecutionPlan, stats: &mut QueryStats, seen: &mut Seen) {
        let children = plan.children();
        if children.is_empty() {
            if let Some(m) = plan.metrics() {
                let out = m.output_rows().unwrap_or(0) as u64;
                let sum = |name: &str| m.sum_by_name(name).map_or(0, |v| v.as_usize() as u64);
                stats.records_scanned += out + sum("pushdown_rows_pruned");
                stats.bytes_scanned += sum("bytes_scanned");
                seen.scans_out += out;
            }
            return;
        }
        if plan.name() == "FilterExec"
            && children
                .iter()
                .all(|c| c.children().is_empty() || c.name() == "CoalesceBatchesExec")
            && let Some(m) = plan.metrics()
        {
            seen.filtered = Some(seen.filtered.unwrap_or(0) + m.output_rows().unwrap_or(0) as u64);
        }
        for c in children {
            walk(c.as_ref(), stats, seen);
        }
    }
    let mut seen = Seen::default();
    walk(plan, stats, &mut seen);
    stats.records_matched += seen.filtered.unwrap_or(seen.scans_out);
}

/// The range a `diff` compares with: the equal-length range just before, or the same range a
/// day, a week (7 days) or a calendar month earlier. None without both ends.
pub(crate) fn baseline_range(
    base: flowwatch_insights::ast::DiffBase,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
) -> Option<plan::Range> {
    use flowwatch_insights::ast::DiffBase;
    let (s, e) = (start_ms?, end_ms?);
    const DAY: i64 = 86_400_000;
    let shift = |d: i64| plan::Range {
        start_ms: Some(s - d),
        end_ms: Some(e - d),
    };
    Some(match base {
        DiffBase::Previous => shift(e - s),
        DiffBase::PreviousDay => shift(DAY),
        DiffBase::PreviousWeek => shift(7 * DAY),
        DiffBase::PreviousMonth => {
            let month_back = |ms: i64| {
                let t = chrono::DateTime::from_timestamp_millis(ms)?;
                Some(
                    t.checked_sub_months(chrono::Months::new(1))?
                        .timestamp_millis(),
                )
            };
            plan::Range {
                start_ms: Some(month_back(s)?),
                end_ms: Some(month_back(e)?),
            }
        }
    })
}
