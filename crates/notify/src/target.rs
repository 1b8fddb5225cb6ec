//! Notification targets: what an action ARN (an alarm's `AlarmActions`, `OKActions`,
//! `InsufficientDataActions` entry) delivers to. [`Target`] is the JSON shape of one
//! `NotificationTargets` entry in the monitoring definitions file (a promise to users, so it
//! is `Serialize`); [`Targets`] is a checked set of them, keyed by ARN.
//!
//! ```text
//! {"Arn": "arn:aws:sns:us-east-1:123456789012:ops",
//!  "Webhook": {"Url": "http://127.0.0.1:8080/hook", "Headers": {"Authorization": "Bearer x"}},
//!  "TimeoutSeconds": 10, "MaxAttempts": 8}
//! {"Arn": "arn:aws:sns:us-east-1:123456789012:pager",
//!  "Alertmanager": {"Url": "http://alertmanager:9093", "Labels": {"severity": "page"},
//!                   "GeneratorUrl": "http://grafana/d/flows", "ResolveAfterSeconds": 86400}}
//! {"Arn": "arn:aws:sns:us-east-1:123456789012:script",
//!  "Command": {"Program": "/usr/local/bin/on-alarm", "Args": ["--team", "net"]}}
//! ```
//!
//! Exactly one of `Webhook`, `Alertmanager`, `Command`. Only `http://` URLs: this build has
//! no TLS (see the crate docs). Unknown keys are errors, so a typo cannot silently disable a
//! setting.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::http::{HeaderName, HeaderValue, Uri};

use crate::error::{NotifyError, Result};

/// Per-attempt time limit when `TimeoutSeconds` is absent.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts when `MaxAttempts` is absent: with the default backoff, about two minutes of
/// retrying (1 + 2 + ... + 64 s) before a notification is recorded as failed.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
const MAX_TIMEOUT_SECONDS: f64 = 3600.0;
const MAX_ATTEMPTS_LIMIT: u32 = 100;
/// A firing Alertmanager alert's `endsAt` is the transition plus this, unless
/// `ResolveAfterSeconds` says otherwise (see [`AlertmanagerTarget::resolve_after_seconds`]).
pub const DEFAULT_RESOLVE_AFTER_SECONDS: u64 = 86_400;

/// One `NotificationTargets` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Target {
    /// The action ARN alarms list; any ARN-shaped string (SNS topics are the usual).
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<AlertmanagerTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandTarget>,
    /// Time limit of one attempt (HTTP request or command run), 0 < t <= 3600; default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    /// Attempts before the notification is recorded as failed, 1..=100; default 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
}

/// `POST <Url>` with the SNS alarm message as the body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: String,
    /// Sent with every request (`Authorization`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// `POST <Url>/api/v2/alerts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AlertmanagerTarget {
    /// The Alertmanager's base URL (`http://host:9093`, or with a path prefix); a URL that
    /// already ends in `/api/v2/alerts` is used as it is.
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Added to every alert's labels (`severity`, `team`); may not redefine flowwatch's own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The alert's `generatorURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
    /// A firing alert's `endsAt` = the transition + this many seconds (default 86400).
    /// flowwatch posts on transitions only, and Alertmanager resolves an alert without
    /// `endsAt` after its `resolve_timeout` (5 minutes by default): far too early. The OK
    /// transition resolves the alert explicitly; this bounds how long a lost OK can leave it
    /// firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_after_seconds: Option<u64>,
}

/// Runs `Program Args...` with the SNS alarm message on stdin and the alarm in
/// `FLOWWATCH_*` environment variables (see [`crate::command`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CommandTarget {
    /// A path, or a name looked up in `PATH`. No shell is involved: use `sh` with `-c` for one.
    pub program: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// A checked target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Route {
    pub arn: String,
    pub endpoint: Endpoint,
    pub timeout: Duration,
    pub max_attempts: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Endpoint {
    Webhook {
        url: String,
        headers: Vec<(String, String)>,
    },
    Alertmanager {
        /// The full `/api/v2/alerts` URL.
        url: String,
        headers: Vec<(String, String)>,
    },
    Command {
        program: String,
        args: Vec<String>,
    },
}

/// Checked targets by ARN.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    routes: BTreeMap<String, Route>,
    alertmanager: BTreeMap<String, AlertmanagerTarget>,
}

