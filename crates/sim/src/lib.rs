//! flowwatch-sim: play traffic through the AWS network model ([`flowwatch_net`]) and write the
//! VPC flow-log records AWS would write on every ENI each packet crosses — request and reply,
//! ACCEPT or REJECT from the snapshot's real security groups and NACLs — aggregated per capture
//! window, with NODATA and SKIPDATA windows and the v5 fields, as gzip text in the S3 key layout
//! or as Parquet in AWS's Hive-compatible layout — while the configuration may change mid-run.
//!
//! Issue 5 §6; semantics `../shared/spec/mirror-reachability.md` §2–§4 and §7; record fields
//! `../shared/spec/flowlog-formats.md`.
//!
//! # API
//! * [`Traffic::parse`] — the traffic file below.
//! * [`simulate`] — `(&Snapshot, &Traffic, start, duration, &Options) -> SimOutput`: records in
//!   memory (metadata of each logged interface in [`SimOutput::interfaces`]) and [`Stats`].
//! * [`simulate_phases`] — the same over configuration phases (`&[Phase { from, snapshot }]`):
//!   each connection uses the snapshot in force when it starts. [`simulate`] is one phase.
//! * [`write_s3_layout`] — gzip text objects, one per account, region and 5 minutes, in any
//!   [`LogFormat`] ([`default_format`]: the 27 v2–v5 fields), header line first.
//! * [`write_parquet_layout`] — Parquet objects, one per account, region and hour, under
//!   `AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…/hour=…/`:
//!   columns as AWS names them (`pkt_srcaddr`), INT32 / INT64 / UTF-8 from the field catalog,
//!   `-` as null, GZIP. [`value`] is the typed value both deliveries render.
//! * [`az_ids_from_dir`] — zone name → zone id from a snapshot's `describe-availability-zones`.
//!
//! # The traffic file
//! TOML. `[[flow]]` tables are repeated connections, `[[scanner]]` tables port sweeps from an
//! address, `[[capture_loss]]` tables capture windows that lose records (SKIPDATA). Endpoints are an instance id (its primary ENI), an ENI id, an ENI's private or
//! public address, or any other address (the internet). A destination given as an instance or
//! ENI is its private address from inside, its public address (if any) from the internet.
//! Offsets (`start`, `end`) are seconds from the simulation start: `90`, `"90s"`, `"10m"`,
//! `"1h30m"`, `"1d"`; without them (or with `schedule = "always"`) an entry runs throughout.
//! Unknown keys are errors; every error names the line of its table.
//!
//! ```toml
//! # A web server the internet reaches on 443, its calls out, and a scanner.
//! [[flow]]
//! name = "customers"               # optional; default flow-N
//! source = "203.0.113.9"           # an internet address
//! destination = "i-06669a407b2ef3ae5"
//! protocol = "tcp"                 # tcp | udp | icmp | a protocol number (default tcp)
//! port = 443                       # destination port, or a range "8000-8080" (TCP/UDP)
//! source_port = "ephemeral"        # "ephemeral" (49152-65535, default) | 5000 | "1024-2048"
//! rate = 12                        # connections per minute
//! packets = 10                     # request packets per connection (default 10)
//! bytes = 1500                     # request bytes per connection (default 100 per packet)
//! reply_packets = 12               # default: packets
//! reply_bytes = 48000              # default: bytes
//! connection_seconds = 2           # first to last packet (default 1)
//! schedule = "always"
//!
//! [[flow]]
//! name = "updates"
//! source = "i-06669a407b2ef3ae5"
//! destination = "8.8.8.8"
//! port = 443
//! rate = 0.5
//! start = "5m"
//! end = "20m"
//!
//! [[flow]]
//! name = "ping"
//! source = "10.0.0.91"
//! destination = "1.1.1.1"
//! protocol = "icmp"
//! rate = 1
//!
//! [[scanner]]
//! name = "sweeper"
//! source = "198.51.100.7"
//! target = "18.216.80.133"         # an ENI's public address (or an instance / ENI id)
//! protocol = "tcp"                 # tcp | udp
//! ports = "1-1024"                 # probed in turn, one probe per port, then again
//! rate = 120                       # probes per minute
//! start = 600
//!
//! [[capture_loss]]
//! name = "busy-minute"             # optional; default capture-loss-N
//! interface = "i-06669a407b2ef3ae5" # an ENI or instance id (a logged interface)
//! at = "12m30s"                    # an offset like `start`: its capture window loses records
//! lost = 0.6                       # fraction of that window's records dropped (default 0.6)
//! ```
//!
//! # What is simulated
//! * Each connection's first packet is one `reach` query ([`flowwatch_net::reach()`]): the
//!   forward walk, and the reply walk with connection tracking. Results are cached per
//!   distinct packet (5-tuple plus ICMP type/code).
//! * Every ENI crossed gets a record for the request and, when the request got through, for
//!   the reply: source ENI egress, destination ENI ingress, NAT-gateway ENIs both ways (with
//!   `srcaddr`/`dstaddr` the ENI's primary address and `pkt-srcaddr`/`pkt-dstaddr` the real
//!   peer), appliances both ways. A security group denying the request is one REJECT at the
//!   ENI that denies it (egress at the source or ingress at the destination); an ingress NACL
//!   deny is a REJECT on the ENI the packet was going to, an egress NACL deny a REJECT on the
//!   ENI that sent it; a reply the NACL blocks is ACCEPT in (request) plus REJECT out (reply)
//!   on the server. Gateways without an ENI (IGW, peering, TGW, endpoints) log nothing;
//!   drops by routing leave the upstream records ACCEPT.
//! * Sizes: an established TCP connection logs its packets and bytes with `tcp-flags` 3
//!   (SYN|FIN) on the request and 19 (SYN-ACK|FIN) on the reply; one that never completes
//!   logs a single 60-byte SYN (2) and, if the server answered, a single SYN-ACK (18). UDP and
//!   ICMP log what the traffic file says, flags 0. Scanner probes are one 44-byte packet.
//! * Aggregation: per (interface, direction, 5-tuple, `pkt-*`, action, traffic-path) per
//!   capture window of `max-aggregation-interval` (60 or 600 s, aligned to the epoch); `start`
//!   = the first packet, `end` = the last (within the window). A connection counts in the
//!   window it starts in. NODATA for every window an interface logged nothing.
//! * `traffic-path` on egress: 1 same VPC (ENI, NAT gateway, TGW), 8 internet gateway, 7
//!   gateway endpoint, 3 VPN gateway, 4/5 intra/inter-region peering. `az-id` from
//!   [`Options::az_ids`] else derived from the zone name (`us-east-2a` → `use2-az1`).
//! * SKIPDATA: in the capture window holding a `[[capture_loss]]`'s `at` on its interface, each
//!   aggregated record is dropped with probability `lost` (a random stream per loss), and one
//!   SKIPDATA record covers the window (`start` = window start, `end` = window end − 1, clipped
//!   to the run like NODATA; every packet field `-`). A window with a loss gets SKIPDATA, never
//!   NODATA. [`InterfaceStats`] counts `skipdata` records and `dropped` ones.
//! * `pkt-src-aws-service` / `pkt-dst-aws-service`: the service of the snapshot's AWS-managed
//!   prefix list (`com.amazonaws.<region>.<service>`, any region) holding `pkt-srcaddr` /
//!   `pkt-dstaddr`, in AWS's spelling (`S3`, `DYNAMODB`, `CLOUDFRONT_ORIGIN_FACING`; the
//!   longest prefix wins); `-` for other addresses and for services outside AWS's documented
//!   list. `ip-ranges.json` services (`AMAZON`, `EC2`, …) are not labelled.
//! * Configuration phases ([`simulate_phases`]): phases in strictly increasing `from` order (to
//!   the second), the first with `from` at or before the start (else [`SimError::Options`]); a
//!   connection uses the last phase with `from` ≤ its start, its reach results cached per
//!   phase. The connections drawn never depend on the snapshots (one phase or many, the same
//!   times and ports). An entry's endpoints are resolved in each phase its schedule overlaps (an
//!   entry never active, in the phase in force at the start): an endpoint missing there is an
//!   error naming the entry's line and the phase. The logged interfaces are the union over the
//!   phases in force, by ENI id (the first phase's order, then new ones; metadata from the
//!   first phase that has it); an interface logs NODATA for every window it saw nothing, also
//!   where it does not exist. A capture loss's interface is resolved in the phase in force at
//!   its `at`.
//! * Deterministic: the same snapshot, traffic, start, duration and options give the same
//!   records and bytes (SplitMix64 streams per entry and per capture loss, sorted maps, gzip
//!   without mtime, Parquet without time).
//!
//! # Not simulated
//! Sublocations, ECS and later fields (`-`), connections spanning windows (counted in their
//! first), idle-timeout REJECTs, TCP retransmissions, `ip-ranges.json` services in
//! `pkt-*-aws-service`.

