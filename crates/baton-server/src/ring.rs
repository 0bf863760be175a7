//! The player queue of a stream: one bounded ring that every player reads
//! at its own position.
//!
//! The publisher appends; the oldest entries leave when the ring holds
//! `max_messages` entries or `max_bytes` of media, or when they arrived more
//! than `max_age` before the newest (a player that far behind real time
//! skips ahead anyway, so nothing older is worth its memory). Appending
//! never waits for a reader: a reader whose position fell behind the oldest
//! entry has lagged and skips (see the feed). Positions are sequence numbers that
//! only grow, so a reader's position stays meaningful whatever was evicted.
//! Each entry carries the time it arrived at the server, so a reader knows
//! how far behind real time it is whatever the media timestamps say.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_rtmp::SharedMessage;
use baton_rtmp::server::FeedItem;
use tokio::time::Instant;

/// Bytes counted for an entry that carries no media (data, end marker).
const NON_MEDIA_BYTES: usize = 64;

/// What a media message is to a player that starts or resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MediaClass {
    /// A decoder configuration (video or audio sequence header).
    SequenceHeader,
    /// A video keyframe: a player can start here.
    Keyframe,
    /// Any other audio or video frame.
    Frame,
}

impl MediaClass {
    /// Classifies a payload once, for all players.
    pub(crate) fn of(kind: baton_proto::session::MediaKind, payload: &[u8]) -> MediaClass {
        use baton_proto::media;
        use baton_proto::session::MediaKind;
        match kind {
            MediaKind::Video if media::video_is_sequence_header(payload) => {
                MediaClass::SequenceHeader
            }
            MediaKind::Video if media::video_is_keyframe(payload) => MediaClass::Keyframe,
            MediaKind::Audio if media::audio_is_sequence_header(payload) => {
                MediaClass::SequenceHeader
            }
            _ => MediaClass::Frame,
        }
    }
}

/// A data message as players receive it.
#[derive(Debug)]
pub(crate) struct DataFrame {
    /// Its timestamp.
    pub(crate) timestamp: Timestamp,
    /// The message (metadata is always `onMetaData`).
    pub(crate) data: DataMessage,
}

/// One thing a player is sent; cloning it clones an `Arc`, nothing more.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    /// Audio or video, chunked once for every player.
    Media {
        /// The shared message.
        msg: Arc<SharedMessage>,
        /// What it is to a player that starts or skips.
        class: MediaClass,
    },
    /// A data message.
    Data(Arc<DataFrame>),
    /// The publisher stopped: every entry before this one belongs to the
    /// publication that ended.
    End,
}

impl Entry {
    /// Bytes this entry holds, for the byte bounds.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Entry::Media { msg, .. } => msg.payload_len(),
            Entry::Data(_) | Entry::End => NON_MEDIA_BYTES,
        }
    }

    /// The item a player's connection sends (a data message is cloned here,
    /// outside any lock; media is an `Arc`).
    pub(crate) fn into_item(self) -> FeedItem {
        match self {
            Entry::Media { msg, .. } => FeedItem::Media(msg),
            Entry::Data(frame) => FeedItem::Data {
                timestamp: frame.timestamp,
                data: frame.data.clone(),
            },
            Entry::End => FeedItem::End,
        }
    }
}

/// An entry in the ring.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The entry.
    pub(crate) entry: Entry,
    /// How many end markers were appended before this entry (so a reader
    /// that skips entries knows whether it skipped the end of a
    /// publication).
    pub(crate) ends_before: u64,
    /// When the server received it (a publisher sending faster than real
    /// time makes media timestamps run ahead of this clock).
    pub(crate) arrived: Instant,
}

/// A bounded ring addressed by ever-growing sequence numbers.
#[derive(Debug)]
pub(crate) struct Ring {
    slots: VecDeque<Slot>,
    /// Sequence number of `slots[0]`.
    head: u64,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    max_age: Duration,
}

impl Ring {
    /// An empty ring with these bounds.
    pub(crate) fn new(max_messages: usize, max_bytes: usize, max_age: Duration) -> Ring {
        Ring {
            slots: VecDeque::new(),
            head: 0,
            bytes: 0,
            max_messages: max_messages.max(1),
            max_bytes,
            max_age,
        }
    }

    /// Sequence number of the oldest entry held.
    pub(crate) fn head(&self) -> u64 {
        self.head
    }

