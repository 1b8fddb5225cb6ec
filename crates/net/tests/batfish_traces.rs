//! Conformance against Batfish's AWS expected traces (`aws-snapshots/batfish/EXPECTED_TRACES.json`
//! in the external corpus, transcribed from Batfish's Java e2e tests): for each entry, load the
//! scenario snapshot, run the flow through [`flowwatch_net::reach`], and compare the disposition
//! and the hop path (our components mapped onto Batfish's node names).
//!
//! The corpus lives outside the repository. `FLOWWATCH_CORPUS` points at it (default:
//! `../../../shared/corpus` from this crate). When it is absent the test says so on stderr and
//! passes, unless `FLOWWATCH_REQUIRE_CORPUS=1`.
//!
//! Entries this model cannot reproduce are listed in [`KNOWN_DIFFERENCES`] with the reason; the
//! test fails if one of them starts agreeing, so the list stays honest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flowwatch_net::analysis::PathComponent;
use flowwatch_net::{Analysis, Disposition, Endpoint, Query, Snapshot, reach};
use serde_json::Value;

/// Entries (by their `java` field) that disagree, and why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    // Load balancers are not modelled (NLB listeners, target groups, cross-zone forwarding).
    (
        "AwsConfigurationLoadBalancerTest#testClientToLbTrace (to LB IP in us-east-2b, iface eni-01f261dccaba46564)",
        "load balancers (NLB listener 80 -> target 22, cross-zone) are not modelled",
    ),
    (
        "AwsConfigurationLoadBalancerTest#testClientToLbTrace (to LB IP in us-east-2a, iface eni-0c82d6f7254ae6695)",
        "load balancers are not modelled",
    ),
    (
        "AwsConfigurationLoadBalancerTest#testClientToLb_nonListenedPort",
        "load balancers are not modelled (the listener port check)",
    ),
    (
        "AwsConfigurationLoadBalancerTest#testClientToLb_nonListenedPort (second LB IP)",
        "load balancers are not modelled (the listener port check)",
    ),
    (
        "AwsConfigurationLoadBalancerTest#testClientToServerReachability",
        "load balancers are not modelled (reachability through the NLB to its targets)",
    ),
    // On-premises devices (configs/*.txt router configurations) and BGP are not modelled.
    (
        "AwsConfigurationVpnGatewayTest#testFromOnPrem",
        "starts at an on-premises router parsed from its Cisco configuration",
    ),
    (
        "AwsConfigurationVpnGatewayTest#testFromOnPrem (second trace)",
        "starts at an on-premises router parsed from its Cisco configuration",
    ),
    (
        "AwsConfigurationVpnGatewayTest#testFromOnPrem (third trace)",
        "starts at an on-premises router parsed from its Cisco configuration",
    ),
    (
        "AwsConfigurationVpnGatewayTest#testToOnPrem",
        "needs the BGP default route the on-premises router announces over the VPN",
    ),
    (
        "AwsConfigurationVpnGatewayTest#testInstanceToUnderlayInterfaceIp",
        "needs the BGP default route the on-premises router announces over the VPN",
    ),
    (
        "AwsConfigurationDirectConnectTest#testFromOnPremToInstance",
        "Direct Connect gateways, virtual interfaces and on-premises routers are not modelled",
    ),
    (
        "AwsConfigurationDirectConnectTest#testFromInstanceToOnPrem",
        "Direct Connect gateways and BGP route preference are not modelled",
    ),
    (
        "AwsConfigurationDirectConnectPrivateVifTest#testFromOnPremHighToInstance",
        "Direct Connect virtual interfaces and on-premises routers are not modelled",
    ),
    (
        "AwsConfigurationDirectConnectPrivateVifTest#testInstanceToOnPremPrefersHighDxCommunity",
        "Direct Connect BGP communities are not modelled",
    ),
    (
        "AwsConfigurationDirectConnectMultiRegionTest",
        "a fact about Batfish's DXGW node interfaces, which this model does not have",
    ),
];

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("FLOWWATCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let file = root.join("aws-snapshots/batfish/EXPECTED_TRACES.json");
    if file.is_file() {
        return Some(root.join("aws-snapshots/batfish"));
    }
    let msg = format!(
        "corpus not found at {}; set FLOWWATCH_CORPUS",
        root.display()
    );
    if std::env::var("FLOWWATCH_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("{msg} (FLOWWATCH_REQUIRE_CORPUS=1)");
    }
    eprintln!("{msg}");
    None
}

/// Batfish's node name for one of our hops; `None` for hops Batfish has no node for.
fn node_name(h: &PathComponent) -> Option<String> {
    match h.component.kind {
        "vpc-peering-connection" => None,
        "network-interface" => Some(match &h.attached_to {
            Some(owner) if owner.kind == "instance" || owner.kind == "nat-gateway" => {
                owner.id.clone()
            }
            Some(owner) if owner.kind == "vpc-endpoint" => {
                format!(
                    "{}-{}",
                    owner.id,
                    h.subnet.as_ref().map_or("", |s| s.id.as_str())
                )
            }
            _ => h.component.id.clone(),
        }),
        _ => Some(h.component.id.clone()),
    }
}

