//! Traffic classes and the port catalogue that assigns them.
//!
//! In: a flow's protocol and server (or both) ports. Out: a [`TrafficClass`]. The catalogue is data
//! ([`DEFAULT_PORTS`], from the vSphere security guide's ESXi firewall port tables) that users
//! extend or override with `--port PORT/PROTO=CLASS`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

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

impl FromStr for TrafficClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrafficClass::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = TrafficClass::ALL.iter().map(|c| c.name()).collect();
                format!("unknown traffic class {s:?} (one of: {})", names.join(", "))
            })
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

impl FromStr for PortRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not PORT/PROTO=CLASS (e.g. 9000/tcp=vmotion)");
        let (lhs, class) = s.split_once('=').ok_or_else(bad)?;
        let (port, proto) = lhs.split_once('/').ok_or_else(bad)?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{s:?}: {port:?} is not a port number (0-65535)"))?;
        let proto = match proto.to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            other => return Err(format!("{s:?}: protocol {other:?} is neither tcp nor udp")),
        };
        Ok(PortRule {
            port,
            proto,
            class: class.parse()?,
        })
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
    pub fn lookup(&self, ip_proto: u8, port: u16) -> Option<TrafficClass> {
        match ip_proto {
            6 => self.tcp[port as usize],
            17 => self.udp[port as usize],
            _ => None,
        }
    }

    /// The class of a flow: the server port's class, else the client port's, else `Other`.
    pub fn classify(&self, ip_proto: u8, server_port: u16, client_port: u16) -> TrafficClass {
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
        assert_eq!(c.classify(6, 8000, 50000), TrafficClass::Vmotion);
        assert_eq!(c.classify(6, 902, 50000), TrafficClass::Nfc);
        assert_eq!(c.classify(17, 902, 902), TrafficClass::Heartbeat);
        assert_eq!(c.classify(6, 9000, 50000), TrafficClass::Other);
        assert_eq!(c.classify(1, 0, 0), TrafficClass::Other);
        let rule: PortRule = "9000/TCP=vmotion".parse().unwrap();
        let c = PortCatalogue::new(&[rule, "443/tcp=other".parse().unwrap()]);
        assert_eq!(c.classify(6, 9000, 50000), TrafficClass::Vmotion);
        assert_eq!(c.classify(6, 443, 50000), TrafficClass::Other);
        assert_eq!(c.classify(17, 9000, 50000), TrafficClass::Other);
    }

    #[test]
    fn bad_rules_say_why() {
        assert!(
            "9000=vmotion"
                .parse::<PortRule>()
                .unwrap_err()
                .contains("PORT/PROTO")
        );
        assert!(
            "70000/tcp=nfc"
                .parse::<PortRule>()
                .unwrap_err()
                .contains("port number")
        );
        assert!(
            "90/sctp=nfc"
                .parse::<PortRule>()
                .unwrap_err()
                .contains("sctp")
        );
        assert!(
            "90/tcp=warp"
                .parse::<PortRule>()
                .unwrap_err()
                .contains("unknown traffic class")
        );
    }
}
