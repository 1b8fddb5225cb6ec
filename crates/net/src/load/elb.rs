//! Linking Elastic Load Balancing v2: load balancers (`describe-load-balancers`), their
//! listeners (`describe-listeners`, or Batfish's `LoadBalancerListeners` wrapper), target
//! groups and the registered targets (`LoadBalancerTargetHealth`: one
//! `describe-target-health` output per target group, with its ARN), the cross-zone attribute,
//! and the load balancer's node ENIs (description `ELB <type>/<name>/<id>`).

use std::collections::HashMap;

use super::{Link, Loader, Raw};
use crate::model::*;

impl Loader {
    pub(super) fn link_load_balancers(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s, seen, file_of, ..
        } = k;
        // Target group → (port, targets in health order).
        let mut groups: HashMap<&str, (u16, Vec<LbTarget>)> = HashMap::new();
        for (_, _, g) in &raw.target_groups {
            if let Some(arn) = g.TargetGroupArn.as_deref() {
                groups.insert(arn, (g.Port.unwrap_or(0), vec![]));
            }
        }
        for (_, f, h) in &raw.target_health {
            let Some(arn) = h.TargetGroupArn.as_deref() else {
                self.note(
                    *f,
                    vec![],
                    "target health without TargetGroupArn, skipped".into(),
                );
                continue;
            };
            let entry = groups.entry(arn).or_insert((0, vec![]));
            for d in &h.TargetHealthDescriptions {
                let Some(t) = &d.Target else { continue };
                let Some(id) = t.Id.clone() else { continue };
                let state = d.TargetHealth.as_ref().and_then(|x| x.State.as_deref());
                entry.1.push(LbTarget {
                    id,
                    port: t.Port.unwrap_or(entry.0),
                    healthy: matches!(state, None | Some("healthy")),
                });
            }
        }
        // Listeners by load balancer, from either shape.
        let mut listeners: HashMap<&str, Vec<&crate::raw::Listener>> = HashMap::new();
        for (_, _, w) in &raw.lb_listeners {
            for l in &w.Listeners {
                if let Some(lb) = l
                    .LoadBalancerArn
                    .as_deref()
                    .or(w.LoadBalancerArn.as_deref())
                {
                    listeners.entry(lb).or_default().push(l);
                }
            }
        }
        for (_, _, l) in &raw.listeners {
            if let Some(lb) = l.LoadBalancerArn.as_deref() {
                listeners.entry(lb).or_default().push(l);
            }
        }
        let mut cross_zone: HashMap<&str, bool> = HashMap::new();
        for (_, _, a) in &raw.lb_attributes {
            let Some(lb) = a.LoadBalancerArn.as_deref() else {
                continue;
            };
            for attr in &a.Attributes {
                if attr.Key.as_deref() == Some("load_balancing.cross_zone.enabled") {
                    cross_zone.insert(lb, attr.Value.as_deref() == Some("true"));
                }
            }
        }
        // Node ENIs by description (one pass, not one per load balancer).
        let mut nodes: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in s.enis.iter().enumerate() {
            if e.description.starts_with("ELB ") {
                nodes.entry(e.description.clone()).or_default().push(i);
            }
        }
        for (loc, f, lb) in &raw.lbs {
            let Some(id) =
                fresh!(self, seen, file_of; lb.LoadBalancerArn.as_ref(), *f, "load balancer")
            else {
                continue;
            };
            let lb_type = lb.Type.clone().unwrap_or_else(|| "application".into());
            let mut out = vec![];
            for l in listeners.get(id.as_str()).into_iter().flatten() {
                let target_group = l
                    .DefaultActions
                    .iter()
                    .filter(|a| a.Type.as_deref() == Some("forward"))
                    .min_by_key(|a| a.Order.unwrap_or(i64::MAX))
                    .and_then(|a| a.TargetGroupArn.clone());
                let targets = target_group
                    .as_deref()
                    .and_then(|g| groups.get(g))
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                out.push(LbListener {
                    port: l.Port.unwrap_or(0),
                    protocol: l.Protocol.clone().unwrap_or_else(|| "TCP".into()),
                    target_group,
                    targets,
                });
            }
            if out.is_empty() {
                self.note(
                    *f,
                    vec![id.clone()],
                    "load balancer without listeners".into(),
                );
            }
            // The node ENIs: "ELB net/<name>/<id>" ↔ ARN "…:loadbalancer/net/<name>/<id>".
            let mut node_enis = vec![];
            if let Some((_, tail)) = id.split_once(":loadbalancer/") {
                for &i in nodes.get(&format!("ELB {tail}")).into_iter().flatten() {
                    s.enis[i].owner = EniOwner::LoadBalancer(id.clone());
                    node_enis.push(ix(i));
                }
            }
            s.load_balancers.push(LoadBalancer {
                cross_zone: lb_type == "application"
                    || cross_zone.get(id.as_str()).copied().unwrap_or(false),
                id,
                loc: loc.clone(),
                name: lb.LoadBalancerName.clone().unwrap_or_default(),
                dns_name: lb.DNSName.clone().unwrap_or_default(),
                lb_type,
                scheme: lb
                    .Scheme
                    .clone()
                    .unwrap_or_else(|| "internet-facing".into()),
                vpc_id: lb.VpcId.clone().unwrap_or_default(),
                listeners: out,
                nodes: node_enis,
            });
        }
    }
}
