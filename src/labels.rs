//! Ground-truth migration labels that travel beside a capture: which migration ran when.
//!
//! In: the JSON file `CAPTURE.migrations.json` (written by `vmkflow synth`, or by hand for a real
//! capture). Out: [`Migrations`], typed and checked; errors name the file and what is wrong.
//! Writing produces the same JSON, with timestamps as RFC 3339 strings with nanoseconds.
//!
//! The other file beside a capture, `CAPTURE.inventory.json`, belongs to the inventory:
//! [`crate::classify::inventory::file`].

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::vocab::kind::{BadKindState, KindState, MigrationKind, PowerState};
use crate::vocab::time::{parse_rfc3339, rfc3339};

/// What is wrong in a well-formed migrations file; each variant names the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidMigrations {
    /// A migration without id.
    EmptyId,
    /// Two migrations with one id.
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A window that ends before it starts.
    StartAfterEnd {
        /// The migration's id.
        id: String,
        /// Its start.
        start: Timestamp,
        /// Its end.
        end: Timestamp,
    },
}

impl fmt::Display for InvalidMigrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidMigrations::EmptyId => write!(f, "a migration has an empty id"),
            InvalidMigrations::DuplicateId { id } => {
                write!(f, "migration id `{id}` appears twice")
            }
            InvalidMigrations::StartAfterEnd { id, start, end } => write!(
                f,
                "migration {id}: start {} is after end {}",
                rfc3339(start.0),
                rfc3339(end.0)
            ),
        }
    }
}

impl std::error::Error for InvalidMigrations {}

/// An error reading or writing a migrations file; every variant names the file.
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
        /// What is wrong, naming the migration.
        source: InvalidMigrations,
    },
}

impl LabelError {
    /// Whether the file could not be opened, read or written (as opposed to read and found wrong).
    pub fn is_io(&self) -> bool {
        matches!(self, LabelError::Io { .. })
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            LabelError::Json { path, source } => write!(f, "{}: {source}", path.display()),
            LabelError::Invalid { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for LabelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LabelError::Io { source, .. } => Some(source),
            LabelError::Json { source, .. } => Some(source),
            LabelError::Invalid { source, .. } => Some(source),
        }
    }
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

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LabelError> {
    let file = File::open(path).map_err(|source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_reader(BufReader::new(file)).map_err(|source| match source.is_io() {
        // A read error (e.g. the path is a directory) is no fault of the JSON.
        true => LabelError::Io {
            path: path.to_path_buf(),
            source: source.into(),
        },
        false => LabelError::Json {
            path: path.to_path_buf(),
            source,
        },
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

impl Migrations {
    /// Reads and checks a migrations file (ids unique, `start <= end`).
    pub fn load(path: &Path) -> Result<Migrations, LabelError> {
        let m: Migrations = read_json(path)?;
        m.validate().map_err(|source| LabelError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(m)
    }

    /// Writes the migrations as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LabelError> {
        write_json(path, self)
    }

    /// Checks ids and time windows; the error names the migration.
    pub fn validate(&self) -> Result<(), InvalidMigrations> {
        let mut ids = std::collections::BTreeSet::new();
        for m in &self.migrations {
            if m.id.is_empty() {
                return Err(InvalidMigrations::EmptyId);
            }
            if !ids.insert(m.id.as_str()) {
                return Err(InvalidMigrations::DuplicateId { id: m.id.clone() });
            }
            if m.start > m.end {
                return Err(InvalidMigrations::StartAfterEnd {
                    id: m.id.clone(),
                    start: m.start,
                    end: m.end,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds() {
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
        let bad = serde_json::from_str::<Migrations>(
            r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"hot","start":"yesterday","end":0}]}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("yesterday"));
        let m: Migrations = serde_json::from_str(
            r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"hot","start":2,"end":1}]}"#,
        )
        .unwrap();
        let e = m.validate().unwrap_err();
        assert!(matches!(e, InvalidMigrations::StartAfterEnd { ref id, .. } if id == "m1"));
        assert!(e.to_string().starts_with("migration m1: start "), "{e}");
        let m: Migrations = serde_json::from_str(
            r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"hot","start":1,"end":1},
                {"id":"m1","kind":"vmotion","state":"cold","start":1,"end":2}]}"#,
        )
        .unwrap();
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "migration id `m1` appears twice"
        );
    }

