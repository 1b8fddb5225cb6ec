//! Domain types of the network model and the [`Snapshot`] that owns them (in `snapshot.rs`),
//! with the indexes built at load (id → resource, (VPC, private IP) → ENI, public IP → ENI, per-subnet route
//! table and NACL, per-group member addresses) so a query never scans the whole snapshot.

use crate::ip::{Addr, Cidr};

mod snapshot;
pub use snapshot::Snapshot;

/// Where a resource came from: account and region (from the directory layout).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    pub account: String,
    pub region: String,
}

macro_rules! idx {
    ($($name:ident),*) => {$(
        /// Index of a resource in its [`Snapshot`] table (valid for that snapshot only).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            #[inline]
            pub fn get(self) -> usize { self.0 as usize }
        }
    )*};
}
idx!(VpcIdx, SubnetIdx, EniIdx, SgIdx, NaclIdx, RtbIdx);

pub(crate) fn ix<T: From<u32>>(i: usize) -> T {
    T::from(u32::try_from(i).unwrap_or(u32::MAX))
}
macro_rules! from_u32 { ($($name:ident),*) => {$( impl From<u32> for $name { fn from(v: u32) -> Self { $name(v) } } )*}; }
from_u32!(VpcIdx, SubnetIdx, EniIdx, SgIdx, NaclIdx, RtbIdx);

#[derive(Clone, Debug)]
pub struct Vpc {
    pub id: String,
    pub loc: Loc,
    pub cidrs: Vec<Cidr>,
    pub subnets: Vec<SubnetIdx>,
    pub main_route_table: Option<RtbIdx>,
    pub default_nacl: Option<NaclIdx>,
    pub internet_gateways: Vec<String>,
    pub egress_only_gateways: Vec<String>,
    pub vpn_gateways: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub id: String,
    pub loc: Loc,
    pub vpc_id: String,
    pub vpc: Option<VpcIdx>,
    pub cidrs: Vec<Cidr>,
    pub availability_zone: String,
    /// Explicitly associated table, else the VPC's main table (resolved at load).
    pub route_table: Option<RtbIdx>,
    pub explicit_route_table: bool,
    pub nacl: Option<NaclIdx>,
    pub enis: Vec<EniIdx>,
}

impl Subnet {
    pub fn contains(&self, a: Addr) -> bool {
        self.cidrs.iter().any(|c| c.contains(a))
    }
}

/// What a route sends traffic to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Local,
    InternetGateway(String),
    EgressOnlyInternetGateway(String),
    NatGateway(String),
    TransitGateway(String),
    VpcPeeringConnection(String),
    NetworkInterface(String),
    Instance(String),
    VpnGateway(String),
    GatewayEndpoint(String),
    /// A target this model does not follow (carrier/local gateway, core network, …).
    Other(String),
}

impl Target {
    pub fn id(&self) -> &str {
        match self {
            Target::Local => "local",
            Target::InternetGateway(s)
            | Target::EgressOnlyInternetGateway(s)
            | Target::NatGateway(s)
            | Target::TransitGateway(s)
            | Target::VpcPeeringConnection(s)
            | Target::NetworkInterface(s)
            | Target::Instance(s)
            | Target::VpnGateway(s)
            | Target::GatewayEndpoint(s)
            | Target::Other(s) => s,
        }
    }
}

/// How a route got into its table; decides ties between equal prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteRank {
    /// Static route to a CIDR (including `local`).
    Static = 0,
    /// Static route to a prefix list.
    PrefixList = 1,
    /// Propagated (VGW / TGW) route.
    Propagated = 2,
}

#[derive(Clone, Debug)]
pub struct Route {
    /// The destination as written: a CIDR or `pl-…`.
    pub destination: String,
    /// The CIDRs it covers (one, or the prefix list's entries).
    pub cidrs: Vec<Cidr>,
    pub prefix_list_id: Option<String>,
    pub target: Target,
    /// `State: blackhole` (the target is gone).
    pub blackhole: bool,
    pub rank: RouteRank,
    pub origin: String,
}

