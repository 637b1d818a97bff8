//! Migration stage: labelled windows (or detected sessions) in, per-migration byte breakdowns,
//! phases, switchover evidence and the evidence claims are checked against out.
//!
//! In: the [`Timeline`] of the whole capture, the located conversations, and the migration labels.
//! Out: one [`Analysed`] per migration: payload bytes by network and by class in its window, on
//! flows with an endpoint on its source or destination host, or with no vmk at either end (all
//! flows when the label names no host), its phases (see [`phases`]), its switchover, and the
//! [`Evidence`] (data bytes by network and class) that [`crate::verify`] reads. This stage knows
//! nothing of claim sets.

pub mod coverage;
pub mod detect;
pub mod fold;
pub mod hosts;
pub mod phases;
pub mod series;
pub mod timeline;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::classify::inventory::{InventorySource, Network, VmkInventory};
use crate::classify::{Classified, networks_of};
use crate::labels::Migration;
use crate::vocab::Mac;
use crate::vocab::kind::KindState;
use crate::vocab::ports::TrafficClass;
use crate::vocab::units::human_bytes;
use crate::vocab::vantage::Coverage;
use coverage::View;
use hosts::HostMatch;
use timeline::{BIN_NS, SeriesKind, Timeline};

/// A conversation located in the inventory, once per analysis.
#[derive(Debug, Clone)]
pub struct LocatedConv<'i> {
    /// Index into the timeline's series.
    pub series: usize,
    /// Class.
    pub class: TrafficClass,
    /// Hosts of its vmk endpoints: the inventory's names, borrowed (a copy of each for every
    /// conversation was two allocations per conversation).
    pub hosts: [Option<&'i str>; 2],
    /// Networks it counts under.
    pub networks: [Option<Network>; 2],
    /// Whether an endpoint is on its host's provisioning-or-management network.
    pub provisioning_or_management: bool,
    /// Neither end is a vmk.
    pub unknown: bool,
    /// A flow of it began with HTTP or TLS: whatever its port, not vMotion or NFC.
    pub web: bool,
    /// What shows it is vSphere traffic, when something does (see [`VsphereEvidence`]).
    pub vsphere: Option<VsphereEvidence>,
}

impl LocatedConv<'_> {
    /// The networks its bytes count under (both ends' when they differ): the one attribution
    /// the report's breakdowns and the HTML timelines share.
    pub fn counted_networks(&self) -> impl Iterator<Item = Network> + '_ {
        self.networks.iter().flatten().copied()
    }
}

/// What shows a conversation is vSphere's, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VsphereEvidence {
    /// The server sent VMware's authd banner (NFC on TCP 902).
    AuthdBanner,
    /// An end is a vmk of the given inventory.
    Inventory,
    /// An end's MAC carries a VMware OUI (vmknics and VMs have one).
    VmwareMac,
}

impl VsphereEvidence {
    /// In words, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            VsphereEvidence::AuthdBanner => "VMware authd banner on TCP 902",
            VsphereEvidence::Inventory => "endpoints in the inventory",
            VsphereEvidence::VmwareMac => "endpoints with VMware MACs",
        }
    }
}

/// Locates every conversation of the timeline.
pub fn locate_all<'i>(
    tl: &Timeline,
    c: &Classified,
    inv: &'i VmkInventory,
) -> Vec<LocatedConv<'i>> {
    tl.series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind != SeriesKind::Free)
        .map(|(i, s)| {
            let k = &s.key;
            let stats = c
                .convs
                .binary_search_by_key(k, |(key, _)| *key)
                .ok()
                .and_then(|i| c.convs.get(i))
                .map(|(_, s)| *s)
                .unwrap_or_default();
            let cl = c.locate(inv, k.client, k.vlan, k.class);
            let sv = c.locate(inv, k.server, k.vlan, k.class);
            let host = |v: Option<usize>| v.and_then(|i| inv.vmks.get(i)).map(|v| v.host.as_str());
            let hosts = [host(cl.vmk), host(sv.vmk)];
            let pom = [(&hosts[0], cl.network), (&hosts[1], sv.network)]
                .iter()
                .any(|(h, n)| match h {
                    Some(h) => {
                        let want = if inv.host_has_provisioning(h) {
                            Network::Provisioning
                        } else {
                            Network::Management
                        };
                        *n == want
                    }
                    None => false,
                });
            let given = inv.source != InventorySource::Inferred;
            let vsphere = if stats.authd {
                Some(VsphereEvidence::AuthdBanner)
            } else if given && (cl.vmk.is_some() || sv.vmk.is_some()) {
                Some(VsphereEvidence::Inventory)
            } else if c.vmware_mac(k.client) || c.vmware_mac(k.server) {
                Some(VsphereEvidence::VmwareMac)
            } else {
                None
            };
            LocatedConv {
                series: i,
                class: k.class,
                networks: networks_of(cl.network, sv.network),
                provisioning_or_management: pom,
                unknown: cl.vmk.is_none() && sv.vmk.is_none(),
                hosts,
                web: stats.web,
                vsphere,
            }
        })
        .collect()
}