impl Targets {
    /// Checks every entry; on failure the error lists every problem, not just the first.
    pub fn new(list: &[Target]) -> Result<Targets> {
        let mut targets = Targets::default();
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, target) in list.iter().enumerate() {
            if !seen.insert(target.arn.as_str()) {
                errors.push(invalid(
                    index,
                    &target.arn,
                    "Arn",
                    "another entry has the same Arn",
                ));
                continue;
            }
            match target.route(index) {
                Ok(route) => {
                    if let Some(am) = &target.alertmanager {
                        targets.alertmanager.insert(target.arn.clone(), am.clone());
                    }
                    targets.routes.insert(target.arn.clone(), route);
                }
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            0 => Ok(targets),
            1 => Err(errors.remove(0)),
            _ => Err(NotifyError::InvalidTargets(errors)),
        }
    }

    pub fn contains(&self, arn: &str) -> bool {
        self.routes.contains_key(arn)
    }

    pub fn arns(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub(crate) fn route(&self, arn: &str) -> Option<&Route> {
        self.routes.get(arn)
    }

    pub(crate) fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    pub(crate) fn alertmanager(&self, arn: &str) -> Option<&AlertmanagerTarget> {
        self.alertmanager.get(arn)
    }
}

/// The failure recorded for an action ARN without a target.
pub(crate) fn no_target_message(arn: &str) -> String {
    format!("no NotificationTargets entry for {arn}; add one to the monitoring file")
}

fn invalid(
    index: usize,
    arn: &str,
    field: &'static str,
    message: impl Into<String>,
) -> NotifyError {
    NotifyError::InvalidTarget {
        index,
        arn: if arn.is_empty() {
            "no Arn".to_string()
        } else {
            arn.to_string()
        },
        field,
        message: message.into(),
    }
}

impl Target {
    fn route(&self, index: usize) -> Result<Route> {
        let bad = |field, message: String| invalid(index, &self.arn, field, message);
        check_arn(&self.arn).map_err(|m| bad("Arn", m))?;
        let timeout = match self.timeout_seconds {
            None => DEFAULT_TIMEOUT,
            Some(t) if t.is_finite() && t > 0.0 && t <= MAX_TIMEOUT_SECONDS => {
                Duration::from_secs_f64(t)
            }
            Some(t) => {
                return Err(bad(
                    "TimeoutSeconds",
                    format!("expected a number of seconds above 0 and at most 3600, found {t}"),
                ));
            }
        };
        let max_attempts = match self.max_attempts {
            None => DEFAULT_MAX_ATTEMPTS,
            Some(n) if (1..=MAX_ATTEMPTS_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(bad(
                    "MaxAttempts",
                    format!("expected 1 to {MAX_ATTEMPTS_LIMIT}, found {n}"),
                ));
            }
        };
        let given: Vec<&str> = [
            self.webhook.as_ref().map(|_| "Webhook"),
            self.alertmanager.as_ref().map(|_| "Alertmanager"),
            self.command.as_ref().map(|_| "Command"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let endpoint = match (&self.webhook, &self.alertmanager, &self.command) {
            (Some(w), None, None) => Endpoint::Webhook {
                url: http_url(&w.url).map_err(|m| bad("Webhook.Url", m))?,
                headers: headers(&w.headers).map_err(|m| bad("Webhook.Headers", m))?,
            },
            (None, Some(a), None) => alertmanager(a).map_err(|(field, m)| bad(field, m))?,
            (None, None, Some(c)) => command(c).map_err(|(field, m)| bad(field, m))?,
            (None, None, None) => {
                return Err(bad(
                    "Webhook",
                    "one of Webhook, Alertmanager or Command is required".into(),
                ));
            }
            _ => {
                return Err(bad(
                    "Webhook",
                    format!(
                        "only one of Webhook, Alertmanager or Command may be given, found {}",
                        given.join(" and ")
                    ),
                ));
            }
        };
        Ok(Route {
            arn: self.arn.clone(),
            endpoint,
            timeout,
            max_attempts,
        })
    }
}

/// `arn:partition:service:region:account:resource`; region and account may be empty (as in
/// some AWS ARNs), the rest may not.
fn check_arn(arn: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
        && !arn.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an action ARN such as arn:aws:sns:us-east-1:123456789012:ops, found {arn:?}"
        ))
    }
}

