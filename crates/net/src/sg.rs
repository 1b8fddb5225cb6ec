//! Security-group evaluation (spec §2): per ENI, stateful, a union of allow rules with no
//! order and no deny. Ingress rules match the packet's source, egress rules its destination;
//! TCP/UDP ranges test the destination port; ICMP `FromPort`/`ToPort` are type/code (-1 any);
//! `-1` or another protocol number matches every port. Allocation-free: this is the function
//! `explain` calls per record.

use crate::ip::Addr;
use crate::model::{EniIdx, SgIdx, SgPeer, SgRule, Snapshot};
use crate::packet::{Direction, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, Packet};

/// The outcome of an ENI's security groups for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgDecision {
    /// The first matching rule found (groups in ENI order, rules in API order).
    Allowed { group: SgIdx, rule: usize },
    /// No rule of any attached group matches.
    Denied,
}

impl SgDecision {
    pub fn allowed(&self) -> bool {
        matches!(self, SgDecision::Allowed { .. })
    }
}

/// Protocol and port (or ICMP type/code) part of a rule.
#[inline]
pub(crate) fn rule_matches_l4(rule: &SgRule, p: &Packet) -> bool {
    let Some(proto) = rule.protocol else {
        return true;
    };
    if proto != p.protocol {
        return false;
    }
    match proto {
        PROTO_TCP | PROTO_UDP => {
            if rule.from_port < 0 && rule.to_port < 0 {
                return true;
            }
            let port = i32::from(p.dst_port);
            rule.from_port <= port && port <= rule.to_port.max(rule.from_port)
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            let ty_ok =
                rule.from_port < 0 || p.icmp_type.is_some_and(|t| i32::from(t) == rule.from_port);
            let code_ok =
                rule.to_port < 0 || p.icmp_code.is_some_and(|c| i32::from(c) == rule.to_port);
            ty_ok && code_ok
        }
        _ => true,
    }
}

impl Snapshot {
    #[inline]
    pub(crate) fn sg_peer_matches(&self, rule: &SgRule, a: Addr) -> bool {
        match &rule.peer {
            SgPeer::Cidr(c) => c.contains(a),
            SgPeer::PrefixList(_) => rule.peer_cidrs.iter().any(|c| c.contains(a)),
            SgPeer::Group(_) => rule.peer_group.is_some_and(|g| {
                self.security_groups[g.get()]
                    .members
                    .binary_search(&a)
                    .is_ok()
            }),
        }
    }

    /// Does `rule` (of either direction) admit `p`?
    #[inline]
    pub fn sg_rule_matches(&self, rule: &SgRule, dir: Direction, p: &Packet) -> bool {
        let peer = match dir {
            Direction::Ingress => p.src,
            Direction::Egress => p.dst,
        };
        rule_matches_l4(rule, p) && self.sg_peer_matches(rule, peer)
    }

    /// Evaluate `p` against every security group on `eni` in direction `dir` (ingress: the
    /// packet arrives at the ENI; egress: it leaves). No allocation.
    pub fn eval_security_groups(&self, eni: EniIdx, dir: Direction, p: &Packet) -> SgDecision {
        for &g in &self.enis[eni.get()].groups {
            let sg = &self.security_groups[g.get()];
            let rules = match dir {
                Direction::Ingress => &sg.ingress,
                Direction::Egress => &sg.egress,
            };
            for (i, r) in rules.iter().enumerate() {
                if self.sg_rule_matches(r, dir, p) {
                    return SgDecision::Allowed { group: g, rule: i };
                }
            }
        }
        SgDecision::Denied
    }

    /// The rule behind an [`SgDecision::Allowed`].
    pub fn sg_rule(&self, group: SgIdx, dir: Direction, rule: usize) -> Option<&SgRule> {
        let sg = self.security_groups.get(group.get())?;
        match dir {
            Direction::Ingress => sg.ingress.get(rule),
            Direction::Egress => sg.egress.get(rule),
        }
    }
}
