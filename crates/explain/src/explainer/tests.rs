//! One test per reasoning rule of spec §7 (and per choice of this crate), over a small
//! hand-written snapshot:
//!
//! VPC vpc-t 10.0.0.0/16 with an IGW. Subnet web 10.0.1.0/24 (table → IGW; NACL acl-web:
//! in 100 tcp 443 any, 110 tcp 22 10/16, 120 deny tcp 23 any, 130 tcp 1024-65535 any,
//! 200 all 10/16; out 100 tcp 443 any, 110 all 10/16). Subnet app 10.0.2.0/24 (main table:
//! local + blackhole 192.168/16; default allow-all NACL).
//! eni-web 10.0.1.10 and eni-web2 10.0.1.11 (sg-web: in tcp 443 any, tcp 22 10/16; out all),
//! eni-app 10.0.2.20 (sg-app: in tcp 8080 from sg-web; out tcp 443 any),
//! eni-db 10.0.2.30 (sg-db: in tcp 5432 from sg-app; out all).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use flowwatch_net::{Direction, Snapshot};
use serde_json::json;

use super::*;
use crate::report::Report;
use crate::report::{FlowGroup, Reason, render_table};

const WEB: &str = "eni-web";
const WEB2: &str = "eni-web2";
const APP: &str = "eni-app";
const DB: &str = "eni-db";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn snapshot() -> Snapshot {
    let e =
        |n: i64, egress: bool, allow: bool, proto: &str, cidr: &str, ports: Option<(i64, i64)>| {
            let mut v = json!({"RuleNumber": n, "Egress": egress,
            "RuleAction": if allow {"allow"} else {"deny"}, "Protocol": proto, "CidrBlock": cidr});
            if let Some((a, b)) = ports {
                v["PortRange"] = json!({"From": a, "To": b});
            }
            v
        };
    let eni = |id: &str, subnet: &str, addr: &str, sg: &str, inst: &str| {
        json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-t",
            "PrivateIpAddress": addr, "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": addr}],
            "Groups": [{"GroupId": sg}], "InterfaceType": "interface", "SourceDestCheck": true,
            "Attachment": {"InstanceId": inst, "DeviceIndex": 0, "Status": "attached"}})
    };
    let any = json!([{"CidrIp": "0.0.0.0/0"}]);
    let docs = [
        (
            "Vpcs.json",
            json!({"Vpcs": [{"VpcId": "vpc-t", "CidrBlock": "10.0.0.0/16"}]}),
        ),
        (
            "Subnets.json",
            json!({"Subnets": [
            {"SubnetId": "subnet-web", "VpcId": "vpc-t", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"},
            {"SubnetId": "subnet-app", "VpcId": "vpc-t", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a"}]}),
        ),
        (
            "InternetGateways.json",
            json!({"InternetGateways": [
            {"InternetGatewayId": "igw-t", "Attachments": [{"VpcId": "vpc-t", "State": "available"}]}]}),
        ),
        (
            "RouteTables.json",
            json!({"RouteTables": [
            {"RouteTableId": "rtb-main", "VpcId": "vpc-t", "Associations": [{"Main": true}], "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "192.168.0.0/16", "VpcPeeringConnectionId": "pcx-gone", "State": "blackhole"}]},
            {"RouteTableId": "rtb-web", "VpcId": "vpc-t", "Associations": [{"Main": false, "SubnetId": "subnet-web"}], "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-t", "State": "active"}]}]}),
        ),
        (
            "NetworkAcls.json",
            json!({"NetworkAcls": [
            {"NetworkAclId": "acl-web", "VpcId": "vpc-t", "IsDefault": false,
             "Associations": [{"SubnetId": "subnet-web"}], "Entries": [
                e(100, false, true, "6", "0.0.0.0/0", Some((443, 443))),
                e(110, false, true, "6", "10.0.0.0/16", Some((22, 22))),
                e(120, false, false, "6", "0.0.0.0/0", Some((23, 23))),
                e(130, false, true, "6", "0.0.0.0/0", Some((1024, 65535))),
                e(200, false, true, "-1", "10.0.0.0/16", None),
                e(32767, false, false, "-1", "0.0.0.0/0", None),
                e(100, true, true, "6", "0.0.0.0/0", Some((443, 443))),
                e(110, true, true, "-1", "10.0.0.0/16", None),
                e(32767, true, false, "-1", "0.0.0.0/0", None)]},
            {"NetworkAclId": "acl-default", "VpcId": "vpc-t", "IsDefault": true,
             "Associations": [{"SubnetId": "subnet-app"}], "Entries": [
                e(100, false, true, "-1", "0.0.0.0/0", None),
                e(100, true, true, "-1", "0.0.0.0/0", None)]}]}),
        ),
        (
            "SecurityGroups.json",
            json!({"SecurityGroups": [
            {"GroupId": "sg-web", "GroupName": "web", "VpcId": "vpc-t",
             "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": any},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": any}]},
            {"GroupId": "sg-app", "GroupName": "app", "VpcId": "vpc-t",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": "sg-web"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": any}]},
            {"GroupId": "sg-db", "GroupName": "db", "VpcId": "vpc-t",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": "sg-app"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": any}]},
            {"GroupId": "sg-unused", "GroupName": "unused", "VpcId": "vpc-t",
             "IpPermissions": [], "IpPermissionsEgress": []}]}),
        ),
        (
            "NetworkInterfaces.json",
            json!({"NetworkInterfaces": [
            eni(WEB, "subnet-web", "10.0.1.10", "sg-web", "i-web"),
            eni(WEB2, "subnet-web", "10.0.1.11", "sg-web", "i-web2"),
            eni(APP, "subnet-app", "10.0.2.20", "sg-app", "i-app"),
            eni(DB, "subnet-app", "10.0.2.30", "sg-db", "i-db")]}),
        ),
    ];
    let texts: Vec<(String, String)> = docs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let (s, _problems) =
        Snapshot::from_json_documents(texts.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    assert!(s.enis.len() == 4, "fixture ENIs: {}", s.enis.len());
    s
}

