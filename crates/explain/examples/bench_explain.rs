//! Explanation throughput over REJECT records (issue 5 §8: target > 1 million records/s on
//! one core). Builds a synthetic snapshot (VPCs × subnets × ENIs, security groups with 3–12
//! rules, NACLs with allow/deny entries and ephemeral ranges, an IGW per VPC, some subnets
//! without a default route) and synthetic records (scanners, internal misconfigurations,
//! replies), then times `Explainer::add` + `finish` on one thread.
//!
//! `cargo run --release -p flowwatch-explain --example bench_explain [-- RECORDS [ENIS [CLASSES]]]`
//! Three runs: REJECT only and 30 % ACCEPT over a pool of CLASSES flow classes (50,000 by
//! default), and the worst case where every record is its own class and group.
//! Prints a summary and `TSV\tkey\tvalue` lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use flowwatch_explain::{Action, ExplainOptions, Explainer, FlowRecord};
use flowwatch_net::{Direction, Snapshot};
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Skewed towards small values (a few hot ENIs and peers).
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }
}

const PORTS: &[u16] = &[
    22, 23, 80, 443, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 11211, 27017,
];

struct Synth {
    docs: Vec<(String, String)>,
    /// (eni id, private address) per ENI.
    enis: Vec<(String, Ipv4Addr)>,
}

fn v4(vpc: usize, subnet: usize, host: usize) -> Ipv4Addr {
    Ipv4Addr::new(
        10,
        (vpc / 16) as u8,
        ((vpc % 16) * 16 + subnet) as u8,
        (host + 4) as u8,
    )
}

