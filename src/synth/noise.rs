//! Background traffic that a real capture of a vSphere host also holds: vCenter heartbeats (UDP
//! 902), vCenter API calls (TCP 443), DNS, NTP and another VM's NFS I/O.
//!
//! In: a noise level (about 20 events per second per level) and the emitter. Out: one small,
//! well-formed exchange per event, attributed to no migration.

use std::io;
use std::net::IpAddr;

use super::emit::{Conn, Dir, Emitter, FrameSink, Style};
use super::topology::Role;
use crate::decode::views::Heartbeat;

/// Host keys written in heartbeats (`--esxi-build`), per host.
const HOST_KEYS: [&str; 2] = ["52a1d0c3-synth-esx01", "52a1d0c3-synth-esx02"];

/// Seconds between 1900 (NTP era) and 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// State of the background traffic.
#[derive(Debug, Clone)]
pub struct Noise {
    /// When the next event is due (picoseconds since the capture start).
    pub next_ps: u64,
    /// Mean time between events.
    pub interval_ps: u64,
    counter: u64,
    nfs: Option<Conn>,
    esxi_build: Option<u32>,
}

impl Noise {
    /// Noise of `level` (each level adds about 20 events per second).
    /// Heartbeats carry `esxi_build` in the heartbeat layout when given (else 66 random bytes
    /// starting 0xA4).
    pub fn new(level: u32, esxi_build: Option<u32>) -> Noise {
        let interval_ps = 50_000_000_000 / u64::from(level.max(1));
        Noise {
            next_ps: interval_ps / 3,
            interval_ps,
            counter: 0,
            nfs: None,
            esxi_build,
        }
    }

    /// Emits the next event of the cycle.
    pub fn event<S: FrameSink>(&mut self, em: &mut Emitter<'_, S>) -> io::Result<()> {
        let topo = em.topo();
        let host = (self.counter % 2) as usize;
        let vmk0 = topo.host_vmk(host, 0);
        let vc = topo.find(Role::Vcenter);
        let kind = self.counter % 6;
        self.counter += 1;
        match kind {
            0 | 1 => {
                let mut hb = [0u8; 66];
                em.rng.fill(&mut hb);
                hb[0] = 0xa4;
                match (self.esxi_build, topo.nodes[vmk0].ip) {
                    (Some(build), IpAddr::V4(address)) => {
                        let mut b = Vec::with_capacity(80);
                        Heartbeat {
                            magic: u32::from_le_bytes([hb[0], hb[1], hb[2], hb[3]]),
                            build,
                            server_id: 1,
                            host_key: HOST_KEYS.get(host).copied().unwrap_or("52-synth"),
                            counter: (self.counter / 6) as u32,
                            address,
                        }
                        .write(1, hb.get(40..).unwrap_or(&[]), &mut b);
                        em.udp(vmk0, vc, 32_769 + host as u16, 902, 902, &b)
                    }
                    _ => em.udp(vmk0, vc, 32_769 + host as u16, 902, 902, &hb),
                }
            }
            2 => {
                let dns = topo.find(Role::Dns);
                let id = em.rng.next_u32() as u16;
                let v6 = topo.nodes[vc].ip.is_ipv6();
                let port = 53_000 + (em.rng.next_u32() % 1000) as u16;
                em.udp(vmk0, dns, port, 53, 53, &dns_message(id, v6, None))?;
                em.idle(300_000)?;
                let answer = dns_message(id, v6, Some(topo.nodes[vc].ip));
                em.udp(dns, vmk0, 53, port, 53, &answer)
            }
            3 => {
                let ntp = topo.find(Role::Ntp);
                let secs = (em.now_ns() / 1_000_000_000) as u64 + NTP_UNIX_OFFSET;
                em.udp(vmk0, ntp, 123, 123, 123, &ntp_message(false, secs))?;
                em.idle(200_000)?;
                em.udp(ntp, vmk0, 123, 123, 123, &ntp_message(true, secs))
            }
            4 => {
                let mut c = em.open(vc, vmk0, 443, Style::Tls)?;
                em.exchange(&mut c, 517, 1_380)?;
                em.close(&mut c)
            }
            _ => {
                let mut c = match self.nfs.take() {
                    Some(c) => c,
                    None => {
                        let other = topo.host_vmk(1, 3);
                        em.open(other, topo.find(Role::Array), 2049, Style::Pattern)?
                    }
                };
                let r = em
                    .send(&mut c, Dir::ToServer, 8_192 + 168)
                    .and_then(|_| em.send(&mut c, Dir::ToClient, 136));
                self.nfs = Some(c);
                r
            }
        }
    }
}

/// A DNS query for `vcenter.lab.local` (A or AAAA), or its answer when `answer` is given.
fn dns_message(id: u16, v6: bool, answer: Option<IpAddr>) -> Vec<u8> {
    let qtype: u16 = if v6 { 28 } else { 1 };
    let mut m = Vec::with_capacity(80);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in ["vcenter", "lab", "local"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    if let Some(ip) = answer {
        m.extend_from_slice(&[0xc0, 0x0c]);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x01, 0x2c]);
        match ip {
            IpAddr::V4(a) => {
                m.extend_from_slice(&[0, 4]);
                m.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                m.extend_from_slice(&[0, 16]);
                m.extend_from_slice(&a.octets());
            }
        }
    }
    m
}

/// An NTPv4 client request, or the server's reply, at NTP seconds `secs`.
fn ntp_message(reply: bool, secs: u64) -> [u8; 48] {
    let mut m = [0u8; 48];
    let ts = |m: &mut [u8; 48], at: usize, s: u64| {
        m[at..at + 4].copy_from_slice(&(s as u32).to_be_bytes());
        m[at + 4..at + 8].copy_from_slice(&0x4000_0000u32.to_be_bytes());
    };
    if reply {
        m[0] = 0x24;
        m[1] = 2;
        m[2] = 6;
        m[3] = 0xec;
        m[12..16].copy_from_slice(&[10, 0, 10, 1]);
        ts(&mut m, 16, secs.saturating_sub(60));
        ts(&mut m, 24, secs);
        ts(&mut m, 32, secs);
        ts(&mut m, 40, secs);
    } else {
        m[0] = 0x23;
        m[2] = 6;
        m[3] = 0xec;
        ts(&mut m, 40, secs);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_shapes() {
        let q = dns_message(1, false, None);
        assert_eq!(q.len(), 12 + 19 + 4);
        let a = dns_message(1, false, Some(IpAddr::from([10, 0, 10, 5])));
        assert_eq!(a.len(), q.len() + 16);
        assert_eq!(ntp_message(true, 5)[0], 0x24);
    }
}
