//! Migration sessions found without labels: bursts of bulk data between vmks.
//!
//! In: the located conversations and the timeline. Out: one unlabelled [`Analysed`] per session,
//! with the kinds it looks like (best first); [`crate::verify`] then lists the claim set rows of
//! those kinds its numbers do not contradict, but gives no verdicts (a label is the ground truth a
//! verdict needs).
//!
//! A session rests on evidence: it is a run of 1 ms bins holding at least [`MIN_SESSION_BYTES`]
//! of data-class bytes in conversations that show they are vSphere's ([`VsphereEvidence`]: the
//! authd banner, an end in the given inventory, or an end with a VMware MAC) and did not begin
//! with HTTP or TLS (a development web server on port 8000 is not vMotion). A session ends where
//! no such byte flows for [`SESSION_GAP_NS`], or for [`NEW_CONNECTIONS_GAP_NS`] when new data
//! connections open before the bytes resume (the next migration). Only bulk bins count
//! ([`BULK_BIN_BYTES`]).

//! It looks like: a hot vMotion or xvMotion when most data is vMotion class on the vMotion network
//! (xvMotion first when NFC or storage data is also present); a cold migration of any kind when
//! most data is NFC, or vMotion class outside the vMotion network (vSphere 8 UDT); a Storage
//! vMotion when most data is NFS or iSCSI.

use std::collections::{BTreeMap, BTreeSet};

use super::timeline::{BIN_NS, Timeline};
use super::{Analysed, KindState, LocatedConv, Scope, VsphereEvidence, coverage, phases};
use crate::classify::inventory::{Network, VmkInventory};
use crate::vocab::kind::{MigrationKind, PowerState};
use crate::vocab::ports::TrafficClass;
use crate::vocab::vantage::Coverage;

/// A pause without bulk data this long ends a session.
pub const SESSION_GAP_NS: i64 = 2_000_000_000;
/// A session must move at least this many data bytes.
pub const MIN_SESSION_BYTES: u64 = 1 << 20;
/// A pause this long ends a session when new data connections open before the bytes resume.
pub const NEW_CONNECTIONS_GAP_NS: i64 = 200_000_000;
/// A 1 ms bin is bulk when its eligible conversations moved at least this much (about 131
/// Mbit/s, below the 250 Mbit/s vSphere needs per concurrent vMotion): other VMs' storage I/O
/// trickling between migrations does not join them into one session.
pub const BULK_BIN_BYTES: u64 = 16 << 10;

/// Whether a conversation's bytes may make a session: data class, a vmk at an end, evidence that
/// it is vSphere's, and no web protocol.
fn eligible(c: &LocatedConv) -> bool {
    c.class.is_data() && !c.unknown && !c.web && c.vsphere.is_some()
}

