//! Linking network interfaces, instances and Elastic IPs: an ENI may be known from
//! `describe-network-interfaces`, from an instance's reservation, or both.

use std::collections::BTreeMap;

use super::{EniSource, Link, Loader, Raw};
use crate::ip::Addr;
use crate::model::*;
use crate::raw;

impl Loader {
    /// ENIs (describe-network-interfaces first, then those only listed under instances) and instances.
    pub(super) fn link_enis(&mut self, raw: &Raw, k: &mut Link) {
        let Link {
            s,
            seen,
            file_of,
            eni_pos,
            instance_state,
            ..
        } = k;
        // ENIs: describe-network-interfaces first, then those only listed under instances.
        let mut eni_src: Vec<EniSource> = Vec::new();
        for (loc, f, e) in &raw.enis {
            eni_src.push((loc.clone(), *f, e.clone(), None));
        }
        for (loc, f, r) in &raw.reservations {
            for inst in &r.Instances {
                let Some(iid) = inst.InstanceId.clone() else {
                    self.warn(*f, vec![], "instance without an id, skipped".into());
                    continue;
                };
                let running = inst
                    .State
                    .as_ref()
                    .and_then(|s| s.Name.as_deref())
                    .is_none_or(|n| n == "running");
                let listed = raw.enis.iter().any(|(_, _, e)| {
                    e.Attachment.as_ref().and_then(|a| a.InstanceId.as_deref())
                        == Some(iid.as_str())
                });
                if inst.NetworkInterfaces.is_empty() && !listed && inst.PrivateIpAddress.is_some() {
                    // Older outputs: synthesise the primary interface from the instance.
                    let e = raw::NetworkInterface {
                        NetworkInterfaceId: Some(format!("{iid}-eni")),
                        SubnetId: inst.SubnetId.clone(),
                        VpcId: inst.VpcId.clone(),
                        PrivateIpAddress: inst.PrivateIpAddress.clone(),
                        Association: inst.PublicIpAddress.clone().map(|p| raw::PublicAssoc {
                            PublicIp: Some(p),
                            ..Default::default()
                        }),
                        Groups: inst.SecurityGroups.clone(),
                        SourceDestCheck: inst.SourceDestCheck,
                        InterfaceType: Some("interface".into()),
                        ..Default::default()
                    };
                    eni_src.push((loc.clone(), *f, e, Some((iid.clone(), running))));
                }
                for e in &inst.NetworkInterfaces {
                    let mut e = e.clone();
                    if e.SubnetId.is_none() {
                        e.SubnetId = inst.SubnetId.clone();
                    }
                    if e.VpcId.is_none() {
                        e.VpcId = inst.VpcId.clone();
                    }
                    eni_src.push((loc.clone(), *f, e, Some((iid.clone(), running))));
                }
            }
        }
        for (_, _, r) in &raw.reservations {
            for inst in &r.Instances {
                if let Some(iid) = &inst.InstanceId {
                    let running = inst
                        .State
                        .as_ref()
                        .and_then(|s| s.Name.as_deref())
                        .is_none_or(|n| n == "running");
                    instance_state.insert(iid.clone(), running);
                }
            }
        }
        for (loc, f, e, inst) in eni_src {
            let Some(id) = e.NetworkInterfaceId.clone() else {
                self.warn(f, vec![], "network interface without an id, skipped".into());
                continue;
            };
            if let Some(&i) = eni_pos.get(&id) {
                // Seen in describe-network-interfaces already; fill the instance if missing.
                if let (Some((iid, _)), EniOwner::Other) = (&inst, &s.enis[i].owner) {
                    s.enis[i].owner = EniOwner::Instance(iid.clone());
                }
                continue;
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            file_of.insert(id.clone(), f);
            let mut private_ips = Vec::new();
            let mut public_ips = Vec::new();
            let mut pips: Vec<&raw::PrivateIp> = e.PrivateIpAddresses.iter().collect();
            pips.sort_by_key(|p| p.Primary != Some(true));
            for p in pips {
                if let Some(a) = p.PrivateIpAddress.as_deref().and_then(Addr::parse) {
                    if !private_ips.contains(&a) {
                        private_ips.push(a);
                    }
                    if let Some(pub_ip) = p
                        .Association
                        .as_ref()
                        .and_then(|x| x.PublicIp.as_deref())
                        .and_then(Addr::parse)
                    {
                        public_ips.push((a, pub_ip));
                    }
                }
            }
            if let Some(a) = e.PrivateIpAddress.as_deref().and_then(Addr::parse) {
                if !private_ips.contains(&a) {
                    private_ips.insert(0, a);
                }
                if public_ips.is_empty()
                    && let Some(pub_ip) = e
                        .Association
                        .as_ref()
                        .and_then(|x| x.PublicIp.as_deref())
                        .and_then(Addr::parse)
                {
                    public_ips.push((a, pub_ip));
                }
            }
            for a in e
                .Ipv6Addresses
                .iter()
                .filter_map(|a| a.Ipv6Address.as_deref())
                .filter_map(Addr::parse)
            {
                private_ips.push(a);
            }
            let desc = e.Description.clone().unwrap_or_default();
            let itype = e
                .InterfaceType
                .clone()
                .unwrap_or_else(|| "interface".into());
            let owner = if let Some(iid) = e.Attachment.as_ref().and_then(|a| a.InstanceId.clone())
            {
                EniOwner::Instance(iid)
            } else if let Some((iid, _)) = &inst {
                EniOwner::Instance(iid.clone())
            } else if let Some(nat) = desc.strip_prefix("Interface for NAT Gateway ") {
                EniOwner::NatGateway(nat.trim().to_string())
            } else if let Some(vpce) = desc.strip_prefix("VPC Endpoint Interface ") {
                EniOwner::VpcEndpoint(vpce.trim().to_string())
            } else {
                EniOwner::Other
            };
            eni_pos.insert(id.clone(), s.enis.len());
            s.enis.push(Eni {
                id,
                loc,
                interface_type: itype,
                description: desc,
                subnet_id: e.SubnetId.clone().unwrap_or_default(),
                subnet: None,
                vpc_id: e.VpcId.clone().unwrap_or_default(),
                availability_zone: e.AvailabilityZone.clone().unwrap_or_default(),
                private_ips,
                public_ips,
                group_ids: e.Groups.iter().filter_map(|g| g.GroupId.clone()).collect(),
                groups: vec![],
                owner,
                source_dest_check: e.SourceDestCheck.unwrap_or(true),
                active: true,
            });
        }

        for (loc, f, r) in &raw.reservations {
            for inst in &r.Instances {
                let Some(iid) = inst.InstanceId.clone() else {
                    continue;
                };
                if !seen.insert(iid.clone()) {
                    continue;
                }
                file_of.insert(iid.clone(), *f);
                let mut enis: Vec<(i64, EniIdx)> = Vec::new();
                for (i, e) in s.enis.iter().enumerate() {
                    if e.owner == EniOwner::Instance(iid.clone()) {
                        let dev = inst
                            .NetworkInterfaces
                            .iter()
                            .find(|n| n.NetworkInterfaceId.as_deref() == Some(e.id.as_str()))
                            .and_then(|n| n.Attachment.as_ref().and_then(|a| a.DeviceIndex))
                            .unwrap_or(if e.id.ends_with("-eni") { 0 } else { 99 });
                        enis.push((dev, ix(i)));
                    }
                }
                enis.sort();
                let state = inst
                    .State
                    .as_ref()
                    .and_then(|s| s.Name.clone())
                    .unwrap_or_else(|| "running".into());
                s.instances.push(Instance {
                    id: iid,
                    loc: loc.clone(),
                    state,
                    subnet_id: inst.SubnetId.clone().unwrap_or_default(),
                    enis: enis.into_iter().map(|(_, e)| e).collect(),
                });
            }
        }
        // Instances known only from their ENIs' attachments (no describe-instances output).
        let mut orphans: BTreeMap<String, Vec<(i64, EniIdx)>> = BTreeMap::new();
        for (i, e) in s.enis.iter().enumerate() {
            if let EniOwner::Instance(iid) = &e.owner
                && !seen.contains(iid)
            {
                orphans
                    .entry(iid.clone())
                    .or_default()
                    .push((i64::try_from(i).unwrap_or(i64::MAX), ix(i)));
            }
        }
        for (iid, enis) in orphans {
            seen.insert(iid.clone());
            let first = enis[0].1;
            let (loc, subnet_id) = (
                s.enis[first.get()].loc.clone(),
                s.enis[first.get()].subnet_id.clone(),
            );
            s.instances.push(Instance {
                id: iid,
                loc,
                state: "running".into(),
                subnet_id,
                enis: enis.into_iter().map(|(_, e)| e).collect(),
            });
        }
        for e in &mut s.enis {
            if let EniOwner::Instance(iid) = &e.owner
                && instance_state.get(iid) == Some(&false)
            {
                e.active = false;
            }
        }
    }

    /// Elastic IPs: add the public address to the ENI's private address.
    pub(super) fn link_elastic_ips(&mut self, raw: &Raw, k: &mut Link) {
        let Link { s, eni_pos, .. } = k;
        // Elastic IPs: add the public address to the ENI's private address.
        for (_, f, a) in &raw.addresses {
            let (Some(public), Some(eni_id)) = (
                a.PublicIp.as_deref().and_then(Addr::parse),
                a.NetworkInterfaceId.as_ref(),
            ) else {
                continue;
            };
            let Some(&i) = eni_pos.get(eni_id) else {
                self.warn(
                    *f,
                    vec![a.AllocationId.clone().unwrap_or_default(), eni_id.clone()],
                    "elastic IP associated with an unknown network interface".into(),
                );
                continue;
            };
            let private = a
                .PrivateIpAddress
                .as_deref()
                .and_then(Addr::parse)
                .or_else(|| s.enis[i].primary_ip());
            if let Some(p) = private
                && !s.enis[i].public_ips.iter().any(|(x, _)| *x == p)
            {
                s.enis[i].public_ips.push((p, public));
            }
        }
    }
}
