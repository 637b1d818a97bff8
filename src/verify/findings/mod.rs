//! Findings: what a migration's traffic answers of the questions administrators ask (issue 14).
//!
//! In: the analysed migrations, the flows kept whole, the inventory and what the capture showed
//! beside flows ([`Inputs`]). Out: [`Finding`]s, each with an id, a severity, a one-line message,
//! its figures and the document it rests on. Thresholds and references are data
//! (`src/verify/findings/findings.json`, [`FINDINGS`]), which a file of the same shape can
//! override key by key ([`FindingsConfig::with_overrides`]).
//!
//! One module per group of questions:
//! - [`streams`]: `switchover`, `vmotion-streams`, `vmotion-vmk-unused`, `vmotion-vmk-skew`,
//!   `vmotion-throughput`.
//! - [`cold`]: `cold-data-transport`, `provisioning-vmk-unused`.
//! - [`health`]: `segment-size`, `stream-health`.
//! - [`payload`]: `vmotion-encryption`, `nfc-tls`, `host-identity` (from payload bytes).

pub mod cold;
pub mod health;
pub mod payload;
pub mod streams;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::classify::KeptFlow;
use crate::classify::inventory::VmkInventory;
use crate::decode::TooBig;
use crate::migration::Analysed;

/// The built-in thresholds and references.
pub const FINDINGS: &str = include_str!("findings.json");

/// Nanoseconds per second.
pub(crate) const NS: f64 = 1e9;

/// Thresholds and references of the findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsConfig {
    /// Named numbers the findings compare figures with (`switchover_max_s`, …).
    pub thresholds: BTreeMap<String, f64>,
    /// Reference per finding id.
    pub references: BTreeMap<String, String>,
}

impl Default for FindingsConfig {
    fn default() -> FindingsConfig {
        FindingsConfig::builtin()
    }
}

/// A findings file that overrides part of the built-in one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    #[serde(default)]
    thresholds: BTreeMap<String, f64>,
    #[serde(default)]
    references: BTreeMap<String, String>,
}

impl FindingsConfig {
    /// The built-in configuration.
    pub fn builtin() -> FindingsConfig {
        serde_json::from_str(FINDINGS).expect("built-in findings.json parses")
    }

