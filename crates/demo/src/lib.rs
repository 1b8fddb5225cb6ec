//! flowwatch-demo: a day of VPC Flow Logs for a small AWS account, produced by the simulator
//! ([`flowwatch_sim`]) from a snapshot and a traffic file that ship with the demo, and written
//! to disk exactly as AWS delivers them to S3. Every ACCEPT and REJECT comes from the snapshot's
//! real security groups, NACLs and routes, so `flowwatch explain --snapshot <dir>/snapshot` names
//! the rule behind every REJECT of the day.
//!
//! # The account (`snapshot/`, AWS CLI `describe-*` JSON)
//! One account (`123456789012`, `us-east-1`), two VPCs:
//! - VPC A `10.0.0.0/16`: `web` (10.0.1.10, public 54.210.167.204; its security group admits
//!   443 and 80 from anywhere, 22 from the VPC only) in the public subnet with a NAT gateway
//!   (10.0.1.100, public 3.219.45.118); `app-a` (10.0.2.20, 8080 from the web tier's group) and
//!   the resolver `dns` (10.0.2.53) in a private subnet; the batch `worker` (10.0.3.40) in a
//!   second private subnet; `db` (10.0.4.50, 5432 from the app tier's group) in a database
//!   subnet whose NACL denies the batch subnet (rule 90) and lets replies out only to the Linux
//!   ephemeral range 32768–60999 (rule 100); an S3 gateway endpoint on the private route table.
//! - VPC B `10.1.0.0/16`: `app-b` (10.1.2.30; ping and 8443 from VPC A).
//!
//! # The day (`traffic.toml`)
//! - Customers reach `web` over HTTPS/HTTP from around the world, more during the US business
//!   day; three Route 53 health checkers poll it every minute.
//! - Scanners sweep `web`'s public address, SSH and RDP knockers come back all day, pings
//!   arrive: ingress REJECTs by `web`'s security group.
//! - web → app-a:8080 keep-alive pool; app-a → db:5432, where about a quarter of the
//!   connections pick a source port above 60999 and their replies are REJECTed on the way out
//!   by the database subnet's NACL (ACCEPT in, REJECT out: the classic ephemeral-range bug);
//!   the worker's attempts at the database (NACL rule 90); someone's psql from `web` for half an
//!   hour at 09:00 (the database's security group).
//! - DNS from every VPC A instance to the resolver, misses forwarded to 8.8.8.8 through the NAT;
//!   the worker's HTTPS calls through the NAT (srcaddr/dstaddr show the NAT's address,
//!   pkt-srcaddr/pkt-dstaddr the real peer); app-a's S3 traffic through the gateway endpoint
//!   (traffic-path 7, pkt-dst-aws-service `S3`).
//! - The peering story: app-a pings app-b all day. Until 12:00 UTC there is no peering (the
//!   simulator runs the morning on `snapshot-before-noon/`): the pings follow the default route
//!   to the NAT gateway and die beyond it, app-b's interface writes NODATA. From 12:00 the
//!   peering and its routes exist: request and reply, on both interfaces.
//! - NODATA for every window in which an interface saw nothing; two SKIPDATA windows on `web`
//!   in the afternoon.
//!
//! # Delivery
//! Two flow logs publish the same records in [`LOG_FORMAT`] (version 5, 60-second aggregation):
//! `fl-084f56f31e9cf2cf8` writes gzip text under `<out>/text/AWSLogs/{account}/vpcflowlogs/
//! {region}/YYYY/MM/DD/`, one object per 5 minutes with a header line; `fl-08046dcd80e27d50c`
//! writes Parquet under `<out>/parquet/AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/
//! aws-region=…/year=…/month=…/day=…/hour=…/`, one object per hour. The snapshots are written
//! to `<out>/snapshot/` (the end of the day) and `<out>/snapshot-before-noon/`, the traffic
//! file to `<out>/traffic.toml`.
//!
//! Output depends only on [`DemoOptions`] (the simulator is deterministic: seeded streams, no
//! clock, sorted maps).

mod assets;
mod error;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use flowwatch_core::LogFormat;
use flowwatch_net::Snapshot;
use flowwatch_sim::{Options, Phase, SimOutput, Traffic};

pub use assets::{ACCOUNT_ID, Config, Host, PEERING_ID, REGION, TRAFFIC, hosts, snapshot_files};
pub use error::{DemoError, Result};

/// The largest accepted [`DemoOptions::scale`].
pub const MAX_SCALE: f64 = 20.0;

/// The flow log that delivers plain text.
pub const FLOW_LOG_TEXT: &str = "fl-084f56f31e9cf2cf8";
/// The flow log that delivers Parquet.
pub const FLOW_LOG_PARQUET: &str = "fl-08046dcd80e27d50c";

