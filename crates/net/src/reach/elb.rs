//! A packet at a load balancer node (Elastic Load Balancing v2): the listener for its protocol
//! and port, a target of the listener's group, destination NAT to the target, and the reply
//! back through the same node.
//!
//! Choices (AWS spreads connections over targets by a flow hash): the walk takes the first
//! healthy target in `describe-target-health` order that the node may use — any zone's with
//! cross-zone load balancing, else its own zone's. Network load balancers keep the client's
//! address for instance targets (the target sees the client; its reply is steered back to the
//! node that forwarded it), application load balancers and IP targets see the node's address.
//! A node's security groups, when it has any, apply to the client's packet.

use super::*;

/// One forwarded connection.
pub(super) struct LbSession {
    lb: usize,
    node_ip: Addr,
    listener_port: u16,
    client: Addr,
    client_port: u16,
    target: Addr,
    target_port: u16,
    /// The target saw the client's address (its reply must be steered to the node).
    preserve_source: bool,
}

impl Walk<'_> {
    fn lb_node_component(&self, li: usize, e: EniIdx) -> Component {
        let lb = &self.s.load_balancers[li];
        let eni = self.s.eni(e);
        let zone = match (eni.availability_zone.as_str(), eni.subnet) {
            ("", Some(si)) => self.s.subnet(si).availability_zone.clone(),
            (z, _) => z.to_string(),
        };
        let mut c = Component::new(lb.id.clone(), "load-balancer");
        c.name = Some(format!("{zone}-{}", lb.dns_name));
        c
    }

    /// The availability zone of the ENI holding `a` in `vpc`.
    fn zone_of(&self, target: EniIdx) -> &str {
        let eni = self.s.eni(target);
        match (eni.availability_zone.as_str(), eni.subnet) {
            ("", Some(si)) => &self.s.subnet(si).availability_zone,
            (z, _) => z,
        }
    }

    /// The ENI and address of a registered target (an instance id or an address).
    fn target_eni(&self, id: &str, vpc: Option<VpcIdx>) -> Option<(EniIdx, Addr)> {
        if let Ok(ip) = id.parse::<IpAddr>() {
            let a = Addr::from_ip(ip);
            let e = vpc.and_then(|v| self.s.eni_by_private_ip(v, a))?;
            return Some((e, a));
        }
        let e = self.s.eni_idx(id)?;
        Some((e, self.s.eni(e).primary_ip()?))
    }

    pub(super) fn lb_receive(
        &mut self,
        li: usize,
        e: EniIdx,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        let node = self.lb_node_component(li, e);
        self.push(node.clone())?;
        let eni = self.s.eni(e);
        if let Some(h) = self.last() {
            h.subnet = Some(Component::new(eni.subnet_id.clone(), "subnet"));
            h.vpc = Some(Component::new(eni.vpc_id.clone(), "vpc"));
        }
        let Some(node_ip) = eni.primary_ip() else {
            return Ok(self.fail(Disposition::DeniedIn, ExplanationCode::BadState, node));
        };
        if self.reply {
            let session = self.lb.iter().find(|s| {
                s.lb == li
                    && s.node_ip == node_ip
                    && s.target == p.src
                    && s.target_port == p.src_port
            });
            let Some(s) = session else {
                return Ok(self.fail(
                    Disposition::DeniedIn,
                    ExplanationCode::UnknownDestination,
                    node,
                ));
            };
            (p.src, p.src_port, p.dst, p.dst_port) =
                (node_ip, s.listener_port, s.client, s.client_port);
        } else {
            if !eni.groups.is_empty() && !self.check_sg(e, Direction::Ingress, &p) {
                return Ok(Disposition::DeniedIn);
            }
            let lb = &self.s.load_balancers[li];
            let listener = lb
                .listeners
                .iter()
                .find(|l| p.has_ports() && l.port == p.dst_port && l.takes(p.protocol));
            let Some(listener) = listener else {
                return Ok(self.fail(
                    Disposition::DeniedIn,
                    ExplanationCode::Elbv2ListenerPortRestriction,
                    node,
                ));
            };
            if listener.target_group.is_none() {
                return Ok(self.fail(
                    Disposition::DeniedIn,
                    ExplanationCode::Elbv2ListenerHasNoTg,
                    node,
                ));
            }
            let vpc = self.s.vpc_idx(&lb.vpc_id);
            let node_zone = self.zone_of(e).to_string();
            let target = listener.targets.iter().filter(|t| t.healthy).find_map(|t| {
                let (te, ta) = self.target_eni(&t.id, vpc)?;
                (lb.cross_zone || self.zone_of(te) == node_zone).then_some((t, ta))
            });
            let Some((t, target_ip)) = target else {
                return Ok(self.fail(
                    Disposition::DeniedIn,
                    ExplanationCode::Elbv2NoTargetsInAz,
                    node,
                ));
            };
            let preserve_source = lb.lb_type == "network" && t.id.parse::<IpAddr>().is_err();
            self.lb.push(LbSession {
                lb: li,
                node_ip,
                listener_port: p.dst_port,
                client: p.src,
                client_port: p.src_port,
                target: target_ip,
                target_port: t.port,
                preserve_source,
            });
            (p.dst, p.dst_port) = (target_ip, t.port);
            if !preserve_source {
                p.src = node_ip;
            }
        }
        let h = header(&p);
        if let Some(hop) = self.last() {
            hop.outbound_header = Some(h);
        }
        // On from the node: within its subnet, or out through the subnet's NACL and routes.
        let Some(si) = eni.subnet else {
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, node));
        };
        let sub = self.s.subnet(si);
        if sub.contains(p.dst) {
            self.push(Component::new(sub.id.clone(), "subnet"))?;
            let target = sub.vpc.and_then(|v| self.s.eni_by_private_ip(v, p.dst));
            return match target {
                Some(t) => self.deliver_eni(t, p),
                None => Ok(self.fail(
                    Disposition::NeighborUnreachable,
                    ExplanationCode::UnknownDestination,
                    Component::new(sub.id.clone(), "subnet"),
                )),
            };
        }
        self.subnet_out(si.get(), p)
    }

    /// A reply leaving a target of a load balancer that kept the client's address: addressed
    /// to the node that forwarded the request, which restores the listener's address. (The
    /// hops on the way to the node see the node's address as destination.)
    pub(super) fn lb_steer(&self, mut p: Packet) -> Packet {
        if let Some(s) = self.lb.iter().find(|s| {
            s.preserve_source
                && s.target == p.src
                && s.target_port == p.src_port
                && s.client == p.dst
                && s.client_port == p.dst_port
        }) {
            p.dst = s.node_ip;
        }
        p
    }
}
