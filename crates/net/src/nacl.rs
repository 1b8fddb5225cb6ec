//! Network-ACL evaluation (spec §3): per subnet, stateless, entries in rule-number order,
//! first match decides, else the implicit `*` deny reported as rule 32767. Inbound entries
//! match the source, outbound the destination; port ranges always test the destination port.
//! Entries apply only to packets of their CIDR's family. Allocation-free.

use crate::model::{Nacl, NaclEntry, NaclIdx, Snapshot};
use crate::packet::{Direction, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, Packet};

/// Rule number AWS reports for the `*` (default deny) entry.
pub const DEFAULT_RULE_NUMBER: u16 = 32767;

/// The deciding entry of a NACL for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaclDecision {
    pub rule_number: u16,
    pub allow: bool,
    /// Index into the direction's sorted entries; `None` for the implicit `*` deny.
    pub entry: Option<usize>,
}

#[inline]
pub(crate) fn entry_matches(e: &NaclEntry, dir: Direction, p: &Packet) -> bool {
    let peer = match dir {
        Direction::Ingress => p.src,
        Direction::Egress => p.dst,
    };
    if !e.cidr.contains(peer) {
        return false;
    }
    let Some(proto) = e.protocol else { return true };
    if proto != p.protocol {
        return false;
    }
    match proto {
        PROTO_TCP | PROTO_UDP => e
            .port_range
            .is_none_or(|(lo, hi)| lo <= p.dst_port && p.dst_port <= hi),
        PROTO_ICMP | PROTO_ICMPV6 => e.icmp.is_none_or(|(t, c)| {
            (t < 0 || p.icmp_type.is_some_and(|x| i16::from(x) == t))
                && (c < 0 || p.icmp_code.is_some_and(|x| i16::from(x) == c))
        }),
        _ => true,
    }
}

/// Evaluate `p` against one NACL's entries for `dir`.
pub fn eval_nacl_entries(nacl: &Nacl, dir: Direction, p: &Packet) -> NaclDecision {
    let entries = match dir {
        Direction::Ingress => &nacl.ingress,
        Direction::Egress => &nacl.egress,
    };
    for (i, e) in entries.iter().enumerate() {
        if entry_matches(e, dir, p) {
            return NaclDecision {
                rule_number: e.rule_number,
                allow: e.allow,
                entry: Some(i),
            };
        }
    }
    NaclDecision {
        rule_number: DEFAULT_RULE_NUMBER,
        allow: false,
        entry: None,
    }
}

impl Snapshot {
    /// Evaluate `p` crossing the boundary of NACL `nacl` in direction `dir` (ingress: into
    /// the subnet). The caller decides whether the NACL applies at all (not between
    /// addresses of one subnet).
    pub fn eval_nacl(&self, nacl: NaclIdx, dir: Direction, p: &Packet) -> NaclDecision {
        eval_nacl_entries(&self.nacls[nacl.get()], dir, p)
    }

    /// The entry behind a decision (`None` for the implicit `*`).
    pub fn nacl_entry(
        &self,
        nacl: NaclIdx,
        dir: Direction,
        d: &NaclDecision,
    ) -> Option<&NaclEntry> {
        let n = self.nacls.get(nacl.get())?;
        let entries = match dir {
            Direction::Ingress => &n.ingress,
            Direction::Egress => &n.egress,
        };
        d.entry.and_then(|i| entries.get(i))
    }
}
