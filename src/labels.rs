//! Ground-truth labels that travel beside a capture: the host/vmknic inventory and the migrations.
//!
//! In: the JSON files `CAPTURE.inventory.json` and `CAPTURE.migrations.json` (written by
//! `vmkflow synth`, or by hand for a real capture). Out: [`Inventory`] and [`Migrations`], typed and
//! checked; errors name the file and what is wrong. Writing produces the same JSON, with timestamps
//! as RFC 3339 strings with nanoseconds.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::vocab::kind::{MigrationKind, PowerState};
use crate::vocab::time::{parse_rfc3339, rfc3339};

/// An error reading or writing a label file.
#[derive(Debug)]
pub enum LabelError {
    /// The file could not be opened, read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    Json {
        /// The file.
        path: PathBuf,
        /// The serde error (it carries line and column).
        source: serde_json::Error,
    },
    /// The JSON is well-formed but a value is inconsistent.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the entry.
        what: String,
    },
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            LabelError::Json { path, source } => write!(f, "{}: {source}", path.display()),
            LabelError::Invalid { path, what } => write!(f, "{}: {what}", path.display()),
        }
    }
}

impl std::error::Error for LabelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LabelError::Io { source, .. } => Some(source),
            LabelError::Json { source, .. } => Some(source),
            LabelError::Invalid { .. } => None,
        }
    }
}

/// A VMkernel service tag, as vSphere names them (snake case in JSON).
pub use crate::classify::inventory::Service;

/// One VMkernel network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vmknic {
    /// `vmk0`, `vmk1`, …
    pub name: String,
    /// Addresses in CIDR form (IPv4 or IPv6); JSON accepts one string or an array of strings.
    #[serde(
        serialize_with = "ser_one_or_many",
        deserialize_with = "de_one_or_many"
    )]
    pub ip: Vec<String>,
    /// 802.1Q VLAN id of its port group, when tagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// MAC address, `00:50:56:xx:xx:xx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Service tags; empty for a storage-only vmk.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// One ESXi host and its vmknics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// Host name, e.g. `esx01`.
    pub name: String,
    /// Its VMkernel interfaces.
    pub vmknics: Vec<Vmknic>,
}

/// The hosts of a capture: which address belongs to which vmk with which services.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// The hosts.
    pub hosts: Vec<Host>,
}

/// A point in time, nanoseconds since the Unix epoch. JSON: an RFC 3339 string or epoch seconds
/// (a number, possibly fractional: a JSON number keeps about a microsecond of precision at current
/// dates); written as RFC 3339 with nine fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(s) => s
                .checked_mul(1_000_000_000)
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom(format!("epoch seconds {s} out of range"))),
            Raw::Num(f) if f.is_finite() && f.abs() < 9.2e9 => {
                // Whole seconds and fraction apart: f * 1e9 alone would lose the nanoseconds.
                let whole = f.trunc();
                let frac = ((f - whole) * 1e9).round() as i64;
                Ok(Timestamp(whole as i64 * 1_000_000_000 + frac))
            }
            Raw::Num(f) => Err(de::Error::custom(format!("epoch seconds {f} out of range"))),
            Raw::Text(t) => parse_rfc3339(&t)
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom(format!("`{t}` is not an RFC 3339 timestamp"))),
        }
    }
}

/// One migration: what moved, when, between which hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// Unique id within the file, e.g. `m1`.
    pub id: String,
    /// The VM's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    /// vMotion, Storage vMotion or xvMotion.
    pub kind: MigrationKind,
    /// Powered on (hot) or off (cold).
    pub state: PowerState,
    /// Time of the migration's first packet (inclusive).
    pub start: Timestamp,
    /// Time of the migration's last packet (inclusive).
    pub end: Timestamp,
    /// Host the VM (or its disks) left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_host: Option<String>,
    /// Host the VM (or its disks' data) went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_host: Option<String>,
    /// Configured VM memory in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// Size of the VM's disks in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_mb: Option<u64>,
    /// vSphere version, e.g. `8.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsphere_version: Option<String>,
}

/// The migrations recorded in one capture.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Migrations {
    /// In time order.
    pub migrations: Vec<Migration>,
}

fn ser_one_or_many<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    match v {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

fn de_one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => vec![s],
        Raw::Many(v) => v,
    })
}

