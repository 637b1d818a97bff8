//! Migration events as packets arrive: started, phase changed, switchover, ended.
//!
//! In: per packet its capture time, and its data-class payload bytes (with whether a vmk is at
//! one end); every RARP frame. Out: [`EventLine`]s.
//!
//! Without labels, sessions follow [`crate::migration::detect`]: data-class bytes in 1 ms bins,
//! a session split where none flows for [`SESSION_GAP_NS`], reported (`migration_started`) once it
//! has moved [`MIN_SESSION_BYTES`], numbered `detected-N` like the final report. With labels, the
//! labelled windows start and end the migrations. Phases are the live approximation of
//! [`crate::migration::phases`]: `setup` (labelled windows, until the first data byte),
//! `transfer`, `switchover` (at the first RARP frame of a hot migration with vMotion bytes, within
//! the window or [`RARP_SLACK_NS`] after it) and `cleanup` (the first data byte after the
//! switchover). The final report cuts phases on the whole window and may differ.

use std::collections::BTreeMap;

use super::line::{EventLine, LIVE_SCHEMA_VERSION};
use crate::labels::Migration;
use crate::migration::detect::{MIN_SESSION_BYTES, SESSION_GAP_NS};
use crate::migration::phases::RARP_SLACK_NS;
use crate::migration::timeline::BIN_NS;
use crate::vocab::Mac;
use crate::vocab::kind::{KindState, PowerState};
use crate::vocab::ports::TrafficClass;
use crate::vocab::time::rfc3339;

/// One migration being followed.
#[derive(Debug, Clone)]
struct Tracked {
    id: String,
    labelled: bool,
    scenario: Option<String>,
    hot: bool,
    start: i64,
    end: i64,
    started: bool,
    ended: bool,
    phase: Option<&'static str>,
    last_data_bin: i64,
    data_bytes: u64,
    vmotion_bytes: u64,
    by_class: BTreeMap<TrafficClass, u64>,
}

impl Tracked {
    /// A labelled window that has not started yet.
    fn new(id: String, scenario: Option<String>, hot: bool, start: i64, end: i64) -> Tracked {
        Tracked {
            id,
            labelled: true,
            scenario,
            hot,
            start,
            end,
            started: false,
            ended: false,
            phase: None,
            last_data_bin: i64::MIN,
            data_bytes: 0,
            vmotion_bytes: 0,
            by_class: BTreeMap::new(),
        }
    }

    fn event(&self, event: &'static str, ts: i64) -> EventLine {
        EventLine {
            live_schema_version: LIVE_SCHEMA_VERSION,
            kind: "event",
            event,
            migration: self.id.clone(),
            ts: rfc3339(ts),
            labelled: self.labelled,
            scenario: self.scenario.clone(),
            phase: None,
            mac: None,
            start: None,
            data_bytes: None,
            payload_bytes_by_class: None,
        }
    }

    fn phase(&mut self, phase: &'static str, ts: i64, out: &mut Vec<EventLine>) {
        if self.phase != Some(phase) {
            self.phase = Some(phase);
            let mut e = self.event("phase_changed", ts);
            e.phase = Some(phase);
            out.push(e);
        }
    }

    fn end_event(&mut self, ts: i64, out: &mut Vec<EventLine>) {
        self.ended = true;
        let mut e = self.event("migration_ended", ts);
        e.start = Some(rfc3339(self.start));
        e.data_bytes = Some(self.data_bytes);
        e.payload_bytes_by_class = Some(self.by_class.clone());
        out.push(e);
    }

    fn data(&mut self, ts: i64, class: TrafficClass, bytes: u64, out: &mut Vec<EventLine>) {
        self.data_bytes += bytes;
        if class == TrafficClass::Vmotion {
            self.vmotion_bytes += bytes;
        }
        *self.by_class.entry(class).or_default() += bytes;
        self.last_data_bin = ts.div_euclid(BIN_NS);
        if self.started {
            match self.phase {
                Some("setup") | None => self.phase("transfer", ts, out),
                Some("switchover") => self.phase("cleanup", ts, out),
                _ => {}
            }
        }
    }

    fn rarp(&mut self, ts: i64, mac: Mac, out: &mut Vec<EventLine>) {
        let in_window = ts >= self.start && ts <= self.end.saturating_add(RARP_SLACK_NS);
        if self.started
            && self.hot
            && self.vmotion_bytes > 0
            && in_window
            && matches!(self.phase, Some("transfer"))
        {
            let mut e = self.event("switchover", ts);
            e.mac = Some(mac.to_string());
            out.push(e);
            self.phase("switchover", ts, out);
        }
    }
}

/// Where migrations come from.
enum Mode {
    Detect { next: u32 },
    Labels,
}

/// Follows migrations and emits their events.
pub struct Events {
    mode: Mode,
    tracked: Vec<Tracked>,
    /// Scenario labels: one migration from the first packet to the end.
    scenario: Option<(String, bool)>,
}

