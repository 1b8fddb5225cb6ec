//! The VPC Flow Logs field catalog: every field AWS documents, in documentation order, with its
//! name in each spelling users meet and the type AWS uses for it in Parquet delivery.
//!
//! Spellings of one field, taking `pkt-srcaddr` as the example:
//! - format token `${pkt-srcaddr}` (what `describe-flow-logs` prints in `LogFormat`),
//! - header / hyphen form `pkt-srcaddr` (the first line of an S3 text object),
//! - Parquet / Athena form `pkt_srcaddr` (column names of AWS Parquet delivery and of our store),
//! - Logs Insights form `pktSrcAddr` (CloudWatch's discovered camelCase names).

use std::fmt;

/// How a field is typed. Text delivery carries every value as a string; this is the type AWS uses
/// for Parquet delivery, and the one flowwatch stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Parquet INT32. `max` bounds the accepted value (ports are 16 bits, protocol 8 bits).
    Int32 { max: i32 },
    /// Parquet INT64, never negative (counters and epoch times).
    Int64,
    /// An IPv4 or IPv6 address, stored as the string AWS wrote after validation.
    Addr,
    /// A string restricted to a closed set of values (`action`, `log-status`).
    Enum(&'static [&'static str]),
    /// Any string.
    Text,
}

/// A field AWS documents. The discriminant is the field's position in [`FIELDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FieldId {
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcAddr,
    PktDstAddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    RejectReason,
    ResourceId,
    EncryptionStatus,
    InterfaceType,
    NextHopInterfaceId,
    NextHopSubnetId,
    NextHopAzId,
    NextHopVpcId,
    NextHopInterfaceType,
    InstanceTag,
    InterfaceTag,
    AsgTag,
}

/// One catalog entry.
#[derive(Debug)]
pub struct FieldDef {
    pub id: FieldId,
    /// The hyphen form, as in S3 headers and format tokens without `${}`.
    pub name: &'static str,
    /// The Parquet / Athena column name (hyphens as underscores).
    pub column: &'static str,
    /// The Logs Insights name CloudWatch discovers.
    pub insights: &'static str,
    /// Other names users write for it in Logs Insights (`start` for `startTime`).
    pub aliases: &'static [&'static str],
    /// The flow-log version that introduced the field.
    pub version: u8,
    pub ty: FieldType,
}

const ACTIONS: &[&str] = &["ACCEPT", "REJECT"];
const LOG_STATUSES: &[&str] = &["OK", "NODATA", "SKIPDATA"];

macro_rules! catalog {
    ($( $id:ident $name:literal $column:literal $insights:literal [$($alias:literal),*] $version:literal $ty:expr; )*) => {
        /// Every known field in AWS documentation order: v2 in the default format's order, then
        /// each later version's fields in the order the VPC user guide lists them. The "all fields
        /// of version N" layouts that some tools emit without a header follow this order.
        pub const FIELDS: &[FieldDef] = &[
            $( FieldDef {
                id: FieldId::$id,
                name: $name,
                column: $column,
                insights: $insights,
                aliases: &[$($alias),*],
                version: $version,
                ty: $ty,
            }, )*
        ];
    };
}

