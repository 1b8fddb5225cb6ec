//! Linking gateways and connections: internet and egress-only gateways, NAT gateways, VPC
//! peering connections, VPC endpoints, VPN gateways and VPN connections.

use super::{Link, Loader, Raw};
use crate::ip::{Addr, Cidr};
use crate::model::*;
use crate::raw;

impl Loader {
    /// Internet, egress-only and NAT gateways.
    pub(super) fn link_gateways(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            seen,
            file_of,
            eni_pos,
            ..
        } = k;
        for (loc, f, g) in &raw.igws {
            let Some(id) =
                fresh!(self, seen, file_of; g.InternetGatewayId.as_ref(), *f, "internet gateway")
            else {
                continue;
            };
            let vpc_ids = attached(&g.Attachments);
            s.internet_gateways.push(Gateway {
                id,
                loc: loc.clone(),
                vpc_ids,
            });
        }
        for (loc, f, g) in &raw.eigws {
            let Some(id) = fresh!(self, seen, file_of;
                g.EgressOnlyInternetGatewayId.as_ref(),
                *f,
                "egress-only internet gateway"
            ) else {
                continue;
            };
            let vpc_ids = attached(&g.Attachments);
            s.egress_only_gateways.push(Gateway {
                id,
                loc: loc.clone(),
                vpc_ids,
            });
        }

        for (loc, f, n) in &raw.nats {
            let Some(id) = fresh!(self, seen, file_of; n.NatGatewayId.as_ref(), *f, "NAT gateway")
            else {
                continue;
            };
            let addr = n.NatGatewayAddresses.first();
            let private_ip = addr
                .and_then(|a| a.PrivateIp.as_deref())
                .and_then(Addr::parse);
            let public_ip = addr
                .and_then(|a| a.PublicIp.as_deref())
                .and_then(Addr::parse);
            let available = n.State.as_deref().is_none_or(|st| st == "available");
            if !available {
                self.note(
                    *f,
                    vec![id.clone()],
                    format!(
                        "NAT gateway in state {:?}",
                        n.State.as_deref().unwrap_or("")
                    ),
                );
            }
            // Its ENI: listed in describe-network-interfaces, or synthesised here.
            let eni_id = addr
                .and_then(|a| a.NetworkInterfaceId.clone())
                .unwrap_or_else(|| format!("{id}-eni"));
            let eni = match eni_pos.get(&eni_id) {
                Some(&i) => {
                    s.enis[i].owner = EniOwner::NatGateway(id.clone());
                    Some(i)
                }
                None if private_ip.is_some() => {
                    seen.insert(eni_id.clone());
                    eni_pos.insert(eni_id.clone(), s.enis.len());
                    s.enis.push(Eni {
                        id: eni_id,
                        loc: loc.clone(),
                        interface_type: "nat_gateway".into(),
                        description: format!(
                            "Interface for NAT Gateway {}",
                            n.NatGatewayId.clone().unwrap_or_default()
                        ),
                        subnet_id: n.SubnetId.clone().unwrap_or_default(),
                        subnet: None,
                        vpc_id: n.VpcId.clone().unwrap_or_default(),
                        availability_zone: String::new(),
                        private_ips: private_ip.into_iter().collect(),
                        public_ips: private_ip.zip(public_ip).into_iter().collect(),
                        group_ids: vec![],
                        groups: vec![],
                        owner: EniOwner::NatGateway(id.clone()),
                        source_dest_check: false,
                        active: true,
                    });
                    Some(s.enis.len() - 1)
                }
                None => None,
            };
            if let (Some(i), Some(p), Some(q)) = (eni, private_ip, public_ip)
                && !s.enis[i].public_ips.contains(&(p, q))
            {
                s.enis[i].public_ips.push((p, q));
            }
            s.nat_gateways.push(NatGateway {
                id,
                loc: loc.clone(),
                subnet_id: n.SubnetId.clone().unwrap_or_default(),
                subnet: None,
                vpc_id: n.VpcId.clone().unwrap_or_default(),
                available,
                public: n.ConnectivityType.as_deref() != Some("private"),
                private_ip,
                public_ip,
                eni: eni.map(ix),
            });
        }
    }

    /// VPC peering connections.
    pub(super) fn link_peerings(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s, seen, file_of, ..
        } = k;
        for (loc, f, p) in &raw.pcxs {
            let Some(id) = p.VpcPeeringConnectionId.clone() else {
                self.warn(
                    *f,
                    vec![],
                    "peering connection without an id, skipped".into(),
                );
                continue;
            };
            // Cross-region and cross-account peerings appear on both sides: keep one.
            if !seen.insert(id.clone()) {
                continue;
            }
            file_of.insert(id.clone(), *f);
            let status = p
                .Status
                .as_ref()
                .and_then(|s| s.Code.clone())
                .unwrap_or_default();
            let side = |v: &Option<raw::PeeringVpcInfo>| -> PeeringSide {
                let v = v.clone().unwrap_or_default();
                let mut cidrs: Vec<Cidr> = v
                    .CidrBlockSet
                    .iter()
                    .filter_map(|c| c.CidrBlock.as_deref().and_then(Cidr::parse))
                    .chain(
                        v.Ipv6CidrBlockSet
                            .iter()
                            .filter_map(|c| c.Ipv6CidrBlock.as_deref().and_then(Cidr::parse)),
                    )
                    .collect();
                if cidrs.is_empty() {
                    cidrs.extend(v.CidrBlock.as_deref().and_then(Cidr::parse));
                }
                PeeringSide {
                    vpc_id: v.VpcId.unwrap_or_default(),
                    owner: v.OwnerId.unwrap_or_default(),
                    region: v.Region.unwrap_or_default(),
                    cidrs,
                }
            };
            let active = status == "active";
            if !active {
                self.note(
                    *f,
                    vec![id.clone()],
                    format!(
                        "peering connection in state {status:?}: routes through it are not followed"
                    ),
                );
            }
            s.peerings.push(Peering {
                id,
                loc: loc.clone(),
                active,
                status,
                requester: side(&p.RequesterVpcInfo),
                accepter: side(&p.AccepterVpcInfo),
            });
        }
    }

    /// VPC endpoints, VPN gateways and VPN connections.
    pub(super) fn link_endpoints_vpn(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            seen,
            file_of,
            eni_pos,
            ..
        } = k;
        for (loc, f, e) in &raw.endpoints {
            let Some(id) =
                fresh!(self, seen, file_of; e.VpcEndpointId.as_ref(), *f, "VPC endpoint")
            else {
                continue;
            };
            s.vpc_endpoints.push(VpcEndpoint {
                id,
                loc: loc.clone(),
                endpoint_type: e
                    .VpcEndpointType
                    .clone()
                    .unwrap_or_else(|| "Gateway".into()),
                vpc_id: e.VpcId.clone().unwrap_or_default(),
                service_name: e.ServiceName.clone().unwrap_or_default(),
                available: e
                    .State
                    .as_deref()
                    .is_none_or(|st| st.eq_ignore_ascii_case("available")),
                route_table_ids: e.RouteTableIds.clone(),
                subnet_ids: e.SubnetIds.clone(),
                eni_ids: e.NetworkInterfaceIds.clone(),
            });
        }
        for ep in &s.vpc_endpoints {
            for eni in &ep.eni_ids {
                if let Some(&i) = eni_pos.get(eni) {
                    s.enis[i].owner = EniOwner::VpcEndpoint(ep.id.clone());
                }
            }
        }

        for (loc, f, g) in &raw.vgws {
            let Some(id) = fresh!(self, seen, file_of; g.VpnGatewayId.as_ref(), *f, "VPN gateway")
            else {
                continue;
            };
            let vpc_ids = attached(&g.VpcAttachments);
            s.vpn_gateways.push(VpnGateway {
                id,
                loc: loc.clone(),
                vpc_ids,
                outside_ips: vec![],
                vpn_routes: vec![],
            });
        }
        for (_, f, v) in &raw.vpns {
            if v.State.as_deref().is_some_and(|st| st != "available") {
                continue;
            }
            let Some(vgw_id) = v.VpnGatewayId.clone() else {
                continue;
            };
            let vpn_id = v.VpnConnectionId.clone().unwrap_or_default();
            let Some(g) = s.vpn_gateways.iter_mut().find(|g| g.id == vgw_id) else {
                self.warn(
                    *f,
                    vec![vpn_id, vgw_id],
                    "VPN connection to an unknown VPN gateway".into(),
                );
                continue;
            };
            let mut ips: Vec<Addr> = v
                .VgwTelemetry
                .iter()
                .filter_map(|t| t.OutsideIpAddress.as_deref())
                .filter_map(Addr::parse)
                .collect();
            if let Some(cfg) = &v.CustomerGatewayConfiguration {
                ips.extend(vgw_outside_ips(cfg));
            }
            for ip in ips {
                if !g.outside_ips.contains(&ip) {
                    g.outside_ips.push(ip);
                }
            }
            for r in &v.Routes {
                if r.State.as_deref().is_none_or(|st| st == "available")
                    && let Some(c) = r.DestinationCidrBlock.as_deref().and_then(Cidr::parse)
                {
                    g.vpn_routes.push((c, vpn_id.clone()));
                }
            }
        }
    }
}

