//! Synthetic captures of vSphere migrations, with their ground truth.
//!
//! In: a [`SynthConfig`] (scenarios, behaviour model, sizes, capture format and delivery). Out: a
//! capture file streamed to disk in constant memory, `CAPTURE.inventory.json` and
//! `CAPTURE.migrations.json` beside it ([`crate::labels`]), and a [`SynthSummary`] with the exact
//! count of payload bytes generated per migration, protocol, port, sender and receiver. With
//! [`SynthConfig::split`], a directory instead: a capture set of one file per vmk or host
//! ([`split`]) with `inventory.json` and `migrations.json` inside.
//!
//! ```text
//!  plan (model x kind x state)  ->  emit (TCP/UDP state, clock)  ->  frame (bytes)  ->  writer
//!                                    noise (background)                 split (set) ->  writers
//! ```
//!
//! Synthetic captures show that vmkflow works; they do not show what vSphere does.

pub mod emit;
mod error;
pub mod frame;
pub mod noise;
pub mod payload;
pub mod plan;
pub mod rng;
pub mod split;
pub mod topology;
pub mod writer;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::classify::inventory::Inventory;
use crate::labels::{Migration, Migrations, Timestamp, sidecar};
use crate::vocab::kind::{KindState, MigrationKind, PowerState};
use crate::vocab::time::{parse_rfc3339, rfc3339};
use crate::vocab::wire::IpProtocol;
use emit::{Emitter, EmitterConfig, FrameSink};
pub use error::{BadSetting, SynthError};
pub use frame::Encap;
pub use plan::Model;
use plan::PlanParams;
pub use split::{SetFile, SplitBy, SplitConfig};
use topology::Topology;
use writer::CaptureWriter;
pub use writer::Format;

/// Start of every synthetic capture.
pub const EPOCH: &str = "2026-03-02T10:00:00Z";
/// Idle time between migrations of one capture, ns.
pub const GAP_NS: u64 = 2_000_000_000;
/// Bytes in a MiB.
pub const MIB: u64 = 1 << 20;

/// The six migrations, in the order `--scenario all` writes them.
pub const ALL_SCENARIOS: [(MigrationKind, PowerState); 6] = [
    (MigrationKind::Vmotion, PowerState::Hot),
    (MigrationKind::Vmotion, PowerState::Cold),
    (MigrationKind::StorageVmotion, PowerState::Hot),
    (MigrationKind::StorageVmotion, PowerState::Cold),
    (MigrationKind::Xvmotion, PowerState::Hot),
    (MigrationKind::Xvmotion, PowerState::Cold),
];

