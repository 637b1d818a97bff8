//! Command-line arguments (what was typed) and the commands that run them.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use vmkflow::analyze::{self, AnalyzeOptions, Labels};
use vmkflow::capture::{CaptureError, CaptureReader, Source};
use vmkflow::classify::ClassifyConfig;
use vmkflow::classify::inventory::{Inventory, VmkInventory};
use vmkflow::flow::FlowConfig;
use vmkflow::labels::Migrations;
use vmkflow::live;
use vmkflow::report::summary;
use vmkflow::synth::{self, Encap, Format, Model, SynthConfig, SynthError};
use vmkflow::verify::ClaimSet;
use vmkflow::vocab::kind::{BadKindState, KindState};
use vmkflow::vocab::ports::{PortCatalogue, PortRule};

/// Exit status: the command line is wrong (as clap uses).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the capture could not be opened or read.
pub const EXIT_IO: u8 = 3;
/// Exit status: the input is not a capture, or is corrupt past recovery.
pub const EXIT_BAD_CAPTURE: u8 = 4;
/// Exit status: a report or output file could not be written.
pub const EXIT_OUTPUT: u8 = 5;

/// Which VMkernel network carried which vSphere migration traffic, from packet captures.
#[derive(Parser, Debug)]
#[command(name = "vmkflow", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a pcap or pcapng capture (file, FIFO, `-` for stdin; gzip read transparently).
    Analyze(AnalyzeArgs),
    /// Write a synthetic capture of vSphere migrations, with its inventory and migration labels.
    ///
    /// Beside the capture FILE it writes FILE.inventory.json (hosts, vmknics, addresses, services)
    /// and FILE.migrations.json (what migrated when: the ground truth). The lab is two hosts,
    /// esx01 and esx02, each with vmk0 management (10.0.10.11/.12, VLAN 10), vmk1 vMotion
    /// (10.0.20.x, VLAN 20), vmk2 provisioning (10.0.30.x, VLAN 30) and vmk3 storage (10.0.40.x,
    /// VLAN 40); vCenter at 10.0.10.5, an NFS array at 10.0.40.100.
    ///
    /// Synthetic captures show that vmkflow works, not what vSphere does.
    #[command(after_help = SYNTH_EXAMPLES)]
    Synth(SynthArgs),
}

const SYNTH_EXAMPLES: &str = "\
Examples:
  vmkflow synth --scenario xvmotion:hot --model vmware --out x.pcap
  vmkflow synth --scenario all --model article --format pcapng --snaplen 96 --out all.pcapng
  vmkflow synth --scenario vmotion:hot --encap erspan3 --vlan --out mirror.pcap
  vmkflow synth --scenario all --size 1000000000 --out big.pcap      (benchmark input)";

/// `--scenario`: one migration or all six.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioArg {
    One(KindState),
    All,
}

