//! Following a route's target with a header set: local delivery, internet gateways (the
//! public-address check), NAT gateways (source translation, their subnet's NACL and table),
//! peering (into the far VPC only), transit gateways (their tables partition the set), VPN
//! gateways and gateway endpoints (where the path ends).

use super::*;

impl Engine<'_> {
    pub(super) fn follow(
        &mut self,
        si: usize,
        vi: usize,
        target: &Target,
        set: HeaderSet,
        depth: usize,
    ) {
        let s = self.s;
        let vpc = &s.vpcs[vi];
        let vpc_c = Component::new(vpc.id.clone(), "vpc");
        match target {
            Target::Local => {
                self.push(vpc_c);
                self.vpc_deliver(vi, set);
                self.hops.pop();
            }
            Target::InternetGateway(id) => {
                if !vpc.internet_gateways.contains(id) || !self.wanted.gateways {
                    return;
                }
                // The IGW's 1:1 NAT needs a public address on the (current) source.
                let Some(src) = set.cubes().first().map(|c| c.lo[SRC]) else {
                    return;
                };
                let a = Addr::v4(src);
                let public = s
                    .eni_by_private_ip(ix(vi), a)
                    .and_then(|e| s.eni(e).public_ip_of(a));
                let Some(public) = public else { return };
                let part = set.restrict_ranges(DST, &internet_v4());
                if part.is_empty() {
                    return;
                }
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "internet-gateway"));
                if let Some(h) = self.hops.last_mut() {
                    h.outbound_header = Some(PacketHeader {
                        source_addresses: vec![public.to_string()],
                        destination_addresses: vec![],
                        source_port_ranges: vec![],
                        destination_port_ranges: vec![],
                        protocol: "tcp/udp".into(),
                    });
                }
                self.emit(Node::Igw(id.clone()), part);
                self.hops.pop();
                self.hops.pop();
            }
            Target::NatGateway(id) => {
                let Some(Resource::NatGateway(ni)) = s.resolve(id) else {
                    return;
                };
                let nat = &s.nat_gateways[ni];
                let (Some(nsi), Some(nat_ip)) = (nat.subnet, nat.private_ip.and_then(v4)) else {
                    return;
                };
                if !nat.available {
                    return;
                }
                // Only sources inside the NAT gateway's VPC are translated.
                let part = set.restrict_ranges(SRC, &ranges_of(&vpc.cidrs));
                if part.is_empty() {
                    return;
                }
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "nat-gateway"));
                let nsub = s.subnet(nsi);
                let src_in_nat_subnet = part
                    .cubes()
                    .first()
                    .is_some_and(|c| nsub.contains(Addr::v4(c.lo[SRC])));
                let part = if src_in_nat_subnet {
                    part
                } else {
                    self.nacl(nsi.get(), Direction::Ingress, part)
                };
                if !part.is_empty() {
                    let translated = part.rewrite(SRC, nat_ip);
                    if let Some(h) = self.hops.last_mut() {
                        h.outbound_header = Some(PacketHeader {
                            source_addresses: vec![Addr::v4(nat_ip).to_string()],
                            destination_addresses: vec![],
                            source_port_ranges: vec![],
                            destination_port_ranges: vec![],
                            protocol: "tcp/udp".into(),
                        });
                    }
                    let own = ranges_of(&nsub.cidrs);
                    let local = translated.restrict_ranges(DST, &own);
                    if !local.is_empty() {
                        for &t in &nsub.enis {
                            self.deliver(t, &local);
                        }
                    }
                    let rest = translated.subtract(&HeaderSet::from_cubes(
                        own.iter()
                            .filter_map(|&(lo, hi)| Cube::FULL.with(DST, lo, hi)),
                    ));
                    self.subnet_out(nsi.get(), rest, depth + 1);
                }
                self.hops.pop();
                self.hops.pop();
            }
            Target::VpcPeeringConnection(id) => {
                let Some(Resource::Peering(pi)) = s.resolve(id) else {
                    return;
                };
                let pcx = &s.peerings[pi];
                let Some(other) = pcx.other_side(&vpc.id).filter(|_| pcx.active) else {
                    return;
                };
                let part = set.restrict_ranges(DST, &ranges_of(&other.cidrs));
                if part.is_empty() {
                    return;
                }
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "vpc-peering-connection"));
                match s.vpc_idx(&other.vpc_id) {
                    Some(ov) => {
                        self.push(Component::new(other.vpc_id.clone(), "vpc"));
                        self.vpc_deliver(ov.get(), part);
                        self.hops.pop();
                    }
                    None if self.wanted.gateways => self.emit(Node::Peering(id.clone()), part),
                    None => {}
                }
                self.hops.pop();
                self.hops.pop();
            }
            Target::TransitGateway(id) => {
                let att = s.tgw_attachments.iter().find(|a| {
                    &a.tgw_id == id && a.resource_type == "vpc" && a.resource_id == vpc.id
                });
                let Some(att) = att.filter(|a| a.available) else {
                    return;
                };
                let az = &s.subnets[si].availability_zone;
                let az_ok = att.subnet_ids.is_empty()
                    || att.subnet_ids.iter().any(|x| {
                        s.subnet_idx(x)
                            .is_some_and(|x| &s.subnet(x).availability_zone == az)
                    });
                if !az_ok {
                    return;
                }
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "transit-gateway"));
                if let Some(h) = self.hops.last_mut() {
                    h.transit_gateway_attachment =
                        Some(Component::new(att.id.clone(), "transit-gateway-attachment"));
                }
                self.tgw(id, &att.id, set, depth + 1);
                self.hops.pop();
                self.hops.pop();
            }
            Target::VpnGateway(id) if self.wanted.gateways => {
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "vpn-gateway"));
                self.emit(Node::Vgw(id.clone()), set);
                self.hops.pop();
                self.hops.pop();
            }
            Target::GatewayEndpoint(id) if self.wanted.gateways => {
                // Gateway endpoints carry TCP (and ICMP) only.
                let part = set.restrict(PROTO, u32::from(PROTO_TCP), u32::from(PROTO_TCP));
                if part.is_empty() {
                    return;
                }
                self.push(vpc_c);
                self.push(Component::new(id.clone(), "vpc-endpoint"));
                self.emit(Node::Endpoint(id.clone()), part);
                self.hops.pop();
                self.hops.pop();
            }
            // Appliances (routes to an ENI), carrier/local gateways: not followed.
            _ => {}
        }
    }

    /// At transit gateway `tgw`, arriving on `in_att`: its associated table partitions the
    /// set among its routes.
    pub(super) fn tgw(&mut self, tgw: &str, in_att: &str, set: HeaderSet, depth: usize) {
        let s = self.s;
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(Resource::TransitGateway(t)) = s.resolve(tgw)
            && !s.transit_gateways[t].available
        {
            return;
        }
        let Some(rt_id) = s
            .tgw_attachment(tgw, in_att)
            .and_then(|a| a.route_table.clone())
        else {
            return;
        };
        let Some(Resource::TgwRouteTable(ti)) = s.resolve(&rt_id) else {
            return;
        };
        let table = &s.tgw_route_tables[ti];
        let parts = self
            .tgw_cache
            .entry(ti)
            .or_insert_with(|| tgw_partition(table))
            .clone();
        let mut by_route: Vec<(usize, Vec<(u32, u32)>)> = Vec::new();
        for (lo, hi, r) in parts {
            match by_route.iter_mut().find(|(x, _)| *x == r) {
                Some((_, v)) => v.push((lo, hi)),
                None => by_route.push((r, vec![(lo, hi)])),
            }
        }
        for (ri, ranges) in by_route {
            let route = &table.routes[ri];
            let part = set.restrict_ranges(DST, &ranges);
            if part.is_empty() || route.blackhole {
                continue;
            }
            let Some(out) = route.attachment.as_deref() else {
                continue;
            };
            let Some(a2) = s.tgw_attachment(tgw, out) else {
                continue;
            };
            if let Some(h) = self.hops.last_mut() {
                h.transit_gateway_route_table_route = Some(TransitGatewayRouteTableRoute {
                    route_table_id: table.id.clone(),
                    destination_cidr: route.cidr.to_string(),
                    attachment_id: route.attachment.clone(),
                    route_origin: if route.propagated {
                        "propagated"
                    } else {
                        "static"
                    },
                    state: "active",
                });
            }
            match a2.resource_type.as_str() {
                "vpc" => {
                    if let Some(v) = s.vpc_idx(&a2.resource_id) {
                        self.push(Component::new(a2.resource_id.clone(), "vpc"));
                        self.vpc_deliver(v.get(), part);
                        self.hops.pop();
                    }
                }
                "peering" => {
                    let peer = a2.resource_id.clone();
                    self.push(Component::new(peer.clone(), "transit-gateway"));
                    if let Some(h) = self.hops.last_mut() {
                        h.transit_gateway_attachment =
                            Some(Component::new(out, "transit-gateway-attachment"));
                    }
                    self.tgw(&peer, out, part, depth + 1);
                    self.hops.pop();
                }
                _ if self.wanted.gateways => {
                    self.push(Component::new(out, "transit-gateway-attachment"));
                    self.emit(Node::Attachment(out.to_string()), part);
                    self.hops.pop();
                }
                _ => {}
            }
        }
    }
}
