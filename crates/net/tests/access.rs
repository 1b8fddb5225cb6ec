//! Network access analysis: exact findings on the corpus snapshots (worked out by hand from
//! their JSON), on a small inline snapshot (SG union, NACL deny inside an allow range), scope
//! parsing, and agreement with `reach` for a header of every finding.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flowwatch_net::access::{HeaderSet, Scope};
use flowwatch_net::{Finding, Query, Snapshot, analyze, reach};
use serde_json::json;

/// Internet-routable IPv4 space as CIDRs: 0.0.0.0/0 minus 0/8, 10/8, 100.64/10, 127/8,
/// 169.254/16, 172.16/12, 192.168/16, 224/4, 240/4 — worked out by hand.
const INTERNET: &[&str] = &[
    "1.0.0.0/8",
    "2.0.0.0/7",
    "4.0.0.0/6",
    "8.0.0.0/7",
    "11.0.0.0/8",
    "12.0.0.0/6",
    "16.0.0.0/4",
    "32.0.0.0/3",
    "64.0.0.0/3",
    "96.0.0.0/6",
    "100.0.0.0/10",
    "100.128.0.0/9",
    "101.0.0.0/8",
    "102.0.0.0/7",
    "104.0.0.0/5",
    "112.0.0.0/5",
    "120.0.0.0/6",
    "124.0.0.0/7",
    "126.0.0.0/8",
    "128.0.0.0/3",
    "160.0.0.0/5",
    "168.0.0.0/8",
    "169.0.0.0/9",
    "169.128.0.0/10",
    "169.192.0.0/11",
    "169.224.0.0/12",
    "169.240.0.0/13",
    "169.248.0.0/14",
    "169.252.0.0/15",
    "169.255.0.0/16",
    "170.0.0.0/7",
    "172.0.0.0/12",
    "172.32.0.0/11",
    "172.64.0.0/10",
    "172.128.0.0/9",
    "173.0.0.0/8",
    "174.0.0.0/7",
    "176.0.0.0/4",
    "192.0.0.0/9",
    "192.128.0.0/11",
    "192.160.0.0/13",
    "192.169.0.0/16",
    "192.170.0.0/15",
    "192.172.0.0/14",
    "192.176.0.0/12",
    "192.192.0.0/10",
    "193.0.0.0/8",
    "194.0.0.0/7",
    "196.0.0.0/6",
    "200.0.0.0/5",
    "208.0.0.0/4",
];

fn corpus(scenario: &str) -> Option<PathBuf> {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let dir = root
        .join("aws-snapshots/batfish/representation-aws")
        .join(scenario);
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "corpus scenario {} not found; set FLOWWATCH_CORPUS",
        dir.display()
    );
    if std::env::var("FLOWWATCH_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("{msg} (FLOWWATCH_REQUIRE_CORPUS=1)");
    }
    eprintln!("{msg}; skipped");
    None
}

fn load(scenario: &str) -> Option<Snapshot> {
    corpus(scenario).map(|d| Snapshot::load(d).0)
}

fn builtin(s: &Snapshot, name: &str) -> Vec<Finding> {
    analyze(s, &Scope::builtin(name).unwrap())
}

fn ids(f: &Finding) -> Vec<&str> {
    f.finding_components
        .iter()
        .map(|c| c.component.id.as_str())
        .collect()
}

/// `(protocol, port ranges, source CIDRs, destination CIDRs)` of each header row.
type Row = (String, Vec<(u16, u16)>, Vec<String>, Vec<String>);

