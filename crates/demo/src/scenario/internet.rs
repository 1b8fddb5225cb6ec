//! Traffic from the internet to `web`: customers over HTTPS and HTTP, Route 53 health checks,
//! and scanners whose probes the security group rejects.

use std::net::Ipv4Addr;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::{Ctx, MINUTES, diurnal};
use crate::env::WEB;
use crate::record::Action;
use crate::traffic::{Close, Conv, ICMP, TCP, UDP, Volume};

/// New web connections per minute at the afternoon peak (scale 1.0).
const WEB_PEAK_PER_MIN: f64 = 22.0;
/// Distinct customer addresses; a few of them are far busier than the rest.
const CLIENTS: usize = 2500;

/// Scanners that come back several times a day with broad port sweeps. The fourth runs in EC2,
/// so its records carry pkt-src-aws-service `EC2`.
pub(crate) const HEAVY_SCANNERS: [Ipv4Addr; 6] = [
    Ipv4Addr::new(45, 148, 10, 81),
    Ipv4Addr::new(193, 163, 125, 9),
    Ipv4Addr::new(162, 216, 149, 44),
    Ipv4Addr::new(3, 87, 205, 14),
    Ipv4Addr::new(89, 248, 165, 72),
    Ipv4Addr::new(218, 92, 0, 112),
];
const EC2_SCANNER: usize = 3;
/// How many one-off scanners hit `web` besides the heavy ones.
const LIGHT_SCANNERS: usize = 40;

/// Closed TCP ports scanners try, most popular first (22 appears twice: it is probed most).
const TCP_PROBES: [u16; 32] = [
    22, 22, 23, 3389, 445, 8088, 1433, 3306, 5900, 6379, 9200, 8080, 2375, 5432, 25, 21, 111, 8443,
    27017, 11211, 2222, 5985, 7547, 8000, 8888, 9000, 10250, 6443, 4444, 81, 5000, 1521,
];
/// Closed UDP ports scanners try.
const UDP_PROBES: [u16; 6] = [53, 123, 161, 1900, 5060, 11211];

/// Route 53 health checkers (in the ROUTE53_HEALTHCHECKS ranges) polling `https://web/health`.
const HEALTH_CHECKERS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(54, 243, 31, 201),
    Ipv4Addr::new(107, 23, 255, 30),
    Ipv4Addr::new(54, 241, 32, 77),
];

/// First octets for made-up customer and scanner addresses: public unicast, not AWS.
const PUBLIC_FIRST_OCTETS: [u8; 24] = [
    24, 31, 37, 45, 62, 66, 71, 73, 76, 81, 86, 92, 98, 109, 122, 151, 174, 176, 185, 188, 193,
    195, 201, 213,
];

fn public_ip(ctx: &mut Ctx<'_>) -> Ipv4Addr {
    let first = *PUBLIC_FIRST_OCTETS.choose(&mut ctx.rng).unwrap_or(&81);
    Ipv4Addr::new(
        first,
        ctx.rng.random(),
        ctx.rng.random(),
        ctx.rng.random_range(1..=254),
    )
}

/// Customers: mostly short HTTPS exchanges, some keep-alive sessions, a few long downloads and
/// websockets; plain HTTP is almost always a redirect.
pub(crate) fn web_clients(ctx: &mut Ctx<'_>) {
    let clients: Vec<Ipv4Addr> = (0..CLIENTS).map(|_| public_ip(ctx)).collect();
    for minute in 0..MINUTES {
        let noise = 0.75 + 0.5 * ctx.rng.random::<f64>();
        for _ in 0..ctx.count(WEB_PEAK_PER_MIN * diurnal(minute) * noise) {
            // u³ skews the choice towards the start of the list: a few heavy clients.
            let u: f64 = ctx.rng.random();
            let client = clients[((u * u * u) * CLIENTS as f64) as usize % CLIENTS];
            let start = ctx.second_in(minute);
            let sport = ctx.ephemeral();
            let https = ctx.chance(0.88);
            let (duration, request, reply) = if !https {
                let p = ctx.between(4, 6);
                (
                    ctx.between(0, 1),
                    vol(ctx, p, 60, 110),
                    vol(ctx, p, 90, 180),
                )
            } else {
                let class: f64 = ctx.rng.random();
                if class < 0.70 {
                    let (q, r) = (ctx.between(6, 14), ctx.between(6, 30));
                    (
                        ctx.between(0, 3),
                        vol(ctx, q, 90, 350),
                        vol(ctx, r, 500, 1400),
                    )
                } else if class < 0.96 {
                    let (q, r) = (ctx.between(15, 80), ctx.between(20, 400));
                    (
                        ctx.between(5, 120),
                        vol(ctx, q, 90, 300),
                        vol(ctx, r, 700, 1400),
                    )
                } else {
                    let (q, r) = (ctx.between(100, 2000), ctx.between(200, 8000));
                    (
                        ctx.between(120, 1800),
                        vol(ctx, q, 60, 200),
                        vol(ctx, r, 1100, 1448),
                    )
                }
            };
            let close = if ctx.chance(0.04) {
                Close::Rst
            } else {
                Close::Fin
            };
            let port = if https { 443 } else { 80 };
            let legs = ctx.inbound(WEB, (client, sport), port, None);
            ctx.add(Conv {
                protocol: TCP,
                start,
                end: start + duration as i64,
                request,
                reply: Some(reply),
                action: Action::Accept,
                opens: true,
                close,
                legs,
            });
        }
    }
}

