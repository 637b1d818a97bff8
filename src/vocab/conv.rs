//! [`ConvKey`]: a conversation, i.e. a flow without its ports but with its traffic class; and
//! [`Peer`], one end of it.

use std::fmt;
use std::net::IpAddr;

use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// One end of a conversation: its address, or, in a conversation folded into an aggregate when
/// the conversation table was full, any address that is no vmk (and could not be inferred one),
/// told apart only by whether its MAC was VMware's (a VM) or not (anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// The address.
    Addr(IpAddr),
    /// Addresses folded away.
    Folded {
        /// The first MAC seen for them carries a VMware OUI.
        vmware_mac: bool,
    },
}

impl Peer {
    /// The address, unless folded away.
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            Peer::Addr(ip) => Some(ip),
            Peer::Folded { .. } => None,
        }
    }
}

impl From<IpAddr> for Peer {
    fn from(ip: IpAddr) -> Peer {
        Peer::Addr(ip)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Addr(ip) => write!(f, "{ip}"),
            Peer::Folded { vmware_mac: true } => f.write_str("(folded VM addresses)"),
            Peer::Folded { vmware_mac: false } => f.write_str("(folded addresses)"),
        }
    }
}

/// Conversation key: a flow without its ports (but with its class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConvKey {
    /// IP protocol.
    pub proto: IpProtocol,
    /// Client.
    pub client: Peer,
    /// Server.
    pub server: Peer,
    /// Traffic class from the ports.
    pub class: TrafficClass,
    /// VLAN id.
    pub vlan: Option<u16>,
    /// For an aggregate of folded conversations: what their flows' payload showed (an
    /// aggregate holds conversations that showed the same); `None` for a conversation.
    pub shown: Option<Shown>,
}

impl ConvKey {
    /// The key's hash for the tables that index conversations by a key they hold (the
    /// timeline's series ids, the classifier's sums): one function, so that every such table
    /// hashes a key the same way.
    pub fn table_hash(&self) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(self)
    }
}

/// What the payload of a conversation's flows showed, kept apart when conversations are folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shown {
    /// A flow began with HTTP or TLS.
    pub web: bool,
    /// A server sent VMware's authd banner.
    pub authd: bool,
}
