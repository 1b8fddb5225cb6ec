//! Security groups, NACLs and route tables as header sets: what each admits or where each
//! sends a set, computed once per group list / NACL / table and cached for the analysis.
//! Each mirrors the per-packet evaluator of [`crate::sg`], [`crate::nacl`] and
//! [`crate::route`] exactly (pinned by tests comparing the two on random packets).

use crate::access::space::*;
use crate::model::{NaclEntry, RouteTable, SgIdx, SgPeer, SgRule, Snapshot, TgwRouteTable};
use crate::packet::{Direction, PROTO_TCP, PROTO_UDP};

/// What a set of security groups admits in one direction, with each rule's cubes so the
/// rules behind a finding can be named.
#[derive(Clone, Debug, Default)]
pub(crate) struct SgAllow {
    pub set: HeaderSet,
    pub rules: Vec<(SgIdx, usize, Vec<Cube>)>,
}

/// The protocol and destination-port part of a rule (`None` protocol = all).
fn l4_cube(protocol: Option<u8>, ports: Option<(u32, u32)>) -> Cube {
    let c = match protocol {
        None => Cube::FULL,
        Some(p) => Cube::FULL
            .with(PROTO, u32::from(p), u32::from(p))
            .unwrap_or(Cube::FULL),
    };
    match (protocol, ports) {
        (Some(PROTO_TCP | PROTO_UDP), Some((lo, hi))) => c.with(DPORT, lo, hi).unwrap_or(c),
        _ => c,
    }
}

fn sg_ports(r: &SgRule) -> Option<(u32, u32)> {
    if r.from_port < 0 && r.to_port < 0 {
        return None;
    }
    let lo = r.from_port.clamp(0, 65535);
    let hi = r.to_port.max(r.from_port).clamp(0, 65535);
    Some((lo as u32, hi as u32))
}

/// The peer addresses of a rule as merged IPv4 intervals.
pub(crate) fn sg_peer_ranges(s: &Snapshot, r: &SgRule) -> Vec<(u32, u32)> {
    match &r.peer {
        SgPeer::Cidr(c) => cidr_range(c).into_iter().collect(),
        SgPeer::PrefixList(_) => merge(r.peer_cidrs.iter().filter_map(cidr_range).collect()),
        SgPeer::Group(_) => r.peer_group.map_or_else(Vec::new, |g| {
            merge(
                s.security_groups[g.get()]
                    .members
                    .iter()
                    .filter(|a| !a.v6)
                    .filter_map(|a| u32::try_from(a.bits).ok().map(|b| (b, b)))
                    .collect(),
            )
        }),
    }
}

/// The cubes of one security-group rule: L4 × peer ranges (source for ingress, destination
/// for egress).
pub(crate) fn sg_rule_cubes(s: &Snapshot, r: &SgRule, dir: Direction) -> Vec<Cube> {
    let l4 = l4_cube(r.protocol, sg_ports(r));
    let d = if dir == Direction::Ingress { SRC } else { DST };
    sg_peer_ranges(s, r)
        .into_iter()
        .filter_map(|(lo, hi)| l4.with(d, lo, hi))
        .collect()
}

/// What `groups` admit in `dir`: the union of every rule of every group.
pub(crate) fn sg_allow(s: &Snapshot, groups: &[SgIdx], dir: Direction) -> SgAllow {
    let mut out = SgAllow::default();
    for &g in groups {
        let sg = &s.security_groups[g.get()];
        let rules = if dir == Direction::Ingress {
            &sg.ingress
        } else {
            &sg.egress
        };
        for (i, r) in rules.iter().enumerate() {
            let cubes = sg_rule_cubes(s, r, dir);
            for c in &cubes {
                out.set.insert(*c);
            }
            out.rules.push((g, i, cubes));
        }
    }
    out
}