/// `packets` packets averaging between `lo` and `hi` bytes each.
pub(crate) fn vol(ctx: &mut Ctx<'_>, packets: u64, lo: u64, hi: u64) -> Volume {
    let per = ctx.between(lo, hi);
    Volume {
        packets,
        bytes: packets * per,
    }
}

/// Route 53 health checks: each checker opens a short TLS connection once a minute.
pub(crate) fn health_checks(ctx: &mut Ctx<'_>) {
    for (i, &checker) in HEALTH_CHECKERS.iter().enumerate() {
        let offset = 7 + 19 * i as i64;
        for minute in 0..MINUTES {
            for _ in 0..ctx.count(1.0) {
                let start = ctx.day0 + minute * 60 + offset + ctx.rng.random_range(0..3);
                let sport = ctx.ephemeral();
                let (request, reply) = (vol(ctx, 8, 100, 140), vol(ctx, 7, 650, 800));
                let legs = ctx.inbound(WEB, (checker, sport), 443, Some("ROUTE53_HEALTHCHECKS"));
                let end = start + ctx.rng.random_range(0..=1);
                ctx.add(Conv {
                    protocol: TCP,
                    start,
                    end,
                    request,
                    reply: Some(reply),
                    action: Action::Accept,
                    opens: true,
                    close: Close::Fin,
                    legs,
                });
            }
        }
    }
}

/// How a scanner behaves: its SYN size and whether it reuses one source port (zmap, masscan).
struct Scanner {
    ip: Ipv4Addr,
    syn_bytes: u64,
    fixed_port: Option<u16>,
    service: Option<&'static str>,
}

/// Scanners: the heavy ones sweep many ports several times a day (the first also hammers SSH);
/// the light ones send a few probes once or twice. Every probe is an ingress REJECT record on
/// `web`: the security group drops it and nothing answers.
pub(crate) fn scanners(ctx: &mut Ctx<'_>) {
    let mut heavy = Vec::new();
    for (i, &ip) in HEAVY_SCANNERS.iter().enumerate() {
        let syn_bytes = [40, 44, 60][i % 3];
        let fixed_port = (i % 2 == 0).then(|| ctx.rng.random_range(40000..=65000));
        let service = (i == EC2_SCANNER).then_some("EC2");
        heavy.push(Scanner {
            ip,
            syn_bytes,
            fixed_port,
            service,
        });
    }
    for (i, scanner) in heavy.iter().enumerate() {
        for _ in 0..ctx.count(10.0 + 2.0 * i as f64) {
            let minute = ctx.rng.random_range(0..MINUTES);
            let mut t = ctx.second_in(minute);
            let mut ports = TCP_PROBES.to_vec();
            ports.dedup();
            ports.shuffle(&mut ctx.rng);
            let n = ctx.rng.random_range(8..=ports.len());
            for &port in &ports[..n] {
                probe(ctx, scanner, t, TCP, port);
                t += ctx.rng.random_range(1..=6);
            }
            if ctx.chance(0.5) {
                probe(ctx, scanner, t, ICMP, 0);
            }
        }
    }
    // The first heavy scanner also tries SSH every few seconds, for an hour, twice a day.
    if let Some(brute) = heavy.first() {
        for _ in 0..ctx.count(2.0) {
            let minute = ctx.rng.random_range(0..MINUTES - 60);
            let mut t = ctx.second_in(minute);
            let until = t + 3600;
            while t < until {
                probe(ctx, brute, t, TCP, 22);
                t += ctx.rng.random_range(5..=40);
            }
        }
    }
    for _ in 0..LIGHT_SCANNERS {
        let scanner = Scanner {
            ip: public_ip(ctx),
            syn_bytes: [40, 44, 60][ctx.rng.random_range(0..3)],
            fixed_port: None,
            service: None,
        };
        for _ in 0..ctx.count(3.0) {
            let minute = ctx.rng.random_range(0..MINUTES);
            let mut t = ctx.second_in(minute);
            for _ in 0..ctx.rng.random_range(1..=6) {
                let kind: f64 = ctx.rng.random();
                if kind < 0.75 {
                    let port = *TCP_PROBES.choose(&mut ctx.rng).unwrap_or(&22);
                    probe(ctx, &scanner, t, TCP, port);
                } else if kind < 0.9 {
                    let port = *UDP_PROBES.choose(&mut ctx.rng).unwrap_or(&53);
                    probe(ctx, &scanner, t, UDP, port);
                } else {
                    probe(ctx, &scanner, t, ICMP, 0);
                }
                t += ctx.rng.random_range(1..=30);
            }
        }
    }
}

/// One rejected probe: a SYN (sometimes retransmitted), a UDP datagram or an echo request.
fn probe(ctx: &mut Ctx<'_>, scanner: &Scanner, t: i64, protocol: u8, port: u16) {
    let sport = scanner.fixed_port.unwrap_or_else(|| ctx.ephemeral());
    let retries = if protocol == TCP && ctx.chance(0.2) {
        1
    } else {
        0
    };
    let per = match protocol {
        TCP => scanner.syn_bytes,
        UDP => ctx.between(40, 120),
        _ => 28 + 8 * ctx.between(0, 7),
    };
    let packets = 1 + retries;
    let legs = ctx.inbound(WEB, (scanner.ip, sport), port, scanner.service);
    ctx.add(Conv {
        protocol,
        start: t,
        end: t + 3 * retries as i64,
        request: Volume {
            packets,
            bytes: packets * per,
        },
        reply: None,
        action: Action::Reject,
        opens: true,
        close: Close::Open,
        legs,
    });
}
