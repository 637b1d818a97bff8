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
use vmkflow::report::summary;

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
}

/// An error of the command, with its exit status.
#[derive(Debug)]
pub enum CliError {
    Capture(CaptureError),
    Output { what: String, source: io::Error },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
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
    let source = Source::from_arg(&args.capture);
    let reader = CaptureReader::open(&source).map_err(CliError::Capture)?;
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
    let outcome = analyze::run(reader, &AnalyzeOptions::default(), &mut on_progress);
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