/// What to generate (validated values).
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// The migrations, in order.
    pub scenarios: Vec<(MigrationKind, PowerState)>,
    /// The behaviour model.
    pub model: Model,
    /// The capture path; labels go to `PATH.inventory.json` and `PATH.migrations.json`.
    pub out: PathBuf,
    /// Memory moved by a hot vMotion (first pre-copy pass), MiB.
    pub memory_mb: u64,
    /// Disk data moved, MiB.
    pub disk_mb: u64,
    /// Parallel vMotion streams (1..=16).
    pub streams: usize,
    /// Hosts have a provisioning vmk2.
    pub provisioning: bool,
    /// IPv6 addresses throughout.
    pub ipv6: bool,
    /// 802.1Q tags.
    pub vlan: bool,
    /// Port-mirror encapsulation.
    pub encap: Encap,
    /// Header-only capture: keep the first N bytes of each frame.
    pub snaplen: Option<u32>,
    /// A mirror session's "mirrored packet length": keep the first N bytes of each mirrored
    /// (inner) frame before encapsulating it (needs an encapsulation).
    pub mirror_length: Option<u32>,
    /// File format.
    pub format: Format,
    /// Background noise level (0 = none).
    pub noise: u32,
    /// Link speed in Gbit/s.
    pub link_gbps: f64,
    /// PRNG seed.
    pub seed: u64,
    /// Grow memory and disk sizes until the capture is about this many bytes.
    pub size: Option<u64>,
    /// vSphere version written to the labels; 8.0 and later use UDT for cold data (vmware model).
    pub vsphere: String,
    /// KB 340170 routed case for NFC.
    pub nfc_asymmetric: bool,
    /// vMotion vmknics per host (1..=4): vmk1, then vmk4, vmk5, vmk6; streams go round-robin
    /// over them.
    pub vmotion_vmks: usize,
    /// Share of each vMotion stream in the bytes sent (empty: equal shares).
    pub stream_weights: Vec<u32>,
    /// Time from the end of the vMotion streams to the first RARP, ms (None: 1 ms).
    pub rarp_delay_ms: Option<u64>,
    /// Write the link speed into the inventory (`speed_mbps` of every vmk).
    pub inventory_speed: bool,
    /// Write a capture set into the directory `out` instead of one file.
    pub split: Option<SplitConfig>,
    /// MTU of esx01's and of esx02's vmks (`--mtu A:B`): written to the inventory, advertised as
    /// the MSS of their SYNs (MTU − 40, IPv6 − 60); segments are the smaller of both ends' MSS.
    pub mtu: Option<(u32, u32)>,
    /// Zero-window stalls (`--zero-window-stalls N:MS`): in each hot vMotion's first pre-copy
    /// pass the destination advertises window 0 on the first stream N times, MS ms each.
    pub zero_window_stalls: Option<(u32, u32)>,
    /// How hot vMotion streams' payload looks (vmware model).
    pub vmotion_payload: VmotionPayload,
    /// Pre-copy passes of a hot vMotion (1..=32; 4 by default).
    pub precopy_iterations: u32,
    /// NFC opens with authd's banner, then TLS (`Some(true)`) or plaintext (`Some(false)`);
    /// `None`: opaque bytes only, no banner.
    pub nfc_tls: Option<bool>,
    /// Heartbeats (noise) carry this ESXi build number in the heartbeat layout (IPv4 only;
    /// `None`: 66 random bytes starting 0xA4).
    pub esxi_build: Option<u32>,
}

/// How hot vMotion streams' payload looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmotionPayload {
    /// Pseudo-random bytes, as encrypted vMotion's look.
    #[default]
    Encrypted,
    /// The unencrypted ESXi 6.0 stream format (header, page bundles, iteration markers).
    Plain,
}

/// What the payload options made the capture hold (ground truth of the payload findings).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PayloadTruth {
    /// `encrypted` (opaque bytes) or `plain`.
    pub vmotion_payload: VmotionPayload,
    /// Pre-copy passes of each hot vMotion (iteration markers: one fewer, plus the last).
    pub precopy_iterations: u32,
    /// NFC inside TLS after authd's banner; `None`: no banner, opaque bytes.
    pub nfc_tls: Option<bool>,
    /// The build number the heartbeats carry, and its release where known.
    pub esxi_build: Option<u32>,
    /// The heartbeat senders (each host's vmk0), when heartbeats carry a build and noise is on.
    pub heartbeat_senders: Vec<String>,
}

impl PayloadTruth {
    fn is_default(&self) -> bool {
        self.vmotion_payload == VmotionPayload::Encrypted
            && self.precopy_iterations == 4
            && self.nfc_tls.is_none()
            && self.esxi_build.is_none()
    }
}

impl Default for SynthConfig {
    fn default() -> SynthConfig {
        SynthConfig {
            scenarios: ALL_SCENARIOS.to_vec(),
            model: Model::Vmware,
            out: PathBuf::from("synth.pcap"),
            memory_mb: 64,
            disk_mb: 256,
            streams: 2,
            provisioning: true,
            ipv6: false,
            vlan: false,
            encap: Encap::None,
            snaplen: None,
            mirror_length: None,
            format: Format::Pcap,
            noise: 0,
            link_gbps: 10.0,
            seed: 1,
            size: None,
            vsphere: "7.0".into(),
            nfc_asymmetric: false,
            vmotion_vmks: 1,
            stream_weights: Vec::new(),
            rarp_delay_ms: None,
            inventory_speed: false,
            split: None,
            mtu: None,
            zero_window_stalls: None,
            vmotion_payload: VmotionPayload::Encrypted,
            precopy_iterations: 4,
            nfc_tls: None,
            esxi_build: None,
        }
    }
}