fn parse_scenario(s: &str) -> Result<ScenarioArg, String> {
    if s == "all" {
        return Ok(ScenarioArg::All);
    }
    s.parse()
        .map(ScenarioArg::One)
        .map_err(|e: BadKindState| match s.contains(':') {
            true => e.to_string(),
            false => format!("`{s}` is not KIND:STATE or `all` (e.g. vmotion:hot)"),
        })
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum ModelArg {
    /// Documented vSphere behaviour: hot data over vMotion (TCP 8000), cold data by NFC (TCP 902)
    /// on provisioning (else vmk0), Storage vMotion through the storage vmk (NFS 2049).
    Vmware,
    /// The blog's table taken literally: hot vMotion moves only a few KiB of "ownership",
    /// VMDK data always by NFC over provisioning or management.
    Article,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum FormatArg {
    /// Classic pcap, microsecond timestamps.
    Pcap,
    /// Classic pcap, nanosecond timestamps.
    PcapNs,
    /// pcapng with one interface per vmk (esx01-vmk1, ...), as `pktcap-uw --ng` writes.
    Pcapng,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum EncapArg {
    /// Frames as captured on the host.
    None,
    /// vDS port mirror, GRE transparent Ethernet (0x6558), 10.0.99.1 -> 10.0.99.2.
    Gre,
    /// vDS port mirror, ERSPAN type II (GRE 0x88BE).
    Erspan2,
    /// vDS port mirror, ERSPAN type III (GRE 0x22EB).
    Erspan3,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Migration to generate: KIND:STATE with KIND vmotion, storage-vmotion or xvmotion and
    /// STATE hot or cold; or `all` for all six in sequence, each in its own time window.
    #[arg(long, value_name = "KIND:STATE|all", value_parser = parse_scenario)]
    pub scenario: ScenarioArg,
    /// Behaviour model: what goes over which vmk.
    #[arg(long, value_enum, default_value = "vmware")]
    pub model: ModelArg,
    /// The capture file to write (labels are written beside it).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// VM memory moved by a hot vMotion (first pre-copy pass), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub memory_mb: u64,
    /// VM disk data moved by Storage vMotion, xvMotion and cold migrations, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub disk_mb: u64,
    /// Parallel vMotion TCP streams (1-16).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub streams: usize,
    /// Hosts have no provisioning vmk2: NFC then uses vmk0 (management).
    #[arg(long)]
    pub no_provisioning: bool,
    /// KB 340170 routed case: the source's NFC uses vmk0, the destination its provisioning vmk.
    #[arg(long)]
    pub nfc_asymmetric: bool,
    /// vSphere version in the labels; 8.0 or later moves cold data with UDT (vMotion protocol,
    /// TCP 8000, between the provisioning vmks; NFC 902 only for control) in the vmware model.
    #[arg(long, value_name = "VERSION", default_value = "7.0")]
    pub vsphere: String,
    /// IPv6 addresses throughout (fd00:10::11/64, ...).
    #[arg(long)]
    pub ipv6: bool,
    /// Tag every frame with 802.1Q, using each vmk's VLAN (VM network: VLAN 100).
    #[arg(long)]
    pub vlan: bool,
    /// Deliver frames as a vDS port-mirror session does.
    #[arg(long, value_enum, default_value = "none")]
    pub encap: EncapArg,
    /// Header-only capture: keep the first N bytes of each frame (original length kept).
    #[arg(long, value_name = "N")]
    pub snaplen: Option<u32>,
    /// Capture file format.
    #[arg(long, value_enum, default_value = "pcap")]
    pub format: FormatArg,
    /// Background traffic (vCenter API, UDP 902 heartbeats, DNS, NTP, other VMs' NFS): 0 none,
    /// each level adds about 20 events per second.
    #[arg(long, value_name = "LEVEL", default_value_t = 0)]
    pub noise: u32,
    /// Link speed in Gbit/s: packet timestamps advance by wire size / rate.
    #[arg(long, value_name = "GBPS", default_value_t = 10.0)]
    pub link_gbps: f64,
    /// PRNG seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scale memory and disk sizes until the capture is about BYTES long (for benchmarks).
    #[arg(long, value_name = "BYTES")]
    pub size: Option<u64>,
    /// Also write the generator's account (payload bytes per migration, port, sender,
    /// receiver) as JSON to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<String>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The capture: a path, or `-` for standard input (standard input and FIFOs are read live:
    /// Ctrl-C or SIGTERM stops reading and still writes the report).
    #[arg(required_unless_present = "follow", conflicts_with = "follow")]
    pub capture: Option<String>,
    /// Analyse FILE while another program writes it: at its end wait for more bytes (polling
    /// every 200 ms) until SIGINT/SIGTERM, or --follow-idle.
    #[arg(long, value_name = "FILE")]
    pub follow: Option<PathBuf>,
    /// With --follow: stop after SECONDS without growth of the file.
    #[arg(long, value_name = "SECONDS", requires = "follow")]
    pub follow_idle: Option<f64>,
    /// Write one NDJSON line every SECONDS of capture time (and of wall time when the stream
    /// stalls): counts by network and class, top bulk flows, migration events (see
    /// README.live.md). Lines go to standard output unless --live-out is given; --json - then
    /// needs --live-out.
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<f64>,
    /// Write the NDJSON lines of --interval to FILE instead of standard output.
    #[arg(long, value_name = "FILE", requires = "interval")]
    pub live_out: Option<PathBuf>,
    /// Bulk flows listed per interval line.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "interval")]
    pub live_top: usize,
    /// Write the JSON report to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// No summary and no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Add or override a port in the traffic-class catalogue, e.g. `9000/tcp=vmotion` (repeatable).
    #[arg(long = "port", value_name = "PORT/PROTO=CLASS")]
    pub ports: Vec<String>,
    /// List only the N largest flows in the report (all other sections still count every flow).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Most flows listed in the report when --top is not given; the smallest beyond it are
    /// counted in `flow_summary.not_listed`.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_report_flows: usize,
    /// Most flows held in the live flow table; beyond it the least recently active are ended.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub max_live_flows: usize,
    /// End a flow after this many seconds of capture time without a packet.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub idle_timeout: f64,
    /// Hosts and vmks (inventory JSON). Default: CAPTURE.inventory.json when it exists, else an
    /// inventory inferred from the traffic.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Save the inventory used (e.g. the inferred one) as inventory JSON, to edit and reuse.
    #[arg(long, value_name = "FILE")]
    pub write_inventory: Option<PathBuf>,
    /// Migration labels (JSON). Default: CAPTURE.migrations.json when it exists.
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub migrations: Option<PathBuf>,
    /// Label the whole capture as one migration, e.g. `xvmotion:hot`.
    #[arg(long, value_name = "KIND:STATE")]
    pub scenario: Option<String>,
    /// Verify a claim set of your own (same JSON format as claims/article.json), in addition to
    /// the built-in `article` and `vmware-docs` sets (repeatable).
    #[arg(long = "claims", value_name = "FILE")]
    pub claims: Vec<PathBuf>,
    /// Do not pick up CAPTURE.inventory.json and CAPTURE.migrations.json beside the capture.
    #[arg(long)]
    pub no_sidecars: bool,
}

/// `CAPTURE` + suffix, when the capture is a file and that file exists.
fn sidecar(source: &Source, suffix: &str) -> Option<PathBuf> {
    let side = vmkflow::labels::sidecar(source.path()?, suffix);
    side.is_file().then_some(side)
}

/// The validated settings of `analyze`, built before any packet is read.
pub struct AnalyzeConfig {
    pub source: Source,
    pub options: AnalyzeOptions,
    /// What was picked up without being asked for, said on stderr.
    pub notes: Vec<String>,
}

impl AnalyzeArgs {
    /// Checks and converts what was typed.
    pub fn validate(&self) -> Result<AnalyzeConfig, CliError> {
        let usage = |msg: String| CliError::Usage(msg);
        let rules = self
            .ports
            .iter()
            .map(|p| {
                p.parse::<PortRule>()
                    .map_err(|e| usage(format!("--port {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(self.idle_timeout.is_finite() && self.idle_timeout > 0.0) {
            return Err(usage(format!(
                "--idle-timeout must be a positive number of seconds, not {}",
                self.idle_timeout
            )));
        }
        if self.max_live_flows == 0 {
            return Err(usage("--max-live-flows must be at least 1".into()));
        }
        let options = AnalyzeOptions {
            flow: FlowConfig {
                max_live: self.max_live_flows,
                idle_timeout_ns: (self.idle_timeout * 1e9) as i64,
                ports: PortCatalogue::new(&rules),
                ..FlowConfig::default()
            },
            classify: ClassifyConfig {
                top: self.top,
                max_report_flows: self.max_report_flows,
            },
            inventory: None,
            labels: Labels::None,
            claim_sets: ClaimSet::builtin(),
        };
        let source = match (&self.follow, &self.capture) {
            (Some(p), _) => Source::Path(p.clone()),
            (None, Some(c)) => Source::from_arg(c),
            (None, None) => return Err(usage("give a capture or --follow FILE".into())),
        };
        let secs = |flag: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(usage(format!(
                    "{flag} must be a positive number of seconds, not {v}"
                )))
            }
        };
        if let Some(v) = self.interval {
            secs("--interval", v)?;
            if self.json.as_deref() == Some("-") && self.live_out.is_none() {
                return Err(usage(
                    "--interval writes NDJSON lines to standard output, so the report cannot go \
                     there too: give --live-out FILE for the lines, or --json FILE for the report"
                        .into(),
                ));
            }
        }
        if let Some(v) = self.follow_idle {
            secs("--follow-idle", v)?;
        }
        let mut options = options;
        let mut notes = Vec::new();
        let inv_path = match (&self.inventory, self.no_sidecars) {
            (Some(p), _) => Some(p.clone()),
            (None, false) => sidecar(&source, ".inventory.json"),
            (None, true) => None,
        };
        if let Some(p) = inv_path {
            let name = p.display().to_string();
            options.inventory =
                Some(VmkInventory::load(&p).map_err(|e| usage(format!("inventory {e}")))?);
            if self.inventory.is_none() {
                notes.push(format!("using the inventory beside the capture: {name}"));
            }
        }
        if let Some(s) = &self.scenario {
            let ks = match parse_scenario(s) {
                Ok(ScenarioArg::One(ks)) => ks,
                Ok(ScenarioArg::All) => {
                    return Err(usage(
                        "--scenario all labels no single window: give --migrations instead".into(),
                    ));
                }
                Err(e) => return Err(usage(format!("--scenario {e}"))),
            };
            options.labels = Labels::Scenario(ks);
        } else {
            let mig_path = match (&self.migrations, self.no_sidecars) {
                (Some(p), _) => Some(p.clone()),
                (None, false) => sidecar(&source, ".migrations.json"),
                (None, true) => None,
            };
            if let Some(p) = mig_path {
                let m = Migrations::load(&p).map_err(|e| usage(format!("migrations {e}")))?;
                let name = p.display().to_string();
                if self.migrations.is_none() {
                    notes.push(format!(
                        "using the migration labels beside the capture: {name}"
                    ));
                }
                options.labels = Labels::File {
                    path: name,
                    migrations: m.migrations,
                };
            }
        }
        for p in &self.claims {
            options
                .claim_sets
                .push(ClaimSet::load(p).map_err(|e| usage(format!("claim set {e}")))?);
        }
        Ok(AnalyzeConfig {
            source,
            options,
            notes,
        })
    }
}

/// An error of the command, with its exit status.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Capture(CaptureError),
    Synth(SynthError),
    Output { what: String, source: io::Error },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Capture(CaptureError::Io { .. } | CaptureError::Open { .. }) => EXIT_IO,
            CliError::Capture(_) => EXIT_BAD_CAPTURE,
            CliError::Synth(SynthError::Config(_)) => EXIT_USAGE,
            CliError::Synth(_) => EXIT_OUTPUT,
            CliError::Output { .. } => EXIT_OUTPUT,
        }
    }

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Capture(e) => write!(f, "{e}"),
            CliError::Synth(e) => write!(f, "{e}"),
            CliError::Output { what, source } => write!(f, "cannot write {what}: {source}"),
        }
    }
}

