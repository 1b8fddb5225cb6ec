//! One delivery attempt of a notification to its target, and what came of it. The HTTP and
//! command specifics live in [`crate::http`] and [`crate::command`].
//!
//! Webhook: `POST <Url>`, `Content-Type: application/json`, body = the SNS alarm message,
//! headers `X-Flowwatch-Subject` (the SNS subject; RFC 2047-encoded when not ASCII),
//! `X-Flowwatch-Notification-Id`, `X-Flowwatch-Attempt`, plus the target's `Headers`.
//! Alertmanager: `POST <Url>/api/v2/alerts` with the alerts array and the same id and
//! attempt headers.

use std::time::Duration;

use ureq::Agent;

use crate::command;
use crate::http::{self, header_text};
use crate::notification::Notification;
use crate::target::{Endpoint, Route};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Attempt {
    Delivered,
    /// Nothing needed sending.
    Skipped(String),
    /// Worth another try; `after` is the target's own hint (`Retry-After`).
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Will not succeed by trying again.
    Permanent(String),
}

/// `agent` is the route's HTTP agent (unused by commands).
pub(crate) fn attempt(route: &Route, agent: &Agent, n: &Notification, attempt: u32) -> Attempt {
    let ids = [
        ("X-Flowwatch-Notification-Id", n.id.clone()),
        ("X-Flowwatch-Attempt", attempt.to_string()),
    ];
    match &route.endpoint {
        Endpoint::Webhook { url, headers } => {
            let mut ours = vec![("X-Flowwatch-Subject", header_text(&n.subject))];
            ours.extend(ids);
            http::post(agent, url, headers, &ours, &n.sns_message, route.timeout)
        }
        Endpoint::Alertmanager { url, headers } => {
            if n.alertmanager.trim() == "[]" {
                return Attempt::Skipped(format!(
                    "Alertmanager has no alert for a transition from {} to {}",
                    n.old_state, n.new_state
                ));
            }
            http::post(agent, url, headers, &ids, &n.alertmanager, route.timeout)
        }
        Endpoint::Command { program, args } => {
            command::run(program, args, route.timeout, n, attempt)
        }
    }
}
