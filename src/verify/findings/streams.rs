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
use crate::classify::inventory::{InventorySource, Service, Vmk, VmkInventory};
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
            "to_last_vmotion_byte_s": sw.rarp.as_ref().map_or(secs, |r| {
                r.ts.saturating_sub(r.after_last_vmotion_byte_ns).saturating_sub(sw.burst_start) as f64 / NS
            }),
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

/// `1 stream`, `2 streams`.
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// How the findings name the ends of streams: `HOST/VMK` for a vmk of the inventory, else the
/// address.
pub(crate) struct Names<'a> {
    inv: &'a VmkInventory,
}

impl<'a> Names<'a> {
    pub(crate) fn new(inv: &'a VmkInventory) -> Names<'a> {
        Names { inv }
    }

    pub(crate) fn vmk(&self, ip: IpAddr, vlan: Option<u16>) -> Option<&'a Vmk> {
        self.inv.lookup(ip, vlan).and_then(|i| self.inv.vmks.get(i))
    }

    pub(crate) fn name(&self, ip: IpAddr, vlan: Option<u16>) -> String {
        self.vmk(ip, vlan)
            .map_or_else(|| ip.to_string(), |v| format!("{}/{}", v.host, v.name))
    }

    pub(crate) fn host(&self, ip: IpAddr, vlan: Option<u16>) -> String {
        self.vmk(ip, vlan)
            .map_or_else(|| ip.to_string(), |v| v.host.clone())
    }

    /// Whether a flow between `a` and `b` has an end on one of the migration's hosts (any flow
    /// when the migration names no host).
    pub(crate) fn on_hosts(&self, m: &Analysed, a: IpAddr, b: IpAddr, vlan: Option<u16>) -> bool {
        m.hosts.is_empty()
            || [a, b].iter().any(|ip| {
                self.vmk(*ip, vlan)
                    .is_some_and(|v| m.hosts.contains(&v.host))
            })
    }
}

/// The vMotion streams of a migration: those whose span overlaps its window, with an end on one
/// of its hosts.
fn streams_of<'s>(
    m: &Analysed,
    streams: &'s [VmotionStream],
    names: &Names<'_>,
) -> Vec<&'s VmotionStream> {
    streams
        .iter()
        .filter(|s| s.first_ts < m.end && s.last_ts >= m.start)
        .filter(|s| names.on_hosts(m, s.client, s.server, s.vlan))
        .collect()
}