    #[test]
    fn load_tells_io_from_content() {
        let e = Migrations::load(Path::new("/nonexistent/x.migrations.json")).unwrap_err();
        assert!(e.is_io(), "{e}");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/x.migrations.json: "),
            "{e}"
        );
    }
}

/// `--scenario KIND:STATE[:memory=MIB][:disk=MIB][:vsphere=X.Y]`: one migration over the whole
/// capture, with the sizes and version a label would give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Kind and state.
    pub kind_state: KindState,
    /// The VM's memory in MiB (volume claims compare with it).
    pub memory_mb: Option<u64>,
    /// The VM's disks in MiB.
    pub disk_mb: Option<u64>,
    /// The vSphere version (claims with version conditions read it).
    pub vsphere_version: Option<String>,
}

/// A `--scenario` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadScenario {
    /// The `KIND:STATE` part.
    KindState(BadKindState),
    /// A `key=value` part with an unknown key or a value that is not a size.
    Setting(String),
}

impl fmt::Display for BadScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadScenario::KindState(e) => write!(f, "{e}"),
            BadScenario::Setting(s) => write!(
                f,
                "`{s}` is not memory=MIB, disk=MIB or vsphere=X.Y (e.g. vmotion:hot:memory=4096)"
            ),
        }
    }
}

impl std::error::Error for BadScenario {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BadScenario::KindState(e) => Some(e),
            BadScenario::Setting(_) => None,
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = BadScenario;

    fn from_str(s: &str) -> Result<Scenario, BadScenario> {
        let mut parts = s.splitn(3, ':');
        let kind_state = match (parts.next(), parts.next()) {
            (Some(k), Some(st)) => format!("{k}:{st}"),
            _ => s.to_string(),
        };
        let mut sc = Scenario {
            kind_state: kind_state.parse().map_err(BadScenario::KindState)?,
            memory_mb: None,
            disk_mb: None,
            vsphere_version: None,
        };
        for setting in parts.next().into_iter().flat_map(|rest| rest.split(':')) {
            let bad = || BadScenario::Setting(setting.to_string());
            let (key, value) = setting.split_once('=').ok_or_else(bad)?;
            let size = || value.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(bad);
            match key {
                "memory" => sc.memory_mb = Some(size()?),
                "disk" => sc.disk_mb = Some(size()?),
                "vsphere" if !value.is_empty() => sc.vsphere_version = Some(value.to_string()),
                _ => return Err(bad()),
            }
        }
        Ok(sc)
    }
}

impl fmt::Display for Scenario {
    /// The form it parses from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind_state)?;
        if let Some(m) = self.memory_mb {
            write!(f, ":memory={m}")?;
        }
        if let Some(d) = self.disk_mb {
            write!(f, ":disk={d}")?;
        }
        if let Some(v) = &self.vsphere_version {
            write!(f, ":vsphere={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod scenario_tests {
    use super::*;

    #[test]
    fn scenario_with_sizes() {
        let s: Scenario = "vmotion:hot:memory=4096:vsphere=8.0".parse().unwrap();
        assert_eq!(s.kind_state.to_string(), "vmotion:hot");
        assert_eq!(s.memory_mb, Some(4096));
        assert_eq!(s.vsphere_version.as_deref(), Some("8.0"));
        assert_eq!(s.to_string(), "vmotion:hot:memory=4096:vsphere=8.0");
        assert_eq!("xvmotion:cold".parse::<Scenario>().unwrap().memory_mb, None);
        assert!("vmotion:hot:memory=lots".parse::<Scenario>().is_err());
        assert!("vmotion:hot:colour=red".parse::<Scenario>().is_err());
        assert!(matches!(
            "vmotion".parse::<Scenario>(),
            Err(BadScenario::KindState(_))
        ));
    }
}
