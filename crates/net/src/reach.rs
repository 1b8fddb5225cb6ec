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

    fn eni_component(&self, e: EniIdx) -> (Component, Option<Component>) {
        let eni = self.s.eni(e);
        let owner = match &eni.owner {
            EniOwner::Instance(i) => Some(Component::new(i.clone(), "instance")),
            EniOwner::NatGateway(n) => Some(Component::new(n.clone(), "nat-gateway")),
            EniOwner::VpcEndpoint(v) => Some(Component::new(v.clone(), "vpc-endpoint")),
            EniOwner::Other => None,
        };
        (Component::new(eni.id.clone(), "network-interface"), owner)
    }

    fn push_eni(&mut self, e: EniIdx) -> Result<(), Disposition> {
        let (c, owner) = self.eni_component(e);
        self.push(c)?;
        let eni = self.s.eni(e);
        let subnet = Component::new(eni.subnet_id.clone(), "subnet");
        let vpc = Component::new(eni.vpc_id.clone(), "vpc");
        if let Some(h) = self.last() {
            h.attached_to = owner;
            h.subnet = Some(subnet);
            h.vpc = Some(vpc);
        }
        Ok(())
    }

    fn vpc_component(&self, v: usize) -> Component {
        Component::new(self.s.vpcs[v].id.clone(), "vpc")
    }

    fn sg_rule_out(&self, group: SgIdx, dir: Direction, rule: usize) -> Option<SecurityGroupRule> {
        let r = self.s.sg_rule(group, dir, rule)?;
        let (cidr, pl, sg) = match &r.peer {
            SgPeer::Cidr(c) => (Some(c.to_string()), None, None),
            SgPeer::PrefixList(p) => (None, Some(p.clone()), None),
            SgPeer::Group(g) => (None, None, Some(g.clone())),
        };
        let ports = r
            .protocol
            .filter(|p| *p == PROTO_TCP || *p == PROTO_UDP)
            .and(if r.from_port >= 0 {
                Some(PortRange {
                    from: r.from_port as u16,
                    to: r.to_port.max(r.from_port) as u16,
                })
            } else {
                None
            });
        Some(SecurityGroupRule {
            group_id: self.s.security_group(group).id.clone(),
            cidr,
            prefix_list_id: pl,
            security_group_id: sg,
            direction: if dir == Direction::Ingress {
                "ingress"
            } else {
                "egress"
            },
            port_range: ports,
            protocol: r.protocol.map_or_else(|| "all".to_string(), protocol_name),
        })
    }

    /// Security groups of `e` on the current hop; `false` (with an explanation) if denied.
    /// Replies pass: connection tracking. ENIs of NAT gateways have no security groups.
    fn check_sg(&mut self, e: EniIdx, dir: Direction, p: &Packet) -> bool {
        let eni = self.s.eni(e);
        if matches!(eni.owner, EniOwner::NatGateway(_)) {
            return true;
        }
        if self.reply {
            if let Some(h) = self.last() {
                h.additional_details
                    .push("security groups: tracked reply".into());
            }
            return true;
        }
        match self.s.eval_security_groups(e, dir, p) {
            SgDecision::Allowed { group, rule } => {
                let out = self.sg_rule_out(group, dir, rule);
                if let Some(h) = self.last() {
                    h.security_group_rule = out;
                }
                true
            }
            SgDecision::Denied => {
                let (c, _) = self.eni_component(e);
                let mut ex = Explanation::new(ExplanationCode::EniSgRulesMismatch, c.clone());
                ex.direction = Some(if dir == Direction::Ingress {
                    "ingress"
                } else {
                    "egress"
                });
                ex.network_interface = Some(c);
                ex.security_groups = eni
                    .group_ids
                    .iter()
                    .map(|g| Component::new(g.clone(), "security-group"))
                    .collect();
                self.explain(ex);
                false
            }
        }
    }

    /// The NACL of subnet `si` on the current hop; `false` (with an explanation) if denied.
    fn check_nacl(&mut self, si: usize, dir: Direction, p: &Packet) -> bool {
        let Some(n) = self.s.subnets[si].nacl else {
            return true;
        };
        let d = self.s.eval_nacl(n, dir, p);
        let nacl = self.s.nacl(n);
        let entry = self.s.nacl_entry(n, dir, &d);
        let rule = AclRule {
            acl_id: nacl.id.clone(),
            cidr: entry.map_or_else(
                || {
                    if p.src.v6 {
                        Cidr::ANY_V6.to_string()
                    } else {
                        Cidr::ANY_V4.to_string()
                    }
                },
                |e| e.cidr.to_string(),
            ),
            egress: dir == Direction::Egress,
            port_range: entry
                .and_then(|e| e.port_range)
                .map(|(a, b)| PortRange { from: a, to: b }),
            protocol: entry
                .and_then(|e| e.protocol)
                .map_or_else(|| "all".to_string(), protocol_name),
            rule_action: if d.allow { "allow" } else { "deny" },
            rule_number: if entry.is_none() {
                DEFAULT_RULE_NUMBER
            } else {
                d.rule_number
            },
        };
        if let Some(h) = self.last() {
            h.acl_rule = Some(rule.clone());
        }
        if !d.allow {
            let mut ex = Explanation::new(
                ExplanationCode::SubnetAclRestriction,
                Component::new(nacl.id.clone(), "network-acl"),
            );
            ex.direction = Some(if dir == Direction::Ingress {
                "ingress"
            } else {
                "egress"
            });
            ex.acl = Some(Component::new(nacl.id.clone(), "network-acl"));
            ex.acl_rule = Some(rule);
            self.explain(ex);
        }
        d.allow
    }

    // ---- hops ----

    fn leave_eni(&mut self, e: EniIdx, p: Packet) -> Result<Disposition, Disposition> {
        self.push_eni(e)?;
        let eni = self.s.eni(e);
        if !eni.active {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(Disposition::DeniedOut, ExplanationCode::BadState, c));
        }
        if !self.check_sg(e, Direction::Egress, &p) {
            return Ok(Disposition::DeniedOut);
        }
        if eni.source_dest_check
            && !eni.owns(p.src)
            && !matches!(eni.owner, EniOwner::NatGateway(_))
        {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::DeniedOut,
                ExplanationCode::EniSourceDestCheckRestriction,
                c,
            ));
        }
        let Some(si) = eni.subnet else {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        if self.s.subnet(si).contains(p.dst) {
            return self.local_in_subnet(si.get(), p);
        }
        self.subnet_out(si.get(), p)
    }

    /// Same-subnet delivery: no NACL, no route table.
    fn local_in_subnet(&mut self, si: usize, p: Packet) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        let target = sub
            .vpc
            .and_then(|v| self.s.eni_by_private_ip(v, p.dst))
            .filter(|e| self.s.eni(*e).subnet.map(SubnetIdx::get) == Some(si));
        match target {
            Some(t) => self.deliver_eni(t, p),
            None => {
                self.push(Component::new(sub.id.clone(), "subnet"))?;
                Ok(self.fail(
                    Disposition::NeighborUnreachable,
                    ExplanationCode::UnknownDestination,
                    Component::new(sub.id.clone(), "subnet"),
                ))
            }
        }
    }

    fn deliver_eni(&mut self, e: EniIdx, p: Packet) -> Result<Disposition, Disposition> {
        if let EniOwner::NatGateway(n) = &self.s.eni(e).owner
            && let Some(Resource::NatGateway(ni)) = self.s.resolve(n)
        {
            return self.nat_receive(ni, p);
        }
        self.push_eni(e)?;
        if !self.s.eni(e).active {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::NeighborUnreachable,
                ExplanationCode::BadState,
                c,
            ));
        }
        if !self.check_sg(e, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        self.stop = Some(Start::Eni(e));
        self.packet = p;
        Ok(Disposition::Accepted)
    }

    fn subnet_out(&mut self, si: usize, p: Packet) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        self.push(Component::new(sub.id.clone(), "subnet"))?;
        if !self.check_nacl(si, Direction::Egress, &p) {
            return Ok(Disposition::DeniedOut);
        }
        let sub_c = Component::new(sub.id.clone(), "subnet");
        let Some(rt) = sub.route_table else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::NoRouteToDestination,
                sub_c,
            ));
        };
        let table = self.s.route_table(rt);
        let Some(route) = lookup(table, p.dst) else {
            let mut ex = Explanation::new(
                ExplanationCode::NoRouteToDestination,
                Component::new(table.id.clone(), "route-table"),
            );
            ex.route_table = Some(Component::new(table.id.clone(), "route-table"));
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NoRoute);
        };
        let rr = RouteTableRoute {
            route_table_id: table.id.clone(),
            destination_cidr: if route.prefix_list_id.is_none() {
                Some(route.destination.clone())
            } else {
                None
            },
            destination_prefix_list_id: route.prefix_list_id.clone(),
            target: route.target.id().to_string(),
            origin: route.origin.clone(),
            state: if route.blackhole {
                "blackhole"
            } else {
                "active"
            },
        };
        if let Some(h) = self.last() {
            h.route_table_route = Some(rr.clone());
        }
        if route.blackhole {
            let mut ex = Explanation::new(
                ExplanationCode::BadStateRoute,
                Component::new(table.id.clone(), "route-table"),
            );
            ex.route_table = Some(Component::new(table.id.clone(), "route-table"));
            ex.route_table_route = Some(rr);
            self.explain(ex);
            return Ok(Disposition::NullRouted);
        }
        let Some(vi) = sub.vpc.map(VpcIdx::get) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::UnknownResource,
                sub_c,
            ));
        };
        let vpc = &self.s.vpcs[vi];
        match &route.target {
            Target::Local => {
                self.push(self.vpc_component(vi))?;
                self.vpc_deliver(vi, p)
            }
            Target::InternetGateway(id) => {
                if !vpc.internet_gateways.contains(id) {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::IgwNotAttached,
                        Component::new(id.clone(), "internet-gateway"),
                    ));
                }
                self.push(self.vpc_component(vi))?;
                self.igw_out(id, vi, p)
            }
            Target::EgressOnlyInternetGateway(id) => {
                if !vpc.egress_only_gateways.contains(id) {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadStateAttachment,
                        Component::new(id.clone(), "egress-only-internet-gateway"),
                    ));
                }
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "egress-only-internet-gateway"))?;
                self.push(Component::new(BACKBONE, "aws-backbone"))?;
                self.isp_route(p, false)
            }
            Target::NatGateway(id) => {
                let Some(Resource::NatGateway(ni)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "nat-gateway"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.nat_forward(ni, p)
            }
            Target::TransitGateway(id) => {
                let att = self.s.tgw_attachments.iter().find(|a| {
                    &a.tgw_id == id && a.resource_type == "vpc" && a.resource_id == vpc.id
                });
                let Some(att) = att else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadStateAttachment,
                        Component::new(id.clone(), "transit-gateway"),
                    ));
                };
                let az_ok = att.subnet_ids.is_empty()
                    || att.subnet_ids.iter().any(|s| {
                        self.s.subnet_idx(s).is_some_and(|x| {
                            self.s.subnet(x).availability_zone == sub.availability_zone
                        })
                    });
                if !az_ok {
                    let mut ex = Explanation::new(
                        ExplanationCode::TgwAttachVpcAzRestriction,
                        Component::new(att.id.clone(), "transit-gateway-attachment"),
                    );
                    ex.address = Some(sub.availability_zone.clone());
                    self.explain(ex);
                    return Ok(Disposition::NullRouted);
                }
                let att_id = att.id.clone();
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment =
                        Some(Component::new(att_id.clone(), "transit-gateway-attachment"));
                }
                self.tgw_route(id, &att_id, p)
            }
            Target::VpcPeeringConnection(id) => {
                let Some(Resource::Peering(pi)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpc-peering-connection"),
                    ));
                };
                let pcx = &self.s.peerings[pi];
                self.push(self.vpc_component(vi))?;
                if !pcx.active {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadState,
                        Component::new(id.clone(), "vpc-peering-connection"),
                    ));
                }
                self.cross_peering(pi, &vpc.id, p)
            }
            Target::VpnGateway(id) => {
                let Some(Resource::VpnGateway(gi)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpn-gateway"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "vpn-gateway"))?;
                self.vgw_route(gi, p)
            }
            Target::GatewayEndpoint(id) => {
                let Some(Resource::VpcEndpoint(ei)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpc-endpoint"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "vpc-endpoint"))?;
                if !(p.protocol == PROTO_TCP || p.is_icmp()) {
                    return Ok(self.fail(
                        Disposition::DeniedIn,
                        ExplanationCode::VpceGatewayProtocolRestriction,
                        Component::new(id.clone(), "vpc-endpoint"),
                    ));
                }
                self.stop = Some(Start::GatewayEndpoint(ei));
                self.packet = p;
                Ok(Disposition::ExitsNetwork)
            }
            Target::NetworkInterface(id) | Target::Instance(id) => {
                let Some(e) = self.s.eni_idx(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "network-interface"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.via_appliance(e, p)
            }
            Target::Other(id) => Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::UnsupportedComponent,
                Component::new(id.clone(), "gateway"),
            )),
        }
    }

    /// A route to an ENI (middlebox): the packet enters the appliance, which is assumed to
    /// forward it unchanged; that needs source/destination check off.
    fn via_appliance(&mut self, e: EniIdx, p: Packet) -> Result<Disposition, Disposition> {
        if self.s.eni(e).owns(p.dst) {
            return self.deliver_eni(e, p);
        }
        self.push_eni(e)?;
        if !self.check_sg(e, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        if self.s.eni(e).source_dest_check {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::EniSourceDestCheckRestriction,
                c,
            ));
        }
        self.hops.pop();
        self.leave_eni(e, p)
    }

    fn vpc_deliver(&mut self, vi: usize, p: Packet) -> Result<Disposition, Disposition> {
        let vpc = &self.s.vpcs[vi];
        match self.s.subnet_containing(ix(vi), p.dst) {
            Some(si) => self.subnet_in(si.get(), p),
            None if vpc.cidrs.iter().any(|c| c.contains(p.dst)) => Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                self.vpc_component(vi),
            )),
            None => Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::NoRouteToDestination,
                self.vpc_component(vi),
            )),
        }
    }

    fn subnet_in(&mut self, si: usize, p: Packet) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        self.push(Component::new(sub.id.clone(), "subnet"))?;
        if !self.check_nacl(si, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        let target = sub.vpc.and_then(|v| self.s.eni_by_private_ip(v, p.dst));
        match target {
            Some(t) => self.deliver_eni(t, p),
            None => Ok(self.fail(
                Disposition::NeighborUnreachable,
                ExplanationCode::UnknownDestination,
                Component::new(sub.id.clone(), "subnet"),
            )),
        }
    }

    fn cross_peering(
        &mut self,
        pi: usize,
        from_vpc: &str,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        let pcx = &self.s.peerings[pi];
        let pcx_c = Component::new(pcx.id.clone(), "vpc-peering-connection");
        self.push(pcx_c.clone())?;
        let Some(other) = pcx.other_side(from_vpc) else {
            return Ok(self.fail(Disposition::NullRouted, ExplanationCode::BadState, pcx_c));
        };
        if !other.cidrs.iter().any(|c| c.contains(p.dst)) {
            let mut ex = Explanation::new(ExplanationCode::PcxRequiresAddressInVpcCidr, pcx_c);
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NullRouted);
        }
        let Some(ov) = self.s.vpc_idx(&other.vpc_id) else {
            // The peer VPC is outside the snapshot: the packet leaves what we can see.
            self.stop = None;
            self.packet = p;
            return Ok(self.fail(
                Disposition::ExitsNetwork,
                ExplanationCode::UnknownDestination,
                Component::new(other.vpc_id.clone(), "vpc"),
            ));
        };
        self.push(self.vpc_component(ov.get()))?;
        self.vpc_deliver(ov.get(), p)
    }

    fn igw_out(&mut self, igw: &str, vi: usize, mut p: Packet) -> Result<Disposition, Disposition> {
        self.push(Component::new(igw, "internet-gateway"))?;
        if !p.src.v6 {
            let public = self
                .s
                .eni_by_private_ip(ix(vi), p.src)
                .and_then(|e| self.s.eni(e).public_ip_of(p.src));
            let Some(public) = public else {
                let mut ex = Explanation::new(
                    ExplanationCode::IgwPublicIpAssociationForEgress,
                    Component::new(igw, "internet-gateway"),
                );
                ex.address = Some(p.src.to_string());
                self.explain(ex);
                return Ok(Disposition::DeniedIn);
            };
            p.src = public;
            let h = header(&p);
            if let Some(hop) = self.last() {
                hop.outbound_header = Some(h);
            }
        }
        self.push(Component::new(BACKBONE, "aws-backbone"))?;
        self.isp_route(p, false)
    }

    /// The AWS backbone (`isp_16509`): public addresses of the snapshot go to their IGW,
    /// VGW tunnel endpoints to the VGW; other AWS space is dropped when it comes from the
    /// internet and handed to the AWS services gateway when it comes from inside; the rest
    /// goes to the internet.
    fn isp_route(&mut self, p: Packet, from_internet: bool) -> Result<Disposition, Disposition> {
        if let Some((e, _)) = self.s.eni_by_public_ip(p.dst) {
            let vpc = self.s.vpc_idx(&self.s.eni(e).vpc_id);
            let igw = vpc.and_then(|v| self.s.vpcs[v.get()].internet_gateways.first().cloned());
            return match (vpc, igw) {
                (Some(v), Some(g)) => self.igw_in(&g, v.get(), p),
                _ => {
                    let mut ex = Explanation::new(
                        ExplanationCode::IgwNotAttached,
                        Component::new(self.s.eni(e).vpc_id.clone(), "vpc"),
                    );
                    ex.address = Some(p.dst.to_string());
                    self.explain(ex);
                    Ok(Disposition::NullRouted)
                }
            };
        }
        if let Some(gi) = self
            .s
            .vpn_gateways
            .iter()
            .position(|g| g.outside_ips.contains(&p.dst))
        {
            self.push(Component::new(
                self.s.vpn_gateways[gi].id.clone(),
                "vpn-gateway",
            ))?;
            self.stop = Some(Start::Vgw(gi));
            self.packet = p;
            return Ok(Disposition::Accepted);
        }
        let in_services = self
            .s
            .aws_service_prefixes
            .iter()
            .any(|c| c.contains(p.dst));
        let in_aws = in_services || self.s.aws_prefixes.iter().any(|c| c.contains(p.dst));
        if in_aws {
            if from_internet && !in_services {
                return Ok(self.fail(
                    Disposition::NullRouted,
                    ExplanationCode::UnknownDestination,
                    Component::new(BACKBONE, "aws-backbone"),
                ));
            }
            self.push(Component::new(AWS_SERVICES, "aws-services"))?;
            self.stop = Some(Start::Services);
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        self.push(Component::new(INTERNET, "internet"))?;
        if is_non_internet(p.dst) {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                Component::new(INTERNET, "internet"),
            ));
        }
        self.stop = Some(Start::Internet);
        self.packet = p;
        Ok(Disposition::ExitsNetwork)
    }

    fn enter_from_internet(&mut self, p: Packet) -> Result<Disposition, Disposition> {
        self.push(Component::new(INTERNET, "internet"))?;
        if is_non_internet(p.dst) {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                Component::new(INTERNET, "internet"),
            ));
        }
        let aws = self.s.eni_by_public_ip(p.dst).is_some()
            || self
                .s
                .vpn_gateways
                .iter()
                .any(|g| g.outside_ips.contains(&p.dst))
            || self
                .s
                .aws_service_prefixes
                .iter()
                .any(|c| c.contains(p.dst))
            || self.s.aws_prefixes.iter().any(|c| c.contains(p.dst));
        if !aws {
            self.stop = Some(Start::Internet);
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        self.push(Component::new(BACKBONE, "aws-backbone"))?;
        self.isp_route(p, true)
    }

    fn igw_in(&mut self, igw: &str, vi: usize, mut p: Packet) -> Result<Disposition, Disposition> {
        self.push(Component::new(igw, "internet-gateway"))?;
        if let Some((_, private)) = self.s.eni_by_public_ip(p.dst) {
            p.dst = private;
            let h = header(&p);
            if let Some(hop) = self.last() {
                hop.outbound_header = Some(h);
            }
        } else if !p.dst.v6 {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::IgwPrivateIpAssociationForIngress,
                Component::new(igw, "internet-gateway"),
            ));
        }
        self.push(self.vpc_component(vi))?;
        self.vpc_deliver(vi, p)
    }

    /// A packet routed to a NAT gateway (from another subnet of its VPC).
    fn nat_forward(&mut self, ni: usize, mut p: Packet) -> Result<Disposition, Disposition> {
        let nat = &self.s.nat_gateways[ni];
        let c = Component::new(nat.id.clone(), "nat-gateway");
        self.push(c.clone())?;
        if let Some(si) = nat.subnet
            && !self.s.subnet(si).contains(p.src)
            && !self.check_nacl(si.get(), Direction::Ingress, &p)
        {
            return Ok(Disposition::DeniedIn);
        }
        if !nat.available {
            return Ok(self.fail(Disposition::DeniedIn, ExplanationCode::BadState, c));
        }
        if !(p.has_ports() || p.is_icmp()) {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::ProtocolRestriction,
                c,
            ));
        }
        let in_vpc = self
            .s
            .vpc(&nat.vpc_id)
            .is_some_and(|v| v.cidrs.iter().any(|x| x.contains(p.src)));
        if !in_vpc {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::NgwRequiresSourceInVpc,
                c,
            ));
        }
        let Some(nat_ip) = nat.private_ip else {
            return Ok(self.fail(Disposition::DeniedIn, ExplanationCode::BadState, c));
        };
        if p.dst == nat_ip || Some(p.dst) == nat.public_ip {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::UnknownDestination,
                c,
            ));
        }
        self.nat.push(NatSession {
            nat: ni,
            original: p.src,
            original_port: p.src_port,
            translated: nat_ip,
        });
        p.src = nat_ip;
        let h = header(&p);
        if let Some(hop) = self.last() {
            hop.outbound_header = Some(h);
        }
        let Some(si) = nat.subnet else {
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        self.subnet_out(si.get(), p)
    }

    /// A packet addressed to a NAT gateway's own address: only replies of its sessions pass.
    fn nat_receive(&mut self, ni: usize, mut p: Packet) -> Result<Disposition, Disposition> {
        let nat = &self.s.nat_gateways[ni];
        let c = Component::new(nat.id.clone(), "nat-gateway");
        self.push(c.clone())?;
        let session = if self.reply {
            self.nat
                .iter()
                .find(|s| s.nat == ni && s.translated == p.dst)
        } else {
            None
        };
        let Some(session) = session else {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::UnknownDestination,
                c,
            ));
        };
        p.dst = session.original;
        p.dst_port = session.original_port;
        let h = header(&p);
        if let Some(hop) = self.last() {
            hop.outbound_header = Some(h);
        }
        if let Some(si) = nat.subnet {
            if !self.s.subnet(si).contains(p.dst)
                && !self.check_nacl(si.get(), Direction::Egress, &p)
            {
                return Ok(Disposition::DeniedOut);
            }
            if self.s.subnet(si).contains(p.dst) {
                return self.local_in_subnet(si.get(), p);
            }
        }
        let Some(vi) = self.s.vpc_idx(&nat.vpc_id) else {
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        self.push(self.vpc_component(vi.get()))?;
        self.vpc_deliver(vi.get(), p)
    }

    fn tgw_route(
        &mut self,
        tgw: &str,
        in_att: &str,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        let tgw_c = Component::new(tgw, "transit-gateway");
        if let Some(Resource::TransitGateway(t)) = self.s.resolve(tgw)
            && !self.s.transit_gateways[t].available
        {
            return Ok(self.fail(Disposition::NullRouted, ExplanationCode::BadState, tgw_c));
        }
        let Some(att) = self.s.tgw_attachment(tgw, in_att) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::BadStateAttachment,
                Component::new(in_att, "transit-gateway-attachment"),
            ));
        };
        let Some(rt_id) = att.route_table.clone() else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::TgwAttachMissingTgwRtbAssociation,
                Component::new(in_att, "transit-gateway-attachment"),
            ));
        };
        let Some(Resource::TgwRouteTable(ti)) = self.s.resolve(&rt_id) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::TgwRtbCannotRoute,
                Component::new(rt_id, "transit-gateway-route-table"),
            ));
        };
        let table = &self.s.tgw_route_tables[ti];
        let Some(route) = lookup_tgw(table, p.dst) else {
            let mut ex = Explanation::new(
                ExplanationCode::TgwRtbCannotRoute,
                Component::new(rt_id, "transit-gateway-route-table"),
            );
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NoRoute);
        };
        let rr = TransitGatewayRouteTableRoute {
            route_table_id: table.id.clone(),
            destination_cidr: route.cidr.to_string(),
            attachment_id: route.attachment.clone(),
            route_origin: if route.propagated {
                "propagated"
            } else {
                "static"
            },
            state: if route.blackhole {
                "blackhole"
            } else {
                "active"
            },
        };
        if let Some(h) = self.last() {
            h.transit_gateway_route_table_route = Some(rr);
        }
        let Some(out_att) = route.attachment.clone().filter(|_| !route.blackhole) else {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::TgwRtbBadStateRoute,
                Component::new(table.id.clone(), "transit-gateway-route-table"),
            ));
        };
        let Some(a2) = self.s.tgw_attachment(tgw, &out_att) else {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::BadStateAttachment,
                Component::new(out_att, "transit-gateway-attachment"),
            ));
        };
        match a2.resource_type.as_str() {
            "vpc" => {
                let Some(v) = self.s.vpc_idx(&a2.resource_id) else {
                    self.packet = p;
                    return Ok(self.fail(
                        Disposition::ExitsNetwork,
                        ExplanationCode::UnknownDestination,
                        Component::new(a2.resource_id.clone(), "vpc"),
                    ));
                };
                self.push(self.vpc_component(v.get()))?;
                self.vpc_deliver(v.get(), p)
            }
            "peering" => {
                let peer = a2.resource_id.clone();
                self.push(Component::new(peer.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment = Some(Component::new(
                        out_att.clone(),
                        "transit-gateway-attachment",
                    ));
                }
                self.tgw_route(&peer, &out_att, p)
            }
            other => {
                // VPN, Direct Connect, Connect: the packet leaves toward a network we do not model.
                if let Some(h) = self.last() {
                    h.additional_details
                        .push(format!("leaves through a {other} attachment {out_att}"));
                }
                self.packet = p;
                Ok(Disposition::ExitsNetwork)
            }
        }
    }

    /// A packet at a VPN gateway from its VPC: static VPN routes lead out.
    fn vgw_route(&mut self, gi: usize, p: Packet) -> Result<Disposition, Disposition> {
        let g = &self.s.vpn_gateways[gi];
        if g.vpn_routes.iter().any(|(c, _)| c.contains(p.dst)) {
            self.stop = Some(Start::Vgw(gi));
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        Ok(self.fail(
            Disposition::NoRoute,
            ExplanationCode::NoRouteToDestination,
            Component::new(g.id.clone(), "vpn-gateway"),
        ))
    }

    /// A packet entering a VPN gateway from the customer side (or the backbone).
    fn enter_from_vgw(&mut self, gi: usize, p: Packet) -> Result<Disposition, Disposition> {
        let g = &self.s.vpn_gateways[gi];
        self.push(Component::new(g.id.clone(), "vpn-gateway"))?;
        for v in &g.vpc_ids {
            if let Some(vi) = self.s.vpc_idx(v)
                && self.s.vpcs[vi.get()]
                    .cidrs
                    .iter()
                    .any(|c| c.contains(p.dst))
            {
                self.push(self.vpc_component(vi.get()))?;
                return self.vpc_deliver(vi.get(), p);
            }
        }
        self.vgw_route(gi, p)
    }

    fn start(&mut self, at: Start, p: Packet) -> Result<Disposition, Disposition> {
        match at {
            Start::Eni(e) => self.leave_eni(e, p),
            Start::Subnet(si) => {
                if self.s.subnets[si].contains(p.dst) {
                    self.push(Component::new(self.s.subnets[si].id.clone(), "subnet"))?;
                    let t = self.s.subnets[si]
                        .vpc
                        .and_then(|v| self.s.eni_by_private_ip(v, p.dst));
                    return match t {
                        Some(t) => self.deliver_eni(t, p),
                        None => Ok(self.fail(
                            Disposition::NeighborUnreachable,
                            ExplanationCode::UnknownDestination,
                            Component::new(self.s.subnets[si].id.clone(), "subnet"),
                        )),
                    };
                }
                self.subnet_out(si, p)
            }
            Start::Vpc(vi) => {
                self.push(self.vpc_component(vi))?;
                self.vpc_deliver(vi, p)
            }
            Start::Internet => self.enter_from_internet(p),
            Start::Services => {
                self.push(Component::new(AWS_SERVICES, "aws-services"))?;
                self.push(Component::new(BACKBONE, "aws-backbone"))?;
                self.isp_route(p, false)
            }
            Start::Igw(gi) => {
                let g = &self.s.internet_gateways[gi];
                let Some(vi) = g.vpc_ids.first().and_then(|v| self.s.vpc_idx(v)) else {
                    self.push(Component::new(g.id.clone(), "internet-gateway"))?;
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::IgwNotAttached,
                        Component::new(g.id.clone(), "internet-gateway"),
                    ));
                };
                let mut p = p;
                // A private destination: use its public address, as the internet would.
                if let Some(e) = self.s.eni_by_private_ip(vi, p.dst)
                    && let Some(public) = self.s.eni(e).public_ip_of(p.dst)
                {
                    p.dst = public;
                }
                let id = g.id.clone();
                self.igw_in(&id, vi.get(), p)
            }
            Start::Vgw(gi) => self.enter_from_vgw(gi, p),
            Start::Nat(ni) => match self.s.nat_gateways[ni].eni {
                Some(e) => self.leave_eni(e, p),
                None => Ok(self.fail(
                    Disposition::NoRoute,
                    ExplanationCode::BadState,
                    Component::new(self.s.nat_gateways[ni].id.clone(), "nat-gateway"),
                )),
            },
            Start::Pcx(pi) => {
                let pcx = &self.s.peerings[pi];
                // Enter the side whose CIDRs hold the destination.
                let side = if pcx.requester.cidrs.iter().any(|c| c.contains(p.dst)) {
                    &pcx.accepter
                } else {
                    &pcx.requester
                };
                let from = side.vpc_id.clone();
                self.cross_peering(pi, &from, p)
            }
            Start::TgwAttachment(ai) => {
                let a = &self.s.tgw_attachments[ai];
                let (tgw, id) = (a.tgw_id.clone(), a.id.clone());
                self.push(Component::new(tgw.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment =
                        Some(Component::new(id.clone(), "transit-gateway-attachment"));
                }
                self.tgw_route(&tgw, &id, p)
            }
            Start::GatewayEndpoint(ei) => {
                let ep = &self.s.vpc_endpoints[ei];
                self.push(Component::new(ep.id.clone(), "vpc-endpoint"))?;
                let Some(vi) = self.s.vpc_idx(&ep.vpc_id) else {
                    return Ok(self.fail(
                        Disposition::NoRoute,
                        ExplanationCode::UnknownResource,
                        Component::new(ep.vpc_id.clone(), "vpc"),
                    ));
                };
                self.push(self.vpc_component(vi.get()))?;
                self.vpc_deliver(vi.get(), p)
            }
        }
    }

    fn run(&mut self, at: Start, p: Packet) -> Disposition {
        self.packet = p;
        match self.start(at, p) {
            Ok(d) | Err(d) => d,
        }
    }
}

