//! Capture sets: several captures of one event, taken at several places (one file per vmk per
//! host, a mirror session beside them), read as one account. The inputs are merged in time order
//! as they stream ([`merge`]); each host's clock is put on the reference clock ([`clock`]);
//! a frame seen at two places is counted once ([`dedup`], by [`identity`]); and each input's
//! traffic says where it was captured ([`local`]).
//!
//! In: capture readers and what the user said of them. Out: frames in reference-clock order,
//! each either analysed or counted as a copy, and the per-input facts the report lists.

pub mod clock;
pub mod dedup;
pub mod identity;
pub mod local;
pub mod merge;

use crate::vocab::vantage::Direction;

/// Frames read at most, before the analysis, to estimate the clock offsets (the reading stops
/// earlier once every clock's offset rests on [`clock::ENOUGH_SAMPLES`] frames).
pub const CALIBRATION_FRAMES: usize = 2_000_000;
/// How far apart two clocks may be for the estimate to find their common frames.
pub const CALIBRATION_WINDOW_NS: i64 = 10_000_000_000;

/// What the user said of one input's vantage: `--vantage FILE=HOST/VMK[:DIR]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VantageArg {
    /// Host name.
    pub host: String,
    /// vmk name.
    pub vmk: String,
    /// Direction, when given.
    pub direction: Option<Direction>,
}

impl std::str::FromStr for VantageArg {
    type Err = String;
    /// `HOST/VMK[:tx|rx|both]`.
    fn from_str(s: &str) -> Result<VantageArg, String> {
        let (hv, dir) = match s.rsplit_once(':') {
            Some((hv, d)) => (hv, Some(d.parse::<Direction>()?)),
            None => (s, None),
        };
        let (host, vmk) = hv
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not HOST/VMK[:tx|rx|both] (e.g. esx01/vmk1:tx)"))?;
        if host.is_empty() || !vmk.starts_with("vmk") || vmk.len() < 4 {
            return Err(format!(
                "`{s}` is not HOST/VMK[:tx|rx|both] (e.g. esx01/vmk1:tx)"
            ));
        }
        Ok(VantageArg {
            host: host.to_string(),
            vmk: vmk.to_string(),
            direction: dir,
        })
    }
}

/// How a capture set is read.
#[derive(Debug, Clone)]
pub struct SetOptions {
    /// Frames of one identity within this window are one frame seen twice (0: keep every
    /// frame).
    pub dedup_window_ns: i64,
    /// `--clock-offset HOST=±MS`: nanoseconds the host's clock runs ahead of the reference.
    pub clock_offsets: Vec<(String, i64)>,
    /// Per input, what `--vantage` said.
    pub vantages: Vec<Option<VantageArg>>,
}

impl Default for SetOptions {
    fn default() -> SetOptions {
        SetOptions {
            dedup_window_ns: dedup::DEFAULT_WINDOW_NS,
            clock_offsets: Vec::new(),
            vantages: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vantage_arguments() {
        let v: VantageArg = "esx01/vmk1:tx".parse().unwrap();
        assert_eq!(v.host, "esx01");
        assert_eq!(v.vmk, "vmk1");
        assert_eq!(v.direction, Some(Direction::Tx));
        let v: VantageArg = "esx02.lab/vmk0".parse().unwrap();
        assert_eq!((v.host.as_str(), v.direction), ("esx02.lab", None));
        assert!("esx01".parse::<VantageArg>().is_err());
        assert!("esx01/eth0".parse::<VantageArg>().is_err());
        assert!("esx01/vmk1:up".parse::<VantageArg>().is_err());
    }
}
