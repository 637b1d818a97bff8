//! The formats: vCenter events and tasks as PowerCLI exports them (CSV or JSON), and ESXi log
//! lines. Each file's format is recognised by its content; each yields records with the line
//! they came from. README.md ("Migration windows from vCenter events and ESXi logs") cites the
//! documentation each reader follows.

use std::collections::BTreeMap;

use serde_json::Value;

use super::time::{self, Tz};
use crate::classify::inventory::powercli::Records;
use crate::vocab::kind::PowerState;

/// What a vCenter event says of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// `VmBeingHotMigratedEvent`: a powered-on VM's migration starts.
    HotStart,
    /// `VmBeingMigratedEvent`: a powered-off VM's migration starts.
    ColdStart,
    /// `VmBeingRelocatedEvent`: a relocation (storage, or host and storage) starts.
    RelocStart,
    /// `VmMigratedEvent` (and `DrsVmMigratedEvent`): a migration completed.
    Migrated,
    /// `VmRelocatedEvent`: a relocation completed.
    Relocated,
    /// `VmFailedMigrateEvent`, `VmRelocateFailedEvent`: it failed (or was cancelled).
    Failed,
}

impl What {
    /// The event type it was read from, for messages.
    pub fn type_name(self) -> &'static str {
        match self {
            What::HotStart => "VmBeingHotMigratedEvent",
            What::ColdStart => "VmBeingMigratedEvent",
            What::RelocStart => "VmBeingRelocatedEvent",
            What::Migrated => "VmMigratedEvent",
            What::Relocated => "VmRelocatedEvent",
            What::Failed => "VmFailedMigrateEvent",
        }
    }

    /// Whether it starts a migration.
    pub fn is_start(self) -> bool {
        matches!(self, What::HotStart | What::ColdStart | What::RelocStart)
    }
}

/// The event type names read, without `VMware.Vim.` or `vim.event.`.
fn what(type_name: &str) -> Option<(What, bool)> {
    let t = type_name.trim();
    let t = t
        .rsplit_once('.')
        .map_or(t, |(_, last)| last)
        .trim_start_matches("event/");
    Some(match t {
        "VmBeingHotMigratedEvent" => (What::HotStart, false),
        "VmBeingMigratedEvent" => (What::ColdStart, false),
        "VmBeingRelocatedEvent" => (What::RelocStart, false),
        "VmMigratedEvent" => (What::Migrated, false),
        "DrsVmMigratedEvent" => (What::Migrated, true),
        "VmRelocatedEvent" => (What::Relocated, false),
        "VmFailedMigrateEvent" | "VmRelocateFailedEvent" => (What::Failed, false),
        _ => return None,
    })
}

/// One migration event of a vCenter export.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Index of the file among those read.
    pub file: usize,
    /// Line where its row or object starts.
    pub line: usize,
    /// `createdTime`, UTC ns.
    pub time: i64,
    /// Whether the export gave the time's zone.
    pub zoned: bool,
    /// What it says.
    pub what: What,
    /// Initiated by DRS (`DrsVmMigratedEvent`).
    pub drs: bool,
    /// `vm.name`.
    pub vm: Option<String>,
    /// `host.name`: the source host of a start event, the destination of a completion.
    pub host: Option<String>,
    /// `ds.name`: likewise.
    pub ds: Option<String>,
    /// `destHost.name` (start and failure events).
    pub dest_host: Option<String>,
    /// `destDatastore.name`.
    pub dest_ds: Option<String>,
    /// `sourceHost.name` (completion events).
    pub source_host: Option<String>,
    /// `sourceDatastore.name`.
    pub source_ds: Option<String>,
    /// `fullFormattedMessage`.
    pub message: Option<String>,
    /// Columns a script may add from `Get-VM` / `Get-VMHost`: `MemoryMB`.
    pub memory_mb: Option<u64>,
    /// `ProvisionedSpaceGB` (× 1024) or `DiskMB`.
    pub disk_mb: Option<u64>,
    /// `Version` (`Get-VMHost`).
    pub version: Option<String>,
    /// `PowerState` (`Get-VM`): `PoweredOn` or `PoweredOff`.
    pub power: Option<PowerState>,
}

