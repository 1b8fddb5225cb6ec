//! End-to-end runs on the Batfish corpus snapshots, the crate-doc example, and the property
//! that the simulator and `reach` agree.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::Read;
use std::time::Duration;

use flowwatch_sim::*;

use common::{corpus, load, private_instance_eni, t0};

fn lines(out: &SimOutput) -> Vec<String> {
    let f = default_format();
    out.records
        .iter()
        .map(|r| render(r, &out.interfaces[r.interface as usize], &f))
        .collect()
}

/// The ```toml block of the crate docs.
fn doc_example() -> String {
    let src = include_str!("../src/lib.rs");
    let mut out = String::new();
    let mut inside = false;
    for l in src.lines() {
        let l = l
            .strip_prefix("//!")
            .map(|x| x.strip_prefix(' ').unwrap_or(x));
        let Some(l) = l else { continue };
        if l.starts_with("```toml") {
            inside = true;
        } else if inside && l.starts_with("```") {
            break;
        } else if inside {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_doc_example_parses_and_runs() {
    let t = Traffic::parse(&doc_example()).unwrap();
    assert_eq!((t.flows.len(), t.scanners.len()), (3, 1));
    assert_eq!(t.scanners[0].ports, (1, 1024));
    assert_eq!(t.flows[1].schedule.start, 300);
    let s = load("test-public-subnet");
    let out = simulate(&s, &t, t0(), Duration::from_secs(1800), &Options::default()).unwrap();
    assert!(out.stats.connections > 0);
    assert_eq!(out.stats.records, out.records.len() as u64);
}

#[test]
fn public_subnet_end_to_end() {
    let s = load("test-public-subnet");
    let traffic = Traffic::parse(
        r#"
[[flow]]
name = "web"
source = "203.0.113.9"
destination = "i-06669a407b2ef3ae5"
port = 80
rate = 1
[[flow]]
name = "out"
source = "i-06669a407b2ef3ae5"
destination = "8.8.8.8"
port = 443
source_port = 50000
rate = 1
"#,
    )
    .unwrap();
    let opts = Options {
        az_ids: az_ids_from_dir(corpus("test-public-subnet")),
        ..Options::default()
    };
    let out = simulate(&s, &traffic, t0(), Duration::from_secs(600), &opts).unwrap();
    let l = lines(&out);
    // Internet → public IP :80: the SG admits only 22, one REJECT at the instance, no reply.
    let web: Vec<_> = l.iter().filter(|x| x.contains(" 80 6 ")).collect();
    assert!(!web.is_empty());
    for x in &web {
        assert!(x.contains(" 203.0.113.9 10.0.0.91 "), "{x}");
        assert!(x.contains(" REJECT OK "), "{x}");
        assert!(x.contains(" 1 60 "), "a single SYN: {x}");
        assert!(x.contains(" ingress - "), "{x}");
        assert!(x.contains(" i-06669a407b2ef3ae5 2 IPv4 "), "{x}");
    }
    // Instance → 8.8.8.8:443 accepted, and its reply accepted.
    let out_req: Vec<_> = l
        .iter()
        .filter(|x| x.contains(" 10.0.0.91 8.8.8.8 50000 443 "))
        .collect();
    let out_rep: Vec<_> = l
        .iter()
        .filter(|x| x.contains(" 8.8.8.8 10.0.0.91 443 50000 "))
        .collect();
    assert!(!out_req.is_empty() && out_req.len() == out_rep.len());
    for x in &out_req {
        assert!(x.contains(" ACCEPT OK ") && x.contains(" egress 8 "), "{x}");
    }
    for x in &out_rep {
        assert!(
            x.contains(" ACCEPT OK ") && x.contains(" ingress - "),
            "{x}"
        );
    }
    // az-id from AvailabilityZones.json, not derived.
    assert!(!out.interfaces[0].az_id.is_empty());
    let st = &out.stats.per_interface["eni-00064850627e198ee"];
    assert_eq!(st.rejected as usize, web.len());
    assert_eq!(out.stats.flows[0].established, 0);
    assert_eq!(
        out.stats.flows[1].established,
        out.stats.flows[1].connections
    );

    // Written as gzip text in the S3 layout, header first, deterministic.
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let f1 = write_s3_layout(&out, d1.path(), &default_format()).unwrap();
    let again = simulate(&s, &traffic, t0(), Duration::from_secs(600), &opts).unwrap();
    let f2 = write_s3_layout(&again, d2.path(), &default_format()).unwrap();
    assert_eq!(f1.len(), 2, "two 5-minute objects: {f1:?}");
    for (a, b) in f1.iter().zip(&f2) {
        assert_eq!(
            a.strip_prefix(d1.path()).unwrap(),
            b.strip_prefix(d2.path()).unwrap()
        );
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
    let rel = f1[0]
        .strip_prefix(d1.path())
        .unwrap()
        .to_string_lossy()
        .to_string();
    let acct = &out.interfaces[0].account;
    let region = &out.interfaces[0].region;
    let prefix = format!(
        "AWSLogs/{acct}/vpcflowlogs/{region}/2026/11/02/{acct}_vpcflowlogs_{region}_{}_20261102T1200Z_",
        out.flow_log_id
    );
    assert!(rel.starts_with(&prefix), "{rel} vs {prefix}");
    assert!(rel.ends_with(".log.gz"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&f1[0]).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.starts_with("version account-id interface-id srcaddr "));
    assert!(text.lines().nth(1).unwrap().starts_with("5 "));
}

#[test]
fn nat_gateway_records_carry_the_real_peer_in_pkt_fields() {
    let s = load("test-nat-gateway");
    let nat = &s.nat_gateways[0];
    let nat_ip = nat.private_ip.unwrap().to_string();
    let nat_eni = s.eni(nat.eni.unwrap()).id.clone();
    // A private instance whose default route is the NAT gateway.
    let src = private_instance_eni(&s);
    let src_ip = src.primary_ip().unwrap().to_string();
    let traffic = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{}\"\ndestination = \"8.8.8.8\"\nport = 443\nsource_port = 50000\nrate = 1\n",
        src.id
    ))
    .unwrap();
    let out = simulate(
        &s,
        &traffic,
        t0(),
        Duration::from_secs(60),
        &Options::default(),
    )
    .unwrap();
    let f = LogFormat::parse(
        "interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr action flow-direction traffic-path",
    )
    .unwrap();
    let l: Vec<String> = out
        .records
        .iter()
        .filter(|r| r.traffic.is_some())
        .map(|r| render(r, &out.interfaces[r.interface as usize], &f))
        .collect();
    let has = |x: String| assert!(l.contains(&x), "missing {x} in {l:#?}");
    has(format!(
        "{} {src_ip} 8.8.8.8 {src_ip} 8.8.8.8 ACCEPT egress 1",
        src.id
    ));
    has(format!(
        "{nat_eni} {src_ip} {nat_ip} {src_ip} 8.8.8.8 ACCEPT ingress -"
    ));
    has(format!(
        "{nat_eni} {nat_ip} 8.8.8.8 {nat_ip} 8.8.8.8 ACCEPT egress 8"
    ));
    has(format!(
        "{nat_eni} 8.8.8.8 {nat_ip} 8.8.8.8 {nat_ip} ACCEPT ingress -"
    ));
    has(format!(
        "{nat_eni} {nat_ip} {src_ip} 8.8.8.8 {src_ip} ACCEPT egress 1"
    ));
    has(format!(
        "{} 8.8.8.8 {src_ip} 8.8.8.8 {src_ip} ACCEPT ingress -",
        src.id
    ));
}

/// Through a network load balancer: the node's ENI logs the client's connection in and the
/// forwarded one out (destination rewritten to the target's port 22), the target logs it in
/// with the client's address; a port without a listener is REJECTed at the node.
#[test]
fn load_balancer_nodes_log_both_legs() {
    let s = load("test-load-balancer");
    let traffic = Traffic::parse(
        r#"
[[flow]]
name = "via nlb"
source = "i-0c8ce8bbdd98cc4e8"
destination = "10.1.1.237"
port = 80
source_port = 50000
rate = 1
[[flow]]
name = "no listener"
source = "i-0c8ce8bbdd98cc4e8"
destination = "10.1.1.237"
port = 81
source_port = 50001
rate = 1
"#,
    )
    .unwrap();
    let out = simulate(
        &s,
        &traffic,
        t0(),
        Duration::from_secs(600),
        &Options::default(),
    )
    .unwrap();
    let l = lines(&out);
    let on = |eni: &str, needle: &str| -> Vec<&String> {
        l.iter()
            .filter(|x| x.contains(eni) && x.contains(needle))
            .collect()
    };
    let node = "eni-01f261dccaba46564";
    // In at the node: client -> node:80, accepted.
    let node_in = on(node, " 10.1.250.112 10.1.1.237 50000 80 ");
    assert!(!node_in.is_empty(), "{l:#?}");
    assert!(
        node_in.iter().all(|x| x.contains(" ACCEPT OK ")),
        "{node_in:?}"
    );
    // Out of the node to the target's port 22: the node's record has the node's address as
    // srcaddr and the client's as pkt-srcaddr (as for a NAT gateway's interface); the target
    // sees the client's address.
    let node_out = on(node, " 10.1.1.237 10.1.20.95 50000 22 ");
    assert!(!node_out.is_empty(), "{l:#?}");
    assert!(
        node_out
            .iter()
            .all(|x| x.contains(" IPv4 10.1.250.112 10.1.20.95 ")),
        "{node_out:?}"
    );
    let target_in = on(
        "eni-02e730a1b02dbc756",
        " 10.1.250.112 10.1.20.95 50000 22 ",
    );
    assert!(!target_in.is_empty(), "{l:#?}");
    assert_eq!(
        out.stats.flows[0].established,
        out.stats.flows[0].connections
    );
    // Port 81: rejected at the node, nothing reaches a target.
    let rejected = on(node, " 10.1.250.112 10.1.1.237 50001 81 ");
    assert!(!rejected.is_empty(), "{l:#?}");
    assert!(
        rejected.iter().all(|x| x.contains(" REJECT OK ")),
        "{rejected:?}"
    );
    assert!(on("eni-02e730a1b02dbc756", " 50001 ").is_empty());
    assert_eq!(out.stats.flows[1].established, 0);
}
