//! Wire DTOs: the AWS CLI `describe-*` JSON shapes, as lenient as the real outputs are
//! (every field optional, `null` accepted where a list is expected). Only the fields the model
//! uses are declared; the rest is ignored. These types stay at the edge: [`crate::model`]
//! converts them into the domain types.

use serde::{Deserialize, Deserializer};

/// A list that may be absent or `null`.
fn nv<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

macro_rules! dto {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(rename_all = "PascalCase", default)]
        #[allow(non_snake_case, dead_code)]
        pub struct $name { $(pub $field: $ty),* }
    };
}

macro_rules! dto_lists {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? } lists { $($lf:ident : $lty:ty),* $(,)? }) => {
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(rename_all = "PascalCase", default)]
        #[allow(non_snake_case, dead_code)]
        pub struct $name {
            $(pub $field: $ty,)*
            $(#[serde(deserialize_with = "nv")] pub $lf: Vec<$lty>,)*
        }
    };
}

dto!(Tag { Key: Option<String>, Value: Option<String> });
/// `State`/`Status` objects: `Code` is a string for peerings, a number for instances.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[allow(non_snake_case, dead_code)]
pub struct StateCode {
    pub State: Option<String>,
    #[serde(deserialize_with = "lax_string")]
    pub Code: Option<String>,
    pub Name: Option<String>,
}

/// A string, or a number/bool rendered as one.
fn lax_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(v) => Some(v.to_string()),
    })
}

dto!(CidrAssoc {
    CidrBlock: Option<String>,
    Ipv6CidrBlock: Option<String>,
    CidrBlockState: Option<StateCode>,
    Ipv6CidrBlockState: Option<StateCode>,
});
dto_lists!(Vpc {
    VpcId: Option<String>, CidrBlock: Option<String>, OwnerId: Option<String>,
    State: Option<String>, IsDefault: Option<bool>,
} lists { CidrBlockAssociationSet: CidrAssoc, Ipv6CidrBlockAssociationSet: CidrAssoc, Tags: Tag });

dto_lists!(Subnet {
    SubnetId: Option<String>, VpcId: Option<String>, CidrBlock: Option<String>,
    AvailabilityZone: Option<String>, AvailabilityZoneId: Option<String>, OwnerId: Option<String>,
    MapPublicIpOnLaunch: Option<bool>, State: Option<String>,
} lists { Ipv6CidrBlockAssociationSet: CidrAssoc, Tags: Tag });

dto!(RouteTableAssociation {
    Main: Option<bool>, SubnetId: Option<String>, GatewayId: Option<String>,
    RouteTableAssociationId: Option<String>, AssociationState: Option<StateCode>,
});
dto!(Route {
    DestinationCidrBlock: Option<String>, DestinationIpv6CidrBlock: Option<String>,
    DestinationPrefixListId: Option<String>, GatewayId: Option<String>,
    NatGatewayId: Option<String>, TransitGatewayId: Option<String>,
    VpcPeeringConnectionId: Option<String>, NetworkInterfaceId: Option<String>,
    InstanceId: Option<String>, EgressOnlyInternetGatewayId: Option<String>,
    CarrierGatewayId: Option<String>, LocalGatewayId: Option<String>,
    CoreNetworkArn: Option<String>, VpcEndpointId: Option<String>,
    Origin: Option<String>, State: Option<String>,
});
dto!(GatewayRef { GatewayId: Option<String> });
dto_lists!(RouteTable {
    RouteTableId: Option<String>, VpcId: Option<String>, OwnerId: Option<String>,
} lists { Associations: RouteTableAssociation, Routes: Route, PropagatingVgws: GatewayRef, Tags: Tag });

dto!(IpRange { CidrIp: Option<String>, Description: Option<String> });
dto!(Ipv6Range { CidrIpv6: Option<String>, Description: Option<String> });
dto!(PrefixListRef { PrefixListId: Option<String>, Description: Option<String> });
dto!(GroupPair {
    GroupId: Option<String>, GroupName: Option<String>, UserId: Option<String>,
    VpcId: Option<String>, VpcPeeringConnectionId: Option<String>, Description: Option<String>,
});
dto_lists!(IpPermission {
    IpProtocol: Option<String>, FromPort: Option<i64>, ToPort: Option<i64>,
} lists { IpRanges: IpRange, Ipv6Ranges: Ipv6Range, PrefixListIds: PrefixListRef, UserIdGroupPairs: GroupPair });
dto_lists!(SecurityGroup {
    GroupId: Option<String>, GroupName: Option<String>, VpcId: Option<String>,
    OwnerId: Option<String>, Description: Option<String>,
} lists { IpPermissions: IpPermission, IpPermissionsEgress: IpPermission, Tags: Tag });

