//! Per-player counters (plain fields, updated per frame without
//! allocation) and their merge into a group (normal or slow players).

use serde::Serialize;

use crate::frame::FrameHeader;
use crate::histogram::Histogram;
use crate::seq::{Arrival, SeqTracker};

/// The measured window, in µs since the run's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First µs inside.
    pub start: u64,
    /// First µs after.
    pub end: u64,
}

impl Window {
    fn contains(&self, us: u64) -> bool {
        (self.start..self.end).contains(&us)
    }
}

/// What one player saw.
#[derive(Debug)]
pub struct PlayerStats {
    /// The publisher whose stream it plays.
    pub publisher: u32,
    /// Sequence accounting.
    pub seq: SeqTracker,
    /// Bench frames received (duplicates included).
    pub frames_received: u64,
    /// The first bench frame was not a keyframe.
    pub not_starting_on_keyframe: bool,
    /// Latency of frames sent inside the window, µs.
    pub latency: Histogram,
    /// Video payload bytes received inside the window.
    pub window_bytes: u64,
    /// When the last video frame arrived, µs since the start.
    last_video_us: Option<u64>,
    /// Longest gap between video frames inside the window, µs.
    pub longest_stall_us: u64,
    /// The connection ended before the run did.
    pub disconnected: bool,
}

impl PlayerStats {
    /// Counters of a player of `publisher`'s stream.
    pub fn new(publisher: u32) -> PlayerStats {
        PlayerStats {
            publisher,
            seq: SeqTracker::default(),
            frames_received: 0,
            not_starting_on_keyframe: false,
            latency: Histogram::default(),
            window_bytes: 0,
            last_video_us: None,
            longest_stall_us: 0,
            disconnected: false,
        }
    }

    /// Counts a video message received at `now_us`.
    #[inline]
    pub fn on_video(&mut self, payload: &[u8], now_us: u64, window: Window) {
        let in_window = window.contains(now_us);
        if in_window {
            self.window_bytes += payload.len() as u64;
            let since = self.last_video_us.unwrap_or(window.start).max(window.start);
            self.longest_stall_us = self.longest_stall_us.max(now_us.saturating_sub(since));
        }
        self.last_video_us = Some(now_us);
        let Some(frame) = FrameHeader::decode(payload) else {
            return;
        };
        if frame.publisher != self.publisher {
            return;
        }
        if self.seq.first.is_none() {
            self.not_starting_on_keyframe = !frame.key;
        }
        self.frames_received += 1;
        if self.seq.record(frame.seq) != Arrival::Duplicate && window.contains(frame.sent_us) {
            self.latency.record(now_us.saturating_sub(frame.sent_us));
        }
    }

    /// Closes the stall count at the window's end (a player that stopped
    /// receiving stalled until then).
    pub fn finish(&mut self, window: Window) {
        let since = self.last_video_us.unwrap_or(window.start).max(window.start);
        if since < window.end {
            self.longest_stall_us = self.longest_stall_us.max(window.end - since);
        }
    }
}

/// The frame counts of a group of players, as merged here and as reported
/// (the same keys in the JSON report).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct FrameCounts {
    /// Players that started playing.
    pub players: u64,
    /// Bench frames received (duplicates included).
    pub frames_received: u64,
    /// Frames lost (from each player's first frame to the last sent).
    pub lost: u64,
    /// Frames received twice.
    pub duplicated: u64,
    /// Frames received after a newer one.
    pub reordered: u64,
    /// Players that lost at least one frame.
    pub players_with_loss: u64,
    /// Players whose first frame was not a keyframe.
    pub not_starting_on_keyframe: u64,
    /// Players whose connection ended before the run.
    pub disconnected: u64,
}

/// The merged counters of a group of players.
#[derive(Debug, Default)]
pub struct GroupStats {
    /// Frame counts.
    pub counts: FrameCounts,
    /// Latency of every player.
    pub latency: Histogram,
    /// Longest stall of any player, µs (`None` without players).
    pub longest_stall_us: Option<u64>,
    /// Video bytes received inside the window.
    pub window_bytes: u64,
}

impl GroupStats {
    /// Adds a player; `last_sent` is its publisher's last sequence number,
    /// `window_frames` the frames that publisher sent in the window (all
    /// lost for a player that received none).
    pub fn add(&mut self, p: &PlayerStats, last_sent: Option<u64>, window_frames: u64) {
        let lost = match (p.seq.first, last_sent) {
            (None, Some(_)) => window_frames,
            (_, Some(last)) => p.seq.lost(last),
            (_, None) => 0,
        };
        let c = &mut self.counts;
        c.players += 1;
        c.frames_received += p.frames_received;
        c.lost += lost;
        c.duplicated += p.seq.duplicated;
        c.reordered += p.seq.reordered;
        c.players_with_loss += u64::from(lost > 0);
        c.not_starting_on_keyframe += u64::from(p.not_starting_on_keyframe);
        c.disconnected += u64::from(p.disconnected);
        self.latency.merge(&p.latency);
        self.longest_stall_us = Some(self.longest_stall_us.unwrap_or(0).max(p.longest_stall_us));
        self.window_bytes += p.window_bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameSizes;
    use crate::frame::FrameWriter;
    use crate::units::Bitrate;

    #[test]
    fn player_accounting() {
        let sizes = FrameSizes::new(Bitrate::from_bps(1_000_000), 10, 1.0, 2.0);
        let mut w = FrameWriter::new(&sizes);
        let window = Window {
            start: 1_000_000,
            end: 3_000_000,
        };
        let mut p = PlayerStats::new(1);
        let mut frame = |seq: u64, sent_us: u64| {
            let h = FrameHeader {
                key: sizes.is_key(seq),
                publisher: 1,
                seq,
                sent_us,
            };
            w.frame(&h, sizes.size(seq))
        };
        // Joins on an inter frame before the window; frame 7 is lost,
        // 9 comes twice; 10 arrives 400 ms after 9.
        for (seq, recv) in [
            (5, 900_000),
            (6, 1_000_000),
            (8, 1_200_000),
            (9, 1_300_000),
            (9, 1_310_000),
            (10, 1_710_000),
        ] {
            let f = frame(seq, recv - 10_000);
            p.on_video(&f, recv, window);
        }
        // Another publisher's frame is ignored.
        let other = FrameWriter::new(&sizes).frame(
            &FrameHeader {
                key: true,
                publisher: 2,
                seq: 1,
                sent_us: 0,
            },
            100,
        );
        p.on_video(&other, 1_720_000, window);
        p.finish(window);
        assert!(p.not_starting_on_keyframe);
        assert_eq!(p.frames_received, 6);
        assert_eq!(p.seq.duplicated, 1);
        assert_eq!(p.latency.count(), 3, "8, 9, 10 were sent in the window");
        assert_eq!(p.latency.max(), 10_000);
        assert_eq!(p.longest_stall_us, 3_000_000 - 1_720_000);
        let mut g = GroupStats::default();
        g.add(&p, Some(10), 20);
        let c = g.counts;
        assert_eq!((c.lost, c.players_with_loss, c.duplicated), (1, 1, 1));
        // A player that received nothing lost the window's frames.
        let mut silent = PlayerStats::new(1);
        silent.finish(window);
        g.add(&silent, Some(10), 20);
        let c = g.counts;
        assert_eq!((c.players, c.lost, c.players_with_loss), (2, 21, 2));
        assert_eq!(g.longest_stall_us, Some(2_000_000));
    }
}
