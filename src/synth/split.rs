//! Capture sets as administrators collect them: one file per vmk per host (`pktcap-uw --vmk vmkN
//! --ng -o FILE` on each host) or one file per host, and optionally the copy a vDS port-mirror
//! session delivers beside them.
//!
//! In: the emitter's frames in time order, each with its sending and receiving node
//! ([`FrameSink`]). Out: a directory of capture files, each in timestamp order, and what each
//! holds ([`SetFile`]).
//!
//! A frame goes to the file of the vmk that sent it (its *tx* copy, at the send time) and to the
//! file of the vmk that received it (its *rx* copy, [`ONE_WAY_LATENCY_NS`] later); an end that is
//! not a vmk of a host (vCenter, the array, DNS, NTP) has no file, and frames of no vmk (RARP on
//! the VM network) are in none. So a host-to-host frame is in two files, a frame between a vmk and
//! anything else in one. The second host's clock runs `--clock-skew` ahead: every timestamp in
//! its files is shifted, while the labels and the account stay on true time.
//!
//! The emitter's order is the send order, and an rx copy is stamped a fixed latency after its
//! send, so each file holds back only its rx copies of the last [`ONE_WAY_LATENCY_NS`] (a queue
//! already in time order): memory stays bounded by what the link carries in that time.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::emit::{FrameSink, Sent};
use super::frame::{self, Encap, EncapFields, HEADROOM};
use super::topology::{NodeId, Role, Topology};
use super::writer::{CaptureWriter, Format};
use super::{BadSetting, SynthConfig, SynthError};
use crate::vocab::vantage::Direction;

/// Time from a frame's send to its copy in the receiving vmk's file, ns (20 µs: one switch hop
/// and the receiving host's stack, a round figure of a LAN's one-way latency).
pub const ONE_WAY_LATENCY_NS: i64 = 20_000;
/// Time from a frame's send to its copy in the mirror file, ns: the collector's clock is on true
/// time and the mirrored copy reaches it 50 µs after the send.
pub const MIRROR_DELAY_NS: i64 = 50_000;
/// Largest `--clock-skew` accepted, ms either way (one hour).
pub const MAX_CLOCK_SKEW_MS: f64 = 3_600_000.0;
/// The inventory's file name inside a capture set's directory.
pub const INVENTORY_FILE: &str = "inventory.json";
/// The migration labels' file name inside a capture set's directory.
pub const MIGRATIONS_FILE: &str = "migrations.json";
/// Spare frame buffers kept for the held rx copies.
const SPARE_BUFFERS: usize = 256;
/// Write buffer of each file of the set.
const FILE_BUFFER: usize = 256 << 10;

/// How a capture set is cut into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitBy {
    /// One file per host and vmk, `esx01-vmk1.pcapng`, with one interface `esx01-vmk1`.
    Vmk,
    /// One file per host, `esx01.pcapng`, with one interface per vmk (`esx01-vmk0` …).
    Host,
}

/// The settings of a capture set (`--split` and the options that need it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitConfig {
    /// One file per vmk or per host.
    pub by: SplitBy,
    /// Which of its frames each vmk's file holds: sent (`tx`, pktcap-uw's default for a vmk),
    /// received (`rx`) or both (`--dir 2`).
    pub direction: Direction,
    /// How far the second host's (esx02's) clock runs ahead of true time, ms (negative: behind).
    pub clock_skew_ms: f64,
    /// Also write a vDS mirror session's copy of every vmk frame in this encapsulation.
    pub mirror: Option<Encap>,
}

impl Default for SplitConfig {
    fn default() -> SplitConfig {
        SplitConfig {
            by: SplitBy::Vmk,
            direction: Direction::Both,
            clock_skew_ms: 0.0,
            mirror: None,
        }
    }
}

impl SplitConfig {
    /// The second host's clock offset, ns.
    pub fn skew_ns(&self) -> i64 {
        (self.clock_skew_ms * 1e6).round() as i64
    }
}

/// One file of a capture set, as the generator's account lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetFile {
    /// The file.
    pub path: PathBuf,
    /// The host it was captured on; none for the mirror file.
    pub host: Option<String>,
    /// The vmk it was captured on (`vmk1`); none for a host's file and the mirror file.
    pub vmk: Option<String>,
    /// Which of the vmk's frames it holds; none for the mirror file.
    pub direction: Option<Direction>,
    /// The mirror file's encapsulation (`gre`, `erspan2`, `erspan3`).
    pub encap: Option<&'static str>,
    /// Its clock minus true time, ns: `--clock-skew` for the second host, 0 for the first,
    /// [`MIRROR_DELAY_NS`] for the mirror file (whose copies arrive that long after the send).
    pub clock_offset_ns: i64,
    /// Packet records written.
    pub packets: u64,
    /// Size of the file.
    pub file_bytes: u64,
}

