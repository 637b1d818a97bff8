//! The vMotion streams of a migration and its switchover: findings `switchover`,
//! `vmotion-streams` and `vmotion-vmk-unused`.
//!
//! - `switchover`: per hot migration with a switchover, from the start of the final vMotion burst
//!   to the first RARP frame (to the end of the switchover phase when no RARP was seen);
//!   `warning` above `switchover_max_s`.
//! - `vmotion-streams`: per migration, its vMotion streams (flows of class vmotion that overlap
//!   its window and have an end on one of its hosts) per vmk endpoint and per host pair; the
//!   bytes of a stream are its payload bytes both ways over the whole flow.
//! - `vmotion-vmk-unused`: a vmk with the vMotion service on one of the migration's hosts (given
//!   inventory only) that is an end of none of its vMotion streams with bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{Finding, FindingsConfig, NS, Severity};
use crate::classify::KeptFlow;
use crate::classify::inventory::{InventorySource, Service, VmkInventory};
use crate::migration::Analysed;
use crate::vocab::kind::PowerState;
use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// One vMotion stream: a TCP flow to port 8000 kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct VmotionStream {
    /// Client address.
    pub client: IpAddr,
    /// Server address (port 8000).
    pub server: IpAddr,
    /// VLAN of the flow.
    pub vlan: Option<u16>,
    /// First packet (ns).
    pub first_ts: i64,
    /// Last packet (ns).
    pub last_ts: i64,
    /// Payload bytes both ways.
    pub bytes: u64,
}

/// The vMotion streams among the flows kept whole: TCP flows of class vmotion (to port 8000).
pub fn vmotion_streams_of(kept: &[KeptFlow]) -> Vec<VmotionStream> {
    kept.iter()
        .filter(|k| k.class == TrafficClass::Vmotion && k.flow.key.proto == IpProtocol::Tcp)
        .filter_map(|k| {
            Some(VmotionStream {
                client: k.flow.client().ip,
                server: k.flow.server().ip,
                vlan: k.flow.key.vlan,
                first_ts: k.flow.first_ts()?,
                last_ts: k.flow.last_ts()?,
                bytes: k.flow.payload_bytes(),
            })
        })
        .collect()
}

/// The `switchover` finding of a migration with a switchover.
pub fn switchover(cfg: &FindingsConfig, m: &Analysed) -> Option<Finding> {
    if m.kind_state.state != PowerState::Hot {
        return None;
    }
    let sw = m.switchover.as_ref()?;
    let (end, to) = match &sw.rarp {
        Some(r) => (r.ts, "the RARP"),
        None => (
            m.phases.iter().find(|p| p.name == "switchover")?.end,
            "the last vMotion byte (no RARP seen)",
        ),
    };
    let secs = end.saturating_sub(sw.burst_start) as f64 / NS;
    let max = cfg.threshold("switchover_max_s");
    let severity = if secs > max {
        Severity::Warning
    } else {
        Severity::Info
    };
    Some(Finding {
        id: "switchover",
        severity,
        migration: Some(m.id.clone()),
        message: format!(
            "switchover took {secs:.3} s from the final vMotion burst to {to} ({} the {max} s goal)",
            if secs > max { "above" } else { "within" }
        ),
        evidence: json!({
            "duration_s": secs,
            "max_s": max,
            "rarp_seen": sw.rarp.is_some(),
            "final_burst_bytes": sw.burst_bytes,
            "final_burst_separated": sw.burst_separated,
            "rarp_after_last_vmotion_byte_s": sw.rarp.as_ref().map(|r| r.after_last_vmotion_byte_ns as f64 / NS),
        }),
        reference: cfg.reference("switchover"),
    })
}

#[derive(Default)]
struct Tally {
    streams: u64,
    bytes: u64,
}

impl Tally {
    fn json(&self) -> Value {
        json!({
            "streams": self.streams,
            "bytes": self.bytes,
            "bytes_per_stream": self.bytes.checked_div(self.streams).unwrap_or(0),
        })
    }
}

