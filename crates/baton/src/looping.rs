//! `baton publish --loop`: timestamps that keep increasing from one pass
//! over the file to the next, and which configuration tags to send again.
//!
//! Pass `n + 1` is shifted so that its first tag comes one frame after the
//! largest timestamp of pass `n`: `offset(n+1) = offset(n) + (max - min) +
//! frame`, where `min`/`max` are the smallest and largest timestamps in the
//! file and `frame` is one frame: from the metadata's `framerate`, else the
//! last step between two video tags (else audio tags), else 40 ms. Players
//! so see timestamps that never go back.
//!
//! Metadata and sequence headers are sent in the first pass. In later
//! passes one is sent again only when it differs from the last one sent of
//! its kind (a file whose codec configuration changes half-way has its
//! first configuration restored when the next pass begins); an identical
//! one is skipped, since resending it would make decoders reinitialize for
//! nothing.

use baton_proto::Timestamp;
use baton_proto::flv::TagType;
use bytes::Bytes;

/// The frame duration used when the file tells nothing better.
pub(crate) const DEFAULT_FRAME_MS: u32 = 40;

/// Shifts each pass's timestamps past the previous pass.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoopClock {
    pass: u32,
    offset: u32,
    /// Smallest and largest timestamp seen in this pass (file time).
    range: Option<(Timestamp, Timestamp)>,
    last_video: Option<Timestamp>,
    last_audio: Option<Timestamp>,
    video_step: Option<u32>,
    audio_step: Option<u32>,
    frame_rate_ms: Option<u32>,
    media_in_pass: u64,
}

/// A pass over the file held no audio or video: looping would spin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NothingToLoop;

impl LoopClock {
    /// A clock at the first pass, with no offset.
    pub(crate) fn new() -> Self {
        LoopClock::default()
    }

    /// The pass over the file, from 0.
    pub(crate) fn pass(&self) -> u32 {
        self.pass
    }

    /// Takes the frame duration from the metadata's `framerate`.
    pub(crate) fn set_frame_rate(&mut self, fps: f64) {
        if (1.0..=1000.0).contains(&fps) {
            // In 1..=1000: the cast is exact after rounding.
            self.frame_rate_ms = Some((1000.0 / fps).round().max(1.0) as u32);
        }
    }

    /// The output timestamp of a tag of the file with timestamp `ts`; also
    /// records it for the next pass's offset.
    pub(crate) fn map(&mut self, tag_type: TagType, ts: Timestamp) -> Timestamp {
        self.range = Some(match self.range {
            None => (ts, ts),
            Some((lo, hi)) => (
                if lo.is_after(ts) { ts } else { lo },
                if ts.is_after(hi) { ts } else { hi },
            ),
        });
        let (last, step) = match tag_type {
            TagType::Video => (&mut self.last_video, &mut self.video_step),
            TagType::Audio => (&mut self.last_audio, &mut self.audio_step),
            TagType::Script => return ts.wrapping_add(self.offset),
        };
        self.media_in_pass += 1;
        if let Some(prev) = *last {
            if ts.is_after(prev) {
                *step = Some(ts.delta_since(prev));
            }
        }
        *last = Some(ts);
        ts.wrapping_add(self.offset)
    }

    /// One frame, in ms.
    pub(crate) fn frame_duration(&self) -> u32 {
        self.frame_rate_ms
            .or(self.video_step)
            .or(self.audio_step)
            .unwrap_or(DEFAULT_FRAME_MS)
    }

    /// Starts the next pass, after the last tag of this one.
    pub(crate) fn next_pass(&mut self) -> Result<(), NothingToLoop> {
        let Some((lo, hi)) = self.range else {
            return Err(NothingToLoop);
        };
        if self.media_in_pass == 0 {
            return Err(NothingToLoop);
        }
        self.offset = self
            .offset
            .wrapping_add(hi.delta_since(lo))
            .wrapping_add(self.frame_duration());
        self.pass += 1;
        self.range = None;
        self.last_video = None;
        self.last_audio = None;
        self.media_in_pass = 0;
        Ok(())
    }
}

/// A kind of configuration tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Config {
    /// The onMetaData script tag.
    Metadata,
    /// An audio sequence header.
    AudioHeader,
    /// A video sequence header.
    VideoHeader,
}

/// The last configuration tag sent of each kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct LastConfig {
    last: [Option<Bytes>; 3],
}

