//! The `vmkflow` command: parses arguments, calls the library, maps errors to exit codes.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => cli::analyze(args),
        Command::Synth(args) => cli::synth(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "vmkflow: {e}");
            let _ = io::stderr().flush();
            ExitCode::from(e.exit_code())
        }
    }
}

/// Whether the progress bar may be drawn.
pub(crate) fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}