/// A TCP record on `eni` (direction from the addresses, like v2 data).
fn tcp(eni: &str, src: &str, sport: u16, dst: &str, dport: u16, action: Action) -> FlowRecord {
    FlowRecord::new(eni, ip(src), sport, ip(dst), dport, 6, action).with_start(1_700_000_000)
}

fn rej(eni: &str, src: &str, sport: u16, dst: &str, dport: u16) -> FlowRecord {
    tcp(eni, src, sport, dst, dport, Action::Reject)
}

fn acc(eni: &str, src: &str, sport: u16, dst: &str, dport: u16) -> FlowRecord {
    tcp(eni, src, sport, dst, dport, Action::Accept)
}

fn explain(records: &[FlowRecord]) -> Report {
    explain_records(&snapshot(), records, ExplainOptions::default())
}

/// The single REJECT group of `records`.
fn check(records: &[FlowRecord]) -> FlowGroup {
    let r = explain(records);
    assert_eq!(r.rejects.len(), 1, "{}", render_table(&r));
    r.rejects[0].clone()
}

fn nacl(g: &FlowGroup) -> (String, Direction, u16, String) {
    match &g.reason {
        Reason::NetworkAcl {
            acl_id,
            direction,
            rule_number,
            rule,
            ..
        } => (acl_id.clone(), *direction, *rule_number, rule.clone()),
        other => panic!("expected a NACL, got {other:?}"),
    }
}

#[test]
fn inbound_reject_by_an_explicit_nacl_deny_names_the_rule() {
    let g = check(&[rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23)]);
    assert_eq!(g.direction, Some(Direction::Ingress));
    assert_eq!(
        nacl(&g),
        (
            "acl-web".into(),
            Direction::Ingress,
            120,
            "120 tcp 23 0.0.0.0/0 DENY".into()
        )
    );
    assert_eq!(
        g.explanation,
        "acl-web inbound rule 120 (120 tcp 23 0.0.0.0/0 DENY)"
    );
}

