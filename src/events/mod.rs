//! Migration windows from what vCenter and ESXi already record: vCenter's events and tasks (as
//! PowerCLI exports them, CSV or JSON) and the hosts' log lines.
//!
//! In: files, each recognised by its content ([`read`]); the zone in which times without one are
//! read ([`Tz`], `--events-tz`). Out: [`Derived`]: the migrations as labels
//! ([`crate::labels::Migration`]), the failed, cancelled and unfinished ones apart, and what the
//! reader should know (each naming its file and line).
//!
//! A migration is a start event (`VmBeingHotMigratedEvent`: hot; `VmBeingMigratedEvent`: cold;
//! `VmBeingRelocatedEvent`) paired with the next completion (`VmMigratedEvent`,
//! `DrsVmMigratedEvent`, `VmRelocatedEvent`) or failure (`VmFailedMigrateEvent`,
//! `VmRelocateFailedEvent`) of the same VM. Its kind comes from the hosts and datastores the
//! events name: the host changed (compute), the datastore changed (storage), or both. A completion
//! without a start takes its start from the VM's migrate or relocate task. Log lines are grouped
//! by migration id across hosts; a group inside an event migration's window narrows the window
//! to the lines'; a group no event explains is a hot vMotion of its own (of the VM of a completed
//! task without events whose window holds it, when there is one).

pub mod read;
pub mod time;
pub mod write;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::labels::{Migration, Timestamp};
use crate::vocab::kind::{MigrationKind, PowerState};
use crate::vocab::time::rfc3339;
use read::{Event, LogLine, Task, TaskState, What};
pub use time::Tz;

/// A file that could not be read as events, tasks or logs: names the file and the line.
#[derive(Debug)]
pub struct EventsError {
    /// The file.
    pub path: PathBuf,
    /// The line (none: the file as a whole).
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// Whether the file could not be read at all (not a content error).
    pub io: bool,
}

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}: line {l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for EventsError {}

/// One file read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// As given.
    pub path: String,
    /// Its format, as recognised.
    pub format: String,
    /// Migration events, relocate/migrate tasks or migration log lines read from it.
    pub records: usize,
    /// Of those, the ones whose times carried no zone and were read in `read_in`.
    pub times_without_zone: usize,
    /// The zone those were read in (`--events-tz`), when there were any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_in: Option<String>,
}

/// A migration that did not complete: failed, cancelled, or not finished in the exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unfinished {
    /// The VM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    /// `failed`, `cancelled` or `not finished`.
    pub outcome: String,
    /// When it started.
    pub start: Timestamp,
    /// When it ended (the failure; the start for one not finished).
    pub end: Timestamp,
    /// Where it is recorded: `FILE: line N`.
    pub at: String,
    /// vCenter's message, when the export has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a migration came from, for the report's check and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `FILE: line N` of the start (or the first log line).
    pub at: String,
    /// Initiated by DRS.
    pub drs: bool,
    /// Its window was narrowed to log lines.
    pub narrowed: bool,
}

/// What the files give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// Completed migrations, in time order, ids `m1`, `m2`, ….
    pub migrations: Vec<Migration>,
    /// Where each of `migrations` came from.
    pub origins: Vec<Origin>,
    /// Failed, cancelled and unfinished migrations.
    pub unfinished: Vec<Unfinished>,
    /// The files, in order.
    pub sources: Vec<SourceFile>,
    /// What the reader should know, each naming its file and line.
    pub warnings: Vec<String>,
}

/// Reads every file and derives the migrations.
pub fn read_files(paths: &[PathBuf], tz: Tz) -> Result<Derived, EventsError> {
    let mut texts = Vec::with_capacity(paths.len());
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| EventsError {
            path: p.clone(),
            line: None,
            message: e.to_string(),
            io: true,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| EventsError {
            path: p.clone(),
            line: None,
            message: format!(
                "not UTF-8 text (byte offset {}): save the export as UTF-8 (Export-Csv \
                 -Encoding UTF8)",
                e.utf8_error().valid_up_to()
            ),
            io: false,
        })?;
        texts.push(text);
    }
    let named: Vec<(&Path, &str)> = paths
        .iter()
        .map(PathBuf::as_path)
        .zip(texts.iter().map(String::as_str))
        .collect();
    derive(&named, tz)
}