/// Node name of the AWS backbone in paths (Batfish's `isp_16509`).
pub const BACKBONE: &str = "isp_16509";
/// Node name of the AWS services gateway in paths (Batfish's `__aws-services-gateway__`).
pub const AWS_SERVICES: &str = "__aws-services-gateway__";

/// Resolve an endpoint as a source: where the walk starts and the default source address.
fn resolve_source(s: &Snapshot, e: &Endpoint) -> Result<(Start, Addr), Box<Explanation>> {
    match e {
        Endpoint::Ip(ip) => {
            let a = Addr::from_ip(*ip);
            if let Some((eni, private)) = s.eni_by_public_ip(a) {
                return Ok((Start::Eni(eni), private));
            }
            if let Some(eni) = s.eni_by_any_private_ip(a) {
                return Ok((Start::Eni(eni), a));
            }
            Ok((Start::Internet, a))
        }
        Endpoint::Id(id) if id == INTERNET => Ok((Start::Internet, INTERNET_SOURCE)),
        Endpoint::Id(id) => {
            let unknown = || {
                Box::new(Explanation::new(
                    ExplanationCode::UnknownResource,
                    Component::new(id.clone(), "unknown"),
                ))
            };
            let r = s.resolve(id).ok_or_else(unknown)?;
            let eni_start = |e: EniIdx| s.eni(e).primary_ip().map(|a| (Start::Eni(e), a));
            let res = match r {
                Resource::Instance(_) | Resource::Eni(_) => s.eni_idx(id).and_then(eni_start),
                Resource::Subnet(i) => Some((Start::Subnet(i), LINK_LOCAL_SOURCE)),
                Resource::Vpc(i) => Some((Start::Vpc(i), LINK_LOCAL_SOURCE)),
                Resource::InternetGateway(i) => Some((Start::Igw(i), INTERNET_SOURCE)),
                Resource::VpnGateway(i) => Some((Start::Vgw(i), LINK_LOCAL_SOURCE)),
                Resource::NatGateway(i) => s.nat_gateways[i].private_ip.map(|a| (Start::Nat(i), a)),
                Resource::Peering(i) => Some((Start::Pcx(i), LINK_LOCAL_SOURCE)),
                Resource::TgwAttachment(i) => Some((Start::TgwAttachment(i), LINK_LOCAL_SOURCE)),
                Resource::VpcEndpoint(i) => Some((Start::GatewayEndpoint(i), LINK_LOCAL_SOURCE)),
                _ => None,
            };
            res.ok_or_else(|| {
                Box::new(Explanation::new(
                    ExplanationCode::UnsupportedComponent,
                    Component::new(id.clone(), r.kind()),
                ))
            })
        }
    }
}

