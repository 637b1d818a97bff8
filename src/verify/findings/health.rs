//! TCP health of a migration's vMotion and NFC streams: findings `segment-size` and
//! `stream-health` (issue 14, questions 4 and 5). The figures come from the flow stage
//! ([`crate::flow::health`], which defines them) and the ICMP too-big messages of the capture
//! ([`super::Observations`]).
//!
//! A migration's streams are the kept TCP flows of class vmotion or nfc that overlap its window
//! and have an end on one of its hosts (any end when the migration has no hosts).
//!
//! - `segment-size` (per migration with such streams): per (class, client vmk, server vmk), the
//!   MSS each side advertised in its SYN (`null`: no SYN captured) and the largest segment each
//!   side sent; the vmks' MTU when the inventory gives it; the ICMP too-big messages whose quoted
//!   packet went between the migration's addresses. `warning` when one side's MSS is at least
//!   `jumbo_mss_min` and the other's at most `standard_mss_max` (a jumbo-frame mismatch), when
//!   an MSS disagrees with its vmk's MTU (above MTU − 40/60, or standard on a jumbo MTU), or on
//!   any such ICMP message. Segments larger than the peer's MSS are TSO/LRO at the capture host,
//!   counted and not flagged.
//! - `stream-health` (per migration with such streams): per stream retransmitted bytes,
//!   zero-window advertisements and time, stalls and stall time, resets, handshake times and
//!   ack-RTT samples (count, min, median, mean, max); `null` where the capture cannot say (no
//!   SYN, no acknowledgements of a direction captured). `warning` when a stall overlaps the
//!   migration's `transfer` phase (its whole window when it has none), or a stream was reset
//!   before any FIN.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::{Finding, FindingsConfig, Inputs, NS, Severity};
use crate::classify::KeptFlow;
use crate::classify::inventory::{Vmk, VmkInventory};
use crate::flow::health::{DirHealth, Health, RttStats};
use crate::migration::Analysed;
use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// Most streams listed one by one in a `stream-health` finding (all are summed).
pub const MAX_LISTED_STREAMS: usize = 32;

/// The shortest stall counted, ns, from the `stall_min_s` threshold.
pub fn stall_min_ns(cfg: &FindingsConfig) -> i64 {
    let s = cfg.threshold("stall_min_s");
    if s.is_finite() && s >= 0.0 {
        (s * NS).min(i64::MAX as f64) as i64
    } else {
        1_000_000_000
    }
}

fn class_name(c: TrafficClass) -> &'static str {
    match c {
        TrafficClass::Vmotion => "vmotion",
        TrafficClass::Nfc => "nfc",
        _ => "other",
    }
}

struct Stream<'a> {
    k: &'a KeptFlow,
    h: &'a Health,
}

impl Stream<'_> {
    /// Health of the client's and the server's direction.
    fn cs(&self) -> (&DirHealth, &DirHealth) {
        if self.k.flow.client_is_lo {
            (&self.h.dir[0], &self.h.dir[1])
        } else {
            (&self.h.dir[1], &self.h.dir[0])
        }
    }
}

fn vmk_of(inv: &VmkInventory, ip: IpAddr, vlan: Option<u16>) -> Option<&Vmk> {
    inv.lookup(ip, vlan).and_then(|i| inv.vmks.get(i))
}

fn name(inv: &VmkInventory, ip: IpAddr, vlan: Option<u16>) -> String {
    vmk_of(inv, ip, vlan).map_or_else(|| ip.to_string(), |v| format!("{}/{}", v.host, v.name))
}