fn write_json(dest: &str, value: &impl serde::Serialize) -> Result<(), CliError> {
    let out_err = |source| CliError::Output {
        what: if dest == "-" {
            "the report to standard output".into()
        } else {
            format!("the report to {dest}")
        },
        source,
    };
    let mut w: Box<dyn Write> = if dest == "-" {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(
            File::create(PathBuf::from(dest)).map_err(out_err)?,
        ))
    };
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| out_err(io::Error::other(e)))?;
    w.write_all(b"\n").map_err(out_err)?;
    w.flush().map_err(out_err)
}

/// Whether `source` is read live: standard input or a FIFO (a stream that may never end).
fn is_stream(source: &Source) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match source {
        Source::Stdin => true,
        Source::Path(p) => std::fs::metadata(p).is_ok_and(|m| m.file_type().is_fifo()),
    }
}

pub fn analyze(args: AnalyzeArgs) -> Result<ExitCode, CliError> {
    let cfg = args.validate()?;
    if !args.quiet {
        for n in &cfg.notes {
            eprintln!("vmkflow: {n}");
        }
    }
    if args.follow.is_some() || args.interval.is_some() || is_stream(&cfg.source) {
        return analyze_live(&args, &cfg);
    }
    let reader = CaptureReader::open(&cfg.source).map_err(CliError::Capture)?;
    let bar = match (args.quiet, reader.size_hint(), crate::stderr_is_terminal()) {
        (false, Some(size), true) => {
            let pb = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Some(pb)
        }
        _ => None,
    };
    let mut on_progress = |pos: u64| {
        if let Some(pb) = &bar {
            pb.set_position(pos);
        }
    };
    let outcome = analyze::run(reader, &cfg.options, &mut on_progress);
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    write_outcome(&args, outcome, false)
}

