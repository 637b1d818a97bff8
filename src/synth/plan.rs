//! What each migration puts on the wire, under each behaviour model.
//!
//! In: the migration kind and power state, the model, and the sizes of what moves. Out: a sequence
//! of emitter operations (connections, transfers, RARP) and the hosts the migration went between.
//!
//! `vmware` follows VMware's documentation (KB 340170, UDT, multi-stream vMotion); `article` takes
//! the blog's table literally. See the crate README for the rows.

use std::io;

use super::emit::{Dir, Emitter, FrameSink, Style};
use super::topology::{NodeId, Role, VM_VLAN};
use crate::vocab::Mac;
use crate::vocab::kind::{MigrationKind, PowerState};

/// Size of the VM's configuration files (.vmx, .nvram, logs) moved by a cold vMotion.
pub const CONFIG_FILES_BYTES: u64 = 1 << 20;
/// Device state and last dirty pages sent at switchover, on top of memory / 256.
pub const SWITCHOVER_BYTES: u64 = 128 << 10;
/// The "ownership" exchange of a hot vMotion in the article model: bytes to and from the
/// destination.
pub const OWNERSHIP_BYTES: (u64, u64) = (4096, 1024);
/// NFS transfer size per READ/WRITE call.
pub const NFS_CHUNK: u64 = 256 << 10;
/// vMotion and UDT port.
pub const PORT_VMOTION: u16 = 8000;
/// NFC port.
pub const PORT_NFC: u16 = 902;
/// NFS port.
pub const PORT_NFS: u16 = 2049;
/// vSphere API port.
pub const PORT_HTTPS: u16 = 443;

/// The behaviour model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Model {
    /// Documented vSphere behaviour.
    #[default]
    Vmware,
    /// The blog's table taken literally.
    Article,
}

impl Model {
    /// `vmware` or `article`.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Vmware => "vmware",
            Model::Article => "article",
        }
    }
}

/// Everything a plan needs besides the kind.
#[derive(Debug, Clone, Copy)]
pub struct PlanParams {
    /// The model.
    pub model: Model,
    /// Memory moved by a hot vMotion's first pre-copy pass, bytes.
    pub memory_bytes: u64,
    /// Disk data moved, bytes.
    pub disk_bytes: u64,
    /// Parallel vMotion streams.
    pub streams: usize,
    /// vSphere 8 Unified Data Transport for cold data.
    pub udt: bool,
    /// KB 340170 routed case: source NFC on vmk0, destination on its provisioning vmk.
    pub nfc_asymmetric: bool,
    /// Share of each vMotion stream in the bytes sent; all 0: equal shares.
    pub stream_weights: [u32; 16],
    /// Time from the end of the vMotion streams to the first RARP (None: 1 ms).
    pub rarp_delay_ns: Option<u64>,
    /// Zero-window stalls in each hot vMotion's first pre-copy pass: (count, ms each).
    pub zero_window_stalls: Option<(u32, u32)>,
    /// vMotion streams (vmware model) carry the unencrypted ESXi 6.0 format instead of opaque
    /// bytes.
    pub vmotion_plain: bool,
    /// Pre-copy passes of a hot vMotion.
    pub precopy_iterations: u32,
    /// NFC opens with authd's banner, then TLS (`Some(true)`) or plaintext; `None`: opaque
    /// bytes only.
    pub nfc_tls: Option<bool>,
}

/// The MAC of the VM of migration `index`.
pub fn vm_mac(index: usize) -> Mac {
    Mac([0x00, 0x50, 0x56, 0xaa, 0xbb, (index + 1) as u8])
}

/// The fractions of memory sent by the pre-copy passes: 100 %, 25 %, 6.25 %, 1.5625 %.
pub fn precopy_passes(memory: u64) -> [u64; 4] {
    [memory, memory >> 2, memory >> 4, memory >> 6]
}

/// The memory sent by `n` pre-copy passes, each a quarter of the one before (four passes:
/// [`precopy_passes`]).
pub fn precopy_passes_n(memory: u64, n: u32) -> Vec<u64> {
    (0..n.max(1))
        .map(|i| memory.checked_shr(2 * i).unwrap_or(0))
        .collect()
}

