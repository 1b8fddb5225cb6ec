//! `flowwatch sql`: SQL over the store. Every log group is a table under its own name (quote
//! it when it is not a plain lowercase identifier: `SELECT * FROM "/aws/vpc/flow"`), with the
//! stored Athena/Parquet column names plus the partition columns `year`, `month`, `day`,
//! `hour` (strings, as Athena sees them), so a `WHERE year = '2026' AND day = '23'` prunes
//! directories before any file is opened. `flow_logs` is a view over every group with a
//! `log_group` column (named `all_log_groups` if a group is itself called `flow_logs`).
//!
//! Only queries run: DDL, DML and `SET` are refused, so `flowwatch sql` can never change the
//! store.

use std::sync::Arc;
use std::time::Instant;

use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SQLOptions;
use datafusion::physical_plan::collect;
use datafusion::prelude::{DataFrame, SessionContext, lit};
use flowwatch_flowlog::schema;

use crate::engine::{Error, QueryEngine, QueryOutput, QueryStats, collect_metrics};

/// Hive partition columns of every group table, in directory order.
pub const PARTITION_COLUMNS: [&str; 4] = ["year", "month", "day", "hour"];

/// A table's name and its (column, type) pairs.
pub type TableColumns = (String, Vec<(String, String)>);

/// The name of the view over every log group.
pub const ALL_GROUPS_VIEW: &str = "flow_logs";

impl QueryEngine {
    /// Run one SQL query (DataFusion's dialect, close to Athena/Trino for the usual
    /// `SELECT … WHERE … GROUP BY … ORDER BY … LIMIT`). `max_rows` caps the rows returned.
    pub fn sql(&self, sql: &str, max_rows: Option<usize>) -> Result<QueryOutput, Error> {
        let started = Instant::now();
        let ctx = self.sql_context()?;
        let mut stats = QueryStats::default();
        let (columns, batches, plan) = self.runtime().block_on(async {
            let names = self.register_tables(&ctx, &mut stats).await?;
            let options = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let mut df = ctx
                .sql_with_options(sql, options)
                .await
                .map_err(|e| sql_error(e, &names))?;
            if let Some(n) = max_rows {
                df = df.limit(0, Some(n))?;
            }
            let columns = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let physical = df.create_physical_plan().await?;
            let batches = collect(physical.clone(), ctx.task_ctx()).await?;
            Ok::<_, Error>((columns, batches, physical))
        })?;
        collect_metrics(plan.as_ref(), &mut stats);
        crate::engine::explain_to_stderr(plan.as_ref());
        stats.elapsed_secs = started.elapsed().as_secs_f64();
        Ok(QueryOutput {
            columns,
            batches,
            stats,
        })
    }

    /// The tables `sql` sees, with their columns (for `--tables` and error hints).
    pub fn sql_tables(&self) -> Result<Vec<TableColumns>, Error> {
        let ctx = self.sql_context()?;
        let mut stats = QueryStats::default();
        self.runtime().block_on(async {
            let names = self.register_tables(&ctx, &mut stats).await?;
            let mut out = vec![];
            for n in names {
                let t = ctx.table(TableReference::bare(n.as_str())).await?;
                let cols = t
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().to_string()))
                    .collect();
                out.push((n, cols));
            }
            Ok(out)
        })
    }

    /// Register every group (and the all-groups view); returns the table names.
    async fn register_tables(
        &self,
        ctx: &SessionContext,
        stats: &mut QueryStats,
    ) -> Result<Vec<String>, Error> {
        let groups = self.resolve_groups(&[])?;
        let mut names = vec![];
        let mut all: Option<DataFrame> = None;
        for g in &groups {
            let files = self.group_files(std::slice::from_ref(g), None, None, stats)?;
            let table: Arc<dyn TableProvider> = if files.iter().all(|f| f.files.is_empty()) {
                Arc::new(MemTable::try_new(empty_schema(), vec![vec![]])?)
            } else {
                Arc::new(group_table(ctx, &self.group_dir(g)).await?)
            };
            ctx.register_table(TableReference::bare(g.as_str()), table.clone())?;
            let df = ctx
                .read_table(table)?
                .with_column("log_group", lit(g.clone()))?;
            all = Some(match all {
                None => df,
                Some(a) => a.union_by_name(df)?,
            });
            names.push(g.clone());
        }
        let view = if groups.iter().any(|g| g == ALL_GROUPS_VIEW) {
            "all_log_groups"
        } else {
            ALL_GROUPS_VIEW
        };
        let all = match all {
            Some(a) => a,
            None => ctx
                .read_table(Arc::new(MemTable::try_new(empty_schema(), vec![vec![]])?))?
                .with_column(
                    "log_group",
                    lit(datafusion::common::ScalarValue::Utf8(None)),
                )?,
        };
        ctx.register_table(TableReference::bare(view), all.into_view())?;
        names.push(view.to_string());
        Ok(names)
    }

    fn sql_context(&self) -> Result<SessionContext, Error> {
        let ctx = self.context()?;
        // `SHOW TABLES`, `SHOW COLUMNS FROM t` and `information_schema` work in SQL.
        let state = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
            .with_config(ctx.copied_config().with_information_schema(true))
            .build();
        Ok(SessionContext::new_with_state(state))
    }
}

/// A group as a Hive-partitioned listing table over its directory.
async fn group_table(ctx: &SessionContext, dir: &std::path::Path) -> Result<ListingTable, Error> {
    let mut url = dir.to_string_lossy().into_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    let url = ListingTableUrl::parse(url)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(
            PARTITION_COLUMNS
                .iter()
                .map(|c| (c.to_string(), DataType::Utf8))
                .collect(),
        );
    let state = ctx.state();
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .infer_schema(&state)
        .await?;
    Ok(ListingTable::try_new(config)?)
}

fn empty_schema() -> Arc<Schema> {
    let base = schema::base_schema();
    let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(
        PARTITION_COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, false)),
    );
    Arc::new(Schema::new(fields))
}

/// DataFusion's message, with the tables listed when a table is unknown and a reminder that
/// `flowwatch sql` only reads.
fn sql_error(e: datafusion::error::DataFusionError, tables: &[String]) -> Error {
    let msg = e.strip_backtrace();
    let hint = if msg.contains("table") && msg.contains("not found") {
        let quoted: Vec<String> = tables
            .iter()
            .map(|t| {
                if t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    t.clone()
                } else {
                    format!("\"{t}\"")
                }
            })
            .collect();
        format!(
            "\n  tables: {} (see `flowwatch sql --tables`)",
            quoted.join(", ")
        )
    } else if msg.contains("not supported") || msg.contains("DDL") || msg.contains("DML") {
        "\n  flowwatch sql only reads: use `flowwatch ingest` and `flowwatch log-groups` to change the store".to_string()
    } else {
        String::new()
    };
    Error::Other(format!("SQL: {msg}{hint}"))
}
