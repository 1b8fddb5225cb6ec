//! Reliable delivery of alarm notifications. `flowwatch-alarm` decides *that* an alarm
//! transitioned and builds the payloads CloudWatch would send; this crate gets them to
//! where the user wants them, retries when that fails, and keeps a record of what happened.
//!
//! A tour:
//! * [`target`]: [`Target`], one `NotificationTargets` entry of the monitoring file, mapping
//!   an action ARN (what alarms list in `AlarmActions`, `OKActions`,
//!   `InsufficientDataActions`) to a webhook, a Prometheus Alertmanager or a command;
//!   [`Targets`] checks a list of them, reporting every problem with its entry and field.
//! * [`notification`]: [`Notification::for_transition`] turns a transition into one
//!   notification per action ARN, with the SNS message and subject and the Alertmanager
//!   alerts already built, and a stable id (the idempotency key).
//! * [`dispatcher`]: [`Dispatcher`] accepts notifications into a durable outbox without
//!   touching the network and delivers them on one background lane per target, with
//!   exponential [`backoff`]; [`deliver`], [`http`] and [`command`] make one attempt each.
//! * [`journal`]: the outbox and the delivery log on disk (newline-delimited JSON, fsync'd,
//!   torn last lines repaired, the outbox compacted by rename); [`deliveries`] reads the
//!   log, whose [`Delivery`] records render as DescribeAlarmHistory `Action` items.
//!
//! ```text
//! transition ─► Notification::for_transition ─► Dispatcher::submit ─► outbox.ndjson (fsync)
//!                                                    │ wake
//!             lane per target: attempt ─► 2xx / exit 0 ─► deliveries.ndjson  delivered
//!                                    └──► 5xx, 408, 429, timeout, refused ─► attempt_failed,
//!                                         wait 1 s, 2 s, 4 s ... ─► ... ─► failed (with payload)
//!                                    └──► other 4xx, cannot run ─► failed
//! ```
//!
//! Decisions (each pinned by a test):
//! * At-least-once delivery with a stable id, not exactly-once: a crash between a target's
//!   2xx and the fsync of the outcome re-sends on the next start; webhooks get the id in
//!   `X-Flowwatch-Notification-Id`, commands in `FLOWWATCH_NOTIFICATION_ID`. Everything
//!   with a final record is never sent again, and submitting a known id does nothing.
//! * Per-target FIFO: a notification waiting for its retry holds back the later ones of the
//!   same target (an OK never overtakes its ALARM); other targets are not held up.
//! * `MaxAttempts` counts across restarts: attempts already recorded are not granted again.
//! * An action ARN with no target is recorded as failed at once ("no NotificationTargets
//!   entry for arn:...; add one to the monitoring file"); so is one whose target was removed
//!   while it was pending. Adding the target later does not resend it; the `failed` record
//!   holds the whole notification for a manual resend.
//! * The webhook body is CloudWatch's alarm JSON itself (the SNS `Message`), not the SNS
//!   HTTP envelope; the subject travels in `X-Flowwatch-Subject` (RFC 2047-encoded when not
//!   ASCII).
//! * Alertmanager: a firing alert's `endsAt` is the transition plus `ResolveAfterSeconds`
//!   (default one day), because nothing re-posts while an alarm stays in ALARM; the OK
//!   transition resolves it. Transitions between OK and INSUFFICIENT_DATA are recorded as
//!   `skipped` without a request.
//! * Plain `http://` only: no TLS stack (rustls would bring ring's C and assembly build,
//!   native-tls OpenSSL), since the expected targets are a local Alertmanager or a LAN
//!   webhook. For HTTPS use a Command target (`curl`) or a local TLS-terminating proxy.
//!   Redirects are not followed, and `HTTP_PROXY` is not read (libraries read no
//!   environment).
//! * A command's non-zero exit is retried like a 5xx (scripts usually fail for transient
//!   reasons such as the network); a program that cannot be started is permanent.
//! * No async runtime: one thread per target, blocking IO with per-attempt timeouts.

pub mod backoff;
pub mod command;
pub mod deliver;
pub mod delivery;
pub mod dispatcher;
pub mod error;
pub mod http;
pub mod journal;
pub mod notification;
pub mod target;

pub use backoff::Backoff;
pub use delivery::{Delivery, Outcome};
pub use dispatcher::{Dispatcher, Options, Submitted};
pub use error::{NotifyError, Result};
pub use journal::deliveries;
pub use notification::Notification;
pub use target::{AlertmanagerTarget, CommandTarget, Target, Targets, WebhookTarget};