/// Payload bytes of one (migration, protocol, port, sender, receiver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadCount {
    /// `vmotion:hot` etc., or `noise` for background traffic.
    pub scenario: String,
    /// Migration id (`m1` …), none for noise.
    pub migration: Option<String>,
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// The service port of the flow (8000, 902, 2049, 443, 53, 123).
    pub port: u16,
    /// Sending node, e.g. `esx01-vmk1`.
    pub src: String,
    /// Receiving node.
    pub dst: String,
    /// Packets, including pure ACKs, SYN and FIN.
    pub packets: u64,
    /// TCP or UDP payload bytes.
    pub bytes: u64,
}

/// What was written: the ground truth for tests and benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct SynthSummary {
    /// The capture file.
    pub capture: PathBuf,
    /// The inventory file.
    pub inventory: PathBuf,
    /// The migration labels file.
    pub migrations_file: PathBuf,
    /// `pcap`, `pcap-ns` or `pcapng`.
    pub format: &'static str,
    /// `vmware` or `article`.
    pub model: &'static str,
    /// Packet records written.
    pub packets: u64,
    /// Sum of frame lengths on the wire (outer frames when encapsulated).
    pub wire_bytes: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
    /// Size of the capture file.
    pub file_bytes: u64,
    /// Memory size used, bytes (after `--size` scaling).
    pub memory_bytes: u64,
    /// Disk size used, bytes (after `--size` scaling).
    pub disk_bytes: u64,
    /// Payload bytes, sorted by migration, protocol, port, sender, receiver.
    pub payload: Vec<PayloadCount>,
    /// The migration labels written.
    pub migrations: Migrations,
    /// With [`SynthConfig::split`]: the files of the capture set (`capture` is then their
    /// directory and `file_bytes` their sum; `packets`, `wire_bytes`, `captured_bytes` and
    /// `payload` count the frames generated, as for one file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<SetFile>,
    /// With `--mtu` or `--zero-window-stalls`: what they put in the capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthTruth>,
    /// What the payload options put in the capture (absent with the defaults).
    #[serde(skip_serializing_if = "PayloadTruth::is_default")]
    pub payload_truth: PayloadTruth,
}

impl SynthSummary {
    /// Payload bytes per (protocol, port) over the whole capture.
    pub fn bytes_by_port(&self) -> BTreeMap<(&'static str, u16), u64> {
        let mut m = BTreeMap::new();
        for p in &self.payload {
            *m.entry((p.proto, p.port)).or_insert(0) += p.bytes;
        }
        m
    }
}

