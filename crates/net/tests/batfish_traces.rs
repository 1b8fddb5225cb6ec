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
        // A load balancer node: `<zone>-<DNS name>`.
        "load-balancer" => h.component.name.clone(),
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
    if t["java"].as_str() == Some("AwsConfigurationLoadBalancerTest#testClientToServerReachability")
    {
        // The client reaches both servers: through the load balancer (each of its nodes
        // forwards listener port 80 to a target's port 22), and directly on port 22.
        for server in ["i-055b0db7be365202c", "i-0f4af951d61a19245"] {
            let q = Query::new("i-0c8ce8bbdd98cc4e8", server).port(22);
            let a = reach(snap, &q);
            if !a.network_path_found {
                return Err(format!("client to {server}: {:?}", a.explanations));
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

/// The load-balancer choices beyond Batfish's traces, on its `test-load-balancer` snapshot with
/// the attributes and target health replaced: without cross-zone balancing a node forwards to
/// its own zone's target only, an unhealthy target takes nothing, and a node with no target it
/// may use answers `ELBV2_NO_TARGETS_IN_AZ`.
#[test]
fn load_balancer_zones_health_and_listener_codes() {
    let Some(root) = corpus() else { return };
    let dir = root.join("representation-aws/test-load-balancer/aws_configs");
    let lb = "arn:aws:elasticloadbalancing:us-east-2:554773406868:loadbalancer/net/test-lb/725b996cb6be8fba";
    let tg = "arn:aws:elasticloadbalancing:us-east-2:554773406868:targetgroup/test-lb-tg/8e891d8fcdf8ece8";
    let load = |cross_zone: bool, healthy_2b: bool| {
        let mut docs: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n != "LoadBalancerAttributes.json" && n != "LoadBalancerTargetHealth.json"
            })
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), text)
            })
            .collect();
        docs.push((
            "attributes.json".into(),
            serde_json::json!({"LoadBalancerAttributes": [{"LoadBalancerArn": lb, "Attributes": [
                {"Key": "load_balancing.cross_zone.enabled", "Value": cross_zone.to_string()}]}]})
            .to_string(),
        ));
        let state = if healthy_2b { "healthy" } else { "unhealthy" };
        docs.push((
            "health.json".into(),
            serde_json::json!({"LoadBalancerTargetHealth": [{"TargetGroupArn": tg, "TargetHealthDescriptions": [
                {"Target": {"Id": "i-0f4af951d61a19245", "Port": 22}, "TargetHealth": {"State": "healthy"}},
                {"Target": {"Id": "i-055b0db7be365202c", "Port": 22}, "TargetHealth": {"State": state}}]}]})
            .to_string(),
        ));
        let (s, _) =
            Snapshot::from_json_documents(docs.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        s
    };
    let node_2b = |s: &Snapshot| {
        let e = s.eni_idx("eni-01f261dccaba46564").unwrap();
        s.eni(e).primary_ip().unwrap().to_ip().to_string()
    };
    let to_lb = |s: &Snapshot, port: u16| {
        reach(
            s,
            &Query::new("i-0c8ce8bbdd98cc4e8", &node_2b(s)).port(port),
        )
    };
    let last_instance = |a: &Analysis| {
        a.forward_path_components
            .iter()
            .rev()
            .find_map(|h| h.attached_to.as_ref().map(|o| o.id.clone()))
    };
    // Cross-zone off: the us-east-2b node forwards to the us-east-2b target.
    let s = load(false, true);
    let a = to_lb(&s, 80);
    assert!(a.network_path_found, "{:?}", a.explanations);
    assert_eq!(last_instance(&a).as_deref(), Some("i-055b0db7be365202c"));
    // The load balancer rewrote the destination to the target's port 22.
    let lb_hop = a
        .forward_path_components
        .iter()
        .find(|h| h.component.kind == "load-balancer")
        .unwrap();
    let out = lb_hop.outbound_header.as_ref().unwrap();
    assert_eq!(out.destination_port_ranges[0].from, 22);
    // Its only zone-local target unhealthy: nothing to forward to.
    let s = load(false, false);
    let a = to_lb(&s, 80);
    assert_eq!(a.forward_disposition, Disposition::DeniedIn);
    let codes = serde_json::to_string(&a.explanations).unwrap();
    assert!(codes.contains("ELBV2_NO_TARGETS_IN_AZ"), "{codes}");
    // Cross-zone on: the other zone's healthy target takes it.
    let s = load(true, false);
    let a = to_lb(&s, 80);
    assert!(a.network_path_found, "{:?}", a.explanations);
    assert_eq!(last_instance(&a).as_deref(), Some("i-0f4af951d61a19245"));
    // A port without a listener.
    let a = to_lb(&s, 443);
    let codes = serde_json::to_string(&a.explanations).unwrap();
    assert!(codes.contains("ELBV2_LISTENER_PORT_RESTRICTION"), "{codes}");
    // The load balancer is a resource of the snapshot, by ARN and by name.
    assert!(s.resolve("test-lb").is_some() && s.resolve(lb).is_some());
}
