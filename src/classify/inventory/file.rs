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
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::powercli::{self, PowerCliError};
use super::{InventorySource, Service, Vmk, VmkInventory};
use crate::vocab::Mac;
use crate::vocab::json_lines::{self, Located};
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
    /// Speed of its uplink in Mb/s (optional; e.g. 10000, 25000, 40000), for the throughput
    /// finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_mbps: Option<u32>,
    /// Service tags; empty for a storage-only vmk.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Services the source could not say (a PowerCLI export without their columns): unknown,
    /// not false, so claims that depend on them stay inconclusive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_services: Vec<Service>,
    /// MTU of the vmk (1500, 9000, …), when known: compared with the MSS its TCP streams
    /// advertise (finding `segment-size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
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
    /// A host listed twice (names compared without letter case, as labels find them).
    DuplicateHost {
        /// Its name, as written the second time.
        host: String,
        /// The line of its first entry, when read from a file.
        first_line: Option<usize>,
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
            InvalidInventory::DuplicateHost { host, first_line } => {
                write!(f, "host `{host}` is listed twice")?;
                match first_line {
                    Some(l) => write!(f, " (first on line {l})"),
                    None => Ok(()),
                }
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
        /// The line on which the wrong entry (host or vmknic) starts, when known.
        line: Option<usize>,
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
            InventoryError::Invalid {
                source,
                line: Some(line),
                ..
            } => write!(f, "{path}: line {line}: {source}"),
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
    /// Reads and checks an inventory JSON file (names non-empty, each host listed once, addresses
    /// valid CIDRs, VLANs at most 4094, MACs well-formed); an error names the file and the line
    /// of the wrong host or vmknic. [`VmkInventory::load`] reads either form, JSON or CSV.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let mut hosts = Vec::new();
        let mut check = HostCheck::default();
        read_hosts(path, |index, Located { line, value: host }| {
            check
                .host(index, &host.name, Some(line))
                .map_err(|e| (e, line))?;
            let mut vmknics = Vec::with_capacity(host.vmknics.len());
            for v in host.vmknics {
                parse_vmknic(&host.name, &v.value).map_err(|e| (e, v.line))?;
                vmknics.push(v.value);
            }
            hosts.push(Host {
                name: host.name,
                vmknics,
            });
            Ok(())
        })?;
        Ok(Inventory { hosts })
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

    /// Checks names (each host once), addresses, VLANs and MACs; the error names the first wrong
    /// entry.
    pub fn validate(&self) -> Result<(), InvalidInventory> {
        self.vmks().map(drop)
    }

    /// The vmks the file describes, checked; the error names the first wrong entry.
    pub fn vmks(&self) -> Result<Vec<Vmk>, InvalidInventory> {
        let mut vmks = Vec::new();
        let mut check = HostCheck::default();
        for (index, h) in self.hosts.iter().enumerate() {
            check.host(index, &h.name, None)?;
            for v in &h.vmknics {
                vmks.push(vmk(&h.name, v.clone())?);
            }
        }
        Ok(vmks)
    }
}

/// A host as the file gives it, each vmknic with the line it starts on.
#[derive(Deserialize)]
struct RawHost {
    name: String,
    vmknics: Vec<Located<Vmknic>>,
}

/// Host names seen so far: a host listed twice is an error (names compared without letter case,
/// as a label's host is found).
#[derive(Default)]
struct HostCheck {
    /// Lowercase name → the line of its entry, when read from a file.
    seen: FxHashMap<Box<str>, Option<usize>>,
}

impl HostCheck {
    /// Checks the host at `index` of `hosts`, starting on `line`.
    fn host(
        &mut self,
        index: usize,
        name: &str,
        line: Option<usize>,
    ) -> Result<(), InvalidInventory> {
        use std::collections::hash_map::Entry;
        if name.is_empty() {
            return Err(InvalidInventory::EmptyHostName { index });
        }
        match self.seen.entry(name.to_ascii_lowercase().into_boxed_str()) {
            Entry::Occupied(first) => Err(InvalidInventory::DuplicateHost {
                host: name.to_string(),
                first_line: *first.get(),
            }),
            Entry::Vacant(e) => {
                e.insert(line);
                Ok(())
            }
        }
    }
}

/// A vmknic's addresses (with prefix lengths) and MAC, parsed.
type Parsed = (Vec<(IpAddr, u8)>, Option<Mac>);

/// A vmknic's addresses and MAC, parsed and checked with its name and VLAN; the error names the
/// host and the vmknic.
fn parse_vmknic(host: &str, v: &Vmknic) -> Result<Parsed, InvalidInventory> {
    if v.name.is_empty() {
        return Err(InvalidInventory::EmptyVmknicName {
            host: host.to_string(),
        });
    }
    let mut addrs = Vec::with_capacity(v.ip.len());
    for a in &v.ip {
        addrs.push(strict_cidr(a).ok_or_else(|| InvalidInventory::Address {
            host: host.to_string(),
            vmknic: v.name.clone(),
            address: a.clone(),
        })?);
    }
    if let Some(vlan) = v.vlan.filter(|&id| id > 4094) {
        return Err(InvalidInventory::Vlan {
            host: host.to_string(),
            vmknic: v.name.clone(),
            vlan,
        });
    }
    let mac = match &v.mac {
        Some(m) => Some(m.parse::<Mac>().map_err(|source| InvalidInventory::Mac {
            host: host.to_string(),
            vmknic: v.name.clone(),
            source,
        })?),
        None => None,
    };
    Ok((addrs, mac))
}

/// The vmk a vmknic of `host` describes, checked.
fn vmk(host: &str, v: Vmknic) -> Result<Vmk, InvalidInventory> {
    let (addrs, mac) = parse_vmknic(host, &v)?;
    Ok(Vmk {
        host: host.to_string(),
        name: v.name,
        addrs,
        vlan: v.vlan,
        mac,
        speed_mbps: v.speed_mbps,
        services: v.services,
        unknown_services: v.unknown_services,
        mtu: v.mtu,
    })
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
                speed_mbps: v.speed_mbps,
                services: v.services.clone(),
                unknown_services: v.unknown_services.clone(),
                mtu: v.mtu,
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
    /// [`is_powercli_csv`]), else inventory JSON. The source records the form and the path; the
    /// notes say what the reader of a report should know (service columns an export lacks, an
    /// address on several vmks that no VLAN tells apart). JSON is read as it is parsed, into the
    /// vmks alone: memory grows with the vmks kept, not with a copy of the file's form.
    pub fn load(path: &Path) -> Result<VmkInventory, InventoryError> {
        let name = path.display().to_string();
        let (vmks, lines, source, mut notes) = if is_powercli_csv(path) {
            let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let text = String::from_utf8(bytes).map_err(|e| InventoryError::NotUtf8 {
                path: path.to_path_buf(),
                source: e.utf8_error(),
            })?;
            let export =
                powercli::parse_export(&text).map_err(|source| InventoryError::PowerCli {
                    path: path.to_path_buf(),
                    source,
                })?;
            let mut notes = Vec::new();
            let missing = export.missing_services;
            if !missing.is_empty() {
                notes.push(format!(
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
            notes.extend(export.respelled_hosts.iter().map(|(line, given, used, first)| {
                format!(
                    "{name}: line {line}: host `{given}` differs from `{used}` (line {first}) only \
                     in letter case: taken as `{used}`"
                )
            }));
            let source = InventorySource::PowerCliCsv(name.clone());
            (export.vmks, export.lines, source, notes)
        } else {
            let mut vmks = Vec::new();
            let mut lines = Vec::new();
            let mut check = HostCheck::default();
            read_hosts(path, |index, Located { line, value: host }| {
                check
                    .host(index, &host.name, Some(line))
                    .map_err(|e| (e, line))?;
                for v in host.vmknics {
                    vmks.push(vmk(&host.name, v.value).map_err(|e| (e, v.line))?);
                    lines.push(v.line);
                }
                Ok(())
            })?;
            (vmks, lines, InventorySource::File(name.clone()), Vec::new())
        };
        notes.extend(shared_address_notes(&name, &vmks, &lines));
        drop(lines);
        let mut vmks = vmks;
        vmks.shrink_to_fit();
        let mut inv = VmkInventory::new(vmks, source);
        inv.notes = notes;
        Ok(inv)
    }
}

/// Most addresses on several vmks that are named one by one in the notes; the rest are counted.
const SHARED_ADDRESSES_NAMED: usize = 5;

/// Most vmks named for one shared address.
const VMKS_NAMED: usize = 4;

/// Notes on addresses that several vmks hold and no VLAN tells apart (the same VLAN, or one of
/// them without): a frame of such an address is counted on the first of them by host and name.
/// vmks on different VLANs may share an address (hosts on separate networks); those are not
/// said. `lines[i]` is the line of `vmks[i]` in `file`.
fn shared_address_notes(file: &str, vmks: &[Vmk], lines: &[usize]) -> Vec<String> {
    let mut by_addr: Vec<(IpAddr, Option<u16>, u32)> = vmks
        .iter()
        .enumerate()
        .flat_map(|(i, v)| v.addrs.iter().map(move |(a, _)| (*a, v.vlan, i as u32)))
        .collect();
    by_addr.sort_unstable();
    // One vmk listing an address twice (e.g. with two prefixes) shares it with nobody.
    by_addr.dedup();
    let mut notes = Vec::new();
    let mut unnamed = 0usize;
    for run in by_addr.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        // Sorted by VLAN, `None` first: without a VLAN, a vmk is told apart from none.
        let untagged = run.iter().any(|(_, vlan, _)| vlan.is_none());
        let ambiguous: Vec<usize> = run
            .chunk_by(|a, b| a.1 == b.1)
            .filter(|same_vlan| untagged || same_vlan.len() > 1)
            .flatten()
            .map(|(_, _, i)| *i as usize)
            .collect();
        if ambiguous.len() < 2 {
            continue;
        }
        if notes.len() == SHARED_ADDRESSES_NAMED {
            unnamed += 1;
            continue;
        }
        let first = ambiguous
            .iter()
            .copied()
            .min_by(|&a, &b| (&vmks[a].host, &vmks[a].name).cmp(&(&vmks[b].host, &vmks[b].name)))
            .unwrap_or(ambiguous[0]);
        let mut named: Vec<String> = ambiguous
            .iter()
            .take(VMKS_NAMED)
            .map(|&i| format!("{} {} (line {})", vmks[i].host, vmks[i].name, lines[i]))
            .collect();
        if ambiguous.len() > VMKS_NAMED {
            named.push(format!("{} more", ambiguous.len() - VMKS_NAMED));
        }
        let last = named.pop().unwrap_or_default();
        notes.push(format!(
            "{file}: address {} is on {} and {last}, which no VLAN tells apart: its frames are \
             counted on {} {}, the first by host and name",
            run[0].0,
            named.join(", "),
            vmks[first].host,
            vmks[first].name
        ));
    }
    if unnamed > 0 {
        notes.push(format!(
            "{file}: {unnamed} more address{} on several vmks that no VLAN tells apart, each \
             counted on the first by host and name",
            if unnamed == 1 { " is" } else { "es are" }
        ));
    }
    notes
}

/// Reads an inventory JSON file as it is parsed, handing each host to `each` with its index in
/// `hosts` and the line it starts on; an error `each` returns (what is wrong, on which line)
/// ends the reading. Only the host being read is held.
fn read_hosts(
    path: &Path,
    each: impl FnMut(usize, Located<RawHost>) -> Result<(), (InvalidInventory, usize)>,
) -> Result<(), InventoryError> {
    let file = File::open(path).map_err(|source| InventoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut failed = None;
    let read = json_lines::from_reader_seed(
        file,
        DocSeed {
            each,
            failed: &mut failed,
        },
    );
    match (read, failed) {
        (_, Some((source, line))) => Err(InventoryError::Invalid {
            path: path.to_path_buf(),
            line: Some(line),
            source,
        }),
        (Ok(()), None) => Ok(()),
        // A read error (e.g. the path is a directory) is no fault of the JSON.
        (Err(source), None) if source.is_io() => Err(InventoryError::Io {
            path: path.to_path_buf(),
            source: source.into(),
        }),
        (Err(source), None) => Err(InventoryError::Json {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// What is wrong with an entry, and the line it starts on.
type Failed = Option<(InvalidInventory, usize)>;

/// The inventory document, `{"hosts": [...]}` (other keys ignored), its hosts handed to `each`.
struct DocSeed<'a, F> {
    each: F,
    failed: &'a mut Failed,
}

impl<'de, F> DeserializeSeed<'de> for DocSeed<'_, F>
where
    F: FnMut(usize, Located<RawHost>) -> Result<(), (InvalidInventory, usize)>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for DocSeed<'_, F>
where
    F: FnMut(usize, Located<RawHost>) -> Result<(), (InvalidInventory, usize)>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an inventory object with `hosts`")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut hosts = false;
        while let Some(key) = map.next_key::<String>()? {
            if key != "hosts" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if hosts {
                return Err(de::Error::duplicate_field("hosts"));
            }
            hosts = true;
            map.next_value_seed(HostsSeed {
                each: &mut self.each,
                failed: &mut *self.failed,
            })?;
        }
        match hosts {
            true => Ok(()),
            false => Err(de::Error::missing_field("hosts")),
        }
    }
}

/// The `hosts` array, each element handed to `each` as it is read.
struct HostsSeed<'a, F> {
    each: &'a mut F,
    failed: &'a mut Failed,
}

impl<'de, F> DeserializeSeed<'de> for HostsSeed<'_, F>
where
    F: FnMut(usize, Located<RawHost>) -> Result<(), (InvalidInventory, usize)>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for HostsSeed<'_, F>
where
    F: FnMut(usize, Located<RawHost>) -> Result<(), (InvalidInventory, usize)>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of hosts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(host) = seq.next_element::<Located<RawHost>>()? {
            if let Err(e) = (self.each)(index, host) {
                *self.failed = Some(e);
                return Err(de::Error::custom("invalid inventory entry"));
            }
            index += 1;
        }
        Ok(())
    }
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
                 "speed_mbps":25000,"mtu":9000,
                 "services":["vmotion","vsphere_replication_nfc"]},
                {"name":"vmk3","ip":"10.0.40.11/24"}]}]}"#,
        )
        .unwrap();
        assert!(inv.validate().is_ok());
        let v = &inv.hosts[0].vmknics;
        assert_eq!(v[1].ip.len(), 2);
        assert!(v[2].services.is_empty());
        assert_eq!((v[1].speed_mbps, v[1].mtu), (Some(25_000), Some(9_000)));
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

    /// `(host, [(vmk, ip, vlan)])`.
    type Hosts<'a> = &'a [(&'a str, &'a [(&'a str, &'a str, Option<u16>)])];

    /// A pretty inventory file, one host per entry.
    fn write(dir: &Path, name: &str, hosts: Hosts<'_>) -> PathBuf {
        let inv = Inventory {
            hosts: hosts
                .iter()
                .map(|(h, vmks)| Host {
                    name: h.to_string(),
                    vmknics: vmks
                        .iter()
                        .map(|(n, ip, vlan)| Vmknic {
                            name: n.to_string(),
                            ip: vec![ip.to_string()],
                            vlan: *vlan,
                            mac: None,
                            speed_mbps: None,
                            services: Vec::new(),
                            unknown_services: Vec::new(),
                            mtu: None,
                        })
                        .collect(),
                })
                .collect(),
        };
        let p = dir.join(name);
        inv.save(&p).unwrap();
        p
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vmkflow-inv-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn errors_name_the_line_of_the_entry() {
        let dir = temp_dir("lines");
        // Lines: 1 `{`, 2 `"hosts": [`, 3 `{` of esx01, 4 its name, 5 `"vmknics": [`, 6 `{` of
        // vmk0, …: an entry's line is that of its `{`.
        let p = write(
            &dir,
            "dup.json",
            &[
                ("esx01", &[("vmk0", "10.0.10.11/24", None)]),
                ("Esx01", &[("vmk1", "10.0.20.11/24", None)]),
            ],
        );
        let text = std::fs::read_to_string(&p).unwrap();
        // The line before the name (counted from 1).
        let second = text.lines().position(|l| l.contains("Esx01")).unwrap();
        for e in [
            VmkInventory::load(&p).unwrap_err(),
            Inventory::load(&p).unwrap_err(),
        ] {
            assert_eq!(
                e.to_string(),
                format!(
                    "{}: line {second}: host `Esx01` is listed twice (first on line 3)",
                    p.display()
                )
            );
        }
        let p = write(
            &dir,
            "addr.json",
            &[(
                "esx01",
                &[
                    ("vmk0", "10.0.10.11/24", None),
                    ("vmk1", "10.0.20.1/33", None),
                ],
            )],
        );
        let e = VmkInventory::load(&p).unwrap_err();
        assert!(
            matches!(e, InventoryError::Invalid { line: Some(11), .. }),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains(": line 11: host esx01 vmk1: `10.0.20.1/33`"),
            "{e}"
        );
        // In memory there are no lines.
        let inv = Inventory {
            hosts: vec![
                Host {
                    name: "a".into(),
                    vmknics: vec![],
                },
                Host {
                    name: "A".into(),
                    vmknics: vec![],
                },
            ],
        };
        assert_eq!(
            inv.validate().unwrap_err().to_string(),
            "host `A` is listed twice"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn addresses_no_vlan_tells_apart_are_noted() {
        let dir = temp_dir("shared");
        let p = write(
            &dir,
            "shared.json",
            &[
                (
                    "esx02",
                    &[
                        ("vmk0", "10.0.10.1/24", Some(10)),
                        ("vmk1", "10.0.20.1/24", None),
                        ("vmk2", "10.0.30.1/24", Some(30)),
                    ],
                ),
                (
                    "esx01",
                    &[
                        // Another VLAN: a separate network, no note.
                        ("vmk0", "10.0.10.1/24", Some(11)),
                        // The same address without VLAN: ambiguous.
                        ("vmk1", "10.0.20.1/24", Some(20)),
                        // The same VLAN: ambiguous.
                        ("vmk2", "10.0.30.1/24", Some(30)),
                    ],
                ),
            ],
        );
        let inv = VmkInventory::load(&p).unwrap();
        let name = p.display();
        assert_eq!(
            inv.notes,
            [
                format!(
                    "{name}: address 10.0.20.1 is on esx02 vmk1 (line 12) and esx01 vmk1 (line \
                     34), which no VLAN tells apart: its frames are counted on esx01 vmk1, the \
                     first by host and name"
                ),
                format!(
                    "{name}: address 10.0.30.1 is on esx02 vmk2 (line 17) and esx01 vmk2 (line \
                     40), which no VLAN tells apart: its frames are counted on esx01 vmk2, the \
                     first by host and name"
                ),
            ]
        );
        let first = inv.lookup("10.0.30.1".parse().unwrap(), Some(30)).unwrap();
        assert_eq!(
            (inv.vmks[first].host.as_str(), inv.vmks[first].name.as_str()),
            ("esx01", "vmk2")
        );
        // Many: five named, the rest counted; many vmks on one address: four named.
        let vmks: Vec<Vmk> = (0..40)
            .map(|i| Vmk {
                host: format!("h{i:02}"),
                name: "vmk0".into(),
                addrs: vec![(format!("10.0.0.{}", i % 8).parse().unwrap(), 24)],
                vlan: None,
                mac: None,
                speed_mbps: None,
                services: Vec::new(),
                unknown_services: Vec::new(),
                mtu: None,
            })
            .collect();
        let lines: Vec<usize> = (1..=40).collect();
        let notes = shared_address_notes("f", &vmks, &lines);
        assert_eq!(notes.len(), 6, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "f: address 10.0.0.0 is on h00 vmk0 (line 1), h08 vmk0 (line 9), h16 vmk0 \
                 (line 17), h24 vmk0 (line 25) and 1 more, which"
            ),
            "{}",
            notes[0]
        );
        assert_eq!(
            notes[5],
            "f: 3 more addresses are on several vmks that no VLAN tells apart, each counted on \
             the first by host and name"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