/// Resolve an endpoint as a destination: its address and, for components that are reached
/// rather than addressed (gateways, attachments), the id the path must pass.
fn resolve_destination(
    s: &Snapshot,
    e: &Endpoint,
) -> Result<(Option<Addr>, Option<String>), Box<Explanation>> {
    match e {
        Endpoint::Ip(ip) => Ok((Some(Addr::from_ip(*ip)), None)),
        Endpoint::Id(id) if id == INTERNET => Ok((Some(INTERNET_SOURCE), None)),
        Endpoint::Id(id) => {
            let r = s.resolve(id).ok_or_else(|| {
                Box::new(Explanation::new(
                    ExplanationCode::UnknownResource,
                    Component::new(id.clone(), "unknown"),
                ))
            })?;
            Ok(match r {
                Resource::Instance(_) | Resource::Eni(_) => (
                    s.eni_idx(id).and_then(|e| s.eni(e).primary_ip()),
                    Some(id.clone()),
                ),
                Resource::NatGateway(i) => (s.nat_gateways[i].private_ip, Some(id.clone())),
                Resource::InternetGateway(_) => (Some(INTERNET_SOURCE), Some(id.clone())),
                Resource::Peering(i) => (
                    s.peerings[i].accepter.cidrs.first().map(|c| c.nth(4)),
                    Some(id.clone()),
                ),
                Resource::TgwAttachment(i) => {
                    let a = &s.tgw_attachments[i];
                    (
                        s.vpc(&a.resource_id)
                            .and_then(|v| v.cidrs.first())
                            .map(|c| c.nth(4)),
                        Some(id.clone()),
                    )
                }
                Resource::Subnet(i) => (
                    s.subnets[i].cidrs.first().map(|c| c.nth(4)),
                    Some(id.clone()),
                ),
                Resource::Vpc(i) => (s.vpcs[i].cidrs.first().map(|c| c.nth(4)), Some(id.clone())),
                Resource::VpnGateway(_)
                | Resource::VpcEndpoint(_)
                | Resource::TransitGateway(_) => (None, Some(id.clone())),
                _ => {
                    return Err(Box::new(Explanation::new(
                        ExplanationCode::UnsupportedComponent,
                        Component::new(id.clone(), r.kind()),
                    )));
                }
            })
        }
    }
}

