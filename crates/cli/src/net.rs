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
        long_about = "Prints a shell script of read-only `aws ec2` and `aws elbv2` describe calls, one output file per call, \
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
gateway attachment or NAT gateway id, or an IP address (an internet address stands for the internet); \
DESTINATION may also be a load balancer (name or ARN: its first node; give a node's address to pick the \
zone), and the path then goes through the listener to the target it forwards to.\n\n\
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
    ("LoadBalancers.json", "elbv2 describe-load-balancers"),
    ("TargetGroups.json", "elbv2 describe-target-groups"),
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
        "# A flowwatch network snapshot: read-only `aws ec2` and `aws elbv2` describe calls, one file each.\n",
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
        // Load balancers: listeners and attributes per load balancer, targets per target
        // group, each wrapped with its ARN (the outputs do not carry it).
        s.push_str(&format!(
            "N=0\nfor LB in $(aws{profile_arg} --region {r} elbv2 describe-load-balancers \
--query 'LoadBalancers[].LoadBalancerArn' --output text); do\n  N=$((N+1))\n  \
aws{profile_arg} --region {r} --output json elbv2 describe-listeners --load-balancer-arn \"$LB\" \
> \"$OUT/Listeners-$N.json\"\n  \
aws{profile_arg} --region {r} --output json elbv2 describe-load-balancer-attributes --load-balancer-arn \"$LB\" \
--query \"{{LoadBalancerAttributes: [{{LoadBalancerArn: '$LB', Attributes: Attributes}}]}}\" \
> \"$OUT/LoadBalancerAttributes-$N.json\"\ndone\n\
N=0\nfor TG in $(aws{profile_arg} --region {r} elbv2 describe-target-groups \
--query 'TargetGroups[].TargetGroupArn' --output text); do\n  N=$((N+1))\n  \
aws{profile_arg} --region {r} --output json elbv2 describe-target-health --target-group-arn \"$TG\" \
--query \"{{LoadBalancerTargetHealth: [{{TargetGroupArn: '$TG', TargetHealthDescriptions: TargetHealthDescriptions}}]}}\" \
> \"$OUT/LoadBalancerTargetHealth-$N.json\"\ndone\n"
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

pub const ACCESS_LONG_ABOUT: &str = "Network access analysis, as AWS Network Access Analyzer does it, \
but exhaustive and in seconds: every path that matches the scope, with every protocol, port range and \
address range that gets through (computed over header space — security-group unions, NACL first-match \
rules, route tables, NAT and internet gateways — not by sampling packets).\n\n\
A scope is AWS's Network Access Scope JSON (`MatchPaths`, `ExcludePaths`; Source/Destination/\
ThroughResources statements with ResourceStatement and PacketHeaderStatement), as \
`aws ec2 get-network-insights-access-scope-content` prints it (its `AccessScopeContent` is accepted as \
is), or a built-in one:\n  internet-exposed          every network interface reachable from an internet gateway, by port\n  \
ssh-rdp-from-internet     TCP 22 and 3389 open to the internet\n  \
isolated-vpcs:SEL,SEL,…   any path between VPCs that should be isolated (SEL: vpc-… or tag:Key=Value)\n  \
egress-without-nat        interfaces reaching the internet other than through a NAT gateway\n\n\
`--output json` prints {\"AnalysisFindings\": [...]} in AccessScopeAnalysisFinding shape, plus the \
exhaustive `Headers` rows.\n\nExit status: 0 no finding, 3 findings, 1 error.\n\n\
Examples:\n  flowwatch access --snapshot ./snapshot --builtin ssh-rdp-from-internet\n  \
flowwatch access --snapshot ./snapshot --builtin isolated-vpcs:vpc-0prod,vpc-0dev -o json\n  \
flowwatch access --snapshot ./snapshot --scope my-scope.json";

#[derive(Args, Debug)]
pub struct AccessArgs {
    /// The snapshot directory (see `flowwatch snapshot --help`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// A Network Access Scope JSON file.
    #[arg(long, conflicts_with = "builtin", required_unless_present = "builtin")]
    pub scope: Option<PathBuf>,
    /// A built-in scope (see above).
    #[arg(long)]
    pub builtin: Option<String>,
}

fn ranges(r: &[flowwatch_net::analysis::PortRange]) -> String {
    if r.is_empty() {
        return "all".into();
    }
    r.iter()
        .map(|p| {
            if p.from == p.to {
                p.from.to_string()
            } else {
                format!("{}-{}", p.from, p.to)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn run_access(args: AccessArgs, out: OutputFormat) -> Result<u8> {
    let scope = match (&args.scope, &args.builtin) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            flowwatch_net::Scope::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        (None, Some(name)) => match flowwatch_net::Scope::builtin(name) {
            Some(s) => s,
            None => bail!(
                "unknown built-in scope `{name}`: expected one of {} (isolated-vpcs takes :vpc-…,vpc-…)",
                flowwatch_net::access::BUILTIN_SCOPES.join(", ")
            ),
        },
        (None, None) => bail!("give --scope FILE or --builtin NAME"),
    };
    let (snapshot, _problems) = load(&args.snapshot)?;
    let started = std::time::Instant::now();
    let findings = flowwatch_net::analyze(&snapshot, &scope);
    let elapsed = started.elapsed();
    match out {
        OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch => {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "AnalysisFindings": findings }))?
            );
        }
        OutputFormat::Table | OutputFormat::Csv => {
            let mut t = Table::new(&[
                "source",
                "destination",
                "protocol",
                "ports",
                "from",
                "to",
                "path",
            ]);
            for f in &findings {
                let path: Vec<&str> = f
                    .finding_components
                    .iter()
                    .map(|c| c.component.id.as_str())
                    .collect();
                for h in &f.headers {
                    t.push(vec![
                        Value::from(f.source.id.as_str()),
                        Value::from(f.destination.id.as_str()),
                        Value::from(h.protocol.as_str()),
                        Value::from(ranges(&h.destination_port_ranges)),
                        Value::from(h.source_addresses.join(" ")),
                        Value::from(h.destination_addresses.join(" ")),
                        Value::from(path.join(" > ")),
                    ]);
                }
            }
            t.print(out)?;
            if out == OutputFormat::Table {
                eprintln!(
                    "{} finding(s) in {:.1} ms",
                    findings.len(),
                    elapsed.as_secs_f64() * 1e3
                );
            }
        }
    }
    Ok(if findings.is_empty() {
        exit::OK
    } else {
        NOT_REACHABLE
    })
}

pub const SIMULATE_LONG_ABOUT: &str = "Plays a traffic file through the snapshot and writes the flow \
logs AWS would write: for every connection, records on every network interface the packets cross, in \
both directions, ACCEPT or REJECT from the real security-group and NACL rules, aggregated per capture \
window (60 or 600 s), NODATA windows for idle interfaces, the v5 fields (flow-direction, traffic-path, \
pkt-srcaddr/pkt-dstaddr across NAT gateways), as gzip text in the S3 key layout \
(AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/…log.gz). The output is deterministic: same inputs \
and seed, same bytes. With --log-group the files are also ingested, ready for `flowwatch query`.\n\n\
The traffic file (TOML) lists flows (source and destination by id or IP, protocol, port, rate, \
schedule) and scanners (an internet address probing a port range); its format is documented in \
crates/sim (`cargo doc -p flowwatch-sim`).\n\n\
Examples:\n  flowwatch simulate --snapshot ./snapshot --traffic traffic.toml --start 2026-11-02T00:00:00Z --duration 1h\n  \
flowwatch simulate --snapshot ./snapshot --traffic traffic.toml --start -2h --duration 2h --log-group sim";

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The snapshot directory (see `flowwatch snapshot --help`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// The traffic file (TOML).
    #[arg(long)]
    pub traffic: PathBuf,
    /// When the traffic starts (ISO-8601, epoch, or relative such as -2h).
    #[arg(long, allow_hyphen_values = true)]
    pub start: String,
    /// How long it runs, e.g. 30m, 2h, 1d.
    #[arg(long, value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Capture window (max-aggregation-interval), 60 or 600 seconds.
    #[arg(long, default_value_t = 60)]
    pub aggregation_interval: u32,
    /// Random seed (same seed, same records).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where the S3-layout files are written.
    #[arg(long, default_value = "./flowwatch-sim")]
    pub out: PathBuf,
    /// Also ingest the written files into this log group.
    #[arg(long, short = 'g')]
    pub log_group: Option<String>,
}

fn parse_duration(s: &str) -> std::result::Result<std::time::Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a duration such as 30m, 2h or 1d, found `{s}`"))?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use s, m, h or d")),
    };
    if secs == 0 || secs > 31 * 86_400 {
        return Err(format!("`{s}` is out of range (1 s to 31 days)"));
    }
    Ok(std::time::Duration::from_secs(secs))
}