catalog! {
    Version "version" "version" "version" [] 2 FieldType::Int32 { max: i32::MAX };
    AccountId "account-id" "account_id" "accountId" [] 2 FieldType::Text;
    InterfaceId "interface-id" "interface_id" "interfaceId" [] 2 FieldType::Text;
    SrcAddr "srcaddr" "srcaddr" "srcAddr" [] 2 FieldType::Addr;
    DstAddr "dstaddr" "dstaddr" "dstAddr" [] 2 FieldType::Addr;
    SrcPort "srcport" "srcport" "srcPort" [] 2 FieldType::Int32 { max: 65535 };
    DstPort "dstport" "dstport" "dstPort" [] 2 FieldType::Int32 { max: 65535 };
    Protocol "protocol" "protocol" "protocol" [] 2 FieldType::Int32 { max: 255 };
    Packets "packets" "packets" "packets" [] 2 FieldType::Int64;
    Bytes "bytes" "bytes" "bytes" [] 2 FieldType::Int64;
    Start "start" "start" "startTime" ["start"] 2 FieldType::Int64;
    End "end" "end" "endTime" ["end"] 2 FieldType::Int64;
    Action "action" "action" "action" [] 2 FieldType::Enum(ACTIONS);
    LogStatus "log-status" "log_status" "logStatus" [] 2 FieldType::Enum(LOG_STATUSES);
    VpcId "vpc-id" "vpc_id" "vpcId" [] 3 FieldType::Text;
    SubnetId "subnet-id" "subnet_id" "subnetId" [] 3 FieldType::Text;
    InstanceId "instance-id" "instance_id" "instanceId" [] 3 FieldType::Text;
    TcpFlags "tcp-flags" "tcp_flags" "tcpFlags" [] 3 FieldType::Int32 { max: 65535 };
    Type "type" "type" "type" [] 3 FieldType::Text;
    PktSrcAddr "pkt-srcaddr" "pkt_srcaddr" "pktSrcAddr" [] 3 FieldType::Addr;
    PktDstAddr "pkt-dstaddr" "pkt_dstaddr" "pktDstAddr" [] 3 FieldType::Addr;
    Region "region" "region" "region" [] 4 FieldType::Text;
    AzId "az-id" "az_id" "azId" [] 4 FieldType::Text;
    SublocationType "sublocation-type" "sublocation_type" "sublocationType" [] 4 FieldType::Text;
    SublocationId "sublocation-id" "sublocation_id" "sublocationId" [] 4 FieldType::Text;
    PktSrcAwsService "pkt-src-aws-service" "pkt_src_aws_service" "pktSrcAwsService" [] 5 FieldType::Text;
    PktDstAwsService "pkt-dst-aws-service" "pkt_dst_aws_service" "pktDstAwsService" [] 5 FieldType::Text;
    FlowDirection "flow-direction" "flow_direction" "flowDirection" [] 5 FieldType::Text;
    TrafficPath "traffic-path" "traffic_path" "trafficPath" [] 5 FieldType::Int32 { max: 255 };
    EcsClusterArn "ecs-cluster-arn" "ecs_cluster_arn" "ecsClusterArn" [] 7 FieldType::Text;
    EcsClusterName "ecs-cluster-name" "ecs_cluster_name" "ecsClusterName" [] 7 FieldType::Text;
    EcsContainerInstanceArn "ecs-container-instance-arn" "ecs_container_instance_arn" "ecsContainerInstanceArn" [] 7 FieldType::Text;
    EcsContainerInstanceId "ecs-container-instance-id" "ecs_container_instance_id" "ecsContainerInstanceId" [] 7 FieldType::Text;
    EcsContainerId "ecs-container-id" "ecs_container_id" "ecsContainerId" [] 7 FieldType::Text;
    EcsSecondContainerId "ecs-second-container-id" "ecs_second_container_id" "ecsSecondContainerId" [] 7 FieldType::Text;
    EcsServiceName "ecs-service-name" "ecs_service_name" "ecsServiceName" [] 7 FieldType::Text;
    EcsTaskDefinitionArn "ecs-task-definition-arn" "ecs_task_definition_arn" "ecsTaskDefinitionArn" [] 7 FieldType::Text;
    EcsTaskArn "ecs-task-arn" "ecs_task_arn" "ecsTaskArn" [] 7 FieldType::Text;
    EcsTaskId "ecs-task-id" "ecs_task_id" "ecsTaskId" [] 7 FieldType::Text;
    RejectReason "reject-reason" "reject_reason" "rejectReason" [] 8 FieldType::Text;
    ResourceId "resource-id" "resource_id" "resourceId" [] 9 FieldType::Text;
    EncryptionStatus "encryption-status" "encryption_status" "encryptionStatus" [] 10 FieldType::Int32 { max: 255 };
    InterfaceType "interface-type" "interface_type" "interfaceType" [] 11 FieldType::Text;
    NextHopInterfaceId "next-hop-interface-id" "next_hop_interface_id" "nextHopInterfaceId" [] 11 FieldType::Text;
    NextHopSubnetId "next-hop-subnet-id" "next_hop_subnet_id" "nextHopSubnetId" [] 11 FieldType::Text;
    NextHopAzId "next-hop-az-id" "next_hop_az_id" "nextHopAzId" [] 11 FieldType::Text;
    NextHopVpcId "next-hop-vpc-id" "next_hop_vpc_id" "nextHopVpcId" [] 11 FieldType::Text;
    NextHopInterfaceType "next-hop-interface-type" "next_hop_interface_type" "nextHopInterfaceType" [] 11 FieldType::Text;
    InstanceTag "instance-tag" "instance_tag" "instanceTag" [] 11 FieldType::Text;
    InterfaceTag "interface-tag" "interface_tag" "interfaceTag" [] 11 FieldType::Text;
    AsgTag "asg-tag" "asg_tag" "asgTag" [] 11 FieldType::Text;
}

/// Number of known fields.
pub const FIELD_COUNT: usize = FIELDS.len();

impl FieldId {
    /// The catalog entry.
    pub fn def(self) -> &'static FieldDef {
        &FIELDS[self as usize]
    }

    /// Position in [`FIELDS`] (and in the store's column order).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn column(self) -> &'static str {
        self.def().column
    }

    /// Look a field up by any spelling: `${pkt-srcaddr}`, `pkt-srcaddr`, `pkt_srcaddr`,
    /// `pktSrcAddr`, or an alias such as `startTime`. Exact spellings only: Logs Insights field
    /// names are case-sensitive, so `SrcAddr` is not `srcAddr`.
    pub fn lookup(name: &str) -> Option<FieldId> {
        let name = strip_token(name);
        let exact = FIELDS.iter().find(|f| {
            f.name == name || f.column == name || f.insights == name || f.aliases.contains(&name)
        });
        match exact {
            Some(f) => Some(f.id),
            // A mixed spelling such as `pkt_src-aws-service`.
            None if name.contains('_') && name.contains('-') => {
                let hyphens = name.replace('_', "-");
                FIELDS.iter().find(|f| f.name == hyphens).map(|f| f.id)
            }
            None => None,
        }
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `${name}` → `name`; anything else unchanged.
pub fn strip_token(s: &str) -> &str {
    s.strip_prefix("${")
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s)
}

