//! One test per semantic rule, on `test-public-private-subnet` (two instances, one allowing
//! only SSH in) and variants of it built in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flowwatch_net::Snapshot;
use flowwatch_sim::*;

const PUBLIC: &str = "i-094a9e5b545a4fde4"; // 10.0.0.47, public 13.58.55.60
const PRIVATE: &str = "i-099cf38911942421c"; // 10.0.1.204
const PUBLIC_ENI: &str = "eni-09da8cad43844dc1f";
const PRIVATE_ENI: &str = "eni-07c1506e49d784fe0";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/corpus/aws-snapshots/batfish/representation-aws/test-public-private-subnet/aws_configs",
    )
}

/// The scenario, with `edit` applied to each file's JSON.
fn snapshot(edit: impl Fn(&str, &mut serde_json::Value)) -> Snapshot {
    let mut docs = Vec::new();
    for e in std::fs::read_dir(dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        edit(&name, &mut v);
        docs.push((format!("aws_configs/{name}"), v.to_string()));
    }
    docs.sort();
    let (s, _) = Snapshot::from_json_documents(docs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    s
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_793_620_800, 0).unwrap()
}

fn run(s: &Snapshot, traffic: &str, secs: u64, interval: u32) -> SimOutput {
    let t = Traffic::parse(traffic).unwrap();
    let opts = Options {
        aggregation_interval: interval,
        ..Options::default()
    };
    simulate(s, &t, t0(), Duration::from_secs(secs), &opts).unwrap()
}

/// OK records as `interface srcaddr dstaddr srcport dstport action direction packets`.
fn ok(out: &SimOutput) -> Vec<String> {
    let f = LogFormat::parse(
        "interface-id srcaddr dstaddr srcport dstport action flow-direction packets",
    )
    .unwrap();
    out.records
        .iter()
        .filter(|r| r.log_status == LogStatus::Ok)
        .map(|r| render(r, &out.interfaces[r.interface as usize], &f))
        .collect()
}

#[test]
fn sg_reject_is_recorded_at_the_destination_eni_only() {
    let s = snapshot(|_, _| {});
    let out = run(
        &s,
        &format!(
            "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 80\nsource_port = 40000\nrate = 1\n"
        ),
        60,
        60,
    );
    assert_eq!(
        ok(&out),
        [
            format!("{PUBLIC_ENI} 10.0.0.47 10.0.1.204 40000 80 ACCEPT egress 1"),
            format!("{PRIVATE_ENI} 10.0.0.47 10.0.1.204 40000 80 REJECT ingress 1"),
        ]
    );
    // SSH is admitted: request and reply on both ENIs.
    let out = run(
        &s,
        &format!(
            "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nsource_port = 40000\nrate = 1\npackets = 5\nreply_packets = 7\n"
        ),
        60,
        60,
    );
    let mut l = ok(&out);
    l.sort();
    assert_eq!(
        l,
        [
            format!("{PRIVATE_ENI} 10.0.0.47 10.0.1.204 40000 22 ACCEPT ingress 5"),
            format!("{PRIVATE_ENI} 10.0.1.204 10.0.0.47 22 40000 ACCEPT egress 7"),
            format!("{PUBLIC_ENI} 10.0.0.47 10.0.1.204 40000 22 ACCEPT egress 5"),
            format!("{PUBLIC_ENI} 10.0.1.204 10.0.0.47 22 40000 ACCEPT ingress 7"),
        ]
    );
}

/// Outbound NACL entries of every ACL replaced by "allow TCP to ports 0-1024".
fn no_ephemeral_out(name: &str, v: &mut serde_json::Value) {
    if name != "NetworkAcls.json" {
        return;
    }
    for acl in v["NetworkAcls"].as_array_mut().unwrap() {
        let entries = acl["Entries"].as_array_mut().unwrap();
        for e in entries.iter_mut() {
            if e["Egress"] == true && e["RuleNumber"] == 100 {
                e["Protocol"] = "6".into();
                e["PortRange"] = serde_json::json!({"From": 0, "To": 1024});
            }
        }
    }
}

#[test]
fn a_reply_blocked_by_the_nacl_is_rejected_on_the_way_back() {
    let s = snapshot(no_ephemeral_out);
    let out = run(
        &s,
        "[[flow]]\nsource = \"198.51.100.1\"\ndestination = \"13.58.55.60\"\nport = 22\nsource_port = 50000\nrate = 1\n",
        60,
        60,
    );
    // SG admits SSH (ACCEPT in); the reply to port 50000 hits the NACL's `*` (REJECT out).
    // The connection never completes: one SYN, one SYN-ACK.
    let mut l = ok(&out);
    l.sort();
    assert_eq!(
        l,
        [
            format!("{PUBLIC_ENI} 10.0.0.47 198.51.100.1 22 50000 REJECT egress 1"),
            format!("{PUBLIC_ENI} 198.51.100.1 10.0.0.47 50000 22 ACCEPT ingress 1"),
        ]
    );
    assert_eq!(out.stats.flows[0].established, 0);
    // A source port the NACL lets back out: established.
    let out = run(
        &s,
        "[[flow]]\nsource = \"198.51.100.1\"\ndestination = \"13.58.55.60\"\nport = 22\nsource_port = 1000\nrate = 1\n",
        60,
        60,
    );
    assert!(ok(&out).iter().all(|l| l.contains("ACCEPT")));
    assert_eq!(out.stats.flows[0].established, 1);
}

