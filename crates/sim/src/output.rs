//! Records as flow-log text in any `LogFormat`, gzip'd into the S3 key layout AWS uses:
//! `AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/<account>_vpcflowlogs_<region>_<fl-id>_
//! <yyyymmddTHHMMZ>_<hash>.log.gz`, one object per account, region and 5 minutes (by `end`),
//! a header line first. Deterministic: the gzip header carries no time and the hash comes from
//! the seed and the key.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use flate2::Compression;
use flate2::write::GzEncoder;
use flowwatch_core::format::Slot;
use flowwatch_core::{FieldId, LogFormat};

use crate::error::{Result, SimError};
use crate::rng::Rng;
use crate::sim::{Interface, Record, SimOutput};

/// Seconds covered by one text object: AWS publishes every 5 minutes.
pub const OBJECT_PERIOD: i64 = 300;

/// The default format: the v2 default fields, then the v3–v5 fields the simulator fills
/// (`describe-flow-logs` `LogFormat` order).
pub fn default_format() -> LogFormat {
    LogFormat::from_fields(&flowwatch_core::V5_FORMAT)
}

/// One record's value for `field` as a text token (`-` when not applicable).
pub fn token(field: FieldId, r: &Record, iface: &Interface, version: u8) -> String {
    use FieldId::*;
    let dash = || "-".to_string();
    let t = r.traffic.as_ref();
    match field {
        Version => version.to_string(),
        AccountId => iface.account.clone(),
        InterfaceId => iface.id.clone(),
        SrcAddr => t.map_or_else(dash, |t| t.srcaddr.to_string()),
        DstAddr => t.map_or_else(dash, |t| t.dstaddr.to_string()),
        SrcPort => t.map_or_else(dash, |t| t.srcport.to_string()),
        DstPort => t.map_or_else(dash, |t| t.dstport.to_string()),
        Protocol => t.map_or_else(dash, |t| t.protocol.to_string()),
        Packets => t.map_or_else(dash, |t| t.packets.to_string()),
        Bytes => t.map_or_else(dash, |t| t.bytes.to_string()),
        Start => r.start.to_string(),
        End => r.end.to_string(),
        Action => t.map_or_else(dash, |t| t.action.as_str().to_string()),
        LogStatus => r.log_status.as_str().to_string(),
        VpcId => iface.vpc_id.clone(),
        SubnetId => iface.subnet_id.clone(),
        InstanceId => iface.instance_id.clone().unwrap_or_else(dash),
        TcpFlags => t.map_or_else(dash, |t| t.tcp_flags.to_string()),
        Type => t.map_or_else(dash, |t| {
            if t.srcaddr.is_ipv6() { "IPv6" } else { "IPv4" }.to_string()
        }),
        PktSrcAddr => t.map_or_else(dash, |t| t.pkt_srcaddr.to_string()),
        PktDstAddr => t.map_or_else(dash, |t| t.pkt_dstaddr.to_string()),
        Region => iface.region.clone(),
        AzId => iface.az_id.clone(),
        FlowDirection => t.map_or_else(dash, |t| t.flow_direction.as_str().to_string()),
        TrafficPath => t
            .and_then(|t| t.traffic_path)
            .map_or_else(dash, |p| p.to_string()),
        _ => dash(),
    }
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

/// The text objects: (relative key, records) per account, region and 5-minute period.
fn objects(out: &SimOutput) -> BTreeMap<(String, String, i64), Vec<&Record>> {
    let mut m: BTreeMap<(String, String, i64), Vec<&Record>> = BTreeMap::new();
    for r in &out.records {
        let Some(i) = out.interfaces.get(r.interface as usize) else {
            continue;
        };
        let period = r.end.div_euclid(OBJECT_PERIOD) * OBJECT_PERIOD;
        m.entry((i.account.clone(), i.region.clone(), period))
            .or_default()
            .push(r);
    }
    m
}

fn object_hash(seed: u64, account: &str, region: &str, period: i64) -> u32 {
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

/// Write `out` under `dir` as gzip text objects in `format`; returns the files in key order.
pub fn write_s3_layout(out: &SimOutput, dir: &Path, format: &LogFormat) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for ((account, region, period), recs) in objects(out) {
        let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let key_dir = dir.join(format!(
            "AWSLogs/{account}/vpcflowlogs/{region}/{}",
            time.format("%Y/%m/%d")
        ));
        let name = format!(
            "{account}_vpcflowlogs_{region}_{}_{}_{:08x}.log.gz",
            out.flow_log_id,
            time.format("%Y%m%dT%H%MZ"),
            object_hash(out.seed, &account, &region, period)
        );
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
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io)?;
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all(bytes).map_err(io)?;
    let data = gz.finish().map_err(io)?;
    std::fs::write(path, data).map_err(io)
}