fn path_names(hops: &[PathComponent]) -> Vec<String> {
    hops.iter().filter_map(node_name).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn disposition_name(d: Disposition) -> String {
    serde_json::to_value(d)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// Run one `flow` entry; `Err` describes the disagreement.
fn check_flow(snap: &Snapshot, t: &Value) -> Result<(), String> {
    let flow = &t["flow"];
    let kind = flow["kind"].as_str().unwrap_or("any");
    let ingress = flow["ingress"].as_str().unwrap_or_default();
    let dst_s = flow["dst"].as_str().unwrap_or_default();
    let dst: IpAddr = if let Some(eni) = dst_s
        .strip_prefix("<IP of ")
        .and_then(|s| s.strip_suffix('>'))
    {
        let e = snap
            .eni_idx(eni)
            .ok_or_else(|| format!("unknown ENI {eni}"))?;
        snap.eni(e)
            .primary_ip()
            .ok_or("ENI without address")?
            .to_ip()
    } else {
        dst_s.parse().map_err(|e| format!("dst {dst_s:?}: {e}"))?
    };
    let mut q = Query::new(ingress, &dst.to_string());
    q.source = Endpoint::Id(ingress.to_string());
    q.protocol = match kind {
        "tcp" => 6,
        _ => flow["ip_protocol"]
            .as_str()
            .and_then(|s| s.split("protocol ").nth(1))
            .and_then(|s| s.trim_end_matches(')').parse().ok())
            .unwrap_or(0),
    };
    if kind == "tcp" {
        q.source_port = Some(49152);
        q.destination_port = flow["dst_port"].as_u64().map(|p| p as u16);
    }
    if let Some(src) = flow["src"].as_str() {
        q.source_address = Some(src.parse().map_err(|e| format!("src {src:?}: {e}"))?);
    }
    let a: Analysis = reach(snap, &q);
    let got_path = path_names(&a.forward_path_components);
    let want_path = strings(&t["path"]);
    let got_d = disposition_name(a.forward_disposition);
    let describe = |a: &Analysis| serde_json::to_string(&a.explanations).unwrap_or_default();
    if t["bidirectional"].as_bool() == Some(true) {
        if !a.forward_disposition.is_success() {
            return Err(format!(
                "forward {got_d} (want ACCEPTED or EXITS_NETWORK) along {got_path:?}; {}",
                describe(&a)
            ));
        }
        if got_path != want_path {
            return Err(format!("forward path {got_path:?}, want {want_path:?}"));
        }
        let rd = a
            .return_disposition
            .map(disposition_name)
            .unwrap_or_default();
        let got_rev = path_names(&a.return_path_components);
        let want_rev = strings(&t["reverse_path"]);
        if rd != "ACCEPTED" {
            return Err(format!(
                "return {rd} along {got_rev:?}, want ACCEPTED along {want_rev:?}; {}",
                describe(&a)
            ));
        }
        if got_rev != want_rev {
            return Err(format!("return path {got_rev:?}, want {want_rev:?}"));
        }
        return Ok(());
    }
    let want_d = t["disposition"].as_str().unwrap_or_default();
    if got_d != want_d || got_path != want_path {
        return Err(format!(
            "got {got_d} along {got_path:?}, want {want_d} along {want_path:?}; {}",
            describe(&a)
        ));
    }
    Ok(())
}

/// Entries without a flow: the facts we can check.
fn check_fact(snap: &Snapshot, t: &Value) -> Result<(), String> {
    if t["java"].as_str() == Some("AwcConfigurationMultiAccountTest#testBothVpcsExist") {
        let want = [
            ("vpc-015b20578b48c1349", "111", "us-west-1"),
            ("vpc-0008a7b45e3ddf1dd", "222", "us-west-2"),
        ];
        for (id, acct, region) in want {
            let v = snap.vpc(id).ok_or_else(|| format!("{id} missing"))?;
            if (v.loc.account.as_str(), v.loc.region.as_str()) != (acct, region) {
                return Err(format!("{id} in {}/{}", v.loc.account, v.loc.region));
            }
        }
        return Ok(());
    }
    Err("fact not checked by this model".into())
}

#[test]
fn batfish_expected_traces() {
    let Some(root) = corpus() else { return };
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("EXPECTED_TRACES.json")).unwrap())
            .unwrap();
    let tests = doc["tests"].as_array().unwrap();
    let known: HashMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let mut snaps: HashMap<String, Snapshot> = HashMap::new();
    let (mut pass, mut known_fail) = (0, 0);
    let mut unexpected = Vec::new();
    let mut now_agree = Vec::new();
    for t in tests {
        let name = t["snapshot"].as_str().unwrap();
        let java = t["java"].as_str().unwrap();
        let files: Vec<PathBuf> = strings(&t["files"])
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let key = format!("{name}|{}", files.len());
        let snap = snaps.entry(key).or_insert_with(|| {
            let dir = root.join("representation-aws").join(name);
            let (s, problems) = if files.is_empty() {
                Snapshot::load(&dir)
            } else {
                Snapshot::load_files(&dir, &files)
            };
            if let Some(p) = problems
                .iter()
                .find(|p| p.severity == flowwatch_net::Severity::Error)
            {
                panic!("{name}: {p}");
            }
            s
        });
        let result = if t.get("flow").is_some() {
            check_flow(snap, t)
        } else {
            check_fact(snap, t)
        };
        match (result, known.get(java)) {
            (Ok(()), None) => pass += 1,
            (Ok(()), Some(_)) => now_agree.push(java.to_string()),
            (Err(_), Some(_)) => known_fail += 1,
            (Err(e), None) => unexpected.push(format!("{name} {java}: {e}")),
        }
    }
    eprintln!(
        "batfish traces: {pass}/{} agree, {known_fail} known differences, {} unexpected",
        tests.len(),
        unexpected.len()
    );
    assert!(
        unexpected.is_empty(),
        "disagreements:\n{}",
        unexpected.join("\n")
    );
    assert!(
        now_agree.is_empty(),
        "listed as known differences but now agree (remove them):\n{}",
        now_agree.join("\n")
    );
}