/// Emits one migration; returns (source host, destination host).
pub fn migration<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    index: usize,
    kind: MigrationKind,
    state: PowerState,
    p: &PlanParams,
) -> io::Result<(usize, usize)> {
    use MigrationKind::*;
    use PowerState::*;
    let (src, dst) = (0usize, 1usize);
    let mac = vm_mac(index);
    let hosts = match (p.model, kind, state) {
        (Model::Vmware, StorageVmotion, _) => (src, src),
        _ => (src, dst),
    };
    let both = [hosts.0, hosts.1];
    let involved: &[usize] = if hosts.0 == hosts.1 {
        &both[..1]
    } else {
        &both
    };
    vcenter_calls(em, involved, 1_900, 3_400)?;
    em.idle(5_000_000)?;
    match (p.model, kind, state) {
        (Model::Vmware, Vmotion, Hot) => {
            vmotion(em, p, src, dst, p.memory_bytes, 0)?;
            rarp(em, dst, mac, p.rarp_delay_ns)?;
        }
        (Model::Vmware, Xvmotion, Hot) => {
            vmotion(em, p, src, dst, p.memory_bytes, p.disk_bytes)?;
            rarp(em, dst, mac, p.rarp_delay_ns)?;
        }
        // Hot or cold, the VM stays on its host: the host's data mover copies through its
        // storage paths, no host-to-host copy.
        (Model::Vmware, StorageVmotion, _) => nfs_copy(em, src, p.disk_bytes)?,
        (Model::Vmware, Vmotion, Cold) => nfc_copy(em, p, src, dst, CONFIG_FILES_BYTES, p.udt)?,
        (Model::Vmware, _, Cold) => {
            nfc_copy(em, p, src, dst, p.disk_bytes + CONFIG_FILES_BYTES, p.udt)?
        }
        (Model::Article, Vmotion, Hot) => {
            let mut c = open_vmotion(em, src, dst)?;
            em.exchange(&mut c, OWNERSHIP_BYTES.0, OWNERSHIP_BYTES.1)?;
            em.close(&mut c)?;
            rarp(em, dst, mac, None)?;
        }
        (Model::Article, Vmotion, Cold) => nfc_copy(em, p, src, dst, CONFIG_FILES_BYTES, false)?,
        (Model::Article, StorageVmotion, _) | (Model::Article, Xvmotion, Cold) => {
            nfc_copy(em, p, src, dst, p.disk_bytes, false)?
        }
        (Model::Article, Xvmotion, Hot) => {
            let mut c = open_vmotion(em, src, dst)?;
            em.send(&mut c, Dir::ToServer, p.memory_bytes)?;
            em.close(&mut c)?;
            em.idle(1_000_000)?;
            nfc_copy(em, p, src, dst, p.disk_bytes, false)?;
            rarp(em, dst, mac, None)?;
        }
    }
    em.idle(5_000_000)?;
    vcenter_calls(em, involved, 1_200, 900)?;
    Ok(hosts)
}

/// vCenter drives the hosts (vpxa/hostd) over HTTPS on their management vmk.
fn vcenter_calls<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    hosts: &[usize],
    req: u64,
    resp: u64,
) -> io::Result<()> {
    let t = em.topo();
    let vc = t.find(Role::Vcenter);
    for &h in hosts {
        let mut c = em.open(vc, t.host_vmk(h, 0), PORT_HTTPS, Style::Tls)?;
        em.exchange(&mut c, req, resp)?;
        em.close(&mut c)?;
        em.idle(1_000_000)?;
    }
    Ok(())
}

/// Hot vMotion: `streams` TCP 8000 connections between the vMotion vmks; disk data (xvMotion)
/// first, then memory pre-copy passes and the switchover burst.
fn vmotion<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    p: &PlanParams,
    src: usize,
    dst: usize,
    memory: u64,
    disk: u64,
) -> io::Result<()> {
    let t = em.topo();
    let (from, to) = (t.vmotion_vmks(src), t.vmotion_vmks(dst));
    let mut conns = if from.len() <= 1 {
        em.open_many(
            p.streams,
            t.host_vmk(src, 1),
            t.host_vmk(dst, 1),
            PORT_VMOTION,
        )?
    } else {
        // Multi-NIC vMotion: stream i between the i-th vMotion vmknics, round-robin.
        let mut v = Vec::new();
        for i in 0..p.streams.max(1) {
            let k = i % from.len();
            v.push(em.open(
                from[k],
                to[k.min(to.len() - 1)],
                PORT_VMOTION,
                Style::Pattern,
            )?);
        }
        v
    };
    let weights = &p.stream_weights[..conns.len().min(16)];
    if p.vmotion_plain {
        return plain_vmotion(em, p, conns, memory, disk);
    }
    if let Some(c) = conns.first_mut() {
        em.exchange(c, 1_024, 512)?;
    }
    if disk > 0 {
        em.send_weighted(&mut conns, weights, Dir::ToServer, disk)?;
        em.idle(1_000_000)?;
    }
    for (i, pass) in precopy_passes_n(memory, p.precopy_iterations)
        .into_iter()
        .enumerate()
    {
        match p.zero_window_stalls {
            Some((n, ms)) if i == 0 && n > 0 => {
                // The destination stops reading n times: the pass in n + 1 parts, a zero-window
                // stall on the first stream after each of the first n.
                let parts = u64::from(n) + 1;
                for k in 0..parts {
                    let part = pass / parts + u64::from(k < pass % parts);
                    em.send_weighted(&mut conns, weights, Dir::ToServer, part)?;
                    if k + 1 < parts {
                        if let Some(c) = conns.first_mut() {
                            em.zero_window_stall(c, Dir::ToServer, u64::from(ms) * 1_000_000)?;
                        }
                    }
                }
            }
            _ => em.send_weighted(&mut conns, weights, Dir::ToServer, pass)?,
        }
        em.idle(2_000_000)?;
    }
    em.send_weighted(
        &mut conns,
        weights,
        Dir::ToServer,
        memory / 256 + SWITCHOVER_BYTES,
    )?;
    if let Some(c) = conns.first_mut() {
        em.send(c, Dir::ToClient, 256)?;
    }
    em.close_all(&mut conns)
}