pub fn run_simulate(data_dir: &Path, args: SimulateArgs, out: OutputFormat) -> Result<u8> {
    let text = std::fs::read_to_string(&args.traffic)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.traffic.display()))?;
    let traffic = flowwatch_sim::Traffic::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.traffic.display()))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let start_ms = crate::query::parse_time(&args.start, now_ms)?;
    let Some(start) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(start_ms) else {
        bail!("--start {}: out of range", args.start);
    };
    let (snapshot, _problems) = load(&args.snapshot)?;
    let opts = flowwatch_sim::Options {
        seed: args.seed,
        aggregation_interval: args.aggregation_interval,
        az_ids: flowwatch_sim::az_ids_from_dir(&args.snapshot),
        ..flowwatch_sim::Options::default()
    };
    let sim = flowwatch_sim::simulate(&snapshot, &traffic, start, args.duration, &opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.traffic.display()))?;
    let files = flowwatch_sim::write_s3_layout(&sim, &args.out, &flowwatch_sim::default_format())?;
    let mut t = Table::new(&["interface", "accepted", "rejected", "nodata"]);
    for (eni, s) in &sim.stats.per_interface {
        t.push(vec![
            Value::from(eni.as_str()),
            Value::from(s.accepted),
            Value::from(s.rejected),
            Value::from(s.nodata),
        ]);
    }
    t.print(out)?;
    eprintln!(
        "{} connection(s), {} record(s) in {} file(s) under {}",
        sim.stats.connections,
        sim.stats.records,
        files.len(),
        args.out.display()
    );
    if let Some(group) = args.log_group {
        flowwatch_store::group::validate_name(&group)?;
        let mut store = crate::open_store(data_dir)?;
        let report = crate::ingest::run(
            &mut store,
            &crate::ingest::IngestArgs {
                paths: vec![args.out.display().to_string()],
                log_group: group.clone(),
                format: flowwatch_flowlog::InputFormat::Auto,
                log_format: None,
                force: false,
                threads: 0,
                quiet: true,
                txn_rows: crate::ingest::DEFAULT_TXN_ROWS,
            },
        )?;
        eprintln!(
            "ingested into log group {group}: {} records stored, {} already stored",
            report.records_stored, report.duplicates_skipped
        );
    }
    Ok(exit::OK)
}