fn http_url(raw: &str) -> std::result::Result<String, String> {
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(format!(
            "https is not supported (this build has no TLS): use http://, a TLS-terminating \
             proxy on this host, or a Command target such as curl; found {raw:?}"
        ));
    }
    if !lower.starts_with("http://") {
        return Err(format!(
            "expected an http:// URL such as http://127.0.0.1:8080/hook, found {raw:?}"
        ));
    }
    let uri: Uri = raw
        .parse()
        .map_err(|e| format!("not a valid URL ({e}): {raw:?}"))?;
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "credentials in the URL are not sent; put them in Headers (Authorization): {raw:?}"
        ));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("no host in {raw:?}"));
    }
    Ok(raw.to_string())
}

/// Headers flowwatch sets itself.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

fn headers(given: &BTreeMap<String, String>) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::with_capacity(given.len());
    for (name, value) in given {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a valid header name"))?;
        if RESERVED_HEADERS.contains(&parsed.as_str())
            || parsed.as_str().starts_with("x-flowwatch-")
        {
            return Err(format!("{name} is set by flowwatch and cannot be given"));
        }
        HeaderValue::from_str(value).map_err(|_| {
            format!("the value of {name} must be printable ASCII without line breaks")
        })?;
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}

/// Labels the Alertmanager payload sets itself (`dimension_*` too).
const OWN_LABELS: &[&str] = &[
    "alertname",
    "alarm_type",
    "account_id",
    "region",
    "namespace",
    "metric_name",
];

type FieldError = (&'static str, String);

fn alertmanager(a: &AlertmanagerTarget) -> std::result::Result<Endpoint, FieldError> {
    let base = http_url(&a.url).map_err(|m| ("Alertmanager.Url", m))?;
    if base.contains('?') {
        return Err((
            "Alertmanager.Url",
            format!("expected a base URL such as http://127.0.0.1:9093, without a query: {base:?}"),
        ));
    }
    let trimmed = base.trim_end_matches('/');
    let url = if trimmed.ends_with("/api/v2/alerts") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/api/v2/alerts")
    };
    for name in a.labels.keys() {
        let mut chars = name.chars();
        let well_formed = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed || name.starts_with("__") {
            return Err((
                "Alertmanager.Labels",
                format!("{name:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)"),
            ));
        }
        if OWN_LABELS.contains(&name.as_str()) || name.starts_with("dimension_") {
            return Err((
                "Alertmanager.Labels",
                format!("{name} is set by flowwatch from the alarm and cannot be given"),
            ));
        }
    }
    if let Some(g) = &a.generator_url {
        let ok = g
            .parse::<Uri>()
            .is_ok_and(|u| u.scheme().is_some() && u.host().is_some());
        if !ok {
            return Err((
                "Alertmanager.GeneratorUrl",
                format!("expected an absolute URL, found {g:?}"),
            ));
        }
    }
    if a.resolve_after_seconds == Some(0) {
        return Err((
            "Alertmanager.ResolveAfterSeconds",
            "must be above 0 (a firing alert would be resolved at once)".into(),
        ));
    }
    Ok(Endpoint::Alertmanager {
        url,
        headers: headers(&a.headers).map_err(|m| ("Alertmanager.Headers", m))?,
    })
}

