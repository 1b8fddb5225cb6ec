//! Conformance of the Logs Insights engine against OpenSearch's VPC Flow Logs dashboard suite
//! (`insights/opensearch-sql-ppl-vpc` in the corpus, see its SOURCES.md): 100 synthetic flow
//! records (`vpc_logs.json`, bulk-index NDJSON) and 12 PPL queries, each followed by its exact
//! result table (`vpc.rst`).
//!
//! The records become an S3-style text flow log with a header line, read by flowwatch-flowlog and
//! committed to a store the way `flowwatch ingest` does. Each PPL query has a hand-written Logs
//! Insights equivalent ([`CASES`]); its result is compared with the PPL table parsed from vpc.rst
//! at run time, so no expected value is copied into this repository. Every PPL query of vpc.rst
//! must have a case and every case a query, so an upstream change fails here instead of going
//! unchecked. All 12 queries are expressible in Logs Insights; none is skipped.
//!
//! Comparison rules:
//! - **Columns**: Insights names and orders columns its own way (`count(*)` for PPL `count()`,
//!   `bin(30d)` for `` span(`start`,30d) ``, `by` keys before aggregates). Each case maps PPL
//!   columns to Insights columns, listed in the order Insights must output them; the output must
//!   have exactly those columns, in that order.
//! - **Cells** ([`canonical`]): timestamps compare at millisecond precision (PPL prints
//!   `2025-05-24 21:00:00`, flowwatch `2025-05-24 21:00:00.000`); numbers compare by value as f64
//!   (`92` = `92.0`, exact for integers below 2^53); anything else compares as text. PPL's
//!   `null` is a null cell.
//! - **Rows** ([`compare`]): the row count is PPL's `fetched rows`. A query without `sort` has no
//!   row order in either language, so its rows compare as multisets. A sorted query must produce
//!   the sort-key values in PPL's order, but rows with equal keys may come in any order (PPL's
//!   tie order is an accident of its engine: vpc.rst lists two 181-packet destinations out of
//!   address order). When `limit` cuts through a run of ties, which tied rows make it is
//!   unspecified in both languages: there the PPL rows and the Insights rows must each be rows of
//!   the same Insights query run without `limit`. A table that elides rows with a `...` line is
//!   compared on the rows it lists. One table's rows are made up (see the heat-map case): there
//!   only the row count and the sort column are compared.
//!
//! The corpus lives outside the repository. `FLOWWATCH_CORPUS` points at it (default:
//! `../../../shared/corpus` from this crate). When it is absent the test says so on stderr and
//! passes, unless `FLOWWATCH_REQUIRE_CORPUS=1`, which makes absence a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::error::Error;
use std::path::{Path, PathBuf};

use flowwatch_flowlog::{Output, ReadOptions, SourceDefaults, read_path};
use flowwatch_query::{InsightsOptions, QueryEngine, QueryOutput};
use flowwatch_store::Store;
use serde_json::{Map, Value};

/// The suite's directory inside the corpus.
const SUITE: &str = "insights/opensearch-sql-ppl-vpc";

/// The log group the records are stored in.
const GROUP: &str = "opensearch/vpc";

/// The S3 header of the generated flow log. `total-count` is not a flow-log field: flowwatch
/// keeps it as a string column `total_count`, as it keeps any field it does not know.
const HEADER: &str = "start end srcaddr dstaddr protocol bytes packets action total-count";

/// One PPL query of vpc.rst and its Logs Insights translation.
struct Case {
    /// The PPL query as vpc.rst writes it after `os> `, without the trailing `;` (matched with
    /// whitespace runs collapsed).
    ppl: &'static str,
    /// The Logs Insights equivalent, without its `limit`.
    insights: &'static str,
    /// PPL `head N`, appended as Insights `| limit N`.
    limit: Option<usize>,
    /// (PPL column, Insights column), in the order Insights outputs them.
    columns: &'static [(&'static str, &'static str)],
    /// The PPL columns the query sorts on; empty when it does not sort.
    sort: &'static [&'static str],
    /// vpc.rst's rows for this query are an illustration, not its output: only the row count and
    /// the sort columns are compared.
    illustrative: bool,
}