pub const EXPLAIN_LONG_ABOUT: &str = "Names the reason behind every REJECT in a log group, from a \
snapshot of the AWS configuration: REJECT records are grouped (by interface, direction, peer, protocol \
and port) and each group gets its reason — the network ACL and rule number (an inbound ACCEPT followed by \
an outbound REJECT of the reply is a NACL; the peer's records are checked too), the security groups \
attached with the nearest rules that did not match, no route or a blackhole route, or \"no rule explains \
this\" (stale snapshot, connection timeout or asymmetric path). It also reports the reverse: ACCEPTed \
traffic that the snapshot would reject (configuration drift), and security-group rules that allowed \
nothing in the period (candidates for removal). Records are enriched with the instance, subnet, VPC and \
security groups of their interface.\n\n`--filter` takes a Logs Insights filter expression (what follows \
`filter` in a query) and explains only the records it matches; the other records of the range still count \
as reply evidence, so a filter never changes a reason, it only narrows the report.\n\n\
`--output json` prints the whole report.\n\n\
Examples:\n  flowwatch explain --snapshot ./snapshot --log-group prod --start -24h --end now\n  \
flowwatch explain --snapshot ./snapshot -g prod --filter 'dstPort in [22, 3389]'\n  \
flowwatch explain --snapshot ./snapshot --log-group sim -o json | jq '.rejects'";

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The snapshot directory (see `flowwatch snapshot --help`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// The log group to read.
    #[arg(long, short = 'g', default_value = "vpc-flow-logs")]
    pub log_group: String,
    /// Start of the range (ISO-8601, epoch, or relative such as -24h); default: all data.
    #[arg(long, allow_hyphen_values = true)]
    pub start: Option<String>,
    /// End of the range; default: all data.
    #[arg(long, allow_hyphen_values = true)]
    pub end: Option<String>,
    /// Explain only the records this Logs Insights filter matches, e.g.
    /// `interfaceId = 'eni-0a716b270e7eb341e' and dstPort = 5432`.
    #[arg(long, value_name = "EXPRESSION")]
    pub filter: Option<String>,
}

