//! Parquet tables of a report (`analyze --parquet DIR`): the capture, its flows, its payload bytes
//! per second by network and class, its migrations and their verdicts, one file per table under a
//! Hive-style partition `capture=<id>`, so that the outputs of many captures written into one
//! directory form one dataset (docs/fleet.md).
//!
//! In: the [`Report`] and what the pipeline computed beside it for these tables ([`Extras`]: the
//! per-second series, the migrations' windows and scopes, the capture's time span). Out: files
//! `DIR/<table>/capture=<id>/part-0.parquet`. Every row is taken from the report, so the tables
//! add up to the JSON's totals; the bytes are deterministic (no time of the run; `created_by`
//! names vmkflow and its version).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde::Serialize;

use super::Report;
use super::flows::{DirReport, EndpointReport, FlowReport};
use crate::classify::inventory::Network;
use crate::classify::networks_of;
use crate::migration::timeline::{BIN_NS, Timeline};
use crate::migration::{Analysed, LocatedConv};
use crate::vocab::ports::TrafficClass;

/// The tables, each a directory of `DIR`.
pub const TABLES: [&str; 5] = ["captures", "flows", "series", "migrations", "verdicts"];

/// The file each partition holds.
pub const FILE_NAME: &str = "part-0.parquet";

/// The longest capture id kept whole; a longer one is cut and given a hash of the whole.
pub const MAX_ID_LEN: usize = 120;

/// Payload bytes of one second, network and class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondBytes {
    /// Seconds since the Unix epoch (the second the bytes' 1 ms bins fall in).
    pub second: i64,
    /// The network (a conversation with ends on two networks counts under both).
    pub network: Network,
    /// The class.
    pub class: TrafficClass,
    /// Payload bytes.
    pub payload_bytes: u64,
}

/// A migration's window and the hosts whose flows it takes (empty: every flow in the window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationWindow {
    /// The migration's id.
    pub id: String,
    /// Window start (ns).
    pub start: i64,
    /// Window end (ns).
    pub end: i64,
    /// The inventory hosts its scope keeps flows of.
    pub scope_hosts: BTreeSet<String>,
}

/// What the tables need beyond the JSON report, computed by the pipeline when
/// [`crate::analyze::AnalyzeOptions::parquet`] asks for it.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Payload bytes per second, network and class, in that order.
    pub seconds: Vec<SecondBytes>,
    /// Per migration, in the report's order.
    pub windows: Vec<MigrationWindow>,
    /// The capture's first and last timestamp (ns).
    pub span: Option<(i64, i64)>,
}

/// Folds the timeline's 1 ms bins into seconds by network and class, attributing conversations
/// to networks as the report's totals do; takes each migration's window and scope.
pub fn extras(
    tl: &Timeline,
    located: &[LocatedConv],
    analysed: &[Analysed],
    span: Option<(i64, i64)>,
) -> Extras {
    let bins_per_second = 1_000_000_000 / BIN_NS;
    let mut by: BTreeMap<(i64, Network, TrafficClass), u64> = BTreeMap::new();
    for c in located {
        let Some(s) = tl.series.get(c.series) else {
            continue;
        };
        for b in s.bins.iter() {
            let second = b.idx.div_euclid(bins_per_second);
            for n in c.counted_networks() {
                *by.entry((second, n, c.class)).or_default() += b.bytes[0] + b.bytes[1];
            }
        }
    }
    Extras {
        seconds: by
            .into_iter()
            .filter(|(_, b)| *b > 0)
            .map(|((second, network, class), payload_bytes)| SecondBytes {
                second,
                network,
                class,
                payload_bytes,
            })
            .collect(),
        windows: analysed
            .iter()
            .map(|m| MigrationWindow {
                id: m.id.clone(),
                start: m.start,
                end: m.end,
                scope_hosts: m.scope_hosts.clone(),
            })
            .collect(),
        span,
    }
}

/// The partition id of a capture from its inputs' names as given: each name with every character
/// other than ASCII letters, digits, `.`, `_` and `-` replaced by `_` (a leading `./` or `/`
/// dropped; standard input is `stdin`), the names of a capture set joined by `+`. An id longer
/// than [`MAX_ID_LEN`] keeps its first characters and ends in a hash of the whole.
pub fn capture_id<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let parts: Vec<String> = names
        .into_iter()
        .map(|n| {
            if n == "<stdin>" || n == "-" {
                return "stdin".to_string();
            }
            let n = n.trim_start_matches("./").trim_start_matches('/');
            n.chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                    _ => '_',
                })
                .collect()
        })
        .collect();
    let id = match parts.join("+") {
        s if s.is_empty() => "capture".to_string(),
        s => s,
    };
    sanitize_id(&id)
}

