//! The checked settings of a command, built from [`super::args`] before any packet is read:
//! typed values (durations, paths, where each output goes), the files the command line names
//! already loaded. The runners read these and nothing else.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vmkflow::analyze::{AnalyzeOptions, Labels};
use vmkflow::capture::Source;
use vmkflow::classify::ClassifyConfig;
use vmkflow::classify::inventory::{InventorySource, VmkInventory};
use vmkflow::flow::FlowConfig;
use vmkflow::labels::{self, LabelsFile, Scenario};
use vmkflow::migration;
use vmkflow::set::{self, SetOptions};
use vmkflow::synth::{
    self, BadSetting, Encap, Format, Model, SplitBy, SplitConfig, SynthConfig, SynthError,
    VmotionPayload,
};
use vmkflow::verify::ClaimSet;
use vmkflow::verify::findings::FindingsConfig;
use vmkflow::vocab::ports::{PortCatalogue, PortRule};
use vmkflow::vocab::vantage::Direction;

use super::args::{
    AnalyzeArgs, DirectionArg, EncapArg, FormatArg, MirrorArg, ModelArg, ScenarioArg, SplitArg,
    SynthArgs, VmotionPayloadArg, YesNo,
};
use super::error::CliError;

/// A standard stream for messages and the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Where a document (report, NDJSON lines, synth account) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// Standard output (`-` on the command line).
    Stdout,
    /// A file, created or truncated.
    File(PathBuf),
}

impl Dest {
    /// `-` is standard output, anything else a file.
    fn from_arg(s: &str) -> Dest {
        match s {
            "-" => Dest::Stdout,
            path => Dest::File(PathBuf::from(path)),
        }
    }
}

/// The settings of `analyze`.
pub struct AnalyzeConfig {
    /// The capture (the first of a capture set).
    pub source: Source,
    /// Every input: the captures given, directories expanded (one for a single capture).
    pub sources: Vec<Source>,
    /// What the pipeline needs: limits, port catalogue, inventory, labels, claim sets.
    pub options: AnalyzeOptions,
    /// What was picked up without being asked for, said on standard error unless `quiet`.
    pub notes: Vec<String>,
    /// `--quiet`: no notes, no progress display, no summary, no stop message.
    pub quiet: bool,
    /// Where the JSON report goes (`--json`), if anywhere.
    pub report: Option<Dest>,
    /// Where the HTML report goes (`--html`), if anywhere.
    pub html: Option<PathBuf>,
    /// Where the Parquet tables go (`--parquet`), and the partition id of the run
    /// (`--capture-id`, else made from the captures as given).
    pub parquet: Option<(PathBuf, String)>,
    /// Where the text summary goes; `None` with `--quiet`. Standard error when standard output
    /// carries the report or the NDJSON lines.
    pub summary: Option<Stream>,
    /// `--findings-only`: the summary is its Findings block alone.
    pub findings_only: bool,
    /// Where the inventory used is saved (`--write-inventory`).
    pub write_inventory: Option<PathBuf>,
    /// Set for a live run: a stream, a FIFO, `--follow` or `--interval`.
    pub live: Option<LiveConfig>,
}

/// The settings of a live run.
pub struct LiveConfig {
    /// NDJSON interval lines (`--interval`), if any.
    pub lines: Option<LineConfig>,
    /// Bulk flows listed per line (`--live-top`).
    pub top: usize,
    /// `--follow`: read the growing file; `Some(idle)` with `--follow-idle`.
    pub follow: Option<Option<Duration>>,
}

/// Where and how often NDJSON lines are written.
pub struct LineConfig {
    /// Capture time (and wall time when the stream stalls) between lines.
    pub every: Duration,
    /// Standard output, or `--live-out FILE`.
    pub to: Dest,
}

/// A positive, finite number of seconds that a [`Duration`] can hold.
fn seconds(flag: &str, v: f64) -> Result<Duration, CliError> {
    if !(v.is_finite() && v > 0.0) {
        return Err(CliError::Usage(format!(
            "{flag} must be a positive number of seconds, not {v}"
        )));
    }
    Duration::try_from_secs_f64(v)
        .map_err(|_| CliError::Usage(format!("{flag} {v} is too many seconds")))
}

/// `CAPTURE` + suffix, when the capture is a file and that file exists; for a directory,
/// `DIR/inventory.json` or `DIR/migrations.json` inside it.
fn sidecar(source: &Source, suffix: &str) -> Option<PathBuf> {
    let path = source.path()?;
    let side = if path.is_dir() {
        path.join(suffix.trim_start_matches('.'))
    } else {
        labels::sidecar(path, suffix)
    };
    side.is_file().then_some(side)
}