    /// Sequence number the next entry will get.
    pub(crate) fn tail(&self) -> u64 {
        self.head + self.slots.len() as u64
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The entry with this sequence number, if still held.
    pub(crate) fn get(&self, seq: u64) -> Option<&Slot> {
        let index = usize::try_from(seq.checked_sub(self.head)?).ok()?;
        self.slots.get(index)
    }

    /// Appends an entry, evicting the oldest past either bound; returns its
    /// sequence number. O(1) (amortized over evictions).
    pub(crate) fn push(&mut self, slot: Slot) -> u64 {
        let seq = self.tail();
        let newest = slot.arrived;
        self.bytes += slot.entry.bytes();
        self.slots.push_back(slot);
        while let Some(oldest) = self.slots.front()
            && (self.slots.len() > self.max_messages
                || (self.slots.len() > 1
                    && (self.bytes > self.max_bytes
                        || newest.saturating_duration_since(oldest.arrived) > self.max_age)))
        {
            self.pop_front();
        }
        seq
    }

    /// Takes a sequence number without keeping the entry (nobody reads the
    /// ring, so nothing is held for no one).
    pub(crate) fn skip(&mut self) -> u64 {
        self.clear();
        self.head += 1;
        self.head - 1
    }

    /// Drops every entry; sequence numbers go on from where they were.
    pub(crate) fn clear(&mut self) {
        self.head = self.tail();
        self.slots.clear();
        self.bytes = 0;
    }

    fn pop_front(&mut self) {
        if let Some(slot) = self.slots.pop_front() {
            self.bytes -= slot.entry.bytes();
            self.head += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::session::MediaKind;
    use bytes::Bytes;

    const FOREVER: Duration = Duration::from_secs(86_400);

    fn media(len: usize) -> Slot {
        media_at(len, Instant::now())
    }

    fn media_at(len: usize, arrived: Instant) -> Slot {
        Slot {
            entry: Entry::Media {
                msg: Arc::new(SharedMessage::new(
                    MediaKind::Audio,
                    Timestamp(0),
                    Bytes::from(vec![0xaf; len]),
                )),
                class: MediaClass::Frame,
            },
            ends_before: 0,
            arrived,
        }
    }

    #[test]
    fn bounded_by_age_behind_the_newest() {
        let mut ring = Ring::new(100, usize::MAX, Duration::from_secs(5));
        let start = Instant::now();
        for s in 0..10 {
            ring.push(media_at(10, start + Duration::from_secs(s)));
        }
        // Arrived at 4..=9 s: at most 5 s before the newest.
        assert_eq!((ring.head(), ring.tail(), ring.len()), (4, 10, 6));
        assert_eq!(ring.bytes(), 60);
        // A long pause, then one entry: it stays, alone.
        ring.push(media_at(10, start + Duration::from_secs(60)));
        assert_eq!((ring.head(), ring.len()), (10, 1));
    }

    #[test]
    fn bounded_by_count_with_growing_sequence_numbers() {
        let mut ring = Ring::new(4, usize::MAX, FOREVER);
        for i in 0..10 {
            assert_eq!(ring.push(media(10)), i);
        }
        assert_eq!((ring.head(), ring.tail(), ring.len()), (6, 10, 4));
        assert_eq!(ring.bytes(), 40);
        assert!(ring.get(5).is_none());
        assert!(ring.get(6).is_some());
        assert!(ring.get(9).is_some());
        assert!(ring.get(10).is_none());
    }

    #[test]
    fn bounded_by_bytes_but_keeps_the_newest() {
        let mut ring = Ring::new(100, 1000, FOREVER);
        for _ in 0..5 {
            ring.push(media(300));
        }
        assert_eq!((ring.len(), ring.bytes()), (3, 900));
        // One entry larger than the bound is still held (alone).
        ring.push(media(5000));
        assert_eq!((ring.len(), ring.bytes(), ring.tail()), (1, 5000, 6));
    }

    #[test]
    fn skip_and_clear_keep_numbering() {
        let mut ring = Ring::new(8, usize::MAX, FOREVER);
        ring.push(media(1));
        ring.push(media(1));
        assert_eq!(ring.skip(), 2);
        assert_eq!(
            (ring.head(), ring.tail(), ring.len(), ring.bytes()),
            (3, 3, 0, 0)
        );
        assert_eq!(ring.push(media(1)), 3);
        ring.clear();
        assert_eq!((ring.head(), ring.tail()), (4, 4));
    }

    #[test]
    fn classifies_payloads() {
        assert_eq!(
            MediaClass::of(MediaKind::Video, &[0x17, 0, 0, 0, 0]),
            MediaClass::SequenceHeader
        );
        assert_eq!(
            MediaClass::of(MediaKind::Video, &[0x17, 1, 0, 0, 0]),
            MediaClass::Keyframe
        );
        assert_eq!(
            MediaClass::of(MediaKind::Video, &[0x27, 1, 0, 0, 0]),
            MediaClass::Frame
        );
        assert_eq!(
            MediaClass::of(MediaKind::Audio, &[0xaf, 0]),
            MediaClass::SequenceHeader
        );
        assert_eq!(
            MediaClass::of(MediaKind::Audio, &[0xaf, 1]),
            MediaClass::Frame
        );
        assert_eq!(MediaClass::of(MediaKind::Video, &[]), MediaClass::Frame);
    }
}
