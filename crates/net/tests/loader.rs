//! Snapshot loading: recognition by top-level key, layouts, problems with file/line/ids, the
//! summary, and a property test that snapshot-shaped garbage never panics the loader (nor a
//! query over what it loaded).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use flowwatch_net::{Query, Severity, Snapshot, reach};
use proptest::prelude::*;
use serde_json::{Value, json};

fn load(docs: &[(&str, &str)]) -> (Snapshot, Vec<flowwatch_net::Problem>) {
    Snapshot::from_json_documents(docs.iter().copied())
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let (_, problems) = load(&[(
        "aws_configs/Vpcs.json",
        "{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-1\",,}\n  ]\n}",
    )]);
    let p = &problems[0];
    assert_eq!(p.severity, Severity::Error);
    assert_eq!(p.file.as_deref(), Some(Path::new("aws_configs/Vpcs.json")));
    assert_eq!((p.line, p.column), (Some(3), Some(23)));
    assert!(
        p.to_string()
            .starts_with("aws_configs/Vpcs.json:3:23: malformed JSON"),
        "{p}"
    );
}

#[test]
fn files_are_recognised_by_key_not_name_and_unknown_keys_are_notes() {
    let doc = json!({
        "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
        "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}],
        "DBInstances": [],
        "SomethingElse": {"x": 1},
        "ResponseMetadata": {}
    })
    .to_string();
    let (s, problems) = load(&[("whatever-name.json", &doc)]);
    assert!(s.vpc("vpc-1").is_some() && s.subnet_idx("subnet-1").is_some());
    let notes: Vec<String> = problems
        .iter()
        .filter(|p| p.severity == Severity::Note)
        .map(|p| p.message.clone())
        .collect();
    assert!(
        notes.iter().any(|m| m.contains("\"SomethingElse\"")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|m| m.contains("DBInstances") && m.contains("not modelled")),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|m| m.contains("ResponseMetadata")));
}

#[test]
fn a_bad_item_costs_only_itself() {
    let doc = json!({"Subnets": [
        {"SubnetId": "subnet-ok", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"},
        {"SubnetId": "subnet-bad", "VpcId": 7, "CidrBlock": ["x"]},
        {"SubnetId": "subnet-ok2", "VpcId": "vpc-1", "CidrBlock": "10.0.2.0/24"}
    ]})
    .to_string();
    let (s, problems) = load(&[
        ("x.json", &doc),
        (
            "v.json",
            r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}"#,
        ),
    ]);
    assert!(s.subnet_idx("subnet-ok").is_some() && s.subnet_idx("subnet-ok2").is_some());
    assert!(s.subnet_idx("subnet-bad").is_none());
    let e = problems
        .iter()
        .find(|p| p.severity == Severity::Error)
        .unwrap();
    assert!(e.message.starts_with("Subnets[1]:"), "{e}");
    assert_eq!(e.ids, ["subnet-bad"]);
}

#[test]
fn dangling_references_are_warnings_with_both_ids() {
    let s = common::documents();
    let (_, problems) =
        Snapshot::from_json_documents(s.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let w = problems
        .iter()
        .find(|p| {
            p.severity == Severity::Warning && p.message.contains("missing peering connection")
        })
        .expect("dangling pcx route reported");
    assert_eq!(w.ids, ["rtb-a-private", "pcx-missing"]);
    assert_eq!(
        w.file.as_deref(),
        Some(Path::new(
            "aws_configs/accounts/111/us-east-1/RouteTables.json"
        ))
    );
    let (_, problems) = load(&[(
        "e.json",
        r#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-x","SubnetId":"subnet-nowhere","PrivateIpAddress":"10.0.0.5"}]}"#,
    )]);
    let w = problems
        .iter()
        .find(|p| p.message.contains("unknown subnet"))
        .unwrap();
    assert_eq!(
        (w.ids.as_slice(), w.file.as_deref()),
        (
            &["eni-x".to_string(), "subnet-nowhere".to_string()][..],
            Some(Path::new("e.json"))
        )
    );
}

#[test]
fn layouts_give_account_and_region() {
    let (s, _) = load(&[
        (
            "aws_configs/accounts/111/us-west-1/Vpcs.json",
            r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}"#,
        ),
        (
            "aws_configs/accounts/222/eu-west-1/Vpcs.json",
            r#"{"Vpcs":[{"VpcId":"vpc-2","CidrBlock":"10.1.0.0/16"}]}"#,
        ),
        (
            "demo/us-east-1/ec2-describe-vpcs.json",
            r#"{"Vpcs":[{"VpcId":"vpc-3","CidrBlock":"10.2.0.0/16"}]}"#,
        ),
    ]);
    let loc = |id: &str| {
        let v = s.vpc(id).unwrap();
        (v.loc.account.clone(), v.loc.region.clone())
    };
    assert_eq!(loc("vpc-1"), ("111".into(), "us-west-1".into()));
    assert_eq!(loc("vpc-2"), ("222".into(), "eu-west-1".into()));
    assert_eq!(loc("vpc-3"), ("demo".into(), "us-east-1".into()));
}

