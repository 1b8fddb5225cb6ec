//! Network Access Scopes: AWS's JSON (`MatchPaths`, `ExcludePaths`, each a `Source` /
//! `Destination` / `ThroughResources` statement) parsed into typed statements, the built-in
//! scopes, and the matching of a walked path against a statement.

use serde::Deserialize;

use crate::access::space::*;
use crate::access::walk::Node;
use crate::analysis::PathComponent;
use crate::error::{NetError, Result};
use crate::ip::Cidr;
use crate::model::{EniIdx, EniOwner, Snapshot};
use crate::packet::parse_protocol;

/// `ResourceStatement`: ids or ARNs (`Resources`) and/or types (`ResourceTypes`); a resource
/// matches if it matches either list. `tag:Key=Value` in `Resources` selects VPCs by tag
/// (this crate's stand-in for NAA's resource-group ARNs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ResourceStatement {
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_types: Vec<String>,
}

/// `PacketHeaderStatement`; an omitted field means any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PacketHeaderStatement {
    #[serde(default)]
    pub source_addresses: Vec<String>,
    #[serde(default)]
    pub destination_addresses: Vec<String>,
    #[serde(default)]
    pub source_ports: Vec<String>,
    #[serde(default)]
    pub destination_ports: Vec<String>,
    #[serde(default)]
    pub source_prefix_lists: Vec<String>,
    #[serde(default)]
    pub destination_prefix_lists: Vec<String>,
    #[serde(default)]
    pub protocols: Vec<String>,
}

/// `Source` or `Destination` of a path statement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PathStatement {
    pub resource_statement: Option<ResourceStatement>,
    pub packet_header_statement: Option<PacketHeaderStatement>,
}

/// One element of `ThroughResources`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ThroughResourcesStatement {
    pub resource_statement: Option<ResourceStatement>,
}

/// One element of `MatchPaths` / `ExcludePaths`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccessScopePath {
    pub source: Option<PathStatement>,
    pub destination: Option<PathStatement>,
    #[serde(default)]
    pub through_resources: Vec<ThroughResourcesStatement>,
}

/// A Network Access Scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Scope {
    /// Names the scope in findings (`NetworkInsightsAccessScopeId`).
    #[serde(skip)]
    pub name: String,
    #[serde(default)]
    pub match_paths: Vec<AccessScopePath>,
    #[serde(default)]
    pub exclude_paths: Vec<AccessScopePath>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wrapped {
    network_insights_access_scope_content: Scope,
}

const IGW: &str = "AWS::EC2::InternetGateway";
const ENI: &str = "AWS::EC2::NetworkInterface";
const NAT: &str = "AWS::EC2::NatGateway";

/// The names [`Scope::builtin`] knows.
pub const BUILTIN_SCOPES: &[&str] = &[
    "internet-exposed",
    "ssh-rdp-from-internet",
    "isolated-vpcs",
    "egress-without-nat",
];

fn types(t: &[&str]) -> Option<ResourceStatement> {
    Some(ResourceStatement {
        resources: vec![],
        resource_types: t.iter().map(|s| s.to_string()).collect(),
    })
}

