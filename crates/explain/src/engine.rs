//! The judging engine behind [`Explainer`](crate::Explainer): it indexes the ACCEPTed tuples
//! (reply evidence), then judges every record through two caches keyed by
//! (interface, direction, protocol, local address, peer address, destination port): one
//! allocation-free evaluation of the snapshot's NACL, security groups and route per class,
//! however many records share it. Reasons are put into words once per reported group.

use flowwatch_net::model::EniOwner;
use flowwatch_net::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use flowwatch_net::reach::trace_packet_from_eni;
use flowwatch_net::{
    Addr, Direction, Disposition, EniIdx, NaclIdx, Packet, Resource, Snapshot, route,
};

use crate::explainer::ExplainOptions;
use crate::fxhash::FxMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum EniRef {
    Known(EniIdx),
    /// Index into the unknown-interface names.
    Unknown(u32),
}

/// A checked record: addresses are the packet's (`pkt-*` when present).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    pub(crate) eni: EniRef,
    pub(crate) dir: Option<Direction>,
    pub(crate) accept: bool,
    pub(crate) proto: u8,
    pub(crate) src: Addr,
    pub(crate) dst: Addr,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) start: Option<i64>,
}

impl Rec {
    fn ends(&self, d: Direction) -> (Addr, Addr) {
        match d {
            Direction::Ingress => (self.dst, self.src),
            Direction::Egress => (self.src, self.dst),
        }
    }
}

/// An exact tuple on one interface and direction (the reply-evidence index).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct TupleKey {
    eni: u32,
    dir: Direction,
    proto: u8,
    src: Addr,
    dst: Addr,
    sport: u16,
    dport: u16,
}

/// What decides a record: the rules never test the source port.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClassKey {
    eni: EniIdx,
    dir: Direction,
    proto: u8,
    local: Addr,
    peer: Addr,
    dport: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Decision {
    Nacl {
        nacl: NaclIdx,
        dir: Direction,
        rule_number: u16,
        entry: Option<u32>,
    },
    SgNoMatch,
    /// A load balancer node with no listener for the packet's protocol and port.
    NoListener,
    NoRoute,
    Blackhole,
    NoRouteBeyond,
    State,
    Unexplained,
    UnknownInterface,
}

#[derive(Clone, Copy)]
struct RejectClass {
    peer_eni: Option<EniIdx>,
    as_new: Decision,
    as_reply: Decision,
}

#[derive(Clone, Copy)]
struct AcceptClass {
    peer_eni: Option<EniIdx>,
    nacl_deny: Option<Decision>,
    sg_applies: bool,
    sg_ok: bool,
    /// Range of matching rule ids in `Engine::rule_ids`.
    rules: (u32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    eni: EniRef,
    dir: Option<Direction>,
    peer: Addr,
    proto: u8,
    port: u16,
    reply: bool,
    decision: Decision,
}

#[derive(Clone, Copy)]
struct GroupAcc {
    records: u64,
    packets: u64,
    bytes: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// The packet as judged (first record of the group).
    sample: Packet,
    peer_eni: Option<EniIdx>,
}

fn opposite(d: Direction) -> Direction {
    match d {
        Direction::Ingress => Direction::Egress,
        Direction::Egress => Direction::Ingress,
    }
}

pub(crate) fn has_ports(proto: u8) -> bool {
    proto == PROTO_TCP || proto == PROTO_UDP
}

/// The packet a class is judged on. Flow logs carry no ICMP type: a new flow is taken as an
/// echo request, a reply as an echo reply.
fn packet(proto: u8, src: Addr, dst: Addr, sport: u16, dport: u16, reply: bool) -> Packet {
    let mut p = Packet::new(proto, src, dst);
    if has_ports(proto) {
        p.src_port = sport;
        p.dst_port = dport;
    } else if proto == PROTO_ICMP || proto == PROTO_ICMPV6 {
        let (req, rep) = if proto == PROTO_ICMP {
            (8, 0)
        } else {
            (128, 129)
        };
        p.icmp_type = Some(if reply { rep } else { req });
        p.icmp_code = Some(0);
    }
    p
}

pub(crate) struct Engine<'a> {
    s: &'a Snapshot,
    opts: &'a ExplainOptions,
    /// ACCEPTed tuples → sorted `start`s (`i64::MIN` for records without one: any time).
    accepted: FxMap<TupleKey, Vec<i64>>,
    rejects: FxMap<ClassKey, RejectClass>,
    accepts: FxMap<ClassKey, AcceptClass>,
    rule_ids: Vec<u32>,
    /// Per security group: the global id of its first ingress and first egress rule.
    rule_base: Vec<(u32, u32)>,
    /// Per global rule id: (records, packets).
    rule_use: Vec<(u64, u64)>,
    observed: Vec<bool>,
    groups: FxMap<GroupKey, GroupAcc>,
    drift: FxMap<GroupKey, GroupAcc>,
    pub(crate) decisions: u64,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(s: &'a Snapshot, opts: &'a ExplainOptions) -> Self {
        let mut rule_base = Vec::with_capacity(s.security_groups.len());
        let mut n = 0u32;
        for g in &s.security_groups {
            let i = n;
            let e = i.saturating_add(u32::try_from(g.ingress.len()).unwrap_or(u32::MAX));
            n = e.saturating_add(u32::try_from(g.egress.len()).unwrap_or(u32::MAX));
            rule_base.push((i, e));
        }
        Engine {
            s,
            opts,
            accepted: FxMap::default(),
            rejects: FxMap::default(),
            accepts: FxMap::default(),
            rule_ids: Vec::new(),
            rule_base,
            rule_use: vec![(0, 0); n as usize],
            observed: vec![false; s.enis.len()],
            groups: FxMap::default(),
            drift: FxMap::default(),
            decisions: 0,
        }
    }