#[test]
fn inbound_reject_by_the_star_rule_is_32767() {
    let g = check(&[rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 80)]);
    let (_, _, n, rule) = nacl(&g);
    assert_eq!((n, rule.as_str()), (32767, "* ALL ALL 0.0.0.0/0 DENY"));
    assert!(g.explanation.contains("rule *"), "{}", g.explanation);
}

#[test]
fn inbound_reject_the_nacl_allows_is_the_security_group_with_nearest_rules() {
    let g = check(&[rej(WEB, "10.0.2.20", 40000, "10.0.1.10", 8443)]);
    let Reason::SecurityGroup {
        direction,
        groups,
        nearest,
    } = &g.reason
    else {
        panic!("{:?}", g.reason)
    };
    assert_eq!(*direction, Direction::Ingress);
    assert_eq!(groups, &["sg-web".to_string()]);
    assert_eq!(
        nearest[0].summary(),
        "sg-web allows tcp 443 from 0.0.0.0/0, not 8443"
    );
    // The 22 rule matches the peer too but is farther from 8443.
    assert_eq!(
        nearest[1].summary(),
        "sg-web allows tcp 22 from 10.0.0.0/16, not 8443"
    );
}

#[test]
fn a_peer_outside_the_rule_cidr_is_named() {
    let g = check(&[rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 22)]);
    // NACL 130 (1024-65535)? no: port 22 from outside 10/16 falls to the * rule first.
    assert_eq!(nacl(&g).2, 32767);
    let g = check(&[rej(WEB2, "10.0.2.20", 40000, "10.0.1.11", 443)]);
    assert_eq!(g.reason, Reason::Unexplained, "443 is open to everyone");
    let g = check(&[rej(DB, "10.0.1.10", 40000, "10.0.2.30", 5432)]);
    let Reason::SecurityGroup { nearest, .. } = &g.reason else {
        panic!("{:?}", g.reason)
    };
    assert_eq!(
        nearest[0].summary(),
        "sg-db allows tcp 5432 from sg-app, not from 10.0.1.10"
    );
}

#[test]
fn same_subnet_reject_is_the_security_group_even_where_the_nacl_denies() {
    // acl-web rule 120 denies tcp 23, but NACLs do not apply inside a subnet.
    let g = check(&[rej(WEB, "10.0.1.11", 40000, "10.0.1.10", 23)]);
    assert!(
        matches!(g.reason, Reason::SecurityGroup { .. }),
        "{:?}",
        g.reason
    );
    assert_eq!(g.peer.as_ref().unwrap().interface_id, WEB2);
    assert_eq!(
        g.peer.as_ref().unwrap().instance_id.as_deref(),
        Some("i-web2")
    );
}

#[test]
fn inbound_accept_then_outbound_reject_of_the_reply_is_the_nacl_outbound_rule() {
    let records = [
        acc(WEB, "198.51.100.7", 51000, "10.0.1.10", 443),
        rej(WEB, "10.0.1.10", 443, "198.51.100.7", 51000),
    ];
    let g = check(&records);
    assert_eq!(g.direction, Some(Direction::Egress));
    assert!(g.reply, "the request was accepted");
    assert_eq!(g.port, 443, "replies are grouped by the service port");
    assert_eq!(
        nacl(&g),
        (
            "acl-web".into(),
            Direction::Egress,
            32767,
            "* ALL ALL 0.0.0.0/0 DENY".into()
        )
    );
}

