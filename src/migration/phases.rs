//! Phases of one migration, cut from its window's bins.
//!
//! In: a migration's scope (its conversations and window) and its power state. Out: the
//! phases in order, each with bytes by network and class, and the switchover evidence.
//!
//! The algorithm, on 1 ms bins ([`super::timeline::BIN_NS`]):
//! - the *bulk* bins are those with data-class bytes (vMotion, NFC, NFS, iSCSI, vSAN, FT,
//!   replication);
//! - `setup` runs from the window start to the first bulk bin (control traffic only);
//! - for a hot migration with vMotion bytes, the *final burst* is the last run of vMotion bins
//!   whose gaps are at most [`SWITCHOVER_GAP_NS`]; when that run holds more than
//!   [`MAX_BURST_SHARE`] of the vMotion bytes no pause separated it from the pre-copy, and the
//!   final burst is the last vMotion bin alone. `switchover` runs from the final burst's start to
//!   the first RARP frame seen from then until [`RARP_SLACK_NS`] after the window (or to the last
//!   vMotion byte when there is none), and at the latest at the window's end;
//! - `transfer` runs from the first bulk bin to the switchover (or to the last bulk bin);
//! - `cleanup` runs from the end of the switchover (or of the last bulk bin) to the window end:
//!   data after the switchover (the storage I/O of other VMs, cold data) falls in it.
//!
//! The phases tile the window: each starts where the one before it ended, the first at the
//! window's start, the last ends at the window's end. Empty phases are left out.

use std::collections::BTreeMap;

use super::timeline::BIN_NS;
use super::{Breakdown, Phase, RarpSeen, Scope, Switchover};
use crate::vocab::kind::PowerState;
use crate::vocab::ports::TrafficClass;

/// Largest pause inside the final vMotion burst.
pub const SWITCHOVER_GAP_NS: i64 = 10_000_000;
/// Largest share of the vMotion bytes a final burst may hold to count as separated.
pub const MAX_BURST_SHARE: f64 = 0.5;
/// How long after the window a RARP frame is still matched to the switchover.
pub const RARP_SLACK_NS: i64 = 2_000_000_000;

/// Computes the phases and the switchover.
pub(crate) fn phases(
    scope: &Scope<'_>,
    state: PowerState,
    start: i64,
    end: i64,
) -> (Vec<Phase>, Option<Switchover>) {
    let mut data: BTreeMap<i64, u64> = BTreeMap::new();
    let mut vmotion: BTreeMap<i64, u64> = BTreeMap::new();
    scope.for_each(|c, idx, bytes| {
        if c.class.is_data() && bytes > 0 {
            *data.entry(idx).or_default() += bytes;
            if c.class == TrafficClass::Vmotion {
                *vmotion.entry(idx).or_default() += bytes;
            }
        }
    });
    let (Some((&first_idx, _)), Some((&last_idx, _))) =
        (data.first_key_value(), data.last_key_value())
    else {
        return (build(scope, &[("setup", start, end)]), None);
    };
    let first_bulk = (first_idx.saturating_mul(BIN_NS)).max(start);
    let last_bulk_end = ((last_idx + 1).saturating_mul(BIN_NS)).min(end);
    let mut cuts: Vec<(&'static str, i64, i64)> = vec![("setup", start, first_bulk)];
    let mut switchover = None;
    if state == PowerState::Hot && !vmotion.is_empty() {
        let total: u64 = vmotion.values().sum();
        let mut iter = vmotion.iter().rev();
        let (&last_vm, &last_bytes) = iter.next().unwrap_or((&last_idx, &0));
        let mut burst_start = last_vm;
        let mut burst_bytes = last_bytes;
        for (&idx, &b) in iter {
            if (burst_start - idx).saturating_mul(BIN_NS) > SWITCHOVER_GAP_NS {
                break;
            }
            burst_start = idx;
            burst_bytes += b;
        }
        let separated = (burst_bytes as f64) <= MAX_BURST_SHARE * total as f64;
        if !separated {
            burst_start = last_vm;
            burst_bytes = last_bytes;
        }
        let burst_ts = (burst_start.saturating_mul(BIN_NS)).max(first_bulk);
        let last_vm_end = ((last_vm + 1).saturating_mul(BIN_NS)).min(end);
        let rarp = scope
            .tl
            .rarps
            .iter()
            .find(|r| r.ts >= burst_ts && r.ts <= end.saturating_add(RARP_SLACK_NS));
        // The phases tile the window: a RARP after the window ends the switchover at the
        // window's end (the switchover evidence still gives its time).
        let sw_end = rarp.map_or(last_vm_end, |r| r.ts.max(last_vm_end)).min(end);
        cuts.push(("transfer", first_bulk, burst_ts));
        cuts.push(("switchover", burst_ts, sw_end));
        cuts.push(("cleanup", sw_end, end));
        switchover = Some(Switchover {
            burst_start: burst_ts,
            burst_bytes,
            burst_separated: separated,
            rarp: rarp.map(|r| RarpSeen {
                mac: r.mac,
                ts: r.ts,
                frames: scope
                    .tl
                    .rarps
                    .iter()
                    .filter(|x| {
                        x.mac == r.mac
                            && x.ts >= burst_ts
                            && x.ts <= end.saturating_add(RARP_SLACK_NS)
                    })
                    .count() as u64,
                after_last_vmotion_byte_ns: r.ts - last_vm_end,
            }),
        });
    } else {
        cuts.push(("transfer", first_bulk, last_bulk_end));
        cuts.push(("cleanup", last_bulk_end, end));
    }
    (build(scope, &cuts), switchover)
}

/// The phase of bin `idx`: the one holding its start time (the one before a gap, the last
/// after the end).
fn phase_of(cuts: &[(&'static str, i64, i64)], idx: i64) -> usize {
    let t = idx.saturating_mul(BIN_NS);
    let last = cuts.len().saturating_sub(1);
    cuts.iter()
        .position(|(_, s, e)| t < *e && t >= *s)
        .or_else(|| {
            cuts.iter()
                .position(|(_, s, _)| t < *s)
                .map(|i| i.saturating_sub(1))
        })
        .unwrap_or(last)
}

/// Fills the phases' breakdowns; a bin belongs to the phase holding its start time.
fn build(scope: &Scope<'_>, cuts: &[(&'static str, i64, i64)]) -> Vec<Phase> {
    let cuts: Vec<(&'static str, i64, i64)> = cuts.iter().copied().filter(|c| c.2 > c.1).collect();
    let mut bds: Vec<Breakdown> = vec![Breakdown::default(); cuts.len()];
    scope.for_each(|c, idx, bytes| {
        if let Some(b) = bds.get_mut(phase_of(&cuts, idx)) {
            b.add(c, bytes);
        }
    });
    scope.for_each_acknowledged(|c, idx, bytes| {
        if let Some(b) = bds.get_mut(phase_of(&cuts, idx)) {
            b.add_acknowledged(c, bytes);
        }
    });
    cuts.iter()
        .zip(bds)
        .map(|(&(name, s, e), breakdown)| Phase {
            name,
            start: s,
            end: e,
            active_data_classes: breakdown
                .payload_bytes_by_class
                .iter()
                .filter(|(c, b)| c.is_data() && **b > 0)
                .map(|(c, _)| *c)
                .collect(),
            breakdown,
        })
        .collect()
}
