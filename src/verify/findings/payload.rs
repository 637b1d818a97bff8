//! Findings from payload bytes: `vmotion-encryption`, `nfc-tls`, `host-identity`.
//!
//! They need captured payload; a header-only capture (`tcpdump -s 96`) answers `unknown
//! (header-only)`, and they never claim more than the bytes show (see [`crate::flow::payload`]).
//!
//! - `vmotion-encryption`: per migration with vMotion streams (TCP 8000 flows that overlap its
//!   window and have an end on one of its hosts), per stream the direction that carried more
//!   payload: `plain` (the unencrypted ESXi 6.0 format of Huppert's Volatility plugin, with its
//!   iterations), `not plain (encrypted or unknown format)` (its first bytes, from the SYN, are not
//!   that format's magic), or `unknown` (header-only; or the stream's start was not captured).
//!   `warning` when a stream is plain (the VM's memory crosses the wire readable), else `info`.
//! - `nfc-tls`: per migration with NFC flows (TCP 902, same membership), per flow: `tls` (after
//!   authd's banner, the bulk direction is TLS records), `plain` (after the banner, the bulk
//!   direction's first bytes are no TLS record), or `unknown` (header-only; no authd banner;
//!   nothing read after the banner; TLS records lost). `warning` when a flow is plain.
//! - `host-identity`: per heartbeat sender (UDP 902 to vCenter), no migration: the host's
//!   address as its heartbeat states it, its ESXi build and the release of that build where the
//!   built-in table ([`ESXI_BUILDS`]) knows it; `info`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Finding, FindingsConfig, NS, Observations, Severity};
use crate::classify::KeptFlow;
use crate::classify::inventory::{InventorySource, VmkInventory};
use crate::decode::views::Heartbeat;
use crate::flow::Flow;
use crate::flow::payload::{DirScan, NfcReader, Reader, Stop, VmotionFormat, VmotionReader};
use crate::migration::Analysed;
use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// ESXi build numbers and their release names (data, with its source).
pub const ESXI_BUILDS: &str = include_str!("esxi_builds.json");

/// Most heartbeat senders remembered.
pub const MAX_HEARTBEAT_SENDERS: usize = 1024;

#[derive(Deserialize)]
struct Builds {
    builds: BTreeMap<u32, String>,
}

/// The release name of an ESXi build number, where the built-in table knows it.
pub fn esxi_release(build: u32) -> Option<&'static str> {
    static TABLE: OnceLock<BTreeMap<u32, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            serde_json::from_str::<Builds>(ESXI_BUILDS)
                .map(|b| b.builds)
                .unwrap_or_default()
        })
        .get(&build)
        .map(String::as_str)
}

/// What the heartbeats of one sender showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostHeartbeat {
    /// The host's address as the heartbeat states it.
    pub address: Ipv4Addr,
    /// ESXi build number (the last heartbeat's).
    pub build: u32,
    /// Every build number seen (more than one: the host was upgraded during the capture, or
    /// two hosts share the address).
    pub builds: BTreeSet<u32>,
    /// Host key (at most 64 bytes kept).
    pub host_key: String,
    /// The first four bytes.
    pub magic: u32,
    /// Heartbeats decoded.
    pub count: u64,
    /// First and last heartbeat (ns).
    pub first_ts: Option<i64>,
    /// Last heartbeat (ns).
    pub last_ts: Option<i64>,
}

impl Observations {
    /// A UDP 902 payload sent by `sender` at `ts`.
    pub fn saw_udp_902(&mut self, sender: IpAddr, ts: Option<i64>, payload: &[u8]) {
        let Some(hb) = Heartbeat::parse(payload) else {
            self.heartbeats_not_decoded += 1;
            return;
        };
        if !self.heartbeats.contains_key(&sender) && self.heartbeats.len() >= MAX_HEARTBEAT_SENDERS
        {
            self.heartbeats_not_decoded += 1;
            return;
        }
        let e = self
            .heartbeats
            .entry(sender)
            .or_insert_with(|| HostHeartbeat {
                address: hb.address,
                build: hb.build,
                builds: BTreeSet::new(),
                host_key: hb.host_key.chars().take(64).collect(),
                magic: hb.magic,
                count: 0,
                first_ts: None,
                last_ts: None,
            });
        e.address = hb.address;
        e.build = hb.build;
        if e.builds.len() < 8 {
            e.builds.insert(hb.build);
        }
        e.count += 1;
        if let Some(t) = ts {
            e.first_ts = Some(e.first_ts.map_or(t, |v| v.min(t)));
            e.last_ts = Some(e.last_ts.map_or(t, |v| v.max(t)));
        }
    }
}

