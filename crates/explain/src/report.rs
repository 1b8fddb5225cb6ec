//! The answer: REJECT groups with their reason, drift groups, security-group rule usage and
//! the skipped-record counts, all `Serialize` (the CLI prints them as JSON, a promised
//! format), plus [`render_table`] for the terminal.

use std::fmt::Write as _;

use flowwatch_net::Direction;
use serde::Serialize;

use crate::record::SkipReason;
use crate::text::{NearestRule, dir_word};

/// What the snapshot knows of an interface: the enrichment of every record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub interface_id: String,
    /// False when the snapshot has no such ENI (the other fields are then empty).
    pub in_snapshot: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The owner when it is not an instance: `nat-…`, `vpce-…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
}

/// Why the snapshot rejects a packet (for a REJECT: why it was rejected; for drift: why it
/// should have been).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Reason {
    /// A network-ACL entry denies (rule 32767 is the `*` entry).
    NetworkAcl {
        acl_id: String,
        subnet_id: String,
        direction: Direction,
        rule_number: u16,
        /// Batfish's form: `100 tcp 22 0.0.0.0/0 DENY`, `* ALL ALL 0.0.0.0/0 DENY`.
        rule: String,
    },
    /// No rule of the attached security groups matches.
    SecurityGroup {
        direction: Direction,
        groups: Vec<String>,
        /// The rules nearest to admitting the packet, nearest first.
        nearest: Vec<NearestRule>,
    },
    /// No route (or a blackhole route) toward the destination.
    NoRoute {
        #[serde(skip_serializing_if = "Option::is_none")]
        route_table_id: Option<String>,
        destination: String,
        /// `0.0.0.0/0 -> igw-…` when the matching route is a blackhole.
        #[serde(skip_serializing_if = "Option::is_none")]
        blackhole_route: Option<String>,
        /// Where a walk beyond the subnet found no route (`TGW_RTB_CANNOT_ROUTE at tgw-rtb-…`).
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Sent to a load balancer node on a protocol and port none of its listeners takes.
    NoListener {
        load_balancer: String,
        protocol: String,
        port: u16,
    },
    /// A reply (its request was ACCEPTed) that the NACLs allow: connection-tracking state.
    ConnectionState,
    /// The snapshot allows this packet.
    Unexplained,
    /// The interface is not in the snapshot.
    UnknownInterface,
}

impl Reason {
    /// Short kind, as in JSON's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NetworkAcl { .. } => "network-acl",
            Reason::SecurityGroup { .. } => "security-group",
            Reason::NoRoute { .. } => "no-route",
            Reason::NoListener { .. } => "no-listener",
            Reason::ConnectionState => "connection-state",
            Reason::Unexplained => "unexplained",
            Reason::UnknownInterface => "unknown-interface",
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Reason::NetworkAcl {
                acl_id,
                direction,
                rule_number,
                rule,
                ..
            } => {
                let n = if *rule_number == 32767 {
                    "*".to_string()
                } else {
                    rule_number.to_string()
                };
                format!("{acl_id} {} rule {n} ({rule})", dir_word(*direction))
            }
            Reason::SecurityGroup {
                direction,
                groups,
                nearest,
            } => {
                if groups.is_empty() {
                    return "no security group attached".into();
                }
                let mut s = format!(
                    "no {} rule of {} matches",
                    dir_word(*direction),
                    groups.join(", ")
                );
                if nearest.is_empty() {
                    let _ = write!(s, " (no {} rules)", dir_word(*direction));
                } else {
                    let near: Vec<String> = nearest.iter().map(NearestRule::summary).collect();
                    let _ = write!(s, ": {}", near.join("; "));
                }
                s
            }
            Reason::NoRoute {
                route_table_id,
                destination,
                blackhole_route,
                detail,
            } => {
                let rt = route_table_id.as_deref().unwrap_or("no route table");
                match (blackhole_route, detail) {
                    (Some(r), _) => format!("no route: {r} in {rt} is a blackhole"),
                    (None, Some(d)) => format!("no route to {destination}: {d}"),
                    (None, None) => format!("no route to {destination} in {rt}"),
                }
            }
            Reason::NoListener {
                load_balancer,
                protocol,
                port,
            } => format!("no listener of {load_balancer} takes {protocol} port {port}"),
            Reason::ConnectionState => "reply allowed by every rule: connection-tracking state \
                 (idle timeout, closed connection, untracked flow after a rule change) or an \
                 asymmetric path"
                .into(),
            Reason::Unexplained => {
                "no rule explains this — stale snapshot, connection timeout or asymmetric path"
                    .into()
            }
            Reason::UnknownInterface => "interface not in the snapshot (stale snapshot?)".into(),
        }
    }
}

/// Records of one interface, direction, peer, protocol and port that share one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowGroup {
    pub interface: Interface,
    /// `None` only for interfaces outside the snapshot without `flow-direction`.
    pub direction: Option<Direction>,
    /// The other end (the source of an ingress record, the destination of an egress one).
    pub peer_address: String,
    /// The other end's interface when the snapshot has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Interface>,
    pub protocol: String,
    /// The destination port; for replies the service port (the reply's source port), so the
    /// ephemeral ports of one service fall into one group.
    pub port: u16,
    /// The records are replies: the reversed tuple was ACCEPTed (on this interface in the
    /// other direction, or on the peer's interface).
    pub reply: bool,
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_start: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_start: Option<i64>,
    pub reason: Reason,
    /// [`Reason::summary`], for JSON readers.
    pub explanation: String,
}

/// How much one security-group rule was used by the ACCEPTed records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleUsage {
    pub group_id: String,
    pub group_name: String,
    pub direction: Direction,
    pub rule_index: usize,
    pub rule: String,
    /// ACCEPTed records (requests, not replies) that this rule admits.
    pub accepted_records: u64,
    pub accepted_packets: u64,
    /// Interfaces carrying the group that appear in the records.
    pub observed_interfaces: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub reason: SkipReason,
    pub description: &'static str,
    pub records: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub kind: &'static str,
    pub groups: u64,
    pub records: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every record offered.
    pub records: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub skipped: u64,
    /// Used records on interfaces the snapshot does not have.
    pub unknown_interface: u64,
    /// Distinct (interface, direction, 5-tuple class) decisions evaluated.
    pub decisions_evaluated: u64,
    /// Records read as reply evidence only (`explain --filter` reads every record of the range).
    pub context_records: u64,
}

/// Everything `explain` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub counts: Counts,
    pub skipped: Vec<Skipped>,
    /// REJECT groups by reason kind.
    pub reasons: Vec<ReasonCount>,
    /// REJECT groups, most records first.
    pub rejects: Vec<FlowGroup>,
    /// ACCEPTed groups that the snapshot would reject (configuration drift).
    pub drift: Vec<FlowGroup>,
    /// Every rule of every security group attached to an interface seen in the records.
    pub rule_usage: Vec<RuleUsage>,
    /// Security groups of the snapshot on no interface seen in the records (not judged).
    pub unobserved_security_groups: usize,
}

impl Report {
    /// Rules that admitted no ACCEPTed record: candidates for removal.
    pub fn unused_rules(&self) -> impl Iterator<Item = &RuleUsage> {
        self.rule_usage.iter().filter(|r| r.accepted_records == 0)
    }
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            let last = i + 1 == w.len();
            if last {
                s.push_str(c);
            } else {
                let pad = w[i].saturating_sub(c.chars().count());
                let _ = write!(s, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(out, &mut head.iter().copied());
    for r in rows {
        line(out, &mut r.iter().map(String::as_str));
    }
}

fn group_rows(groups: &[FlowGroup]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let who = g
                .interface
                .instance_id
                .clone()
                .or_else(|| g.interface.attached_to.clone())
                .unwrap_or_else(|| "-".into());
            let dir = g.direction.map_or("-", dir_word);
            let peer = match g.peer.as_ref().and_then(|p| p.instance_id.clone()) {
                Some(i) => format!("{} ({i})", g.peer_address),
                None => g.peer_address.clone(),
            };
            let port = if g.reply {
                format!("{} reply", g.port)
            } else {
                g.port.to_string()
            };
            vec![
                g.records.to_string(),
                g.interface.interface_id.clone(),
                who,
                dir.to_string(),
                peer,
                g.protocol.clone(),
                port,
                g.explanation.clone(),
            ]
        })
        .collect()
}

const GROUP_HEAD: &[&str] = &[
    "RECORDS",
    "INTERFACE",
    "INSTANCE",
    "DIRECTION",
    "PEER",
    "PROTO",
    "PORT",
    "REASON",
];

/// The report as plain-text tables: REJECTs explained, drift, unused rules, skipped records.
pub fn render_table(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.counts;
    let _ = writeln!(
        out,
        "{} records: {} REJECT in {} groups, {} ACCEPT, {} skipped",
        c.records,
        c.rejected,
        r.rejects.len(),
        c.accepted,
        c.skipped
    );
    if !r.reasons.is_empty() {
        let by: Vec<String> = r
            .reasons
            .iter()
            .map(|k| format!("{} {} ({} groups)", k.kind, k.records, k.groups))
            .collect();
        let _ = writeln!(out, "by reason: {}", by.join(", "));
    }
    if !r.rejects.is_empty() {
        out.push_str("\nREJECTs explained\n");
        table(&mut out, GROUP_HEAD, &group_rows(&r.rejects));
    }
    if !r.drift.is_empty() {
        out.push_str("\nDrift: ACCEPTed, but the snapshot rejects\n");
        table(&mut out, GROUP_HEAD, &group_rows(&r.drift));
    }
    let unused: Vec<Vec<String>> = r
        .unused_rules()
        .map(|u| {
            vec![
                u.group_id.clone(),
                u.group_name.clone(),
                dir_word(u.direction).to_string(),
                u.rule.clone(),
                u.observed_interfaces.to_string(),
            ]
        })
        .collect();
    if !unused.is_empty() {
        out.push_str("\nSecurity-group rules that allowed nothing (candidates for removal)\n");
        table(
            &mut out,
            &["GROUP", "NAME", "DIRECTION", "RULE", "INTERFACES"],
            &unused,
        );
    }
    if !r.skipped.is_empty() {
        out.push_str("\nSkipped records\n");
        let rows: Vec<Vec<String>> = r
            .skipped
            .iter()
            .map(|s| vec![s.records.to_string(), s.description.to_string()])
            .collect();
        table(&mut out, &["RECORDS", "REASON"], &rows);
    }
    out
}
