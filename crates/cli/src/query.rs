//! `flowwatch query`: Logs Insights over the store.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use arrow::datatypes::DataType;
use flowwatch_query::{InsightsOptions, QueryEngine, QueryOutput};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{OutputFormat, Table, human_bytes};

pub const LONG_ABOUT: &str = "Runs a CloudWatch Logs Insights query (the classic command set: fields, display, \
filter, stats, sort, limit, parse, dedup, lookup, diff, SOURCE) over stored log groups. Flow-log fields take any of their \
names: srcAddr, srcaddr, `src-addr`… plus @timestamp, @message, @logStream, @log, @ingestionTime.\n\n\
Examples:\n  flowwatch query 'filter action=\"REJECT\" | stats count(*) as rejections by srcAddr | sort rejections desc | limit 20'\n  \
flowwatch query -g 'demo/*' --start -24h 'stats sum(bytes) as b by bin(1h)'\n  \
flowwatch query --file top-talkers.insights --output cloudwatch\n  \
flowwatch query --lookup-table hosts=hosts.csv 'lookup hosts ip as dstAddr OUTPUT name | stats sum(bytes) by name'\n  \
flowwatch query --start -1h --end now 'filter action=\"REJECT\" | stats count(*) as n by dstPort | diff previousDay'\n\n\
Without `limit`, at most 10,000 rows are returned, as in CloudWatch (--limit raises it). \
Exit status: 0 with results, 1 on a query or data error, 2 on a usage error.";

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The query (or use --file, or pipe it on stdin).
    query: Option<String>,
    /// Read the query from a file.
    #[arg(long, short = 'f', conflicts_with = "query")]
    file: Option<PathBuf>,
    /// Log groups to query (repeatable); a trailing `*` matches a prefix. Default: all.
    #[arg(long = "log-group", short = 'g')]
    log_groups: Vec<String>,
    /// Start of the range: ISO-8601, epoch seconds or ms, or relative (-15m, -24h, -7d, now).
    #[arg(long, allow_hyphen_values = true)]
    start: Option<String>,
    /// End of the range (exclusive), in the same forms as --start.
    #[arg(long, allow_hyphen_values = true)]
    end: Option<String>,
    /// Row cap when the query has no `limit` (CloudWatch's is 10,000).
    #[arg(long, default_value_t = 10_000)]
    limit: usize,
    /// A table for the `lookup` command: NAME=path/to/table.csv (a CSV file with a header row).
    /// Repeatable.
    #[arg(long = "lookup-table", value_name = "NAME=CSV", value_parser = parse_lookup)]
    lookup_tables: Vec<(String, PathBuf)>,
    /// Memory the engine may use before sorts and aggregations spill to disk, in MiB
    /// [default: half of this machine's memory, or of its container's limit].
    #[arg(long, value_name = "MiB")]
    memory_limit: Option<usize>,
}

fn parse_lookup(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "expected NAME=path/to/table.csv, e.g. --lookup-table hosts=hosts.csv (got '{s}')"
        )),
    }
}

/// The query text from the argument, `--file`, or stdin.
pub fn query_text(arg: Option<&String>, file: Option<&PathBuf>, what: &str) -> Result<String> {
    match (arg, file) {
        (Some(q), _) => Ok(q.clone()),
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("cannot read the query file {}", f.display())),
        (None, None) => {
            if std::io::stdin().is_terminal() {
                bail!("no {what} given: pass it as an argument, with --file, or on stdin");
            }
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok(s)
        }
    }
}

pub fn run(data_dir: &Path, args: QueryArgs, output: Option<OutputFormat>) -> Result<u8> {
    let text = query_text(args.query.as_ref(), args.file.as_ref(), "query")?;
    let now = chrono::Utc::now().timestamp_millis();
    let options = InsightsOptions {
        log_groups: args.log_groups.clone(),
        start_ms: args
            .start
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        end_ms: args
            .end
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        default_limit: args.limit,
        now_ms: now,
        lookup_tables: args.lookup_tables.clone(),
    };
    let mut engine = QueryEngine::open(data_dir)?;
    if let Some(mib) = args.memory_limit {
        engine = engine.with_memory_limit(mib << 20);
    }
    let result = match engine.insights(&text, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", e.render(&text));
            return Ok(exit::FAILED);
        }
    };
    let out = output.unwrap_or(OutputFormat::Table);
    print(&result, out)?;
    Ok(exit::OK)
}

pub fn print(r: &QueryOutput, out: OutputFormat) -> Result<()> {
    let rows = r.rows();
    if out == OutputFormat::Cloudwatch {
        let results: Vec<Value> = rows
            .iter()
            .map(|row| {
                Value::Array(
                    r.columns
                        .iter()
                        .zip(row)
                        .filter_map(|(c, v)| v.as_ref().map(|v| json!({"field": c, "value": v})))
                        .collect(),
                )
            })
            .collect();
        let doc = json!({
            "results": results,
            "statistics": {
                "recordsMatched": r.stats.records_matched as f64,
                "recordsScanned": r.stats.records_scanned as f64,
                "bytesScanned": r.stats.bytes_scanned as f64,
            },
            "status": "Complete",
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let numeric: Vec<bool> = match r.batches.first() {
        Some(b) => b
            .schema()
            .fields()
            .iter()
            .map(|f| is_number(f.data_type()))
            .collect(),
        None => vec![false; r.columns.len()],
    };
    let mut t = Table {
        headers: r.columns.clone(),
        rows: vec![],
    };
    for row in rows {
        t.push(
            row.into_iter()
                .zip(&numeric)
                .map(|(v, &num)| match v {
                    None => Value::Null,
                    Some(s) if num => s
                        .parse::<i64>()
                        .map(Value::from)
                        .or_else(|_| s.parse::<f64>().map(Value::from))
                        .unwrap_or(Value::String(s)),
                    Some(s) => Value::String(s),
                })
                .collect(),
        );
    }
    t.print(out)?;
    if out == OutputFormat::Table {
        let s = &r.stats;
        eprintln!(
            "{} rows · {} records scanned, {} matched · {} scanned in {} files ({} pruned by time) · {:.3} s",
            t.rows.len(),
            s.records_scanned,
            s.records_matched,
            human_bytes(s.bytes_scanned),
            s.files_scanned,
            s.files_pruned,
            s.elapsed_secs
        );
    }
    Ok(())
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric()
}

/// ISO-8601, epoch seconds or milliseconds, or relative to now (`-15m`, `-24h`, `-7d`, `now`).
pub fn parse_time(t: &str, now_ms: i64) -> Result<i64> {
    let t = t.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now_ms);
    }
    if let Some(rel) = t.strip_prefix('-') {
        let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
        if split > 0 && split < rel.len() {
            let n: i64 = rel[..split].parse()?;
            let unit = match &rel[split..] {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                u => bail!("unknown time unit '{u}' in '{t}': use s, m, h, d or w"),
            };
            return Ok(now_ms - n * unit);
        }
    }
    if let Ok(n) = t.parse::<i64>() {
        // Epoch seconds until year 2286; larger numbers are milliseconds.
        return Ok(if n.abs() < 10_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |d| d.and_utc().timestamp_millis()));
    }
    bail!(
        "cannot read the time '{t}': use ISO-8601 (2026-11-23T10:00:00Z), epoch seconds or ms, or -15m/-24h/-7d/now"
    )
}