#[test]
fn a_reply_the_nacl_allows_is_connection_state() {
    let records = [
        acc(WEB, "10.0.1.10", 40000, "10.0.2.20", 8080),
        rej(WEB, "10.0.2.20", 8080, "10.0.1.10", 40000),
    ];
    let g = check(&records);
    assert!(g.reply);
    assert_eq!(g.reason, Reason::ConnectionState);
    // Without the request the same record is a new inbound connection the SG does not allow.
    let g = check(&records[1..]);
    assert!(!g.reply);
    assert!(matches!(g.reason, Reason::SecurityGroup { .. }));
}

#[test]
fn the_peer_interfaces_records_count_as_reply_evidence() {
    // eni-app saw the request arrive; eni-web's own egress record is missing.
    let records = [
        acc(APP, "10.0.1.10", 40001, "10.0.2.20", 8080),
        rej(WEB, "10.0.2.20", 8080, "10.0.1.10", 40001),
    ];
    let g = check(&records);
    assert!(g.reply);
    assert_eq!(g.reason, Reason::ConnectionState);
    assert_eq!(g.peer.as_ref().unwrap().interface_id, APP);
}

#[test]
fn reply_evidence_must_be_within_the_window() {
    let records = [
        acc(WEB, "198.51.100.7", 51000, "10.0.1.10", 443).with_start(1_700_000_000 - 5000),
        rej(WEB, "10.0.1.10", 443, "198.51.100.7", 51000),
    ];
    assert!(!check(&records).reply);
}

#[test]
fn outbound_new_connection_without_an_egress_rule_is_the_security_group() {
    let g = check(&[rej(APP, "10.0.2.20", 40000, "10.0.1.10", 22)]);
    assert_eq!(g.direction, Some(Direction::Egress));
    let Reason::SecurityGroup {
        direction, nearest, ..
    } = &g.reason
    else {
        panic!("{:?}", g.reason)
    };
    assert_eq!(*direction, Direction::Egress);
    assert_eq!(
        nearest[0].summary(),
        "sg-app allows tcp 443 to 0.0.0.0/0, not 22"
    );
}

#[test]
fn outbound_reject_the_rules_allow_without_a_route_is_no_route() {
    let g = check(&[rej(APP, "10.0.2.20", 40000, "8.8.8.8", 443)]);
    assert_eq!(
        g.reason,
        Reason::NoRoute {
            route_table_id: Some("rtb-main".into()),
            destination: "8.8.8.8".into(),
            blackhole_route: None,
            detail: None
        }
    );
    let g = check(&[rej(APP, "10.0.2.20", 40000, "192.168.1.1", 443)]);
    let Reason::NoRoute {
        blackhole_route, ..
    } = &g.reason
    else {
        panic!("{:?}", g.reason)
    };
    assert_eq!(
        blackhole_route.as_deref(),
        Some("192.168.0.0/16 -> pcx-gone")
    );
}

#[test]
fn a_reject_the_snapshot_allows_is_unexplained() {
    let g = check(&[rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 443)]);
    assert_eq!(g.reason, Reason::Unexplained);
    assert!(g.explanation.starts_with("no rule explains this"));
}

#[test]
fn an_interface_outside_the_snapshot_is_reported_not_guessed() {
    let r = explain(&[rej("eni-gone", "203.0.113.5", 40000, "10.0.9.9", 22)]);
    assert_eq!(r.rejects[0].reason, Reason::UnknownInterface);
    assert_eq!(r.rejects[0].direction, None);
    assert!(!r.rejects[0].interface.in_snapshot);
    assert_eq!(r.counts.unknown_interface, 1);
    let r =
        explain(&[rej("eni-gone", "203.0.113.5", 40000, "10.0.9.9", 22)
            .with_direction(Direction::Ingress)]);
    assert_eq!(r.rejects[0].direction, Some(Direction::Ingress));
}

