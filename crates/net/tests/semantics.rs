//! One test per semantic rule of spec §2–§4, over the hand-written fixture in `common`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use flowwatch_net::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_UDP};
use flowwatch_net::{Addr, Direction, Disposition, Packet, Query, SgDecision};

fn a(s: &str) -> Addr {
    Addr::parse(s).unwrap()
}

fn sg(s: &flowwatch_net::Snapshot, eni: &str, dir: Direction, p: Packet) -> bool {
    s.eval_security_groups(s.eni_idx(eni).unwrap(), dir, &p)
        .allowed()
}

// ---- security groups (§2) ----

#[test]
fn sg_port_range_is_inclusive_and_tests_destination_port() {
    let s = snapshot();
    let tcp = |port| Packet::tcp(a("8.8.8.8"), 40000, a("10.0.1.10"), port);
    assert!(sg(&s, "eni-web", Direction::Ingress, tcp(80)));
    assert!(sg(&s, "eni-web", Direction::Ingress, tcp(443)));
    assert!(!sg(&s, "eni-web", Direction::Ingress, tcp(79)));
    assert!(!sg(&s, "eni-web", Direction::Ingress, tcp(444)));
    // The source port never matters.
    assert!(!sg(
        &s,
        "eni-web",
        Direction::Ingress,
        Packet::tcp(a("8.8.8.8"), 80, a("10.0.1.10"), 5000)
    ));
}

#[test]
fn sg_protocol_all_matches_any_protocol_and_port() {
    let s = snapshot();
    for proto in [0u8, 6, 17, 47, 50] {
        let mut p = Packet::new(proto, a("203.0.113.9"), a("10.0.2.20"));
        p.dst_port = 12345;
        assert!(
            sg(&s, "eni-priv", Direction::Ingress, p),
            "protocol {proto}"
        );
    }
}

#[test]
fn sg_numbered_protocol_other_than_tcp_udp_icmp_matches_every_port() {
    let s = snapshot();
    let esp = Packet::new(50, a("10.0.3.10"), a("10.0.2.10"));
    assert!(sg(&s, "eni-db", Direction::Ingress, esp));
    // "17" is UDP: its port range applies.
    assert!(sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::udp(a("10.0.3.10"), 5000, a("10.0.2.10"), 53)
    ));
    assert!(!sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::udp(a("10.0.3.10"), 5000, a("10.0.2.10"), 54)
    ));
    // Outside the CIDR.
    assert!(!sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::new(50, a("10.1.1.10"), a("10.0.2.10"))
    ));
}

#[test]
fn sg_icmp_type_and_code() {
    let s = snapshot();
    let icmp = |t, c| Packet::icmp(a("8.8.8.8"), a("10.0.1.10"), t, c);
    // sg-web: type 8, any code.
    assert!(sg(&s, "eni-web", Direction::Ingress, icmp(8, 0)));
    assert!(sg(&s, "eni-web", Direction::Ingress, icmp(8, 5)));
    assert!(!sg(&s, "eni-web", Direction::Ingress, icmp(0, 0)));
    // sg-icmp: exactly type 3 code 4.
    let to = |t, c| Packet::icmp(a("8.8.8.8"), a("10.0.1.30"), t, c);
    assert!(sg(&s, "eni-icmp", Direction::Ingress, to(3, 4)));
    assert!(!sg(&s, "eni-icmp", Direction::Ingress, to(3, 3)));
    assert!(!sg(&s, "eni-icmp", Direction::Ingress, to(8, 0)));
}

#[test]
fn sg_icmpv6_without_ports_is_all_types() {
    let s = snapshot();
    let mut p = Packet::icmp(a("2001:db8::1"), a("2600:a:0:1::30"), 135, 0);
    p.protocol = PROTO_ICMPV6;
    assert!(sg(&s, "eni-icmp", Direction::Ingress, p));
    p.icmp_type = Some(1);
    assert!(sg(&s, "eni-icmp", Direction::Ingress, p));
    // An IPv4 ICMP packet does not match the ::/0 rule.
    let v4 = Packet {
        protocol: PROTO_ICMP,
        ..Packet::icmp(a("8.8.8.8"), a("10.0.1.30"), 1, 0)
    };
    assert!(!sg(&s, "eni-icmp", Direction::Ingress, v4));
}

