//! The command line: what was typed ([`args`]), the checked settings built from it ([`config`]),
//! the commands that run on those settings alone ([`analyze`], [`synth`]), and the errors with
//! their exit statuses ([`error`]).

pub mod analyze;
pub mod args;
pub mod config;
pub mod error;
pub mod labels;
mod output;
pub mod synth;

use std::process::ExitCode;

pub use args::{Cli, Command};
pub use error::CliError;

/// Checks the command's arguments and runs it.
pub fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Analyze(args) => analyze::run(config::AnalyzeConfig::from_args(&args)?),
        Command::Synth(args) => synth::run(config::SynthRunConfig::from_args(&args)?),
        Command::Labels(args) => labels::run(labels::LabelsConfig::from_args(&args)?),
    }
}
