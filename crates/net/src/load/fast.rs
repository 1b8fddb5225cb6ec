//! The fast path of loading: deserialise a document straight from its text into the typed
//! DTOs, without building a `serde_json::Value` tree first (the tree and its drop were most
//! of the load time on large snapshots). Any error at all — malformed JSON, a list that is
//! not a list, one item of the wrong shape — abandons the fast path for that file, and the
//! `Value` path ([`Loader::add_value`]) reads it again item by item, so problems are exactly
//! what they were.

use std::fmt;
use std::path::Path;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Loader, METADATA, NOT_MODELLED, Raw, loc_from_path, problem};
use crate::error::Severity;
use crate::raw;

macro_rules! typed_doc {
    ($($($key:literal)|+ => $field:ident : $ty:ty),* $(,)?) => {
        /// One document's lists by top-level key, plus the keys it did not model.
        #[derive(Default)]
        struct Doc {
            $($field: Vec<$ty>,)*
            ip_ranges: Vec<raw::IpRangePrefix>,
            other: Vec<String>,
        }

        struct DocVisitor;

        impl<'de> Visitor<'de> for DocVisitor {
            type Value = Doc;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with describe-* keys")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
                let mut d = Doc::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        $($($key)|+ => {
                            if let Some(v) = map.next_value::<Option<Vec<$ty>>>()? {
                                d.$field.extend(v);
                            }
                        })*
                        "prefixes" | "ipv6_prefixes" => {
                            if let Some(v) = map.next_value::<Option<Vec<raw::IpRangePrefix>>>()? {
                                d.ip_ranges.extend(v);
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            d.other.push(key);
                        }
                    }
                }
                Ok(d)
            }
        }

        impl Loader {
            /// Read `text` through the typed fast path; `false` if the `Value` path must
            /// read it instead.
            pub(super) fn add_text_fast(&mut self, rel: &Path, text: &str) -> bool {
                let mut de = serde_json::Deserializer::from_str(text);
                let Ok(mut doc) = (&mut de).deserialize_map(DocVisitor) else {
                    return false;
                };
                if de.end().is_err() {
                    return false;
                }
                let loc = loc_from_path(rel);
                let f = self.files.len();
                self.files.push(rel.to_path_buf());
                let raw: &mut Raw = &mut self.raw;
                $(raw.$field.extend(doc.$field.drain(..).map(|it| (loc.clone(), f, it)));)*
                raw.ip_ranges.append(&mut doc.ip_ranges);
                // The Value path visits keys in sorted order; so do the notes.
                doc.other.sort();
                doc.other.dedup();
                for k in doc.other {
                    if METADATA.contains(&k.as_str()) {
                        continue;
                    }
                    let message = if NOT_MODELLED.contains(&k.as_str()) {
                        format!("{k}: recognised but not modelled, skipped")
                    } else {
                        format!("unknown top-level key {k:?}, skipped")
                    };
                    self.problems.push(problem(Severity::Note, Some(rel), vec![], message));
                }
                true
            }
        }
    };
}

typed_doc! {
    "Vpcs" => vpcs: raw::Vpc,
    "Subnets" => subnets: raw::Subnet,
    "RouteTables" => route_tables: raw::RouteTable,
    "SecurityGroups" => sgs: raw::SecurityGroup,
    "NetworkAcls" => nacls: raw::NetworkAcl,
    "NetworkInterfaces" => enis: raw::NetworkInterface,
    "Reservations" => reservations: raw::Reservation,
    "Addresses" => addresses: raw::Address,
    "InternetGateways" => igws: raw::InternetGateway,
    "EgressOnlyInternetGateways" => eigws: raw::EgressOnlyInternetGateway,
    "NatGateways" => nats: raw::NatGateway,
    "VpcPeeringConnections" => pcxs: raw::VpcPeeringConnection,
    "TransitGateways" => tgws: raw::TransitGateway,
    "TransitGatewayAttachments" => tgw_atts: raw::TransitGatewayAttachment,
    "TransitGatewayVpcAttachments" => tgw_vpc_atts: raw::TransitGatewayVpcAttachment,
    "TransitGatewayRouteTables" => tgw_rtbs: raw::TransitGatewayRouteTable,
    "TransitGatewayPropagations" => tgw_props: raw::TgwPropagations,
    "TransitGatewayStaticRoutes" | "TransitGatewayRoutes" => tgw_routes: raw::TgwRoutes,
    "PrefixLists" | "ManagedPrefixLists" => prefix_lists: raw::PrefixList,
    "VpcEndpoints" => endpoints: raw::VpcEndpoint,
    "VpnGateways" => vgws: raw::VpnGateway,
    "VpnConnections" => vpns: raw::VpnConnection,
    "LoadBalancers" => lbs: raw::LoadBalancer,
    "LoadBalancerListeners" => lb_listeners: raw::LbListeners,
    "Listeners" => listeners: raw::Listener,
    "TargetGroups" => target_groups: raw::TargetGroup,
    "LoadBalancerTargetHealth" => target_health: raw::LbTargetHealth,
    "LoadBalancerAttributes" => lb_attributes: raw::LbAttributes,
}