dto!(PortRange { From: Option<i64>, To: Option<i64> });
dto!(IcmpTypeCode { Type: Option<i64>, Code: Option<i64> });
dto!(AclEntry {
    RuleNumber: Option<i64>, Egress: Option<bool>, RuleAction: Option<String>,
    Protocol: Option<String>, CidrBlock: Option<String>, Ipv6CidrBlock: Option<String>,
    PortRange: Option<PortRange>, IcmpTypeCode: Option<IcmpTypeCode>,
});
dto!(AclAssociation { SubnetId: Option<String>, NetworkAclAssociationId: Option<String> });
dto_lists!(NetworkAcl {
    NetworkAclId: Option<String>, VpcId: Option<String>, IsDefault: Option<bool>, OwnerId: Option<String>,
} lists { Associations: AclAssociation, Entries: AclEntry, Tags: Tag });

dto!(PublicAssoc { PublicIp: Option<String>, AllocationId: Option<String>, IpOwnerId: Option<String> });
dto!(PrivateIp {
    Primary: Option<bool>, PrivateIpAddress: Option<String>, Association: Option<PublicAssoc>,
});
dto!(Ipv6Addr { Ipv6Address: Option<String> });
dto!(GroupRef { GroupId: Option<String>, GroupName: Option<String> });
dto!(EniAttachment {
    InstanceId: Option<String>, Status: Option<String>, DeviceIndex: Option<i64>,
    InstanceOwnerId: Option<String>,
});
dto_lists!(NetworkInterface {
    NetworkInterfaceId: Option<String>, InterfaceType: Option<String>, SubnetId: Option<String>,
    VpcId: Option<String>, AvailabilityZone: Option<String>, PrivateIpAddress: Option<String>,
    Association: Option<PublicAssoc>, Attachment: Option<EniAttachment>,
    SourceDestCheck: Option<bool>, RequesterManaged: Option<bool>, RequesterId: Option<String>,
    Description: Option<String>, Status: Option<String>, OwnerId: Option<String>,
} lists { PrivateIpAddresses: PrivateIp, Ipv6Addresses: Ipv6Addr, Groups: GroupRef, TagSet: Tag });

dto_lists!(Instance {
    InstanceId: Option<String>, State: Option<StateCode>, SubnetId: Option<String>,
    VpcId: Option<String>, PrivateIpAddress: Option<String>, PublicIpAddress: Option<String>,
    SourceDestCheck: Option<bool>,
} lists { SecurityGroups: GroupRef, NetworkInterfaces: NetworkInterface, Tags: Tag });
dto_lists!(Reservation { OwnerId: Option<String> } lists { Instances: Instance });

dto!(Address {
    AllocationId: Option<String>, PublicIp: Option<String>, NetworkInterfaceId: Option<String>,
    PrivateIpAddress: Option<String>, InstanceId: Option<String>, AssociationId: Option<String>,
});

dto!(VpcAttachment { State: Option<String>, VpcId: Option<String> });
dto_lists!(InternetGateway { InternetGatewayId: Option<String>, OwnerId: Option<String> }
    lists { Attachments: VpcAttachment, Tags: Tag });
dto_lists!(EgressOnlyInternetGateway { EgressOnlyInternetGatewayId: Option<String> }
    lists { Attachments: VpcAttachment, Tags: Tag });

dto!(NatAddress {
    AllocationId: Option<String>, NetworkInterfaceId: Option<String>,
    PrivateIp: Option<String>, PublicIp: Option<String>,
});
dto_lists!(NatGateway {
    NatGatewayId: Option<String>, SubnetId: Option<String>, VpcId: Option<String>,
    State: Option<String>, ConnectivityType: Option<String>,
} lists { NatGatewayAddresses: NatAddress, Tags: Tag });

dto!(CidrItem { CidrBlock: Option<String>, Ipv6CidrBlock: Option<String> });
dto_lists!(PeeringVpcInfo {
    VpcId: Option<String>, OwnerId: Option<String>, Region: Option<String>, CidrBlock: Option<String>,
} lists { CidrBlockSet: CidrItem, Ipv6CidrBlockSet: CidrItem });
dto_lists!(VpcPeeringConnection {
    VpcPeeringConnectionId: Option<String>, Status: Option<StateCode>,
    RequesterVpcInfo: Option<PeeringVpcInfo>, AccepterVpcInfo: Option<PeeringVpcInfo>,
} lists { Tags: Tag });

dto!(TgwOptions {
    AmazonSideAsn: Option<i64>, AssociationDefaultRouteTableId: Option<String>,
    PropagationDefaultRouteTableId: Option<String>,
});
dto_lists!(TransitGateway {
    TransitGatewayId: Option<String>, State: Option<String>, OwnerId: Option<String>,
    Options: Option<TgwOptions>,
} lists { Tags: Tag });
dto!(TgwAssociation { TransitGatewayRouteTableId: Option<String>, State: Option<String> });
dto_lists!(TransitGatewayAttachment {
    TransitGatewayAttachmentId: Option<String>, TransitGatewayId: Option<String>,
    ResourceType: Option<String>, ResourceId: Option<String>, ResourceOwnerId: Option<String>,
    State: Option<String>, Association: Option<TgwAssociation>,
} lists { Tags: Tag });
dto!(TgwVpcOptions { ApplianceModeSupport: Option<String> });
dto_lists!(TransitGatewayVpcAttachment {
    TransitGatewayAttachmentId: Option<String>, TransitGatewayId: Option<String>,
    VpcId: Option<String>, State: Option<String>, Options: Option<TgwVpcOptions>,
} lists { SubnetIds: String, Tags: Tag });
dto!(TransitGatewayRouteTable {
    TransitGatewayRouteTableId: Option<String>, TransitGatewayId: Option<String>,
    State: Option<String>, DefaultAssociationRouteTable: Option<bool>,
    DefaultPropagationRouteTable: Option<bool>,
});
dto!(TgwPropagation {
    TransitGatewayAttachmentId: Option<String>, ResourceId: Option<String>,
    ResourceType: Option<String>, State: Option<String>, TransitGatewayRouteTableId: Option<String>,
});
dto_lists!(TgwPropagations { TransitGatewayRouteTableId: Option<String> }
    lists { TransitGatewayRouteTablePropagations: TgwPropagation });