impl SynthConfig {
    /// Checks ranges and combinations; the error says which setting is wrong.
    pub fn validate(&self) -> Result<(), SynthError> {
        let range = |option, value: String, accepted| {
            Err(SynthError::Config(BadSetting::OutOfRange {
                option,
                value,
                accepted,
            }))
        };
        if self.scenarios.is_empty() {
            return Err(SynthError::Config(BadSetting::NoScenario));
        }
        if !(1..=16).contains(&self.streams) {
            return range("--streams", self.streams.to_string(), "in 1..=16");
        }
        if !(1..=4).contains(&self.vmotion_vmks) {
            return range("--vmotion-vmks", self.vmotion_vmks.to_string(), "in 1..=4");
        }
        if !self.stream_weights.is_empty()
            && (self.stream_weights.len() != self.streams
                || self.stream_weights.iter().any(|w| !(1..=1000).contains(w)))
        {
            return range(
                "--stream-weights",
                format!("{:?}", self.stream_weights),
                "one weight in 1..=1000 per stream (--streams)",
            );
        }
        if self.rarp_delay_ms.is_some_and(|d| d > 600_000) {
            return range(
                "--rarp-delay-ms",
                format!("{:?}", self.rarp_delay_ms),
                "at most 600000",
            );
        }
        if !(self.link_gbps.is_finite() && self.link_gbps >= 0.001 && self.link_gbps <= 1000.0) {
            return range("--link-gbps", self.link_gbps.to_string(), "in 0.001..=1000");
        }
        if let Some(s) = self.snaplen {
            if !(34..=262_144).contains(&s) {
                return range("--snaplen", s.to_string(), "in 34..=262144");
            }
        }
        if let Some(m) = self.mirror_length {
            if self.encap == Encap::None && self.split.and_then(|s| s.mirror).is_none() {
                return Err(SynthError::Config(BadSetting::Needs {
                    option: "--mirror-length",
                    needs: "a mirror encapsulation (--encap or --also-mirror gre, erspan2 or \
                            erspan3)",
                }));
            }
            if !(60..=9_000).contains(&m) {
                return range("--mirror-length", m.to_string(), "in 60..=9000");
            }
        }
        if self.memory_mb > 1 << 20 {
            return range("--memory-mb", self.memory_mb.to_string(), "at most 1048576");
        }
        if self.disk_mb > 1 << 24 {
            return range("--disk-mb", self.disk_mb.to_string(), "at most 16777216");
        }
        if self.noise > 1000 {
            return range("--noise", self.noise.to_string(), "at most 1000");
        }
        if self.nfc_asymmetric && !self.provisioning {
            return Err(SynthError::Config(BadSetting::Needs {
                option: "--nfc-asymmetric",
                needs: "a provisioning vmk (drop --no-provisioning)",
            }));
        }
        if let Some((a, b)) = self.mtu {
            for m in [a, b] {
                if !(1_280..=9_216).contains(&m) {
                    return range("--mtu", m.to_string(), "in 1280..=9216");
                }
            }
        }
        if let Some((n, ms)) = self.zero_window_stalls {
            if !(1..=100).contains(&n) {
                return range("--zero-window-stalls", n.to_string(), "a count in 1..=100");
            }
            if !(1..=600_000).contains(&ms) {
                return range(
                    "--zero-window-stalls",
                    ms.to_string(),
                    "milliseconds in 1..=600000",
                );
            }
        }
        if !(1..=32).contains(&self.precopy_iterations) {
            return range(
                "--precopy-iterations",
                self.precopy_iterations.to_string(),
                "in 1..=32",
            );
        }
        if self.esxi_build.is_some() && self.noise == 0 {
            return Err(SynthError::Config(BadSetting::Needs {
                option: "--esxi-build",
                needs: "background noise, which carries the heartbeats (--noise 1 or more)",
            }));
        }
        if self.esxi_build.is_some() && self.ipv6 {
            return Err(SynthError::Config(BadSetting::Needs {
                option: "--esxi-build",
                needs: "IPv4 addresses (the heartbeat states the host's IPv4 address)",
            }));
        }
        split::validate(self)?;
        if vsphere_major(&self.vsphere).is_none() {
            return range(
                "--vsphere",
                format!("`{}`", self.vsphere),
                "a version like 7.0 or 8.0",
            );
        }
        Ok(())
    }

    fn params(&self, memory_bytes: u64, disk_bytes: u64) -> PlanParams {
        PlanParams {
            model: self.model,
            memory_bytes,
            disk_bytes,
            streams: self.streams,
            udt: vsphere_major(&self.vsphere).is_some_and(|m| m >= 8),
            nfc_asymmetric: self.nfc_asymmetric,
            stream_weights: {
                let mut w = [0u32; 16];
                for (d, s) in w.iter_mut().zip(&self.stream_weights) {
                    *d = *s;
                }
                w
            },
            rarp_delay_ns: self.rarp_delay_ms.map(|ms| ms * 1_000_000),
            zero_window_stalls: self.zero_window_stalls,
            vmotion_plain: self.vmotion_payload == VmotionPayload::Plain,
            precopy_iterations: self.precopy_iterations,
            nfc_tls: self.nfc_tls,
        }
    }
}

fn vsphere_major(v: &str) -> Option<u32> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse::<u32>().ok()?;
    parts
        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        .then_some(major)
}

