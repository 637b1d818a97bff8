//! [`Mac`]: a 48-bit Ethernet address, printed and parsed as `00:50:56:aa:bb:cc`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An Ethernet (EUI-48) address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

/// The VMware OUIs used for virtual NICs (vmknics and VMs).
const VMWARE_OUIS: [[u8; 3]; 3] = [[0x00, 0x50, 0x56], [0x00, 0x0c, 0x29], [0x00, 0x05, 0x69]];

impl Mac {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// The six octets.
    pub fn octets(self) -> [u8; 6] {
        self.0
    }

    /// Reads the first six bytes of `b`, when there are six.
    pub fn from_slice(b: &[u8]) -> Option<Mac> {
        b.get(..6)?.try_into().ok().map(Mac)
    }

    /// Whether the address carries one of VMware's OUIs (a vmknic or a VM's virtual NIC).
    pub fn is_vmware(self) -> bool {
        VMWARE_OUIS.iter().any(|o| self.0[..3] == o[..])
    }
}

impl From<[u8; 6]> for Mac {
    fn from(b: [u8; 6]) -> Mac {
        Mac(b)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not six hexadecimal octets separated by `:` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMac(pub String);

impl fmt::Display for BadMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a MAC address (e.g. 00:50:56:aa:bb:cc)",
            self.0
        )
    }
}

impl std::error::Error for BadMac {}

impl FromStr for Mac {
    type Err = BadMac;

    /// Parses `00:50:56:aa:bb:cc` (or with dashes).
    fn from_str(s: &str) -> Result<Mac, BadMac> {
        let mut m = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in &mut m {
            let part = parts.next().ok_or_else(|| BadMac(s.into()))?;
            *b = u8::from_str_radix(part, 16).map_err(|_| BadMac(s.into()))?;
        }
        match parts.next() {
            None => Ok(Mac(m)),
            Some(_) => Err(BadMac(s.into())),
        }
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses() {
        let m = Mac([0x00, 0x50, 0x56, 0xaa, 0x0b, 0x01]);
        assert_eq!(m.to_string(), "00:50:56:aa:0b:01");
        assert_eq!("00:50:56:aa:0b:01".parse::<Mac>(), Ok(m));
        assert_eq!("00-50-56-AA-0B-01".parse::<Mac>(), Ok(m));
        assert!("00:50:56:aa:0b".parse::<Mac>().is_err());
        assert!("00:50:56:aa:0b:01:02".parse::<Mac>().is_err());
        assert!("00:50:56:aa:0b:zz".parse::<Mac>().is_err());
        assert!("00:50:56:aa:0b:".parse::<Mac>().is_err());
    }

    #[test]
    fn vmware_oui() {
        assert!(Mac([0x00, 0x0c, 0x29, 1, 2, 3]).is_vmware());
        assert!(!Mac([0x02, 0x00, 0x00, 1, 2, 3]).is_vmware());
        assert_eq!(Mac::from_slice(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            Mac::from_slice(&[1, 2, 3, 4, 5, 6, 7]),
            Some(Mac([1, 2, 3, 4, 5, 6]))
        );
    }
}
