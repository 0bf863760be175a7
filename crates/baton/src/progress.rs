//! The progress line of `baton publish` (media time sent, bitrate, bytes),
//! redrawn in place on a terminal at most a few times a second. The
//! arithmetic takes `now` from the caller, so tests use a fake clock.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;

/// Shortest time between two redraws.
const REDRAW_EVERY: Duration = Duration::from_millis(250);
/// The bitrate is measured over about this long.
const RATE_WINDOW: Duration = Duration::from_secs(2);

/// Counts what was sent and says when and what to draw.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    bytes: u64,
    media_ms: u64,
    last_draw: Instant,
    /// (when, bytes so far) at each redraw, oldest first, over the window.
    samples: VecDeque<(Instant, u64)>,
}

impl Progress {
    /// Nothing sent yet; `now` starts the bitrate measure. The first line
    /// is drawn a redraw period later, when the rate means something.
    pub(crate) fn new(now: Instant) -> Self {
        Progress {
            bytes: 0,
            media_ms: 0,
            last_draw: now,
            samples: VecDeque::from([(now, 0)]),
        }
    }

    /// Counts one tag of `bytes` sent at media time `media_ms` (since the
    /// first tag); returns the line to draw when a redraw is due.
    pub(crate) fn record(&mut self, bytes: usize, media_ms: u64, now: Instant) -> Option<String> {
        self.bytes += bytes as u64;
        self.media_ms = self.media_ms.max(media_ms);
        if now.saturating_duration_since(self.last_draw) < REDRAW_EVERY {
            return None;
        }
        self.last_draw = now;
        while self.samples.len() > 1
            && self
                .samples
                .get(1)
                .is_some_and(|&(at, _)| now.saturating_duration_since(at) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let bits_per_sec = match self.samples.front() {
            Some(&(at, bytes)) => {
                let secs = now.saturating_duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    (self.bytes - bytes) as f64 * 8.0 / secs
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        self.samples.push_back((now, self.bytes));
        Some(line(self.media_ms, bits_per_sec, self.bytes))
    }

    /// Total bytes counted.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The largest media time counted, in ms.
    pub(crate) fn media_ms(&self) -> u64 {
        self.media_ms
    }
}

/// `sent 0:01:23.4  2450 kbit/s  25.1 MB`.
pub(crate) fn line(media_ms: u64, bits_per_sec: f64, bytes: u64) -> String {
    format!(
        "sent {}  {:.0} kbit/s  {:.1} MB",
        clock_time(media_ms),
        bits_per_sec / 1000.0,
        bytes as f64 / 1e6
    )
}

/// `H:MM:SS.t`.
pub(crate) fn clock_time(ms: u64) -> String {
    let tenths = (ms / 100) % 10;
    let secs = ms / 1000;
    format!(
        "{}:{:02}:{:02}.{tenths}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Draws a progress line in place on standard error.
pub(crate) fn draw(line: &str) {
    let mut err = std::io::stderr().lock();
    // \r and "erase to end of line": the next draw replaces this one.
    let _ = write!(err, "\r{line}\x1b[K");
    let _ = err.flush();
}

/// Ends the progress line, so that what follows starts on a new line.
pub(crate) fn end_line() {
    let _ = writeln!(std::io::stderr().lock());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_time_rate_and_size() {
        assert_eq!(clock_time(0), "0:00:00.0");
        assert_eq!(clock_time(83_456), "0:01:23.4");
        assert_eq!(clock_time(3_723_900), "1:02:03.9");
        assert_eq!(
            line(1500, 2_450_000.0, 25_100_000),
            "sent 0:00:01.5  2450 kbit/s  25.1 MB"
        );
    }

    #[test]
    fn redraws_a_few_times_a_second_with_the_recent_rate() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut p = Progress::new(t0);
        // 1250 bytes every 10 ms = 1 Mbit/s.
        let mut draws = Vec::new();
        for i in 1..=300u64 {
            if let Some(l) = p.record(1250, i * 10, t0 + ms(i * 10)) {
                draws.push((i, l));
            }
        }
        // Every 250 ms from the start: 3 s -> 12 draws.
        assert_eq!(draws[0].0, 25);
        assert!((12..=13).contains(&draws.len()), "{}", draws.len());
        assert!(draws.windows(2).all(|w| w[1].0 - w[0].0 >= 25));
        let (_, last) = draws.last().unwrap();
        assert!(last.contains(" 1000 kbit/s"), "{last}");
        assert_eq!(p.bytes(), 375_000);
        assert_eq!(p.media_ms(), 3000);

        // The rate follows a change within the window: 4 Mbit/s now.
        let mut last = String::new();
        for i in 301..=700u64 {
            if let Some(l) = p.record(5000, i * 10, t0 + ms(i * 10)) {
                last = l;
            }
        }
        assert!(last.contains(" 4000 kbit/s"), "{last}");
    }
}