/// The `vmotion-streams` finding of a migration with vMotion streams, a `vmotion-vmk-unused`
/// warning per vMotion vmk of its hosts that carried none of their bytes, and a
/// `vmotion-vmk-skew` finding per host whose vMotion vmknics carried unequal shares.
pub fn vmotion_streams(
    cfg: &FindingsConfig,
    m: &Analysed,
    streams: &[VmotionStream],
    inv: &VmkInventory,
) -> Vec<Finding> {
    let names = Names::new(inv);
    let mine = streams_of(m, streams, &names);
    if mine.is_empty() {
        return Vec::new();
    }
    let mut total = Tally::default();
    let mut by_vmk: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_pair: BTreeMap<(String, String), Tally> = BTreeMap::new();
    // Per host of the inventory: its vmks' bytes (vmks of streams only).
    let mut by_host: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for s in &mine {
        for t in [
            &mut total,
            by_pair
                .entry((names.host(s.client, s.vlan), names.host(s.server, s.vlan)))
                .or_default(),
        ] {
            t.streams += 1;
            t.bytes += s.bytes;
        }
        let (c, v) = (names.name(s.client, s.vlan), names.name(s.server, s.vlan));
        let ends = if c == v { vec![c] } else { vec![c, v] };
        for e in ends {
            let t = by_vmk.entry(e).or_default();
            t.streams += 1;
            t.bytes += s.bytes;
        }
        let mut ends: Vec<&Vmk> = [s.client, s.server]
            .iter()
            .filter_map(|ip| names.vmk(*ip, s.vlan))
            .collect();
        ends.dedup_by(|a, b| a.host == b.host && a.name == b.name);
        for v in ends {
            *by_host
                .entry(v.host.clone())
                .or_default()
                .entry(v.name.clone())
                .or_default() += s.bytes;
        }
    }
    let mut out = vec![Finding {
        id: "vmotion-streams",
        severity: Severity::Info,
        migration: Some(m.id.clone()),
        message: format!(
            "{} carried {} bytes ({} per stream) over {} and {}",
            count(total.streams as usize, "vMotion stream"),
            total.bytes,
            total.bytes.checked_div(total.streams).unwrap_or(0),
            count(by_vmk.len(), "vmk endpoint"),
            count(by_pair.len(), "host pair")
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
    out.extend(skew(cfg, m, &by_host));
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

/// `vmotion-vmk-skew`: per host with two or more vmks that carried vMotion bytes, the ratio of
/// the largest share to the smallest; `warning` above `vmk_skew_max_ratio`.
fn skew(
    cfg: &FindingsConfig,
    m: &Analysed,
    by_host: &BTreeMap<String, BTreeMap<String, u64>>,
) -> Vec<Finding> {
    let max_ratio = cfg.threshold("vmk_skew_max_ratio");
    let mut out = Vec::new();
    for (host, vmks) in by_host {
        let used: Vec<(&String, u64)> = vmks
            .iter()
            .filter(|(_, b)| **b > 0)
            .map(|(n, b)| (n, *b))
            .collect();
        if used.len() < 2 {
            continue;
        }
        let (Some(most), Some(least)) = (
            used.iter().max_by_key(|(_, b)| *b),
            used.iter().min_by_key(|(_, b)| *b),
        ) else {
            continue;
        };
        let ratio = most.1 as f64 / least.1 as f64;
        let over = ratio > max_ratio;
        out.push(Finding {
            id: "vmotion-vmk-skew",
            severity: if over {
                Severity::Warning
            } else {
                Severity::Info
            },
            migration: Some(m.id.clone()),
            message: format!(
                "{host}'s {} vMotion vmknics carried {ratio:.2} times as much on {} as on {} ({} the ratio of {max_ratio})",
                used.len(),
                most.0,
                least.0,
                if over { "above" } else { "within" }
            ),
            evidence: json!({
                "host": host,
                "bytes_by_vmk": used.iter().map(|(n, b)| ((*n).clone(), json!(b))).collect::<serde_json::Map<_, _>>(),
                "ratio": ratio,
                "max_ratio": max_ratio,
            }),
            reference: cfg.reference("vmotion-vmk-skew"),
        });
    }
    out
}

/// `vmotion-throughput`: per migration with vMotion bytes in its transfer phase, their rate over
/// that phase, each stream's over its own span, the link speed of the vMotion vmknics that
/// carried them when the inventory gives it, and the documented figures. `warning` below
/// `min_mbps_per_vmotion` per concurrent vMotion.
pub fn throughput(
    cfg: &FindingsConfig,
    m: &Analysed,
    all: &[Analysed],
    streams: &[VmotionStream],
    inv: &VmkInventory,
) -> Option<Finding> {
    let phase = m.phases.iter().find(|p| p.name == "transfer")?;
    let bytes = phase
        .breakdown
        .payload_bytes_by_class
        .get(&TrafficClass::Vmotion)
        .copied()
        .filter(|b| *b > 0)?;
    let secs = phase.end.saturating_sub(phase.start) as f64 / NS;
    if secs <= 0.0 {
        return None;
    }
    let gbps = bytes as f64 * 8.0 / secs / 1e9;
    let names = Names::new(inv);
    let mine = streams_of(m, streams, &names);
    let per_stream: Vec<f64> = mine
        .iter()
        .map(|s| {
            let span = s.last_ts.saturating_sub(s.first_ts) as f64 / NS;
            if span > 0.0 {
                s.bytes as f64 * 8.0 / span / 1e9
            } else {
                0.0
            }
        })
        .collect();
    // The vMotion vmknics of the sending side and their link speeds: each stream's end on the
    // source host when the migration names one (the destination may open streams too), else
    // its client.
    let mut vmknics: BTreeMap<String, Option<u32>> = BTreeMap::new();
    for s in &mine {
        let on_source = |ip: IpAddr| {
            names
                .vmk(ip, s.vlan)
                .filter(|v| m.source_host.as_deref() == Some(v.host.as_str()))
        };
        let sender = on_source(s.server).map_or(s.client, |_| s.server);
        let sender = on_source(s.client).map_or(sender, |_| s.client);
        match names.vmk(sender, s.vlan) {
            Some(v) => {
                vmknics.insert(
                    format!("{}/{}", v.host, v.name),
                    v.speed_mbps.filter(|&x| x > 0),
                );
            }
            None => {
                vmknics.insert(sender.to_string(), None);
            }
        }
    }
    let link_mbps: Option<u64> = vmknics
        .values()
        .map(|s| s.map(u64::from))
        .sum::<Option<u64>>()
        .filter(|_| !vmknics.is_empty());
    let concurrent = all
        .iter()
        .filter(|o| o.kind_state.state == PowerState::Hot)
        .filter_map(|o| o.phases.iter().find(|p| p.name == "transfer"))
        .filter(|p| p.start < phase.end && p.end > phase.start)
        .count()
        .max(1);
    let min_mbps = cfg.threshold("min_mbps_per_vmotion") * concurrent as f64;
    let helper = cfg.threshold("stream_helper_gbps");
    // KB 323379's figures hold for 40 GbE: 1, 2 or 3 vmknics.
    let n = vmknics.len();
    let kb = (vmknics.values().all(|s| *s == Some(40_000)) && (1..=3).contains(&n)).then(|| {
        cfg.threshold(match n {
            1 => "kb323379_40gbe_1_vmknic_gbps",
            2 => "kb323379_40gbe_2_vmknics_gbps",
            _ => "kb323379_40gbe_3_vmknics_gbps",
        })
    });
    let slow = gbps * 1000.0 < min_mbps;
    let mut message = format!(
        "vMotion moved {bytes} bytes in {secs:.3} s of transfer: {gbps:.2} Gb/s over {} and {}",
        count(mine.len(), "stream"),
        count(n, "vmknic")
    );
    if let Some(l) = link_mbps {
        message.push_str(&format!(
            ", {:.0} % of their {:.0} Gb/s of links",
            gbps * 1000.0 / l as f64 * 100.0,
            l as f64 / 1000.0
        ));
    }
    if let Some(k) = kb {
        message.push_str(&format!(
            "; KB 323379 measured about {k} Gb/s with {n} vmknics on 40 GbE"
        ));
    }
    if slow {
        message.push_str(&format!(
            "; below the {min_mbps:.0} Mb/s needed ({:.0} Mb/s per concurrent vMotion, {concurrent} concurrent)",
            min_mbps / concurrent as f64
        ));
    }
    let fastest = per_stream.iter().copied().fold(0.0, f64::max);
    if fastest >= 0.9 * helper {
        message.push_str(&format!(
            "; a stream reached {fastest:.1} Gb/s, near the {helper} Gb/s of one stream helper"
        ));
    }
    Some(Finding {
        id: "vmotion-throughput",
        severity: if slow {
            Severity::Warning
        } else {
            Severity::Info
        },
        migration: Some(m.id.clone()),
        message,
        evidence: json!({
            "bytes": bytes,
            "transfer_s": secs,
            "gbps": gbps,
            "streams": mine.len(),
            "stream_gbps": per_stream,
            "vmknics": vmknics.keys().collect::<Vec<_>>(),
            "link_mbps": link_mbps,
            "link_share": link_mbps.map(|l| gbps * 1000.0 / l as f64),
            "concurrent_vmotions": concurrent,
            "min_mbps": min_mbps,
            "stream_helper_gbps": helper,
            "kb323379_gbps": kb,
        }),
        reference: cfg.reference("vmotion-throughput"),
    })
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
            speed_mbps: None,
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

    #[test]
    fn throughput_needs_250_mbps_per_concurrent_vmotion() {
        use crate::migration::{Breakdown, Phase};
        let c = FindingsConfig::builtin();
        let with_transfer = |start: i64, bytes: u64| {
            let mut m = migration(PowerState::Hot, None);
            let mut b = Breakdown::default();
            b.payload_bytes_by_class
                .insert(TrafficClass::Vmotion, bytes);
            m.phases = vec![Phase {
                name: "transfer",
                start,
                end: start + S,
                active_data_classes: vec![TrafficClass::Vmotion],
                breakdown: b,
            }];
            m
        };
        // 40 MB in one second: 320 Mb/s, enough for one vMotion.
        let alone = [with_transfer(0, 40_000_000)];
        let f = throughput(&c, &alone[0], &alone, &[], &VmkInventory::empty()).expect("f");
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.evidence["gbps"], 0.32);
        assert_eq!(f.evidence["concurrent_vmotions"], 1);
        // Not for two at once (their transfers overlap by half a second).
        let two = [with_transfer(0, 40_000_000), with_transfer(S / 2, 1)];
        let f = throughput(&c, &two[0], &two, &[], &VmkInventory::empty()).expect("f");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.evidence["min_mbps"], 500.0);
        assert!(f.message.contains("2 concurrent"), "{}", f.message);
        // No vMotion bytes in the transfer: no finding.
        let none = [with_transfer(0, 0)];
        assert!(throughput(&c, &none[0], &none, &[], &VmkInventory::empty()).is_none());
    }

    #[test]
    fn throughput_counts_the_source_hosts_vmknics_whoever_opened_the_stream() {
        use crate::migration::{Breakdown, Phase};
        let mut m = migration(PowerState::Hot, None);
        let mut b = Breakdown::default();
        b.payload_bytes_by_class
            .insert(TrafficClass::Vmotion, 1_000);
        m.phases = vec![Phase {
            name: "transfer",
            start: 0,
            end: S,
            active_data_classes: vec![TrafficClass::Vmotion],
            breakdown: b,
        }];
        let mut a1 = vmk("a", "vmk1", "10.0.0.1", vec![Service::Vmotion]);
        a1.speed_mbps = Some(40_000);
        let mut b1 = vmk("b", "vmk1", "10.0.0.2", vec![Service::Vmotion]);
        b1.speed_mbps = Some(10_000);
        let inv = VmkInventory::new(vec![a1, b1], InventorySource::File("inv.json".into()));
        // One stream from the source, one the destination opened to the source's 8000.
        let streams = [
            stream("10.0.0.1", "10.0.0.2", 500),
            stream("10.0.0.2", "10.0.0.1", 500),
        ];
        let c = FindingsConfig::builtin();
        let all = [m.clone()];
        let f = throughput(&c, &m, &all, &streams, &inv).expect("f");
        assert_eq!(f.evidence["vmknics"], json!(["a/vmk1"]));
        assert_eq!(f.evidence["link_mbps"], 40_000);
        assert_eq!(f.evidence["kb323379_gbps"], 18.0);
    }
}
