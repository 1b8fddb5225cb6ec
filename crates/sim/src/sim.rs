//! The simulation: connections from the traffic file, each walked through the model once per
//! distinct 5-tuple (cached), turned into per-ENI observations, aggregated per capture window,
//! plus NODATA for the windows in which a logged ENI saw nothing.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use flowwatch_net::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP};
use flowwatch_net::{Addr, Endpoint, EniIdx, Packet, Query, Snapshot, reach};

use crate::error::{Result, SimError};
use crate::observe::{Action, FlowDirection, Obs, header_packet, observe};
use crate::rng::Rng;
use crate::traffic::{Schedule, SourcePort, Traffic};

/// How to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub seed: u64,
    /// `max-aggregation-interval`: 60 or 600 seconds.
    pub aggregation_interval: u32,
    /// ENI or instance ids whose flow logs are written; empty = every active ENI.
    pub interfaces: Vec<String>,
    /// The flow log's id, in object names (default derived from the seed).
    pub flow_log_id: Option<String>,
    /// Availability-zone name → zone id (`us-west-2a` → `usw2-az2`); see
    /// [`crate::az_ids_from_dir`]. Zones missing here get a derived id (`usw2-az1` for `…a`).
    pub az_ids: BTreeMap<String, String>,
    /// Refuse a traffic file that opens more connections than this.
    pub max_connections: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 42,
            aggregation_interval: 60,
            interfaces: Vec::new(),
            flow_log_id: None,
            az_ids: BTreeMap::new(),
            max_connections: 5_000_000,
        }
    }
}

/// `log-status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogStatus {
    Ok,
    NoData,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "OK",
            LogStatus::NoData => "NODATA",
        }
    }
}

/// A logged interface: the metadata fields of its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub id: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// `None` for requester-managed ENIs (NAT gateways, endpoints).
    pub instance_id: Option<String>,
    pub az_id: String,
}

/// The packet part of an `OK` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Traffic5 {
    pub srcaddr: IpAddr,
    pub dstaddr: IpAddr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
    pub pkt_srcaddr: IpAddr,
    pub pkt_dstaddr: IpAddr,
    pub packets: u64,
    pub bytes: u64,
    pub action: Action,
    pub tcp_flags: u8,
    pub flow_direction: FlowDirection,
    /// Egress records only.
    pub traffic_path: Option<u8>,
}

/// One flow-log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Index into [`SimOutput::interfaces`].
    pub interface: u32,
    pub start: i64,
    pub end: i64,
    pub log_status: LogStatus,
    /// `None` for NODATA.
    pub traffic: Option<Traffic5>,
}

/// Per-interface record counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    pub accepted: u64,
    pub rejected: u64,
    pub nodata: u64,
}

/// Per traffic-file entry: connections opened and how many completed (reply delivered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStats {
    pub name: String,
    pub connections: u64,
    pub established: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub records: u64,
    pub flows: Vec<FlowStats>,
    /// By interface id.
    pub per_interface: BTreeMap<String, InterfaceStats>,
}

/// What [`simulate`] produced: records sorted by (`end`, `start`, interface, …).
#[derive(Clone, Debug, PartialEq)]
pub struct SimOutput {
    pub interfaces: Vec<Interface>,
    pub records: Vec<Record>,
    pub stats: Stats,
    pub flow_log_id: String,
    pub aggregation_interval: u32,
    pub seed: u64,
}

/// A resolved traffic-file endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Eni(EniIdx),
    /// An ENI's public address (as a destination: reached through the IGW).
    Public(EniIdx, Addr),
    Internet(Addr),
}

