//! What the private side of the environment does: the app tier's persistent connections (web →
//! app-a:8080, app-a → db:5432), DNS to the self-hosted resolver, the worker's internet calls
//! through the NAT gateway, app-a's S3 traffic through the gateway endpoint, and the peering
//! story between app-a and app-b.

use std::net::Ipv4Addr;

use rand::Rng;
use rand::seq::IndexedRandom;

use super::internet::vol;
use super::{Ctx, MINUTES, PATH_GATEWAY_ENDPOINT, PATH_PEERING, PATH_SAME_VPC, diurnal};
use crate::env::{APP_A, APP_B, DB, DNS, WEB, WORKER};
use crate::record::{Action, Direction};
use crate::traffic::{Close, Conv, DAY, ICMP, Leg, TCP, UDP, Volume};

/// A pool of persistent TCP connections from `client` to `server:port`. Each connection lives
/// one to four hours; in each minute it is busy with probability rising with the day's load,
/// and carries a burst whose size follows the load too.
fn pool(ctx: &mut Ctx<'_>, client: u8, server: (u8, u16), connections: f64, burst: (u64, u64)) {
    for _ in 0..ctx.count(connections) {
        let mut sport = ctx.ephemeral();
        let mut opened = false;
        let mut reconnect_at = ctx.rng.random_range(60..240);
        for minute in 0..MINUTES {
            let load = diurnal(minute);
            if minute == reconnect_at {
                if opened {
                    // The pool recycles the connection: a last exchange and FIN.
                    let t = ctx.second_in(minute);
                    let legs = ctx.internal((client, sport), server, Some(PATH_SAME_VPC));
                    let (q, r) = (vol(ctx, 2, 52, 60), vol(ctx, 2, 52, 60));
                    ctx.add(tcp(t, t, q, r, false, Close::Fin, legs));
                }
                sport = ctx.ephemeral();
                opened = false;
                reconnect_at = minute + ctx.rng.random_range(60..240);
                continue;
            }
            if !ctx.chance(0.3 + 0.7 * load) {
                continue;
            }
            let start = ctx.second_in(minute);
            let end = start + ctx.rng.random_range(1..50);
            let packets = (burst.0 as f64 * load * (0.5 + ctx.rng.random::<f64>())) as u64 + 2;
            let request = vol(ctx, packets, 90, 400);
            let reply = vol(ctx, packets + packets / 4, burst.1 / 3, burst.1);
            let legs = ctx.internal((client, sport), server, Some(PATH_SAME_VPC));
            ctx.add(tcp(start, end, request, reply, !opened, Close::Open, legs));
            opened = true;
        }
    }
}

fn tcp(
    start: i64,
    end: i64,
    request: Volume,
    reply: Volume,
    opens: bool,
    close: Close,
    legs: Vec<Leg>,
) -> Conv {
    Conv {
        protocol: TCP,
        start,
        end,
        request,
        reply: Some(reply),
        action: Action::Accept,
        opens,
        close,
        legs,
    }
}

/// web proxies to app-a:8080; app-a queries PostgreSQL on db:5432.
pub(crate) fn app_tier(ctx: &mut Ctx<'_>) {
    pool(ctx, WEB, (APP_A, 8080), 2.0, (60, 1200));
    pool(ctx, APP_A, (DB, 5432), 3.0, (40, 900));
}

/// Public resolvers the self-hosted DNS server forwards cache misses to.
const UPSTREAM_DNS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(1, 1, 1, 1),
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(9, 9, 9, 9),
    Ipv4Addr::new(208, 67, 222, 222),
];

/// Instances in VPC A resolve names through dns:53 (UDP); a fifth of the queries miss the cache
/// and go upstream through the NAT gateway.
pub(crate) fn dns(ctx: &mut Ctx<'_>) {
    let clients = [(WEB, 1.0), (APP_A, 1.2), (WORKER, 0.8), (DB, 0.2)];
    for minute in 0..MINUTES {
        let load = 0.5 + 0.5 * diurnal(minute);
        for &(client, rate) in &clients {
            for _ in 0..ctx.count(rate * load) {
                let t = ctx.second_in(minute);
                let sport = ctx.ephemeral();
                let legs = ctx.internal((client, sport), (DNS, 53), Some(PATH_SAME_VPC));
                let (q, r) = (vol(ctx, 1, 60, 90), vol(ctx, 1, 90, 300));
                ctx.add(udp(t, q, r, legs));
                if ctx.chance(0.2) {
                    let upstream = *UPSTREAM_DNS
                        .choose(&mut ctx.rng)
                        .unwrap_or(&UPSTREAM_DNS[0]);
                    let sport = ctx.ephemeral();
                    let legs = ctx.via_nat((DNS, sport), (upstream, 53), None);
                    let (q, r) = (vol(ctx, 1, 70, 100), vol(ctx, 1, 100, 400));
                    ctx.add(udp(t, q, r, legs));
                }
            }
        }
    }
}

fn udp(t: i64, request: Volume, reply: Volume, legs: Vec<Leg>) -> Conv {
    Conv {
        protocol: UDP,
        start: t,
        end: t,
        request,
        reply: Some(reply),
        action: Action::Accept,
        opens: false,
        close: Close::Open,
        legs,
    }
}

