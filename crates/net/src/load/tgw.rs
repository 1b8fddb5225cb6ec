//! Linking transit gateways: attachments keyed by (TGW, attachment), route tables, static
//! routes, and propagations turned into routes once the VPCs are indexed.

use std::collections::{BTreeMap, HashMap};

use super::{Link, Loader, Raw};
use crate::model::*;

impl Loader {
    /// Transit gateways, their attachments, route tables, static routes and propagations.
    pub(super) fn link_tgws(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            seen,
            file_of,
            props,
            ..
        } = k;
        for (loc, f, t) in &raw.tgws {
            let Some(id) =
                fresh!(self, seen, file_of; t.TransitGatewayId.as_ref(), *f, "transit gateway")
            else {
                continue;
            };
            s.transit_gateways.push(TransitGateway {
                id,
                loc: loc.clone(),
                available: t.State.as_deref().is_none_or(|st| st == "available"),
                asn: t.Options.as_ref().and_then(|o| o.AmazonSideAsn),
            });
        }

        // TGW attachments are keyed by (TGW, attachment): a peering attachment has the same id
        // on both TGWs, each with its own association; accounts sharing a TGW list it twice.
        let mut atts: BTreeMap<(String, String), TgwAttachment> = BTreeMap::new();
        for (_, f, a) in &raw.tgw_atts {
            let (Some(id), Some(tgw)) = (
                a.TransitGatewayAttachmentId.clone(),
                a.TransitGatewayId.clone(),
            ) else {
                self.warn(
                    *f,
                    vec![],
                    "transit gateway attachment without ids, skipped".into(),
                );
                continue;
            };
            file_of.entry(id.clone()).or_insert(*f);
            let e = atts
                .entry((tgw.clone(), id.clone()))
                .or_insert_with(|| TgwAttachment {
                    id: id.clone(),
                    tgw_id: tgw.clone(),
                    resource_type: String::new(),
                    resource_id: String::new(),
                    available: true,
                    route_table: None,
                    subnet_ids: vec![],
                    appliance_mode: false,
                });
            if let Some(t) = &a.ResourceType {
                e.resource_type = t.clone();
            }
            if let Some(r) = &a.ResourceId {
                e.resource_id = r.clone();
            }
            e.available &= a.State.as_deref().is_none_or(|st| st == "available");
            if let Some(assoc) = &a.Association
                && assoc.State.as_deref().is_none_or(|st| st == "associated")
            {
                e.route_table = e
                    .route_table
                    .take()
                    .or_else(|| assoc.TransitGatewayRouteTableId.clone());
            }
        }
        for (_, f, a) in &raw.tgw_vpc_atts {
            let (Some(id), Some(tgw)) = (
                a.TransitGatewayAttachmentId.clone(),
                a.TransitGatewayId.clone(),
            ) else {
                self.warn(
                    *f,
                    vec![],
                    "transit gateway VPC attachment without ids, skipped".into(),
                );
                continue;
            };
            file_of.entry(id.clone()).or_insert(*f);
            let e = atts
                .entry((tgw.clone(), id.clone()))
                .or_insert_with(|| TgwAttachment {
                    id: id.clone(),
                    tgw_id: tgw.clone(),
                    resource_type: "vpc".into(),
                    resource_id: a.VpcId.clone().unwrap_or_default(),
                    available: true,
                    route_table: None,
                    subnet_ids: vec![],
                    appliance_mode: false,
                });
            if e.resource_type.is_empty() {
                e.resource_type = "vpc".into();
            }
            if e.resource_id.is_empty() {
                e.resource_id = a.VpcId.clone().unwrap_or_default();
            }
            e.available &= a.State.as_deref().is_none_or(|st| st == "available");
            for sid in &a.SubnetIds {
                if !e.subnet_ids.contains(sid) {
                    e.subnet_ids.push(sid.clone());
                }
            }
            e.appliance_mode |= a
                .Options
                .as_ref()
                .and_then(|o| o.ApplianceModeSupport.as_deref())
                == Some("enable");
        }
        for (k, a) in atts {
            if !a.available {
                continue;
            }
            s.tgw_att.insert(k, s.tgw_attachments.len());
            s.tgw_attachments.push(a);
        }