/// The migration's vMotion and NFC streams with health figures, in the kept flows' order.
fn streams_of<'a>(m: &Analysed, inp: &Inputs<'a>) -> Vec<Stream<'a>> {
    inp.flows
        .iter()
        .filter(|k| {
            k.flow.key.proto == IpProtocol::Tcp
                && matches!(k.class, TrafficClass::Vmotion | TrafficClass::Nfc)
        })
        .filter_map(|k| {
            Some(Stream {
                k,
                h: k.flow.health.as_deref()?,
            })
        })
        .filter(|s| match (s.k.flow.first_ts(), s.k.flow.last_ts()) {
            (Some(a), Some(b)) => a < m.end && b >= m.start,
            _ => false,
        })
        .filter(|s| {
            let vlan = s.k.flow.key.vlan;
            m.hosts.is_empty()
                || [s.k.flow.client().ip, s.k.flow.server().ip]
                    .iter()
                    .any(|ip| vmk_of(inp.inv, *ip, vlan).is_some_and(|v| m.hosts.contains(&v.host)))
        })
        .collect()
}

/// IP + TCP header bytes an MSS leaves out of an MTU.
fn headers(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { 40 } else { 60 }
}

#[derive(Default)]
struct Pair {
    streams: u64,
    client_mss: BTreeSet<u16>,
    server_mss: BTreeSet<u16>,
    client_unknown: u64,
    server_unknown: u64,
    client_max_segment: u32,
    server_max_segment: u32,
    over_mss: u64,
    client_mtu: Option<u32>,
    server_mtu: Option<u32>,
}

