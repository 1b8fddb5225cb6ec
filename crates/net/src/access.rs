//! Network access analysis (spec §5.2): which traffic a [`Scope`] (AWS's Network Access
//! Scope JSON, or a built-in one) allows, computed exhaustively over header space rather than
//! by sampling packets.
//!
//! The algorithm: every source the scope can use (the internet through each ENI's internet
//! gateway, or each ENI's private IPv4 addresses) starts a symbolic walk (`walk`) carrying
//! the set of all TCP/UDP headers it can send, a [`HeaderSet`] over protocol × source address
//! × destination address × source port × destination port. Security groups intersect it with
//! the union of their rules; NACLs with their ordered first-match semantics (each entry
//! decides what earlier entries left, as cube differences); route tables partition it by
//! destination among their routes (longest prefix first, the tie rules of
//! [`crate::route::lookup`]); NAT gateways and IGWs rewrite addresses. Each branch that
//! arrives becomes a path; a path is a finding for the part of its header set that matches
//! at least one `MatchPaths` statement and no `ExcludePaths` statement. The header set is
//! reported in canonical rows ([`FindingHeader`]: protocol, destination port ranges, source
//! and destination CIDRs), so a finding lists every port and address that gets through.

mod eval;
pub mod scope;
pub mod space;
mod walk;

use serde::Serialize;

use crate::analysis::{Component, PathComponent, PortRange};
use crate::model::{EniIdx, Snapshot};
pub use scope::{
    AccessScopePath, BUILTIN_SCOPES, PacketHeaderStatement, PathStatement, ResourceStatement,
    Scope, ThroughResourcesStatement,
};
use space::*;
pub use space::{Cube, HeaderSet};
use walk::{Engine, Node, Wanted};

/// One finding, in the shape of AWS's `AccessScopeAnalysisFinding` plus the exhaustive
/// header rows (`Headers`) and both ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub finding_id: String,
    pub network_insights_access_scope_id: String,
    pub source: Component,
    pub destination: Component,
    /// Every header that gets through, as disjoint rows (headers as they leave the source).
    pub headers: Vec<FindingHeader>,
    pub finding_components: Vec<PathComponent>,
    /// The same headers as a set, for exact membership tests.
    #[serde(skip)]
    pub space: HeaderSet,
}

/// One row: every combination of its destination ports, source addresses, destination
/// addresses (and source ports; empty = any) gets through for `protocol`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingHeader {
    pub protocol: String,
    pub destination_port_ranges: Vec<PortRange>,
    pub source_addresses: Vec<String>,
    pub destination_addresses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_port_ranges: Vec<PortRange>,
}

impl Finding {
    /// Destination port ranges open for `protocol` (`"tcp"`, `"udp"`), merged over rows.
    pub fn port_ranges(&self, protocol: &str) -> Vec<(u16, u16)> {
        let proto = match protocol {
            "tcp" => 6,
            "udp" => 17,
            p => p.parse().unwrap_or(0),
        };
        self.space
            .restrict(PROTO, proto, proto)
            .project(DPORT)
            .into_iter()
            .map(|(a, b)| (a as u16, b as u16))
            .collect()
    }
}

/// Everything `scope` finds in `s`. Deterministic order (source, destination, path).
pub fn analyze(s: &Snapshot, scope: &Scope) -> Vec<Finding> {
    let gateway_types = [
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPNGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::VPCPeeringConnection",
    ];
    let gateways = scope.match_paths.iter().any(|p| {
        p.destination
            .as_ref()
            .and_then(|d| d.resource_statement.as_ref())
            .is_none_or(|r| {
                r.resource_types
                    .iter()
                    .any(|t| gateway_types.contains(&t.as_str()))
                    || r.resources.iter().any(|id| {
                        [
                            "igw-",
                            "vgw-",
                            "vpce-",
                            "tgw-attach-",
                            "pcx-",
                            "arn:",
                            "internet",
                        ]
                        .iter()
                        .any(|pre| id.starts_with(pre))
                    })
            })
    });
    let eni = (0..s.enis.len())
        .map(|i| {
            let n = Node::Eni(EniIdx(i as u32));
            scope
                .match_paths
                .iter()
                .any(|p| p.destination_may_be(s, &n))
        })
        .collect();
    let mut engine = Engine::new(s, Wanted { eni, gateways });
    let from_internet = s.internet_gateways.iter().any(|g| {
        let n = Node::Internet(g.id.clone());
        scope.match_paths.iter().any(|p| p.source_may_be(s, &n))
    });
    if from_internet {
        engine.walk_from_internet();
    }
    for i in 0..s.enis.len() {
        let n = Node::Eni(EniIdx(i as u32));
        if scope.match_paths.iter().any(|p| p.source_may_be(s, &n)) {
            engine.walk_from_eni(EniIdx(i as u32));
        }
    }
    let mut findings = Vec::new();
    for path in std::mem::take(&mut engine.out) {
        let mut m = HeaderSet::empty();
        for mp in &scope.match_paths {
            let part = mp.matched(s, &path.source, &path.destination, &path.hops, &path.set);
            m = if m.is_empty() { part } else { m.union(&part) };
        }
        for ep in &scope.exclude_paths {
            if m.is_empty() {
                break;
            }
            let part = ep.matched(s, &path.source, &path.destination, &path.hops, &m);
            m = m.subtract(&part);
        }
        if m.is_empty() {
            continue;
        }
        findings.push(Finding {
            finding_id: String::new(),
            network_insights_access_scope_id: scope.name.clone(),
            source: node_component(s, &path.source),
            destination: node_component(s, &path.destination),
            headers: summarise(&m),
            finding_components: path.hops,
            space: m,
        });
    }
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.source.id.clone(),
                f.destination.id.clone(),
                f.finding_components
                    .iter()
                    .map(|c| c.component.id.clone())
                    .collect::<Vec<_>>(),
            )
        };
        key(a).cmp(&key(b))
    });
    for (i, f) in findings.iter_mut().enumerate() {
        f.finding_id = format!("{}-{}", scope.name, i + 1);
    }
    findings
}