/// `explain --filter`: the query engine picks the records to explain (Logs Insights filter
/// semantics, exactly as `flowwatch query` has them); every record of the range is read again
/// from the store as reply evidence.
fn explain_filtered(
    data_dir: &Path,
    reader: &flowwatch_store::StoreReader,
    snapshot: &Snapshot,
    args: &ExplainArgs,
    filter: &str,
    start_ms: i64,
    end_ms: i64,
) -> Result<(flowwatch_explain::Report, flowwatch_explain::ReadStats)> {
    let query = format!(
        "filter {filter} | fields {}",
        flowwatch_explain::record_columns().join(", ")
    );
    let engine = flowwatch_query::QueryEngine::open(data_dir)?;
    let options = flowwatch_query::InsightsOptions {
        log_groups: vec![args.log_group.clone()],
        start_ms: (start_ms != i64::MIN).then_some(start_ms),
        end_ms: (end_ms != i64::MAX).then_some(end_ms),
        default_limit: usize::MAX,
        ..flowwatch_query::InsightsOptions::default()
    };
    // The matched records stream through the explainer batch by batch: memory holds the flow
    // groups, never the records.
    let mut x =
        flowwatch_explain::Explainer::new(snapshot, flowwatch_explain::ExplainOptions::default());
    engine
        .insights_each(&query, &options, |batch| {
            flowwatch_explain::for_each_batch_record(&batch, &mut |r| x.add(r));
            Ok(())
        })
        .map_err(|e| match e {
            flowwatch_query::Error::Query(_) => anyhow::anyhow!(
                "--filter is not a valid Logs Insights filter expression:\n{}",
                e.render(&query)
            ),
            other => anyhow::anyhow!("--filter query failed: {other}"),
        })?;
    let stats = flowwatch_explain::for_each_stored_record(
        reader,
        &args.log_group,
        start_ms,
        end_ms,
        &mut |r| x.add_context(r),
    )?;
    Ok((x.finish(), stats))
}

pub fn run_explain(data_dir: &Path, args: ExplainArgs, out: OutputFormat) -> Result<u8> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let start_ms = match &args.start {
        Some(t) => crate::query::parse_time(t, now_ms)?,
        None => i64::MIN,
    };
    let end_ms = match &args.end {
        Some(t) => crate::query::parse_time(t, now_ms)?,
        None => i64::MAX,
    };
    if end_ms <= start_ms {
        bail!("--end must be after --start");
    }
    let reader = flowwatch_store::StoreReader::open(data_dir).map_err(|e| {
        anyhow::anyhow!("cannot open the data directory {}: {e}", data_dir.display())
    })?;
    let (snapshot, _problems) = load(&args.snapshot)?;
    let started = std::time::Instant::now();
    let (report, stats) = match &args.filter {
        None => flowwatch_explain::explain_store(
            &snapshot,
            &reader,
            &args.log_group,
            start_ms,
            end_ms,
            flowwatch_explain::ExplainOptions::default(),
        )?,
        Some(filter) => explain_filtered(
            data_dir, &reader, &snapshot, &args, filter, start_ms, end_ms,
        )?,
    };
    match out {
        OutputFormat::Json | OutputFormat::Ndjson | OutputFormat::Cloudwatch => {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"report": report, "read": stats}))?
            );
        }
        OutputFormat::Table | OutputFormat::Csv => {
            print!("{}", flowwatch_explain::render_table(&report));
            eprintln!(
                "{} record(s) from {} file(s) of log group {} in {:.2} s",
                stats.records,
                stats.files,
                args.log_group,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(exit::OK)
}