impl LastConfig {
    /// Records `data` as the last tag of its kind; returns whether it is
    /// the same as the previous one.
    pub(crate) fn is_repeat(&mut self, kind: Config, data: &Bytes) -> bool {
        let slot = &mut self.last[kind as usize];
        let same = slot.as_ref() == Some(data);
        if !same {
            *slot = Some(data.clone());
        }
        same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 25 fps file: video every 40 ms from 0 to 1960, audio every 23 ms.
    fn one_pass(clock: &mut LoopClock) -> Vec<(TagType, u32)> {
        let mut tags: Vec<(TagType, u32)> = (0..50).map(|i| (TagType::Video, i * 40)).collect();
        tags.extend((0..86).map(|i| (TagType::Audio, i * 23)));
        tags.sort_by_key(|&(_, ts)| ts);
        tags.insert(0, (TagType::Script, 0));
        tags.into_iter()
            .map(|(t, ts)| (t, clock.map(t, Timestamp(ts)).0))
            .collect()
    }

    #[test]
    fn each_pass_starts_one_frame_after_the_last() {
        let mut clock = LoopClock::new();
        let first = one_pass(&mut clock);
        assert_eq!(first.last().map(|t| t.1), Some(1960));
        assert_eq!(clock.frame_duration(), 40);
        clock.next_pass().unwrap();
        assert_eq!(clock.pass(), 1);
        let second = one_pass(&mut clock);
        // max 1960 + one frame.
        assert_eq!(second[0].1, 2000);
        assert_eq!(second.last().map(|t| t.1), Some(3960));
        clock.next_pass().unwrap();
        let third = one_pass(&mut clock);
        assert_eq!(third[0].1, 4000);
        // Non-decreasing across every pass, per kind and overall.
        let all: Vec<u32> = first
            .iter()
            .chain(&second)
            .chain(&third)
            .map(|t| t.1)
            .collect();
        assert!(all.windows(2).all(|w| w[0] <= w[1]), "{all:?}");
    }

    #[test]
    fn the_metadata_frame_rate_wins() {
        let mut clock = LoopClock::new();
        clock.set_frame_rate(30.0);
        clock.map(TagType::Video, Timestamp(0));
        clock.map(TagType::Video, Timestamp(40));
        assert_eq!(clock.frame_duration(), 33);
        clock.next_pass().unwrap();
        assert_eq!(clock.map(TagType::Video, Timestamp(0)), Timestamp(73));
        // Nonsense rates are ignored.
        let mut clock = LoopClock::new();
        clock.set_frame_rate(0.0);
        clock.set_frame_rate(f64::NAN);
        assert_eq!(clock.frame_duration(), DEFAULT_FRAME_MS);
    }

    #[test]
    fn a_file_that_starts_late_is_shifted_by_its_span() {
        // Timestamps 10_000..=10_500 (a cut from a longer recording).
        let mut clock = LoopClock::new();
        for ts in [10_000, 10_020, 10_500] {
            clock.map(TagType::Audio, Timestamp(ts));
        }
        assert_eq!(clock.frame_duration(), 480);
        clock.next_pass().unwrap();
        // 10_000 + 500 + 480 = 10_980 > 10_500.
        assert_eq!(
            clock.map(TagType::Audio, Timestamp(10_000)),
            Timestamp(10_980)
        );
    }

    #[test]
    fn offsets_wrap_like_rtmp_timestamps() {
        let mut clock = LoopClock::new();
        clock.map(TagType::Video, Timestamp(u32::MAX - 100));
        clock.map(TagType::Video, Timestamp(u32::MAX - 60));
        clock.next_pass().unwrap();
        let next = clock.map(TagType::Video, Timestamp(u32::MAX - 100));
        assert_eq!(next, Timestamp(u32::MAX - 20));
        let after = clock.map(TagType::Video, Timestamp(u32::MAX - 60));
        assert!(after.is_after(next));
    }

    #[test]
    fn a_pass_without_media_cannot_loop() {
        let mut clock = LoopClock::new();
        assert_eq!(clock.next_pass(), Err(NothingToLoop));
        clock.map(TagType::Script, Timestamp(0));
        assert_eq!(clock.next_pass(), Err(NothingToLoop));
    }

    #[test]
    fn only_changed_configuration_is_repeated() {
        let mut last = LastConfig::default();
        let avc = Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]);
        let aac = Bytes::from_static(&[0xaf, 0, 0x12, 0x10]);
        assert!(!last.is_repeat(Config::VideoHeader, &avc));
        assert!(!last.is_repeat(Config::AudioHeader, &aac));
        assert!(last.is_repeat(Config::VideoHeader, &avc));
        // A different header mid-file, then the first one again.
        let avc2 = Bytes::from_static(&[0x17, 0, 0, 0, 0, 2]);
        assert!(!last.is_repeat(Config::VideoHeader, &avc2));
        assert!(!last.is_repeat(Config::VideoHeader, &avc));
        assert!(last.is_repeat(Config::AudioHeader, &aac));
    }
}