#[test]
fn summary_counts_per_type_and_vpc() {
    let docs = common::documents();
    let (s, problems) =
        Snapshot::from_json_documents(docs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let sum = s.summary(&problems);
    assert_eq!(sum.counts["vpcs"], 4);
    assert_eq!(sum.counts["subnets"], 6);
    assert_eq!(sum.counts["nat-gateways"], 1);
    assert_eq!(sum.regions["111/us-east-1"], 4);
    let a = sum.vpcs.iter().find(|v| v.vpc_id == "vpc-a").unwrap();
    assert_eq!((a.subnets, a.internet_gateways, a.nat_gateways), (3, 1, 1));
    assert!(sum.warnings >= 1);
    let v = serde_json::to_value(&sum).unwrap();
    assert!(v["vpcs"].is_array());
}

#[test]
fn cloudmapper_demo_loads_if_present() {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        std::path::PathBuf::from,
    );
    let dir = root.join("aws-snapshots/cloudmapper-demo/demo");
    if !dir.is_dir() {
        eprintln!(
            "corpus not found at {}; set FLOWWATCH_CORPUS",
            root.display()
        );
        return;
    }
    let (s, problems) = Snapshot::load(&dir);
    assert!(
        problems.iter().all(|p| p.severity != Severity::Error),
        "{problems:?}"
    );
    let v = s.vpc("vpc-12345678").expect("the demo VPC");
    assert_eq!(
        (v.loc.account.as_str(), v.loc.region.as_str()),
        ("default", "us-east-1")
    );
    assert_eq!(s.vpcs.len(), 1);
}

#[test]
fn missing_directory_is_a_problem_not_a_panic() {
    let (s, problems) = Snapshot::load("/nonexistent/flowwatch-snapshot");
    assert!(s.vpcs.is_empty());
    assert_eq!(problems[0].severity, Severity::Error);
}

// ---- property: garbage never panics ----

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("10.0.0.0/16".to_string()),
            Just("0.0.0.0/0".to_string()),
            Just("::/0".to_string()),
            Just("10.0.1.5".to_string()),
            Just("-1".to_string()),
            Just("tcp".to_string()),
            Just("vpc-1".to_string()),
            Just("subnet-1".to_string()),
            Just("sg-1".to_string()),
            Just("igw-1".to_string()),
            Just("local".to_string()),
            Just("blackhole".to_string()),
            "[a-z0-9./:-]{0,12}",
        ]
        .prop_map(Value::String),
    ]
}

const FIELDS: &[&str] = &[
    "VpcId",
    "SubnetId",
    "CidrBlock",
    "GroupId",
    "IpProtocol",
    "FromPort",
    "ToPort",
    "IpRanges",
    "CidrIp",
    "Entries",
    "RuleNumber",
    "Egress",
    "RuleAction",
    "Protocol",
    "PortRange",
    "From",
    "To",
    "Routes",
    "DestinationCidrBlock",
    "GatewayId",
    "Associations",
    "Main",
    "NetworkInterfaceId",
    "PrivateIpAddress",
    "PrivateIpAddresses",
    "Groups",
    "Attachment",
    "InstanceId",
    "State",
    "Instances",
    "IpPermissions",
    "IpPermissionsEgress",
    "UserIdGroupPairs",
    "PrefixListIds",
    "PrefixListId",
    "Cidrs",
    "Attachments",
    "TransitGatewayId",
    "TransitGatewayAttachmentId",
    "ResourceId",
    "ResourceType",
    "Association",
    "TransitGatewayRouteTableId",
    "VpcPeeringConnectionId",
    "RequesterVpcInfo",
    "AccepterVpcInfo",
    "Status",
    "Code",
    "NatGatewayId",
    "NatGatewayAddresses",
    "PublicIp",
    "PrivateIp",
];

const KEYS: &[&str] = &[
    "Vpcs",
    "Subnets",
    "RouteTables",
    "SecurityGroups",
    "NetworkAcls",
    "NetworkInterfaces",
    "Reservations",
    "InternetGateways",
    "NatGateways",
    "VpcPeeringConnections",
    "TransitGateways",
    "TransitGatewayAttachments",
    "TransitGatewayVpcAttachments",
    "TransitGatewayRouteTables",
    "TransitGatewayPropagations",
    "TransitGatewayStaticRoutes",
    "PrefixLists",
    "VpcEndpoints",
    "VpnGateways",
    "VpnConnections",
    "Addresses",
    "EgressOnlyInternetGateways",
    "prefixes",
    "Bogus",
];

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::collection::vec((prop::sample::select(KEYS), value()), 1..4)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).to_string()),
        1 => value().prop_map(|v| v.to_string()),
        1 => "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(docs in prop::collection::vec(document(), 1..5), truncate in 0usize..200) {
        let mut named: Vec<(String, String)> = docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("aws_configs/accounts/1/us-east-1/f{i}.json"), d))
            .collect();
        // Also a truncated copy of one document (unterminated JSON).
        if let Some((_, d)) = named.first() {
            let cut: String = d.chars().take(truncate).collect();
            named.push(("aws_configs/cut.json".into(), cut));
        }
        let (s, _problems) = Snapshot::from_json_documents(named.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        let _ = s.summary(&_problems);
        for (src, dst) in [("10.0.1.5", "10.0.0.1"), ("internet", "10.0.1.5"), ("vpc-1", "8.8.8.8"), ("subnet-1", "10.0.1.5"), ("igw-1", "10.0.1.5")] {
            let _ = reach(&s, &Query::new(src, dst).port(22));
        }
    }
}
