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
        print_text(stream, &line)?;
    }
    Ok(ExitCode::SUCCESS)
}
