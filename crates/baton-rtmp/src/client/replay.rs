//! What a reconnecting publisher remembers so that a new connection can
//! start cleanly: the stream's configuration (last metadata, last video and
//! audio sequence headers) and the frames sent since the last media
//! boundary (a video keyframe; for audio-only streams, an audio frame), with
//! the configuration as it was at that boundary.
//!
//! The replay is what a new connection gets when the old one died before
//! the switch: the configuration at the boundary, then every item from the
//! boundary on, in order. Items are `Bytes` and `DataMessage` clones: the
//! payloads are shared, not copied.

use std::collections::VecDeque;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::media::{audio_is_sequence_header, video_is_keyframe, video_is_sequence_header};
use baton_proto::session::MediaKind;
use bytes::Bytes;

/// One message of the stream, as the application sent it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Item {
    /// Audio or video.
    Media {
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    },
    /// A data message.
    Data {
        timestamp: Timestamp,
        data: DataMessage,
    },
}

impl Item {
    pub(crate) fn timestamp(&self) -> Timestamp {
        match self {
            Item::Media { timestamp, .. } | Item::Data { timestamp, .. } => *timestamp,
        }
    }

    /// Payload bytes (data messages count a small fixed size).
    fn size(&self) -> usize {
        match self {
            Item::Media { payload, .. } => payload.len(),
            Item::Data { .. } => 256,
        }
    }
}

/// The stream's configuration: what a decoder needs before a keyframe.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ConfigCache {
    /// The last `@setDataFrame onMetaData` (or `onMetaData`).
    pub(crate) metadata: Option<DataMessage>,
    /// The last video sequence header.
    pub(crate) video_header: Option<Bytes>,
    /// The last audio sequence header.
    pub(crate) audio_header: Option<Bytes>,
}

impl ConfigCache {
    /// Records `item` if it is configuration; returns whether it was.
    pub(crate) fn update(&mut self, item: &Item) -> bool {
        match item {
            Item::Data { data, .. } if data.metadata().is_some() => {
                self.metadata = Some(data.clone());
                true
            }
            Item::Media {
                kind: MediaKind::Video,
                payload,
                ..
            } if video_is_sequence_header(payload) => {
                self.video_header = Some(payload.clone());
                true
            }
            Item::Media {
                kind: MediaKind::Audio,
                payload,
                ..
            } if audio_is_sequence_header(payload) => {
                self.audio_header = Some(payload.clone());
                true
            }
            _ => false,
        }
    }

    /// The configuration as items stamped with `timestamp`: metadata, then
    /// the video and the audio sequence headers.
    pub(crate) fn items_at(&self, timestamp: Timestamp) -> Vec<Item> {
        let mut items = Vec::with_capacity(3);
        if let Some(data) = &self.metadata {
            items.push(Item::Data {
                timestamp,
                data: data.clone(),
            });
        }
        if let Some(payload) = &self.video_header {
            items.push(Item::Media {
                kind: MediaKind::Video,
                timestamp,
                payload: payload.clone(),
            });
        }
        if let Some(payload) = &self.audio_header {
            items.push(Item::Media {
                kind: MediaKind::Audio,
                timestamp,
                payload: payload.clone(),
            });
        }
        items
    }
}

/// Whether `item` is a point where a new connection can start: a video
/// keyframe, or (in a stream without video so far) an audio frame that is
/// not a sequence header.
pub(crate) fn is_boundary(item: &Item, has_video: bool) -> bool {
    match item {
        Item::Media {
            kind: MediaKind::Video,
            payload,
            ..
        } => video_is_keyframe(payload),
        Item::Media {
            kind: MediaKind::Audio,
            payload,
            ..
        } => !has_video && !audio_is_sequence_header(payload),
        Item::Data { .. } => false,
    }
}

/// The frames sent since the last boundary, with the configuration at that
/// boundary. Bounded by the caller (see [`Replay::span_ms`] and
/// [`Replay::bytes`]).
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// The configuration as it was before the first item.
    config: ConfigCache,
    items: VecDeque<Item>,
    bytes: usize,
    /// The first item is a boundary (or the stream's very first message).
    starts_clean: bool,
}

impl Replay {
    /// An empty replay at the start of a stream (clean: nothing came before).
    pub(crate) fn new() -> Self {
        Replay {
            starts_clean: true,
            ..Replay::default()
        }
    }

