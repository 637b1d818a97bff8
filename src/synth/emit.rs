//! The packet emitter: a clock paced by link speed, TCP connections (handshake, MSS segments,
//! delayed ACKs, FIN close), UDP datagrams and RARP, written straight to the capture writer.
//!
//! In: high-level operations from the scenario plans ("open a connection", "send N bytes over
//! these streams"). Out: packets in timestamp order through one reused buffer to a [`FrameSink`]
//! (one capture file, or a capture set: [`super::split`]), plus the exact account of payload bytes
//! per (migration, protocol, port, sender, receiver).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::frame::{self, Addr, Encap, EncapFields, HEADROOM, TcpHeader, tcp_flags};
use super::noise::Noise;
use super::rng::SplitMix64;
use super::topology::{NodeId, ROUTER_MAC, Topology};
use super::writer::CaptureWriter;
use crate::vocab::Mac;
use crate::vocab::wire::IpProtocol;

/// Receive window advertised by every endpoint.
const WINDOW: u16 = 64_240;
/// Preamble, start delimiter, FCS and inter-frame gap added to each frame on the wire.
const WIRE_OVERHEAD: u64 = 24;

/// How a connection's payload looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Pseudo-random bytes (vMotion, NFC, NFS data).
    Pattern,
    /// One TLS application-data record per segment (HTTPS on 443).
    Tls,
}

/// Direction of a transfer on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// One TCP connection's state.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The node that opened it.
    pub client: NodeId,
    /// The listening node.
    pub server: NodeId,
    /// Client (ephemeral) port.
    pub cport: u16,
    /// Server (service) port.
    pub sport: u16,
    c_next: u32,
    s_next: u32,
    style: Style,
    unacked: u8,
    /// Bytes sent before the style's, per direction (`--vmotion-payload plain`, `--nfc-tls`).
    pub script: Option<Box<super::payload::Script>>,
}

/// Key of the payload account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CountKey {
    /// 0 for background noise, `i + 1` for migration `i`.
    pub tag: usize,
    /// TCP or UDP.
    pub proto: IpProtocol,
    /// The service port of the flow.
    pub port: u16,
    /// Sending node.
    pub src: NodeId,
    /// Receiving node.
    pub dst: NodeId,
}

/// Packets and payload bytes of one account entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Packets (including pure ACKs, SYN and FIN).
    pub packets: u64,
    /// Transport payload bytes.
    pub bytes: u64,
}

/// Settings of the emitter.
#[derive(Debug, Clone, Copy)]
pub struct EmitterConfig {
    /// Start of the capture, ns since the epoch.
    pub epoch_ns: i64,
    /// Link speed.
    pub link_gbps: f64,
    /// 802.1Q tags on every frame (each node's VLAN).
    pub vlan: bool,
    /// Mirror encapsulation.
    pub encap: Encap,
    /// Mirrored packet length: inner frames cut to this many bytes before encapsulation.
    pub mirror_length: Option<u32>,
    /// PRNG seed.
    pub seed: u64,
    /// Background noise level (0 = none).
    pub noise: u32,
    /// Heartbeats carry this ESXi build in the heartbeat layout (`None`: random bytes).
    pub esxi_build: Option<u32>,
}

/// One generated frame as it leaves its sender.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// When it was sent (true time), ns since the epoch.
    pub ts_ns: i64,
    /// Its interface in the single-file pcapng layout ([`Topology::interfaces`]; 0 when
    /// encapsulated).
    pub iface: u32,
    /// Sending and receiving node; `None` for frames of no node (RARP on the VM network).
    pub ends: Option<(NodeId, NodeId)>,
    /// VLAN of the sender's network (the VM network for RARP).
    pub vlan: u16,
    /// The frame as written (encapsulated when the emitter encapsulates).
    pub data: &'a [u8],
}

/// Where the emitter's frames go: one capture file ([`CaptureWriter`]) or a capture set
/// ([`super::split::SplitSink`]).
pub trait FrameSink {
    /// What [`FrameSink::finish`] hands back.
    type Done;

    /// Takes one frame; returns its captured length as one capture file with the run's snap length
    /// would record it.
    fn frame(&mut self, f: &Sent<'_>) -> io::Result<usize>;

    /// Writes what is still held, flushes; returns the output and the bytes written in all.
    fn finish(self) -> io::Result<(Self::Done, u64)>;
}

impl<W: Write> FrameSink for CaptureWriter<W> {
    type Done = W;