fn synth(n_enis: usize, rng: &mut Rng) -> Synth {
    let subnets_per_vpc = 4;
    let enis_per_subnet = 50;
    let n_vpcs = n_enis.div_ceil(subnets_per_vpc * enis_per_subnet);
    let (mut vpcs, mut subnets, mut rtbs, mut acls, mut sgs, mut igws, mut nis) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut enis = vec![];
    let any = json!([{"CidrIp": "0.0.0.0/0"}]);
    for v in 0..n_vpcs {
        let vpc = format!("vpc-{v:05}");
        let cidr = format!("10.{}.{}.0/20", v / 16, (v % 16) * 16);
        vpcs.push(json!({"VpcId": vpc, "CidrBlock": cidr}));
        let igw = format!("igw-{v:05}");
        igws.push(json!({"InternetGatewayId": igw, "Attachments": [{"VpcId": vpc, "State": "available"}]}));
        // Main table: local only (private subnets); public table: + default route.
        rtbs.push(
            json!({"RouteTableId": format!("rtb-{v:05}-main"), "VpcId": vpc,
            "Associations": [{"Main": true}],
            "Routes": [{"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active"}]}),
        );
        let mut public_subnets = vec![];
        let n_groups = 10;
        for g in 0..n_groups {
            let id = format!("sg-{v:05}-{g:02}");
            let mut ingress = vec![];
            for _ in 0..(3 + rng.below(10)) {
                let port = PORTS[rng.below(PORTS.len() as u64) as usize];
                let src = if rng.below(3) == 0 {
                    any.clone()
                } else {
                    json!([{"CidrIp": cidr}])
                };
                ingress.push(
                    json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": src}),
                );
            }
            if g > 0 {
                ingress.push(
                    json!({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                    "UserIdGroupPairs": [{"GroupId": format!("sg-{v:05}-{:02}", g - 1)}]}),
                );
            }
            let egress = if g % 3 == 0 {
                json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": any}])
            } else {
                json!([{"IpProtocol": "-1", "IpRanges": any}])
            };
            sgs.push(json!({"GroupId": id, "GroupName": id, "VpcId": vpc,
                "IpPermissions": ingress, "IpPermissionsEgress": egress}));
        }
        for s in 0..subnets_per_vpc {
            let sid = format!("subnet-{v:05}-{s}");
            let scidr = format!("10.{}.{}.0/24", v / 16, (v % 16) * 16 + s);
            subnets.push(json!({"SubnetId": sid, "VpcId": vpc, "CidrBlock": scidr,
                "AvailabilityZone": "us-east-1a"}));
            if s % 2 == 0 {
                public_subnets.push(json!({"Main": false, "SubnetId": sid}));
            }
            let e = |n: u32,
                     egress: bool,
                     allow: bool,
                     proto: &str,
                     cidr: &str,
                     ports: Option<(u16, u16)>| {
                let mut x = json!({"RuleNumber": n, "Egress": egress,
                    "RuleAction": if allow {"allow"} else {"deny"}, "Protocol": proto, "CidrBlock": cidr});
                if let Some((a, b)) = ports {
                    x["PortRange"] = json!({"From": a, "To": b});
                }
                x
            };
            let entries = vec![
                e(90, false, false, "6", "0.0.0.0/0", Some((23, 23))),
                e(95, false, false, "6", "0.0.0.0/0", Some((3389, 3389))),
                e(100, false, true, "6", "0.0.0.0/0", Some((443, 443))),
                e(110, false, true, "6", "0.0.0.0/0", Some((80, 80))),
                e(120, false, true, "-1", &cidr, None),
                e(130, false, true, "6", "0.0.0.0/0", Some((32768, 65535))),
                e(100, true, true, "6", "0.0.0.0/0", Some((443, 443))),
                e(110, true, true, "-1", &cidr, None),
                e(120, true, true, "6", "0.0.0.0/0", Some((80, 80))),
            ];
            acls.push(
                json!({"NetworkAclId": format!("acl-{v:05}-{s}"), "VpcId": vpc,
                "IsDefault": false, "Associations": [{"SubnetId": sid}], "Entries": entries}),
            );
            for h in 0..enis_per_subnet {
                if enis.len() >= n_enis {
                    break;
                }
                let id = format!("eni-{:08x}", enis.len());
                let addr = v4(v, s, h);
                let g1 = rng.below(n_groups);
                let g2 = rng.below(n_groups);
                nis.push(json!({"NetworkInterfaceId": id, "SubnetId": sid, "VpcId": vpc,
                    "PrivateIpAddress": addr.to_string(),
                    "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": addr.to_string()}],
                    "Groups": [{"GroupId": format!("sg-{v:05}-{g1:02}")}, {"GroupId": format!("sg-{v:05}-{g2:02}")}],
                    "InterfaceType": "interface", "SourceDestCheck": true,
                    "Attachment": {"InstanceId": format!("i-{:08x}", enis.len()), "DeviceIndex": 0, "Status": "attached"}}));
                enis.push((id, addr));
            }
        }
        rtbs.push(json!({"RouteTableId": format!("rtb-{v:05}-pub"), "VpcId": vpc,
            "Associations": public_subnets,
            "Routes": [{"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}]}));
    }
    let doc = |k: &str, v: Vec<Value>| (format!("{k}.json"), json!({ k: v }).to_string());
    Synth {
        docs: vec![
            doc("Vpcs", vpcs),
            doc("Subnets", subnets),
            doc("RouteTables", rtbs),
            doc("NetworkAcls", acls),
            doc("SecurityGroups", sgs),
            doc("InternetGateways", igws),
            doc("NetworkInterfaces", nis),
        ],
        enis,
    }
}

/// One flow class: interface, peer, service port and who opened it.
struct Class {
    eni: usize,
    peer: IpAddr,
    port: u16,
    inbound: bool,
}

/// A pool of `n` classes: 60 % internet scans of common ports, 25 % internal connections to
/// a neighbour's port, 15 % outbound connections.
fn classes(s: &Synth, n: usize, rng: &mut Rng) -> Vec<Class> {
    let scanners: Vec<IpAddr> = (0..2000u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xCB00_7100u32 + i * 7919)))
        .collect();
    (0..n)
        .map(|_| {
            let eni = rng.skewed(s.enis.len() as u64) as usize;
            let port = PORTS[rng.skewed(PORTS.len() as u64) as usize];
            let kind = rng.below(100);
            if kind < 60 {
                let peer = scanners[rng.skewed(scanners.len() as u64) as usize];
                Class {
                    eni,
                    peer,
                    port,
                    inbound: true,
                }
            } else if kind < 85 {
                let other = s.enis[rng.below(s.enis.len() as u64) as usize].1;
                Class {
                    eni,
                    peer: IpAddr::V4(other),
                    port,
                    inbound: true,
                }
            } else {
                let peer = scanners[rng.below(64) as usize];
                Class {
                    eni,
                    peer,
                    port,
                    inbound: false,
                }
            }
        })
        .collect()
}

/// `n` records drawn (skewed: some flows retry far more than others) from `pool`, with
/// random source ports; `accept_share` % of them ACCEPT.
fn records(
    s: &Synth,
    pool: &[Class],
    n: usize,
    accept_share: u64,
    rng: &mut Rng,
) -> Vec<FlowRecord> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = &pool[rng.skewed(pool.len() as u64) as usize];
        let (eni, addr) = &s.enis[c.eni];
        let local = IpAddr::V4(*addr);
        let action = if rng.below(100) < accept_share {
            Action::Accept
        } else {
            Action::Reject
        };
        let sport = 32768 + rng.below(28000) as u16;
        let start = 1_700_000_000 + (i as i64 / 1000) * 60;
        let r = if c.inbound {
            FlowRecord::new(eni, c.peer, sport, local, c.port, 6, action)
                .with_direction(Direction::Ingress)
        } else {
            FlowRecord::new(eni, local, sport, c.peer, c.port, 6, action)
                .with_direction(Direction::Egress)
        };
        out.push(r.with_start(start));
    }
    out
}