/// The `segment-size` finding of a migration with vMotion or NFC streams.
pub fn segment_size(cfg: &FindingsConfig, m: &Analysed, inp: &Inputs<'_>) -> Option<Finding> {
    let streams = streams_of(m, inp);
    if streams.is_empty() {
        return None;
    }
    let jumbo = cfg.threshold("jumbo_mss_min");
    let standard = cfg.threshold("standard_mss_max");
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();
    let mut addrs: BTreeSet<IpAddr> = BTreeSet::new();
    for s in &streams {
        let f = &s.k.flow;
        let vlan = f.key.vlan;
        let (c, v) = (f.client().ip, f.server().ip);
        addrs.insert(c);
        addrs.insert(v);
        let key = format!(
            "{} {} -> {}",
            class_name(s.k.class),
            name(inp.inv, c, vlan),
            name(inp.inv, v, vlan)
        );
        let (ch, sh) = s.cs();
        let p = pairs.entry(key.clone()).or_default();
        p.streams += 1;
        match ch.mss {
            Some(x) => {
                p.client_mss.insert(x);
            }
            None => p.client_unknown += 1,
        }
        match sh.mss {
            Some(x) => {
                p.server_mss.insert(x);
            }
            None => p.server_unknown += 1,
        }
        p.client_max_segment = p.client_max_segment.max(ch.max_segment);
        p.server_max_segment = p.server_max_segment.max(sh.max_segment);
        p.over_mss += ch.segments_over_peer_mss + sh.segments_over_peer_mss;
        p.client_mtu = vmk_of(inp.inv, c, vlan).and_then(|v| v.mtu);
        p.server_mtu = vmk_of(inp.inv, v, vlan).and_then(|v| v.mtu);
        if let (Some(a), Some(b)) = (ch.mss, sh.mss) {
            let (lo, hi) = (f64::from(a.min(b)), f64::from(a.max(b)));
            if hi >= jumbo && lo <= standard {
                let text = format!("{key}: jumbo-frame mismatch, MSS {a} (client) vs {b} (server)");
                if !problems.contains(&text) {
                    problems.push(text);
                }
            }
        }
        for (ip, mss, mtu, side) in [
            (c, ch.mss, p.client_mtu, "client"),
            (v, sh.mss, p.server_mtu, "server"),
        ] {
            let (Some(mss), Some(mtu)) = (mss, mtu) else {
                continue;
            };
            let expected = mtu.saturating_sub(headers(ip));
            let bad = u32::from(mss) > expected
                || (f64::from(expected) >= jumbo && f64::from(mss) <= standard);
            if bad {
                let text = format!(
                    "{key}: the {side} ({}) advertised MSS {mss} on a vmk with MTU {mtu} (MSS {expected} expected)",
                    name(inp.inv, ip, vlan)
                );
                if !problems.contains(&text) {
                    problems.push(text);
                }
            }
        }
    }
    // Hosts' vmk addresses too: a too-big message about any of their traffic counts.
    for h in &m.hosts {
        for v in inp.inv.host_vmks(h) {
            addrs.extend(v.addrs.iter().map(|(a, _)| *a));
        }
    }
    let mut icmp = Vec::new();
    for ((src, dst), seen) in &inp.seen.too_big {
        if !(addrs.contains(src) && addrs.contains(dst)) {
            continue;
        }
        let in_window: Vec<&(Option<i64>, IpAddr, u32)> = seen
            .first
            .iter()
            .filter(|(ts, _, _)| ts.is_none_or(|t| t >= m.start && t <= m.end))
            .collect();
        if in_window.is_empty() {
            continue;
        }
        let mtus: BTreeSet<u32> = in_window.iter().map(|(_, _, mtu)| *mtu).collect();
        let reporters: BTreeSet<IpAddr> = in_window.iter().map(|(_, r, _)| *r).collect();
        problems.push(format!(
            "{} ICMP too-big messages about packets {} -> {} (MTU {})",
            seen.count,
            src,
            dst,
            mtus.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        icmp.push(json!({
            "inner_src": src.to_string(),
            "inner_dst": dst.to_string(),
            "messages": seen.count,
            "mtus": mtus,
            "reported_by": reporters.iter().map(IpAddr::to_string).collect::<Vec<_>>(),
            "first_s": in_window.first().and_then(|(ts, _, _)| ts.map(|t| t as f64 / NS)),
        }));
    }
    let set = |s: &BTreeSet<u16>, unknown: u64| -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            json!({"values": s, "streams_without_syn": unknown})
        }
    };
    let by_pair: Map<String, Value> = pairs
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                json!({
                    "streams": p.streams,
                    "client_mss": set(&p.client_mss, p.client_unknown),
                    "server_mss": set(&p.server_mss, p.server_unknown),
                    "client_largest_segment": p.client_max_segment,
                    "server_largest_segment": p.server_max_segment,
                    "segments_over_peer_mss": p.over_mss,
                    "client_mtu": p.client_mtu,
                    "server_mtu": p.server_mtu,
                }),
            )
        })
        .collect();
    let severity = if problems.is_empty() {
        Severity::Info
    } else {
        Severity::Warning
    };
    let mss_words = |s: &BTreeSet<u16>| {
        if s.is_empty() {
            "unknown".to_string()
        } else {
            s.iter().map(u16::to_string).collect::<Vec<_>>().join("/")
        }
    };
    let message = if problems.is_empty() {
        let summary: Vec<String> = pairs
            .iter()
            .map(|(k, p)| {
                format!(
                    "{k}: MSS {} / {}",
                    mss_words(&p.client_mss),
                    mss_words(&p.server_mss)
                )
            })
            .collect();
        format!("segment sizes agree: {}", summary.join("; "))
    } else {
        problems.join("; ")
    };
    Some(Finding {
        id: "segment-size",
        severity,
        migration: Some(m.id.clone()),
        message,
        evidence: json!({
            "streams": streams.len(),
            "by_pair": by_pair,
            "icmp_too_big": icmp,
            "problems": problems,
            "jumbo_mss_min": jumbo,
            "standard_mss_max": standard,
            "note": "segments larger than the peer's MSS come from TSO/LRO at the capture host and are not flagged",
        }),
        reference: cfg.reference("segment-size"),
    })
}

fn rtt_json(r: &RttStats) -> Value {
    if r.count == 0 {
        return Value::Null;
    }
    json!({
        "samples": r.count,
        "min_s": r.min_ns as f64 / NS,
        "median_s": r.median_ns().map(|v| v / NS),
        "mean_s": r.mean_ns().map(|v| v / NS),
        "max_s": r.max_ns as f64 / NS,
    })
}