/// `gre`, `erspan2` or `erspan3` (`none` for no encapsulation).
pub fn encap_name(e: Encap) -> &'static str {
    match e {
        Encap::None => "none",
        Encap::Gre => "gre",
        Encap::Erspan2 => "erspan2",
        Encap::Erspan3 => "erspan3",
    }
}

/// The extension of a set's files: `pcapng`, or `pcap` for both classic formats.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Pcapng => "pcapng",
        Format::Pcap | Format::PcapNs => "pcap",
    }
}

/// Checks the capture-set settings of `cfg` (none: nothing to check).
pub fn validate(cfg: &SynthConfig) -> Result<(), SynthError> {
    let Some(s) = &cfg.split else {
        return Ok(());
    };
    if cfg.encap != Encap::None {
        return Err(SynthError::Config(BadSetting::Needs {
            option: "--split",
            needs: "--encap none (host captures are not encapsulated; \
                    --also-mirror adds a mirror session's copy)",
        }));
    }
    let ms = s.clock_skew_ms;
    if !(ms.is_finite() && ms.abs() <= MAX_CLOCK_SKEW_MS) {
        return Err(SynthError::Config(BadSetting::OutOfRange {
            option: "--clock-skew",
            value: ms.to_string(),
            accepted: "in -3600000..=3600000 (ms)",
        }));
    }
    Ok(())
}

/// A frame held back until nothing earlier can still come.
struct Held {
    ts_ns: i64,
    iface: u32,
    data: Vec<u8>,
}

/// One file of the set being written.
struct Out {
    w: CaptureWriter<BufWriter<File>>,
    /// Added to the send time of every frame (the file's clock offset).
    offset_ns: i64,
    /// rx copies not yet written, in time order.
    held: VecDeque<Held>,
    info: SetFile,
}

impl Out {
    fn create(
        info: SetFile,
        format: Format,
        snaplen: Option<u32>,
        interfaces: &[String],
    ) -> Result<Out, SynthError> {
        let io_err = |source| SynthError::Io {
            path: info.path.clone(),
            source,
        };
        let file = File::create(&info.path).map_err(io_err)?;
        let w = BufWriter::with_capacity(FILE_BUFFER, file);
        let w = CaptureWriter::new(w, format, snaplen, interfaces).map_err(io_err)?;
        Ok(Out {
            w,
            offset_ns: info.clock_offset_ns,
            held: VecDeque::new(),
            info,
        })
    }

    fn record(&mut self, ts_ns: i64, iface: u32, data: &[u8]) -> io::Result<()> {
        self.w.record(ts_ns, iface, data)?;
        self.info.packets += 1;
        Ok(())
    }

    /// Writes the held copies stamped at or before `ts_ns`.
    fn release(&mut self, ts_ns: i64, spare: &mut Vec<Vec<u8>>) -> io::Result<()> {
        while self.held.front().is_some_and(|h| h.ts_ns <= ts_ns) {
            let Some(h) = self.held.pop_front() else {
                break;
            };
            self.record(h.ts_ns, h.iface, &h.data)?;
            if spare.len() < SPARE_BUFFERS {
                spare.push(h.data);
            }
        }
        Ok(())
    }

    /// The copy of a frame sent at `sent_ns` by this file's vmk: written now, after the held
    /// copies that are not later (nothing to come is earlier than the send).
    fn tx(
        &mut self,
        sent_ns: i64,
        iface: u32,
        data: &[u8],
        spare: &mut Vec<Vec<u8>>,
    ) -> io::Result<()> {
        let ts = sent_ns + self.offset_ns;
        self.release(ts, spare)?;
        self.record(ts, iface, data)
    }

    /// The copy of a frame sent at `sent_ns` to this file's vmk: held until the frames sent
    /// before it arrives are written.
    fn rx(
        &mut self,
        sent_ns: i64,
        iface: u32,
        data: &[u8],
        spare: &mut Vec<Vec<u8>>,
    ) -> io::Result<()> {
        self.release(sent_ns + self.offset_ns, spare)?;
        let mut buf = spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(data);
        self.held.push_back(Held {
            ts_ns: sent_ns + ONE_WAY_LATENCY_NS + self.offset_ns,
            iface,
            data: buf,
        });
        Ok(())
    }