fn rows(f: &Finding) -> Vec<Row> {
    f.headers
        .iter()
        .map(|h| {
            (
                h.protocol.clone(),
                h.destination_port_ranges
                    .iter()
                    .map(|p| (p.from, p.to))
                    .collect(),
                h.source_addresses.clone(),
                h.destination_addresses.clone(),
            )
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// One header of the set, for cross-checking with `reach`: the lowest corner of the first
/// cube.
fn sample(set: &HeaderSet) -> (u8, IpAddr, IpAddr, u16) {
    let c = set.cubes()[0];
    (
        c.lo[0] as u8,
        IpAddr::from(std::net::Ipv4Addr::from(c.lo[1])),
        IpAddr::from(std::net::Ipv4Addr::from(c.lo[2])),
        c.lo[4] as u16,
    )
}

/// Every finding's sample header is delivered by `reach` too (forward path).
fn agrees_with_reach(s: &Snapshot, findings: &[Finding]) {
    for f in findings {
        let (proto, src, dst, port) = sample(&f.space);
        let source = if f.source.kind == "internet-gateway" {
            src.to_string()
        } else {
            f.source.id.clone()
        };
        let q = Query::new(&source, &dst.to_string())
            .protocol(proto)
            .port(port)
            .source_address(src);
        let a = reach(s, &q);
        assert!(
            a.forward_disposition.is_success(),
            "{}: reach disagrees for {source} -> {dst} {proto}/{port}: {:?}",
            f.finding_id,
            a.explanations
        );
    }
}

#[test]
fn public_subnet_instance_is_exposed_on_ssh_only() {
    let Some(s) = load("test-public-subnet") else {
        return;
    };
    // sg-09ccba6656672061b: tcp 22 from 0.0.0.0/0 only; acl-0d9449710ec85473c allows all;
    // the instance's public address is 18.216.80.133 behind igw-0a409e562d251f766.
    let f = builtin(&s, "internet-exposed");
    assert_eq!(f.len(), 1);
    let f0 = &f[0];
    assert_eq!(f0.source.id, "igw-0a409e562d251f766");
    assert_eq!(f0.destination.id, "eni-00064850627e198ee");
    assert_eq!(
        rows(f0),
        vec![(
            "tcp".into(),
            vec![(22, 22)],
            strings(INTERNET),
            strings(&["18.216.80.133/32"])
        )]
    );
    assert_eq!(
        ids(f0),
        vec![
            "internet",
            "igw-0a409e562d251f766",
            "vpc-0672bce73895d7252",
            "subnet-0bb82ae8b3ea5dc78",
            "eni-00064850627e198ee"
        ]
    );
    let subnet = &f0.finding_components[3];
    assert_eq!(subnet.acl_rule.as_ref().map(|r| r.rule_number), Some(100));
    let eni = &f0.finding_components[4];
    assert_eq!(
        eni.security_group_rule
            .as_ref()
            .map(|r| r.group_id.as_str()),
        Some("sg-09ccba6656672061b")
    );
    assert_eq!(
        eni.attached_to.as_ref().map(|c| c.id.as_str()),
        Some("i-06669a407b2ef3ae5")
    );
    assert_eq!(f0.port_ranges("tcp"), vec![(22, 22)]);
    assert!(f0.port_ranges("udp").is_empty());
    // SSH/RDP: the same finding; nothing on 3389.
    let ssh = builtin(&s, "ssh-rdp-from-internet");
    assert_eq!(ssh.len(), 1);
    assert_eq!(rows(&ssh[0]), rows(f0));
    agrees_with_reach(&s, &f);
    // Serialises in the shape of AccessScopeAnalysisFinding.
    let v = serde_json::to_value(f0).unwrap();
    assert!(
        v["FindingComponents"].is_array()
            && v["NetworkInsightsAccessScopeId"] == "internet-exposed"
    );
}

#[test]
fn egress_through_a_nat_gateway_is_excluded() {
    let Some(s) = load("test-nat-gateway") else {
        return;
    };
    let without = builtin(&s, "egress-without-nat");
    assert_eq!(
        without.len(),
        1,
        "only the public instance egresses directly"
    );
    assert!(
        without[0]
            .finding_components
            .iter()
            .all(|c| c.component.kind != "nat-gateway")
    );
    // The same scope without the exclusion also finds the private instance, through the NAT.
    let all = Scope::parse(
        r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::NetworkInterface"]}},
            "Destination": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}}}]}"#,
    )
    .unwrap();
    let all = analyze(&s, &all);
    assert_eq!(all.len(), 2);
    let via_nat: Vec<&Finding> = all
        .iter()
        .filter(|f| {
            f.finding_components
                .iter()
                .any(|c| c.component.kind == "nat-gateway")
        })
        .collect();
    assert_eq!(via_nat.len(), 1);
    // Headers are reported as they leave the source: its private address, not the NAT's.
    let src = &via_nat[0].headers[0].source_addresses;
    assert_eq!(src.len(), 1);
    let eni = s.eni(s.eni_idx(&via_nat[0].source.id).unwrap());
    assert_eq!(src[0], format!("{}/32", eni.private_ips[0]));
    agrees_with_reach(&s, &all);
}