    /// Starts over at a boundary, with the configuration in force.
    pub(crate) fn restart(&mut self, config: &ConfigCache) {
        self.config = config.clone();
        self.items.clear();
        self.bytes = 0;
        self.starts_clean = true;
    }

    /// Drops everything: what follows does not start at a boundary.
    pub(crate) fn discard(&mut self, config: &ConfigCache) {
        self.restart(config);
        self.starts_clean = false;
    }

    /// Appends an item.
    pub(crate) fn push(&mut self, item: Item) {
        self.bytes += item.size();
        self.items.push_back(item);
    }

    /// Takes the last item back (it was not sent after all).
    pub(crate) fn pop_last(&mut self) {
        if let Some(item) = self.items.pop_back() {
            self.bytes -= item.size();
        }
    }

    /// Items held.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Payload bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the first item is a boundary (or the stream's first).
    pub(crate) fn starts_clean(&self) -> bool {
        self.starts_clean
    }

    /// Media time from the first item to the last, in ms.
    pub(crate) fn span_ms(&self) -> u64 {
        match (self.items.front(), self.items.back()) {
            (Some(first), Some(last)) if last.timestamp().is_after(first.timestamp()) => {
                u64::from(last.timestamp().delta_since(first.timestamp()))
            }
            _ => 0,
        }
    }

    /// What a new connection must get: the configuration at the first
    /// item, stamped with its timestamp, then every item in order. The
    /// replay keeps its items (they are now on the new connection, and the
    /// replay goes on from there).
    pub(crate) fn to_send(&self) -> Vec<Item> {
        let Some(first) = self.items.front() else {
            return Vec::new();
        };
        let mut out = self.config.items_at(first.timestamp());
        out.extend(self.items.iter().cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::amf0::Value;

    fn video(ts: u32, first: u8, second: u8) -> Item {
        Item::Media {
            kind: MediaKind::Video,
            timestamp: Timestamp(ts),
            payload: Bytes::from(vec![first, second, 0, 0, 0, 9]),
        }
    }

    fn meta(ts: u32) -> Item {
        Item::Data {
            timestamp: Timestamp(ts),
            data: DataMessage::SetDataFrame {
                name: "onMetaData".into(),
                value: Value::Null,
            },
        }
    }

    #[test]
    fn boundaries_are_keyframes_or_audio_without_video() {
        assert!(is_boundary(&video(0, 0x17, 1), true));
        assert!(!is_boundary(&video(0, 0x27, 1), true));
        assert!(!is_boundary(&video(0, 0x17, 0), true), "sequence header");
        let audio = |second| Item::Media {
            kind: MediaKind::Audio,
            timestamp: Timestamp(0),
            payload: Bytes::from(vec![0xAF, second, 1]),
        };
        assert!(is_boundary(&audio(1), false));
        assert!(!is_boundary(&audio(0), false), "sequence header");
        assert!(!is_boundary(&audio(1), true), "video decides");
        assert!(!is_boundary(&meta(0), false));
    }

    #[test]
    fn the_replay_sends_the_configuration_of_its_start_then_its_items() {
        let mut config = ConfigCache::default();
        let mut replay = Replay::new();
        for item in [meta(0), video(0, 0x17, 0), video(0, 0x17, 1)] {
            if is_boundary(&item, true) {
                replay.restart(&config);
            }
            config.update(&item);
            replay.push(item);
        }
        // The start of the stream: the items carry the configuration.
        assert_eq!(replay.to_send().len(), 3);
        // A keyframe restarts the replay with the configuration in force.
        let key = video(80, 0x17, 1);
        replay.restart(&config);
        replay.push(key.clone());
        replay.push(video(120, 0x27, 1));
        let sent = replay.to_send();
        assert_eq!(sent.len(), 4);
        assert_eq!(sent[0], meta(80));
        assert_eq!(sent[1], video(80, 0x17, 0));
        assert_eq!(sent[2], key);
        assert_eq!(replay.span_ms(), 40);
        assert_eq!(replay.bytes(), 12);
        assert!(replay.starts_clean());
        replay.discard(&config);
        assert!(!replay.starts_clean());
        assert_eq!(replay.len(), 0);
        assert!(replay.to_send().is_empty());
    }
}
