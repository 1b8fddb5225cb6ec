//! Writing the day to disk as S3 delivery lays it out (spec §2–3): one flow log delivers gzip
//! text under the default key layout, the other delivers Parquet under Hive-compatible, per-hour
//! partitions. Both carry the same records; an object holds the records whose `end` falls in its
//! period, and is named after the period's start.

mod columnar;
mod text;

use std::path::{Path, PathBuf};

use chrono::DateTime;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::env::{ACCOUNT_ID, Environment, FLOW_LOG_PARQUET, FLOW_LOG_TEXT, REGION};
use crate::error::{DemoError, Result};
use crate::record::Record;

/// Seconds covered by one text object: AWS publishes every 5 minutes.
const TEXT_PERIOD: i64 = 300;
/// Seconds covered by one Parquet object: one per hour partition keeps the file count (and the
/// per-file encoding cost) low; AWS's own Parquet objects follow the 5-minute rhythm.
const PARQUET_PERIOD: i64 = 3600;

/// The files written, in key order.
pub(crate) struct Written {
    pub text_files: Vec<PathBuf>,
    pub parquet_files: Vec<PathBuf>,
}

/// Write `records` (sorted by `end`) under `text_root` and `parquet_root`.
pub(crate) fn write(
    env: &Environment,
    records: &[Record],
    text_root: &Path,
    parquet_root: &Path,
    seed: u64,
) -> Result<Written> {
    // The two deliveries are independent: encode them on two threads. Each flow log draws its
    // object-name hashes from its own stream, so the output does not depend on scheduling.
    let (text_files, parquet_files) = std::thread::scope(|scope| {
        let parquet = scope.spawn(|| write_parquet(env, records, parquet_root, seed));
        let text = write_text(env, records, text_root, seed);
        let parquet = parquet
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (text, parquet)
    });
    Ok(Written {
        text_files: text_files?,
        parquet_files: parquet_files?,
    })
}

fn write_text(
    env: &Environment,
    records: &[Record],
    root: &Path,
    seed: u64,
) -> Result<Vec<PathBuf>> {
    let mut hashes = SmallRng::seed_from_u64(seed ^ 0x7465_7874);
    let mut files = Vec::new();
    for (period, chunk) in periods(records, TEXT_PERIOD) {
        let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let dir = root.join(format!(
            "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/{}",
            time.format("%Y/%m/%d")
        ));
        let path = dir.join(object_name(FLOW_LOG_TEXT, period, &mut hashes, "log.gz"));
        write_file(&path, &text::encode(env, chunk))?;
        files.push(path);
    }
    Ok(files)
}

fn write_parquet(
    env: &Environment,
    records: &[Record],
    root: &Path,
    seed: u64,
) -> Result<Vec<PathBuf>> {
    let mut hashes = SmallRng::seed_from_u64(seed ^ 0x7061_7271);
    let mut files = Vec::new();
    for (period, chunk) in periods(records, PARQUET_PERIOD) {
        let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let dir = root.join(format!(
            "AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/{}",
            time.format("year=%Y/month=%m/day=%d/hour=%H")
        ));
        let path = dir.join(object_name(
            FLOW_LOG_PARQUET,
            period,
            &mut hashes,
            "log.parquet",
        ));
        let bytes = columnar::encode(env, chunk).map_err(|e| e.at(&path))?;
        write_file(&path, &bytes)?;
        files.push(path);
    }
    Ok(files)
}

/// `{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.{ext}`.
fn object_name(flow_log: &str, period: i64, hashes: &mut SmallRng, ext: &str) -> String {
    let time = DateTime::from_timestamp(period, 0).unwrap_or_default();
    format!(
        "{ACCOUNT_ID}_vpcflowlogs_{REGION}_{flow_log}_{}_{:08x}.{ext}",
        time.format("%Y%m%dT%H%MZ"),
        hashes.random::<u32>()
    )
}

/// Split records sorted by `end` into runs that share a delivery period, with the period's start.
fn periods(records: &[Record], seconds: i64) -> impl Iterator<Item = (i64, &[Record])> {
    records
        .chunk_by(move |a, b| a.end.div_euclid(seconds) == b.end.div_euclid(seconds))
        .filter_map(move |chunk| {
            chunk
                .first()
                .map(|r| (r.end.div_euclid(seconds) * seconds, chunk))
        })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_the_aws_pattern() {
        let mut rng = SmallRng::seed_from_u64(1);
        // 2026-11-02T16:20:00Z
        let name = object_name("fl-084f56f31e9cf2cf8", 1_793_636_400, &mut rng, "log.gz");
        let (stem, hash) = name.trim_end_matches(".log.gz").rsplit_once('_').unwrap();
        assert_eq!(
            stem,
            "123456789012_vpcflowlogs_us-east-1_fl-084f56f31e9cf2cf8_20261102T1620Z"
        );
        assert_eq!(hash.len(), 8);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
