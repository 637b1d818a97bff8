//! Runs `synth` from its [`SynthRunConfig`]: writes the capture and its label files, then the
//! generator's account and a one-line summary.

use std::path::Path;
use std::process::ExitCode;

use vmkflow::classify::inventory::{Service, VmkInventory};
use vmkflow::events;
use vmkflow::synth;

use super::config::SynthRunConfig;
use super::error::CliError;
use super::output::{print_text, write_json};

/// Runs `synth`.
pub fn run(cfg: SynthRunConfig) -> Result<ExitCode, CliError> {
    let s = synth::generate(&cfg.synth).map_err(CliError::Synth)?;
    if let Some(dir) = &cfg.events_out {
        write_events(dir, &s)?;
    }
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
        if let Some(dir) = &cfg.events_out {
            let line = format!(
                "wrote {} and {}\n",
                dir.join("events.csv").display(),
                dir.join("vmkernel.log").display()
            );
            print_text(stream, &line)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--events-out DIR`: what vCenter and the hosts would have recorded of the migrations.
fn write_events(dir: &Path, s: &synth::SynthSummary) -> Result<(), CliError> {
    let fail = |what: &Path, source| CliError::Output {
        what: what.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let inv = VmkInventory::load(&s.inventory).map_err(CliError::Inventory)?;
    let vmotion_ip = |host: &str| {
        inv.vmks
            .iter()
            .find(|v| v.host == host && v.services.contains(&Service::Vmotion))
            .and_then(|v| v.addrs.first())
            .map(|(a, _)| a.to_string())
    };
    let m = &s.migrations.migrations;
    let csv = dir.join("events.csv");
    std::fs::write(&csv, events::write::powercli_csv(m)).map_err(|e| fail(&csv, e))?;
    let log = dir.join("vmkernel.log");
    std::fs::write(&log, events::write::vmkernel_log(m, &vmotion_ip)).map_err(|e| fail(&log, e))?;
    Ok(())
}
