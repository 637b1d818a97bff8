//! The NDJSON line format of live analysis, version [`LIVE_SCHEMA_VERSION`].
//!
//! In: what the interval accumulator and the migration tracker computed. Out: one JSON object per
//! line, each with `live_schema_version` and `type` (`interval`, `event` or `final`). The fields
//! are described in docs/ndjson.md; adding a field keeps the version, changing or removing one
//! bumps it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::classify::inventory::Network;
use crate::vocab::ports::TrafficClass;

/// Version of the line format.
pub const LIVE_SCHEMA_VERSION: u32 = 1;

/// One interval's counts.
#[derive(Debug, Clone, Serialize)]
pub struct IntervalLine {
    /// [`LIVE_SCHEMA_VERSION`].
    pub live_schema_version: u32,
    /// `"interval"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Line number among interval lines, from 1.
    pub seq: u64,
    /// What closed the interval: `capture_time`, `wall_clock` (the stream stalled) or `end`.
    pub trigger: &'static str,
    /// Wall-clock time the line was written (RFC 3339, UTC).
    pub wall_time: String,
    /// Capture time the interval starts at (the previous line's `end`); null before any packet.
    pub start: Option<String>,
    /// Capture time the interval ends at: the interval boundary, or the last packet's time for
    /// `wall_clock` and `end` lines.
    pub end: Option<String>,
    /// Packets in the interval.
    pub packets: u64,
    /// Wire bytes in the interval.
    pub wire_bytes: u64,
    /// TCP/UDP payload bytes in the interval.
    pub payload_bytes: u64,
    /// Payload bytes by network of either end (a packet between two networks counts under both).
    pub payload_bytes_by_network: BTreeMap<Network, u64>,
    /// Payload bytes by traffic class (sums to `payload_bytes`).
    pub payload_bytes_by_class: BTreeMap<TrafficClass, u64>,
    /// Packets since the start of the stream.
    pub total_packets: u64,
    /// Payload bytes since the start of the stream.
    pub total_payload_bytes: u64,
    /// `inventory` (given) or `inferred` (from the traffic seen so far; may change).
    pub attribution: &'static str,
    /// The largest data-class flows of the interval, by payload bytes.
    pub top_flows: Vec<TopFlow>,
    /// Migrations in progress at the end of the interval.
    pub active_migrations: Vec<String>,
}

/// A bulk flow of an interval.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopFlow {
    /// `tcp`, `udp` or the protocol number.
    pub proto: String,
    /// Client `ip:port` (`[ip]:port` for IPv6).
    pub client: String,
    /// Server `ip:port`.
    pub server: String,
    /// Traffic class.
    pub class: TrafficClass,
    /// Network of the client, as attributed when the line was written.
    pub client_network: Network,
    /// Network of the server.
    pub server_network: Network,
    /// Payload bytes in the interval, both directions.
    pub bytes: u64,
}

/// A migration event.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    /// [`LIVE_SCHEMA_VERSION`].
    pub live_schema_version: u32,
    /// `"event"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `migration_started`, `phase_changed`, `switchover` or `migration_ended`.
    pub event: &'static str,
    /// Migration id: the label's id, or `detected-N` as in the final report.
    pub migration: String,
    /// Capture time the event refers to.
    pub ts: String,
    /// Whether the migration comes from labels.
    pub labelled: bool,
    /// Labelled kind and state, e.g. `vmotion:hot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// `phase_changed`: the new phase (`setup`, `transfer`, `switchover`, `cleanup`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<&'static str>,
    /// `switchover`: the RARP sender MAC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// `migration_ended`: where the migration started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// `migration_started`, `migration_ended`: data-class payload bytes so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_bytes: Option<u64>,
    /// `migration_ended`: data-class payload bytes by class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_bytes_by_class: Option<BTreeMap<TrafficClass, u64>>,
}

/// The last line of a run.
#[derive(Debug, Clone, Serialize)]
pub struct FinalLine {
    /// [`LIVE_SCHEMA_VERSION`].
    pub live_schema_version: u32,
    /// `"final"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Why reading stopped: `end`, `idle` (--follow-idle), `signal` or `error`.
    pub reason: &'static str,
    /// Wall-clock time the line was written.
    pub wall_time: String,
    /// Packets read.
    pub packets: u64,
    /// Payload bytes read.
    pub payload_bytes: u64,
    /// Whether the stream ended inside a record.
    pub truncated: bool,
}
