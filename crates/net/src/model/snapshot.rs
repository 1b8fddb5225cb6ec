//! The [`Snapshot`]: every resource table of a loaded AWS network and the indexes built at load,
//! with the lookups the analyses use.

use std::collections::HashMap;

use super::*;
use crate::ip::{Addr, Cidr};

/// A loaded AWS network: every resource table plus the lookup indexes. Built by
/// [`Snapshot::load`] (or [`Snapshot::from_json_documents`]); immutable afterwards.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub security_groups: Vec<SecurityGroup>,
    pub nacls: Vec<Nacl>,
    pub enis: Vec<Eni>,
    pub instances: Vec<Instance>,
    pub internet_gateways: Vec<Gateway>,
    pub egress_only_gateways: Vec<Gateway>,
    pub nat_gateways: Vec<NatGateway>,
    pub peerings: Vec<Peering>,
    pub transit_gateways: Vec<TransitGateway>,
    pub tgw_attachments: Vec<TgwAttachment>,
    pub tgw_route_tables: Vec<TgwRouteTable>,
    pub prefix_lists: Vec<PrefixList>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub vpn_gateways: Vec<VpnGateway>,
    pub load_balancers: Vec<LoadBalancer>,
    /// AWS-announced address space (from `ip-ranges.json` in the snapshot, else the coarse
    /// built-in list).
    pub aws_prefixes: Vec<Cidr>,
    /// AWS service address space: snapshot prefix lists named `com.amazonaws.*` plus
    /// non-EC2 prefixes of `ip-ranges.json`.
    pub aws_service_prefixes: Vec<Cidr>,
    pub(crate) by_id: HashMap<String, Resource>,
    /// (VPC, private address) → ENI.
    pub(crate) eni_by_ip: HashMap<(VpcIdx, Addr), EniIdx>,
    /// Private address → the first ENI holding it (any VPC), for address-only sources.
    pub(crate) eni_by_any_ip: HashMap<Addr, EniIdx>,
    /// Public address → (ENI, private address).
    pub(crate) public_ip: HashMap<Addr, (EniIdx, Addr)>,
    /// Resource id → tags (`Key`, `Value`), for VPCs and subnets.
    pub(crate) tags: HashMap<String, Vec<(String, String)>>,
    /// (TGW id, attachment id) → attachment.
    pub(crate) tgw_att: HashMap<(String, String), usize>,
}

