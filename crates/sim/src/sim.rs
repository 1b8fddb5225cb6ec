//! The simulation: connections from the traffic file ([`crate::plan`]), each walked through the
//! model of the phase in force once per distinct packet (cached), turned into per-ENI
//! observations, aggregated per capture window, thinned by capture losses (SKIPDATA), plus
//! NODATA for the windows in which a logged ENI saw nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use flowwatch_net::packet::PROTO_TCP;
use flowwatch_net::{Addr, Endpoint, Packet, Query, Snapshot, reach};

use crate::error::{Result, SimError};
use crate::loss;
use crate::observe::{Action, FlowDirection, Obs, header_packet, observe};
use crate::phase::{Phase, Phases, logged_interfaces};
use crate::plan::{End, plan};
use crate::record::{
    FlowStats, InterfaceStats, LogStatus, Options, Record, SimOutput, Stats, Traffic5,
};
use crate::rng::Rng;
use crate::service::AwsServices;
use crate::traffic::Traffic;

/// Packet and byte counts stop at what a Parquet INT64 holds, so text and Parquet agree.
const MAX_COUNT: u64 = i64::MAX.unsigned_abs();

/// `pkt-src-aws-service`, `pkt-dst-aws-service` of one crossing.
type Services = (Option<&'static str>, Option<&'static str>);

/// What one distinct request packet does, from `reach`.
#[derive(Clone, Debug)]
struct Outcome {
    fwd: Vec<(Obs, Services)>,
    ret: Vec<(Obs, Services)>,
    established: bool,
}

fn outcome(s: &Snapshot, svc: &AwsServices, src: End, dst_addr: Addr, p: Packet) -> Outcome {
    let mut q = Query::new("internet", "internet").protocol(p.protocol);
    q.source = match src {
        End::Eni(e) | End::Public(e, _) => Endpoint::Id(s.eni(e).id.clone()),
        End::Internet(a) => Endpoint::Ip(a.to_ip()),
    };
    q.source_address = Some(p.src.to_ip());
    q.destination = Endpoint::Ip(dst_addr.to_ip());
    if p.has_ports() {
        q.source_port = Some(p.src_port);
        q.destination_port = Some(p.dst_port);
    } else {
        q.icmp_type = p.icmp_type;
        q.icmp_code = p.icmp_code;
    }
    let a = reach(s, &q);
    let fwd = observe(s, &a.forward_path_components, a.forward_disposition, p);
    let ret = match a.return_disposition {
        Some(d) => {
            // The reply starts from the request as it arrived (after translations).
            let arrived = translated_exit(&a, p);
            observe(s, &a.return_path_components, d, arrived.reversed())
        }
        None => Vec::new(),
    };
    let label = |v: Vec<Obs>| {
        v.into_iter()
            .map(|o| (o, (svc.of(o.packet.src), svc.of(o.packet.dst))))
            .collect()
    };
    Outcome {
        fwd: label(fwd),
        ret: label(ret),
        established: a.network_path_found,
    }
}

/// The request as it left the modelled network (after the last rewrite).
fn translated_exit(a: &flowwatch_net::Analysis, p: Packet) -> Packet {
    a.forward_path_components
        .iter()
        .filter_map(|h| h.outbound_header.as_ref())
        .fold(p, |cur, hd| header_packet(hd, cur))
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    window: i64,
    iface: u32,
    dir: FlowDirection,
    src: Addr,
    dst: Addr,
    sport: u16,
    dport: u16,
    proto: u8,
    pkt_src: Addr,
    pkt_dst: Addr,
    action: Action,
    traffic_path: Option<u8>,
    services: Services,
}

#[derive(Clone, Copy)]
struct Agg {
    packets: u64,
    bytes: u64,
    flags: u8,
    first: i64,
    last: i64,
}

/// Play `traffic` over `snap` from `start` for `duration`: [`simulate_phases`] with one phase.
pub fn simulate(
    snap: &Snapshot,
    traffic: &Traffic,
    start: DateTime<Utc>,
    duration: Duration,
    opts: &Options,
) -> Result<SimOutput> {
    let phase = Phase {
        from: start,
        snapshot: snap,
    };
    simulate_phases(&[phase], traffic, start, duration, opts)
}