/// `analyze` on a stream or a followed file: a reader thread, NDJSON lines, signals.
fn analyze_live(args: &AnalyzeArgs, cfg: &AnalyzeConfig) -> Result<ExitCode, CliError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // A second signal while the report is being written exits at once (status 1).
        signal_hook::flag::register_conditional_shutdown(sig, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|source| CliError::Output {
                what: "signal handlers".into(),
                source,
            })?;
    }
    let live_opts = live::LiveOptions {
        interval: args.interval.map(std::time::Duration::from_secs_f64),
        top: args.live_top,
        follow: args
            .follow
            .as_ref()
            .map(|_| args.follow_idle.map(std::time::Duration::from_secs_f64)),
        stop,
    };
    let mut file_out;
    let mut stdout_out;
    let lines_to_stdout = args.interval.is_some() && args.live_out.is_none();
    let out: Option<&mut dyn Write> = match (&args.live_out, args.interval) {
        (Some(p), _) => {
            file_out = BufWriter::new(File::create(p).map_err(|source| CliError::Output {
                what: format!("the live lines to {}", p.display()),
                source,
            })?);
            Some(&mut file_out)
        }
        (None, Some(_)) => {
            stdout_out = io::stdout();
            Some(&mut stdout_out)
        }
        (None, None) => None,
    };
    let view = (!args.quiet && crate::stderr_is_terminal()).then(live::view::LiveView::new);
    let mut on_view = |p: &live::Progress| {
        if let Some(v) = &view {
            v.update(p);
        }
    };
    let result = live::run(&cfg.source, &cfg.options, &live_opts, out, &mut on_view);
    if let Some(v) = &view {
        v.finish();
    }
    let lo = result.map_err(CliError::Capture)?;
    if lo.reason == live::StopReason::Signal && !args.quiet {
        eprintln!("vmkflow: stopped by signal; the report covers what was read");
    }
    write_outcome(args, lo.outcome, lines_to_stdout)
}

