//! One flow-log record as the generator holds it, the demo's custom v5 format, and the rendering
//! of a record's fields as text tokens or typed Parquet values.

use std::net::Ipv4Addr;

use crate::env::Environment;

/// The `LogFormat` of both demo flow logs, as `describe-flow-logs` prints it: the v2 default
/// fields, then the v3–v5 fields. Version 5 is the highest version among them, so every record's
/// `version` is 5.
pub const LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} \
${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} \
${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} \
${region} ${az-id} ${flow-direction} ${traffic-path} ${pkt-src-aws-service} ${pkt-dst-aws-service}";

/// The `version` every record carries.
const VERSION: i64 = 5;

/// A column of [`LOG_FORMAT`]: the field catalog's own id, so names and types come from one place.
pub(crate) use flowwatch_core::FieldId as Column;

/// The columns in [`LOG_FORMAT`] order (a unit test keeps the two in step).
pub(crate) const COLUMNS: [Column; 27] = flowwatch_core::V5_FORMAT;

/// The Parquet physical type AWS documents for a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int32,
    Int64,
    Utf8,
}

/// The Parquet physical type AWS documents for a column, from the field catalog.
pub(crate) fn kind(c: Column) -> Kind {
    match c.def().ty {
        flowwatch_core::FieldType::Int32 { .. } => Kind::Int32,
        flowwatch_core::FieldType::Int64 => Kind::Int64,
        _ => Kind::Utf8,
    }
}

/// The S3 header line (without its newline).
pub(crate) fn header() -> String {
    COLUMNS
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    NoData,
    SkipData,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub(crate) fn flip(self) -> Direction {
        match self {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Accept,
    Reject,
}

/// What a record says about packets; absent on NODATA and SKIPDATA records.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Flow {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    pub action: Action,
    pub tcp_flags: u8,
    pub pkt_src: Ipv4Addr,
    pub pkt_dst: Ipv4Addr,
    pub src_service: Option<&'static str>,
    pub dst_service: Option<&'static str>,
    pub direction: Direction,
    /// Only on egress records.
    pub traffic_path: Option<u8>,
}

/// One record: one flow on one interface in one capture window.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    /// Index into [`Environment::interfaces`].
    pub eni: u8,
    pub start: i64,
    pub end: i64,
    pub status: Status,
    pub flow: Option<Flow>,
}

/// A field's value; `Null` is written `-` in text and null in Parquet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Str(&'a str),
    Addr(Ipv4Addr),
}

impl Record {
    pub(crate) fn value<'a>(&'a self, column: Column, env: &'a Environment) -> Value<'a> {
        use Column::*;
        let eni = env.eni(self.eni);
        let f = self.flow.as_ref();
        let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        let addr = |v: Option<Ipv4Addr>| v.map_or(Value::Null, Value::Addr);
        let text = |v: Option<&'a str>| v.map_or(Value::Null, Value::Str);
        match column {
            Version => Value::Int(VERSION),
            AccountId => Value::Str(env.account_id),
            InterfaceId => Value::Str(eni.id),
            SrcAddr => addr(f.map(|f| f.src)),
            DstAddr => addr(f.map(|f| f.dst)),
            SrcPort => int(f.map(|f| i64::from(f.sport))),
            DstPort => int(f.map(|f| i64::from(f.dport))),
            Protocol => int(f.map(|f| i64::from(f.protocol))),
            Packets => int(f.and_then(|f| i64::try_from(f.packets).ok())),
            Bytes => int(f.and_then(|f| i64::try_from(f.bytes).ok())),
            Start => Value::Int(self.start),
            End => Value::Int(self.end),
            Action => text(f.map(|f| match f.action {
                self::Action::Accept => "ACCEPT",
                self::Action::Reject => "REJECT",
            })),
            LogStatus => Value::Str(match self.status {
                Status::Ok => "OK",
                Status::NoData => "NODATA",
                Status::SkipData => "SKIPDATA",
            }),
            VpcId => Value::Str(eni.vpc_id),
            SubnetId => Value::Str(eni.subnet_id),
            InstanceId => text(eni.instance_id),
            TcpFlags => int(f.map(|f| i64::from(f.tcp_flags))),
            Type => text(f.map(|_| "IPv4")),
            PktSrcAddr => addr(f.map(|f| f.pkt_src)),
            PktDstAddr => addr(f.map(|f| f.pkt_dst)),
            Region => Value::Str(env.region),
            AzId => Value::Str(eni.az_id),
            FlowDirection => text(f.map(|f| match f.direction {
                Direction::Ingress => "ingress",
                Direction::Egress => "egress",
            })),
            TrafficPath => int(f.and_then(|f| f.traffic_path).map(i64::from)),
            PktSrcAwsService => text(f.and_then(|f| f.src_service)),
            PktDstAwsService => text(f.and_then(|f| f.dst_service)),
            // Fields the demo's format does not carry.
            _ => Value::Null,
        }
    }