    fn finish(mut self, spare: &mut Vec<Vec<u8>>) -> io::Result<SetFile> {
        self.release(i64::MAX, spare)?;
        self.info.file_bytes = self.w.bytes;
        self.w.finish()?;
        Ok(self.info)
    }
}

/// The mirror session's copy of every vmk frame.
struct Mirror {
    out: Out,
    encap: Encap,
    /// Mirrored packet length (`--mirror-length`).
    length: Option<u32>,
    /// Frames carry 802.1Q tags: ERSPAN's VLAN field says the sender's VLAN.
    vlan: bool,
    seq: u32,
    ip_id: u16,
    buf: Vec<u8>,
}

impl Mirror {
    fn frame(&mut self, f: &Sent<'_>) -> io::Result<()> {
        self.buf.clear();
        self.buf.resize(HEADROOM, 0);
        self.buf.extend_from_slice(f.data);
        if let Some(m) = self.length {
            self.buf.truncate(HEADROOM + m as usize);
        }
        self.seq = self.seq.wrapping_add(1);
        self.ip_id = self.ip_id.wrapping_add(1);
        let ts = f.ts_ns + self.out.offset_ns;
        let fields = EncapFields {
            seq: self.seq,
            ip_id: self.ip_id,
            vlan: if self.vlan { f.vlan } else { 0 },
            ts_ns: ts,
        };
        let start = frame::encapsulate(&mut self.buf, self.encap, &fields);
        let data = self.buf.get(start..).unwrap_or(&[]);
        self.out.w.record(ts, 0, data)?;
        self.out.info.packets += 1;
        Ok(())
    }
}

/// Where a vmk's frames go: its file and its interface there.
#[derive(Debug, Clone, Copy)]
struct Place {
    file: usize,
    iface: u32,
}

/// Fans the emitter's frames out to the files of a capture set.
pub struct SplitSink {
    /// Per node: its file, when it is a host vmk.
    places: Vec<Option<Place>>,
    outs: Vec<Out>,
    direction: Direction,
    snaplen: Option<u32>,
    mirror: Option<Mirror>,
    spare: Vec<Vec<u8>>,
}

impl SplitSink {
    /// Creates `dir` (when missing) and every file of the set, empty captures with their headers:
    /// a vmk that carries nothing still has its file.
    pub fn create(
        dir: &Path,
        topo: &Topology,
        cfg: &SynthConfig,
        split: &SplitConfig,
    ) -> Result<SplitSink, SynthError> {
        prepare_dir(dir)?;
        let ext = extension(cfg.format);
        let skew = split.skew_ns();
        let info = |name: String, host: usize, vmk: Option<u8>| SetFile {
            path: dir.join(format!("{name}.{ext}")),
            host: topo.hosts.get(host).cloned(),
            vmk: vmk.map(|v| format!("vmk{v}")),
            direction: Some(split.direction),
            encap: None,
            clock_offset_ns: if host == 0 { 0 } else { skew },
            packets: 0,
            file_bytes: 0,
        };
        let mut places = vec![None; topo.nodes.len()];
        let mut outs = Vec::new();
        for (h, host) in topo.hosts.iter().enumerate() {
            let vmks: Vec<(NodeId, u8)> = (topo.nodes.iter().enumerate())
                .filter_map(|(id, n)| match n.role {
                    Role::Vmk(nh, vmk) if nh == h => Some((id, vmk)),
                    _ => None,
                })
                .collect();
            match split.by {
                SplitBy::Vmk => {
                    for (id, vmk) in vmks {
                        let name = topo
                            .nodes
                            .get(id)
                            .map_or_else(String::new, |n| n.name.clone());
                        if let Some(p) = places.get_mut(id) {
                            *p = Some(Place {
                                file: outs.len(),
                                iface: 0,
                            });
                        }
                        let names = [name.clone()];
                        outs.push(Out::create(
                            info(name, h, Some(vmk)),
                            cfg.format,
                            cfg.snaplen,
                            &names,
                        )?);
                    }
                }
                SplitBy::Host => {
                    let mut names = Vec::new();
                    for (i, &(id, _)) in vmks.iter().enumerate() {
                        if let Some(p) = places.get_mut(id) {
                            *p = Some(Place {
                                file: outs.len(),
                                iface: i as u32,
                            });
                        }
                        names.extend(topo.nodes.get(id).map(|n| n.name.clone()));
                    }
                    outs.push(Out::create(
                        info(host.clone(), h, None),
                        cfg.format,
                        cfg.snaplen,
                        &names,
                    )?);
                }
            }
        }
        let mirror = match split.mirror {
            None | Some(Encap::None) => None,
            Some(encap) => {
                let info = SetFile {
                    path: dir.join(format!("mirror-{}.{ext}", encap_name(encap))),
                    host: None,
                    vmk: None,
                    direction: None,
                    encap: Some(encap_name(encap)),
                    clock_offset_ns: MIRROR_DELAY_NS,
                    packets: 0,
                    file_bytes: 0,
                };
                let names = ["mirror-collector".to_string()];
                Some(Mirror {
                    out: Out::create(info, cfg.format, cfg.snaplen, &names)?,
                    encap,
                    length: cfg.mirror_length,
                    vlan: cfg.vlan,
                    seq: 0,
                    ip_id: 0,
                    buf: Vec::with_capacity(HEADROOM + 9_100),
                })
            }
        };
        Ok(SplitSink {
            places,
            outs,
            direction: split.direction,
            snaplen: cfg.snaplen,
            mirror,
            spare: Vec::new(),
        })
    }

