//! `flowwatch snapshot` and `flowwatch reach`: the AWS network model of `flowwatch-net` on
//! the command line.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use flowwatch_net::{Analysis, PathComponent, Problem, Query, Severity, Snapshot, reach};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{OutputFormat, Table};

/// Exit code of `reach` when no path exists (0 when one does, 1 on errors).
pub const NOT_REACHABLE: u8 = 3;

pub const SNAPSHOT_LONG_ABOUT: &str = "A snapshot is a directory of AWS CLI `describe-*` JSON outputs \
(VPCs, subnets, route tables, security groups, network ACLs, network interfaces, instances, gateways, \
peering, transit gateways, prefix lists, endpoints, VPN). File names are free: each file is recognised \
by its top-level key. Batfish's `aws_configs/[accounts/<acct>/]<region>/` layout and CloudMapper's \
account-data layout load as they are; several accounts and regions may sit in one snapshot.\n\n\
`snapshot capture` prints the exact `aws` commands that take one; `snapshot load` checks one.";

#[derive(Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Load a snapshot directory: counts per resource type and per VPC, and every problem
    #[command(
        long_about = "Loads every JSON file under DIR and prints what it found: counts per resource type, \
per region and per VPC, then the problems — files that are not JSON (with line and column), items of the wrong \
shape (skipped one by one), unknown top-level keys (skipped with a note), and dangling references (a route to a \
missing peering connection, an ENI in an unknown subnet) with both ids. Analysis works on whatever loaded.\n\n\
Exit status: 0 when something loaded, 1 when the directory holds no VPC.\n\n\
Examples:\n  flowwatch snapshot load ./snapshot\n  flowwatch snapshot load ./snapshot -o json | jq .summary.counts"
    )]
    Load {
        /// The snapshot directory.
        dir: PathBuf,
        /// Also list notes (unknown keys, ignored resource types), not only errors and warnings.
        #[arg(long)]
        notes: bool,
    },
    /// Print the `aws` CLI commands that take a snapshot of an account and region
    #[command(
        long_about = "Prints a shell script of read-only `aws ec2 describe-*` calls, one output file per call, \
in the layout `snapshot load` reads (`<dir>/aws_configs/accounts/<account>/<region>/`). Run it with credentials \
that can describe EC2 (the AWS managed policy `ReadOnlyAccess` or `AmazonEC2ReadOnlyAccess` is enough).\n\n\
Examples:\n  flowwatch snapshot capture --region us-east-1 > take-snapshot.sh && sh take-snapshot.sh\n  \
flowwatch snapshot capture --region eu-west-1 --profile prod --dir ./prod-snapshot | sh"
    )]
    Capture {
        /// The AWS Region (repeat for several).
        #[arg(long, required = true)]
        region: Vec<String>,
        /// An AWS CLI profile to use.
        #[arg(long)]
        profile: Option<String>,
        /// Where the script writes the snapshot.
        #[arg(long, default_value = "./snapshot")]
        dir: PathBuf,
    },
}

pub const REACH_LONG_ABOUT: &str = "Answers whether a packet gets from SOURCE to DESTINATION in the \
snapshot, as AWS Reachability Analyzer would, in microseconds: the forward path hop by hop (each \
component, with the route, security-group rule or network-ACL rule that applied), the return path, and \
when it does not get through, the Reachability Analyzer explanation codes (ENI_SG_RULES_MISMATCH, \
SUBNET_ACL_RESTRICTION, NO_ROUTE_TO_DESTINATION, IGW_NOT_ATTACHED, …) with the component that blocked.\n\n\
SOURCE and DESTINATION are an instance, network interface, internet gateway, peering connection, transit \
gateway attachment or NAT gateway id, or an IP address (an internet address stands for the internet).\n\n\
`--output json` prints AWS's NetworkInsightsAnalysis shape (NetworkPathFound, ForwardPathComponents, \
ReturnPathComponents, Explanations).\n\n\
Exit status: 0 reachable, 3 not reachable, 1 error (a missing snapshot, an unknown id).\n\n\
Examples:\n  flowwatch reach --snapshot ./snapshot --source i-0abc --destination i-0def --port 5432\n  \
flowwatch reach --snapshot ./snapshot --source 8.8.8.8 --destination i-0web --port 443\n  \
flowwatch reach --snapshot ./snapshot --source i-0app --destination 1.1.1.1 --protocol udp --port 53 -o json";

