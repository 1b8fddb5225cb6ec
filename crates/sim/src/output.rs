//! Records as flow-log text in any `LogFormat`, gzip'd into the S3 key layout AWS uses:
//! `AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/<account>_vpcflowlogs_<region>_<fl-id>_
//! <yyyymmddTHHMMZ>_<hash>.log.gz`, one object per account, region and 5 minutes (by `end`),
//! a header line first. Deterministic: the gzip header carries no time and the hash comes from
//! the seed and the key.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use flate2::Compression;
use flate2::write::GzEncoder;
use flowwatch_core::format::Slot;
use flowwatch_core::{FieldId, LogFormat};

use crate::error::{Result, SimError};
use crate::record::{Interface, Record, SimOutput, Traffic5};
use crate::rng::Rng;

/// Seconds covered by one text object: AWS publishes every 5 minutes.
pub const OBJECT_PERIOD: i64 = 300;

/// The default format: the v2 default fields, then the v3–v5 fields the simulator fills
/// (`describe-flow-logs` `LogFormat` order).
pub fn default_format() -> LogFormat {
    LogFormat::from_fields(&flowwatch_core::V5_FORMAT)
}

/// One record's value for a field, typed as Parquet delivery stores it ([`FieldId::def`]'s
/// type): the text token is its rendering, so text and Parquet always agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// `-` in text, null in Parquet.
    Null,
    Int(i64),
    Str(Cow<'a, str>),
}

impl Value<'_> {
    /// The text token: `-` for null.
    pub fn token(self) -> String {
        match self {
            Value::Null => "-".to_string(),
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.into_owned(),
        }
    }
}

/// A string value; `-` (what the snapshot says for "none", e.g. an unknown zone) is null.
fn text(s: &str) -> Value<'_> {
    if s == "-" {
        Value::Null
    } else {
        Value::Str(Cow::Borrowed(s))
    }
}

fn owned<'a>(s: impl ToString) -> Value<'a> {
    Value::Str(Cow::Owned(s.to_string()))
}

/// One record's value for `field` (null when not applicable).
pub fn value<'a>(field: FieldId, r: &Record, iface: &'a Interface, version: u8) -> Value<'a> {
    use FieldId::*;
    if let Some(t) = &r.traffic
        && let Some(v) = traffic_value(field, t)
    {
        return v;
    }
    match field {
        Version => Value::Int(i64::from(version)),
        AccountId => text(&iface.account),
        InterfaceId => text(&iface.id),
        Start => Value::Int(r.start),
        End => Value::Int(r.end),
        LogStatus => text(r.log_status.as_str()),
        VpcId => text(&iface.vpc_id),
        SubnetId => text(&iface.subnet_id),
        InstanceId => iface.instance_id.as_deref().map_or(Value::Null, text),
        Region => text(&iface.region),
        AzId => text(&iface.az_id),
        // The packet fields of NODATA and SKIPDATA records, and fields not simulated.
        _ => Value::Null,
    }
}

/// The packet fields of an OK record; `None` for the other fields.
fn traffic_value(field: FieldId, t: &Traffic5) -> Option<Value<'static>> {
    use FieldId::*;
    let count = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let int = |n: u16| Value::Int(i64::from(n));
    let service = |s: Option<&'static str>| s.map_or(Value::Null, text);
    Some(match field {
        SrcAddr => owned(t.srcaddr),
        DstAddr => owned(t.dstaddr),
        SrcPort => int(t.srcport),
        DstPort => int(t.dstport),
        Protocol => int(t.protocol.into()),
        Packets => count(t.packets),
        Bytes => count(t.bytes),
        Action => text(t.action.as_str()),
        TcpFlags => int(t.tcp_flags.into()),
        Type => text(if t.srcaddr.is_ipv6() { "IPv6" } else { "IPv4" }),
        PktSrcAddr => owned(t.pkt_srcaddr),
        PktDstAddr => owned(t.pkt_dstaddr),
        PktSrcAwsService => service(t.pkt_src_aws_service),
        PktDstAwsService => service(t.pkt_dst_aws_service),
        FlowDirection => text(t.flow_direction.as_str()),
        TrafficPath => t.traffic_path.map_or(Value::Null, |p| int(p.into())),
        _ => return None,
    })
}

/// One record's value for `field` as a text token (`-` when not applicable).
pub fn token(field: FieldId, r: &Record, iface: &Interface, version: u8) -> String {
    value(field, r, iface, version).token()
}

/// One record as a text line (no newline) in `format`.
pub fn render(r: &Record, iface: &Interface, format: &LogFormat) -> String {
    let version = format.version();
    let tokens: Vec<String> = format
        .slots()
        .iter()
        .map(|s| match s {
            Slot::Known(id) => token(*id, r, iface, version),
            Slot::Unknown(_) => "-".to_string(),
        })
        .collect();
    tokens.join(" ")
}

/// The objects: records per account, region and `period` (by `end`).
pub(crate) fn objects(
    out: &SimOutput,
    period: i64,
) -> BTreeMap<(String, String, i64), Vec<&Record>> {
    let mut m: BTreeMap<(String, String, i64), Vec<&Record>> = BTreeMap::new();
    for r in &out.records {
        let Some(i) = out.interfaces.get(r.interface as usize) else {
            continue;
        };
        let start = r.end.div_euclid(period) * period;
        m.entry((i.account.clone(), i.region.clone(), start))
            .or_default()
            .push(r);
    }
    m
}

pub(crate) fn object_hash(seed: u64, account: &str, region: &str, period: i64) -> u32 {
    // FNV-1a of the key, mixed with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account
        .bytes()
        .chain([0])
        .chain(region.bytes())
        .chain(period.to_le_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (Rng::new(seed, h).next_u64() >> 32) as u32
}

/// `<account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHMMZ>_<hash>.<ext>`: AWS's object name,
/// with the hash drawn from `seed` and the key.
pub(crate) fn object_name(
    out: &SimOutput,
    seed: u64,
    (account, region, period): (&str, &str, i64),
    ext: &str,
) -> String {
    let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
    format!(
        "{account}_vpcflowlogs_{region}_{}_{}_{:08x}.{ext}",
        out.flow_log_id,
        time.format("%Y%m%dT%H%MZ"),
        object_hash(seed, account, region, period)
    )
}

/// Write `out` under `dir` as gzip text objects in `format`; returns the files in key order.
pub fn write_s3_layout(out: &SimOutput, dir: &Path, format: &LogFormat) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for ((account, region, period), recs) in objects(out, OBJECT_PERIOD) {
        let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let key_dir = dir.join(format!(
            "AWSLogs/{account}/vpcflowlogs/{region}/{}",
            time.format("%Y/%m/%d")
        ));
        let name = object_name(out, out.seed, (&account, &region, period), "log.gz");
        let path = key_dir.join(name);
        let mut text = String::with_capacity(recs.len() * 160);
        text.push_str(&format.header());
        text.push('\n');
        for r in recs {
            if let Some(i) = out.interfaces.get(r.interface as usize) {
                text.push_str(&render(r, i, format));
                text.push('\n');
            }
        }
        write_gzip(&path, text.as_bytes())?;
        files.push(path);
    }
    Ok(files)
}

fn write_gzip(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all(bytes).map_err(io)?;
    let data = gz.finish().map_err(io)?;
    write_file(path, &data)
}

/// Write `bytes` to `path`, creating its directory.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}
