//! The front of the explainer: records in, [`Report`] out. [`Explainer::add`] checks and
//! compacts each record into a fixed-size [`Rec`] (no allocation per record beyond the record
//! vector: the judging needs every ACCEPT indexed before the first REJECT is judged, so the
//! compact records are held until [`Explainer::finish`], at most 128 bytes each: 10 M records
//! ≈ 1.2 GiB); `finish` hands them to the [`Engine`](crate::engine).

use std::collections::BTreeMap;

use flowwatch_net::{Addr, Direction, EniIdx, Resource, Snapshot};

use crate::engine::{Engine, EniRef, Rec, has_ports};
use crate::fxhash::FxMap;
use crate::record::{Action, FlowRecord, LogStatus, SkipReason};
use crate::report::{Counts, Report, Skipped};

/// Knobs where the spec leaves a choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainOptions {
    /// How far apart (seconds of `start`) a REJECT and the ACCEPT of its reversed tuple may be
    /// for the REJECT to count as a reply: one 600 s aggregation interval by default.
    pub reply_window_secs: i64,
    /// How many nearest non-matching security-group rules to name.
    pub nearest_rules: usize,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            reply_window_secs: 600,
            nearest_rules: 3,
        }
    }
}

/// Collects records; [`Explainer::finish`] explains them.
pub struct Explainer<'s> {
    snap: &'s Snapshot,
    opts: ExplainOptions,
    ids: FxMap<String, EniRef>,
    unknown: Vec<String>,
    recs: Vec<Rec>,
    /// Reply evidence only ([`Explainer::add_context`]): indexed, never judged.
    context: Vec<Rec>,
    skipped: BTreeMap<SkipReason, u64>,
    counts: Counts,
}

impl<'s> Explainer<'s> {
    pub fn new(snap: &'s Snapshot, opts: ExplainOptions) -> Explainer<'s> {
        Explainer {
            snap,
            opts,
            ids: FxMap::default(),
            unknown: Vec::new(),
            recs: Vec::new(),
            context: Vec::new(),
            skipped: BTreeMap::new(),
            counts: Counts::default(),
        }
    }

    /// Take one record (any action); records that cannot be used are counted by reason.
    pub fn add(&mut self, r: &FlowRecord) {
        self.counts.records += 1;
        match self.check(r) {
            Ok(rec) => {
                if rec.accept {
                    self.counts.accepted += 1;
                } else {
                    self.counts.rejected += 1;
                }
                if matches!(rec.eni, EniRef::Unknown(_)) {
                    self.counts.unknown_interface += 1;
                }
                self.recs.push(rec);
            }
            Err(why) => {
                self.counts.skipped += 1;
                *self.skipped.entry(why).or_insert(0) += 1;
            }
        }
    }

    /// Take one record as evidence only: it can show that a REJECTed packet was a reply (or an
    /// ACCEPT a reply to a request seen elsewhere), but it is not explained, counted as drift or
    /// counted for rule usage. `explain --filter` adds every record of the range this way,
    /// so that narrowing the question never changes an answer. Unusable records are ignored.
    pub fn add_context(&mut self, r: &FlowRecord) {
        if let Ok(rec) = self.check(r) {
            self.counts.context_records += 1;
            self.context.push(rec);
        }
    }

    fn eni_ref(&mut self, id: &str) -> EniRef {
        if let Some(r) = self.ids.get(id) {
            return *r;
        }
        let r = match self.snap.resolve(id) {
            Some(Resource::Eni(i)) => EniRef::Known(EniIdx(u32::try_from(i).unwrap_or(u32::MAX))),
            _ => {
                self.unknown.push(id.to_string());
                EniRef::Unknown(u32::try_from(self.unknown.len() - 1).unwrap_or(u32::MAX))
            }
        };
        self.ids.insert(id.to_string(), r);
        r
    }

    fn check(&mut self, r: &FlowRecord) -> Result<Rec, SkipReason> {
        if matches!(r.log_status, Some(LogStatus::NoData | LogStatus::SkipData)) {
            return Err(SkipReason::NoData);
        }
        let action = r.action.ok_or(SkipReason::MissingAction)?;
        if r.interface_id.is_empty() || r.interface_id == "-" {
            return Err(SkipReason::MissingInterfaceId);
        }
        let (Some(sa), Some(da)) = (r.srcaddr, r.dstaddr) else {
            return Err(SkipReason::MissingAddress);
        };
        let proto = r.protocol.ok_or(SkipReason::MissingProtocol)?;
        let (sport, dport) = if has_ports(proto) {
            match (r.srcport, r.dstport) {
                (Some(s), Some(d)) => (s, d),
                _ => return Err(SkipReason::MissingPort),
            }
        } else {
            (0, 0)
        };
        let (sa, da) = (Addr::from_ip(sa), Addr::from_ip(da));
        let src = r.pkt_srcaddr.map_or(sa, Addr::from_ip);
        let dst = r.pkt_dstaddr.map_or(da, Addr::from_ip);
        if src.v6 != dst.v6 {
            return Err(SkipReason::MixedAddressFamilies);
        }
        let eni = self.eni_ref(&r.interface_id);
        let dir = match (r.flow_direction, eni) {
            (Some(d), _) => Some(d),
            (None, EniRef::Known(e)) => {
                let e = self.snap.eni(e);
                if e.owns(da) || e.owns(dst) {
                    Some(Direction::Ingress)
                } else if e.owns(sa) || e.owns(src) {
                    Some(Direction::Egress)
                } else {
                    return Err(SkipReason::DirectionUnknown);
                }
            }
            (None, EniRef::Unknown(_)) => None,
        };
        Ok(Rec {
            eni,
            dir,
            accept: action == Action::Accept,
            proto,
            src,
            dst,
            sport,
            dport,
            packets: r.packets.unwrap_or(0),
            bytes: r.bytes.unwrap_or(0),
            start: r.start,
        })
    }

    /// Explain everything added.
    pub fn finish(mut self) -> Report {
        let recs = std::mem::take(&mut self.recs);
        let context = std::mem::take(&mut self.context);
        let mut eng = Engine::new(self.snap, &self.opts);
        eng.index(&recs);
        eng.index_evidence(&context);
        for r in &recs {
            if r.accept {
                eng.accept(r);
            } else {
                eng.reject(r);
            }
        }
        let mut report = eng.report(&self.unknown);
        report.counts = Counts {
            decisions_evaluated: eng.decisions,
            ..self.counts
        };
        report.skipped = self
            .skipped
            .iter()
            .map(|(&reason, &records)| Skipped {
                reason,
                description: reason.describe(),
                records,
            })
            .collect();
        report
    }
}

/// Explain a slice of records in one call.
pub fn explain_records(snap: &Snapshot, records: &[FlowRecord], opts: ExplainOptions) -> Report {
    let mut x = Explainer::new(snap, opts);
    for r in records {
        x.add(r);
    }
    x.finish()
}

#[cfg(test)]
mod tests;
