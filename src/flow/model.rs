//! The flow stage's data: a flow's key, its per-direction counters, the flow itself, and what one
//! packet contributed to it.

use std::net::IpAddr;

use super::signature::Signature;
use super::tcp;
use crate::decode::TunnelKind;
use crate::vocab::Mac;
use crate::vocab::conv::{ConvKey, Peer};
use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// An address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// Port (0 for protocols without ports).
    pub port: u16,
}

/// Canonical flow key: the lower endpoint first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// IP protocol.
    pub proto: IpProtocol,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// Outermost VLAN id of the (inner) frame.
    pub vlan: Option<u16>,
    /// Tunnel kind and id when the packets were mirrored through one.
    pub tunnel: Option<(TunnelKind, u32)>,
}

/// Counters of one direction of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirStats {
    /// Packets sent.
    pub packets: u64,
    /// Original frame bytes.
    pub wire_bytes: u64,
    /// TCP/UDP payload bytes from the length fields (retransmissions included), and those taken
    /// from the peer's acknowledgements (`acknowledged_bytes`).
    pub payload_bytes: u64,
    /// TCP payload bytes that repeat sequence space already seen.
    pub retransmitted_bytes: u64,
    /// TCP payload bytes seen for the first time below the highest sequence already seen
    /// (reordered on the way, or by the capture).
    pub out_of_order_bytes: u64,
    /// TCP sequence space skipped and never seen: bytes the capture lost (set when the flow
    /// ends).
    pub not_captured_bytes: u64,
    /// Payload bytes of segments whose TCP header was cut before its length field, estimated
    /// from the IP length and the header length the flow showed (else 20); part of
    /// `payload_bytes`.
    pub estimated_payload_bytes: u64,
    /// TCP payload bytes of this direction counted from the peer's acknowledgement numbers,
    /// because none of this direction's own segments was captured (a capture of the receiver's
    /// transmitted frames only); part of `payload_bytes`.
    pub acknowledged_bytes: u64,
    /// First packet time (ns).
    pub first_ts: Option<i64>,
    /// Last packet time (ns).
    pub last_ts: Option<i64>,
    /// SYN sent.
    pub syn: bool,
    /// FIN sent (for a direction counted from acknowledgements: its FIN acknowledged).
    pub fin: bool,
    /// RST sent.
    pub rst: bool,
}

/// Why a flow left the live table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndReason {
    /// TCP FIN in both directions, or RST.
    Closed,
    /// No packet for the idle timeout.
    Idle,
    /// Evicted because the table was full.
    Pressure,
    /// Still open at the end of the capture.
    EndOfCapture,
}

/// One bidirectional flow.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Canonical key.
    pub key: FlowKey,
    /// True when the client is `key.lo`.
    pub client_is_lo: bool,
    /// True when the client was identified by a SYN (else by ports).
    pub client_by_syn: bool,
    /// Direction stats: `[lo → hi, hi → lo]`.
    pub dir: [DirStats; 2],
    /// MAC addresses seen as source of each direction: `[lo, hi]`.
    pub macs: [Option<Mac>; 2],
    /// Sequence of creation, for stable ordering of otherwise equal flows.
    pub serial: u64,
    /// Why the flow ended.
    pub end: Option<EndReason>,
    /// Traffic class from the catalogue, decided when the flow was created.
    pub class: TrafficClass,
    /// A number the caller attaches to the flow (the timeline's conversation id).
    pub tag: u32,
    /// Sequence space covered per direction (TCP): `[lo → hi, hi → lo]`.
    pub(super) seq: [tcp::SeqTracker; 2],
    /// Acknowledgement numbers sent per direction (TCP), counted while the other direction shows
    /// no packet: `[lo → hi, hi → lo]`.
    pub(super) acks: [tcp::AckTracker; 2],
    /// Per direction, where the sequence space already counted from the other direction's
    /// acknowledgements ends, while this direction's own segments are still below it.
    pub(super) counted_until: [Option<u32>; 2],
    /// The TCP header length last seen per direction, for segments whose header is cut.
    pub(super) tcp_header_len: [Option<u8>; 2],
    /// What each direction's first captured payload bytes looked like: `[lo → hi, hi → lo]`.
    pub signatures: [Option<Signature>; 2],
    /// TCP health figures, for vMotion and NFC streams only ([`super::health`]).
    pub health: Option<Box<super::health::Health>>,
    /// What the payload of a vMotion or NFC flow showed (`None` for other flows, and for those
    /// before their first TCP segment).
    pub payload: Option<Box<super::payload::PayloadScan>>,
}

