//! Every REJECT in the flow logs explained (issue 5 §5; spec `mirror-reachability.md` §7):
//! flow records (from the store, or fed directly as [`FlowRecord`]s by tests and the
//! simulator) are judged against a [`flowwatch_net::Snapshot`] with the network model's own
//! allocation-free evaluators (`eval_nacl`, `eval_security_groups`, `route::lookup`, and
//! `trace_packet_from_eni` beyond the first hop), and each group of REJECTs gets the rule
//! behind it. The reverse comes in the same pass: ACCEPTed traffic the snapshot would reject
//! (configuration drift) and security-group rules that admitted nothing (removal candidates).
//! No DataFusion, no async: the store's Parquet files are read directly ([`stored`]).
//!
//! A tour: [`Explainer`] (`add` per record, `finish` → [`Report`]) or [`explain_records`];
//! [`explain_store`] for a log group and time range; [`render_table`] for the terminal; the
//! report types are `Serialize` for `--output json`.
//!
//! ## Reasoning rules (spec §7)
//! For a REJECT record on ENI *E*, the direction is `flow-direction` when present, else
//! ingress when *E* owns `dstaddr` (or `pkt-dstaddr`), egress when it owns `srcaddr`. The
//! packet is (`protocol`, `pkt-srcaddr`|`srcaddr`, `pkt-dstaddr`|`dstaddr`, ports). The peer
//! is the other end. *Same subnet* = the peer is inside *E*'s subnet: NACLs are not consulted.
//! *Reply* = the reversed tuple was ACCEPTed on *E* in the other direction, **or on the
//! peer's ENI** (when the snapshot has it) in the same direction, within
//! [`ExplainOptions::reply_window_secs`] (600 s, one aggregation interval) of the REJECT.
//! * **Ingress**: the subnet NACL's ingress entries first (first match in rule order; the
//!   `*` entry is rule 32767) → a deny names the NACL id and rule. Else a reply → connection
//!   state (tracked replies pass every SG). Else no rule of *E*'s groups matches → the
//!   security groups with the nearest non-matching rules. Else unexplained.
//! * **Egress**: a new connection no egress SG rule matches → the security groups. Else the
//!   NACL's egress entries deny → the NACL (an inbound ACCEPT followed by an outbound REJECT
//!   of the reply lands here: SGs are stateful, so it is the NACL, usually its ephemeral
//!   range). Else a reply → connection state. Else no route: the subnet's table has no route
//!   or a blackhole one for the destination, or the walk beyond the subnet ends in no route /
//!   null route. Else unexplained.
//! * Unexplained reads "no rule explains this — stale snapshot, connection timeout or
//!   asymmetric path"; an ENI missing from the snapshot is its own reason.
//!
//! ## Choices where the spec is silent (each pinned by a test in `engine/tests.rs`)
//! * Groups are (ENI, direction, peer address, protocol, port, reply, decision). For replies
//!   the port is the **service** port (the reply's source port), so the ephemeral ports of one
//!   service make one group; the decision is part of the key so a group has exactly one
//!   reason.
//! * Connection state is also the answer for an *egress* reply the NACL allows (the spec's
//!   pseudo-code falls through to "unexplained"; the reply evidence says more).
//! * Flow logs carry no ICMP type: a new ICMP flow is judged as an echo request, a reply as
//!   an echo reply. NAT-gateway ENIs have no security groups: only their NACL is judged.
//! * "Nearest" non-matching SG rules, nearest first: right protocol and peer but another port
//!   (ordered by port distance: `sg-… allows tcp 443 from 0.0.0.0/0, not 22`), then right
//!   peer and another protocol, then right service and another peer (`not from 10.0.1.10`),
//!   then the rest; [`ExplainOptions::nearest_rules`] of them (3).
//! * The "no route" reason is this crate's addition to §7 (AWS documents REJECT for SGs and
//!   NACLs only); it is reached only after SG and NACL allow.
//! * Drift: an ACCEPT whose NACL (stateless, both ways) denies it, or whose SG admits neither
//!   it as a new flow nor its reversed tuple (seen ACCEPTed the other way) as the request.
//! * Rule usage counts every ACCEPTed record matched by a rule in its direction, except
//!   replies: the server side answering (lower source port, the reversed tuple ACCEPTed and
//!   admitted the other way). Only groups on ENIs that appear in the records are judged;
//!   the others are counted as unobserved (no data is not evidence of no use).
//! * A record without `start` matches reply evidence at any time; missing packets/bytes
//!   count as 0; a record missing what the decision needs (interface, action, addresses,
//!   protocol, TCP/UDP ports, a direction) is skipped and counted by [`SkipReason`].
//!
//! ## Performance
//! Per record: one interface-id lookup, one class-cache lookup keyed by (ENI, direction,
//! protocol, local address, peer address, destination port) — the rules never test the
//! source port — one or two reply-index probes and one group update, all with a small
//! multiplicative hasher. A class is evaluated once (both as a new flow and as a reply);
//! words (rule texts, nearest rules) are made once per reported group. `examples/
//! bench_explain.rs` measures it.
//!
//! ## Invariants
//! * Never panics on input; every unused record is counted with its reason.
//! * Read-only over the snapshot; never edits or reloads it.
//! * `explain --filter` is the CLI's: the query engine evaluates the Logs Insights filter and
//!   hands the matching rows over ([`for_each_batch_record`] → [`Explainer::add`]); every other
//!   record of the range is reply evidence only ([`Explainer::add_context`]), so a filter
//!   narrows the question without changing any answer.
//! * Deliberately absent: stale-snapshot diffing, ICMP type inference, and conntrack-table
//!   overflow detection.

mod engine;
mod error;
mod explainer;
mod fxhash;
pub mod record;
pub mod report;
pub mod stored;
pub mod text;

pub use error::{ExplainError, Result};
pub use explainer::{ExplainOptions, Explainer, explain_records};
pub use record::{Action, FlowRecord, LogStatus, SkipReason, parse_direction};
pub use report::{
    Counts, FlowGroup, Interface, Reason, ReasonCount, Report, RuleUsage, Skipped, render_table,
};
pub use stored::{
    ReadStats, explain_store, for_each_batch_record, for_each_stored_record, record_columns,
};
pub use text::NearestRule;