/// Finds and describes sessions. `coverage` is what the inputs could see: each session's evidence
/// records what they saw of the vmks of the hosts its data touched (every inventory host when
/// none is known; see [`coverage::view`]).
pub fn detect(
    tl: &Timeline,
    located: &[LocatedConv],
    inv: &VmkInventory,
    coverage: &Coverage,
) -> Vec<Analysed> {
    let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
    let mut series_ok = vec![false; tl.series.len()];
    for c in located.iter().filter(|c| eligible(c)) {
        if let Some(s) = tl.series.get(c.series) {
            for b in s.bins.iter() {
                *bins.entry(b.idx).or_default() += b.bytes[0] + b.bytes[1];
            }
        }
        if let Some(ok) = series_ok.get_mut(c.series) {
            *ok = true;
        }
    }
    // When the data connections of eligible conversations opened, in time order.
    let mut opened: Vec<i64> = tl
        .starts
        .iter()
        .filter(|(_, id)| series_ok.get(*id as usize).copied().unwrap_or(false))
        .map(|(ts, _)| *ts)
        .collect();
    opened.sort_unstable();
    let opened_between = |from: i64, to: i64| {
        let i = opened.partition_point(|t| *t < from);
        opened.get(i).is_some_and(|t| *t <= to)
    };
    bins.retain(|_, bytes| *bytes >= BULK_BIN_BYTES);
    let mut sessions: Vec<(i64, i64, u64)> = Vec::new();
    for (&idx, &bytes) in &bins {
        match sessions.last_mut() {
            Some(s) if continues(s.1, idx, &opened_between) => {
                s.1 = idx;
                s.2 += bytes;
            }
            _ => sessions.push((idx, idx, bytes)),
        }
    }
    sessions
        .into_iter()
        .filter(|s| s.2 >= MIN_SESSION_BYTES)
        .enumerate()
        .map(|(n, (a, b, _))| {
            let (start, end) = (a.saturating_mul(BIN_NS), (b + 1).saturating_mul(BIN_NS) - 1);
            let scope = Scope::new(tl, located, &BTreeSet::new(), start, end);
            let (breakdown, mut evidence) = scope.evidence();
            let data_hosts = scope.hosts();
            evidence.view = coverage::view(
                inv,
                &coverage::hosts_of(&BTreeSet::new(), &data_hosts, inv),
                coverage,
            );
            let looks = looks_like(&breakdown);
            let guess = looks
                .first()
                .copied()
                .unwrap_or(KindState::new(MigrationKind::Vmotion, PowerState::Hot));
            let (phases, switchover) = phases::phases(&scope, guess.state, start, end);
            let mut shown: BTreeSet<VsphereEvidence> = BTreeSet::new();
            scope.for_each(|c, _, bytes| {
                if bytes > 0 && eligible(c) {
                    shown.extend(c.vsphere);
                }
            });
            let mut notes = vec![format!(
                "detected without a label from data between vmks; vSphere's by {}",
                shown
                    .iter()
                    .map(|e| e.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            )];
            if evidence.view.unknown() {
                notes.push(super::VIEW_UNKNOWN.into());
            }
            notes.extend(super::acknowledged_note(&evidence));
            Analysed {
                id: format!("detected-{}", n + 1),
                vm: None,
                kind_state: guess,
                labelled: false,
                looks_like: looks,
                start,
                end,
                source_host: None,
                dest_host: None,
                hosts: data_hosts,
                memory_mb: None,
                disk_mb: None,
                vsphere_version: None,
                breakdown,
                evidence,
                phases,
                switchover,
                host_matches: Vec::new(),
                scope: super::WindowScope::Window,
                inconclusive_because: None,
                notes,
                uncertain: None,
                scope_hosts: BTreeSet::new(),
            }
        })
        .collect()
}

/// Whether data in bin `idx` continues the session whose last data bin is `last`: the pause is
/// short, and not a pause after which new connections carry the data.
fn continues(last: i64, idx: i64, opened_between: &dyn Fn(i64, i64) -> bool) -> bool {
    let gap = (idx - last).saturating_mul(BIN_NS);
    if gap > SESSION_GAP_NS {
        return false;
    }
    !(gap >= NEW_CONNECTIONS_GAP_NS
        && opened_between(
            (last + 1).saturating_mul(BIN_NS),
            (idx + 1).saturating_mul(BIN_NS) - 1,
        ))
}

fn looks_like(b: &super::Breakdown) -> Vec<KindState> {
    use MigrationKind::*;
    use PowerState::*;
    let class = |c: TrafficClass| b.payload_bytes_by_class.get(&c).copied().unwrap_or(0);
    let data = b.data_bytes.max(1) as f64;
    let vm = class(TrafficClass::Vmotion) as f64 / data;
    let nfc = class(TrafficClass::Nfc) as f64 / data;
    let storage = (class(TrafficClass::Nfs) + class(TrafficClass::Iscsi)) as f64 / data;
    let on_vmotion_net = b
        .payload_bytes_by_network
        .get(&Network::Vmotion)
        .copied()
        .unwrap_or(0) as f64
        / data;
    let ks = KindState::new;
    let cold_any = vec![
        ks(Vmotion, Cold),
        ks(StorageVmotion, Cold),
        ks(Xvmotion, Cold),
    ];
    if vm >= 0.5 && on_vmotion_net >= 0.5 {
        if nfc + storage >= 0.1 {
            vec![ks(Xvmotion, Hot), ks(Vmotion, Hot)]
        } else {
            vec![ks(Vmotion, Hot), ks(Xvmotion, Hot)]
        }
    } else if nfc >= 0.5 || vm >= 0.5 {
        cold_any
    } else if storage >= 0.5 {
        vec![ks(StorageVmotion, Hot), ks(StorageVmotion, Cold)]
    } else {
        Vec::new()
    }
}
