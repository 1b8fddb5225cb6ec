//! Records per second through 20 metric filters of mixed styles (12 space-delimited, 5 terms,
//! 3 JSON) on synthetic default-format (v2) VPC flow-log lines, on one core, against the
//! `regex` crate as a peer in the same run.
//!
//! `cargo run --profile bench-fast -p flowwatch-pattern --example bench -- [options]`
//!
//! ```text
//! --records N        lines generated (default 1,000,000)
//! --rounds N         rounds of measurements (default 5); each round times every
//!                    measurement once, at least 0.1 s of CPU time
//! --peer-records N   lines the regex peers run over (default 200,000: they are slow)
//! --tsv              also print `key<TAB>value` lines (what scripts/bench-monitor reads)
//! --dump DIR         write the lines (lines.txt) and the peer regexes (peer.json) for DuckDB
//! --only WORD        run only the measurements whose name contains WORD (for profiling)
//! --per-filter       also time every filter on its own over pre-split events
//! --passes N         exactly N timed passes per measurement (for instruction counts under
//!                    `valgrind --tool=cachegrind`, where CPU-time sampling is meaningless)
//! ```
//!
//! Times are CPU time of this thread (`/proc/thread-self/schedstat`, nanoseconds), so that
//! other processes sharing the machine stretch wall time without changing the figures much.
//! Measurements run in interleaved rounds; the best round is reported (the least disturbed:
//! what one core does) and the median (what it did on a shared machine). Without schedstat,
//! wall time is used.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly
#![allow(clippy::cast_precision_loss)]

use std::hint::black_box;
use std::time::Instant;

use flowwatch_pattern::{FieldBuf, Pattern, Style};
use regex::{Regex, RegexSet};

mod common;
use common::{Filter, filters, lines};

/// The filters compared with DuckDB (few, since DuckDB's regexes are slow to set up per
/// filter): the rejected-SSH filter, a regex slot and a plain term.
const DUCKDB_TRIO: [usize; 3] = [0, 11, 12];

/// CPU time of this thread in nanoseconds, if the kernel reports it.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// A clock: thread CPU time when available, wall time otherwise.
struct Clock {
    cpu: bool,
    wall: Instant,
    passes: Option<u64>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            cpu: thread_cpu_ns().is_some(),
            wall: Instant::now(),
            passes: None,
        }
    }

    fn now_ns(&self) -> u64 {
        if self.cpu {
            thread_cpu_ns().unwrap_or(0)
        } else {
            self.wall.elapsed().as_nanos() as u64
        }
    }

    /// Nanoseconds per call of `f`: samples of at least 0.1 s each (schedstat's CPU time
    /// advances by scheduler ticks, so shorter samples would be coarse), at least five, until
    /// `min_secs` have gone by; the best and the median sample.
    fn per_call(&self, min_secs: f64, mut f: impl FnMut()) -> Sample {
        if let Some(n) = self.passes {
            let t = self.now_ns();
            for _ in 0..n {
                f();
            }
            let ns = (self.now_ns() - t) as f64 / n as f64;
            return Sample {
                best: ns,
                median: ns,
            };
        }
        let start = self.now_ns();
        let mut samples = Vec::new();
        let min_samples = if min_secs > 0.0 { 5 } else { 1 };
        while samples.len() < min_samples || (self.now_ns() - start) as f64 / 1e9 < min_secs {
            let t = self.now_ns();
            let mut calls = 0u64;
            while calls == 0 || self.now_ns() - t < 100_000_000 {
                f();
                calls += 1;
            }
            samples.push((self.now_ns() - t) as f64 / calls as f64);
        }
        samples.sort_by(f64::total_cmp);
        Sample {
            best: samples[0],
            median: samples[samples.len() / 2],
        }
    }
}

/// Nanoseconds per call: the least disturbed sample (what one core can do) and the median
/// (what it did on this machine, shared with other work).
#[derive(Clone, Copy)]
struct Sample {
    best: f64,
    median: f64,
}

impl std::ops::Div<f64> for Sample {
    type Output = Sample;

    fn div(self, d: f64) -> Sample {
        Sample {
            best: self.best / d,
            median: self.median / d,
        }
    }
}

struct Args {
    records: usize,
    rounds: usize,
    peer_records: usize,
    tsv: bool,
    dump: Option<String>,
    only: Option<String>,
    per_filter: bool,
    passes: Option<u64>,
}

