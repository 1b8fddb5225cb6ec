//! What a source's path says about its records: AWS's S3 key layouts for flow logs
//! (`AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd[/HH]/…`, and the Hive form
//! `aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…[/hour=…]`), and
//! the stream folder of a CloudWatch export (`<task>/<eni-…-all>/000000.gz`).

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};

use crate::builder::SourceDefaults;

/// Account, region, date and stream implied by a path. Fields the path does not give are None.
pub fn defaults_from_path(path: &Path) -> SourceDefaults {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let mut out = SourceDefaults::default();
    if let Some(i) = parts.iter().position(|p| *p == "AWSLogs") {
        let rest = &parts[i + 1..];
        if let Some(hive) = hive(rest) {
            out = hive;
        } else if rest.len() >= 6 && is_account(rest[0]) && rest[1] == "vpcflowlogs" {
            out.account = Some(rest[0].to_string());
            out.region = Some(rest[2].to_string());
            out.fallback_time_ms = time(
                rest.get(3),
                rest.get(4),
                rest.get(5),
                rest.get(6).filter(|h| h.len() == 2),
            );
        }
    }
    // A CloudWatch export: `<prefix>/<task id>/<stream>/000000.gz`.
    if let [.., stream, file] = parts.as_slice()
        && file.starts_with("00")
        && stream.starts_with("eni-")
    {
        out.stream = Some((*stream).to_string());
    }
    out
}

fn hive(rest: &[&str]) -> Option<SourceDefaults> {
    let get = |key: &str| {
        rest.iter()
            .find_map(|p| p.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
    };
    if get("aws-service")? != "vpcflowlogs" {
        return None;
    }
    let account = get("aws-account-id")
        .filter(|a| is_account(a))
        .map(str::to_string);
    Some(SourceDefaults {
        account,
        region: get("aws-region").map(str::to_string),
        fallback_time_ms: time(
            get("year").as_ref(),
            get("month").as_ref(),
            get("day").as_ref(),
            get("hour").as_ref(),
        ),
        stream: None,
    })
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn time(y: Option<&&str>, m: Option<&&str>, d: Option<&&str>, h: Option<&&str>) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(y?.parse().ok()?, m?.parse().ok()?, d?.parse().ok()?)?;
    let hour: u32 = match h {
        Some(h) => h.parse().ok().filter(|h| *h < 24)?,
        None => 0,
    };
    let dt = date.and_hms_opt(hour, 0, 0)?;
    Some(Utc.from_utc_datetime(&dt).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_layout() {
        let d = defaults_from_path(Path::new(
            "/dl/AWSLogs/841154226728/vpcflowlogs/us-west-2/2023/01/21/841154226728_vpcflowlogs_us-west-2_fl-055401975c87952e8_20230121T2105Z_654119f1.log.gz",
        ));
        assert_eq!(d.account.as_deref(), Some("841154226728"));
        assert_eq!(d.region.as_deref(), Some("us-west-2"));
        assert_eq!(d.fallback_time_ms, Some(1_674_259_200_000));
    }

    #[test]
    fn hourly_and_hive_layouts() {
        let d = defaults_from_path(Path::new(
            "x/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/25/05/f.log.gz",
        ));
        assert_eq!(d.fallback_time_ms, Some(1_716_613_200_000));
        let d = defaults_from_path(Path::new(
            "b/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=25/hour=05/f.log.parquet",
        ));
        assert_eq!(d.account.as_deref(), Some("123456789012"));
        assert_eq!(d.region.as_deref(), Some("us-east-1"));
        assert_eq!(d.fallback_time_ms, Some(1_716_613_200_000));
    }

    #[test]
    fn other_paths_say_nothing() {
        let d = defaults_from_path(Path::new("/tmp/flows.log"));
        assert!(d.account.is_none() && d.region.is_none() && d.fallback_time_ms.is_none());
        let d = defaults_from_path(Path::new(
            "exportedlogs/abc-123/eni-0c19436730cc350ae-all/000000.gz",
        ));
        assert_eq!(d.stream.as_deref(), Some("eni-0c19436730cc350ae-all"));
    }
}