#[derive(Clone, Debug)]
pub struct RouteTable {
    pub id: String,
    pub loc: Loc,
    pub vpc_id: String,
    pub main: bool,
    pub routes: Vec<Route>,
    /// Subnets explicitly associated (ids as written).
    pub subnet_ids: Vec<String>,
    /// Gateway (edge) associations: IGW/VGW ids.
    pub gateway_ids: Vec<String>,
}

/// The peer of a security-group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgPeer {
    Cidr(Cidr),
    PrefixList(String),
    Group(String),
}

/// One flattened security-group rule (one permission × one peer), the shape of
/// `describe-security-group-rules`.
#[derive(Clone, Debug)]
pub struct SgRule {
    /// `None` = all protocols (`-1`).
    pub protocol: Option<u8>,
    /// Port range for TCP/UDP, ICMP type (`from`) and code (`to`) for ICMP; -1 = any.
    pub from_port: i32,
    pub to_port: i32,
    pub peer: SgPeer,
    /// Resolved peer (prefix-list CIDRs or referenced group), filled at load.
    pub(crate) peer_cidrs: Vec<Cidr>,
    pub(crate) peer_group: Option<SgIdx>,
    pub description: Option<String>,
    /// Index of the `IpPermissions` entry this rule came from.
    pub permission: usize,
}

#[derive(Clone, Debug)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub loc: Loc,
    pub vpc_id: String,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
    /// Private addresses of every ENI carrying this group, sorted (for references).
    pub(crate) members: Vec<Addr>,
    /// The rules in a compact form for the per-packet hot path, one per rule, same order
    /// (see [`crate::sg`]); built at load once peers are resolved.
    pub(crate) fast_ingress: Vec<crate::sg::FastRule>,
    pub(crate) fast_egress: Vec<crate::sg::FastRule>,
}

#[derive(Clone, Debug)]
pub struct NaclEntry {
    /// 1–32766, or 32767 for the `*` rule.
    pub rule_number: u16,
    pub allow: bool,
    /// `None` = all protocols.
    pub protocol: Option<u8>,
    pub cidr: Cidr,
    pub port_range: Option<(u16, u16)>,
    /// ICMP type and code, -1 = any.
    pub icmp: Option<(i16, i16)>,
}

#[derive(Clone, Debug)]
pub struct Nacl {
    pub id: String,
    pub loc: Loc,
    pub vpc_id: String,
    pub is_default: bool,
    /// Sorted by rule number; the implicit `*` deny is not stored (see [`crate::nacl`]).
    pub ingress: Vec<NaclEntry>,
    pub egress: Vec<NaclEntry>,
    pub subnet_ids: Vec<String>,
}

/// Who owns an ENI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EniOwner {
    Instance(String),
    NatGateway(String),
    VpcEndpoint(String),
    /// A node of an Elastic Load Balancing v2 load balancer (by ARN).
    LoadBalancer(String),
    /// Requester-managed or detached interfaces (Lambda, ELB, RDS, …).
    Other,
}

#[derive(Clone, Debug)]
pub struct Eni {
    pub id: String,
    pub loc: Loc,
    pub interface_type: String,
    /// The ENI's description (`ELB net/<name>/<id>` names a load balancer's node).
    pub description: String,
    pub subnet_id: String,
    pub subnet: Option<SubnetIdx>,
    pub vpc_id: String,
    pub availability_zone: String,
    /// Primary private address first.
    pub private_ips: Vec<Addr>,
    /// (private, public) pairs: the IGW's 1:1 NAT.
    pub public_ips: Vec<(Addr, Addr)>,
    pub group_ids: Vec<String>,
    pub groups: Vec<SgIdx>,
    pub owner: EniOwner,
    pub source_dest_check: bool,
    /// False for ENIs of stopped instances: they exist but deliver nothing.
    pub active: bool,
}

impl Eni {
    pub fn primary_ip(&self) -> Option<Addr> {
        self.private_ips.first().copied()
    }

