//! The input: one flow-log record as a plain struct, whether it was read from the store, parsed
//! by a test, or produced by the simulator. Every field is optional because every field can be
//! `-` in a real record (NODATA, custom formats, v2 data without the v5 fields); what the
//! explanation needs and does not find is a [`SkipReason`], never a panic.

use std::net::IpAddr;

use flowwatch_net::Direction;
use serde::Serialize;

/// `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "ACCEPT" => Some(Action::Accept),
            "REJECT" => Some(Action::Reject),
            _ => None,
        }
    }
}

/// `log-status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

impl LogStatus {
    pub fn parse(s: &str) -> Option<LogStatus> {
        match s {
            "OK" => Some(LogStatus::Ok),
            "NODATA" => Some(LogStatus::NoData),
            "SKIPDATA" => Some(LogStatus::SkipData),
            _ => None,
        }
    }
}

/// `flow-direction` as written in a record (`ingress` / `egress`).
pub fn parse_direction(s: &str) -> Option<Direction> {
    match s {
        "ingress" => Some(Direction::Ingress),
        "egress" => Some(Direction::Egress),
        _ => None,
    }
}

/// One flow-log record: the fields `explain` reads. `None` is a field that is absent or `-`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowRecord {
    pub interface_id: String,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub action: Option<Action>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// `start`, epoch seconds.
    pub start: Option<i64>,
    pub log_status: Option<LogStatus>,
    /// v5; `None` in v2 data.
    pub flow_direction: Option<Direction>,
    /// v3; the packet's real addresses (differ from srcaddr/dstaddr on NAT-GW ENIs, secondary
    /// addresses, pods).
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    /// v5, egress only.
    pub traffic_path: Option<u8>,
}

impl FlowRecord {
    /// A record with the 5-tuple and action set (packets 1, bytes 40, no time), for tests and
    /// the simulator; chain the `with_*` setters for the rest.
    pub fn new(
        interface_id: &str,
        src: IpAddr,
        srcport: u16,
        dst: IpAddr,
        dstport: u16,
        protocol: u8,
        action: Action,
    ) -> FlowRecord {
        FlowRecord {
            interface_id: interface_id.to_string(),
            srcaddr: Some(src),
            dstaddr: Some(dst),
            srcport: Some(srcport),
            dstport: Some(dstport),
            protocol: Some(protocol),
            action: Some(action),
            packets: Some(1),
            bytes: Some(40),
            log_status: Some(LogStatus::Ok),
            ..FlowRecord::default()
        }
    }

    pub fn with_start(mut self, start: i64) -> FlowRecord {
        self.start = Some(start);
        self
    }

    pub fn with_direction(mut self, d: Direction) -> FlowRecord {
        self.flow_direction = Some(d);
        self
    }

    pub fn with_counts(mut self, packets: u64, bytes: u64) -> FlowRecord {
        self.packets = Some(packets);
        self.bytes = Some(bytes);
        self
    }

    pub fn with_pkt_addrs(mut self, src: IpAddr, dst: IpAddr) -> FlowRecord {
        self.pkt_srcaddr = Some(src);
        self.pkt_dstaddr = Some(dst);
        self
    }

    /// Parse a record in the default (v2) format: `version account-id interface-id srcaddr
    /// dstaddr srcport dstport protocol packets bytes start end action log-status`. `None`
    /// when the line does not have 14 fields; `-` fields become `None`.
    pub fn parse_v2(line: &str) -> Option<FlowRecord> {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        if f.len() != 14 {
            return None;
        }
        fn opt(s: &str) -> Option<&str> {
            (s != "-").then_some(s)
        }
        Some(FlowRecord {
            interface_id: f[2].to_string(),
            srcaddr: opt(f[3]).and_then(|s| s.parse().ok()),
            dstaddr: opt(f[4]).and_then(|s| s.parse().ok()),
            srcport: opt(f[5]).and_then(|s| s.parse().ok()),
            dstport: opt(f[6]).and_then(|s| s.parse().ok()),
            protocol: opt(f[7]).and_then(|s| s.parse().ok()),
            packets: opt(f[8]).and_then(|s| s.parse().ok()),
            bytes: opt(f[9]).and_then(|s| s.parse().ok()),
            start: opt(f[10]).and_then(|s| s.parse().ok()),
            action: Action::parse(f[12]),
            log_status: LogStatus::parse(f[13]),
            ..FlowRecord::default()
        })
    }
}

/// Why a record was not used. Counted in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SkipReason {
    /// `log-status` NODATA or SKIPDATA: no flow in the record.
    NoData,
    MissingInterfaceId,
    MissingAction,
    MissingAddress,
    MissingProtocol,
    /// TCP or UDP without `srcport`/`dstport`.
    MissingPort,
    /// Source and destination of different address families.
    MixedAddressFamilies,
    /// No `flow-direction`, and neither address belongs to the interface.
    DirectionUnknown,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::NoData => "log-status NODATA or SKIPDATA (no flow)",
            SkipReason::MissingInterfaceId => "no interface-id",
            SkipReason::MissingAction => "no action",
            SkipReason::MissingAddress => "no srcaddr or dstaddr",
            SkipReason::MissingProtocol => "no protocol",
            SkipReason::MissingPort => "tcp/udp record without srcport or dstport",
            SkipReason::MixedAddressFamilies => "srcaddr and dstaddr of different families",
            SkipReason::DirectionUnknown => {
                "no flow-direction and neither address belongs to the interface"
            }
        }
    }
}
