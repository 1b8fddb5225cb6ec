//! The demo's AWS environment: one account, two VPCs, seven network interfaces, a NAT gateway, a
//! peering connection and the two flow logs that record it all.
//!
//! The ids are made up but AWS-shaped (`eni-` + 17 hex digits starting with `0`). They are fixed
//! constants, not drawn from the seed, so that the legend, documentation and tests can name them:
//! the seed changes the traffic, never the resources.

use std::net::Ipv4Addr;

use chrono::NaiveDate;

/// The account that owns every resource.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region of every resource.
pub const REGION: &str = "us-east-1";

/// Index of each interface in [`Environment::interfaces`]; the generator refers to interfaces by
/// these numbers.
pub(crate) const WEB: u8 = 0;
pub(crate) const NAT: u8 = 1;
pub(crate) const APP_A: u8 = 2;
pub(crate) const DNS: u8 = 3;
pub(crate) const WORKER: u8 = 4;
pub(crate) const DB: u8 = 5;
pub(crate) const APP_B: u8 = 6;

/// Everything the demo day runs on. `Debug`-printable; the CLI prints it as a legend.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Environment {
    pub account_id: &'static str,
    pub region: &'static str,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    /// Every interface the flow logs cover, in a fixed order.
    pub interfaces: Vec<Interface>,
    pub nat_gateway: NatGateway,
    pub peering: Peering,
    /// The S3 gateway endpoint VPC A uses (traffic-path 7 on app-a's S3 traffic).
    pub s3_endpoint_id: &'static str,
    pub internet_gateway_id: &'static str,
    /// The two flow logs; both publish the same records, one as text and one as Parquet.
    pub flow_logs: Vec<FlowLog>,
    /// Internet addresses that scan `web` again and again during the day.
    pub heavy_scanners: Vec<Ipv4Addr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vpc {
    pub name: &'static str,
    pub id: &'static str,
    pub cidr: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    pub name: &'static str,
    pub id: &'static str,
    pub vpc_id: &'static str,
    pub cidr: &'static str,
    pub az_id: &'static str,
}

/// A network interface, with the instance that owns it (none for the NAT gateway's
/// requester-managed interface, whose records carry instance-id `-`).
#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    /// Short role name used in the legend: `web`, `nat-gw`, `app-a`, …
    pub name: &'static str,
    pub id: &'static str,
    pub instance_id: Option<&'static str>,
    pub vpc_id: &'static str,
    pub subnet_id: &'static str,
    pub az_id: &'static str,
    /// The primary private IPv4 address: what srcaddr/dstaddr show for this interface.
    pub private_ip: Ipv4Addr,
    /// Public or Elastic IP, if any. Flow logs never show it: the internet gateway translates it
    /// to the private address before the interface sees the packet.
    pub public_ip: Option<Ipv4Addr>,
    pub description: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatGateway {
    pub id: &'static str,
    pub interface_id: &'static str,
    pub elastic_ip: Ipv4Addr,
}

/// The VPC A ↔ VPC B peering connection, active (with routes on both sides) from `active_from`.
#[derive(Clone, Debug, PartialEq)]
pub struct Peering {
    pub id: &'static str,
    pub requester_vpc_id: &'static str,
    pub accepter_vpc_id: &'static str,
    /// Unix seconds (UTC) from which the peering and its routes exist: 12:00 on the demo day.
    pub active_from: i64,
}

/// One flow log and where it delivers.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowLog {
    pub id: &'static str,
    /// `plain-text` or `parquet`, as `DestinationOptions.FileFormat` spells it.
    pub file_format: &'static str,
    /// Whether the keys use Hive-compatible, per-hour partitions.
    pub hive_hourly: bool,
    /// The `LogFormat` as `describe-flow-logs` prints it.
    pub log_format: &'static str,
}

const VPC_A: &str = "vpc-02c53d16ce65dea61";
const VPC_B: &str = "vpc-023200eb2d3739d39";
const SUBNET_PUBLIC: &str = "subnet-058a3f0f5bad4c27e";
const SUBNET_PRIVATE_A: &str = "subnet-0d8808925848eff22";
const SUBNET_PRIVATE_B: &str = "subnet-034755a55ec1ba49d";
const SUBNET_DB: &str = "subnet-09fdbdfee118c220f";
const SUBNET_B: &str = "subnet-069ac3cc70250abeb";

/// The flow log that delivers plain text.
pub(crate) const FLOW_LOG_TEXT: &str = "fl-084f56f31e9cf2cf8";
/// The flow log that delivers Parquet.
pub(crate) const FLOW_LOG_PARQUET: &str = "fl-08046dcd80e27d50c";