#[test]
fn sg_ipv6_ranges_match_only_ipv6() {
    let s = snapshot();
    assert!(sg(
        &s,
        "eni-web",
        Direction::Ingress,
        Packet::tcp(a("2001:db8::1"), 40000, a("2600:a:0:1::10"), 8080)
    ));
    assert!(!sg(
        &s,
        "eni-web",
        Direction::Ingress,
        Packet::tcp(a("8.8.8.8"), 40000, a("10.0.1.10"), 8080)
    ));
}

#[test]
fn sg_reference_admits_private_addresses_of_group_members_only() {
    let s = snapshot();
    // sg-web: tcp 22 from sg-admin (eni-admin carries it).
    assert!(sg(
        &s,
        "eni-web",
        Direction::Ingress,
        Packet::tcp(a("10.0.1.20"), 40000, a("10.0.1.10"), 22)
    ));
    assert!(!sg(
        &s,
        "eni-web",
        Direction::Ingress,
        Packet::tcp(a("10.0.1.99"), 40000, a("10.0.1.10"), 22)
    ));
    // sg-db: 5432 from sg-web, whose member eni-web is 10.0.1.10 (its public 1.1.1.1 is not a member address).
    assert!(sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::tcp(a("10.0.1.10"), 40000, a("10.0.2.10"), 5432)
    ));
    assert!(!sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::tcp(a("1.1.1.1"), 40000, a("10.0.2.10"), 5432)
    ));
}

#[test]
fn sg_prefix_list_peer_uses_its_cidrs() {
    let s = snapshot();
    assert!(sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::tcp(a("192.0.2.7"), 40000, a("10.0.2.10"), 3306)
    ));
    assert!(!sg(
        &s,
        "eni-db",
        Direction::Ingress,
        Packet::tcp(a("198.51.100.7"), 40000, a("10.0.2.10"), 3306)
    ));
}

#[test]
fn sg_is_a_union_over_groups_and_reports_the_deciding_rule() {
    let s = snapshot();
    let e = s.eni_idx("eni-db").unwrap();
    // Port 9000 comes from the second group (sg-extra).
    let d = s.eval_security_groups(
        e,
        Direction::Ingress,
        &Packet::tcp(a("8.8.8.8"), 1, a("10.0.2.10"), 9000),
    );
    let SgDecision::Allowed { group, rule } = d else {
        panic!("denied")
    };
    assert_eq!(s.security_group(group).id, "sg-extra");
    assert_eq!(
        s.sg_rule(group, Direction::Ingress, rule)
            .unwrap()
            .from_port,
        9000
    );
}

#[test]
fn sg_egress_matches_destination_and_no_egress_rules_means_nothing_out() {
    let s = snapshot();
    assert!(sg(
        &s,
        "eni-web",
        Direction::Egress,
        Packet::tcp(a("10.0.1.10"), 40000, a("8.8.8.8"), 443)
    ));
    assert!(!sg(
        &s,
        "eni-db",
        Direction::Egress,
        Packet::tcp(a("10.0.2.10"), 40000, a("8.8.8.8"), 443)
    ));
    let r = check(&s, Query::new("i-db", "8.8.8.8").port(443));
    assert_eq!(r.forward_disposition, Disposition::DeniedOut);
    assert_eq!(codes(&r), ["ENI_SG_RULES_MISMATCH"]);
    assert_eq!(r.explanations[0].direction, Some("egress"));
}

