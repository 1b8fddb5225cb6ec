//! The symbolic walk: the same hops as [`mod@crate::reach`] (ENI → subnet → VPC router → gateway /
//! peer / transit gateway → subnet → ENI), but carrying a [`HeaderSet`] instead of one packet.
//! At each security group or NACL the set is intersected with what the rules admit; at each
//! route table it is partitioned by destination among the routes. Every branch that arrives
//! somewhere becomes a [`RawPath`] with the headers that arrive, in the coordinates of the
//! source (NAT and IGW translations undone).

use std::collections::HashMap;

use crate::access::eval::*;
use crate::access::space::*;
use crate::analysis::TransitGatewayRouteTableRoute;
use crate::analysis::{
    AclRule, Component, PacketHeader, PathComponent, PortRange, RouteTableRoute,
};
use crate::model::*;
use crate::nacl::DEFAULT_RULE_NUMBER;
use crate::packet::{Direction, PROTO_TCP, PROTO_UDP, protocol_name};
use crate::reach::explain::sg_rule_view;

/// Bound on nested gateways (NAT then IGW, TGW peering chains).
const MAX_DEPTH: usize = 8;

mod elb;
mod gateways;

/// Where a path starts or ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// The internet, entering through this internet gateway.
    Internet(String),
    Eni(EniIdx),
    /// Leaving to the internet through this internet gateway.
    Igw(String),
    Vgw(String),
    Endpoint(String),
    /// Leaving through a TGW attachment the model does not follow (VPN, Direct Connect, …).
    Attachment(String),
    /// A peer VPC outside the snapshot, through this peering connection.
    Peering(String),
}

#[derive(Clone, Debug)]
pub(crate) struct RawPath {
    pub source: Node,
    pub destination: Node,
    pub hops: Vec<PathComponent>,
    pub set: HeaderSet,
}

/// Which ends the scope can use (computed from its resource statements, to prune the walk).
pub(crate) struct Wanted {
    pub eni: Vec<bool>,
    pub gateways: bool,
}

pub(crate) struct Engine<'a> {
    pub s: &'a Snapshot,
    pub wanted: Wanted,
    hops: Vec<PathComponent>,
    /// The source of the walk under way and how to undo translations at the end.
    source: Option<Node>,
    orig_src: Option<u32>,
    orig_dst: Option<u32>,
    /// The destination port before a load balancer rewrote it to the target's.
    orig_dport: Option<u32>,
    sg_cache: HashMap<(Vec<SgIdx>, bool), SgAllow>,
    nacl_cache: HashMap<(usize, bool), NaclAllow>,
    rt_cache: HashMap<usize, Vec<(u32, u32, usize)>>,
    tgw_cache: HashMap<usize, Vec<(u32, u32, usize)>>,
    pub out: Vec<RawPath>,
}

fn tcp_udp() -> HeaderSet {
    HeaderSet::from_cubes(
        [PROTO_TCP, PROTO_UDP]
            .iter()
            .filter_map(|&p| Cube::FULL.with(PROTO, u32::from(p), u32::from(p))),
    )
}

fn v4(a: Addr) -> Option<u32> {
    if a.v6 {
        None
    } else {
        u32::try_from(a.bits).ok()
    }
}

use crate::ip::Addr;

/// The IPv4 addresses of an ENI, as merged ranges.
fn own_ranges(eni: &Eni) -> Vec<(u32, u32)> {
    merge(
        eni.private_ips
            .iter()
            .filter_map(|a| v4(*a).map(|b| (b, b)))
            .collect(),
    )
}

fn ranges_of(cidrs: &[crate::ip::Cidr]) -> Vec<(u32, u32)> {
    merge(cidrs.iter().filter_map(cidr_range).collect())
}

impl<'a> Engine<'a> {
    pub fn new(s: &'a Snapshot, wanted: Wanted) -> Self {
        Engine {
            s,
            wanted,
            hops: Vec::new(),
            source: None,
            orig_src: None,
            orig_dst: None,
            orig_dport: None,
            sg_cache: HashMap::new(),
            nacl_cache: HashMap::new(),
            rt_cache: HashMap::new(),
            tgw_cache: HashMap::new(),
            out: Vec::new(),
        }
    }

    // ---- starts ----