#[test]
fn nacl_ingress_deny_is_a_reject_on_the_eni_it_was_going_to() {
    let s = snapshot(|name, v| {
        if name == "NetworkAcls.json" {
            for acl in v["NetworkAcls"].as_array_mut().unwrap() {
                for e in acl["Entries"].as_array_mut().unwrap() {
                    if e["Egress"] == false && e["RuleNumber"] == 100 {
                        e["RuleAction"] = "deny".into();
                    }
                }
            }
        }
    });
    let out = run(
        &s,
        "[[flow]]\nsource = \"198.51.100.1\"\ndestination = \"13.58.55.60\"\nport = 22\nsource_port = 50000\nrate = 1\n",
        60,
        60,
    );
    assert_eq!(
        ok(&out),
        [format!(
            "{PUBLIC_ENI} 198.51.100.1 10.0.0.47 50000 22 REJECT ingress 1"
        )]
    );
}

#[test]
fn nodata_for_every_window_without_traffic() {
    let s = snapshot(|_, _| {});
    let traffic = format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nrate = 1\nend = 60\n"
    );
    let out = run(&s, &traffic, 600, 60);
    let pubst = out.stats.per_interface[PUBLIC_ENI];
    let privst = out.stats.per_interface[PRIVATE_ENI];
    assert_eq!((pubst.nodata, privst.nodata), (9, 9));
    assert_eq!((pubst.accepted, pubst.rejected), (2, 0));
    let nd: Vec<&Record> = out
        .records
        .iter()
        .filter(|r| r.log_status == LogStatus::NoData)
        .collect();
    assert_eq!(nd.len(), 18);
    let t = t0().timestamp();
    assert!(nd.iter().all(|r| r.traffic.is_none()
        && (r.start - t) % 60 == 0
        && r.end == r.start + 59
        && r.start >= t + 60));
    let f = default_format();
    let line = render(nd[0], &out.interfaces[nd[0].interface as usize], &f);
    assert!(line.contains(" - - - - - - - "), "{line}");
    assert!(line.contains(" - NODATA "), "{line}");
    // One 600 s window: traffic, so no NODATA at all.
    let out = run(&s, &traffic, 600, 600);
    assert_eq!(
        out.records
            .iter()
            .filter(|r| r.log_status == LogStatus::NoData)
            .count(),
        0
    );
}

#[test]
fn records_aggregate_per_capture_window() {
    let s = snapshot(|_, _| {});
    let traffic = format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nsource_port = 40000\nrate = 10\npackets = 3\nbytes = 300\n"
    );
    let t = t0().timestamp();
    for (interval, windows) in [(60u32, 3usize), (600, 1)] {
        let out = run(&s, &traffic, 180, interval);
        let egress: Vec<&Record> = out
            .records
            .iter()
            .filter(|r| {
                r.traffic
                    .is_some_and(|x| x.flow_direction == FlowDirection::Egress && x.dstport == 22)
            })
            .collect();
        assert_eq!(egress.len(), windows, "interval {interval}");
        let total: u64 = egress.iter().map(|r| r.traffic.unwrap().packets).sum();
        assert_eq!(total, 30 * 3);
        for r in &egress {
            let w = (r.start - t).div_euclid(i64::from(interval));
            assert_eq!(
                (r.end - t).div_euclid(i64::from(interval)),
                w,
                "inside one window"
            );
            assert!(r.end >= r.start);
            assert_eq!(r.traffic.unwrap().tcp_flags, 3);
            assert_eq!(r.traffic.unwrap().bytes, r.traffic.unwrap().packets * 100);
        }
    }
}

#[test]
fn same_seed_same_records_other_seed_other_ports() {
    let s = snapshot(|_, _| {});
    let traffic = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nrate = 5\n"
    ))
    .unwrap();
    let go = |seed| {
        let o = Options {
            seed,
            ..Options::default()
        };
        simulate(&s, &traffic, t0(), Duration::from_secs(300), &o).unwrap()
    };
    assert_eq!(go(1), go(1));
    assert_ne!(go(1).records, go(2).records);
}

#[test]
fn unresolvable_endpoints_and_bad_options_are_errors() {
    let s = snapshot(|_, _| {});
    let t = Traffic::parse(
        "\n[[flow]]\nsource = \"i-nope\"\ndestination = \"8.8.8.8\"\nport = 1\nrate = 1\n",
    )
    .unwrap();
    let e = simulate(&s, &t, t0(), Duration::from_secs(60), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("line 2 of the traffic file: flow 'flow-1': source 'i-nope'"),
        "{e}"
    );
    let o = Options {
        aggregation_interval: 30,
        ..Options::default()
    };
    assert!(simulate(&s, &t, t0(), Duration::from_secs(60), &o).is_err());
    let t = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"8.8.8.8\"\nport = 1\nrate = 1000000\n"
    ))
    .unwrap();
    let o = Options {
        max_connections: 1000,
        ..Options::default()
    };
    assert!(simulate(&s, &t, t0(), Duration::from_secs(60), &o).is_err());
}
