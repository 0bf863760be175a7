//! The GOP cache: what a player that joins mid-stream is sent at once.
//!
//! For a stream with video: every frame (audio and video) since the last
//! video keyframe, so the joiner starts on a keyframe. Sequence headers and
//! metadata are kept apart by the stream (the joiner gets them first). Past
//! its byte bound the cache is dropped until the next keyframe; joiners then
//! wait for that keyframe.
//!
//! For a stream with no video: the last `audio_window_ms` of audio (any
//! audio frame is a starting point).
//!
//! The cache holds `Arc`s of the messages the player queue also holds, so
//! it costs no copy.

use std::collections::VecDeque;
use std::sync::Arc;

use baton_rtmp::SharedMessage;

use crate::ring::MediaClass;

/// A stream's GOP cache.
#[derive(Debug)]
pub(crate) struct GopCache {
    enabled: bool,
    max_bytes: usize,
    audio_window_ms: u32,
    entries: VecDeque<(Arc<SharedMessage>, MediaClass)>,
    bytes: usize,
    /// The stream has video: the cache starts at a keyframe.
    video: bool,
}

impl GopCache {
    /// An empty cache; `enabled: false` keeps nothing.
    pub(crate) fn new(enabled: bool, max_bytes: usize, audio_window_ms: u32) -> GopCache {
        GopCache {
            enabled,
            max_bytes,
            audio_window_ms,
            entries: VecDeque::new(),
            bytes: 0,
            video: false,
        }
    }

    /// Forgets everything (a new publication starts, with no video yet).
    pub(crate) fn reset(&mut self) {
        self.clear();
        self.video = false;
    }

    /// Drops the cache until the next starting point.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Messages held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Payload bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a joiner can start from the cache: it is not empty, and with
    /// video it starts on a keyframe.
    pub(crate) fn has_start(&self) -> bool {
        match self.entries.front() {
            Some((_, class)) => !self.video || *class == MediaClass::Keyframe,
            None => false,
        }
    }