mod columnar;
mod error;
mod loss;
mod observe;
mod output;
mod phase;
mod plan;
mod record;
mod rng;
mod service;
mod sim;
mod traffic;

use std::collections::BTreeMap;
use std::path::Path;

pub use columnar::{PARQUET_PERIOD, parquet_schema, write_parquet_layout};
pub use error::{Result, SimError};
pub use flowwatch_core::LogFormat;
pub use observe::{Action, FlowDirection};
pub use output::{OBJECT_PERIOD, Value, default_format, render, token, value, write_s3_layout};
pub use phase::Phase;
pub use record::{
    FlowStats, Interface, InterfaceStats, LogStatus, Options, Record, SimOutput, Stats, Traffic5,
};
pub use sim::{simulate, simulate_phases};
pub use traffic::{CaptureLoss, Flow, Scanner, Schedule, SourcePort, Traffic};

/// Zone name → zone id from every `*.json` file under `dir` whose top level has
/// `AvailabilityZones` (`aws ec2 describe-availability-zones`). Unreadable files are skipped.
pub fn az_ids_from_dir(dir: impl AsRef<Path>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.as_ref().to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let Some(zones) = v.get("AvailabilityZones").and_then(|z| z.as_array()) else {
                continue;
            };
            for z in zones {
                if let (Some(n), Some(i)) = (
                    z.get("ZoneName").and_then(|x| x.as_str()),
                    z.get("ZoneId").and_then(|x| x.as_str()),
                ) {
                    out.insert(n.to_string(), i.to_string());
                }
            }
        }
    }
    out
}
