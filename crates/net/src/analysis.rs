//! The answer of [`crate::reach()`], serialisable in the shape of AWS's
//! `NetworkInsightsAnalysis` (`NetworkPathFound`, `ForwardPathComponents`,
//! `ReturnPathComponents`, `Explanations`), plus a Batfish-style [`Disposition`] per direction.
//! This is a promised format (the CLI's `--output json`), hence `Serialize` on these types.

use serde::Serialize;

/// How a walk ended (Batfish's `FlowDisposition` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Disposition {
    /// Delivered to the ENI owning the destination address.
    Accepted,
    /// Left the modelled network (internet, AWS services, VPN/DX side, gateway endpoint).
    ExitsNetwork,
    /// Dropped by an inbound filter or gateway at the last hop.
    DeniedIn,
    /// Dropped by an outbound filter at the last hop.
    DeniedOut,
    /// No route at the last hop.
    NoRoute,
    /// A blackhole route or an address space the last hop discards.
    NullRouted,
    /// Routed into a subnet where no ENI holds the address.
    NeighborUnreachable,
    /// The walk exceeded its hop budget (a forwarding loop).
    Loop,
}

impl Disposition {
    /// Accepted or left the network: the packet got where it was going.
    pub fn is_success(self) -> bool {
        matches!(self, Disposition::Accepted | Disposition::ExitsNetwork)
    }
}

/// Reachability Analyzer explanation codes this model produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExplanationCode {
    BadState,
    BadStateAttachment,
    BadStateRoute,
    EniSgRulesMismatch,
    EniSourceDestCheckRestriction,
    IgwNotAttached,
    IgwPublicIpAssociationForEgress,
    IgwPrivateIpAssociationForIngress,
    NgwRequiresSourceInVpc,
    NoRouteToDestination,
    PcxRequiresAddressInVpcCidr,
    ProtocolRestriction,
    SubnetAclRestriction,
    TgwAttachMissingTgwRtbAssociation,
    TgwAttachVpcAzRestriction,
    TgwRtbCannotRoute,
    TgwRtbBadStateRoute,
    UnknownDestination,
    UnknownResource,
    UnsupportedComponent,
    VpceGatewayProtocolRestriction,
    NoSourceOrDestination,
    /// No listener of the load balancer takes the packet's protocol and port.
    Elbv2ListenerPortRestriction,
    /// The listener forwards to no target group.
    Elbv2ListenerHasNoTg,
    /// No healthy target the node may forward to (its zone, without cross-zone balancing).
    Elbv2NoTargetsInAz,
}

/// A component on a path or in an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    pub id: String,
    /// Resource type (`instance`, `network-interface`, `subnet`, `vpc`, `internet-gateway`,
    /// `aws-backbone`, `internet`, `aws-services`, `nat-gateway`, `transit-gateway`,
    /// `vpc-peering-connection`, `vpn-gateway`, `vpc-endpoint`, …). Not in AWS's shape.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Component {
    pub fn new(id: impl Into<String>, kind: &'static str) -> Self {
        Component {
            id: id.into(),
            kind,
            name: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

/// The NACL entry that decided (`RuleNumber` 32767 = `*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclRule {
    pub acl_id: String,
    pub cidr: String,
    pub egress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
    pub protocol: String,
    pub rule_action: &'static str,
    pub rule_number: u16,
}

/// The security-group rule that admitted the packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupRule {
    pub group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
    pub direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
    pub protocol: String,
}

/// The VPC route that was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableRoute {
    pub route_table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_prefix_list_id: Option<String>,
    /// The target id (`local`, `igw-…`, `nat-…`, `pcx-…`, `tgw-…`, …).
    pub target: String,
    pub origin: String,
    pub state: &'static str,
}

/// The transit-gateway route that was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayRouteTableRoute {
    pub route_table_id: String,
    pub destination_cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    pub route_origin: &'static str,
    pub state: &'static str,
}

/// Packet header as seen leaving (or entering) a component, with translations applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PacketHeader {
    pub source_addresses: Vec<String>,
    pub destination_addresses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_port_ranges: Vec<PortRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_port_ranges: Vec<PortRange>,
    pub protocol: String,
}

/// One hop of a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PathComponent {
    pub sequence_number: u32,
    pub component: Component,
    /// For an ENI: the instance, NAT gateway or endpoint that owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl_rule: Option<AclRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_rule: Option<SecurityGroupRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_route: Option<RouteTableRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_gateway_route_table_route: Option<TransitGatewayRouteTableRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_gateway_attachment: Option<Component>,
    /// Set where a gateway rewrote the header (IGW 1:1 NAT, NAT gateway SNAT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_header: Option<PacketHeader>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_details: Vec<String>,
}

impl PathComponent {
    pub fn new(component: Component) -> Self {
        PathComponent {
            sequence_number: 0,
            component,
            attached_to: None,
            subnet: None,
            vpc: None,
            acl_rule: None,
            security_group_rule: None,
            route_table_route: None,
            transit_gateway_route_table_route: None,
            transit_gateway_attachment: None,
            outbound_header: None,
            additional_details: vec![],
        }
    }
}

/// Why a path is blocked, naming the component to change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Explanation {
    pub explanation_code: ExplanationCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// The blocking component.
    pub component: Component,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface: Option<Component>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl_rule: Option<AclRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_route: Option<RouteTableRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Which side of the analysis: `forward` or `return`. Not in AWS's shape.
    pub path: &'static str,
}

impl Explanation {
    pub fn new(code: ExplanationCode, component: Component) -> Self {
        Explanation {
            explanation_code: code,
            direction: None,
            component,
            network_interface: None,
            security_groups: vec![],
            acl: None,
            acl_rule: None,
            route_table: None,
            route_table_route: None,
            address: None,
            path: "forward",
        }
    }
}

/// The answer to one [`crate::Query`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Analysis {
    /// The destination was reached and the reply made it back.
    pub network_path_found: bool,
    pub forward_disposition: Disposition,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_disposition: Option<Disposition>,
    pub forward_path_components: Vec<PathComponent>,
    pub return_path_components: Vec<PathComponent>,
    pub explanations: Vec<Explanation>,
}