    fn frame(&mut self, f: &Sent<'_>) -> io::Result<usize> {
        self.record(f.ts_ns, f.iface, f.data)
    }

    fn finish(self) -> io::Result<(W, u64)> {
        let bytes = self.bytes;
        Ok((CaptureWriter::finish(self)?, bytes))
    }
}

/// Writes packets for the plans.
pub struct Emitter<'t, S: FrameSink> {
    topo: &'t Topology,
    out: S,
    buf: Vec<u8>,
    pattern: Vec<u8>,
    /// The PRNG (ISNs, ports, jitter).
    pub rng: SplitMix64,
    epoch_ns: i64,
    clock_ps: u64,
    ps_per_byte: u64,
    vlan: bool,
    encap: Encap,
    mirror_length: Option<u32>,
    gre_seq: u32,
    mirror_ip_id: u16,
    ip_ids: Vec<u16>,
    next_port: u16,
    tag: usize,
    windows: Vec<Option<(i64, i64)>>,
    counts: BTreeMap<CountKey, Count>,
    noise: Option<Noise>,
    /// The receive window the next segments advertise.
    window: u16,
    /// Zero-window periods emitted: (migration tag, first zero-window ACK, window update), ns.
    pub zero_windows: Vec<(usize, i64, i64)>,
    /// Packets written.
    pub packets: u64,
    /// Sum of on-the-wire frame lengths.
    pub wire_bytes: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
}

impl<'t, S: FrameSink> Emitter<'t, S> {
    /// An emitter writing to `out`.
    pub fn new(topo: &'t Topology, out: S, cfg: &EmitterConfig) -> Emitter<'t, S> {
        let mut rng = SplitMix64::new(cfg.seed);
        let mut pattern = vec![0u8; 1 << 16];
        rng.fill(&mut pattern);
        let ip_ids = topo.nodes.iter().map(|_| rng.next_u32() as u16).collect();
        let next_port = rng.range(49_152, 60_000) as u16;
        let noise = (cfg.noise > 0).then(|| Noise::new(cfg.noise, cfg.esxi_build));
        Emitter {
            topo,
            out,
            buf: Vec::with_capacity(HEADROOM + 9_100),
            pattern,
            rng,
            epoch_ns: cfg.epoch_ns,
            clock_ps: 0,
            ps_per_byte: (8_000.0 / cfg.link_gbps).round().max(1.0) as u64,
            vlan: cfg.vlan,
            encap: cfg.encap,
            mirror_length: cfg.mirror_length,
            gre_seq: 0,
            mirror_ip_id: 0,
            ip_ids,
            next_port,
            tag: 0,
            windows: Vec::new(),
            counts: BTreeMap::new(),
            noise,
            window: WINDOW,
            zero_windows: Vec::new(),
            packets: 0,
            wire_bytes: 0,
            captured_bytes: 0,
        }
    }

    /// The lab.
    pub fn topo(&self) -> &'t Topology {
        self.topo
    }

    /// The current time, ns since the epoch.
    pub fn now_ns(&self) -> i64 {
        self.epoch_ns + (self.clock_ps / 1000) as i64
    }

    /// Attributes the following packets to migration `index` (`None`: background).
    pub fn set_migration(&mut self, index: Option<usize>) {
        self.tag = index.map_or(0, |i| i + 1);
        if let Some(i) = index {
            if self.windows.len() <= i {
                self.windows.resize(i + 1, None);
            }
        }
    }

    /// First and last packet time of each migration.
    pub fn windows(&self) -> &[Option<(i64, i64)>] {
        &self.windows
    }

    /// The payload account.
    pub fn counts(&self) -> &BTreeMap<CountKey, Count> {
        &self.counts
    }

    /// Writes what the sink still holds, flushes; returns its output and the bytes written.
    pub fn finish(self) -> io::Result<(S::Done, u64)> {
        self.out.finish()
    }

    /// Lets `ns` nanoseconds pass, emitting the background noise due in that time.
    pub fn idle(&mut self, ns: u64) -> io::Result<()> {
        let target = self.clock_ps + ns * 1000;
        loop {
            let due = match &self.noise {
                Some(n) if n.next_ps < target => n.next_ps,
                _ => break,
            };
            self.clock_ps = self.clock_ps.max(due);
            self.noise_event()?;
        }
        self.clock_ps = self.clock_ps.max(target);
        Ok(())
    }

