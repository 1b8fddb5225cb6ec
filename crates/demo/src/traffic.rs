//! From conversations to records: a [`Conv`] is one request/reply exchange over time (a TCP
//! connection, a DNS query, a ping stream), seen by one or more interfaces ([`Leg`]s). The
//! [`Meter`] cuts it into 60-second capture windows per interface and writes, for every window
//! and leg, one record for the request direction and one for the reply, as AWS does.

use std::net::Ipv4Addr;

use crate::record::{Action, Direction, Flow, Record, Status};

/// Seconds in a Nitro capture window.
pub(crate) const WINDOW: i64 = 60;
/// Seconds in the demo day.
pub(crate) const DAY: i64 = 86_400;
/// Windows per interface and day, plus one for the window that straddles midnight at the start.
const SLOTS: usize = (DAY / WINDOW) as usize + 1;

pub(crate) const TCP: u8 = 6;
pub(crate) const UDP: u8 = 17;
pub(crate) const ICMP: u8 = 1;

const FIN: u8 = 1;
const SYN: u8 = 2;
const RST: u8 = 4;
const SYN_ACK: u8 = 18;

/// Packets and bytes one direction of a conversation carries in total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Volume {
    pub packets: u64,
    pub bytes: u64,
}

/// How a TCP conversation ends within the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Close {
    /// Both sides send FIN.
    Fin,
    /// The client resets the connection.
    Rst,
    /// Still open (a persistent connection that carries on in a later conversation).
    Open,
}

/// How one interface sees a conversation, oriented as the request: `dir` is the request's
/// direction on this interface; the reply record swaps addresses, ports and services and flips
/// the direction. Only one of the two records is egress, so one `traffic_path` serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leg {
    pub eni: u8,
    pub dir: Direction,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub pkt_src: Ipv4Addr,
    pub pkt_dst: Ipv4Addr,
    pub src_service: Option<&'static str>,
    pub dst_service: Option<&'static str>,
    /// traffic-path of whichever of the two records is egress.
    pub traffic_path: Option<u8>,
}

impl Leg {
    /// The same interface's view of the reply: addresses, ports and services swapped, the
    /// direction flipped.
    fn reply(&self) -> Leg {
        Leg {
            dir: self.dir.flip(),
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            pkt_src: self.pkt_dst,
            pkt_dst: self.pkt_src,
            src_service: self.dst_service,
            dst_service: self.src_service,
            ..*self
        }
    }

    /// A leg where the interface sees the real packet addresses (no NAT in between).
    pub(crate) fn direct(
        eni: u8,
        dir: Direction,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        services: (Option<&'static str>, Option<&'static str>),
        traffic_path: Option<u8>,
    ) -> Leg {
        Leg {
            eni,
            dir,
            src: src.0,
            dst: dst.0,
            sport: src.1,
            dport: dst.1,
            pkt_src: src.0,
            pkt_dst: dst.0,
            src_service: services.0,
            dst_service: services.1,
            traffic_path,
        }
    }
}

/// One request/reply exchange.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Conv {
    pub protocol: u8,
    /// First and last packet, Unix seconds, inclusive.
    pub start: i64,
    pub end: i64,
    pub request: Volume,
    /// `None` when nothing answers (a rejected probe, a ping with no route back).
    pub reply: Option<Volume>,
    pub action: Action,
    /// Whether the TCP handshake happens within this conversation.
    pub opens: bool,
    pub close: Close,
    pub legs: Vec<Leg>,
}

/// Turns conversations into records and remembers which windows saw traffic.
pub(crate) struct Meter {
    day0: i64,
    /// Per interface: offset in seconds of its capture windows from midnight.
    phases: Vec<i64>,
    /// Per interface: whether each window (index + 1, so window -1 fits) holds a record.
    busy: Vec<Vec<bool>>,
    pub(crate) records: Vec<Record>,
}

impl Meter {
    pub(crate) fn new(day0: i64, phases: Vec<i64>) -> Meter {
        let busy = vec![vec![false; SLOTS]; phases.len()];
        Meter {
            day0,
            phases,
            busy,
            records: Vec::new(),
        }
    }

    /// First second of the interface's window `k` (window 0 starts at its phase after midnight).
    pub(crate) fn window_start(&self, eni: u8, k: i64) -> i64 {
        self.day0 + self.phases[usize::from(eni)] + k * WINDOW
    }

    /// The window of the interface that holds second `t`.
    pub(crate) fn window_of(&self, eni: u8, t: i64) -> i64 {
        (t - self.day0 - self.phases[usize::from(eni)]).div_euclid(WINDOW)
    }

    pub(crate) fn is_busy(&self, eni: u8, k: i64) -> bool {
        usize::try_from(k + 1)
            .ok()
            .and_then(|i| self.busy[usize::from(eni)].get(i))
            .copied()
            .unwrap_or(false)
    }

    fn mark_busy(&mut self, eni: u8, k: i64) {
        if let Some(slot) = usize::try_from(k + 1)
            .ok()
            .and_then(|i| self.busy[usize::from(eni)].get_mut(i))
        {
            *slot = true;
        }
    }

    /// Add a status-only record (NODATA or SKIPDATA) and mark its window busy.
    pub(crate) fn push_status(&mut self, eni: u8, k: i64, end: i64, status: Status) {
        let start = self.window_start(eni, k);
        self.records.push(Record {
            eni,
            start,
            end,
            status,
            flow: None,
        });
        self.mark_busy(eni, k);
    }

