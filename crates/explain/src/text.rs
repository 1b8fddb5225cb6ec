//! Words for rules: NACL entries in Batfish's display form (`100 tcp 22 0.0.0.0/0 DENY`,
//! `* ALL ALL 0.0.0.0/0 DENY`), security-group rules as `allows tcp 443 from 0.0.0.0/0`, and
//! the nearest security-group rules that did not match a packet, with what they lack
//! (`sg-… allows tcp 443 from 0.0.0.0/0, not 22`). Only called once per reported group, so
//! these allocate freely.

use flowwatch_net::model::{NaclEntry, SgPeer, SgRule};
use flowwatch_net::nacl::DEFAULT_RULE_NUMBER;
use flowwatch_net::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, protocol_name};
use flowwatch_net::{Cidr, Direction, EniIdx, Packet, SgIdx, Snapshot};
use serde::Serialize;

/// A security-group rule near a packet it did not admit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NearestRule {
    pub group_id: String,
    /// Position among the group's rules of that direction (flattened, API order).
    pub rule_index: usize,
    /// `allows tcp 443 from 0.0.0.0/0`.
    pub rule: String,
    /// What the packet has that the rule does not: `not 22`, `not from 203.0.113.9`, `not udp`.
    pub mismatch: String,
}

impl NearestRule {
    /// `sg-… allows tcp 443 from 0.0.0.0/0, not 22`.
    pub fn summary(&self) -> String {
        format!("{} {}, {}", self.group_id, self.rule, self.mismatch)
    }
}

pub(crate) fn dir_word(d: Direction) -> &'static str {
    match d {
        Direction::Ingress => "inbound",
        Direction::Egress => "outbound",
    }
}

fn peer_word(d: Direction) -> &'static str {
    match d {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    }
}

/// `tcp 22`, `icmp`, `udp`, `47` — the packet's protocol and destination port as a rule
/// would need them.
pub(crate) fn packet_service(p: &Packet) -> String {
    if p.has_ports() {
        format!("{} {}", protocol_name(p.protocol), p.dst_port)
    } else {
        protocol_name(p.protocol)
    }
}

fn port_range(from: i32, to: i32) -> String {
    if (from <= 0 && to >= 65535) || (from < 0 && to < 0) {
        "all ports".into()
    } else if from == to || to < from {
        from.to_string()
    } else {
        format!("{from}-{to}")
    }
}

/// `tcp 443`, `udp 1024-65535`, `icmp type 8 code 0`, `all traffic`.
fn sg_service(r: &SgRule) -> String {
    match r.protocol {
        None => "all traffic".into(),
        Some(p @ (PROTO_TCP | PROTO_UDP)) => {
            format!(
                "{} {}",
                protocol_name(p),
                port_range(r.from_port, r.to_port)
            )
        }
        Some(p @ (PROTO_ICMP | PROTO_ICMPV6)) => match (r.from_port, r.to_port) {
            (t, _) if t < 0 => format!("{} all types", protocol_name(p)),
            (t, c) if c < 0 => format!("{} type {t}", protocol_name(p)),
            (t, c) => format!("{} type {t} code {c}", protocol_name(p)),
        },
        Some(p) => format!("protocol {p}"),
    }
}

fn sg_peer(r: &SgRule) -> String {
    match &r.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::PrefixList(id) => id.clone(),
        SgPeer::Group(id) => id.clone(),
    }
}

/// `allows tcp 443 from 0.0.0.0/0`.
pub fn sg_rule_text(r: &SgRule, d: Direction) -> String {
    format!("allows {} {} {}", sg_service(r), peer_word(d), sg_peer(r))
}

