//! The inventory file: hosts and their vmknics as JSON, the form `CAPTURE.inventory.json`,
//! `--inventory FILE.json` and `--write-inventory` use.
//!
//! In: the JSON file (written by `vmkflow synth`, by `--write-inventory`, or by hand), or a PowerCLI
//! CSV export ([`super::powercli`]). Out: [`Inventory`], typed and checked, and the lookup
//! [`VmkInventory`] built from either form by [`VmkInventory::load`]; errors name the file and the
//! entry. [`Inventory::from`] turns a [`VmkInventory`] (e.g. an inferred one) back into the file
//! form.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::powercli::{self, PowerCliError};
use super::{InventorySource, Service, Vmk, VmkInventory};
use crate::vocab::Mac;
use crate::vocab::mac::BadMac;

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

/// What is wrong in a well-formed inventory; each variant names the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidInventory {
    /// A host without a name.
    EmptyHostName {
        /// Its index in `hosts`.
        index: usize,
    },
    /// A vmknic without a name.
    EmptyVmknicName {
        /// Its host.
        host: String,
    },
    /// An address that is not an IP address in CIDR form.
    Address {
        /// The host.
        host: String,
        /// The vmknic.
        vmknic: String,
        /// The address as written.
        address: String,
    },
    /// A VLAN id above 4094.
    Vlan {
        /// The host.
        host: String,
        /// The vmknic.
        vmknic: String,
        /// The id.
        vlan: u16,
    },
    /// A MAC address that does not parse.
    Mac {
        /// The host.
        host: String,
        /// The vmknic.
        vmknic: String,
        /// The MAC as written.
        source: BadMac,
    },
}

impl fmt::Display for InvalidInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidInventory::EmptyHostName { index } => {
                write!(f, "hosts[{index}]: empty host name")
            }
            InvalidInventory::EmptyVmknicName { host } => {
                write!(f, "host {host}: a vmknic has an empty name")
            }
            InvalidInventory::Address {
                host,
                vmknic,
                address,
            } => write!(
                f,
                "host {host} {vmknic}: `{address}` is not an IP address in CIDR form"
            ),
            InvalidInventory::Vlan { host, vmknic, vlan } => {
                write!(f, "host {host} {vmknic}: VLAN {vlan} > 4094")
            }
            InvalidInventory::Mac {
                host,
                vmknic,
                source,
            } => write!(f, "host {host} {vmknic}: {source}"),
        }
    }
}

impl std::error::Error for InvalidInventory {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InvalidInventory::Mac { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An error reading or writing an inventory file (JSON or PowerCLI CSV); every variant names it.
#[derive(Debug)]
pub enum InventoryError {
    /// The file could not be opened, read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not inventory JSON (serde's error carries line and column).
    Json {
        /// The file.
        path: PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The JSON is well-formed but an entry is wrong.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        source: InvalidInventory,
    },
    /// The PowerCLI CSV export is not UTF-8 text (e.g. UTF-16: export with `-Encoding UTF8`).
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the text stops being UTF-8.
        source: std::str::Utf8Error,
    },
    /// The PowerCLI CSV export is missing a column or has a bad line.
    PowerCli {
        /// The file.
        path: PathBuf,
        /// What is wrong, and on which line.
        source: PowerCliError,
    },
}

impl InventoryError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            InventoryError::Io { path, .. }
            | InventoryError::Json { path, .. }
            | InventoryError::Invalid { path, .. }
            | InventoryError::NotUtf8 { path, .. }
            | InventoryError::PowerCli { path, .. } => path,
        }
    }

    /// Whether the file could not be opened or read (as opposed to read and found wrong).
    pub fn is_io(&self) -> bool {
        matches!(self, InventoryError::Io { .. })
    }
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            InventoryError::Io { source, .. } => write!(f, "{path}: {source}"),
            InventoryError::Json { source, .. } => write!(f, "{path}: {source}"),
            InventoryError::Invalid { source, .. } => write!(f, "{path}: {source}"),
            InventoryError::NotUtf8 { source, .. } => {
                write!(f, "{path}: not UTF-8 text ({source})")
            }
            InventoryError::PowerCli { source, .. } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for InventoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InventoryError::Io { source, .. } => Some(source),
            InventoryError::Json { source, .. } => Some(source),
            InventoryError::Invalid { source, .. } => Some(source),
            InventoryError::NotUtf8 { source, .. } => Some(source),
            InventoryError::PowerCli { source, .. } => Some(source),
        }
    }
}

