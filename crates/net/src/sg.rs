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

/// A rule reduced to what most packets need: protocol, destination-port interval and, for an
/// IPv4 CIDR peer, the peer's address interval; 16 bytes, so an ENI's rules are a few cache
/// lines. Anything else (ICMP type/code, IPv6, prefix lists, group references) is marked
/// `exact` and falls back to [`Snapshot::sg_rule_matches`] on the full rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastRule {
    /// Protocol number; `ANY_PROTO` for all.
    proto: u16,
    /// Destination ports `lo..=hi` (TCP/UDP); `lo > hi` never matches.
    port_lo: u16,
    port_hi: u16,
    exact: bool,
    /// IPv4 peer interval.
    peer_lo: u32,
    peer_hi: u32,
}

const ANY_PROTO: u16 = 256;

impl FastRule {
    pub(crate) fn compile(r: &SgRule) -> FastRule {
        let proto = r.protocol.map_or(ANY_PROTO, u16::from);
        let (port_lo, port_hi) = match r.protocol {
            Some(PROTO_TCP | PROTO_UDP) if !(r.from_port < 0 && r.to_port < 0) => {
                let lo = r.from_port.max(0);
                let hi = r.to_port.max(r.from_port);
                if lo > 65535 || hi < lo {
                    (1, 0)
                } else {
                    (lo as u16, hi.min(65535) as u16)
                }
            }
            _ => (0, 65535),
        };
        let peer = match &r.peer {
            SgPeer::Cidr(c) if !c.addr.v6 => u32::try_from(c.addr.bits).ok().map(|b| {
                let host = u32::MAX.checked_shr(u32::from(c.len.min(32))).unwrap_or(0);
                (b & !host, (b & !host) | host)
            }),
            _ => None,
        };
        let icmp = matches!(r.protocol, Some(PROTO_ICMP | PROTO_ICMPV6));
        FastRule {
            proto,
            port_lo,
            port_hi,
            exact: icmp || peer.is_none(),
            peer_lo: peer.map_or(0, |p| p.0),
            peer_hi: peer.map_or(0, |p| p.1),
        }
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
        let peer = match dir {
            Direction::Ingress => p.src,
            Direction::Egress => p.dst,
        };
        let peer4 = if peer.v6 {
            None
        } else {
            u32::try_from(peer.bits).ok()
        };
        let proto = u16::from(p.protocol);
        let port = if p.has_ports() { p.dst_port } else { 0 };
        for &g in &self.enis[eni.get()].groups {
            let sg = &self.security_groups[g.get()];
            let (rules, fast) = match dir {
                Direction::Ingress => (&sg.ingress, &sg.fast_ingress),
                Direction::Egress => (&sg.egress, &sg.fast_egress),
            };
            // The compact rules are built at load for every group; a snapshot built some
            // other way (none today) would simply take the exact path.
            if fast.len() != rules.len() {
                for (i, r) in rules.iter().enumerate() {
                    if self.sg_rule_matches(r, dir, p) {
                        return SgDecision::Allowed { group: g, rule: i };
                    }
                }
                continue;
            }
            for (i, f) in fast.iter().enumerate() {
                if f.proto != ANY_PROTO && f.proto != proto {
                    continue;
                }
                // The port test is exact for every rule (ICMP rules keep the full range), so
                // it screens the rules whose peer needs the slow test too.
                if port < f.port_lo || port > f.port_hi {
                    continue;
                }
                let hit = if f.exact {
                    self.sg_rule_matches(&rules[i], dir, p)
                } else {
                    peer4.is_some_and(|a| f.peer_lo <= a && a <= f.peer_hi)
                };
                if hit {
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
