//! Inventory from a PowerCLI CSV export:
//! `Get-VMHostNetworkAdapter -VMKernel | Export-Csv vmks.csv -NoTypeInformation`.
//!
//! In: the CSV text. Out: [`Vmk`]s. Columns are found by name in the header (case-insensitive,
//! any order; a leading `#TYPE` line from Windows PowerShell is skipped):
//! `VMHost` (host), `Name` or `DeviceName` (vmk), `IP`, `SubnetMask`, `Mac`, and the service
//! flags of PowerCLI's VMkernel adapter object, `True`/`False`: `ManagementTrafficEnabled`,
//! `VMotionEnabled`, `FaultToleranceLoggingEnabled`, `VsanTrafficEnabled`, and where a PowerCLI
//! version exports them `VSphereProvisioningEnabled` (or `ProvisioningEnabled`),
//! `VSphereReplicationEnabled`, `VSphereReplicationNFCEnabled`, `VSphereBackupNFCEnabled`.
//! VLANs are not in this export (they belong to the port group); the VLAN stays unknown.

use std::fmt;
use std::net::AddrParseError;

use super::{Service, Vmk};
use crate::vocab::Mac;
use crate::vocab::mac::BadMac;

/// What is wrong with an export; a bad value names its line (1-based, counting every line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerCliError {
    /// The text has no header line.
    NoHeader,
    /// A column the inventory needs is not in the header.
    MissingColumn {
        /// The column, as the message names it (`VMHost`, `Name or DeviceName`, `IP`).
        column: &'static str,
    },
    /// A line without host or vmk name.
    EmptyHostOrName {
        /// The line.
        line: usize,
    },
    /// An IP that is not an address.
    Ip {
        /// The line.
        line: usize,
        /// The value.
        ip: String,
        /// Why it does not parse.
        source: AddrParseError,
    },
    /// A subnet mask that is not a contiguous dotted IPv4 mask.
    SubnetMask {
        /// The line.
        line: usize,
        /// The value.
        mask: String,
    },
    /// A MAC that does not parse.
    Mac {
        /// The line.
        line: usize,
        /// The value.
        source: BadMac,
    },
}

impl fmt::Display for PowerCliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PowerCliError::NoHeader => write!(f, "no header line"),
            PowerCliError::MissingColumn { column } => write!(f, "no {column} column"),
            PowerCliError::EmptyHostOrName { line } => {
                write!(f, "line {line}: empty VMHost or Name")
            }
            PowerCliError::Ip { line, ip, .. } => {
                write!(f, "line {line}: IP `{ip}` is not an address")
            }
            PowerCliError::SubnetMask { line, mask } => {
                write!(f, "line {line}: SubnetMask `{mask}` is not a mask")
            }
            PowerCliError::Mac { line, source } => {
                write!(f, "line {line}: Mac `{}` is not a MAC", source.0)
            }
        }
    }
}

impl std::error::Error for PowerCliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PowerCliError::Ip { source, .. } => Some(source),
            PowerCliError::Mac { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Prefix length of a dotted IPv4 mask (`255.255.255.0` → 24), when it is contiguous.
fn mask_prefix(mask: &str) -> Option<u8> {
    let m: std::net::Ipv4Addr = mask.trim().parse().ok()?;
    let bits = u32::from(m);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// The service flag columns and the service each enables.
const FLAGS: &[(&str, Service)] = &[
    ("managementtrafficenabled", Service::Management),
    ("vmotionenabled", Service::Vmotion),
    ("vsphereprovisioningenabled", Service::Provisioning),
    ("provisioningenabled", Service::Provisioning),
    ("faulttoleranceloggingenabled", Service::Ft),
    ("vspherereplicationenabled", Service::VsphereReplication),
    (
        "vspherereplicationnfcenabled",
        Service::VsphereReplicationNfc,
    ),
    ("vsantrafficenabled", Service::Vsan),
    ("vspherebackupnfcenabled", Service::BackupNfc),
];

/// Parses the export; the error names the line and what is missing or wrong.
pub fn parse(text: &str) -> Result<Vec<Vmk>, PowerCliError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with("#TYPE"));
    let (_, header) = lines.next().ok_or(PowerCliError::NoHeader)?;
    let cols: Vec<String> = fields(header)
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| cols.iter().position(|c| c == name);
    let missing = |column| PowerCliError::MissingColumn { column };
    let host_c = col("vmhost").ok_or(missing("VMHost"))?;
    let name_c = col("name")
        .or_else(|| col("devicename"))
        .ok_or(missing("Name or DeviceName"))?;
    let ip_c = col("ip").ok_or(missing("IP"))?;
    let mask_c = col("subnetmask");
    let mac_c = col("mac");
    let flag_cols: Vec<(usize, Service)> = FLAGS
        .iter()
        .filter_map(|(n, s)| col(n).map(|i| (i, *s)))
        .collect();
    let unknown_services: Vec<Service> = missing_services(&cols)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let mut vmks = Vec::new();
    for (lineno, line) in lines {
        let f = fields(line);
        let get = |i: usize| f.get(i).map(|s| s.trim()).unwrap_or("");
        let host = get(host_c);
        let name = get(name_c);
        if host.is_empty() || name.is_empty() {
            return Err(PowerCliError::EmptyHostOrName { line: lineno });
        }
        let ip = get(ip_c);
        let mut addrs = Vec::new();
        if !ip.is_empty() {
            let addr = ip.parse().map_err(|source| PowerCliError::Ip {
                line: lineno,
                ip: ip.into(),
                source,
            })?;
            let prefix = match mask_c.map(get).filter(|m| !m.is_empty()) {
                Some(m) => mask_prefix(m).ok_or_else(|| PowerCliError::SubnetMask {
                    line: lineno,
                    mask: m.into(),
                })?,
                None => 32,
            };
            addrs.push((addr, prefix));
        }
        let mac = match mac_c.map(get).filter(|m| !m.is_empty()) {
            Some(m) => Some(m.parse::<Mac>().map_err(|source| PowerCliError::Mac {
                line: lineno,
                source,
            })?),
            None => None,
        };
        let mut services: Vec<Service> = flag_cols
            .iter()
            .filter(|(i, _)| get(*i).eq_ignore_ascii_case("true"))
            .map(|(_, s)| *s)
            .collect();
        services.sort();
        services.dedup();
        vmks.push(Vmk {
            host: host.to_string(),
            name: name.to_string(),
            addrs,
            vlan: None,
            mac,
            services,
            unknown_services: unknown_services.clone(),
        });
    }
    Ok(vmks)
}

