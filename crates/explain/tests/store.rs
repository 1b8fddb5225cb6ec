//! Explain from the store: records ingested with the real reader into a temporary store, read
//! back by hour partition and time range, explained against a small inline snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use flowwatch_explain::{ExplainOptions, Reason, SkipReason, explain_store, render_table};
use flowwatch_flowlog::{Output, ReadOptions, SourceDefaults, read_stream};
use flowwatch_net::{Direction, Snapshot};
use flowwatch_store::{SourceEntry, Store, StoreReader};
use serde_json::json;

const GROUP: &str = "vpc";
/// 2023-11-14T22:00:00Z.
const T0: i64 = 1_699_999_200;

fn ingest(dir: &Path, key: &str, text: &str) {
    let mut store = Store::open(dir).expect("store");
    store.ensure_group(GROUP).expect("group");
    let mut txn = store.begin(GROUP).expect("txn");
    let summary = read_stream(
        text.as_bytes(),
        key,
        SourceDefaults::default(),
        &ReadOptions::default(),
        &mut |o| match o {
            Output::Batch(b) => txn.write(&b).expect("write"),
            Output::Reject(r) => panic!("rejected: {r:?}"),
        },
    );
    txn.add_source(SourceEntry {
        key: key.into(),
        name: key.into(),
        bytes: text.len() as u64,
        records: summary.records,
        rejected: 0,
    });
    store.commit(txn).expect("commit");
}

/// One VPC, one subnet with a NACL denying telnet, one ENI whose SG allows 443 only.
fn snapshot() -> Snapshot {
    let docs = [
        json!({"Vpcs": [{"VpcId": "vpc-s", "CidrBlock": "10.0.0.0/16"}]}),
        json!({"Subnets": [{"SubnetId": "subnet-s", "VpcId": "vpc-s", "CidrBlock": "10.0.1.0/24",
            "AvailabilityZone": "us-east-1a"}]}),
        json!({"NetworkAcls": [{"NetworkAclId": "acl-s", "VpcId": "vpc-s", "IsDefault": false,
            "Associations": [{"SubnetId": "subnet-s"}], "Entries": [
            {"RuleNumber": 50, "Egress": false, "RuleAction": "deny", "Protocol": "6",
             "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 23, "To": 23}},
            {"RuleNumber": 100, "Egress": false, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 100, "Egress": true, "RuleAction": "allow", "Protocol": "-1", "CidrBlock": "0.0.0.0/0"}]}]}),
        json!({"SecurityGroups": [{"GroupId": "sg-s", "GroupName": "s", "VpcId": "vpc-s",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]}),
        json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-aaa", "SubnetId": "subnet-s",
            "VpcId": "vpc-s", "PrivateIpAddress": "10.0.1.9",
            "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.1.9"}],
            "Groups": [{"GroupId": "sg-s"}], "InterfaceType": "interface",
            "Attachment": {"InstanceId": "i-aaa", "DeviceIndex": 0, "Status": "attached"}}]}),
    ];
    let texts: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    let names = [
        "Vpcs.json",
        "Subnets.json",
        "NetworkAcls.json",
        "SecurityGroups.json",
        "Eni.json",
    ];
    let (s, _) =
        Snapshot::from_json_documents(names.iter().copied().zip(texts.iter().map(String::as_str)));
    s
}

fn line(src: &str, sport: u16, dst: &str, dport: u16, secs: i64, action: &str) -> String {
    let start = T0 + secs;
    format!(
        "2 123456789012 eni-aaa {src} {dst} {sport} {dport} 6 3 120 {start} {} {action} OK\n",
        start + 60
    )
}

#[test]
fn explains_the_stored_records_of_a_time_range() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = [
        line("198.51.100.1", 40000, "10.0.1.9", 23, 5, "REJECT"),
        line("198.51.100.2", 40001, "10.0.1.9", 23, 10, "REJECT"),
        line("198.51.100.1", 40002, "10.0.1.9", 22, 20, "REJECT"),
        line("198.51.100.3", 40003, "10.0.1.9", 443, 30, "ACCEPT"),
        line("10.0.1.9", 443, "198.51.100.3", 40003, 30, "ACCEPT"),
        "2 123456789012 eni-aaa - - - - - - - 1699999290 1699999350 - NODATA\n".to_string(),
        // Two hours later: outside the range asked for.
        line("198.51.100.9", 40009, "10.0.1.9", 23, 7200, "REJECT"),
    ]
    .concat();
    ingest(dir.path(), "k1", &text);
    let reader = StoreReader::open(dir.path()).expect("reader");
    let snap = snapshot();
    let (r, stats) = explain_store(
        &snap,
        &reader,
        GROUP,
        T0 * 1000,
        (T0 + 3600) * 1000,
        ExplainOptions::default(),
    )
    .expect("explain");
    assert_eq!(stats.records, 6, "the record two hours later is outside");
    assert_eq!(r.counts.rejected, 3, "{}", render_table(&r));
    assert_eq!(r.counts.accepted, 2);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].reason, SkipReason::NoData);
    // Telnet from two peers: two groups, both NACL acl-s rule 50; SSH: the SG.
    let nacl: Vec<&str> = r
        .rejects
        .iter()
        .filter_map(|g| match &g.reason {
            Reason::NetworkAcl {
                acl_id,
                rule_number: 50,
                direction: Direction::Ingress,
                ..
            } => Some(acl_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(nacl, ["acl-s", "acl-s"], "{}", render_table(&r));
    let ssh = r.rejects.iter().find(|g| g.port == 22).unwrap();
    assert_eq!(
        ssh.explanation,
        "no inbound rule of sg-s matches: sg-s allows tcp 443 from 0.0.0.0/0, not 22"
    );
    assert_eq!(ssh.interface.instance_id.as_deref(), Some("i-aaa"));
    assert_eq!(ssh.packets, 3);
    assert_eq!(ssh.first_start, Some(T0 + 20));
    // The 443 rule admitted the accepted connection; the egress reply is not a use.
    let used: Vec<(Direction, u64)> = r
        .rule_usage
        .iter()
        .map(|u| (u.direction, u.accepted_records))
        .collect();
    assert_eq!(used, [(Direction::Ingress, 1), (Direction::Egress, 0)]);
}

#[test]
fn a_log_group_without_data_explains_nothing_and_does_not_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    ingest(
        dir.path(),
        "k1",
        &line("198.51.100.1", 40000, "10.0.1.9", 23, 5, "REJECT"),
    );
    let reader = StoreReader::open(dir.path()).expect("reader");
    let snap = snapshot();
    // The store lists no files for an unknown group: an empty report, not an error.
    let (r, stats) = explain_store(
        &snap,
        &reader,
        "nope",
        0,
        i64::MAX,
        ExplainOptions::default(),
    )
    .unwrap();
    assert_eq!((stats.files, r.counts.records), (0, 0));
    assert!(r.rejects.is_empty());
}