/// The `LogFormat` of both demo flow logs, as `describe-flow-logs` prints it: the v2 default
/// fields, then the v3–v5 fields. Version 5 is the highest version among them, so every record's
/// `version` is 5.
pub const LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} \
${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} \
${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} \
${region} ${az-id} ${flow-direction} ${traffic-path} ${pkt-src-aws-service} ${pkt-dst-aws-service}";

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    pub seed: u64,
    /// The UTC day the records cover.
    pub day: NaiveDate,
    /// Multiplies every rate of the traffic file; 1.0 gives about 150 000 records. NODATA and
    /// SKIPDATA records do not scale.
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
    /// `<out>/snapshot`: the configuration at the end of the day (peering in place).
    pub snapshot_dir: PathBuf,
    /// `<out>/snapshot-before-noon`: the configuration until 12:00 UTC.
    pub snapshot_before_noon_dir: PathBuf,
    /// `<out>/traffic.toml`: the traffic file as played (rates before `scale`).
    pub traffic_file: PathBuf,
    /// Every text object, in key order.
    pub text_files: Vec<PathBuf>,
    /// Every Parquet object, in key order.
    pub parquet_files: Vec<PathBuf>,
    /// Records per delivery: the text objects hold this many records, and so do the Parquet
    /// objects.
    pub records: u64,
    /// The instances and the NAT gateway, with names.
    pub hosts: Vec<Host>,
    /// What the simulator did (connections per traffic entry, records per interface).
    pub stats: flowwatch_sim::Stats,
}

/// 00:00 UTC of `day`, and 12:00, when the peering appears.
fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |h| {
        day.and_hms_opt(h, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    (at(0), at(12))
}

/// Generate the demo day into `out` (created if missing; its `text`, `parquet` and snapshot
/// directories must not already hold files, so that two days or seeds never mix).
pub fn generate(out: &Path, opts: &DemoOptions) -> Result<DemoOutput> {
    if !(opts.scale.is_finite() && opts.scale > 0.0 && opts.scale <= MAX_SCALE) {
        return Err(DemoError::InvalidScale {
            got: opts.scale,
            max: MAX_SCALE,
        });
    }
    let text_root = out.join("text");
    let parquet_root = out.join("parquet");
    let snapshot_dir = out.join("snapshot");
    let before_dir = out.join("snapshot-before-noon");
    for root in [&text_root, &parquet_root, &snapshot_dir, &before_dir] {
        if has_entries(root)? {
            return Err(DemoError::OutputNotEmpty(root.clone()));
        }
    }
    assets::write_snapshot(&before_dir, Config::BeforeNoon)?;
    assets::write_snapshot(&snapshot_dir, Config::AfterNoon)?;
    let traffic_file = out.join("traffic.toml");
    std::fs::write(&traffic_file, TRAFFIC).map_err(|source| DemoError::Io {
        path: traffic_file.clone(),
        source,
    })?;
    let before = load(&before_dir)?;
    let after = load(&snapshot_dir)?;

    let mut traffic = Traffic::parse(TRAFFIC)?;
    for f in &mut traffic.flows {
        f.rate *= opts.scale;
    }
    for s in &mut traffic.scanners {
        s.rate *= opts.scale;
    }
    let (day0, noon) = day_bounds(opts.day);
    let sim_opts = Options {
        seed: opts.seed,
        aggregation_interval: 60,
        flow_log_id: Some(FLOW_LOG_TEXT.to_string()),
        az_ids: flowwatch_sim::az_ids_from_dir(&snapshot_dir),
        ..Options::default()
    };
    let phases = [
        Phase {
            from: day0,
            snapshot: &before,
        },
        Phase {
            from: noon,
            snapshot: &after,
        },
    ];
    let sim = flowwatch_sim::simulate_phases(
        &phases,
        &traffic,
        day0,
        std::time::Duration::from_secs(86_400),
        &sim_opts,
    )?;
    let format = LogFormat::parse(LOG_FORMAT).map_err(|e| DemoError::Asset {
        name: "LOG_FORMAT",
        message: e.to_string(),
    })?;
    let (text_files, parquet_files) = write(&sim, &format, &text_root, &parquet_root)?;
    Ok(DemoOutput {
        text_root,
        parquet_root,
        snapshot_dir,
        snapshot_before_noon_dir: before_dir,
        traffic_file,
        text_files,
        parquet_files,
        records: sim.records.len() as u64,
        hosts: hosts()?,
        stats: sim.stats,
    })
}

/// The two deliveries, encoded on two threads (each names its objects from its own flow log id,
/// so the output does not depend on scheduling).
fn write(
    sim: &SimOutput,
    format: &LogFormat,
    text_root: &Path,
    parquet_root: &Path,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut parquet_sim = sim.clone();
    parquet_sim.flow_log_id = FLOW_LOG_PARQUET.to_string();
    let (text, parquet) = std::thread::scope(|scope| {
        let parquet =
            scope.spawn(|| flowwatch_sim::write_parquet_layout(&parquet_sim, parquet_root, format));
        let text = flowwatch_sim::write_s3_layout(sim, text_root, format);
        let parquet = parquet
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (text, parquet)
    });
    Ok((text?, parquet?))
}

/// Load a shipped snapshot; the demo's own files must load without a warning (notes such as
/// "recognised but not modelled" are fine).
fn load(dir: &Path) -> Result<Snapshot> {
    let (snap, problems) = Snapshot::load(dir);
    if let Some(p) = problems
        .iter()
        .find(|p| p.severity != flowwatch_net::Severity::Note)
    {
        return Err(DemoError::Snapshot {
            dir: dir.to_path_buf(),
            message: format!("{p:?}"),
        });
    }
    Ok(snap)
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
