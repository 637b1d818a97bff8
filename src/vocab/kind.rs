//! What a migration is: its [`MigrationKind`], the VM's [`PowerState`], and the pair of both
//! ([`KindState`]), written `KIND:STATE` (`vmotion:hot`) on the command line and in reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// Compute-only vMotion (`vmotion`).
    Vmotion,
    /// Storage-only migration (`storage-vmotion`).
    StorageVmotion,
    /// Compute and storage, shared-nothing (`xvmotion`).
    Xvmotion,
}

impl MigrationKind {
    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationKind::Vmotion => "vmotion",
            MigrationKind::StorageVmotion => "storage-vmotion",
            MigrationKind::Xvmotion => "xvmotion",
        }
    }
}

/// Whether the VM was powered on during the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    /// Powered on.
    Hot,
    /// Powered off.
    Cold,
}

impl PowerState {
    /// `hot` or `cold`.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::Hot => "hot",
            PowerState::Cold => "cold",
        }
    }
}

/// A kind and a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KindState {
    /// Kind.
    pub kind: MigrationKind,
    /// State.
    pub state: PowerState,
}

impl KindState {
    /// A kind and a state.
    pub fn new(kind: MigrationKind, state: PowerState) -> KindState {
        KindState { kind, state }
    }
}

impl fmt::Display for KindState {
    /// `KIND:STATE`, e.g. `storage-vmotion:cold`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.state.as_str())
    }
}

/// Text that is not `KIND:STATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadKindState {
    /// No `:` between a kind and a state (the text given).
    NotKindState(String),
    /// The kind is none of `vmotion`, `storage-vmotion` (`svmotion`), `xvmotion`.
    UnknownKind(String),
    /// The state is neither `hot` nor `cold`.
    UnknownState(String),
}

impl fmt::Display for BadKindState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadKindState::NotKindState(s) => {
                write!(f, "`{s}` is not KIND:STATE (e.g. vmotion:hot)")
            }
            BadKindState::UnknownKind(k) => write!(
                f,
                "unknown kind `{k}`: expected vmotion, storage-vmotion or xvmotion"
            ),
            BadKindState::UnknownState(s) => {
                write!(f, "unknown state `{s}`: expected hot or cold")
            }
        }
    }
}

impl std::error::Error for BadKindState {}

impl FromStr for KindState {
    type Err = BadKindState;

    /// Parses `vmotion:hot`, `storage-vmotion:cold` (or `svmotion:cold`), `xvmotion:hot`, ….
    fn from_str(s: &str) -> Result<KindState, BadKindState> {
        let (kind, state) = s
            .split_once(':')
            .ok_or_else(|| BadKindState::NotKindState(s.into()))?;
        let kind = match kind {
            "vmotion" => MigrationKind::Vmotion,
            "storage-vmotion" | "svmotion" => MigrationKind::StorageVmotion,
            "xvmotion" => MigrationKind::Xvmotion,
            other => return Err(BadKindState::UnknownKind(other.into())),
        };
        let state = match state {
            "hot" => PowerState::Hot,
            "cold" => PowerState::Cold,
            other => return Err(BadKindState::UnknownState(other.into())),
        };
        Ok(KindState { kind, state })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_state_round_trip() {
        for kind in [
            MigrationKind::Vmotion,
            MigrationKind::StorageVmotion,
            MigrationKind::Xvmotion,
        ] {
            for state in [PowerState::Hot, PowerState::Cold] {
                let ks = KindState::new(kind, state);
                assert_eq!(ks.to_string().parse::<KindState>(), Ok(ks));
            }
        }
        assert_eq!(
            "svmotion:cold".parse::<KindState>().map(|k| k.to_string()),
            Ok("storage-vmotion:cold".to_string())
        );
        assert!("vmotion".parse::<KindState>().is_err());
        assert!("vmotion:warm".parse::<KindState>().is_err());
        assert!("teleport:hot".parse::<KindState>().is_err());
    }
}