impl Snapshot {
    /// What `id` names (any resource type), if anything.
    pub fn resolve(&self, id: &str) -> Option<Resource> {
        self.by_id.get(id).copied()
    }

    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        match self.resolve(id)? {
            Resource::Vpc(i) => self.vpcs.get(i),
            _ => None,
        }
    }

    pub fn vpc_idx(&self, id: &str) -> Option<VpcIdx> {
        match self.resolve(id)? {
            Resource::Vpc(i) => Some(ix(i)),
            _ => None,
        }
    }

    pub fn subnet_idx(&self, id: &str) -> Option<SubnetIdx> {
        match self.resolve(id)? {
            Resource::Subnet(i) => Some(ix(i)),
            _ => None,
        }
    }

    pub fn eni_idx(&self, id: &str) -> Option<EniIdx> {
        match self.resolve(id)? {
            Resource::Eni(i) => Some(ix(i)),
            Resource::Instance(i) => self.instances.get(i)?.enis.first().copied(),
            _ => None,
        }
    }

    pub fn nacl_idx(&self, id: &str) -> Option<NaclIdx> {
        match self.resolve(id)? {
            Resource::Nacl(i) => Some(ix(i)),
            _ => None,
        }
    }

    pub fn eni(&self, i: EniIdx) -> &Eni {
        &self.enis[i.get()]
    }

    pub fn subnet(&self, i: SubnetIdx) -> &Subnet {
        &self.subnets[i.get()]
    }

    pub fn nacl(&self, i: NaclIdx) -> &Nacl {
        &self.nacls[i.get()]
    }

    pub fn security_group(&self, i: SgIdx) -> &SecurityGroup {
        &self.security_groups[i.get()]
    }

    pub fn route_table(&self, i: RtbIdx) -> &RouteTable {
        &self.route_tables[i.get()]
    }

    /// The ENI holding private address `a` in VPC `vpc`.
    pub fn eni_by_private_ip(&self, vpc: VpcIdx, a: Addr) -> Option<EniIdx> {
        self.eni_by_ip.get(&(vpc, a)).copied()
    }

    /// The first ENI (in load order) holding private address `a` in any VPC.
    pub fn eni_by_any_private_ip(&self, a: Addr) -> Option<EniIdx> {
        self.eni_by_any_ip.get(&a).copied()
    }

    /// The ENI and private address behind public address `a` (IGW 1:1 NAT).
    pub fn eni_by_public_ip(&self, a: Addr) -> Option<(EniIdx, Addr)> {
        self.public_ip.get(&a).copied()
    }

    /// The subnet of VPC `vpc` whose CIDR holds `a`.
    pub fn subnet_containing(&self, vpc: VpcIdx, a: Addr) -> Option<SubnetIdx> {
        self.vpcs[vpc.get()]
            .subnets
            .iter()
            .copied()
            .find(|s| self.subnets[s.get()].contains(a))
    }

    /// The tags of resource `id` (VPCs and subnets), empty if none.
    pub fn tags(&self, id: &str) -> &[(String, String)] {
        self.tags.get(id).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn tgw_attachment(&self, tgw: &str, att: &str) -> Option<&TgwAttachment> {
        self.tgw_att
            .get(&(tgw.to_string(), att.to_string()))
            .map(|&i| &self.tgw_attachments[i])
    }

    pub(crate) fn prefix_list(&self, id: &str) -> Option<&PrefixList> {
        match self.resolve(id)? {
            Resource::PrefixList(i) => self.prefix_lists.get(i),
            _ => None,
        }
    }

    /// The availability zone of ENI `e` (its own, else its subnet's).
    pub fn zone_of(&self, e: EniIdx) -> &str {
        let eni = self.eni(e);
        match (eni.availability_zone.as_str(), eni.subnet) {
            ("", Some(si)) => &self.subnet(si).availability_zone,
            (z, _) => z,
        }
    }

    /// Where node `node` of load balancer `lb` sends what `listener` takes: the first healthy
    /// target (in `describe-target-health` order) in the node's zone, or in any zone with
    /// cross-zone load balancing; its ENI and address. AWS spreads connections over the
    /// targets by a flow hash; the model follows one.
    pub fn lb_target(
        &self,
        lb: &LoadBalancer,
        listener: &LbListener,
        node: EniIdx,
    ) -> Option<(EniIdx, Addr, u16)> {
        let vpc = self.vpc_idx(&lb.vpc_id);
        let zone = self.zone_of(node);
        listener.targets.iter().filter(|t| t.healthy).find_map(|t| {
            let (e, a) = match t.id.parse::<std::net::IpAddr>() {
                Ok(ip) => {
                    let a = Addr::from_ip(ip);
                    (vpc.and_then(|v| self.eni_by_private_ip(v, a))?, a)
                }
                Err(_) => {
                    let e = self.eni_idx(&t.id)?;
                    (e, self.eni(e).primary_ip()?)
                }
            };
            (lb.cross_zone || self.zone_of(e) == zone).then_some((e, a, t.port))
        })
    }

    /// The node ENIs of load balancer `li` (one per zone), in load order.
    pub fn lb_nodes(&self, li: usize) -> impl Iterator<Item = EniIdx> + '_ {
        self.load_balancers
            .get(li)
            .into_iter()
            .flat_map(|lb| lb.nodes.iter().copied())
    }
}
