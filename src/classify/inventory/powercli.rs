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
//!
//! The text is CSV as RFC 4180 has it (what `Export-Csv` writes): fields separated by commas,
//! rows by line breaks, a field in double quotes may hold commas, line breaks and doubled quotes
//! (`""`); a quote inside a field that does not start with one is a character of it. What cannot
//! be read as such is an error naming its line, never a guess: a quote that never closes, text
//! after a field's closing quote, a row with another number of fields than the header (where a
//! quoted field runs over several lines, the line where it opens). So is a vmk without an
//! address, as inventory JSON requires `ip`.

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
    /// A vmk row whose `IP` is empty.
    NoAddress {
        /// The line.
        line: usize,
        /// The host.
        host: String,
        /// The vmk.
        vmk: String,
    },
    /// A quoted field that runs to the end of the text.
    UnclosedQuote {
        /// The line where its quote opens.
        line: usize,
    },
    /// Text after the closing quote of a field (`"vmk1,"10.0.0.1"`: the quote that was meant to
    /// close the field is missing, and the next field's opening quote closed it).
    TextAfterQuote {
        /// The line where the field's quote opens.
        line: usize,
        /// The line where the text follows the closing quote.
        closed: usize,
        /// The text that follows, abridged.
        text: String,
    },
    /// A row with another number of fields than the header.
    FieldCount {
        /// The line where the row starts.
        line: usize,
        /// Its fields.
        fields: usize,
        /// The header's.
        header: usize,
        /// Where a quoted field of the row opens and closes on different lines: a quote left
        /// open that swallowed the line breaks of the rows after it.
        spans: Option<(usize, usize)>,
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
            PowerCliError::NoAddress { line, host, vmk } => write!(
                f,
                "line {line}: {host} {vmk} has no IP: every vmk needs an address (remove the row \
                 of a vmk without one)"
            ),
            PowerCliError::UnclosedQuote { line } => write!(
                f,
                "line {line}: a quoted field opens here and never closes (an unbalanced quote)"
            ),
            PowerCliError::TextAfterQuote { line, closed, text } => {
                write!(f, "line {line}: a quoted field opens here and closes ")?;
                if closed != line {
                    write!(f, "on line {closed} ")?;
                }
                write!(
                    f,
                    "before `{text}`: an unbalanced quote (a field's closing quote missing, or a \
                     quote inside it not doubled)"
                )
            }
            PowerCliError::FieldCount {
                line,
                fields,
                header,
                spans: None,
            } => write!(
                f,
                "line {line}: {fields} fields where the header has {header}"
            ),
            PowerCliError::FieldCount {
                fields,
                header,
                spans: Some((opened, closed)),
                ..
            } => write!(
                f,
                "line {opened}: a quoted field opens here and closes on line {closed}, leaving \
                 {fields} fields where the header has {header}: an unbalanced quote"
            ),
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

/// One CSV row: its fields, the line where it starts, and where a quoted field of it ran over
/// several lines.
pub(crate) struct Record {
    pub(crate) line: usize,
    pub(crate) fields: Vec<String>,
    /// The first quoted field that opens and closes on different lines: (opens, closes).
    pub(crate) spans: Option<(usize, usize)>,
}

/// The rows of a CSV text (RFC 4180): blank lines and a `#TYPE` line are skipped; lines are
/// counted from 1, every line break counted, inside quotes too.
pub(crate) struct Records<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Records<'a> {
    pub(crate) fn new(text: &'a str) -> Records<'a> {
        Records {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            line: 1,
        }
    }

    /// Reads one field, quoted or not, up to (not past) the comma or line break after it.
    fn field(&mut self, spans: &mut Option<(usize, usize)>) -> Result<String, PowerCliError> {
        let Some(quoted) = self.rest.strip_prefix('"') else {
            let end = self.rest.find([',', '\n']).unwrap_or(self.rest.len());
            let (field, rest) = self.rest.split_at(end);
            self.rest = rest;
            return Ok(field.strip_suffix('\r').unwrap_or(field).to_string());
        };
        let opened = self.line;
        let mut field = String::new();
        let mut rest = quoted;
        loop {
            let Some(q) = rest.find('"') else {
                return Err(PowerCliError::UnclosedQuote { line: opened });
            };
            let (text, after) = rest.split_at(q);
            self.line += text.matches('\n').count();
            field.push_str(text);
            match after[1..].strip_prefix('"') {
                Some(more) => {
                    field.push('"');
                    rest = more;
                }
                None => {
                    rest = &after[1..];
                    break;
                }
            }
        }
        if !(rest.is_empty() || rest.starts_with([',', '\n']) || rest.starts_with("\r\n")) {
            let text: String = rest.chars().take_while(|c| *c != '\n').take(20).collect();
            return Err(PowerCliError::TextAfterQuote {
                line: opened,
                closed: self.line,
                text,
            });
        }
        if self.line != opened && spans.is_none() {
            *spans = Some((opened, self.line));
        }
        self.rest = rest;
        Ok(field)
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, PowerCliError>;

    fn next(&mut self) -> Option<Result<Record, PowerCliError>> {
        // Blank lines and PowerShell's `#TYPE` line are no rows.
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
            let first = &self.rest[..end];
            if !(first.trim().is_empty() || first.starts_with("#TYPE")) {
                break;
            }
            self.rest = &self.rest[end..];
            self.line += 1;
        }
        let line = self.line;
        let mut fields = Vec::new();
        let mut spans = None;
        loop {
            match self.field(&mut spans) {
                Ok(f) => fields.push(f),
                Err(e) => {
                    self.rest = "";
                    return Some(Err(e));
                }
            }
            if let Some(rest) = self.rest.strip_prefix(',') {
                self.rest = rest;
                continue;
            }
            if let Some(rest) = self.rest.strip_prefix('\n') {
                self.rest = rest;
                self.line += 1;
            } else if let Some(rest) = self.rest.strip_prefix("\r\n") {
                self.rest = rest;
                self.line += 1;
            }
            break;
        }
        Some(Ok(Record {
            line,
            fields,
            spans,
        }))
    }
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

/// An export, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its vmks, in the order of its rows.
    pub vmks: Vec<Vmk>,
    /// The line of each vmk's row.
    pub lines: Vec<usize>,
    /// The service flag columns it lacks, with the service each would have said.
    pub missing_services: Vec<(&'static str, Service)>,
    /// Host names that differ from an earlier row's only in letter case, taken as that host
    /// (host names are DNS names): (line, the name as written, the name used, its first line).
    pub respelled_hosts: Vec<(usize, String, String, usize)>,
}

/// Parses the export; the error names the line and what is missing or wrong.
pub fn parse(text: &str) -> Result<Vec<Vmk>, PowerCliError> {
    parse_export(text).map(|e| e.vmks)
}

/// Parses the export, keeping each vmk's line; the error names the line and what is missing or
/// wrong.
pub fn parse_export(text: &str) -> Result<Export, PowerCliError> {
    let mut records = Records::new(text);
    let header = records.next().ok_or(PowerCliError::NoHeader)??;
    let cols: Vec<String> = header
        .fields
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
    let missing_services = missing_services(&cols);
    let unknown_services: Vec<Service> = missing_services.iter().map(|(_, s)| *s).collect();
    let mut vmks = Vec::new();
    let mut lines = Vec::new();
    // Each host's first spelling and line, by its name in lower case.
    let mut spelling: std::collections::HashMap<String, (String, usize)> =
        std::collections::HashMap::new();
    let mut respelled_hosts = Vec::new();
    for record in records {
        let Record {
            line: lineno,
            fields: f,
            spans,
        } = record?;
        if f.len() != cols.len() {
            return Err(PowerCliError::FieldCount {
                line: lineno,
                fields: f.len(),
                header: cols.len(),
                spans,
            });
        }
        let get = |i: usize| f.get(i).map(|s| s.trim()).unwrap_or("");
        let host = get(host_c);
        let name = get(name_c);
        if host.is_empty() || name.is_empty() {
            return Err(PowerCliError::EmptyHostOrName { line: lineno });
        }
        let ip = get(ip_c);
        if ip.is_empty() {
            return Err(PowerCliError::NoAddress {
                line: lineno,
                host: host.into(),
                vmk: name.into(),
            });
        }
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
        let (first, first_line) = spelling
            .entry(host.to_lowercase())
            .or_insert_with(|| (host.to_string(), lineno))
            .clone();
        if first != host {
            respelled_hosts.push((lineno, host.to_string(), first.clone(), first_line));
        }
        vmks.push(Vmk {
            host: first,
            name: name.to_string(),
            addrs: vec![(addr, prefix)],
            vlan: None,
            mac,
            speed_mbps: None,
            services,
            unknown_services: unknown_services.clone(),
            mtu: None,
        });
        lines.push(lineno);
    }
    Ok(Export {
        vmks,
        lines,
        missing_services,
        respelled_hosts,
    })
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

/// The service flag columns an export's header lacks, with the service each would have said
/// (none when the text has no header that reads).
pub fn missing_service_columns(text: &str) -> Vec<(&'static str, Service)> {
    let cols: Vec<String> = match Records::new(text).next() {
        Some(Ok(header)) => header
            .fields
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect(),
        _ => Vec::new(),
    };
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
        let e = parse("VMHost,Name,IP,Mac\nh,vmk0,1.2.3.4,00:50").unwrap_err();
        assert_eq!(e.to_string(), "line 2: Mac `00:50` is not a MAC");
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_breaks() {
        let csv = "\u{feff}VMHost,Name,PortGroupName,IP\r\n\
                   esx01,vmk1,\"vMotion, \"\"fast\"\"\r\nsecond line\",10.0.20.11\r\n\
                   \r\n\
                   esx01,\"vmk2\",\"\",10.0.30.11\r\n\
                   esx01,vmk3,a\"b,10.0.40.11";
        let e = parse_export(csv).unwrap();
        assert_eq!(
            e.vmks.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            ["vmk1", "vmk2", "vmk3"]
        );
        // Every line break counts, the one inside quotes and the blank line too.
        assert_eq!(e.lines, [2, 5, 6]);
        let mut records = Records::new(csv);
        records.next();
        let r = records.next().unwrap().unwrap();
        assert_eq!(r.fields[2], "vMotion, \"fast\"\r\nsecond line");
        assert_eq!(r.spans, Some((2, 3)));
    }

    #[test]
    fn an_unbalanced_quote_is_an_error_where_it_opens() {
        let header = "VMHost,Name,IP\nesx01,vmk0,10.0.10.11\n";
        let e = |rows: &str| parse(&format!("{header}{rows}")).unwrap_err();
        // Never closed.
        assert_eq!(
            e("esx01,\"vmk1,10.0.20.11\nesx02,vmk1,10.0.20.12\n"),
            PowerCliError::UnclosedQuote { line: 3 }
        );
        // Closed by the next field's opening quote.
        let err = e("\"esx01\",\"vmk1,\"10.0.20.11\"\n");
        assert_eq!(
            err,
            PowerCliError::TextAfterQuote {
                line: 3,
                closed: 3,
                text: "10.0.20.11\"".into()
            }
        );
        assert!(err.to_string().starts_with("line 3: "), "{err}");
        // Closed on a later line by a stray quote, after swallowing its line break.
        let err = e("esx01,\"vmk1,10.0.20.11\nesx02\",vmk1,10.0.20.12\n");
        assert_eq!(
            err,
            PowerCliError::FieldCount {
                line: 3,
                fields: 4,
                header: 3,
                spans: Some((3, 4))
            }
        );
        assert_eq!(
            err.to_string(),
            "line 3: a quoted field opens here and closes on line 4, leaving 4 fields where the \
             header has 3: an unbalanced quote"
        );
        // Closed on a later line with text after it.
        let err = e("esx01,\"vmk1,10.0.20.11\n\"esx02\",vmk1,10.0.20.12\n");
        assert!(
            matches!(
                err,
                PowerCliError::TextAfterQuote {
                    line: 3,
                    closed: 4,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("closes on line 4 before `esx02"),
            "{err}"
        );
        // In the header too.
        assert_eq!(
            parse("VMHost,\"Name,IP\n").unwrap_err(),
            PowerCliError::UnclosedQuote { line: 1 }
        );
    }

    #[test]
    fn rows_need_every_column_and_an_address() {
        let e = parse("VMHost,Name,IP,Mac\nh,vmk0,1.2.3.4\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: 3 fields where the header has 4");
        let e = parse("VMHost,Name,IP,Mac\nh,vmk0,1.2.3.4,,\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: 5 fields where the header has 4");
        let e = parse("VMHost,Name,IP\n\nh,vmk0, \n").unwrap_err();
        assert_eq!(
            e,
            PowerCliError::NoAddress {
                line: 3,
                host: "h".into(),
                vmk: "vmk0".into()
            }
        );
    }

    #[test]
    fn host_names_differing_only_in_case_are_one_host() {
        let e = parse_export(
            "VMHost,Name,IP\nesx02,vmk0,10.0.0.2\nesx01,vmk0,10.0.0.1\nEsx02,vmk1,10.0.1.2\n",
        )
        .expect("export");
        let hosts: Vec<&str> = e.vmks.iter().map(|v| v.host.as_str()).collect();
        assert_eq!(hosts, ["esx02", "esx01", "esx02"]);
        assert_eq!(
            e.respelled_hosts,
            [(4, "Esx02".to_string(), "esx02".to_string(), 2)]
        );
    }
}
