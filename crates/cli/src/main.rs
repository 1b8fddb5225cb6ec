//! The `flowwatch` binary: argument parsing, configuration and terminal output. The work is done
//! by the library crates; this file wires them together.

mod demo;
mod groups;
mod ingest;
mod monitor;
mod net;
mod output;
mod query;
mod sql;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use flowwatch_flowlog::InputFormat;
use flowwatch_store::Store;

use crate::output::OutputFormat;

// Ingest allocates and frees large column buffers per batch; glibc's malloc returns them to the
// OS each time and every reuse page-faults (10% of ingest time in a profile). mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes scripts can rely on.
pub mod exit {
    /// Everything worked (duplicates skipped and a few rejected lines are not failures).
    pub const OK: u8 = 0;
    /// Nothing could be read or done, or `--strict` and something was rejected.
    pub const FAILED: u8 = 1;
    /// The command line was wrong (clap's own code).
    pub const USAGE: u8 = 2;
}

#[derive(Parser, Debug)]
#[command(
    name = "flowwatch",
    version,
    about = "Collect, store and analyse AWS VPC Flow Logs on your own machine",
    long_about = "flowwatch reads VPC Flow Logs in every form AWS delivers them (S3 text with or without \
header, gzip, Parquet, CloudWatch Logs exports and subscription payloads, Firehose records) into log \
groups stored as Parquet that Athena, Trino, Spark and DuckDB read unchanged.\n\n\
Start with `flowwatch demo`, then `flowwatch ingest ~/Downloads/AWSLogs --log-group prod`.",
    after_help = "Environment: FLOWWATCH_DATA_DIR sets --data-dir.\nExit codes: 0 ok, 1 nothing could be read (or --strict and a record was rejected), 2 usage error, 3 `reach`: not reachable / `access`: findings."
)]
struct Cli {
    /// Where log groups are stored.
    #[arg(
        long,
        global = true,
        env = "FLOWWATCH_DATA_DIR",
        default_value = "./flowwatch-data"
    )]
    data_dir: PathBuf,
    /// Output format: table (default), json, ndjson, csv, or cloudwatch (the get-query-results JSON).
    #[arg(long, short = 'o', global = true, value_enum)]
    output: Option<OutputFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a realistic day of flow logs for a small AWS environment, ingest it, and report
    #[command(
        long_about = "Writes a deterministic day of VPC flow logs (two VPCs, a peering connection added at noon, \
a public web server probed by internet scanners, a NAT gateway, DNS and database traffic, NODATA and SKIPDATA records) \
as AWS delivers them to S3 — gzip text and Parquet — then ingests both into log groups and prints a short report."
    )]
    Demo {
        /// Random seed: the same seed gives the same flow logs.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Traffic volume (1.0 is about 160k records per delivery format).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Where the generated S3-style files are written.
        #[arg(long, default_value = "./flowwatch-demo")]
        dir: PathBuf,
    },
    /// Run a CloudWatch Logs Insights query over stored log groups
    #[command(long_about = query::LONG_ABOUT)]
    Query(query::QueryArgs),
    /// Run SQL over stored log groups (each group is a table; `flow_logs` is all of them)
    #[command(long_about = sql::SQL_LONG_ABOUT)]
    Sql(sql::SqlArgs),
    /// Print CREATE TABLE statements so Athena, Trino or Spark can query the store's files
    #[command(name = "athena-ddl", long_about = sql::DDL_LONG_ABOUT)]
    AthenaDdl(sql::DdlArgs),
    /// Read flow-log files, directories, globs or stdin (`-`) into a log group
    #[command(
        long_about = "Reads each source, detecting its form from its content: S3 text (a header line sets the \
format; several concatenated files are fine), gzip (multi-member too), base64, Parquet, the JSON of \
`aws logs filter-log-events`/`get-log-events`, subscription-filter payloads, Lambda `awslogs` events and Firehose records. \
Directories are read recursively. Paths in AWS's S3 key layout supply the account and region when records lack them.\n\n\
A bad record is rejected alone (reported as file:line: reason and kept in the data dir's quarantine/); the rest of its file \
is stored. Ingesting the same content again adds nothing unless --force.\n\n\
Examples:\n  flowwatch ingest ~/Downloads/AWSLogs --log-group prod\n  \
aws logs filter-log-events --log-group-name vpc-flow | flowwatch ingest - --log-group vpc-flow\n  \
flowwatch ingest 'exports/*.gz' --log-format '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action}'"
    )]
    Ingest {
        /// Files, directories, globs, or `-` for stdin.
        #[arg(required = true)]
        paths: Vec<String>,
        /// The log group to store into (created if missing).
        #[arg(long, short = 'g', default_value = "vpc-flow-logs")]
        log_group: String,
        /// What the input is; `auto` looks at the content.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// The record format of header-less lines, as `describe-flow-logs` shows it.
        #[arg(long)]
        log_format: Option<String>,
        /// Store sources again even if their content was ingested before.
        #[arg(long)]
        force: bool,
        /// Exit with status 1 if any record was rejected or any file failed.
        #[arg(long)]
        strict: bool,
        /// Parsing threads (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// No progress bar and no echoed rejections.
        #[arg(long, short)]
        quiet: bool,
        /// Commit after this many records (at the next file boundary); smaller means less
        /// work lost to a crash, larger means fewer files.
        #[arg(long, default_value_t = ingest::DEFAULT_TXN_ROWS, hide_short_help = true)]
        commit_every: u64,
    },
    /// Create, list, describe, delete, prune and compact log groups
    #[command(name = "log-groups", subcommand)]
    LogGroups(groups::GroupCommand),
    /// Check and import CloudWatch metric filters and alarms (AWS's JSON)
    #[command(subcommand)]
    Monitor(monitor::MonitorCommand),
    /// Compute metric filters over stored flow logs, list and read their metrics
    #[command(subcommand)]
    Metrics(monitor::MetricsCommand),
    /// List, describe, set and replay alarms; read their history
    #[command(subcommand)]
    Alarms(monitor::AlarmsCommand),
    /// Contributor Insights: top-N contributors of a rule over stored flow logs
    #[command(subcommand)]
    Contributors(monitor::ContributorsCommand),
    /// Load and check a snapshot of the AWS network configuration, or print how to take one
    #[command(subcommand, long_about = net::SNAPSHOT_LONG_ABOUT)]
    Snapshot(net::SnapshotCommand),
    /// Can A reach B? Reachability over a snapshot, hop by hop, with the rule that decided
    #[command(long_about = net::REACH_LONG_ABOUT)]
    Reach(net::ReachArgs),
    /// Which traffic can get where? Network access analysis over a snapshot, exhaustive
    #[command(long_about = net::ACCESS_LONG_ABOUT)]
    Access(net::AccessArgs),
    /// Why was it rejected? The rule behind every REJECT in a log group, drift, unused rules
    #[command(long_about = net::EXPLAIN_LONG_ABOUT)]
    Explain(net::ExplainArgs),
    /// Write the flow logs AWS would write for a traffic file played through a snapshot
    #[command(long_about = net::SIMULATE_LONG_ABOUT)]
    Simulate(net::SimulateArgs),
    /// Live mode: follow directories (and stdin), ingest new files, alarm and notify
    #[command(
        long_about = "Follows directories that receive new flow-log files (for example a folder kept in sync with \
an S3 bucket by `aws s3 sync`) and, with `-`, stdin. Each new file is ingested once, as `flowwatch ingest` \
would (a restart never ingests a file twice); the metric filters' series update in the same step; the alarms \
are evaluated on the wall clock (at once when new data arrives, else every minute as CloudWatch does) and \
their actions are delivered to the NotificationTargets of the monitoring definitions (webhook, Alertmanager, \
command) with retries, never holding up ingestion. A file is taken once its size and time have not changed \
for one --interval. Ctrl-C stops after the current step with nothing lost: undelivered notifications are \
sent on the next start.\n\n\
Examples:\n  flowwatch watch ~/flowlogs --log-group prod --monitor monitor.json\n  \
aws s3 sync s3://bucket/AWSLogs ~/flowlogs  # in another terminal, or from cron\n  \
tail -F /var/log/flows.log | flowwatch watch - --log-group prod"
    )]
    Watch {
        /// Directories to follow, or `-` for stdin.
        #[arg(required = true)]
        paths: Vec<String>,
        /// The log group to store into (created if missing).
        #[arg(long, short = 'g', default_value = "vpc-flow-logs")]
        log_group: String,
        /// Import this monitoring file first (as `flowwatch monitor import` does).
        #[arg(long, value_name = "FILE")]
        monitor: Option<PathBuf>,
        /// How often to look for new files and evaluate alarms, e.g. 1s, 500ms.
        #[arg(long, default_value = "500ms", value_parser = parse_interval)]
        interval: std::time::Duration,
        /// Stop after this many steps (for scripts and tests); default: until Ctrl-C.
        #[arg(long, hide_short_help = true)]
        ticks: Option<u64>,
        /// What the input is; `auto` looks at the content.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// The record format of header-less lines, as `describe-flow-logs` shows it.
        #[arg(long)]
        log_format: Option<String>,
        /// Only errors on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn parse_interval(s: &str) -> std::result::Result<std::time::Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("expected a duration such as 1s or 500ms, found `{s}`"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use ms, s or m")),
    };
    if !(0.01..=3600.0).contains(&secs) {
        return Err(format!("`{s}` is out of range (10ms to 1h)"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Auto,
    Text,
    Parquet,
    Cloudwatch,
    Firehose,
}

impl FormatArg {
    fn input(self) -> InputFormat {
        match self {
            FormatArg::Auto | FormatArg::Cloudwatch => InputFormat::Auto,
            FormatArg::Text => InputFormat::Text,
            FormatArg::Parquet => InputFormat::Parquet,
            FormatArg::Firehose => InputFormat::Json,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let mut msg = format!("error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(exit::FAILED)
        }
    }
}

fn output_format(cli: Option<OutputFormat>) -> OutputFormat {
    cli.unwrap_or(OutputFormat::Table)
}

fn open_store(dir: &std::path::Path) -> Result<Store> {
    Store::open(dir).with_context(|| format!("cannot open the data directory {}", dir.display()))
}

fn run(cli: Cli) -> Result<u8> {
    let out = output_format(cli.output);
    match cli.command {
        Command::Demo { seed, scale, dir } => demo::run(&cli.data_dir, &dir, seed, scale, out),
        Command::Ingest {
            paths,
            log_group,
            format,
            log_format,
            force,
            strict,
            threads,
            quiet,
            commit_every,
        } => {
            flowwatch_store::group::validate_name(&log_group)?;
            let log_format = match log_format {
                Some(f) => Some(
                    flowwatch_core::LogFormat::parse(&f)
                        .with_context(|| format!("invalid --log-format '{f}'"))?,
                ),
                None => None,
            };
            let mut store = open_store(&cli.data_dir)?;
            let args = ingest::IngestArgs {
                paths,
                log_group,
                format: format.input(),
                log_format,
                force,
                threads,
                quiet,
                txn_rows: commit_every.max(1),
            };
            let report = ingest::run(&mut store, &args)?;
            ingest_report(&report, out)?;
            let nothing = report.records_stored == 0
                && report.duplicates_skipped == 0
                && (report.files_failed > 0 || report.records_rejected > 0);
            let problems =
                report.records_rejected > 0 || report.files_failed > 0 || !report.errors.is_empty();
            Ok(if nothing || (strict && problems) {
                exit::FAILED
            } else {
                exit::OK
            })
        }
        Command::LogGroups(cmd) => {
            let mut store = open_store(&cli.data_dir)?;
            groups::run(&mut store, cmd, out)
        }
        Command::Query(args) => query::run(&cli.data_dir, args, cli.output),
        Command::Sql(args) => sql::run(&cli.data_dir, args, cli.output),
        Command::AthenaDdl(args) => sql::ddl(&cli.data_dir, args),
        Command::Monitor(cmd) => monitor::run_monitor(&cli.data_dir, cmd, out),
        Command::Metrics(cmd) => monitor::run_metrics(&cli.data_dir, cmd, out),
        Command::Alarms(cmd) => monitor::run_alarms(&cli.data_dir, cmd, out),
        Command::Contributors(cmd) => monitor::run_contributors(&cli.data_dir, cmd, out),
        Command::Snapshot(cmd) => net::run_snapshot(cmd, out),
        Command::Reach(args) => net::run_reach(args, out),
        Command::Access(args) => net::run_access(args, out),
        Command::Explain(args) => net::run_explain(&cli.data_dir, args, out),
        Command::Simulate(args) => net::run_simulate(&cli.data_dir, args, out),
        Command::Watch {
            paths,
            log_group,
            monitor,
            interval,
            ticks,
            format,
            log_format,
            quiet,
        } => {
            flowwatch_store::group::validate_name(&log_group)?;
            let log_format = match log_format {
                Some(f) => Some(
                    flowwatch_core::LogFormat::parse(&f)
                        .with_context(|| format!("invalid --log-format '{f}'"))?,
                ),
                None => None,
            };
            let mut store = open_store(&cli.data_dir)?;
            watch::run(
                &mut store,
                watch::WatchOptions {
                    paths,
                    log_group,
                    format: format.input(),
                    log_format,
                    monitor,
                    interval,
                    ticks,
                    quiet,
                },
            )
        }
    }
}

pub fn ingest_report(r: &ingest::IngestReport, out: OutputFormat) -> Result<()> {
    use output::human_bytes;
    match out {
        OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch => {
            println!("{}", serde_json::to_string_pretty(r)?);
        }
        OutputFormat::Table | OutputFormat::Csv => {
            let mut t = output::Table::new(&["metric", "value"]);
            let rows: Vec<(&str, String)> = vec![
                ("log group", r.log_group.clone()),
                (
                    "files",
                    format!(
                        "{} ({} ingested, {} already stored, {} failed)",
                        r.files, r.files_ingested, r.duplicates_skipped, r.files_failed
                    ),
                ),
                ("records read", r.records_read.to_string()),
                ("records stored", r.records_stored.to_string()),
                ("records rejected", r.records_rejected.to_string()),
                ("bytes in", human_bytes(r.bytes_in)),
                ("bytes on disk", human_bytes(r.bytes_on_disk)),
                ("elapsed", format!("{:.2} s", r.elapsed_secs)),
                ("rate", format!("{:.0} records/s", r.records_per_sec)),
            ];
            let mut rows = rows;
            if let Some(m) = &r.metrics_updated {
                rows.push((
                    "metric filters",
                    format!(
                        "{} updated, {} matching records in the hours stored into",
                        m.filters, m.matched
                    ),
                ));
            }
            for (k, v) in rows {
                t.push(vec![k.into(), v.into()]);
            }
            t.print(out)?;
            if r.duplicates_skipped > 0 && r.files_ingested == 0 && r.files_failed == 0 {
                eprintln!(
                    "every source was already stored: nothing added (use --force to store again)"
                );
            }
            for q in &r.quarantine {
                eprintln!("rejected records kept in {}", q.display());
            }
            for e in &r.errors {
                eprintln!("error: {e}");
            }
        }
    }
    Ok(())
}