/// What one pass of the generator produced.
struct Pass {
    packets: u64,
    wire_bytes: u64,
    captured_bytes: u64,
    file_bytes: u64,
    counts: BTreeMap<emit::CountKey, emit::Count>,
    windows: Vec<Option<(i64, i64)>>,
    hosts: Vec<(usize, usize)>,
    zero_windows: Vec<(usize, i64, i64)>,
}

/// The writer of one capture file: pcapng interfaces per vmk, or the mirror collector's.
fn single_writer<W: Write>(
    cfg: &SynthConfig,
    topo: &Topology,
    w: W,
) -> io::Result<CaptureWriter<W>> {
    let interfaces = if cfg.encap == Encap::None {
        topo.interfaces()
    } else {
        vec!["mirror-collector".to_string()]
    };
    CaptureWriter::new(w, cfg.format, cfg.snaplen, &interfaces)
}

fn run_pass<S: FrameSink>(
    cfg: &SynthConfig,
    topo: &Topology,
    out: S,
    memory_bytes: u64,
    disk_bytes: u64,
) -> io::Result<(S::Done, Pass)> {
    let epoch_ns = parse_rfc3339(EPOCH).unwrap_or(0);
    let ecfg = EmitterConfig {
        epoch_ns,
        link_gbps: cfg.link_gbps,
        vlan: cfg.vlan,
        encap: cfg.encap,
        mirror_length: cfg.mirror_length,
        seed: cfg.seed,
        noise: cfg.noise,
        esxi_build: cfg.esxi_build,
    };
    let mut em = Emitter::new(topo, out, &ecfg);
    let params = cfg.params(memory_bytes, disk_bytes);
    let mut hosts = Vec::new();
    em.idle(10_000_000)?;
    for (i, &(kind, state)) in cfg.scenarios.iter().enumerate() {
        if i > 0 {
            em.idle(GAP_NS)?;
        }
        em.set_migration(Some(i));
        hosts.push(plan::migration(&mut em, i, kind, state, &params)?);
        em.set_migration(None);
    }
    em.idle(10_000_000)?;
    let (packets, wire_bytes, captured_bytes) = (em.packets, em.wire_bytes, em.captured_bytes);
    let counts = em.counts().clone();
    let windows = em.windows().to_vec();
    let zero_windows = std::mem::take(&mut em.zero_windows);
    let (writer, file_bytes) = em.finish()?;
    let pass = Pass {
        packets,
        wire_bytes,
        captured_bytes,
        file_bytes,
        counts,
        windows,
        hosts,
        zero_windows,
    };
    Ok((writer, pass))
}

/// Finds memory and disk sizes (scaled together) that make the capture about `target` bytes, from
/// two cheap dry runs (the file size is linear in the scale). A capture set is sized as the one
/// file of the same run would be.
fn scale_for_size(cfg: &SynthConfig, topo: &Topology, target: u64) -> io::Result<(u64, u64)> {
    let (m, d) = (cfg.memory_mb.max(1) * MIB, cfg.disk_mb.max(1) * MIB);
    let probe = |k: u64| -> io::Result<u64> {
        let w = single_writer(cfg, topo, io::sink())?;
        Ok(run_pass(cfg, topo, w, m * k / 64, d * k / 64)?.1.file_bytes)
    };
    let (s1, s2) = (probe(1)?, probe(2)?);
    let slope = s2.saturating_sub(s1).max(1) as f64; // bytes per 1/64 of the base sizes
    let k = (target as f64 - s1 as f64) / slope + 1.0; // in 1/64 units
    let k = k.max(0.0);
    let scale = |base: u64| ((base as f64) * k / 64.0) as u64;
    Ok((scale(m), scale(d)))
}

fn floor_us(ns: i64) -> i64 {
    ns.div_euclid(1000) * 1000
}

fn ceil_us(ns: i64) -> i64 {
    -(-ns).div_euclid(1000) * 1000
}

