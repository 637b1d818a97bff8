//! Runs `analyze` from its [`AnalyzeConfig`]: a file read to its end with a progress bar, or a
//! live run (stream, FIFO, `--follow`, `--interval`) with a reader thread, NDJSON lines and
//! signals; then the inventory, the report and the summary.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use vmkflow::analyze::{self, Outcome};
use vmkflow::capture::CaptureReader;
use vmkflow::classify::inventory::Inventory;
use vmkflow::live;
use vmkflow::report::summary;

use super::config::{AnalyzeConfig, Dest, LiveConfig};
use super::error::CliError;
use super::output::{print_text, write_html, write_json, write_parquet};

/// Whether a progress display may be drawn.
fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Runs `analyze`.
pub fn run(cfg: AnalyzeConfig) -> Result<ExitCode, CliError> {
    if !cfg.quiet {
        for n in &cfg.notes {
            eprintln!("vmkflow: {n}");
        }
    }
    if let Some(live) = &cfg.live {
        return run_live(&cfg, live);
    }
    // Opened here to fail early on an input that cannot be read, and for the progress bar's size.
    let opened = cfg
        .sources
        .iter()
        .map(|s| CaptureReader::open(s).map(|r| r.size_hint()))
        .collect::<Result<Vec<_>, _>>();
    let size: Option<u64> = match opened {
        Ok(sizes) => sizes.into_iter().sum(),
        // One input that is no capture: the report says so (exit 4 all the same).
        Err(e) if e.is_content() && cfg.sources.len() == 1 => {
            let name = cfg.source.display_name();
            return write_outcome(&cfg, analyze::unreadable(name, e, &cfg.options));
        }
        Err(e) => return Err(CliError::Capture(e)),
    };
    let bar = match (cfg.quiet, size, stderr_is_terminal()) {
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
    let outcome = analyze::run_set(&cfg.sources, &cfg.options, &mut on_progress);
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    write_outcome(&cfg, outcome.map_err(CliError::Capture)?)
}

/// `analyze` on a stream or a followed file: a reader thread, NDJSON lines, signals.
fn run_live(cfg: &AnalyzeConfig, live_cfg: &LiveConfig) -> Result<ExitCode, CliError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    // SIGHUP too: a closed SSH session hangs up on the pipeline it ran.
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // A second signal while the report is being written exits at once (status 1).
        signal_hook::flag::register_conditional_shutdown(sig, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(CliError::Signals)?;
    }
    let live_opts = live::LiveOptions {
        interval: live_cfg.lines.as_ref().map(|l| l.every),
        top: live_cfg.top,
        follow: live_cfg.follow,
        stop,
    };
    let mut file_out;
    let mut stdout_out;
    let out: Option<&mut dyn Write> = match live_cfg.lines.as_ref().map(|l| &l.to) {
        Some(Dest::File(p)) => {
            file_out = BufWriter::new(File::create(p).map_err(|source| CliError::Output {
                what: format!("the live lines to {}", p.display()),
                source,
            })?);
            Some(&mut file_out)
        }
        Some(Dest::Stdout) => {
            stdout_out = io::stdout();
            Some(&mut stdout_out)
        }
        None => None,
    };
    let view = (!cfg.quiet && stderr_is_terminal()).then(live::view::LiveView::new);
    let mut on_view = |p: &live::Progress| {
        if let Some(v) = &view {
            v.update(p);
        }
    };
    let result = live::run(&cfg.source, &cfg.options, &live_opts, out, &mut on_view);
    if let Some(v) = &view {
        v.finish();
    }
    let lo = match result {
        Ok(lo) => lo,
        Err(e) if e.is_content() => {
            let name = cfg.source.display_name();
            return write_outcome(cfg, analyze::unreadable(name, e, &cfg.options));
        }
        Err(e) => return Err(CliError::Capture(e)),
    };
    if lo.reason == live::StopReason::Signal && !cfg.quiet {
        eprintln!("vmkflow: stopped by signal; the report covers what was read");
    }
    let code = write_outcome(cfg, lo.outcome)?;
    // The report is written first: a full disk under the lines must not cost it.
    match (lo.lines_error, live_cfg.lines.as_ref().map(|l| &l.to)) {
        (Some(source), to) => Err(CliError::Output {
            what: match to {
                Some(Dest::File(p)) => format!("the live lines to {}", p.display()),
                _ => "the live lines to standard output".into(),
            },
            source,
        }),
        (None, _) => Ok(code),
    }
}

/// Writes the inventory, the JSON report and the summary of a finished run; maps its error.
fn write_outcome(cfg: &AnalyzeConfig, outcome: Outcome) -> Result<ExitCode, CliError> {
    let report = &outcome.report;
    if let Some(p) = &cfg.write_inventory {
        Inventory::from(outcome.inventory.as_ref())
            .save(p)
            .map_err(CliError::WriteInventory)?;
    }
    if let Some(dest) = &cfg.report {
        write_json(dest, report)?;
    }
    if let Some(p) = &cfg.html {
        write_html(p, report)?;
    }
    if let Some((dir, id)) = &cfg.parquet {
        write_parquet(dir, id, report)?;
    }
    if let Some(stream) = cfg.summary {
        let text = match cfg.findings_only {
            true => summary::render_findings(report),
            false => summary::render(report),
        };
        print_text(stream, &text)?;
    }
    for w in &report.warnings {
        eprintln!("vmkflow: warning: {w}");
    }
    for input in &report.capture.inputs {
        if let Some(t) = &input.truncated_at {
            eprintln!(
                "vmkflow: warning: {}: capture truncated at byte offset {} (record needs {} bytes, {} present); the report covers what was read",
                input.name, t.offset, t.needed, t.available
            );
        }
    }
    match outcome.error {
        Some(e) => Err(CliError::Capture(e)),
        None => Ok(ExitCode::SUCCESS),
    }
}