    /// Every path from the internet: to each ENI with a public IPv4 address, through its
    /// VPC's internet gateway (reach's choice of IGW), as the internet addresses it.
    pub fn walk_from_internet(&mut self) {
        let s = self.s;
        let inet = tcp_udp().restrict_ranges(SRC, &internet_v4());
        for (ei, eni) in s.enis.iter().enumerate() {
            if eni.public_ips.is_empty()
                || !self.walks_to(EniIdx(ei as u32))
                || !eni.active
                || matches!(eni.owner, EniOwner::NatGateway(_))
            {
                continue;
            }
            let Some(vi) = s.vpc_idx(&eni.vpc_id) else {
                continue;
            };
            let Some(igw) = s.vpcs[vi.get()].internet_gateways.first().cloned() else {
                continue;
            };
            let Some(si) = eni.subnet else { continue };
            for &(private, public) in &eni.public_ips {
                let (Some(pv), Some(pb)) = (v4(private), v4(public)) else {
                    continue;
                };
                self.source = Some(Node::Internet(igw.clone()));
                self.orig_src = None;
                self.orig_dst = Some(pb);
                let set = inet.restrict(DST, pv, pv);
                self.hops.clear();
                self.push(Component::new(crate::reach::INTERNET, "internet"));
                self.push(Component::new(igw.clone(), "internet-gateway"));
                if let Some(h) = self.hops.last_mut() {
                    h.outbound_header = Some(PacketHeader {
                        source_addresses: vec![],
                        destination_addresses: vec![private.to_string()],
                        source_port_ranges: vec![],
                        destination_port_ranges: vec![],
                        protocol: "tcp/udp".into(),
                    });
                }
                self.push(Component::new(eni.vpc_id.clone(), "vpc"));
                self.subnet_in(si.get(), set, Some(EniIdx(ei as u32)));
            }
        }
    }

    /// Every path from each private IPv4 address of ENI `e`.
    pub fn walk_from_eni(&mut self, e: EniIdx) {
        let s = self.s;
        let eni = s.eni(e);
        if !eni.active || matches!(eni.owner, EniOwner::NatGateway(_)) {
            return;
        }
        let Some(si) = eni.subnet else { return };
        for &a in &eni.private_ips {
            let Some(av) = v4(a) else { continue };
            self.source = Some(Node::Eni(e));
            self.orig_src = Some(av);
            self.orig_dst = None;
            self.hops.clear();
            let set = tcp_udp().restrict(SRC, av, av);
            self.push_eni(e);
            let set = self.sg(e, Direction::Egress, set);
            if set.is_empty() {
                continue;
            }
            let sub = s.subnet(si);
            let own = ranges_of(&sub.cidrs);
            let local = set.restrict_ranges(DST, &own);
            if !local.is_empty() {
                for &t in &sub.enis {
                    if t != e {
                        self.deliver(t, &local);
                    }
                }
            }
            let rest = set.subtract(&HeaderSet::from_cubes(
                own.iter()
                    .filter_map(|&(lo, hi)| Cube::FULL.with(DST, lo, hi)),
            ));
            self.subnet_out(si.get(), rest, 0);
        }
    }

    // ---- hops ----

    /// Whether a walk into ENI `e` can end somewhere the scope wants: `e` itself is a wanted
    /// destination, or a load balancer node that forwards on.
    fn walks_to(&self, e: EniIdx) -> bool {
        self.wanted.eni.get(e.get()).copied().unwrap_or(false)
            || matches!(self.s.eni(e).owner, EniOwner::LoadBalancer(_))
    }

    fn push(&mut self, c: Component) {
        let mut pc = PathComponent::new(c);
        pc.sequence_number = u32::try_from(self.hops.len() + 1).unwrap_or(u32::MAX);
        self.hops.push(pc);
    }

    fn push_eni(&mut self, e: EniIdx) {
        let eni = self.s.eni(e);
        let owner = match &eni.owner {
            EniOwner::Instance(i) => Some(Component::new(i.clone(), "instance")),
            EniOwner::NatGateway(n) => Some(Component::new(n.clone(), "nat-gateway")),
            EniOwner::VpcEndpoint(v) => Some(Component::new(v.clone(), "vpc-endpoint")),
            EniOwner::LoadBalancer(l) => Some(Component::new(l.clone(), "load-balancer")),
            EniOwner::Other => None,
        };
        self.push(Component::new(eni.id.clone(), "network-interface"));
        if let Some(h) = self.hops.last_mut() {
            h.attached_to = owner;
            h.subnet = Some(Component::new(eni.subnet_id.clone(), "subnet"));
            h.vpc = Some(Component::new(eni.vpc_id.clone(), "vpc"));
        }
    }

