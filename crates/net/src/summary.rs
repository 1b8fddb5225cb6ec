//! What a snapshot holds: counts per resource type, per account/region and per VPC, and the
//! problem tally. Serialisable (the `snapshot load` output).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Problem, Severity};
use crate::model::{EniOwner, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VpcSummary {
    pub vpc_id: String,
    pub account: String,
    pub region: String,
    pub cidrs: Vec<String>,
    pub subnets: usize,
    pub network_interfaces: usize,
    pub instances: usize,
    pub route_tables: usize,
    pub security_groups: usize,
    pub network_acls: usize,
    pub internet_gateways: usize,
    pub nat_gateways: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Resource type → count (ids as the AWS CLI spells the types).
    pub counts: BTreeMap<&'static str, usize>,
    /// `account/region` → number of VPCs.
    pub regions: BTreeMap<String, usize>,
    pub vpcs: Vec<VpcSummary>,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Snapshot {
    /// Counts per resource type and per VPC, plus the tally of `problems`.
    pub fn summary(&self, problems: &[Problem]) -> Summary {
        let mut counts = BTreeMap::new();
        counts.insert("vpcs", self.vpcs.len());
        counts.insert("subnets", self.subnets.len());
        counts.insert("route-tables", self.route_tables.len());
        counts.insert("security-groups", self.security_groups.len());
        counts.insert("network-acls", self.nacls.len());
        counts.insert("network-interfaces", self.enis.len());
        counts.insert("instances", self.instances.len());
        counts.insert("internet-gateways", self.internet_gateways.len());
        counts.insert(
            "egress-only-internet-gateways",
            self.egress_only_gateways.len(),
        );
        counts.insert("nat-gateways", self.nat_gateways.len());
        counts.insert("vpc-peering-connections", self.peerings.len());
        counts.insert("transit-gateways", self.transit_gateways.len());
        counts.insert("transit-gateway-attachments", self.tgw_attachments.len());
        counts.insert("transit-gateway-route-tables", self.tgw_route_tables.len());
        counts.insert("prefix-lists", self.prefix_lists.len());
        counts.insert("vpc-endpoints", self.vpc_endpoints.len());
        counts.insert("vpn-gateways", self.vpn_gateways.len());
        counts.insert("load-balancers", self.load_balancers.len());
        let mut regions = BTreeMap::new();
        for v in &self.vpcs {
            *regions
                .entry(format!("{}/{}", v.loc.account, v.loc.region))
                .or_insert(0) += 1;
        }
        let vpcs = self
            .vpcs
            .iter()
            .map(|v| {
                let enis: Vec<_> = self.enis.iter().filter(|e| e.vpc_id == v.id).collect();
                VpcSummary {
                    vpc_id: v.id.clone(),
                    account: v.loc.account.clone(),
                    region: v.loc.region.clone(),
                    cidrs: v.cidrs.iter().map(ToString::to_string).collect(),
                    subnets: v.subnets.len(),
                    network_interfaces: enis.len(),
                    instances: enis
                        .iter()
                        .filter_map(|e| {
                            if let EniOwner::Instance(i) = &e.owner {
                                Some(i)
                            } else {
                                None
                            }
                        })
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    route_tables: self
                        .route_tables
                        .iter()
                        .filter(|r| r.vpc_id == v.id)
                        .count(),
                    security_groups: self
                        .security_groups
                        .iter()
                        .filter(|g| g.vpc_id == v.id)
                        .count(),
                    network_acls: self.nacls.iter().filter(|n| n.vpc_id == v.id).count(),
                    internet_gateways: v.internet_gateways.len(),
                    nat_gateways: self
                        .nat_gateways
                        .iter()
                        .filter(|n| n.vpc_id == v.id)
                        .count(),
                }
            })
            .collect();
        let tally = |s: Severity| problems.iter().filter(|p| p.severity == s).count();
        Summary {
            counts,
            regions,
            vpcs,
            errors: tally(Severity::Error),
            warnings: tally(Severity::Warning),
            notes: tally(Severity::Note),
        }
    }
}
