//! Capture losses (`[[capture_loss]]`): one capture window of one interface loses part of its
//! records, each aggregated record independently with probability `lost`, and gets a SKIPDATA
//! record instead of (or besides) what survived.

use crate::error::{Result, SimError};
use crate::phase::Phases;
use crate::record::Interface;
use crate::traffic::Traffic;

/// The random stream of capture loss `i` is `LOSS_STREAM ^ i`, apart from the entries' streams
/// (`0..entries`) so adding a loss never moves a connection.
const LOSS_STREAM: u64 = 0x4341_5054_5552_4500;

/// A capture loss resolved against the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Loss {
    pub iface: u32,
    /// Start of the capture window (absolute seconds, aligned to the epoch).
    pub window: i64,
    pub lost: f64,
    pub stream: u64,
}

/// Resolve every capture loss: its interface in the phase in force at `at`, which must be one of
/// the logged interfaces, and its window.
pub(crate) fn resolve(
    phases: &Phases<'_, '_>,
    traffic: &Traffic,
    interfaces: &[Interface],
    t0: i64,
    total: i64,
    interval: i64,
) -> Result<Vec<Loss>> {
    let mut out = Vec::with_capacity(traffic.capture_losses.len());
    for (i, c) in traffic.capture_losses.iter().enumerate() {
        let err = |m: String| SimError::traffic(c.line, format!("capture loss '{}': {m}", c.name));
        let at = i64::try_from(c.at).unwrap_or(i64::MAX);
        if at >= total {
            return Err(err(format!(
                "'at' ({at} s) is not within the simulation ({total} s)"
            )));
        }
        let t = t0 + at;
        let pi = phases.at(t);
        let s = phases.snapshot(pi);
        let id = c.interface.trim();
        let eni = s.eni_idx(id).ok_or_else(|| {
            err(format!(
                "interface '{id}': expected an ENI or instance id of the snapshot{}",
                phases.context(pi)
            ))
        })?;
        let eni_id = &s.eni(eni).id;
        let iface = interfaces
            .iter()
            .position(|x| x.id == *eni_id)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| {
                err(format!(
                    "interface '{id}' ({eni_id}) is not among the logged interfaces"
                ))
            })?;
        out.push(Loss {
            iface,
            window: t.div_euclid(interval) * interval,
            lost: c.lost,
            stream: LOSS_STREAM ^ i as u64,
        });
    }
    Ok(out)
}