/// The name an inferred inventory gives the host of a heartbeat sender.
pub fn host_name(hb: &HostHeartbeat) -> String {
    format!("esxi-{}", hb.address)
}

/// In an inferred inventory, names the host of each vmk whose address sent heartbeats, or is
/// the address a heartbeat states, after the heartbeat (`esxi-ADDRESS`; deterministic: the
/// senders in address order). Returns how many vmks were renamed.
pub fn name_hosts(inv: &mut VmkInventory, seen: &Observations) -> usize {
    if inv.source != InventorySource::Inferred || seen.heartbeats.is_empty() {
        return 0;
    }
    let mut names: BTreeMap<IpAddr, String> = BTreeMap::new();
    for (sender, hb) in &seen.heartbeats {
        let name = host_name(hb);
        names.entry(*sender).or_insert_with(|| name.clone());
        names.entry(IpAddr::V4(hb.address)).or_insert(name);
    }
    let mut vmks = inv.vmks.to_vec();
    let mut renamed = 0;
    for v in &mut vmks {
        if let Some(n) = v.addrs.first().and_then(|(a, _)| names.get(a)) {
            v.host = n.clone();
            renamed += 1;
        }
    }
    if renamed > 0 {
        let notes = std::mem::take(&mut inv.notes);
        *inv = VmkInventory::new(vmks, InventorySource::Inferred);
        inv.notes = notes;
    }
    renamed
}

/// The flows of class `class` (TCP) that belong to migration `m`: they overlap its window and,
/// when it names hosts, have an end on one of them.
fn flows_of<'a>(
    m: &'a Analysed,
    flows: &'a [KeptFlow],
    inv: &'a VmkInventory,
    class: TrafficClass,
) -> impl Iterator<Item = &'a Flow> + 'a {
    flows
        .iter()
        .filter(move |k| k.class == class && k.flow.key.proto == IpProtocol::Tcp)
        .map(|k| &k.flow)
        .filter(move |f| match (f.first_ts(), f.last_ts()) {
            (Some(a), Some(b)) => a < m.end && b >= m.start,
            _ => false,
        })
        .filter(move |f| {
            m.hosts.is_empty()
                || [f.key.lo.ip, f.key.hi.ip].iter().any(|ip| {
                    inv.lookup(*ip, f.key.vlan)
                        .and_then(|i| inv.vmks.get(i))
                        .is_some_and(|v| m.hosts.contains(&v.host))
                })
        })
}

/// `lo → hi` is index 0: the index of the client's direction.
fn client_dir(f: &Flow) -> usize {
    if f.client_is_lo { 0 } else { 1 }
}

/// The direction of `f` that carried more payload (the client's on a tie).
fn bulk_dir(f: &Flow) -> usize {
    let c = client_dir(f);
    if f.dir[1 - c].payload_bytes > f.dir[c].payload_bytes {
        1 - c
    } else {
        c
    }
}

fn stop_json(s: Option<Stop>) -> Value {
    match s {
        None => Value::Null,
        Some(Stop::Gap(at)) => {
            json!({"reason": "sequence gap (bytes not captured, or out of order)", "at_byte": at})
        }
        Some(Stop::Cut(at)) => {
            json!({"reason": "payload cut by the capture (snap length)", "at_byte": at})
        }
    }
}

fn endpoint_name(inv: &VmkInventory, ip: IpAddr, vlan: Option<u16>) -> String {
    inv.lookup(ip, vlan)
        .and_then(|i| inv.vmks.get(i))
        .map_or_else(
            || ip.to_string(),
            |v| format!("{}/{} ({ip})", v.host, v.name),
        )
}

/// What one vMotion stream's payload showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum VmOutcome {
    Plain,
    NotPlain,
    Unknown,
}

