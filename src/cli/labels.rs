//! Runs `labels`: reads vCenter events and tasks exports and ESXi logs, writes the migrations
//! they record as labels (the JSON of `--migrations`), and says what was not labelled.

use std::path::PathBuf;
use std::process::ExitCode;

use vmkflow::events;
use vmkflow::labels::Migrations;
use vmkflow::vocab::time::rfc3339;

use super::args::LabelsArgs;
use super::config::{Stream, events_tz};
use super::error::CliError;
use super::output::print_text;

/// `labels`, checked.
pub struct LabelsConfig {
    files: Vec<PathBuf>,
    out: PathBuf,
    tz: events::Tz,
    quiet: bool,
}

impl LabelsConfig {
    /// Checks what was typed.
    pub fn from_args(args: &LabelsArgs) -> Result<LabelsConfig, CliError> {
        Ok(LabelsConfig {
            files: args.files.clone(),
            out: args.out.clone(),
            tz: events_tz(args.events_tz.as_deref())?,
            quiet: args.quiet,
        })
    }
}

/// Runs `labels`.
pub fn run(cfg: LabelsConfig) -> Result<ExitCode, CliError> {
    let d = events::read_files(&cfg.files, cfg.tz).map_err(CliError::Events)?;
    let labels = Migrations {
        migrations: d.migrations.clone(),
    };
    labels.save(&cfg.out).map_err(|e| CliError::Output {
        what: format!("the labels to {}", cfg.out.display()),
        source: std::io::Error::other(e.to_string()),
    })?;
    if cfg.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let mut err = String::new();
    for w in &d.warnings {
        err.push_str(&format!("vmkflow: {w}\n"));
    }
    for u in &d.unfinished {
        err.push_str(&format!(
            "vmkflow: not labelled: {} migration of {} from {} to {} ({})\n",
            u.outcome,
            u.vm.as_deref().unwrap_or("an unnamed VM"),
            rfc3339(u.start.0),
            rfc3339(u.end.0),
            u.at
        ));
    }
    print_text(Stream::Stderr, &err)?;
    let drs = d.origins.iter().filter(|o| o.drs).count();
    let narrowed = d.origins.iter().filter(|o| o.narrowed).count();
    print_text(
        Stream::Stdout,
        &format!(
            "wrote {} migration(s) ({drs} initiated by DRS, {narrowed} narrowed by log lines) \
             from {} file(s) to {}; {} failed, cancelled or unfinished not labelled\n",
            d.migrations.len(),
            d.sources.len(),
            cfg.out.display(),
            d.unfinished.len()
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}