/// The state of a vCenter task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// `Success` (`Completed` in the vSphere Client's export).
    Success,
    /// `Error` (`Failed`).
    Error,
    /// Cancelled (`Canceled`, or an error whose text says it was cancelled).
    Cancelled,
    /// `Running` or `Queued`.
    Running,
}

/// One relocate or migrate task of a vCenter export.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Index of the file.
    pub file: usize,
    /// Line of its row or object.
    pub line: usize,
    /// `Name` (`RelocateVM_Task`, `MigrateVM_Task`, or the Client's `Relocate virtual machine`).
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// `StartTime`, UTC ns.
    pub start: i64,
    /// `FinishTime`, when finished.
    pub end: Option<i64>,
    /// The VM (`Entity`, `EntityName`, `Target`), when the export names it.
    pub vm: Option<String>,
    /// Whether every time had its zone.
    pub zoned: bool,
}

/// One ESXi log line that belongs to a migration.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Index of the file.
    pub file: usize,
    /// Its line.
    pub line: usize,
    /// Its time, UTC ns.
    pub time: i64,
    /// Whether its time had a zone.
    pub zoned: bool,
    /// The host that wrote it: the syslog host name, when the line carries one.
    pub host: Option<String>,
    /// The migration id (vmkernel's `ts`, hostd's `VMotionPrepare (ID)`).
    pub id: String,
    /// The role the line gives its host: `Some(true)` source, `Some(false)` destination.
    pub source: Option<bool>,
    /// The source and destination vMotion addresses, from the start line.
    pub ips: Option<(String, String)>,
    /// Whether it marks the switchover (`Stopping pre-copy`).
    pub switchover: bool,
}

/// What one file held.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Its format, for the report.
    pub format: &'static str,
    /// Migration events.
    pub events: Vec<Event>,
    /// Events of other types (not migrations), counted.
    pub other_events: usize,
    /// Relocate and migrate tasks.
    pub tasks: Vec<Task>,
    /// Other tasks, counted.
    pub other_tasks: usize,
    /// Log lines of migrations.
    pub log_lines: Vec<LogLine>,
}

/// A reading error: the line (0: the file as a whole) and what is wrong.
pub type Bad = (usize, String);

/// Reads one file's text, its format recognised by content.
pub fn parse(text: &str, file: usize, tz: Tz) -> Result<Parsed, Bad> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = body.trim_start();
    if first.starts_with('[') || first.starts_with('{') {
        return json(body, file, tz);
    }
    let header = body
        .lines()
        .find(|l| !(l.trim().is_empty() || l.starts_with("#TYPE")))
        .unwrap_or("");
    let cols: Vec<String> = header.split(',').map(norm).collect();
    if cols.iter().any(|c| c == "createdtime") {
        return csv(body, file, tz, false);
    }
    if cols.iter().any(|c| c == "starttime") {
        return csv(body, file, tz, true);
    }
    logs(body, file, tz)
}

/// A column or key name compared loosely: lower case, without quotes, spaces and underscores.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '"' | ' ' | '_' | '\r'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A named field of one row or object.
trait Fields {
    /// The text of the first of `names` (normalised) that is present and not empty.
    fn get(&self, names: &[&str]) -> Option<String>;
}

struct Row<'a> {
    cols: &'a BTreeMap<String, usize>,
    fields: &'a [String],
}

impl Fields for Row<'_> {
    fn get(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| {
            let i = *self.cols.get(*n)?;
            let v = self.fields.get(i)?.trim();
            (!v.is_empty()).then(|| v.to_string())
        })
    }
}

struct Obj<'a>(BTreeMap<String, &'a Value>);

