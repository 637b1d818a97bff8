//! The report's `events` section (`analyze --events`): the files read, and how the migrations
//! they record match the capture: those outside it, those inside without traffic (not
//! captured?), and traffic sessions that no event explains.

use serde::Serialize;

use crate::events::{Derived, SourceFile, Unfinished};
use crate::labels::Timestamp;
use crate::migration::Analysed;
use crate::vocab::ports::TrafficClass;
use crate::vocab::time::rfc3339;

/// A migration of the events that lies in the capture.
#[derive(Debug, Clone, Serialize)]
pub struct EventMigration {
    /// Its id in `migrations`.
    pub id: String,
    /// The VM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    /// Where it is recorded: `FILE: line N` of its start.
    pub recorded_at: String,
    /// Initiated by DRS (`DrsVmMigratedEvent`).
    pub drs_initiated: bool,
    /// Its window was narrowed to the log lines inside the events' window.
    pub narrowed_by_logs: bool,
    /// Data bytes the capture holds in its window and scope.
    pub data_bytes: u64,
    /// Whether the capture shows its traffic: a detected session overlaps its window, or vMotion
    /// or NFC bytes flowed in it (other VMs' storage I/O alone is no migration).
    pub traffic_seen: bool,
}

/// A traffic session that no migration of the events explains.
#[derive(Debug, Clone, Serialize)]
pub struct UnexplainedSession {
    /// Start of its traffic.
    pub start: Timestamp,
    /// End of its traffic.
    pub end: Timestamp,
    /// Hosts whose vmks carried it.
    pub hosts: Vec<String>,
    /// What it looks like, best first (`vmotion:hot`, …).
    pub looks_like: Vec<String>,
    /// Its data bytes.
    pub data_bytes: u64,
}

/// A failed, cancelled or unfinished migration, and whether the capture shows traffic in it.
#[derive(Debug, Clone, Serialize)]
pub struct UnfinishedSeen {
    /// The migration.
    #[serde(flatten)]
    pub migration: Unfinished,
    /// Whether a traffic session overlaps its window.
    pub traffic_seen: bool,
}

/// The `events` section.
#[derive(Debug, Clone, Serialize)]
pub struct EventsCheck {
    /// The files, in order, with their formats.
    pub sources: Vec<SourceFile>,
    /// Completed migrations the files record.
    pub migrations_recorded: usize,
    /// Those that overlap the capture: its labels.
    pub in_capture: Vec<EventMigration>,
    /// Those outside the capture (not labelled).
    pub outside_capture: usize,
    /// Migrations in the capture whose traffic the capture does not show: not captured?
    pub without_traffic: Vec<String>,
    /// Traffic sessions that overlap no migration of the events (completed or not).
    pub sessions_without_events: Vec<UnexplainedSession>,
    /// Failed, cancelled and unfinished migrations that overlap the capture.
    pub unfinished: Vec<UnfinishedSeen>,
}

/// Builds the section: `span` is the capture's first and last packet, `analysed` the labelled
/// migrations (those of `derived` in the span, in order), `sessions` what detection finds.
pub fn check(
    derived: &Derived,
    span: Option<(i64, i64)>,
    analysed: &[Analysed],
    sessions: &[Analysed],
) -> EventsCheck {
    let inside = |s: i64, e: i64| span.is_some_and(|(a, b)| s <= b && a <= e);
    let mut in_capture = Vec::new();
    for (m, o) in derived.migrations.iter().zip(&derived.origins) {
        if !inside(m.start.0, m.end.0) {
            continue;
        }
        let a = analysed.iter().find(|a| a.id == m.id);
        let bytes = a.map_or(0, |a| a.evidence.data_bytes);
        let migration_bytes = a.map_or(0, |a| {
            [TrafficClass::Vmotion, TrafficClass::Nfc]
                .iter()
                .filter_map(|c| a.evidence.by_class.get(c))
                .sum::<u64>()
        });
        let traffic_seen = migration_bytes > 0
            || sessions
                .iter()
                .any(|s| s.start <= m.end.0 && m.start.0 <= s.end);
        in_capture.push(EventMigration {
            id: m.id.clone(),
            vm: m.vm.clone(),
            recorded_at: o.at.clone(),
            drs_initiated: o.drs,
            narrowed_by_logs: o.narrowed,
            data_bytes: bytes,
            traffic_seen,
        });
    }
    let unfinished: Vec<&Unfinished> = derived
        .unfinished
        .iter()
        .filter(|u| inside(u.start.0, u.end.0))
        .collect();
    let overlaps = |s: &Analysed, a: i64, b: i64| s.start <= b && a <= s.end;
    let sessions_without_events = sessions
        .iter()
        .filter(|s| {
            !analysed.iter().any(|m| overlaps(s, m.start, m.end))
                && !unfinished.iter().any(|u| overlaps(s, u.start.0, u.end.0))
        })
        .map(|s| UnexplainedSession {
            start: Timestamp(s.start),
            end: Timestamp(s.end),
            hosts: s.hosts.clone(),
            looks_like: s.looks_like.iter().map(|k| k.to_string()).collect(),
            data_bytes: s.evidence.data_bytes,
        })
        .collect();
    EventsCheck {
        sources: derived.sources.clone(),
        migrations_recorded: derived.migrations.len(),
        outside_capture: derived.migrations.len() - in_capture.len(),
        without_traffic: in_capture
            .iter()
            .filter(|m| !m.traffic_seen)
            .map(|m| m.id.clone())
            .collect(),
        in_capture,
        sessions_without_events,
        unfinished: unfinished
            .into_iter()
            .map(|u| UnfinishedSeen {
                migration: u.clone(),
                traffic_seen: sessions.iter().any(|s| overlaps(s, u.start.0, u.end.0)),
            })
            .collect(),
    }
}

impl EventsCheck {
    /// What the report's reader must know: migrations outside the capture, migrations without
    /// traffic, sessions without events.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.outside_capture > 0 {
            w.push(format!(
                "events: {} of the {} migrations the events record lie outside the capture: \
                 labels for the captured part only ({})",
                self.outside_capture,
                self.migrations_recorded,
                self.in_capture.len()
            ));
        }
        for id in &self.without_traffic {
            let m = self.in_capture.iter().find(|m| &m.id == id);
            w.push(format!(
                "events: migration {id}{} ({}) shows no migration traffic in the capture (no vMotion \
                 or NFC bytes, no session): not captured?",
                m.and_then(|m| m.vm.as_ref())
                    .map(|v| format!(" of {v}"))
                    .unwrap_or_default(),
                m.map_or("", |m| m.recorded_at.as_str())
            ));
        }
        for s in &self.sessions_without_events {
            w.push(format!(
                "events: traffic from {} to {} ({} data bytes, looks like {}) matches no \
                 migration in the events",
                rfc3339(s.start.0),
                rfc3339(s.end.0),
                s.data_bytes,
                s.looks_like.first().map_or("?", String::as_str)
            ));
        }
        w
    }
}
