//! flowwatch-demo: a deterministic, seeded day of VPC Flow Logs for a small AWS environment,
//! written to disk exactly as AWS delivers them to S3.
//!
//! # The environment
//! One account (`123456789012`, `us-east-1`) with two VPCs (see [`Environment`], whose ids are
//! fixed and independent of the seed):
//! - VPC A `10.0.0.0/16`: `web` (10.0.1.10, public 54.210.167.204) serving 443/80 to the
//!   internet; a NAT gateway (10.0.1.100); `app-a` (10.0.2.20); a self-hosted resolver `dns`
//!   (10.0.2.53); a private `worker` (10.0.3.40) that goes out through the NAT; `db` (10.0.4.50).
//! - VPC B `10.1.0.0/16`: `app-b` (10.1.2.30).
//!
//! # The day
//! - Customers reach `web` over HTTPS/HTTP with a daily curve (low at 04:00 UTC, peak at 16:00);
//!   Route 53 health checks poll it every minute.
//! - Scanners (a few heavy ones that come back, dozens of one-offs) probe closed ports and ping
//!   `web`: ingress REJECT records, with no reply.
//! - Persistent pools web → app-a:8080 and app-a → db:5432; DNS from every VPC A instance to
//!   dns:53/udp, cache misses forwarded upstream through the NAT; the worker's internet calls
//!   through the NAT (srcaddr/dstaddr show the NAT's address, pkt-srcaddr/pkt-dstaddr the real
//!   peer); app-a's S3 traffic through a gateway endpoint (pkt-dst-aws-service `S3`,
//!   traffic-path 7).
//! - The peering story: app-a pings app-b all day. Until 12:00 UTC there is no peering, so only
//!   the egress request on app-a is logged and app-b's interface writes NODATA; from 12:00 the
//!   peering carries request and reply, logged on both interfaces (traffic-path 4 on egress).
//! - NODATA for every window in which an interface saw nothing; two SKIPDATA windows on `web`.
//!
//! Records use 60-second (Nitro) capture windows, one window phase per interface, and every flow
//! is unidirectional: each interface on the path logs the request and the reply separately.
//!
//! # Delivery
//! Two flow logs publish the same records in [`LOG_FORMAT`] (version 5). `fl-084f56f31e9cf2cf8`
//! writes gzip text under `<out>/text/AWSLogs/{account}/vpcflowlogs/{region}/YYYY/MM/DD/`, one
//! object per 5 minutes with a header line; `fl-08046dcd80e27d50c` writes Parquet (GZIP codec)
//! under `<out>/parquet/AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/
//! month=…/day=…/hour=…/`, one object per hour partition (named after the hour, `…T1600Z_…`).
//! (In AWS each flow log is attached to one resource; here both stand for "every interface in the
//! account".) Text and Parquet encode on two threads.
//!
//! Output depends only on [`DemoOptions`]: one `SmallRng` seeded from `seed`, no clock, no hash
//! map iteration.

mod delivery;
mod env;
mod error;
mod record;
mod scenario;
mod traffic;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use env::{
    ACCOUNT_ID, Environment, FlowLog, Interface, NatGateway, Peering, REGION, Subnet, Vpc,
};
pub use error::{DemoError, Result};
pub use record::LOG_FORMAT;

/// The largest accepted [`DemoOptions::scale`] (about 3 million records).
pub const MAX_SCALE: f64 = 20.0;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    pub seed: u64,
    /// The UTC day the records cover.
    pub day: NaiveDate,
    /// Multiplies the number of flows; 1.0 gives about 155 000 records. The peering ping and the
    /// NODATA/SKIPDATA records do not scale.
    pub scale: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            day: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
            scale: 1.0,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Debug)]
pub struct DemoOutput {
    /// `<out>/text`, which contains `AWSLogs/…`.
    pub text_root: PathBuf,
    /// `<out>/parquet`, which contains `AWSLogs/aws-account-id=…/…`.
    pub parquet_root: PathBuf,
    /// Every text object, in time order.
    pub text_files: Vec<PathBuf>,
    /// Every Parquet object, in time order.
    pub parquet_files: Vec<PathBuf>,
    /// Records per delivery: the text objects hold this many records, and so do the Parquet
    /// objects.
    pub records: u64,
    /// The resources the records describe.
    pub environment: Environment,
}

/// Generate the demo day into `out` (created if missing; `out/text` and `out/parquet` must not
/// already hold files, so that two days or seeds never mix).
pub fn generate(out: &Path, opts: &DemoOptions) -> Result<DemoOutput> {
    if !(opts.scale.is_finite() && opts.scale > 0.0 && opts.scale <= MAX_SCALE) {
        return Err(DemoError::InvalidScale {
            got: opts.scale,
            max: MAX_SCALE,
        });
    }
    let text_root = out.join("text");
    let parquet_root = out.join("parquet");
    for root in [&text_root, &parquet_root] {
        if has_entries(root)? {
            return Err(DemoError::OutputNotEmpty(root.clone()));
        }
    }
    let environment = Environment::for_day(opts.day);
    let day0 = opts
        .day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default();
    let records = scenario::build(&environment, day0, opts.seed, opts.scale);
    let written = delivery::write(&environment, &records, &text_root, &parquet_root, opts.seed)?;
    Ok(DemoOutput {
        text_root,
        parquet_root,
        text_files: written.text_files,
        parquet_files: written.parquet_files,
        records: records.len() as u64,
        environment,
    })
}

fn has_entries(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(DemoError::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}