impl Fields for Obj<'_> {
    fn get(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| {
            let v: &Value = self.0.get(*n)?;
            let v: &Value = match v {
                // `Host: {Name: …, Host: {Type, Value}}`: the name.
                Value::Object(o) => o.iter().find(|(k, _)| norm(k) == "name").map(|(_, v)| v)?,
                v => v,
            };
            match v {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        })
    }
}

const TYPE: &[&str] = &["eventtype", "type", "eventtypeid", "typename", "gettype"];

/// An export's field that holds an object's type name instead of the object's name:
/// `Export-Csv` writes nested objects so.
fn check_name(col: &str, v: Option<String>, line: usize) -> Result<Option<String>, Bad> {
    match v {
        Some(v) if v.starts_with("VMware.Vim.") => Err((
            line,
            format!(
                "column {col} holds `{v}`, not a name: Export-Csv writes a nested object as its \
                 type; select the name, e.g. Select-Object @{{N='{col}';E={{$_.{col}.Name}}}} \
                 (README: \"Migration windows from vCenter events and ESXi logs\")"
            ),
        )),
        v => Ok(v),
    }
}

fn event(f: &dyn Fields, line: usize, file: usize, tz: Tz) -> Result<Option<Event>, Bad> {
    let Some(type_name) = f.get(TYPE) else {
        return Err((
            line,
            "no event type (a column EventType, Type or EventTypeId): add it to the export, \
             e.g. Select-Object @{N='EventType';E={$_.GetType().Name}}, *"
                .into(),
        ));
    };
    let Some((what, drs)) = what(&type_name) else {
        return Ok(None);
    };
    let created = f
        .get(&["createdtime"])
        .ok_or_else(|| (line, format!("{type_name} without CreatedTime")))?;
    let t = time::parse(&created, tz).ok_or_else(|| {
        (
            line,
            format!(
                "CreatedTime `{created}` is not a time (RFC 3339, M/d/yyyy h:mm:ss AM, or \
                 /Date(ms)/)"
            ),
        )
    })?;
    let num = |names: &[&str]| -> Result<Option<f64>, Bad> {
        match f.get(names) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                _ => Err((line, format!("{} `{v}` is not a size", names[0]))),
            },
        }
    };
    let memory_mb = num(&["memorymb"])?.map(|x| x.round() as u64);
    let disk_mb = match num(&["diskmb"])? {
        Some(x) => Some(x.round() as u64),
        None => num(&["provisionedspacegb"])?.map(|x| (x * 1024.0).round() as u64),
    };
    let power = match f.get(&["powerstate"]).as_deref() {
        None => None,
        Some("PoweredOn") | Some("poweredOn") => Some(PowerState::Hot),
        Some("PoweredOff") | Some("poweredOff") | Some("Suspended") | Some("suspended") => {
            Some(PowerState::Cold)
        }
        Some(v) => {
            return Err((
                line,
                format!("PowerState `{v}` is not PoweredOn, PoweredOff or Suspended"),
            ));
        }
    };
    Ok(Some(Event {
        file,
        line,
        time: t.ns,
        zoned: t.zoned,
        what,
        drs,
        vm: check_name("Vm", f.get(&["vm", "vmname"]), line)?,
        host: check_name("Host", f.get(&["host", "hostname"]), line)?,
        ds: check_name("Ds", f.get(&["ds", "datastore"]), line)?,
        dest_host: check_name("DestHost", f.get(&["desthost"]), line)?,
        dest_ds: check_name("DestDatastore", f.get(&["destdatastore"]), line)?,
        source_host: check_name("SourceHost", f.get(&["sourcehost"]), line)?,
        source_ds: check_name("SourceDatastore", f.get(&["sourcedatastore"]), line)?,
        message: f.get(&["fullformattedmessage"]),
        memory_mb,
        disk_mb,
        version: f.get(&["version", "vsphereversion"]),
        power,
    }))
}

