//! The report's `migrations` section: each analysed migration with its phases, switchover and
//! verdicts, times as RFC 3339 strings and durations in seconds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::classify::inventory::Network;
use crate::migration::coverage::VmkSeen;
use crate::migration::hosts::MatchedBy;
use crate::migration::{Analysed, Breakdown, Phase, Switchover, WindowScope};
use crate::verify::RowVerdict;
use crate::vocab::kind::{KindState, MigrationKind, PowerState};
use crate::vocab::time::rfc3339;

/// Seconds between two times in ns.
fn secs(start: i64, end: i64) -> f64 {
    (i128::from(end) - i128::from(start)) as f64 / 1e9
}

/// One migration in the report.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationReport {
    /// Label id, or `detected-N`.
    pub id: String,
    /// VM name, when labelled.
    pub vm: Option<String>,
    /// Kind (labelled, or the best guess).
    pub kind: MigrationKind,
    /// State (labelled, or the best guess).
    pub state: PowerState,
    /// Whether a label defined it (only labelled migrations get verdicts).
    pub labelled: bool,
    /// For detected sessions: every kind and state the traffic is consistent with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub looks_like: Vec<KindState>,
    /// Window start.
    pub start: String,
    /// Window end.
    pub end: String,
    /// Window length in seconds.
    pub duration_s: f64,
    /// Source host.
    pub source_host: Option<String>,
    /// Destination host.
    pub dest_host: Option<String>,
    /// The label's hosts and the inventory hosts they matched (labelled migrations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_matches: Vec<HostMatchReport>,
    /// Which flows the bytes were taken from: `hosts` (flows of the label's hosts) or `window`
    /// (every flow in the window).
    pub scope: WindowScope,
    /// Hosts whose vmks carried the migration's bytes.
    pub hosts: Vec<String>,
    /// When the inputs saw only some vmks (one file per vmk): every vmk of the migration's hosts
    /// and what the inputs captured of it. Absent for a capture that sees everything it holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<VmkCoverageReport>,
    /// Labelled memory size.
    pub memory_mb: Option<u64>,
    /// Labelled disk size.
    pub disk_mb: Option<u64>,
    /// Labelled vSphere version.
    pub vsphere_version: Option<String>,
    /// Bytes in the window.
    #[serde(flatten)]
    pub breakdown: Breakdown,
    /// Data bytes on each host's provisioning-or-management network.
    pub provisioning_or_management_data_bytes: u64,
    /// Data bytes between addresses of which neither is a vmk.
    pub unknown_network_data_bytes: u64,
    /// Data bytes the capture lost in the window (TCP sequence space never seen).
    pub not_captured_data_bytes: u64,
    /// Phases in order.
    pub phases: Vec<PhaseReport>,
    /// Switchover evidence (hot migrations with vMotion data).
    pub switchover: Option<SwitchoverReport>,
    /// One verdict per claim set row of this kind and state (labelled migrations).
    pub verdicts: Vec<RowVerdict>,
    /// For detected sessions: rows of the kinds it looks like that no claim contradicts, per
    /// claim set.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consistent_rows: BTreeMap<String, Vec<u32>>,
    /// What a reader of the verdicts should know (hosts not found, how the bytes were taken).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One vmk of a migration's hosts and what the inputs captured of it.
#[derive(Debug, Clone, Serialize)]
pub struct VmkCoverageReport {
    /// Host.
    pub host: String,
    /// vmk.
    pub vmk: String,
    /// The networks its services name (`storage` for a vmk without one); NFS or iSCSI over any
    /// vmk counts as `storage` besides.
    pub networks: Vec<Network>,
    /// The directions an input captured: `tx`, `rx`, `both`, or `none` when no input saw it.
    pub directions: &'static str,
}

impl From<&VmkSeen> for VmkCoverageReport {
    fn from(v: &VmkSeen) -> VmkCoverageReport {
        VmkCoverageReport {
            host: v.host.clone(),
            vmk: v.vmk.clone(),
            networks: v.networks.clone(),
            directions: v.seen.map_or("none", |d| d.name()),
        }
    }
}

/// A label's host and the inventory host it matched.
#[derive(Debug, Clone, Serialize)]
pub struct HostMatchReport {
    /// The name in the label.
    pub label: String,
    /// The inventory host, when one matched.
    pub inventory_host: Option<String>,
    /// `name`, `short_name` or `address`, when one matched.
    pub matched_by: Option<MatchedBy>,
}

