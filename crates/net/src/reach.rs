//! Reachability (spec §4–§5): walk one concrete packet hop by hop through the snapshot —
//! ENI (security group) → subnet (NACL, route table) → VPC router → gateway / peer / transit
//! gateway → … — recording at each hop the rule or route that applied, then walk the reply
//! back with connection tracking (security groups pass replies; NACLs, routes and NAT are
//! re-evaluated). The hop structure follows Batfish's AWS model (instance, subnet, VPC,
//! gateways, `isp_16509`, `internet`) so its expected traces can be compared node by node.

use std::net::IpAddr;

use crate::analysis::*;
use crate::ip::{Addr, Cidr, is_non_internet};
use crate::model::*;
use crate::nacl::DEFAULT_RULE_NUMBER;
use crate::packet::*;
use crate::route::{lookup, lookup_tgw};
use crate::sg::SgDecision;

pub(crate) mod elb;
pub(crate) mod explain;
mod gateways;
mod tgw;
mod trace;
mod walk;

use trace::{resolve_destination, resolve_source, trace};

/// Source address assumed for sources without one (VPC, VGW, TGW attachment, …): the
/// link-local address Batfish gives its AWS nodes.
pub const LINK_LOCAL_SOURCE: Addr = Addr::v4(0xA9FE_0001);
/// Source address assumed for internet and internet-gateway sources.
pub const INTERNET_SOURCE: Addr = Addr::v4(0x0808_0808);
/// Source port assumed for TCP/UDP when the query gives none (the lowest IANA ephemeral port,
/// as Batfish does).
pub const DEFAULT_SOURCE_PORT: u16 = 49152;
/// Id naming the internet as a source or destination.
pub const INTERNET: &str = "internet";

const MAX_HOPS: usize = 64;

/// One end of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A resource id: instance, ENI, internet gateway, peering connection, transit-gateway
    /// attachment, NAT gateway, VPN gateway, VPC endpoint, subnet, VPC, or `internet`.
    Id(String),
    /// An address: an ENI's private or public address, or any internet address.
    Ip(IpAddr),
}

impl Endpoint {
    /// `i-…`/`eni-…`/… as an id, an address literal as an address.
    pub fn parse(s: &str) -> Self {
        match s.trim().parse::<IpAddr>() {
            Ok(ip) => Endpoint::Ip(ip),
            Err(_) => Endpoint::Id(s.trim().to_string()),
        }
    }
}

/// A reachability question: a concrete packet from `source` to `destination`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub source: Endpoint,
    pub destination: Endpoint,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, …; 0 is Batfish's "any flow").
    pub protocol: u8,
    /// Overrides the source address (default: the source's primary address).
    pub source_address: Option<IpAddr>,
    /// Overrides the destination address (needed for gateway destinations).
    pub destination_address: Option<IpAddr>,
    /// Default [`DEFAULT_SOURCE_PORT`].
    pub source_port: Option<u16>,
    /// Default 0.
    pub destination_port: Option<u16>,
    /// ICMP type and code (default echo request, 8/0).
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
}

impl Query {
    /// TCP from `source` to `destination` (ids or addresses, see [`Endpoint::parse`]).
    pub fn new(source: &str, destination: &str) -> Self {
        Query {
            source: Endpoint::parse(source),
            destination: Endpoint::parse(destination),
            protocol: PROTO_TCP,
            source_address: None,
            destination_address: None,
            source_port: None,
            destination_port: None,
            icmp_type: None,
            icmp_code: None,
        }
    }

    pub fn protocol(mut self, p: u8) -> Self {
        self.protocol = p;
        self
    }

    pub fn port(mut self, p: u16) -> Self {
        self.destination_port = Some(p);
        self
    }

    pub fn source_port(mut self, p: u16) -> Self {
        self.source_port = Some(p);
        self
    }

    pub fn source_address(mut self, a: IpAddr) -> Self {
        self.source_address = Some(a);
        self
    }

    pub fn destination_address(mut self, a: IpAddr) -> Self {
        self.destination_address = Some(a);
        self
    }
}

/// Where a walk starts (resolved from an [`Endpoint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Eni(EniIdx),
    Subnet(usize),
    Vpc(usize),
    Internet,
    /// The AWS services gateway (replies from S3 & co. reached through an IGW).
    Services,
    Igw(usize),
    Vgw(usize),
    Nat(usize),
    Pcx(usize),
    TgwAttachment(usize),
    GatewayEndpoint(usize),
}

/// Where a successful walk ended: the start of the reply.
type Stop = Start;

struct NatSession {
    nat: usize,
    original: Addr,
    original_port: u16,
    translated: Addr,
}

struct Walk<'a> {
    s: &'a Snapshot,
    hops: Vec<PathComponent>,
    expl: Vec<Explanation>,
    reply: bool,
    nat: Vec<NatSession>,
    /// Connections a load balancer forwarded (the reply goes back through its node).
    lb: Vec<elb::LbSession>,
    stop: Option<Stop>,
    packet: Packet,
}