#[derive(Args, Debug)]
pub struct ReachArgs {
    /// The snapshot directory (see `flowwatch snapshot --help`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// Where the packet starts: a resource id or an IP address.
    #[arg(long)]
    pub source: String,
    /// Where it should arrive: a resource id or an IP address.
    #[arg(long)]
    pub destination: String,
    /// tcp, udp, icmp, or an IP protocol number.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Destination port (TCP/UDP).
    #[arg(long)]
    pub port: Option<u16>,
    /// Source port (default 49152, the first ephemeral port).
    #[arg(long)]
    pub source_port: Option<u16>,
}

fn protocol_number(p: &str) -> Result<u8> {
    Ok(match p.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmpv6" => 58,
        other => match other.parse::<u8>() {
            Ok(n) => n,
            Err(_) => bail!("--protocol `{p}`: expected tcp, udp, icmp, icmpv6 or a number 0-255"),
        },
    })
}

fn load(dir: &Path) -> Result<(Snapshot, Vec<Problem>)> {
    if !dir.is_dir() {
        bail!(
            "{}: not a directory (a snapshot is a directory of `aws ec2 describe-*` JSON files; \
             `flowwatch snapshot capture --help` shows how to take one)",
            dir.display()
        );
    }
    Ok(Snapshot::load(dir))
}

pub fn run_snapshot(cmd: SnapshotCommand, out: OutputFormat) -> Result<u8> {
    match cmd {
        SnapshotCommand::Load { dir, notes } => {
            let (snapshot, problems) = load(&dir)?;
            let summary = snapshot.summary(&problems);
            let shown: Vec<&Problem> = problems
                .iter()
                .filter(|p| notes || p.severity != Severity::Note)
                .collect();
            if matches!(
                out,
                OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch
            ) {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"summary": summary, "problems": shown}))?
                );
            } else {
                let mut t = Table::new(&["resource", "count"]);
                for (kind, n) in &summary.counts {
                    t.push(vec![Value::from(*kind), Value::from(*n)]);
                }
                t.print(out)?;
                if !summary.vpcs.is_empty() && out == OutputFormat::Table {
                    println!();
                    let mut v = Table::new(&[
                        "vpc",
                        "account",
                        "region",
                        "cidrs",
                        "subnets",
                        "enis",
                        "instances",
                        "route tables",
                        "security groups",
                        "nacls",
                        "igws",
                        "nat gws",
                    ]);
                    for s in &summary.vpcs {
                        v.push(vec![
                            Value::from(s.vpc_id.as_str()),
                            Value::from(s.account.as_str()),
                            Value::from(s.region.as_str()),
                            Value::from(s.cidrs.join(" ")),
                            Value::from(s.subnets),
                            Value::from(s.network_interfaces),
                            Value::from(s.instances),
                            Value::from(s.route_tables),
                            Value::from(s.security_groups),
                            Value::from(s.network_acls),
                            Value::from(s.internet_gateways),
                            Value::from(s.nat_gateways),
                        ]);
                    }
                    v.print(out)?;
                }
                for p in &shown {
                    eprintln!("{p}");
                }
                eprintln!(
                    "{} error(s), {} warning(s), {} note(s){}",
                    summary.errors,
                    summary.warnings,
                    summary.notes,
                    if !notes && summary.notes > 0 {
                        " (--notes lists the notes)"
                    } else {
                        ""
                    }
                );
            }
            if summary.vpcs.is_empty() {
                eprintln!(
                    "error: no VPC found under {} (is it a directory of `aws ec2 describe-vpcs` … outputs?)",
                    dir.display()
                );
                return Ok(exit::FAILED);
            }
            Ok(exit::OK)
        }
        SnapshotCommand::Capture {
            region,
            profile,
            dir,
        } => {
            print!("{}", capture_script(&region, profile.as_deref(), &dir));
            Ok(exit::OK)
        }
    }
}

