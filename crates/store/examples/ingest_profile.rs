//! One ingest thread without the CLI around it (no DataFusion to build): every `.log.gz` under
//! the given directory is read, parsed and written as hour-partitioned Parquet into a scratch
//! directory, and the time of each stage is printed. For `perf record` and quick A/B runs of
//! the parse and encode path; `scripts/bench-ingest` measures the real command.
//!
//! `cargo run --release -p flowwatch-store --example ingest_profile -- bench-data/input [parse]`
//! (`parse` stops after parsing, to separate reading from encoding; `KEEP=1` keeps the output).

use std::path::{Path, PathBuf};
use std::time::Instant;

use flowwatch_flowlog::{Output, ReadOptions, s3path};
use flowwatch_store::PartitionedWriter;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.to_string_lossy().ends_with(".log.gz") {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: ingest_profile DIR [parse]");
        std::process::exit(2);
    };
    let parse_only = args.get(1).is_some_and(|a| a == "parse");
    let mut files = Vec::new();
    walk(Path::new(dir), &mut files);
    files.sort();
    let scratch = tempdir();
    let mut writer = PartitionedWriter::new(&scratch, "part");
    let opts = ReadOptions::default();
    let t0 = Instant::now();
    let mut records = 0u64;
    let mut rejected = 0u64;
    let mut error = None;
    for f in &files {
        let name = f.to_string_lossy();
        let summary = flowwatch_flowlog::read_path(
            f,
            &name,
            s3path::defaults_from_path(f),
            &opts,
            &mut |out| match out {
                Output::Batch(b) if !parse_only => {
                    if let Err(e) = writer.write(&b) {
                        error.get_or_insert(e.to_string());
                    }
                }
                Output::Batch(_) => {}
                Output::Reject(_) => rejected += 1,
            },
        );
        records += summary.records;
    }
    let written = writer.finish();
    let secs = t0.elapsed().as_secs_f64();
    let bytes: u64 = walk_size(&scratch);
    println!(
        "{} files, {records} records ({rejected} rejected) in {secs:.2} s = {:.0} records/s; \
         {bytes} bytes on disk = {:.2} B/record",
        files.len(),
        records as f64 / secs,
        bytes as f64 / records.max(1) as f64
    );
    if let Some(e) = error {
        eprintln!("write error: {e}");
    }
    if let Err(e) = written {
        eprintln!("finish error: {e}");
    }
    if std::env::var_os("KEEP").is_some() {
        println!("kept {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn tempdir() -> PathBuf {
    let p = std::env::temp_dir().join(format!("ingest-profile-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&p);
    p
}

fn walk_size(dir: &Path) -> u64 {
    let mut files = Vec::new();
    fn all(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(es) = std::fs::read_dir(d) {
            for e in es.flatten() {
                let p = e.path();
                if p.is_dir() {
                    all(&p, out)
                } else {
                    out.push(p)
                }
            }
        }
    }
    all(dir, &mut files);
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}