/// The cube of one NACL entry (`None` for an IPv6 entry, which no IPv4 packet matches).
pub(crate) fn nacl_entry_cube(e: &NaclEntry, dir: Direction) -> Option<Cube> {
    let (lo, hi) = cidr_range(&e.cidr)?;
    let ports = e.port_range.map(|(a, b)| (u32::from(a), u32::from(b)));
    let d = if dir == Direction::Ingress { SRC } else { DST };
    l4_cube(e.protocol, ports).with(d, lo, hi)
}

/// What a NACL admits in one direction: first match in rule-number order, as differences.
/// `entries[i]` is the part of the header space that entry `i` decides as an allow.
#[derive(Clone, Debug, Default)]
pub(crate) struct NaclAllow {
    pub set: HeaderSet,
    pub entries: Vec<(usize, HeaderSet)>,
}

pub(crate) fn nacl_allow(entries: &[NaclEntry], dir: Direction) -> NaclAllow {
    let mut out = NaclAllow::default();
    let mut rest = HeaderSet::full();
    for (i, e) in entries.iter().enumerate() {
        if rest.is_empty() {
            break;
        }
        let Some(c) = nacl_entry_cube(e, dir) else {
            continue;
        };
        if e.allow {
            let decided = rest.intersect_cube(&c);
            if !decided.is_empty() {
                for x in decided.cubes() {
                    out.set.insert(*x);
                }
                out.entries.push((i, decided));
            }
        }
        rest = rest.subtract_cube(&c);
    }
    out
}

/// A route table as a partition of the IPv4 destination axis: `(lo, hi, route index)`,
/// longest prefix first, then static before prefix-list before propagated, then list order
/// (the tie rules of [`crate::route::lookup`]).
pub(crate) fn route_partition(rt: &RouteTable) -> Vec<(u32, u32, usize)> {
    let mut entries: Vec<(u8, u8, usize, (u32, u32))> = Vec::new();
    for (i, r) in rt.routes.iter().enumerate() {
        for c in &r.cidrs {
            if let Some(range) = cidr_range(c) {
                entries.push((c.len, r.rank as u8, i, range));
            }
        }
    }
    entries.sort_by_key(|&(len, rank, i, _)| (std::cmp::Reverse(len), rank, i));
    partition(entries.into_iter().map(|(_, _, i, r)| (r, i)))
}

/// The same for a transit-gateway route table (static before propagated at equal length).
pub(crate) fn tgw_partition(rt: &TgwRouteTable) -> Vec<(u32, u32, usize)> {
    let mut entries: Vec<(u8, bool, usize, (u32, u32))> = rt
        .routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| cidr_range(&r.cidr).map(|x| (r.cidr.len, r.propagated, i, x)))
        .collect();
    entries.sort_by_key(|&(len, prop, i, _)| (std::cmp::Reverse(len), prop, i));
    partition(entries.into_iter().map(|(_, _, i, r)| (r, i)))
}