/// The `vmotion-encryption` finding of a migration with vMotion streams that carried payload.
pub fn vmotion_encryption(
    cfg: &FindingsConfig,
    m: &Analysed,
    flows: &[KeptFlow],
    inv: &VmkInventory,
) -> Option<Finding> {
    let mut streams = Vec::new();
    let mut outcomes = BTreeMap::<VmOutcome, u64>::new();
    let mut precopy: Option<u32> = None;
    let mut precopy_unknown = 0u64;
    let mut why_unknown = BTreeSet::new();
    for f in flows_of(m, flows, inv, TrafficClass::Vmotion) {
        let Some(scan) = &f.payload else { continue };
        let di = bulk_dir(f);
        let Some(d) = scan.dirs.get(di) else { continue };
        let Reader::Vmotion(r) = &d.reader else {
            continue;
        };
        if !d.any_payload() {
            continue;
        }
        let (outcome, text) = vmotion_outcome(d, r);
        *outcomes.entry(outcome).or_default() += 1;
        if outcome == VmOutcome::Unknown {
            why_unknown.insert(reason(text));
        }
        // The last-iteration marker ends the pre-copy: before it is read, the passes counted
        // are a lower bound (the reading stopped, or the stream was still in pre-copy).
        let pre = r.last_marker.then(|| r.iterations.saturating_sub(1));
        if let (VmOutcome::Plain, Some(p)) = (outcome, pre) {
            precopy = Some(precopy.map_or(p, |q| q.max(p)));
        }
        if outcome == VmOutcome::Plain && pre.is_none() {
            precopy_unknown += 1;
        }
        let (from, to) = if di == 0 {
            (f.key.lo, f.key.hi)
        } else {
            (f.key.hi, f.key.lo)
        };
        let mut s = json!({
            "from": endpoint_name(inv, from.ip, f.key.vlan),
            "to": endpoint_name(inv, to.ip, f.key.vlan),
            "ports": [from.port, to.port],
            "outcome": text,
            "from_stream_start": d.from_syn(),
            "bytes_read": d.read_bytes(),
            "read_stopped": stop_json(d.stop()),
        });
        if outcome == VmOutcome::Plain {
            if let Some(o) = s.as_object_mut() {
                o.insert("iterations".into(), json!(r.iterations));
                o.insert("precopy_iterations".into(), json!(pre));
                o.insert("precopy_iterations_at_least".into(), json!(r.iterations));
                o.insert("last_iteration_marker".into(), json!(r.last_marker));
                o.insert("last_bundle_read".into(), json!(r.complete));
                o.insert("page_bundles".into(), json!(r.bundles));
                o.insert("pages".into(), json!(r.pages));
                o.insert("structure_broken_at_byte".into(), json!(r.broken_at));
            }
        }
        streams.push(s);
    }
    let (&worst, _) = outcomes.iter().next()?;
    let n = |o| outcomes.get(&o).copied().unwrap_or(0);
    let (severity, overall, message) = match worst {
        VmOutcome::Plain => (
            Severity::Warning,
            "plain",
            format!(
                "vMotion memory stream unencrypted on {} of {} streams (the ESXi 6.0 format: \
                 the VM's memory crosses the wire readable){}",
                n(VmOutcome::Plain),
                streams.len(),
                match (precopy, precopy_unknown) {
                    (Some(p), 0) => format!("; {p} pre-copy iterations"),
                    (Some(p), _) => format!(
                        "; {p} pre-copy iterations where the last-iteration marker was read"
                    ),
                    (None, _) => "; pre-copy iterations unknown (the last-iteration marker was \
                                  not read: payload cut or lost by the capture)"
                        .to_string(),
                }
            ),
        ),
        VmOutcome::NotPlain => (
            Severity::Info,
            "not plain (encrypted or unknown format)",
            format!(
                "vMotion streams not plain on {} of {} streams: encrypted, or a format other than \
                 the unencrypted ESXi 6.0 one (the bytes cannot tell which)",
                n(VmOutcome::NotPlain),
                streams.len()
            ),
        ),
        VmOutcome::Unknown => (
            Severity::Info,
            "unknown",
            format!(
                "vMotion encryption unknown on {} streams: {}",
                streams.len(),
                why_unknown.into_iter().collect::<Vec<_>>().join("; ")
            ),
        ),
    };
    Some(Finding {
        id: "vmotion-encryption",
        severity,
        migration: Some(m.id.clone()),
        message,
        evidence: json!({
            "outcome": overall,
            "streams_plain": n(VmOutcome::Plain),
            "streams_not_plain": n(VmOutcome::NotPlain),
            "streams_unknown": n(VmOutcome::Unknown),
            "precopy_iterations": precopy,
            "streams_precopy_unknown": precopy_unknown,
            "streams": streams,
            "format_known": "ESXi 6.0 unencrypted stream only (one public study); later unencrypted formats are undocumented",
        }),
        reference: cfg.reference("vmotion-encryption"),
    })
}

/// The reason in an outcome `unknown (REASON)`.
fn reason(text: &str) -> &str {
    text.strip_prefix("unknown (")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
}

