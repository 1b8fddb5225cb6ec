//! A small hand-written snapshot exercising every rule of spec §2–§4, and the helpers the
//! semantic tests share.
//!
//! VPC A 10.0.0.0/16 (+ 2600:a::/56): sa1 10.0.1.0/24 (public, main table → IGW, NAT lives
//! here), sa2 10.0.2.0/24 (private, → NAT, strict NACL), sa3 10.0.3.0/24 (other AZ, TGW route).
//! VPC B 10.1.0.0/16 peers A and C; VPC C 10.2.0.0/16 peers B only; VPC D 10.9.0.0/16 joins A
//! over transit gateway tgw-1.

#![allow(dead_code, clippy::unwrap_used, clippy::too_many_arguments)]

use flowwatch_net::{Analysis, Query, Snapshot, reach};
use serde_json::{Value, json};

fn eni(
    id: &str,
    inst: &str,
    subnet: &str,
    vpc: &str,
    ip: &str,
    public: Option<&str>,
    sgs: &[&str],
    v6: &[&str],
) -> Value {
    let mut pip = json!({"Primary": true, "PrivateIpAddress": ip});
    if let Some(p) = public {
        pip["Association"] = json!({"PublicIp": p});
    }
    json!({
        "NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": vpc, "PrivateIpAddress": ip,
        "PrivateIpAddresses": [pip],
        "Ipv6Addresses": v6.iter().map(|a| json!({"Ipv6Address": a})).collect::<Vec<_>>(),
        "Groups": sgs.iter().map(|g| json!({"GroupId": g})).collect::<Vec<_>>(),
        "Attachment": {"InstanceId": inst, "DeviceIndex": 0, "Status": "attached"},
        "InterfaceType": "interface", "SourceDestCheck": true
    })
}

