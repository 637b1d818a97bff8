//! The live view on stderr: packets, bytes, rate and active migrations, redrawn in place.
//!
//! In: [`super::Progress`] now and then. Out: one spinner line on stderr (only created when
//! stderr is a terminal and the run is not quiet; the caller decides).

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Progress;

/// A spinner line showing the stream's progress.
pub struct LiveView {
    bar: ProgressBar,
    started: Instant,
}

impl Default for LiveView {
    fn default() -> Self {
        LiveView::new()
    }
}

impl LiveView {
    /// Draws on stderr.
    pub fn new() -> LiveView {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        LiveView {
            bar,
            started: Instant::now(),
        }
    }

    /// Shows `p`.
    pub fn update(&self, p: &Progress) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = p.wire_bytes as f64 / secs;
        let active = if p.active.is_empty() {
            "none".to_string()
        } else {
            p.active.join(", ")
        };
        self.bar.set_message(format!(
            "{} packets, {} bytes, {:.1} MB/s, migrations: {active}",
            p.packets,
            p.wire_bytes,
            rate / 1e6
        ));
        self.bar.tick();
    }

    /// Removes the line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
