//! What an input's traffic says of where it was captured: the one address present in every
//! frame (the vmk's own), and whether that address only sent, only received, or both; and what
//! a name (pcapng interface name or description, file name) says: `esx01-vmk1`, `esx01/vmk1`,
//! `vmk1`.

use std::net::IpAddr;

use crate::decode::Decoded;

/// The local-address candidates of one capture point.
#[derive(Debug, Clone, Default)]
pub struct LocalTracker {
    /// Addresses in every unicast IP frame so far, with (frames sent, frames received).
    cands: Vec<(IpAddr, u64, u64)>,
    /// Unicast IP frames seen.
    frames: u64,
}

/// What the traffic says: the local address and its directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// The address in every frame.
    pub addr: IpAddr,
    /// Frames it sent.
    pub sent: u64,
    /// Frames it received.
    pub received: u64,
}

fn unicast(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => !(v.is_broadcast() || v.is_multicast() || v.is_unspecified()),
        IpAddr::V6(v) => !(v.is_multicast() || v.is_unspecified()),
    }
}

impl LocalTracker {
    /// Adds one decoded frame. Frames to a broadcast or multicast address say nothing (a vmk
    /// receives other hosts' broadcasts).
    pub fn add(&mut self, d: &Decoded) {
        if self.frames > 0 && self.cands.is_empty() {
            // No address was in every frame: nothing more to learn.
            return;
        }
        let Some(ip) = d.ip.as_ref() else { return };
        if !unicast(&ip.dst) || !unicast(&ip.src) {
            return;
        }
        if self.frames == 0 {
            self.cands = vec![(ip.src, 0, 0), (ip.dst, 0, 0)];
        }
        self.frames += 1;
        self.cands.retain_mut(|c| {
            if c.0 == ip.src {
                c.1 += 1;
                true
            } else if c.0 == ip.dst {
                c.2 += 1;
                true
            } else {
                false
            }
        });
    }

    /// The address in every frame, when exactly one is (or when of two, only one ever sent or
    /// only one ever received... is still ambiguous: `None`).
    pub fn local(&self) -> Option<Local> {
        match self.cands.as_slice() {
            [(addr, sent, received)] => Some(Local {
                addr: *addr,
                sent: *sent,
                received: *received,
            }),
            _ => None,
        }
    }

    /// Frames `addr` sent and received, when it was in every frame.
    pub fn counts_of(&self, addr: IpAddr) -> Option<(u64, u64)> {
        self.cands.iter().find(|c| c.0 == addr).map(|c| (c.1, c.2))
    }

    /// Unicast IP frames seen.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

/// A host and vmk named in `s`: `esx01-vmk1`, `esx01/vmk1`, `esx01_vmk1`, `esx01 vmk1`,
/// `vmk1` (no host), with anything after the vmk number ignored (`esx01-vmk1.pcapng`,
/// `vmk1 PortOutput`).
pub fn vmk_in_name(s: &str) -> Option<(Option<String>, String)> {
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while let Some(rel) = lower.get(from..).and_then(|t| t.find("vmk")) {
        let at = from + rel;
        let digits: String = lower
            .get(at + 3..)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let boundary_before = at == 0
            || lower
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        if !digits.is_empty() && boundary_before {
            let host = s
                .get(..at)
                .unwrap_or("")
                .trim_end_matches(['-', '/', '_', ' ', ':', '.'])
                .rsplit(['/', ' '])
                .next()
                .unwrap_or("")
                .to_string();
            let host = (!host.is_empty()).then_some(host);
            return Some((host, format!("vmk{digits}")));
        }
        from = at + 3;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::decode::Fragment;
    use crate::decode::IpInfo;
    use crate::vocab::wire::IpProtocol;

    /// A decoded TCP/IP frame between two addresses (the classify stage's vantage tests use it
    /// too).
    pub(crate) fn frame(src: &str, dst: &str) -> Decoded {
        Decoded {
            ip: Some(IpInfo {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                protocol: IpProtocol::Tcp,
                fragment: Fragment::None,
                ident: 0,
                payload_len: 0,
            }),
            ..Decoded::default()
        }
    }

    #[test]
    fn the_address_in_every_frame() {
        let mut t = LocalTracker::default();
        t.add(&frame("10.0.20.11", "10.0.20.12"));
        t.add(&frame("10.0.20.12", "10.0.20.11"));
        assert_eq!(t.local(), None, "two addresses in every frame");
        t.add(&frame("10.0.10.5", "10.0.20.11"));
        t.add(&frame("10.0.20.99", "255.255.255.255"));
        let l = t.local().unwrap();
        assert_eq!(l.addr, "10.0.20.11".parse::<IpAddr>().unwrap());
        assert_eq!((l.sent, l.received), (1, 2));
        t.add(&frame("10.0.20.12", "10.0.20.13"));
        assert_eq!(t.local(), None);
    }

    #[test]
    fn names_that_name_a_vmk() {
        let some = |h: &str, v: &str| Some((Some(h.to_string()), v.to_string()));
        assert_eq!(vmk_in_name("esx01-vmk1"), some("esx01", "vmk1"));
        assert_eq!(
            vmk_in_name("esx01/vmk12 PortOutput"),
            some("esx01", "vmk12")
        );
        assert_eq!(
            vmk_in_name("captures/esx02.lab_vmk0.pcapng"),
            some("esx02.lab", "vmk0")
        );
        assert_eq!(vmk_in_name("vmk3"), Some((None, "vmk3".into())));
        assert_eq!(vmk_in_name("VMK2"), Some((None, "vmk2".into())));
        assert_eq!(vmk_in_name("eth0"), None);
        assert_eq!(vmk_in_name("myvmk1"), None);
        assert_eq!(vmk_in_name("vmkernel"), None);
    }
}
