//! Connection planning: every connection the traffic file opens, in traffic-file order, each
//! entry drawing from its own random stream. The draws never depend on the snapshot: a
//! connection's time, ports and source port are drawn first, then its endpoints are taken from
//! the phase in force at that time, so the same seed gives the same connections whatever the
//! configuration.

use flowwatch_net::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP};
use flowwatch_net::{Addr, EniIdx, Packet, Snapshot};

use crate::error::{Result, SimError};
use crate::phase::Phases;
use crate::record::Options;
use crate::rng::Rng;
use crate::traffic::{Schedule, SourcePort, Traffic};

/// A resolved traffic-file endpoint (indexes into one phase's snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Eni(EniIdx),
    /// An ENI's public address (as a destination: reached through the IGW).
    Public(EniIdx, Addr),
    Internet(Addr),
}

/// One connection to play.
pub(crate) struct Conn {
    pub entry: usize,
    /// Absolute seconds.
    pub t: i64,
    /// The phase in force at `t`.
    pub phase: usize,
    pub src: End,
    pub dst_addr: Addr,
    pub packet: Packet,
    pub packets: u64,
    pub bytes: u64,
    pub reply_packets: u64,
    pub reply_bytes: u64,
    pub seconds: i64,
}

/// An entry's endpoints in one phase.
#[derive(Clone, Copy)]
struct Ends {
    src: End,
    src_addr: Addr,
    dst_addr: Addr,
}

/// How an entry names its endpoints in error messages.
struct Labels<'t> {
    source: &'t str,
    destination: &'t str,
    /// `destination` or `target`.
    dst_key: &'static str,
    /// What a source without an address lacks (`private address` for flows).
    src_lacks: &'static str,
}

pub(crate) fn resolve(s: &Snapshot, text: &str) -> Result<End, String> {
    let t = text.trim();
    if let Some(a) = Addr::parse(t) {
        if let Some((e, _)) = s.eni_by_public_ip(a) {
            return Ok(End::Public(e, a));
        }
        if let Some(e) = s.eni_by_any_private_ip(a) {
            return Ok(End::Eni(e));
        }
        return Ok(End::Internet(a));
    }
    s.eni_idx(t).map(End::Eni).ok_or_else(|| {
        format!(
            "'{t}': expected an instance id, ENI id or IP address; no such resource in the snapshot"
        )
    })
}

fn source_addr(s: &Snapshot, e: End) -> Option<Addr> {
    match e {
        End::Eni(i) | End::Public(i, _) => s.eni(i).primary_ip(),
        End::Internet(a) => Some(a),
    }
}

fn destination_addr(s: &Snapshot, src: End, dst: End) -> Option<Addr> {
    match dst {
        End::Internet(a) | End::Public(_, a) => Some(a),
        End::Eni(e) => {
            let eni = s.eni(e);
            let private = eni.primary_ip()?;
            match src {
                End::Internet(_) => Some(eni.public_ip_of(private).unwrap_or(private)),
                _ => Some(private),
            }
        }
    }
}

fn ends(s: &Snapshot, l: &Labels<'_>, ctx: &str) -> Result<Ends, String> {
    let src = resolve(s, l.source).map_err(|m| format!("source {m}{ctx}"))?;
    let dst = resolve(s, l.destination).map_err(|m| format!("{} {m}{ctx}", l.dst_key))?;
    let src_addr = source_addr(s, src)
        .ok_or_else(|| format!("source '{}' has no {}{ctx}", l.source, l.src_lacks))?;
    let dst_addr = destination_addr(s, src, dst)
        .ok_or_else(|| format!("{} '{}' has no address{ctx}", l.dst_key, l.destination))?;
    Ok(Ends {
        src,
        src_addr,
        dst_addr,
    })
}

/// An entry's endpoints in every phase its schedule overlaps (absolute `span`); an entry that is
/// never active is still resolved in the phase in force at the start, so a typo is an error.
fn resolve_entry(
    phases: &Phases<'_, '_>,
    span: Option<(i64, i64)>,
    t0: i64,
    l: &Labels<'_>,
) -> Result<Vec<Option<Ends>>, String> {
    let wanted = match span {
        Some((a, b)) => phases.overlapping(t0 + a, t0 + b),
        None => vec![phases.at(t0)],
    };
    let mut out = vec![None; phases.list.len()];
    for pi in wanted {
        let e = ends(phases.snapshot(pi), l, &phases.context(pi))?;
        if let Some(slot) = out.get_mut(pi) {
            *slot = Some(e);
        }
    }
    Ok(out)
}

pub(crate) fn active_span(sch: Schedule, total: i64) -> Option<(i64, i64)> {
    let s0 = i64::try_from(sch.start).unwrap_or(i64::MAX).min(total);
    let s1 = sch
        .end
        .map_or(total, |e| i64::try_from(e).unwrap_or(i64::MAX).min(total));
    (s1 > s0).then_some((s0, s1))
}

fn count_connections(rate: f64, span: (i64, i64)) -> u64 {
    let n = rate * (span.1 - span.0) as f64 / 60.0;
    if n.is_finite() {
        n.ceil() as u64
    } else {
        u64::MAX
    }
}

