//! Byte-for-byte stability: digests of the text objects of fixed runs, pinned from the
//! simulator before configuration phases existed (`simulate` must keep producing them).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::time::Duration;

use chrono::DateTime;
use common::{load, private_instance_eni};
use flowwatch_sim::*;

/// FNV-1a over every object's relative key and bytes, in key order.
fn digest(out: &SimOutput) -> u64 {
    let d = tempfile::tempdir().unwrap();
    let files = write_s3_layout(out, d.path(), &default_format()).unwrap();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        let rel = f
            .strip_prefix(d.path())
            .unwrap()
            .to_string_lossy()
            .to_string();
        for b in rel.bytes().chain(std::fs::read(&f).unwrap()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

const TRAFFIC: &str = r#"
[[flow]]
name = "web"
source = "203.0.113.9"
destination = "i-06669a407b2ef3ae5"
port = "22-80"
rate = 7
[[flow]]
name = "out"
source = "i-06669a407b2ef3ae5"
destination = "8.8.8.8"
port = 443
rate = 3
connection_seconds = 70
[[flow]]
name = "udp"
source = "i-06669a407b2ef3ae5"
destination = "1.1.1.1"
protocol = "udp"
port = 53
rate = 2
start = "3m"
end = "9m"
[[flow]]
name = "ping"
source = "10.0.0.91"
destination = "1.1.1.1"
protocol = "icmp"
rate = 1
[[scanner]]
source = "198.51.100.7"
target = "i-06669a407b2ef3ae5"
ports = "1-100"
rate = 30
start = 120
"#;

#[test]
fn text_output_is_byte_for_byte_stable() {
    let t = Traffic::parse(TRAFFIC).unwrap();
    let t0 = DateTime::from_timestamp(1_793_620_800, 0).unwrap();
    let s = load("test-public-subnet");
    let mut got = Vec::new();
    for (seed, interval) in [(42u64, 60u32), (7, 600)] {
        let opts = Options {
            seed,
            aggregation_interval: interval,
            ..Options::default()
        };
        let out = simulate(&s, &t, t0, Duration::from_secs(1500), &opts).unwrap();
        got.push(format!("{:016x}", digest(&out)));
    }
    let nat = load("test-nat-gateway");
    let src = private_instance_eni(&nat);
    let t = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{}\"\ndestination = \"8.8.8.8\"\nport = 443\nrate = 4\n",
        src.id
    ))
    .unwrap();
    let out = simulate(&nat, &t, t0, Duration::from_secs(900), &Options::default()).unwrap();
    got.push(format!("{:016x}", digest(&out)));
    assert_eq!(
        got,
        ["aa01a550337ebfec", "359d568e836789b8", "a47fd04d8a86d558"]
    );
}
