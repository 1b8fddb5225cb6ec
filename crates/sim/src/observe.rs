//! From a `reach` analysis to what each ENI on the way sees: the ordered observation points
//! (ENI, direction, the packet as it crosses that ENI) of the request and of the reply, and
//! which of them rejects. Flow logs record at ENIs only: subnets' NACLs act at the ENI's
//! boundary (an ingress NACL deny is a REJECT on the ENI the packet was going to; an egress
//! deny is a REJECT on the ENI that sent it), gateways other than NAT gateways own no ENI.

use flowwatch_net::analysis::{PacketHeader, PathComponent};
use flowwatch_net::{Addr, Disposition, EniIdx, Packet, Resource, Snapshot};

/// Which way a packet crosses an ENI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowDirection {
    Ingress,
    Egress,
}

impl FlowDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowDirection::Ingress => "ingress",
            FlowDirection::Egress => "egress",
        }
    }
}

/// `ACCEPT` or `REJECT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

/// One ENI crossing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Obs {
    pub eni: EniIdx,
    pub dir: FlowDirection,
    /// The packet as it crosses (after translations upstream of this ENI).
    pub packet: Packet,
    pub action: Action,
    /// Egress only: AWS's traffic-path code.
    pub traffic_path: Option<u8>,
}

pub(crate) fn header_packet(h: &PacketHeader, base: Packet) -> Packet {
    let addr = |v: &[String], d: Addr| {
        v.first()
            .and_then(|s| Addr::parse(s.split('/').next().unwrap_or(s)))
            .unwrap_or(d)
    };
    let mut p = base;
    p.src = addr(&h.source_addresses, base.src);
    p.dst = addr(&h.destination_addresses, base.dst);
    if let Some(r) = h.source_port_ranges.first() {
        p.src_port = r.from;
    }
    if let Some(r) = h.destination_port_ranges.first() {
        p.dst_port = r.from;
    }
    p
}

fn eni_of(s: &Snapshot, id: &str) -> Option<EniIdx> {
    match s.resolve(id)? {
        Resource::Eni(_) => s.eni_idx(id),
        Resource::NatGateway(i) => s.nat_gateways.get(i)?.eni,
        _ => None,
    }
}

/// The node ENI of a load-balancer hop: the load balancer's node in the hop's subnet.
fn lb_node(s: &Snapshot, h: &PathComponent) -> Option<EniIdx> {
    let Some(Resource::LoadBalancer(li)) = s.resolve(&h.component.id) else {
        return None;
    };
    let subnet = &h.subnet.as_ref()?.id;
    s.lb_nodes(li).find(|&e| &s.eni(e).subnet_id == subnet)
}

/// The traffic-path code of a packet leaving an ENI at hop `i`: the first hop after it that
/// tells where it goes.
fn traffic_path(s: &Snapshot, hops: &[PathComponent], i: usize) -> Option<u8> {
    for h in hops.iter().skip(i + 1) {
        let code = match h.component.kind {
            "network-interface" | "nat-gateway" | "transit-gateway" | "load-balancer" => 1,
            "internet-gateway" | "egress-only-internet-gateway" => 8,
            "vpc-endpoint" => 7,
            "vpn-gateway" => 3,
            "vpc-peering-connection" => match s.resolve(&h.component.id) {
                Some(Resource::Peering(pi))
                    if s.peerings
                        .get(pi)
                        .is_some_and(|p| p.requester.region != p.accepter.region) =>
                {
                    5
                }
                _ => 4,
            },
            _ => continue,
        };
        return Some(code);
    }
    None
}

/// The ENI crossings of one walk (`hops`, ended with `disp`), starting with packet `p`.
pub(crate) fn observe(
    s: &Snapshot,
    hops: &[PathComponent],
    disp: Disposition,
    p: Packet,
) -> Vec<Obs> {
    let mut out: Vec<Obs> = Vec::new();
    let mut cur = p;
    let blocked = matches!(disp, Disposition::DeniedIn | Disposition::DeniedOut);
    let last = hops.len().saturating_sub(1);
    for (i, h) in hops.iter().enumerate() {
        let at_end = i == last;
        let obs = |eni, dir, packet, tp| Obs {
            eni,
            dir,
            packet,
            action: Action::Accept,
            traffic_path: tp,
        };
        match h.component.kind {
            "network-interface" => {
                let Some(e) = eni_of(s, &h.component.id) else {
                    continue;
                };
                if i == 0 {
                    out.push(obs(e, FlowDirection::Egress, cur, traffic_path(s, hops, i)));
                } else {
                    out.push(obs(e, FlowDirection::Ingress, cur, None));
                    if !at_end {
                        // An appliance forwarding the packet on.
                        out.push(obs(e, FlowDirection::Egress, cur, traffic_path(s, hops, i)));
                    }
                }
                if at_end
                    && blocked
                    && let Some(o) = out.last_mut()
                {
                    o.action = Action::Reject;
                }
            }
            "nat-gateway" | "load-balancer" => {
                let e = match h.component.kind {
                    "nat-gateway" => eni_of(s, &h.component.id),
                    _ => lb_node(s, h),
                };
                if let Some(e) = e {
                    out.push(obs(e, FlowDirection::Ingress, cur, None));
                }
                if let Some(hd) = &h.outbound_header {
                    cur = header_packet(hd, cur);
                    if let Some(e) = e {
                        out.push(obs(e, FlowDirection::Egress, cur, traffic_path(s, hops, i)));
                    }
                }
                if at_end
                    && blocked
                    && e.is_some()
                    && let Some(o) = out.last_mut()
                {
                    o.action = Action::Reject;
                }
            }
            "internet-gateway" => {
                if let Some(hd) = &h.outbound_header {
                    cur = header_packet(hd, cur);
                }
            }
            "subnet" if at_end && blocked => {
                let Some(rule) = &h.acl_rule else { continue };
                if rule.rule_action != "deny" {
                    continue;
                }
                if rule.egress {
                    if let Some(o) = out.last_mut() {
                        o.action = Action::Reject;
                    }
                } else {
                    let target = s
                        .subnet_idx(&h.component.id)
                        .and_then(|si| s.subnet(si).vpc)
                        .and_then(|v| s.eni_by_private_ip(v, cur.dst));
                    if let Some(e) = target {
                        let mut o = obs(e, FlowDirection::Ingress, cur, None);
                        o.action = Action::Reject;
                        out.push(o);
                    }
                }
            }
            _ => {}
        }
    }
    out
}
