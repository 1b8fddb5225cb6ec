//! The simulator and `reach` agree: over random (source, destination, protocol, ports) picks
//! in corpus snapshots, a simulated connection is ACCEPTed at its destination ENI exactly when
//! `reach` delivers the request there, and is ACCEPTed both ways (request in at the
//! destination, reply in at the source) exactly when `reach` finds the path (reply included).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::DateTime;
use flowwatch_net::{Disposition, Query, Snapshot, reach};
use flowwatch_sim::*;
use proptest::prelude::*;

const SCENARIOS: [&str; 4] = [
    "test-public-private-subnet",
    "test-nat-gateway",
    "test-vpc-peering",
    "test-public-subnet",
];

fn snapshots() -> &'static Vec<Snapshot> {
    static S: OnceLock<Vec<Snapshot>> = OnceLock::new();
    S.get_or_init(|| {
        SCENARIOS
            .iter()
            .map(|n| {
                let d = std::env::var_os("FLOWWATCH_CORPUS")
                    .map_or_else(
                        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
                        PathBuf::from,
                    )
                    .join("aws-snapshots/batfish/representation-aws")
                    .join(n);
                Snapshot::load(d).0
            })
            .collect()
    })
}

const INTERNET: [&str; 2] = ["198.51.100.7", "8.8.8.8"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]
    #[test]
    fn simulator_agrees_with_reach(
        scenario in 0..SCENARIOS.len(),
        src_pick in 0usize..64,
        dst_pick in 0usize..64,
        from_internet in prop::bool::weighted(0.25),
        to_public in any::<bool>(),
        proto in prop::sample::select(vec!["tcp", "udp", "icmp"]),
        port in prop::sample::select(vec![22u16, 80, 443, 3389, 8080, 53, 1, 65535]),
        sport in prop::sample::select(vec![1000u16, 40000, 50000, 65535]),
    ) {
        let s = &snapshots()[scenario];
        let enis: Vec<_> = s.enis.iter().filter(|e| e.active && e.primary_ip().is_some()
            && matches!(e.owner, flowwatch_net::model::EniOwner::Instance(_))).collect();
        prop_assume!(!enis.is_empty());
        let dst = enis[dst_pick % enis.len()];
        let dst_private = dst.primary_ip().unwrap();
        let (source, src_eni) = if from_internet {
            (INTERNET[src_pick % 2].to_string(), None)
        } else {
            let e = enis[src_pick % enis.len()];
            prop_assume!(e.id != dst.id);
            (e.id.clone(), Some(e))
        };
        let dst_addr = match dst.public_ip_of(dst_private) {
            Some(p) if from_internet || to_public => p,
            _ => dst_private,
        };
        let port_line = if proto == "icmp" { String::new() } else {
            format!("port = {port}\nsource_port = {sport}\n")
        };
        let traffic = Traffic::parse(&format!(
            "[[flow]]\nsource = \"{source}\"\ndestination = \"{dst_addr}\"\nprotocol = \"{proto}\"\n{port_line}rate = 1\n"
        )).unwrap();
        let out = simulate(s, &traffic, DateTime::from_timestamp(1_793_620_800, 0).unwrap(),
            Duration::from_secs(60), &Options::default()).unwrap();
        prop_assert_eq!(out.stats.connections, 1);

        let mut q = Query::new(&source, &dst_addr.to_string());
        q.protocol = match proto { "tcp" => 6, "udp" => 17, _ => 1 };
        if proto != "icmp" {
            q = q.port(port).source_port(sport);
        }
        if let Some(e) = src_eni {
            q.source = flowwatch_net::Endpoint::Id(e.id.clone());
        }
        let a = reach(s, &q);

        let records: Vec<(String, Traffic5)> = out.records.iter()
            .filter_map(|r| r.traffic.map(|t| (out.interfaces[r.interface as usize].id.clone(), t)))
            .collect();
        let dport = if proto == "icmp" { 0 } else { port };
        let at_dst = records.iter().any(|(id, t)| *id == dst.id
            && t.flow_direction == FlowDirection::Ingress
            && t.action == Action::Accept
            && t.dstport == dport
            && t.pkt_dstaddr == dst_private.to_ip());
        let delivered = a.forward_disposition == Disposition::Accepted
            && a.forward_path_components.last().is_some_and(|h| h.component.id == dst.id);
        prop_assert_eq!(at_dst, delivered, "request at {}: {:?}\n{:#?}", dst.id, records, a.forward_path_components);
        if let Some(e) = src_eni {
            let reply_home = records.iter().any(|(id, t)| *id == e.id
                && t.flow_direction == FlowDirection::Ingress
                && t.action == Action::Accept
                && t.srcport == dport);
            prop_assert_eq!(at_dst && reply_home, a.network_path_found && delivered,
                "reply at {}: {:?}", e.id, records);
            // No REJECT without reach saying blocked.
            let rejected = records.iter().any(|(_, t)| t.action == Action::Reject);
            prop_assert!(!(rejected && a.network_path_found), "{:?}", records);
        }
    }
}
