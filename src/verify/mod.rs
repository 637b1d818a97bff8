//! Verify stage: claim sets in, verdicts out.
//!
//! In: a [`ClaimSet`] (the blog's table, VMware's documentation, or a user's file, all in one JSON
//! format) and the analysed migrations, each with its [`Evidence`]: data bytes by network and
//! class.
//! Out: per migration and row, `confirmed`, `contradicted` or `inconclusive` with the numbers and
//! thresholds behind each claim (a claim may also be `not_applicable` or `unobservable`); per row
//! over all migrations, the same or `not_observed`.
//!
//! What the inputs saw (the evidence's [`View`]) bounds what the bytes can say: a claim about a
//! network no input captured on the migration's hosts is `unobservable`, never `contradicted`.
//! Per claim kind, when the view is partial:
//! - `carries`, `carries_any`: the named networks and every network that could carry the
//!   migration's data (the share's denominator) must have been captured; else unobservable.
//! - `class_share`: a class can run over any vmk: every vmk must have been captured.
//! - `not_used`: the named network must have been captured. Its share of the captured data is
//!   then an upper bound of its share of all the data: at or below the ceiling it is confirmed;
//!   above it, only a complete view decides, else unobservable.
//! - `volume_at_most`, `volume_at_least`: no denominator; the named network must have been
//!   captured.
//!
//! A direction alone never makes a network unobservable: a vmk's flows cross its capture point
//! either way (their data, or the acknowledgements that count it).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::classify::inventory::Network;
use crate::migration::Evidence;
use crate::migration::coverage::{View, VmkSeen};
use crate::vocab::kind::{MigrationKind, PowerState};
use crate::vocab::ports::TrafficClass;
use crate::vocab::units::human_bytes;

mod claims;
pub mod findings;
pub use claims::ClaimSetError;

/// The claim set built from the blog's table.
pub const ARTICLE: &str = include_str!("../../claims/article.json");
/// The claim set built from VMware's documentation.
pub const VMWARE_DOCS: &str = include_str!("../../claims/vmware-docs.json");

/// Below this many data bytes a migration's verdicts are inconclusive.
pub const MIN_DATA_BYTES: u64 = 4096;
/// Above this share of data bytes between addresses that are no vmk, verdicts are inconclusive.
pub const MAX_UNKNOWN_SHARE: f64 = 0.5;
/// Default share a claimed carrier must reach.
pub const DEFAULT_MIN_SHARE: f64 = 0.10;
/// Default share a network said to be unused may still carry.
pub const DEFAULT_MAX_SHARE: f64 = 0.02;

/// A network as a claim names it: a concrete network, or the blog's "provisioning or
/// management", resolved per host (provisioning when the host has a provisioning vmk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetRef {
    /// One network.
    Net(Network),
    /// Provisioning where the host has it, else management.
    ProvisioningOrManagement,
}

impl<'de> Deserialize<'de> for NetRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NetRef, D::Error> {
        let s = String::deserialize(d)?;
        if s == "provisioning_or_management" {
            return Ok(NetRef::ProvisioningOrManagement);
        }
        Network::ALL
            .iter()
            .find(|n| n.name() == s)
            .map(|n| NetRef::Net(*n))
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown network {s:?} (one of: provisioning_or_management, {})",
                    Network::ALL
                        .iter()
                        .map(|n| n.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

impl Serialize for NetRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl fmt::Display for NetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetRef::Net(n) => f.write_str(n.name()),
            NetRef::ProvisioningOrManagement => f.write_str("provisioning_or_management"),
        }
    }
}

