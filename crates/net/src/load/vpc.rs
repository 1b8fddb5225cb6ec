//! Linking the VPC core: prefix lists, VPCs, subnets, route tables (with their routes),
//! security groups (flattened rules) and network ACLs (sorted entries).

use std::collections::BTreeMap;

use super::{Link, Loader, Raw};
use crate::ip::Cidr;
use crate::model::*;
use crate::raw;

impl Loader {
    /// Prefix lists first (routes and rules expand them), then VPCs, subnets, route tables, security groups and NACLs.
    pub(super) fn link_network(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            seen,
            file_of,
            pl_index,
            ..
        } = k;
        // Prefix lists first: routes and rules expand them.
        for (_, f, p) in &raw.prefix_lists {
            let Some(id) = p.PrefixListId.clone() else {
                self.warn(*f, vec![], "prefix list without an id, skipped".into());
                continue;
            };
            let mut cidrs = Vec::new();
            for c in p
                .Cidrs
                .iter()
                .map(String::as_str)
                .chain(p.Entries.iter().filter_map(|e| e.Cidr.as_deref()))
            {
                if let Some(c) = self.cidr(*f, &id, c) {
                    cidrs.push(c);
                }
            }
            if cidrs.is_empty() {
                self.note(
                    *f,
                    vec![id.clone()],
                    "prefix list without entries (add get-managed-prefix-list-entries as Entries)"
                        .into(),
                );
            }
            match pl_index.get(&id) {
                Some(&i) => {
                    let pl: &mut PrefixList = &mut s.prefix_lists[i];
                    for c in cidrs {
                        if !pl.cidrs.contains(&c) {
                            pl.cidrs.push(c);
                        }
                    }
                }
                None => {
                    pl_index.insert(id.clone(), s.prefix_lists.len());
                    file_of.insert(id.clone(), *f);
                    s.prefix_lists.push(PrefixList {
                        id,
                        name: p.PrefixListName.clone().unwrap_or_default(),
                        cidrs,
                    });
                }
            }
        }

        for (loc, f, v) in &raw.vpcs {
            let Some(id) = fresh!(self, seen, file_of; v.VpcId.as_ref(), *f, "VPC") else {
                continue;
            };
            let tags: Vec<(String, String)> = v
                .Tags
                .iter()
                .filter_map(|t| Some((t.Key.clone()?, t.Value.clone().unwrap_or_default())))
                .collect();
            if !tags.is_empty() {
                s.tags.insert(id.clone(), tags);
            }
            let mut cidrs = Vec::new();
            for a in &v.CidrBlockAssociationSet {
                let state = a
                    .CidrBlockState
                    .as_ref()
                    .and_then(|s| s.State.as_deref())
                    .unwrap_or("associated");
                if state == "associated"
                    && let Some(c) = a.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            if cidrs.is_empty()
                && let Some(c) = v.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c))
            {
                cidrs.push(c);
            }
            for a in &v.Ipv6CidrBlockAssociationSet {
                let state = a
                    .Ipv6CidrBlockState
                    .as_ref()
                    .and_then(|s| s.State.as_deref())
                    .unwrap_or("associated");
                if state == "associated"
                    && let Some(c) = a
                        .Ipv6CidrBlock
                        .as_deref()
                        .and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            s.vpcs.push(Vpc {
                id,
                loc: loc.clone(),
                cidrs,
                subnets: vec![],
                main_route_table: None,
                default_nacl: None,
                internet_gateways: vec![],
                egress_only_gateways: vec![],
                vpn_gateways: vec![],
            });
        }