    pub fn public_ip_of(&self, private: Addr) -> Option<Addr> {
        self.public_ips
            .iter()
            .find(|(p, _)| *p == private)
            .map(|(_, q)| *q)
    }

    pub fn owns(&self, a: Addr) -> bool {
        self.private_ips.contains(&a)
    }
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub id: String,
    pub loc: Loc,
    pub state: String,
    pub subnet_id: String,
    /// Primary (device index 0) first.
    pub enis: Vec<EniIdx>,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub id: String,
    pub loc: Loc,
    /// VPCs it is attached to (`available`/`attached` attachments only).
    pub vpc_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct NatGateway {
    pub id: String,
    pub loc: Loc,
    pub subnet_id: String,
    pub subnet: Option<SubnetIdx>,
    pub vpc_id: String,
    pub available: bool,
    pub public: bool,
    pub private_ip: Option<Addr>,
    pub public_ip: Option<Addr>,
    pub eni: Option<EniIdx>,
}

#[derive(Clone, Debug)]
pub struct PeeringSide {
    pub vpc_id: String,
    pub owner: String,
    pub region: String,
    pub cidrs: Vec<Cidr>,
}

#[derive(Clone, Debug)]
pub struct Peering {
    pub id: String,
    pub loc: Loc,
    pub active: bool,
    pub status: String,
    pub requester: PeeringSide,
    pub accepter: PeeringSide,
}

impl Peering {
    /// The side opposite `vpc_id`, if `vpc_id` is one end.
    pub fn other_side(&self, vpc_id: &str) -> Option<&PeeringSide> {
        if self.requester.vpc_id == vpc_id {
            Some(&self.accepter)
        } else if self.accepter.vpc_id == vpc_id {
            Some(&self.requester)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub struct TransitGateway {
    pub id: String,
    pub loc: Loc,
    pub available: bool,
    pub asn: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct TgwAttachment {
    pub id: String,
    pub tgw_id: String,
    /// `vpc`, `peering`, `vpn`, `direct-connect-gateway`, `connect`, …
    pub resource_type: String,
    pub resource_id: String,
    pub available: bool,
    /// The TGW route table this attachment is associated with (on `tgw_id`).
    pub route_table: Option<String>,
    /// VPC attachments: the attachment subnets (decide the reachable AZs).
    pub subnet_ids: Vec<String>,
    pub appliance_mode: bool,
}

#[derive(Clone, Debug)]
pub struct TgwRoute {
    pub cidr: Cidr,
    /// `None` for a blackhole route.
    pub attachment: Option<String>,
    pub propagated: bool,
    pub blackhole: bool,
}

#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    pub id: String,
    pub tgw_id: String,
    pub loc: Loc,
    /// Static routes then propagated ones (from propagations of VPC attachments).
    pub routes: Vec<TgwRoute>,
    pub propagations: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PrefixList {
    pub id: String,
    pub name: String,
    pub cidrs: Vec<Cidr>,
}

#[derive(Clone, Debug)]
pub struct VpcEndpoint {
    pub id: String,
    pub loc: Loc,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`.
    pub endpoint_type: String,
    pub vpc_id: String,
    pub service_name: String,
    pub available: bool,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub eni_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct VpnGateway {
    pub id: String,
    pub loc: Loc,
    pub vpc_ids: Vec<String>,
    /// AWS-side tunnel outside addresses of its VPN connections.
    pub outside_ips: Vec<Addr>,
    /// Static routes of its VPN connections (toward the customer gateway).
    pub vpn_routes: Vec<(Cidr, String)>,
}

/// An Elastic Load Balancing v2 load balancer (network, application or gateway) with the
/// listeners and targets reachability needs. Its nodes are the ENIs owned by it
/// ([`EniOwner::LoadBalancer`]), one per availability zone.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// The ARN (what ids resolve to; the name resolves too).
    pub id: String,
    pub loc: Loc,
    pub name: String,
    pub dns_name: String,
    /// `network`, `application` or `gateway`.
    pub lb_type: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub vpc_id: String,
    /// `load_balancing.cross_zone.enabled` (always on for application load balancers).
    pub cross_zone: bool,
    pub listeners: Vec<LbListener>,
    /// The node ENIs, one per zone (those whose owner is this load balancer).
    pub nodes: Vec<EniIdx>,
}

impl LoadBalancer {
    /// The listener that takes packet `p` (its protocol and destination port), if any.
    pub fn listener_for(&self, p: &crate::packet::Packet) -> Option<&LbListener> {
        self.listeners
            .iter()
            .find(|l| p.has_ports() && l.port == p.dst_port && l.takes(p.protocol))
    }

    /// Whether the targets behind `listener` see the client's address: network load
    /// balancers with instance targets keep it; application load balancers and IP targets
    /// put the node's.
    pub fn keeps_client_address(&self, listener: &LbListener) -> bool {
        self.lb_type == "network"
            && listener
                .targets
                .first()
                .is_none_or(|t| t.id.parse::<std::net::IpAddr>().is_err())
    }
}

/// A listener: where it forwards.
#[derive(Clone, Debug)]
pub struct LbListener {
    pub port: u16,
    /// `TCP`, `UDP`, `TCP_UDP`, `TLS`, `HTTP`, `HTTPS`, `GENEVE`.
    pub protocol: String,
    /// The forward action's target group.
    pub target_group: Option<String>,
    /// Its targets in `describe-target-health` order.
    pub targets: Vec<LbTarget>,
}

impl LbListener {
    /// Whether the listener takes IP protocol `proto`.
    pub fn takes(&self, proto: u8) -> bool {
        match self.protocol.as_str() {
            "UDP" => proto == crate::packet::PROTO_UDP,
            "TCP_UDP" => proto == crate::packet::PROTO_TCP || proto == crate::packet::PROTO_UDP,
            "GENEVE" => true,
            _ => proto == crate::packet::PROTO_TCP,
        }
    }
}

/// A registered target: an instance id or an IP address, and its port.
#[derive(Clone, Debug)]
pub struct LbTarget {
    pub id: String,
    pub port: u16,
    /// `healthy`, or unknown (no health information): traffic is sent to it.
    pub healthy: bool,
}

/// What an id names, for [`Snapshot::resolve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Vpc(usize),
    Subnet(usize),
    RouteTable(usize),
    SecurityGroup(usize),
    Nacl(usize),
    Eni(usize),
    Instance(usize),
    InternetGateway(usize),
    EgressOnlyInternetGateway(usize),
    NatGateway(usize),
    Peering(usize),
    TransitGateway(usize),
    TgwAttachment(usize),
    TgwRouteTable(usize),
    PrefixList(usize),
    VpcEndpoint(usize),
    VpnGateway(usize),
    LoadBalancer(usize),
}

impl Resource {
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Vpc(_) => "vpc",
            Resource::Subnet(_) => "subnet",
            Resource::RouteTable(_) => "route-table",
            Resource::SecurityGroup(_) => "security-group",
            Resource::Nacl(_) => "network-acl",
            Resource::Eni(_) => "network-interface",
            Resource::Instance(_) => "instance",
            Resource::InternetGateway(_) => "internet-gateway",
            Resource::EgressOnlyInternetGateway(_) => "egress-only-internet-gateway",
            Resource::NatGateway(_) => "nat-gateway",
            Resource::Peering(_) => "vpc-peering-connection",
            Resource::TransitGateway(_) => "transit-gateway",
            Resource::TgwAttachment(_) => "transit-gateway-attachment",
            Resource::TgwRouteTable(_) => "transit-gateway-route-table",
            Resource::PrefixList(_) => "prefix-list",
            Resource::VpcEndpoint(_) => "vpc-endpoint",
            Resource::VpnGateway(_) => "vpn-gateway",
            Resource::LoadBalancer(_) => "load-balancer",
        }
    }
}