/// Hot vMotion in the unencrypted ESXi 6.0 format ([`super::payload`]): every stream opens with
/// the stream header; disk data (xvMotion) and each pre-copy pass go as page bundles, a
/// next-iteration marker between passes, the last-iteration marker before the switchover data.
fn plain_vmotion<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    p: &PlanParams,
    mut conns: Vec<super::emit::Conn>,
    memory: u64,
    disk: u64,
) -> io::Result<()> {
    use super::payload::{Script, iteration_marker, queue_pages, vmotion_header};
    let n = conns.len().max(1) as u64;
    let mut next_page = vec![0u32; conns.len()];
    // Queues the same pieces on every stream; returns the bytes each sends.
    let mut queue = |conns: &mut [super::emit::Conn], f: &dyn Fn(&mut Script, &mut u32) -> u64| {
        let mut each = 0;
        for (c, np) in conns.iter_mut().zip(next_page.iter_mut()) {
            each = f(c.script.get_or_insert_with(Default::default), np);
        }
        each
    };
    let each = queue(&mut conns, &|s, _| s.push(false, vmotion_header()));
    em.send_streams(&mut conns, Dir::ToServer, each * n)?;
    if let Some(c) = conns.first_mut() {
        em.send(c, Dir::ToClient, 512)?;
    }
    if disk > 0 {
        let each = queue(&mut conns, &|s, np| queue_pages(s, disk / n, 0, false, np));
        em.send_streams(&mut conns, Dir::ToServer, each * n)?;
        em.idle(1_000_000)?;
    }
    for (i, pass) in precopy_passes_n(memory, p.precopy_iterations)
        .into_iter()
        .enumerate()
    {
        let each = queue(&mut conns, &|s, np| {
            let m = if i > 0 {
                s.push(false, iteration_marker(false))
            } else {
                0
            };
            m + queue_pages(s, pass / n, i as u32, false, np)
        });
        em.send_streams(&mut conns, Dir::ToServer, each * n)?;
        em.idle(2_000_000)?;
    }
    let last = memory / 256 + SWITCHOVER_BYTES;
    let it = p.precopy_iterations;
    let each = queue(&mut conns, &|s, np| {
        s.push(false, iteration_marker(true)) + queue_pages(s, last / n, it, true, np)
    });
    em.send_streams(&mut conns, Dir::ToServer, each * n)?;
    if let Some(c) = conns.first_mut() {
        em.send(c, Dir::ToClient, 256)?;
    }
    em.close_all(&mut conns)
}

/// One TCP 8000 connection from `src`'s vMotion vmk (vmk1) to `dst`'s.
fn open_vmotion<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    src: usize,
    dst: usize,
) -> io::Result<super::emit::Conn> {
    let t = em.topo();
    em.open(
        t.host_vmk(src, 1),
        t.host_vmk(dst, 1),
        PORT_VMOTION,
        Style::Pattern,
    )
}

/// Three RARP broadcasts from the VM's MAC, sent by the destination host within 1 s (the first
/// `delay` after the vMotion streams end, 1 ms unless given).
fn rarp<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    host: usize,
    mac: Mac,
    delay: Option<u64>,
) -> io::Result<()> {
    for gap in [delay.unwrap_or(1_000_000), 150_000_000, 300_000_000] {
        em.idle(gap)?;
        em.rarp(host, mac, VM_VLAN)?;
    }
    Ok(())
}