#[test]
fn flow_direction_and_pkt_addresses_win_over_srcaddr_and_dstaddr() {
    // A record whose srcaddr/dstaddr name neither end of eni-web but whose pkt-* and
    // flow-direction do.
    let r = rej(WEB, "10.9.9.9", 40000, "10.9.9.8", 23)
        .with_pkt_addrs(ip("203.0.113.5"), ip("10.0.1.10"))
        .with_direction(Direction::Ingress);
    let g = check(&[r]);
    assert_eq!(g.peer_address, "203.0.113.5");
    assert_eq!(nacl(&g).2, 120);
}

#[test]
fn records_missing_fields_are_skipped_and_counted() {
    let mut no_addr = rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23);
    no_addr.srcaddr = None;
    let mut no_port = rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23);
    no_port.dstport = None;
    let mut no_action = rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23);
    no_action.action = None;
    let nodata =
        FlowRecord::parse_v2("2 123456789012 eni-web - - - - - - - 1431280876 1431280934 - NODATA")
            .unwrap();
    let stranger = rej(WEB, "203.0.113.5", 40000, "10.9.9.9", 23);
    let mut icmp_no_ports = rej(WEB, "203.0.113.5", 0, "10.0.1.10", 0);
    icmp_no_ports.protocol = Some(1);
    icmp_no_ports.srcport = None;
    icmp_no_ports.dstport = None;
    let r = explain(&[no_addr, no_port, no_action, nodata, stranger, icmp_no_ports]);
    let got: Vec<(SkipReason, u64)> = r.skipped.iter().map(|s| (s.reason, s.records)).collect();
    assert_eq!(
        got,
        vec![
            (SkipReason::NoData, 1),
            (SkipReason::MissingAction, 1),
            (SkipReason::MissingAddress, 1),
            (SkipReason::MissingPort, 1),
            (SkipReason::DirectionUnknown, 1),
        ]
    );
    assert_eq!(r.counts.skipped, 5);
    assert_eq!(r.counts.rejected, 1, "the ICMP record needs no ports");
    assert_eq!(nacl(&r.rejects[0]).2, 32767, "no NACL entry admits ICMP");
}

#[test]
fn records_of_one_class_are_judged_once_and_grouped() {
    let records: Vec<FlowRecord> = (0..1000)
        .map(|i| rej(WEB, "203.0.113.5", 40000 + i, "10.0.1.10", 23))
        .collect();
    let r = explain(&records);
    assert_eq!(r.rejects.len(), 1);
    assert_eq!(r.rejects[0].records, 1000);
    assert_eq!(r.rejects[0].packets, 1000);
    assert_eq!(r.counts.decisions_evaluated, 1);
    assert_eq!(r.reasons[0].kind, "network-acl");
}

#[test]
fn accepted_traffic_the_snapshot_rejects_is_drift() {
    let r = explain(&[
        acc(WEB, "203.0.113.5", 40000, "10.0.1.10", 3389),
        acc(DB, "10.0.1.10", 40000, "10.0.2.30", 5432),
        // Consistent traffic: request and reply of an allowed connection.
        acc(WEB, "198.51.100.7", 51000, "10.0.1.10", 443),
        acc(WEB, "10.0.1.10", 443, "198.51.100.7", 51000),
    ]);
    let got: Vec<(&str, &str)> = r
        .drift
        .iter()
        .map(|g| (g.interface.interface_id.as_str(), g.reason.kind()))
        .collect();
    assert!(got.contains(&(WEB, "network-acl")), "{got:?}");
    assert!(got.contains(&(DB, "security-group")), "{got:?}");
    // The accepted egress reply on 443 → 51000 is denied by acl-web egress (* rule): the NACL
    // is stateless, so that is drift too.
    assert!(
        r.drift
            .iter()
            .any(|g| g.direction == Some(Direction::Egress) && g.reply),
        "{}",
        render_table(&r)
    );
    assert_eq!(r.drift.len(), 3, "{}", render_table(&r));
}