#[test]
fn sg_is_stateful_replies_pass_without_reverse_rules() {
    let s = snapshot();
    // eni-web allows 5432 out; eni-db has no egress rules at all, yet the reply returns.
    let r = check(&s, Query::new("i-web", "i-db").port(5432));
    assert_eq!(
        r.forward_disposition,
        Disposition::Accepted,
        "{:?}",
        r.explanations
    );
    // acl-a2 outbound only admits 1024-49151: the reply to 49152 is dropped by the NACL...
    assert_eq!(r.return_disposition, Some(Disposition::DeniedOut));
    assert!(!r.network_path_found);
    assert_eq!(codes(&r), ["SUBNET_ACL_RESTRICTION"]);
    // ...and with a client port inside the allowed range the whole path is found.
    let r = check(
        &s,
        Query::new("i-web", "i-db").port(5432).source_port(40000),
    );
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert!(
        r.return_path_components[0]
            .additional_details
            .iter()
            .any(|d| d.contains("tracked"))
    );
}

#[test]
fn sg_applies_between_enis_of_the_same_subnet() {
    let s = snapshot();
    let r = check(&s, Query::new("i-99", "i-web").port(22));
    assert_eq!(r.forward_disposition, Disposition::DeniedIn);
    assert_eq!(ids(&r.forward_path_components), ["eni-99", "eni-web"]);
    assert_eq!(codes(&r), ["ENI_SG_RULES_MISMATCH"]);
}

// ---- network ACLs (§3) ----

#[test]
fn nacl_rules_apply_in_number_order_whatever_the_file_order() {
    let s = snapshot();
    let n = s.nacl_idx("acl-a2").unwrap();
    // Rule 100 (deny, listed second) beats rule 200 (allow, listed first).
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::tcp(a("10.0.1.99"), 40000, a("10.0.2.10"), 5432),
    );
    assert_eq!((d.rule_number, d.allow), (100, false));
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::tcp(a("10.0.1.98"), 40000, a("10.0.2.10"), 5432),
    );
    assert_eq!((d.rule_number, d.allow), (200, true));
}

#[test]
fn nacl_default_rule_is_reported_as_32767() {
    let s = snapshot();
    let n = s.nacl_idx("acl-a2").unwrap();
    // Egress to 8.8.8.8 on tcp/80: 100 covers 1024-49151 only, 110 is UDP, 120 another CIDR.
    let d = s.eval_nacl(
        n,
        Direction::Egress,
        &Packet::tcp(a("10.0.2.10"), 40000, a("8.8.8.8"), 80),
    );
    assert_eq!((d.rule_number, d.allow, d.entry), (32767, false, None));
    // An explicit 32767 entry from the API decides the same way.
    let n = s.nacl_idx("acl-a").unwrap();
    let d = s.eval_nacl(
        n,
        Direction::Egress,
        &Packet::tcp(a("10.0.1.10"), 40000, a("8.8.8.8"), 80),
    );
    assert_eq!((d.rule_number, d.allow), (100, true));
}

#[test]
fn nacl_ingress_matches_source_egress_matches_destination_ports_are_destination_ports() {
    let s = snapshot();
    let n = s.nacl_idx("acl-a2").unwrap();
    // Egress rule 120 allows everything *to* 10.0.3.0/24.
    assert!(
        s.eval_nacl(
            n,
            Direction::Egress,
            &Packet::tcp(a("10.0.2.10"), 5432, a("10.0.3.10"), 40)
        )
        .allow
    );
    // ...not *from* it.
    assert!(
        !s.eval_nacl(
            n,
            Direction::Egress,
            &Packet::tcp(a("10.0.3.10"), 5432, a("10.0.4.10"), 40)
        )
        .allow
    );
    // Rule 100 egress tests the destination port (1024-49151), not the source port.
    assert!(
        s.eval_nacl(
            n,
            Direction::Egress,
            &Packet::tcp(a("10.0.2.10"), 80, a("8.8.8.8"), 2000)
        )
        .allow
    );
    assert!(
        !s.eval_nacl(
            n,
            Direction::Egress,
            &Packet::tcp(a("10.0.2.10"), 2000, a("8.8.8.8"), 80)
        )
        .allow
    );
}

#[test]
fn nacl_icmp_type_code_entry() {
    let s = snapshot();
    let n = s.nacl_idx("acl-a2").unwrap();
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::icmp(a("10.0.3.10"), a("10.0.2.20"), 8, 0),
    );
    assert_eq!((d.rule_number, d.allow), (110, false));
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::icmp(a("10.0.3.10"), a("10.0.2.20"), 0, 0),
    );
    assert_eq!((d.rule_number, d.allow), (200, true));
}

