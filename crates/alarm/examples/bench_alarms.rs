//! The cost of one alarm-evaluation tick: 1,000 metric alarms (mixed statistics, periods
//! 60–300 s, M out of N, every `TreatMissingData`) over an [`InMemorySource`] holding a day of
//! per-minute data for 200 metrics, evaluated by [`Monitor::evaluate`] with a
//! [`ManualClock`] advancing minute by minute, so every alarm is due at every tick.
//!
//! `cargo run --profile bench-fast -p flowwatch-alarm --example bench_alarms -- [options]`
//!
//! ```text
//! --alarms N     metric alarms (default 1000)
//! --metrics N    metrics they watch (default 200)
//! --ticks N      minutes evaluated (default 120)
//! --tsv          also print `TSV<TAB>key<TAB>value` lines (what scripts/bench-monitor reads)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly
#![allow(clippy::cast_precision_loss)]

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use flowwatch_alarm::{
    AccountContext, ComparisonOperator, Dimension, InMemorySource, ManualClock, MetricAlarm,
    MetricRef, Monitor, StateValue, Statistic, TreatMissingData,
};

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

struct Args {
    alarms: usize,
    metrics: usize,
    ticks: usize,
    tsv: bool,
}

fn args() -> Args {
    let mut a = Args {
        alarms: 1000,
        metrics: 200,
        ticks: 120,
        tsv: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{arg} needs a number"))
        };
        match arg.as_str() {
            "--alarms" => a.alarms = value(),
            "--metrics" => a.metrics = value(),
            "--ticks" => a.ticks = value(),
            "--tsv" => a.tsv = true,
            other => {
                panic!("unknown argument {other} (see the header of examples/bench_alarms.rs)")
            }
        }
    }
    a
}

fn metric(i: usize) -> MetricRef {
    MetricRef::new(
        "Flowwatch/VPC",
        ["RejectedPackets", "Bytes", "Flows", "RejectedSSH"][i % 4],
        [Dimension::new("ENI", format!("eni-{i:017x}"))],
    )
}

/// A day of per-minute samples: a daily wave plus noise, about 3 % of minutes missing (so
/// `TreatMissingData` matters) and a few minutes with a second sample.
fn source(metrics: usize, day: DateTime<Utc>, rng: &mut Rng) -> (InMemorySource, usize) {
    let mut src = InMemorySource::new();
    let mut samples = 0;
    for i in 0..metrics {
        let m = metric(i);
        let scale = 10.0 + (i % 17) as f64 * 5.0;
        for minute in 0..24 * 60 {
            if rng.below(33) == 0 {
                continue;
            }
            let wave = (minute as f64 / 1440.0 * std::f64::consts::TAU).sin();
            let at = day + Duration::minutes(minute) + Duration::seconds(rng.below(60) as i64);
            let value = scale * (1.5 + wave) + rng.below(100) as f64 / 10.0;
            src.put(&m, at, value);
            samples += 1;
            if rng.below(20) == 0 {
                src.put(&m, at, value / 2.0);
                samples += 1;
            }
        }
    }
    (src, samples)
}

fn alarm(i: usize, metrics: usize, rng: &mut Rng) -> MetricAlarm {
    let m = metric(i % metrics);
    let n = 1 + rng.below(5) as u32;
    let period = [60, 60, 120, 180, 300][rng.below(5) as usize];
    let mut a = MetricAlarm {
        alarm_name: format!("alarm-{i:04}"),
        namespace: Some(m.namespace.clone()),
        metric_name: Some(m.name.clone()),
        dimensions: m.dimensions.clone(),
        period: Some(period),
        evaluation_periods: n,
        datapoints_to_alarm: (rng.below(2) == 0).then(|| 1 + rng.below(u64::from(n)) as u32),
        comparison_operator: Some(
            [
                ComparisonOperator::GreaterThanOrEqualToThreshold,
                ComparisonOperator::GreaterThanThreshold,
                ComparisonOperator::LessThanThreshold,
                ComparisonOperator::LessThanOrEqualToThreshold,
            ][rng.below(4) as usize],
        ),
        treat_missing_data: Some(
            [
                TreatMissingData::Missing,
                TreatMissingData::NotBreaching,
                TreatMissingData::Breaching,
                TreatMissingData::Ignore,
            ][rng.below(4) as usize],
        ),
        alarm_actions: vec!["arn:aws:sns:us-east-1:123456789012:ops".into()],
        ok_actions: vec!["arn:aws:sns:us-east-1:123456789012:ops".into()],
        ..MetricAlarm::default()
    };
    // Thresholds near the data's range, scaled by the period, so that alarms change state.
    let per_minute = 10.0 + ((i % metrics) % 17) as f64 * 5.0;
    let minutes = f64::from(period / 60);
    match rng.below(8) {
        0 => {
            a.extended_statistic = Some(["p90", "p99", "tm90"][rng.below(3) as usize].into());
            a.threshold = Some(per_minute * 1.8);
        }
        1 => {
            a.statistic = Some(Statistic::SampleCount);
            a.threshold = Some(minutes);
        }
        k => {
            let stat = [
                Statistic::Sum,
                Statistic::Average,
                Statistic::Maximum,
                Statistic::Minimum,
                Statistic::Sum,
                Statistic::Average,
            ][k as usize - 2];
            a.statistic = Some(stat);
            let base = per_minute * 1.6;
            a.threshold = Some(if stat == Statistic::Sum {
                base * minutes
            } else {
                base
            });
        }
    }
    a
}