    /// Append the record as one text line, `\n`-terminated, fields in [`COLUMNS`] order.
    pub(crate) fn write_line(&self, env: &Environment, buf: &mut Vec<u8>) {
        for (i, &column) in COLUMNS.iter().enumerate() {
            if i > 0 {
                buf.push(b' ');
            }
            match self.value(column, env) {
                Value::Null => buf.push(b'-'),
                Value::Int(v) => push_int(buf, v),
                Value::Str(s) => buf.extend_from_slice(s.as_bytes()),
                Value::Addr(a) => push_ipv4(buf, a),
            }
        }
        buf.push(b'\n');
    }
}

// The two formatters below exist for speed: `write!` through `io::Write` costs several times
// more per token in a debug build, and the demo must stay fast there (tests, `cargo run`).

/// Decimal digits of 0..=255: length, then up to three ASCII digits.
const OCTETS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let n = i as u8;
        table[i] = if n >= 100 {
            [3, b'0' + n / 100, b'0' + n / 10 % 10, b'0' + n % 10]
        } else if n >= 10 {
            [2, b'0' + n / 10, b'0' + n % 10, 0]
        } else {
            [1, b'0' + n, 0, 0]
        };
        i += 1;
    }
    table
};

/// Append an address in dotted decimal.
pub(crate) fn push_ipv4(buf: &mut Vec<u8>, addr: Ipv4Addr) {
    let [a, b, c, d] = addr.octets();
    let mut out = [0u8; 15];
    let mut len = 0;
    for (i, octet) in [a, b, c, d].into_iter().enumerate() {
        if i > 0 {
            out[len] = b'.';
            len += 1;
        }
        let digits = OCTETS[usize::from(octet)];
        let n = usize::from(digits[0]);
        out[len..len + n].copy_from_slice(&digits[1..=n]);
        len += n;
    }
    buf.extend_from_slice(&out[..len]);
}

/// Append an integer in decimal.
pub(crate) fn push_int(buf: &mut Vec<u8>, v: i64) {
    let mut out = [0u8; 20];
    let mut at = out.len();
    let mut n = v.unsigned_abs();
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&out[at..]);
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn columns_match_the_log_format() {
        let tokens: Vec<String> = COLUMNS
            .iter()
            .map(|c| format!("${{{}}}", c.name()))
            .collect();
        assert_eq!(tokens.join(" "), LOG_FORMAT);
        assert_eq!(header().split(' ').count(), 27);
        // The catalog parses the demo's format back to exactly these columns.
        let parsed = flowwatch_core::LogFormat::parse(LOG_FORMAT).unwrap();
        assert_eq!(parsed, flowwatch_core::LogFormat::from_fields(&COLUMNS));
        assert_eq!(parsed.version(), 5);
    }

    #[test]
    fn formatters_match_display() {
        for v in [0i64, 7, 10, 255, 1_793_577_600, -42, i64::MAX, i64::MIN] {
            let mut buf = Vec::new();
            push_int(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), v.to_string());
        }
        for a in [
            Ipv4Addr::new(0, 0, 0, 0),
            Ipv4Addr::new(10, 0, 1, 100),
            Ipv4Addr::BROADCAST,
        ] {
            let mut buf = Vec::new();
            push_ipv4(&mut buf, a);
            assert_eq!(String::from_utf8(buf).unwrap(), a.to_string());
        }
    }

    #[test]
    fn nodata_line_has_dashes_where_aws_writes_them() {
        let env = Environment::for_day(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        let rec = Record {
            eni: crate::env::NAT,
            start: 1_793_577_600,
            end: 1_793_577_659,
            status: Status::NoData,
            flow: None,
        };
        let mut buf = Vec::new();
        rec.write_line(&env, &mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "5 123456789012 eni-094a763e51eb1beaa - - - - - - - 1793577600 1793577659 - NODATA \
vpc-02c53d16ce65dea61 subnet-058a3f0f5bad4c27e - - - - - us-east-1 use1-az1 - - - -\n"
        );
    }
}
