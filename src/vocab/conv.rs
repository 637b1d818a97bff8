//! [`ConvKey`]: a conversation, i.e. a flow without its ports but with its traffic class.

use std::net::IpAddr;

use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// Conversation key: a flow without its ports (but with its class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConvKey {
    /// IP protocol.
    pub proto: IpProtocol,
    /// Client address.
    pub client: IpAddr,
    /// Server address.
    pub server: IpAddr,
    /// Traffic class from the ports.
    pub class: TrafficClass,
    /// VLAN id.
    pub vlan: Option<u16>,
}