fn node_component(s: &Snapshot, n: &Node) -> Component {
    match n {
        Node::Internet(g) | Node::Igw(g) => Component::new(g.clone(), "internet-gateway"),
        Node::Eni(e) => Component::new(s.eni(*e).id.clone(), "network-interface"),
        Node::Vgw(g) => Component::new(g.clone(), "vpn-gateway"),
        Node::Endpoint(g) => Component::new(g.clone(), "vpc-endpoint"),
        Node::Attachment(a) => Component::new(a.clone(), "transit-gateway-attachment"),
        Node::Peering(p) => Component::new(p.clone(), "vpc-peering-connection"),
    }
}

/// A canonical decomposition of a set of cubes along `dims` (in order): rows of merged
/// ranges on the first dimension, each with the (equal) decomposition of the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Canon(Vec<(Vec<(u32, u32)>, Canon)>);

fn canon(cubes: &[Cube], dims: &[usize]) -> Canon {
    let Some((&d, rest)) = dims.split_first() else {
        return Canon(vec![]);
    };
    let mut cuts: Vec<u64> = cubes
        .iter()
        .flat_map(|c| [u64::from(c.lo[d]), u64::from(c.hi[d]) + 1])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut rows: Vec<(Vec<(u32, u32)>, Canon)> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0] as u32, (w[1] - 1) as u32);
        let covering: Vec<Cube> = cubes
            .iter()
            .filter(|c| c.lo[d] <= a && b <= c.hi[d])
            .copied()
            .collect();
        if covering.is_empty() {
            continue;
        }
        let sub = canon(&covering, rest);
        match rows.iter_mut().find(|(_, c)| *c == sub) {
            Some((ranges, _)) => ranges.push((a, b)),
            None => rows.push((vec![(a, b)], sub)),
        }
    }
    for (ranges, _) in &mut rows {
        *ranges = merge(std::mem::take(ranges));
    }
    Canon(rows)
}

/// The set as rows per protocol: destination ports, then source, destination, source port.
pub(crate) fn summarise(set: &HeaderSet) -> Vec<FindingHeader> {
    let mut out = Vec::new();
    for (plo, phi) in set.project(PROTO) {
        for p in plo..=phi.min(255) {
            let sub = set.restrict(PROTO, p, p);
            let c = canon(sub.cubes(), &[DPORT, SRC, DST, SPORT]);
            for (ports, by_src) in &c.0 {
                for (srcs, by_dst) in &by_src.0 {
                    for (dsts, by_sport) in &by_dst.0 {
                        for (sports, _) in &by_sport.0 {
                            let pr = |v: &[(u32, u32)]| {
                                v.iter()
                                    .map(|&(a, b)| PortRange {
                                        from: a as u16,
                                        to: b as u16,
                                    })
                                    .collect::<Vec<_>>()
                            };
                            let cidrs = |v: &[(u32, u32)]| {
                                v.iter().flat_map(|&(a, b)| range_to_cidrs(a, b)).collect()
                            };
                            out.push(FindingHeader {
                                protocol: crate::packet::protocol_name(p as u8),
                                destination_port_ranges: pr(ports),
                                source_addresses: cidrs(srcs),
                                destination_addresses: cidrs(dsts),
                                source_port_ranges: if sports == &[(0, 65535)] {
                                    vec![]
                                } else {
                                    pr(sports)
                                },
                            });
                        }
                    }
                }
            }
        }
    }
    out
}