    /// Emits a noise event when one is due.
    fn maybe_noise(&mut self) -> io::Result<()> {
        if self
            .noise
            .as_ref()
            .is_some_and(|n| n.next_ps <= self.clock_ps)
        {
            self.noise_event()?;
        }
        Ok(())
    }

    fn noise_event(&mut self) -> io::Result<()> {
        let Some(mut n) = self.noise.take() else {
            return Ok(());
        };
        let saved = self.tag;
        self.tag = 0;
        let r = n.event(self);
        self.tag = saved;
        let jitter = self.rng.range(0, n.interval_ps / 2);
        n.next_ps = self.clock_ps + n.interval_ps / 2 + jitter;
        self.noise = Some(n);
        r
    }

    fn addr(&mut self, src: NodeId, dst: NodeId) -> Addr {
        let t = self.topo;
        let (s, d) = (&t.nodes[src], &t.nodes[dst]);
        let id = self.ip_ids[src];
        self.ip_ids[src] = id.wrapping_add(1);
        Addr {
            src_mac: s.mac,
            dst_mac: if t.same_subnet(src, dst) {
                d.mac
            } else {
                ROUTER_MAC
            },
            vlan: self.vlan.then_some(s.vlan),
            src_ip: s.ip,
            dst_ip: d.ip,
            ip_id: id,
        }
    }

    /// Writes the frame in the buffer: encapsulates, records, advances the clock, counts.
    fn emit(&mut self, iface: u32, vlan: u16, key: Option<(CountKey, u64)>) -> io::Result<()> {
        let ts = self.now_ns();
        let inner_len = (self.buf.len() - HEADROOM) as u64;
        let start = if self.encap == Encap::None {
            HEADROOM
        } else {
            if let Some(m) = self.mirror_length {
                // The session mirrors the first `m` bytes of the frame; the wire still carried it
                // whole (the clock below advances by the whole frame).
                self.buf.truncate(HEADROOM + m as usize);
            }
            self.gre_seq = self.gre_seq.wrapping_add(1);
            self.mirror_ip_id = self.mirror_ip_id.wrapping_add(1);
            let f = EncapFields {
                seq: self.gre_seq,
                ip_id: self.mirror_ip_id,
                vlan: if self.vlan { vlan } else { 0 },
                ts_ns: ts,
            };
            frame::encapsulate(&mut self.buf, self.encap, &f)
        };
        let iface = if self.encap == Encap::None { iface } else { 0 };
        let data = self.buf.get(start..).unwrap_or(&[]);
        let cap = self.out.frame(&Sent {
            ts_ns: ts,
            iface,
            ends: key.map(|(k, _)| (k.src, k.dst)),
            vlan,
            data,
        })?;
        self.packets += 1;
        self.wire_bytes += data.len() as u64;
        self.captured_bytes += cap as u64;
        if self.tag > 0 {
            if let Some(w) = self.windows.get_mut(self.tag - 1) {
                *w = Some(w.map_or((ts, ts), |(a, _)| (a, ts)));
            }
        }
        if let Some((k, bytes)) = key {
            let c = self.counts.entry(k).or_default();
            c.packets += 1;
            c.bytes += bytes;
        }
        self.clock_ps += (inner_len + WIRE_OVERHEAD) * self.ps_per_byte;
        Ok(())
    }

    fn iface(&self, src: NodeId, dst: NodeId) -> u32 {
        self.topo
            .interface_of(src)
            .or_else(|| self.topo.interface_of(dst))
            .unwrap_or(0)
    }