/// The `stream-health` finding of a migration with vMotion or NFC streams.
pub fn stream_health(cfg: &FindingsConfig, m: &Analysed, inp: &Inputs<'_>) -> Option<Finding> {
    let streams = streams_of(m, inp);
    if streams.is_empty() {
        return None;
    }
    let (t0, t1) = m
        .phases
        .iter()
        .find(|p| p.name == "transfer")
        .map_or((m.start, m.end), |p| (p.start, p.end));
    let mut listed = Vec::new();
    let mut retrans = 0u64;
    let mut zero_windows = 0u64;
    let mut zero_ns = 0i64;
    let mut stalls = 0u64;
    let mut stall_ns = 0i64;
    let mut stall_dirs_known = 0u64;
    let mut stall_dirs_unknown = 0u64;
    let mut sides_not_captured = 0u64;
    let mut in_transfer = 0u64;
    let mut resets = 0u64;
    let mut abortive: Vec<String> = Vec::new();
    let mut rtt = RttStats::default();
    let mut handshake_min: Option<i64> = None;
    let mut handshake_max: Option<i64> = None;
    for s in &streams {
        let f = &s.k.flow;
        let vlan = f.key.vlan;
        let label = format!(
            "{} {}:{} -> {}:{}",
            class_name(s.k.class),
            name(inp.inv, f.client().ip, vlan),
            f.client().port,
            name(inp.inv, f.server().ip, vlan),
            f.server().port
        );
        let (cd, sd) = f.client_server();
        let (ch, sh) = s.cs();
        // A side none of whose segments was captured says nothing of its windows and resets,
        // nor of its data's stalls; a side that sent data says nothing of its stalls unless the
        // other side's acknowledgements were captured.
        let (c_seen, s_seen) = (cd.packets > 0, sd.packets > 0);
        let stall_known = |d: &DirHealth, seen: bool| seen && (d.acks_seen || d.max_segment == 0);
        let (c_stall, s_stall) = (stall_known(ch, c_seen), stall_known(sh, s_seen));
        sides_not_captured += u64::from(!c_seen) + u64::from(!s_seen);
        retrans += cd.retransmitted_bytes + sd.retransmitted_bytes;
        zero_windows += ch.zero_windows() + sh.zero_windows();
        zero_ns = zero_ns.saturating_add(ch.zero_window_ns().saturating_add(sh.zero_window_ns()));
        resets += ch.resets + sh.resets;
        let mut stream_in_transfer = 0u64;
        for (d, known) in [(ch, c_stall), (sh, s_stall)] {
            if known {
                stall_dirs_known += 1;
                stalls += d.stalls();
                stall_ns = stall_ns.saturating_add(d.stall_ns());
            } else {
                stall_dirs_unknown += 1;
            }
            stream_in_transfer += d
                .stall_list()
                .iter()
                .filter(|(a, b)| *a < t1 && *b > t0)
                .count() as u64;
        }
        in_transfer += stream_in_transfer;
        if ch.reset_before_fin || sh.reset_before_fin {
            abortive.push(label.clone());
        }
        rtt.merge(&ch.rtt);
        rtt.merge(&sh.rtt);
        let hs = &s.h.handshake;
        let initial = match (hs.syn_to_synack_ns, hs.synack_to_ack_ns) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
        if let Some(i) = initial {
            handshake_min = Some(handshake_min.map_or(i, |v| v.min(i)));
            handshake_max = Some(handshake_max.map_or(i, |v| v.max(i)));
        }
        if listed.len() < MAX_LISTED_STREAMS {
            let stall = |d: &DirHealth, known: bool| {
                known.then(|| json!({"stalls": d.stalls(), "stall_s": d.stall_ns() as f64 / NS}))
            };
            let seen = |v: u64, seen: bool| seen.then_some(v);
            listed.push(json!({
                "stream": label,
                "bytes": f.payload_bytes(),
                "retransmitted_bytes": {
                    "client_to_server": cd.retransmitted_bytes,
                    "server_to_client": sd.retransmitted_bytes,
                },
                "zero_windows": {
                    "advertised_by_client": seen(ch.zero_windows(), c_seen),
                    "advertised_by_server": seen(sh.zero_windows(), s_seen),
                    "zero_window_s": (ch.zero_window_ns().saturating_add(sh.zero_window_ns())) as f64 / NS,
                },
                "stalls": {
                    "client_to_server": stall(ch, c_stall),
                    "server_to_client": stall(sh, s_stall),
                    "in_transfer_phase": stream_in_transfer,
                },
                "resets": {
                    "by_client": seen(ch.resets, c_seen),
                    "by_server": seen(sh.resets, s_seen),
                    "before_any_fin": ch.reset_before_fin || sh.reset_before_fin,
                },
                "handshake": {
                    "syn_to_synack_s": hs.syn_to_synack_ns.map(|v| v as f64 / NS),
                    "synack_to_ack_s": hs.synack_to_ack_ns.map(|v| v as f64 / NS),
                    "initial_rtt_s": initial.map(|v| v as f64 / NS),
                },
                "ack_rtt": {
                    "client_to_server": rtt_json(&ch.rtt),
                    "server_to_client": rtt_json(&sh.rtt),
                },
            }));
        }
    }
    let warn = in_transfer > 0 || !abortive.is_empty();
    let mut words = vec![format!(
        "{} stream{}: {} retransmitted bytes, {} zero-window advertisements ({:.3} s closed)",
        streams.len(),
        if streams.len() == 1 { "" } else { "s" },
        retrans,
        zero_windows,
        zero_ns as f64 / NS
    )];
    words.push(match (stall_dirs_known, stall_dirs_unknown) {
        (0, _) => "stalls unknown (no acknowledgements of the data captured)".to_string(),
        (_, 0) => format!(
            "{stalls} stalls ({:.3} s; {in_transfer} in the transfer phase)",
            stall_ns as f64 / NS
        ),
        (_, u) => format!(
            "{stalls} stalls ({:.3} s; {in_transfer} in the transfer phase) in the directions \
             known, {u} unknown (no acknowledgements of their data captured)",
            stall_ns as f64 / NS
        ),
    });
    if sides_not_captured > 0 {
        words.push(format!(
            "{sides_not_captured} stream sides not captured (their zero windows and resets unknown)"
        ));
    }
    words.push(format!("{resets} resets"));
    if !abortive.is_empty() {
        words.push(format!("reset before any FIN: {}", abortive.join(", ")));
    }
    words.push(match (rtt.count, rtt.median_ns()) {
        (n, Some(med)) if n > 0 => format!(
            "ack RTT median {:.3} ms over {n} samples (min {:.3}, max {:.3})",
            med / 1e6,
            rtt.min_ns as f64 / 1e6,
            rtt.max_ns as f64 / 1e6
        ),
        _ => "ack RTT unknown (no data/ACK pairs captured)".to_string(),
    });
    Some(Finding {
        id: "stream-health",
        severity: if warn {
            Severity::Warning
        } else {
            Severity::Info
        },
        migration: Some(m.id.clone()),
        message: words.join("; "),
        evidence: json!({
            "streams": streams.len(),
            "retransmitted_bytes": retrans,
            "zero_windows": zero_windows,
            "zero_window_s": zero_ns as f64 / NS,
            "stalls": (stall_dirs_known > 0).then_some(stalls),
            "stall_s": (stall_dirs_known > 0).then_some(stall_ns as f64 / NS),
            "stall_directions_unknown": stall_dirs_unknown,
            "stream_sides_not_captured": sides_not_captured,
            "stalls_in_transfer_phase": in_transfer,
            "transfer_phase_s": [t0 as f64 / NS, t1 as f64 / NS],
            "stall_min_s": cfg.threshold("stall_min_s"),
            "resets": resets,
            "reset_before_any_fin": abortive,
            "ack_rtt": rtt_json(&rtt),
            "initial_rtt_s": {
                "min": handshake_min.map(|v| v as f64 / NS),
                "max": handshake_max.map(|v| v as f64 / NS),
            },
            "by_stream": listed,
            "streams_not_listed": streams.len().saturating_sub(MAX_LISTED_STREAMS),
        }),
        reference: cfg.reference("stream-health"),
    })
}