dto!(TgwRouteAttachment {
    TransitGatewayAttachmentId: Option<String>, ResourceId: Option<String>, ResourceType: Option<String>,
});
dto_lists!(TgwRoute {
    DestinationCidrBlock: Option<String>, PrefixListId: Option<String>, State: Option<String>,
    Type: Option<String>,
} lists { TransitGatewayAttachments: TgwRouteAttachment });
dto_lists!(TgwRoutes { TransitGatewayRouteTableId: Option<String> } lists { Routes: TgwRoute });

dto!(PlEntry { Cidr: Option<String>, Description: Option<String> });
dto_lists!(PrefixList {
    PrefixListId: Option<String>, PrefixListName: Option<String>, AddressFamily: Option<String>,
    State: Option<String>, OwnerId: Option<String>,
} lists { Cidrs: String, Entries: PlEntry });

dto_lists!(VpcEndpoint {
    VpcEndpointId: Option<String>, VpcEndpointType: Option<String>, VpcId: Option<String>,
    ServiceName: Option<String>, State: Option<String>,
} lists { RouteTableIds: String, SubnetIds: String, NetworkInterfaceIds: String, Groups: GroupRef });

dto_lists!(VpnGateway {
    VpnGatewayId: Option<String>, State: Option<String>, AmazonSideAsn: Option<i64>,
} lists { VpcAttachments: VpcAttachment, Tags: Tag });
dto!(VpnRoute { DestinationCidrBlock: Option<String>, State: Option<String> });
dto!(VgwTelemetry { OutsideIpAddress: Option<String>, Status: Option<String> });
dto_lists!(VpnConnection {
    VpnConnectionId: Option<String>, VpnGatewayId: Option<String>, TransitGatewayId: Option<String>,
    CustomerGatewayId: Option<String>, State: Option<String>,
    CustomerGatewayConfiguration: Option<String>,
} lists { Routes: VpnRoute, VgwTelemetry: VgwTelemetry });

// Elastic Load Balancing v2 (`aws elbv2 describe-*`; Batfish's wrappers for the per-LB and
// per-target-group outputs: `LoadBalancerListeners`, `LoadBalancerTargetHealth`,
// `LoadBalancerAttributes`).
dto!(LbZone { SubnetId: Option<String>, ZoneName: Option<String> });
dto!(LbState { Code: Option<String> });
dto_lists!(LoadBalancer {
    LoadBalancerArn: Option<String>, LoadBalancerName: Option<String>, DNSName: Option<String>,
    Scheme: Option<String>, Type: Option<String>, VpcId: Option<String>, State: Option<LbState>,
} lists { AvailabilityZones: LbZone, SecurityGroups: String });
dto!(LbAction { Type: Option<String>, TargetGroupArn: Option<String>, Order: Option<i64> });
dto_lists!(Listener {
    ListenerArn: Option<String>, LoadBalancerArn: Option<String>, Port: Option<u16>,
    Protocol: Option<String>,
} lists { DefaultActions: LbAction });
dto_lists!(LbListeners { LoadBalancerArn: Option<String> } lists { Listeners: Listener });
dto_lists!(TargetGroup {
    TargetGroupArn: Option<String>, TargetGroupName: Option<String>, Port: Option<u16>,
    Protocol: Option<String>, TargetType: Option<String>, VpcId: Option<String>,
} lists { LoadBalancerArns: String });
dto!(LbTarget { Id: Option<String>, Port: Option<u16>, AvailabilityZone: Option<String> });
dto!(LbTargetState { State: Option<String> });
dto!(TargetHealthDescription { Target: Option<LbTarget>, TargetHealth: Option<LbTargetState> });
dto_lists!(LbTargetHealth { TargetGroupArn: Option<String> }
    lists { TargetHealthDescriptions: TargetHealthDescription });
dto!(LbAttribute { Key: Option<String>, Value: Option<String> });
dto_lists!(LbAttributes { LoadBalancerArn: Option<String> } lists { Attributes: LbAttribute });

/// AWS's published `ip-ranges.json` (`prefixes[]{ip_prefix, service}`), if the user drops one
/// into the snapshot.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IpRangePrefix {
    pub ip_prefix: Option<String>,
    pub ipv6_prefix: Option<String>,
    pub service: Option<String>,
    pub region: Option<String>,
}