    /// Meter one conversation. Its times must lie within the day.
    pub(crate) fn add(&mut self, conv: &Conv) {
        let span = conv.end - conv.start + 1;
        for leg in &conv.legs {
            let first = self.window_of(leg.eni, conv.start);
            let last = self.window_of(leg.eni, conv.end);
            for k in first..=last {
                let ws = self.window_start(leg.eni, k);
                let (start, end) = (conv.start.max(ws), conv.end.min(ws + WINDOW - 1));
                // Cumulative shares keep the windows' counts adding up to the total.
                let share = |v: Volume| -> Volume {
                    let cum = |t: i64| v.packets as i128 * (t - conv.start) as i128 / span as i128;
                    let packets = u64::try_from(cum(end + 1) - cum(start)).unwrap_or(0).max(1);
                    Volume {
                        packets,
                        bytes: packets * (v.bytes / v.packets.max(1)).max(1),
                    }
                };
                let (req_flags, rep_flags) = tcp_flags(conv, k == first, k == last);
                self.push_flow(leg, conv, (start, end), share(conv.request), req_flags);
                if let Some(reply) = conv.reply {
                    self.push_flow(&leg.reply(), conv, (start, end), share(reply), rep_flags);
                }
                self.mark_busy(leg.eni, k);
            }
        }
    }

    /// One record of `view`, the leg as oriented for this direction.
    fn push_flow(&mut self, view: &Leg, conv: &Conv, span: (i64, i64), v: Volume, tcp_flags: u8) {
        let icmp = conv.protocol == ICMP;
        self.records.push(Record {
            eni: view.eni,
            start: span.0,
            end: span.1,
            status: Status::Ok,
            flow: Some(Flow {
                src: view.src,
                dst: view.dst,
                sport: if icmp { 0 } else { view.sport },
                dport: if icmp { 0 } else { view.dport },
                protocol: conv.protocol,
                packets: v.packets,
                bytes: v.bytes,
                action: conv.action,
                tcp_flags,
                pkt_src: view.pkt_src,
                pkt_dst: view.pkt_dst,
                src_service: view.src_service,
                dst_service: view.dst_service,
                direction: view.dir,
                traffic_path: (view.dir == Direction::Egress)
                    .then_some(view.traffic_path)
                    .flatten(),
            }),
        });
    }
}

/// The tcp-flags of the request and reply records in one window: SYN / SYN-ACK in the window
/// where the handshake happens, FIN (or the client's RST) in the closing one, OR-ed when both
/// fall in one window (3 and 19). Not TCP: 0.
fn tcp_flags(conv: &Conv, first: bool, last: bool) -> (u8, u8) {
    if conv.protocol != TCP {
        return (0, 0);
    }
    // Unanswered connection attempts are SYN retransmissions in every window.
    let opening = conv.opens && (first || conv.reply.is_none());
    let (mut request, mut reply) = if opening { (SYN, SYN_ACK) } else { (0, 0) };
    match conv.close {
        Close::Fin if last => {
            request |= FIN;
            reply |= FIN;
        }
        Close::Rst if last => request |= RST,
        _ => {}
    }
    (request, reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(eni: u8, dir: Direction) -> Leg {
        Leg::direct(
            eni,
            dir,
            (Ipv4Addr::new(198, 51, 100, 7), 50000),
            (Ipv4Addr::new(10, 0, 1, 10), 443),
            (None, None),
            Some(8),
        )
    }

    #[test]
    fn a_connection_across_windows_gets_handshake_and_fin_flags_at_the_ends() {
        let mut m = Meter::new(0, vec![0]);
        m.add(&Conv {
            protocol: TCP,
            start: 30,
            end: 149,
            request: Volume {
                packets: 120,
                bytes: 12_000,
            },
            reply: Some(Volume {
                packets: 240,
                bytes: 240_000,
            }),
            action: Action::Accept,
            opens: true,
            close: Close::Fin,
            legs: vec![leg(0, Direction::Ingress)],
        });
        let flags: Vec<(i64, i64, u8, Option<u8>)> = m
            .records
            .iter()
            .map(|r| {
                let f = r.flow.as_ref().unwrap();
                (r.start, r.end, f.tcp_flags, f.traffic_path)
            })
            .collect();
        assert_eq!(
            flags,
            vec![
                (30, 59, 2, None),
                (30, 59, 18, Some(8)),
                (60, 119, 0, None),
                (60, 119, 0, Some(8)),
                (120, 149, 1, None),
                (120, 149, 1, Some(8)),
            ]
        );
        let req: u64 = m
            .records
            .iter()
            .step_by(2)
            .map(|r| r.flow.as_ref().unwrap().packets)
            .sum();
        assert_eq!(req, 120);
        assert!(m.is_busy(0, 2) && !m.is_busy(0, 3));
    }

    #[test]
    fn icmp_has_zero_ports_and_no_reply_when_unanswered() {
        let mut m = Meter::new(0, vec![17]);
        m.add(&Conv {
            protocol: ICMP,
            start: 0,
            end: 10,
            request: Volume {
                packets: 11,
                bytes: 924,
            },
            reply: None,
            action: Action::Accept,
            opens: false,
            close: Close::Open,
            legs: vec![leg(0, Direction::Egress)],
        });
        assert_eq!(m.records.len(), 1);
        let f = m.records[0].flow.as_ref().unwrap();
        assert_eq!(
            (f.sport, f.dport, f.tcp_flags, f.traffic_path),
            (0, 0, 0, Some(8))
        );
        assert_eq!(m.window_of(0, 0), -1);
    }
}