/// The translations. PPL `count()` is Insights `count(*)`; `sort - X` is `sort X desc`;
/// `head N` is `limit N`; `` span(`start`, 30d) `` is `bin(30d)`, which floors `@timestamp`
/// (= `start`) to 30-day periods counted from the epoch, as OpenSearch's span does (its first
/// bucket, 2025-04-12, is day 20190 = 673 × 30 since 1970-01-01). Field names are the stored
/// column names, which are also OpenSearch's.
const CASES: &[Case] = &[
    Case {
        ppl: "source=vpc_flow_logs | stats count()",
        insights: "stats count(*)",
        limit: None,
        columns: &[("count()", "count(*)")],
        sort: &[],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | STATS count() as Count by action | SORT - Count | HEAD 5",
        insights: "stats count(*) as Count by action | sort Count desc",
        limit: Some(5),
        columns: &[("action", "action"), ("Count", "Count")],
        sort: &["Count"],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | STATS count() by span(`start`, 30d)",
        insights: "stats count(*) by bin(30d)",
        limit: None,
        columns: &[("span(`start`,30d)", "bin(30d)"), ("count()", "count(*)")],
        sort: &[],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | STATS sum(bytes) by span(`start`, 30d)",
        insights: "stats sum(bytes) by bin(30d)",
        limit: None,
        columns: &[
            ("span(`start`,30d)", "bin(30d)"),
            ("sum(bytes)", "sum(bytes)"),
        ],
        sort: &[],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | stats sum(bytes) as Bytes by srcaddr | sort - Bytes | head 10",
        insights: "stats sum(bytes) as Bytes by srcaddr | sort Bytes desc",
        limit: Some(10),
        columns: &[("srcaddr", "srcaddr"), ("Bytes", "Bytes")],
        sort: &["Bytes"],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | stats sum(bytes) as Bytes by dstaddr | sort - Bytes | head 10",
        insights: "stats sum(bytes) as Bytes by dstaddr | sort Bytes desc",
        limit: Some(10),
        columns: &[("dstaddr", "dstaddr"), ("Bytes", "Bytes")],
        sort: &["Bytes"],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | STATS sum(packets) by span(`start`, 30d)",
        insights: "stats sum(packets) by bin(30d)",
        limit: None,
        columns: &[
            ("span(`start`,30d)", "bin(30d)"),
            ("sum(packets)", "sum(packets)"),
        ],
        sort: &[],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | stats sum(packets) as Packets by srcaddr | sort - Packets | head 10",
        insights: "stats sum(packets) as Packets by srcaddr | sort Packets desc",
        limit: Some(10),
        columns: &[("srcaddr", "srcaddr"), ("Packets", "Packets")],
        sort: &["Packets"],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | stats sum(packets) as Packets by dstaddr | sort - Packets | head 10",
        insights: "stats sum(packets) as Packets by dstaddr | sort Packets desc",
        limit: Some(10),
        columns: &[("dstaddr", "dstaddr"), ("Packets", "Packets")],
        sort: &["Packets"],
        illustrative: false,
    },
    // Every source sends once, so all counts tie and `limit 10` may keep any ten sources (PPL
    // keeps the first ten in string order, Insights' natural sort would order them differently).
    Case {
        ppl: "source=vpc_flow_logs | STATS count() as Count by srcaddr | SORT - Count | HEAD 10",
        insights: "stats count(*) as Count by srcaddr | sort Count desc",
        limit: Some(10),
        columns: &[("srcaddr", "srcaddr"), ("Count", "Count")],
        sort: &["Count"],
        illustrative: false,
    },
    Case {
        ppl: "source=vpc_flow_logs | stats count() as Requests by dstaddr | sort - Requests | head 10",
        insights: "stats count(*) as Requests by dstaddr | sort Requests desc",
        limit: Some(10),
        columns: &[("dstaddr", "dstaddr"), ("Requests", "Requests")],
        sort: &["Requests"],
        illustrative: false,
    },
    // vpc.rst lists two of the 100 rows, then `...`, and those two are made up: each pairs the
    // first destination with the first source in string order (10.0.100.62 with 1.24.59.183),
    // but no record has that pair; 1.24.59.183 only sends to 10.0.60.144. Upstream's own test
    // (VpcFlowLogsPplDashboardIT.testTopTalkersByHeatMap) checks just the schema and the 100
    // rows. So only the row count and `Count` are compared: the listed rows count 1 each, and
    // as the rows are sorted by it, so do all 100.
    Case {
        ppl: "source=vpc_flow_logs | stats count() as Count by dstaddr, srcaddr | sort - Count | head 100",
        insights: "stats count(*) as Count by dstaddr, srcaddr | sort Count desc",
        limit: Some(100),
        columns: &[
            ("dstaddr", "dstaddr"),
            ("srcaddr", "srcaddr"),
            ("Count", "Count"),
        ],
        sort: &["Count"],
        illustrative: true,
    },
];