    fn place(&self, node: NodeId) -> Option<Place> {
        self.places.get(node).copied().flatten()
    }
}

/// Creates the set's directory; an existing file of that name is an error.
fn prepare_dir(dir: &Path) -> Result<(), SynthError> {
    if dir.exists() && !dir.is_dir() {
        return Err(SynthError::Config(BadSetting::NotADirectory(
            dir.to_path_buf(),
        )));
    }
    fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

impl FrameSink for SplitSink {
    type Done = Vec<SetFile>;

    fn frame(&mut self, f: &Sent<'_>) -> io::Result<usize> {
        let cap = match self.snaplen {
            Some(s) => f.data.len().min(s as usize),
            None => f.data.len(),
        };
        let Some((src, dst)) = f.ends else {
            return Ok(cap);
        };
        let (from, to) = (self.place(src), self.place(dst));
        if from.is_none() && to.is_none() {
            return Ok(cap);
        }
        if let Some(m) = &mut self.mirror {
            m.frame(f)?;
        }
        if self.direction != Direction::Rx {
            if let Some(p) = from {
                if let Some(out) = self.outs.get_mut(p.file) {
                    out.tx(f.ts_ns, p.iface, f.data, &mut self.spare)?;
                }
            }
        }
        if self.direction != Direction::Tx {
            if let Some(p) = to {
                if let Some(out) = self.outs.get_mut(p.file) {
                    out.rx(f.ts_ns, p.iface, f.data, &mut self.spare)?;
                }
            }
        }
        Ok(cap)
    }

    fn finish(self) -> io::Result<(Vec<SetFile>, u64)> {
        let mut spare = self.spare;
        let mut files = Vec::with_capacity(self.outs.len() + 1);
        for out in self.outs {
            files.push(out.finish(&mut spare)?);
        }
        if let Some(m) = self.mirror {
            files.push(m.out.finish(&mut spare)?);
        }
        let bytes = files.iter().map(|f| f.file_bytes).sum();
        Ok((files, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    fn temp(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("vmkflow-split-{tag}-{}", std::process::id()))
    }

    /// Timestamps and first bytes (the marker) of every record of a file.
    fn records(path: &Path) -> Vec<(i64, u8)> {
        let bytes = fs::read(path).unwrap();
        let mut r = CaptureReader::from_bytes("t", bytes).unwrap();
        let mut v = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            v.push((f.ts_ns.unwrap(), f.data[0]));
        }
        v
    }

    fn sent(ts_ns: i64, ends: (NodeId, NodeId), data: &[u8]) -> Sent<'_> {
        Sent {
            ts_ns,
            iface: 0,
            ends: Some(ends),
            vlan: 20,
            data,
        }
    }

    /// A fresh directory for `tag`, and a sink that splits `topo`'s frames into it in `format`.
    fn fresh_sink(
        tag: &str,
        topo: &Topology,
        format: Format,
        split: SplitConfig,
    ) -> (PathBuf, SplitSink) {
        let dir = temp(tag);
        let _ = fs::remove_dir_all(&dir);
        let cfg = SynthConfig {
            format,
            ..SynthConfig::default()
        };
        let sink = SplitSink::create(&dir, topo, &cfg, &split).unwrap();
        (dir, sink)
    }

    #[test]
    fn frames_go_to_sender_and_receiver_with_latency_and_skew_in_order() {
        let topo = Topology::new(true, false);
        let split = SplitConfig {
            clock_skew_ms: 2.0,
            mirror: Some(Encap::Erspan3),
            ..SplitConfig::default()
        };
        let (dir, mut sink) = fresh_sink("fan", &topo, Format::PcapNs, split);
        let (a1, b1) = (topo.host_vmk(0, 1), topo.host_vmk(1, 1));
        let vc = topo.find(Role::Vcenter);
        let a0 = topo.host_vmk(0, 0);
        // esx02 vmk1 receives frame 1 at 20_000 (+ skew) but sends frame 2 at 10_000: the file
        // must still be in time order.
        sink.frame(&sent(0, (a1, b1), &[1; 60])).unwrap();
        sink.frame(&sent(10_000, (b1, a1), &[2; 60])).unwrap();
        sink.frame(&sent(30_000, (vc, a0), &[3; 60])).unwrap();
        let rarp = Sent {
            ends: None,
            ..sent(40_000, (0, 0), &[4; 60])
        };
        sink.frame(&rarp).unwrap();
        let (files, bytes) = sink.finish().unwrap();
        assert_eq!(files.len(), 9);
        let total: u64 = files
            .iter()
            .map(|f| fs::metadata(&f.path).unwrap().len())
            .sum();
        assert_eq!(bytes, total);
        let skew = 2_000_000;
        let by_name = |n: &str| records(&dir.join(n));
        assert_eq!(by_name("esx01-vmk1.pcap"), vec![(0, 1), (30_000, 2)]);
        assert_eq!(
            by_name("esx02-vmk1.pcap"),
            vec![(10_000 + skew, 2), (20_000 + skew, 1)]
        );
        assert_eq!(by_name("esx01-vmk0.pcap"), vec![(50_000, 3)]);
        assert!(by_name("esx02-vmk3.pcap").is_empty());
        let m = records(&dir.join("mirror-erspan3.pcap"));
        assert_eq!(
            m.iter().map(|r| r.0).collect::<Vec<_>>(),
            [50_000, 60_000, 80_000]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directions_and_host_files() {
        let topo = Topology::new(false, false);
        let split = SplitConfig {
            by: SplitBy::Host,
            direction: Direction::Tx,
            ..SplitConfig::default()
        };
        let (dir, mut sink) = fresh_sink("host", &topo, Format::Pcapng, split);
        let (a1, b1) = (topo.host_vmk(0, 1), topo.host_vmk(1, 1));
        let vc = topo.find(Role::Vcenter);
        sink.frame(&sent(0, (a1, b1), &[1; 60])).unwrap();
        sink.frame(&sent(5_000, (vc, b1), &[2; 60])).unwrap();
        sink.frame(&sent(9_000, (b1, vc), &[3; 60])).unwrap();
        let (files, _) = sink.finish().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].host.as_deref(), Some("esx02"));
        assert_eq!(files[1].vmk, None);
        assert_eq!(records(&dir.join("esx01.pcapng")), vec![(0, 1)]);
        assert_eq!(records(&dir.join("esx02.pcapng")), vec![(9_000, 3)]);
        // Three interfaces per host without vmk2; the vMotion vmk is the second.
        let bytes = fs::read(dir.join("esx02.pcapng")).unwrap();
        let mut r = CaptureReader::from_bytes("t", bytes).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.interface, 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn settings_are_checked() {
        let split = SplitConfig {
            clock_skew_ms: f64::NAN,
            ..SplitConfig::default()
        };
        // Why `validate` refuses `cfg`.
        let refused = |cfg: SynthConfig| validate(&cfg).unwrap_err().to_string();
        assert!(
            refused(SynthConfig {
                split: Some(split),
                ..SynthConfig::default()
            })
            .contains("--clock-skew")
        );
        assert!(
            refused(SynthConfig {
                split: Some(SplitConfig::default()),
                encap: Encap::Gre,
                ..SynthConfig::default()
            })
            .contains("--also-mirror")
        );
        let file = temp("file");
        fs::write(&file, b"x").unwrap();
        let e = prepare_dir(&file).unwrap_err();
        assert!(
            matches!(e, SynthError::Config(BadSetting::NotADirectory(_))),
            "{e}"
        );
        fs::remove_file(&file).unwrap();
        assert_eq!(
            SplitConfig {
                clock_skew_ms: -1.5,
                ..SplitConfig::default()
            }
            .skew_ns(),
            -1_500_000
        );
    }
}
