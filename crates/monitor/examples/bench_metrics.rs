//! Records per second through the metric path that `flowwatch ingest` and `metrics backfill`
//! run: the 20 filters of `crates/pattern/examples/bench.rs` (same definitions, same lines)
//! and [`MetricAccumulator`]: split once, every filter's match, value and dimensions, the
//! data point aggregated into its (dimensions, minute) cell. Lines are ordered as the store
//! keeps them (by hour, then ENI, then time). One thread; CPU time of the thread.
//!
//! `cargo run --profile bench-fast -p flowwatch-monitor --example bench_metrics -- [N [ROUNDS]]`
//! (defaults 1,000,000 records, 5 rounds). Prints `TSV<TAB>key<TAB>value` lines after a summary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::time::Instant;

use flowwatch_monitor::{GroupFilter, MetricAccumulator};

#[path = "../../pattern/examples/common/mod.rs"]
mod common;

fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("records"));
    let rounds: usize = args.next().map_or(5, |a| a.parse().expect("rounds"));
    let filters: Vec<GroupFilter> = common::compiled(&common::filters())
        .into_iter()
        .map(|filter| GroupFilter {
            log_group: "bench".into(),
            filter,
        })
        .collect();
    let refs: Vec<&GroupFilter> = filters.iter().collect();
    let mut records: Vec<(i64, String)> = common::lines(n)
        .into_iter()
        .map(|l| {
            let start: i64 = l.split(' ').nth(10).unwrap().parse().unwrap();
            (start * 1000, l)
        })
        .collect();
    // The store's order: hour partition, then log stream (ENI), then time.
    records
        .sort_by_cached_key(|(t, l)| (t / 3_600_000, l.split(' ').nth(2).map(str::to_owned), *t));
    // One contiguous buffer, as the rebuilt messages of a Parquet batch are.
    let mut buffer = String::new();
    let mut spans = Vec::with_capacity(records.len());
    for (t, l) in &records {
        spans.push((*t, buffer.len(), buffer.len() + l.len()));
        buffer.push_str(l);
    }
    drop(records);
    let mut best = f64::INFINITY;
    let mut all = Vec::new();
    let mut matched = 0;
    for _ in 0..rounds.max(1) {
        let mut acc = MetricAccumulator::new(&refs);
        let (cpu0, wall0) = (thread_cpu_ns(), Instant::now());
        for &(t, a, b) in &spans {
            acc.record(t, &buffer[a..b]);
        }
        let secs = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => wall0.elapsed().as_secs_f64(),
        };
        matched = (0..refs.len()).map(|i| acc.matched(i)).sum::<u64>();
        std::hint::black_box(&acc);
        best = best.min(secs);
        all.push(secs);
    }
    all.sort_by(f64::total_cmp);
    let median = all[all.len() / 2];
    println!(
        "{n} records through 20 filters into per-minute series: best {:.2} M records/s, median {:.2} M/s ({matched} data points per round)",
        n as f64 / best / 1e6,
        n as f64 / median / 1e6
    );
    // What scripts/bench-monitor reads.
    println!(
        "TSV\taccumulate.ns_per_record.best\t{:.1}",
        best * 1e9 / n as f64
    );
    println!(
        "TSV\taccumulate.ns_per_record.median\t{:.1}",
        median * 1e9 / n as f64
    );
    println!("TSV\taccumulate.points\t{matched}");
}
