//! A migration's traffic over time for the HTML report: its scope's 1 ms bins folded into about
//! [`TARGET_POINTS`] adaptive bins per network, over its window with some context before and
//! after.
//!
//! The bytes come from `Scope::for_each` and are attributed to networks by
//! [`LocatedConv::counted_networks`], as [`Breakdown`](super::Breakdown) attributes them: the
//! bins inside the window add up, per network, to the migration's `payload_bytes_by_network`
//! (a conversation with ends on two networks counts under both).

use std::collections::{BTreeMap, BTreeSet};

use super::timeline::{BIN_NS, Timeline};
use super::{Analysed, LocatedConv, Scope};
use crate::classify::inventory::Network;

/// Most migrations given a timeline (a labels file can name thousands; the page stays small).
pub const MAX_TIMELINES: usize = 50;
/// About this many bins per timeline.
pub const TARGET_POINTS: i64 = 500;
/// Context shown before and after the window: a fifth of its length, at least this (ns).
pub const MIN_CONTEXT_NS: i64 = 2_000_000;

/// One migration's traffic in adaptive bins.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSeries {
    /// The migration's id.
    pub id: String,
    /// Window start and end (ns).
    pub start: i64,
    /// Window end (ns).
    pub end: i64,
    /// Width of a full bin (ns); the last bin of the window may be narrower.
    pub bin_ns: i64,
    /// Bin edges (ns), one more than there are bins.
    pub edges: Vec<i64>,
    /// The bins inside the window: `window.0..window.1`.
    pub window: (usize, usize),
    /// Payload bytes per bin, by network.
    pub by_network: BTreeMap<Network, Vec<u64>>,
    /// Payload bytes per bin of conversations under no network.
    pub no_network: Vec<u64>,
    /// Phases: name, start, end (ns).
    pub phases: Vec<(&'static str, i64, i64)>,
    /// The switchover RARP (ns), when one was seen.
    pub rarp: Option<i64>,
}

impl MigrationSeries {
    /// Bins.
    pub fn len(&self) -> usize {
        self.edges.len().saturating_sub(1)
    }

    /// Whether there is no bin.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of `network` in the window's bins.
    pub fn window_bytes(&self, network: Network) -> u64 {
        self.by_network
            .get(&network)
            .and_then(|v| v.get(self.window.0..self.window.1))
            .map_or(0, |v| v.iter().sum())
    }
}

/// A round bin width (1, 2 or 5 times a power of ten, in 1 ms bins) of at least `ms`.
fn nice_width(ms: i64) -> i64 {
    let mut p = 1i64;
    loop {
        for m in [1, 2, 5] {
            let w = p.saturating_mul(m);
            if w >= ms || w == i64::MAX {
                return w.max(1);
            }
        }
        if p > i64::MAX / 10 {
            return i64::MAX;
        }
        p *= 10;
    }
}

/// Folds the scope of migration `m` into adaptive bins. `span` is the capture's first and last
/// timestamp: the context does not reach beyond it.
pub fn series(
    m: &Analysed,
    tl: &Timeline,
    located: &[LocatedConv],
    span: Option<(i64, i64)>,
) -> MigrationSeries {
    // 1 ms bins of the window, inclusive, as Scope::new takes them.
    let fb = m.start.div_euclid(BIN_NS);
    let lb = m.end.div_euclid(BIN_NS).max(fb);
    let len = lb.saturating_sub(fb).saturating_add(1);
    let ctx = (len / 5).max(MIN_CONTEXT_NS / BIN_NS);
    let span_ms = len.saturating_add(ctx.saturating_mul(2));
    let width = nice_width(
        span_ms
            .saturating_add(TARGET_POINTS - 1)
            .div_euclid(TARGET_POINTS)
            .max(1),
    );
    let (cap_first, cap_last) = span
        .map(|(a, b)| (a.div_euclid(BIN_NS), b.div_euclid(BIN_NS)))
        .unwrap_or((fb, lb));
    let room_before = fb.saturating_sub(cap_first).clamp(0, ctx);
    let room_after = cap_last.saturating_sub(lb).clamp(0, ctx);
    let n_before = room_before.saturating_add(width - 1) / width;
    let n_after = room_after.saturating_add(width - 1) / width;
    // Edges in 1 ms bin numbers.
    let mut edges: Vec<i64> = Vec::new();
    for k in (1..=n_before).rev() {
        edges.push(fb.saturating_sub(k.saturating_mul(width)));
    }
    let w0 = edges.len();
    let mut e = fb;
    while e <= lb {
        edges.push(e);
        e = e.saturating_add(width);
    }
    let w1 = edges.len();
    let after = lb.saturating_add(1);
    for k in 0..=n_after {
        edges.push(after.saturating_add(k.saturating_mul(width)));
    }
    let bins = edges.len() - 1;
    let hosts: BTreeSet<String> = m.scope_hosts.clone();
    let (first, last) = (edges[0], edges[bins] - 1);
    let scope = Scope {
        first_bin: first,
        last_bin: last,
        ..Scope::new(tl, located, &hosts, m.start, m.end)
    };
    let mut by_network: BTreeMap<Network, Vec<u64>> = BTreeMap::new();
    let mut no_network = vec![0u64; bins];
    scope.for_each(|c, idx, bytes| {
        let i = edges
            .partition_point(|&e| e <= idx)
            .saturating_sub(1)
            .min(bins - 1);
        let mut any = false;
        for n in c.counted_networks() {
            any = true;
            by_network.entry(n).or_insert_with(|| vec![0; bins])[i] += bytes;
        }
        if !any {
            no_network[i] += bytes;
        }
    });
    MigrationSeries {
        id: m.id.clone(),
        start: m.start,
        end: m.end,
        bin_ns: width.saturating_mul(BIN_NS),
        edges: edges.iter().map(|e| e.saturating_mul(BIN_NS)).collect(),
        window: (w0, w1),
        by_network,
        no_network,
        phases: m.phases.iter().map(|p| (p.name, p.start, p.end)).collect(),
        rarp: m
            .switchover
            .as_ref()
            .and_then(|s| s.rarp.as_ref())
            .map(|r| r.ts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_round() {
        assert_eq!(nice_width(1), 1);
        assert_eq!(nice_width(3), 5);
        assert_eq!(nice_width(7), 10);
        assert_eq!(nice_width(11), 20);
        assert_eq!(nice_width(101), 200);
        assert_eq!(nice_width(i64::MAX), i64::MAX);
    }
}
