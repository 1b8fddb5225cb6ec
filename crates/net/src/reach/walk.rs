//! The walk inside a VPC: leaving an ENI, the subnet's NACL and route table, delivery in the
//! VPC or the subnet, appliances, peering, and the dispatch on where a walk starts.

use super::*;

impl Walk<'_> {
    pub(super) fn leave_eni(&mut self, e: EniIdx, p: Packet) -> Result<Disposition, Disposition> {
        self.push_eni(e)?;
        let eni = self.s.eni(e);
        if !eni.active {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(Disposition::DeniedOut, ExplanationCode::BadState, c));
        }
        if !self.check_sg(e, Direction::Egress, &p) {
            return Ok(Disposition::DeniedOut);
        }
        if eni.source_dest_check
            && !eni.owns(p.src)
            && !matches!(eni.owner, EniOwner::NatGateway(_))
        {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::DeniedOut,
                ExplanationCode::EniSourceDestCheckRestriction,
                c,
            ));
        }
        let Some(si) = eni.subnet else {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        // The reply of a connection a load balancer forwarded goes back through its node.
        let p = if self.reply { self.lb_steer(p) } else { p };
        if self.s.subnet(si).contains(p.dst) {
            return self.local_in_subnet(si.get(), p, false);
        }
        self.subnet_out(si.get(), p)
    }

    /// Same-subnet delivery: no NACL, no route table. A load balancer node is a hop of its
    /// own behind the subnet (as in Batfish), so traffic to or from one (`from_lb`) shows the
    /// subnet hop.
    pub(super) fn local_in_subnet(
        &mut self,
        si: usize,
        p: Packet,
        from_lb: bool,
    ) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        let target = sub
            .vpc
            .and_then(|v| self.s.eni_by_private_ip(v, p.dst))
            .filter(|e| self.s.eni(*e).subnet.map(SubnetIdx::get) == Some(si));
        match target {
            Some(t) => {
                if from_lb || matches!(self.s.eni(t).owner, EniOwner::LoadBalancer(_)) {
                    self.push(Component::new(sub.id.clone(), "subnet"))?;
                }
                self.deliver_eni(t, p)
            }
            None => {
                self.push(Component::new(sub.id.clone(), "subnet"))?;
                Ok(self.fail(
                    Disposition::NeighborUnreachable,
                    ExplanationCode::UnknownDestination,
                    Component::new(sub.id.clone(), "subnet"),
                ))
            }
        }
    }

    pub(super) fn deliver_eni(&mut self, e: EniIdx, p: Packet) -> Result<Disposition, Disposition> {
        if let EniOwner::NatGateway(n) = &self.s.eni(e).owner
            && let Some(Resource::NatGateway(ni)) = self.s.resolve(n)
        {
            return self.nat_receive(ni, p);
        }
        if let EniOwner::LoadBalancer(l) = &self.s.eni(e).owner
            && let Some(Resource::LoadBalancer(li)) = self.s.resolve(l)
        {
            return self.lb_receive(li, e, p);
        }
        self.push_eni(e)?;
        if !self.s.eni(e).active {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::NeighborUnreachable,
                ExplanationCode::BadState,
                c,
            ));
        }
        if !self.check_sg(e, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        self.stop = Some(Start::Eni(e));
        self.packet = p;
        Ok(Disposition::Accepted)
    }

    pub(super) fn subnet_out(&mut self, si: usize, p: Packet) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        self.push(Component::new(sub.id.clone(), "subnet"))?;
        if !self.check_nacl(si, Direction::Egress, &p) {
            return Ok(Disposition::DeniedOut);
        }
        let sub_c = Component::new(sub.id.clone(), "subnet");
        let Some(rt) = sub.route_table else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::NoRouteToDestination,
                sub_c,
            ));
        };
        let table = self.s.route_table(rt);
        let Some(route) = lookup(table, p.dst) else {
            let mut ex = Explanation::new(
                ExplanationCode::NoRouteToDestination,
                Component::new(table.id.clone(), "route-table"),
            );
            ex.route_table = Some(Component::new(table.id.clone(), "route-table"));
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NoRoute);
        };
        let rr = RouteTableRoute {
            route_table_id: table.id.clone(),
            destination_cidr: if route.prefix_list_id.is_none() {
                Some(route.destination.clone())
            } else {
                None
            },
            destination_prefix_list_id: route.prefix_list_id.clone(),
            target: route.target.id().to_string(),
            origin: route.origin.clone(),
            state: if route.blackhole {
                "blackhole"
            } else {
                "active"
            },
        };
        if let Some(h) = self.last() {
            h.route_table_route = Some(rr.clone());
        }
        if route.blackhole {
            let mut ex = Explanation::new(
                ExplanationCode::BadStateRoute,
                Component::new(table.id.clone(), "route-table"),
            );
            ex.route_table = Some(Component::new(table.id.clone(), "route-table"));
            ex.route_table_route = Some(rr);
            self.explain(ex);
            return Ok(Disposition::NullRouted);
        }
        let Some(vi) = sub.vpc.map(VpcIdx::get) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::UnknownResource,
                sub_c,
            ));
        };
        let vpc = &self.s.vpcs[vi];
        match &route.target {
            Target::Local => {
                self.push(self.vpc_component(vi))?;
                self.vpc_deliver(vi, p)
            }
            Target::InternetGateway(id) => {
                if !vpc.internet_gateways.contains(id) {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::IgwNotAttached,
                        Component::new(id.clone(), "internet-gateway"),
                    ));
                }
                self.push(self.vpc_component(vi))?;
                self.igw_out(id, vi, p)
            }
            Target::EgressOnlyInternetGateway(id) => {
                if !vpc.egress_only_gateways.contains(id) {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadStateAttachment,
                        Component::new(id.clone(), "egress-only-internet-gateway"),
                    ));
                }
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "egress-only-internet-gateway"))?;
                self.push(Component::new(BACKBONE, "aws-backbone"))?;
                self.isp_route(p, false)
            }
            Target::NatGateway(id) => {
                let Some(Resource::NatGateway(ni)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "nat-gateway"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.nat_forward(ni, p)
            }
            Target::TransitGateway(id) => {
                let att = self.s.tgw_attachments.iter().find(|a| {
                    &a.tgw_id == id && a.resource_type == "vpc" && a.resource_id == vpc.id
                });
                let Some(att) = att else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadStateAttachment,
                        Component::new(id.clone(), "transit-gateway"),
                    ));
                };
                let az_ok = att.subnet_ids.is_empty()
                    || att.subnet_ids.iter().any(|s| {
                        self.s.subnet_idx(s).is_some_and(|x| {
                            self.s.subnet(x).availability_zone == sub.availability_zone
                        })
                    });
                if !az_ok {
                    let mut ex = Explanation::new(
                        ExplanationCode::TgwAttachVpcAzRestriction,
                        Component::new(att.id.clone(), "transit-gateway-attachment"),
                    );
                    ex.address = Some(sub.availability_zone.clone());
                    self.explain(ex);
                    return Ok(Disposition::NullRouted);
                }
                let att_id = att.id.clone();
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment =
                        Some(Component::new(att_id.clone(), "transit-gateway-attachment"));
                }
                self.tgw_route(id, &att_id, p)
            }
            Target::VpcPeeringConnection(id) => {
                let Some(Resource::Peering(pi)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpc-peering-connection"),
                    ));
                };
                let pcx = &self.s.peerings[pi];
                self.push(self.vpc_component(vi))?;
                if !pcx.active {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::BadState,
                        Component::new(id.clone(), "vpc-peering-connection"),
                    ));
                }
                self.cross_peering(pi, &vpc.id, p)
            }
            Target::VpnGateway(id) => {
                let Some(Resource::VpnGateway(gi)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpn-gateway"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "vpn-gateway"))?;
                self.vgw_route(gi, p)
            }
            Target::GatewayEndpoint(id) => {
                let Some(Resource::VpcEndpoint(ei)) = self.s.resolve(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "vpc-endpoint"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.push(Component::new(id.clone(), "vpc-endpoint"))?;
                if !(p.protocol == PROTO_TCP || p.is_icmp()) {
                    return Ok(self.fail(
                        Disposition::DeniedIn,
                        ExplanationCode::VpceGatewayProtocolRestriction,
                        Component::new(id.clone(), "vpc-endpoint"),
                    ));
                }
                self.stop = Some(Start::GatewayEndpoint(ei));
                self.packet = p;
                Ok(Disposition::ExitsNetwork)
            }
            Target::NetworkInterface(id) | Target::Instance(id) => {
                let Some(e) = self.s.eni_idx(id) else {
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::UnknownResource,
                        Component::new(id.clone(), "network-interface"),
                    ));
                };
                self.push(self.vpc_component(vi))?;
                self.via_appliance(e, p)
            }
            Target::Other(id) => Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::UnsupportedComponent,
                Component::new(id.clone(), "gateway"),
            )),
        }
    }

    /// A route to an ENI (middlebox): the packet enters the appliance, which is assumed to
    /// forward it unchanged; that needs source/destination check off.
    pub(super) fn via_appliance(
        &mut self,
        e: EniIdx,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        if self.s.eni(e).owns(p.dst) {
            return self.deliver_eni(e, p);
        }
        self.push_eni(e)?;
        if !self.check_sg(e, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        if self.s.eni(e).source_dest_check {
            let (c, _) = self.eni_component(e);
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::EniSourceDestCheckRestriction,
                c,
            ));
        }
        self.hops.pop();
        self.leave_eni(e, p)
    }

    pub(super) fn vpc_deliver(&mut self, vi: usize, p: Packet) -> Result<Disposition, Disposition> {
        let vpc = &self.s.vpcs[vi];
        match self.s.subnet_containing(ix(vi), p.dst) {
            Some(si) => self.subnet_in(si.get(), p),
            None if vpc.cidrs.iter().any(|c| c.contains(p.dst)) => Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                self.vpc_component(vi),
            )),
            None => Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::NoRouteToDestination,
                self.vpc_component(vi),
            )),
        }
    }

    pub(super) fn subnet_in(&mut self, si: usize, p: Packet) -> Result<Disposition, Disposition> {
        let sub = &self.s.subnets[si];
        self.push(Component::new(sub.id.clone(), "subnet"))?;
        if !self.check_nacl(si, Direction::Ingress, &p) {
            return Ok(Disposition::DeniedIn);
        }
        let target = sub.vpc.and_then(|v| self.s.eni_by_private_ip(v, p.dst));
        match target {
            Some(t) => self.deliver_eni(t, p),
            None => Ok(self.fail(
                Disposition::NeighborUnreachable,
                ExplanationCode::UnknownDestination,
                Component::new(sub.id.clone(), "subnet"),
            )),
        }
    }

    pub(super) fn cross_peering(
        &mut self,
        pi: usize,
        from_vpc: &str,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        let pcx = &self.s.peerings[pi];
        let pcx_c = Component::new(pcx.id.clone(), "vpc-peering-connection");
        self.push(pcx_c.clone())?;
        let Some(other) = pcx.other_side(from_vpc) else {
            return Ok(self.fail(Disposition::NullRouted, ExplanationCode::BadState, pcx_c));
        };
        if !other.cidrs.iter().any(|c| c.contains(p.dst)) {
            let mut ex = Explanation::new(ExplanationCode::PcxRequiresAddressInVpcCidr, pcx_c);
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NullRouted);
        }
        let Some(ov) = self.s.vpc_idx(&other.vpc_id) else {
            // The peer VPC is outside the snapshot: the packet leaves what we can see.
            self.stop = None;
            self.packet = p;
            return Ok(self.fail(
                Disposition::ExitsNetwork,
                ExplanationCode::UnknownDestination,
                Component::new(other.vpc_id.clone(), "vpc"),
            ));
        };
        self.push(self.vpc_component(ov.get()))?;
        self.vpc_deliver(ov.get(), p)
    }

    pub(super) fn start(&mut self, at: Start, p: Packet) -> Result<Disposition, Disposition> {
        match at {
            Start::Eni(e) => self.leave_eni(e, p),
            Start::Subnet(si) => {
                if self.s.subnets[si].contains(p.dst) {
                    self.push(Component::new(self.s.subnets[si].id.clone(), "subnet"))?;
                    let t = self.s.subnets[si]
                        .vpc
                        .and_then(|v| self.s.eni_by_private_ip(v, p.dst));
                    return match t {
                        Some(t) => self.deliver_eni(t, p),
                        None => Ok(self.fail(
                            Disposition::NeighborUnreachable,
                            ExplanationCode::UnknownDestination,
                            Component::new(self.s.subnets[si].id.clone(), "subnet"),
                        )),
                    };
                }
                self.subnet_out(si, p)
            }
            Start::Vpc(vi) => {
                self.push(self.vpc_component(vi))?;
                self.vpc_deliver(vi, p)
            }
            Start::Internet => self.enter_from_internet(p),
            Start::Services => {
                self.push(Component::new(AWS_SERVICES, "aws-services"))?;
                self.push(Component::new(BACKBONE, "aws-backbone"))?;
                self.isp_route(p, false)
            }
            Start::Igw(gi) => {
                let g = &self.s.internet_gateways[gi];
                let Some(vi) = g.vpc_ids.first().and_then(|v| self.s.vpc_idx(v)) else {
                    self.push(Component::new(g.id.clone(), "internet-gateway"))?;
                    return Ok(self.fail(
                        Disposition::NullRouted,
                        ExplanationCode::IgwNotAttached,
                        Component::new(g.id.clone(), "internet-gateway"),
                    ));
                };
                let mut p = p;
                // A private destination: use its public address, as the internet would.
                if let Some(e) = self.s.eni_by_private_ip(vi, p.dst)
                    && let Some(public) = self.s.eni(e).public_ip_of(p.dst)
                {
                    p.dst = public;
                }
                let id = g.id.clone();
                self.igw_in(&id, vi.get(), p)
            }
            Start::Vgw(gi) => self.enter_from_vgw(gi, p),
            Start::Nat(ni) => match self.s.nat_gateways[ni].eni {
                Some(e) => self.leave_eni(e, p),
                None => Ok(self.fail(
                    Disposition::NoRoute,
                    ExplanationCode::BadState,
                    Component::new(self.s.nat_gateways[ni].id.clone(), "nat-gateway"),
                )),
            },
            Start::Pcx(pi) => {
                let pcx = &self.s.peerings[pi];
                // Enter the side whose CIDRs hold the destination.
                let side = if pcx.requester.cidrs.iter().any(|c| c.contains(p.dst)) {
                    &pcx.accepter
                } else {
                    &pcx.requester
                };
                let from = side.vpc_id.clone();
                self.cross_peering(pi, &from, p)
            }
            Start::TgwAttachment(ai) => {
                let a = &self.s.tgw_attachments[ai];
                let (tgw, id) = (a.tgw_id.clone(), a.id.clone());
                self.push(Component::new(tgw.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment =
                        Some(Component::new(id.clone(), "transit-gateway-attachment"));
                }
                self.tgw_route(&tgw, &id, p)
            }
            Start::GatewayEndpoint(ei) => {
                let ep = &self.s.vpc_endpoints[ei];
                self.push(Component::new(ep.id.clone(), "vpc-endpoint"))?;
                let Some(vi) = self.s.vpc_idx(&ep.vpc_id) else {
                    return Ok(self.fail(
                        Disposition::NoRoute,
                        ExplanationCode::UnknownResource,
                        Component::new(ep.vpc_id.clone(), "vpc"),
                    ));
                };
                self.push(self.vpc_component(vi.get()))?;
                self.vpc_deliver(vi.get(), p)
            }
        }
    }

    pub(super) fn run(&mut self, at: Start, p: Packet) -> Disposition {
        self.packet = p;
        match self.start(at, p) {
            Ok(d) | Err(d) => d,
        }
    }
}
