//! What each hop records and why a hop blocks: the ENI, subnet and VPC components, the
//! security-group rule or NACL rule that decided, and the Reachability Analyzer explanation
//! (`ENI_SG_RULES_MISMATCH`, `SUBNET_ACL_RESTRICTION`) when it denied.

use super::*;

impl Walk<'_> {
    pub(super) fn eni_component(&self, e: EniIdx) -> (Component, Option<Component>) {
        let eni = self.s.eni(e);
        let owner = match &eni.owner {
            EniOwner::Instance(i) => Some(Component::new(i.clone(), "instance")),
            EniOwner::NatGateway(n) => Some(Component::new(n.clone(), "nat-gateway")),
            EniOwner::VpcEndpoint(v) => Some(Component::new(v.clone(), "vpc-endpoint")),
            EniOwner::LoadBalancer(l) => Some(Component::new(l.clone(), "load-balancer")),
            EniOwner::Other => None,
        };
        (Component::new(eni.id.clone(), "network-interface"), owner)
    }

    pub(super) fn push_eni(&mut self, e: EniIdx) -> Result<(), Disposition> {
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

    pub(super) fn vpc_component(&self, v: usize) -> Component {
        Component::new(self.s.vpcs[v].id.clone(), "vpc")
    }

    pub(super) fn sg_rule_out(
        &self,
        group: SgIdx,
        dir: Direction,
        rule: usize,
    ) -> Option<SecurityGroupRule> {
        sg_rule_view(self.s, group, dir, rule)
    }

    /// Security groups of `e` on the current hop; `false` (with an explanation) if denied.
    /// Replies pass: connection tracking. ENIs of NAT gateways have no security groups.
    pub(super) fn check_sg(&mut self, e: EniIdx, dir: Direction, p: &Packet) -> bool {
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
    pub(super) fn check_nacl(&mut self, si: usize, dir: Direction, p: &Packet) -> bool {
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
}

/// The API view of rule `rule` of `group` (shared with the access analysis).
pub(crate) fn sg_rule_view(
    s: &Snapshot,
    group: SgIdx,
    dir: Direction,
    rule: usize,
) -> Option<SecurityGroupRule> {
    let r = s.sg_rule(group, dir, rule)?;
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
        group_id: s.security_group(group).id.clone(),
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