    pub(crate) fn index(&mut self, recs: &[Rec]) {
        self.index_records(recs, true);
    }

    /// Reply evidence only: the interfaces are not marked as observed (rule usage stays about
    /// the records being explained).
    pub(crate) fn index_evidence(&mut self, recs: &[Rec]) {
        self.index_records(recs, false);
    }

    fn index_records(&mut self, recs: &[Rec], observe: bool) {
        for r in recs {
            let (EniRef::Known(e), Some(dir)) = (r.eni, r.dir) else {
                continue;
            };
            if observe && let Some(o) = self.observed.get_mut(e.get()) {
                *o = true;
            }
            if !r.accept {
                continue;
            }
            let key = TupleKey {
                eni: e.0,
                dir,
                proto: r.proto,
                src: r.src,
                dst: r.dst,
                sport: r.sport,
                dport: r.dport,
            };
            self.accepted
                .entry(key)
                .or_default()
                .push(r.start.unwrap_or(i64::MIN));
        }
        for v in self.accepted.values_mut() {
            v.sort_unstable();
        }
    }

    /// Was `key` ACCEPTed within the reply window of `t`?
    fn seen(&self, key: &TupleKey, t: Option<i64>) -> bool {
        if self.accepted.is_empty() {
            return false;
        }
        let Some(v) = self.accepted.get(key) else {
            return false;
        };
        let Some(t) = t else { return true };
        if v.first() == Some(&i64::MIN) {
            return true;
        }
        let w = self.opts.reply_window_secs;
        let i = v.partition_point(|&x| x < t.saturating_sub(w));
        v.get(i).is_some_and(|&x| x <= t.saturating_add(w))
    }

    /// Is `r` (on `e`, direction `d`) the reply of an ACCEPTed request: the reversed tuple
    /// ACCEPTed here in the other direction, or on the peer's interface in this direction?
    fn is_reply(&self, r: &Rec, e: EniIdx, d: Direction, peer_eni: Option<EniIdx>) -> bool {
        let rev = TupleKey {
            eni: e.0,
            dir: opposite(d),
            proto: r.proto,
            src: r.dst,
            dst: r.src,
            sport: r.dport,
            dport: r.sport,
        };
        self.seen(&rev, r.start)
            || peer_eni.is_some_and(|p| {
                self.seen(
                    &TupleKey {
                        eni: p.0,
                        dir: d,
                        ..rev
                    },
                    r.start,
                )
            })
    }

    fn peer_eni(&self, e: EniIdx, peer: Addr) -> Option<EniIdx> {
        let vpc = self.s.eni(e).subnet.and_then(|s| self.s.subnet(s).vpc);
        vpc.and_then(|v| self.s.eni_by_private_ip(v, peer))
            .or_else(|| self.s.eni_by_any_private_ip(peer))
            .filter(|&p| p != e)
    }

    fn nacl_of(&self, k: &ClassKey) -> Option<NaclIdx> {
        let sub = self.s.subnet(self.s.eni(k.eni).subnet?);
        if sub.contains(k.peer) {
            return None; // NACLs do not apply inside a subnet
        }
        sub.nacl
    }