/// Where the worker goes on the internet: code hosting, package mirrors, AWS APIs, a partner API
/// hosted in EC2, an Ubuntu mirror over HTTP and an NTP server.
const WORKER_DESTINATIONS: [(Ipv4Addr, u16, Option<&str>); 7] = [
    (Ipv4Addr::new(140, 82, 112, 3), 443, None),
    (Ipv4Addr::new(151, 101, 0, 223), 443, None),
    (Ipv4Addr::new(104, 16, 29, 34), 443, None),
    (Ipv4Addr::new(52, 94, 233, 131), 443, Some("AMAZON")),
    (Ipv4Addr::new(3, 227, 250, 136), 443, Some("EC2")),
    (Ipv4Addr::new(185, 125, 190, 39), 80, None),
    (Ipv4Addr::new(162, 159, 200, 1), 123, None),
];

/// The private worker calls out through the NAT gateway: records on the worker's interface and
/// on the NAT gateway's.
pub(crate) fn worker(ctx: &mut Ctx<'_>) {
    for minute in 0..MINUTES {
        for _ in 0..ctx.count(2.0 * (0.4 + 0.6 * diurnal(minute))) {
            let (ip, port, service) = *WORKER_DESTINATIONS
                .choose(&mut ctx.rng)
                .unwrap_or(&WORKER_DESTINATIONS[0]);
            let t = ctx.second_in(minute);
            let sport = ctx.ephemeral();
            let legs = ctx.via_nat((WORKER, sport), (ip, port), service);
            if port == 123 {
                let (q, r) = (vol(ctx, 1, 76, 76), vol(ctx, 1, 76, 76));
                ctx.add(udp(t, q, r, legs));
                continue;
            }
            let (q, r) = (ctx.between(8, 40), ctx.between(10, 600));
            let (request, reply) = (vol(ctx, q, 80, 300), vol(ctx, r, 900, 1448));
            let end = t + ctx.rng.random_range(0..20);
            ctx.add(tcp(t, end, request, reply, true, Close::Fin, legs));
        }
    }
}

/// app-a reads and writes S3 through the gateway endpoint (traffic-path 7).
pub(crate) fn s3(ctx: &mut Ctx<'_>) {
    for minute in 0..MINUTES {
        for _ in 0..ctx.count(1.0 * (0.3 + 0.7 * diurnal(minute))) {
            let dst = match ctx.rng.random_range(0..3) {
                0 => Ipv4Addr::new(52, 216, ctx.rng.random(), ctx.rng.random_range(1..255)),
                1 => Ipv4Addr::new(52, 217, ctx.rng.random(), ctx.rng.random_range(1..255)),
                _ => Ipv4Addr::new(
                    3,
                    5,
                    ctx.rng.random_range(0..32),
                    ctx.rng.random_range(1..255),
                ),
            };
            let t = ctx.second_in(minute);
            let sport = ctx.ephemeral();
            let legs = vec![Leg::direct(
                APP_A,
                Direction::Egress,
                (ctx.env.ip(APP_A), sport),
                (dst, 443),
                (None, Some("S3")),
                Some(PATH_GATEWAY_ENDPOINT),
            )];
            let (big, small) = (ctx.between(20, 3000), ctx.between(10, 60));
            let (request, reply) = if ctx.chance(0.4) {
                (vol(ctx, big, 1200, 1448), vol(ctx, small, 52, 120))
            } else {
                (vol(ctx, small, 80, 300), vol(ctx, big, 1200, 1448))
            };
            let end = t + ctx.rng.random_range(0..15);
            ctx.add(tcp(t, end, request, reply, true, Close::Fin, legs));
        }
    }
}

/// app-a pings app-b all day (one echo request a second, 84-byte packets). Until the peering
/// exists, VPC A has no route to 10.1.0.0/16: the request is logged leaving app-a with no
/// traffic-path and nothing reaches app-b, whose interface writes NODATA. From 12:00 both
/// interfaces log request and reply, with traffic-path 4 (intra-region peering) on egress, and
/// app-b starts calling app-a's API.
pub(crate) fn peering(ctx: &mut Ctx<'_>) {
    let noon = ctx.env.peering.active_from;
    let (a, b) = (ctx.env.ip(APP_A), ctx.env.ip(APP_B));
    let start = ctx.day0 + ctx.rng.random_range(0..30);
    let ping = |from: i64, to: i64| Volume {
        packets: (to - from + 1) as u64,
        bytes: (to - from + 1) as u64 * 84,
    };
    let unrouted = Leg::direct(APP_A, Direction::Egress, (a, 0), (b, 0), (None, None), None);
    ctx.add(icmp(
        start,
        noon - 1,
        ping(start, noon - 1),
        None,
        vec![unrouted],
    ));
    let end = ctx.day0 + DAY - 1;
    let legs = ctx.internal((APP_A, 0), (APP_B, 0), Some(PATH_PEERING));
    ctx.add(icmp(
        noon,
        end,
        ping(noon, end),
        Some(ping(noon, end)),
        legs,
    ));

    for minute in (noon - ctx.day0) / 60..MINUTES {
        for _ in 0..ctx.count(0.6 * diurnal(minute)) {
            let t = ctx.second_in(minute);
            let sport = ctx.ephemeral();
            let legs = ctx.internal((APP_B, sport), (APP_A, 8080), Some(PATH_PEERING));
            let (q, r) = (ctx.between(6, 20), ctx.between(6, 40));
            let (request, reply) = (vol(ctx, q, 90, 400), vol(ctx, r, 300, 1400));
            let end = t + ctx.rng.random_range(0..3);
            ctx.add(tcp(t, end, request, reply, true, Close::Fin, legs));
        }
    }
}

fn icmp(start: i64, end: i64, request: Volume, reply: Option<Volume>, legs: Vec<Leg>) -> Conv {
    Conv {
        protocol: ICMP,
        start,
        end,
        request,
        reply,
        action: Action::Accept,
        opens: false,
        close: Close::Open,
        legs,
    }
}
