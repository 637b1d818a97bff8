//! Reading claim sets: the two embedded ones and a user's file (`--claims FILE`).
//!
//! In: JSON text (embedded, or a file's bytes). Out: a checked [`ClaimSet`] (row numbers unique),
//! or a [`ClaimSetError`] that names the file or embedded set and what was wrong.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{ARTICLE, ClaimSet, VMWARE_DOCS};

/// A claim set that could not be read; every variant names the file or embedded set.
#[derive(Debug)]
pub enum ClaimSetError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The text is not a claim set (serde's error carries line and column).
    Json {
        /// The file, or the embedded set's name.
        name: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// Two rows have the same number.
    DuplicateRow {
        /// The file, or the embedded set's name.
        name: String,
        /// The row number.
        row: u32,
    },
}

impl ClaimSetError {
    /// Whether the file could not be opened or read (as opposed to read and found wrong).
    pub fn is_io(&self) -> bool {
        matches!(self, ClaimSetError::Io { .. })
    }
}

impl fmt::Display for ClaimSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimSetError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ClaimSetError::Json { name, source } => write!(f, "{name}: {source}"),
            ClaimSetError::DuplicateRow { name, row } => {
                write!(f, "{name}: row {row} appears twice")
            }
        }
    }
}

impl std::error::Error for ClaimSetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClaimSetError::Io { source, .. } => Some(source),
            ClaimSetError::Json { source, .. } => Some(source),
            ClaimSetError::DuplicateRow { .. } => None,
        }
    }
}

impl ClaimSet {
    /// Parses a claim set from JSON text; `source_name` (a file or set name) goes into errors.
    pub fn parse(source_name: &str, text: &str) -> Result<ClaimSet, ClaimSetError> {
        ClaimSet::from_json(source_name, text.as_bytes())
    }

    fn from_json(name: &str, bytes: &[u8]) -> Result<ClaimSet, ClaimSetError> {
        let set: ClaimSet =
            serde_json::from_slice(bytes).map_err(|source| ClaimSetError::Json {
                name: name.to_string(),
                source,
            })?;
        let mut seen = std::collections::BTreeSet::new();
        if let Some(r) = set.rows.iter().find(|r| !seen.insert(r.row)) {
            return Err(ClaimSetError::DuplicateRow {
                name: name.to_string(),
                row: r.row,
            });
        }
        Ok(set)
    }

    /// Loads a user's claim set (same JSON format as the embedded ones).
    pub fn load(path: &Path) -> Result<ClaimSet, ClaimSetError> {
        let bytes = std::fs::read(path).map_err(|source| ClaimSetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ClaimSet::from_json(&path.display().to_string(), &bytes)
    }

    /// The two embedded sets, `article` and `vmware-docs` (checked by the unit tests).
    pub fn builtin() -> Vec<ClaimSet> {
        [("article", ARTICLE), ("vmware-docs", VMWARE_DOCS)]
            .iter()
            .filter_map(|(n, t)| ClaimSet::parse(n, t).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_tell_io_from_content() {
        let e = ClaimSet::load(Path::new("/nonexistent/mine.json")).unwrap_err();
        assert!(e.is_io(), "{e}");
        assert!(e.to_string().starts_with("/nonexistent/mine.json: "), "{e}");
        let e = ClaimSet::parse("mine.json", "{\"name\":").unwrap_err();
        assert!(matches!(e, ClaimSetError::Json { .. }), "{e}");
        assert!(e.to_string().starts_with("mine.json: "), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