    fn emit(&mut self, destination: Node, set: HeaderSet) {
        let mut set = set;
        if let Some(a) = self.orig_src {
            set = set.rewrite(SRC, a);
        }
        if let Some(a) = self.orig_dst {
            set = set.rewrite(DST, a);
        }
        if let Some(p) = self.orig_dport {
            set = set.rewrite(DPORT, p);
        }
        let Some(source) = self.source.clone() else {
            return;
        };
        self.out.push(RawPath {
            source,
            destination,
            hops: self.hops.clone(),
            set,
        });
    }

    /// `set` through the security groups of `e` in `dir`, naming the rules on the last hop.
    fn sg(&mut self, e: EniIdx, dir: Direction, set: HeaderSet) -> HeaderSet {
        let s = self.s;
        let key = (s.eni(e).groups.clone(), dir == Direction::Ingress);
        let allow = self
            .sg_cache
            .entry(key)
            .or_insert_with_key(|k| sg_allow(s, &k.0, dir));
        let out = set.intersect(&allow.set);
        let mut named = Vec::new();
        if !out.is_empty() {
            for (g, i, cubes) in &allow.rules {
                if cubes.iter().any(|c| out.intersects_cube(c)) {
                    named.push((*g, *i));
                }
            }
        }
        if let Some(h) = self.hops.last_mut() {
            let mut views = named
                .iter()
                .filter_map(|&(g, i)| sg_rule_view(s, g, dir, i));
            h.security_group_rule = views.next();
            for v in views {
                h.additional_details.push(format!(
                    "also security group rule {} {} {} {}{}",
                    v.group_id,
                    v.direction,
                    v.protocol,
                    v.port_range
                        .map_or_else(String::new, |p| format!("{}-{} ", p.from, p.to)),
                    v.cidr
                        .or(v.prefix_list_id)
                        .or(v.security_group_id)
                        .unwrap_or_default()
                ));
            }
        }
        out
    }

    /// `set` through the NACL of subnet `si` in `dir`, naming the allow entries on the hop.
    fn nacl(&mut self, si: usize, dir: Direction, set: HeaderSet) -> HeaderSet {
        let s = self.s;
        let Some(n) = s.subnets[si].nacl else {
            return set;
        };
        let nacl = s.nacl(n);
        let entries = if dir == Direction::Ingress {
            &nacl.ingress
        } else {
            &nacl.egress
        };
        let allow = self
            .nacl_cache
            .entry((n.get(), dir == Direction::Ingress))
            .or_insert_with(|| nacl_allow(entries, dir));
        let out = set.intersect(&allow.set);
        let used: Vec<usize> = allow
            .entries
            .iter()
            .filter(|(_, part)| part.cubes().iter().any(|c| out.intersects_cube(c)))
            .map(|(i, _)| *i)
            .collect();
        let rule = |e: Option<&NaclEntry>| AclRule {
            acl_id: nacl.id.clone(),
            cidr: e.map_or_else(|| "0.0.0.0/0".to_string(), |e| e.cidr.to_string()),
            egress: dir == Direction::Egress,
            port_range: e
                .and_then(|e| e.port_range)
                .map(|(a, b)| PortRange { from: a, to: b }),
            protocol: e
                .and_then(|e| e.protocol)
                .map_or_else(|| "all".to_string(), protocol_name),
            rule_action: if e.is_some_and(|e| e.allow) {
                "allow"
            } else {
                "deny"
            },
            rule_number: e.map_or(DEFAULT_RULE_NUMBER, |e| e.rule_number),
        };
        if let Some(h) = self.hops.last_mut() {
            h.acl_rule = Some(rule(used.first().and_then(|&i| entries.get(i))));
            for &i in used.iter().skip(1) {
                if let Some(e) = entries.get(i) {
                    h.additional_details.push(format!(
                        "also network ACL rule {} {}",
                        nacl.id, e.rule_number
                    ));
                }
            }
        }
        out
    }

