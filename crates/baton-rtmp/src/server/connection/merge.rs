//! Merged writes for players (what SRS calls "merged write", its
//! `mw_latency`): a playing connection's output waits up to a configured
//! window before it is written, so that the frames of that window leave in
//! one vectored write instead of one write each.
//!
//! On a busy fan-out server the kernel's work per write (the system call,
//! TCP's per-segment work, waking the reader) costs more than the bytes
//! themselves; merging N frames per write divides that part by N. The price
//! is latency: a frame waits up to the window. It is off by default (live
//! players get each frame as soon as it arrives); deployments whose players
//! buffer seconds anyway (large edges, HLS-like latency) can turn it on.
//!
//! The window opens when output is queued on an empty queue and closes when
//! the queue has been written out. Output never waits while the connection
//! plays nothing (handshake, commands), nor once `max_bytes` are queued (so
//! feeds keep their room under `max_output_buffer`, and a keyframe burst to
//! a joining player leaves at once).

use std::time::Duration;

use tokio::time::Instant;

use super::after;

/// The merge state of one connection.
#[derive(Debug)]
pub(super) struct WriteMerge {
    window: Duration,
    max_bytes: usize,
    /// When the open window ends (`None`: no window open).
    until: Option<Instant>,
}

impl WriteMerge {
    /// Output waits up to `window` (zero: never) while under `max_bytes`.
    pub(super) fn new(window: Duration, max_bytes: usize) -> WriteMerge {
        WriteMerge {
            window,
            max_bytes,
            until: None,
        }
    }

    /// Whether writes are merged at all.
    pub(super) fn enabled(&self) -> bool {
        !self.window.is_zero()
    }

    /// Opens a window at `now` for a first frame queued on an empty queue
    /// (`queued` bytes in all), unless one is open already or the queue is
    /// full enough to go; returns when it ends. While it is open the
    /// connection neither takes more frames nor writes: the frames that
    /// arrive meanwhile wait in the stream's queue, shared, and are all
    /// taken when it ends, so a player is woken about once per window
    /// instead of once per frame.
    pub(super) fn open(&mut self, now: Instant, queued: usize) -> Option<Instant> {
        if !self.enabled() || self.until.is_some() || queued >= self.max_bytes {
            return None;
        }
        let until = after(now, self.window);
        self.until = Some(until);
        Some(until)
    }

    /// Whether a window is open at `now` (output waits) with under
    /// `max_bytes` queued.
    pub(super) fn waiting(&self, now: Instant, queued: usize) -> bool {
        queued < self.max_bytes && self.until.is_some_and(|until| now < until)
    }

    /// The queue was written out, or the connection stopped playing: the
    /// next frame opens a new window.
    pub(super) fn close(&mut self) {
        self.until = None;
    }

    /// When the open window ends, if that is after `now` (for the timer;
    /// a window that has ended needs no wake-up: its output is written).
    pub(super) fn deadline_after(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn a_window_opens_on_a_frame_and_holds_until_it_ends() {
        let mut merge = WriteMerge::new(WINDOW, 1000);
        let opened = Instant::now();
        assert_eq!(merge.open(opened, 10), Some(opened + WINDOW));
        assert_eq!(merge.open(opened, 20), None, "already open");
        assert!(merge.waiting(opened, 10));
        assert_eq!(merge.deadline_after(opened), Some(opened + WINDOW));
        tokio::time::advance(Duration::from_millis(60)).await;
        assert!(merge.waiting(Instant::now(), 20), "inside the window");
        tokio::time::advance(Duration::from_millis(40)).await;
        let now = Instant::now();
        assert!(!merge.waiting(now, 20), "the window ended");
        assert_eq!(merge.deadline_after(now), None);
        // Until the queue is written out, no new window (a partial write
        // leaves output that goes as soon as the socket takes it).
        assert_eq!(merge.open(now, 5), None);
        assert!(!merge.waiting(now, 5));
        merge.close();
        assert_eq!(merge.open(now, 5), Some(now + WINDOW), "a new window");
    }

    #[test]
    fn nothing_waits_when_off_or_full() {
        let now = Instant::now();
        let mut off = WriteMerge::new(Duration::ZERO, 1000);
        assert!(!off.enabled());
        assert_eq!(off.open(now, 10), None);
        assert!(!off.waiting(now, 10));
        let mut merge = WriteMerge::new(WINDOW, 1000);
        assert_eq!(merge.open(now, 1000), None, "max_bytes queued");
        assert_eq!(merge.deadline_after(now), None);
        assert!(merge.open(now, 999).is_some());
        assert!(
            !merge.waiting(now, 1000),
            "max_bytes reached inside a window"
        );
    }
}