#[test]
fn nacl_entries_apply_to_their_family_only() {
    let s = snapshot();
    let n = s.nacl_idx("acl-a2").unwrap();
    // acl-a2 has no IPv6 entries: every IPv6 packet falls to `*`.
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::tcp(a("2001:db8::1"), 1, a("2600:a:0:2::1"), 80),
    );
    assert_eq!((d.rule_number, d.allow), (32767, false));
    let n = s.nacl_idx("acl-a").unwrap();
    let d = s.eval_nacl(
        n,
        Direction::Ingress,
        &Packet::tcp(a("2001:db8::1"), 1, a("2600:a:0:1::10"), 80),
    );
    assert_eq!((d.rule_number, d.allow), (101, true));
}

#[test]
fn nacl_of_the_destination_subnet_denies_inbound() {
    let s = snapshot();
    let r = check(&s, Query::new("i-99", "i-db").port(5432));
    assert_eq!(r.forward_disposition, Disposition::DeniedIn);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-99", "sa1", "vpc-a", "sa2"]
    );
    assert_eq!(codes(&r), ["SUBNET_ACL_RESTRICTION"]);
    let rule = r.explanations[0].acl_rule.as_ref().unwrap();
    assert_eq!(
        (rule.acl_id.as_str(), rule.rule_number, rule.egress),
        ("acl-a2", 100, false)
    );
}

#[test]
fn nacl_of_the_source_subnet_denies_outbound() {
    let s = snapshot();
    // i-priv (sa2, sg-open) to i-web on tcp/80: acl-a2 egress admits only ports 1024-49151.
    let r = check(&s, Query::new("i-priv", "i-web").port(80));
    assert_eq!(r.forward_disposition, Disposition::DeniedOut);
    assert_eq!(ids(&r.forward_path_components), ["eni-priv", "sa2"]);
    assert_eq!(
        r.explanations[0].acl_rule.as_ref().unwrap().rule_number,
        32767
    );
}

#[test]
fn nacl_not_applied_within_a_subnet() {
    let s = snapshot();
    // eni-db and eni-priv share sa2, whose NACL denies ICMP echo only from sa3 — and whose
    // egress would drop this packet to port 80 — yet same-subnet traffic never sees it.
    let r = check(&s, Query::new("i-priv", "10.0.2.10").port(9000));
    assert_eq!(r.forward_disposition, Disposition::Accepted);
    assert_eq!(ids(&r.forward_path_components), ["eni-priv", "eni-db"]);
    assert!(
        r.forward_path_components
            .iter()
            .all(|h| h.acl_rule.is_none())
    );
}

// ---- routes (§4) ----

#[test]
fn route_longest_prefix_wins() {
    let s = snapshot();
    // 10.1.1.10 via pcx-ab (/16); 10.1.1.200 via the more specific /25 to tgw-1 (no route there).
    let r = check(&s, Query::new("i-web", "10.1.1.10").port(443));
    assert!(ids(&r.forward_path_components).contains(&"pcx-ab".to_string()));
    let r = check(&s, Query::new("i-web", "10.1.1.200").port(443));
    assert_eq!(r.forward_disposition, Disposition::NoRoute);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-web", "sa1", "vpc-a", "tgw-1"]
    );
    assert_eq!(codes(&r), ["TGW_RTB_CANNOT_ROUTE"]);
}

#[test]
fn route_local_delivers_to_another_subnet() {
    let s = snapshot();
    let r = check(&s, Query::new("i-a3", "i-web").port(80));
    assert_eq!(r.forward_disposition, Disposition::Accepted);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-a3", "sa3", "vpc-a", "sa1", "eni-web"]
    );
    let route = r.forward_path_components[1]
        .route_table_route
        .as_ref()
        .unwrap();
    assert_eq!(
        (route.route_table_id.as_str(), route.target.as_str()),
        ("rtb-a3", "local")
    );
    // An address of the VPC outside every subnet is null-routed at the VPC router.
    let r = check(&s, Query::new("i-a3", "10.0.200.1").port(80));
    assert_eq!(r.forward_disposition, Disposition::NullRouted);
    // An unused address of a subnet: nobody answers.
    let r = check(&s, Query::new("i-a3", "10.0.1.222").port(80));
    assert_eq!(r.forward_disposition, Disposition::NeighborUnreachable);
}