/// Bytes by network and class over some span.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    /// All TCP/UDP payload bytes.
    pub payload_bytes: u64,
    /// Payload bytes of data classes (vMotion, NFC, NFS, iSCSI, vSAN, FT, replication).
    pub data_bytes: u64,
    /// By network (a conversation with ends on two networks counts under both).
    pub payload_bytes_by_network: BTreeMap<Network, u64>,
    /// By class.
    pub payload_bytes_by_class: BTreeMap<TrafficClass, u64>,
    /// The part of `data_bytes` counted from acknowledgements: TCP directions none of whose
    /// segments was captured, their bytes taken from what the receiver acknowledged.
    pub acknowledged_data_bytes: u64,
}

impl Breakdown {
    fn add(&mut self, conv: &LocatedConv, bytes: u64) {
        self.payload_bytes += bytes;
        if conv.class.is_data() {
            self.data_bytes += bytes;
        }
        for n in conv.counted_networks() {
            *self.payload_bytes_by_network.entry(n).or_default() += bytes;
        }
        *self.payload_bytes_by_class.entry(conv.class).or_default() += bytes;
    }

    /// Notes bytes of `conv` already added that came from acknowledgements.
    fn add_acknowledged(&mut self, conv: &LocatedConv, bytes: u64) {
        if conv.class.is_data() {
            self.acknowledged_data_bytes += bytes;
        }
    }
}

/// A phase of a migration.
#[derive(Debug, Clone)]
pub struct Phase {
    /// `setup`, `transfer`, `switchover` or `cleanup`.
    pub name: &'static str,
    /// Start (ns, inclusive).
    pub start: i64,
    /// End (ns, exclusive, except for the last phase).
    pub end: i64,
    /// Data classes with bytes in the phase.
    pub active_data_classes: Vec<TrafficClass>,
    /// Bytes.
    pub breakdown: Breakdown,
}

/// What the switchover looked like.
#[derive(Debug, Clone)]
pub struct Switchover {
    /// Start of the final vMotion burst (ns).
    pub burst_start: i64,
    /// vMotion payload bytes in the final burst.
    pub burst_bytes: u64,
    /// Whether a pause separated the final burst from the pre-copy.
    pub burst_separated: bool,
    /// The RARP frame that announced the VM at its new host, when one was seen.
    pub rarp: Option<RarpSeen>,
}

/// A RARP frame matched to a switchover.
#[derive(Debug, Clone)]
pub struct RarpSeen {
    /// The VM's MAC (the RARP sender).
    pub mac: Mac,
    /// Time of the first RARP frame (ns).
    pub ts: i64,
    /// RARP frames from that MAC in the window.
    pub frames: u64,
    /// Nanoseconds from the last vMotion byte to the RARP.
    pub after_last_vmotion_byte_ns: i64,
}

/// What a migration's traffic shows, as claims need it: data bytes in its window and scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Payload bytes of data classes in the migration's window and scope.
    pub data_bytes: u64,
    /// Data bytes by network (a flow whose ends are on two networks counts under both).
    pub by_network: BTreeMap<Network, u64>,
    /// Data bytes on each host's provisioning-or-management network.
    pub provisioning_or_management: u64,
    /// Data bytes by class.
    pub by_class: BTreeMap<TrafficClass, u64>,
    /// Data bytes between addresses of which neither is a vmk.
    pub unknown_bytes: u64,
    /// Data bytes the capture lost (TCP sequence space skipped in the window and not filled).
    pub not_captured_bytes: u64,
    /// The part of `data_bytes` counted from the receivers' acknowledgements (the senders'
    /// segments were not captured); counted like captured bytes everywhere.
    pub acknowledged_data_bytes: u64,
    /// Labelled memory size in MiB.
    pub memory_mb: Option<u64>,
    /// Labelled vSphere version.
    pub vsphere_version: Option<String>,
    /// What the inputs saw of the migration's hosts' vmks (everything, for a capture of unknown
    /// vantage): a claim about a network no input saw is `unobservable`.
    pub view: View,
}