/// The shortest TCP header: what a cut header is taken to be when its flow showed none.
pub(super) const TCP_MIN_HEADER: u8 = 20;

impl Flow {
    /// The client endpoint.
    pub fn client(&self) -> Endpoint {
        if self.client_is_lo {
            self.key.lo
        } else {
            self.key.hi
        }
    }

    /// The server endpoint.
    pub fn server(&self) -> Endpoint {
        if self.client_is_lo {
            self.key.hi
        } else {
            self.key.lo
        }
    }

    /// Stats of client → server and server → client.
    pub fn client_server(&self) -> (&DirStats, &DirStats) {
        if self.client_is_lo {
            (&self.dir[0], &self.dir[1])
        } else {
            (&self.dir[1], &self.dir[0])
        }
    }

    /// Signatures of the client's and the server's first payload bytes.
    pub fn client_server_signatures(&self) -> (Option<Signature>, Option<Signature>) {
        if self.client_is_lo {
            (self.signatures[0], self.signatures[1])
        } else {
            (self.signatures[1], self.signatures[0])
        }
    }

    /// MACs of client and server.
    pub fn client_server_macs(&self) -> (Option<Mac>, Option<Mac>) {
        if self.client_is_lo {
            (self.macs[0], self.macs[1])
        } else {
            (self.macs[1], self.macs[0])
        }
    }

    /// Payload bytes both ways.
    pub fn payload_bytes(&self) -> u64 {
        self.dir[0].payload_bytes + self.dir[1].payload_bytes
    }

    /// First packet time.
    pub fn first_ts(&self) -> Option<i64> {
        min_opt(self.dir[0].first_ts, self.dir[1].first_ts)
    }

    /// Last packet time.
    pub fn last_ts(&self) -> Option<i64> {
        max_opt(self.dir[0].last_ts, self.dir[1].last_ts)
    }

    /// Ends the flow: records why, and the sequence space each direction never showed.
    pub(super) fn end(&mut self, why: EndReason) {
        self.end = Some(why);
        for (d, s) in self.dir.iter_mut().zip(&self.seq) {
            d.not_captured_bytes = s.not_captured();
        }
        if let Some(h) = self.health.as_deref_mut() {
            h.finish();
        }
    }

    pub(super) fn closed(&self) -> bool {
        (self.dir[0].fin && self.dir[1].fin) || self.dir[0].rst || self.dir[1].rst
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// What a packet contributed to its flow, for stages that follow packets in time.
#[derive(Debug, Clone, Copy)]
pub struct PacketRef {
    /// The flow's key.
    pub key: FlowKey,
    /// True when the packet went from the client to the server.
    pub from_client: bool,
    /// Payload bytes of the packet.
    pub payload: u64,
    /// Whether `payload` is estimated (a TCP header cut before its length field).
    pub estimated: bool,
    /// Payload bytes this packet's acknowledgement number credits to the OTHER direction, whose
    /// own segments were not captured (see [`DirStats::acknowledged_bytes`]).
    pub acked: u64,
    /// Whether this packet was its flow's first.
    pub new_flow: bool,
    /// Change in the flow's sequence space never seen: bytes this segment skipped, less those it
    /// filled in (TCP).
    pub not_captured_delta: i64,
    /// The flow's tag ([`super::NO_TAG`] until the caller sets one with [`super::FlowTable::set_tag`]).
    pub tag: u32,
    /// The flow's client address.
    pub client: IpAddr,
    /// The flow's server address.
    pub server: IpAddr,
    /// The flow's class.
    pub class: TrafficClass,
    /// The packet's source MAC when it is the first of its direction of the flow to carry one
    /// (the first MAC seen from the sender's address in this flow).
    pub first_mac: Option<Mac>,
}

impl PacketRef {
    /// The conversation of the packet's flow.
    pub fn conv(&self) -> ConvKey {
        ConvKey {
            proto: self.key.proto,
            client: Peer::Addr(self.client),
            server: Peer::Addr(self.server),
            class: self.class,
            vlan: self.key.vlan,
            shown: None,
        }
    }
}
