//! Webhook and Alertmanager attempts: one blocking HTTP/1.1 POST of JSON (ureq, no TLS).
//!
//! Classification: 2xx delivered; 408, 429 and 5xx retried (honouring a `Retry-After` given
//! in seconds); any other status permanent (a 4xx will not fix itself, and redirects are not
//! followed: a POST must not silently become a GET); connection errors and timeouts retried.
//!
//! The agent ignores `HTTP_PROXY` and friends: libraries here read no environment, and the
//! usual targets (a local Alertmanager, a LAN webhook) must not be sent through a proxy by
//! accident.

use std::time::Duration;

use base64::Engine;
use ureq::Agent;

use crate::deliver::Attempt;

/// How much of an error response's body goes into the recorded error.
const BODY_SNIPPET: usize = 200;

pub(crate) fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(concat!("flowwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A header value for any text: as it is when it is printable ASCII, else an RFC 2047
/// encoded word (`=?UTF-8?B?...?=`), since HTTP header values cannot carry UTF-8 portably.
pub(crate) fn header_text(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}

pub(crate) fn post(
    agent: &Agent,
    url: &str,
    headers: &[(String, String)],
    ours: &[(&str, String)],
    body: &str,
    timeout: Duration,
) -> Attempt {
    let mut req = agent.post(url).header("Content-Type", "application/json");
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    for (name, value) in ours {
        req = req.header(*name, value.as_str());
    }
    match req.send(body) {
        Ok(mut resp) => {
            let status = resp.status();
            let code = status.as_u16();
            if status.is_success() {
                return Attempt::Delivered;
            }
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let snippet = resp
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .map(|b| one_line(&b))
                .unwrap_or_default();
            let mut error = format!("POST {url}: http {status}");
            if status.is_redirection() {
                error.push_str(" (redirects are not followed: point the Url at the final address)");
            }
            if !snippet.is_empty() {
                error.push_str(": ");
                error.push_str(&snippet);
            }
            if code == 408 || code == 429 || status.is_server_error() {
                Attempt::Retry {
                    error,
                    after: retry_after,
                }
            } else {
                Attempt::Permanent(error)
            }
        }
        Err(e) => {
            let retry = |error: String| Attempt::Retry { error, after: None };
            match e {
                ureq::Error::Timeout(_) => {
                    retry(format!("POST {url}: no response within {timeout:?}"))
                }
                ureq::Error::Io(io) => retry(format!("POST {url}: {io}")),
                ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                    Attempt::Permanent(format!("POST {url}: {e}"))
                }
                other => retry(format!("POST {url}: {other}")),
            }
        }
    }
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= BODY_SNIPPET {
        flat
    } else {
        let cut: String = flat.chars().take(BODY_SNIPPET).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_encodes_only_what_it_must() {
        assert_eq!(
            header_text("ALARM: \"cpu > 90%\" in US East (Ohio)"),
            "ALARM: \"cpu > 90%\" in US East (Ohio)"
        );
        assert_eq!(header_text("ALARM: \"ü\""), "=?UTF-8?B?QUxBUk06ICLDvCI=?=");
        assert!(header_text("a\nb").starts_with("=?UTF-8?B?"));
    }

    #[test]
    fn error_bodies_are_cut_to_one_line() {
        assert_eq!(one_line("bad\n  request\n"), "bad request");
        let long = "x".repeat(500);
        assert_eq!(one_line(&long).chars().count(), BODY_SNIPPET + 3);
    }
}
