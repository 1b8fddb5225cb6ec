//! The story of the demo day: which conversations happen when, drawn from one seeded RNG.
//!
//! Every generator below consumes the RNG in a fixed order, so a seed fixes the whole day.
//! [`internet`] holds what comes from outside (web clients, health checks, scanners), [`private`]
//! what the private instances do (app tier, database, DNS, NAT, S3, the peering story). This file
//! holds the shared context, the leg shapes for each network path, and the NODATA/SKIPDATA
//! records that fill in around the traffic.

mod internet;
mod private;

use std::net::Ipv4Addr;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub(crate) use internet::HEAVY_SCANNERS;

use crate::env::{Environment, NAT, WEB};
use crate::record::{Direction, Record, Status};
use crate::traffic::{Close, Conv, DAY, Leg, Meter, WINDOW};

/// traffic-path codes used by the demo (spec §1.4).
pub(crate) const PATH_SAME_VPC: u8 = 1;
pub(crate) const PATH_PEERING: u8 = 4;
pub(crate) const PATH_GATEWAY_ENDPOINT: u8 = 7;
pub(crate) const PATH_IGW: u8 = 8;

/// Generate every record of the day, sorted by `end` then interface.
pub(crate) fn build(env: &Environment, day0: i64, seed: u64, scale: f64) -> Vec<Record> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let phases = (0..env.interfaces.len())
        .map(|_| rng.random_range(0..WINDOW))
        .collect();
    let mut ctx = Ctx {
        rng,
        env,
        day0,
        scale,
        meter: Meter::new(day0, phases),
    };

    internet::web_clients(&mut ctx);
    internet::health_checks(&mut ctx);
    internet::scanners(&mut ctx);
    private::app_tier(&mut ctx);
    private::dns(&mut ctx);
    private::worker(&mut ctx);
    private::s3(&mut ctx);
    private::peering(&mut ctx);
    ctx.skip_data();
    ctx.no_data();

    let mut records = ctx.meter.records;
    // Stable: records of one end second keep their generation order per interface.
    records.sort_by_key(|r| (r.end, r.eni));
    records
}

/// What every generator works with.
pub(crate) struct Ctx<'a> {
    pub rng: SmallRng,
    pub env: &'a Environment,
    pub day0: i64,
    pub scale: f64,
    pub meter: Meter,
}

