//! The symbolic walk through a load balancer node: per listener, the headers it takes
//! (protocol, port) go on to the target [`Snapshot::lb_target`] picks, with the destination
//! rewritten to the target's address and port (undone when a path is reported, so findings
//! show what the source sends). Load balancers that hide the client's address from their
//! targets (application load balancers, IP targets) end the path at the node: what reaches
//! the node's listeners is what the source can reach.

use super::*;
use crate::reach::elb::lb_node_component;

impl Engine<'_> {
    pub(super) fn through_lb(&mut self, li: usize, node: EniIdx, set: &HeaderSet) {
        let s = self.s;
        let eni = s.eni(node);
        if !eni.active {
            return;
        }
        let mut part = set.restrict_ranges(DST, &own_ranges(eni));
        if part.is_empty() {
            return;
        }
        let (Some(node_ip), Some(si)) = (eni.primary_ip().and_then(v4), eni.subnet) else {
            return;
        };
        self.push(lb_node_component(s, li, node));
        if !eni.groups.is_empty() {
            part = self.sg(node, Direction::Ingress, part);
        }
        let lb = &s.load_balancers[li];
        for listener in &lb.listeners {
            let protocols: Vec<(u32, u32)> = [PROTO_TCP, PROTO_UDP]
                .into_iter()
                .filter(|p| listener.takes(*p))
                .map(|p| (u32::from(p), u32::from(p)))
                .collect();
            let port = u32::from(listener.port);
            let taken = part
                .restrict_ranges(PROTO, &protocols)
                .restrict(DPORT, port, port);
            if taken.is_empty() {
                continue;
            }
            if !lb.keeps_client_address(listener) {
                if self.wanted.eni.get(node.get()).copied().unwrap_or(false) {
                    self.emit(Node::Eni(node), taken);
                }
                continue;
            }
            let Some((target, target_ip, target_port)) = s.lb_target(lb, listener, node) else {
                continue;
            };
            let Some(tv) = v4(target_ip) else { continue };
            let saved = (self.orig_dst, self.orig_dport);
            self.orig_dst = Some(self.orig_dst.unwrap_or(node_ip));
            self.orig_dport = Some(self.orig_dport.unwrap_or(port));
            let forwarded = taken
                .rewrite(DST, tv)
                .rewrite(DPORT, u32::from(target_port));
            if s.eni(target).subnet == Some(si) {
                self.push(Component::new(s.subnet(si).id.clone(), "subnet"));
                self.deliver(target, &forwarded);
                self.hops.pop();
            } else {
                self.subnet_out(si.get(), forwarded, 1);
            }
            (self.orig_dst, self.orig_dport) = saved;
        }
        self.hops.pop();
    }
}
