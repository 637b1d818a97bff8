//! Traffic classes and the port catalogue that assigns them.
//!
//! In: a flow's protocol and server (or both) ports. Out: a [`TrafficClass`]. The catalogue is data
//! ([`DEFAULT_PORTS`], from the vSphere security guide's ESXi firewall port tables) that users
//! extend or override with `--port PORT/PROTO=CLASS`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::vocab::wire::IpProtocol;

/// What kind of traffic a flow carries, from its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrafficClass {
    /// vMotion (TCP 8000), also vSphere 8 UDT data.
    Vmotion,
    /// Network File Copy (TCP 902): provisioning, cold migration, clones.
    Nfc,
    /// vSphere API (TCP 443).
    VsphereApi,
    /// vCenter agent heartbeat (UDP 902).
    Heartbeat,
    /// Remote console (TCP 903).
    Mks,
    /// NFS datastores (2049).
    Nfs,
    /// Software iSCSI (TCP 3260).
    Iscsi,
    /// vSAN transport and clustering.
    Vsan,
    /// Fault Tolerance.
    Ft,
    /// vSphere Replication.
    Replication,
    /// DVSSync.
    Dvssync,
    /// VXLAN / Geneve overlays.
    Overlay,
    /// DNS.
    Dns,
    /// NTP.
    Ntp,
    /// Anything else.
    Other,
}

impl TrafficClass {
    /// Every class, in report order.
    pub const ALL: [TrafficClass; 15] = [
        TrafficClass::Vmotion,
        TrafficClass::Nfc,
        TrafficClass::VsphereApi,
        TrafficClass::Heartbeat,
        TrafficClass::Mks,
        TrafficClass::Nfs,
        TrafficClass::Iscsi,
        TrafficClass::Vsan,
        TrafficClass::Ft,
        TrafficClass::Replication,
        TrafficClass::Dvssync,
        TrafficClass::Overlay,
        TrafficClass::Dns,
        TrafficClass::Ntp,
        TrafficClass::Other,
    ];

    /// The snake_case name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TrafficClass::Vmotion => "vmotion",
            TrafficClass::Nfc => "nfc",
            TrafficClass::VsphereApi => "vsphere_api",
            TrafficClass::Heartbeat => "heartbeat",
            TrafficClass::Mks => "mks",
            TrafficClass::Nfs => "nfs",
            TrafficClass::Iscsi => "iscsi",
            TrafficClass::Vsan => "vsan",
            TrafficClass::Ft => "ft",
            TrafficClass::Replication => "replication",
            TrafficClass::Dvssync => "dvssync",
            TrafficClass::Overlay => "overlay",
            TrafficClass::Dns => "dns",
            TrafficClass::Ntp => "ntp",
            TrafficClass::Other => "other",
        }
    }

    /// Whether the class moves migration or storage data (as opposed to control traffic).
    pub fn is_data(self) -> bool {
        matches!(
            self,
            TrafficClass::Vmotion
                | TrafficClass::Nfc
                | TrafficClass::Nfs
                | TrafficClass::Iscsi
                | TrafficClass::Vsan
                | TrafficClass::Ft
                | TrafficClass::Replication
        )
    }
}

impl fmt::Display for TrafficClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TrafficClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A name that is not a traffic class; the message lists the classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTrafficClass {
    /// The name given.
    pub name: String,
}

impl fmt::Display for UnknownTrafficClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = TrafficClass::ALL.iter().map(|c| c.name()).collect();
        write!(
            f,
            "unknown traffic class {:?} (one of: {})",
            self.name,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownTrafficClass {}

impl FromStr for TrafficClass {
    type Err = UnknownTrafficClass;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrafficClass::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownTrafficClass { name: s.into() })
    }
}

/// Transport protocol of a catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
}

impl Proto {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }
}

