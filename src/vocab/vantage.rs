//! Where a capture was taken: the host and vmk an input (or one interface of it) shows, and which
//! of the vmk's directions it holds. `pktcap-uw --vmk vmkN` captures one vmk per file, by default
//! only the frames the vmk sends (`--dir 2` gives both).
//!
//! A capture set's [`Coverage`] is the list of its vantages: what the analysis could see, and so
//! what it can say nothing about.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Which frames of a vmk a capture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only the frames the vmk sent (pktcap-uw's default for a vmk, `--dir 1`).
    Tx,
    /// Only the frames the vmk received (`--dir 0`).
    Rx,
    /// Both (`--dir 2`).
    Both,
}

impl Direction {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Tx => "tx",
            Direction::Rx => "rx",
            Direction::Both => "both",
        }
    }

    /// The union of two views of the same vmk.
    pub fn union(self, other: Direction) -> Direction {
        if self == other { self } else { Direction::Both }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Direction, String> {
        match s {
            "tx" => Ok(Direction::Tx),
            "rx" => Ok(Direction::Rx),
            "both" => Ok(Direction::Both),
            _ => Err(format!("`{s}` is not a direction (tx, rx or both)")),
        }
    }
}

/// How a vantage was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VantageSource {
    /// `--vantage FILE=HOST/VMK[:DIR]`.
    Option,
    /// The pcapng interface's name or description names the vmk.
    InterfaceName,
    /// Inferred from the traffic: one local address in every frame.
    Traffic,
    /// Nothing says: the input is taken to see everything it holds (a mirror, a switch port, a
    /// merged file).
    Unknown,
}

/// Where one input, or one interface of it, was captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vantage {
    /// Host name (as the inventory names it), when known.
    pub host: Option<String>,
    /// vmk name (`vmk1`), when known.
    pub vmk: Option<String>,
    /// Which of the vmk's frames the input holds.
    pub direction: Direction,
    /// How this was learnt.
    pub source: VantageSource,
}

impl Vantage {
    /// A vantage nothing is known of: it sees everything it holds.
    pub fn unknown() -> Vantage {
        Vantage {
            host: None,
            vmk: None,
            direction: Direction::Both,
            source: VantageSource::Unknown,
        }
    }

    /// Whether this is one vmk's view (host and vmk known).
    pub fn is_vmk(&self) -> bool {
        self.host.is_some() && self.vmk.is_some()
    }
}

/// What a capture set could see: the vantages of its inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Every input's (or interface's) vantage. Empty: a capture of unknown vantage.
    pub vantages: Vec<Vantage>,
}

impl Coverage {
    /// A capture that sees everything it holds (one file from one place, a mirror).
    pub fn everything() -> Coverage {
        Coverage::default()
    }

    /// True unless every vantage is one known vmk: then only those vmks were seen.
    pub fn is_everything(&self) -> bool {
        self.vantages.is_empty() || self.vantages.iter().any(|v| !v.is_vmk())
    }

    /// The directions in which `host`'s `vmk` was seen (`Some(Both)` for everything), or `None`
    /// when no input saw it.
    pub fn sees(&self, host: &str, vmk: &str) -> Option<Direction> {
        if self.is_everything() {
            return Some(Direction::Both);
        }
        self.vantages
            .iter()
            .filter(|v| v.host.as_deref() == Some(host) && v.vmk.as_deref() == Some(vmk))
            .map(|v| v.direction)
            .reduce(Direction::union)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmk(host: &str, vmk: &str, direction: Direction) -> Vantage {
        Vantage {
            host: Some(host.into()),
            vmk: Some(vmk.into()),
            direction,
            source: VantageSource::Option,
        }
    }

    #[test]
    fn coverage_of_vmk_views() {
        let c = Coverage {
            vantages: vec![
                vmk("esx01", "vmk0", Direction::Tx),
                vmk("esx01", "vmk0", Direction::Rx),
                vmk("esx02", "vmk0", Direction::Tx),
            ],
        };
        assert!(!c.is_everything());
        assert_eq!(c.sees("esx01", "vmk0"), Some(Direction::Both));
        assert_eq!(c.sees("esx02", "vmk0"), Some(Direction::Tx));
        assert_eq!(c.sees("esx02", "vmk1"), None);
        let mut all = c.clone();
        all.vantages.push(Vantage::unknown());
        assert!(all.is_everything());
        assert_eq!(all.sees("esx02", "vmk1"), Some(Direction::Both));
        assert_eq!(Coverage::everything().sees("a", "vmk9"), Some(Direction::Both));
        assert_eq!("rx".parse::<Direction>(), Ok(Direction::Rx));
        assert!("in".parse::<Direction>().is_err());
    }
}