#[test]
fn route_table_explicit_association_beats_main() {
    let s = snapshot();
    // sa1 has no explicit table: main (0/0 → igw-a); sa2 is explicitly associated (0/0 → nat-a).
    let web = check(&s, Query::new("i-web", "8.8.8.8").port(443));
    assert_eq!(
        web.forward_path_components[1]
            .route_table_route
            .as_ref()
            .unwrap()
            .route_table_id,
        "rtb-a-main"
    );
    let private = check(&s, Query::new("i-priv", "8.8.8.8").port(8443));
    assert_eq!(
        private.forward_path_components[1]
            .route_table_route
            .as_ref()
            .unwrap()
            .route_table_id,
        "rtb-a-private"
    );
}

#[test]
fn route_ties_static_cidr_beats_prefix_list_of_equal_length() {
    let s = snapshot();
    // 52.216.0.0/15: pl-s3 → vpce-s3 and a static /15 → igw-a; the static route wins.
    let r = check(&s, Query::new("i-web", "52.216.1.1").port(443));
    assert!(ids(&r.forward_path_components).contains(&"igw-a".to_string()));
    assert!(!ids(&r.forward_path_components).contains(&"vpce-s3".to_string()));
}

#[test]
fn route_igw_egress_needs_a_public_address() {
    let s = snapshot();
    let r = check(&s, Query::new("i-web", "8.8.8.8").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-web", "sa1", "vpc-a", "igw-a", "isp_16509", "internet"]
    );
    let igw = &r.forward_path_components[3];
    assert_eq!(
        igw.outbound_header.as_ref().unwrap().source_addresses,
        ["1.1.1.1/32"]
    );
    let r = check(&s, Query::new("i-admin", "8.8.8.8").port(443));
    assert_eq!(r.forward_disposition, Disposition::DeniedIn);
    assert_eq!(codes(&r), ["IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS"]);
}