/// An id given by the user (`--capture-id`), made safe as [`capture_id`] makes names.
pub fn sanitize_id(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' | '+' => c,
            _ => '_',
        })
        .collect();
    let safe = match safe.as_str() {
        "" | "." | ".." => format!("capture{safe}"),
        _ => safe,
    };
    if safe.len() <= MAX_ID_LEN {
        return safe;
    }
    // FNV-1a: the same id on every machine and run.
    let hash = safe.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{hash:016x}", &safe[..MAX_ID_LEN - 17])
}

/// A table that could not be written.
#[derive(Debug)]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    pub source: io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for WriteError {}

/// Writes the tables of `report` into `dir`, under the partition `capture=<id>` of each table,
/// replacing that partition's file and nothing else. Each file is written beside its place and
/// renamed into it once all are written.
pub fn write_dataset(
    dir: &Path,
    id: &str,
    report: &Report,
    extras: &Extras,
) -> Result<Vec<PathBuf>, WriteError> {
    let tables = [
        ("captures", captures(report, extras)),
        ("flows", flows(report, extras)),
        ("series", series(report, extras)),
        ("migrations", migrations(report, extras)),
        ("verdicts", verdicts(report)),
    ];
    let mut written = Vec::new();
    for (name, table) in &tables {
        let part = dir.join(name).join(format!("capture={id}"));
        fs::create_dir_all(&part).map_err(|source| WriteError {
            path: part.clone(),
            source,
        })?;
        let tmp = part.join(format!(".{FILE_NAME}.tmp"));
        write_table(&tmp, table).map_err(|source| WriteError {
            path: tmp.clone(),
            source,
        })?;
        written.push((tmp, part.join(FILE_NAME)));
    }
    for (tmp, path) in &written {
        fs::rename(tmp, path).map_err(|source| WriteError {
            path: path.clone(),
            source,
        })?;
    }
    Ok(written.into_iter().map(|(_, p)| p).collect())
}

/// A column's values.
enum Values {
    Str(Vec<Option<String>>),
    I64(Vec<Option<i64>>, &'static str),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    StrList(Vec<Vec<String>>),
    Map(Vec<Vec<(String, i64)>>),
}

/// One table: named columns of equal length.
struct Table {
    columns: Vec<(&'static str, Values)>,
}

/// The logical type of a timestamp column: microseconds since the epoch, UTC (what Spark, Trino
/// and DuckDB all read as a timestamp).
const TS: &str = "TIMESTAMP(MICROS,true)";

/// A count as Parquet's signed 64-bit integer.
fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A time in ns as microseconds.
fn micros(ns: i64) -> i64 {
    ns.div_euclid(1000)
}

/// The snake_case name serde gives a unit enum value.
fn name_of(v: &impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl Table {
    fn new() -> Table {
        Table {
            columns: Vec::new(),
        }
    }

    fn str<I: IntoIterator<Item = Option<String>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::Str(v.into_iter().collect())));
    }
    fn i64<I: IntoIterator<Item = Option<i64>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::I64(v.into_iter().collect(), "")));
    }
    fn ts<I: IntoIterator<Item = Option<i64>>>(&mut self, name: &'static str, ns: I) {
        let v = ns.into_iter().map(|t| t.map(micros)).collect();
        self.columns.push((name, Values::I64(v, TS)));
    }
    fn i32<I: IntoIterator<Item = Option<i32>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::I32(v.into_iter().collect())));
    }
    fn f64<I: IntoIterator<Item = Option<f64>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::F64(v.into_iter().collect())));
    }
    fn bool<I: IntoIterator<Item = Option<bool>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::Bool(v.into_iter().collect())));
    }
    fn list<I: IntoIterator<Item = Vec<String>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::StrList(v.into_iter().collect())));
    }
    fn map<I: IntoIterator<Item = Vec<(String, i64)>>>(&mut self, name: &'static str, v: I) {
        self.columns
            .push((name, Values::Map(v.into_iter().collect())));
    }

    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| match v {
            Values::Str(v) => v.len(),
            Values::I64(v, _) => v.len(),
            Values::I32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::StrList(v) => v.len(),
            Values::Map(v) => v.len(),
        })
    }

    /// The Parquet schema, in the message syntax.
    fn schema(&self) -> String {
        let mut s = String::from("message vmkflow {\n");
        for (name, v) in &self.columns {
            let line = match v {
                Values::Str(_) => format!("optional binary {name} (STRING);"),
                Values::I64(_, "") => format!("optional int64 {name};"),
                Values::I64(_, logical) => format!("optional int64 {name} ({logical});"),
                Values::I32(_) => format!("optional int32 {name};"),
                Values::F64(_) => format!("optional double {name};"),
                Values::Bool(_) => format!("optional boolean {name};"),
                Values::StrList(_) => format!(
                    "required group {name} (LIST) {{ repeated group list {{ required binary \
                     element (STRING); }} }}"
                ),
                Values::Map(_) => format!(
                    "required group {name} (MAP) {{ repeated group key_value {{ required binary \
                     key (STRING); required int64 value; }} }}"
                ),
            };
            s.push_str("  ");
            s.push_str(&line);
            s.push('\n');
        }
        s.push('}');
        s
    }
}