/// Batfish's line form: `100 tcp 22 0.0.0.0/0 DENY`; `entry` `None` is the implicit `*`.
pub fn nacl_rule_text(entry: Option<&NaclEntry>, v6: bool) -> String {
    let Some(e) = entry else {
        let any = if v6 { Cidr::ANY_V6 } else { Cidr::ANY_V4 };
        return format!("* ALL ALL {any} DENY");
    };
    let proto = e.protocol.map_or_else(|| "ALL".to_string(), protocol_name);
    let ports = match (e.protocol, e.port_range, e.icmp) {
        (Some(PROTO_TCP | PROTO_UDP), Some((lo, hi)), _) if lo == hi => lo.to_string(),
        (Some(PROTO_TCP | PROTO_UDP), Some((lo, hi)), _) => format!("{lo}-{hi}"),
        (Some(PROTO_ICMP | PROTO_ICMPV6), _, Some((t, c))) if t >= 0 && c >= 0 => {
            format!("type {t} code {c}")
        }
        (Some(PROTO_ICMP | PROTO_ICMPV6), _, Some((t, _))) if t >= 0 => format!("type {t}"),
        _ => "ALL".into(),
    };
    let action = if e.allow { "ALLOW" } else { "DENY" };
    let n = if e.rule_number == DEFAULT_RULE_NUMBER {
        "*".to_string()
    } else {
        e.rule_number.to_string()
    };
    format!("{n} {proto} {ports} {} {action}", e.cidr)
}

/// How far a rule is from admitting the packet: (tier, distance); lower is nearer.
/// Tier 0: right protocol and peer, only the port (or ICMP type) differs; 1: right peer,
/// other protocol; 2: right service, other peer; 3: neither.
fn nearness(s: &Snapshot, r: &SgRule, d: Direction, p: &Packet) -> (u8, u32) {
    let proto_ok = r.protocol.is_none_or(|x| x == p.protocol);
    // The same packet moved onto the rule's service: does the peer alone match?
    let mut on_service = *p;
    if let Some(x) = r.protocol {
        on_service.protocol = x;
    }
    on_service.dst_port = u16::try_from(r.from_port.max(0)).unwrap_or(0);
    on_service.icmp_type = u8::try_from(r.from_port).ok();
    on_service.icmp_code = u8::try_from(r.to_port).ok();
    let peer_ok = s.sg_rule_matches(r, d, &on_service);
    let gap = if p.has_ports() && r.from_port >= 0 {
        let port = i32::from(p.dst_port);
        let hi = r.to_port.max(r.from_port);
        u32::try_from((r.from_port - port).max(port - hi).max(0)).unwrap_or(u32::MAX)
    } else {
        0
    };
    let tier = match (peer_ok, proto_ok) {
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => 2,
        (false, false) => 3,
    };
    (tier, gap)
}

/// What the packet has that a rule of `tier` lacks.
fn mismatch(tier: u8, d: Direction, p: &Packet) -> String {
    let peer = match d {
        Direction::Ingress => p.src,
        Direction::Egress => p.dst,
    };
    match tier {
        0 if p.has_ports() => format!("not {}", p.dst_port),
        0 if p.is_icmp() => "not this icmp type".into(),
        0 | 1 => format!("not {}", protocol_name(p.protocol)),
        2 => format!("not {} {peer}", peer_word(d)),
        _ => format!("not {} {} {peer}", packet_service(p), peer_word(d)),
    }
}

/// The `n` rules of `eni`'s groups (direction `d`) nearest to admitting `p`.
pub(crate) fn nearest_rules(
    s: &Snapshot,
    eni: EniIdx,
    d: Direction,
    p: &Packet,
    n: usize,
) -> Vec<NearestRule> {
    let mut all: Vec<(u8, u32, SgIdx, usize)> = Vec::new();
    for &g in &s.eni(eni).groups {
        let sg = s.security_group(g);
        let rules = match d {
            Direction::Ingress => &sg.ingress,
            Direction::Egress => &sg.egress,
        };
        for (i, r) in rules.iter().enumerate() {
            let (tier, dist) = nearness(s, r, d, p);
            all.push((tier, dist, g, i));
        }
    }
    all.sort_by_key(|a| (a.0, a.1));
    all.into_iter()
        .take(n)
        .filter_map(|(tier, _, g, i)| {
            let rule = s.sg_rule(g, d, i)?;
            Some(NearestRule {
                group_id: s.security_group(g).id.clone(),
                rule_index: i,
                rule: sg_rule_text(rule, d),
                mismatch: mismatch(tier, d, p),
            })
        })
        .collect()
}