fn args() -> Args {
    let mut a = Args {
        records: 1_000_000,
        rounds: 5,
        peer_records: 200_000,
        tsv: false,
        dump: None,
        only: None,
        per_filter: false,
        passes: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--records" => a.records = value().parse().expect("--records N"),
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            "--peer-records" => a.peer_records = value().parse().expect("--peer-records N"),
            "--dump" => a.dump = Some(value()),
            "--only" => a.only = Some(value()),
            "--passes" => a.passes = Some(value().parse().expect("--passes N")),
            "--tsv" => a.tsv = true,
            "--per-filter" => a.per_filter = true,
            other => panic!("unknown argument {other} (see the header of examples/bench.rs)"),
        }
    }
    a
}

/// One measurement: a pass over `records` lines, returning a match count.
struct Job<'a> {
    key: &'static str,
    name: &'static str,
    filters: usize,
    records: usize,
    run: Box<dyn FnMut() -> u64 + 'a>,
    matches: u64,
    samples: Vec<f64>,
}

/// The measurements, run in interleaved rounds (each round times every job once), so that
/// other work on the machine disturbs all of them alike rather than whichever ran when it
/// started.
struct Bench<'a> {
    clock: Clock,
    rounds: usize,
    only: Option<String>,
    jobs: Vec<Job<'a>>,
    tsv: Vec<(String, String)>,
}

impl<'a> Bench<'a> {
    fn add(
        &mut self,
        key: &'static str,
        name: &'static str,
        filters: usize,
        records: usize,
        run: impl FnMut() -> u64 + 'a,
    ) {
        if self
            .only
            .as_ref()
            .is_some_and(|w| !name.contains(w.as_str()))
        {
            return;
        }
        self.jobs.push(Job {
            key,
            name,
            filters,
            records,
            run: Box::new(run),
            matches: 0,
            samples: Vec::new(),
        });
    }

    /// One warm-up pass per job (which gives the match count), then `rounds` rounds; a
    /// sample is the passes of a job in one round, at least 0.1 s of them.
    fn run(&mut self) {
        for job in &mut self.jobs {
            job.matches = (job.run)();
        }
        for _ in 0..self.rounds {
            for job in &mut self.jobs {
                let ns = self.clock.per_call(0.0, || {
                    black_box((job.run)());
                });
                job.samples.push(ns.best / job.records as f64);
            }
        }
        for job in &mut self.jobs {
            job.samples.sort_by(f64::total_cmp);
            let (best, median) = (job.samples[0], job.samples[job.samples.len() / 2]);
            println!(
                "{:<50} {:>6.2} M/s best {:>6.2} M/s median {best:>7.1} ns/record {:>6.1} ns/filter {:>8} matches",
                job.name,
                1e3 / best,
                1e3 / median,
                best / job.filters as f64,
                job.matches,
            );
            for (what, v) in [("best", best), ("median", median)] {
                self.tsv.push((
                    format!("{}.ns_per_record.{what}", job.key),
                    format!("{v:.2}"),
                ));
            }
            self.tsv
                .push((format!("{}.matches", job.key), job.matches.to_string()));
        }
    }

    fn matches(&self, key: &str) -> Option<u64> {
        self.jobs.iter().find(|j| j.key == key).map(|j| j.matches)
    }
}

/// A pass over `lines`: split each once, match every pattern of `set`.
fn split_match<'a>(lines: &'a [&'a str], set: Vec<&'a Pattern>) -> impl FnMut() -> u64 + 'a {
    let mut buf = FieldBuf::new();
    move || {
        let mut m = 0;
        for line in lines {
            let event = buf.split(line);
            for p in &set {
                m += u64::from(p.is_match_event(event));
            }
        }
        m
    }
}

/// A pass over `lines`: every pattern of `set` on the unsplit line.
fn unsplit<'a>(lines: &'a [&'a str], set: Vec<&'a Pattern>) -> impl FnMut() -> u64 + 'a {
    move || {
        let mut m = 0;
        for line in lines {
            for p in &set {
                m += u64::from(p.is_match(line));
            }
        }
        m
    }
}

/// A filter's peer: its regexes, each with whether it must match.
type Peer = Vec<(Regex, bool)>;

fn peer_match(peer: &Peer, line: &str) -> bool {
    peer.iter().all(|(r, want)| r.is_match(line) == *want)
}