#[test]
fn peered_vpcs_that_should_be_isolated() {
    let Some(s) = load("test-vpc-peering") else {
        return;
    };
    let vpcs: Vec<String> = s.vpcs.iter().map(|v| v.id.clone()).collect();
    let sel: Vec<&str> = vpcs.iter().map(String::as_str).collect();
    let f = analyze(&s, &Scope::isolated_vpcs(&sel));
    let pairs: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.source.id.as_str(), f.destination.id.as_str()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("eni-0024c0af5aa1387e5", "eni-0f0708220e812876c"),
            ("eni-06347554b65539ff3", "eni-0f0708220e812876c"),
            ("eni-0f0708220e812876c", "eni-0024c0af5aa1387e5"),
            ("eni-0f0708220e812876c", "eni-06347554b65539ff3"),
        ]
    );
    for x in &f {
        assert_eq!(x.port_ranges("tcp"), vec![(22, 22)]);
        assert!(
            x.finding_components
                .iter()
                .any(|c| c.component.kind == "vpc-peering-connection")
        );
    }
    agrees_with_reach(&s, &f);
    // Through `builtin` with the same list.
    let named = Scope::builtin(&format!("isolated-vpcs:{}", sel.join(","))).unwrap();
    assert_eq!(analyze(&s, &named).len(), 4);
    // Within one selector nothing is a finding.
    assert!(analyze(&s, &Scope::isolated_vpcs(&sel[..1])).is_empty());
}

#[test]
fn transit_gateway_paths_agree_with_reach() {
    let Some(s) = load("test-transit-gateway") else {
        return;
    };
    let vpcs: Vec<String> = s.vpcs.iter().map(|v| v.id.clone()).collect();
    let sel: Vec<&str> = vpcs.iter().map(String::as_str).collect();
    let f = analyze(&s, &Scope::isolated_vpcs(&sel));
    assert!(!f.is_empty());
    assert!(f.iter().any(|x| {
        x.finding_components
            .iter()
            .any(|c| c.component.kind == "transit-gateway")
    }));
    agrees_with_reach(&s, &f);
    agrees_with_reach(&s, &builtin(&s, "internet-exposed"));
}

/// VPC 10.0.0.0/16 with an IGW; one subnet whose NACL denies TCP 25 before allowing all; one
/// ENI (public 203.0.113.10) whose two groups allow TCP 20-30 from anywhere, TCP 25-40 from
/// 198.51.100.0/24, and UDP 53 from its own group.
fn inline_snapshot() -> Snapshot {
    let docs = [
        (
            "Vpcs.json",
            json!({"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "Tags": [{"Key": "env", "Value": "prod"}]}]}),
        ),
        (
            "Subnets.json",
            json!({"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "az1"}]}),
        ),
        (
            "InternetGateways.json",
            json!({"InternetGateways": [{"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}]}),
        ),
        (
            "RouteTables.json",
            json!({"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1",
            "Associations": [{"Main": true}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]}]}),
        ),
        (
            "NetworkAcls.json",
            json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true,
            "Associations": [{"SubnetId": "subnet-1"}],
            "Entries": [
                {"RuleNumber": 90, "Egress": false, "RuleAction": "deny", "Protocol": "6", "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 25, "To": 25}},
                {"RuleNumber": 100, "Egress": false, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
                {"RuleNumber": 100, "Egress": true, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"}]}]}),
        ),
        (
            "SecurityGroups.json",
            json!({"SecurityGroups": [
            {"GroupId": "sg-a", "VpcId": "vpc-1", "GroupName": "a",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 20, "ToPort": 30, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
            {"GroupId": "sg-b", "VpcId": "vpc-1", "GroupName": "b",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 25, "ToPort": 40, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]},
                               {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "UserIdGroupPairs": [{"GroupId": "sg-b"}]}],
             "IpPermissionsEgress": []}]}),
        ),
        (
            "NetworkInterfaces.json",
            json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "VpcId": "vpc-1",
            "PrivateIpAddress": "10.0.1.10",
            "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.1.10", "Association": {"PublicIp": "203.0.113.10"}}],
            "Groups": [{"GroupId": "sg-a"}, {"GroupId": "sg-b"}], "InterfaceType": "interface", "SourceDestCheck": true,
            "Attachment": {"InstanceId": "i-1", "DeviceIndex": 0, "Status": "attached"}}]}),
        ),
    ];
    let texts: Vec<(String, String)> = docs
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    let (s, problems) =
        Snapshot::from_json_documents(texts.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    assert!(
        problems
            .iter()
            .all(|p| p.severity != flowwatch_net::Severity::Error),
        "{problems:?}"
    );
    s
}

#[test]
fn sg_union_minus_nacl_deny_in_the_middle() {
    let s = inline_snapshot();
    let f = builtin(&s, "internet-exposed");
    assert_eq!(f.len(), 1);
    assert_eq!(
        rows(&f[0]),
        vec![
            (
                "tcp".into(),
                vec![(20, 24), (26, 30)],
                strings(INTERNET),
                strings(&["203.0.113.10/32"])
            ),
            (
                "tcp".into(),
                vec![(31, 40)],
                strings(&["198.51.100.0/24"]),
                strings(&["203.0.113.10/32"])
            ),
        ]
    );
    // Port 25 is denied by NACL rule 90 even though both groups allow it.
    assert!(
        !f[0]
            .port_ranges("tcp")
            .iter()
            .any(|&(a, b)| a <= 25 && 25 <= b)
    );
    // Both groups' rules are named on the ENI hop.
    let eni = f[0].finding_components.last().unwrap();
    assert_eq!(eni.security_group_rule.as_ref().unwrap().group_id, "sg-a");
    assert!(eni.additional_details.iter().any(|d| d.contains("sg-b")));
    agrees_with_reach(&s, &f);
    // A scope restricted to destination port 25 finds nothing; to 30-35 finds both rows' ports.
    let narrow = |ports: &str| {
        Scope::parse(&format!(
            r#"{{"MatchPaths": [{{"Source": {{"ResourceStatement": {{"ResourceTypes": ["AWS::EC2::InternetGateway"]}}}},
                "Destination": {{"PacketHeaderStatement": {{"DestinationPorts": ["{ports}"], "Protocols": ["tcp"]}}}}}}]}}"#
        ))
        .unwrap()
    };
    assert!(analyze(&s, &narrow("25")).is_empty());
    let f = analyze(&s, &narrow("30-35"));
    assert_eq!(f[0].port_ranges("tcp"), vec![(30, 35)]);
    // Source-address restriction: from 198.51.100.7 only, every port but 25.
    let one = Scope::parse(
        r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"Resources": ["igw-1"]},
              "PacketHeaderStatement": {"SourceAddresses": ["198.51.100.7/32"]}}}]}"#,
    )
    .unwrap();
    let f = analyze(&s, &one);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].port_ranges("tcp"), vec![(20, 24), (26, 40)]);
    // Exclusion by header: exclude TCP 20-24 from the internet-exposed set.
    let ex = Scope::parse(
        r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}}}],
            "ExcludePaths": [{"Destination": {"PacketHeaderStatement": {"DestinationPorts": ["20-24"]}}}]}"#,
    )
    .unwrap();
    assert_eq!(analyze(&s, &ex)[0].port_ranges("tcp"), vec![(26, 40)]);
}