        let mut rtb_pos: HashMap<String, usize> = HashMap::new();
        for (loc, f, t) in &raw.tgw_rtbs {
            let Some(id) = fresh!(self, seen, file_of;
                t.TransitGatewayRouteTableId.as_ref(),
                *f,
                "transit gateway route table"
            ) else {
                continue;
            };
            rtb_pos.insert(id.clone(), s.tgw_route_tables.len());
            s.tgw_route_tables.push(TgwRouteTable {
                id,
                tgw_id: t.TransitGatewayId.clone().unwrap_or_default(),
                loc: loc.clone(),
                routes: vec![],
                propagations: vec![],
            });
        }
        for (_, f, r) in &raw.tgw_routes {
            let Some(rid) = r.TransitGatewayRouteTableId.clone() else {
                continue;
            };
            let Some(&i) = rtb_pos.get(&rid) else {
                self.warn(
                    *f,
                    vec![rid],
                    "static routes of an unknown transit gateway route table".into(),
                );
                continue;
            };
            for route in &r.Routes {
                let Some(dest) = route.DestinationCidrBlock.as_deref() else {
                    continue;
                };
                let Some(cidr) = self.cidr(*f, &rid, dest) else {
                    continue;
                };
                let blackhole = route.State.as_deref() == Some("blackhole");
                let attachment = route
                    .TransitGatewayAttachments
                    .first()
                    .and_then(|a| a.TransitGatewayAttachmentId.clone());
                s.tgw_route_tables[i].routes.push(TgwRoute {
                    cidr,
                    attachment: if blackhole { None } else { attachment },
                    propagated: route.Type.as_deref() == Some("propagated"),
                    blackhole,
                });
            }
        }
        for (_, f, p) in &raw.tgw_props {
            let Some(rid) = p.TransitGatewayRouteTableId.clone() else {
                continue;
            };
            let Some(&i) = rtb_pos.get(&rid) else {
                self.warn(
                    *f,
                    vec![rid],
                    "propagations of an unknown transit gateway route table".into(),
                );
                continue;
            };
            for pr in &p.TransitGatewayRouteTablePropagations {
                if pr.State.as_deref().is_none_or(|st| st == "enabled")
                    && let Some(a) = &pr.TransitGatewayAttachmentId
                {
                    props.push((*f, i, a.clone()));
                }
            }
        }
    }

    /// TGW propagations: routes to each VPC attachment's VPC CIDRs; attachment associations checked.
    pub(super) fn link_tgw_propagations(&mut self, _raw: &Raw, k: &mut Link) {
        let Link {
            s, props, dangling, ..
        } = k;
        // TGW propagations: routes to each VPC attachment's VPC CIDRs.
        for (f, ti, att) in std::mem::take(props) {
            let tgw = s.tgw_route_tables[ti].tgw_id.clone();
            let Some(a) = s.tgw_attachment(&tgw, &att).cloned() else {
                self.warn(
                    f,
                    vec![s.tgw_route_tables[ti].id.clone(), att],
                    "propagation from an unknown or inactive attachment".into(),
                );
                continue;
            };
            s.tgw_route_tables[ti].propagations.push(att.clone());
            if a.resource_type == "vpc" {
                match s.vpc(&a.resource_id) {
                    Some(v) => {
                        let cidrs = v.cidrs.clone();
                        for c in cidrs {
                            s.tgw_route_tables[ti].routes.push(TgwRoute {
                                cidr: c,
                                attachment: Some(att.clone()),
                                propagated: true,
                                blackhole: false,
                            });
                        }
                    }
                    None => self.warn(
                        f,
                        vec![att, a.resource_id],
                        "propagation from a VPC outside the snapshot".into(),
                    ),
                }
            } else {
                self.note(
                    f,
                    vec![att],
                    format!(
                        "propagation from a {} attachment (BGP-learned routes) not modelled",
                        a.resource_type
                    ),
                );
            }
        }
        for a in &s.tgw_attachments {
            if let Some(rt) = &a.route_table
                && !matches!(s.by_id.get(rt), Some(Resource::TgwRouteTable(_)))
            {
                dangling.push((
                    a.id.clone(),
                    vec![a.id.clone(), rt.clone()],
                    "attachment associated with an unknown transit gateway route table".into(),
                ));
            }
        }
    }
}