/// The `vmotion-streams` finding of a migration with vMotion streams, and a
/// `vmotion-vmk-unused` warning per vMotion vmk of its hosts that carried none of their bytes.
pub fn vmotion_streams(
    cfg: &FindingsConfig,
    m: &Analysed,
    streams: &[VmotionStream],
    inv: &VmkInventory,
) -> Vec<Finding> {
    let vmk_of = |ip: IpAddr, vlan: Option<u16>| inv.lookup(ip, vlan).and_then(|i| inv.vmks.get(i));
    let name = |ip: IpAddr, vlan: Option<u16>| {
        vmk_of(ip, vlan).map_or_else(|| ip.to_string(), |v| format!("{}/{}", v.host, v.name))
    };
    let host = |ip: IpAddr, vlan: Option<u16>| {
        vmk_of(ip, vlan).map_or_else(|| ip.to_string(), |v| v.host.clone())
    };
    let mine: Vec<&VmotionStream> = streams
        .iter()
        .filter(|s| s.first_ts < m.end && s.last_ts >= m.start)
        .filter(|s| {
            m.hosts.is_empty()
                || [s.client, s.server]
                    .iter()
                    .any(|ip| vmk_of(*ip, s.vlan).is_some_and(|v| m.hosts.contains(&v.host)))
        })
        .collect();
    if mine.is_empty() {
        return Vec::new();
    }
    let mut total = Tally::default();
    let mut by_vmk: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_pair: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for s in &mine {
        for t in [
            &mut total,
            by_pair
                .entry((host(s.client, s.vlan), host(s.server, s.vlan)))
                .or_default(),
        ] {
            t.streams += 1;
            t.bytes += s.bytes;
        }
        let (c, v) = (name(s.client, s.vlan), name(s.server, s.vlan));
        let ends = if c == v { vec![c] } else { vec![c, v] };
        for e in ends {
            let t = by_vmk.entry(e).or_default();
            t.streams += 1;
            t.bytes += s.bytes;
        }
    }
    let mut out = vec![Finding {
        id: "vmotion-streams",
        severity: Severity::Info,
        migration: Some(m.id.clone()),
        message: format!(
            "{} vMotion streams carried {} bytes ({} per stream) over {} vmk endpoints and {} host pairs",
            total.streams,
            total.bytes,
            total.bytes.checked_div(total.streams).unwrap_or(0),
            by_vmk.len(),
            by_pair.len()
        ),
        evidence: json!({
            "streams": total.streams,
            "bytes": total.bytes,
            "bytes_per_stream": total.bytes.checked_div(total.streams).unwrap_or(0),
            "by_vmk": by_vmk.iter().map(|(k, t)| (k.clone(), t.json())).collect::<serde_json::Map<_, _>>(),
            "by_host_pair": by_pair.iter().map(|((a, b), t)| (format!("{a} -> {b}"), t.json())).collect::<serde_json::Map<_, _>>(),
        }),
        reference: cfg.reference("vmotion-streams"),
    }];
    if inv.source == InventorySource::Inferred || inv.source == InventorySource::None {
        return out;
    }
    for h in &m.hosts {
        for v in inv.host_vmks(h) {
            if !v.services.contains(&Service::Vmotion) {
                continue;
            }
            let key = format!("{}/{}", v.host, v.name);
            if by_vmk.get(&key).is_some_and(|t| t.bytes > 0) {
                continue;
            }
            out.push(Finding {
                id: "vmotion-vmk-unused",
                severity: Severity::Warning,
                migration: Some(m.id.clone()),
                message: format!(
                    "{key} has the vMotion service but carried none of the {} bytes of the {} vMotion streams",
                    total.bytes, total.streams
                ),
                evidence: json!({"vmk": key, "streams": total.streams, "bytes": total.bytes}),
                reference: cfg.reference("vmotion-vmk-unused"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::inventory::Vmk;
    use crate::migration::{RarpSeen, Switchover};
    use crate::vocab::Mac;

    use crate::verify::findings::testing::{S, migration};

    fn sw(rarp_after_s: Option<f64>) -> Switchover {
        Switchover {
            burst_start: 5 * S,
            burst_bytes: 1000,
            burst_separated: true,
            rarp: rarp_after_s.map(|a| RarpSeen {
                mac: Mac([0, 0x50, 0x56, 1, 2, 3]),
                ts: 5 * S + (a * 1e9) as i64,
                frames: 3,
                after_last_vmotion_byte_ns: 0,
            }),
        }
    }

    #[test]
    fn switchover_to_the_rarp_and_its_severity() {
        let c = FindingsConfig::builtin();
        let f = switchover(&c, &migration(PowerState::Hot, Some(sw(Some(0.25))))).expect("f");
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.evidence["duration_s"], 0.25);
        assert!(f.message.contains("0.250 s"), "{}", f.message);
        let f = switchover(&c, &migration(PowerState::Hot, Some(sw(Some(1.5))))).expect("f");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.evidence["duration_s"], 1.5);
        // Exactly at the goal is still within it.
        let f = switchover(&c, &migration(PowerState::Hot, Some(sw(Some(1.0))))).expect("f");
        assert_eq!(f.severity, Severity::Info);
    }

    #[test]
    fn switchover_without_rarp_ends_with_its_phase() {
        let c = FindingsConfig::builtin();
        let f = switchover(&c, &migration(PowerState::Hot, Some(sw(None)))).expect("f");
        assert_eq!(f.evidence["duration_s"], 0.5);
        assert_eq!(f.evidence["rarp_seen"], false);
        assert!(switchover(&c, &migration(PowerState::Hot, None)).is_none());
        assert!(switchover(&c, &migration(PowerState::Cold, Some(sw(Some(0.1))))).is_none());
    }

    fn vmk(host: &str, name: &str, ip: &str, services: Vec<Service>) -> Vmk {
        Vmk {
            host: host.into(),
            name: name.into(),
            addrs: vec![(ip.parse().expect("ip"), 24)],
            vlan: None,
            mac: None,
            services,
            unknown_services: Vec::new(),
            mtu: None,
        }
    }

    fn stream(c: &str, s: &str, bytes: u64) -> VmotionStream {
        VmotionStream {
            client: c.parse().expect("ip"),
            server: s.parse().expect("ip"),
            vlan: None,
            first_ts: S,
            last_ts: 2 * S,
            bytes,
        }
    }

    #[test]
    fn streams_per_vmk_and_pair_and_an_unused_vmotion_vmk() {
        let inv = VmkInventory::new(
            vec![
                vmk("a", "vmk1", "10.0.0.1", vec![Service::Vmotion]),
                vmk("a", "vmk2", "10.0.1.1", vec![Service::Vmotion]),
                vmk("b", "vmk1", "10.0.0.2", vec![Service::Vmotion]),
                vmk("b", "vmk0", "10.0.9.2", vec![Service::Management]),
            ],
            InventorySource::File("inv.json".into()),
        );
        let streams = [
            stream("10.0.0.1", "10.0.0.2", 300),
            stream("10.0.0.1", "10.0.0.2", 100),
            // Outside the window.
            VmotionStream {
                first_ts: 20 * S,
                last_ts: 21 * S,
                ..stream("10.0.1.1", "10.0.0.2", 999)
            },
        ];
        let c = FindingsConfig::builtin();
        let m = migration(PowerState::Hot, None);
        let f = vmotion_streams(&c, &m, &streams, &inv);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].id, "vmotion-streams");
        let e = &f[0].evidence;
        assert_eq!(e["streams"], 2);
        assert_eq!(e["bytes"], 400);
        assert_eq!(e["bytes_per_stream"], 200);
        assert_eq!(e["by_vmk"]["a/vmk1"]["streams"], 2);
        assert_eq!(e["by_vmk"]["b/vmk1"]["bytes"], 400);
        assert_eq!(e["by_host_pair"]["a -> b"]["streams"], 2);
        assert_eq!(f[1].id, "vmotion-vmk-unused");
        assert_eq!(f[1].severity, Severity::Warning);
        assert_eq!(f[1].evidence["vmk"], "a/vmk2");
        // An inferred inventory says nothing of configured services: no warning.
        let inferred = VmkInventory::new(inv.vmks.to_vec(), InventorySource::Inferred);
        assert_eq!(vmotion_streams(&c, &m, &streams, &inferred).len(), 1);
        // No stream in the window: no finding.
        assert!(vmotion_streams(&c, &m, &streams[2..], &inv).is_empty());
    }
}