/// The first sidecar found beside the given captures; a note when several differ.
fn sidecar_of(given: &[Source], suffix: &str, notes: &mut Vec<String>) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = given.iter().filter_map(|s| sidecar(s, suffix)).collect();
    found.dedup();
    if found.len() > 1 {
        notes.push(format!(
            "several captures have a {} sidecar; using the first ({}); give {} to choose",
            suffix.trim_start_matches('.'),
            found[0].display(),
            if suffix.contains("inventory") {
                "--inventory"
            } else {
                "--migrations"
            }
        ));
    }
    found.into_iter().next()
}

/// Whether the file starts like a capture: pcap (either byte order, µs or ns), pcapng, or gzip.
fn looks_like_capture(p: &Path) -> bool {
    let mut magic = [0u8; 4];
    let read = File::open(p).and_then(|mut f| f.read_exact(&mut magic));
    read.is_ok()
        && (matches!(
            u32::from_le_bytes(magic),
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0x0a0d_0d0a
        ) || magic[..2] == [0x1f, 0x8b])
}

/// The inputs: each capture given, a directory replaced by the captures in it (by name).
fn expand(given: &[Source]) -> Result<Vec<Source>, CliError> {
    let mut out = Vec::new();
    for s in given {
        match s.path() {
            Some(dir) if dir.is_dir() => {
                let entries = std::fs::read_dir(dir).map_err(|e| {
                    CliError::Usage(format!("cannot list the directory {}: {e}", dir.display()))
                })?;
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && looks_like_capture(p))
                    .collect();
                if files.is_empty() {
                    return Err(CliError::Usage(format!(
                        "{} holds no pcap, pcapng or gzip capture",
                        dir.display()
                    )));
                }
                files.sort();
                out.extend(files.into_iter().map(Source::Path));
            }
            _ => out.push(s.clone()),
        }
    }
    Ok(out)
}

/// `--vantage FILE=HOST/VMK[:DIR]` per input: FILE matches an input as given or by file name.
fn vantage_args(
    specs: &[String],
    inputs: &[Source],
) -> Result<Vec<Option<set::VantageArg>>, CliError> {
    let mut out = vec![None; inputs.len()];
    for spec in specs {
        let (file, v) = spec.rsplit_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "--vantage {spec}: expected FILE=HOST/VMK[:tx|rx|both], e.g. esx01-vmk1.pcapng=esx01/vmk1:tx"
            ))
        })?;
        let v: set::VantageArg = v
            .parse()
            .map_err(|e| CliError::Usage(format!("--vantage {spec}: {e}")))?;
        let mut matched = false;
        for (slot, src) in out.iter_mut().zip(inputs) {
            let hit = src
                .path()
                .is_some_and(|p| p == Path::new(file) || p.file_name().is_some_and(|n| n == file));
            if hit {
                *slot = Some(v.clone());
                matched = true;
            }
        }
        if !matched {
            return Err(CliError::Usage(format!(
                "--vantage {spec}: no input is named {file}"
            )));
        }
    }
    Ok(out)
}

/// `--clock-offset HOST=±MS` → (host, nanoseconds ahead).
fn clock_offsets(specs: &[String]) -> Result<Vec<(String, i64)>, CliError> {
    specs
        .iter()
        .map(|spec| {
            let bad = || {
                CliError::Usage(format!(
                    "--clock-offset {spec}: expected HOST=±MS, e.g. esx02=+2.5"
                ))
            };
            let (host, ms) = spec.split_once('=').ok_or_else(bad)?;
            let ms: f64 = ms.trim_start_matches('+').parse().map_err(|_| bad())?;
            if host.is_empty() || !ms.is_finite() || ms.abs() > 1e9 {
                return Err(bad());
            }
            Ok((host.to_string(), (ms * 1e6).round() as i64))
        })
        .collect()
}

/// Whether `source` is read live: standard input or a FIFO (a stream that may never end).
fn is_stream(source: &Source) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match source {
        Source::Stdin => true,
        Source::Path(p) => std::fs::metadata(p).is_ok_and(|m| m.file_type().is_fifo()),
    }
}

/// `--events-tz`: UTC when not given.
pub fn events_tz(given: Option<&str>) -> Result<vmkflow::events::Tz, CliError> {
    match given {
        None => Ok(vmkflow::events::Tz::default()),
        Some(z) => z
            .parse()
            .map_err(|e| CliError::Usage(format!("--events-tz {e}"))),
    }
}

