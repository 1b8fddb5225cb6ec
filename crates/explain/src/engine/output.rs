//! Putting the engine's compact decisions into words: the [`Report`] with enriched
//! interfaces, reasons (rule texts, nearest security-group rules, routes), reason counts and
//! security-group rule usage. Runs once per group, never per record.

use std::collections::BTreeMap;

use flowwatch_net::model::EniOwner;
use flowwatch_net::packet::protocol_name;
use flowwatch_net::reach::trace_packet_from_eni;
use flowwatch_net::{Direction, route};

use super::{Decision, Engine, EniRef, GroupAcc, GroupKey};
use crate::fxhash::FxMap;
use crate::report::{Counts, FlowGroup, Interface, Reason, ReasonCount, Report, RuleUsage};
use crate::text::{nacl_rule_text, nearest_rules, sg_rule_text};

impl Engine<'_> {
    fn interface(&self, e: EniRef, unknown: &[String]) -> Interface {
        let e = match e {
            EniRef::Known(e) => self.s.eni(e),
            EniRef::Unknown(i) => {
                return Interface {
                    interface_id: unknown.get(i as usize).cloned().unwrap_or_default(),
                    ..Interface::default()
                };
            }
        };
        let (instance_id, attached_to) = match &e.owner {
            EniOwner::Instance(i) => (Some(i.clone()), None),
            EniOwner::NatGateway(n) => (None, Some(n.clone())),
            EniOwner::VpcEndpoint(v) | EniOwner::LoadBalancer(v) => (None, Some(v.clone())),
            EniOwner::Other => (None, None),
        };
        Interface {
            interface_id: e.id.clone(),
            in_snapshot: true,
            instance_id,
            attached_to,
            subnet_id: (!e.subnet_id.is_empty()).then(|| e.subnet_id.clone()),
            vpc_id: (!e.vpc_id.is_empty()).then(|| e.vpc_id.clone()),
            security_groups: e.group_ids.clone(),
        }
    }

    fn reason(&self, k: &GroupKey, acc: &GroupAcc) -> Reason {
        let eni = match k.eni {
            EniRef::Known(e) => e,
            EniRef::Unknown(_) => return Reason::UnknownInterface,
        };
        let dir = k.dir.unwrap_or(Direction::Ingress);
        let e = self.s.eni(eni);
        let p = &acc.sample;
        let route_table = || {
            e.subnet
                .and_then(|s| self.s.subnet(s).route_table)
                .map(|rt| self.s.route_table(rt))
        };
        match k.decision {
            Decision::Nacl {
                nacl,
                dir,
                rule_number,
                entry,
            } => {
                let n = self.s.nacl(nacl);
                let entries = match dir {
                    Direction::Ingress => &n.ingress,
                    Direction::Egress => &n.egress,
                };
                let entry = entry.and_then(|i| entries.get(i as usize));
                Reason::NetworkAcl {
                    acl_id: n.id.clone(),
                    subnet_id: e.subnet_id.clone(),
                    direction: dir,
                    rule_number,
                    rule: nacl_rule_text(entry, p.src.v6),
                }
            }
            Decision::SgNoMatch => Reason::SecurityGroup {
                direction: dir,
                groups: e.group_ids.clone(),
                nearest: nearest_rules(self.s, eni, dir, p, self.opts.nearest_rules),
            },
            Decision::NoRoute => Reason::NoRoute {
                route_table_id: route_table().map(|rt| rt.id.clone()),
                destination: p.dst.to_string(),
                blackhole_route: None,
                detail: None,
            },
            Decision::Blackhole => {
                let rt = route_table();
                let r = rt.and_then(|rt| route::lookup(rt, p.dst));
                Reason::NoRoute {
                    route_table_id: rt.map(|rt| rt.id.clone()),
                    destination: p.dst.to_string(),
                    blackhole_route: r.map(|r| format!("{} -> {}", r.destination, r.target.id())),
                    detail: None,
                }
            }
            Decision::NoRouteBeyond => {
                let (_, _, expl) = trace_packet_from_eni(self.s, eni, *p);
                let detail = expl.first().map(|x| {
                    let code = serde_json::to_value(x.explanation_code)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    format!("{code} at {}", x.component.id)
                });
                Reason::NoRoute {
                    route_table_id: route_table().map(|rt| rt.id.clone()),
                    destination: p.dst.to_string(),
                    blackhole_route: None,
                    detail,
                }
            }
            Decision::NoListener => {
                let lb = match &e.owner {
                    EniOwner::LoadBalancer(lb) => lb.clone(),
                    _ => String::new(),
                };
                Reason::NoListener {
                    load_balancer: lb,
                    protocol: protocol_name(p.protocol),
                    port: p.dst_port,
                }
            }
            Decision::State => Reason::ConnectionState,
            Decision::Unexplained => Reason::Unexplained,
            Decision::UnknownInterface => Reason::UnknownInterface,
        }
    }

    fn groups_out(&self, map: &FxMap<GroupKey, GroupAcc>, unknown: &[String]) -> Vec<FlowGroup> {
        // Order on the compact keys first (no strings built, no large structs moved), then
        // put only the sorted groups into words.
        let id = |e: EniRef| -> &str {
            match e {
                EniRef::Known(e) => &self.s.eni(e).id,
                EniRef::Unknown(i) => unknown.get(i as usize).map_or("", String::as_str),
            }
        };
        let mut order: Vec<(&GroupKey, &GroupAcc)> = map.iter().collect();
        order.sort_unstable_by(|(ka, a), (kb, b)| {
            b.records
                .cmp(&a.records)
                .then_with(|| id(ka.eni).cmp(id(kb.eni)))
                .then_with(|| ka.peer.cmp(&kb.peer))
                .then_with(|| ka.port.cmp(&kb.port))
                .then_with(|| ka.proto.cmp(&kb.proto))
                .then_with(|| ka.reply.cmp(&kb.reply))
                .then_with(|| format!("{:?}", ka.dir).cmp(&format!("{:?}", kb.dir)))
                .then_with(|| format!("{:?}", ka.decision).cmp(&format!("{:?}", kb.decision)))
        });
        order
            .into_iter()
            .map(|(k, acc)| {
                let reason = self.reason(k, acc);
                FlowGroup {
                    interface: self.interface(k.eni, unknown),
                    direction: k.dir,
                    peer_address: k.peer.to_string(),
                    peer: acc
                        .peer_eni
                        .map(|p| self.interface(EniRef::Known(p), unknown)),
                    protocol: protocol_name(k.proto),
                    port: k.port,
                    reply: k.reply,
                    records: acc.records,
                    packets: acc.packets,
                    bytes: acc.bytes,
                    first_start: acc.first,
                    last_start: acc.last,
                    explanation: reason.summary(),
                    reason,
                }
            })
            .collect()
    }

    pub(crate) fn report(&self, unknown: &[String]) -> Report {
        let rejects = self.groups_out(&self.groups, unknown);
        let drift = self.groups_out(&self.drift, unknown);
        let mut kinds: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
        for g in &rejects {
            let k = kinds.entry(g.reason.kind()).or_insert((0, 0));
            k.0 += 1;
            k.1 += g.records;
        }
        let mut reasons: Vec<ReasonCount> = kinds
            .into_iter()
            .map(|(kind, (groups, records))| ReasonCount {
                kind,
                groups,
                records,
            })
            .collect();
        reasons.sort_by(|a, b| b.records.cmp(&a.records).then(a.kind.cmp(b.kind)));
        // Security groups on observed interfaces, with how many such interfaces.
        let mut on = vec![0u32; self.s.security_groups.len()];
        for (i, seen) in self.observed.iter().enumerate() {
            if *seen {
                for g in &self.s.enis[i].groups {
                    if let Some(n) = on.get_mut(g.get()) {
                        *n += 1;
                    }
                }
            }
        }
        let mut rule_usage = Vec::new();
        for (gi, sg) in self.s.security_groups.iter().enumerate() {
            if on[gi] == 0 {
                continue;
            }
            let (ib, eb) = self.rule_base[gi];
            for (dir, rules, base) in [
                (Direction::Ingress, &sg.ingress, ib),
                (Direction::Egress, &sg.egress, eb),
            ] {
                for (i, rule) in rules.iter().enumerate() {
                    let id = base as usize + i;
                    let (records, packets) = self.rule_use.get(id).copied().unwrap_or((0, 0));
                    rule_usage.push(RuleUsage {
                        group_id: sg.id.clone(),
                        group_name: sg.name.clone(),
                        direction: dir,
                        rule_index: i,
                        rule: sg_rule_text(rule, dir),
                        accepted_records: records,
                        accepted_packets: packets,
                        observed_interfaces: on[gi],
                    });
                }
            }
        }
        Report {
            counts: Counts::default(),
            skipped: vec![],
            reasons,
            rejects,
            drift,
            rule_usage,
            unobserved_security_groups: on.iter().filter(|&&n| n == 0).count(),
        }
    }
}