impl Scope {
    /// Parse AWS's scope JSON: the `create-network-insights-access-scope` input
    /// (`{"MatchPaths": …, "ExcludePaths": …}`) or the
    /// `get-network-insights-access-scope-content` output (wrapped in
    /// `NetworkInsightsAccessScopeContent`). Unknown fields inside statements are errors.
    pub fn parse(json: &str) -> Result<Scope> {
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| NetError::InvalidScope(format!("malformed JSON: {e}")))?;
        let mut scope = if v.get("NetworkInsightsAccessScopeContent").is_some() {
            Wrapped::deserialize(&v).map(|w| w.network_insights_access_scope_content)
        } else {
            Scope::deserialize(&v)
        }
        .map_err(|e| NetError::InvalidScope(e.to_string()))?;
        if scope.match_paths.is_empty() {
            return Err(NetError::InvalidScope("no MatchPaths".into()));
        }
        for p in scope.match_paths.iter().chain(&scope.exclude_paths) {
            for h in [&p.source, &p.destination]
                .into_iter()
                .flatten()
                .filter_map(|x| x.packet_header_statement.as_ref())
            {
                h.validate()?;
            }
        }
        if scope.name.is_empty() {
            scope.name = "custom".into();
        }
        Ok(scope)
    }

    /// A built-in scope: `internet-exposed` (every ENI reachable from an internet gateway,
    /// all ports), `ssh-rdp-from-internet` (TCP 22 and 3389 from an internet gateway),
    /// `egress-without-nat` (ENIs reaching an internet gateway not through a NAT gateway),
    /// `isolated-vpcs:SEL,SEL,…` (paths between VPCs that should be isolated; each SEL is a
    /// VPC id or `tag:Key=Value`, see [`Scope::isolated_vpcs`]).
    pub fn builtin(name: &str) -> Option<Scope> {
        let from_igw_to_eni = |header: Option<PacketHeaderStatement>| AccessScopePath {
            source: Some(PathStatement {
                resource_statement: types(&[IGW]),
                packet_header_statement: None,
            }),
            destination: Some(PathStatement {
                resource_statement: types(&[ENI]),
                packet_header_statement: header,
            }),
            through_resources: vec![],
        };
        let (base, args) = match name.split_once([':', '=']) {
            Some((b, a)) => (b, Some(a)),
            None => (name, None),
        };
        let mut scope = match (base, args) {
            ("internet-exposed", None) => Scope {
                match_paths: vec![from_igw_to_eni(None)],
                ..Scope::default()
            },
            ("ssh-rdp-from-internet", None) => Scope {
                match_paths: vec![from_igw_to_eni(Some(PacketHeaderStatement {
                    protocols: vec!["tcp".into()],
                    destination_ports: vec!["22".into(), "3389".into()],
                    ..PacketHeaderStatement::default()
                }))],
                ..Scope::default()
            },
            ("egress-without-nat", None) => Scope {
                match_paths: vec![AccessScopePath {
                    source: Some(PathStatement {
                        resource_statement: types(&[ENI]),
                        packet_header_statement: None,
                    }),
                    destination: Some(PathStatement {
                        resource_statement: types(&[IGW]),
                        packet_header_statement: None,
                    }),
                    through_resources: vec![],
                }],
                exclude_paths: vec![AccessScopePath {
                    through_resources: vec![ThroughResourcesStatement {
                        resource_statement: types(&[NAT]),
                    }],
                    ..AccessScopePath::default()
                }],
                ..Scope::default()
            },
            ("isolated-vpcs", Some(list)) => {
                let sels: Vec<&str> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                let mut s = Scope::isolated_vpcs(&sels);
                s.name = name.to_string();
                return (!s.match_paths.is_empty()).then_some(s);
            }
            _ => return None,
        };
        scope.name = name.to_string();
        Some(scope)
    }

    /// Paths between VPCs that should be isolated: one `MatchPath` per ordered pair of
    /// distinct selectors (a VPC id or `tag:Key=Value`, which selects every VPC with that
    /// tag). Paths inside one selector's VPCs are not findings.
    pub fn isolated_vpcs(selectors: &[&str]) -> Scope {
        let mut match_paths = Vec::new();
        for (i, a) in selectors.iter().enumerate() {
            for (j, b) in selectors.iter().enumerate() {
                if i == j {
                    continue;
                }
                let stmt = |sel: &str| {
                    Some(PathStatement {
                        resource_statement: Some(ResourceStatement {
                            resources: vec![sel.to_string()],
                            resource_types: vec![],
                        }),
                        packet_header_statement: None,
                    })
                };
                match_paths.push(AccessScopePath {
                    source: stmt(a),
                    destination: stmt(b),
                    through_resources: vec![],
                });
            }
        }
        Scope {
            name: "isolated-vpcs".into(),
            match_paths,
            exclude_paths: vec![],
        }
    }
}

/// `"80"`, `"1024-65535"`.
fn parse_port_range(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b) = (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?);
    (a <= b).then_some((u32::from(a), u32::from(b)))
}