/// Writes the capture and both label files; returns the account of what was written.
pub fn generate(cfg: &SynthConfig) -> Result<SynthSummary, SynthError> {
    cfg.validate()?;
    let mut topo = Topology::with_vmotion_vmks(cfg.provisioning, cfg.ipv6, cfg.vmotion_vmks);
    if cfg.inventory_speed {
        topo.speed_mbps = Some((cfg.link_gbps * 1000.0).round() as u32);
    }
    if let Some((a, b)) = cfg.mtu {
        topo.host_mtu = vec![Some(a), Some(b)];
    }
    let io_err = |source| SynthError::Io {
        path: cfg.out.clone(),
        source,
    };
    let (memory_bytes, disk_bytes) = match cfg.size {
        Some(target) => scale_for_size(cfg, &topo, target).map_err(io_err)?,
        None => (cfg.memory_mb * MIB, cfg.disk_mb * MIB),
    };
    let (pass, files) = match &cfg.split {
        None => {
            let file = File::create(&cfg.out).map_err(io_err)?;
            let w = BufWriter::with_capacity(1 << 20, file);
            let w = single_writer(cfg, &topo, w).map_err(io_err)?;
            let (_, pass) = run_pass(cfg, &topo, w, memory_bytes, disk_bytes).map_err(io_err)?;
            (pass, Vec::new())
        }
        Some(s) => {
            let sink = split::SplitSink::create(&cfg.out, &topo, cfg, s)?;
            let (files, pass) =
                run_pass(cfg, &topo, sink, memory_bytes, disk_bytes).map_err(io_err)?;
            (pass, files)
        }
    };

    let migrations = Migrations {
        migrations: cfg
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, &(kind, state))| {
                let (first, last) = pass.windows.get(i).copied().flatten().unwrap_or((0, 0));
                let (sh, dh) = pass.hosts.get(i).copied().unwrap_or((0, 1));
                Migration {
                    id: format!("m{}", i + 1),
                    vm: Some(format!("web{:02}", i + 1)),
                    kind,
                    state,
                    start: Timestamp(floor_us(first)),
                    end: Timestamp(ceil_us(last)),
                    source_host: topo.hosts.get(sh).cloned(),
                    dest_host: topo.hosts.get(dh).cloned(),
                    memory_mb: Some((memory_bytes + MIB / 2) / MIB),
                    disk_mb: Some((disk_bytes + MIB / 2) / MIB),
                    vsphere_version: Some(cfg.vsphere.clone()),
                }
            })
            .collect(),
    };
    let inventory: Inventory = topo.inventory();
    let (inventory_path, migrations_path) = match cfg.split {
        None => (
            sidecar(&cfg.out, ".inventory.json"),
            sidecar(&cfg.out, ".migrations.json"),
        ),
        Some(_) => (
            cfg.out.join(split::INVENTORY_FILE),
            cfg.out.join(split::MIGRATIONS_FILE),
        ),
    };
    inventory
        .save(&inventory_path)
        .map_err(SynthError::Inventory)?;
    migrations
        .save(&migrations_path)
        .map_err(SynthError::Labels)?;

    let label = |tag: usize| -> (String, Option<String>) {
        match tag
            .checked_sub(1)
            .and_then(|i| cfg.scenarios.get(i).map(|s| (i, s)))
        {
            Some((i, (k, s))) => (
                KindState::new(*k, *s).to_string(),
                Some(format!("m{}", i + 1)),
            ),
            None => ("noise".into(), None),
        }
    };
    let payload = pass
        .counts
        .iter()
        .map(|(k, c)| {
            let (scenario, migration) = label(k.tag);
            PayloadCount {
                scenario,
                migration,
                proto: if k.proto == IpProtocol::Tcp {
                    "tcp"
                } else {
                    "udp"
                },
                port: k.port,
                src: topo
                    .nodes
                    .get(k.src)
                    .map_or_else(String::new, |n| n.name.clone()),
                dst: topo
                    .nodes
                    .get(k.dst)
                    .map_or_else(String::new, |n| n.name.clone()),
                packets: c.packets,
                bytes: c.bytes,
            }
        })
        .collect();
    Ok(SynthSummary {
        capture: cfg.out.clone(),
        inventory: inventory_path,
        migrations_file: migrations_path,
        format: cfg.format.as_str(),
        model: cfg.model.as_str(),
        packets: pass.packets,
        wire_bytes: pass.wire_bytes,
        captured_bytes: pass.captured_bytes,
        file_bytes: pass.file_bytes,
        memory_bytes,
        disk_bytes,
        payload,
        migrations,
        files,
        health: (cfg.mtu.is_some() || cfg.zero_window_stalls.is_some()).then(|| HealthTruth {
            mtu: topo
                .hosts
                .iter()
                .zip(&topo.host_mtu)
                .filter_map(|(h, m)| Some((h.clone(), (*m)?)))
                .collect(),
            zero_window_stalls: pass
                .zero_windows
                .iter()
                .map(|&(tag, a, b)| ZeroWindowStall {
                    migration: label(tag).1,
                    start: label_time(a),
                    end: label_time(b),
                    duration_s: b.saturating_sub(a) as f64 / 1e9,
                })
                .collect(),
        }),
        payload_truth: PayloadTruth {
            vmotion_payload: cfg.vmotion_payload,
            precopy_iterations: cfg.precopy_iterations,
            nfc_tls: cfg.nfc_tls,
            esxi_build: cfg.esxi_build,
            heartbeat_senders: match (cfg.esxi_build, cfg.noise) {
                (Some(_), 1..) => (0..2)
                    .map(|h| topo.nodes[topo.host_vmk(h, 0)].ip.to_string())
                    .collect(),
                _ => Vec::new(),
            },
        },
    })
}