#[test]
fn opensearch_vpc_dashboard_queries() -> Result<(), Box<dyn Error>> {
    let Some(dir) = corpus() else { return Ok(()) };
    let rst = read_text(&dir.join("vpc.rst"))?;
    let examples = parse_rst(&rst).map_err(|e| format!("vpc.rst: {e}"))?;
    assert!(!examples.is_empty(), "vpc.rst: no `os>` queries found");

    let mut failures = Vec::new();
    for case in CASES {
        if !examples.iter().any(|e| same_query(case.ppl, &e.query)) {
            failures.push(format!(
                "{}\n  not in vpc.rst (changed upstream?)",
                case.ppl
            ));
        }
    }

    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let ndjson = read_text(&dir.join("vpc_logs.json"))?;
    let records = ingest(&ndjson, tmp.path(), &data)?;
    assert_eq!(records, 100, "vpc_logs.json holds 100 records");

    let engine = QueryEngine::open(&data)?;
    let options = InsightsOptions {
        log_groups: vec![GROUP.into()],
        ..Default::default()
    };
    for example in &examples {
        let outcome = match CASES.iter().find(|c| same_query(c.ppl, &example.query)) {
            Some(case) => run_case(&engine, &options, case, example),
            None => Err("no Logs Insights translation for this PPL query".to_string()),
        };
        if let Err(e) = outcome {
            failures.push(format!(
                "{} (`{}`)\n{}",
                example.title,
                example.query,
                indent(&e)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} OpenSearch VPC queries failed:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
    Ok(())
}

/// The suite's directory, or None (after saying why) when the corpus is absent.
fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let dir = root.join(SUITE);
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "corpus not found at {}; set FLOWWATCH_CORPUS",
        dir.display()
    );
    if std::env::var("FLOWWATCH_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("{msg} (FLOWWATCH_REQUIRE_CORPUS=1)");
    }
    eprintln!("{msg}");
    None
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Records to a stored log group.

/// Write the NDJSON records as an S3 text flow log in `dir`, read it, and commit it to the store
/// at `data` under [`GROUP`]. Returns the number of records stored.
fn ingest(ndjson: &str, dir: &Path, data: &Path) -> Result<u64, Box<dyn Error>> {
    let mut text = format!("{HEADER}\n");
    let mut count = 0u64;
    for (n, line) in ndjson.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("vpc_logs.json line {}: {e}", n + 1))?;
        let Value::Object(record) = value else {
            return Err(format!("vpc_logs.json line {}: not an object", n + 1).into());
        };
        // Bulk-index action lines (`{"index": {...}}`) alternate with the records.
        if record.len() == 1 && record.contains_key("index") {
            continue;
        }
        let flow = flow_line(&record).map_err(|e| format!("vpc_logs.json line {}: {e}", n + 1))?;
        text.push_str(&flow);
        text.push('\n');
        count += 1;
    }
    let path = dir.join("vpc_flow_logs.log");
    std::fs::write(&path, text)?;

    let mut batches = Vec::new();
    let mut rejects = Vec::new();
    let name = path.display().to_string();
    let summary = read_path(
        &path,
        &name,
        SourceDefaults::default(),
        &ReadOptions::default(),
        &mut |out| match out {
            Output::Batch(b) => batches.push(b),
            Output::Reject(r) => rejects.push(format!("line {}: {}: {}", r.line, r.reason, r.text)),
        },
    );
    if let Some(e) = summary.error {
        return Err(format!("{name}: {e}").into());
    }
    if !rejects.is_empty() {
        return Err(format!("{name}: rejected records:\n{}", rejects.join("\n")).into());
    }
    if summary.records != count {
        return Err(format!("{name}: read {} of {count} records", summary.records).into());
    }

    let mut store = Store::open(data)?;
    store.ensure_group(GROUP)?;
    let mut txn = store.begin(GROUP)?;
    for batch in &batches {
        txn.write(batch)?;
    }
    let committed = store.commit(txn)?;
    if committed.rows != count {
        return Err(format!("stored {} of {count} records", committed.rows).into());
    }
    Ok(count)
    // The store (and its lock on `data`) is dropped here, before the engine opens it.
}