fn resolve(s: &Snapshot, text: &str) -> Result<End, String> {
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

/// What one distinct request packet does, from `reach`.
#[derive(Clone, Debug)]
struct Outcome {
    fwd: Vec<Obs>,
    ret: Vec<Obs>,
    pub established: bool,
}

fn outcome(s: &Snapshot, src: End, dst_addr: Addr, p: Packet) -> Outcome {
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
    Outcome {
        fwd,
        ret,
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

/// One connection to play.
struct Conn {
    entry: usize,
    t: i64,
    src: End,
    dst_addr: Addr,
    packet: Packet,
    packets: u64,
    bytes: u64,
    reply_packets: u64,
    reply_bytes: u64,
    seconds: i64,
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
}

#[derive(Clone, Copy)]
struct Agg {
    packets: u64,
    bytes: u64,
    flags: u8,
    first: i64,
    last: i64,
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

fn active_span(sch: Schedule, total: i64) -> Option<(i64, i64)> {
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

/// Play `traffic` over `snap` from `start` for `duration`.
pub fn simulate(
    snap: &Snapshot,
    traffic: &Traffic,
    start: DateTime<Utc>,
    duration: std::time::Duration,
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
    let (interfaces, iface_of) = logged_interfaces(snap, opts)?;

    // 1. Connections, in traffic-file order, each entry with its own random stream.
    let mut conns: Vec<Conn> = Vec::new();
    let mut names = Vec::new();
    let mut planned = 0u64;
    for (fi, f) in traffic.flows.iter().enumerate() {
        names.push(f.name.clone());
        let err = |m: String| SimError::traffic(f.line, format!("flow '{}': {m}", f.name));
        let src = resolve(snap, &f.source).map_err(|m| err(format!("source {m}")))?;
        let dst = resolve(snap, &f.destination).map_err(|m| err(format!("destination {m}")))?;
        let src_addr = source_addr(snap, src)
            .ok_or_else(|| err(format!("source '{}' has no private address", f.source)))?;
        let dst_addr = destination_addr(snap, src, dst)
            .ok_or_else(|| err(format!("destination '{}' has no address", f.destination)))?;
        let Some(span) = active_span(f.schedule, total) else {
            continue;
        };
        planned = planned.saturating_add(count_connections(f.rate, span));
        if planned > opts.max_connections {
            return Err(err(format!(
                "the traffic file opens more than {} connections; lower the rate or the duration",
                opts.max_connections
            )));
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
            let packet = match f.protocol {
                PROTO_ICMP | PROTO_ICMPV6 => icmp_packet(src_addr, dst_addr),
                proto => {
                    let mut p = Packet::new(proto, src_addr, dst_addr);
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
                src,
                dst_addr,
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
        let src = resolve(snap, &sc.source).map_err(|m| err(format!("source {m}")))?;
        let dst = resolve(snap, &sc.target).map_err(|m| err(format!("target {m}")))?;
        let src_addr = source_addr(snap, src)
            .ok_or_else(|| err(format!("source '{}' has no address", sc.source)))?;
        let dst_addr = destination_addr(snap, src, dst)
            .ok_or_else(|| err(format!("target '{}' has no address", sc.target)))?;
        let Some(span) = active_span(sc.schedule, total) else {
            continue;
        };
        planned = planned.saturating_add(count_connections(sc.rate, span));
        if planned > opts.max_connections {
            return Err(err(format!(
                "the traffic file opens more than {} connections; lower the rate or the duration",
                opts.max_connections
            )));
        }
        let mut rng = Rng::new(opts.seed, entry as u64);
        let period = 60.0 / sc.rate;
        let n = count_connections(sc.rate, span);
        let width = u64::from(sc.ports.1 - sc.ports.0) + 1;
        for k in 0..n {
            let t = (span.0 as f64 + (k as f64 + rng.unit()) * period).floor() as i64;
            if t >= span.1 {
                continue;
            }
            let dport = sc.ports.0 + u16::try_from(k % width).unwrap_or(0);
            let sport = rng.range(32768, 60999);
            let mut p = Packet::new(sc.protocol, src_addr, dst_addr);
            p.src_port = sport;
            p.dst_port = dport;
            conns.push(Conn {
                entry,
                t: t0 + t,
                src,
                dst_addr,
                packet: p,
                packets: 1,
                bytes: 44,
                reply_packets: u64::from(sc.protocol == PROTO_TCP),
                reply_bytes: 44,
                seconds: 0,
            });
        }
    }

    // 2. Walk and aggregate.
    let mut cache: HashMap<Packet, usize> = HashMap::new();
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
    let end_t = t0 + total;
    for c in &conns {
        let oi = *cache.entry(c.packet).or_insert_with(|| {
            outcomes.push(outcome(snap, c.src, c.dst_addr, c.packet));
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
            for ob in list {
                let Some(&iface) = iface_of.get(&ob.eni) else {
                    continue;
                };
                let eni = snap.eni(ob.eni);
                let primary = eni.primary_ip();
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
                };
                let last = t_end.min(window + interval - 1);
                let a = agg.entry(key).or_insert(Agg {
                    packets: 0,
                    bytes: 0,
                    flags: 0,
                    first: c.t,
                    last,
                });
                a.packets += pk;
                a.bytes += by;
                a.flags |= fl;
                a.first = a.first.min(c.t);
                a.last = a.last.max(last);
            }
        }
    }

    // 3. Records, NODATA, stats.
    let mut records = Vec::with_capacity(agg.len());
    let mut busy: std::collections::BTreeSet<(u32, i64)> = std::collections::BTreeSet::new();
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
            }),
        });
    }
    let first_window = t0.div_euclid(interval) * interval;
    for iface in 0..u32::try_from(interfaces.len()).unwrap_or(u32::MAX) {
        let mut w = first_window;
        while w < end_t {
            if !busy.contains(&(iface, w)) {
                records.push(Record {
                    interface: iface,
                    start: w.max(t0),
                    end: (w + interval).min(end_t) - 1,
                    log_status: LogStatus::NoData,
                    traffic: None,
                });
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
        .map(|i| (i.id.clone(), InterfaceStats::default()))
        .collect();
    for r in &records {
        let Some(st) = interfaces
            .get(r.interface as usize)
            .and_then(|i| per_interface.get_mut(&i.id))
        else {
            continue;
        };
        match r.traffic.map(|t| t.action) {
            Some(Action::Accept) => st.accepted += 1,
            Some(Action::Reject) => st.rejected += 1,
            None => st.nodata += 1,
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

/// The interfaces whose flow logs are written, and the ENI → interface-index map.
fn logged_interfaces(
    s: &Snapshot,
    opts: &Options,
) -> Result<(Vec<Interface>, HashMap<EniIdx, u32>)> {
    let mut enis: Vec<EniIdx> = Vec::new();
    if opts.interfaces.is_empty() {
        enis.extend(
            (0..s.enis.len())
                .filter(|&i| s.enis[i].active)
                .map(|i| EniIdx(u32::try_from(i).unwrap_or(u32::MAX))),
        );
    } else {
        for id in &opts.interfaces {
            let e = s.eni_idx(id).ok_or_else(|| {
                SimError::Options(format!(
                    "interface '{id}': expected an ENI or instance id of the snapshot"
                ))
            })?;
            if !enis.contains(&e) {
                enis.push(e);
            }
        }
    }
    let mut out = Vec::with_capacity(enis.len());
    let mut map = HashMap::new();
    for (i, e) in enis.into_iter().enumerate() {
        let eni = s.eni(e);
        let zone = &eni.availability_zone;
        out.push(Interface {
            id: eni.id.clone(),
            account: eni.loc.account.clone(),
            region: eni.loc.region.clone(),
            vpc_id: eni.vpc_id.clone(),
            subnet_id: eni.subnet_id.clone(),
            instance_id: match &eni.owner {
                flowwatch_net::model::EniOwner::Instance(i) => Some(i.clone()),
                _ => None,
            },
            az_id: opts
                .az_ids
                .get(zone)
                .cloned()
                .unwrap_or_else(|| derived_az_id(zone)),
        });
        map.insert(e, u32::try_from(i).unwrap_or(u32::MAX));
    }
    Ok((out, map))
}

/// `us-west-2a` → `usw2-az1`: AWS's zone-id shape; the real mapping is per account.
pub(crate) fn derived_az_id(zone: &str) -> String {
    let Some(letter) = zone.chars().last().filter(char::is_ascii_lowercase) else {
        return "-".into();
    };
    let region = &zone[..zone.len() - 1];
    let mut short = String::new();
    for part in region.split('-') {
        match part.parse::<u32>() {
            Ok(_) => short.push_str(part),
            Err(_) => {
                // `us` stays `us`; `west` → `w`, `northeast` → `ne`, `southeast` → `se`.
                let abbrev = match part {
                    "northeast" => "ne",
                    "southeast" => "se",
                    "northwest" => "nw",
                    "southwest" => "sw",
                    p if short.is_empty() => p,
                    p => &p[..1],
                };
                short.push_str(abbrev);
            }
        }
    }
    let n = u32::from(letter) - u32::from('a') + 1;
    format!("{short}-az{n}")
}