/// The default catalogue: (port, protocol, class).
pub const DEFAULT_PORTS: &[(u16, Proto, TrafficClass)] = &[
    (8000, Proto::Tcp, TrafficClass::Vmotion),
    (902, Proto::Tcp, TrafficClass::Nfc),
    (902, Proto::Udp, TrafficClass::Heartbeat),
    (903, Proto::Tcp, TrafficClass::Mks),
    (443, Proto::Tcp, TrafficClass::VsphereApi),
    (2049, Proto::Tcp, TrafficClass::Nfs),
    (2049, Proto::Udp, TrafficClass::Nfs),
    (3260, Proto::Tcp, TrafficClass::Iscsi),
    (2233, Proto::Tcp, TrafficClass::Vsan),
    (12321, Proto::Udp, TrafficClass::Vsan),
    (12345, Proto::Udp, TrafficClass::Vsan),
    (23451, Proto::Udp, TrafficClass::Vsan),
    (8100, Proto::Tcp, TrafficClass::Ft),
    (8100, Proto::Udp, TrafficClass::Ft),
    (8200, Proto::Tcp, TrafficClass::Ft),
    (8200, Proto::Udp, TrafficClass::Ft),
    (8300, Proto::Tcp, TrafficClass::Ft),
    (8300, Proto::Udp, TrafficClass::Ft),
    (31031, Proto::Tcp, TrafficClass::Replication),
    (44046, Proto::Tcp, TrafficClass::Replication),
    (8301, Proto::Udp, TrafficClass::Dvssync),
    (8302, Proto::Udp, TrafficClass::Dvssync),
    (4789, Proto::Udp, TrafficClass::Overlay),
    (6081, Proto::Udp, TrafficClass::Overlay),
    (53, Proto::Udp, TrafficClass::Dns),
    (53, Proto::Tcp, TrafficClass::Dns),
    (123, Proto::Udp, TrafficClass::Ntp),
];

/// A user's `PORT/PROTO=CLASS` override, e.g. `9000/tcp=vmotion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRule {
    /// The port.
    pub port: u16,
    /// Its protocol.
    pub proto: Proto,
    /// The class it marks.
    pub class: TrafficClass,
}

/// A `--port` rule that is not `PORT/PROTO=CLASS`; each variant carries the whole rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadPortRule {
    /// Not of the form `PORT/PROTO=CLASS`.
    Form {
        /// The rule as given.
        rule: String,
    },
    /// The port is not a number from 0 to 65535.
    Port {
        /// The rule as given.
        rule: String,
        /// The port part.
        port: String,
    },
    /// The protocol is neither `tcp` nor `udp`.
    Proto {
        /// The rule as given.
        rule: String,
        /// The protocol part, lowercased.
        proto: String,
    },
    /// The class is not a traffic class.
    Class {
        /// The rule as given.
        rule: String,
        /// Which name was not a class.
        source: UnknownTrafficClass,
    },
}

impl fmt::Display for BadPortRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadPortRule::Form { rule } => {
                write!(
                    f,
                    "{rule:?} is not PORT/PROTO=CLASS (e.g. 9000/tcp=vmotion)"
                )
            }
            BadPortRule::Port { rule, port } => {
                write!(f, "{rule:?}: {port:?} is not a port number (0-65535)")
            }
            BadPortRule::Proto { rule, proto } => {
                write!(f, "{rule:?}: protocol {proto:?} is neither tcp nor udp")
            }
            BadPortRule::Class { source, .. } => write!(f, "{source}"),
        }
    }
}

impl std::error::Error for BadPortRule {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BadPortRule::Class { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl FromStr for PortRule {
    type Err = BadPortRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let form = || BadPortRule::Form { rule: s.into() };
        let (lhs, class) = s.split_once('=').ok_or_else(form)?;
        let (port, proto) = lhs.split_once('/').ok_or_else(form)?;
        let port: u16 = port.parse().map_err(|_| BadPortRule::Port {
            rule: s.into(),
            port: port.into(),
        })?;
        let proto = match proto.to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            other => {
                return Err(BadPortRule::Proto {
                    rule: s.into(),
                    proto: other.into(),
                });
            }
        };
        let class = class.parse().map_err(|source| BadPortRule::Class {
            rule: s.into(),
            source,
        })?;
        Ok(PortRule { port, proto, class })
    }
}