#[test]
fn route_igw_ingress_to_public_address_and_unattached_igw() {
    let s = snapshot();
    let r = check(&s, Query::new("8.8.8.8", "1.1.1.1").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        ["internet", "isp_16509", "igw-a", "vpc-a", "sa1", "eni-web"]
    );
    let r = check(&s, Query::new("igw-a", "i-web").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    let r = check(&s, Query::new("igw-loose", "i-web").port(443));
    assert_eq!(codes(&r), ["IGW_NOT_ATTACHED"]);
    // A private destination from the internet never enters AWS.
    let r = check(&s, Query::new("8.8.8.8", "10.0.1.10").port(443));
    assert_eq!(
        (r.forward_disposition, ids(&r.forward_path_components)),
        (Disposition::NullRouted, vec!["internet".to_string()])
    );
}

#[test]
fn route_egress_only_igw_carries_ipv6_out() {
    let s = snapshot();
    let r = check(
        &s,
        Query::new("i-web", "2001:db8::1")
            .port(443)
            .source_address("2600:a:0:1::10".parse().unwrap()),
    );
    assert_eq!(
        r.forward_disposition,
        Disposition::ExitsNetwork,
        "{:?}",
        r.explanations
    );
    assert!(ids(&r.forward_path_components).contains(&"eigw-a".to_string()));
}

#[test]
fn route_nat_gateway_translates_the_source_and_admits_only_replies() {
    let s = snapshot();
    // (acl-a2 lets tcp out to ports 1024-49151 only.)
    let r = check(&s, Query::new("i-priv", "8.8.8.8").port(8443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        [
            "eni-priv",
            "sa2",
            "vpc-a",
            "nat-a",
            "sa1",
            "vpc-a",
            "igw-a",
            "isp_16509",
            "internet"
        ]
    );
    let nat = &r.forward_path_components[3];
    assert_eq!(
        nat.outbound_header.as_ref().unwrap().source_addresses,
        ["10.0.1.50/32"]
    );
    let igw = &r.forward_path_components[6];
    assert_eq!(
        igw.outbound_header.as_ref().unwrap().source_addresses,
        ["3.3.3.3/32"]
    );
    assert_eq!(
        ids(&r.return_path_components),
        [
            "internet",
            "isp_16509",
            "igw-a",
            "vpc-a",
            "sa1",
            "nat-a",
            "vpc-a",
            "sa2",
            "eni-priv"
        ]
    );
    // Unsolicited inbound to the NAT gateway's public address is dropped there.
    let r = check(&s, Query::new("8.8.8.8", "3.3.3.3").port(443));
    assert_eq!(r.forward_disposition, Disposition::DeniedIn);
    assert_eq!(ids(&r.forward_path_components).last().unwrap(), "nat-a");
    // Protocols other than TCP/UDP/ICMP are dropped by the NAT gateway.
    let r = check(&s, Query::new("i-priv", "8.8.8.8").protocol(47));
    assert_eq!(
        (r.forward_disposition, codes(&r)),
        (
            Disposition::DeniedIn,
            vec!["PROTOCOL_RESTRICTION".to_string()]
        )
    );
}

#[test]
fn route_peering_needs_routes_on_both_sides() {
    let s = snapshot();
    // A → B: A routes 10.1/16 to pcx-ab, B routes 10.0.1.0/24 back.
    let r = check(&s, Query::new("i-web", "i-b").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-web", "sa1", "vpc-a", "pcx-ab", "vpc-b", "sb1", "eni-b"]
    );
    // sa3 → B: the request arrives but B has no route back to 10.0.3.0/24.
    let mut q = Query::new("i-a3", "i-b").port(443);
    q.source_port = Some(40000);
    let r = check(&s, q);
    // sa3's table has no route to 10.1/16 at all:
    assert_eq!(r.forward_disposition, Disposition::NoRoute);
    // From B to sa2 (10.0.2.20): B's route 10.0.1.0/24 does not cover it → no route at B.
    let r = check(&s, Query::new("i-b", "i-priv").port(443));
    assert_eq!(r.forward_disposition, Disposition::NoRoute);
    assert_eq!(codes(&r), ["NO_ROUTE_TO_DESTINATION"]);
    // And B → A's web server works, reply included.
    let r = check(&s, Query::new("i-b", "i-web").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
}

#[test]
fn route_peering_is_not_transitive() {
    let s = snapshot();
    // A routes 10.2/16 (C) to pcx-ab: B is not C's transit.
    let r = check(&s, Query::new("i-web", "i-c").port(443));
    assert_eq!(r.forward_disposition, Disposition::NullRouted);
    assert_eq!(codes(&r), ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]);
    // C routes 10/8 to pcx-bc: reaching A through B fails the same way.
    let r = check(&s, Query::new("i-c", "i-web").port(443));
    assert_eq!(codes(&r), ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]);
    // B ↔ C directly is fine.
    assert!(check(&s, Query::new("i-b", "i-c").port(443)).network_path_found);
}

#[test]
fn route_transit_gateway_associations_propagations_blackholes_and_azs() {
    let s = snapshot();
    let r = check(&s, Query::new("i-web", "i-d").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-web", "sa1", "vpc-a", "tgw-1", "vpc-d", "sd1", "eni-d"]
    );
    let tgw = &r.forward_path_components[3];
    let route = tgw.transit_gateway_route_table_route.as_ref().unwrap();
    assert_eq!(
        (
            route.route_table_id.as_str(),
            route.route_origin,
            route.attachment_id.as_deref()
        ),
        ("tgw-rtb-1", "propagated", Some("att-d"))
    );
    assert_eq!(tgw.transit_gateway_attachment.as_ref().unwrap().id, "att-a");
    // A static blackhole (10.9.9.0/24) beats the propagated 10.9.0.0/16.
    let r = check(&s, Query::new("i-web", "10.9.9.9").port(443));
    assert_eq!(
        (r.forward_disposition, codes(&r)),
        (
            Disposition::NullRouted,
            vec!["TGW_RTB_BAD_STATE_ROUTE".to_string()]
        )
    );
    // sa3 is in us-east-1b, where att-a has no subnet.
    let r = check(&s, Query::new("i-a3", "i-d").port(443));
    assert_eq!(
        (r.forward_disposition, codes(&r)),
        (
            Disposition::NullRouted,
            vec!["TGW_ATTACH_VPC_AZ_RESTRICTION".to_string()]
        )
    );
    // Source = the attachment: routed by its associated table.
    let r = check(&s, Query::new("att-a", "i-d").port(443));
    assert_eq!(r.forward_disposition, Disposition::Accepted);
}

#[test]
fn route_gateway_endpoint_via_prefix_list() {
    let s = snapshot();
    // 52.94.0.5 is in pl-ddb (/22), more specific than 0/0 → igw-a.
    let r = check(&s, Query::new("i-web", "52.94.0.5").port(443));
    assert!(r.network_path_found, "{:?}", r.explanations);
    assert_eq!(
        ids(&r.forward_path_components),
        ["eni-web", "sa1", "vpc-a", "vpce-ddb"]
    );
    let route = r.forward_path_components[1]
        .route_table_route
        .as_ref()
        .unwrap();
    assert_eq!(route.destination_prefix_list_id.as_deref(), Some("pl-ddb"));
    assert_eq!(
        ids(&r.return_path_components),
        ["vpce-ddb", "vpc-a", "sa1", "eni-web"]
    );
    // Gateway endpoints carry TCP (and ICMP) only.
    let r = check(
        &s,
        Query::new("i-web", "52.94.0.5")
            .protocol(PROTO_UDP)
            .port(443),
    );
    assert_eq!(codes(&r), ["VPCE_GATEWAY_PROTOCOL_RESTRICTION"]);
    // As a source: the reply side of an endpoint.
    let r = check(&s, Query::new("vpce-s3", "i-web").port(443));
    assert_eq!(
        ids(&r.forward_path_components),
        ["vpce-s3", "vpc-a", "sa1", "eni-web"]
    );
}

#[test]
fn route_blackhole_drops() {
    let s = snapshot();
    let r = check(&s, Query::new("i-web", "10.8.1.1").port(443));
    assert_eq!(r.forward_disposition, Disposition::NullRouted);
    assert_eq!(codes(&r), ["BAD_STATE_ROUTE"]);
    assert_eq!(
        r.forward_path_components[1]
            .route_table_route
            .as_ref()
            .unwrap()
            .state,
        "blackhole"
    );
}

#[test]
fn stopped_instances_deliver_nothing() {
    let s = snapshot();
    let r = check(&s, Query::new("i-web", "10.0.1.40").port(443));
    assert_eq!(r.forward_disposition, Disposition::NeighborUnreachable);
}

#[test]
fn unknown_ids_are_explained_not_fatal() {
    let s = snapshot();
    let r = check(&s, Query::new("i-nope", "i-web"));
    assert!(!r.network_path_found);
    assert_eq!(codes(&r), ["UNKNOWN_RESOURCE"]);
    let r = check(&s, Query::new("rtb-b", "i-web"));
    assert_eq!(codes(&r), ["UNSUPPORTED_COMPONENT"]);
}

#[test]
fn udp_and_analysis_serialises_in_aws_shape() {
    let s = snapshot();
    let r = check(
        &s,
        Query::new("i-web", "8.8.8.8").protocol(PROTO_UDP).port(53),
    );
    let v = serde_json::to_value(&r).unwrap();
    for k in [
        "NetworkPathFound",
        "ForwardPathComponents",
        "ReturnPathComponents",
        "Explanations",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert_eq!(
        v["ForwardPathComponents"][0]["SecurityGroupRule"]["Direction"],
        "egress"
    );
    assert_eq!(v["ForwardPathComponents"][1]["AclRule"]["RuleNumber"], 100);
}
