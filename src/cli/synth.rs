//! Runs `synth` from its [`SynthRunConfig`]: writes the capture and its label files, then the
//! generator's account and a one-line summary.

use std::process::ExitCode;

use vmkflow::synth;

use super::config::SynthRunConfig;
use super::error::CliError;
use super::output::{print_text, write_json};

/// Runs `synth`.
pub fn run(cfg: SynthRunConfig) -> Result<ExitCode, CliError> {
    let s = synth::generate(&cfg.synth).map_err(CliError::Synth)?;
    if let Some(dest) = &cfg.account {
        write_json(dest, &s)?;
    }
    if let Some(stream) = cfg.summary {
        // A capture set counts the records of its files (a frame may be in two).
        let (what, packets) = match s.files.len() {
            0 => (s.capture.display().to_string(), s.packets),
            n => (
                format!("{n} capture files in {}", s.capture.display()),
                s.files.iter().map(|f| f.packets).sum(),
            ),
        };
        let line = format!(
            "wrote {} ({}, {} model, {} migration(s), {} packets, {} bytes) + {} + {}\n",
            what,
            s.format,
            s.model,
            s.migrations.migrations.len(),
            packets,
            s.file_bytes,
            s.inventory.display(),
            s.migrations_file.display()
        );
        print_text(stream, &line)?;
    }
    Ok(ExitCode::SUCCESS)
}