#[test]
fn vpc_tags_select_vpcs() {
    let s = inline_snapshot();
    assert_eq!(s.tags("vpc-1"), &[("env".to_string(), "prod".to_string())]);
    let tagged = Scope::parse(
        r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}},
            "Destination": {"ResourceStatement": {"Resources": ["tag:env=prod"]}}}]}"#,
    )
    .unwrap();
    assert_eq!(analyze(&s, &tagged).len(), 1);
    let other = Scope::parse(
        r#"{"MatchPaths": [{"Destination": {"ResourceStatement": {"Resources": ["tag:env=dev"]}}}]}"#,
    )
    .unwrap();
    assert!(analyze(&s, &other).is_empty());
}

#[test]
fn scope_parsing() {
    assert!(Scope::parse("{").is_err());
    assert!(Scope::parse("{}").is_err(), "no MatchPaths");
    assert!(Scope::parse(r#"{"MatchPaths": [{"Source": {"PacketHeaderStatement": {"DestinationPorts": ["70000"]}}}]}"#).is_err());
    assert!(Scope::parse(r#"{"MatchPaths": [{"Source": {"PacketHeaderStatement": {"SourceAddresses": ["1.2.3.4/32"], "SourcePrefixLists": ["pl-1"]}}}]}"#).is_err());
    assert!(Scope::parse(r#"{"MatchPaths": [{"Source": {"Bogus": 1}}]}"#).is_err());
    let wrapped = Scope::parse(
        r#"{"NetworkInsightsAccessScopeContent": {"NetworkInsightsAccessScopeId": "nis-1",
            "MatchPaths": [{"Destination": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}}}]}}"#,
    );
    assert!(wrapped.is_ok(), "{wrapped:?}");
    for name in flowwatch_net::access::BUILTIN_SCOPES {
        let n = if *name == "isolated-vpcs" {
            "isolated-vpcs:vpc-a,vpc-b"
        } else {
            name
        };
        assert!(Scope::builtin(n).is_some(), "{n}");
    }
    assert!(Scope::builtin("isolated-vpcs").is_none(), "needs a list");
    assert!(Scope::builtin("nope").is_none());
}

/// The compact per-packet rule path of `eval_security_groups` decides exactly as the full
/// rules (`sg_rule_matches`, first match in group and rule order) on a grid of packets.
#[test]
fn fast_sg_path_agrees_with_exact_rules() {
    use flowwatch_net::packet::Direction;
    use flowwatch_net::{Addr, Packet, SgDecision};
    let perms = json!([
        {"IpProtocol": "tcp", "FromPort": 20, "ToPort": 30, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": -1, "ToPort": 80, "IpRanges": [{"CidrIp": "192.0.2.0/24"}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "50", "IpRanges": [{"CidrIp": "198.51.100.0/24"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-a"}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "203.0.113.128/25"}]}
    ]);
    let docs = [
        (
            "Vpcs.json",
            json!({"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}),
        ),
        (
            "Subnets.json",
            json!({"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}]}),
        ),
        (
            "SecurityGroups.json",
            json!({"SecurityGroups": [
            {"GroupId": "sg-a", "VpcId": "vpc-1", "IpPermissions": perms, "IpPermissionsEgress": perms}]}),
        ),
        (
            "NetworkInterfaces.json",
            json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1",
            "VpcId": "vpc-1", "PrivateIpAddress": "10.0.1.10", "Groups": [{"GroupId": "sg-a"}]}]}),
        ),
    ];
    let texts: Vec<(String, String)> = docs
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    let (s, _) = Snapshot::from_json_documents(texts.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let e = s.eni_idx("eni-1").unwrap();
    let g = s.eni(e).groups[0];
    let me = Addr::parse("10.0.1.10").unwrap();
    let peers = [
        "10.1.2.3",
        "10.0.1.10",
        "192.0.2.9",
        "198.51.100.1",
        "203.0.113.200",
        "8.8.8.8",
        "2001:db8::1",
    ];
    let mut checked = 0;
    for dir in [Direction::Ingress, Direction::Egress] {
        let rules = match dir {
            Direction::Ingress => &s.security_group(g).ingress,
            Direction::Egress => &s.security_group(g).egress,
        };
        for peer in peers {
            let peer = Addr::parse(peer).unwrap();
            let (src, dst) = if dir == Direction::Ingress {
                (peer, me)
            } else {
                (me, peer)
            };
            for proto in [6u8, 17, 1, 58, 50, 47] {
                for port in [0u16, 19, 20, 25, 30, 31, 53, 80, 81, 443, 8080, 65535] {
                    let mut p = Packet {
                        protocol: proto,
                        ..Packet::tcp(src, 40000, dst, port)
                    };
                    if proto == 1 || proto == 58 {
                        p.icmp_type = Some((port % 10) as u8);
                        p.icmp_code = Some(0);
                    }
                    let want = rules
                        .iter()
                        .position(|r| s.sg_rule_matches(r, dir, &p))
                        .map_or(SgDecision::Denied, |i| SgDecision::Allowed {
                            group: g,
                            rule: i,
                        });
                    assert_eq!(s.eval_security_groups(e, dir, &p), want, "{dir:?} {p:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 7 * 6 * 12);
}

/// Through a network load balancer: the client reaches the target behind the listener (port
/// 80 at the node's address, in the client's coordinates), and the finding's path shows the
/// node; the same headers sent by `reach` arrive at that target.
#[test]
fn paths_through_a_network_load_balancer_reach_its_target() {
    let Some(s) = load("test-load-balancer") else {
        return;
    };
    let scope = Scope::parse(
        r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"Resources": ["i-0c8ce8bbdd98cc4e8"]}},
            "Destination": {"ResourceStatement": {"Resources": ["i-0f4af951d61a19245"]}}}]}"#,
    )
    .unwrap();
    let findings = analyze(&s, &scope);
    let via_lb: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.finding_components
                .iter()
                .any(|h| h.component.kind == "load-balancer")
        })
        .collect();
    assert!(!via_lb.is_empty(), "{findings:#?}");
    for f in &via_lb {
        // Listener port 80 only (the target's port 22 is what the node forwards to).
        assert_eq!(f.port_ranges("tcp"), vec![(80, 80)], "{f:#?}");
        let (proto, src, dst, port) = sample(&f.space);
        let a = reach(
            &s,
            &Query::new("i-0c8ce8bbdd98cc4e8", &dst.to_string())
                .protocol(proto)
                .port(port)
                .source_address(src),
        );
        assert!(a.network_path_found, "{:?}", a.explanations);
        let target = a
            .forward_path_components
            .iter()
            .rev()
            .find_map(|h| h.attached_to.as_ref().map(|o| o.id.clone()));
        assert_eq!(target.as_deref(), Some("i-0f4af951d61a19245"));
    }
    // Both nodes (two zones, cross-zone on) forward to this target.
    assert_eq!(via_lb.len(), 2, "{via_lb:#?}");
}
