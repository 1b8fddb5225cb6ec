//! End to end on Batfish's AWS snapshots (`representation-aws/…` in the shared corpus): flow
//! records written by hand for flows those snapshots block, and the exact rule `explain`
//! names for each. The corpus lives outside the repository: `FLOWWATCH_CORPUS` (default
//! `../../../shared/corpus` from this crate); when absent the tests say so and pass, unless
//! `FLOWWATCH_REQUIRE_CORPUS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flowwatch_explain::{
    Action, ExplainOptions, FlowGroup, FlowRecord, Reason, explain_records, render_table,
};
use flowwatch_net::{Direction, Snapshot};

fn snapshot(name: &str) -> Option<Snapshot> {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let dir = root
        .join("aws-snapshots/batfish/representation-aws")
        .join(name);
    if !dir.is_dir() {
        let msg = format!(
            "corpus not found at {}; set FLOWWATCH_CORPUS",
            dir.display()
        );
        if std::env::var("FLOWWATCH_REQUIRE_CORPUS").as_deref() == Ok("1") {
            panic!("{msg} (FLOWWATCH_REQUIRE_CORPUS=1)");
        }
        eprintln!("{msg}");
        return None;
    }
    let (s, _problems) = Snapshot::load(&dir);
    Some(s)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A v2-style TCP record (no flow-direction: it comes from the addresses).
fn tcp(eni: &str, src: &str, sport: u16, dst: &str, dport: u16, action: Action) -> FlowRecord {
    FlowRecord::new(eni, ip(src), sport, ip(dst), dport, 6, action).with_start(1_700_000_000)
}

fn only(snap: &Snapshot, records: &[FlowRecord]) -> FlowGroup {
    let r = explain_records(snap, records, ExplainOptions::default());
    assert_eq!(r.rejects.len(), 1, "{}", render_table(&r));
    r.rejects[0].clone()
}

#[test]
fn a_security_group_without_the_port_is_named_with_its_nearest_rule() {
    let Some(s) = snapshot("test-public-private-subnet") else {
        return;
    };
    // i-099c… (10.0.1.204, private subnet) to the public instance's 443; its SG only has 22.
    let g = only(
        &s,
        &[tcp(
            "eni-09da8cad43844dc1f",
            "10.0.1.204",
            40000,
            "10.0.0.47",
            443,
            Action::Reject,
        )],
    );
    assert_eq!(g.direction, Some(Direction::Ingress));
    assert_eq!(
        g.interface.instance_id.as_deref(),
        Some("i-094a9e5b545a4fde4")
    );
    assert_eq!(
        g.interface.subnet_id.as_deref(),
        Some("subnet-0cf7a93fbd779f3a3")
    );
    assert_eq!(g.interface.vpc_id.as_deref(), Some("vpc-0b966fdeb36d5e43f"));
    assert_eq!(
        g.peer.as_ref().unwrap().instance_id.as_deref(),
        Some("i-099cf38911942421c")
    );
    let Reason::SecurityGroup {
        direction,
        groups,
        nearest,
    } = &g.reason
    else {
        panic!("{:?}", g.reason)
    };
    assert_eq!(*direction, Direction::Ingress);
    assert_eq!(groups, &["sg-0662342465612f419".to_string()]);
    assert_eq!(
        nearest[0].summary(),
        "sg-0662342465612f419 allows tcp 22 from 0.0.0.0/0, not 443"
    );
}

#[test]
fn a_nacl_deny_is_named_by_acl_id_and_rule_number() {
    let Some(s) = snapshot("test") else {
        return;
    };
    // acl-4db39c28 admits only tcp 3306 from 162.243.144.192/32.
    let g = only(
        &s,
        &[tcp(
            "eni-d2b094fc",
            "203.0.113.5",
            40000,
            "192.168.2.18",
            22,
            Action::Reject,
        )],
    );
    assert_eq!(
        g.reason,
        Reason::NetworkAcl {
            acl_id: "acl-4db39c28".into(),
            subnet_id: "subnet-073b8061".into(),
            direction: Direction::Ingress,
            rule_number: 32767,
            rule: "* ALL ALL 0.0.0.0/0 DENY".into(),
        }
    );
    // The same source on the one port rule 100 admits gets past the NACL to the SG.
    let g = only(
        &s,
        &[tcp(
            "eni-d2b094fc",
            "162.243.144.192",
            40000,
            "192.168.2.18",
            3306,
            Action::Reject,
        )],
    );
    assert!(
        matches!(g.reason, Reason::SecurityGroup { .. }),
        "{:?}",
        g.reason
    );
}

#[test]
fn no_route_and_blackhole_routes_are_named() {
    let Some(s) = snapshot("test-vpc-peering") else {
        return;
    };
    // VPC A's table routes only 192.168.1/24 and 192.168.2/24 over peering.
    let g = only(
        &s,
        &[tcp(
            "eni-0f0708220e812876c",
            "10.10.10.157",
            40000,
            "192.168.100.1",
            22,
            Action::Reject,
        )],
    );
    assert_eq!(g.direction, Some(Direction::Egress));
    assert_eq!(
        g.reason,
        Reason::NoRoute {
            route_table_id: Some("rtb-0891861fffaea6d52".into()),
            destination: "192.168.100.1".into(),
            blackhole_route: None,
            detail: None,
        }
    );
    // VPC B's default route points at a deleted IGW.
    let g = only(
        &s,
        &[tcp(
            "eni-0024c0af5aa1387e5",
            "192.168.1.106",
            40000,
            "8.8.8.8",
            443,
            Action::Reject,
        )],
    );
    assert_eq!(
        g.reason,
        Reason::NoRoute {
            route_table_id: Some("rtb-017c36290c9baf017".into()),
            destination: "8.8.8.8".into(),
            blackhole_route: Some("0.0.0.0/0 -> igw-0a2c9ae201b441bff".into()),
            detail: None,
        }
    );
}

#[test]
fn the_whole_story_on_one_snapshot() {
    let Some(s) = snapshot("test-vpc-peering") else {
        return;
    };
    // A→B over peering: the SSH request arrives and is ACCEPTed on both ends, port 80 is
    // rejected by B's SG, and the accepted SSH use keeps B's 22 rule off the unused list.
    let records = [
        tcp(
            "eni-0f0708220e812876c",
            "10.10.10.157",
            40000,
            "192.168.1.106",
            22,
            Action::Accept,
        ),
        tcp(
            "eni-0024c0af5aa1387e5",
            "10.10.10.157",
            40000,
            "192.168.1.106",
            22,
            Action::Accept,
        ),
        tcp(
            "eni-0024c0af5aa1387e5",
            "192.168.1.106",
            22,
            "10.10.10.157",
            40000,
            Action::Accept,
        ),
        tcp(
            "eni-0024c0af5aa1387e5",
            "10.10.10.157",
            40001,
            "192.168.1.106",
            80,
            Action::Reject,
        ),
    ];
    let r = explain_records(&s, &records, ExplainOptions::default());
    assert_eq!(r.rejects.len(), 1);
    assert!(
        r.rejects[0]
            .explanation
            .contains("sg-065c26b39e45ae384 allows tcp 22 from 0.0.0.0/0, not 80"),
        "{}",
        r.rejects[0].explanation
    );
    assert!(r.drift.is_empty(), "{}", render_table(&r));
    let b22 = r
        .rule_usage
        .iter()
        .find(|u| u.group_id == "sg-065c26b39e45ae384" && u.direction == Direction::Ingress)
        .unwrap();
    assert_eq!(b22.accepted_records, 1);
}

#[test]
fn a_load_balancer_node_rejects_ports_without_a_listener_not_by_security_group() {
    let Some(s) = snapshot("test-load-balancer") else {
        return;
    };
    // The NLB node eni-01f2… (10.1.1.237) has no security group: an ACCEPT to it is no drift,
    // and a REJECT there is explained by its listeners (80 only), not by a security group.
    let records = [
        tcp(
            "eni-01f261dccaba46564",
            "10.1.250.112",
            40000,
            "10.1.1.237",
            80,
            Action::Accept,
        ),
        tcp(
            "eni-01f261dccaba46564",
            "10.1.250.112",
            40001,
            "10.1.1.237",
            81,
            Action::Reject,
        ),
    ];
    let r = explain_records(&s, &records, ExplainOptions::default());
    assert!(r.drift.is_empty(), "{}", render_table(&r));
    assert_eq!(r.rejects.len(), 1, "{}", render_table(&r));
    // Port 81 has no listener: that is the reason, not a security group.
    match &r.rejects[0].reason {
        Reason::NoListener {
            load_balancer,
            protocol,
            port,
        } => {
            assert!(load_balancer.ends_with("loadbalancer/net/test-lb/725b996cb6be8fba"));
            assert_eq!((protocol.as_str(), *port), ("tcp", 81));
        }
        other => panic!("{other:?}\n{}", render_table(&r)),
    }
    assert!(
        render_table(&r).contains("no listener of"),
        "{}",
        render_table(&r)
    );
}