impl Ctx<'_> {
    /// `base × scale`, rounded up or down at random so that fractions add up over the day.
    pub(crate) fn count(&mut self, base: f64) -> u32 {
        let x = (base * self.scale).max(0.0);
        let whole = x.floor();
        let extra = self.rng.random::<f64>() < x - whole;
        whole as u32 + u32::from(extra)
    }

    /// A random second within minute `minute` of the day.
    pub(crate) fn second_in(&mut self, minute: i64) -> i64 {
        self.day0 + minute * 60 + self.rng.random_range(0..60)
    }

    /// A Linux ephemeral port.
    pub(crate) fn ephemeral(&mut self) -> u16 {
        self.rng.random_range(32768..=60999)
    }

    /// A value in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.random_range(lo..=hi)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Meter a conversation, cut at the end of the day (a connection still open at midnight
    /// continues in tomorrow's logs).
    pub(crate) fn add(&mut self, mut conv: Conv) {
        let last = self.day0 + DAY - 1;
        if conv.start > last {
            return;
        }
        if conv.end > last {
            conv.end = last;
            conv.close = Close::Open;
        }
        self.meter.add(&conv);
    }

    /// Internet host → interface through the internet gateway: the interface sees its private
    /// address as the destination.
    pub(crate) fn inbound(
        &self,
        eni: u8,
        client: (Ipv4Addr, u16),
        port: u16,
        client_service: Option<&'static str>,
    ) -> Vec<Leg> {
        let local = (self.env.ip(eni), port);
        vec![Leg::direct(
            eni,
            Direction::Ingress,
            client,
            local,
            (client_service, None),
            Some(PATH_IGW),
        )]
    }

    /// Interface `a` calls interface `b` inside the account: a leg on each side.
    pub(crate) fn internal(&self, a: (u8, u16), b: (u8, u16), path: Option<u8>) -> Vec<Leg> {
        let from = (self.env.ip(a.0), a.1);
        let to = (self.env.ip(b.0), b.1);
        vec![
            Leg::direct(a.0, Direction::Egress, from, to, (None, None), path),
            Leg::direct(b.0, Direction::Ingress, from, to, (None, None), path),
        ]
    }

    /// A private instance reaches an internet host through the NAT gateway (spec §8A): the
    /// instance sees the real peer; the NAT interface records the instance side with its own
    /// address in dstaddr/srcaddr and the real peer in pkt-dstaddr/pkt-srcaddr, and the internet
    /// side with its own address and the translated source port.
    pub(crate) fn via_nat(
        &mut self,
        client: (u8, u16),
        remote: (Ipv4Addr, u16),
        remote_service: Option<&'static str>,
    ) -> Vec<Leg> {
        let nat_ip = self.env.ip(NAT);
        let nat_port = self.rng.random_range(1024..=65535);
        let from = (self.env.ip(client.0), client.1);
        let services = (None, remote_service);
        vec![
            // The instance's route to 0.0.0.0/0 points at the NAT gateway's interface in the VPC.
            Leg::direct(
                client.0,
                Direction::Egress,
                from,
                remote,
                services,
                Some(PATH_SAME_VPC),
            ),
            Leg {
                eni: NAT,
                dir: Direction::Ingress,
                src: from.0,
                dst: nat_ip,
                sport: from.1,
                dport: remote.1,
                pkt_src: from.0,
                pkt_dst: remote.0,
                src_service: None,
                dst_service: remote_service,
                // The reply leaves the NAT interface towards the instance.
                traffic_path: Some(PATH_SAME_VPC),
            },
            Leg::direct(
                NAT,
                Direction::Egress,
                (nat_ip, nat_port),
                remote,
                services,
                Some(PATH_IGW),
            ),
        ]
    }

    /// SKIPDATA: twice in the afternoon peak the web interface's capture overflows; most of that
    /// window's records are lost and one SKIPDATA record stands for them.
    fn skip_data(&mut self) {
        for _ in 0..2 {
            let k = self.rng.random_range(13 * 60..20 * 60);
            let ws = self.meter.window_start(WEB, k);
            let Ctx { rng, meter, .. } = self;
            meter.records.retain(|r| {
                r.eni != WEB || r.start < ws || r.start >= ws + WINDOW || rng.random_bool(0.4)
            });
            self.meter
                .push_status(WEB, k, ws + WINDOW - 1, Status::SkipData);
        }
    }

    /// NODATA: every whole window of the day in which an interface saw nothing.
    fn no_data(&mut self) {
        let day_end = self.day0 + DAY;
        for eni in 0..self.env.interfaces.len() {
            let Ok(eni) = u8::try_from(eni) else { continue };
            let mut k = 0;
            while self.meter.window_start(eni, k) + WINDOW <= day_end {
                if !self.meter.is_busy(eni, k) {
                    let end = self.meter.window_start(eni, k) + self.rng.random_range(55..WINDOW);
                    self.meter.push_status(eni, k, end, Status::NoData);
                }
                k += 1;
            }
        }
    }
}

/// Load of the day at `minute`, from 0.25 at 04:00 UTC to 1.0 at 16:00 UTC (US daytime).
pub(crate) fn diurnal(minute: i64) -> f64 {
    let hours = minute as f64 / 60.0;
    let phase = 2.0 * std::f64::consts::PI * (hours - 4.0) / 24.0;
    0.25 + 0.75 * (0.5 - 0.5 * phase.cos())
}

/// Minutes in the day.
pub(crate) const MINUTES: i64 = DAY / 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_curve_has_its_night_low_and_afternoon_peak() {
        assert!((diurnal(4 * 60) - 0.25).abs() < 1e-9);
        assert!((diurnal(16 * 60) - 1.0).abs() < 1e-9);
        assert!((0..MINUTES).all(|m| (0.25..=1.0).contains(&diurnal(m))));
    }
}