impl Evidence {
    /// The share of the data bytes that `bytes` makes (0 when there are none).
    pub fn share(&self, bytes: u64) -> f64 {
        if self.data_bytes == 0 {
            0.0
        } else {
            bytes as f64 / self.data_bytes as f64
        }
    }
}

/// One migration (labelled) or session (detected), as its traffic shows it.
#[derive(Debug, Clone)]
pub struct Analysed {
    /// Label id, or `detected-N`.
    pub id: String,
    /// VM name, when labelled.
    pub vm: Option<String>,
    /// Kind and state (labelled, or the best guess).
    pub kind_state: KindState,
    /// Whether a label defined it (only labelled migrations get verdicts).
    pub labelled: bool,
    /// For detected sessions: every kind and state the traffic is consistent with, best first.
    pub looks_like: Vec<KindState>,
    /// Window start (ns).
    pub start: i64,
    /// Window end (ns).
    pub end: i64,
    /// Source host, when labelled.
    pub source_host: Option<String>,
    /// Destination host, when labelled.
    pub dest_host: Option<String>,
    /// Hosts whose vmks carried the migration's data bytes.
    pub hosts: Vec<String>,
    /// Labelled memory size.
    pub memory_mb: Option<u64>,
    /// Labelled disk size.
    pub disk_mb: Option<u64>,
    /// Labelled vSphere version.
    pub vsphere_version: Option<String>,
    /// Bytes in the window.
    pub breakdown: Breakdown,
    /// What the claims are checked against.
    pub evidence: Evidence,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Switchover evidence (hot migrations with vMotion data).
    pub switchover: Option<Switchover>,
    /// The label's hosts and the inventory hosts they matched.
    pub host_matches: Vec<HostMatch>,
    /// Which flows the migration's bytes were taken from.
    pub scope: WindowScope,
    /// Why no claim of this migration can be decided, when something other than its bytes says
    /// so (a window whose traffic could be another migration's).
    pub inconclusive_because: Option<String>,
    /// What a reader of the verdicts should know: hosts not found, how the bytes were taken.
    pub notes: Vec<String>,
    /// The evidence under the other reading of an inventory that cannot say some services.
    pub uncertain: Option<Uncertain>,
    /// The inventory hosts its scope keeps flows of (empty: every flow in the window).
    pub scope_hosts: BTreeSet<String>,
}

/// The other reading of an uncertain inventory.
#[derive(Debug, Clone)]
pub struct Uncertain {
    /// What is uncertain, in words.
    pub what: String,
    /// The evidence if the vmks without a known service had the unknown ones.
    pub evidence: Evidence,
}

/// The note of a migration whose hosts' vmks the inventory does not know while the inputs saw
/// only some vmks.
pub(crate) const VIEW_UNKNOWN: &str = "the inputs saw only some vmks, and the inventory names no \
     vmk of this migration's hosts: which of its networks they saw is unknown, so no claim about \
     a network can be decided";

/// Which flows a migration's bytes were taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowScope {
    /// Flows with an end on one of the label's hosts (or on no vmk at all).
    Hosts,
    /// Every flow in the window: the label names no host, or none of its hosts is in the
    /// inventory (right for a capture of one migration at a time).
    Window,
}