impl PacketHeaderStatement {
    fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: &str| {
            Err(NetError::InvalidScope(format!(
                "{what}: invalid value {v:?}"
            )))
        };
        for p in self.source_ports.iter().chain(&self.destination_ports) {
            if parse_port_range(p).is_none() {
                return bad("ports", p);
            }
        }
        for a in self
            .source_addresses
            .iter()
            .chain(&self.destination_addresses)
        {
            if Cidr::parse(a).is_none() {
                return bad("addresses", a);
            }
        }
        for p in &self.protocols {
            if parse_protocol(p).is_none() {
                return bad("protocols", p);
            }
        }
        if !self.source_addresses.is_empty() && !self.source_prefix_lists.is_empty() {
            return Err(NetError::InvalidScope(
                "SourceAddresses and SourcePrefixLists are exclusive".into(),
            ));
        }
        if !self.destination_addresses.is_empty() && !self.destination_prefix_lists.is_empty() {
            return Err(NetError::InvalidScope(
                "DestinationAddresses and DestinationPrefixLists are exclusive".into(),
            ));
        }
        Ok(())
    }

    /// The headers this statement allows (prefix lists resolved in `s`; an unknown prefix
    /// list matches nothing). IPv6 addresses are ignored (the analysis is IPv4).
    pub(crate) fn header_set(&self, s: &Snapshot) -> HeaderSet {
        let mut set = HeaderSet::full();
        if !self.protocols.is_empty() {
            let mut protos = Vec::new();
            for p in &self.protocols {
                match parse_protocol(p) {
                    Some(None) => protos.push((0, 255)),
                    Some(Some(n)) => protos.push((u32::from(n), u32::from(n))),
                    None => {}
                }
            }
            set = set.restrict_ranges(PROTO, &merge(protos));
        }
        let addrs = |list: &[String], pls: &[String]| -> Option<Vec<(u32, u32)>> {
            if list.is_empty() && pls.is_empty() {
                return None;
            }
            let mut v: Vec<(u32, u32)> = list
                .iter()
                .filter_map(|a| Cidr::parse(a).as_ref().and_then(cidr_range))
                .collect();
            for id in pls {
                if let Some(pl) = s.prefix_list(id) {
                    v.extend(pl.cidrs.iter().filter_map(cidr_range));
                }
            }
            Some(merge(v))
        };
        if let Some(r) = addrs(&self.source_addresses, &self.source_prefix_lists) {
            set = set.restrict_ranges(SRC, &r);
        }
        if let Some(r) = addrs(&self.destination_addresses, &self.destination_prefix_lists) {
            set = set.restrict_ranges(DST, &r);
        }
        let ports =
            |list: &[String]| merge(list.iter().filter_map(|p| parse_port_range(p)).collect());
        if !self.source_ports.is_empty() {
            set = set.restrict_ranges(SPORT, &ports(&self.source_ports));
        }
        if !self.destination_ports.is_empty() {
            set = set.restrict_ranges(DPORT, &ports(&self.destination_ports));
        }
        set
    }
}

/// The id at the end of an ARN (`arn:aws:ec2:…:instance/i-123` → `i-123`), else the id.
fn bare_id(r: &str) -> &str {
    if r.starts_with("arn:") {
        r.rsplit(['/', ':']).next().unwrap_or(r)
    } else {
        r
    }
}

fn tag_selects(s: &Snapshot, sel: &str, vpc_id: &str) -> bool {
    let Some(kv) = sel.strip_prefix("tag:") else {
        return false;
    };
    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
    s.tags(vpc_id)
        .iter()
        .any(|(tk, tv)| tk == k && (v.is_empty() || tv == v))
}

impl ResourceStatement {
    /// Does the statement select ENI `e` (by its id, owner, groups, subnet, VPC, VPC tag,
    /// or type `AWS::EC2::NetworkInterface` / `Instance` / `VPCEndpoint` / `Subnet` / `VPC`)?
    pub(crate) fn selects_eni(&self, s: &Snapshot, e: EniIdx) -> bool {
        let eni = s.eni(e);
        let owner = match &eni.owner {
            EniOwner::Instance(i) => Some((i.as_str(), "AWS::EC2::Instance")),
            EniOwner::VpcEndpoint(v) => Some((v.as_str(), "AWS::EC2::VPCEndpoint")),
            EniOwner::NatGateway(n) => Some((n.as_str(), NAT)),
            EniOwner::LoadBalancer(l) => {
                Some((l.as_str(), "AWS::ElasticLoadBalancingV2::LoadBalancer"))
            }
            EniOwner::Other => None,
        };
        let by_type = self.resource_types.iter().any(|t| {
            t == ENI
                || t == "AWS::EC2::Subnet"
                || t == "AWS::EC2::VPC"
                || owner.is_some_and(|(_, ty)| ty == t)
        });
        by_type
            || self.resources.iter().map(|r| bare_id(r)).any(|r| {
                r == eni.id
                    || r == eni.subnet_id
                    || r == eni.vpc_id
                    || owner.is_some_and(|(id, _)| id == r)
                    || eni.group_ids.iter().any(|g| g == r)
                    || tag_selects(s, r, &eni.vpc_id)
            })
    }

