//! Transit gateways: the associated route table of the ingress attachment, static and
//! propagated routes, blackholes, and TGW peering onward to the peer's table.

use super::*;

impl Walk<'_> {
    pub(super) fn tgw_route(
        &mut self,
        tgw: &str,
        in_att: &str,
        p: Packet,
    ) -> Result<Disposition, Disposition> {
        let tgw_c = Component::new(tgw, "transit-gateway");
        if let Some(Resource::TransitGateway(t)) = self.s.resolve(tgw)
            && !self.s.transit_gateways[t].available
        {
            return Ok(self.fail(Disposition::NullRouted, ExplanationCode::BadState, tgw_c));
        }
        let Some(att) = self.s.tgw_attachment(tgw, in_att) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::BadStateAttachment,
                Component::new(in_att, "transit-gateway-attachment"),
            ));
        };
        let Some(rt_id) = att.route_table.clone() else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::TgwAttachMissingTgwRtbAssociation,
                Component::new(in_att, "transit-gateway-attachment"),
            ));
        };
        let Some(Resource::TgwRouteTable(ti)) = self.s.resolve(&rt_id) else {
            return Ok(self.fail(
                Disposition::NoRoute,
                ExplanationCode::TgwRtbCannotRoute,
                Component::new(rt_id, "transit-gateway-route-table"),
            ));
        };
        let table = &self.s.tgw_route_tables[ti];
        let Some(route) = lookup_tgw(table, p.dst) else {
            let mut ex = Explanation::new(
                ExplanationCode::TgwRtbCannotRoute,
                Component::new(rt_id, "transit-gateway-route-table"),
            );
            ex.address = Some(p.dst.to_string());
            self.explain(ex);
            return Ok(Disposition::NoRoute);
        };
        let rr = TransitGatewayRouteTableRoute {
            route_table_id: table.id.clone(),
            destination_cidr: route.cidr.to_string(),
            attachment_id: route.attachment.clone(),
            route_origin: if route.propagated {
                "propagated"
            } else {
                "static"
            },
            state: if route.blackhole {
                "blackhole"
            } else {
                "active"
            },
        };
        if let Some(h) = self.last() {
            h.transit_gateway_route_table_route = Some(rr);
        }
        let Some(out_att) = route.attachment.clone().filter(|_| !route.blackhole) else {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::TgwRtbBadStateRoute,
                Component::new(table.id.clone(), "transit-gateway-route-table"),
            ));
        };
        let Some(a2) = self.s.tgw_attachment(tgw, &out_att) else {
            return Ok(self.fail(
                Disposition::NullRouted,
                ExplanationCode::BadStateAttachment,
                Component::new(out_att, "transit-gateway-attachment"),
            ));
        };
        match a2.resource_type.as_str() {
            "vpc" => {
                let Some(v) = self.s.vpc_idx(&a2.resource_id) else {
                    self.packet = p;
                    return Ok(self.fail(
                        Disposition::ExitsNetwork,
                        ExplanationCode::UnknownDestination,
                        Component::new(a2.resource_id.clone(), "vpc"),
                    ));
                };
                self.push(self.vpc_component(v.get()))?;
                self.vpc_deliver(v.get(), p)
            }
            "peering" => {
                let peer = a2.resource_id.clone();
                self.push(Component::new(peer.clone(), "transit-gateway"))?;
                if let Some(h) = self.last() {
                    h.transit_gateway_attachment = Some(Component::new(
                        out_att.clone(),
                        "transit-gateway-attachment",
                    ));
                }
                self.tgw_route(&peer, &out_att, p)
            }
            other => {
                // VPN, Direct Connect, Connect: the packet leaves toward a network we do not model.
                if let Some(h) = self.last() {
                    h.additional_details
                        .push(format!("leaves through a {other} attachment {out_att}"));
                }
                self.packet = p;
                Ok(Disposition::ExitsNetwork)
            }
        }
    }
}