/// Which conversations a migration looks at, and the bytes they carry within a window.
pub(crate) struct Scope<'a> {
    pub tl: &'a Timeline,
    pub convs: Vec<&'a LocatedConv<'a>>,
    pub first_bin: i64,
    pub last_bin: i64,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(
        tl: &'a Timeline,
        located: &'a [LocatedConv<'a>],
        hosts: &BTreeSet<String>,
        start: i64,
        end: i64,
    ) -> Scope<'a> {
        let convs = located
            .iter()
            .filter(|c| {
                // Flows between addresses that are no vmk may belong to these hosts: keep them,
                // so that a migration whose data runs there is seen as unattributed.
                hosts.is_empty()
                    || c.unknown
                    || c.hosts.iter().flatten().any(|h| hosts.contains(*h))
            })
            .collect();
        Scope {
            tl,
            convs,
            first_bin: start.div_euclid(BIN_NS),
            last_bin: end.div_euclid(BIN_NS),
        }
    }

    /// Calls `f(conv, bin index, bytes)` for every bin in the window.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&'a LocatedConv<'a>, i64, u64)) {
        for &c in &self.convs {
            let Some(s) = self.tl.series.get(c.series) else {
                continue;
            };
            for b in s
                .bins
                .starting_at(self.first_bin)
                .take_while(|b| b.idx <= self.last_bin)
            {
                f(c, b.idx, b.bytes[0] + b.bytes[1]);
            }
        }
    }

    /// Calls `f(conv, bin index, bytes)` for the bytes of each bin in the window that came from
    /// acknowledgements (already among the bytes [`Scope::for_each`] gives).
    pub(crate) fn for_each_acknowledged(&self, mut f: impl FnMut(&LocatedConv, i64, u64)) {
        for c in &self.convs {
            let Some(s) = self.tl.series.get(c.series) else {
                continue;
            };
            for &(idx, bytes) in s.acknowledged() {
                if (self.first_bin..=self.last_bin).contains(&idx) {
                    f(c, idx, bytes);
                }
            }
        }
    }

    pub(crate) fn evidence(&self) -> (Breakdown, Evidence) {
        let mut br = Breakdown::default();
        let mut ev = Evidence::default();
        let mut lost: i64 = 0;
        for c in self.convs.iter().filter(|c| c.class.is_data()) {
            if let Some(s) = self.tl.series.get(c.series) {
                lost += s
                    .not_captured()
                    .iter()
                    .filter(|(idx, _)| (self.first_bin..=self.last_bin).contains(idx))
                    .map(|(_, d)| d)
                    .sum::<i64>();
            }
        }
        ev.not_captured_bytes = lost.max(0) as u64;
        self.for_each(|c, _, bytes| {
            br.add(c, bytes);
            if c.class.is_data() {
                ev.data_bytes += bytes;
                for n in c.networks.iter().flatten() {
                    *ev.by_network.entry(*n).or_default() += bytes;
                }
                *ev.by_class.entry(c.class).or_default() += bytes;
                if c.provisioning_or_management {
                    ev.provisioning_or_management += bytes;
                }
                if c.unknown {
                    ev.unknown_bytes += bytes;
                }
            }
        });
        self.for_each_acknowledged(|c, _, bytes| br.add_acknowledged(c, bytes));
        ev.acknowledged_data_bytes = br.acknowledged_data_bytes;
        (br, ev)
    }

    pub(crate) fn hosts(&self) -> Vec<String> {
        let mut hosts: BTreeSet<&str> = BTreeSet::new();
        self.for_each(|c, _, bytes| {
            if bytes > 0 && c.class.is_data() {
                hosts.extend(c.hosts.iter().flatten());
            }
        });
        hosts.into_iter().map(str::to_string).collect()
    }
}

/// The note a migration gets when some of its data bytes came from acknowledgements.
pub(crate) fn acknowledged_note(ev: &Evidence) -> Option<String> {
    (ev.acknowledged_data_bytes > 0).then(|| {
        format!(
            "{} of data counted from the receivers' acknowledgements: the senders' frames were \
             not captured",
            human_bytes(ev.acknowledged_data_bytes)
        )
    })
}

/// Most inventory hosts a warning about a label host lists.
const KNOWN_HOSTS_LISTED: usize = 10;