    /// Writes one TCP segment of `conn` in `dir` with `len` payload bytes.
    fn segment(&mut self, c: &mut Conn, dir: Dir, flags: u8, len: usize) -> io::Result<()> {
        let (src, dst, sport, dport) = match dir {
            Dir::ToServer => (c.client, c.server, c.cport, c.sport),
            Dir::ToClient => (c.server, c.client, c.sport, c.cport),
        };
        let (seq, ack) = match dir {
            Dir::ToServer => (c.c_next, c.s_next),
            Dir::ToClient => (c.s_next, c.c_next),
        };
        let syn = flags & tcp_flags::SYN != 0;
        let mss = syn.then(|| self.mss(src));
        let h = TcpHeader {
            sport,
            dport,
            seq,
            ack: if flags & tcp_flags::ACK != 0 { ack } else { 0 },
            flags,
            window: self.window,
            mss,
        };
        let a = self.addr(src, dst);
        let off = (seq as usize) & 0x7fff;
        let style = c.style;
        let pattern = &self.pattern;
        let to_client = dir == Dir::ToClient;
        let script = c.script.as_deref_mut().filter(|s| s.has(to_client));
        frame::tcp(&mut self.buf, &a, &h, |b| {
            if len == 0 {
                return;
            }
            if let Some(s) = script {
                let n = s.take(to_client, len as u64, pattern, b) as usize;
                b.extend_from_slice(pattern.get(off..off + (len - n)).unwrap_or(&[]));
                return;
            }
            let body = pattern.get(off..off + len).unwrap_or(&[]);
            if style == Style::Tls && len > 5 {
                b.extend_from_slice(&[0x17, 0x03, 0x03]);
                b.extend_from_slice(&((len - 5) as u16).to_be_bytes());
                b.extend_from_slice(body.get(5..).unwrap_or(&[]));
            } else {
                b.extend_from_slice(body);
            }
        });
        let grow = len as u32 + u32::from(syn) + u32::from(flags & tcp_flags::FIN != 0);
        match dir {
            Dir::ToServer => c.c_next = c.c_next.wrapping_add(grow),
            Dir::ToClient => c.s_next = c.s_next.wrapping_add(grow),
        }
        let key = CountKey {
            tag: self.tag,
            proto: IpProtocol::Tcp,
            port: c.sport,
            src,
            dst,
        };
        let vlan = self.topo.nodes[src].vlan;
        self.emit(self.iface(src, dst), vlan, Some((key, len as u64)))
    }

    /// MSS at MTU 1500: 1460 for IPv4, 1440 for IPv6; from the vmk's MTU when `--mtu` set it.
    pub fn mss(&self, node: NodeId) -> u16 {
        let headers = if self.topo.nodes[node].ip.is_ipv4() {
            40
        } else {
            60
        };
        let mtu = self.topo.mtu_of(node).unwrap_or(1500);
        mtu.saturating_sub(headers).min(u32::from(u16::MAX)) as u16
    }

    /// The receiver of `dir`'s data on `c` acknowledges it with a zero window, keeps the window
    /// closed for `ns` (no segment of the connection meanwhile), then opens it (a window update).
    pub fn zero_window_stall(&mut self, c: &mut Conn, dir: Dir, ns: u64) -> io::Result<()> {
        let back = match dir {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        };
        c.unacked = 0;
        self.window = 0;
        let start = self.now_ns();
        let r = self.segment(c, back, tcp_flags::ACK, 0);
        self.window = WINDOW;
        r?;
        self.idle(ns)?;
        let end = self.now_ns();
        self.zero_windows.push((self.tag, start, end));
        self.segment(c, back, tcp_flags::ACK, 0)
    }

    /// Opens a connection from `client` to `server:port` (three-way handshake).
    pub fn open(
        &mut self,
        client: NodeId,
        server: NodeId,
        port: u16,
        style: Style,
    ) -> io::Result<Conn> {
        self.maybe_noise()?;
        let cport = self.next_port;
        self.next_port = if self.next_port >= 65_000 {
            49_152
        } else {
            self.next_port + 1 + (self.rng.next_u32() % 7) as u16
        };
        let mut c = Conn {
            client,
            server,
            cport,
            sport: port,
            c_next: self.rng.next_u32(),
            s_next: self.rng.next_u32(),
            style,
            unacked: 0,
            script: None,
        };
        self.segment(&mut c, Dir::ToServer, tcp_flags::SYN, 0)?;
        self.segment(&mut c, Dir::ToClient, tcp_flags::SYN | tcp_flags::ACK, 0)?;
        self.segment(&mut c, Dir::ToServer, tcp_flags::ACK, 0)?;
        Ok(c)
    }

    /// Opens `n` parallel connections.
    pub fn open_many(
        &mut self,
        n: usize,
        client: NodeId,
        server: NodeId,
        port: u16,
    ) -> io::Result<Vec<Conn>> {
        (0..n.max(1))
            .map(|_| self.open(client, server, port, Style::Pattern))
            .collect()
    }

    /// Sends `bytes` on one connection.
    pub fn send(&mut self, c: &mut Conn, dir: Dir, bytes: u64) -> io::Result<()> {
        self.send_streams(std::slice::from_mut(c), dir, bytes)
    }