fn task(f: &dyn Fields, line: usize, file: usize, tz: Tz) -> Result<Option<Task>, Bad> {
    let name = f
        .get(&["name", "taskname", "descriptionid"])
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if !(lower.contains("relocate") || lower.contains("migrate")) {
        return Ok(None);
    }
    let when = |names: &[&str]| -> Result<Option<time::Read>, Bad> {
        match f.get(names) {
            None => Ok(None),
            Some(v) => time::parse(&v, tz)
                .map(Some)
                .ok_or_else(|| (line, format!("{} `{v}` is not a time", names[0]))),
        }
    };
    let start = when(&["starttime", "queuedtime"])?
        .ok_or_else(|| (line, format!("task {name} without StartTime")))?;
    let end = when(&["finishtime", "completetime", "completiontime"])?;
    let state_text = f.get(&["state", "status"]).unwrap_or_default();
    let detail = f
        .get(&["result", "description", "details", "error"])
        .unwrap_or_default()
        .to_ascii_lowercase();
    let state = match state_text.to_ascii_lowercase().as_str() {
        "success" | "completed" => TaskState::Success,
        "cancelled" | "canceled" => TaskState::Cancelled,
        "error" | "failed" if detail.contains("cancel") => TaskState::Cancelled,
        "error" | "failed" => TaskState::Error,
        "running" | "queued" | "" if end.is_none() => TaskState::Running,
        other => {
            return Err((
                line,
                format!("task state `{other}` is not Success, Error, Cancelled, Running or Queued"),
            ));
        }
    };
    Ok(Some(Task {
        file,
        line,
        name,
        state,
        start: start.ns,
        end: end.map(|e| e.ns),
        vm: check_name(
            "Entity",
            f.get(&["entity", "entityname", "target", "vm"]),
            line,
        )?,
        zoned: start.zoned && end.is_none_or(|e| e.zoned),
    }))
}

fn csv(text: &str, file: usize, tz: Tz, tasks: bool) -> Result<Parsed, Bad> {
    let mut rows = Records::new(text);
    let header = match rows.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err((0, e.to_string())),
        None => return Err((0, "no header line".into())),
    };
    let cols: BTreeMap<String, usize> = header
        .fields
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| (norm(c), i))
        .collect();
    let mut out = Parsed {
        format: if tasks {
            "vCenter tasks (CSV)"
        } else {
            "vCenter events (CSV)"
        },
        ..Parsed::default()
    };
    for row in rows {
        let row = row.map_err(|e| (0, e.to_string()))?;
        let r = Row {
            cols: &cols,
            fields: &row.fields,
        };
        if tasks {
            match task(&r, row.line, file, tz)? {
                Some(t) => out.tasks.push(t),
                None => out.other_tasks += 1,
            }
        } else {
            match event(&r, row.line, file, tz)? {
                Some(e) => out.events.push(e),
                None => out.other_events += 1,
            }
        }
    }
    Ok(out)
}

fn json(text: &str, file: usize, tz: Tz) -> Result<Parsed, Bad> {
    use crate::vocab::json_lines::{self, Located};
    let items: Vec<Located<Value>> = if text.trim_start().starts_with('[') {
        json_lines::from_reader(text.as_bytes())
    } else {
        json_lines::from_reader::<Located<Value>>(text.as_bytes()).map(|v| vec![v])
    }
    .map_err(|e| (e.line(), format!("not JSON of events or tasks: {e}")))?;
    let mut out = Parsed {
        format: "vCenter events (JSON)",
        ..Parsed::default()
    };
    let mut saw_tasks = false;
    for item in &items {
        let line = item.line.max(1);
        let Value::Object(o) = &item.value else {
            return Err((line, "an element is not an object".into()));
        };
        let obj = Obj(o.iter().map(|(k, v)| (norm(k), v)).collect());
        if obj.0.contains_key("createdtime") {
            match event(&obj, line, file, tz)? {
                Some(e) => out.events.push(e),
                None => out.other_events += 1,
            }
        } else if obj.0.contains_key("starttime") {
            saw_tasks = true;
            match task(&obj, line, file, tz)? {
                Some(t) => out.tasks.push(t),
                None => out.other_tasks += 1,
            }
        } else {
            return Err((
                line,
                "an object with neither CreatedTime (an event) nor StartTime (a task)".into(),
            ));
        }
    }
    if saw_tasks && out.events.is_empty() {
        out.format = "vCenter tasks (JSON)";
    }
    Ok(out)
}