fn partition(ordered: impl Iterator<Item = ((u32, u32), usize)>) -> Vec<(u32, u32, usize)> {
    let mut rest = vec![(0u32, u32::MAX)];
    let mut out = Vec::new();
    for ((lo, hi), i) in ordered {
        if rest.is_empty() {
            break;
        }
        for &(a, b) in &rest {
            let (x, y) = (a.max(lo), b.min(hi));
            if x <= y {
                out.push((x, y, i));
            }
        }
        rest = subtract_ranges(&rest, &[(lo, hi)]);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ip::{Addr, Cidr};
    use crate::model::{Loc, Nacl};
    use crate::nacl::eval_nacl_entries;
    use crate::packet::Packet;

    fn entry(
        n: u16,
        allow: bool,
        proto: Option<u8>,
        cidr: &str,
        ports: Option<(u16, u16)>,
    ) -> NaclEntry {
        NaclEntry {
            rule_number: n,
            allow,
            protocol: proto,
            cidr: Cidr::parse(cidr).unwrap(),
            port_range: ports,
            icmp: None,
        }
    }

    fn nacl(ingress: Vec<NaclEntry>) -> Nacl {
        Nacl {
            id: "acl-1".into(),
            loc: Loc::default(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            ingress,
            egress: vec![],
            subnet_ids: vec![],
        }
    }

    #[test]
    fn nacl_deny_in_the_middle_of_an_allow_range() {
        // 100 deny tcp 22 from anywhere; 200 allow tcp 0-1023 from 0.0.0.0/0
        let n = nacl(vec![
            entry(100, false, Some(6), "0.0.0.0/0", Some((22, 22))),
            entry(200, true, Some(6), "0.0.0.0/0", Some((0, 1023))),
        ]);
        let a = nacl_allow(&n.ingress, Direction::Ingress);
        let tcp = a.set.restrict(PROTO, 6, 6);
        assert_eq!(tcp.project(DPORT), vec![(0, 21), (23, 1023)]);
        assert!(a.set.restrict(PROTO, 17, 17).is_empty());
        assert_eq!(a.entries.len(), 1);
    }

    #[test]
    fn nacl_deny_of_a_subnet_inside_an_allow() {
        // 90 deny all from 198.51.100.0/24; 100 allow all from 0.0.0.0/0
        let n = nacl(vec![
            entry(90, false, None, "198.51.100.0/24", None),
            entry(100, true, None, "0.0.0.0/0", None),
        ]);
        let a = nacl_allow(&n.ingress, Direction::Ingress);
        assert_eq!(
            a.set.project(SRC),
            vec![(0, 0xC633_63FF), (0xC633_6500, u32::MAX)]
        );
    }

    /// The set form agrees with the per-packet evaluator on a grid of packets.
    #[test]
    fn nacl_set_agrees_with_packet_evaluation() {
        let n = nacl(vec![
            entry(10, true, Some(6), "10.0.0.0/8", Some((80, 80))),
            entry(20, false, Some(6), "10.1.0.0/16", None),
            entry(30, true, Some(17), "0.0.0.0/0", Some((53, 53))),
            entry(40, false, None, "10.2.0.0/16", None),
            entry(50, true, Some(6), "0.0.0.0/0", Some((1000, 2000))),
            entry(60, true, None, "::/0", None),
        ]);
        let a = nacl_allow(&n.ingress, Direction::Ingress);
        let dst = Addr::parse("10.9.9.9").unwrap();
        for src in ["10.1.2.3", "10.2.3.4", "10.3.0.1", "8.8.8.8"] {
            let src = Addr::parse(src).unwrap();
            for proto in [6u8, 17] {
                for port in [22u16, 53, 80, 999, 1000, 1500, 2000, 2001] {
                    let p = Packet {
                        protocol: proto,
                        ..Packet::tcp(src, 40000, dst, port)
                    };
                    let want = eval_nacl_entries(&n, Direction::Ingress, &p).allow;
                    let pt = [
                        u32::from(proto),
                        src.bits as u32,
                        dst.bits as u32,
                        40000,
                        u32::from(port),
                    ];
                    assert_eq!(a.set.contains(pt), want, "{src} {proto} {port}");
                }
            }
        }
    }

    #[test]
    fn partition_is_longest_prefix_first() {
        let rt = RouteTable {
            id: "rtb-1".into(),
            loc: Loc::default(),
            vpc_id: "vpc-1".into(),
            main: true,
            routes: ["0.0.0.0/0", "10.0.0.0/16", "10.0.5.0/24"]
                .iter()
                .map(|c| crate::model::Route {
                    destination: (*c).into(),
                    cidrs: vec![Cidr::parse(c).unwrap()],
                    prefix_list_id: None,
                    target: crate::model::Target::Local,
                    blackhole: false,
                    rank: crate::model::RouteRank::Static,
                    origin: "CreateRoute".into(),
                })
                .collect(),
            subnet_ids: vec![],
            gateway_ids: vec![],
        };
        let p = route_partition(&rt);
        assert_eq!(
            p,
            vec![
                (0, 0x09FF_FFFF, 0),
                (0x0A00_0000, 0x0A00_04FF, 1),
                (0x0A00_0500, 0x0A00_05FF, 2),
                (0x0A00_0600, 0x0A00_FFFF, 1),
                (0x0A01_0000, u32::MAX, 0),
            ]
        );
    }
}