/// The `describe-*` calls of a snapshot: (output file, command).
const CAPTURE_CALLS: &[(&str, &str)] = &[
    ("Vpcs.json", "ec2 describe-vpcs"),
    ("Subnets.json", "ec2 describe-subnets"),
    ("RouteTables.json", "ec2 describe-route-tables"),
    ("SecurityGroups.json", "ec2 describe-security-groups"),
    (
        "SecurityGroupRules.json",
        "ec2 describe-security-group-rules",
    ),
    ("NetworkAcls.json", "ec2 describe-network-acls"),
    ("NetworkInterfaces.json", "ec2 describe-network-interfaces"),
    ("Reservations.json", "ec2 describe-instances"),
    ("Addresses.json", "ec2 describe-addresses"),
    ("InternetGateways.json", "ec2 describe-internet-gateways"),
    (
        "EgressOnlyInternetGateways.json",
        "ec2 describe-egress-only-internet-gateways",
    ),
    ("NatGateways.json", "ec2 describe-nat-gateways"),
    (
        "VpcPeeringConnections.json",
        "ec2 describe-vpc-peering-connections",
    ),
    ("VpcEndpoints.json", "ec2 describe-vpc-endpoints"),
    ("PrefixLists.json", "ec2 describe-prefix-lists"),
    (
        "ManagedPrefixLists.json",
        "ec2 describe-managed-prefix-lists",
    ),
    ("TransitGateways.json", "ec2 describe-transit-gateways"),
    (
        "TransitGatewayAttachments.json",
        "ec2 describe-transit-gateway-attachments",
    ),
    (
        "TransitGatewayVpcAttachments.json",
        "ec2 describe-transit-gateway-vpc-attachments",
    ),
    (
        "TransitGatewayRouteTables.json",
        "ec2 describe-transit-gateway-route-tables",
    ),
    ("VpnGateways.json", "ec2 describe-vpn-gateways"),
    ("VpnConnections.json", "ec2 describe-vpn-connections"),
    ("CustomerGateways.json", "ec2 describe-customer-gateways"),
    ("FlowLogs.json", "ec2 describe-flow-logs"),
];

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The shell script `snapshot capture` prints.
pub fn capture_script(regions: &[String], profile: Option<&str>, dir: &Path) -> String {
    let profile_arg = profile
        .map(|p| format!(" --profile {}", shell_quote(p)))
        .unwrap_or_default();
    let mut s = String::new();
    s.push_str("#!/bin/sh\n");
    s.push_str(
        "# A flowwatch network snapshot: read-only `aws ec2 describe-*` calls, one file each.\n",
    );
    s.push_str("# Load it with: flowwatch snapshot load DIR   (then: flowwatch reach --snapshot DIR ...)\n");
    s.push_str("set -eu\n");
    s.push_str(&format!(
        "DIR={}\n",
        shell_quote(&dir.display().to_string())
    ));
    s.push_str(&format!(
        "ACCOUNT=$(aws{profile_arg} sts get-caller-identity --query Account --output text)\n"
    ));
    for region in regions {
        let r = shell_quote(region);
        s.push_str(&format!(
            "\n# {region}\nOUT=\"$DIR/aws_configs/accounts/$ACCOUNT/{r}\"\nmkdir -p \"$OUT\"\n"
        ));
        for (file, cmd) in CAPTURE_CALLS {
            s.push_str(&format!(
                "aws{profile_arg} --region {r} --output json {cmd} > \"$OUT/{file}\"\n"
            ));
        }
        // Transit gateway routes: per route table, wrapped with the table id, as Batfish's
        // collector does (`TransitGatewayStaticRoutes`, `TransitGatewayPropagations`).
        s.push_str(&format!(
            "for RTB in $(aws{profile_arg} --region {r} ec2 describe-transit-gateway-route-tables \
--query 'TransitGatewayRouteTables[].TransitGatewayRouteTableId' --output text); do\n  \
aws{profile_arg} --region {r} --output json ec2 search-transit-gateway-routes --transit-gateway-route-table-id \"$RTB\" \
--filters Name=state,Values=active,blackhole > \"$OUT/TransitGatewayRoutes-$RTB.json\"\n  \
aws{profile_arg} --region {r} --output json ec2 get-transit-gateway-route-table-propagations \
--transit-gateway-route-table-id \"$RTB\" > \"$OUT/TransitGatewayPropagations-$RTB.json\"\ndone\n"
        ));
        s.push_str(&format!(
            "for PL in $(aws{profile_arg} --region {r} ec2 describe-managed-prefix-lists \
--query 'PrefixLists[].PrefixListId' --output text); do\n  \
aws{profile_arg} --region {r} --output json ec2 get-managed-prefix-list-entries --prefix-list-id \"$PL\" \
> \"$OUT/PrefixListEntries-$PL.json\"\ndone\n"
        ));
    }
    s.push_str(
        "echo \"snapshot written to $DIR; check it with: flowwatch snapshot load $DIR\" >&2\n",
    );
    s
}