/// Checks an address in CIDR form (`10.0.20.11/24`, `fd00:20::11/64`; a bare address is allowed).
fn valid_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let max = match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return false,
    };
    prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LabelError> {
    let file = File::open(path).map_err(|source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_reader(BufReader::new(file)).map_err(|source| LabelError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), LabelError> {
    let io_err = |source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut w = BufWriter::new(File::create(path).map_err(io_err)?);
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| io_err(io::Error::other(e)))?;
    w.write_all(b"\n").map_err(io_err)?;
    w.flush().map_err(io_err)
}

/// The label file beside a capture: `PATH` with `suffix` appended (`x.pcap` →
/// `x.pcap.inventory.json`).
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Inventory {
    /// Reads and checks an inventory file (addresses must be valid CIDRs, names non-empty).
    pub fn load(path: &Path) -> Result<Inventory, LabelError> {
        let inv: Inventory = read_json(path)?;
        inv.validate().map_err(|what| LabelError::Invalid {
            path: path.to_path_buf(),
            what,
        })?;
        Ok(inv)
    }

    /// Writes the inventory as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LabelError> {
        write_json(path, self)
    }

    /// Checks names and addresses; the error says which entry is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (hi, h) in self.hosts.iter().enumerate() {
            if h.name.is_empty() {
                return Err(format!("hosts[{hi}]: empty host name"));
            }
            for v in &h.vmknics {
                if v.name.is_empty() {
                    return Err(format!("host {}: a vmknic has an empty name", h.name));
                }
                if let Some(bad) = v.ip.iter().find(|ip| !valid_cidr(ip)) {
                    return Err(format!(
                        "host {} {}: `{bad}` is not an IP address in CIDR form",
                        h.name, v.name
                    ));
                }
                if let Some(vlan) = v.vlan.filter(|&id| id > 4094) {
                    return Err(format!("host {} {}: VLAN {vlan} > 4094", h.name, v.name));
                }
            }
        }
        Ok(())
    }
}

impl Migrations {
    /// Reads and checks a migrations file (ids unique, `start <= end`).
    pub fn load(path: &Path) -> Result<Migrations, LabelError> {
        let m: Migrations = read_json(path)?;
        m.validate().map_err(|what| LabelError::Invalid {
            path: path.to_path_buf(),
            what,
        })?;
        Ok(m)
    }

    /// Writes the migrations as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LabelError> {
        write_json(path, self)
    }

    /// Checks ids and time windows; the error names the migration.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::BTreeSet::new();
        for m in &self.migrations {
            if m.id.is_empty() {
                return Err("a migration has an empty id".into());
            }
            if !ids.insert(m.id.as_str()) {
                return Err(format!("migration id `{}` appears twice", m.id));
            }
            if m.start > m.end {
                return Err(format!(
                    "migration {}: start {} is after end {}",
                    m.id,
                    rfc3339(m.start.0),
                    rfc3339(m.end.0)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_string_or_array_and_epoch_seconds() {
        let inv: Inventory = serde_json::from_str(
            r#"{"hosts":[{"name":"esx01","vmknics":[
                {"name":"vmk0","ip":"10.0.10.11/24","services":["management"]},
                {"name":"vmk1","ip":["10.0.20.11/24","fd00:20::11/64"],"vlan":20,
                 "services":["vmotion","vsphere_replication_nfc"]},
                {"name":"vmk3","ip":"10.0.40.11/24"}]}]}"#,
        )
        .unwrap();
        assert!(inv.validate().is_ok());
        let v = &inv.hosts[0].vmknics;
        assert_eq!(v[1].ip.len(), 2);
        assert!(v[2].services.is_empty());
        let json = serde_json::to_string(&inv).unwrap();
        assert!(json.contains(r#""ip":"10.0.10.11/24""#), "{json}");
        assert_eq!(serde_json::from_str::<Inventory>(&json).unwrap(), inv);

        let m: Migrations = serde_json::from_str(
            r#"{"migrations":[{"id":"m1","kind":"storage-vmotion","state":"cold",
                "start":1772445600.5,"end":"2026-03-02T10:00:01Z"}]}"#,
        )
        .unwrap();
        assert_eq!(m.migrations[0].start.0, 1_772_445_600_500_000_000);
        assert_eq!(m.migrations[0].end.0, 1_772_445_601_000_000_000);
        assert!(m.validate().is_ok());
    }

    #[test]
    fn invalid_values_are_named() {
        let inv: Inventory = serde_json::from_str(
            r#"{"hosts":[{"name":"esx01","vmknics":[{"name":"vmk0","ip":"10.0.10.300/24"}]}]}"#,
        )
        .unwrap();
        assert!(inv.validate().unwrap_err().contains("10.0.10.300/24"));
        let bad = serde_json::from_str::<Migrations>(
            r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"hot","start":"yesterday","end":0}]}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("yesterday"));
        let m: Migrations = serde_json::from_str(
            r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"hot","start":2,"end":1}]}"#,
        )
        .unwrap();
        assert!(m.validate().unwrap_err().contains("m1"));
    }
}