fn port_range(p: u16) -> PortRange {
    PortRange { from: p, to: p }
}

fn header(p: &Packet) -> PacketHeader {
    PacketHeader {
        source_addresses: vec![Cidr::host(p.src).to_string()],
        destination_addresses: vec![Cidr::host(p.dst).to_string()],
        source_port_ranges: if p.has_ports() {
            vec![port_range(p.src_port)]
        } else {
            vec![]
        },
        destination_port_ranges: if p.has_ports() {
            vec![port_range(p.dst_port)]
        } else {
            vec![]
        },
        protocol: protocol_name(p.protocol),
    }
}

impl<'a> Walk<'a> {
    fn new(s: &'a Snapshot, reply: bool, packet: Packet) -> Self {
        Walk {
            s,
            hops: Vec::new(),
            expl: Vec::new(),
            reply,
            nat: Vec::new(),
            lb: Vec::new(),
            stop: None,
            packet,
        }
    }

    fn push(&mut self, c: Component) -> Result<(), Disposition> {
        if self.hops.len() >= MAX_HOPS {
            return Err(Disposition::Loop);
        }
        let mut pc = PathComponent::new(c);
        pc.sequence_number = u32::try_from(self.hops.len() + 1).unwrap_or(u32::MAX);
        self.hops.push(pc);
        Ok(())
    }

    fn last(&mut self) -> Option<&mut PathComponent> {
        self.hops.last_mut()
    }

    fn explain(&mut self, mut e: Explanation) {
        e.path = if self.reply { "return" } else { "forward" };
        self.expl.push(e);
    }

    fn fail(&mut self, d: Disposition, code: ExplanationCode, c: Component) -> Disposition {
        self.explain(Explanation::new(code, c));
        d
    }
}

/// Node name of the AWS backbone in paths (Batfish's `isp_16509`).
pub const BACKBONE: &str = "isp_16509";
/// Node name of the AWS services gateway in paths (Batfish's `__aws-services-gateway__`).
pub const AWS_SERVICES: &str = "__aws-services-gateway__";

/// Answer `q` over `s`: the forward walk, the return walk when the forward one succeeds, and
/// the explanations of whatever blocked. Never panics; unknown ids give an
/// `UNKNOWN_RESOURCE` explanation.
pub fn reach(s: &Snapshot, q: &Query) -> Analysis {
    let blocked = |e: Explanation| Analysis {
        network_path_found: false,
        forward_disposition: Disposition::NoRoute,
        return_disposition: None,
        forward_path_components: vec![],
        return_path_components: vec![],
        explanations: vec![e],
    };
    let (start, default_src) = match resolve_source(s, &q.source) {
        Ok(x) => x,
        Err(e) => return blocked(*e),
    };
    let (mut dst, must_pass) = match resolve_destination(s, &q.destination) {
        Ok(x) => x,
        Err(e) => return blocked(*e),
    };
    // From the internet an instance or ENI is addressed by its public IP (the one its
    // primary private address maps to), as the simulator and AWS do.
    if matches!(start, Start::Internet)
        && let Endpoint::Id(id) = &q.destination
        && let Some(e) = s.eni_idx(id).or_else(|| match s.resolve(id) {
            Some(Resource::LoadBalancer(li)) => s.lb_nodes(li).next(),
            _ => None,
        })
        && let Some(private) = dst
        && let Some(public) = s.eni(e).public_ip_of(private)
    {
        dst = Some(public);
    }
    let Some(dst) = q.destination_address.map(Addr::from_ip).or(dst) else {
        return blocked(Explanation::new(
            ExplanationCode::NoSourceOrDestination,
            Component::new(must_pass.unwrap_or_default(), "destination"),
        ));
    };
    let src = q.source_address.map(Addr::from_ip).unwrap_or(default_src);
    let mut p = Packet::new(q.protocol, src, dst);
    if p.has_ports() {
        p.src_port = q.source_port.unwrap_or(DEFAULT_SOURCE_PORT);
        p.dst_port = q.destination_port.unwrap_or(0);
    } else if p.is_icmp() {
        p.icmp_type = Some(
            q.icmp_type
                .unwrap_or(if p.protocol == PROTO_ICMPV6 { 128 } else { 8 }),
        );
        p.icmp_code = Some(q.icmp_code.unwrap_or(0));
    }
    trace(s, start, p, must_pass.as_deref())
}

/// Walk one packet starting at `eni` (egress), without a return walk: for callers that
/// already have a 5-tuple (the simulator and `explain`).
pub fn trace_packet_from_eni(
    s: &Snapshot,
    eni: EniIdx,
    p: Packet,
) -> (Disposition, Vec<PathComponent>, Vec<Explanation>) {
    let mut w = Walk::new(s, false, p);
    let d = w.run(Start::Eni(eni), p);
    (d, w.hops, w.expl)
}
