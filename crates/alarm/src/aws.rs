//! AWS's textual conventions that alarm output must match: ARNs, Region display names, the
//! four timestamp formats, and Java's `Double.toString` (CloudWatch renders numbers in
//! reason text as Java does: `10.0`, `0.35220499833424884`, `1.5E7`).

use chrono::{DateTime, Utc};

/// The account and Region alarms live in; ARNs and payloads need both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountContext {
    pub account_id: String,
    /// A Region code, `us-east-2`.
    pub region: String,
}

impl AccountContext {
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> AccountContext {
        AccountContext {
            account_id: account_id.into(),
            region: region.into(),
        }
    }

    /// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
    pub fn alarm_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:cloudwatch:{}:{}:alarm:{name}",
            partition(&self.region),
            self.region,
            self.account_id
        )
    }

    /// The Region as SNS notifications name it (`US East (Ohio)`).
    pub fn region_display_name(&self) -> &str {
        region_display_name(&self.region)
    }
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The display name CloudWatch puts in `Region` and the SNS subject. SNS still says `EU (…)`
/// where the console now says `Europe (…)`. Unknown codes are returned as they are.
pub fn region_display_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-east-2" => "Asia Pacific (Taipei)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ap-southeast-5" => "Asia Pacific (Malaysia)",
        "ap-southeast-7" => "Asia Pacific (Thailand)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-central-1" => "Middle East (UAE)",
        "me-south-1" => "Middle East (Bahrain)",
        "mx-central-1" => "Mexico (Central)",
        "sa-east-1" => "South America (Sao Paulo)",
        "us-gov-east-1" => "AWS GovCloud (US-East)",
        "us-gov-west-1" => "AWS GovCloud (US-West)",
        "cn-north-1" => "China (Beijing)",
        "cn-northwest-1" => "China (Ningxia)",
        other => other,
    }
}

/// `2025-05-14T01:58:11.589+0000`: SNS `StateChangeTime`, reason data, history.
pub fn aws_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// `26/06/19 03:44:00`: datapoint times in reason text.
pub fn reason_timestamp(t: DateTime<Utc>) -> String {
    t.format("%d/%m/%y %H:%M:%S").to_string()
}

/// `Friday 22 July, 2022 15:57:45 UTC`: composite-alarm reasons.
pub fn composite_reason_timestamp(t: DateTime<Utc>) -> String {
    t.format("%A %d %B, %Y %H:%M:%S UTC").to_string()
}

/// `2019-10-02T17:04:40Z`: the EventBridge envelope's `time`.
pub fn event_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 with milliseconds and `Z`: Alertmanager's `startsAt`/`endsAt`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Java's `Double.toString`: shortest round-trip digits, at least one fractional digit,
/// scientific notation (`1.0E7`, `1.0E-4`) outside `[1e-3, 1e7)`.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        let cases = [
            (12.8, "12.8"),
            (10.0, "10.0"),
            (0.0, "0.0"),
            (1234.0, "1234.0"),
            (0.35220499833424884, "0.35220499833424884"),
            (7.9053535353535365, "7.9053535353535365"),
            (0.001, "0.001"),
            (9999999.0, "9999999.0"),
            (1e7, "1.0E7"),
            (1.5e7, "1.5E7"),
            (0.0001, "1.0E-4"),
            (-2.5e-5, "-2.5E-5"),
            (-3.0, "-3.0"),
            (20000.0, "20000.0"),
        ];
        for (x, want) in cases {
            assert_eq!(java_double(x), want, "{x}");
        }
    }

    #[test]
    fn timestamps() {
        let t = DateTime::<Utc>::from_timestamp_millis(1_747_187_891_589).expect("valid");
        assert_eq!(aws_timestamp(t), "2025-05-14T01:58:11.589+0000");
        assert_eq!(reason_timestamp(t), "14/05/25 01:58:11");
        assert_eq!(event_time(t), "2025-05-14T01:58:11Z");
        assert_eq!(rfc3339(t), "2025-05-14T01:58:11.589Z");
        let j = DateTime::<Utc>::from_timestamp(1_658_505_465, 0).expect("valid");
        assert_eq!(
            composite_reason_timestamp(j),
            "Friday 22 July, 2022 15:57:45 UTC"
        );
    }

    #[test]
    fn arns_and_regions() {
        let ctx = AccountContext::new("123456789012", "us-east-2");
        assert_eq!(
            ctx.alarm_arn("name"),
            "arn:aws:cloudwatch:us-east-2:123456789012:alarm:name"
        );
        assert_eq!(ctx.region_display_name(), "US East (Ohio)");
        assert_eq!(region_display_name("eu-west-1"), "EU (Ireland)");
        assert_eq!(region_display_name("xx-test-1"), "xx-test-1");
        assert_eq!(
            AccountContext::new("1", "cn-north-1").alarm_arn("a"),
            "arn:aws-cn:cloudwatch:cn-north-1:1:alarm:a"
        );
    }
}