/// Derives the migrations from texts, each with the path it is named by.
pub fn derive(files: &[(&Path, &str)], tz: Tz) -> Result<Derived, EventsError> {
    let mut events = Vec::new();
    let mut tasks = Vec::new();
    let mut lines = Vec::new();
    let mut out = Derived::default();
    for (i, (path, text)) in files.iter().enumerate() {
        let p = read::parse(text, i, tz).map_err(|(line, message)| EventsError {
            path: path.to_path_buf(),
            line: (line > 0).then_some(line),
            message,
            io: false,
        })?;
        let zoneless = p.events.iter().filter(|e| !e.zoned).count()
            + p.tasks.iter().filter(|t| !t.zoned).count()
            + p.log_lines.iter().filter(|l| !l.zoned).count();
        out.sources.push(SourceFile {
            path: path.display().to_string(),
            format: p.format.to_string(),
            records: p.events.len() + p.tasks.len() + p.log_lines.len(),
            times_without_zone: zoneless,
            read_in: (zoneless > 0).then(|| tz.to_string()),
        });
        if zoneless > 0 {
            out.warnings.push(format!(
                "{}: {zoneless} records whose times carry no zone were read in {tz} (--events-tz)",
                path.display()
            ));
        }
        if p.events.is_empty() && p.tasks.is_empty() && p.log_lines.is_empty() {
            out.warnings.push(format!(
                "{}: no migration in it ({}; {} other events, {} other tasks)",
                path.display(),
                p.format,
                p.other_events,
                p.other_tasks
            ));
        }
        events.extend(p.events);
        tasks.extend(p.tasks);
        lines.extend(p.log_lines);
    }
    let at = |file: usize, line: usize| format!("{}: line {line}", files[file].0.display());
    combine(&mut out, events, &tasks, lines, &at);
    Ok(out)
}

/// Case-insensitive equality of two optional names; `None` matches anything.
fn same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

/// Whether two hosts may be one: [`same`], where an address (a log line's vMotion address,
/// which an events export does not give) matches any name.
fn same_host(a: &Option<String>, b: &Option<String>) -> bool {
    let addr = |h: &Option<String>| {
        h.as_deref()
            .is_some_and(|h| h.parse::<std::net::IpAddr>().is_ok())
    };
    addr(a) || addr(b) || same(a, b)
}

/// A migration being built.
struct Draft {
    m: Migration,
    origin: Origin,
    /// From a relocation whose power state no record said.
    state_unknown: bool,
}

fn combine(
    out: &mut Derived,
    mut events: Vec<Event>,
    tasks: &[Task],
    lines: Vec<LogLine>,
    at: &dyn Fn(usize, usize) -> String,
) {
    events.sort_by_key(|e| (e.time, e.file, e.line));
    let mut drafts: Vec<Draft> = Vec::new();
    // The open start event of each VM (index into `events`).
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut used_tasks = vec![false; tasks.len()];
    for (i, e) in events.iter().enumerate() {
        let Some(vm) = &e.vm else {
            out.warnings.push(format!(
                "{}: {} without a VM: skipped",
                at(e.file, e.line),
                e.what.type_name()
            ));
            continue;
        };
        let slot = open.iter().position(|(v, _)| v.eq_ignore_ascii_case(vm));
        if e.what.is_start() {
            if let Some(s) = slot {
                let (_, j) = open.remove(s);
                not_finished(out, &events[j], at);
            }
            open.push((vm.clone(), i));
            continue;
        }
        let start = slot.map(|s| open.remove(s).1).map(|j| &events[j]);
        // A task of the VM whose window holds the event.
        let task = tasks.iter().enumerate().find(|(_, t)| {
            same(&t.vm, &e.vm)
                && t.vm.is_some()
                && t.start <= e.time
                && t.end.is_none_or(|end| e.time <= end + 1_000_000_000)
        });
        if let Some((k, _)) = task {
            used_tasks[k] = true;
        }
        let start_time = match (start, task) {
            (Some(s), _) => s.time,
            (None, Some((_, t))) => t.start,
            (None, None) => {
                out.warnings.push(format!(
                    "{}: {} of {vm} has no start event before it and no task: skipped (export \
                     from an earlier time, or add the tasks)",
                    at(e.file, e.line),
                    e.what.type_name()
                ));
                continue;
            }
        };
        if e.what == What::Failed {
            let cancelled = task.is_some_and(|(_, t)| t.state == TaskState::Cancelled)
                || e.message
                    .as_deref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains("cancel"));
            out.unfinished.push(Unfinished {
                vm: Some(vm.clone()),
                outcome: if cancelled { "cancelled" } else { "failed" }.into(),
                start: Timestamp(start_time),
                end: Timestamp(e.time),
                at: at(e.file, e.line),
                reason: e.message.clone(),
            });
            continue;
        }
        drafts.push(draft(start, e, start_time, at));
    }
    for (_, j) in std::mem::take(&mut open) {
        not_finished(out, &events[j], at);
    }
    // Tasks no event explains: failed and cancelled ones are listed; a completed one is a
    // migration only when log lines inside it say what moved (below).
    let mut lone_tasks: Vec<&Task> = Vec::new();
    for (k, t) in tasks.iter().enumerate() {
        if used_tasks[k] {
            continue;
        }
        let explained = out.unfinished.iter().any(|u| {
            same(&u.vm, &t.vm) && u.start.0 <= t.end.unwrap_or(i64::MAX) && t.start <= u.end.0
        });
        if explained {
            continue;
        }
        let outcome = match t.state {
            TaskState::Error => "failed",
            TaskState::Cancelled => "cancelled",
            TaskState::Running => "not finished",
            TaskState::Success => {
                lone_tasks.push(t);
                continue;
            }
        };
        out.unfinished.push(Unfinished {
            vm: t.vm.clone(),
            outcome: outcome.into(),
            start: Timestamp(t.start),
            end: Timestamp(t.end.unwrap_or(t.start)),
            at: at(t.file, t.line),
            reason: None,
        });
    }
    logs(out, &mut drafts, lines, &mut lone_tasks, at);
    for t in lone_tasks {
        out.warnings.push(format!(
            "{}: task {} of {} completed, but no event or log line of it was read: its kind is \
             unknown, not labelled (add the events of its time)",
            at(t.file, t.line),
            t.name,
            t.vm.as_deref().unwrap_or("an unnamed VM")
        ));
    }
    for d in drafts.iter().filter(|d| d.state_unknown) {
        out.warnings.push(format!(
            "{}: nothing says whether {} was powered on during its migration (no \
             VmBeingHotMigratedEvent or VmBeingMigratedEvent, no PowerState column, no \
             vmkernel migration lines): taken as cold",
            d.origin.at,
            d.m.vm.as_deref().unwrap_or("?")
        ));
    }
    drafts.sort_by_key(|d| (d.m.start, d.m.end));
    for (n, d) in drafts.into_iter().enumerate() {
        let mut m = d.m;
        m.id = format!("m{}", n + 1);
        out.migrations.push(m);
        out.origins.push(d.origin);
    }
    out.unfinished.sort_by_key(|u| (u.start, u.end));
}

