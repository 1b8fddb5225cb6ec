//! Addresses and CIDR blocks for both families in one small value type, plus the address
//! classes the gateways care about (RFC 1918, RFC 6598, AWS-announced space).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 or IPv6 address as a 128-bit number and a family flag (IPv4 in the low 32 bits).
/// `Copy` and comparison-cheap: the per-packet evaluators work on these, never on strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr {
    pub bits: u128,
    pub v6: bool,
}

impl Addr {
    pub const fn v4(bits: u32) -> Self {
        Addr {
            bits: bits as u128,
            v6: false,
        }
    }

    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Addr::v4(u32::from(a)),
            IpAddr::V6(a) => Addr {
                bits: u128::from(a),
                v6: true,
            },
        }
    }

    pub fn to_ip(self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.bits))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.bits as u32))
        }
    }

    /// Parse a dotted-quad or IPv6 literal; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        IpAddr::from_str(s.trim()).ok().map(Addr::from_ip)
    }

    fn width(self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_ip().fmt(f)
    }
}

impl From<IpAddr> for Addr {
    fn from(ip: IpAddr) -> Self {
        Addr::from_ip(ip)
    }
}

/// A CIDR block, canonicalised (host bits cleared) as AWS does on write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: Addr,
    pub len: u8,
}

impl Cidr {
    pub const ANY_V4: Cidr = Cidr {
        addr: Addr::v4(0),
        len: 0,
    };
    pub const ANY_V6: Cidr = Cidr {
        addr: Addr { bits: 0, v6: true },
        len: 0,
    };

    /// Parse `a.b.c.d/n` or `x::/n`; a bare address is a host route (/32 or /128).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let addr = Addr::parse(a)?;
        let len = len.unwrap_or(addr.width());
        if len > addr.width() {
            return None;
        }
        Some(Cidr::new(addr, len))
    }

    pub fn new(addr: Addr, len: u8) -> Self {
        let len = len.min(addr.width());
        Cidr {
            addr: Addr {
                bits: addr.bits & mask(addr.width(), len),
                v6: addr.v6,
            },
            len,
        }
    }

    pub fn host(addr: Addr) -> Self {
        Cidr::new(addr, addr.width())
    }

    #[inline]
    pub fn contains(&self, a: Addr) -> bool {
        a.v6 == self.addr.v6 && (a.bits & mask(a.width(), self.len)) == self.addr.bits
    }

    /// True when every address of `other` is in `self`.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }

    /// The lowest address of the block.
    pub fn first(&self) -> Addr {
        self.addr
    }

    /// The `n`-th address of the block (saturating at the last one).
    pub fn nth(&self, n: u128) -> Addr {
        let host_bits = self.addr.width() - self.len;
        let max = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Addr {
            bits: self.addr.bits | n.min(max),
            v6: self.addr.v6,
        }
    }
}

