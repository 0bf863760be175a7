//! The fixed instants of one run, all computed from its start:
//!
//! ```text
//!  start ── publish lead ── joins (spread) ── warmup ── window ── drain ── close
//! ```

use std::time::Duration;

use tokio::time::Instant;

use crate::config::Config;

/// The instants of a run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    /// Publishers start; send times are µs since this instant.
    pub(crate) start: Instant,
    /// The first player joins.
    pub(crate) first_join: Instant,
    /// Players join over this long.
    pub(crate) join_spread: Duration,
    /// The measured window starts.
    pub(crate) window_start: Instant,
    /// The measured window ends; publishers stop.
    pub(crate) window_end: Instant,
    /// Everything closes.
    pub(crate) close_at: Instant,
}

impl Timeline {
    /// The timeline of `config` starting now.
    pub(crate) fn new(config: &Config, start: Instant) -> Timeline {
        let first_join = start + config.publish_lead.duration();
        let join_spread = config.join_spread.duration();
        let window_start = first_join + join_spread + config.warmup.duration();
        let window_end = window_start + config.duration.duration();
        Timeline {
            start,
            first_join,
            join_spread,
            window_start,
            window_end,
            close_at: window_end + config.drain.duration(),
        }
    }

    /// When player `i` of `n` joins (evenly over the spread).
    pub(crate) fn join_at(&self, i: u32, n: u32) -> Instant {
        if n <= 1 {
            return self.first_join;
        }
        self.first_join + self.join_spread.mul_f64(f64::from(i) / f64::from(n))
    }

    /// µs since the start.
    pub(crate) fn us(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_micros() as u64
    }

    /// The window in µs since the start.
    pub(crate) fn window_us(&self) -> (u64, u64) {
        (self.us(self.window_start), self.us(self.window_end))
    }

    /// The window's length in seconds.
    pub(crate) fn window_secs(&self) -> f64 {
        (self.window_end - self.window_start).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn instants() {
        let c = Config::parse_from([
            "baton-bench",
            "--publish-lead",
            "1",
            "--join-spread",
            "2",
            "--warmup",
            "3",
            "--duration",
            "10",
            "--drain",
            "0.5",
        ]);
        let t0 = Instant::now();
        let t = Timeline::new(&c, t0);
        assert_eq!(t.join_at(0, 4), t0 + Duration::from_secs(1));
        assert_eq!(t.join_at(2, 4), t0 + Duration::from_secs(2));
        assert_eq!(t.window_us(), (6_000_000, 16_000_000));
        assert_eq!(t.close_at, t0 + Duration::from_millis(16_500));
    }
}