impl MigrationReport {
    /// Describes an analysed migration with its verdicts (labelled) or consistent rows
    /// (detected).
    pub fn new(
        m: &Analysed,
        verdicts: Vec<RowVerdict>,
        consistent_rows: BTreeMap<String, Vec<u32>>,
    ) -> MigrationReport {
        MigrationReport {
            id: m.id.clone(),
            vm: m.vm.clone(),
            kind: m.kind_state.kind,
            state: m.kind_state.state,
            labelled: m.labelled,
            looks_like: m.looks_like.clone(),
            start: rfc3339(m.start),
            end: rfc3339(m.end),
            duration_s: secs(m.start, m.end),
            source_host: m.source_host.clone(),
            dest_host: m.dest_host.clone(),
            host_matches: m
                .host_matches
                .iter()
                .map(|h| HostMatchReport {
                    label: h.label.clone(),
                    inventory_host: h.matched.as_ref().map(|(n, _)| n.clone()),
                    matched_by: h.matched.as_ref().map(|(_, by)| *by),
                })
                .collect(),
            scope: m.scope,
            hosts: m.hosts.clone(),
            coverage: m
                .evidence
                .view
                .vmks
                .iter()
                .map(VmkCoverageReport::from)
                .collect(),
            memory_mb: m.memory_mb,
            disk_mb: m.disk_mb,
            vsphere_version: m.vsphere_version.clone(),
            breakdown: m.breakdown.clone(),
            provisioning_or_management_data_bytes: m.evidence.provisioning_or_management,
            unknown_network_data_bytes: m.evidence.unknown_bytes,
            not_captured_data_bytes: m.evidence.not_captured_bytes,
            phases: m.phases.iter().map(PhaseReport::from).collect(),
            switchover: m.switchover.as_ref().map(SwitchoverReport::from),
            verdicts,
            consistent_rows,
            notes: m.notes.clone(),
        }
    }
}

/// A phase of a migration.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// `setup`, `transfer`, `switchover` or `cleanup`.
    pub name: &'static str,
    /// Start (inclusive).
    pub start: String,
    /// End (exclusive, except for the last phase).
    pub end: String,
    /// Length in seconds.
    pub duration_s: f64,
    /// Data classes with bytes in the phase.
    pub active_data_classes: Vec<crate::vocab::ports::TrafficClass>,
    /// Bytes.
    #[serde(flatten)]
    pub breakdown: Breakdown,
}

impl From<&Phase> for PhaseReport {
    fn from(p: &Phase) -> PhaseReport {
        PhaseReport {
            name: p.name,
            start: rfc3339(p.start),
            end: rfc3339(p.end),
            duration_s: secs(p.start, p.end),
            active_data_classes: p.active_data_classes.clone(),
            breakdown: p.breakdown.clone(),
        }
    }
}

/// What the switchover looked like.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchoverReport {
    /// Start of the final vMotion burst.
    pub burst_start: String,
    /// vMotion payload bytes in the final burst.
    pub burst_bytes: u64,
    /// Whether a pause separated the final burst from the pre-copy.
    pub burst_separated: bool,
    /// The RARP frame that announced the VM at its new host, when one was seen.
    pub rarp: Option<RarpReport>,
}

/// A RARP frame matched to a switchover.
#[derive(Debug, Clone, Serialize)]
pub struct RarpReport {
    /// The VM's MAC (the RARP sender).
    pub mac: String,
    /// Time of the first RARP frame.
    pub ts: String,
    /// RARP frames from that MAC in the window.
    pub frames: u64,
    /// Seconds from the last vMotion byte to the RARP.
    pub after_last_vmotion_byte_s: f64,
}

impl From<&Switchover> for SwitchoverReport {
    fn from(s: &Switchover) -> SwitchoverReport {
        SwitchoverReport {
            burst_start: rfc3339(s.burst_start),
            burst_bytes: s.burst_bytes,
            burst_separated: s.burst_separated,
            rarp: s.rarp.as_ref().map(|r| RarpReport {
                mac: r.mac.to_string(),
                ts: rfc3339(r.ts),
                frames: r.frames,
                after_last_vmotion_byte_s: r.after_last_vmotion_byte_ns as f64 / 1e9,
            }),
        }
    }
}
