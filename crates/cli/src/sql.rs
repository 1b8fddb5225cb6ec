//! `flowwatch sql` and `flowwatch athena-ddl`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use flowwatch_query::QueryEngine;
use flowwatch_query::athena::{DdlOptions, Dialect};

use crate::exit;
use crate::output::{OutputFormat, Table};

pub const SQL_LONG_ABOUT: &str = "Runs SQL (DataFusion's dialect, close to Athena's for SELECT … WHERE … GROUP BY … \
ORDER BY … LIMIT) over the store. Each log group is a table under its own name — quote names that are not plain \
lowercase identifiers: SELECT * FROM \"/aws/vpc/flow\" — and `flow_logs` is a view over all of them with a \
`log_group` column. Columns have the Athena/Parquet names (srcaddr, dstport, log_status, `end`…, plus timestamp, \
log_stream, ingestion_time) and the partition columns year, month, day, hour (strings: WHERE day = '07' reads only \
that day's files). Queries only read: DDL and DML are refused.\n\n\
Examples:\n  flowwatch sql 'SELECT srcaddr, sum(bytes) AS b FROM flow_logs GROUP BY srcaddr ORDER BY b DESC LIMIT 10'\n  \
flowwatch sql \"SELECT dstport, count(*) FROM prod WHERE action = 'REJECT' AND day = '23' GROUP BY dstport\"\n  \
flowwatch sql --tables\n  \
flowwatch sql 'SHOW COLUMNS FROM prod'\n\n\
Exit status: 0 with results, 1 on an SQL or data error, 2 on a usage error.";

#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// The SQL query (or use --file, or pipe it on stdin).
    #[arg(required_unless_present_any = ["file", "tables"])]
    query: Option<String>,
    /// Read the query from a file.
    #[arg(long, short = 'f', conflicts_with = "query")]
    file: Option<PathBuf>,
    /// List the tables and their columns instead of running a query.
    #[arg(long, conflicts_with_all = ["query", "file"])]
    tables: bool,
    /// At most this many rows (default: all).
    #[arg(long)]
    limit: Option<usize>,
    /// Memory the engine may use before sorts and aggregations spill to disk, in MiB
    /// [default: half of this machine's memory, or of its container's limit].
    #[arg(long, value_name = "MiB")]
    memory_limit: Option<usize>,
}

pub fn run(data_dir: &Path, args: SqlArgs, output: Option<OutputFormat>) -> Result<u8> {
    let mut engine = QueryEngine::open(data_dir)?;
    if let Some(mib) = args.memory_limit {
        engine = engine.with_memory_limit(mib << 20);
    }
    let out = output.unwrap_or(OutputFormat::Table);
    if args.tables {
        let mut t = Table::new(&["table", "column", "type"]);
        for (table, cols) in engine.sql_tables()? {
            for (c, ty) in cols {
                t.push(vec![table.clone().into(), c.into(), ty.into()]);
            }
        }
        t.print(out)?;
        return Ok(exit::OK);
    }
    let text = crate::query::query_text(args.query.as_ref(), args.file.as_ref(), "SQL query")?;
    match engine.sql(&text, args.limit) {
        Ok(result) => {
            crate::query::print(&result, out)?;
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("{}", e.render(&text));
            Ok(exit::FAILED)
        }
    }
}

pub const DDL_LONG_ABOUT: &str = "Prints the statements that let Athena, Trino or Spark query the store's Parquet files \
where they lie, after you copy the data directory to object storage (aws s3 sync ./flowwatch-data \
s3://bucket/flowwatch). One table per log group with its stored columns and the year/month/day/hour partitions; \
Athena's uses partition projection, so no crawler or MSCK REPAIR is needed.\n\n\
Examples:\n  flowwatch athena-ddl --location s3://my-bucket/flowwatch\n  \
flowwatch athena-ddl -g prod --location s3://my-bucket/flowwatch --database netlogs\n  \
flowwatch athena-ddl --dialect trino --database hive.netlogs --location s3://my-bucket/flowwatch";

#[derive(Debug, clap::Args)]
pub struct DdlArgs {
    /// Log groups (repeatable; a trailing `*` matches a prefix). Default: all.
    #[arg(long = "log-group", short = 'g')]
    log_groups: Vec<String>,
    /// Where the copy of the data directory lives (its groups/ folder holds the tables).
    #[arg(long, default_value = "s3://YOUR-BUCKET/flowwatch")]
    location: String,
    /// Database to create the tables in (Trino: catalog.schema).
    #[arg(long)]
    database: Option<String>,
    /// Which engine the statements are for.
    #[arg(long, value_enum, default_value_t = DialectArg::Athena)]
    dialect: DialectArg,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DialectArg {
    /// Athena (Hive DDL with partition projection)
    Athena,
    /// Hive or Spark SQL (Hive DDL, then MSCK REPAIR TABLE)
    Spark,
    /// Trino's Hive connector
    Trino,
}

pub fn ddl(data_dir: &Path, args: DdlArgs) -> Result<u8> {
    let engine = QueryEngine::open(data_dir)?;
    let options = DdlOptions {
        location: args.location,
        database: args.database,
        dialect: match args.dialect {
            DialectArg::Athena => Dialect::Athena,
            DialectArg::Spark => Dialect::Hive,
            DialectArg::Trino => Dialect::Trino,
        },
    };
    print!("{}", engine.athena_ddl(&args.log_groups, &options)?);
    Ok(exit::OK)
}