fn de_class<'de, D: Deserializer<'de>>(d: D) -> Result<TrafficClass, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// What a claim asserts, machine-checkable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimKind {
    /// The network carries at least `min_share` of the migration's data bytes.
    Carries {
        /// The network.
        network: NetRef,
        /// Share threshold (default [`DEFAULT_MIN_SHARE`]).
        min_share: Option<f64>,
    },
    /// The network carries at most `max_share` of the data bytes.
    NotUsed {
        /// The network.
        network: NetRef,
        /// Share threshold (default [`DEFAULT_MAX_SHARE`]).
        max_share: Option<f64>,
    },
    /// The networks together carry at least `min_share`.
    CarriesAny {
        /// The networks.
        networks: Vec<NetRef>,
        /// Share threshold.
        min_share: Option<f64>,
    },
    /// The network carries at most a fraction of the VM's memory (or an absolute count).
    /// With both a fraction and a fixed count the smaller ceiling applies: what a claim says
    /// cannot move (e.g. "only ownership of the files") does not grow with the VM's memory.
    VolumeAtMost {
        /// The network.
        network: NetRef,
        /// Fraction of the labelled `memory_mb`.
        fraction_of_memory: Option<f64>,
        /// A fixed ceiling in bytes, whatever the memory size.
        absolute_bytes: Option<u64>,
        /// What the fixed ceiling stands for, printed with the evidence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        absolute_basis: Option<String>,
    },
    /// The network carries at least a fraction of the VM's memory.
    VolumeAtLeast {
        /// The network.
        network: NetRef,
        /// Fraction of the labelled `memory_mb`.
        fraction_of_memory: Option<f64>,
        /// Bytes, used when the label has no memory size.
        absolute_bytes: Option<u64>,
        /// What the fixed count stands for, printed with the evidence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        absolute_basis: Option<String>,
    },
    /// The traffic class carries at least `min_share` of the data bytes.
    ClassShare {
        /// The class.
        #[serde(deserialize_with = "de_class")]
        class: TrafficClass,
        /// Share threshold.
        min_share: Option<f64>,
    },
}

/// When a claim applies, from the label.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The labelled vSphere version is at least this.
    pub vsphere_at_least: Option<String>,
    /// The labelled vSphere version is below this.
    pub vsphere_below: Option<String>,
}

/// One claim of a row.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Claim {
    /// What it asserts.
    #[serde(flatten)]
    pub kind: ClaimKind,
    /// When it applies (always, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// One row of a claim set: a kind of migration and what is claimed of it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// Row number as the source numbers it.
    pub row: u32,
    /// Migration kind.
    pub kind: MigrationKind,
    /// Power state.
    pub state: PowerState,
    /// The row's words.
    pub says: String,
    /// Its machine-checkable claims.
    pub claims: Vec<Claim>,
}

/// A named set of rows.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSet {
    /// Short name (`article`, `vmware-docs`, or the user's).
    pub name: String,
    /// Title.
    pub title: String,
    /// Rows.
    pub rows: Vec<Row>,
}

/// A claim's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The numbers agree with the claim.
    Confirmed,
    /// The numbers disagree.
    Contradicted,
    /// The numbers cannot decide.
    Inconclusive,
    /// No input captured a network the claim needs on the migration's hosts (a claim's verdict
    /// only; its row is then inconclusive).
    Unobservable,
    /// The claim's condition does not hold for this migration.
    NotApplicable,
    /// No migration of the row's kind was in the capture.
    NotObserved,
}

impl Verdict {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Contradicted => "contradicted",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Unobservable => "unobservable",
            Verdict::NotApplicable => "not_applicable",
            Verdict::NotObserved => "not_observed",
        }
    }
}

/// Bytes the evidence holds for a network as a claim names it.
fn net_bytes(ev: &Evidence, n: NetRef) -> u64 {
    match n {
        NetRef::Net(n) => ev.by_network.get(&n).copied().unwrap_or(0),
        NetRef::ProvisioningOrManagement => ev.provisioning_or_management,
    }
}

/// The outcome of one claim, with its numbers.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimResult {
    /// The claim as written.
    pub claim: Claim,
    /// Its verdict.
    pub verdict: Verdict,
    /// Bytes measured for the claim's network(s) or class.
    pub bytes: u64,
    /// Their share of the migration's data bytes.
    pub share: f64,
    /// The threshold compared against (a share, or bytes for volume claims).
    pub threshold: f64,
    /// One sentence: what was compared.
    pub evidence: String,
}

/// The outcome of one row for one migration.
#[derive(Debug, Clone, Serialize)]
pub struct RowVerdict {
    /// Claim set name.
    pub claim_set: String,
    /// Row number.
    pub row: u32,
    /// Row verdict.
    pub verdict: Verdict,
    /// Why the whole row is inconclusive, when a migration-level rule made it so.
    pub inconclusive_because: Option<String>,
    /// Each claim.
    pub claims: Vec<ClaimResult>,
}

