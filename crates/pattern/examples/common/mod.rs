//! What the monitor benchmarks share (`crates/pattern/examples/bench.rs` and
//! `crates/monitor/examples/bench_metrics.rs`, which includes this file by path): the 20
//! metric filters of mixed styles with their regex peers, and the synthetic lines.

#![allow(dead_code)] // each benchmark uses part of it

use flowwatch_pattern::{MetricFilter, MetricTransformation};

pub const FIELDS: &str = "version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, logstatus";

/// A default-format slot list with `slot` replacing the field it names.
pub fn vpc(name: &str, slot: &str) -> String {
    let slots: Vec<&str> = FIELDS
        .split(", ")
        .map(|f| if f == name { slot } else { f })
        .collect();
    format!("[{}]", slots.join(", "))
}

/// A peer regex over a whole default-format line: field `i` (0-based) must match `value`.
pub fn field_re(i: usize, value: &str) -> String {
    format!(r"^(?:\S+ ){{{i}}}{value}(?: \S+){{{}}}$", 13 - i)
}

/// One benchmark filter: the pattern, its metric transformation, and its closest equivalent
/// as regexes over the line (every `(regex, true)` must match and no `(regex, false)`).
pub struct Filter {
    pub pattern: String,
    pub transformation: MetricTransformation,
    pub peer: Vec<(String, bool)>,
}

pub fn filters() -> Vec<Filter> {
    let ssh = r#"[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]"#;
    let space: [(String, Vec<(String, bool)>); 12] = [
        (
            ssh.to_owned(),
            vec![(r"^(?:\S+ ){6}22 6 (?:\S+ ){4}REJECT \S+$".to_owned(), true)],
        ),
        (
            vpc("dstport", "dstport = 80 || dstport = 8080"),
            vec![(field_re(6, "(?:80|8080)"), true)],
        ),
        (
            vpc("bytes", "bytes >= 400"),
            vec![(field_re(9, r"(?:[4-9]\d\d|[1-9]\d{3,})"), true)],
        ),
        (
            vpc("srcaddr", "srcaddr = 10.0.2.*"),
            vec![(field_re(3, r"10\.0\.2\.\S*"), true)],
        ),
        (
            vpc("action", "action = REJECT"),
            vec![(field_re(12, "REJECT"), true)],
        ),
        (
            vpc("protocol", "protocol = 17"),
            vec![(field_re(7, "17"), true)],
        ),
        (
            vpc("logstatus", "logstatus = NODATA || logstatus = SKIPDATA"),
            vec![(field_re(13, "(?:NODATA|SKIPDATA)"), true)],
        ),
        (
            vpc("packets", "packets > 10 && packets < 100"),
            vec![(field_re(8, r"(?:1[1-9]|[2-9]\d)"), true)],
        ),
        (
            vpc("eni", "eni = eni-00*"),
            vec![(field_re(2, r"eni-00\S*"), true)],
        ),
        (
            vpc("dstaddr", "dstaddr != 10.*"),
            vec![(
                field_re(4, r"(?:[^1 ]\S*|1(?:[^0 ]\S*)?|10(?:[^. ]\S*)?)"),
                true,
            )],
        ),
        (
            "[..., action = REJECT, logstatus]".to_owned(),
            vec![(r"(?:^|\s)REJECT\s+\S+\s*$".to_owned(), true)],
        ),
        (
            vpc("srcaddr", r"srcaddr = %^10\.0\.[0-9]+\.1$%"),
            vec![(field_re(3, r"10\.0\.[0-9]+\.1"), true)],
        ),
    ];
    let terms: [(&str, Vec<(&str, bool)>); 5] = [
        ("REJECT", vec![("REJECT", true)]),
        ("\"172.31.\"", vec![(r"172\.31\.", true)]),
        ("?SKIPDATA ?NODATA", vec![("SKIPDATA|NODATA", true)]),
        (
            "ACCEPT -\" 443 \"",
            vec![("ACCEPT", true), (" 443 ", false)],
        ),
        (
            "\" 3389 \" REJECT",
            vec![(" 3389 ", true), ("REJECT", true)],
        ),
    ];
    let json: [(&str, Vec<(&str, bool)>); 3] = [
        (
            r#"{ $.action = "REJECT" }"#,
            vec![(r#"^\s*\{.*"action"\s*:\s*"REJECT""#, true)],
        ),
        (
            "{ $.bytes > 1000 && $.dstport = 22 }",
            vec![
                (
                    r#"^\s*\{.*"bytes"\s*:\s*(?:100[1-9]|10[1-9]\d|1[1-9]\d\d|[2-9]\d{3}|[1-9]\d{4,})\b"#,
                    true,
                ),
                (r#"^\s*\{.*"dstport"\s*:\s*22\b"#, true),
            ],
        ),
        (
            "{ $.srcaddr = 10.0.* || $.logStatus IS NULL }",
            vec![(
                r#"^\s*\{.*(?:"srcaddr"\s*:\s*"10\.0\.|"logStatus"\s*:\s*null)"#,
                true,
            )],
        ),
    ];
    let mut out = Vec::new();
    for (i, (p, peer)) in space.into_iter().enumerate() {
        let mut m = MetricTransformation::count("VPC", &format!("space{i}"));
        if i % 2 == 0 && p.starts_with("[version") {
            m.metric_value = "$bytes".into();
            m.dimensions.insert("ENI".into(), "$eni".into());
        }
        out.push(Filter {
            pattern: p,
            transformation: m,
            peer,
        });
    }
    for (i, (p, peer)) in terms.into_iter().enumerate() {
        out.push(Filter {
            pattern: p.to_owned(),
            transformation: MetricTransformation::count("VPC", &format!("terms{i}")),
            peer: peer.into_iter().map(|(r, b)| (r.to_owned(), b)).collect(),
        });
    }
    for (i, (p, peer)) in json.into_iter().enumerate() {
        let mut m = MetricTransformation::count("VPC", &format!("json{i}"));
        m.metric_value = "$.bytes".into();
        out.push(Filter {
            pattern: p.to_owned(),
            transformation: m,
            peer: peer.into_iter().map(|(r, b)| (r.to_owned(), b)).collect(),
        });
    }
    assert_eq!(out.len(), 20);
    out
}

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Default-format lines: half the sources in 10.0.0.0/14, destinations in 172.31.0.0/16,
/// three quarters of destination ports from a list of services, a fifth rejected, 1 % NODATA.
pub fn lines(n: usize) -> Vec<String> {
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

/// The filters compiled as `MetricFilter`s named `f0`…`f19` of log group `bench`.
pub fn compiled(filters: &[Filter]) -> Vec<flowwatch_pattern::CompiledMetricFilter> {
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            MetricFilter {
                filter_name: format!("f{i}"),
                filter_pattern: f.pattern.clone(),
                metric_transformations: vec![f.transformation.clone()],
                creation_time: None,
                log_group_name: "bench".into(),
                apply_on_transformed_logs: None,
            }
            .compile()
            .unwrap_or_else(|e| panic!("{}: {e}", f.pattern))
        })
        .collect()
}
