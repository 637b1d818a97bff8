//! Clock offsets between capture points. Two hosts' captures of one frame carry the two clocks'
//! readings of (nearly) one instant; the median of their differences over many frames is the
//! offset between the clocks (plus the one-way delay, microseconds on a LAN, which the median
//! over both directions of a conversation mostly cancels).

use std::collections::{BTreeMap, VecDeque};

/// Samples kept per pair of clocks.
const MAX_SAMPLES: usize = 200_000;
/// Fewest samples an estimate rests on.
pub const MIN_SAMPLES: usize = 8;
/// Samples after which an estimate is settled (reading ahead for more stops).
pub const ENOUGH_SAMPLES: u64 = 2_000;

/// How a clock's offset was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSource {
    /// The clock the others are measured against.
    Reference,
    /// `--clock-offset`.
    Option,
    /// The median difference over frames both clocks saw.
    Estimated,
    /// Nothing links this clock to the reference: taken as 0.
    Unknown,
}

impl OffsetSource {
    /// The report's name.
    pub fn name(self) -> &'static str {
        match self {
            OffsetSource::Reference => "reference",
            OffsetSource::Option => "option",
            OffsetSource::Estimated => "estimated",
            OffsetSource::Unknown => "unknown",
        }
    }
}

/// One clock's offset from the reference: its readings are `offset_ns` ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct Offset {
    /// Nanoseconds the clock runs ahead of the reference (subtracted from its timestamps).
    pub offset_ns: i64,
    /// Median absolute deviation of the samples behind the estimate (0 when not estimated).
    pub spread_ns: i64,
    /// Frames the estimate rests on.
    pub samples: u64,
    /// How it was set.
    pub source: OffsetSource,
}

impl Offset {
    /// Whether nothing more is to be learnt: the reference, a given offset, or an estimate from
    /// [`ENOUGH_SAMPLES`] frames.
    pub fn settled(&self) -> bool {
        match self.source {
            OffsetSource::Reference | OffsetSource::Option => true,
            OffsetSource::Estimated => self.samples >= ENOUGH_SAMPLES,
            OffsetSource::Unknown => false,
        }
    }
}

/// Time differences of frames two clocks both saw.
#[derive(Default)]
pub struct Samples {
    /// `(a, b)` with `a < b` → `ts_b - ts_a` per frame, by the frame's direction (whether its
    /// source address is the lower of its two).
    pairs: BTreeMap<(usize, usize), [Vec<i64>; 2]>,
}

impl Samples {
    /// Records one frame seen by clock `a` at `ts_a` and by clock `b` at `ts_b`; `upward` is
    /// its direction (source address below destination), so that the delays of the two ways
    /// cancel.
    pub fn add(&mut self, a: usize, ts_a: i64, b: usize, ts_b: i64, upward: bool) {
        if a == b {
            return;
        }
        let (key, d) = if a < b {
            ((a, b), ts_b - ts_a)
        } else {
            ((b, a), ts_a - ts_b)
        };
        let v = &mut self.pairs.entry(key).or_default()[usize::from(upward)];
        if v.len() < MAX_SAMPLES {
            v.push(d);
        }
    }

    /// Offsets of `clocks` clocks: clock 0 is the reference, `fixed` are given offsets (they
    /// win over estimates), the others are estimated by walking from known clocks over pairs
    /// with at least [`MIN_SAMPLES`] frames.
    pub fn solve(&self, clocks: usize, fixed: &BTreeMap<usize, i64>) -> Vec<Offset> {
        let mut out: Vec<Option<Offset>> = vec![None; clocks];
        let mut queue = VecDeque::new();
        for (i, o) in out.iter_mut().enumerate() {
            if let Some(&v) = fixed.get(&i) {
                *o = Some(Offset {
                    offset_ns: v,
                    spread_ns: 0,
                    samples: 0,
                    source: OffsetSource::Option,
                });
                queue.push_back(i);
            }
        }
        if clocks > 0 && out[0].is_none() {
            out[0] = Some(Offset {
                offset_ns: 0,
                spread_ns: 0,
                samples: 0,
                source: OffsetSource::Reference,
            });
            queue.push_front(0);
        }
        let stats: BTreeMap<(usize, usize), (i64, i64, u64)> = self
            .pairs
            .iter()
            .filter(|(_, [up, down])| up.len() + down.len() >= MIN_SAMPLES)
            .map(|(&k, [up, down])| (k, estimate(up, down)))
            .collect();
        while let Some(a) = queue.pop_front() {
            let base = out[a].as_ref().map_or(0, |o| o.offset_ns);
            for (&(x, y), &(med, spread, n)) in &stats {
                let (b, d) = if x == a {
                    (y, med)
                } else if y == a {
                    (x, -med)
                } else {
                    continue;
                };
                if b < clocks && out[b].is_none() {
                    out[b] = Some(Offset {
                        offset_ns: base + d,
                        spread_ns: spread,
                        samples: n,
                        source: OffsetSource::Estimated,
                    });
                    queue.push_back(b);
                }
            }
        }
        out.into_iter()
            .map(|o| {
                o.unwrap_or(Offset {
                    offset_ns: 0,
                    spread_ns: 0,
                    samples: 0,
                    source: OffsetSource::Unknown,
                })
            })
            .collect()
    }
}

