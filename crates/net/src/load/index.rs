//! The indexes built once everything is read: id → resource, subnets ↔ VPCs, route tables
//! and NACLs per subnet, ENI addresses, rule peers, and the AWS address space.

use std::path::PathBuf;

use super::{Link, Loader, Raw, problem};
use crate::error::Severity;
use crate::ip::{Cidr, coarse_aws_prefixes};
use crate::model::*;

impl Loader {
    /// The lookup indexes and cross-references (subnets to VPCs, route tables, NACLs, ENI addresses, rule peers); dangling references become warnings.
    pub(super) fn link_indexes(&mut self, _raw: &Raw, k: &mut Link) {
        let Link {
            s,
            file_of,
            dangling,
            ..
        } = k;
        // ---- indexes ----
        macro_rules! index {
            ($table:ident, $variant:ident) => {
                for (i, r) in s.$table.iter().enumerate() {
                    s.by_id.insert(r.id.clone(), Resource::$variant(i));
                }
            };
        }
        index!(vpcs, Vpc);
        index!(subnets, Subnet);
        index!(route_tables, RouteTable);
        index!(security_groups, SecurityGroup);
        index!(nacls, Nacl);
        index!(enis, Eni);
        index!(instances, Instance);
        index!(internet_gateways, InternetGateway);
        index!(egress_only_gateways, EgressOnlyInternetGateway);
        index!(nat_gateways, NatGateway);
        index!(peerings, Peering);
        index!(transit_gateways, TransitGateway);
        index!(tgw_route_tables, TgwRouteTable);
        index!(prefix_lists, PrefixList);
        index!(vpc_endpoints, VpcEndpoint);
        index!(vpn_gateways, VpnGateway);
        index!(load_balancers, LoadBalancer);
        for (i, lb) in s.load_balancers.iter().enumerate() {
            s.by_id
                .entry(lb.name.clone())
                .or_insert(Resource::LoadBalancer(i));
        }
        for (i, a) in s.tgw_attachments.iter().enumerate() {
            s.by_id
                .entry(a.id.clone())
                .or_insert(Resource::TgwAttachment(i));
        }

        // Subnets ↔ VPCs.
        for i in 0..s.subnets.len() {
            let vpc = s.vpc_idx(&s.subnets[i].vpc_id);
            match vpc {
                Some(v) => {
                    s.subnets[i].vpc = Some(v);
                    s.vpcs[v.get()].subnets.push(ix(i));
                }
                None => {
                    let (sid, vid) = (s.subnets[i].id.clone(), s.subnets[i].vpc_id.clone());
                    let f = file_of.get(&sid).copied().unwrap_or(usize::MAX);
                    self.warn(f, vec![sid, vid], "subnet in an unknown VPC".into());
                }
            }
        }
        // Route tables: main per VPC, explicit per subnet, else main.
        for (i, rt) in s.route_tables.iter().enumerate() {
            if rt.main
                && let Some(v) = s.by_id.get(&rt.vpc_id).and_then(|r| {
                    if let Resource::Vpc(v) = r {
                        Some(*v)
                    } else {
                        None
                    }
                })
            {
                s.vpcs[v].main_route_table = Some(ix(i));
            }
        }
        for (i, rt) in s.route_tables.iter().enumerate() {
            for sid in &rt.subnet_ids {
                match s.by_id.get(sid) {
                    Some(Resource::Subnet(si)) => {
                        s.subnets[*si].route_table = Some(ix(i));
                        s.subnets[*si].explicit_route_table = true;
                    }
                    _ => dangling.push((
                        rt.id.clone(),
                        vec![rt.id.clone(), sid.clone()],
                        "route table associated with an unknown subnet".into(),
                    )),
                }
            }
            for r in &rt.routes {
                let (missing, what) = match &r.target {
                    Target::Local | Target::Other(_) | Target::TransitGateway(_) => (false, ""),
                    Target::InternetGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::InternetGateway(_))),
                        "internet gateway",
                    ),
                    Target::EgressOnlyInternetGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::EgressOnlyInternetGateway(_))),
                        "egress-only internet gateway",
                    ),
                    Target::NatGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::NatGateway(_))),
                        "NAT gateway",
                    ),
                    Target::VpcPeeringConnection(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Peering(_))),
                        "peering connection",
                    ),
                    Target::NetworkInterface(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Eni(_))),
                        "network interface",
                    ),
                    Target::Instance(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Instance(_))),
                        "instance",
                    ),
                    Target::VpnGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::VpnGateway(_))),
                        "VPN gateway",
                    ),
                    Target::GatewayEndpoint(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::VpcEndpoint(_))),
                        "VPC endpoint",
                    ),
                };
                if missing && !r.blackhole {
                    dangling.push((
                        rt.id.clone(),
                        vec![rt.id.clone(), r.target.id().to_string()],
                        format!("route {} to a missing {what}", r.destination),
                    ));
                }
            }
        }
        for i in 0..s.subnets.len() {
            if s.subnets[i].route_table.is_none() {
                if let Some(v) = s.subnets[i].vpc {
                    s.subnets[i].route_table = s.vpcs[v.get()].main_route_table;
                }
                if s.subnets[i].route_table.is_none() {
                    let sid = s.subnets[i].id.clone();
                    dangling.push((
                        sid.clone(),
                        vec![sid],
                        "subnet without a route table (explicit or main)".into(),
                    ));
                }
            }
        }
        // NACLs.
        for (i, n) in s.nacls.iter().enumerate() {
            if n.is_default
                && let Some(Resource::Vpc(v)) = s.by_id.get(&n.vpc_id)
            {
                s.vpcs[*v].default_nacl = Some(ix(i));
            }
            for sid in &n.subnet_ids {
                match s.by_id.get(sid) {
                    Some(Resource::Subnet(si)) => s.subnets[*si].nacl = Some(ix(i)),
                    _ => dangling.push((
                        n.id.clone(),
                        vec![n.id.clone(), sid.clone()],
                        "network ACL associated with an unknown subnet".into(),
                    )),
                }
            }
        }
        for i in 0..s.subnets.len() {
            if s.subnets[i].nacl.is_none() {
                if let Some(v) = s.subnets[i].vpc {
                    s.subnets[i].nacl = s.vpcs[v.get()].default_nacl;
                }
                if s.subnets[i].nacl.is_none() && !s.nacls.is_empty() {
                    let sid = s.subnets[i].id.clone();
                    dangling.push((
                        sid.clone(),
                        vec![sid],
                        "subnet without a network ACL: treated as allow-all".into(),
                    ));
                }
            }
        }
        // Gateways on VPCs.
        for g in &s.internet_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].internet_gateways.push(g.id.clone());
                }
            }
        }
        for g in &s.egress_only_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].egress_only_gateways.push(g.id.clone());
                }
            }
        }
        for g in &s.vpn_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].vpn_gateways.push(g.id.clone());
                }
            }
        }
        // ENIs: subnet, groups, address indexes.
        for i in 0..s.enis.len() {
            let sid = s.enis[i].subnet_id.clone();
            match s.by_id.get(&sid) {
                Some(Resource::Subnet(si)) => {
                    let si = *si;
                    s.enis[i].subnet = Some(ix(si));
                    s.subnets[si].enis.push(ix(i));
                    if s.enis[i].vpc_id.is_empty() {
                        s.enis[i].vpc_id = s.subnets[si].vpc_id.clone();
                    }
                    if s.enis[i].availability_zone.is_empty() {
                        s.enis[i].availability_zone = s.subnets[si].availability_zone.clone();
                    }
                }
                _ => {
                    let eid = s.enis[i].id.clone();
                    dangling.push((
                        eid.clone(),
                        vec![eid, sid],
                        "network interface in an unknown subnet".into(),
                    ));
                }
            }
            let mut groups = Vec::new();
            for g in s.enis[i].group_ids.clone() {
                match s.by_id.get(&g) {
                    Some(Resource::SecurityGroup(gi)) => groups.push(ix(*gi)),
                    _ => {
                        let eid = s.enis[i].id.clone();
                        dangling.push((eid.clone(), vec![eid, g], "network interface carries an unknown security group (it allows nothing)".into()));
                    }
                }
            }
            s.enis[i].groups = groups;
            if let Some(Resource::Vpc(v)) = s.by_id.get(&s.enis[i].vpc_id) {
                let v: VpcIdx = ix(*v);
                for a in s.enis[i].private_ips.clone() {
                    s.eni_by_ip.entry((v, a)).or_insert(ix(i));
                    s.eni_by_any_ip.entry(a).or_insert(ix(i));
                }
            }
            if s.enis[i].active {
                for (p, q) in s.enis[i].public_ips.clone() {
                    s.public_ip.entry(q).or_insert((ix(i), p));
                }
            }
            for g in s.enis[i].groups.clone() {
                let ips = s.enis[i].private_ips.clone();
                s.security_groups[g.get()].members.extend(ips);
            }
        }
        for g in &mut s.security_groups {
            g.members.sort();
            g.members.dedup();
        }
        // Security-group rule peers.
        for gi in 0..s.security_groups.len() {
            for egress in [false, true] {
                let n = if egress {
                    s.security_groups[gi].egress.len()
                } else {
                    s.security_groups[gi].ingress.len()
                };
                for ri in 0..n {
                    let peer = {
                        let g = &s.security_groups[gi];
                        if egress {
                            g.egress[ri].peer.clone()
                        } else {
                            g.ingress[ri].peer.clone()
                        }
                    };
                    let gid = s.security_groups[gi].id.clone();
                    let (cidrs, group) = match &peer {
                        SgPeer::Cidr(_) => continue,
                        SgPeer::PrefixList(pl) => match s.prefix_list(pl) {
                            Some(p) => (p.cidrs.clone(), None),
                            None => {
                                dangling.push((gid.clone(), vec![gid, pl.clone()], "security group rule references an unknown prefix list (matches nothing)".into()));
                                (vec![], None)
                            }
                        },
                        SgPeer::Group(g) => match s.by_id.get(g) {
                            Some(Resource::SecurityGroup(x)) => (vec![], Some(ix(*x))),
                            _ => {
                                dangling.push((gid.clone(), vec![gid, g.clone()], "security group rule references an unknown group (matches nothing)".into()));
                                (vec![], None)
                            }
                        },
                    };
                    let g = &mut s.security_groups[gi];
                    let rule = if egress {
                        &mut g.egress[ri]
                    } else {
                        &mut g.ingress[ri]
                    };
                    rule.peer_cidrs = cidrs;
                    rule.peer_group = group;
                }
            }
        }
        for g in &mut s.security_groups {
            g.fast_ingress = g.ingress.iter().map(crate::sg::FastRule::compile).collect();
            g.fast_egress = g.egress.iter().map(crate::sg::FastRule::compile).collect();
        }
        // NAT gateways: subnet.
        for n in &mut s.nat_gateways {
            match s.by_id.get(&n.subnet_id) {
                Some(Resource::Subnet(si)) => n.subnet = Some(ix(*si)),
                _ => dangling.push((
                    n.id.clone(),
                    vec![n.id.clone(), n.subnet_id.clone()],
                    "NAT gateway in an unknown subnet".into(),
                )),
            }
        }
        // Peerings: both ends known?
        for p in &s.peerings {
            for side in [&p.requester, &p.accepter] {
                if !matches!(s.by_id.get(&side.vpc_id), Some(Resource::Vpc(_))) {
                    self.problems.push(problem(
                        Severity::Note,
                        file_of
                            .get(&p.id)
                            .and_then(|&f| self.files.get(f))
                            .map(PathBuf::as_path),
                        vec![p.id.clone(), side.vpc_id.clone()],
                        "peering connection to a VPC outside the snapshot".into(),
                    ));
                }
            }
        }
    }

    /// Dangling references reported; AWS address space from ip-ranges.json or the coarse list.
    pub(super) fn link_address_space(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            file_of,
            dangling,
            ..
        } = k;
        for (id, ids, msg) in std::mem::take(dangling) {
            let f = file_of.get(&id).copied().unwrap_or(usize::MAX);
            self.warn(f, ids, msg);
        }

        // AWS address space.
        if raw.ip_ranges.is_empty() {
            s.aws_prefixes = coarse_aws_prefixes();
        } else {
            for p in &raw.ip_ranges {
                let Some(c) = p
                    .ip_prefix
                    .as_deref()
                    .or(p.ipv6_prefix.as_deref())
                    .and_then(Cidr::parse)
                else {
                    continue;
                };
                if !s.aws_prefixes.contains(&c) {
                    s.aws_prefixes.push(c);
                }
                let svc = p.service.as_deref().unwrap_or("");
                if svc != "AMAZON" && svc != "EC2" && !s.aws_service_prefixes.contains(&c) {
                    s.aws_service_prefixes.push(c);
                }
            }
        }
        for pl in &s.prefix_lists {
            if pl.name.starts_with("com.amazonaws.") {
                for c in &pl.cidrs {
                    if !s.aws_service_prefixes.contains(c) {
                        s.aws_service_prefixes.push(*c);
                    }
                }
            }
        }
    }
}