/// Analyses the labelled migrations. A label's hosts are looked up in the inventory (see
/// [`hosts`]); when it names hosts of which none is there, the window's whole traffic counts as
/// the migration's, and its claims are inconclusive when another labelled window overlaps it.
/// `coverage` is what the inputs could see: each migration's evidence records what they saw of
/// its hosts' vmks (see [`coverage::view`]).
pub fn labelled(
    labels: &[Migration],
    tl: &Timeline,
    located: &[LocatedConv],
    inv: &VmkInventory,
    other: Option<&[LocatedConv]>,
    coverage: &Coverage,
) -> Vec<Analysed> {
    let unknown = inv.unknown_services();
    labels
        .iter()
        .map(|m| {
            let (start, end) = (m.start.0, m.end.0);
            let host_matches: Vec<HostMatch> = [&m.source_host, &m.dest_host]
                .into_iter()
                .flatten()
                .map(|h| hosts::find(h, inv))
                .collect();
            let hosts: BTreeSet<String> = host_matches
                .iter()
                .filter_map(|h| h.matched.as_ref().map(|(name, _)| name.clone()))
                .collect();
            let mut notes = Vec::new();
            let mut inconclusive_because = None;
            let missing: Vec<&str> = host_matches
                .iter()
                .filter(|h| h.matched.is_none())
                .map(|h| h.label.as_str())
                .collect();
            if !missing.is_empty() {
                let known = inv.host_names();
                notes.push(format!(
                    "label host{} {} not in the inventory ({} host{}: {})",
                    if missing.len() == 1 { "" } else { "s" },
                    missing
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    known.len(),
                    if known.len() == 1 { "" } else { "s" },
                    match known.len() {
                        0 => "none".to_string(),
                        // An inventory of thousands of hosts is not listed in every warning.
                        n if n > KNOWN_HOSTS_LISTED => format!(
                            "{} and {} more",
                            known[..KNOWN_HOSTS_LISTED].join(", "),
                            n - KNOWN_HOSTS_LISTED
                        ),
                        _ => known.join(", "),
                    }
                ));
            }
            let scope_kind = if hosts.is_empty() {
                WindowScope::Window
            } else {
                WindowScope::Hosts
            };
            if scope_kind == WindowScope::Window && !host_matches.is_empty() {
                notes.push(
                    "none of its hosts is in the inventory: all the window's traffic counts as \
                     this migration's"
                        .into(),
                );
                let overlapping: Vec<&str> = labels
                    .iter()
                    .filter(|o| o.id != m.id && o.start.0 <= end && start <= o.end.0)
                    .map(|o| o.id.as_str())
                    .collect();
                if !overlapping.is_empty() {
                    inconclusive_because = Some(format!(
                        "its hosts are not in the inventory and its window overlaps {}: the \
                         window's traffic could be another migration's",
                        overlapping.join(", ")
                    ));
                }
            }
            let scope = Scope::new(tl, located, &hosts, start, end);
            let (breakdown, mut evidence) = scope.evidence();
            let data_hosts = scope.hosts();
            let view = coverage::view(inv, &coverage::hosts_of(&hosts, &data_hosts, inv), coverage);
            if view.unknown() {
                notes.push(VIEW_UNKNOWN.into());
            }
            notes.extend(acknowledged_note(&evidence));
            evidence.memory_mb = m.memory_mb;
            evidence.vsphere_version = m.vsphere_version.clone();
            evidence.view = view.clone();
            let uncertain = other.map(|other| {
                let (_, mut alt) = Scope::new(tl, other, &hosts, start, end).evidence();
                alt.memory_mb = m.memory_mb;
                alt.vsphere_version = m.vsphere_version.clone();
                alt.view = view;
                let names: Vec<&str> = unknown.iter().map(|s| s.name()).collect();
                Uncertain {
                    what: format!(
                        "the inventory cannot say whether its vmks without a service have {}",
                        names.join(", ")
                    ),
                    evidence: alt,
                }
            });
            let (phases, switchover) = phases::phases(&scope, m.state, start, end);
            Analysed {
                id: m.id.clone(),
                vm: m.vm.clone(),
                kind_state: KindState::new(m.kind, m.state),
                labelled: true,
                looks_like: Vec::new(),
                start,
                end,
                source_host: m.source_host.clone(),
                dest_host: m.dest_host.clone(),
                hosts: data_hosts,
                memory_mb: m.memory_mb,
                disk_mb: m.disk_mb,
                vsphere_version: m.vsphere_version.clone(),
                breakdown,
                evidence,
                phases,
                switchover,
                host_matches,
                scope: scope_kind,
                inconclusive_because,
                notes,
                uncertain,
                scope_hosts: hosts,
            }
        })
        .collect()
}