/// Play `traffic` from `start` for `duration` while the configuration changes: each connection
/// uses the snapshot of the last phase whose `from` is at or before its start. Phases must be
/// in strictly increasing `from` order (to the second) and the first must be in force at
/// `start` (`from <= start`); otherwise [`SimError::Options`].
pub fn simulate_phases(
    phases: &[Phase<'_>],
    traffic: &Traffic,
    start: DateTime<Utc>,
    duration: Duration,
    opts: &Options,
) -> Result<SimOutput> {
    let interval = i64::from(opts.aggregation_interval);
    if interval != 60 && interval != 600 {
        return Err(SimError::Options(format!(
            "aggregation interval {interval} s: expected 60 or 600"
        )));
    }
    let total = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
    if total == 0 || total > 31 * 86_400 {
        return Err(SimError::Options(format!(
            "duration {total} s: expected 1 s to 31 days"
        )));
    }
    let t0 = start.timestamp();
    let end_t = t0 + total;
    let phases = Phases::new(phases, t0, end_t)?;
    let (interfaces, iface_of) = logged_interfaces(&phases, opts)?;

    // 1. Connections, in traffic-file order, each entry with its own random stream.
    let (conns, names) = plan(&phases, traffic, t0, total, opts)?;
    let losses = loss::resolve(&phases, traffic, &interfaces, t0, total, interval)?;

    // 2. Walk (once per phase and distinct packet) and aggregate.
    let services: Vec<AwsServices> = (0..phases.list.len())
        .map(|i| match phases.spans[i] {
            Some(_) => AwsServices::new(phases.snapshot(i)),
            None => AwsServices::default(),
        })
        .collect();
    let mut cache: HashMap<(usize, Packet), usize> = HashMap::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut agg: BTreeMap<Key, Agg> = BTreeMap::new();
    let mut flow_stats: Vec<FlowStats> = names
        .into_iter()
        .map(|name| FlowStats {
            name,
            connections: 0,
            established: 0,
        })
        .collect();
    let no_interfaces = HashMap::new();
    let no_services = AwsServices::default();
    for c in &conns {
        let snap = phases.snapshot(c.phase);
        let iface_of = iface_of.get(c.phase).unwrap_or(&no_interfaces);
        let oi = *cache.entry((c.phase, c.packet)).or_insert_with(|| {
            let svc = services.get(c.phase).unwrap_or(&no_services);
            outcomes.push(outcome(snap, svc, c.src, c.dst_addr, c.packet));
            outcomes.len() - 1
        });
        let o = &outcomes[oi];
        if let Some(fs) = flow_stats.get_mut(c.entry) {
            fs.connections += 1;
            fs.established += u64::from(o.established);
        }
        let tcp = c.packet.protocol == PROTO_TCP;
        let (req, rep) = match (tcp, o.established) {
            (true, true) => (
                (c.packets, c.bytes, 3u8),
                (c.reply_packets, c.reply_bytes, 19u8),
            ),
            // A TCP connection that never completes: the SYN, and the SYN-ACK if it was sent.
            (true, false) => ((1, 60, 2), (c.reply_packets.min(1), 60, 18)),
            (false, _) => ((c.packets, c.bytes, 0), (c.reply_packets, c.reply_bytes, 0)),
        };
        let t_end = (c.t + c.seconds).min(end_t - 1);
        for (list, (pk, by, fl)) in [(&o.fwd, req), (&o.ret, rep)] {
            if pk == 0 {
                continue;
            }
            for (ob, svc) in list {
                let Some(&iface) = iface_of.get(&ob.eni) else {
                    continue;
                };
                let primary = snap.eni(ob.eni).primary_ip();
                let (mut src, mut dst) = (ob.packet.src, ob.packet.dst);
                // srcaddr/dstaddr show the ENI's primary address (pkt-* the real ones).
                match (ob.dir, primary) {
                    (FlowDirection::Ingress, Some(pa)) if pa.v6 == dst.v6 => dst = pa,
                    (FlowDirection::Egress, Some(pa)) if pa.v6 == src.v6 => src = pa,
                    _ => {}
                }
                let (sport, dport) = if ob.packet.has_ports() {
                    (ob.packet.src_port, ob.packet.dst_port)
                } else {
                    (0, 0)
                };
                let window = c.t.div_euclid(interval) * interval;
                let key = Key {
                    window,
                    iface,
                    dir: ob.dir,
                    src,
                    dst,
                    sport,
                    dport,
                    proto: ob.packet.protocol,
                    pkt_src: ob.packet.src,
                    pkt_dst: ob.packet.dst,
                    action: ob.action,
                    traffic_path: ob.traffic_path,
                    services: *svc,
                };
                let last = t_end.min(window + interval - 1);
                let a = agg.entry(key).or_insert(Agg {
                    packets: 0,
                    bytes: 0,
                    flags: 0,
                    first: c.t,
                    last,
                });
                a.packets = a.packets.saturating_add(pk).min(MAX_COUNT);
                a.bytes = a.bytes.saturating_add(by).min(MAX_COUNT);
                a.flags |= fl;
                a.first = a.first.min(c.t);
                a.last = a.last.max(last);
            }
        }
    }

    // 3. Capture losses: each record of the window dropped with probability `lost`.
    let mut skipped: BTreeSet<(u32, i64)> = BTreeSet::new();
    let mut dropped: HashMap<u32, u64> = HashMap::new();
    for l in &losses {
        skipped.insert((l.iface, l.window));
        let mut rng = Rng::new(opts.seed, l.stream);
        // `retain` visits keys in ascending order: the draws are deterministic.
        agg.retain(|k, _| {
            let lose = k.iface == l.iface && k.window == l.window && rng.unit() < l.lost;
            if lose {
                *dropped.entry(k.iface).or_default() += 1;
            }
            !lose
        });
    }

    // 4. Records, SKIPDATA, NODATA, stats.
    let mut records = Vec::with_capacity(agg.len());
    let mut busy: BTreeSet<(u32, i64)> = BTreeSet::new();
    for (k, a) in &agg {
        busy.insert((k.iface, k.window));
        records.push(Record {
            interface: k.iface,
            start: a.first,
            end: a.last,
            log_status: LogStatus::Ok,
            traffic: Some(Traffic5 {
                srcaddr: k.src.to_ip(),
                dstaddr: k.dst.to_ip(),
                srcport: k.sport,
                dstport: k.dport,
                protocol: k.proto,
                pkt_srcaddr: k.pkt_src.to_ip(),
                pkt_dstaddr: k.pkt_dst.to_ip(),
                packets: a.packets,
                bytes: a.bytes,
                action: k.action,
                tcp_flags: a.flags,
                flow_direction: k.dir,
                traffic_path: if k.dir == FlowDirection::Egress {
                    k.traffic_path
                } else {
                    None
                },
                pkt_src_aws_service: k.services.0,
                pkt_dst_aws_service: k.services.1,
            }),
        });
    }
    // A whole window without data: `start` and `end` clipped to the run, like AWS's first and
    // last windows.
    let empty = |iface: u32, w: i64, log_status| Record {
        interface: iface,
        start: w.max(t0),
        end: (w + interval).min(end_t) - 1,
        log_status,
        traffic: None,
    };
    for &(iface, w) in &skipped {
        records.push(empty(iface, w, LogStatus::SkipData));
    }
    let first_window = t0.div_euclid(interval) * interval;
    for iface in 0..u32::try_from(interfaces.len()).unwrap_or(u32::MAX) {
        let mut w = first_window;
        while w < end_t {
            if !busy.contains(&(iface, w)) && !skipped.contains(&(iface, w)) {
                records.push(empty(iface, w, LogStatus::NoData));
            }
            w += interval;
        }
    }
    records.sort_by(|a, b| {
        (a.end, a.start, a.interface, a.log_status, a.traffic).cmp(&(
            b.end,
            b.start,
            b.interface,
            b.log_status,
            b.traffic,
        ))
    });
    let mut per_interface: BTreeMap<String, InterfaceStats> = interfaces
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let n = u32::try_from(i).ok().and_then(|i| dropped.get(&i));
            let st = InterfaceStats {
                dropped: n.copied().unwrap_or(0),
                ..InterfaceStats::default()
            };
            (x.id.clone(), st)
        })
        .collect();
    for r in &records {
        let Some(st) = interfaces
            .get(r.interface as usize)
            .and_then(|i| per_interface.get_mut(&i.id))
        else {
            continue;
        };
        match (r.log_status, r.traffic.map(|t| t.action)) {
            (LogStatus::Ok, Some(Action::Accept)) => st.accepted += 1,
            (LogStatus::Ok, Some(Action::Reject)) => st.rejected += 1,
            (LogStatus::SkipData, _) => st.skipdata += 1,
            _ => st.nodata += 1,
        }
    }
    let flow_log_id = opts
        .flow_log_id
        .clone()
        .unwrap_or_else(|| format!("fl-0{:016x}", Rng::new(opts.seed, u64::MAX).next_u64()));
    Ok(SimOutput {
        interfaces,
        stats: Stats {
            connections: conns.len() as u64,
            records: records.len() as u64,
            flows: flow_stats,
            per_interface,
        },
        records,
        flow_log_id,
        aggregation_interval: opts.aggregation_interval,
        seed: opts.seed,
    })
}