fn perm(proto: &str, from: i64, to: i64, peers: Value) -> Value {
    let mut p = json!({"IpProtocol": proto, "FromPort": from, "ToPort": to});
    for (k, v) in peers.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn allow_all(acl: &str, vpc: &str, subnets: &[&str], default: bool) -> Value {
    let assoc: Vec<Value> = subnets.iter().map(|s| json!({"SubnetId": s})).collect();
    json!({"NetworkAclId": acl, "VpcId": vpc, "IsDefault": default, "Associations": assoc, "Entries": [
        {"RuleNumber": 100, "Egress": false, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 101, "Egress": false, "RuleAction": "allow", "Protocol": "-1", "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 100, "Egress": true, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 101, "Egress": true, "RuleAction": "allow", "Protocol": "-1", "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 32767, "Egress": false, "RuleAction": "deny", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Egress": true, "RuleAction": "deny", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"}
    ]})
}

/// The fixture's documents (one file per API, as Batfish lays them out).
pub fn documents() -> Vec<(String, String)> {
    let any4 = json!({"IpRanges": [{"CidrIp": "0.0.0.0/0"}]});
    let vpc_a_cidr = json!({"IpRanges": [{"CidrIp": "10.0.0.0/16"}]});
    let docs = vec![
        (
            "Vpcs.json",
            json!({"Vpcs": [
                {"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16",
                 "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:a::/56", "Ipv6CidrBlockState": {"State": "associated"}}]},
                {"VpcId": "vpc-b", "CidrBlock": "10.1.0.0/16"},
                {"VpcId": "vpc-c", "CidrBlock": "10.2.0.0/16"},
                {"VpcId": "vpc-d", "CidrBlock": "10.9.0.0/16"}
            ]}),
        ),
        (
            "Subnets.json",
            json!({"Subnets": [
                {"SubnetId": "sa1", "VpcId": "vpc-a", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a",
                 "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:a:0:1::/64"}]},
                {"SubnetId": "sa2", "VpcId": "vpc-a", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a"},
                {"SubnetId": "sa3", "VpcId": "vpc-a", "CidrBlock": "10.0.3.0/24", "AvailabilityZone": "us-east-1b"},
                {"SubnetId": "sb1", "VpcId": "vpc-b", "CidrBlock": "10.1.1.0/24", "AvailabilityZone": "us-east-1a"},
                {"SubnetId": "sc1", "VpcId": "vpc-c", "CidrBlock": "10.2.1.0/24", "AvailabilityZone": "us-east-1a"},
                {"SubnetId": "sd1", "VpcId": "vpc-d", "CidrBlock": "10.9.1.0/24", "AvailabilityZone": "us-east-1a"}
            ]}),
        ),
        (
            "RouteTables.json",
            json!({"RouteTables": [
                {"RouteTableId": "rtb-a-main", "VpcId": "vpc-a", "Associations": [{"Main": true}], "Routes": [
                    {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationIpv6CidrBlock": "2600:a::/56", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-a", "State": "active"},
                    {"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-a", "State": "active"},
                    {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": "pcx-ab", "State": "active"},
                    {"DestinationCidrBlock": "10.1.1.128/25", "TransitGatewayId": "tgw-1", "State": "active"},
                    {"DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-ab", "State": "active"},
                    {"DestinationCidrBlock": "10.9.0.0/16", "TransitGatewayId": "tgw-1", "State": "active"},
                    {"DestinationCidrBlock": "10.8.0.0/16", "NatGatewayId": "nat-gone", "State": "blackhole"},
                    {"DestinationPrefixListId": "pl-s3", "GatewayId": "vpce-s3", "State": "active"},
                    {"DestinationPrefixListId": "pl-ddb", "GatewayId": "vpce-ddb", "State": "active"},
                    {"DestinationCidrBlock": "52.216.0.0/15", "GatewayId": "igw-a", "State": "active"}
                ]},
                {"RouteTableId": "rtb-a-private", "VpcId": "vpc-a", "Associations": [{"Main": false, "SubnetId": "sa2"}], "Routes": [
                    {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-a", "State": "active"},
                    {"DestinationCidrBlock": "10.7.0.0/16", "VpcPeeringConnectionId": "pcx-missing", "State": "active"}
                ]},
                {"RouteTableId": "rtb-a3", "VpcId": "vpc-a", "Associations": [{"Main": false, "SubnetId": "sa3"}], "Routes": [
                    {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "10.9.0.0/16", "TransitGatewayId": "tgw-1", "State": "active"}
                ]},
                {"RouteTableId": "rtb-b", "VpcId": "vpc-b", "Associations": [{"Main": true}], "Routes": [
                    {"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "10.0.1.0/24", "VpcPeeringConnectionId": "pcx-ab", "State": "active"},
                    {"DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-bc", "State": "active"}
                ]},
                {"RouteTableId": "rtb-c", "VpcId": "vpc-c", "Associations": [{"Main": true}], "Routes": [
                    {"DestinationCidrBlock": "10.2.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "10.0.0.0/8", "VpcPeeringConnectionId": "pcx-bc", "State": "active"}
                ]},
                {"RouteTableId": "rtb-d", "VpcId": "vpc-d", "Associations": [{"Main": true}], "Routes": [
                    {"DestinationCidrBlock": "10.9.0.0/16", "GatewayId": "local", "State": "active"},
                    {"DestinationCidrBlock": "10.0.0.0/16", "TransitGatewayId": "tgw-1", "State": "active"}
                ]}
            ]}),
        ),
        (
            "SecurityGroups.json",
            json!({"SecurityGroups": [
                {"GroupId": "sg-web", "VpcId": "vpc-a", "IpPermissions": [
                    perm("tcp", 80, 443, any4.clone()),
                    perm("tcp", 22, 22, json!({"UserIdGroupPairs": [{"GroupId": "sg-admin"}]})),
                    perm("icmp", 8, -1, any4.clone()),
                    perm("tcp", 8080, 8080, json!({"Ipv6Ranges": [{"CidrIpv6": "::/0"}]}))
                 ], "IpPermissionsEgress": [
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
                 ]},
                {"GroupId": "sg-admin", "VpcId": "vpc-a", "IpPermissions": [], "IpPermissionsEgress": [
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
                {"GroupId": "sg-db", "VpcId": "vpc-a", "IpPermissions": [
                    perm("tcp", 5432, 5432, json!({"UserIdGroupPairs": [{"GroupId": "sg-web"}]})),
                    perm("17", 53, 53, vpc_a_cidr.clone()),
                    perm("50", -1, -1, vpc_a_cidr.clone()),
                    perm("tcp", 3306, 3306, json!({"PrefixListIds": [{"PrefixListId": "pl-corp"}]}))
                 ], "IpPermissionsEgress": []},
                {"GroupId": "sg-open", "VpcId": "vpc-a", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
                 "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]},
                {"GroupId": "sg-icmp", "VpcId": "vpc-a", "IpPermissions": [
                    perm("icmp", 3, 4, any4.clone()),
                    {"IpProtocol": "icmpv6", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
                 ], "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
                {"GroupId": "sg-extra", "VpcId": "vpc-a", "IpPermissions": [perm("tcp", 9000, 9000, any4.clone())], "IpPermissionsEgress": []}
            ]}),
        ),
        (
            "NetworkAcls.json",
            json!({"NetworkAcls": [
                allow_all("acl-a", "vpc-a", &["sa1", "sa3"], true),
                {"NetworkAclId": "acl-a2", "VpcId": "vpc-a", "IsDefault": false, "Associations": [{"SubnetId": "sa2"}], "Entries": [
                    {"RuleNumber": 200, "Egress": false, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
                    {"RuleNumber": 100, "Egress": false, "RuleAction": "deny", "Protocol": "6", "CidrBlock": "10.0.1.99/32", "PortRange": {"From": 5432, "To": 5432}},
                    {"RuleNumber": 110, "Egress": false, "RuleAction": "deny", "Protocol": "1", "CidrBlock": "10.0.3.0/24", "IcmpTypeCode": {"Type": 8, "Code": -1}},
                    {"RuleNumber": 100, "Egress": true, "RuleAction": "allow", "Protocol": "6", "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 1024, "To": 49151}},
                    {"RuleNumber": 110, "Egress": true, "RuleAction": "allow", "Protocol": "17", "CidrBlock": "0.0.0.0/0"},
                    {"RuleNumber": 120, "Egress": true, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "10.0.3.0/24"},
                    {"RuleNumber": 130, "Egress": true, "RuleAction": "allow", "Protocol": "47", "CidrBlock": "0.0.0.0/0"}
                ]},
                allow_all("acl-b", "vpc-b", &["sb1"], true),
                allow_all("acl-c", "vpc-c", &["sc1"], true),
                allow_all("acl-d", "vpc-d", &["sd1"], true)
            ]}),
        ),
        (
            "NetworkInterfaces.json",
            json!({"NetworkInterfaces": [
                eni("eni-web", "i-web", "sa1", "vpc-a", "10.0.1.10", Some("1.1.1.1"), &["sg-web"], &["2600:a:0:1::10"]),
                eni("eni-admin", "i-admin", "sa1", "vpc-a", "10.0.1.20", None, &["sg-admin"], &[]),
                eni("eni-99", "i-99", "sa1", "vpc-a", "10.0.1.99", None, &["sg-open"], &[]),
                eni("eni-icmp", "i-icmp", "sa1", "vpc-a", "10.0.1.30", None, &["sg-icmp"], &["2600:a:0:1::30"]),
                eni("eni-stopped", "i-stopped", "sa1", "vpc-a", "10.0.1.40", None, &["sg-open"], &[]),
                eni("eni-db", "i-db", "sa2", "vpc-a", "10.0.2.10", None, &["sg-db", "sg-extra"], &[]),
                eni("eni-priv", "i-priv", "sa2", "vpc-a", "10.0.2.20", None, &["sg-open"], &[]),
                eni("eni-a3", "i-a3", "sa3", "vpc-a", "10.0.3.10", None, &["sg-open"], &[]),
                eni("eni-b", "i-b", "sb1", "vpc-b", "10.1.1.10", None, &["sg-open"], &[]),
                eni("eni-b2", "i-b2", "sb1", "vpc-b", "10.1.1.200", None, &["sg-open"], &[]),
                eni("eni-c", "i-c", "sc1", "vpc-c", "10.2.1.10", None, &["sg-open"], &[]),
                eni("eni-d", "i-d", "sd1", "vpc-d", "10.9.1.10", None, &["sg-open"], &[]),
                {"NetworkInterfaceId": "eni-nat", "SubnetId": "sa1", "VpcId": "vpc-a", "PrivateIpAddress": "10.0.1.50",
                 "InterfaceType": "nat_gateway", "Description": "Interface for NAT Gateway nat-a",
                 "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.1.50", "Association": {"PublicIp": "3.3.3.3"}}]}
            ]}),
        ),
        (
            "Reservations.json",
            json!({"Reservations": [{"Instances": [
                {"InstanceId": "i-web", "State": {"Code": 16, "Name": "running"}},
                {"InstanceId": "i-stopped", "State": {"Code": 80, "Name": "stopped"}}
            ]}]}),
        ),
        (
            "InternetGateways.json",
            json!({"InternetGateways": [
                {"InternetGatewayId": "igw-a", "Attachments": [{"State": "available", "VpcId": "vpc-a"}]},
                {"InternetGatewayId": "igw-loose", "Attachments": []}
            ]}),
        ),
        (
            "EgressOnlyInternetGateways.json",
            json!({"EgressOnlyInternetGateways": [
                {"EgressOnlyInternetGatewayId": "eigw-a", "Attachments": [{"State": "attached", "VpcId": "vpc-a"}]}
            ]}),
        ),
        (
            "NatGateways.json",
            json!({"NatGateways": [
                {"NatGatewayId": "nat-a", "SubnetId": "sa1", "VpcId": "vpc-a", "State": "available",
                 "NatGatewayAddresses": [{"NetworkInterfaceId": "eni-nat", "PrivateIp": "10.0.1.50", "PublicIp": "3.3.3.3"}]}
            ]}),
        ),
        (
            "VpcPeeringConnections.json",
            json!({"VpcPeeringConnections": [
                {"VpcPeeringConnectionId": "pcx-ab", "Status": {"Code": "active"},
                 "RequesterVpcInfo": {"VpcId": "vpc-a", "CidrBlockSet": [{"CidrBlock": "10.0.0.0/16"}]},
                 "AccepterVpcInfo": {"VpcId": "vpc-b", "CidrBlockSet": [{"CidrBlock": "10.1.0.0/16"}]}},
                {"VpcPeeringConnectionId": "pcx-bc", "Status": {"Code": "active"},
                 "RequesterVpcInfo": {"VpcId": "vpc-b", "CidrBlockSet": [{"CidrBlock": "10.1.0.0/16"}]},
                 "AccepterVpcInfo": {"VpcId": "vpc-c", "CidrBlockSet": [{"CidrBlock": "10.2.0.0/16"}]}}
            ]}),
        ),
        (
            "TransitGateways.json",
            json!({"TransitGateways": [{"TransitGatewayId": "tgw-1", "State": "available"}]}),
        ),
        (
            "TransitGatewayAttachments.json",
            json!({"TransitGatewayAttachments": [
                {"TransitGatewayAttachmentId": "att-a", "TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-a",
                 "State": "available", "Association": {"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "associated"}},
                {"TransitGatewayAttachmentId": "att-d", "TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-d",
                 "State": "available", "Association": {"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "associated"}}
            ]}),
        ),
        (
            "TransitGatewayVpcAttachments.json",
            json!({"TransitGatewayVpcAttachments": [
                {"TransitGatewayAttachmentId": "att-a", "TransitGatewayId": "tgw-1", "VpcId": "vpc-a", "SubnetIds": ["sa1"], "State": "available"},
                {"TransitGatewayAttachmentId": "att-d", "TransitGatewayId": "tgw-1", "VpcId": "vpc-d", "SubnetIds": ["sd1"], "State": "available"}
            ]}),
        ),
        (
            "TransitGatewayRouteTables.json",
            json!({"TransitGatewayRouteTables": [
                {"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayId": "tgw-1", "State": "available"}
            ]}),
        ),
        (
            "TransitGatewayPropagations.json",
            json!({"TransitGatewayPropagations": [
                {"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayRouteTablePropagations": [
                    {"TransitGatewayAttachmentId": "att-a", "ResourceId": "vpc-a", "ResourceType": "vpc", "State": "enabled"},
                    {"TransitGatewayAttachmentId": "att-d", "ResourceId": "vpc-d", "ResourceType": "vpc", "State": "enabled"}
                ]}
            ]}),
        ),
        (
            "TransitGatewayStaticRoutes.json",
            json!({"TransitGatewayStaticRoutes": [
                {"TransitGatewayRouteTableId": "tgw-rtb-1", "Routes": [
                    {"DestinationCidrBlock": "10.9.9.0/24", "State": "blackhole", "Type": "static"}
                ]}
            ]}),
        ),
        (
            "PrefixLists.json",
            json!({"PrefixLists": [
                {"PrefixListId": "pl-s3", "PrefixListName": "com.amazonaws.us-east-1.s3", "Cidrs": ["52.216.0.0/15"]},
                {"PrefixListId": "pl-ddb", "PrefixListName": "com.amazonaws.us-east-1.dynamodb", "Cidrs": ["52.94.0.0/22"]},
                {"PrefixListId": "pl-corp", "PrefixListName": "corp", "Cidrs": ["192.0.2.0/24"]}
            ]}),
        ),
        (
            "VpcEndpoints.json",
            json!({"VpcEndpoints": [
                {"VpcEndpointId": "vpce-s3", "VpcEndpointType": "Gateway", "VpcId": "vpc-a", "ServiceName": "com.amazonaws.us-east-1.s3",
                 "State": "available", "RouteTableIds": ["rtb-a-main"]},
                {"VpcEndpointId": "vpce-ddb", "VpcEndpointType": "Gateway", "VpcId": "vpc-a", "ServiceName": "com.amazonaws.us-east-1.dynamodb",
                 "State": "available", "RouteTableIds": ["rtb-a-main"]}
            ]}),
        ),
    ];
    docs.into_iter()
        .map(|(f, v)| {
            (
                format!("aws_configs/accounts/111/us-east-1/{f}"),
                v.to_string(),
            )
        })
        .collect()
}

pub fn snapshot() -> Snapshot {
    let docs = documents();
    let (s, problems) =
        Snapshot::from_json_documents(docs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    for p in &problems {
        assert!(p.severity != flowwatch_net::Severity::Error, "fixture: {p}");
    }
    s
}

/// `reach` for a TCP query (or another protocol with `.protocol(..)` on the query).
pub fn check(s: &Snapshot, q: Query) -> Analysis {
    reach(s, &q)
}

/// The component ids of a path.
pub fn ids(hops: &[flowwatch_net::PathComponent]) -> Vec<String> {
    hops.iter().map(|h| h.component.id.clone()).collect()
}

/// The explanation codes, as their JSON names.
pub fn codes(a: &Analysis) -> Vec<String> {
    a.explanations
        .iter()
        .map(|e| {
            serde_json::to_value(e.explanation_code)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}