fn main() {
    let a = args();
    // One contiguous buffer, as ingest sees a decompressed file (separately allocated lines
    // would measure cache misses, not matching).
    let buffer = lines(a.records).join("\n");
    let lines: Vec<&str> = buffer.lines().collect();
    let filters = filters();
    let compiled = common::compiled(&filters);
    let patterns: Vec<&Pattern> = compiled.iter().map(|c| &c.pattern).collect();
    let style_of = |s: Style| -> Vec<&Pattern> {
        patterns
            .iter()
            .copied()
            .filter(|p| p.style() == s)
            .collect()
    };
    let (space, terms, json) = (
        style_of(Style::SpaceDelimited),
        style_of(Style::Terms),
        style_of(Style::Json),
    );
    let peers: Vec<Peer> = filters
        .iter()
        .map(|f| {
            f.peer
                .iter()
                .map(|(r, want)| (Regex::new(r).unwrap(), *want))
                .collect()
        })
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut clock = Clock::new();
    clock.passes = a.passes;
    println!(
        "{} default-format v2 records ({:.1} MB, {:.0} B/record), 20 filters ({} space-delimited, {} terms, {} JSON), one thread, {} time",
        lines.len(),
        bytes as f64 / 1e6,
        bytes as f64 / lines.len() as f64,
        space.len(),
        terms.len(),
        json.len(),
        if clock.cpu { "thread CPU" } else { "wall" },
    );
    let mut b = Bench {
        clock,
        rounds: a.rounds.max(1),
        only: a.only.clone(),
        jobs: Vec::new(),
        tsv: vec![
            ("records".into(), lines.len().to_string()),
            (
                "bytes_per_record".into(),
                format!("{:.1}", bytes as f64 / lines.len() as f64),
            ),
        ],
    };
    let all_lines = &lines;
    let peer_lines = &lines[..lines.len().min(a.peer_records.max(1))];
    let n = lines.len();

    // ---- this crate: the 20 filters, as crates/monitor runs them
    b.add(
        "ours.all",
        "20 filters: split once + is_match_event",
        20,
        n,
        split_match(all_lines, patterns.clone()),
    );
    let compiled = &compiled;
    let mut buf = FieldBuf::new();
    b.add(
        "ours.metric",
        "20 filters: split once + evaluate (match + value)",
        20,
        n,
        move || {
            let mut m = 0;
            for line in all_lines {
                let event = buf.split(line);
                for f in compiled {
                    if let Some(point) = f.evaluate(event) {
                        black_box(point);
                        m += 1;
                    }
                }
            }
            m
        },
    );
    let mut buf = FieldBuf::new();
    b.add(
        "ours.metric_borrowed",
        "20 filters: split once + evaluate_with (no alloc)",
        20,
        n,
        move || {
            let mut m = 0;
            for line in all_lines {
                let event = buf.split(line);
                for f in compiled {
                    if let Some(v) = f.evaluate_with(event, |v, dims| v + dims.len() as f64) {
                        black_box(v);
                        m += 1;
                    }
                }
            }
            m
        },
    );
    b.add(
        "ours.unsplit",
        "20 filters: each is_match on the line",
        20,
        n,
        unsplit(all_lines, patterns.clone()),
    );

    // ---- per style
    let mut buf = FieldBuf::new();
    b.add("style.split", "split alone", 1, n, move || {
        let mut m = 0;
        for line in all_lines {
            m += buf.split(line).field_count() as u64;
        }
        m
    });
    // Each style with the split, as in the 20-filter run (the split brings the line into
    // cache); the style's own cost is the difference from splitting alone.
    b.add(
        "style.space",
        "split + 12 space-delimited",
        12,
        n,
        split_match(all_lines, space.clone()),
    );
    b.add(
        "style.terms",
        "split + 5 terms",
        5,
        n,
        split_match(all_lines, terms.clone()),
    );
    b.add(
        "style.json",
        "split + 3 JSON",
        3,
        n,
        split_match(all_lines, json.clone()),
    );

    // ---- peer: the regex crate, closest equivalents of the same 20 filters
    let peers = &peers;
    let pn = peer_lines.len();
    b.add(
        "regex.each",
        "peer: regex crate, one Regex per filter",
        20,
        pn,
        move || {
            let mut m = 0;
            for line in peer_lines {
                for p in peers {
                    m += u64::from(peer_match(p, line));
                }
            }
            m
        },
    );
    // A RegexSet of every regex; a filter matches when its regexes are (not) in the set.
    let all: Vec<&str> = filters
        .iter()
        .flat_map(|f| f.peer.iter().map(|(r, _)| r.as_str()))
        .collect();
    let set = RegexSet::new(&all).unwrap();
    let mut ranges = Vec::new();
    let mut k = 0;
    for f in &filters {
        let r: Vec<(usize, bool)> = f
            .peer
            .iter()
            .map(|(_, want)| {
                k += 1;
                (k - 1, *want)
            })
            .collect();
        ranges.push(r);
    }
    b.add(
        "regex.set",
        "peer: regex crate, one RegexSet of all 20",
        20,
        pn,
        move || {
            let mut m = 0;
            for line in peer_lines {
                let hit = set.matches(line);
                for r in &ranges {
                    m += u64::from(r.iter().all(|&(i, want)| hit.matched(i) == want));
                }
            }
            m
        },
    );
    // Ours over the peers' lines, to compare match counts.
    b.add(
        "ours.peer_lines",
        "20 filters over the peers' lines (counts)",
        20,
        pn,
        {
            let mut buf = FieldBuf::new();
            let set = patterns.clone();
            move || {
                let mut m = 0;
                for line in peer_lines {
                    let event = buf.split(line);
                    for p in &set {
                        m += u64::from(p.is_match_event(event));
                    }
                }
                m
            }
        },
    );

    // ---- the DuckDB trio, for scripts/bench-monitor's DuckDB comparison
    let trio: Vec<&Pattern> = DUCKDB_TRIO.iter().map(|&i| patterns[i]).collect();
    b.add(
        "trio.ours",
        "3 filters (DuckDB set): split once + match",
        3,
        n,
        split_match(all_lines, trio),
    );
    let trio_peers: Vec<&Peer> = DUCKDB_TRIO.iter().map(|&i| &peers[i]).collect();
    b.add(
        "trio.regex",
        "3 filters (DuckDB set): regex crate",
        3,
        pn,
        move || {
            let mut m = 0;
            for line in peer_lines {
                for p in &trio_peers {
                    m += u64::from(peer_match(p, line));
                }
            }
            m
        },
    );

    b.run();
    if let (Some(ours), Some(theirs)) = (b.matches("ours.peer_lines"), b.matches("regex.each")) {
        let agree = ours == theirs;
        println!(
            "match counts over {pn} lines: ours {ours}, regex {theirs} ({})",
            if agree { "agree" } else { "DIFFER" }
        );
        b.tsv.push(("counts_agree".into(), agree.to_string()));
    }

    if a.per_filter {
        per_filter(&lines, &patterns, peers);
    }
    if let Some(dir) = &a.dump {
        dump(dir, &buffer, &filters, &patterns, &lines);
    }
    if a.tsv {
        for (k, v) in &b.tsv {
            println!("TSV\t{k}\t{v}");
        }
    }
}