/// Parses the leading `major.minor` of a version string.
fn version(s: &str) -> Option<(u32, u32)> {
    let mut it = s
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let major = it.next()?.parse().ok()?;
    let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn applies(when: &Option<Condition>, ev: &Evidence) -> bool {
    let Some(c) = when else { return true };
    let have = ev.vsphere_version.as_deref().and_then(version);
    if let Some(min) = c.vsphere_at_least.as_deref().and_then(version) {
        if have.is_none_or(|v| v < min) {
            return false;
        }
    }
    if let Some(max) = c.vsphere_below.as_deref().and_then(version) {
        if have.is_none_or(|v| v >= max) {
            return false;
        }
    }
    true
}

/// A volume claim's threshold in bytes with what it rests on, when the claim and the label give
/// one. A ceiling takes the smaller of the memory-based and the fixed one; a floor the
/// memory-based one, else the fixed one.
fn volume_threshold(
    ev: &Evidence,
    fraction: Option<f64>,
    absolute: Option<u64>,
    basis: Option<&str>,
    at_least: bool,
) -> Option<(f64, String)> {
    let of_memory = match (ev.memory_mb, fraction) {
        (Some(m), Some(f)) => Some((
            m as f64 * 1024.0 * 1024.0 * f,
            format!("{:.0}% of the labelled {m} MiB memory", f * 100.0),
        )),
        _ => None,
    };
    let fixed = absolute.map(|a| {
        let why = basis.map_or_else(|| "a fixed threshold".to_string(), str::to_string);
        (a as f64, why)
    });
    match (of_memory, fixed) {
        (Some(m), Some(f)) if !at_least && f.0 < m.0 => Some(f),
        (Some(m), _) => Some(m),
        (None, f) => f,
    }
}

/// Evaluates one claim.
pub fn evaluate_claim(claim: &Claim, ev: &Evidence) -> ClaimResult {
    let result = |verdict, bytes: u64, threshold: f64, evidence: String| ClaimResult {
        claim: claim.clone(),
        verdict,
        bytes,
        share: ev.share(bytes),
        threshold,
        evidence,
    };
    if !applies(&claim.when, ev) {
        return result(
            Verdict::NotApplicable,
            0,
            0.0,
            format!(
                "condition does not hold for vSphere version {}",
                ev.vsphere_version.as_deref().unwrap_or("(not labelled)")
            ),
        );
    }
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    // A share claim: `what` carried `b` bytes, compared with `t` as a floor or a ceiling.
    let share_claim = |what: String, b: u64, t: f64, at_least: bool| {
        let s = ev.share(b);
        let ok = if at_least { s >= t } else { s <= t };
        let bound = if at_least {
            "needs at least"
        } else {
            "allows at most"
        };
        let text = format!(
            "{what} carried {} of {} data ({}); {bound} {}",
            human_bytes(b),
            human_bytes(ev.data_bytes),
            pct(s),
            pct(t)
        );
        (Some(ok), b, t, text)
    };
    // A volume claim: `network` carried `b` bytes, compared with a threshold in bytes.
    let volume_claim = |network: &NetRef,
                        fraction: Option<f64>,
                        absolute: Option<u64>,
                        basis: Option<&str>,
                        at_least: bool| {
        let b = net_bytes(ev, *network);
        volume_threshold(ev, fraction, absolute, basis, at_least).map(|(t, why)| {
            let ok = if at_least {
                b as f64 >= t
            } else {
                b as f64 <= t
            };
            // Bytes the capture lost could have been on this network: the outcome stands only
            // when it holds with them too.
            let with_lost = (b + ev.not_captured_bytes) as f64;
            let ok = match (ok, at_least) {
                (true, false) if with_lost > t => None,
                (false, true) if with_lost >= t => None,
                (ok, _) => Some(ok),
            };
            let bound = if at_least { "at least" } else { "at most" };
            let needed = human_bytes(t.round() as u64);
            let text = format!(
                "{network} carried {}; {bound} {needed} expected ({why})",
                human_bytes(b)
            );
            (ok, b, t, text)
        })
    };
    let outcome = match &claim.kind {
        ClaimKind::Carries { network, min_share } => Some(share_claim(
            network.to_string(),
            net_bytes(ev, *network),
            min_share.unwrap_or(DEFAULT_MIN_SHARE),
            true,
        )),
        ClaimKind::NotUsed { network, max_share } => Some(share_claim(
            network.to_string(),
            net_bytes(ev, *network),
            max_share.unwrap_or(DEFAULT_MAX_SHARE),
            false,
        )),
        ClaimKind::CarriesAny {
            networks,
            min_share,
        } => {
            // The sum over the networks, capped at the data bytes: a flow counted under two of
            // them cannot make the share exceed 100%.
            let b = networks
                .iter()
                .map(|n| net_bytes(ev, *n))
                .sum::<u64>()
                .min(ev.data_bytes);
            let names: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
            Some(share_claim(
                names.join(" + "),
                b,
                min_share.unwrap_or(DEFAULT_MIN_SHARE),
                true,
            ))
        }
        ClaimKind::VolumeAtMost {
            network,
            fraction_of_memory,
            absolute_bytes,
            absolute_basis,
        } => volume_claim(
            network,
            *fraction_of_memory,
            *absolute_bytes,
            absolute_basis.as_deref(),
            false,
        ),
        ClaimKind::VolumeAtLeast {
            network,
            fraction_of_memory,
            absolute_bytes,
            absolute_basis,
        } => volume_claim(
            network,
            *fraction_of_memory,
            *absolute_bytes,
            absolute_basis.as_deref(),
            true,
        ),
        ClaimKind::ClassShare { class, min_share } => Some(share_claim(
            format!("class {class}"),
            ev.by_class.get(class).copied().unwrap_or(0),
            min_share.unwrap_or(DEFAULT_MIN_SHARE),
            true,
        )),
    };
    // What the inputs saw comes before the bytes: a network no input captured decides nothing.
    let ok = outcome.as_ref().and_then(|o| o.0);
    if let Some(why) = unobservable(&claim.kind, &ev.view, ok) {
        let (b, t) = outcome.as_ref().map_or((0, 0.0), |o| (o.1, o.2));
        return result(Verdict::Unobservable, b, t, why);
    }
    // A ceiling confirmed on part of the data: say so.
    let partial = match (&claim.kind, ev.view.complete()) {
        (ClaimKind::NotUsed { .. }, false) => format!(
            "; a share of the captured data, at least its share of all the data (no input \
             captured {})",
            describe_vmks(ev.view.unseen())
        ),
        _ => String::new(),
    };
    // Bytes the capture lost are said with every claim's evidence.
    let lost = match ev.not_captured_bytes {
        0 => String::new(),
        n => format!(
            "; {} of the migration's data was not captured",
            human_bytes(n)
        ),
    };
    match outcome {
        Some((ok, b, t, text)) => result(
            match ok {
                Some(true) => Verdict::Confirmed,
                Some(false) => Verdict::Contradicted,
                None => Verdict::Inconclusive,
            },
            b,
            t,
            match ok {
                Some(_) => format!("{text}{partial}{lost}"),
                None => format!("{text}{partial}{lost}, which could change the outcome"),
            },
        ),
        None => {
            let b = match &claim.kind {
                ClaimKind::VolumeAtMost { network, .. }
                | ClaimKind::VolumeAtLeast { network, .. } => net_bytes(ev, *network),
                _ => 0,
            };
            result(
                Verdict::Inconclusive,
                b,
                0.0,
                "no memory size labelled (memory_mb in the labels, or --scenario KIND:STATE:memory=MIB) and the claim has no fixed threshold".into(),
            )
        }
    }
}

/// `esx01 vmk1 (vmotion), esx02 vmk1 (vmotion)`.
fn describe_vmks<'a>(vmks: impl Iterator<Item = &'a VmkSeen>) -> String {
    vmks.map(VmkSeen::describe).collect::<Vec<_>>().join(", ")
}