/// What `--mtu` and `--zero-window-stalls` put in the capture.
#[derive(Debug, Clone, Serialize)]
pub struct HealthTruth {
    /// MTU of each host's vmks.
    pub mtu: BTreeMap<String, u32>,
    /// The zero-window stalls, in order.
    pub zero_window_stalls: Vec<ZeroWindowStall>,
}

/// One zero-window stall written.
#[derive(Debug, Clone, Serialize)]
pub struct ZeroWindowStall {
    /// The migration (`m1` …).
    pub migration: Option<String>,
    /// The zero-window ACK (RFC 3339).
    pub start: String,
    /// The window update.
    pub end: String,
    /// Seconds the window was closed.
    pub duration_s: f64,
}

/// Renders a timestamp of the labels (RFC 3339, ns).
pub fn label_time(ns: i64) -> String {
    rfc3339(ns)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn cfg(dir: &Path, name: &str) -> SynthConfig {
        SynthConfig {
            out: dir.join(name),
            memory_mb: 1,
            disk_mb: 2,
            ..SynthConfig::default()
        }
    }

    #[test]
    fn writes_files_and_accounts_bytes() {
        let dir = std::env::temp_dir().join(format!("vmkflow-synth-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = generate(&cfg(&dir, "a.pcap")).unwrap();
        assert_eq!(s.migrations.migrations.len(), 6);
        let by_port = s.bytes_by_port();
        // Hot xvMotion moves the disk over 8000 (vmware model).
        assert!(by_port[&("tcp", 8000)] >= 2 * MIB + MIB);
        assert!(by_port[&("tcp", 902)] >= 2 * 2 * MIB);
        assert_eq!(std::fs::metadata(&s.capture).unwrap().len(), s.file_bytes);
        let m = Migrations::load(&s.migrations_file).unwrap();
        assert_eq!(m, s.migrations);
        assert!(Inventory::load(&s.inventory).is_ok());
        for w in m.migrations.windows(2) {
            assert!(w[0].end < w[1].start);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = SynthConfig {
            streams: 0,
            ..SynthConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("--streams")
        );
        let bad = SynthConfig {
            vsphere: "eight".into(),
            ..SynthConfig::default()
        };
        assert!(bad.validate().is_err());
        assert_eq!(vsphere_major("8.0"), Some(8));
        assert_eq!(ceil_us(1_001), 2_000);
        assert_eq!(floor_us(1_999), 1_000);
    }
}