pub(super) fn attached(atts: &[raw::VpcAttachment]) -> Vec<String> {
    atts.iter()
        .filter(|a| {
            a.State
                .as_deref()
                .is_none_or(|s| s == "available" || s == "attached")
        })
        .filter_map(|a| a.VpcId.clone())
        .collect()
}

/// AWS-side tunnel outside addresses from a VPN connection's `CustomerGatewayConfiguration`
/// XML (`<vpn_gateway><tunnel_outside_address><ip_address>`), by plain text search.
fn vgw_outside_ips(xml: &str) -> Vec<Addr> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<vpn_gateway>") {
        rest = &rest[i + "<vpn_gateway>".len()..];
        let block = rest.find("</vpn_gateway>").map_or(rest, |j| &rest[..j]);
        if let Some(t) = block.find("<tunnel_outside_address>") {
            let b = &block[t..];
            if let (Some(a), Some(z)) = (b.find("<ip_address>"), b.find("</ip_address>"))
                && let Some(ip) = b.get(a + "<ip_address>".len()..z).and_then(Addr::parse)
            {
                out.push(ip);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_ips_from_customer_gateway_xml() {
        let xml = "<ipsec_tunnel><customer_gateway><tunnel_outside_address><ip_address>1.1.1.1</ip_address></tunnel_outside_address></customer_gateway><vpn_gateway><tunnel_outside_address><ip_address>3.13.210.90</ip_address></tunnel_outside_address></vpn_gateway></ipsec_tunnel>";
        assert_eq!(
            vgw_outside_ips(xml),
            vec![Addr::parse("3.13.210.90").unwrap()]
        );
    }
}