/// Whether a vmk's traffic can count under the network a claim names. Any vmk's flows can reach
/// a VM or an external address.
fn can_carry(v: &VmkSeen, n: NetRef) -> bool {
    match n {
        NetRef::Net(n) if n.is_vmk() => v.can_carry(n),
        NetRef::Net(_) => true,
        NetRef::ProvisioningOrManagement => v.provisioning_or_management,
    }
}

/// Why what the inputs saw cannot decide a claim whose bytes say `ok`, when it cannot (see the
/// module's rules per claim kind); `None` when the bytes decide it.
fn unobservable(kind: &ClaimKind, view: &View, ok: Option<bool>) -> Option<String> {
    if !view.partial {
        return None;
    }
    if view.unknown() {
        return Some(
            "the inputs saw only some vmks, and the inventory names no vmk of the migration's \
             hosts: which networks they saw is unknown"
                .into(),
        );
    }
    let named: &[NetRef] = match kind {
        ClaimKind::Carries { network, .. }
        | ClaimKind::NotUsed { network, .. }
        | ClaimKind::VolumeAtMost { network, .. }
        | ClaimKind::VolumeAtLeast { network, .. } => std::slice::from_ref(network),
        ClaimKind::CarriesAny { networks, .. } => networks,
        ClaimKind::ClassShare { .. } => &[],
    };
    for n in named {
        let mut missing = view.unseen().filter(|v| can_carry(v, *n)).peekable();
        if missing.peek().is_some() {
            let storage = if *n == NetRef::Net(Network::Storage) {
                " (NFS or iSCSI over any vmk counts as storage)"
            } else {
                ""
            };
            return Some(format!(
                "no input captured the {n} network of the migration's hosts: {}{storage}",
                describe_vmks(missing)
            ));
        }
    }
    // A share's denominator is all the migration's data; a ceiling met on part of it holds for
    // all of it.
    let needs_all = match kind {
        ClaimKind::Carries { .. } | ClaimKind::CarriesAny { .. } | ClaimKind::ClassShare { .. } => {
            true
        }
        ClaimKind::NotUsed { .. } => ok != Some(true),
        ClaimKind::VolumeAtMost { .. } | ClaimKind::VolumeAtLeast { .. } => false,
    };
    if !needs_all || view.complete() {
        return None;
    }
    let what = match kind {
        ClaimKind::ClassShare { class, .. } => {
            format!(
                "class {class} can run over any vmk, and its share is of all the migration's data"
            )
        }
        _ => "the share is of all the migration's data".to_string(),
    };
    Some(format!(
        "{what}, and no input captured {}, which could carry some of it",
        describe_vmks(view.unseen())
    ))
}