    /// The built-in configuration with the thresholds and references of `text` (a findings
    /// file read from `path`) in place of its own. Every key must be one the built-in file has:
    /// a misspelt threshold would otherwise be ignored without a word.
    pub fn with_overrides(path: &Path, text: &str) -> Result<FindingsConfig, String> {
        let o: Overrides = serde_json::from_str(text)
            .map_err(|e| format!("{}: line {}: {e}", path.display(), e.line()))?;
        let mut c = FindingsConfig::builtin();
        for (k, v) in o.thresholds {
            if !c.thresholds.contains_key(&k) {
                return Err(format!(
                    "{}: unknown threshold {k:?} (known: {})",
                    path.display(),
                    c.thresholds.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            if !v.is_finite() || v < 0.0 {
                return Err(format!(
                    "{}: threshold {k:?} must be a number of at least 0, not {v}",
                    path.display()
                ));
            }
            c.thresholds.insert(k, v);
        }
        for (k, v) in o.references {
            if !c.references.contains_key(&k) {
                return Err(format!(
                    "{}: unknown finding id {k:?} in references (known: {})",
                    path.display(),
                    c.references.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            c.references.insert(k, v);
        }
        Ok(c)
    }

    /// A threshold of the built-in file (a name it lacks is a bug, caught by the tests).
    pub fn threshold(&self, name: &str) -> f64 {
        self.thresholds.get(name).copied().unwrap_or(f64::NAN)
    }

    /// The reference of a finding id.
    pub fn reference(&self, id: &str) -> String {
        self.references.get(id).cloned().unwrap_or_default()
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something to act on.
    Warning,
    /// A figure.
    Info,
}

impl Severity {
    /// In words.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id (`switchover`, `vmotion-streams`, …).
    pub id: &'static str,
    /// `warning` or `info`.
    pub severity: Severity,
    /// The migration it is about.
    pub migration: Option<String>,
    /// One line, with the numbers.
    pub message: String,
    /// The figures behind it.
    pub evidence: Value,
    /// The document it rests on.
    pub reference: String,
}

/// What the capture showed beside flows, collected while it was read (filled by the stages that
/// see it; empty when nothing was seen).
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// ICMP "fragmentation needed" / ICMPv6 "packet too big" messages by the addresses of the
    /// packet they quote (inner source, inner destination); at most [`MAX_TOO_BIG_PAIRS`] pairs.
    pub too_big: BTreeMap<(IpAddr, IpAddr), TooBigSeen>,
    /// Every such message, those of pairs beyond the bound included.
    pub too_big_messages: u64,
    /// vCenter agent heartbeats (UDP 902) decoded, per sender address; at most
    /// [`payload::MAX_HEARTBEAT_SENDERS`] senders.
    pub heartbeats: BTreeMap<IpAddr, payload::HostHeartbeat>,
    /// Captured UDP 902 payloads without the heartbeat's shape, and heartbeats of senders
    /// beyond the bound.
    pub heartbeats_not_decoded: u64,
}

/// Most (inner source, inner destination) pairs of ICMP too-big messages held.
pub const MAX_TOO_BIG_PAIRS: usize = 1024;
/// Messages kept per pair (all are counted).
pub const MAX_TOO_BIG_KEPT: usize = 64;

/// The ICMP too-big messages about one (inner source, inner destination).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TooBigSeen {
    /// Messages.
    pub count: u64,
    /// The first [`MAX_TOO_BIG_KEPT`]: (time, ns, when known; the reporting router or host; MTU).
    pub first: Vec<(Option<i64>, IpAddr, u32)>,
}

impl Observations {
    /// Records an ICMP too-big message from `reporter` at `ts`.
    pub fn too_big(&mut self, reporter: IpAddr, t: TooBig, ts: Option<i64>) {
        self.too_big_messages += 1;
        let key = (t.inner_src, t.inner_dst);
        if self.too_big.len() >= MAX_TOO_BIG_PAIRS && !self.too_big.contains_key(&key) {
            return;
        }
        let e = self.too_big.entry(key).or_default();
        e.count += 1;
        if e.first.len() < MAX_TOO_BIG_KEPT {
            e.first.push((ts, reporter, t.mtu));
        }
    }
}

/// What the findings are computed from.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The analysed migrations, in order.
    pub migrations: &'a [Analysed],
    /// The flows kept whole, largest payload first.
    pub flows: &'a [KeptFlow],
    /// The inventory used.
    pub inv: &'a VmkInventory,
    /// What the capture showed beside flows.
    pub seen: &'a Observations,
}

/// The findings of all migrations, warnings first (then by migration, in order).
pub fn findings(cfg: &FindingsConfig, inp: &Inputs<'_>) -> Vec<Finding> {
    let streams = streams::vmotion_streams_of(inp.flows);
    let mut out = Vec::new();
    for m in inp.migrations {
        out.extend(streams::switchover(cfg, m));
        out.extend(streams::vmotion_streams(cfg, m, &streams, inp.inv));
        out.extend(streams::throughput(
            cfg,
            m,
            inp.migrations,
            &streams,
            inp.inv,
        ));
        out.extend(cold::cold_data(cfg, m, inp.flows, inp.inv));
        out.extend(health::segment_size(cfg, m, inp));
        out.extend(health::stream_health(cfg, m, inp));
        out.extend(payload::vmotion_encryption(cfg, m, inp.flows, inp.inv));
        out.extend(payload::nfc_tls(cfg, m, inp.flows, inp.inv));
    }
    out.extend(payload::host_identity(cfg, inp.seen, inp.inv));
    out.sort_by_key(|f| f.severity);
    out
}

/// Shared by the findings' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::migration::{Analysed, Breakdown, Evidence, Phase, Switchover, WindowScope};
    use crate::vocab::kind::{KindState, MigrationKind, PowerState};

    pub const S: i64 = 1_000_000_000;

    pub fn migration(state: PowerState, switchover: Option<Switchover>) -> Analysed {
        Analysed {
            id: "m1".into(),
            vm: None,
            kind_state: KindState::new(MigrationKind::Vmotion, state),
            labelled: true,
            looks_like: Vec::new(),
            start: 0,
            end: 10 * S,
            source_host: Some("a".into()),
            dest_host: Some("b".into()),
            hosts: vec!["a".into(), "b".into()],
            memory_mb: None,
            disk_mb: None,
            vsphere_version: None,
            breakdown: Breakdown::default(),
            evidence: Evidence::default(),
            phases: vec![Phase {
                name: "switchover",
                start: 5 * S,
                end: 5 * S + S / 2,
                active_data_classes: Vec::new(),
                breakdown: Breakdown::default(),
            }],
            switchover,
            host_matches: Vec::new(),
            scope: WindowScope::Hosts,
            inconclusive_because: None,
            notes: Vec::new(),
            uncertain: None,
            scope_hosts: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::migration;
    use super::*;
    use crate::migration::{RarpSeen, Switchover};
    use crate::vocab::Mac;
    use crate::vocab::kind::PowerState;

    #[test]
    fn builtin_config_parses_and_cites_its_documents() {
        let c = FindingsConfig::builtin();
        assert_eq!(c.threshold("switchover_max_s"), 1.0);
        assert!(c.reference("switchover").contains("under one second"));
        assert!(c.reference("vmotion-streams").contains("KB 2007467"));
        assert!(c.reference("vmotion-vmk-unused").contains("KB 2007467"));
        // Every threshold is a usable number.
        assert!(c.thresholds.values().all(|v| v.is_finite() && *v >= 0.0));
    }

    #[test]
    fn every_finding_id_has_a_reference_and_a_place_in_the_schema() {
        let c = FindingsConfig::builtin();
        let schema: Value =
            serde_json::from_str(include_str!("../../../schema/report.schema.json"))
                .expect("schema");
        let ids: Vec<&str> = schema["$defs"]["finding"]["properties"]["id"]["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let refs: Vec<&str> = c.references.keys().map(String::as_str).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, refs);
        assert!(c.references.values().all(|r| !r.is_empty()));
    }

    #[test]
    fn overrides_replace_known_keys_and_refuse_unknown_ones() {
        let p = Path::new("mine.json");
        let c = FindingsConfig::with_overrides(p, r#"{"thresholds": {"switchover_max_s": 0.5}}"#)
            .expect("override");
        assert_eq!(c.threshold("switchover_max_s"), 0.5);
        assert!(c.reference("switchover").contains("under one second"));
        let e = FindingsConfig::with_overrides(p, r#"{"thresholds": {"switchover_max": 0.5}}"#)
            .expect_err("misspelt");
        assert!(
            e.starts_with("mine.json: unknown threshold \"switchover_max\""),
            "{e}"
        );
        let e = FindingsConfig::with_overrides(p, r#"{"thresholds": {"switchover_max_s": -1}}"#)
            .expect_err("negative");
        assert!(e.contains("at least 0"), "{e}");
        let e = FindingsConfig::with_overrides(p, r#"{"references": {"nope": "x"}}"#)
            .expect_err("unknown id");
        assert!(e.contains("unknown finding id \"nope\""), "{e}");
        let e = FindingsConfig::with_overrides(p, "{\n  \"thresholds\": 3\n}").expect_err("shape");
        assert!(e.starts_with("mine.json: line 2:"), "{e}");
    }

    #[test]
    fn warnings_come_first() {
        let c = FindingsConfig::builtin();
        let sw = |after: f64| Switchover {
            burst_start: 5 * testing::S,
            burst_bytes: 1000,
            burst_separated: true,
            rarp: Some(RarpSeen {
                mac: Mac([0, 0x50, 0x56, 1, 2, 3]),
                ts: 5 * testing::S + (after * 1e9) as i64,
                frames: 3,
                after_last_vmotion_byte_ns: 0,
            }),
        };
        let ms = [
            migration(PowerState::Hot, Some(sw(0.1))),
            migration(PowerState::Hot, Some(sw(3.0))),
        ];
        let inv = VmkInventory::empty();
        let seen = Observations::default();
        let inp = Inputs {
            migrations: &ms,
            flows: &[],
            inv: &inv,
            seen: &seen,
        };
        let f = findings(&c, &inp);
        let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::Warning, Severity::Info]);
    }
}