    fn selects(&self, id: &str, ty: &str) -> bool {
        self.resource_types.iter().any(|t| t == ty)
            || self.resources.iter().any(|r| bare_id(r) == id)
    }

    pub(crate) fn selects_node(&self, s: &Snapshot, n: &Node) -> bool {
        match n {
            Node::Eni(e) => self.selects_eni(s, *e),
            Node::Internet(g) | Node::Igw(g) => {
                self.selects(g, IGW) || self.resources.iter().any(|r| r == crate::reach::INTERNET)
            }
            Node::Vgw(g) => self.selects(g, "AWS::EC2::VPNGateway"),
            Node::Endpoint(g) => self.selects(g, "AWS::EC2::VPCEndpoint"),
            Node::Attachment(a) => self.selects(a, "AWS::EC2::TransitGatewayAttachment"),
            Node::Peering(p) => self.selects(p, "AWS::EC2::VPCPeeringConnection"),
        }
    }

    /// Does any hop of the path pass a selected resource?
    pub(crate) fn selects_hop(&self, hops: &[PathComponent]) -> bool {
        let ty = |kind: &str| match kind {
            "network-interface" => ENI,
            "instance" => "AWS::EC2::Instance",
            "nat-gateway" => NAT,
            "internet-gateway" => IGW,
            "vpc-peering-connection" => "AWS::EC2::VPCPeeringConnection",
            "transit-gateway" => "AWS::EC2::TransitGateway",
            "transit-gateway-attachment" => "AWS::EC2::TransitGatewayAttachment",
            "vpc-endpoint" => "AWS::EC2::VPCEndpoint",
            "vpn-gateway" => "AWS::EC2::VPNGateway",
            "subnet" => "AWS::EC2::Subnet",
            "vpc" => "AWS::EC2::VPC",
            _ => "",
        };
        hops.iter().any(|h| {
            [
                Some(&h.component),
                h.attached_to.as_ref(),
                h.transit_gateway_attachment.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|c| self.selects(&c.id, ty(c.kind)))
        })
    }
}

impl AccessScopePath {
    /// Could this statement's source be `n` (resources only; headers are checked later)?
    pub(crate) fn source_may_be(&self, s: &Snapshot, n: &Node) -> bool {
        self.source
            .as_ref()
            .and_then(|x| x.resource_statement.as_ref())
            .is_none_or(|r| r.selects_node(s, n))
    }

    pub(crate) fn destination_may_be(&self, s: &Snapshot, n: &Node) -> bool {
        self.destination
            .as_ref()
            .and_then(|x| x.resource_statement.as_ref())
            .is_none_or(|r| r.selects_node(s, n))
    }

    /// The part of `set` (a path from `src` to `dst` through `hops`) this statement matches.
    pub(crate) fn matched(
        &self,
        s: &Snapshot,
        src: &Node,
        dst: &Node,
        hops: &[PathComponent],
        set: &HeaderSet,
    ) -> HeaderSet {
        if !self.source_may_be(s, src) || !self.destination_may_be(s, dst) {
            return HeaderSet::empty();
        }
        if !self
            .through_resources
            .iter()
            .filter_map(|t| t.resource_statement.as_ref())
            .all(|r| r.selects_hop(hops))
        {
            return HeaderSet::empty();
        }
        let mut out = set.clone();
        for h in [&self.source, &self.destination]
            .into_iter()
            .flatten()
            .filter_map(|x| x.packet_header_statement.as_ref())
        {
            out = out.intersect(&h.header_set(s));
        }
        out
    }
}