/// The Parquet / Athena column name for any field name, known or not: hyphens become
/// underscores. Unknown AWS fields are stored under this name as strings.
pub fn column_name(name: &str) -> String {
    strip_token(name).replace('-', "_")
}

/// The default format (v2), as `describe-flow-logs` shows it.
pub const DEFAULT_FORMAT: &[FieldId] = &[
    FieldId::Version,
    FieldId::AccountId,
    FieldId::InterfaceId,
    FieldId::SrcAddr,
    FieldId::DstAddr,
    FieldId::SrcPort,
    FieldId::DstPort,
    FieldId::Protocol,
    FieldId::Packets,
    FieldId::Bytes,
    FieldId::Start,
    FieldId::End,
    FieldId::Action,
    FieldId::LogStatus,
];

/// Every field the demo and the simulator write, v2 to v5: the default (v2) fields, then the
/// v3–v5 ones in the order the console's custom-format example lists them (`vpc-id` …
/// `pkt-dst-aws-service`). One list so both write the same layout.
pub const V5_FORMAT: [FieldId; 27] = {
    use FieldId::*;
    [
        Version,
        AccountId,
        InterfaceId,
        SrcAddr,
        DstAddr,
        SrcPort,
        DstPort,
        Protocol,
        Packets,
        Bytes,
        Start,
        End,
        Action,
        LogStatus,
        VpcId,
        SubnetId,
        InstanceId,
        TcpFlags,
        Type,
        PktSrcAddr,
        PktDstAddr,
        Region,
        AzId,
        FlowDirection,
        TrafficPath,
        PktSrcAwsService,
        PktDstAwsService,
    ]
};

/// The "every field up to version N, in documentation order" layouts that some pipelines write
/// without a header (Elastic's integration tests use them). Only versions whose field list is
/// documented are offered: 2, 3, 4, 5, 7 and 8.
pub fn all_fields_through(version: u8) -> Option<&'static [FieldDef]> {
    if !matches!(version, 2..=5 | 7 | 8) {
        return None;
    }
    let end = FIELDS
        .iter()
        .position(|f| f.version > version)
        .unwrap_or(FIELDS.len());
    Some(&FIELDS[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_positions_match_ids() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{} is out of place", f.name);
            assert_eq!(f.column, f.name.replace('-', "_"));
        }
    }

    #[test]
    fn every_spelling_finds_the_field() {
        for name in ["${pkt-srcaddr}", "pkt-srcaddr", "pkt_srcaddr", "pktSrcAddr"] {
            assert_eq!(FieldId::lookup(name), Some(FieldId::PktSrcAddr), "{name}");
        }
        assert_eq!(FieldId::lookup("startTime"), Some(FieldId::Start));
        assert_eq!(FieldId::lookup("start"), Some(FieldId::Start));
        assert_eq!(FieldId::lookup("endTime"), Some(FieldId::End));
        assert_eq!(FieldId::lookup("logStatus"), Some(FieldId::LogStatus));
        assert_eq!(FieldId::lookup("interfaceId"), Some(FieldId::InterfaceId));
        assert_eq!(FieldId::lookup("SrcAddr"), None);
        assert_eq!(
            FieldId::lookup("pkt_src-aws-service"),
            Some(FieldId::PktSrcAwsService)
        );
        assert_eq!(FieldId::lookup("no-such-field"), None);
    }

    #[test]
    fn documented_v2_insights_names() {
        // CloudWatch's discovered names for the default format, from the Logs user guide.
        let want = [
            "version",
            "accountId",
            "interfaceId",
            "srcAddr",
            "dstAddr",
            "srcPort",
            "dstPort",
            "protocol",
            "packets",
            "bytes",
            "startTime",
            "endTime",
            "action",
            "logStatus",
        ];
        let got: Vec<_> = DEFAULT_FORMAT.iter().map(|f| f.def().insights).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn all_field_layouts_have_documented_widths() {
        let width = |v| all_fields_through(v).map(<[FieldDef]>::len);
        assert_eq!(width(2), Some(14));
        assert_eq!(width(3), Some(21));
        assert_eq!(width(4), Some(25));
        assert_eq!(width(5), Some(29));
        assert_eq!(width(7), Some(39));
        assert_eq!(width(8), Some(40));
        assert_eq!(width(6), None);
    }
}