impl AnalyzeConfig {
    /// Checks and converts what was typed, and loads the inventory, labels and claim sets.
    pub fn from_args(args: &AnalyzeArgs) -> Result<AnalyzeConfig, CliError> {
        let rules = args
            .ports
            .iter()
            .map(|p| p.parse::<PortRule>().map_err(CliError::Port))
            .collect::<Result<Vec<_>, _>>()?;
        if !(args.idle_timeout.is_finite() && args.idle_timeout > 0.0) {
            return Err(CliError::Usage(format!(
                "--idle-timeout must be a positive number of seconds, not {}",
                args.idle_timeout
            )));
        }
        if args.max_live_flows == 0 {
            return Err(CliError::Usage(
                "--max-live-flows must be at least 1".into(),
            ));
        }
        let mut options = AnalyzeOptions {
            flow: FlowConfig {
                max_live: args.max_live_flows,
                idle_timeout_ns: (args.idle_timeout * 1e9) as i64,
                ports: PortCatalogue::new(&rules),
                ..FlowConfig::default()
            },
            classify: ClassifyConfig {
                top: args.top,
                max_report_flows: args.max_report_flows,
                max_conversations: args.max_conversations,
            },
            inventory: None,
            labels: Labels::None,
            claim_sets: ClaimSet::builtin(),
            findings: FindingsConfig::builtin(),
            set: SetOptions::default(),
            warnings: Vec::new(),
            timelines: args.html.is_some(),
            threads: match args.threads {
                0 => vmkflow::parallel::available_threads(),
                n => n,
            },
            read_buffer: args.read_buffer,
            parquet: args.parquet.is_some(),
        };
        let given: Vec<Source> = match &args.follow {
            Some(p) => vec![Source::Path(p.clone())],
            None => args.capture.iter().map(|c| Source::from_arg(c)).collect(),
        };
        // The Parquet partition: --capture-id, else the captures as given (a directory by its
        // own name, not its files').
        let parquet_id = match &args.capture_id {
            Some(id) => vmkflow::report::parquet::sanitize_id(id),
            None => {
                let names: Vec<String> = given.iter().map(Source::display_name).collect();
                vmkflow::report::parquet::capture_id(names.iter().map(String::as_str))
            }
        };
        let sources = expand(&given)?;
        let Some(source) = sources.first().cloned() else {
            return Err(CliError::Usage("give a capture or --follow FILE".into()));
        };
        if sources.len() > 1 && sources.iter().any(is_stream) {
            return Err(CliError::Usage(
                "standard input and FIFOs are read live, alone: give them as the only capture"
                    .into(),
            ));
        }
        if !(args.dedup_window.is_finite() && args.dedup_window >= 0.0) {
            return Err(CliError::Usage(format!(
                "--dedup-window must be 0 or a positive number of milliseconds, not {}",
                args.dedup_window
            )));
        }
        options.set = SetOptions {
            dedup_window_ns: (args.dedup_window * 1e6) as i64,
            clock_offsets: clock_offsets(&args.clock_offsets)?,
            vantages: vantage_args(&args.vantages, &sources)?,
        };
        let report = args.json.as_deref().map(Dest::from_arg);
        let interval = args
            .interval
            .map(|v| seconds("--interval", v))
            .transpose()?;
        if interval.is_some() && report == Some(Dest::Stdout) && args.live_out.is_none() {
            return Err(CliError::Usage(
                "--interval writes NDJSON lines to standard output, so the report cannot go \
                 there too: give --live-out FILE for the lines, or --json FILE for the report"
                    .into(),
            ));
        }
        let follow_idle = args
            .follow_idle
            .map(|v| seconds("--follow-idle", v))
            .transpose()?;

        let mut notes = Vec::new();
        let inv_path = match (&args.inventory, args.no_sidecars) {
            (Some(p), _) => Some(p.clone()),
            (None, false) => sidecar_of(&given, ".inventory.json", &mut notes),
            (None, true) => None,
        };
        if let Some(p) = inv_path {
            options.inventory = Some(VmkInventory::load(&p).map_err(CliError::Inventory)?);
            if args.inventory.is_none() {
                notes.push(format!(
                    "using the inventory beside the capture: {}",
                    p.display()
                ));
            }
        }
        if let Some(s) = &args.scenario {
            if s == "all" {
                return Err(CliError::Usage(
                    "--scenario all labels no single window: give --migrations instead".into(),
                ));
            }
            options.labels = match s.parse::<Scenario>() {
                Ok(sc) => Labels::Scenario(sc),
                Err(e) => return Err(CliError::Usage(format!("--scenario {e}"))),
            };
        } else if !args.events.is_empty() {
            let tz = events_tz(args.events_tz.as_deref())?;
            if let Some(side) = given
                .iter()
                .find_map(|s| sidecar(s, ".migrations.json"))
                .filter(|_| !args.no_sidecars)
            {
                notes.push(format!(
                    "not using the migration labels beside the capture ({}): the windows come \
                     from --events",
                    side.display()
                ));
            }
            let derived =
                vmkflow::events::read_files(&args.events, tz).map_err(CliError::Events)?;
            options.warnings.extend(derived.warnings.iter().cloned());
            options.labels = Labels::Events {
                path: args
                    .events
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                derived: std::sync::Arc::new(derived),
            };
        } else {
            let mig_path = match (&args.migrations, args.no_sidecars) {
                (Some(p), _) => Some(p.clone()),
                (None, false) => sidecar_of(&given, ".migrations.json", &mut notes),
                (None, true) => None,
            };
            if let Some(p) = mig_path {
                let m = LabelsFile::load(&p).map_err(CliError::Migrations)?;
                let name = p.display().to_string();
                if args.migrations.is_none() {
                    notes.push(format!(
                        "using the migration labels beside the capture: {name}"
                    ));
                }
                options.warnings.extend(m.warnings.iter().cloned());
                // An inferred inventory (none given) is named after the labels later.
                if let Some(inv) = &options.inventory {
                    let known = |h: &str| migration::hosts::find(h, inv).matched.is_some();
                    let inv_name = match &inv.source {
                        InventorySource::File(p) | InventorySource::PowerCliCsv(p) => p.as_str(),
                        _ => "given",
                    };
                    let hosts = inv.host_names();
                    options
                        .warnings
                        .extend(m.hosts_not_in(known, inv_name, &hosts));
                }
                options.labels = Labels::File {
                    path: name,
                    migrations: m.migrations,
                };
            }
        }
        for p in &args.claims {
            options
                .claim_sets
                .push(ClaimSet::load(p).map_err(CliError::Claims)?);
        }
        if let Some(p) = &args.findings_config {
            let text = std::fs::read_to_string(p).map_err(|e| CliError::Findings {
                message: format!("{}: {e}", p.display()),
                io: true,
            })?;
            options.findings = FindingsConfig::with_overrides(p, &text)
                .map_err(|message| CliError::Findings { message, io: false })?;
        }

        let live = (args.follow.is_some() || interval.is_some() || is_stream(&source)).then(|| {
            LiveConfig {
                lines: interval.map(|every| LineConfig {
                    every,
                    to: args.live_out.clone().map_or(Dest::Stdout, Dest::File),
                }),
                top: args.live_top,
                follow: args.follow.as_ref().map(|_| follow_idle),
            }
        });
        let lines_to_stdout = live
            .as_ref()
            .and_then(|l| l.lines.as_ref())
            .is_some_and(|l| l.to == Dest::Stdout);
        let summary = match args.quiet {
            true => None,
            false if report == Some(Dest::Stdout) || lines_to_stdout => Some(Stream::Stderr),
            false => Some(Stream::Stdout),
        };
        // Refused before the capture is read, not after.
        if let Some(dir) = args.parquet.as_ref().filter(|d| d.exists() && !d.is_dir()) {
            return Err(CliError::Output {
                what: format!("the Parquet tables to {}", dir.display()),
                source: std::io::Error::other("it exists and is not a directory"),
            });
        }
        Ok(AnalyzeConfig {
            source,
            sources,
            options,
            notes,
            quiet: args.quiet,
            report,
            html: args.html.clone(),
            parquet: args.parquet.clone().map(|dir| (dir, parquet_id)),
            summary,
            findings_only: args.findings_only,
            write_inventory: args.write_inventory.clone(),
            live,
        })
    }
}

