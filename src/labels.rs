//! Ground-truth migration labels that travel beside a capture: which migration ran when.
//!
//! In: the JSON file `CAPTURE.migrations.json` (written by `vmkflow synth`, or by hand for a real
//! capture). Out: [`Migrations`], typed and checked; errors name the file, the line of the wrong
//! label and what is wrong. [`LabelsFile`] is the file as `analyze` uses it: a migration labelled
//! again under another id is counted once, and what is odd about the labels (that, and label hosts
//! the inventory does not know) is said as warnings naming the file and the lines.
//! Writing produces the same JSON, with timestamps as RFC 3339 strings with nanoseconds.
//!
//! The other file beside a capture, `CAPTURE.inventory.json`, belongs to the inventory:
//! [`crate::classify::inventory::file`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::vocab::json_lines::{self, Located};
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
        /// The line of the first, when read from a file.
        first_line: Option<usize>,
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
            InvalidMigrations::DuplicateId { id, first_line } => {
                write!(f, "migration id `{id}` appears twice")?;
                match first_line {
                    Some(l) => write!(f, " (first on line {l})"),
                    None => Ok(()),
                }
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
        /// The line on which the wrong migration starts, when known.
        line: Option<usize>,
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
            LabelError::Invalid {
                path,
                line: Some(line),
                source,
            } => write!(f, "{}: line {line}: {source}", path.display()),
            LabelError::Invalid { path, source, .. } => write!(f, "{}: {source}", path.display()),
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

/// The file's form, each migration with the line it starts on.
#[derive(Deserialize)]
struct RawMigrations {
    migrations: Vec<Located<Migration>>,
}

/// Reads a migrations file, each migration with its line.
fn read_located(path: &Path) -> Result<Vec<Located<Migration>>, LabelError> {
    let file = File::open(path).map_err(|source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match json_lines::from_reader::<RawMigrations>(file) {
        Ok(raw) => Ok(raw.migrations),
        // A read error (e.g. the path is a directory) is no fault of the JSON.
        Err(source) if source.is_io() => Err(LabelError::Io {
            path: path.to_path_buf(),
            source: source.into(),
        }),
        Err(source) => Err(LabelError::Json {
            path: path.to_path_buf(),
            source,
        }),
    }
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
    /// Reads and checks a migrations file (ids unique, `start <= end`); an error names the file
    /// and the line of the wrong migration. Every label is kept, a repeated one too (see
    /// [`LabelsFile`] for the labels as `analyze` counts them).
    pub fn load(path: &Path) -> Result<Migrations, LabelError> {
        let (migrations, _) = load_checked(path)?;
        Ok(Migrations { migrations })
    }

    /// Writes the migrations as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LabelError> {
        write_json(path, self)
    }

    /// Checks ids and time windows; the error names the migration.
    pub fn validate(&self) -> Result<(), InvalidMigrations> {
        first_invalid(&self.migrations).map_or(Ok(()), |(_, e, _)| Err(e))
    }
}

/// The first wrong migration, by index, and what is wrong with it; a repeated id is said at its
/// second appearance, with the index of the first.
fn first_invalid(migrations: &[Migration]) -> Option<(usize, InvalidMigrations, Option<usize>)> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, m) in migrations.iter().enumerate() {
        if m.id.is_empty() {
            return Some((i, InvalidMigrations::EmptyId, None));
        }
        if let Some(&first) = ids.get(m.id.as_str()) {
            let e = InvalidMigrations::DuplicateId {
                id: m.id.clone(),
                first_line: None,
            };
            return Some((i, e, Some(first)));
        }
        ids.insert(&m.id, i);
        if m.start > m.end {
            let e = InvalidMigrations::StartAfterEnd {
                id: m.id.clone(),
                start: m.start,
                end: m.end,
            };
            return Some((i, e, None));
        }
    }
    None
}

/// Reads and checks a migrations file: its migrations and the line of each.
fn load_checked(path: &Path) -> Result<(Vec<Migration>, Vec<usize>), LabelError> {
    let located = read_located(path)?;
    let lines: Vec<usize> = located.iter().map(|m| m.line).collect();
    let migrations: Vec<Migration> = located.into_iter().map(|m| m.value).collect();
    if let Some((i, mut source, first)) = first_invalid(&migrations) {
        if let InvalidMigrations::DuplicateId { first_line, .. } = &mut source {
            *first_line = first.and_then(|f| lines.get(f).copied());
        }
        return Err(LabelError::Invalid {
            path: path.to_path_buf(),
            line: lines.get(i).copied(),
            source,
        });
    }
    Ok((migrations, lines))
}

/// Most inventory hosts a warning lists.
const HOSTS_LISTED: usize = 10;

/// Most items named in one warning's list; the rest are counted.
const NAMED: usize = 3;

