//! Gateways on the walk: internet gateways (1:1 NAT), the AWS backbone and the internet, NAT
//! gateways (source translation and their sessions) and VPN gateways.

use super::*;

impl Walk<'_> {
    pub(super) fn igw_out(
        &mut self,
        igw: &str,
        vi: usize,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        self.push(Component::new(igw, "internet-gateway"))?;
        if !p.src.v6 {
            let public = self
                .s
                .eni_by_private_ip(ix(vi), p.src)
                .and_then(|e| self.s.eni(e).public_ip_of(p.src));
            let Some(public) = public else {
                let mut ex = Explanation::new(
                    ExplanationCode::IgwPublicIpAssociationForEgress,
                    Component::new(igw, "internet-gateway"),
                );
                ex.address = Some(p.src.to_string());
                self.explain(ex);
                return Ok(Disposition::DeniedIn);
            };
            p.src = public;
            let h = header(&p);
            if let Some(hop) = self.last() {
                hop.outbound_header = Some(h);
            }
        }
        self.push(Component::new(BACKBONE, "aws-backbone"))?;
        self.isp_route(p, false)
    }

    /// The AWS backbone (`isp_16509`): public addresses of the snapshot go to their IGW,
    /// VGW tunnel endpoints to the VGW; other AWS space is dropped when it comes from the
    /// internet and handed to the AWS services gateway when it comes from inside; the rest
    /// goes to the internet.
    pub(super) fn isp_route(
        &mut self,
        p: Packet,
        from_internet: bool,
    ) -> Result<Disposition, Disposition> {
        if let Some((e, _)) = self.s.eni_by_public_ip(p.dst) {
            let vpc = self.s.vpc_idx(&self.s.eni(e).vpc_id);
            let igw = vpc.and_then(|v| self.s.vpcs[v.get()].internet_gateways.first().cloned());
            return match (vpc, igw) {
                (Some(v), Some(g)) => self.igw_in(&g, v.get(), p),
                _ => {
                    let mut ex = Explanation::new(
                        ExplanationCode::IgwNotAttached,
                        Component::new(self.s.eni(e).vpc_id.clone(), "vpc"),
                    );
                    ex.address = Some(p.dst.to_string());
                    self.explain(ex);
                    Ok(Disposition::NullRouted)
                }
            };
        }
        if let Some(gi) = self
            .s
            .vpn_gateways
            .iter()
            .position(|g| g.outside_ips.contains(&p.dst))
        {
            self.push(Component::new(
                self.s.vpn_gateways[gi].id.clone(),
                "vpn-gateway",
            ))?;
            self.stop = Some(Start::Vgw(gi));
            self.packet = p;
            return Ok(Disposition::Accepted);
        }
        let in_services = self
            .s
            .aws_service_prefixes
            .iter()
            .any(|c| c.contains(p.dst));
        let in_aws = in_services || self.s.aws_prefixes.iter().any(|c| c.contains(p.dst));
        if in_aws {
            if from_internet && !in_services {
                return Ok(self.fail(
                    Disposition::NullRouted,
                    ExplanationCode::UnknownDestination,
                    Component::new(BACKBONE, "aws-backbone"),
                ));
            }
            self.push(Component::new(AWS_SERVICES, "aws-services"))?;
            self.stop = Some(Start::Services);
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        self.push(Component::new(INTERNET, "internet"))?;
        if is_non_internet(p.dst) {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                Component::new(INTERNET, "internet"),
            ));
        }
        self.stop = Some(Start::Internet);
        self.packet = p;
        Ok(Disposition::ExitsNetwork)
    }

    pub(super) fn enter_from_internet(&mut self, p: Packet) -> Result<Disposition, Disposition> {
        self.push(Component::new(INTERNET, "internet"))?;
        if is_non_internet(p.dst) {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::NoRouteToDestination,
                Component::new(INTERNET, "internet"),
            ));
        }
        let aws = self.s.eni_by_public_ip(p.dst).is_some()
            || self
                .s
                .vpn_gateways
                .iter()
                .any(|g| g.outside_ips.contains(&p.dst))
            || self
                .s
                .aws_service_prefixes
                .iter()
                .any(|c| c.contains(p.dst))
            || self.s.aws_prefixes.iter().any(|c| c.contains(p.dst));
        if !aws {
            self.stop = Some(Start::Internet);
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        self.push(Component::new(BACKBONE, "aws-backbone"))?;
        self.isp_route(p, true)
    }

    pub(super) fn igw_in(
        &mut self,
        igw: &str,
        vi: usize,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        self.push(Component::new(igw, "internet-gateway"))?;
        if let Some((_, private)) = self.s.eni_by_public_ip(p.dst) {
            p.dst = private;
            let h = header(&p);
            if let Some(hop) = self.last() {
                hop.outbound_header = Some(h);
            }
        } else if !p.dst.v6 {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::IgwPrivateIpAssociationForIngress,
                Component::new(igw, "internet-gateway"),
            ));
        }
        self.push(self.vpc_component(vi))?;
        self.vpc_deliver(vi, p)
    }

    /// A packet routed to a NAT gateway (from another subnet of its VPC).
    pub(super) fn nat_forward(
        &mut self,
        ni: usize,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        let nat = &self.s.nat_gateways[ni];
        let c = Component::new(nat.id.clone(), "nat-gateway");
        self.push(c.clone())?;
        if let Some(si) = nat.subnet
            && !self.s.subnet(si).contains(p.src)
            && !self.check_nacl(si.get(), Direction::Ingress, &p)
        {
            return Ok(Disposition::DeniedIn);
        }
        if !nat.available {
            return Ok(self.fail(Disposition::DeniedIn, ExplanationCode::BadState, c));
        }
        if !(p.has_ports() || p.is_icmp()) {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::ProtocolRestriction,
                c,
            ));
        }
        let in_vpc = self
            .s
            .vpc(&nat.vpc_id)
            .is_some_and(|v| v.cidrs.iter().any(|x| x.contains(p.src)));
        if !in_vpc {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::NgwRequiresSourceInVpc,
                c,
            ));
        }
        let Some(nat_ip) = nat.private_ip else {
            return Ok(self.fail(Disposition::DeniedIn, ExplanationCode::BadState, c));
        };
        if p.dst == nat_ip || Some(p.dst) == nat.public_ip {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::UnknownDestination,
                c,
            ));
        }
        self.nat.push(NatSession {
            nat: ni,
            original: p.src,
            original_port: p.src_port,
            translated: nat_ip,
        });
        p.src = nat_ip;
        let h = header(&p);
        if let Some(hop) = self.last() {
            hop.outbound_header = Some(h);
        }
        let Some(si) = nat.subnet else {
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        self.subnet_out(si.get(), p)
    }

    /// A packet addressed to a NAT gateway's own address: only replies of its sessions pass.
    pub(super) fn nat_receive(
        &mut self,
        ni: usize,
        mut p: Packet,
    ) -> Result<Disposition, Disposition> {
        let nat = &self.s.nat_gateways[ni];
        let c = Component::new(nat.id.clone(), "nat-gateway");
        self.push(c.clone())?;
        let session = if self.reply {
            self.nat
                .iter()
                .find(|s| s.nat == ni && s.translated == p.dst)
        } else {
            None
        };
        let Some(session) = session else {
            return Ok(self.fail(
                Disposition::DeniedIn,
                ExplanationCode::UnknownDestination,
                c,
            ));
        };
        p.dst = session.original;
        p.dst_port = session.original_port;
        let h = header(&p);
        if let Some(hop) = self.last() {
            hop.outbound_header = Some(h);
        }
        if let Some(si) = nat.subnet {
            if !self.s.subnet(si).contains(p.dst)
                && !self.check_nacl(si.get(), Direction::Egress, &p)
            {
                return Ok(Disposition::DeniedOut);
            }
            if self.s.subnet(si).contains(p.dst) {
                return self.local_in_subnet(si.get(), p, false);
            }
        }
        let Some(vi) = self.s.vpc_idx(&nat.vpc_id) else {
            return Ok(self.fail(Disposition::NoRoute, ExplanationCode::UnknownResource, c));
        };
        self.push(self.vpc_component(vi.get()))?;
        self.vpc_deliver(vi.get(), p)
    }

    /// A packet at a VPN gateway from its VPC: static VPN routes lead out.
    pub(super) fn vgw_route(&mut self, gi: usize, p: Packet) -> Result<Disposition, Disposition> {
        let g = &self.s.vpn_gateways[gi];
        if g.vpn_routes.iter().any(|(c, _)| c.contains(p.dst)) {
            self.stop = Some(Start::Vgw(gi));
            self.packet = p;
            return Ok(Disposition::ExitsNetwork);
        }
        Ok(self.fail(
            Disposition::NoRoute,
            ExplanationCode::NoRouteToDestination,
            Component::new(g.id.clone(), "vpn-gateway"),
        ))
    }

    /// A packet entering a VPN gateway from the customer side (or the backbone).
    pub(super) fn enter_from_vgw(
        &mut self,
        gi: usize,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        let g = &self.s.vpn_gateways[gi];
        self.push(Component::new(g.id.clone(), "vpn-gateway"))?;
        for v in &g.vpc_ids {
            if let Some(vi) = self.s.vpc_idx(v)
                && self.s.vpcs[vi.get()]
                    .cidrs
                    .iter()
                    .any(|c| c.contains(p.dst))
            {
                self.push(self.vpc_component(vi.get()))?;
                return self.vpc_deliver(vi.get(), p);
            }
        }
        self.vgw_route(gi, p)
    }
}
