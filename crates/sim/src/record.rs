//! What a simulation takes and produces: [`Options`], the flow-log [`Record`]s with the
//! metadata of each logged [`Interface`], and the [`Stats`] of the run.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::observe::{Action, FlowDirection};

/// How to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub seed: u64,
    /// `max-aggregation-interval`: 60 or 600 seconds.
    pub aggregation_interval: u32,
    /// ENI or instance ids whose flow logs are written; empty = every active ENI. With several
    /// phases, an id must name an interface in at least one phase in force.
    pub interfaces: Vec<String>,
    /// The flow log's id, in object names (default derived from the seed).
    pub flow_log_id: Option<String>,
    /// Availability-zone name → zone id (`us-west-2a` → `usw2-az2`); see
    /// [`crate::az_ids_from_dir`]. Zones missing here get a derived id (`usw2-az1` for `…a`).
    pub az_ids: BTreeMap<String, String>,
    /// Refuse a traffic file that opens more connections than this.
    pub max_connections: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 42,
            aggregation_interval: 60,
            interfaces: Vec::new(),
            flow_log_id: None,
            az_ids: BTreeMap::new(),
            max_connections: 5_000_000,
        }
    }
}

/// `log-status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogStatus {
    Ok,
    NoData,
    /// Some records of the capture window were skipped (a `[[capture_loss]]` entry).
    SkipData,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "OK",
            LogStatus::NoData => "NODATA",
            LogStatus::SkipData => "SKIPDATA",
        }
    }
}

/// A logged interface: the metadata fields of its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub id: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// `None` for requester-managed ENIs (NAT gateways, endpoints).
    pub instance_id: Option<String>,
    pub az_id: String,
}

/// The packet part of an `OK` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Traffic5 {
    pub srcaddr: IpAddr,
    pub dstaddr: IpAddr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
    pub pkt_srcaddr: IpAddr,
    pub pkt_dstaddr: IpAddr,
    pub packets: u64,
    pub bytes: u64,
    pub action: Action,
    pub tcp_flags: u8,
    pub flow_direction: FlowDirection,
    /// Egress records only.
    pub traffic_path: Option<u8>,
    /// `pkt-src-aws-service`: the AWS service whose managed prefix list holds `pkt_srcaddr`
    /// (`S3`, `DYNAMODB`, …).
    pub pkt_src_aws_service: Option<&'static str>,
    /// `pkt-dst-aws-service`, likewise for `pkt_dstaddr`.
    pub pkt_dst_aws_service: Option<&'static str>,
}

/// One flow-log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Index into [`SimOutput::interfaces`].
    pub interface: u32,
    pub start: i64,
    pub end: i64,
    pub log_status: LogStatus,
    /// `None` for NODATA and SKIPDATA.
    pub traffic: Option<Traffic5>,
}

/// Per-interface record counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    pub accepted: u64,
    pub rejected: u64,
    pub nodata: u64,
    pub skipdata: u64,
    /// OK records a capture loss dropped (not written).
    pub dropped: u64,
}

/// Per traffic-file entry: connections opened and how many completed (reply delivered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStats {
    pub name: String,
    pub connections: u64,
    pub established: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    /// Records written (OK, NODATA and SKIPDATA).
    pub records: u64,
    pub flows: Vec<FlowStats>,
    /// By interface id.
    pub per_interface: BTreeMap<String, InterfaceStats>,
}

/// What [`crate::simulate`] produced: records sorted by (`end`, `start`, interface, …).
#[derive(Clone, Debug, PartialEq)]
pub struct SimOutput {
    pub interfaces: Vec<Interface>,
    pub records: Vec<Record>,
    pub stats: Stats,
    pub flow_log_id: String,
    pub aggregation_interval: u32,
    pub seed: u64,
}
