//! Command-line arguments (what was typed) and the commands that run them.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use vmkflow::analyze::{self, AnalyzeOptions};
use vmkflow::capture::{CaptureError, CaptureReader, Source};
use vmkflow::classify::ClassifyConfig;
use vmkflow::classify::ports::{PortCatalogue, PortRule};
use vmkflow::flow::FlowConfig;
use vmkflow::report::summary;

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
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The capture: a path, or `-` for standard input.
    pub capture: String,
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
}

/// The validated settings of `analyze`, built before any packet is read.
pub struct AnalyzeConfig {
    pub source: Source,
    pub options: AnalyzeOptions,
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
                ..FlowConfig::default()
            },
            classify: ClassifyConfig {
                ports: PortCatalogue::new(&rules),
                top: self.top,
                max_report_flows: self.max_report_flows,
            },
            inventory: None,
        };
        Ok(AnalyzeConfig {
            source: Source::from_arg(&self.capture),
            options,
        })
    }
}

/// An error of the command, with its exit status.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Capture(CaptureError),
    Output { what: String, source: io::Error },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Capture(CaptureError::Io { .. }) => EXIT_IO,
            CliError::Capture(_) => EXIT_BAD_CAPTURE,
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

pub fn analyze(args: AnalyzeArgs) -> Result<ExitCode, CliError> {
    let cfg = args.validate()?;
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
    let report = &outcome.report;
    if let Some(dest) = &args.json {
        write_json(dest, report)?;
    }
    if !args.quiet {
        let text = summary::render(report);
        if args.json.as_deref() == Some("-") {
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