    fn nacl_deny(&self, n: Option<NaclIdx>, dir: Direction, p: &Packet) -> Option<Decision> {
        let n = n?;
        let d = self.s.eval_nacl(n, dir, p);
        (!d.allow).then(|| Decision::Nacl {
            nacl: n,
            dir,
            rule_number: d.rule_number,
            entry: d.entry.and_then(|i| u32::try_from(i).ok()),
        })
    }

    /// NAT gateways have no security groups; load balancer nodes only when they were given
    /// some (network load balancers created without any).
    fn sg_applies(&self, e: EniIdx) -> bool {
        let eni = self.s.eni(e);
        match eni.owner {
            EniOwner::NatGateway(_) => false,
            EniOwner::LoadBalancer(_) => !eni.groups.is_empty(),
            _ => true,
        }
    }

    /// Whether `e` is a load balancer node that no listener takes `p` on.
    fn no_listener(&self, e: EniIdx, p: &Packet) -> bool {
        let EniOwner::LoadBalancer(lb) = &self.s.eni(e).owner else {
            return false;
        };
        let Some(Resource::LoadBalancer(li)) = self.s.resolve(lb) else {
            return false;
        };
        self.s.load_balancers[li].listener_for(p).is_none()
    }

    /// Spec §7, per direction; `reply`: the request was ACCEPTed.
    fn decide(&self, k: &ClassKey, p: &Packet, reply: bool) -> Decision {
        let nacl = self.nacl_of(k);
        let sg_denies =
            || self.sg_applies(k.eni) && !self.s.eval_security_groups(k.eni, k.dir, p).allowed();
        match k.dir {
            Direction::Ingress => {
                if let Some(d) = self.nacl_deny(nacl, Direction::Ingress, p) {
                    return d;
                }
                if reply {
                    return Decision::State;
                }
                if sg_denies() {
                    return Decision::SgNoMatch;
                }
                if self.no_listener(k.eni, p) {
                    return Decision::NoListener;
                }
                Decision::Unexplained
            }
            Direction::Egress => {
                if !reply && sg_denies() {
                    return Decision::SgNoMatch;
                }
                if let Some(d) = self.nacl_deny(nacl, Direction::Egress, p) {
                    return d;
                }
                if reply {
                    return Decision::State;
                }
                self.route_decision(k, p).unwrap_or(Decision::Unexplained)
            }
        }
    }

    fn route_decision(&self, k: &ClassKey, p: &Packet) -> Option<Decision> {
        let sub = self.s.subnet(self.s.eni(k.eni).subnet?);
        if sub.contains(k.peer) {
            return None;
        }
        let Some(rt) = sub.route_table else {
            return Some(Decision::NoRoute);
        };
        match route::lookup(self.s.route_table(rt), p.dst) {
            None => Some(Decision::NoRoute),
            Some(r) if r.blackhole => Some(Decision::Blackhole),
            Some(_) => {
                let (d, _, _) = trace_packet_from_eni(self.s, k.eni, *p);
                matches!(d, Disposition::NoRoute | Disposition::NullRouted)
                    .then_some(Decision::NoRouteBeyond)
            }
        }
    }

    fn class_key(r: &Rec, e: EniIdx, d: Direction) -> ClassKey {
        let (local, peer) = r.ends(d);
        ClassKey {
            eni: e,
            dir: d,
            proto: r.proto,
            local,
            peer,
            dport: r.dport,
        }
    }

    pub(crate) fn reject(&mut self, r: &Rec) {
        let (EniRef::Known(e), Some(d)) = (r.eni, r.dir) else {
            let (_, peer) = r.ends(r.dir.unwrap_or(Direction::Ingress));
            let key = GroupKey {
                eni: r.eni,
                dir: r.dir,
                peer,
                proto: r.proto,
                port: r.dport,
                reply: false,
                decision: Decision::UnknownInterface,
            };
            let p = packet(r.proto, r.src, r.dst, r.sport, r.dport, false);
            add_to(&mut self.groups, key, r, p, None);
            return;
        };
        let k = Self::class_key(r, e, d);
        let class = match self.rejects.get(&k) {
            Some(c) => *c,
            None => {
                self.decisions += 1;
                let c = RejectClass {
                    peer_eni: self.peer_eni(e, k.peer),
                    as_new: self.decide(
                        &k,
                        &packet(r.proto, r.src, r.dst, r.sport, r.dport, false),
                        false,
                    ),
                    as_reply: self.decide(
                        &k,
                        &packet(r.proto, r.src, r.dst, r.sport, r.dport, true),
                        true,
                    ),
                };
                self.rejects.insert(k, c);
                c
            }
        };
        let reply = self.is_reply(r, e, d, class.peer_eni);
        let key = GroupKey {
            eni: r.eni,
            dir: Some(d),
            peer: k.peer,
            proto: r.proto,
            port: if reply { r.sport } else { r.dport },
            reply,
            decision: if reply { class.as_reply } else { class.as_new },
        };
        let p = packet(r.proto, r.src, r.dst, r.sport, r.dport, reply);
        add_to(&mut self.groups, key, r, p, class.peer_eni);
    }

