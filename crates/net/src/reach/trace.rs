//! From a query to an analysis: resolve the endpoints, walk the request forward, then walk
//! the reply back (the return path) from where the request stopped, with the NAT sessions the
//! request opened; security groups pass the reply (connection tracking).

use super::*;

/// Resolve an endpoint as a source: where the walk starts and the default source address.
pub(super) fn resolve_source(
    s: &Snapshot,
    e: &Endpoint,
) -> Result<(Start, Addr), Box<Explanation>> {
    match e {
        Endpoint::Ip(ip) => {
            let a = Addr::from_ip(*ip);
            if let Some((eni, private)) = s.eni_by_public_ip(a) {
                return Ok((Start::Eni(eni), private));
            }
            if let Some(eni) = s.eni_by_any_private_ip(a) {
                return Ok((Start::Eni(eni), a));
            }
            Ok((Start::Internet, a))
        }
        Endpoint::Id(id) if id == INTERNET => Ok((Start::Internet, INTERNET_SOURCE)),
        Endpoint::Id(id) => {
            let unknown = || {
                Box::new(Explanation::new(
                    ExplanationCode::UnknownResource,
                    Component::new(id.clone(), "unknown"),
                ))
            };
            let r = s.resolve(id).ok_or_else(unknown)?;
            let eni_start = |e: EniIdx| s.eni(e).primary_ip().map(|a| (Start::Eni(e), a));
            let res = match r {
                Resource::Instance(_) | Resource::Eni(_) => s.eni_idx(id).and_then(eni_start),
                Resource::Subnet(i) => Some((Start::Subnet(i), LINK_LOCAL_SOURCE)),
                Resource::Vpc(i) => Some((Start::Vpc(i), LINK_LOCAL_SOURCE)),
                Resource::InternetGateway(i) => Some((Start::Igw(i), INTERNET_SOURCE)),
                Resource::VpnGateway(i) => Some((Start::Vgw(i), LINK_LOCAL_SOURCE)),
                Resource::NatGateway(i) => s.nat_gateways[i].private_ip.map(|a| (Start::Nat(i), a)),
                Resource::Peering(i) => Some((Start::Pcx(i), LINK_LOCAL_SOURCE)),
                Resource::TgwAttachment(i) => Some((Start::TgwAttachment(i), LINK_LOCAL_SOURCE)),
                Resource::VpcEndpoint(i) => Some((Start::GatewayEndpoint(i), LINK_LOCAL_SOURCE)),
                _ => None,
            };
            res.ok_or_else(|| {
                Box::new(Explanation::new(
                    ExplanationCode::UnsupportedComponent,
                    Component::new(id.clone(), r.kind()),
                ))
            })
        }
    }
}

/// Resolve an endpoint as a destination: its address and, for components that are reached
/// rather than addressed (gateways, attachments), the id the path must pass.
pub(super) fn resolve_destination(
    s: &Snapshot,
    e: &Endpoint,
) -> Result<(Option<Addr>, Option<String>), Box<Explanation>> {
    match e {
        Endpoint::Ip(ip) => Ok((Some(Addr::from_ip(*ip)), None)),
        Endpoint::Id(id) if id == INTERNET => Ok((Some(INTERNET_SOURCE), None)),
        Endpoint::Id(id) => {
            let r = s.resolve(id).ok_or_else(|| {
                Box::new(Explanation::new(
                    ExplanationCode::UnknownResource,
                    Component::new(id.clone(), "unknown"),
                ))
            })?;
            Ok(match r {
                Resource::Instance(_) | Resource::Eni(_) => (
                    s.eni_idx(id).and_then(|e| s.eni(e).primary_ip()),
                    Some(id.clone()),
                ),
                Resource::NatGateway(i) => (s.nat_gateways[i].private_ip, Some(id.clone())),
                Resource::InternetGateway(_) => (Some(INTERNET_SOURCE), Some(id.clone())),
                Resource::Peering(i) => (
                    s.peerings[i].accepter.cidrs.first().map(|c| c.nth(4)),
                    Some(id.clone()),
                ),
                Resource::TgwAttachment(i) => {
                    let a = &s.tgw_attachments[i];
                    (
                        s.vpc(&a.resource_id)
                            .and_then(|v| v.cidrs.first())
                            .map(|c| c.nth(4)),
                        Some(id.clone()),
                    )
                }
                Resource::Subnet(i) => (
                    s.subnets[i].cidrs.first().map(|c| c.nth(4)),
                    Some(id.clone()),
                ),
                Resource::Vpc(i) => (s.vpcs[i].cidrs.first().map(|c| c.nth(4)), Some(id.clone())),
                // A load balancer: the address of its first node (`--destination` a node's
                // address to choose the zone).
                Resource::LoadBalancer(i) => (
                    s.lb_nodes(i).find_map(|e| s.eni(e).primary_ip()),
                    Some(s.load_balancers[i].id.clone()),
                ),
                Resource::VpnGateway(_)
                | Resource::VpcEndpoint(_)
                | Resource::TransitGateway(_) => (None, Some(id.clone())),
                _ => {
                    return Err(Box::new(Explanation::new(
                        ExplanationCode::UnsupportedComponent,
                        Component::new(id.clone(), r.kind()),
                    )));
                }
            })
        }
    }
}

pub(super) fn mentions(hops: &[PathComponent], id: &str) -> bool {
    hops.iter().any(|h| {
        h.component.id == id
            || h.attached_to.as_ref().is_some_and(|c| c.id == id)
            || h.transit_gateway_attachment
                .as_ref()
                .is_some_and(|c| c.id == id)
    })
}

pub(super) fn trace(s: &Snapshot, start: Start, p: Packet, must_pass: Option<&str>) -> Analysis {
    let mut fwd = Walk::new(s, false, p);
    let fd = fwd.run(start, p);
    let reached = fd.is_success() && must_pass.is_none_or(|id| mentions(&fwd.hops, id));
    let mut explanations = std::mem::take(&mut fwd.expl);
    let (mut ret_hops, mut rd) = (vec![], None);
    let mut ok = false;
    if fd.is_success() {
        if let Some(stop) = fwd.stop {
            let mut back = Walk::new(s, true, fwd.packet.reversed());
            back.nat = std::mem::take(&mut fwd.nat);
            back.lb = std::mem::take(&mut fwd.lb);
            let d = back.run(stop, fwd.packet.reversed());
            ok = d.is_success();
            rd = Some(d);
            ret_hops = back.hops;
            explanations.extend(back.expl);
        } else {
            // Left into something outside the snapshot: no reply to walk.
            ok = true;
        }
    }
    if fd.is_success()
        && !reached
        && let Some(id) = must_pass
    {
        explanations.push(Explanation::new(
            ExplanationCode::NoRouteToDestination,
            Component::new(id, "destination"),
        ));
    }
    Analysis {
        network_path_found: reached && ok,
        forward_disposition: fd,
        return_disposition: rd,
        forward_path_components: fwd.hops,
        return_path_components: ret_hops,
        explanations,
    }
}