/// The settings of `synth`.
pub struct SynthRunConfig {
    /// The generator's settings, checked.
    pub synth: SynthConfig,
    /// Where the generator's account goes (`--summary-json`), if anywhere.
    pub account: Option<Dest>,
    /// Where the one-line summary goes; `None` with `--quiet`, standard error when the account
    /// goes to standard output.
    pub summary: Option<Stream>,
    /// `--events-out`: the directory for the events and log exports.
    pub events_out: Option<PathBuf>,
}

impl SynthRunConfig {
    /// Checks and converts what was typed.
    pub fn from_args(args: &SynthArgs) -> Result<SynthRunConfig, CliError> {
        let synth = SynthConfig {
            scenarios: match args.scenario {
                ScenarioArg::All => synth::ALL_SCENARIOS.to_vec(),
                ScenarioArg::One(ks) => vec![(ks.kind, ks.state)],
            },
            model: match args.model {
                ModelArg::Vmware => Model::Vmware,
                ModelArg::Article => Model::Article,
            },
            out: args.out.clone(),
            memory_mb: args.memory_mb,
            disk_mb: args.disk_mb,
            streams: args.streams,
            provisioning: !args.no_provisioning,
            ipv6: args.ipv6,
            vlan: args.vlan,
            encap: match args.encap {
                EncapArg::None => Encap::None,
                EncapArg::Gre => Encap::Gre,
                EncapArg::Erspan2 => Encap::Erspan2,
                EncapArg::Erspan3 => Encap::Erspan3,
            },
            snaplen: args.snaplen,
            mirror_length: args.mirror_length,
            format: match args.format {
                FormatArg::Pcap => Format::Pcap,
                FormatArg::PcapNs => Format::PcapNs,
                FormatArg::Pcapng => Format::Pcapng,
            },
            noise: args.noise,
            link_gbps: args.link_gbps,
            seed: args.seed,
            size: args.size,
            vsphere: args.vsphere.clone(),
            nfc_asymmetric: args.nfc_asymmetric,
            vmotion_vmks: args.vmotion_vmks,
            stream_weights: args.stream_weights.clone(),
            rarp_delay_ms: args.rarp_delay_ms,
            inventory_speed: args.inventory_speed,
            split: split_config(args)?,
            mtu: args
                .mtu
                .as_deref()
                .map(|v| pair_of("--mtu", "A:B", v))
                .transpose()?,
            zero_window_stalls: args
                .zero_window_stalls
                .as_deref()
                .map(|v| pair_of("--zero-window-stalls", "N:MS", v))
                .transpose()?,
            vmotion_payload: match args.vmotion_payload {
                Some(VmotionPayloadArg::Plain) => VmotionPayload::Plain,
                Some(VmotionPayloadArg::Encrypted) | None => VmotionPayload::Encrypted,
            },
            precopy_iterations: args.precopy_iterations.unwrap_or(4),
            nfc_tls: args.nfc_tls.map(|t| t == YesNo::Yes),
            esxi_build: args.esxi_build,
        };
        synth.validate().map_err(CliError::Synth)?;
        let account = args.summary_json.as_deref().map(Dest::from_arg);
        let summary = match args.quiet {
            true => None,
            false if account == Some(Dest::Stdout) => Some(Stream::Stderr),
            false => Some(Stream::Stdout),
        };
        Ok(SynthRunConfig {
            synth,
            account,
            summary,
            events_out: args.events_out.clone(),
        })
    }
}