/// Evaluates a row for one migration.
pub fn evaluate_row(set: &ClaimSet, row: &Row, ev: &Evidence) -> RowVerdict {
    evaluate_row_unless(set, row, ev, None, None)
}

/// Evaluates a row for one migration, inconclusive for `reason` when one is given (something
/// outside the bytes says they cannot decide). `other` is the evidence under the other reading of
/// an uncertain inventory, with what is uncertain: a claim whose verdict differs between the two
/// readings is inconclusive.
pub fn evaluate_row_unless(
    set: &ClaimSet,
    row: &Row,
    ev: &Evidence,
    reason: Option<&str>,
    other: Option<(&Evidence, &str)>,
) -> RowVerdict {
    let mut claims: Vec<ClaimResult> = row
        .claims
        .iter()
        .map(|c| {
            let mut r = evaluate_claim(c, ev);
            if let Some((alt, what)) = other {
                let a = evaluate_claim(c, alt);
                if a.verdict != r.verdict
                    && !matches!(r.verdict, Verdict::NotApplicable | Verdict::Unobservable)
                {
                    r.evidence = format!(
                        "{}; but {what}, and with it: {} ({})",
                        r.evidence,
                        a.evidence,
                        a.verdict.name()
                    );
                    r.verdict = Verdict::Inconclusive;
                }
            }
            r
        })
        .collect();
    let unknown_share = ev.share(ev.unknown_bytes);
    let because = if let Some(r) = reason {
        Some(r.to_string())
    } else if ev.data_bytes < MIN_DATA_BYTES {
        Some(format!(
            "the migration moved {} data bytes, fewer than {MIN_DATA_BYTES}",
            ev.data_bytes
        ))
    } else if unknown_share > MAX_UNKNOWN_SHARE {
        Some(format!(
            "{:.1}% of the data bytes ran between addresses that are no vmk in the inventory (more than {:.0}%)",
            unknown_share * 100.0,
            MAX_UNKNOWN_SHARE * 100.0
        ))
    } else {
        None
    };
    if because.is_some() {
        for c in &mut claims {
            if !matches!(c.verdict, Verdict::NotApplicable | Verdict::Unobservable) {
                c.verdict = Verdict::Inconclusive;
            }
        }
    }
    let applicable: Vec<Verdict> = claims
        .iter()
        .map(|c| c.verdict)
        .filter(|v| *v != Verdict::NotApplicable)
        .collect();
    let verdict = if applicable.contains(&Verdict::Contradicted) {
        Verdict::Contradicted
    } else if !applicable.is_empty() && applicable.iter().all(|v| *v == Verdict::Confirmed) {
        Verdict::Confirmed
    } else {
        Verdict::Inconclusive
    };
    RowVerdict {
        claim_set: set.name.clone(),
        row: row.row,
        verdict,
        inconclusive_because: because,
        claims,
    }
}

/// Combines one row's verdicts over several migrations. Anything but contradicted or confirmed
/// (an `unobservable`, should one come) counts as inconclusive.
pub fn combine(verdicts: &[Verdict]) -> Verdict {
    if verdicts.is_empty() {
        Verdict::NotObserved
    } else if verdicts.contains(&Verdict::Contradicted) {
        Verdict::Contradicted
    } else if verdicts.iter().all(|v| *v == Verdict::Confirmed) {
        Verdict::Confirmed
    } else {
        Verdict::Inconclusive
    }
}

mod outcome;

pub use outcome::{
    ClaimSetVerification, RowVerification, consistent_rows, row_reason, verdicts, verification,
};

#[cfg(test)]
mod tests;
