//! The demo's shipped inputs — the AWS snapshot (`snapshot/`, AWS CLI `describe-*` outputs as
//! `flowwatch snapshot capture` documents them) and the traffic file (`traffic.toml`) — embedded
//! in the binary, written to disk next to the generated logs so that `flowwatch reach`,
//! `access`, `explain` and `simulate` can be pointed at them.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{DemoError, Result};

/// The account and region every demo resource lives in.
pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// The peering connection that appears at 12:00 UTC, with its routes.
pub const PEERING_ID: &str = "pcx-0f6820c4dfff77daf";

/// The demo's traffic file (crates/demo/traffic.toml).
pub const TRAFFIC: &str = include_str!("../traffic.toml");

macro_rules! snapshot_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../snapshot/123456789012/us-east-1/", $name)))),*]
    };
}

/// (file name, contents) of the end-of-day snapshot, as `aws ec2 describe-*` prints them.
const FILES: &[(&str, &str)] = snapshot_files!(
    "ec2-describe-availability-zones.json",
    "ec2-describe-instances.json",
    "ec2-describe-internet-gateways.json",
    "ec2-describe-nat-gateways.json",
    "ec2-describe-network-acls.json",
    "ec2-describe-network-interfaces.json",
    "ec2-describe-prefix-lists.json",
    "ec2-describe-route-tables.json",
    "ec2-describe-security-groups.json",
    "ec2-describe-subnets.json",
    "ec2-describe-vpc-endpoints.json",
    "ec2-describe-vpc-peering-connections.json",
    "ec2-describe-vpcs.json",
);

/// Which configuration of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// 00:00–12:00 UTC: no peering connection, no routes to it.
    BeforeNoon,
    /// From 12:00 UTC: the peering connection and a route to it on each side.
    AfterNoon,
}

/// The snapshot's files for `config`: the morning one is the end-of-day one without the peering
/// connection and without the routes that point at it.
pub fn snapshot_files(config: Config) -> Result<Vec<(&'static str, String)>> {
    let mut out = Vec::with_capacity(FILES.len());
    for &(name, text) in FILES {
        if config == Config::AfterNoon {
            out.push((name, text.to_string()));
            continue;
        }
        if name == "ec2-describe-vpc-peering-connections.json" {
            continue;
        }
        if name == "ec2-describe-route-tables.json" {
            let mut doc: Value = serde_json::from_str(text).map_err(|e| DemoError::Asset {
                name,
                message: e.to_string(),
            })?;
            if let Some(tables) = doc.get_mut("RouteTables").and_then(Value::as_array_mut) {
                for t in tables {
                    if let Some(routes) = t.get_mut("Routes").and_then(Value::as_array_mut) {
                        routes.retain(|r| r.get("VpcPeeringConnectionId").is_none());
                    }
                }
            }
            let text = serde_json::to_string_pretty(&doc).map_err(|e| DemoError::Asset {
                name,
                message: e.to_string(),
            })?;
            out.push((name, text + "\n"));
            continue;
        }
        out.push((name, text.to_string()));
    }
    Ok(out)
}

/// Write the snapshot for `config` under `dir` (`dir/123456789012/us-east-1/*.json`, the layout
/// from which the loader takes account and region); returns the directory to load.
pub fn write_snapshot(dir: &Path, config: Config) -> Result<PathBuf> {
    let leaf = dir.join(ACCOUNT_ID).join(REGION);
    std::fs::create_dir_all(&leaf).map_err(|source| DemoError::Io {
        path: leaf.clone(),
        source,
    })?;
    for (name, text) in snapshot_files(config)? {
        let path = leaf.join(name);
        std::fs::write(&path, text).map_err(|source| DemoError::Io { path, source })?;
    }
    Ok(dir.to_path_buf())
}

/// An instance or NAT gateway of the demo, for legends and lookup tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The `Name` tag: `web`, `app-a`, `dns`, `worker`, `db`, `app-b`, `nat-gw`.
    pub name: String,
    /// `None` for the NAT gateway's requester-managed interface.
    pub instance_id: Option<String>,
    pub interface_id: String,
    pub private_ip: Ipv4Addr,
    pub public_ip: Option<Ipv4Addr>,
}

/// Every host of the snapshot: the instances (from `describe-instances`, by `Name` tag) and the
/// NAT gateway, in the order of the instances file.
pub fn hosts() -> Result<Vec<Host>> {
    let doc = |name: &'static str| -> Result<Value> {
        let text = FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .unwrap_or("{}");
        serde_json::from_str(text).map_err(|e| DemoError::Asset {
            name,
            message: e.to_string(),
        })
    };
    let ip = |v: &Value| v.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok());
    let mut out = Vec::new();
    let instances = doc("ec2-describe-instances.json")?;
    for r in instances["Reservations"].as_array().into_iter().flatten() {
        for i in r["Instances"].as_array().into_iter().flatten() {
            let name = i["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["Key"] == "Name")
                .and_then(|t| t["Value"].as_str())
                .unwrap_or("-");
            let (Some(id), Some(eni), Some(private_ip)) = (
                i["InstanceId"].as_str(),
                i["NetworkInterfaces"][0]["NetworkInterfaceId"].as_str(),
                ip(&i["PrivateIpAddress"]),
            ) else {
                continue;
            };
            out.push(Host {
                name: name.to_string(),
                instance_id: Some(id.to_string()),
                interface_id: eni.to_string(),
                private_ip,
                public_ip: ip(&i["PublicIpAddress"]),
            });
        }
    }
    let nats = doc("ec2-describe-nat-gateways.json")?;
    for n in nats["NatGateways"].as_array().into_iter().flatten() {
        let a = &n["NatGatewayAddresses"][0];
        let (Some(eni), Some(private_ip)) = (a["NetworkInterfaceId"].as_str(), ip(&a["PrivateIp"]))
        else {
            continue;
        };
        out.push(Host {
            name: "nat-gw".into(),
            instance_id: None,
            interface_id: eni.to_string(),
            private_ip,
            public_ip: ip(&a["PublicIp"]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_morning_snapshot_lacks_only_the_peering_and_its_routes() {
        let after = snapshot_files(Config::AfterNoon).unwrap();
        let before = snapshot_files(Config::BeforeNoon).unwrap();
        assert_eq!(after.len(), before.len() + 1);
        let routes = |files: &[(&str, String)]| {
            files
                .iter()
                .find(|(n, _)| *n == "ec2-describe-route-tables.json")
                .map(|(_, t)| t.matches(PEERING_ID).count())
                .unwrap()
        };
        assert_eq!(routes(&after), 2, "a route on each side");
        assert_eq!(routes(&before), 0);
        assert!(!before.iter().any(|(_, t)| t.contains(PEERING_ID)));
    }

    #[test]
    fn hosts_come_from_the_instances_and_the_nat_gateway() {
        let h = hosts().unwrap();
        let names: Vec<&str> = h.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["web", "app-a", "dns", "worker", "db", "app-b", "nat-gw"]
        );
        let web = &h[0];
        assert_eq!(web.public_ip, Some(Ipv4Addr::new(54, 210, 167, 204)));
        assert_eq!(web.interface_id, "eni-08c6af3d966c8b993");
        assert!(h[6].instance_id.is_none());
    }
}