/// Service flag columns an export lacks, as PowerCLI names them, with their service; one entry
/// per service (the provisioning service has two possible column names).
fn missing_services(cols: &[String]) -> Vec<(&'static str, Service)> {
    let mut out: Vec<(&'static str, Service)> = Vec::new();
    for (name, service) in FLAGS {
        let present = FLAGS
            .iter()
            .filter(|(_, s)| s == service)
            .any(|(n, _)| cols.iter().any(|c| c == n));
        if !present && !out.iter().any(|(_, s)| s == service) {
            out.push((column_name(name), *service));
        }
    }
    out
}

/// The column name as PowerCLI writes it.
fn column_name(lower: &str) -> &'static str {
    COLUMN_NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(lower))
        .copied()
        .unwrap_or("a service flag")
}

/// The service flag columns as PowerCLI writes them.
const COLUMN_NAMES: &[&str] = &[
    "ManagementTrafficEnabled",
    "VMotionEnabled",
    "VSphereProvisioningEnabled",
    "ProvisioningEnabled",
    "FaultToleranceLoggingEnabled",
    "VSphereReplicationEnabled",
    "VSphereReplicationNFCEnabled",
    "VsanTrafficEnabled",
    "VSphereBackupNFCEnabled",
];

/// The service flag columns an export's header lacks, with the service each would have said.
pub fn missing_service_columns(text: &str) -> Vec<(&'static str, Service)> {
    let header = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .find(|l| !l.trim().is_empty() && !l.starts_with("#TYPE"));
    let cols: Vec<String> = header
        .map(fields)
        .unwrap_or_default()
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    missing_services(&cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_with_type_line_quotes_and_flags() {
        let csv = "#TYPE VMware.VimAutomation.ViCore.Impl.V1.Host.Networking.Nic.HostVMKernelVirtualNicImpl\n\
\"VMotionEnabled\",\"FaultToleranceLoggingEnabled\",\"ManagementTrafficEnabled\",\"IP\",\"SubnetMask\",\"Mac\",\"PortGroupName\",\"VMHost\",\"Name\"\n\
\"False\",\"False\",\"True\",\"10.0.10.11\",\"255.255.255.0\",\"00:50:56:61:00:00\",\"Management Network\",\"esx01.lab\",\"vmk0\"\n\
\"True\",\"False\",\"False\",\"10.0.20.11\",\"255.255.255.0\",\"00:50:56:61:00:01\",\"vMotion, \"\"fast\"\"\",\"esx01.lab\",\"vmk1\"\n\
\"False\",\"False\",\"False\",\"10.0.40.11\",\"255.255.0.0\",\"\",\"NFS\",\"esx01.lab\",\"vmk3\"\n";
        let v = parse(csv).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].host, "esx01.lab");
        assert_eq!(v[0].name, "vmk0");
        assert_eq!(v[0].services, vec![Service::Management]);
        assert_eq!(v[0].addrs, vec![("10.0.10.11".parse().unwrap(), 24)]);
        assert_eq!(v[1].services, vec![Service::Vmotion]);
        assert_eq!(v[1].mac, Some(Mac([0, 0x50, 0x56, 0x61, 0, 1])));
        assert_eq!(v[2].services, vec![]);
        assert_eq!(v[2].addrs[0].1, 16);
        assert_eq!(v[2].mac, None);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("").unwrap_err(), PowerCliError::NoHeader);
        assert_eq!(parse("").unwrap_err().to_string(), "no header line");
        assert_eq!(
            parse("Name,IP\nvmk0,1.2.3.4").unwrap_err().to_string(),
            "no VMHost column"
        );
        let e = parse("VMHost,Name,IP,SubnetMask\nh,vmk0,1.2.3.4,255.0.255.0")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2:") && e.contains("SubnetMask"), "{e}");
        let e = parse("VMHost,Name,IP\nh,vmk0,1.2.3.999").unwrap_err();
        assert!(matches!(e, PowerCliError::Ip { line: 2, .. }), "{e}");
        assert!(e.to_string().contains("1.2.3.999"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        let e = parse("VMHost,Name,IP,Mac\nh,vmk0,,00:50").unwrap_err();
        assert_eq!(e.to_string(), "line 2: Mac `00:50` is not a MAC");
    }
}