    /// The cached messages, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Arc<SharedMessage>, MediaClass)> {
        self.entries.iter()
    }

    /// Takes a published frame. Sequence headers are not cached (the stream
    /// keeps the latest of each kind).
    pub(crate) fn push(&mut self, msg: &Arc<SharedMessage>, class: MediaClass) {
        use baton_proto::session::MediaKind;
        if !self.enabled || class == MediaClass::SequenceHeader {
            return;
        }
        if msg.kind() == MediaKind::Video && !self.video {
            // The stream turns out to have video: start at its keyframes.
            self.video = true;
            self.clear();
        }
        if self.video {
            if class == MediaClass::Keyframe {
                self.clear();
            } else if self.entries.is_empty() {
                // Dropped (or not started): wait for the next keyframe.
                return;
            }
            self.add(msg, class);
            if self.bytes > self.max_bytes {
                tracing::debug!(
                    bytes = self.bytes,
                    max = self.max_bytes,
                    "GOP cache full: dropped until the next keyframe"
                );
                self.clear();
            }
        } else {
            if self.audio_window_ms == 0 {
                return;
            }
            self.add(msg, class);
            let newest = msg.timestamp();
            while let Some((front, _)) = self.entries.front() {
                let age = newest.signed_diff(front.timestamp());
                let too_old = age < 0 || age as u32 > self.audio_window_ms;
                if (too_old || self.bytes > self.max_bytes) && self.entries.len() > 1 {
                    self.pop_front();
                } else {
                    break;
                }
            }
            if self.bytes > self.max_bytes {
                self.clear();
            }
        }
    }

    fn add(&mut self, msg: &Arc<SharedMessage>, class: MediaClass) {
        self.bytes += msg.payload_len();
        self.entries.push_back((msg.clone(), class));
    }

    fn pop_front(&mut self) {
        if let Some((msg, _)) = self.entries.pop_front() {
            self.bytes -= msg.payload_len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::Timestamp;
    use baton_proto::session::MediaKind;
    use bytes::Bytes;

    fn msg(kind: MediaKind, ts: u32, len: usize) -> Arc<SharedMessage> {
        Arc::new(SharedMessage::new(
            kind,
            Timestamp(ts),
            Bytes::from(vec![0; len]),
        ))
    }

    fn timestamps(gop: &GopCache) -> Vec<u32> {
        gop.iter().map(|(m, _)| m.timestamp().0).collect()
    }

    #[test]
    fn starts_at_the_last_keyframe() {
        let mut gop = GopCache::new(true, 1 << 20, 1000);
        gop.push(&msg(MediaKind::Video, 0, 10), MediaClass::SequenceHeader);
        assert!(!gop.has_start());
        gop.push(&msg(MediaKind::Video, 0, 10), MediaClass::Frame);
        assert_eq!(gop.len(), 0, "nothing before the first keyframe");
        gop.push(&msg(MediaKind::Video, 40, 10), MediaClass::Keyframe);
        gop.push(&msg(MediaKind::Audio, 41, 10), MediaClass::Frame);
        gop.push(&msg(MediaKind::Video, 80, 10), MediaClass::Frame);
        assert!(gop.has_start());
        assert_eq!(timestamps(&gop), [40, 41, 80]);
        gop.push(&msg(MediaKind::Video, 120, 10), MediaClass::Keyframe);
        gop.push(&msg(MediaKind::Audio, 121, 10), MediaClass::Frame);
        assert_eq!(timestamps(&gop), [120, 121]);
        assert_eq!(gop.bytes(), 20);
    }

    #[test]
    fn over_its_bound_it_waits_for_the_next_keyframe() {
        let mut gop = GopCache::new(true, 100, 1000);
        gop.push(&msg(MediaKind::Video, 0, 40), MediaClass::Keyframe);
        gop.push(&msg(MediaKind::Video, 40, 40), MediaClass::Frame);
        assert_eq!(gop.bytes(), 80);
        gop.push(&msg(MediaKind::Video, 80, 40), MediaClass::Frame);
        assert_eq!((gop.len(), gop.bytes()), (0, 0), "dropped past 100 bytes");
        gop.push(&msg(MediaKind::Audio, 81, 4), MediaClass::Frame);
        gop.push(&msg(MediaKind::Video, 120, 4), MediaClass::Frame);
        assert_eq!(gop.len(), 0, "still waiting for a keyframe");
        assert!(!gop.has_start());
        gop.push(&msg(MediaKind::Video, 160, 40), MediaClass::Keyframe);
        assert_eq!(timestamps(&gop), [160]);
        assert!(gop.has_start());
        // A keyframe larger than the bound is not kept either.
        gop.push(&msg(MediaKind::Video, 200, 400), MediaClass::Keyframe);
        assert_eq!((gop.len(), gop.bytes()), (0, 0));
    }

    #[test]
    fn audio_only_keeps_a_window() {
        let mut gop = GopCache::new(true, 1 << 20, 100);
        for ts in (0..=300).step_by(20) {
            gop.push(&msg(MediaKind::Audio, ts, 10), MediaClass::Frame);
        }
        assert_eq!(timestamps(&gop), [200, 220, 240, 260, 280, 300]);
        assert!(gop.has_start());
        // Video appears: from now on the cache starts at keyframes.
        gop.push(&msg(MediaKind::Video, 320, 10), MediaClass::Frame);
        assert_eq!(gop.len(), 0);
        gop.push(&msg(MediaKind::Video, 360, 10), MediaClass::Keyframe);
        gop.push(&msg(MediaKind::Audio, 361, 10), MediaClass::Frame);
        assert_eq!(timestamps(&gop), [360, 361]);
        gop.reset();
        gop.push(&msg(MediaKind::Audio, 400, 10), MediaClass::Frame);
        assert_eq!(
            timestamps(&gop),
            [400],
            "a new publication starts audio-only"
        );
    }

    #[test]
    fn disabled_keeps_nothing() {
        let mut gop = GopCache::new(false, 1 << 20, 1000);
        gop.push(&msg(MediaKind::Video, 0, 10), MediaClass::Keyframe);
        gop.push(&msg(MediaKind::Audio, 0, 10), MediaClass::Frame);
        assert_eq!((gop.len(), gop.has_start()), (0, false));
    }
}
