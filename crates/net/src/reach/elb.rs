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

/// A load balancer node as a path component: the load balancer, named `<zone>-<DNS name>`
/// (Batfish's node name).
pub(crate) fn lb_node_component(s: &Snapshot, li: usize, e: EniIdx) -> Component {
    let lb = &s.load_balancers[li];
    let mut c = Component::new(lb.id.clone(), "load-balancer");
    c.name = Some(format!("{}-{}", s.zone_of(e), lb.dns_name));
    c
}

impl Walk<'_> {
    pub(super) fn lb_receive(
        &mut self,
        li: usize,
        e: EniIdx,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        let node = lb_node_component(self.s, li, e);
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
            let detail = format!("reply of listener port {} to the client", s.listener_port);
            (p.src, p.src_port, p.dst, p.dst_port) =
                (node_ip, s.listener_port, s.client, s.client_port);
            if let Some(h) = self.last() {
                h.additional_details.push(detail);
            }
        } else {
            if !eni.groups.is_empty() && !self.check_sg(e, Direction::Ingress, &p) {
                return Ok(Disposition::DeniedIn);
            }
            let lb = &self.s.load_balancers[li];
            let Some(listener) = lb.listener_for(&p) else {
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
            let Some((target_eni, target_ip, target_port)) = self.s.lb_target(lb, listener, e)
            else {
                return Ok(self.fail(
                    Disposition::DeniedIn,
                    ExplanationCode::Elbv2NoTargetsInAz,
                    node,
                ));
            };
            let preserve_source = lb.keeps_client_address(listener);
            self.lb.push(LbSession {
                lb: li,
                node_ip,
                listener_port: p.dst_port,
                client: p.src,
                client_port: p.src_port,
                target: target_ip,
                target_port,
                preserve_source,
            });
            let target = match &self.s.eni(target_eni).owner {
                EniOwner::Instance(i) => i.clone(),
                _ => target_ip.to_string(),
            };
            let detail = format!(
                "listener {} {} -> {target} port {target_port}{}{}",
                listener.protocol,
                listener.port,
                listener
                    .target_group
                    .as_deref()
                    .and_then(|g| g.rsplit(':').next())
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_default(),
                if lb.cross_zone { ", cross-zone" } else { "" }
            );
            if let Some(h) = self.last() {
                h.additional_details.push(detail);
            }
            (p.dst, p.dst_port) = (target_ip, target_port);
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
        if self.s.subnet(si).contains(p.dst) {
            return self.local_in_subnet(si.get(), p, true);
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
