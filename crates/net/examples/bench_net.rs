//! Network-model benchmark (issue 5 §8): generate a large synthetic AWS account in memory as
//! `describe-*` JSON documents (1,000 VPCs, 20,000 ENIs, 10,000 security groups with 5–40
//! rules incl. group references and prefix lists, NACLs, route tables, IGWs, NAT gateways,
//! VPC peering, one transit gateway with an attachment per VPC), write it to a temporary
//! directory, and measure `Snapshot::load`, single `reach` queries, the `internet-exposed`
//! access scope over the whole snapshot, and per-packet `eval_security_groups` +
//! `eval_nacl` throughput. Prints a markdown table and `TSV\tkey\tvalue` lines.
//!
//! Usage: `bench_net [--vpcs N] [--queries N] [--packets N]` (defaults 1000, 1000, 2000000).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use flowwatch_net::access::Scope;
use flowwatch_net::packet::Direction;
use flowwatch_net::{Packet, Query, Snapshot, access, reach};
use serde_json::{Value, json};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

const SUBNETS_PER_VPC: usize = 4;
const ENIS_PER_SUBNET: usize = 5;
const SGS_PER_VPC: usize = 10;
const PREFIX_LISTS: usize = 50;

fn ip(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

/// VPC `v`: 10.0.0.0/8 cut into /20s; subnet `s`: its `s`-th /24; ENI `e`: host 10 + e.
fn vpc_base(v: usize) -> u32 {
    0x0A00_0000 + ((v as u32) << 12)
}

struct Gen {
    docs: Vec<(String, Value)>,
    eni_ids: Vec<String>,
    public_ips: Vec<String>,
}

fn generate(vpcs: usize, seed: u64) -> Gen {
    let mut r = Rng(seed);
    let (mut vpc_l, mut subnet_l, mut rt_l, mut sg_l, mut acl_l, mut eni_l) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut igw_l, mut nat_l, mut pcx_l, mut att_l, mut vatt_l) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut eni_ids = Vec::new();
    let mut public_ips = Vec::new();
    let mut next_public: u32 = 0x0300_0000; // 3.0.0.0: AWS space
    let pls: Vec<Value> = (0..PREFIX_LISTS)
        .map(|i| {
            let entries: Vec<Value> = (0..(3 + i % 8))
                .map(|k| json!({"Cidr": format!("{}/24", ip(0xC000_0000 + ((i as u32) << 12) + ((k as u32) << 8)))}))
                .collect();
            json!({"PrefixListId": format!("pl-{i:08x}"), "PrefixListName": format!("corp-{i}"),
                   "AddressFamily": "IPv4", "State": "create-complete", "Entries": entries})
        })
        .collect();
    let ports: [(i64, i64); 10] = [
        (22, 22),
        (80, 80),
        (443, 443),
        (3306, 3306),
        (5432, 5432),
        (8080, 8090),
        (6379, 6379),
        (1024, 65535),
        (9000, 9100),
        (3389, 3389),
    ];
    for v in 0..vpcs {
        let vid = format!("vpc-{v:08x}");
        let base = vpc_base(v);
        vpc_l.push(json!({"VpcId": vid, "CidrBlock": format!("{}/20", ip(base)), "State": "available",
            "CidrBlockAssociationSet": [{"CidrBlock": format!("{}/20", ip(base)), "CidrBlockState": {"State": "associated"}}],
            "Tags": [{"Key": "env", "Value": if v % 2 == 0 { "prod" } else { "dev" }}]}));
        let igw = format!("igw-{v:08x}");
        igw_l.push(json!({"InternetGatewayId": igw, "Attachments": [{"VpcId": vid, "State": "available"}]}));
        let sids: Vec<String> = (0..SUBNETS_PER_VPC)
            .map(|s| format!("subnet-{v:06x}{s:02x}"))
            .collect();
        for (s, sid) in sids.iter().enumerate() {
            subnet_l.push(json!({"SubnetId": sid, "VpcId": vid, "CidrBlock": format!("{}/24", ip(base + ((s as u32) << 8))),
                "AvailabilityZone": if s % 2 == 0 { "us-east-1a" } else { "us-east-1b" }, "State": "available"}));
        }
        // NAT gateway in subnet 0, with its ENI.
        let nat = format!("nat-{v:08x}");
        let nat_eni = format!("eni-n{v:07x}");
        let nat_priv = ip(base + 5);
        let nat_pub = ip(next_public);
        next_public += 1;
        nat_l.push(json!({"NatGatewayId": nat, "SubnetId": sids[0], "VpcId": vid, "State": "available",
            "ConnectivityType": "public",
            "NatGatewayAddresses": [{"NetworkInterfaceId": nat_eni, "PrivateIp": nat_priv, "PublicIp": nat_pub}]}));
        eni_l.push(json!({"NetworkInterfaceId": nat_eni, "SubnetId": sids[0], "VpcId": vid, "InterfaceType": "nat_gateway",
            "PrivateIpAddress": nat_priv, "Description": format!("Interface for NAT Gateway {nat}"),
            "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": nat_priv, "Association": {"PublicIp": nat_pub}}],
            "Groups": [], "SourceDestCheck": false, "RequesterManaged": true, "Status": "in-use"}));
        // Peering: VPC 2k with 2k+1.
        let peer = if v % 2 == 0 { v + 1 } else { v - 1 };
        let pcx = format!("pcx-{:08x}", v / 2);
        if v % 2 == 0 && peer < vpcs {
            pcx_l.push(json!({"VpcPeeringConnectionId": pcx, "Status": {"Code": "active"},
                "RequesterVpcInfo": {"VpcId": vid, "CidrBlock": format!("{}/20", ip(base)), "CidrBlockSet": [{"CidrBlock": format!("{}/20", ip(base))}]},
                "AccepterVpcInfo": {"VpcId": format!("vpc-{peer:08x}"), "CidrBlock": format!("{}/20", ip(vpc_base(peer))), "CidrBlockSet": [{"CidrBlock": format!("{}/20", ip(vpc_base(peer)))}]}}));
        }
        let att = format!("tgw-attach-{v:08x}");
        att_l.push(json!({"TransitGatewayAttachmentId": att, "TransitGatewayId": "tgw-00000001", "ResourceType": "vpc",
            "ResourceId": vid, "State": "available", "Association": {"TransitGatewayRouteTableId": "tgw-rtb-00000001", "State": "associated"}}));
        vatt_l.push(json!({"TransitGatewayAttachmentId": att, "TransitGatewayId": "tgw-00000001", "VpcId": vid,
            "State": "available", "SubnetIds": [sids[2], sids[3]]}));
        let mut common = vec![
            json!({"DestinationCidrBlock": format!("{}/20", ip(base)), "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"}),
        ];
        if peer < vpcs {
            common.push(json!({"DestinationCidrBlock": format!("{}/20", ip(vpc_base(peer))), "VpcPeeringConnectionId": pcx, "State": "active", "Origin": "CreateRoute"}));
        }
        common.push(json!({"DestinationCidrBlock": "10.0.0.0/8", "TransitGatewayId": "tgw-00000001", "State": "active", "Origin": "CreateRoute"}));
        common.push(json!({"DestinationPrefixListId": format!("pl-{:08x}", v % PREFIX_LISTS), "TransitGatewayId": "tgw-00000001", "State": "active", "Origin": "CreateRoute"}));
        let mut public = common.clone();
        public.push(json!({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active", "Origin": "CreateRoute"}));
        let mut private = common;
        private.push(json!({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active", "Origin": "CreateRoute"}));
        rt_l.push(
            json!({"RouteTableId": format!("rtb-{v:07x}a"), "VpcId": vid, "Routes": public,
            "Associations": [{"Main": true}, {"SubnetId": sids[0]}, {"SubnetId": sids[1]}]}),
        );
        rt_l.push(
            json!({"RouteTableId": format!("rtb-{v:07x}b"), "VpcId": vid, "Routes": private,
            "Associations": [{"SubnetId": sids[2]}, {"SubnetId": sids[3]}]}),
        );
        // NACLs: the default allows all; the private subnets' one denies a few things first.
        let entry = |n: i64,
                     egress: bool,
                     allow: bool,
                     proto: &str,
                     cidr: &str,
                     pr: Option<(i64, i64)>| {
            let mut e = json!({"RuleNumber": n, "Egress": egress, "RuleAction": if allow { "allow" } else { "deny" },
                "Protocol": proto, "CidrBlock": cidr});
            if let Some((a, b)) = pr {
                e["PortRange"] = json!({"From": a, "To": b});
            }
            e
        };
        acl_l.push(json!({"NetworkAclId": format!("acl-{v:07x}a"), "VpcId": vid, "IsDefault": true,
            "Associations": [{"SubnetId": sids[0]}, {"SubnetId": sids[1]}],
            "Entries": [entry(100, false, true, "-1", "0.0.0.0/0", None), entry(100, true, true, "-1", "0.0.0.0/0", None),
                        entry(32767, false, false, "-1", "0.0.0.0/0", None), entry(32767, true, false, "-1", "0.0.0.0/0", None)]}));
        acl_l.push(
            json!({"NetworkAclId": format!("acl-{v:07x}b"), "VpcId": vid, "IsDefault": false,
            "Associations": [{"SubnetId": sids[2]}, {"SubnetId": sids[3]}],
            "Entries": [entry(50, false, false, "6", "0.0.0.0/0", Some((23, 23))),
                        entry(60, false, false, "6", "198.51.100.0/24", None),
                        entry(70, false, true, "6", "10.0.0.0/8", Some((0, 65535))),
                        entry(80, false, true, "17", "10.0.0.0/8", Some((53, 53))),
                        entry(90, false, false, "6", "0.0.0.0/0", Some((3389, 3389))),
                        entry(100, false, true, "6", "0.0.0.0/0", Some((1024, 65535))),
                        entry(110, false, true, "6", "0.0.0.0/0", Some((443, 443))),
                        entry(120, false, true, "17", "0.0.0.0/0", Some((1024, 65535))),
                        entry(100, true, true, "-1", "0.0.0.0/0", None)]}),
        );
        // Security groups: 5-40 rules each.
        let gids: Vec<String> = (0..SGS_PER_VPC)
            .map(|g| format!("sg-{v:06x}{g:02x}"))
            .collect();
        for gid in &gids {
            let n = 5 + r.below(36) as usize;
            let mut perms = Vec::new();
            for _ in 0..n {
                let (from, to) = *r.pick(&ports);
                let proto = if r.below(10) < 8 { "tcp" } else { "udp" };
                let mut p = json!({"IpProtocol": proto, "FromPort": from, "ToPort": to});
                match r.below(10) {
                    0..=3 => {
                        p["IpRanges"] = json!([{"CidrIp": format!("{}/24", ip(0x0A00_0000 + ((r.below(1 << 16) as u32) << 8)))}])
                    }
                    4 => p["IpRanges"] = json!([{"CidrIp": "0.0.0.0/0"}]),
                    5..=6 => p["UserIdGroupPairs"] = json!([{"GroupId": r.pick(&gids)}]),
                    7 => {
                        p["PrefixListIds"] = json!([{"PrefixListId": format!("pl-{:08x}", r.below(PREFIX_LISTS as u64))}])
                    }
                    _ => {
                        p["IpRanges"] =
                            json!([{"CidrIp": format!("{}/16", ip(base & 0xFFFF_0000))}])
                    }
                }
                perms.push(p);
            }
            sg_l.push(json!({"GroupId": gid, "GroupName": gid, "VpcId": vid, "IpPermissions": perms,
                "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}));
        }
        for (s, sid) in sids.iter().enumerate() {
            for e in 0..ENIS_PER_SUBNET {
                let id = format!("eni-{v:06x}{s:01x}{e:01x}");
                let addr = ip(base + ((s as u32) << 8) + 10 + e as u32);
                let mut pip = json!({"Primary": true, "PrivateIpAddress": addr});
                if s < 2 && e % 2 == 0 {
                    let p = ip(next_public);
                    next_public += 1;
                    pip["Association"] = json!({"PublicIp": p});
                    public_ips.push(p);
                }
                let groups: Vec<Value> = (0..1 + r.below(3))
                    .map(|_| json!({"GroupId": r.pick(&gids)}))
                    .collect();
                eni_l.push(json!({"NetworkInterfaceId": id, "SubnetId": sid, "VpcId": vid, "InterfaceType": "interface",
                    "PrivateIpAddress": addr, "PrivateIpAddresses": [pip], "Groups": groups, "SourceDestCheck": true,
                    "Status": "in-use", "AvailabilityZone": if s % 2 == 0 { "us-east-1a" } else { "us-east-1b" },
                    "Attachment": {"InstanceId": format!("i-{v:06x}{s:01x}{e:01x}"), "DeviceIndex": 0, "Status": "attached"}}));
                eni_ids.push(id);
            }
        }
    }
    let props: Vec<Value> = (0..vpcs)
        .map(|v| json!({"TransitGatewayAttachmentId": format!("tgw-attach-{v:08x}"), "ResourceId": format!("vpc-{v:08x}"),
                        "ResourceType": "vpc", "State": "enabled"}))
        .collect();
    let docs = vec![
        ("Vpcs.json".into(), json!({"Vpcs": vpc_l})),
        ("Subnets.json".into(), json!({"Subnets": subnet_l})),
        ("RouteTables.json".into(), json!({"RouteTables": rt_l})),
        (
            "SecurityGroups.json".into(),
            json!({"SecurityGroups": sg_l}),
        ),
        ("NetworkAcls.json".into(), json!({"NetworkAcls": acl_l})),
        (
            "NetworkInterfaces.json".into(),
            json!({"NetworkInterfaces": eni_l}),
        ),
        (
            "InternetGateways.json".into(),
            json!({"InternetGateways": igw_l}),
        ),
        ("NatGateways.json".into(), json!({"NatGateways": nat_l})),
        (
            "VpcPeeringConnections.json".into(),
            json!({"VpcPeeringConnections": pcx_l}),
        ),
        (
            "ManagedPrefixLists.json".into(),
            json!({"PrefixLists": pls}),
        ),
        (
            "TransitGateways.json".into(),
            json!({"TransitGateways": [{"TransitGatewayId": "tgw-00000001", "State": "available",
            "Options": {"AmazonSideAsn": 64512, "AssociationDefaultRouteTableId": "tgw-rtb-00000001"}}]}),
        ),
        (
            "TransitGatewayAttachments.json".into(),
            json!({"TransitGatewayAttachments": att_l}),
        ),
        (
            "TransitGatewayVpcAttachments.json".into(),
            json!({"TransitGatewayVpcAttachments": vatt_l}),
        ),
        (
            "TransitGatewayRouteTables.json".into(),
            json!({"TransitGatewayRouteTables": [{"TransitGatewayRouteTableId": "tgw-rtb-00000001",
            "TransitGatewayId": "tgw-00000001", "State": "available", "DefaultAssociationRouteTable": true}]}),
        ),
        (
            "TransitGatewayPropagations.json".into(),
            json!({"TransitGatewayPropagations": [{"TransitGatewayRouteTableId": "tgw-rtb-00000001",
            "TransitGatewayRouteTablePropagations": props}]}),
        ),
    ];
    Gen {
        docs,
        eni_ids,
        public_ips,
    }
}

/// CPU time of this thread in seconds (`/proc/thread-self/schedstat`; 0 where absent): on a
/// shared machine it says what one core does, the wall time what this run got.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let vpcs = arg(&args, "--vpcs", 1000);
    let queries = arg(&args, "--queries", 1000);
    let packets = arg(&args, "--packets", 2_000_000);
    let mut tsv = String::new();

    let t = Instant::now();
    let g = generate(vpcs, 0x5EED);
    let gen_s = t.elapsed().as_secs_f64();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("flowwatch-bench-net-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("aws_configs/us-east-1")).unwrap();
    let mut bytes = 0usize;
    for (name, v) in &g.docs {
        let text = serde_json::to_string(v).unwrap();
        bytes += text.len();
        std::fs::write(dir.join("aws_configs/us-east-1").join(name), text).unwrap();
    }
    eprintln!(
        "[bench_net] generated {} VPCs in {gen_s:.2} s, {:.1} MB of JSON in {}",
        vpcs,
        bytes as f64 / 1e6,
        dir.display()
    );

    // ---- load (best and median of 3)
    let mut loads = Vec::new();
    let mut load_cpu = Vec::new();
    let mut snap = None;
    for _ in 0..3 {
        let t = Instant::now();
        let c = cpu_s();
        let (s, problems) = Snapshot::load(&dir);
        loads.push(t.elapsed().as_secs_f64());
        load_cpu.push(cpu_s() - c);
        let errors = problems
            .iter()
            .filter(|p| p.severity >= flowwatch_net::Severity::Warning)
            .count();
        if errors > 0 {
            eprintln!(
                "[bench_net] {errors} load warnings/errors, first: {}",
                problems
                    .iter()
                    .find(|p| p.severity >= flowwatch_net::Severity::Warning)
                    .unwrap()
            );
        }
        snap = Some(s);
    }
    let s = snap.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    loads.sort_by(f64::total_cmp);
    load_cpu.sort_by(f64::total_cmp);
    let sg_rules: usize = s
        .security_groups
        .iter()
        .map(|g| g.ingress.len() + g.egress.len())
        .sum();
    eprintln!(
        "[bench_net] loaded: {} VPCs, {} subnets, {} ENIs, {} SGs ({} rules), {} NACLs, {} route tables, {} peerings, {} TGW attachments",
        s.vpcs.len(),
        s.subnets.len(),
        s.enis.len(),
        s.security_groups.len(),
        sg_rules,
        s.nacls.len(),
        s.route_tables.len(),
        s.peerings.len(),
        s.tgw_attachments.len()
    );

    // ---- reach: random pairs (80% ENI -> ENI anywhere, 20% internet -> public address)
    let mut r = Rng(42);
    let ports = [22u16, 80, 443, 3306, 5432, 8080, 6379, 3389];
    let qs: Vec<Query> = (0..queries)
        .map(|i| {
            let port = *r.pick(&ports);
            if i % 5 == 4 && !g.public_ips.is_empty() {
                Query::new("203.0.113.7", r.pick(g.public_ips.as_slice()).as_str()).port(port)
            } else {
                Query::new(
                    r.pick(g.eni_ids.as_slice()).as_str(),
                    r.pick(g.eni_ids.as_slice()).as_str(),
                )
                .port(port)
            }
        })
        .collect();
    let mut times = Vec::with_capacity(qs.len());
    let mut found = 0usize;
    for q in &qs {
        let t = Instant::now();
        let a = reach(&s, q);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found += usize::from(a.network_path_found);
    }
    times.sort_by(f64::total_cmp);
    let (med, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));

    // ---- internet-exposed over the whole snapshot
    let scope = Scope::builtin("internet-exposed").unwrap();
    let t = Instant::now();
    let c = cpu_s();
    let findings = access::analyze(&s, &scope);
    let scope_s = t.elapsed().as_secs_f64();
    let scope_cpu = cpu_s() - c;
    let ssh = Scope::builtin("ssh-rdp-from-internet").unwrap();
    let t = Instant::now();
    let ssh_findings = access::analyze(&s, &ssh);
    let ssh_s = t.elapsed().as_secs_f64();

    // ---- per-packet SG + NACL evaluation (what `explain` does per record)
    let cand: Vec<(
        flowwatch_net::EniIdx,
        flowwatch_net::NaclIdx,
        flowwatch_net::Addr,
    )> = s
        .enis
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let n = e.subnet.and_then(|si| s.subnet(si).nacl)?;
            Some((flowwatch_net::EniIdx(i as u32), n, e.primary_ip()?))
        })
        .collect();
    let pk: Vec<(flowwatch_net::EniIdx, flowwatch_net::NaclIdx, Packet)> = (0..packets
        .min(1 << 20))
        .map(|_| {
            let (e, n, dst) = *r.pick(&cand);
            let src = if r.below(2) == 0 {
                flowwatch_net::Addr::v4(0x0A00_0000 + r.below(1 << 22) as u32)
            } else {
                flowwatch_net::Addr::v4(r.next() as u32)
            };
            let p = if r.below(10) < 8 {
                Packet::tcp(src, 40000 + r.below(20000) as u16, dst, *r.pick(&ports))
            } else {
                Packet::udp(src, 40000, dst, 53)
            };
            (e, n, p)
        })
        .collect();
    let run = |pk: &[(flowwatch_net::EniIdx, flowwatch_net::NaclIdx, Packet)]| {
        let mut allowed = 0usize;
        let mut done = 0usize;
        let t = Instant::now();
        let c = cpu_s();
        while done < packets {
            for (e, n, p) in pk {
                let sg = s.eval_security_groups(*e, Direction::Ingress, p);
                let acl = s.eval_nacl(*n, Direction::Ingress, p);
                allowed += usize::from(sg.allowed() && acl.allow);
                done += 1;
                if done >= packets {
                    break;
                }
            }
        }
        (
            packets as f64 / t.elapsed().as_secs_f64(),
            packets as f64 / (cpu_s() - c).max(1e-9),
            allowed,
        )
    };
    let (eval_rate, eval_cpu_rate, allowed) = run(&pk);
    // Flow logs arrive per ENI (one log stream per interface): the same packets in that order.
    let mut by_eni = pk.clone();
    by_eni.sort_by_key(|(e, _, _)| *e);
    let (eval_eni_rate, eval_eni_cpu_rate, _) = run(&by_eni);

    let met = |ok: bool| if ok { "**met**" } else { "**not met**" };
    println!("| what | value | target | AWS, documented |");
    println!("|---|---:|---|---|");
    println!(
        "| `Snapshot::load` ({} VPCs, {} ENIs, {} SGs / {} rules, {:.0} MB JSON; median of 3) | {:.2} s CPU (wall {:.2} s) | < 2 s {} | – |",
        s.vpcs.len(),
        s.enis.len(),
        s.security_groups.len(),
        sg_rules,
        bytes as f64 / 1e6,
        load_cpu[1],
        loads[1],
        met(load_cpu[1] < 2.0)
    );
    println!(
        "| single `reach` query ({queries} random pairs, 20% from the internet; {found} reachable) | median {med:.3} ms, p99 {p99:.3} ms (wall) | < 10 ms {} | Reachability Analyzer: minutes per analysis |",
        met(p99 < 10.0)
    );
    println!(
        "| `internet-exposed` scope over the whole snapshot ({} findings) | {scope_cpu:.2} s CPU (wall {scope_s:.2} s) | < 10 s {} | Network Access Analyzer: minutes per analysis |",
        findings.len(),
        met(scope_cpu < 10.0)
    );
    println!(
        "| `ssh-rdp-from-internet` scope ({} findings) | {ssh_s:.2} s (wall) | – | – |",
        ssh_findings.len()
    );
    println!(
        "| `eval_security_groups` + `eval_nacl` per packet, a random ENI each ({packets} packets cycling over 65,536; {:.0}% allowed) | {:.2} M/s CPU (wall {:.2} M/s) | > 1 M/s {} | – |",
        100.0 * allowed as f64 / packets as f64,
        eval_cpu_rate / 1e6,
        eval_rate / 1e6,
        met(eval_cpu_rate > 1e6)
    );
    println!(
        "| the same packets in ENI order (flow-log streams are per ENI) | {:.2} M/s CPU (wall {:.2} M/s) | > 1 M/s {} | – |",
        eval_eni_cpu_rate / 1e6,
        eval_eni_rate / 1e6,
        met(eval_eni_cpu_rate > 1e6)
    );
    for (k, v) in [
        ("vpcs", s.vpcs.len().to_string()),
        ("enis", s.enis.len().to_string()),
        ("security_groups", s.security_groups.len().to_string()),
        ("sg_rules", sg_rules.to_string()),
        ("json_bytes", bytes.to_string()),
        ("load_s.median", format!("{:.3}", loads[1])),
        ("load_s.best", format!("{:.3}", loads[0])),
        ("load_cpu_s.median", format!("{:.3}", load_cpu[1])),
        ("reach_ms.median", format!("{med:.4}")),
        ("reach_ms.p99", format!("{p99:.4}")),
        ("reach.found", found.to_string()),
        ("reach.queries", queries.to_string()),
        ("internet_exposed_s", format!("{scope_s:.3}")),
        ("internet_exposed_cpu_s", format!("{scope_cpu:.3}")),
        ("internet_exposed.findings", findings.len().to_string()),
        ("ssh_rdp_s", format!("{ssh_s:.3}")),
        ("ssh_rdp.findings", ssh_findings.len().to_string()),
        ("eval.packets_per_s", format!("{eval_rate:.0}")),
        ("eval.packets_per_cpu_s", format!("{eval_cpu_rate:.0}")),
        (
            "eval.eni_order.packets_per_s",
            format!("{eval_eni_rate:.0}"),
        ),
        (
            "eval.eni_order.packets_per_cpu_s",
            format!("{eval_eni_cpu_rate:.0}"),
        ),
    ] {
        let _ = writeln!(tsv, "TSV\t{k}\t{v}");
    }
    print!("{tsv}");
}