    fn accept_class(&mut self, k: ClassKey, p: &Packet) -> AcceptClass {
        if let Some(c) = self.accepts.get(&k) {
            return *c;
        }
        self.decisions += 1;
        let start = u32::try_from(self.rule_ids.len()).unwrap_or(u32::MAX);
        let sg_applies = self.sg_applies(k.eni);
        if sg_applies {
            for &g in &self.s.eni(k.eni).groups {
                let sg = self.s.security_group(g);
                let (rules, base) = match k.dir {
                    Direction::Ingress => (&sg.ingress, self.rule_base[g.get()].0),
                    Direction::Egress => (&sg.egress, self.rule_base[g.get()].1),
                };
                for (i, rule) in rules.iter().enumerate() {
                    if self.s.sg_rule_matches(rule, k.dir, p) {
                        let i = u32::try_from(i).unwrap_or(u32::MAX);
                        self.rule_ids.push(base.saturating_add(i));
                    }
                }
            }
        }
        let end = u32::try_from(self.rule_ids.len()).unwrap_or(u32::MAX);
        let c = AcceptClass {
            peer_eni: self.peer_eni(k.eni, k.peer),
            nacl_deny: self.nacl_deny(self.nacl_of(&k), k.dir, p),
            sg_applies,
            sg_ok: end > start,
            rules: (start, end - start),
        };
        self.accepts.insert(k, c);
        c
    }

    pub(crate) fn accept(&mut self, r: &Rec) {
        let (EniRef::Known(e), Some(d)) = (r.eni, r.dir) else {
            return;
        };
        let k = Self::class_key(r, e, d);
        let p = packet(r.proto, r.src, r.dst, r.sport, r.dport, false);
        let c = self.accept_class(k, &p);
        let rev_seen = self.is_reply(r, e, d, c.peer_eni);
        // The reversed tuple as a request in the other direction: does the SG admit it?
        let mut rev_ok = || {
            let rk = ClassKey {
                dir: opposite(d),
                dport: r.sport,
                ..k
            };
            let rp = packet(r.proto, r.dst, r.src, r.dport, r.sport, false);
            self.accept_class(rk, &rp).sg_ok
        };
        let drift = if let Some(n) = c.nacl_deny {
            Some(n)
        } else if c.sg_applies && !c.sg_ok && !(rev_seen && rev_ok()) {
            Some(Decision::SgNoMatch)
        } else {
            None
        };
        if let Some(decision) = drift {
            let key = GroupKey {
                eni: r.eni,
                dir: Some(d),
                peer: k.peer,
                proto: r.proto,
                port: if rev_seen { r.sport } else { r.dport },
                reply: rev_seen,
                decision,
            };
            add_to(&mut self.drift, key, r, p, c.peer_eni);
            return;
        }
        if c.sg_ok {
            // A reply also matches rules; the server side answering (lower source port, the
            // request seen and admitted the other way) is not counted as use.
            let reply = has_ports(r.proto) && r.sport < r.dport && rev_seen && rev_ok();
            if !reply {
                let (s, n) = c.rules;
                for &id in &self.rule_ids[s as usize..(s + n) as usize] {
                    if let Some(u) = self.rule_use.get_mut(id as usize) {
                        u.0 += 1;
                        u.1 += r.packets;
                    }
                }
            }
        }
    }
}

fn add_to(
    map: &mut FxMap<GroupKey, GroupAcc>,
    key: GroupKey,
    r: &Rec,
    sample: Packet,
    peer_eni: Option<EniIdx>,
) {
    let acc = map.entry(key).or_insert(GroupAcc {
        records: 0,
        packets: 0,
        bytes: 0,
        first: None,
        last: None,
        sample,
        peer_eni,
    });
    acc.records += 1;
    acc.packets += r.packets;
    acc.bytes += r.bytes;
    if let Some(t) = r.start {
        acc.first = Some(acc.first.map_or(t, |f| f.min(t)));
        acc.last = Some(acc.last.map_or(t, |l| l.max(t)));
    }
}

mod output;
