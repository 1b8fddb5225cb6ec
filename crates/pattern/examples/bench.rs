//! Records per second through 20 mixed filters (space-delimited, terms, JSON) on synthetic
//! default-format (v2) VPC flow-log lines, on one core.
//!
//! `cargo run --release -p flowwatch-pattern --example bench [records]`
//!
//! Three ways of running the filters: each pattern on its own (`is_match`, which splits as it
//! goes), the event split once and shared (`FieldBuf` + `is_match_event`), and the metric path
//! (split once, `matches_event` + `MetricTransformation::apply` on every match).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::hint::black_box;
use std::time::Instant;

use flowwatch_pattern::{FieldBuf, MetricTransformation, Pattern};

const FIELDS: &str = "version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, logstatus";

/// A default-format slot list with `slot` replacing the field it names.
fn vpc(name: &str, slot: &str) -> String {
    let slots: Vec<&str> = FIELDS
        .split(", ")
        .map(|f| if f == name { slot } else { f })
        .collect();
    format!("[{}]", slots.join(", "))
}

fn filters() -> Vec<(String, MetricTransformation)> {
    let space = [
        r#"[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]"#.to_owned(),
        vpc("dstport", "dstport = 80 || dstport = 8080"),
        vpc("bytes", "bytes >= 400"),
        vpc("srcaddr", "srcaddr = 10.0.2.*"),
        vpc("action", "action = REJECT"),
        vpc("protocol", "protocol = 17"),
        vpc("logstatus", "logstatus = NODATA || logstatus = SKIPDATA"),
        vpc("packets", "packets > 10 && packets < 100"),
        vpc("eni", "eni = eni-00*"),
        vpc("dstaddr", "dstaddr != 10.*"),
        "[..., action = REJECT, logstatus]".to_owned(),
        vpc("srcaddr", r"srcaddr = %^10\.0\.[0-9]+\.1$%"),
    ];
    let terms = [
        "REJECT",
        "\"172.31.\"",
        "?SKIPDATA ?NODATA",
        "ACCEPT -\" 443 \"",
        "\" 3389 \" REJECT",
    ];
    let json = [
        r#"{ $.action = "REJECT" }"#,
        "{ $.bytes > 1000 && $.dstport = 22 }",
        "{ $.srcaddr = 10.0.* || $.logStatus IS NULL }",
    ];
    let mut out = Vec::new();
    for (i, p) in space.iter().enumerate() {
        let mut m = MetricTransformation::count("VPC", &format!("space{i}"));
        if i % 2 == 0 && p.starts_with("[version") {
            m.metric_value = "$bytes".into();
            m.dimensions.insert("ENI".into(), "$eni".into());
        }
        out.push((p.clone(), m));
    }
    for (i, p) in terms.iter().enumerate() {
        out.push((
            (*p).to_owned(),
            MetricTransformation::count("VPC", &format!("terms{i}")),
        ));
    }
    for (i, p) in json.iter().enumerate() {
        let mut m = MetricTransformation::count("VPC", &format!("json{i}"));
        m.metric_value = "$.bytes".into();
        out.push(((*p).to_owned(), m));
    }
    assert_eq!(out.len(), 20);
    out
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn lines(n: usize) -> Vec<String> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let ports = [22, 80, 443, 8080, 53, 3389, 5432];
    (0..n)
        .map(|_| {
            let eni = format!("eni-{:017x}", r.below(64));
            let start = 1_563_108_000 + r.below(86_400);
            if r.below(100) == 0 {
                return format!("2 123456789012 {eni} - - - - - - - {start} {} - NODATA", start + 60);
            }
            let src = if r.below(2) == 0 {
                format!("10.0.{}.{}", r.below(4), r.below(256))
            } else {
                format!("{}.{}.{}.{}", 1 + r.below(223), r.below(256), r.below(256), r.below(256))
            };
            let dst = format!("172.31.{}.{}", r.below(256), r.below(256));
            let dstport = if r.below(4) == 0 {
                1024 + r.below(60_000)
            } else {
                ports[r.below(ports.len() as u64) as usize]
            };
            let protocol = [6, 6, 6, 17, 1][r.below(5) as usize];
            let packets = 1 + r.below(200);
            let bytes = packets * (40 + r.below(1400));
            let action = if r.below(5) == 0 { "REJECT" } else { "ACCEPT" };
            format!(
                "2 123456789012 {eni} {src} {dst} {} {dstport} {protocol} {packets} {bytes} {start} {} {action} OK",
                1024 + r.below(60_000),
                start + r.below(60)
            )
        })
        .collect()
}