impl Events {
    /// Detects sessions without labels.
    pub fn detect() -> Events {
        Events {
            mode: Mode::Detect { next: 1 },
            tracked: Vec::new(),
            scenario: None,
        }
    }

    /// Follows labelled windows.
    pub fn labelled(migrations: &[Migration]) -> Events {
        let mut tracked: Vec<Tracked> = migrations
            .iter()
            .map(|m| {
                Tracked::new(
                    m.id.clone(),
                    Some(KindState::new(m.kind, m.state).to_string()),
                    m.state == PowerState::Hot,
                    m.start.0,
                    m.end.0,
                )
            })
            .collect();
        tracked.sort_by_key(|t| (t.start, t.id.clone()));
        Events {
            mode: Mode::Labels,
            tracked,
            scenario: None,
        }
    }

    /// `--scenario`: one labelled migration spanning the stream.
    pub fn scenario(name: String, hot: bool) -> Events {
        Events {
            mode: Mode::Labels,
            tracked: Vec::new(),
            scenario: Some((name, hot)),
        }
    }

    /// Ids of migrations in progress.
    pub fn active(&self) -> Vec<String> {
        self.tracked
            .iter()
            .filter(|t| t.started && !t.ended)
            .map(|t| t.id.clone())
            .collect()
    }

    /// Advances capture time to `ts`: starts and ends windows and sessions.
    pub fn time(&mut self, ts: i64, out: &mut Vec<EventLine>) {
        if let Some((name, hot)) = self.scenario.take() {
            let t = Tracked::new("m1".into(), Some(name), hot, ts, i64::MAX);
            self.tracked.push(t);
        }
        match self.mode {
            Mode::Labels => {
                for t in &mut self.tracked {
                    if !t.started && ts >= t.start {
                        t.started = true;
                        let e = t.event("migration_started", t.start);
                        out.push(e);
                        t.phase("setup", t.start, out);
                    }
                    if t.started && !t.ended && ts > t.end {
                        t.end_event(t.end, out);
                    }
                }
            }
            Mode::Detect { .. } => {
                for t in &mut self.tracked {
                    let last_end = (t.last_data_bin + 1).saturating_mul(BIN_NS);
                    if !t.ended && ts.saturating_sub(last_end) > SESSION_GAP_NS {
                        t.end = last_end - 1;
                        if t.started {
                            t.end_event(t.end, out);
                        } else {
                            t.ended = true;
                        }
                    }
                }
                // Keep only sessions that may still see a RARP frame.
                self.tracked
                    .retain(|t| !t.ended || ts <= t.end.saturating_add(RARP_SLACK_NS));
            }
        }
    }

    /// Data-class payload bytes of a packet at `ts`.
    pub fn data(
        &mut self,
        ts: i64,
        class: TrafficClass,
        bytes: u64,
        has_vmk: bool,
        out: &mut Vec<EventLine>,
    ) {
        if !class.is_data() || bytes == 0 || !has_vmk {
            return;
        }
        match &mut self.mode {
            Mode::Labels => {
                for t in &mut self.tracked {
                    if t.started && !t.ended && ts >= t.start && ts <= t.end {
                        t.data(ts, class, bytes, out);
                    }
                }
            }
            Mode::Detect { next } => {
                let open = self.tracked.iter().position(|t| !t.ended);
                let i = match open {
                    Some(i) => i,
                    None => {
                        let bin = ts.div_euclid(BIN_NS);
                        // A detected session: unlabelled, named once it is big enough.
                        self.tracked.push(Tracked {
                            labelled: false,
                            last_data_bin: bin,
                            ..Tracked::new(
                                String::new(),
                                None,
                                true,
                                bin.saturating_mul(BIN_NS),
                                i64::MAX,
                            )
                        });
                        self.tracked.len() - 1
                    }
                };
                let Some(t) = self.tracked.get_mut(i) else {
                    return;
                };
                t.data(ts, class, bytes, out);
                if !t.started && t.data_bytes >= MIN_SESSION_BYTES {
                    t.started = true;
                    t.id = format!("detected-{next}");
                    *next += 1;
                    let mut e = t.event("migration_started", t.start);
                    e.data_bytes = Some(t.data_bytes);
                    out.push(e);
                    t.phase("transfer", t.start, out);
                }
            }
        }
    }

    /// A RARP frame.
    pub fn rarp(&mut self, ts: i64, mac: Mac, out: &mut Vec<EventLine>) {
        for t in &mut self.tracked {
            t.rarp(ts, mac, out);
        }
    }

    /// The end of the stream: ends what is in progress, at the last data byte (sessions) or the
    /// last packet (labelled windows still open).
    pub fn finish(&mut self, last_ts: Option<i64>, out: &mut Vec<EventLine>) {
        let detect = matches!(self.mode, Mode::Detect { .. });
        for t in &mut self.tracked {
            if t.started && !t.ended {
                let end = if detect {
                    (t.last_data_bin + 1).saturating_mul(BIN_NS) - 1
                } else {
                    last_ts.unwrap_or(t.start).min(t.end)
                };
                t.end = end;
                t.end_event(end, out);
            }
        }
    }
}