fn icmp_packet(src: Addr, dst: Addr) -> Packet {
    Packet::icmp(src, dst, if src.v6 { 128 } else { 8 }, 0)
}

/// Every connection of `traffic` over `[t0, t0 + total)`, and the entries' names (flows, then
/// scanners).
pub(crate) fn plan(
    phases: &Phases<'_, '_>,
    traffic: &Traffic,
    t0: i64,
    total: i64,
    opts: &Options,
) -> Result<(Vec<Conn>, Vec<String>)> {
    let mut conns: Vec<Conn> = Vec::new();
    let mut names = Vec::new();
    let mut planned = 0u64;
    let too_many = || {
        format!(
            "the traffic file opens more than {} connections; lower the rate or the duration",
            opts.max_connections
        )
    };
    // Not reachable: a connection's phase overlaps its entry's span, where it was resolved.
    let unresolved = |pi: usize| format!("endpoints not resolved in phase {}", pi + 1);
    for (fi, f) in traffic.flows.iter().enumerate() {
        names.push(f.name.clone());
        let err = |m: String| SimError::traffic(f.line, format!("flow '{}': {m}", f.name));
        let labels = Labels {
            source: &f.source,
            destination: &f.destination,
            dst_key: "destination",
            src_lacks: "private address",
        };
        let span = active_span(f.schedule, total);
        let ends = resolve_entry(phases, span, t0, &labels).map_err(err)?;
        let Some(span) = span else {
            continue;
        };
        planned = planned.saturating_add(count_connections(f.rate, span));
        if planned > opts.max_connections {
            return Err(err(too_many()));
        }
        let mut rng = Rng::new(opts.seed, fi as u64);
        let period = 60.0 / f.rate;
        let n = count_connections(f.rate, span);
        for k in 0..n {
            let t = span.0 as f64 + (k as f64 + rng.unit()) * period;
            let t = t.floor() as i64;
            if t >= span.1 {
                continue;
            }
            let dport = rng.range(f.ports.0, f.ports.1);
            let sport = match f.source_port {
                SourcePort::Ephemeral => rng.range(49152, 65535),
                SourcePort::Range(a, b) => rng.range(a, b),
            };
            let phase = phases.at(t0 + t);
            let e = ends
                .get(phase)
                .copied()
                .flatten()
                .ok_or_else(|| err(unresolved(phase)))?;
            let packet = match f.protocol {
                PROTO_ICMP | PROTO_ICMPV6 => icmp_packet(e.src_addr, e.dst_addr),
                proto => {
                    let mut p = Packet::new(proto, e.src_addr, e.dst_addr);
                    if p.has_ports() {
                        p.src_port = sport;
                        p.dst_port = dport;
                    }
                    p
                }
            };
            conns.push(Conn {
                entry: fi,
                t: t0 + t,
                phase,
                src: e.src,
                dst_addr: e.dst_addr,
                packet,
                packets: f.packets,
                bytes: f.bytes,
                reply_packets: f.reply_packets,
                reply_bytes: f.reply_bytes,
                seconds: i64::from(f.connection_seconds),
            });
        }
    }
    for (si, sc) in traffic.scanners.iter().enumerate() {
        let entry = traffic.flows.len() + si;
        names.push(sc.name.clone());
        let err = |m: String| SimError::traffic(sc.line, format!("scanner '{}': {m}", sc.name));
        let labels = Labels {
            source: &sc.source,
            destination: &sc.target,
            dst_key: "target",
            src_lacks: "address",
        };
        let span = active_span(sc.schedule, total);
        let ends = resolve_entry(phases, span, t0, &labels).map_err(err)?;
        let Some(span) = span else {
            continue;
        };
        planned = planned.saturating_add(count_connections(sc.rate, span));
        if planned > opts.max_connections {
            return Err(err(too_many()));
        }
        let mut rng = Rng::new(opts.seed, entry as u64);
        let period = 60.0 / sc.rate;
        let n = count_connections(sc.rate, span);
        let width = u64::from(sc.ports.1.saturating_sub(sc.ports.0)) + 1;
        for k in 0..n {
            let t = (span.0 as f64 + (k as f64 + rng.unit()) * period).floor() as i64;
            if t >= span.1 {
                continue;
            }
            let dport = sc
                .ports
                .0
                .saturating_add(u16::try_from(k % width).unwrap_or(0));
            let sport = rng.range(32768, 60999);
            let phase = phases.at(t0 + t);
            let e = ends
                .get(phase)
                .copied()
                .flatten()
                .ok_or_else(|| err(unresolved(phase)))?;
            let mut p = Packet::new(sc.protocol, e.src_addr, e.dst_addr);
            p.src_port = sport;
            p.dst_port = dport;
            conns.push(Conn {
                entry,
                t: t0 + t,
                phase,
                src: e.src,
                dst_addr: e.dst_addr,
                packet: p,
                packets: 1,
                bytes: 44,
                reply_packets: u64::from(sc.protocol == PROTO_TCP),
                reply_bytes: 44,
                seconds: 0,
            });
        }
    }
    Ok((conns, names))
}