/// The NFC endpoints per KB 340170.
fn nfc_nodes<S: FrameSink>(
    em: &Emitter<'_, S>,
    p: &PlanParams,
    src: usize,
    dst: usize,
) -> (NodeId, NodeId) {
    let t = em.topo();
    if p.nfc_asymmetric {
        (t.host_vmk(src, 0), t.nfc_vmk(dst))
    } else {
        (t.nfc_vmk(src), t.nfc_vmk(dst))
    }
}

/// NFC copy of `bytes` from the source host to the destination on TCP 902; with UDT the data
/// goes over TCP 8000 between the same vmks and NFC carries only control.
fn nfc_copy<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    p: &PlanParams,
    src: usize,
    dst: usize,
    bytes: u64,
    udt: bool,
) -> io::Result<()> {
    let (a, b) = nfc_nodes(em, p, src, dst);
    let style = match p.nfc_tls {
        Some(true) => Style::Tls,
        _ => Style::Pattern,
    };
    let mut nfc = em.open(a, b, PORT_NFC, style)?;
    if let Some(tls) = p.nfc_tls {
        authd_handshake(em, &mut nfc, tls)?;
    }
    em.exchange(&mut nfc, 512, 256)?;
    if udt {
        let mut data = em.open(a, b, PORT_VMOTION, Style::Pattern)?;
        em.send(&mut data, Dir::ToServer, bytes)?;
        em.close(&mut data)?;
    } else {
        em.send(&mut nfc, Dir::ToServer, bytes)?;
    }
    em.send(&mut nfc, Dir::ToClient, 128)?;
    em.close(&mut nfc)
}

/// authd's banner from the server; with `tls`, a TLS handshake (ClientHello, ServerHello,
/// ChangeCipherSpec and Finished) after it, and the connection's later segments are TLS
/// application data records (its style).
fn authd_handshake<S: FrameSink>(
    em: &mut Emitter<'_, S>,
    c: &mut super::emit::Conn,
    tls: bool,
) -> io::Result<()> {
    use super::payload::{Piece, authd_banner, change_cipher_finished, client_hello, server_hello};
    let mut random = [0u8; 64];
    em.rng.fill(&mut random);
    let (cr, sr) = random.split_at(32);
    let (cr, sr): ([u8; 32], [u8; 32]) = (
        cr.try_into().unwrap_or([0; 32]),
        sr.try_into().unwrap_or([0; 32]),
    );
    let s = c.script.get_or_insert_with(Default::default);
    let banner = s.push(true, Piece::Bytes(authd_banner(tls)));
    let steps = if tls {
        vec![
            (false, s.push(false, Piece::Bytes(client_hello(cr)))),
            (true, s.push(true, Piece::Bytes(server_hello(sr)))),
            (
                false,
                s.push(false, Piece::Bytes(change_cipher_finished(0x3c))),
            ),
        ]
    } else {
        Vec::new()
    };
    em.send(c, Dir::ToClient, banner)?;
    for (to_client, n) in steps {
        let d = if to_client {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        em.send(c, d, n)?;
    }
    Ok(())
}

/// Hot Storage vMotion on one host: NFS READs from one datastore and WRITEs to another, both on
/// the array, from the host's storage vmk.
fn nfs_copy<S: FrameSink>(em: &mut Emitter<'_, S>, host: usize, bytes: u64) -> io::Result<()> {
    let t = em.topo();
    let (vmk, array) = (t.host_vmk(host, 3), t.find(Role::Array));
    let mut read = em.open(vmk, array, PORT_NFS, Style::Pattern)?;
    let mut write = em.open(vmk, array, PORT_NFS, Style::Pattern)?;
    let mut left = bytes;
    while left > 0 {
        let n = left.min(NFS_CHUNK);
        left -= n;
        em.exchange(&mut read, 200, n)?;
        em.exchange(&mut write, n, 160)?;
    }
    em.close(&mut read)?;
    em.close(&mut write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precopy_shrinks() {
        assert_eq!(precopy_passes(64), [64, 16, 4, 1]);
        assert_eq!(precopy_passes_n(64, 4), precopy_passes(64).to_vec());
        assert_eq!(precopy_passes_n(64, 2), [64, 16]);
        assert_eq!(precopy_passes_n(64, 40).len(), 40);
        assert_eq!(vm_mac(0), Mac([0x00, 0x50, 0x56, 0xaa, 0xbb, 0x01]));
    }
}