/// Values and definition levels of an optional column.
fn optional<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let values = v.iter().flatten().cloned().collect();
    let def = v.iter().map(|x| i16::from(x.is_some())).collect();
    (values, def)
}

/// Definition and repetition levels of a required list (or map) of lists `v`: an empty list is
/// one level 0 entry; element `i` of a list has definition 1 and repetition 0 for the first.
fn list_levels<T>(v: &[Vec<T>]) -> (Vec<i16>, Vec<i16>) {
    let mut def = Vec::new();
    let mut rep = Vec::new();
    for l in v {
        if l.is_empty() {
            def.push(0);
            rep.push(0);
        }
        for i in 0..l.len() {
            def.push(1);
            rep.push(i16::from(i > 0));
        }
    }
    (def, rep)
}

fn bytes(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

/// Writes `t` to the file `path`: one row group, Snappy-compressed pages.
fn write_table(path: &Path, t: &Table) -> io::Result<()> {
    let file = fs::File::create(path)?;
    write_to(file, t).map_err(|e| match e {
        ParquetError::External(e) => match e.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(e) => io::Error::other(e),
        },
        e => io::Error::other(e),
    })
}

fn write_to(file: fs::File, t: &Table) -> Result<(), ParquetError> {
    let schema = Arc::new(parse_message_type(&t.schema())?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_created_by(format!("vmkflow {}", env!("CARGO_PKG_VERSION")))
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut w = SerializedFileWriter::new(file, schema, props)?;
    if t.rows() > 0 {
        let mut rg = w.next_row_group()?;
        for (_, v) in &t.columns {
            match v {
                Values::Str(v) => {
                    let (vals, def) = optional(v);
                    let vals: Vec<ByteArray> = vals.iter().map(|s| bytes(s)).collect();
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<ByteArrayType>()
                        .write_batch(&vals, Some(&def), None)?;
                    c.close()?;
                }
                Values::I64(v, _) => {
                    let (vals, def) = optional(v);
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<Int64Type>()
                        .write_batch(&vals, Some(&def), None)?;
                    c.close()?;
                }
                Values::I32(v) => {
                    let (vals, def) = optional(v);
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<Int32Type>()
                        .write_batch(&vals, Some(&def), None)?;
                    c.close()?;
                }
                Values::F64(v) => {
                    let (vals, def) = optional(v);
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<DoubleType>()
                        .write_batch(&vals, Some(&def), None)?;
                    c.close()?;
                }
                Values::Bool(v) => {
                    let (vals, def) = optional(v);
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<BoolType>().write_batch(&vals, Some(&def), None)?;
                    c.close()?;
                }
                Values::StrList(v) => {
                    let (def, rep) = list_levels(v);
                    let vals: Vec<ByteArray> = v.iter().flatten().map(|s| bytes(s)).collect();
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<ByteArrayType>()
                        .write_batch(&vals, Some(&def), Some(&rep))?;
                    c.close()?;
                }
                Values::Map(v) => {
                    let (def, rep) = list_levels(v);
                    let keys: Vec<ByteArray> = v.iter().flatten().map(|(k, _)| bytes(k)).collect();
                    let vals: Vec<i64> = v.iter().flatten().map(|(_, x)| *x).collect();
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<ByteArrayType>()
                        .write_batch(&keys, Some(&def), Some(&rep))?;
                    c.close()?;
                    let Some(mut c) = rg.next_column()? else {
                        return Err(ParquetError::General("column missing".into()));
                    };
                    c.typed::<Int64Type>()
                        .write_batch(&vals, Some(&def), Some(&rep))?;
                    c.close()?;
                }
            }
        }
        rg.close()?;
    }
    w.close()?;
    Ok(())
}

/// `captures`: one row, the capture as a whole.
fn captures(r: &Report, x: &Extras) -> Table {
    let c = &r.capture;
    let fs = &r.traffic.flow_summary;
    let mut t = Table::new();
    t.str("input", [Some(r.input.name.clone())]);
    t.list(
        "inputs",
        [c.inputs.iter().map(|i| i.name.clone()).collect()],
    );
    t.str("format", [Some(name_of(&c.format))]);
    t.i64("packets", [Some(n(c.packets))]);
    t.i64("wire_bytes", [Some(n(c.wire_bytes))]);
    t.ts("first_ts", [x.span.map(|s| s.0)]);
    t.ts("last_ts", [x.span.map(|s| s.1)]);
    t.f64("duration_s", [Some(c.duration_s)]);
    t.i64(
        "packets_without_timestamp",
        [Some(n(c.packets_without_timestamp))],
    );
    t.i64("flows", [Some(n(fs.flows))]);
    t.i64("flows_listed", [Some(n(fs.listed))]);
    t.i64("flows_not_listed", [Some(n(fs.not_listed))]);
    t.i64(
        "not_listed_payload_bytes",
        [Some(n(fs.not_listed_payload_bytes))],
    );
    t.i64("migrations", [Some(r.migrations.len() as i64)]);
    t.str(
        "migration_labels",
        [Some(r.migration_labels.source.clone())],
    );
    t.str(
        "inventory",
        [Some(
            match serde_json::to_value(&r.traffic.inventory.source) {
                Ok(v) => v.get("kind").map_or(String::new(), name_of),
                Err(_) => String::new(),
            },
        )],
    );
    t.str("error", [c.error.as_ref().map(|e| e.message.clone())]);
    t.str("generator", [Some(r.generator.clone())]);
    t
}

/// `flows`: the flows the report lists (`flow_summary.listed`), largest payload first.
fn flows(r: &Report, x: &Extras) -> Table {
    let list = &r.traffic.flows;
    let rows: Vec<_> = list.iter().zip(list.kept()).collect();
    let span = |k: &crate::classify::KeptFlow| {
        let (a, b) = k.flow.client_server();
        let first = [a.first_ts, b.first_ts].into_iter().flatten().min();
        let last = [a.last_ts, b.last_ts].into_iter().flatten().max();
        (first, last)
    };
    let mut t = Table::new();
    t.str("input", rows.iter().map(|_| Some(r.input.name.clone())));
    t.i32("flow", (0..rows.len()).map(|i| i32::try_from(i).ok()));
    t.str(
        "protocol",
        rows.iter().map(|(f, _)| Some(f.protocol.clone())),
    );
    t.str(
        "class",
        rows.iter().map(|(f, _)| Some(f.class.name().into())),
    );
    t.i32("vlan", rows.iter().map(|(f, _)| f.vlan.map(i32::from)));
    t.str(
        "tunnel",
        rows.iter()
            .map(|(f, _)| f.tunnel.as_ref().map(|t| name_of(&t.kind))),
    );
    t.i64(
        "tunnel_id",
        rows.iter()
            .map(|(f, _)| f.tunnel.as_ref().map(|t| i64::from(t.id))),
    );
    t.ts("first_ts", rows.iter().map(|(_, k)| span(k).0));
    t.ts("last_ts", rows.iter().map(|(_, k)| span(k).1));
    // Column names are static: the two sides' are spelt out.
    type Side = fn(&FlowReport) -> &EndpointReport;
    let sides: [([&'static str; 6], Side); 2] = [
        (
            [
                "client_ip",
                "client_port",
                "client_mac",
                "client_host",
                "client_vmk",
                "client_network",
            ],
            |f| &f.client,
        ),
        (
            [
                "server_ip",
                "server_port",
                "server_mac",
                "server_host",
                "server_vmk",
                "server_network",
            ],
            |f| &f.server,
        ),
    ];
    for ([ip, port, mac, host, vmk, network], pick) in sides {
        t.str(ip, rows.iter().map(|(f, _)| Some(pick(f).ip.clone())));
        t.i32(
            port,
            rows.iter().map(|(f, _)| Some(i32::from(pick(f).port))),
        );
        t.str(mac, rows.iter().map(|(f, _)| pick(f).mac.clone()));
        t.str(host, rows.iter().map(|(f, _)| pick(f).host.clone()));
        t.str(vmk, rows.iter().map(|(f, _)| pick(f).vmk.clone()));
        t.str(
            network,
            rows.iter()
                .map(|(f, _)| Some(pick(f).network.name().into())),
        );
    }
    t.list(
        "networks",
        rows.iter().map(|(f, _)| {
            networks_of(f.client.network, f.server.network)
                .into_iter()
                .flatten()
                .map(|n| n.name().to_string())
                .collect()
        }),
    );
    type DirColumn = (&'static str, &'static str, fn(&DirReport) -> u64);
    let dir_cols: [DirColumn; 7] = [
        ("c2s_packets", "s2c_packets", |d| d.packets),
        ("c2s_wire_bytes", "s2c_wire_bytes", |d| d.wire_bytes),
        ("c2s_payload_bytes", "s2c_payload_bytes", |d| {
            d.payload_bytes
        }),
        ("c2s_retransmitted_bytes", "s2c_retransmitted_bytes", |d| {
            d.retransmitted_bytes
        }),
        ("c2s_out_of_order_bytes", "s2c_out_of_order_bytes", |d| {
            d.out_of_order_bytes
        }),
        ("c2s_not_captured_bytes", "s2c_not_captured_bytes", |d| {
            d.not_captured_bytes
        }),
        ("c2s_acknowledged_bytes", "s2c_acknowledged_bytes", |d| {
            d.acknowledged_bytes
        }),
    ];
    for (c2s, _, get) in &dir_cols {
        t.i64(
            c2s,
            rows.iter().map(|(f, _)| Some(n(get(&f.client_to_server)))),
        );
    }
    for (_, s2c, get) in &dir_cols {
        t.i64(
            s2c,
            rows.iter().map(|(f, _)| Some(n(get(&f.server_to_client)))),
        );
    }
    t.i64(
        "payload_bytes",
        rows.iter().map(|(f, _)| {
            Some(n(
                f.client_to_server.payload_bytes + f.server_to_client.payload_bytes
            ))
        }),
    );
    t.str(
        "tcp_state",
        rows.iter()
            .map(|(f, _)| f.tcp.as_ref().map(|s| s.state.to_string())),
    );
    t.str("ended", rows.iter().map(|(f, _)| Some(f.ended.to_string())));
    t.list(
        "migrations",
        rows.iter().map(|(f, k)| {
            let (first, last) = span(k);
            let (Some(first), Some(last)) = (first, last) else {
                return Vec::new();
            };
            let no_vmk = f.client.vmk.is_none() && f.server.vmk.is_none();
            x.windows
                .iter()
                .filter(|w| w.start <= last && first <= w.end)
                .filter(|w| {
                    w.scope_hosts.is_empty()
                        || no_vmk
                        || [&f.client.host, &f.server.host]
                            .into_iter()
                            .flatten()
                            .any(|h| w.scope_hosts.contains(h))
                })
                .map(|w| w.id.clone())
                .collect()
        }),
    );
    t
}

/// `series`: payload bytes per second, network and class; a conversation with ends on two
/// networks counts under both, as in `payload_bytes_by_network_and_class`. Bytes the report
/// counts under a network and class that no second holds (packets without a timestamp) are a
/// row whose `second` is null, so that the rows add up to the report.
fn series(r: &Report, x: &Extras) -> Table {
    let mut rows: Vec<(Option<i64>, Network, TrafficClass, u64)> = x
        .seconds
        .iter()
        .map(|s| (Some(s.second), s.network, s.class, s.payload_bytes))
        .collect();
    let mut binned: BTreeMap<(Network, TrafficClass), u64> = BTreeMap::new();
    for s in &x.seconds {
        *binned.entry((s.network, s.class)).or_default() += s.payload_bytes;
    }
    for (net, classes) in &r.traffic.payload_bytes_by_network_and_class {
        for (class, bytes) in classes {
            let have = binned.get(&(*net, *class)).copied().unwrap_or(0);
            if *bytes > have {
                rows.push((None, *net, *class, bytes - have));
            }
        }
    }
    let mut t = Table::new();
    t.str("input", rows.iter().map(|_| Some(r.input.name.clone())));
    t.ts(
        "second",
        rows.iter()
            .map(|s| s.0.map(|s| s.saturating_mul(1_000_000_000))),
    );
    t.str("network", rows.iter().map(|s| Some(s.1.name().into())));
    t.str("class", rows.iter().map(|s| Some(s.2.name().into())));
    t.i64("payload_bytes", rows.iter().map(|s| Some(n(s.3))));
    t
}

/// `migrations`: one row per migration of the report.
fn migrations(r: &Report, x: &Extras) -> Table {
    let ms = &r.migrations;
    let window = |i: usize| x.windows.get(i).filter(|w| w.id == ms[i].id);
    let mut t = Table::new();
    t.str("input", ms.iter().map(|_| Some(r.input.name.clone())));
    t.str("migration", ms.iter().map(|m| Some(m.id.clone())));
    t.str("vm", ms.iter().map(|m| m.vm.clone()));
    t.str("kind", ms.iter().map(|m| Some(name_of(&m.kind))));
    t.str("state", ms.iter().map(|m| Some(name_of(&m.state))));
    t.bool("labelled", ms.iter().map(|m| Some(m.labelled)));
    t.ts(
        "window_start",
        (0..ms.len()).map(|i| window(i).map(|w| w.start)),
    );
    t.ts(
        "window_end",
        (0..ms.len()).map(|i| window(i).map(|w| w.end)),
    );
    t.f64("duration_s", ms.iter().map(|m| Some(m.duration_s)));
    t.str("source_host", ms.iter().map(|m| m.source_host.clone()));
    t.str("dest_host", ms.iter().map(|m| m.dest_host.clone()));
    t.str("scope", ms.iter().map(|m| Some(name_of(&m.scope))));
    t.list("hosts", ms.iter().map(|m| m.hosts.clone()));
    t.i64("memory_mb", ms.iter().map(|m| m.memory_mb.map(n)));
    t.i64("disk_mb", ms.iter().map(|m| m.disk_mb.map(n)));
    t.str(
        "vsphere_version",
        ms.iter().map(|m| m.vsphere_version.clone()),
    );
    t.i64(
        "payload_bytes",
        ms.iter().map(|m| Some(n(m.breakdown.payload_bytes))),
    );
    t.i64(
        "data_bytes",
        ms.iter().map(|m| Some(n(m.breakdown.data_bytes))),
    );
    t.i64(
        "acknowledged_data_bytes",
        ms.iter()
            .map(|m| Some(n(m.breakdown.acknowledged_data_bytes))),
    );
    t.i64(
        "provisioning_or_management_data_bytes",
        ms.iter()
            .map(|m| Some(n(m.provisioning_or_management_data_bytes))),
    );
    t.i64(
        "unknown_network_data_bytes",
        ms.iter().map(|m| Some(n(m.unknown_network_data_bytes))),
    );
    t.i64(
        "not_captured_data_bytes",
        ms.iter().map(|m| Some(n(m.not_captured_data_bytes))),
    );
    t.map(
        "payload_bytes_by_network",
        ms.iter().map(|m| {
            m.breakdown
                .payload_bytes_by_network
                .iter()
                .map(|(k, v)| (k.name().to_string(), n(*v)))
                .collect()
        }),
    );
    t.map(
        "payload_bytes_by_class",
        ms.iter().map(|m| {
            m.breakdown
                .payload_bytes_by_class
                .iter()
                .map(|(k, v)| (k.name().to_string(), n(*v)))
                .collect()
        }),
    );
    t.i64(
        "switchover_burst_bytes",
        ms.iter()
            .map(|m| m.switchover.as_ref().map(|s| n(s.burst_bytes))),
    );
    t.f64(
        "rarp_after_last_vmotion_byte_s",
        ms.iter().map(|m| {
            m.switchover
                .as_ref()
                .and_then(|s| s.rarp.as_ref())
                .map(|r| r.after_last_vmotion_byte_s)
        }),
    );
    t.str(
        "verdict",
        ms.iter()
            .map(|m| worst(m.verdicts.iter().map(|v| v.verdict))),
    );
    t
}

/// The verdict of a migration over its rows: `contradicted` if a row is, else `inconclusive` if
/// a row is, else `confirmed` if a row is; the first row's otherwise, and none without rows.
fn worst(vs: impl Iterator<Item = crate::verify::Verdict>) -> Option<String> {
    use crate::verify::Verdict::*;
    let vs: Vec<_> = vs.collect();
    let pick = [Contradicted, Inconclusive, Confirmed]
        .into_iter()
        .find(|w| vs.contains(w))
        .or_else(|| vs.first().copied());
    pick.map(|v| v.name().to_string())
}

/// `verdicts`: one row per claim of each row verdict of each migration, with its numbers.
fn verdicts(r: &Report) -> Table {
    struct Row<'a> {
        m: &'a super::migrations::MigrationReport,
        v: &'a crate::verify::RowVerdict,
        i: usize,
        c: Option<&'a crate::verify::ClaimResult>,
    }
    let mut rows = Vec::new();
    for m in &r.migrations {
        for v in &m.verdicts {
            if v.claims.is_empty() {
                rows.push(Row {
                    m,
                    v,
                    i: 0,
                    c: None,
                });
            }
            for (i, c) in v.claims.iter().enumerate() {
                rows.push(Row {
                    m,
                    v,
                    i,
                    c: Some(c),
                });
            }
        }
    }
    let mut t = Table::new();
    t.str("input", rows.iter().map(|_| Some(r.input.name.clone())));
    t.str("migration", rows.iter().map(|x| Some(x.m.id.clone())));
    t.str("kind", rows.iter().map(|x| Some(name_of(&x.m.kind))));
    t.str("state", rows.iter().map(|x| Some(name_of(&x.m.state))));
    t.str(
        "claim_set",
        rows.iter().map(|x| Some(x.v.claim_set.clone())),
    );
    t.i32(
        "claim_row",
        rows.iter().map(|x| i32::try_from(x.v.row).ok()),
    );
    t.str(
        "row_verdict",
        rows.iter().map(|x| Some(x.v.verdict.name().into())),
    );
    t.str(
        "inconclusive_because",
        rows.iter().map(|x| x.v.inconclusive_because.clone()),
    );
    t.i32(
        "claim",
        rows.iter()
            .map(|x| x.c.and_then(|_| i32::try_from(x.i).ok())),
    );
    t.str(
        "claim_json",
        rows.iter()
            .map(|x| x.c.and_then(|c| serde_json::to_string(&c.claim).ok())),
    );
    t.str(
        "claim_verdict",
        rows.iter().map(|x| x.c.map(|c| c.verdict.name().into())),
    );
    t.i64("bytes", rows.iter().map(|x| x.c.map(|c| n(c.bytes))));
    t.f64("share", rows.iter().map(|x| x.c.map(|c| c.share)));
    t.f64("threshold", rows.iter().map(|x| x.c.map(|c| c.threshold)));
    t.str(
        "evidence",
        rows.iter().map(|x| x.c.map(|c| c.evidence.clone())),
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_names_of_the_inputs() {
        assert_eq!(
            capture_id(["captures/all-article.pcap"]),
            "captures_all-article.pcap"
        );
        assert_eq!(
            capture_id(["./a b.pcap", "/x/y=z.pcapng"]),
            "a_b.pcap+x_y_z.pcapng"
        );
        assert_eq!(capture_id(["<stdin>"]), "stdin");
        assert_eq!(capture_id([]), "capture");
        assert_eq!(sanitize_id(".."), "capture..");
        let long = "a".repeat(300);
        let id = capture_id([long.as_str()]);
        assert_eq!(id.len(), MAX_ID_LEN);
        assert!(id.starts_with("aaaa"));
        assert_ne!(id, capture_id(["a".repeat(301).as_str()]));
    }

    #[test]
    fn list_levels_mark_empty_lists_and_repeats() {
        let v = vec![vec!["a"], vec![], vec!["b", "c"]];
        assert_eq!(list_levels(&v), (vec![1, 0, 1, 1], vec![0, 0, 0, 1]));
    }
}