fn main() {
    let a = args();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let day = Utc
        .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
        .single()
        .expect("valid");
    let t = Instant::now();
    let (src, samples) = source(a.metrics, day, &mut rng);
    let built = t.elapsed();
    // Start in the afternoon: every window has data behind it; the ticks then run through
    // the rest of the day.
    let clock = ManualClock::new(day + Duration::hours(14) + Duration::seconds(5));
    let mut monitor = Monitor::new(&clock, AccountContext::new("123456789012", "us-east-1"));
    for i in 0..a.alarms {
        monitor
            .put_metric_alarm(alarm(i, a.metrics, &mut rng))
            .unwrap();
    }
    println!(
        "{} metric alarms over {} metrics, {samples} samples ({} per metric, built in {:.2} s), {} ticks a minute apart",
        a.alarms,
        a.metrics,
        samples / a.metrics.max(1),
        built.as_secs_f64(),
        a.ticks
    );
    let mut ticks = Vec::with_capacity(a.ticks);
    let mut transitions = 0;
    let first = {
        // The first tick moves every alarm out of INSUFFICIENT_DATA; it is timed apart.
        let t = Instant::now();
        transitions += monitor.evaluate(&src).len();
        t.elapsed().as_secs_f64()
    };
    for _ in 0..a.ticks {
        clock.advance(Duration::minutes(1));
        let t = Instant::now();
        let events = monitor.evaluate(&src);
        ticks.push(t.elapsed().as_secs_f64());
        transitions += events.len();
    }
    let mut sorted = ticks.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let best = sorted.first().copied().unwrap_or(0.0);
    let worst = sorted.last().copied().unwrap_or(0.0);
    let mean = ticks.iter().sum::<f64>() / ticks.len().max(1) as f64;
    let in_alarm = (0..a.alarms)
        .filter(|i| monitor.state(&format!("alarm-{i:04}")) == Some(StateValue::Alarm))
        .count();
    println!(
        "tick (all {} alarms due): median {:.2} ms, best {:.2} ms, mean {:.2} ms, worst {:.2} ms; first tick {:.2} ms",
        a.alarms,
        median * 1e3,
        best * 1e3,
        mean * 1e3,
        worst * 1e3,
        first * 1e3
    );
    println!(
        "per alarm: median {:.2} µs, best {:.2} µs; {transitions} transitions, {in_alarm} alarms in ALARM at the end",
        median * 1e6 / a.alarms as f64,
        best * 1e6 / a.alarms as f64,
    );
    if a.tsv {
        for (k, v) in [
            ("alarms", a.alarms.to_string()),
            ("metrics", a.metrics.to_string()),
            ("samples", samples.to_string()),
            ("ticks", a.ticks.to_string()),
            ("tick_ms.median", format!("{:.3}", median * 1e3)),
            ("tick_ms.best", format!("{:.3}", best * 1e3)),
            ("tick_ms.worst", format!("{:.3}", worst * 1e3)),
            ("tick_ms.first", format!("{:.3}", first * 1e3)),
            (
                "per_alarm_us.median",
                format!("{:.2}", median * 1e6 / a.alarms as f64),
            ),
            (
                "per_alarm_us.best",
                format!("{:.2}", best * 1e6 / a.alarms as f64),
            ),
            ("transitions", transitions.to_string()),
            ("in_alarm", in_alarm.to_string()),
        ] {
            println!("TSV\t{k}\t{v}");
        }
    }
}