    /// Sends `bytes` split evenly over `conns`, one MSS segment per stream in turn; the receiver
    /// ACKs every second segment and the last one.
    pub fn send_streams(&mut self, conns: &mut [Conn], dir: Dir, bytes: u64) -> io::Result<()> {
        self.send_weighted(conns, &[], dir, bytes)
    }

    /// As [`Emitter::send_streams`], each stream's share in proportion to its weight (equal
    /// shares when the weights are all 0 or missing); the remainder goes to the first streams.
    pub fn send_weighted(
        &mut self,
        conns: &mut [Conn],
        weights: &[u32],
        dir: Dir,
        bytes: u64,
    ) -> io::Result<()> {
        let n = conns.len() as u64;
        if n == 0 || bytes == 0 {
            return Ok(());
        }
        let total: u64 = weights
            .iter()
            .take(conns.len())
            .map(|&w| u64::from(w))
            .sum();
        let mut rem: Vec<u64> = if total == 0 || weights.len() < conns.len() {
            (0..n)
                .map(|i| bytes / n + u64::from(i < bytes % n))
                .collect()
        } else {
            let share = |w: u32| (u128::from(bytes) * u128::from(w) / u128::from(total)) as u64;
            let mut r: Vec<u64> = weights[..conns.len()].iter().map(|&w| share(w)).collect();
            let short = bytes - r.iter().sum::<u64>();
            let len = r.len();
            for i in 0..short as usize {
                r[i % len] += 1;
            }
            r
        };
        let back = match dir {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        };
        let mut left = bytes;
        while left > 0 {
            for (c, r) in conns.iter_mut().zip(rem.iter_mut()) {
                if *r == 0 {
                    continue;
                }
                self.maybe_noise()?;
                let src = match dir {
                    Dir::ToServer => c.client,
                    Dir::ToClient => c.server,
                };
                let dst = match dir {
                    Dir::ToServer => c.server,
                    Dir::ToClient => c.client,
                };
                let len = (*r).min(u64::from(self.mss(src).min(self.mss(dst))));
                *r -= len;
                left -= len;
                let flags = if *r == 0 {
                    tcp_flags::ACK | tcp_flags::PSH
                } else {
                    tcp_flags::ACK
                };
                self.segment(c, dir, flags, len as usize)?;
                c.unacked += 1;
                if c.unacked >= 2 || *r == 0 {
                    c.unacked = 0;
                    self.segment(c, back, tcp_flags::ACK, 0)?;
                }
            }
        }
        Ok(())
    }

    /// A request of `req` bytes answered by `resp` bytes.
    pub fn exchange(&mut self, c: &mut Conn, req: u64, resp: u64) -> io::Result<()> {
        self.send(c, Dir::ToServer, req)?;
        self.send(c, Dir::ToClient, resp)
    }

    /// Closes a connection: FIN from the client, FIN from the server, last ACK.
    pub fn close(&mut self, c: &mut Conn) -> io::Result<()> {
        self.maybe_noise()?;
        let fa = tcp_flags::FIN | tcp_flags::ACK;
        self.segment(c, Dir::ToServer, fa, 0)?;
        self.segment(c, Dir::ToClient, fa, 0)?;
        self.segment(c, Dir::ToServer, tcp_flags::ACK, 0)
    }

    /// Closes several connections.
    pub fn close_all(&mut self, conns: &mut [Conn]) -> io::Result<()> {
        for c in conns {
            self.close(c)?;
        }
        Ok(())
    }

    /// One UDP datagram.
    pub fn udp(
        &mut self,
        src: NodeId,
        dst: NodeId,
        sport: u16,
        dport: u16,
        service_port: u16,
        payload: &[u8],
    ) -> io::Result<()> {
        let a = self.addr(src, dst);
        frame::udp(&mut self.buf, &a, sport, dport, |b| {
            b.extend_from_slice(payload)
        });
        let key = CountKey {
            tag: self.tag,
            proto: IpProtocol::Udp,
            port: service_port,
            src,
            dst,
        };
        let vlan = self.topo.nodes[src].vlan;
        self.emit(
            self.iface(src, dst),
            vlan,
            Some((key, payload.len() as u64)),
        )
    }

    /// A RARP broadcast from `mac` on the VM network, sent by `host`'s uplink.
    pub fn rarp(&mut self, host: usize, mac: Mac, vlan: u16) -> io::Result<()> {
        frame::rarp(&mut self.buf, mac, self.vlan.then_some(vlan));
        self.emit(self.topo.uplink_interface(host), vlan, None)
    }
}