fn mentions(hops: &[PathComponent], id: &str) -> bool {
    hops.iter().any(|h| {
        h.component.id == id
            || h.attached_to.as_ref().is_some_and(|c| c.id == id)
            || h.transit_gateway_attachment
                .as_ref()
                .is_some_and(|c| c.id == id)
    })
}

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
    let (dst, must_pass) = match resolve_destination(s, &q.destination) {
        Ok(x) => x,
        Err(e) => return blocked(*e),
    };
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

fn trace(s: &Snapshot, start: Start, p: Packet, must_pass: Option<&str>) -> Analysis {
    let mut fwd = Walk::new(s, false, p);
    let fd = fwd.run(start, p);
    let reached = fd.is_success() && must_pass.is_none_or(|id| mentions(&fwd.hops, id));
    let mut explanations = std::mem::take(&mut fwd.expl);
    let (mut ret_hops, mut rd) = (vec![], None);
    let mut ok = false;
    if fd.is_success() {
        if let Some(stop) = fwd.stop {
            let mut back = Walk::new(s, true, fwd.packet.reversed());
            back.nat = std::mem::take(&mut fwd.nat);
            let d = back.run(stop, fwd.packet.reversed());
            ok = d.is_success();
            rd = Some(d);
            ret_hops = back.hops;
            explanations.extend(back.expl);
        } else {
            // Left into something outside the snapshot: no reply to walk.
            ok = true;
        }
    }
    if fd.is_success()
        && !reached
        && let Some(id) = must_pass
    {
        explanations.push(Explanation::new(
            ExplanationCode::NoRouteToDestination,
            Component::new(id, "destination"),
        ));
    }
    Analysis {
        network_path_found: reached && ok,
        forward_disposition: fd,
        return_disposition: rd,
        forward_path_components: fwd.hops,
        return_path_components: ret_hops,
        explanations,
    }
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