/// `a, b, c and 4 more`, or `a and b`.
fn list(items: &[String]) -> String {
    let mut named: Vec<String> = items.iter().take(NAMED).cloned().collect();
    if items.len() > NAMED {
        named.push(format!("{} more", items.len() - NAMED));
    }
    match named.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A migrations file as `analyze` uses it: the labels it counts, the line of each, and what the
/// reader of the report should know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelsFile {
    /// The file.
    pub path: PathBuf,
    /// Its migrations, in file order; a migration labelled again under another id (every other
    /// field alike) only once, as its first label.
    pub migrations: Vec<Migration>,
    /// The line on which each of `migrations` starts.
    pub lines: Vec<usize>,
    /// What is odd about the labels, naming the file and the lines (repeated labels).
    pub warnings: Vec<String>,
}

/// Every field of a label but its id: two labels alike in this are one migration.
type Window<'a> = (
    &'a Option<String>,
    MigrationKind,
    PowerState,
    Timestamp,
    Timestamp,
    &'a Option<String>,
    &'a Option<String>,
    Option<u64>,
    Option<u64>,
    &'a Option<String>,
);

fn window(m: &Migration) -> Window<'_> {
    (
        &m.vm,
        m.kind,
        m.state,
        m.start,
        m.end,
        &m.source_host,
        &m.dest_host,
        m.memory_mb,
        m.disk_mb,
        &m.vsphere_version,
    )
}

impl LabelsFile {
    /// Reads and checks a migrations file as [`Migrations::load`] does (errors name the file and
    /// the line), then counts once a migration labelled again under another id, with a warning
    /// naming the lines: the same window and hosts measured twice would count its bytes twice
    /// in every total over migrations and give the same verdicts again.
    pub fn load(path: &Path) -> Result<LabelsFile, LabelError> {
        let (all, all_lines) = load_checked(path)?;
        let name = path.display();
        // Index of the first label of each window, and the repeats of it.
        let mut first: HashMap<Window<'_>, usize> = HashMap::new();
        let mut repeats: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut repeated = vec![false; all.len()];
        for (i, m) in all.iter().enumerate() {
            match first.entry(window(m)) {
                Entry::Vacant(e) => {
                    e.insert(i);
                }
                Entry::Occupied(e) => {
                    let f = *e.get();
                    repeated[i] = true;
                    match repeats.iter_mut().find(|(g, _)| *g == f) {
                        Some((_, r)) => r.push(i),
                        None => repeats.push((f, vec![i])),
                    }
                }
            }
        }
        drop(first);
        let mut warnings = Vec::new();
        for (f, r) in repeats.iter().take(NAMED) {
            let again: Vec<String> = r
                .iter()
                .map(|&i| format!("line {} ({})", all_lines[i], all[i].id))
                .collect();
            warnings.push(format!(
                "{name}: {} label{} the same migration as line {} ({}), every field but the id \
                 alike: counted once, as {}",
                list(&again),
                if r.len() == 1 { "s" } else { "" },
                all_lines[*f],
                all[*f].id,
                all[*f].id
            ));
        }
        if repeats.len() > NAMED {
            let more: usize = repeats[NAMED..].iter().map(|(_, r)| r.len()).sum();
            warnings.push(format!(
                "{name}: {more} more labels repeat another's migration under another id: each \
                 counted once, as its first label"
            ));
        }
        let mut migrations = Vec::with_capacity(all.len());
        let mut lines = Vec::with_capacity(all.len());
        for ((m, line), again) in all.into_iter().zip(all_lines).zip(repeated) {
            if !again {
                migrations.push(m);
                lines.push(line);
            }
        }
        Ok(LabelsFile {
            path: path.to_path_buf(),
            migrations,
            lines,
            warnings,
        })
    }

    /// Warnings for the label hosts (`source_host`, `dest_host`) that `known` does not find in the
    /// inventory `inventory` (its name, for the message) whose hosts are `hosts`: one per host
    /// name, with the line of its first label and how many more name it.
    pub fn hosts_not_in(
        &self,
        known: impl Fn(&str) -> bool,
        inventory: &str,
        hosts: &[&str],
    ) -> Vec<String> {
        // Each unknown name, in order of first appearance: (name, field, lines).
        let mut unknown: Vec<(&str, &str, Vec<usize>)> = Vec::new();
        let mut checked: HashMap<&str, Option<usize>> = HashMap::new();
        for (m, &line) in self.migrations.iter().zip(&self.lines) {
            let fields = [("source_host", &m.source_host), ("dest_host", &m.dest_host)];
            for (field, host) in fields {
                let Some(host) = host.as_deref() else {
                    continue;
                };
                let slot = match checked.entry(host) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => {
                        let slot = (!known(host)).then(|| {
                            unknown.push((host, field, Vec::new()));
                            unknown.len() - 1
                        });
                        *e.insert(slot)
                    }
                };
                if let Some(u) = slot {
                    let lines = &mut unknown[u].2;
                    if lines.last() != Some(&line) {
                        lines.push(line);
                    }
                }
            }
        }
        let mut listed = hosts[..hosts.len().min(HOSTS_LISTED)].join(", ");
        if hosts.len() > HOSTS_LISTED {
            listed.push_str(&format!(" and {} more", hosts.len() - HOSTS_LISTED));
        }
        let known_hosts = format!(
            "{} host{}: {}",
            hosts.len(),
            if hosts.len() == 1 { "" } else { "s" },
            if hosts.is_empty() { "none" } else { &listed }
        );
        // What --write-inventory saves of an inferred inventory names hosts by address.
        let by_address = !hosts.is_empty() && hosts.iter().all(|h| h.starts_with("host-"));
        let hint = match by_address {
            true => {
                "; its hosts are named by address (host-ADDRESS, as an inferred inventory \
                 saved with --write-inventory): a label host can be given as an address of one \
                 of its vmks"
            }
            false => "",
        };
        unknown
            .into_iter()
            .map(|(host, field, lines)| {
                let also = match &lines[1..] {
                    [] => String::new(),
                    more => {
                        let more: Vec<String> = more.iter().map(|l| l.to_string()).collect();
                        format!(
                            ", and named on line{} {}",
                            if more.len() == 1 { "" } else { "s" },
                            list(&more)
                        )
                    }
                };
                format!(
                    "{}: line {}: {field} `{host}` is not in the inventory {inventory} \
                     ({known_hosts}){also}{hint}",
                    self.path.display(),
                    lines[0]
                )
            })
            .collect()
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