fn measure(name: &str, records: usize, mut run: impl FnMut() -> u64) {
    // `--only WORD` runs just the measurements whose name contains WORD (for profiling).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only")
        && args.get(i + 1).is_some_and(|w| !name.contains(w.as_str()))
    {
        return;
    }
    let filters = if name.ends_with(" x1") { 1.0 } else { 20.0 };
    // `--passes N` fixes the number of timed passes (for instruction counts under valgrind).
    let fixed: Option<u32> = args
        .iter()
        .position(|a| a == "--passes")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    // One warm-up pass, then passes until a second has gone by.
    let matches = run();
    let t = Instant::now();
    let mut passes = 0u32;
    while fixed.map_or(passes < 3 || t.elapsed().as_secs_f64() < 1.0, |n| {
        passes < n
    }) {
        black_box(run());
        passes += 1;
    }
    let secs = t.elapsed().as_secs_f64() / f64::from(passes);
    let rate = records as f64 / secs;
    println!(
        "{name:<44} {:>8.2} M records/s  {:>7.1} ns/record  {:>6.1} ns/filter  ({matches} matches)",
        rate / 1e6,
        secs * 1e9 / records as f64,
        secs * 1e9 / records as f64 / filters,
    );
}

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .take_while(|a| a.parse::<usize>().is_ok() || !a.starts_with("--"))
        .find_map(|s| s.parse().ok())
        .unwrap_or(200_000);
    // One contiguous buffer, as ingest sees a decompressed file (separately allocated lines
    // would measure cache misses, not matching).
    let buffer = lines(records).join("\n");
    let lines: Vec<&str> = buffer.lines().collect();
    let filters = filters();
    let patterns: Vec<Pattern> = filters
        .iter()
        .map(|(p, m)| {
            let pat = Pattern::parse(p).unwrap_or_else(|e| panic!("{}", e.render(p)));
            m.validate_for(&pat).unwrap();
            pat
        })
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!(
        "{records} default-format v2 records ({:.1} MB), 20 filters (12 space-delimited, 5 terms, 3 JSON), one core",
        bytes as f64 / 1e6
    );

    // Peers: the standard library's whitespace split, and the rejected-SSH filter (the first
    // pattern) as a regex, the way one would write it without this crate.
    measure("peer: split_ascii_whitespace().count() x1", records, || {
        lines
            .iter()
            .map(|l| l.split_ascii_whitespace().count() as u64)
            .sum()
    });
    let ssh =
        regex::Regex::new(r"^\S+ \S+ \S+ \S+ \S+ \S+ 22 6 \S+ \S+ \S+ \S+ REJECT \S+$").unwrap();
    measure("peer: SSH filter as one regex x1", records, || {
        lines.iter().map(|l| u64::from(ssh.is_match(l))).sum()
    });
    let mut one = FieldBuf::new();
    measure("this crate: split + SSH filter x1", records, || {
        lines
            .iter()
            .map(|l| u64::from(patterns[0].is_match_event(one.split(l))))
            .sum()
    });
    measure(
        "this crate: SSH filter alone (is_match) x1",
        records,
        || {
            lines
                .iter()
                .map(|l| u64::from(patterns[0].is_match(l)))
                .sum()
        },
    );

    measure("each pattern alone (is_match)", records, || {
        let mut n = 0;
        for line in &lines {
            for p in &patterns {
                n += u64::from(p.is_match(line));
            }
        }
        n
    });

    let mut buf = FieldBuf::new();
    measure("split once, shared (is_match_event)", records, || {
        let mut n = 0;
        for line in &lines {
            let event = buf.split(line);
            for p in &patterns {
                n += u64::from(p.is_match_event(event));
            }
        }
        n
    });

    if std::env::args().any(|a| a == "--per-filter") {
        let t = Instant::now();
        for _ in 0..5 {
            for line in &lines {
                black_box(buf.split(black_box(line)));
            }
        }
        let split = t.elapsed().as_secs_f64() * 1e9 / (5 * records) as f64;
        println!("splitting alone: {split:.1} ns/record");
        println!("per filter, split once (ns/record, splitting subtracted):");
        for (p, (text, _)) in patterns.iter().zip(&filters) {
            let t = Instant::now();
            let mut n = 0u64;
            for line in &lines {
                n += u64::from(p.is_match_event(buf.split(line)));
            }
            let split_only = Instant::now();
            for line in &lines {
                black_box(buf.split(line));
            }
            let ns = |d: std::time::Duration| d.as_secs_f64() * 1e9 / records as f64;
            let total = ns(split_only - t);
            let split = ns(split_only.elapsed());
            println!("  {:>6.1}  {n:>7}  {text}", total - split);
        }
    }

    measure("metric path (matches_event + apply)", records, || {
        let mut n = 0;
        for line in &lines {
            let event = buf.split(line);
            for (p, (_, m)) in patterns.iter().zip(&filters) {
                if let Some(c) = p.matches_event(event)
                    && let Some((v, dims)) = m.apply(&c)
                {
                    black_box((v, dims));
                    n += 1;
                }
            }
        }
        n
    });
}