/// The text between `<` and `>` after `key`.
fn angle(line: &str, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        let at = line.find(k)? + k.len();
        let rest = &line[at..];
        let open = rest.find('<')?;
        let close = rest[open..].find('>')?;
        Some(rest[open + 1..open + close].to_string())
    })
}

/// The decimal number after `key` (skipping ` = ` or spaces).
fn number_after(line: &str, key: &str) -> Option<String> {
    let at = line.find(key)? + key.len();
    let rest = line[at..].trim_start_matches([' ', '=', '(']);
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!n.is_empty()).then_some(n)
}

/// A start line's migration id and role: vmkernel's `Migrate: … Source|Dest … ts = ID`
/// (ESXi 6 and 8 forms), hostd's `VMotionPrepare (ID)`.
fn start_id(msg: &str) -> Option<(String, Option<bool>)> {
    if msg.contains("Migrate:") {
        if let Some(id) = number_after(msg, "ts =").or_else(|| number_after(msg, "ts=")) {
            let head = &msg[..msg.find("ts").unwrap_or(0)];
            let role = if head.contains("Source") {
                Some(true)
            } else if head.contains("Dest") {
                Some(false)
            } else {
                None
            };
            return Some((id, role));
        }
    }
    number_after(msg, "VMotionPrepare").map(|id| (id, None))
}