/// The offset between two clocks from the differences of frames going each way: the mean of
/// the two ways' medians when both have samples (a frame's one-way delay adds to one way's
/// differences and subtracts from the other's), else the one way's median; with the spread
/// and count of all samples.
fn estimate(up: &[i64], down: &[i64]) -> (i64, i64, u64) {
    let all: Vec<i64> = up.iter().chain(down).copied().collect();
    let (med_all, _, n) = median_and_spread(&all);
    let half = MIN_SAMPLES / 2;
    let offset = if up.len() >= half && down.len() >= half {
        let (a, _, _) = median_and_spread(up);
        let (b, _, _) = median_and_spread(down);
        ((i128::from(a) + i128::from(b)) / 2) as i64
    } else {
        med_all
    };
    let mut dev: Vec<i64> = all.iter().map(|x| (x - offset).abs()).collect();
    (offset, median(&mut dev), n)
}

/// Median, median absolute deviation, and count.
fn median_and_spread(v: &[i64]) -> (i64, i64, u64) {
    let mut s = v.to_vec();
    let med = median(&mut s);
    let mut dev: Vec<i64> = s.iter().map(|x| (x - med).abs()).collect();
    (med, median(&mut dev), s.len() as u64)
}

/// The median (the mean of the middle two for an even count); 0 for none.
fn median(v: &mut [i64]) -> i64 {
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => v[n / 2],
        _ => ((i128::from(v[n / 2 - 1]) + i128::from(v[n / 2])) / 2) as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_walk_from_the_reference() {
        let mut s = Samples::default();
        for i in 0..20 {
            // clock 1 is 2 ms ahead, with ±20 µs of delay either way.
            let jitter = if i % 2 == 0 { 20_000 } else { -20_000 };
            s.add(
                0,
                i * 1_000_000,
                1,
                i * 1_000_000 + 2_000_000 + jitter,
                i % 2 == 0,
            );
            // clock 2 is 5 ms behind clock 1.
            s.add(2, i * 1_000_000, 1, i * 1_000_000 + 5_000_000, true);
        }
        s.add(0, 0, 3, 99, true); // too few to estimate clock 3
        let o = s.solve(4, &BTreeMap::new());
        assert_eq!(o[0].source, OffsetSource::Reference);
        assert_eq!(o[1].offset_ns, 2_000_000, "{:?}", o[1]);
        assert_eq!(o[1].spread_ns, 20_000);
        assert_eq!(o[1].samples, 20);
        assert!(
            (o[2].offset_ns - (-3_000_000)).abs() <= 20_000,
            "{:?}",
            o[2]
        );
        assert_eq!(o[3].source, OffsetSource::Unknown);
        let fixed = BTreeMap::from([(1usize, 1_000_000i64)]);
        let o = s.solve(3, &fixed);
        assert_eq!(o[1].source, OffsetSource::Option);
        assert_eq!(o[1].offset_ns, 1_000_000);
        assert!((o[2].offset_ns - (-4_000_000)).abs() <= 20_000);
    }

    #[test]
    fn the_two_ways_delays_cancel() {
        let mut s = Samples::default();
        // Clock 1 is 3 ms ahead; 90 frames one way arrive 50 µs after they left, 10 the other.
        for i in 0..90 {
            s.add(0, i, 1, i + 3_000_000 + 50_000, true);
        }
        for i in 0..10 {
            s.add(1, i + 3_000_000, 0, i + 50_000, false);
        }
        let o = s.solve(2, &BTreeMap::new());
        assert_eq!(o[1].offset_ns, 3_000_000, "{:?}", o[1]);
        assert_eq!(o[1].samples, 100);
    }
}