fn run(snap: &Snapshot, recs: &[FlowRecord]) -> (f64, flowwatch_explain::Report) {
    let t = Instant::now();
    let mut x = Explainer::new(snap, ExplainOptions::default());
    for r in recs {
        x.add(r);
    }
    let report = x.finish();
    (t.elapsed().as_secs_f64(), report)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let n_enis: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    let s = synth(n_enis, &mut rng);
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (snap, problems) =
        Snapshot::from_json_documents(s.docs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "snapshot: {} VPCs, {} subnets, {} ENIs, {} security groups, {} NACLs ({} problems); generated in {gen_s:.2} s, loaded in {load_s:.2} s",
        snap.vpcs.len(),
        snap.subnets.len(),
        snap.enis.len(),
        snap.security_groups.len(),
        snap.nacls.len(),
        problems.len()
    );
    let n_classes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let pool = classes(&s, n_classes, &mut rng);
    let mut tsv = vec![];
    for (name, recs) in [
        ("reject", records(&s, &pool, n, 0, &mut rng)),
        ("mixed", records(&s, &pool, n, 30, &mut rng)),
        ("distinct", {
            // Worst case: every record its own class and group (all words made per record).
            let wide = classes(&s, n, &mut rng);
            let mut v = Vec::with_capacity(n);
            for (i, c) in wide.iter().enumerate() {
                let (eni, addr) = &s.enis[c.eni];
                let (a, b) = if c.inbound {
                    (c.peer, IpAddr::V4(*addr))
                } else {
                    (IpAddr::V4(*addr), c.peer)
                };
                let d = if c.inbound {
                    Direction::Ingress
                } else {
                    Direction::Egress
                };
                v.push(
                    FlowRecord::new(eni, a, 40000, b, c.port, 6, Action::Reject)
                        .with_direction(d)
                        .with_start(1_700_000_000 + i as i64 / 1000 * 60),
                );
            }
            v
        }),
    ] {
        let (secs, rep) = run(&snap, &recs);
        let rate = n as f64 / secs;
        println!(
            "{name}: {n} records in {secs:.3} s = {:.2} M records/s; {} REJECT groups, {} drift groups, {} decisions evaluated, {} unused rules",
            rate / 1e6,
            rep.rejects.len(),
            rep.drift.len(),
            rep.counts.decisions_evaluated,
            rep.unused_rules().count()
        );
        for k in &rep.reasons {
            println!(
                "  {:<18} {:>9} records {:>7} groups",
                k.kind, k.records, k.groups
            );
        }
        tsv.push((format!("{name}_records_per_s"), format!("{rate:.0}")));
        tsv.push((
            format!("{name}_decisions"),
            rep.counts.decisions_evaluated.to_string(),
        ));
        tsv.push((format!("{name}_groups"), rep.rejects.len().to_string()));
    }
    println!("TSV\tenis\t{}", snap.enis.len());
    println!("TSV\tsecurity_groups\t{}", snap.security_groups.len());
    println!("TSV\trecords\t{n}");
    println!("TSV\tclasses\t{n_classes}");
    for (k, v) in tsv {
        println!("TSV\t{k}\t{v}");
    }
}