impl Environment {
    /// The environment of the demo day `day` (the day only sets when the peering starts).
    pub fn for_day(day: NaiveDate) -> Environment {
        let noon = day
            .and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default();
        Environment {
            account_id: ACCOUNT_ID,
            region: REGION,
            vpcs: vec![
                Vpc {
                    name: "vpc-a",
                    id: VPC_A,
                    cidr: "10.0.0.0/16",
                },
                Vpc {
                    name: "vpc-b",
                    id: VPC_B,
                    cidr: "10.1.0.0/16",
                },
            ],
            subnets: vec![
                subnet("a-public", SUBNET_PUBLIC, VPC_A, "10.0.1.0/24", "use1-az1"),
                subnet(
                    "a-private-1",
                    SUBNET_PRIVATE_A,
                    VPC_A,
                    "10.0.2.0/24",
                    "use1-az1",
                ),
                subnet(
                    "a-private-2",
                    SUBNET_PRIVATE_B,
                    VPC_A,
                    "10.0.3.0/24",
                    "use1-az2",
                ),
                subnet("a-db", SUBNET_DB, VPC_A, "10.0.4.0/24", "use1-az2"),
                subnet("b-private", SUBNET_B, VPC_B, "10.1.2.0/24", "use1-az4"),
            ],
            interfaces: interfaces(),
            nat_gateway: NatGateway {
                id: "nat-0d6b6b74dc46e1099",
                interface_id: "eni-094a763e51eb1beaa",
                elastic_ip: Ipv4Addr::new(3, 219, 45, 118),
            },
            peering: Peering {
                id: "pcx-0f6820c4dfff77daf",
                requester_vpc_id: VPC_A,
                accepter_vpc_id: VPC_B,
                active_from: noon,
            },
            s3_endpoint_id: "vpce-0bf0e9e45ff1d43d1",
            internet_gateway_id: "igw-043ddcc22bc0148b3",
            flow_logs: vec![
                FlowLog {
                    id: FLOW_LOG_TEXT,
                    file_format: "plain-text",
                    hive_hourly: false,
                    log_format: crate::LOG_FORMAT,
                },
                FlowLog {
                    id: FLOW_LOG_PARQUET,
                    file_format: "parquet",
                    hive_hourly: true,
                    log_format: crate::LOG_FORMAT,
                },
            ],
            heavy_scanners: crate::scenario::HEAVY_SCANNERS.to_vec(),
        }
    }

    /// The interface with this role name (`web`, `nat-gw`, `app-a`, `dns`, `worker`, `db`,
    /// `app-b`).
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// The interface at a generator index; the index is always one of the constants above.
    pub(crate) fn eni(&self, index: u8) -> &Interface {
        &self.interfaces[usize::from(index)]
    }

    pub(crate) fn ip(&self, index: u8) -> Ipv4Addr {
        self.eni(index).private_ip
    }
}

fn subnet(
    name: &'static str,
    id: &'static str,
    vpc_id: &'static str,
    cidr: &'static str,
    az_id: &'static str,
) -> Subnet {
    Subnet {
        name,
        id,
        vpc_id,
        cidr,
        az_id,
    }
}

/// The interfaces, in the order of the index constants above.
fn interfaces() -> Vec<Interface> {
    let eni =
        |name, id, instance_id, vpc_id, subnet_id, az_id, ip: [u8; 4], description| Interface {
            name,
            id,
            instance_id,
            vpc_id,
            subnet_id,
            az_id,
            private_ip: Ipv4Addr::from(ip),
            public_ip: None,
            description,
        };
    let mut list = vec![
        eni(
            "web",
            "eni-08c6af3d966c8b993",
            Some("i-0419966bd56f127f4"),
            VPC_A,
            SUBNET_PUBLIC,
            "use1-az1",
            [10, 0, 1, 10],
            "public web server: serves 443 and 80 to the internet",
        ),
        eni(
            "nat-gw",
            "eni-094a763e51eb1beaa",
            None,
            VPC_A,
            SUBNET_PUBLIC,
            "use1-az1",
            [10, 0, 1, 100],
            "NAT gateway interface (requester-managed): instance-id is -",
        ),
        eni(
            "app-a",
            "eni-0fd1209554abe4b9f",
            Some("i-0e56286dd576cd7ad"),
            VPC_A,
            SUBNET_PRIVATE_A,
            "use1-az1",
            [10, 0, 2, 20],
            "application server in VPC A: :8080 behind web, uses db and S3, pings app-b",
        ),
        eni(
            "dns",
            "eni-0e6ccdd3d296d3d45",
            Some("i-0ae92a0096727edbe"),
            VPC_A,
            SUBNET_PRIVATE_A,
            "use1-az1",
            [10, 0, 2, 53],
            "self-hosted DNS resolver (udp/53), forwards misses to the internet via the NAT",
        ),
        eni(
            "worker",
            "eni-01da40b88cd6a967a",
            Some("i-0f4d4a7c30c9e5b96"),
            VPC_A,
            SUBNET_PRIVATE_B,
            "use1-az2",
            [10, 0, 3, 40],
            "private batch worker: reaches the internet through the NAT gateway",
        ),
        eni(
            "db",
            "eni-0a716b270e7eb341e",
            Some("i-09725305a567afc03"),
            VPC_A,
            SUBNET_DB,
            "use1-az2",
            [10, 0, 4, 50],
            "PostgreSQL (tcp/5432) used by app-a",
        ),
        eni(
            "app-b",
            "eni-0cd044631c2c27fe0",
            Some("i-00ad452ce554e13ce"),
            VPC_B,
            SUBNET_B,
            "use1-az4",
            [10, 1, 2, 30],
            "application server in VPC B: unreachable from VPC A until the 12:00 peering",
        ),
    ];
    list[usize::from(WEB)].public_ip = Some(Ipv4Addr::new(54, 210, 167, 204));
    list[usize::from(NAT)].public_ip = Some(Ipv4Addr::new(3, 219, 45, 118));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_aws_shaped_and_indexes_match() {
        let env = Environment::for_day(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        for i in &env.interfaces {
            let hex = i.id.strip_prefix("eni-0").unwrap();
            assert_eq!(hex.len(), 16, "{}", i.id);
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{}", i.id);
            if let Some(inst) = i.instance_id {
                assert_eq!(inst.len(), "i-".len() + 17, "{inst}");
            }
            assert!(
                env.subnets
                    .iter()
                    .any(|s| s.id == i.subnet_id && s.vpc_id == i.vpc_id)
            );
        }
        assert_eq!(env.eni(NAT).id, env.nat_gateway.interface_id);
        assert_eq!(
            env.interface("app-b").unwrap().private_ip,
            Ipv4Addr::new(10, 1, 2, 30)
        );
        assert_eq!(env.peering.active_from % 86400, 12 * 3600);
    }
}
