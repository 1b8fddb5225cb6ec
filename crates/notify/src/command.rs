//! Command attempts: run `Program Args...` (no shell) with the SNS alarm message on stdin
//! and the alarm in the environment, on top of flowwatch's own environment:
//!
//! | variable | value |
//! |---|---|
//! | `FLOWWATCH_ALARM_NAME` | the alarm's name |
//! | `FLOWWATCH_ALARM_ARN` | the alarm's ARN |
//! | `FLOWWATCH_NEW_STATE`, `FLOWWATCH_OLD_STATE` | `OK`, `ALARM` or `INSUFFICIENT_DATA` |
//! | `FLOWWATCH_REASON` | the new state's reason |
//! | `FLOWWATCH_STATE_CHANGE_TIME` | `2025-05-14T01:58:11.589+0000` |
//! | `FLOWWATCH_SUBJECT` | the SNS subject |
//! | `FLOWWATCH_NOTIFICATION_ID` | the idempotency key |
//! | `FLOWWATCH_TARGET_ARN` | the action ARN |
//! | `FLOWWATCH_ATTEMPT` | 1 for the first attempt |
//!
//! Exit status 0 is delivered; any other status, or running past the timeout (the process is
//! killed; processes it started are not), is retried; a program that cannot be started is a
//! permanent failure. The first KiB of stderr goes into the recorded error; stdout is
//! discarded.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::deliver::Attempt;
use crate::notification::Notification;

const STDERR_KEPT: usize = 1024;

pub(crate) fn run(
    program: &str,
    args: &[String],
    timeout: Duration,
    n: &Notification,
    attempt: u32,
) -> Attempt {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env("FLOWWATCH_ALARM_NAME", &n.alarm_name)
        .env("FLOWWATCH_ALARM_ARN", &n.alarm_arn)
        .env("FLOWWATCH_NEW_STATE", n.new_state.as_str())
        .env("FLOWWATCH_OLD_STATE", n.old_state.as_str())
        .env("FLOWWATCH_REASON", &n.reason)
        .env("FLOWWATCH_STATE_CHANGE_TIME", &n.state_change_time)
        .env("FLOWWATCH_SUBJECT", &n.subject)
        .env("FLOWWATCH_NOTIFICATION_ID", &n.id)
        .env("FLOWWATCH_TARGET_ARN", &n.target_arn)
        .env("FLOWWATCH_ATTEMPT", attempt.to_string());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Attempt::Permanent(format!("cannot run {program}: {e}")),
    };
    // Feed stdin and drain stderr on their own threads: a program that never reads its
    // input, or writes a lot of errors, must not stall the wait below.
    if let Some(mut stdin) = child.stdin.take() {
        let message = n.sns_message.clone().into_bytes();
        thread::spawn(move || {
            // EPIPE when the program exits without reading: not our failure.
            let _ = stdin.write_all(&message);
        });
    }
    let (tx, stderr_text) = mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(k) = stderr.read(&mut buf) {
                if k == 0 {
                    break;
                }
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..k.min(room)]);
            }
            let _ = tx.send(kept);
        });
    }
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Attempt::Retry {
                    error: format!("{program}: still running after {timeout:?}; killed"),
                    after: None,
                };
            }
            Ok(None) => {
                thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => {
                let _ = child.kill();
                return Attempt::Retry {
                    error: format!("{program}: cannot wait for it: {e}"),
                    after: None,
                };
            }
        }
    };
    if status.success() {
        return Attempt::Delivered;
    }
    // A process it left behind may hold stderr open: do not wait for it long.
    let stderr = stderr_text
        .recv_timeout(Duration::from_millis(200))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let mut error = format!("{program}: {status}");
    if !stderr.is_empty() {
        error.push_str(": ");
        error.push_str(&stderr);
    }
    Attempt::Retry { error, after: None }
}