fn vmotion_outcome(d: &DirScan, r: &VmotionReader) -> (VmOutcome, &'static str) {
    match r.format {
        VmotionFormat::Plain => (VmOutcome::Plain, "plain"),
        VmotionFormat::NotPlain if d.from_syn() => (
            VmOutcome::NotPlain,
            "not plain (encrypted or unknown format)",
        ),
        VmotionFormat::NotPlain => (
            VmOutcome::Unknown,
            "unknown (the stream's start was not captured)",
        ),
        VmotionFormat::Unread if !d.any_captured() => (VmOutcome::Unknown, "unknown (header-only)"),
        VmotionFormat::Unread => (
            VmOutcome::Unknown,
            "unknown (the stream's first bytes were not captured)",
        ),
    }
}

/// What one NFC flow's payload showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NfcOutcome {
    Plain,
    Tls,
    Unknown,
}

fn nfc_outcome(
    server: &DirScan,
    s: &NfcReader,
    bulk: &DirScan,
    b: &NfcReader,
) -> (NfcOutcome, &'static str) {
    if !server.any_captured() && !bulk.any_captured() {
        return (NfcOutcome::Unknown, "unknown (header-only)");
    }
    if s.banner.is_none() {
        return (NfcOutcome::Unknown, "unknown (no authd banner seen)");
    }
    match (b.records, b.not_tls_at) {
        (0, Some(_)) => (NfcOutcome::Plain, "plain"),
        (r, None) if r > 0 && b.app_records > 0 => (NfcOutcome::Tls, "tls"),
        (r, None) if r > 0 => (
            NfcOutcome::Tls,
            "tls (handshake read; no application data record was read after it)",
        ),
        (_, Some(_)) => (
            NfcOutcome::Unknown,
            "unknown (TLS records, then bytes that are not)",
        ),
        _ if !bulk.any_captured() => (NfcOutcome::Unknown, "unknown (header-only)"),
        _ => (
            NfcOutcome::Unknown,
            "unknown (nothing after the banner was read)",
        ),
    }
}

/// The `nfc-tls` finding of a migration with NFC flows that carried payload.
pub fn nfc_tls(
    cfg: &FindingsConfig,
    m: &Analysed,
    flows: &[KeptFlow],
    inv: &VmkInventory,
) -> Option<Finding> {
    let mut list = Vec::new();
    let mut outcomes = BTreeMap::<NfcOutcome, u64>::new();
    let mut why_unknown = BTreeSet::new();
    for f in flows_of(m, flows, inv, TrafficClass::Nfc) {
        let Some(scan) = &f.payload else { continue };
        let c = client_dir(f);
        let (Some(cd), Some(sd)) = (scan.dirs.get(c), scan.dirs.get(1 - c)) else {
            continue;
        };
        if !cd.any_payload() && !sd.any_payload() {
            continue;
        }
        let (Reader::Nfc(cr), Reader::Nfc(sr)) = (&cd.reader, &sd.reader) else {
            continue;
        };
        let bi = bulk_dir(f);
        let (bd, br, bulk_name) = if bi == c {
            (cd, cr, "client to server")
        } else {
            (sd, sr, "server to client")
        };
        let (outcome, text) = nfc_outcome(sd, sr, bd, br);
        *outcomes.entry(outcome).or_default() += 1;
        if outcome == NfcOutcome::Unknown {
            why_unknown.insert(reason(text));
        }
        let banner = sr.banner.as_deref();
        list.push(json!({
            "client": endpoint_name(inv, f.client().ip, f.key.vlan),
            "server": endpoint_name(inv, f.server().ip, f.key.vlan),
            "outcome": text,
            "authd_banner": banner,
            "banner_ssl_required": banner.map(|b| b.contains("SSL Required")),
            "banner_nfcssl_supported": banner.map(|b| b.contains("NFCSSL supported")),
            "client_hello": cr.first_is_handshake,
            "bytes_before_first_record": br.prelude,
            "bulk_direction": bulk_name,
            "bulk_tls_records": br.records,
            "bulk_application_data_records": br.app_records,
            "bulk_application_data_bytes": br.app_bytes,
            "bulk_not_tls_at_byte": br.not_tls_at,
            "bulk_read_stopped": stop_json(bd.stop()),
        }));
    }
    let (&worst, _) = outcomes.iter().next()?;
    let n = |o| outcomes.get(&o).copied().unwrap_or(0);
    let total = list.len();
    let (severity, overall, message) = match worst {
        NfcOutcome::Plain => (
            Severity::Warning,
            "plain",
            format!(
                "NFC data not inside TLS on {} of {total} NFC flows (after authd's banner the \
                 bulk bytes are no TLS records: disk data crosses the wire readable)",
                n(NfcOutcome::Plain)
            ),
        ),
        NfcOutcome::Tls => (
            Severity::Info,
            "tls",
            format!(
                "NFC data inside TLS on {} of {total} NFC flows (authd's banner, then TLS records)",
                n(NfcOutcome::Tls)
            ),
        ),
        NfcOutcome::Unknown => (
            Severity::Info,
            "unknown",
            format!(
                "NFC SSL unknown on {total} NFC flows: {}",
                why_unknown.into_iter().collect::<Vec<_>>().join("; ")
            ),
        ),
    };
    Some(Finding {
        id: "nfc-tls",
        severity,
        migration: Some(m.id.clone()),
        message,
        evidence: json!({
            "outcome": overall,
            "flows_tls": n(NfcOutcome::Tls),
            "flows_plain": n(NfcOutcome::Plain),
            "flows_unknown": n(NfcOutcome::Unknown),
            "flows": list,
        }),
        reference: cfg.reference("nfc-tls"),
    })
}