/// What applied at a hop, in a few words.
fn applied(c: &PathComponent) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &c.route_table_route {
        parts.push(format!(
            "route {} -> {} ({})",
            r.destination_cidr
                .as_deref()
                .or(r.destination_prefix_list_id.as_deref())
                .unwrap_or("?"),
            r.target,
            r.route_table_id
        ));
    }
    if let Some(r) = &c.transit_gateway_route_table_route {
        parts.push(format!(
            "tgw route {} -> {} ({})",
            r.destination_cidr,
            r.attachment_id.as_deref().unwrap_or("?"),
            r.route_table_id
        ));
    }
    if let Some(r) = &c.security_group_rule {
        let ports = r
            .port_range
            .as_ref()
            .map(|p| {
                if p.from == p.to {
                    format!(" {}", p.from)
                } else {
                    format!(" {}-{}", p.from, p.to)
                }
            })
            .unwrap_or_default();
        let peer = r
            .cidr
            .as_deref()
            .or(r.prefix_list_id.as_deref())
            .or(r.security_group_id.as_deref())
            .unwrap_or("?");
        parts.push(format!(
            "{} {} {}{ports} {} {peer}",
            r.group_id,
            r.direction,
            r.protocol,
            if r.direction == "egress" {
                "to"
            } else {
                "from"
            }
        ));
    }
    if let Some(r) = &c.acl_rule {
        parts.push(format!(
            "{} rule {} {} {} {}",
            r.acl_id,
            r.rule_number,
            if r.egress { "egress" } else { "ingress" },
            r.rule_action,
            r.cidr
        ));
    }
    parts.extend(c.additional_details.iter().cloned());
    parts.join("; ")
}

pub fn run_reach(args: ReachArgs, out: OutputFormat) -> Result<u8> {
    let protocol = protocol_number(&args.protocol)?;
    let (snapshot, problems) = load(&args.snapshot)?;
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!(
            "note: {errors} snapshot file(s) could not be read (`flowwatch snapshot load {}` lists them)",
            args.snapshot.display()
        );
    }
    let mut query = Query::new(&args.source, &args.destination).protocol(protocol);
    if let Some(p) = args.port {
        query = query.port(p);
    }
    if let Some(p) = args.source_port {
        query = query.source_port(p);
    }
    let started = std::time::Instant::now();
    let analysis: Analysis = reach(&snapshot, &query);
    let elapsed = started.elapsed();
    match out {
        OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch => {
            println!("{}", serde_json::to_string_pretty(&analysis)?);
        }
        OutputFormat::Table | OutputFormat::Csv => {
            let mut t = Table::new(&["path", "hop", "component", "type", "what applied"]);
            for (label, hops) in [
                ("forward", &analysis.forward_path_components),
                ("return", &analysis.return_path_components),
            ] {
                for c in hops.iter() {
                    t.push(vec![
                        Value::from(label),
                        Value::from(c.sequence_number),
                        Value::from(c.component.id.as_str()),
                        Value::from(c.component.kind),
                        Value::from(applied(c)),
                    ]);
                }
            }
            t.print(out)?;
            if out == OutputFormat::Table {
                println!();
                println!(
                    "{}: {} -> {} {}{} (forward {:?}{}; {:.0} µs)",
                    if analysis.network_path_found {
                        "REACHABLE"
                    } else {
                        "NOT REACHABLE"
                    },
                    args.source,
                    args.destination,
                    args.protocol,
                    args.port.map(|p| format!(" port {p}")).unwrap_or_default(),
                    analysis.forward_disposition,
                    analysis
                        .return_disposition
                        .map(|d| format!(", return {d:?}"))
                        .unwrap_or_default(),
                    elapsed.as_secs_f64() * 1e6
                );
                for e in &analysis.explanations {
                    let code = serde_json::to_value(e.explanation_code)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let mut line = format!("  {code} at {} ({})", e.component.id, e.component.kind);
                    if !e.security_groups.is_empty() {
                        let ids: Vec<&str> =
                            e.security_groups.iter().map(|g| g.id.as_str()).collect();
                        line.push_str(&format!(", security groups {}", ids.join(", ")));
                    }
                    if let Some(r) = &e.acl_rule {
                        line.push_str(&format!(
                            ", {} rule {} {}",
                            r.acl_id, r.rule_number, r.rule_action
                        ));
                    }
                    if let Some(rt) = &e.route_table {
                        line.push_str(&format!(", route table {}", rt.id));
                    }
                    if let Some(a) = &e.address {
                        line.push_str(&format!(", address {a}"));
                    }
                    if !e.path.is_empty() {
                        line.push_str(&format!(" [{} path]", e.path));
                    }
                    println!("{line}");
                }
            }
        }
    }
    if analysis.explanations.iter().any(|e| {
        matches!(
            e.explanation_code,
            flowwatch_net::ExplanationCode::UnknownResource
        )
    }) && analysis.forward_path_components.is_empty()
    {
        eprintln!(
            "error: {} or {} is not in the snapshot (ids are matched exactly; `flowwatch snapshot load` counts what loaded)",
            args.source, args.destination
        );
        return Ok(exit::FAILED);
    }
    Ok(if analysis.network_path_found {
        exit::OK
    } else {
        NOT_REACHABLE
    })
}
