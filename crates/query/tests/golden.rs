//! Golden tests: every `tests/golden/*.insights` query runs over `tests/golden/fixture.log` (the
//! spec's V-query fixture plus DNS, egress, NODATA and SKIPDATA records) and its output — a
//! table, or the rendered error — must equal the `.expected` file beside it.
//! `FLOWWATCH_BLESS=1 cargo nextest run -p flowwatch-query golden` rewrites the expected files;
//! review them as a diff.
//!
//! A query file may start with `#! start=<epoch s> end=<epoch s>` (a comment to Logs Insights)
//! to run over that time range, as `--start`/`--end` do. `lookup` sees the table `hosts`
//! (`tests/golden/hosts.csv`).

use std::path::{Path, PathBuf};

use flowwatch_query::{InsightsOptions, QueryEngine};

mod common;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn build_store(data: &Path) {
    common::ingest(data, "vpc", &golden_dir().join("fixture.log"));
}

/// `#! start=… end=…` on the first line: the time range, epoch seconds.
fn range(query: &str) -> (Option<i64>, Option<i64>) {
    let mut out = (None, None);
    if let Some(directive) = query.lines().next().and_then(|l| l.strip_prefix("#!")) {
        for kv in directive.split_whitespace() {
            let value = |v: &str| v.parse::<i64>().ok().map(|s| s * 1000);
            match kv.split_once('=') {
                Some(("start", v)) => out.0 = value(v),
                Some(("end", v)) => out.1 = value(v),
                _ => panic!("unknown golden directive {kv}"),
            }
        }
    }
    out
}

fn render(engine: &QueryEngine, query: &str) -> String {
    let (start_ms, end_ms) = range(query);
    let options = InsightsOptions {
        now_ms: 1_563_200_000_000,
        start_ms,
        end_ms,
        lookup_tables: vec![("hosts".into(), golden_dir().join("hosts.csv"))],
        ..InsightsOptions::default()
    };
    match engine.insights(query, &options) {
        Err(e) => e.render(query) + "\n",
        Ok(out) => {
            let mut s = out.columns.join(" | ");
            s.push('\n');
            for row in out.rows() {
                let cells: Vec<String> = row
                    .into_iter()
                    .map(|c| c.unwrap_or_else(|| "(null)".into()))
                    .collect();
                s.push_str(&cells.join(" | "));
                s.push('\n');
            }
            s
        }
    }
}

#[test]
fn golden_queries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    build_store(&data);
    let engine = QueryEngine::open(&data).expect("engine");
    let bless = std::env::var_os("FLOWWATCH_BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "insights"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "golden queries missing");
    let mut failures = vec![];
    for f in &files {
        let query = std::fs::read_to_string(f).expect("query");
        let query = query.trim_end();
        let got = render(&engine, query);
        let expected_path = f.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &got).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                f.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
