//! Configuration phases: the snapshot in force changes during a run (a peering connection and
//! its routes appear at noon). Each phase holds from its `from` until the next phase's; the
//! logged interfaces are the union over the phases in force.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flowwatch_net::{EniIdx, Snapshot};

use crate::error::{Result, SimError};
use crate::record::{Interface, Options};

/// A snapshot in force from `from` until the next phase's `from`.
#[derive(Clone, Copy, Debug)]
pub struct Phase<'a> {
    pub from: DateTime<Utc>,
    pub snapshot: &'a Snapshot,
}

/// The phases of one run, checked, with the span (absolute seconds, end exclusive) each is in
/// force within the run.
pub(crate) struct Phases<'p, 'a> {
    pub list: &'p [Phase<'a>],
    /// `None` for a phase the run never sees (superseded before the start, or after the end).
    pub spans: Vec<Option<(i64, i64)>>,
    froms: Vec<i64>,
}

impl<'p, 'a> Phases<'p, 'a> {
    /// Phases must be in strictly increasing `from` order (to the second), the first in force
    /// at `t0`.
    pub fn new(list: &'p [Phase<'a>], t0: i64, end_t: i64) -> Result<Self> {
        let first = list.first().ok_or_else(|| {
            SimError::Options("no configuration phase: expected at least one snapshot".into())
        })?;
        if first.from.timestamp() > t0 {
            return Err(SimError::Options(format!(
                "phase 1 starts at {}, after the simulation start {}: the first phase must be in \
                 force from the start",
                first.from.to_rfc3339(),
                DateTime::from_timestamp(t0, 0)
                    .unwrap_or_default()
                    .to_rfc3339()
            )));
        }
        let froms: Vec<i64> = list.iter().map(|p| p.from.timestamp()).collect();
        for (i, w) in froms.windows(2).enumerate() {
            if w[1] <= w[0] {
                return Err(SimError::Options(format!(
                    "phase {} starts at {}, not after phase {} ({}): phases must be in time order",
                    i + 2,
                    list[i + 1].from.to_rfc3339(),
                    i + 1,
                    list[i].from.to_rfc3339()
                )));
            }
        }
        let spans = (0..list.len())
            .map(|i| {
                let a = froms[i].max(t0);
                let b = froms.get(i + 1).copied().unwrap_or(i64::MAX).min(end_t);
                (a < b).then_some((a, b))
            })
            .collect();
        Ok(Phases { list, spans, froms })
    }

    /// The phase in force at `t` (absolute seconds, `t >= t0`).
    pub fn at(&self, t: i64) -> usize {
        self.froms.partition_point(|&f| f <= t).saturating_sub(1)
    }

    pub fn snapshot(&self, i: usize) -> &'a Snapshot {
        // `i` comes from `at` or from enumerating `list`, both in range.
        self.list.get(i).unwrap_or(&self.list[0]).snapshot
    }

    /// `" in phase 2 (from …)"` when the run has more than one phase, else nothing: errors of a
    /// single-snapshot run read as before phases existed.
    pub fn context(&self, i: usize) -> String {
        match self.list.get(i) {
            Some(p) if self.list.len() > 1 => {
                format!(" in phase {} (from {})", i + 1, p.from.to_rfc3339())
            }
            _ => String::new(),
        }
    }

    /// The phases in force during absolute span `[a, b)`.
    pub fn overlapping(&self, a: i64, b: i64) -> Vec<usize> {
        self.spans
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.filter(|&(x, y)| x < b && a < y).map(|_| i))
            .collect()
    }
}

/// One phase's ENI → index into the logged interfaces.
pub(crate) type InterfaceMap = HashMap<EniIdx, u32>;

/// The interfaces whose flow logs are written (the union over the phases in force, by ENI id:
/// the first phase's order, then new ones) and, per phase, the ENI → interface-index map. An
/// interface's metadata is from the first phase that has it.
pub(crate) fn logged_interfaces(
    phases: &Phases<'_, '_>,
    opts: &Options,
) -> Result<(Vec<Interface>, Vec<InterfaceMap>)> {
    let mut out: Vec<Interface> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut maps = vec![HashMap::new(); phases.list.len()];
    let mut found = vec![false; opts.interfaces.len()];
    for (pi, map) in maps.iter_mut().enumerate() {
        if phases.spans[pi].is_none() {
            continue;
        }
        let s = phases.snapshot(pi);
        let mut enis: Vec<EniIdx> = Vec::new();
        if opts.interfaces.is_empty() {
            enis.extend(
                (0..s.enis.len())
                    .filter(|&i| s.enis[i].active)
                    .map(|i| EniIdx(u32::try_from(i).unwrap_or(u32::MAX))),
            );
        } else {
            for (k, id) in opts.interfaces.iter().enumerate() {
                if let Some(e) = s.eni_idx(id) {
                    found[k] = true;
                    if !enis.contains(&e) {
                        enis.push(e);
                    }
                }
            }
        }
        for e in enis {
            let eni = s.eni(e);
            let i = match index.get(&eni.id) {
                Some(&i) => i,
                None => {
                    let i = u32::try_from(out.len()).unwrap_or(u32::MAX);
                    out.push(interface(s, e, opts));
                    index.insert(eni.id.clone(), i);
                    i
                }
            };
            map.insert(e, i);
        }
    }
    if let Some(k) = found.iter().position(|f| !f) {
        return Err(SimError::Options(format!(
            "interface '{}': expected an ENI or instance id of the snapshot",
            opts.interfaces[k]
        )));
    }
    Ok((out, maps))
}

fn interface(s: &Snapshot, e: EniIdx, opts: &Options) -> Interface {
    let eni = s.eni(e);
    let zone = &eni.availability_zone;
    Interface {
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
    }
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
                    p => p.get(..1).unwrap_or_default(),
                };
                short.push_str(abbrev);
            }
        }
    }
    let n = u32::from(letter) - u32::from('a') + 1;
    format!("{short}-az{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    #[test]
    fn phases_must_be_ordered_and_cover_the_start() {
        let s = Snapshot::default();
        let p = |from| Phase {
            from: at(from),
            snapshot: &s,
        };
        let err = |l: &[Phase]| match Phases::new(l, 100, 200) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err(&[]).contains("at least one"));
        assert!(err(&[p(101)]).contains("first phase must be in force from the start"));
        assert!(err(&[p(0), p(150), p(150)]).contains("phase 3"));
        let list = [p(0), p(50), p(150), p(300)];
        let ph = Phases::new(&list, 100, 200).unwrap();
        assert_eq!(ph.spans, [None, Some((100, 150)), Some((150, 200)), None]);
        assert_eq!(
            (ph.at(100), ph.at(149), ph.at(150), ph.at(199)),
            (1, 1, 2, 2)
        );
        assert_eq!(ph.overlapping(120, 130), [1]);
        assert_eq!(ph.overlapping(0, 1000), [1, 2]);
        assert!(
            ph.context(1)
                .starts_with(" in phase 2 (from 1970-01-01T00:00:50")
        );
    }

    #[test]
    fn zone_ids_are_derived_in_aws_shape() {
        assert_eq!(derived_az_id("us-east-2a"), "use2-az1");
        assert_eq!(derived_az_id("ap-northeast-1c"), "apne1-az3");
        assert_eq!(derived_az_id(""), "-");
        // Malformed names from a snapshot never panic.
        assert_eq!(derived_az_id("us--éast-1a"), "us1-az1");
    }
}