    fn deliver(&mut self, t: EniIdx, set: &HeaderSet) {
        let s = self.s;
        let eni = s.eni(t);
        if let EniOwner::LoadBalancer(l) = &eni.owner
            && let Some(Resource::LoadBalancer(li)) = s.resolve(l)
        {
            return self.through_lb(li, t, set);
        }
        if !self.wanted.eni.get(t.get()).copied().unwrap_or(false) {
            return;
        }
        // NAT gateways admit only replies of their own sessions; stopped instances nothing.
        if !eni.active || matches!(eni.owner, EniOwner::NatGateway(_)) {
            return;
        }
        let part = set.restrict_ranges(DST, &own_ranges(eni));
        if part.is_empty() {
            return;
        }
        self.push_eni(t);
        let part = self.sg(t, Direction::Ingress, part);
        if !part.is_empty() {
            self.emit(Node::Eni(t), part);
        }
        self.hops.pop();
    }

    /// Into subnet `si` from its VPC router: the NACL's ingress, then its ENIs (or only
    /// `only`).
    fn subnet_in(&mut self, si: usize, set: HeaderSet, only: Option<EniIdx>) {
        let s = self.s;
        let sub = &s.subnets[si];
        let part = set.restrict_ranges(DST, &ranges_of(&sub.cidrs));
        if part.is_empty() {
            return;
        }
        let want_any = match only {
            Some(t) => self.walks_to(t),
            None => sub.enis.iter().any(|&t| self.walks_to(t)),
        };
        if !want_any {
            return;
        }
        self.push(Component::new(sub.id.clone(), "subnet"));
        let part = self.nacl(si, Direction::Ingress, part);
        if !part.is_empty() {
            match only {
                Some(t) => self.deliver(t, &part),
                None => {
                    for &t in &sub.enis {
                        self.deliver(t, &part);
                    }
                }
            }
        }
        self.hops.pop();
    }

    /// Delivery inside VPC `vi` (local route, peering, transit gateway).
    fn vpc_deliver(&mut self, vi: usize, set: HeaderSet) {
        let s = self.s;
        let part = set.restrict_ranges(DST, &ranges_of(&s.vpcs[vi].cidrs));
        if part.is_empty() {
            return;
        }
        for &sj in &s.vpcs[vi].subnets {
            self.subnet_in(sj.get(), part.clone(), None);
        }
    }

    /// Out of subnet `si`: the NACL's egress, then the route table partitions the set.
    fn subnet_out(&mut self, si: usize, set: HeaderSet, depth: usize) {
        let s = self.s;
        if set.is_empty() || depth > MAX_DEPTH {
            return;
        }
        let sub = &s.subnets[si];
        self.push(Component::new(sub.id.clone(), "subnet"));
        let set = self.nacl(si, Direction::Egress, set);
        if let (false, Some(rt), Some(vi)) = (set.is_empty(), sub.route_table, sub.vpc) {
            let table = s.route_table(rt);
            let parts = self
                .rt_cache
                .entry(rt.get())
                .or_insert_with(|| route_partition(table))
                .clone();
            // Group the partition by route, so each route is one branch.
            let mut by_route: Vec<(usize, Vec<(u32, u32)>)> = Vec::new();
            for (lo, hi, r) in parts {
                match by_route.iter_mut().find(|(x, _)| *x == r) {
                    Some((_, v)) => v.push((lo, hi)),
                    None => by_route.push((r, vec![(lo, hi)])),
                }
            }
            for (ri, ranges) in by_route {
                let part = set.restrict_ranges(DST, &ranges);
                if part.is_empty() {
                    continue;
                }
                let route = &table.routes[ri];
                if let Some(h) = self.hops.last_mut() {
                    h.route_table_route = Some(RouteTableRoute {
                        route_table_id: table.id.clone(),
                        destination_cidr: route
                            .prefix_list_id
                            .is_none()
                            .then(|| route.destination.clone()),
                        destination_prefix_list_id: route.prefix_list_id.clone(),
                        target: route.target.id().to_string(),
                        origin: route.origin.clone(),
                        state: if route.blackhole {
                            "blackhole"
                        } else {
                            "active"
                        },
                    });
                }
                if !route.blackhole {
                    self.follow(si, vi.get(), &route.target, part, depth);
                }
            }
        }
        self.hops.pop();
    }
}
