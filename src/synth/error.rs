//! The generator's errors: a setting it cannot use, or a file it cannot write.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::classify::inventory::InventoryError;
use crate::labels::LabelError;

/// A generator setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadSetting {
    /// No scenario to generate.
    NoScenario,
    /// An option's value is outside what the generator accepts.
    OutOfRange {
        /// The option, e.g. `--streams`.
        option: &'static str,
        /// The value given.
        value: String,
        /// What is accepted, e.g. `1..=16`.
        accepted: &'static str,
    },
    /// An option needs another setting.
    Needs {
        /// The option given.
        option: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// `--split` writes a directory, but `--out` names an existing file.
    NotADirectory(PathBuf),
}

impl fmt::Display for BadSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadSetting::NoScenario => f.write_str("no scenario given"),
            BadSetting::OutOfRange {
                option,
                value,
                accepted,
            } => write!(f, "{option} {value} is not {accepted}"),
            BadSetting::Needs { option, needs } => write!(f, "{option} needs {needs}"),
            BadSetting::NotADirectory(p) => write!(
                f,
                "--split writes a directory of captures, but --out {} is an existing file",
                p.display()
            ),
        }
    }
}

/// An error of the generator.
#[derive(Debug)]
pub enum SynthError {
    /// A setting is out of range or inconsistent.
    Config(BadSetting),
    /// The capture could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The inventory file could not be written.
    Inventory(InventoryError),
    /// The migration labels file could not be written.
    Labels(LabelError),
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynthError::Config(b) => write!(f, "{b}"),
            SynthError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SynthError::Inventory(e) => write!(f, "{e}"),
            SynthError::Labels(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SynthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SynthError::Config(_) => None,
            SynthError::Io { source, .. } => Some(source),
            SynthError::Inventory(e) => Some(e),
            SynthError::Labels(e) => Some(e),
        }
    }
}