/// A `host-identity` finding per heartbeat sender.
pub fn host_identity(
    cfg: &FindingsConfig,
    seen: &Observations,
    inv: &VmkInventory,
) -> Vec<Finding> {
    seen.heartbeats
        .iter()
        .map(|(sender, hb)| {
            let release = esxi_release(hb.build);
            let host = inv
                .lookup(*sender, None)
                .and_then(|i| inv.vmks.get(i))
                .map(|v| v.host.clone());
            Finding {
                id: "host-identity",
                severity: Severity::Info,
                migration: None,
                message: format!(
                    "host {}{} runs ESXi build {}{} (its vCenter heartbeat)",
                    hb.address,
                    host.as_ref().map_or(String::new(), |h| format!(" ({h})")),
                    hb.build,
                    release.map_or(String::new(), |r| format!(", {r}")),
                ),
                evidence: json!({
                    "sender": sender,
                    "address": hb.address,
                    "host": host,
                    "build": hb.build,
                    "release": release,
                    "builds_seen": hb.builds,
                    "host_key": hb.host_key,
                    "magic": format!("{:#010x}", hb.magic),
                    "heartbeats": hb.count,
                    "first_s": hb.first_ts.map(|t| t as f64 / NS),
                    "last_s": hb.last_ts.map(|t| t as f64 / NS),
                    "not_decoded_udp_902_payloads": seen.heartbeats_not_decoded,
                }),
                reference: cfg.reference("host-identity"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_table_parses_and_names_releases() {
        assert_eq!(esxi_release(21_495_797), Some("ESXi 8.0 Update 1"));
        assert_eq!(esxi_release(2_494_585), Some("ESXi 6.0 GA"));
        assert_eq!(esxi_release(1), None);
        let c = FindingsConfig::builtin();
        for id in ["vmotion-encryption", "nfc-tls", "host-identity"] {
            assert!(!c.reference(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn heartbeats_are_collected_per_sender() {
        let mut seen = Observations::default();
        let hb = Heartbeat {
            magic: 0xa4,
            build: 21_495_797,
            server_id: 1,
            host_key: "52-aa",
            counter: 1,
            address: Ipv4Addr::new(10, 0, 10, 11),
        };
        let mut b = Vec::new();
        hb.write(1, &[0; 16], &mut b);
        let sender: IpAddr = "10.0.10.11".parse().unwrap();
        seen.saw_udp_902(sender, Some(NS as i64), &b);
        seen.saw_udp_902(sender, Some(3 * NS as i64), &b);
        seen.saw_udp_902(sender, None, &[0xa4; 66]);
        let h = &seen.heartbeats[&sender];
        assert_eq!(
            (h.count, h.build, h.first_ts, h.last_ts),
            (2, 21_495_797, Some(NS as i64), Some(3 * NS as i64))
        );
        assert_eq!(seen.heartbeats_not_decoded, 1);
        let inv = VmkInventory::empty();
        let f = host_identity(&FindingsConfig::builtin(), &seen, &inv);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["release"], "ESXi 8.0 Update 1");
        assert!(
            f[0].message.contains("build 21495797, ESXi 8.0 Update 1"),
            "{}",
            f[0].message
        );
    }
}
