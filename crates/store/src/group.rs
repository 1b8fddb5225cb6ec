//! Log groups: CloudWatch's naming and retention rules, and how a name maps to a directory.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// The retention values CloudWatch accepts (`retentionInDays`).
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A log group's settings, stored as `_group.json` in its directory (the leading underscore
/// keeps Athena, Spark and Trino from reading it as data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMeta {
    pub name: String,
    /// None: never expire.
    pub retention_days: Option<u32>,
    pub created_ms: i64,
}

/// CloudWatch's rule: 1-512 characters from `[.\-_/#A-Za-z0-9]`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadGroupName(name.to_string()))
    }
}

pub fn validate_retention(days: Option<u32>) -> Result<()> {
    match days {
        Some(d) if !RETENTION_DAYS.contains(&d) => Err(StoreError::BadRetention(d)),
        _ => Ok(()),
    }
}

/// The directory name of a group: `/` and `#` percent-encoded, and a leading `.` or `_` too, so
/// that no group becomes a hidden directory that query engines skip.
pub fn dir_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        match c {
            '/' => out.push_str("%2F"),
            '#' => out.push_str("%23"),
            '.' if i == 0 => out.push_str("%2E"),
            '_' if i == 0 => out.push_str("%5F"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cloudwatch() {
        assert!(validate_name("/aws/vpc/flowlogs").is_ok());
        assert!(validate_name("prod#1_a.b-c").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("has space").is_err());
        assert!(validate_name(&"a".repeat(513)).is_err());
    }

    #[test]
    fn retention_values() {
        assert!(validate_retention(None).is_ok());
        assert!(validate_retention(Some(3653)).is_ok());
        assert!(validate_retention(Some(2)).is_err());
    }

    #[test]
    fn directory_names_are_safe_and_distinct() {
        assert_eq!(dir_name("/aws/vpc/flowlogs"), "%2Faws%2Fvpc%2Fflowlogs");
        assert_eq!(dir_name(".hidden"), "%2Ehidden");
        assert_eq!(dir_name("_x"), "%5Fx");
        assert_ne!(dir_name("a/b"), dir_name("a#b"));
    }
}