/// Port → class lookup for TCP and UDP, two flat tables (no hashing per packet).
#[derive(Clone)]
pub struct PortCatalogue {
    tcp: Vec<Option<TrafficClass>>,
    udp: Vec<Option<TrafficClass>>,
}

impl Default for PortCatalogue {
    fn default() -> Self {
        PortCatalogue::new(&[])
    }
}

impl PortCatalogue {
    /// The default catalogue with the user's rules applied on top (later rules win).
    pub fn new(overrides: &[PortRule]) -> PortCatalogue {
        let mut c = PortCatalogue {
            tcp: vec![None; 65536],
            udp: vec![None; 65536],
        };
        for &(port, proto, class) in DEFAULT_PORTS {
            c.set(port, proto, class);
        }
        for r in overrides {
            c.set(r.port, r.proto, r.class);
        }
        c
    }

    fn set(&mut self, port: u16, proto: Proto, class: TrafficClass) {
        match proto {
            Proto::Tcp => self.tcp[port as usize] = Some(class),
            Proto::Udp => self.udp[port as usize] = Some(class),
        }
    }

    /// The class of one port, if the catalogue names it.
    pub fn lookup(&self, ip_proto: IpProtocol, port: u16) -> Option<TrafficClass> {
        match ip_proto {
            IpProtocol::Tcp => self.tcp[port as usize],
            IpProtocol::Udp => self.udp[port as usize],
            _ => None,
        }
    }

    /// The class of a flow: the server port's class, else the client port's, else `Other`.
    pub fn classify(
        &self,
        ip_proto: IpProtocol,
        server_port: u16,
        client_port: u16,
    ) -> TrafficClass {
        self.lookup(ip_proto, server_port)
            .or_else(|| self.lookup(ip_proto, client_port))
            .unwrap_or(TrafficClass::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = PortCatalogue::default();
        assert_eq!(
            c.classify(IpProtocol::Tcp, 8000, 50000),
            TrafficClass::Vmotion
        );
        assert_eq!(c.classify(IpProtocol::Tcp, 902, 50000), TrafficClass::Nfc);
        assert_eq!(
            c.classify(IpProtocol::Udp, 902, 902),
            TrafficClass::Heartbeat
        );
        assert_eq!(
            c.classify(IpProtocol::Tcp, 9000, 50000),
            TrafficClass::Other
        );
        assert_eq!(c.classify(IpProtocol::Icmp, 0, 0), TrafficClass::Other);
        let rule: PortRule = "9000/TCP=vmotion".parse().unwrap();
        let c = PortCatalogue::new(&[rule, "443/tcp=other".parse().unwrap()]);
        assert_eq!(
            c.classify(IpProtocol::Tcp, 9000, 50000),
            TrafficClass::Vmotion
        );
        assert_eq!(c.classify(IpProtocol::Tcp, 443, 50000), TrafficClass::Other);
        assert_eq!(
            c.classify(IpProtocol::Udp, 9000, 50000),
            TrafficClass::Other
        );
    }

    #[test]
    fn bad_rules_say_why() {
        let bad = |s: &str| s.parse::<PortRule>().unwrap_err();
        assert!(bad("9000=vmotion").to_string().contains("PORT/PROTO"));
        assert!(matches!(bad("70000/tcp=nfc"), BadPortRule::Port { port, .. } if port == "70000"));
        assert!(bad("70000/tcp=nfc").to_string().contains("port number"));
        assert!(bad("90/sctp=nfc").to_string().contains("sctp"));
        let e = bad("90/tcp=warp");
        assert!(e.to_string().contains("unknown traffic class"), "{e}");
        let source = std::error::Error::source(&e).map(|s| s.to_string());
        assert!(source.is_some_and(|s| s.contains("\"warp\"")));
    }
}