/// The capture-set settings: `--split` and the options that need it.
fn split_config(args: &SynthArgs) -> Result<Option<SplitConfig>, CliError> {
    let Some(by) = args.split else {
        let given = [
            ("--direction", args.direction.is_some()),
            ("--clock-skew", args.clock_skew.is_some()),
            ("--also-mirror", args.also_mirror.is_some()),
        ];
        return match given.into_iter().find(|(_, g)| *g) {
            Some((option, _)) => Err(CliError::Synth(SynthError::Config(BadSetting::Needs {
                option,
                needs: "--split vmk or --split host (a capture set)",
            }))),
            None => Ok(None),
        };
    };
    Ok(Some(SplitConfig {
        by: match by {
            SplitArg::Vmk => SplitBy::Vmk,
            SplitArg::Host => SplitBy::Host,
        },
        direction: match args.direction {
            Some(DirectionArg::Tx) => Direction::Tx,
            Some(DirectionArg::Rx) => Direction::Rx,
            Some(DirectionArg::Both) | None => Direction::Both,
        },
        clock_skew_ms: args.clock_skew.unwrap_or(0.0),
        mirror: args.also_mirror.map(|m| match m {
            MirrorArg::Gre => Encap::Gre,
            MirrorArg::Erspan2 => Encap::Erspan2,
            MirrorArg::Erspan3 => Encap::Erspan3,
        }),
    }))
}