/// One record as a line under [`HEADER`]: `start` (and `end`, which the records lack) as epoch
/// seconds with the fraction truncated, other values as their text, `-` when absent or null.
fn flow_line(record: &Map<String, Value>) -> Result<String, String> {
    let mut tokens = Vec::new();
    for field in HEADER.split(' ') {
        let key = match field {
            "end" => "start".to_string(),
            other => other.replace('-', "_"),
        };
        let token = match record.get(key.as_str()) {
            None | Some(Value::Null) => "-".to_string(),
            Some(Value::String(s)) if key == "start" => epoch_seconds(s)?.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => return Err(format!("{key}: unexpected value {other}")),
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(format!("{key}: {token:?} cannot be a flow-log token"));
        }
        tokens.push(token);
    }
    Ok(tokens.join(" "))
}

/// `2025-09-21T06:53:40.858575+0000` as epoch seconds, the fraction truncated.
fn epoch_seconds(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .map(|t| t.timestamp())
        .map_err(|e| format!("start {s:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Running one case.

/// One result row in PPL column order, cells in [`canonical`] form (None: null).
type Row = Vec<Option<String>>;

fn run_case(
    engine: &QueryEngine,
    options: &InsightsOptions,
    case: &Case,
    example: &PplExample,
) -> Result<(), String> {
    let query = match case.limit {
        Some(n) => format!("{} | limit {n}", case.insights),
        None => case.insights.to_string(),
    };
    let actual = run(engine, options, &query, case, example)?;
    // Where `limit` may cut through ties, the rows it may keep are those of the unlimited query.
    let full = match case.limit {
        Some(_) => Some(run(engine, options, case.insights, case, example)?),
        None => None,
    };
    let expected: Vec<Row> = example
        .rows
        .iter()
        .map(|row| row.iter().map(String::as_str).map(expected_cell).collect())
        .collect();
    let sort = case
        .sort
        .iter()
        .map(|s| {
            example
                .columns
                .iter()
                .position(|c| c == s)
                .ok_or_else(|| format!("sort column {s:?} is not a column of the PPL table"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (columns, expected, actual, full, sort) = if case.illustrative {
        let project = |rows: &[Row]| -> Vec<Row> {
            rows.iter()
                .map(|r| sort.iter().map(|&i| r[i].clone()).collect())
                .collect()
        };
        (
            case.sort.iter().map(|&s| s.to_string()).collect::<Vec<_>>(),
            project(&expected),
            project(&actual),
            full.as_deref().map(project),
            (0..sort.len()).collect::<Vec<_>>(),
        )
    } else {
        (example.columns.clone(), expected, actual, full, sort)
    };
    compare(&expected, example.fetched, &sort, &actual, full.as_deref()).map_err(|e| {
        let listed = if example.elided {
            format!("{} of {} rows listed", example.rows.len(), example.fetched)
        } else {
            format!("{} rows", example.fetched)
        };
        format!(
            "{e}\ninsights: {query}\nOpenSearch ({listed}):\n{}\nflowwatch ({} rows):\n{}",
            show(&columns, &expected),
            actual.len(),
            show(&columns, &actual)
        )
    })
}

/// Run `query`, check its columns against the case's mapping, and return its rows in PPL column
/// order, canonical.
fn run(
    engine: &QueryEngine,
    options: &InsightsOptions,
    query: &str,
    case: &Case,
    example: &PplExample,
) -> Result<Vec<Row>, String> {
    let out: QueryOutput = engine
        .insights(query, options)
        .map_err(|e| format!("query failed:\n{}", e.render(query)))?;
    let columns = out.columns.clone();
    let rows = out.rows();
    let order = column_order(case, &example.columns, &columns)
        .map_err(|e| format!("{e}\ninsights: {query}"))?;
    Ok(rows
        .iter()
        .map(|row| {
            order
                .iter()
                .map(|&i| row.get(i).cloned().flatten().map(|c| canonical(&c)))
                .collect()
        })
        .collect())
}

/// For each PPL column, the index of its Insights column in `columns`; an error unless `columns`
/// is exactly the mapping's Insights columns, in order.
fn column_order(case: &Case, ppl: &[String], columns: &[String]) -> Result<Vec<usize>, String> {
    let want: Vec<&str> = case.columns.iter().map(|&(_, c)| c).collect();
    if !columns.iter().map(String::as_str).eq(want.iter().copied()) {
        return Err(format!("Insights columns {columns:?}, expected {want:?}"));
    }
    if ppl.len() != case.columns.len() {
        return Err(format!(
            "PPL columns {ppl:?} do not match the mapping {:?}",
            case.columns
        ));
    }
    ppl.iter()
        .map(|p| {
            case.columns
                .iter()
                .position(|&(from, _)| from == p)
                .ok_or_else(|| format!("PPL column {p:?} has no Insights column in the mapping"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Comparing results.

/// A cell in the form both sides are compared in: timestamps `YYYY-MM-DD HH:MM:SS.mmm`, numbers
/// as f64 printed by Rust (`92.0` → `92`), anything else unchanged.
fn canonical(cell: &str) -> String {
    if let Some(ts) = canonical_timestamp(cell) {
        return ts;
    }
    if looks_numeric(cell)
        && let Ok(v) = cell.parse::<f64>()
    {
        return format!("{v}");
    }
    cell.to_string()
}

/// A PPL table cell: `null` is a null cell.
fn expected_cell(cell: &str) -> Option<String> {
    (cell != "null").then(|| canonical(cell))
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction, as `YYYY-MM-DD HH:MM:SS.mmm` (truncated to
/// milliseconds); None for anything else.
fn canonical_timestamp(s: &str) -> Option<String> {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd";
    let b = s.as_bytes();
    if b.len() < SHAPE.len()
        || !SHAPE.iter().zip(b).all(|(&p, &c)| {
            if p == b'd' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        })
    {
        return None;
    }
    let (seconds, rest) = s.split_at(SHAPE.len());
    let fraction = if rest.is_empty() {
        ""
    } else {
        rest.strip_prefix('.')
            .filter(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()))?
    };
    let millis: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(3)
        .collect();
    Some(format!("{seconds}.{millis}"))
}

/// Digits with an optional sign, point and exponent (so `inf`, `NaN` and words stay text).
fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    t.starts_with(|c: char| c.is_ascii_digit())
        && t.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// Check `actual` against `expected` (see the module docs): `count` rows in all, `expected` the
/// first rows of them (all when the table elides none), `sort` the indices of the sort columns
/// (empty: no order), `full` the result of the query without its `limit`.
fn compare(
    expected: &[Row],
    count: usize,
    sort: &[usize],
    actual: &[Row],
    full: Option<&[Row]>,
) -> Result<(), String> {
    if actual.len() != count {
        return Err(format!("{} rows, expected {count}", actual.len()));
    }
    if expected.len() > count {
        return Err(format!("{} rows listed, expected {count}", expected.len()));
    }
    if sort.is_empty() {
        return match missing(expected, actual) {
            Some(row) => Err(format!("row [{}] is missing", show_row(row))),
            None => Ok(()),
        };
    }
    let key = |row: &Row| -> Row { sort.iter().map(|&i| row[i].clone()).collect() };
    for (n, (want, got)) in expected.iter().zip(actual).enumerate() {
        if key(want) != key(got) {
            return Err(format!(
                "row {}: sort key [{}], expected [{}]",
                n + 1,
                show_row(&key(got)),
                show_row(&key(want))
            ));
        }
    }
    let truncated = full.is_some_and(|f| f.len() > actual.len());
    let mut start = 0;
    while start < actual.len() {
        let k = key(&actual[start]);
        let end = start + actual[start..].iter().take_while(|&r| key(r) == k).count();
        let listed = &expected[start.min(expected.len())..end.min(expected.len())];
        let run = &actual[start..end];
        if truncated && end == actual.len() {
            let pool: Vec<Row> = full
                .unwrap_or_default()
                .iter()
                .filter(|&r| key(r) == k)
                .cloned()
                .collect();
            if let Some(row) = missing(listed, &pool) {
                return Err(format!(
                    "OpenSearch row [{}] is not among the tied rows of the query without limit",
                    show_row(row)
                ));
            }
            if let Some(row) = missing(run, &pool) {
                return Err(format!(
                    "row [{}] is not among the tied rows of the query without limit",
                    show_row(row)
                ));
            }
        } else if let Some(row) = missing(listed, run) {
            return Err(format!(
                "rows {}-{} (sort key [{}]) lack [{}]",
                start + 1,
                end,
                show_row(&k),
                show_row(row)
            ));
        }
        start = end;
    }
    Ok(())
}

/// The first row of `want` that `have` lacks, counting duplicates.
fn missing<'a>(want: &'a [Row], have: &[Row]) -> Option<&'a Row> {
    let mut used = vec![false; have.len()];
    for row in want {
        match (0..have.len()).find(|&i| !used[i] && have[i] == *row) {
            Some(i) => used[i] = true,
            None => return Some(row),
        }
    }
    None
}

fn show_row(row: &[Option<String>]) -> String {
    row.iter()
        .map(|c| c.as_deref().unwrap_or("null"))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn show(columns: &[String], rows: &[Row]) -> String {
    let mut out = format!("  | {} |", columns.join(" | "));
    for row in rows {
        out.push_str(&format!("\n  | {} |", show_row(row)));
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn same_query(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

// ---------------------------------------------------------------------------------------------
// vpc.rst.

/// One `os>` query of vpc.rst with its result table.
#[derive(Debug, PartialEq)]
struct PplExample {
    /// The title of the section the query is in.
    title: String,
    /// The query after `os> `, without the trailing `;`.
    query: String,
    /// `a` of the `fetched rows / total rows = a/b` line: the rows the query returned.
    fetched: usize,
    columns: Vec<String>,
    /// The listed rows, cells trimmed.
    rows: Vec<Vec<String>>,
    /// Whether a `...` row stands for rows after the listed ones.
    elided: bool,
}

/// Every `os>` query with the `fetched rows` line and the `+---+` / `| a | b |` table after it.
fn parse_rst(text: &str) -> Result<Vec<PplExample>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut examples = Vec::new();
    let mut title = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        // A section title is the line above an unindented run of `-`.
        if line.len() >= 3 && line.bytes().all(|b| b == b'-') && i >= 2 {
            let above = lines[i - 2].trim();
            if !above.is_empty() {
                title = above.to_string();
            }
            continue;
        }
        let Some(query) = line.trim_start().strip_prefix("os>") else {
            continue;
        };
        let at = i;
        let query = query.trim();
        let query = query.strip_suffix(';').unwrap_or(query).trim().to_string();
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        let fetched = lines
            .get(i)
            .and_then(|l| l.trim().strip_prefix("fetched rows / total rows ="))
            .and_then(|counts| counts.split('/').next())
            .and_then(|n| n.trim().parse::<usize>().ok())
            .ok_or_else(|| format!("line {at}: no `fetched rows / total rows = a/b` line"))?;
        i += 1;
        let start = i;
        while i < lines.len() && lines[i].trim_start().starts_with(['+', '|']) {
            i += 1;
        }
        let (columns, rows, elided) =
            parse_table(&lines[start..i]).map_err(|e| format!("line {at}: {e}"))?;
        if (elided && rows.len() >= fetched) || (!elided && rows.len() != fetched) {
            return Err(format!(
                "line {at}: {} rows listed{} but {fetched} fetched",
                rows.len(),
                if elided { " before `...`" } else { "" }
            ));
        }
        examples.push(PplExample {
            title: title.clone(),
            query,
            fetched,
            columns,
            rows,
            elided,
        });
    }
    Ok(examples)
}

/// A table's header, its rows, and whether a `...` row ends it.
type Table = (Vec<String>, Vec<Vec<String>>, bool);

fn parse_table(lines: &[&str]) -> Result<Table, String> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut separated = false;
    let mut elided = false;
    for line in lines {
        let line = line.trim();
        if line.starts_with('+') {
            continue;
        }
        let cells: Vec<String> = line
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
            .ok_or_else(|| format!("not a table row: {line:?}"))?
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        let Some(width) = header.as_ref().map(Vec::len) else {
            header = Some(cells);
            continue;
        };
        if cells.len() != width {
            return Err(format!(
                "{line:?} has {} cells, the header {width}",
                cells.len()
            ));
        }
        if !separated
            && cells
                .iter()
                .all(|c| !c.is_empty() && c.bytes().all(|b| b == b'-'))
        {
            separated = true;
        } else if cells.iter().all(|c| c == "...") {
            elided = true;
        } else if elided {
            return Err("rows after a `...` row are not supported".to_string());
        } else {
            rows.push(cells);
        }
    }
    let columns = header.ok_or("no table after the query")?;
    Ok((columns, rows, elided))
}

// ---------------------------------------------------------------------------------------------
// The helpers themselves, without the corpus.

#[test]
fn ppl_tables_parse() {
    let rst = "\
Some Title
----------

PPL query::

    os> source=t | stats count() as n by k | sort - n | head 3;
    fetched rows / total rows = 3/3
    +-----+----------------------+
    | n   | k                    |
    |-----|----------------------|
    | 2   | 2025-01-01 00:00:00  |
    | 1   | x y                  |
    | ... | ...                  |
    +-----+----------------------+

Other
-----

    os> source=t | stats count();
    fetched rows / total rows = 1/1
    +---------+
    | count() |
    |---------|
    | 7       |
    +---------+
";
    let examples = parse_rst(rst).expect("the sample parses");
    assert_eq!(
        examples,
        vec![
            PplExample {
                title: "Some Title".into(),
                query: "source=t | stats count() as n by k | sort - n | head 3".into(),
                fetched: 3,
                columns: vec!["n".into(), "k".into()],
                rows: vec![
                    vec!["2".into(), "2025-01-01 00:00:00".into()],
                    vec!["1".into(), "x y".into()],
                ],
                elided: true,
            },
            PplExample {
                title: "Other".into(),
                query: "source=t | stats count()".into(),
                fetched: 1,
                columns: vec!["count()".into()],
                rows: vec![vec!["7".into()]],
                elided: false,
            },
        ]
    );
    let short =
        "    os> q;\n    fetched rows / total rows = 2/2\n    | a |\n    |---|\n    | 1 |\n";
    assert!(
        parse_rst(short).is_err(),
        "a table with fewer rows than fetched"
    );
    let ragged = "    os> q;\n    fetched rows / total rows = 1/1\n    | a | b |\n    | 1 |\n";
    assert!(parse_rst(ragged).is_err(), "a row narrower than the header");
}

#[test]
fn cells_normalise() {
    assert_eq!(canonical("2025-05-24 21:00:00"), "2025-05-24 21:00:00.000");
    assert_eq!(
        canonical("2025-05-24 21:00:00.000"),
        "2025-05-24 21:00:00.000"
    );
    assert_eq!(
        canonical("2025-05-24 21:00:00.5"),
        "2025-05-24 21:00:00.500"
    );
    assert_ne!(
        canonical("2025-05-24 21:00:01"),
        canonical("2025-05-24 21:00:00.000")
    );
    assert_eq!(canonical("92"), canonical("92.0"));
    assert_eq!(canonical("1.5e3"), canonical("1500"));
    assert_ne!(canonical("92"), canonical("93"));
    assert_eq!(canonical("10.0.27.251"), "10.0.27.251");
    assert_eq!(canonical("ACCEPT"), "ACCEPT");
    assert_eq!(canonical("inf"), "inf");
    assert_eq!(expected_cell("null"), None);
}

#[test]
fn ties_compare_in_any_order_but_values_count() {
    let row = |k: &str, v: &str| -> Row { vec![Some(k.into()), Some(v.into())] };
    let expected = [row("a", "2"), row("b", "1"), row("c", "1")];
    let check = |actual: &[Row], full: Option<&[Row]>| compare(&expected, 3, &[1], actual, full);
    assert!(check(&[row("a", "2"), row("c", "1"), row("b", "1")], None).is_ok());
    assert!(check(&[row("b", "1"), row("a", "2"), row("c", "1")], None).is_err());
    assert!(check(&[row("a", "2"), row("b", "1"), row("d", "1")], None).is_err());
    assert!(check(&[row("a", "2"), row("b", "1")], None).is_err());
    // `limit 3` cut through the 1s: any tied row of the unlimited result may fill the run.
    let full = [row("a", "2"), row("b", "1"), row("c", "1"), row("d", "1")];
    assert!(check(&[row("a", "2"), row("d", "1"), row("c", "1")], Some(&full)).is_ok());
    assert!(check(&[row("a", "2"), row("e", "1"), row("c", "1")], Some(&full)).is_err());
    let wrong = [row("a", "2"), row("c", "1"), row("d", "1"), row("e", "1")];
    assert!(check(&[row("a", "2"), row("d", "1"), row("c", "1")], Some(&wrong)).is_err());
    // No sort: any order; a `...` table checks only the rows it lists.
    assert!(
        compare(
            &expected,
            3,
            &[],
            &[row("c", "1"), row("a", "2"), row("b", "1")],
            None
        )
        .is_ok()
    );
    assert!(
        compare(
            &expected[..1],
            3,
            &[1],
            &[row("a", "2"), row("x", "1"), row("y", "1")],
            None
        )
        .is_ok()
    );
    assert!(
        compare(
            &expected[..1],
            3,
            &[1],
            &[row("a", "3"), row("x", "1"), row("y", "1")],
            None
        )
        .is_err()
    );
}

#[test]
fn records_become_flow_lines() {
    let record: Map<String, Value> = serde_json::from_str(
        r#"{"start": "1970-01-01T00:00:01.999+0000", "srcaddr": "10.0.0.1", "dstaddr": null,
            "protocol": "6", "bytes": 40, "packets": 1, "action": "REJECT", "total_count": 3}"#,
    )
    .expect("valid JSON");
    assert_eq!(
        flow_line(&record).expect("a valid record"),
        "1 1 10.0.0.1 - 6 40 1 REJECT 3"
    );
    assert_eq!(
        epoch_seconds("2025-04-12T00:00:00.000001+0000"),
        Ok(1_744_416_000)
    );
}
