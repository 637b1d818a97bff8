//! The `vmkflow` command: parses arguments, runs the command, maps errors to exit statuses.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli.command) {
        Ok(code) => code,
        // The reader went away (`vmkflow … | head`): nothing is wrong.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "vmkflow: {e}");
            let _ = io::stderr().flush();
            ExitCode::from(e.exit_code())
        }
    }
}