/// `A:B` of two whole numbers, for `option`.
fn pair_of(option: &str, shape: &str, v: &str) -> Result<(u32, u32), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "{option} takes {shape} (two whole numbers), not {v:?}"
        ))
    };
    let (a, b) = v.split_once(':').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::cli::args::{Cli, Command};

    fn analyze(args: &[&str]) -> Result<AnalyzeConfig, CliError> {
        let mut all = vec!["vmkflow", "analyze", "--no-sidecars"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).map(|c| c.command) {
            Ok(Command::Analyze(a)) => AnalyzeConfig::from_args(&a),
            other => panic!("not analyze: {other:?}"),
        }
    }

    #[test]
    fn outputs_and_durations_are_typed() {
        let c = analyze(&["x.pcap"]).unwrap();
        assert!(c.live.is_none());
        assert_eq!((c.report, c.summary), (None, Some(Stream::Stdout)));
        let c = analyze(&["x.pcap", "--json", "-"]).unwrap();
        assert_eq!(
            (c.report, c.summary),
            (Some(Dest::Stdout), Some(Stream::Stderr))
        );
        let c = analyze(&["x.pcap", "--json", "r.json", "-q"]).unwrap();
        assert_eq!(c.report, Some(Dest::File("r.json".into())));
        assert_eq!(c.summary, None);
        let c = analyze(&["x.pcap", "--interval", "0.5", "--json", "r.json"]).unwrap();
        assert_eq!(c.summary, Some(Stream::Stderr));
        let live = c.live.unwrap();
        let lines = live.lines.unwrap();
        assert_eq!(lines.every, Duration::from_millis(500));
        assert_eq!(lines.to, Dest::Stdout);
        assert_eq!(live.follow, None);
        let c = analyze(&["--follow", "f.pcap", "--follow-idle", "2"]).unwrap();
        let live = c.live.unwrap();
        assert_eq!(live.follow, Some(Some(Duration::from_secs(2))));
        assert!(live.lines.is_none());
        let c = analyze(&[
            "x.pcap",
            "--interval",
            "1",
            "--live-out",
            "l.ndjson",
            "--json",
            "-",
        ]);
        assert_eq!(c.unwrap().summary, Some(Stream::Stderr));
    }

    fn synth_config(args: &[&str]) -> Result<SynthRunConfig, CliError> {
        let mut all = vec!["vmkflow", "synth", "--scenario", "all", "--out", "set"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).map(|c| c.command) {
            Ok(Command::Synth(a)) => SynthRunConfig::from_args(&a),
            other => panic!("not synth: {other:?}"),
        }
    }

    #[test]
    fn capture_set_options_need_split() {
        let c = synth_config(&[
            "--split",
            "host",
            "--direction",
            "rx",
            "--clock-skew",
            "-1.5",
        ]);
        let split = c.unwrap().synth.split.unwrap();
        assert_eq!(split.by, SplitBy::Host);
        assert_eq!(split.direction, Direction::Rx);
        assert_eq!(split.skew_ns(), -1_500_000);
        assert_eq!(split.mirror, None);
        let c = synth_config(&["--split", "vmk", "--also-mirror", "erspan2"]).unwrap();
        let split = c.synth.split.unwrap();
        assert_eq!(
            (split.direction, split.mirror),
            (Direction::Both, Some(Encap::Erspan2))
        );
        assert!(synth_config(&[]).unwrap().synth.split.is_none());
        for opt in [
            &["--direction", "tx"][..],
            &["--clock-skew", "1"],
            &["--also-mirror", "gre"],
        ] {
            let e = synth_config(opt).err().unwrap();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains(&format!("{} needs --split", opt[0])),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for (args, needle) in [
            (&["x.pcap", "--interval", "0"][..], "--interval"),
            (&["x.pcap", "--interval", "1e30"], "too many seconds"),
            (&["x.pcap", "--interval", "1", "--json", "-"], "--live-out"),
            (&["--follow", "f", "--follow-idle=-1"], "--follow-idle"),
            (&["x.pcap", "--idle-timeout", "NaN"], "--idle-timeout"),
            (&["x.pcap", "--max-live-flows", "0"], "--max-live-flows"),
            (&["x.pcap", "--port", "1/tcp=warp"], "warp"),
            (&["x.pcap", "--scenario", "all"], "--migrations"),
            (&["x.pcap", "--scenario", "teleport"], "KIND:STATE"),
        ] {
            let e = analyze(args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} accepted"));
            assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
            assert!(e.to_string().contains(needle), "{args:?}: {e}");
        }
    }
}