        for (loc, f, v) in &raw.subnets {
            let Some(id) = fresh!(self, seen, file_of; v.SubnetId.as_ref(), *f, "subnet") else {
                continue;
            };
            let tags: Vec<(String, String)> = v
                .Tags
                .iter()
                .filter_map(|t| Some((t.Key.clone()?, t.Value.clone().unwrap_or_default())))
                .collect();
            if !tags.is_empty() {
                s.tags.insert(id.clone(), tags);
            }
            let mut cidrs = Vec::new();
            if let Some(c) = v.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c)) {
                cidrs.push(c);
            }
            for a in &v.Ipv6CidrBlockAssociationSet {
                if let Some(c) = a
                    .Ipv6CidrBlock
                    .as_deref()
                    .and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            s.subnets.push(Subnet {
                id,
                loc: loc.clone(),
                vpc_id: v.VpcId.clone().unwrap_or_default(),
                vpc: None,
                cidrs,
                availability_zone: v.AvailabilityZone.clone().unwrap_or_default(),
                route_table: None,
                explicit_route_table: false,
                nacl: None,
                enis: vec![],
            });
        }

        for (loc, f, rt) in &raw.route_tables {
            let Some(id) = fresh!(self, seen, file_of; rt.RouteTableId.as_ref(), *f, "route table")
            else {
                continue;
            };
            let mut routes = Vec::new();
            for r in &rt.Routes {
                if let Some(route) = self.route(*f, &id, r, &s.prefix_lists, pl_index) {
                    routes.push(route);
                }
            }
            let main = rt.Associations.iter().any(|a| a.Main == Some(true));
            s.route_tables.push(RouteTable {
                id,
                loc: loc.clone(),
                vpc_id: rt.VpcId.clone().unwrap_or_default(),
                main,
                routes,
                subnet_ids: rt
                    .Associations
                    .iter()
                    .filter_map(|a| a.SubnetId.clone())
                    .collect(),
                gateway_ids: rt
                    .Associations
                    .iter()
                    .filter_map(|a| a.GatewayId.clone())
                    .collect(),
            });
        }

        for (loc, f, g) in &raw.sgs {
            let Some(id) = fresh!(self, seen, file_of; g.GroupId.as_ref(), *f, "security group")
            else {
                continue;
            };
            let ingress = self.sg_rules(*f, &id, &g.IpPermissions);
            let egress = self.sg_rules(*f, &id, &g.IpPermissionsEgress);
            s.security_groups.push(SecurityGroup {
                id,
                name: g.GroupName.clone().unwrap_or_default(),
                loc: loc.clone(),
                vpc_id: g.VpcId.clone().unwrap_or_default(),
                ingress,
                egress,
                members: vec![],
                fast_ingress: vec![],
                fast_egress: vec![],
            });
        }

        for (loc, f, n) in &raw.nacls {
            let Some(id) = fresh!(self, seen, file_of; n.NetworkAclId.as_ref(), *f, "network ACL")
            else {
                continue;
            };
            let (mut ingress, mut egress) = (Vec::new(), Vec::new());
            for e in &n.Entries {
                if let Some(entry) = self.acl_entry(*f, &id, e) {
                    if e.Egress == Some(true) {
                        egress.push(entry);
                    } else {
                        ingress.push(entry);
                    }
                }
            }
            ingress.sort_by_key(|e: &NaclEntry| e.rule_number);
            egress.sort_by_key(|e: &NaclEntry| e.rule_number);
            s.nacls.push(Nacl {
                id,
                loc: loc.clone(),
                vpc_id: n.VpcId.clone().unwrap_or_default(),
                is_default: n.IsDefault == Some(true),
                ingress,
                egress,
                subnet_ids: n
                    .Associations
                    .iter()
                    .filter_map(|a| a.SubnetId.clone())
                    .collect(),
            });
        }
    }

    fn route(
        &mut self,
        f: usize,
        rtb: &str,
        r: &raw::Route,
        pls: &[PrefixList],
        pl_index: &BTreeMap<String, usize>,
    ) -> Option<Route> {
        let target = if let Some(g) = r.GatewayId.as_deref() {
            if g == "local" {
                Target::Local
            } else if g.starts_with("igw-") {
                Target::InternetGateway(g.into())
            } else if g.starts_with("vgw-") {
                Target::VpnGateway(g.into())
            } else if g.starts_with("vpce-") {
                Target::GatewayEndpoint(g.into())
            } else {
                Target::Other(g.into())
            }
        } else if let Some(t) = &r.NatGatewayId {
            Target::NatGateway(t.clone())
        } else if let Some(t) = &r.TransitGatewayId {
            Target::TransitGateway(t.clone())
        } else if let Some(t) = &r.VpcPeeringConnectionId {
            Target::VpcPeeringConnection(t.clone())
        } else if let Some(t) = &r.EgressOnlyInternetGatewayId {
            Target::EgressOnlyInternetGateway(t.clone())
        } else if let Some(t) = &r.NetworkInterfaceId {
            Target::NetworkInterface(t.clone())
        } else if let Some(t) = &r.InstanceId {
            Target::Instance(t.clone())
        } else if let Some(t) = &r.VpcEndpointId {
            Target::GatewayEndpoint(t.clone())
        } else if let Some(t) = r
            .CarrierGatewayId
            .as_ref()
            .or(r.LocalGatewayId.as_ref())
            .or(r.CoreNetworkArn.as_ref())
        {
            Target::Other(t.clone())
        } else {
            self.warn(
                f,
                vec![rtb.to_string()],
                "route without a target, ignored".into(),
            );
            return None;
        };
        let origin = r.Origin.clone().unwrap_or_else(|| "CreateRoute".into());
        let propagated = origin == "EnableVgwRoutePropagation";
        let (destination, cidrs, pl, rank) = if let Some(c) = r
            .DestinationCidrBlock
            .as_deref()
            .or(r.DestinationIpv6CidrBlock.as_deref())
        {
            let cidr = self.cidr(f, rtb, c)?;
            (
                c.to_string(),
                vec![cidr],
                None,
                if propagated {
                    RouteRank::Propagated
                } else {
                    RouteRank::Static
                },
            )
        } else if let Some(pl) = &r.DestinationPrefixListId {
            let cidrs = match pl_index.get(pl) {
                Some(&i) => pls[i].cidrs.clone(),
                None => {
                    self.warn(
                        f,
                        vec![rtb.to_string(), pl.clone()],
                        "route to an unknown prefix list (matches nothing)".into(),
                    );
                    vec![]
                }
            };
            (pl.clone(), cidrs, Some(pl.clone()), RouteRank::PrefixList)
        } else {
            self.warn(
                f,
                vec![rtb.to_string()],
                "route without a destination, ignored".into(),
            );
            return None;
        };
        Some(Route {
            destination,
            cidrs,
            prefix_list_id: pl,
            target,
            blackhole: r.State.as_deref() == Some("blackhole"),
            rank,
            origin,
        })
    }

    fn sg_rules(&mut self, f: usize, gid: &str, perms: &[raw::IpPermission]) -> Vec<SgRule> {
        let mut out = Vec::new();
        for (pi, p) in perms.iter().enumerate() {
            let proto_s = p.IpProtocol.clone().unwrap_or_else(|| "-1".into());
            let Some(protocol) = crate::packet::parse_protocol(&proto_s) else {
                self.warn(
                    f,
                    vec![gid.to_string()],
                    format!("security group rule with protocol {proto_s:?}, ignored"),
                );
                continue;
            };
            let clamp = |v: Option<i64>| v.map_or(-1, |x| x.clamp(-1, 65535) as i32);
            let (from_port, to_port) = (clamp(p.FromPort), clamp(p.ToPort));
            let mut push = |peer: SgPeer, description: Option<String>| {
                out.push(SgRule {
                    protocol,
                    from_port,
                    to_port,
                    peer,
                    peer_cidrs: vec![],
                    peer_group: None,
                    description,
                    permission: pi,
                })
            };
            for r in &p.IpRanges {
                if let Some(c) = r.CidrIp.as_deref().and_then(Cidr::parse) {
                    push(SgPeer::Cidr(c), r.Description.clone());
                }
            }
            for r in &p.Ipv6Ranges {
                if let Some(c) = r.CidrIpv6.as_deref().and_then(Cidr::parse) {
                    push(SgPeer::Cidr(c), r.Description.clone());
                }
            }
            for r in &p.PrefixListIds {
                if let Some(pl) = &r.PrefixListId {
                    push(SgPeer::PrefixList(pl.clone()), r.Description.clone());
                }
            }
            for r in &p.UserIdGroupPairs {
                if let Some(g) = &r.GroupId {
                    push(SgPeer::Group(g.clone()), r.Description.clone());
                }
            }
        }
        out
    }

    fn acl_entry(&mut self, f: usize, id: &str, e: &raw::AclEntry) -> Option<NaclEntry> {
        let n = e.RuleNumber.unwrap_or(32767);
        if !(1..=32767).contains(&n) {
            self.warn(
                f,
                vec![id.to_string()],
                format!("network ACL rule number {n} out of range, ignored"),
            );
            return None;
        }
        let proto_s = e.Protocol.clone().unwrap_or_else(|| "-1".into());
        let Some(protocol) = crate::packet::parse_protocol(&proto_s) else {
            self.warn(
                f,
                vec![id.to_string()],
                format!("network ACL rule {n}: protocol {proto_s:?}, ignored"),
            );
            return None;
        };
        let cidr = match (e.CidrBlock.as_deref(), e.Ipv6CidrBlock.as_deref()) {
            (Some(c), _) | (None, Some(c)) => self.cidr(f, id, c)?,
            (None, None) => {
                self.warn(
                    f,
                    vec![id.to_string()],
                    format!("network ACL rule {n} without a CIDR, ignored"),
                );
                return None;
            }
        };
        let port_range = e.PortRange.as_ref().map(|r| {
            let c = |v: Option<i64>, d: u16| v.map_or(d, |x| x.clamp(0, 65535) as u16);
            (c(r.From, 0), c(r.To, 65535))
        });
        let icmp = e.IcmpTypeCode.as_ref().map(|t| {
            let c = |v: Option<i64>| v.map_or(-1, |x| x.clamp(-1, 255) as i16);
            (c(t.Type), c(t.Code))
        });
        Some(NaclEntry {
            rule_number: n as u16,
            allow: e
                .RuleAction
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("allow")),
            protocol,
            cidr,
            port_range,
            icmp,
        })
    }
}