/// Each filter alone over events split beforehand (a slice of the lines that fits in cache,
/// so the figure is the filter's own cost), with its match count and the peer's.
fn per_filter(lines: &[&str], patterns: &[&Pattern], peers: &[Peer]) {
    let lines = &lines[..lines.len().min(20_000)];
    let mut bufs = vec![FieldBuf::new(); lines.len()];
    let events: Vec<_> = bufs
        .iter_mut()
        .zip(lines)
        .map(|(b, l)| b.split(l))
        .collect();
    let clock = Clock::new();
    println!(
        "per filter over {} pre-split events (ns/record: ours, regex peer; match counts):",
        lines.len()
    );
    for (p, peer) in patterns.iter().zip(peers) {
        let mut n = 0;
        let ns = clock
            .per_call(0.5, || {
                n = black_box(
                    events
                        .iter()
                        .map(|e| u64::from(p.is_match_event(*e)))
                        .sum::<u64>(),
                );
            })
            .best
            / lines.len() as f64;
        let mut pn = 0;
        let pns = clock
            .per_call(0.5, || {
                pn = black_box(
                    lines
                        .iter()
                        .map(|l| u64::from(peer_match(peer, l)))
                        .sum::<u64>(),
                );
            })
            .best
            / lines.len() as f64;
        let flag = if n == pn { "" } else { "  COUNTS DIFFER" };
        println!(
            "  {ns:>6.1} {pns:>7.1}  {n:>6} {pn:>6}  {}{flag}",
            p.as_str()
        );
    }
}

/// Writes the lines and the DuckDB trio's peer regexes (with our match counts) to `dir`.
fn dump(dir: &str, buffer: &str, filters: &[Filter], patterns: &[&Pattern], lines: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/lines.txt"), format!("{buffer}\n")).unwrap();
    let mut buf = FieldBuf::new();
    let trio: Vec<serde_json::Value> = DUCKDB_TRIO
        .iter()
        .map(|&i| {
            let ours = lines
                .iter()
                .filter(|l| patterns[i].is_match_event(buf.split(l)))
                .count();
            serde_json::json!({
                "pattern": filters[i].pattern,
                "regexes": filters[i].peer.iter().map(|(r, want)| serde_json::json!([r, want])).collect::<Vec<_>>(),
                "ours": ours,
            })
        })
        .collect();
    std::fs::write(
        format!("{dir}/peer.json"),
        serde_json::to_string_pretty(&trio).unwrap(),
    )
    .unwrap();
}
