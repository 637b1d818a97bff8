//! The command's errors and the exit status of each (README, "Exit status").

use std::fmt;
use std::io;

use vmkflow::capture::CaptureError;
use vmkflow::classify::inventory::InventoryError;
use vmkflow::labels::LabelError;
use vmkflow::synth::SynthError;
use vmkflow::verify::ClaimSetError;
use vmkflow::vocab::ports::BadPortRule;

/// Exit status: the command line is wrong (as clap uses), or a file it names is invalid.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the capture, or a file the command line names, could not be opened or read.
pub const EXIT_IO: u8 = 3;
/// Exit status: the input is not a capture, or is corrupt past recovery.
pub const EXIT_BAD_CAPTURE: u8 = 4;
/// Exit status: a report or output file could not be written.
pub const EXIT_OUTPUT: u8 = 5;

/// An error of the command, with its exit status ([`CliError::exit_code`]).
#[derive(Debug)]
pub enum CliError {
    /// An option's value is wrong or options conflict; the message says which.
    Usage(String),
    /// A `--port` rule is wrong.
    Port(BadPortRule),
    /// The inventory file (`--inventory`, or the one beside the capture) cannot be read or is
    /// invalid.
    Inventory(InventoryError),
    /// The migration labels file cannot be read or is invalid.
    Migrations(LabelError),
    /// A `--claims` file cannot be read or is invalid.
    Claims(ClaimSetError),
    /// An `--events` file cannot be read or is none of the formats read.
    Events(vmkflow::events::EventsError),
    /// A `--findings-config` file cannot be read (`io`) or is invalid.
    Findings {
        /// The message, naming the file.
        message: String,
        /// Whether reading failed (else the contents were wrong).
        io: bool,
    },
    /// The capture cannot be opened or read, or is not a capture.
    Capture(CaptureError),
    /// `synth` was refused its settings, or could not write its files.
    Synth(SynthError),
    /// A report, summary, live lines or inventory could not be written.
    Output {
        /// What, and where to.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// `--write-inventory` could not write its file.
    WriteInventory(InventoryError),
    /// The SIGINT/SIGTERM/SIGHUP handlers of a live run could not be installed.
    Signals(io::Error),
}

impl CliError {
    /// The exit status: 2 usage or invalid file, 3 cannot open or read, 4 not a capture or
    /// corrupt, 5 cannot write.
    pub fn exit_code(&self) -> u8 {
        let read_or_usage = |is_io: bool| if is_io { EXIT_IO } else { EXIT_USAGE };
        match self {
            CliError::Usage(_) | CliError::Port(_) => EXIT_USAGE,
            CliError::Inventory(e) => read_or_usage(e.is_io()),
            CliError::Migrations(e) => read_or_usage(e.is_io()),
            CliError::Claims(e) => read_or_usage(e.is_io()),
            CliError::Events(e) => read_or_usage(e.io),
            CliError::Findings { io, .. } => read_or_usage(*io),
            CliError::Capture(CaptureError::Io { .. } | CaptureError::Open { .. }) => EXIT_IO,
            CliError::Capture(_) => EXIT_BAD_CAPTURE,
            CliError::Synth(SynthError::Config(_)) => EXIT_USAGE,
            CliError::Synth(_) => EXIT_OUTPUT,
            CliError::Output { .. } | CliError::WriteInventory(_) | CliError::Signals(_) => {
                EXIT_OUTPUT
            }
        }
    }

    /// Whether this is a write to a closed pipe (`vmkflow … | head`): not an error to report.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Port(e) => write!(f, "--port {e}"),
            CliError::Inventory(e) => write!(f, "inventory {e}"),
            CliError::Migrations(e) => write!(f, "migrations {e}"),
            CliError::Claims(e) => write!(f, "claim set {e}"),
            CliError::Events(e) => write!(f, "events {e}"),
            CliError::Findings { message, .. } => write!(f, "findings configuration {message}"),
            CliError::Capture(e) => write!(f, "{e}"),
            CliError::Synth(e) => write!(f, "{e}"),
            CliError::Output { what, source } => write!(f, "cannot write {what}: {source}"),
            CliError::WriteInventory(e) => write!(f, "cannot write the inventory to {e}"),
            CliError::Signals(e) => write!(f, "cannot install the signal handlers: {e}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Usage(_) | CliError::Findings { .. } => None,
            CliError::Port(e) => Some(e),
            CliError::Inventory(e) => Some(e),
            CliError::Migrations(e) => Some(e),
            CliError::Claims(e) => Some(e),
            CliError::Events(e) => Some(e),
            CliError::Capture(e) => Some(e),
            CliError::Synth(e) => Some(e),
            CliError::Output { source, .. } => Some(source),
            CliError::WriteInventory(e) => Some(e),
            CliError::Signals(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;
    use std::path::PathBuf;

    #[test]
    fn label_files_exit_3_when_unreadable_and_2_when_invalid() {
        let missing = || io::Error::new(io::ErrorKind::NotFound, "gone");
        let e = CliError::Inventory(InventoryError::Io {
            path: PathBuf::from("x.json"),
            source: missing(),
        });
        assert_eq!(e.exit_code(), EXIT_IO);
        assert_eq!(e.to_string(), "inventory x.json: gone");
        assert!(e.source().is_some());
        let e = CliError::Migrations(LabelError::Io {
            path: PathBuf::from("m.json"),
            source: missing(),
        });
        assert_eq!(e.exit_code(), EXIT_IO);
        let e = CliError::Claims(ClaimSetError::DuplicateRow {
            name: "c.json".into(),
            row: 1,
        });
        assert_eq!(e.exit_code(), EXIT_USAGE);
        assert_eq!(e.to_string(), "claim set c.json: row 1 appears twice");
    }

    #[test]
    fn broken_pipe_is_recognised() {
        let e = CliError::Output {
            what: "the summary".into(),
            source: io::Error::from(io::ErrorKind::BrokenPipe),
        };
        assert!(e.is_broken_pipe());
        assert_eq!(e.exit_code(), EXIT_OUTPUT);
    }
}
