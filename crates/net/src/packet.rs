//! The packet the evaluators judge: a 5-tuple (plus ICMP type/code) in `Copy` form, so one
//! evaluation allocates nothing.

use serde::Serialize;

use crate::ip::Addr;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// Which way a packet crosses a security group or network ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Into the ENI (security group) or subnet (NACL): rules match the packet's source.
    Ingress,
    /// Out of the ENI or subnet: rules match the packet's destination.
    Egress,
}

/// One packet. `src_port`/`dst_port` are meaningful for TCP and UDP; `icmp_type`/`icmp_code`
/// for ICMP and ICMPv6 (`None` = unknown, which matches only rules for any type/code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    pub protocol: u8,
    pub src: Addr,
    pub dst: Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
}

impl Packet {
    pub fn new(protocol: u8, src: Addr, dst: Addr) -> Self {
        Packet {
            protocol,
            src,
            dst,
            src_port: 0,
            dst_port: 0,
            icmp_type: None,
            icmp_code: None,
        }
    }

    pub fn tcp(src: Addr, src_port: u16, dst: Addr, dst_port: u16) -> Self {
        Packet {
            src_port,
            dst_port,
            ..Packet::new(PROTO_TCP, src, dst)
        }
    }

    pub fn udp(src: Addr, src_port: u16, dst: Addr, dst_port: u16) -> Self {
        Packet {
            src_port,
            dst_port,
            ..Packet::new(PROTO_UDP, src, dst)
        }
    }

    pub fn icmp(src: Addr, dst: Addr, icmp_type: u8, icmp_code: u8) -> Self {
        let proto = if src.v6 { PROTO_ICMPV6 } else { PROTO_ICMP };
        Packet {
            icmp_type: Some(icmp_type),
            icmp_code: Some(icmp_code),
            ..Packet::new(proto, src, dst)
        }
    }

    pub fn has_ports(&self) -> bool {
        self.protocol == PROTO_TCP || self.protocol == PROTO_UDP
    }

    pub fn is_icmp(&self) -> bool {
        self.protocol == PROTO_ICMP || self.protocol == PROTO_ICMPV6
    }

    /// The reply: addresses and ports swapped; ICMP echo request (8 / 128) becomes echo
    /// reply (0 / 129).
    pub fn reversed(&self) -> Self {
        let icmp_type = match (self.protocol, self.icmp_type) {
            (PROTO_ICMP, Some(8)) => Some(0),
            (PROTO_ICMPV6, Some(128)) => Some(129),
            (_, t) => t,
        };
        Packet {
            protocol: self.protocol,
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            icmp_type,
            icmp_code: self.icmp_code,
        }
    }
}

/// Protocol name as the AWS APIs spell it (`tcp`, `udp`, `icmp`, `icmpv6`) or the number.
pub fn protocol_name(p: u8) -> String {
    match p {
        PROTO_TCP => "tcp".into(),
        PROTO_UDP => "udp".into(),
        PROTO_ICMP => "icmp".into(),
        PROTO_ICMPV6 => "icmpv6".into(),
        n => n.to_string(),
    }
}

/// Parse `tcp|udp|icmp|icmpv6|all|-1|<number>`; `None` for all protocols.
pub fn parse_protocol(s: &str) -> Option<Option<u8>> {
    match s.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => Some(None),
        "tcp" => Some(Some(PROTO_TCP)),
        "udp" => Some(Some(PROTO_UDP)),
        "icmp" => Some(Some(PROTO_ICMP)),
        "icmpv6" => Some(Some(PROTO_ICMPV6)),
        n => n.parse::<u8>().ok().map(Some),
    }
}