#[test]
fn rules_that_admitted_nothing_are_candidates_for_removal() {
    let r = explain(&[
        acc(WEB, "198.51.100.7", 51000, "10.0.1.10", 443),
        acc(WEB, "10.0.1.10", 443, "198.51.100.7", 51000),
        acc(WEB, "198.51.100.8", 51001, "10.0.1.10", 443),
    ]);
    let usage = |dir: Direction, i: usize| {
        r.rule_usage
            .iter()
            .find(|u| u.group_id == "sg-web" && u.direction == dir && u.rule_index == i)
            .map(|u| u.accepted_records)
    };
    assert_eq!(usage(Direction::Ingress, 0), Some(2), "443 from anywhere");
    assert_eq!(usage(Direction::Ingress, 1), Some(0), "22 from 10/16");
    assert_eq!(
        usage(Direction::Egress, 0),
        Some(0),
        "the reply is not a use"
    );
    let unused: Vec<String> = r.unused_rules().map(|u| u.rule.clone()).collect();
    assert_eq!(
        unused,
        vec![
            "allows tcp 22 from 10.0.0.0/16",
            "allows all traffic to 0.0.0.0/0"
        ]
    );
    // Only groups on interfaces seen in the records are judged.
    assert_eq!(r.unobserved_security_groups, 3);
}

#[test]
fn the_table_and_json_carry_the_reason() {
    let r = explain(&[
        rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23),
        rej(APP, "10.0.2.20", 40000, "10.0.1.10", 22),
    ]);
    let t = render_table(&r);
    assert!(t.contains("acl-web inbound rule 120"), "{t}");
    assert!(
        t.contains("sg-app allows tcp 443 to 0.0.0.0/0, not 22"),
        "{t}"
    );
    assert!(t.contains("i-web"), "{t}");
    let j = serde_json::to_value(&r).unwrap();
    // Equal record counts sort by interface id: eni-app first.
    assert_eq!(j["rejects"][0]["reason"]["kind"], "security-group");
    let g = &j["rejects"][1];
    assert_eq!(g["reason"]["kind"], "network-acl");
    assert_eq!(g["reason"]["rule_number"], 120);
    assert_eq!(g["interface"]["instance_id"], "i-web");
    assert_eq!(g["interface"]["subnet_id"], "subnet-web");
    assert_eq!(g["interface"]["vpc_id"], "vpc-t");
    assert_eq!(g["interface"]["security_groups"][0], "sg-web");
}

#[test]
fn context_records_are_reply_evidence_but_never_explained_or_counted() {
    // `explain --filter action = 'REJECT'`: the request's ACCEPT is only context, and the
    // reply's REJECT is still the NACL's outbound rule, as without a filter.
    let snap = snapshot();
    let mut x = Explainer::new(&snap, ExplainOptions::default());
    x.add_context(&acc(WEB, "198.51.100.7", 51000, "10.0.1.10", 443));
    x.add(&rej(WEB, "10.0.1.10", 443, "198.51.100.7", 51000));
    let r = x.finish();
    assert_eq!(r.rejects.len(), 1, "{}", render_table(&r));
    assert!(r.rejects[0].reply);
    assert_eq!(nacl(&r.rejects[0]).2, 32767);
    assert_eq!((r.counts.records, r.counts.accepted), (1, 0));
    assert_eq!(r.counts.context_records, 1);
    // A context REJECT is not explained, and a context ACCEPT is not judged for drift.
    let mut x = Explainer::new(&snap, ExplainOptions::default());
    x.add_context(&rej(WEB, "203.0.113.5", 40000, "10.0.1.10", 23));
    x.add_context(&acc(WEB, "203.0.113.5", 40000, "10.0.1.10", 23));
    let r = x.finish();
    assert!(
        r.rejects.is_empty() && r.drift.is_empty(),
        "{}",
        render_table(&r)
    );
}

#[test]
fn a_held_record_stays_compact() {
    // The explainer holds every usable record until `finish` (module docs): keep it small.
    assert!(std::mem::size_of::<crate::engine::Rec>() <= 128);
}