fn not_finished(out: &mut Derived, e: &Event, at: &dyn Fn(usize, usize) -> String) {
    out.unfinished.push(Unfinished {
        vm: e.vm.clone(),
        outcome: "not finished".into(),
        start: Timestamp(e.time),
        end: Timestamp(e.time),
        at: at(e.file, e.line),
        reason: None,
    });
}

/// A completed migration from its start (when read) and completion.
fn draft(
    start: Option<&Event>,
    done: &Event,
    start_time: i64,
    at: &dyn Fn(usize, usize) -> String,
) -> Draft {
    let pick = |a: &Option<String>, b: Option<&Option<String>>| {
        a.clone().or_else(|| b.and_then(|b| b.clone()))
    };
    let src_host = pick(&done.source_host, start.map(|s| &s.host));
    let dst_host = pick(&done.host, start.map(|s| &s.dest_host));
    let src_ds = pick(&done.source_ds, start.map(|s| &s.ds));
    let dst_ds = pick(&done.ds, start.map(|s| &s.dest_ds));
    let differ = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(!a.eq_ignore_ascii_case(b)),
        _ => None,
    };
    let relocation =
        done.what == What::Relocated || start.is_some_and(|s| s.what == What::RelocStart);
    let compute = differ(&src_host, &dst_host).unwrap_or(!relocation);
    let storage = differ(&src_ds, &dst_ds).unwrap_or(relocation && !compute);
    let kind = match (compute, storage) {
        (true, true) => MigrationKind::Xvmotion,
        (false, true) => MigrationKind::StorageVmotion,
        _ => MigrationKind::Vmotion,
    };
    let given = start.and_then(|s| match s.what {
        What::HotStart => Some(PowerState::Hot),
        What::ColdStart => Some(PowerState::Cold),
        _ => None,
    });
    let power = given.or(done.power).or_else(|| start.and_then(|s| s.power));
    let either = |f: fn(&Event) -> Option<u64>| f(done).or_else(|| start.and_then(f));
    let first = start.unwrap_or(done);
    Draft {
        m: Migration {
            id: String::new(),
            vm: done.vm.clone(),
            kind,
            state: power.unwrap_or(PowerState::Cold),
            start: Timestamp(start_time),
            end: Timestamp(done.time),
            source_host: src_host,
            dest_host: dst_host,
            memory_mb: either(|e| e.memory_mb),
            disk_mb: either(|e| e.disk_mb),
            vsphere_version: done
                .version
                .clone()
                .or_else(|| start.and_then(|s| s.version.clone())),
        },
        origin: Origin {
            at: at(first.file, first.line),
            drs: done.drs,
            narrowed: false,
        },
        state_unknown: power.is_none(),
    }
}

/// One migration id's log lines, across hosts.
struct Group {
    id: String,
    start: i64,
    end: i64,
    source: Option<String>,
    dest: Option<String>,
    first: (usize, usize),
}