/// Writes the inventory, the JSON report and the summary of a finished run; maps its error.
/// `summary_to_stderr` keeps standard output for NDJSON lines.
fn write_outcome(
    args: &AnalyzeArgs,
    outcome: analyze::Outcome,
    summary_to_stderr: bool,
) -> Result<ExitCode, CliError> {
    let report = &outcome.report;
    if let Some(p) = &args.write_inventory {
        Inventory::from(outcome.inventory.as_ref())
            .save(p)
            .map_err(|e| CliError::Output {
                what: format!("the inventory to {}", p.display()),
                source: io::Error::other(e.to_string()),
            })?;
    }
    if let Some(dest) = &args.json {
        write_json(dest, report)?;
    }
    if !args.quiet {
        let text = summary::render(report);
        if args.json.as_deref() == Some("-") || summary_to_stderr {
            eprint!("{text}");
        } else {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|source| CliError::Output {
                    what: "the summary".into(),
                    source,
                })?;
        }
    }
    if let Some(t) = &report.capture.truncated_at {
        eprintln!(
            "vmkflow: warning: {}: capture truncated at byte offset {} (record needs {} bytes, {} present); the report covers what was read",
            report.input.name, t.offset, t.needed, t.available
        );
    }
    match outcome.error {
        Some(e) => Err(CliError::Capture(e)),
        None => Ok(ExitCode::SUCCESS),
    }
}

impl SynthArgs {
    /// The validated generator settings.
    fn config(&self) -> Result<SynthConfig, SynthError> {
        let cfg = SynthConfig {
            scenarios: match self.scenario {
                ScenarioArg::All => synth::ALL_SCENARIOS.to_vec(),
                ScenarioArg::One(ks) => vec![(ks.kind, ks.state)],
            },
            model: match self.model {
                ModelArg::Vmware => Model::Vmware,
                ModelArg::Article => Model::Article,
            },
            out: self.out.clone(),
            memory_mb: self.memory_mb,
            disk_mb: self.disk_mb,
            streams: self.streams,
            provisioning: !self.no_provisioning,
            ipv6: self.ipv6,
            vlan: self.vlan,
            encap: match self.encap {
                EncapArg::None => Encap::None,
                EncapArg::Gre => Encap::Gre,
                EncapArg::Erspan2 => Encap::Erspan2,
                EncapArg::Erspan3 => Encap::Erspan3,
            },
            snaplen: self.snaplen,
            format: match self.format {
                FormatArg::Pcap => Format::Pcap,
                FormatArg::PcapNs => Format::PcapNs,
                FormatArg::Pcapng => Format::Pcapng,
            },
            noise: self.noise,
            link_gbps: self.link_gbps,
            seed: self.seed,
            size: self.size,
            vsphere: self.vsphere.clone(),
            nfc_asymmetric: self.nfc_asymmetric,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

pub fn synth(args: SynthArgs) -> Result<ExitCode, CliError> {
    let cfg = args.config().map_err(CliError::Synth)?;
    let s = synth::generate(&cfg).map_err(CliError::Synth)?;
    if let Some(dest) = &args.summary_json {
        write_json(dest, &s)?;
    }
    if !args.quiet {
        let line = format!(
            "wrote {} ({}, {} model, {} migration(s), {} packets, {} bytes) + {} + {}\n",
            s.capture.display(),
            s.format,
            s.model,
            s.migrations.migrations.len(),
            s.packets,
            s.file_bytes,
            s.inventory.display(),
            s.migrations_file.display()
        );
        let to_err = args.summary_json.as_deref() == Some("-");
        let r = if to_err {
            io::stderr().lock().write_all(line.as_bytes())
        } else {
            let mut out = io::stdout().lock();
            out.write_all(line.as_bytes()).and_then(|_| out.flush())
        };
        r.map_err(|source| CliError::Output {
            what: "the summary".into(),
            source,
        })?;
    }
    Ok(ExitCode::SUCCESS)
}