/// Whether `path` names a PowerCLI CSV export (`.csv`, any case) rather than inventory JSON.
pub fn is_powercli_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// An address in CIDR form (`10.0.20.11/24`, `fd00:20::11/64`; a bare address is a host prefix),
/// strictly: no surrounding spaces.
fn strict_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((ip, prefix))
}

impl Inventory {
    /// Reads and checks an inventory JSON file (names non-empty, addresses valid CIDRs, VLANs at
    /// most 4094, MACs well-formed). [`VmkInventory::load`] reads either form, JSON or CSV.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let inv = read_json(path)?;
        inv.validate().map_err(|source| InventoryError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(inv)
    }

    /// Writes the inventory as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), InventoryError> {
        let io_err = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut w = BufWriter::new(File::create(path).map_err(io_err)?);
        serde_json::to_writer_pretty(&mut w, self).map_err(|e| io_err(io::Error::other(e)))?;
        w.write_all(b"\n").map_err(io_err)?;
        w.flush().map_err(io_err)
    }

    /// Checks names, addresses, VLANs and MACs; the error names the first wrong entry.
    pub fn validate(&self) -> Result<(), InvalidInventory> {
        self.vmks().map(drop)
    }

    /// The vmks the file describes, checked; the error names the first wrong entry.
    pub fn vmks(&self) -> Result<Vec<Vmk>, InvalidInventory> {
        let mut vmks = Vec::new();
        for (index, h) in self.hosts.iter().enumerate() {
            if h.name.is_empty() {
                return Err(InvalidInventory::EmptyHostName { index });
            }
            for v in &h.vmknics {
                if v.name.is_empty() {
                    return Err(InvalidInventory::EmptyVmknicName {
                        host: h.name.clone(),
                    });
                }
                let addrs =
                    v.ip.iter()
                        .map(|a| {
                            strict_cidr(a).ok_or_else(|| InvalidInventory::Address {
                                host: h.name.clone(),
                                vmknic: v.name.clone(),
                                address: a.clone(),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                if let Some(vlan) = v.vlan.filter(|&id| id > 4094) {
                    return Err(InvalidInventory::Vlan {
                        host: h.name.clone(),
                        vmknic: v.name.clone(),
                        vlan,
                    });
                }
                let mac = match &v.mac {
                    Some(m) => Some(m.parse::<Mac>().map_err(|source| InvalidInventory::Mac {
                        host: h.name.clone(),
                        vmknic: v.name.clone(),
                        source,
                    })?),
                    None => None,
                };
                vmks.push(Vmk {
                    host: h.name.clone(),
                    name: v.name.clone(),
                    addrs,
                    vlan: v.vlan,
                    mac,
                    services: v.services.clone(),
                    unknown_services: Vec::new(),
                });
            }
        }
        Ok(vmks)
    }
}

/// The file form of a lookup inventory (e.g. an inferred one), for `--write-inventory`: one host
/// per run of vmks with the same host, in the inventory's order.
impl From<&VmkInventory> for Inventory {
    fn from(inv: &VmkInventory) -> Inventory {
        let mut hosts: Vec<Host> = Vec::new();
        for v in inv.vmks.iter() {
            let nic = Vmknic {
                name: v.name.clone(),
                ip: v.addrs.iter().map(|(a, p)| format!("{a}/{p}")).collect(),
                vlan: v.vlan,
                mac: v.mac.map(|m| m.to_string()),
                services: v.services.clone(),
            };
            match hosts.last_mut() {
                Some(h) if h.name == v.host => h.vmknics.push(nic),
                _ => hosts.push(Host {
                    name: v.host.clone(),
                    vmknics: vec![nic],
                }),
            }
        }
        Inventory { hosts }
    }
}

impl VmkInventory {
    /// Reads an inventory file: a PowerCLI CSV export when its name ends in `.csv` (see
    /// [`is_powercli_csv`]), else inventory JSON. The source records the form and the path.
    pub fn load(path: &Path) -> Result<VmkInventory, InventoryError> {
        let name = path.display().to_string();
        if is_powercli_csv(path) {
            let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let text = String::from_utf8(bytes).map_err(|e| InventoryError::NotUtf8 {
                path: path.to_path_buf(),
                source: e.utf8_error(),
            })?;
            let vmks = powercli::parse(&text).map_err(|source| InventoryError::PowerCli {
                path: path.to_path_buf(),
                source,
            })?;
            let mut inv = VmkInventory::new(vmks, InventorySource::PowerCliCsv(name.clone()));
            let missing = powercli::missing_service_columns(&text);
            if !missing.is_empty() {
                inv.notes.push(format!(
                    "{name}: no {} column: whether a vmk has {} is unknown, not false; a claim \
                     whose verdict depends on it is inconclusive",
                    missing
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(", "),
                    missing
                        .iter()
                        .map(|(_, s)| format!("the {} service", s.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Ok(inv)
        } else {
            let vmks = read_json(path)?
                .vmks()
                .map_err(|source| InventoryError::Invalid {
                    path: path.to_path_buf(),
                    source,
                })?;
            Ok(VmkInventory::new(vmks, InventorySource::File(name)))
        }
    }
}

/// The JSON of an inventory file, unchecked.
fn read_json(path: &Path) -> Result<Inventory, InventoryError> {
    let file = File::open(path).map_err(|source| InventoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_reader(BufReader::new(file)).map_err(|source| match source.is_io() {
        // A read error (e.g. the path is a directory) is no fault of the JSON.
        true => InventoryError::Io {
            path: path.to_path_buf(),
            source: source.into(),
        },
        false => InventoryError::Json {
            path: path.to_path_buf(),
            source,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_string_or_array() {
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
        let vmks = VmkInventory::new(inv.vmks().unwrap(), InventorySource::None);
        assert_eq!(Inventory::from(&vmks), inv);
    }

    #[test]
    fn invalid_values_are_named() {
        let inv = |vmknic: &str| {
            serde_json::from_str::<Inventory>(&format!(
                r#"{{"hosts":[{{"name":"esx01","vmknics":[{vmknic}]}}]}}"#
            ))
            .unwrap()
            .validate()
            .unwrap_err()
        };
        let e = inv(r#"{"name":"vmk0","ip":"10.0.10.300/24"}"#);
        assert!(e.to_string().contains("10.0.10.300/24"), "{e}");
        assert!(matches!(e, InvalidInventory::Address { .. }));
        let e = inv(r#"{"name":"vmk0","ip":" 10.0.10.3/24"}"#);
        assert!(matches!(e, InvalidInventory::Address { .. }), "{e}");
        let e = inv(r#"{"name":"vmk0","ip":"10.0.10.3/33"}"#);
        assert!(matches!(e, InvalidInventory::Address { .. }), "{e}");
        let e = inv(r#"{"name":"vmk0","ip":[],"vlan":4095}"#);
        assert_eq!(e.to_string(), "host esx01 vmk0: VLAN 4095 > 4094");
        let e = inv(r#"{"name":"vmk7","ip":[],"mac":"00:50:56"}"#);
        assert!(
            e.to_string().starts_with("host esx01 vmk7: `00:50:56`"),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = inv(r#"{"name":"","ip":[]}"#);
        assert_eq!(e.to_string(), "host esx01: a vmknic has an empty name");
    }

    #[test]
    fn load_names_the_file_and_tells_io_from_content() {
        let dir = std::env::temp_dir().join(format!("vmkflow-inv-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.json");
        let e = VmkInventory::load(&missing).unwrap_err();
        assert!(e.is_io() && e.to_string().contains("missing.json"), "{e}");
        let e = VmkInventory::load(&dir.join("missing.CSV")).unwrap_err();
        assert!(e.is_io() && e.to_string().contains("missing.CSV"), "{e}");
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "Name,IP\nvmk0,1.2.3.4\n").unwrap();
        let e = VmkInventory::load(&bad).unwrap_err();
        assert!(!e.is_io(), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}: no VMHost column", bad.display())
        );
        std::fs::write(&bad, b"\xff\xfeV\0").unwrap();
        let e = VmkInventory::load(&bad).unwrap_err();
        assert!(matches!(e, InventoryError::NotUtf8 { .. }), "{e}");
        assert!(VmkInventory::load(&dir).unwrap_err().is_io());
        let json = dir.join("bad.json");
        std::fs::write(&json, "{\"hosts\":").unwrap();
        let e = VmkInventory::load(&json).unwrap_err();
        assert!(matches!(e, InventoryError::Json { .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