fn logs(
    out: &mut Derived,
    drafts: &mut Vec<Draft>,
    mut lines: Vec<LogLine>,
    lone_tasks: &mut Vec<&Task>,
    at: &dyn Fn(usize, usize) -> String,
) {
    lines.sort_by(|a, b| (&a.id, a.time, a.file, a.line).cmp(&(&b.id, b.time, b.file, b.line)));
    let mut groups: Vec<Group> = Vec::new();
    for l in &lines {
        if groups.last().is_none_or(|g| g.id != l.id) {
            groups.push(Group {
                id: l.id.clone(),
                start: l.time,
                end: l.time,
                source: None,
                dest: None,
                first: (l.file, l.line),
            });
        }
        let g = groups.last_mut().expect("pushed above");
        g.end = g.end.max(l.time);
        // A host's name from its syslog lines, else the vMotion address its start line gives.
        let name = |own: bool| match (&l.host, &l.ips) {
            (Some(h), _) if own => Some(h.clone()),
            (_, Some((s, d))) => Some(if l.source == Some(true) { s } else { d }.clone()),
            _ => None,
        };
        match l.source {
            Some(true) if g.source.is_none() || l.host.is_some() => g.source = name(true),
            Some(false) if g.dest.is_none() || l.host.is_some() => g.dest = name(true),
            _ => {}
        }
        if let Some((s, d)) = &l.ips {
            g.source.get_or_insert_with(|| s.clone());
            g.dest.get_or_insert_with(|| d.clone());
        }
    }
    groups.sort_by_key(|g| (g.start, g.end));
    for g in groups {
        let matched = drafts.iter_mut().find(|d| {
            d.m.start.0 <= g.end
                && g.start <= d.m.end.0
                && same_host(&d.m.source_host, &g.source)
                && same_host(&d.m.dest_host, &g.dest)
        });
        match matched {
            Some(d) => {
                if d.state_unknown {
                    d.m.state = PowerState::Hot;
                    d.state_unknown = false;
                }
                if d.m.start.0 <= g.start
                    && g.end <= d.m.end.0
                    && (g.start, g.end) != (d.m.start.0, d.m.end.0)
                {
                    d.m.start = Timestamp(g.start);
                    d.m.end = Timestamp(g.end);
                    d.origin.narrowed = true;
                }
            }
            None => {
                // A completed task of one VM whose window holds the lines: its VM, the lines'
                // window.
                let task = lone_tasks
                    .iter()
                    .position(|t| t.start <= g.start && t.end.is_some_and(|e| g.end <= e));
                if let Some(k) = task {
                    let t = lone_tasks.remove(k);
                    out.warnings.push(format!(
                        "{}: task {} of {} has no event, but the log lines of migration {} lie \
                         inside it: taken as a hot vMotion ({} to {}) over the lines' window; \
                         the logs do not say whether storage moved too",
                        at(t.file, t.line),
                        t.name,
                        t.vm.as_deref().unwrap_or("an unnamed VM"),
                        g.id,
                        g.source.as_deref().unwrap_or("?"),
                        g.dest.as_deref().unwrap_or("?"),
                    ));
                    drafts.push(hot_vmotion_from_logs(
                        t.vm.clone(),
                        (g.start, g.end),
                        (g.source, g.dest),
                        at(t.file, t.line),
                        true,
                    ));
                    continue;
                }
                out.warnings.push(format!(
                    "{}: migration {} is in the logs only: taken as a hot vMotion ({} to {}, \
                     {} to {}); the logs do not say whether storage moved too",
                    at(g.first.0, g.first.1),
                    g.id,
                    g.source.as_deref().unwrap_or("?"),
                    g.dest.as_deref().unwrap_or("?"),
                    rfc3339(g.start),
                    rfc3339(g.end)
                ));
                drafts.push(hot_vmotion_from_logs(
                    None,
                    (g.start, g.end),
                    (g.source, g.dest),
                    at(g.first.0, g.first.1),
                    false,
                ));
            }
        }
    }
}

/// A hot vMotion known from log lines (the logs cannot tell whether storage moved too): its
/// window and (source, destination) hosts, `vm` when a task names it, the place it was read at,
/// and whether a task's window was narrowed to the lines'.
fn hot_vmotion_from_logs(
    vm: Option<String>,
    (start, end): (i64, i64),
    (source_host, dest_host): (Option<String>, Option<String>),
    at: String,
    narrowed: bool,
) -> Draft {
    Draft {
        m: Migration {
            id: String::new(),
            vm,
            kind: MigrationKind::Vmotion,
            state: PowerState::Hot,
            start: Timestamp(start),
            end: Timestamp(end),
            source_host,
            dest_host,
            memory_mb: None,
            disk_mb: None,
            vsphere_version: None,
        },
        origin: Origin {
            at,
            drs: false,
            narrowed,
        },
        state_unknown: false,
    }
}

#[cfg(test)]
mod tests;