#[inline]
fn mask(width: u8, len: u8) -> u128 {
    if len == 0 {
        return 0;
    }
    let full = if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    (full << (width - len.min(width))) & full
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Cidr {
    Cidr::new(Addr::v4(u32::from_be_bytes([a, b, c, d])), len)
}

/// RFC 1918 private space.
pub fn is_rfc1918(a: Addr) -> bool {
    !a.v6
        && [
            v4(10, 0, 0, 0, 8),
            v4(172, 16, 0, 0, 12),
            v4(192, 168, 0, 0, 16),
        ]
        .iter()
        .any(|c| c.contains(a))
}

/// RFC 6598 shared (carrier-grade NAT) space.
pub fn is_rfc6598(a: Addr) -> bool {
    v4(100, 64, 0, 0, 10).contains(a)
}

/// Addresses the internet does not route: RFC 1918, RFC 6598, loopback, link-local, this
/// network, multicast and reserved (v4); unique-local, link-local, loopback (v6).
pub fn is_non_internet(a: Addr) -> bool {
    if a.v6 {
        let ip = Ipv6Addr::from(a.bits);
        return ip.is_loopback()
            || ip.is_unspecified()
            || (ip.segments()[0] & 0xfe00) == 0xfc00
            || (ip.segments()[0] & 0xffc0) == 0xfe80;
    }
    is_rfc1918(a)
        || is_rfc6598(a)
        || [
            v4(0, 0, 0, 0, 8),
            v4(127, 0, 0, 0, 8),
            v4(169, 254, 0, 0, 16),
            v4(224, 0, 0, 0, 4),
            v4(240, 0, 0, 0, 4),
        ]
        .iter()
        .any(|c| c.contains(a))
}

/// A coarse list of the IPv4 blocks AWS (AS16509) announces, used when the snapshot carries no
/// `ip-ranges.json`. It decides only whether a packet from the internet is handed to the AWS
/// backbone (and dropped there if no snapshot resource owns the address) or stays on the
/// internet; see the crate docs.
pub fn coarse_aws_prefixes() -> Vec<Cidr> {
    [
        "3.0.0.0/8",
        "13.32.0.0/11",
        "13.112.0.0/12",
        "13.208.0.0/12",
        "15.152.0.0/13",
        "15.176.0.0/12",
        "16.0.0.0/8",
        "18.32.0.0/11",
        "18.128.0.0/9",
        "34.192.0.0/10",
        "35.152.0.0/13",
        "35.176.0.0/12",
        "44.192.0.0/10",
        "46.51.128.0/17",
        "50.16.0.0/14",
        "52.0.0.0/8",
        "54.0.0.0/8",
        "63.32.0.0/14",
        "75.101.128.0/17",
        "99.77.0.0/16",
        "99.80.0.0/12",
        "107.20.0.0/14",
        "174.129.0.0/16",
        "176.32.64.0/19",
        "184.72.0.0/15",
        "204.236.128.0/17",
    ]
    .iter()
    .filter_map(|s| Cidr::parse(s))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_contain() {
        let c = Cidr::parse("10.0.1.7/24").unwrap();
        assert_eq!(c.to_string(), "10.0.1.0/24");
        assert!(c.contains(Addr::parse("10.0.1.255").unwrap()));
        assert!(!c.contains(Addr::parse("10.0.2.0").unwrap()));
        assert!(Cidr::ANY_V4.contains(Addr::parse("8.8.8.8").unwrap()));
        assert!(!Cidr::ANY_V4.contains(Addr::parse("::1").unwrap()));
        let v6 = Cidr::parse("2600:1f18::/36").unwrap();
        assert!(v6.contains(Addr::parse("2600:1f18:0fff::1").unwrap()));
        assert!(!v6.contains(Addr::parse("2600:1f18:1000::1").unwrap()));
        assert!(Cidr::ANY_V6.contains(Addr::parse("::1").unwrap()));
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().len, 32);
        assert!(Cidr::parse("1.2.3.4/33").is_none());
        assert!(Cidr::parse("garbage").is_none());
        assert!(Cidr::parse("10.0.0.0/8").unwrap().covers(&c));
        assert_eq!(
            Cidr::parse("10.0.0.0/30").unwrap().nth(9).to_string(),
            "10.0.0.3"
        );
        assert_eq!(Cidr::parse("0.0.0.0/32").unwrap().to_string(), "0.0.0.0/32");
        assert_eq!(Cidr::parse("::/128").unwrap().len, 128);
    }

    #[test]
    fn address_classes() {
        assert!(is_rfc1918(Addr::parse("172.31.0.1").unwrap()));
        assert!(!is_rfc1918(Addr::parse("172.32.0.1").unwrap()));
        assert!(is_rfc6598(Addr::parse("100.64.0.1").unwrap()));
        assert!(is_non_internet(Addr::parse("169.254.0.1").unwrap()));
        assert!(!is_non_internet(Addr::parse("192.18.0.8").unwrap()));
    }
}