fn command(c: &CommandTarget) -> std::result::Result<Endpoint, FieldError> {
    if c.program.trim().is_empty() {
        return Err((
            "Command.Program",
            "is empty: give a program path or name".into(),
        ));
    }
    if c.program.contains('\0') {
        return Err(("Command.Program", "contains a NUL byte".into()));
    }
    if let Some(i) = c.args.iter().position(|a| a.contains('\0')) {
        return Err(("Command.Args", format!("argument {i} contains a NUL byte")));
    }
    Ok(Endpoint::Command {
        program: c.program.clone(),
        args: c.args.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sns:us-east-1:123456789012:ops";

    fn parse(json: &str) -> Result<Targets> {
        let list: Vec<Target> = serde_json::from_str(json).expect("json");
        Targets::new(&list)
    }

    /// The error text of one invalid target list.
    fn check_err(json: &str, expect: &str) {
        let err = parse(json).expect_err("must be invalid").to_string();
        assert!(err.contains(expect), "{err}\nshould contain: {expect}");
    }

    #[test]
    fn documented_shapes_parse() {
        let t = parse(
            r#"[{"Arn": "arn:aws:sns:us-east-1:123456789012:ops",
                 "Webhook": {"Url": "http://127.0.0.1:8080/hook", "Headers": {"Authorization": "Bearer x"}},
                 "TimeoutSeconds": 2.5, "MaxAttempts": 3},
                {"Arn": "arn:aws:sns:us-east-1:123456789012:pager",
                 "Alertmanager": {"Url": "http://alertmanager:9093/", "Labels": {"severity": "page"},
                                  "GeneratorUrl": "http://grafana/d/flows", "ResolveAfterSeconds": 600}},
                {"Arn": "arn:aws:sns:us-east-1:123456789012:script",
                 "Command": {"Program": "/usr/local/bin/on-alarm", "Args": ["--team", "net"]}}]"#,
        )
        .expect("valid");
        assert_eq!(t.len(), 3);
        let ops = t.route(ARN).expect("ops");
        assert_eq!(ops.timeout, Duration::from_millis(2500));
        assert_eq!(ops.max_attempts, 3);
        let pager = t
            .route("arn:aws:sns:us-east-1:123456789012:pager")
            .expect("pager");
        assert_eq!(pager.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(pager.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            pager.endpoint,
            Endpoint::Alertmanager {
                url: "http://alertmanager:9093/api/v2/alerts".into(),
                headers: vec![]
            }
        );
    }

    #[test]
    fn alertmanager_url_with_api_path_is_kept() {
        let t = parse(&format!(
            r#"[{{"Arn": "{ARN}", "Alertmanager": {{"Url": "http://am:9093/prefix/api/v2/alerts"}}}}]"#
        ))
        .expect("valid");
        let Some(Route {
            endpoint: Endpoint::Alertmanager { url, .. },
            ..
        }) = t.route(ARN)
        else {
            panic!("alertmanager route");
        };
        assert_eq!(url, "http://am:9093/prefix/api/v2/alerts");
    }

    #[test]
    fn invalid_targets_name_entry_and_field() {
        check_err(
            r#"[{"Arn": "ops", "Webhook": {"Url": "http://h/"}}]"#,
            "NotificationTargets[0] (ops): Arn: expected an action ARN",
        );
        check_err(
            &format!(r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "ftp://h/"}}}}]"#),
            "Webhook.Url: expected an http:// URL",
        );
        check_err(
            &format!(r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "https://h/"}}}}]"#),
            "Webhook.Url: https is not supported",
        );
        check_err(
            &format!(r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://u:p@h/"}}}}]"#),
            "credentials in the URL",
        );
        check_err(
            &format!(r#"[{{"Arn": "{ARN}", "Command": {{"Program": " "}}}}]"#),
            "Command.Program: is empty",
        );
        check_err(
            &format!(r#"[{{"Arn": "{ARN}"}}]"#),
            "one of Webhook, Alertmanager or Command is required",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/"}}, "Command": {{"Program": "x"}}}}]"#
            ),
            "found Webhook and Command",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/"}}, "TimeoutSeconds": 0}}]"#
            ),
            "TimeoutSeconds: expected a number of seconds above 0",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/"}}, "MaxAttempts": 0}}]"#
            ),
            "MaxAttempts: expected 1 to 100, found 0",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/", "Headers": {{"Content-Type": "text/plain"}}}}}}]"#
            ),
            "Content-Type is set by flowwatch",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/", "Headers": {{"X-A": "a\nb"}}}}}}]"#
            ),
            "printable ASCII",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Alertmanager": {{"Url": "http://h:9093", "Labels": {{"alertname": "x"}}}}}}]"#
            ),
            "Alertmanager.Labels: alertname is set by flowwatch",
        );
        check_err(
            &format!(
                r#"[{{"Arn": "{ARN}", "Alertmanager": {{"Url": "http://h:9093", "Labels": {{"bad-name": "x"}}}}}}]"#
            ),
            "is not a label name",
        );
    }

    #[test]
    fn every_problem_is_reported_and_duplicates_are_caught() {
        let err = parse(&format!(
            r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/"}}}},
                {{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/"}}}},
                {{"Arn": "", "Command": {{"Program": "x"}}}}]"#
        ))
        .expect_err("invalid")
        .to_string();
        assert!(
            err.contains("NotificationTargets[1] (arn:aws:sns:us-east-1:123456789012:ops): Arn: another entry has the same Arn"),
            "{err}"
        );
        assert!(
            err.contains("NotificationTargets[2] (no Arn): Arn:"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let r: std::result::Result<Vec<Target>, _> = serde_json::from_str(&format!(
            r#"[{{"Arn": "{ARN}", "Webhook": {{"Url": "http://h/", "Header": {{}}}}}}]"#
        ));
        assert!(
            r.expect_err("typo")
                .to_string()
                .contains("unknown field `Header`")
        );
    }
}