    /// A labels file in a fresh directory; the migrations one per line from line 2.
    fn file(tag: &str, migrations: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vmkflow-labels-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.json");
        std::fs::write(
            &p,
            format!("{{\"migrations\": [\n{}\n]}}\n", migrations.join(",\n")),
        )
        .unwrap();
        p
    }

    const M1: &str = r#"{"id":"m1","kind":"vmotion","state":"hot","start":1,"end":2,"source_host":"esx01","dest_host":"esx02"}"#;

    #[test]
    fn errors_name_the_line() {
        let m = |id: &str, start: u32, end: u32| {
            format!(r#"{{"id":"{id}","kind":"vmotion","state":"hot","start":{start},"end":{end}}}"#)
        };
        let p = file("errors", &[&m("a", 1, 2), &m("b", 1, 2), &m("a", 1, 2)]);
        let e = Migrations::load(&p).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 4: migration id `a` appears twice (first on line 2)",
                p.display()
            )
        );
        let p = file("errors", &[&m("a", 1, 2), &m("b", 3, 2)]);
        let e = LabelsFile::load(&p).unwrap_err();
        assert!(
            matches!(
                &e,
                LabelError::Invalid {
                    line: Some(3),
                    source: InvalidMigrations::StartAfterEnd { .. },
                    ..
                }
            ),
            "{e}"
        );
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_repeated_migration_is_counted_once() {
        let again = |id: &str| M1.replace("\"m1\"", &format!("\"{id}\""));
        let other = M1.replace("\"end\":2", "\"end\":3").replace("m1", "m9");
        let p = file(
            "repeated",
            &[
                M1,
                &again("a"),
                &other,
                &again("b"),
                &again("c"),
                &again("d"),
            ],
        );
        // Migrations::load keeps every label.
        assert_eq!(Migrations::load(&p).unwrap().migrations.len(), 6);
        let f = LabelsFile::load(&p).unwrap();
        let ids: Vec<&str> = f.migrations.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m9"]);
        assert_eq!(f.lines, [2, 4]);
        assert_eq!(
            f.warnings,
            [format!(
                "{}: line 3 (a), line 5 (b), line 6 (c) and 1 more label the same migration as \
                 line 2 (m1), every field but the id alike: counted once, as m1",
                p.display()
            )]
        );
        let p = file("repeated", &[M1, &again("a")]);
        assert!(LabelsFile::load(&p).unwrap().warnings[0].contains(": line 3 (a) labels the same"),);
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }

    #[test]
    fn hosts_not_in_the_inventory_are_named_once_with_their_lines() {
        let dest = |id: &str, host: &str| {
            M1.replace("\"m1\"", &format!("\"{id}\""))
                .replace("esx02", host)
        };
        let p = file(
            "hosts",
            &[
                &dest("a", "esx09"),
                &dest("b", "esx02"),
                // Not the same migration as a (that would be counted once): a later window.
                &dest("c", "esx09").replace("\"end\":2", "\"end\":5"),
                &dest("d", "x"),
            ],
        );
        let f = LabelsFile::load(&p).unwrap();
        let w = f.hosts_not_in(
            |h| h.starts_with("esx0") && h != "esx09",
            "inv.json",
            &["esx01", "esx02"],
        );
        let name = p.display();
        assert_eq!(
            w,
            [
                format!(
                    "{name}: line 2: dest_host `esx09` is not in the inventory inv.json (2 hosts: \
                     esx01, esx02), and named on line 4"
                ),
                format!(
                    "{name}: line 5: dest_host `x` is not in the inventory inv.json (2 hosts: \
                     esx01, esx02)"
                ),
            ]
        );
        let many: Vec<String> = (0..12).map(|i| format!("host-10.0.0.{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let w = f.hosts_not_in(|_| false, "inv.json", &many);
        assert!(w[0].contains("(12 hosts: host-10.0.0.0, "), "{}", w[0]);
        assert!(w[0].contains("host-10.0.0.9 and 2 more)"), "{}", w[0]);
        assert!(
            w[0].ends_with("can be given as an address of one of its vmks"),
            "{}",
            w[0]
        );
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
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