/// The timestamp, host and message of a log line: `[<PRI>]TIME [HOST] MESSAGE`.
fn split_line(line: &str, tz: Tz) -> Option<(time::Read, Option<String>, &str)> {
    let l = line.trim_start();
    let l = match l.strip_prefix('<') {
        // `<PRI>`, and RFC 5424's version `1 ` after it.
        Some(r) => {
            let r = &r[r.find('>')? + 1..];
            r.strip_prefix("1 ").unwrap_or(r)
        }
        None => l,
    };
    let (ts, rest) = l.split_once(' ')?;
    let t = time::parse(ts, tz)?;
    let rest = rest.trim_start();
    let (tok, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let is_host = !(tok.ends_with(':')
        || tok.ends_with(')')
        || tok.starts_with("cpu")
        || tok.contains('(')
        || tok.starts_with('[')
        || after.is_empty());
    match is_host {
        true => Some((t, Some(tok.to_string()), after)),
        false => Some((t, None, rest)),
    }
}

fn logs(text: &str, file: usize, tz: Tz) -> Result<Parsed, Bad> {
    let mut out = Parsed {
        format: "ESXi log",
        ..Parsed::default()
    };
    // First the ids that start lines name; then every line naming one of them.
    let mut ids: BTreeMap<String, ()> = BTreeMap::new();
    let mut timed = 0usize;
    for line in text.lines() {
        if let Some((_, _, msg)) = split_line(line, tz) {
            timed += 1;
            if let Some((id, _)) = start_id(msg) {
                ids.insert(id, ());
            }
        }
    }
    if timed == 0 {
        let first: String = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        return Err((
            1,
            format!(
                "not a vCenter events or tasks export (CSV with CreatedTime or StartTime, or \
                 JSON) nor ESXi log lines (each starting with its time): `{first}`"
            ),
        ));
    }
    for (i, line) in text.lines().enumerate() {
        let Some((t, host, msg)) = split_line(line, tz) else {
            continue;
        };
        let start = start_id(msg);
        let id = match &start {
            Some((id, _)) => Some(id.clone()),
            None => msg
                .split(|c: char| !c.is_ascii_digit())
                .find(|tok| tok.len() >= 6 && ids.contains_key(*tok))
                .map(str::to_string),
        };
        let Some(id) = id else {
            continue;
        };
        let role = match &start {
            Some((_, r)) => *r,
            None => {
                let marker = format!("{id} ");
                msg.find(&marker).and_then(|at| {
                    let after = &msg[at + marker.len()..];
                    if after.starts_with("S:") {
                        Some(true)
                    } else if after.starts_with("D:") {
                        Some(false)
                    } else {
                        None
                    }
                })
            }
        };
        let ips = match (
            angle(msg, &["src ip", "srcIP", "srcIp"]),
            angle(msg, &["dest ip", "dstIP", "dstIp"]),
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        out.log_lines.push(LogLine {
            file,
            line: i + 1,
            time: t.ns,
            zoned: t.zoned,
            host,
            id,
            source: role,
            ips,
            switchover: msg.contains("Stopping pre-copy"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_of_both_forms() {
        let text = "\
2015-12-25T16:39:25.565Z cpu4:2758489)Migrate: vm 2758492: 3284: Setting VMOTION info: Source ts = 1451061663105920, src ip = <192.168.1.176> dest ip = <192.168.1.177> Dest wid = 1830931 using SHARED swap
2015-12-25T16:39:25.567Z cpu4:2758489)VMotion: 2734: 1451061663105920 S: Set ip address '192.168.1.176' worldlet affinity to send World ID 2772001
2015-12-25T16:39:25.600Z cpu4:2758489)Something else entirely 99
<166>2026-03-02T10:00:00.010Z esx02 vmkernel: cpu1:1000)Migrate: 314: vmotion: Dest vmmLeaderID = 2109446, ts = 7182955985622810397, srcIP = <10.0.20.11> dstIP = <10.0.20.12> Dest wid = 0 using SHARED swap, encrypted
2026-03-02T10:00:00.400Z esx01 vmkernel: cpu1:1000)VMotion: 4914: 7182955985622810397 S: Stopping pre-copy: only 12 pages left to send
<166>1 2026-03-02T10:00:00.500+01:00 esx01 vmkernel - - - cpu1:1000)VMotion: 4915: 7182955985622810397 S: done
";
        let p = parse(text, 3, Tz::default()).unwrap();
        assert_eq!(p.format, "ESXi log");
        type Seen<'a> = (usize, &'a str, Option<bool>, Option<&'a str>, bool);
        let got: Vec<Seen> = p
            .log_lines
            .iter()
            .map(|l| {
                (
                    l.line,
                    l.id.as_str(),
                    l.source,
                    l.host.as_deref(),
                    l.switchover,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "1451061663105920", Some(true), None, false),
                (2, "1451061663105920", Some(true), None, false),
                (4, "7182955985622810397", Some(false), Some("esx02"), false),
                (5, "7182955985622810397", Some(true), Some("esx01"), true),
                (6, "7182955985622810397", Some(true), Some("esx01"), false),
            ]
        );
        // RFC 5424 (`<PRI>1 TIME HOST APP - - - MSG`), its offset honoured.
        assert_eq!(p.log_lines[4].time, p.log_lines[3].time - 3_599_900_000_000);
        assert_eq!(
            p.log_lines[2].ips,
            Some(("10.0.20.11".into(), "10.0.20.12".into()))
        );
        assert!(parse("hello\nworld\n", 0, Tz::default()).is_err());
    }

    #[test]
    fn nested_objects_in_a_csv_are_refused_with_the_fix() {
        let text = "\"EventType\",\"CreatedTime\",\"Vm\",\"Host\"\n\
                    \"VmMigratedEvent\",\"2026-03-02T10:00:00Z\",\"VMware.Vim.VmEventArgument\",\"esx02\"\n";
        let (line, msg) = parse(text, 0, Tz::default()).unwrap_err();
        assert_eq!(line, 2);
        assert!(
            msg.contains("column Vm holds `VMware.Vim.VmEventArgument`"),
            "{msg}"
        );
        let text = "CreatedTime,Vm\n2026-03-02T10:00:00Z,web01\n";
        assert!(
            parse(text, 0, Tz::default())
                .unwrap_err()
                .1
                .contains("no event type")
        );
    }
}
