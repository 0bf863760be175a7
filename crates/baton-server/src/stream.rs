//! One stream: what its publisher sent that a player needs to start
//! (metadata, sequence headers, the GOP cache) and the player queue (a
//! [`Ring`]) that every player reads.
//!
//! All of it sits behind one short-held lock, so a joining player takes its
//! snapshot (headers and GOP cache) and its position in the queue at the
//! same instant: nothing published is missed or sent twice between the two.
//! Publishing is O(1) whatever the number of players (plus waking them),
//! and never waits for a player.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use baton_proto::Timestamp;
use baton_proto::command::{DataMessage, handler};
use baton_proto::session::MediaKind;
use baton_rtmp::SharedMessage;
use tokio::time::Instant;

use crate::config::StreamSettings;
use crate::gop::GopCache;
use crate::ring::{DataFrame, Entry, MediaClass, Ring, Slot};
use crate::waiters::Waiters;

/// A stream's identity: the application and the stream name without its
/// `?query`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// The application (`live`, or `app/instance`).
    pub app: String,
    /// The stream key (the name without its query string).
    pub name: String,
}

impl StreamKey {
    /// The key of a stream name as a client sent it (`key?token=...`).
    pub fn new(app: &str, stream_name: &str) -> StreamKey {
        StreamKey {
            app: app.to_owned(),
            name: baton_rtmp::split_stream_query(stream_name).0.to_owned(),
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.app, self.name)
    }
}

/// What one stream holds, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Whether a publisher is live.
    pub publishing: bool,
    /// Players attached (waiting or playing).
    pub players: usize,
    /// Messages in the player queue.
    pub queued_messages: usize,
    /// Bytes in the player queue.
    pub queued_bytes: usize,
    /// Messages in the GOP cache.
    pub gop_messages: usize,
    /// Payload bytes in the GOP cache.
    pub gop_bytes: usize,
    /// Players waiting for the next message.
    pub waiting_players: usize,
}

/// A stored header and the queue position it was published at.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) entry: Entry,
    pub(crate) seq: u64,
}

/// A stream shared by its publisher and players.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) key: StreamKey,
    state: Mutex<StreamState>,
}

impl Stream {
    pub(crate) fn new(key: StreamKey, settings: &StreamSettings) -> Stream {
        Stream {
            key,
            state: Mutex::new(StreamState::new(settings)),
        }
    }

    /// Locks the state (a panic elsewhere does not make it unusable: every
    /// update leaves it consistent).
    pub(crate) fn lock(&self) -> MutexGuard<'_, StreamState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a joining player starts.
#[derive(Debug)]
pub(crate) struct Join {
    /// What it is sent before reading the queue: metadata, sequence
    /// headers, the GOP cache.
    pub(crate) snapshot: VecDeque<Entry>,
    /// Its position in the queue.
    pub(crate) pos: u64,
    /// End markers published before it joined.
    pub(crate) ends_seen: u64,
    /// It must wait for the next keyframe (the cache has no start point).
    pub(crate) wait_keyframe: bool,
}

/// The state behind a stream's lock.
#[derive(Debug)]
pub(crate) struct StreamState {
    pub(crate) publishing: bool,
    pub(crate) players: usize,
    pub(crate) metadata: Option<Stored>,
    pub(crate) video_header: Option<Stored>,
    pub(crate) audio_header: Option<Stored>,
    /// The current publication has sent video.
    pub(crate) has_video: bool,
    /// The current publication has sent coded video (not only headers).
    coded_video: bool,
    gop: GopCache,
    pub(crate) ring: Ring,
    /// End markers ever appended.
    pub(crate) ends_total: u64,
    /// Queue position and arrival time of the current publication's last
    /// keyframe.
    pub(crate) last_keyframe: Option<(u64, Instant)>,
    pub(crate) waiters: Waiters,
}

impl StreamState {
    fn new(settings: &StreamSettings) -> StreamState {
        StreamState {
            publishing: false,
            players: 0,
            metadata: None,
            video_header: None,
            audio_header: None,
            has_video: false,
            coded_video: false,
            gop: GopCache::new(
                settings.gop_cache,
                settings.gop_cache_max_bytes,
                settings.audio_cache_ms,
            ),
            ring: Ring::new(
                settings.player_queue_messages,
                settings.player_queue_max_bytes,
            ),
            ends_total: 0,
            last_keyframe: None,
            waiters: Waiters::default(),
        }
    }

    /// Neither publisher nor players: the stream can go.
    pub(crate) fn is_idle(&self) -> bool {
        !self.publishing && self.players == 0
    }

    pub(crate) fn stats(&self) -> StreamStats {
        StreamStats {
            publishing: self.publishing,
            players: self.players,
            queued_messages: self.ring.len(),
            queued_bytes: self.ring.bytes(),
            gop_messages: self.gop.len(),
            gop_bytes: self.gop.bytes(),
            waiting_players: self.waiters.len(),
        }
    }

    /// A publisher starts.
    pub(crate) fn begin_publication(&mut self) {
        self.publishing = true;
    }

    /// The publisher stopped: an end marker follows everything it sent, and
    /// what a player needed to start on this publication is forgotten.
    pub(crate) fn end_publication(&mut self) {
        self.publishing = false;
        let ends_before = self.ends_total;
        self.ends_total += 1;
        self.append(Slot {
            entry: Entry::End,
            ends_before,
            arrived: Instant::now(),
        });
        self.metadata = None;
        self.video_header = None;
        self.audio_header = None;
        self.has_video = false;
        self.coded_video = false;
        self.gop.reset();
        self.last_keyframe = None;
    }

    /// Audio or video from the publisher.
    pub(crate) fn publish_media(&mut self, msg: Arc<SharedMessage>, class: MediaClass) {
        let arrived = Instant::now();
        let kind = msg.kind();
        let seq = self.ring.tail();
        if kind == MediaKind::Video {
            self.has_video = true;
        }
        match class {
            MediaClass::SequenceHeader => {
                let header = match kind {
                    MediaKind::Video => &mut self.video_header,
                    MediaKind::Audio => &mut self.audio_header,
                };
                let changed = matches!(
                    header,
                    Some(Stored { entry: Entry::Media { msg: old, .. }, .. })
                        if old.payload() != msg.payload()
                );
                if changed {
                    // Cached frames need the old configuration: a joiner
                    // starts at the next keyframe instead.
                    tracing::debug!(?kind, "sequence header changed: GOP cache dropped");
                    self.gop.clear();
                }
                *header = Some(Stored {
                    entry: Entry::Media {
                        msg: msg.clone(),
                        class,
                    },
                    seq,
                });
            }
            MediaClass::Keyframe => {
                self.coded_video = true;
                self.last_keyframe = Some((seq, arrived));
            }
            MediaClass::Frame => {
                self.coded_video |= kind == MediaKind::Video;
            }
        }
        self.gop.push(&msg, class);
        self.append(Slot {
            entry: Entry::Media { msg, class },
            ends_before: self.ends_total,
            arrived,
        });
    }

    /// A data message from the publisher. Metadata (`@setDataFrame
    /// onMetaData` or `onMetaData`) is kept for joiners and sent as
    /// `onMetaData`, the form players expect; `@clearDataFrame onMetaData`
    /// forgets it; other data messages pass through.
    pub(crate) fn publish_data(&mut self, timestamp: Timestamp, data: DataMessage) {
        let (data, is_metadata) = match data {
            DataMessage::SetDataFrame { name, value } if name == handler::ON_META_DATA => {
                (DataMessage::OnMetaData(value), true)
            }
            DataMessage::OnMetaData(value) => (DataMessage::OnMetaData(value), true),
            DataMessage::SetDataFrame { name, value } => (
                DataMessage::Other {
                    handler: name,
                    values: vec![value],
                },
                false,
            ),
            DataMessage::ClearDataFrame { name } => {
                if name == handler::ON_META_DATA {
                    self.metadata = None;
                }
                return;
            }
            other => (other, false),
        };
        let entry = Entry::Data(Arc::new(DataFrame { timestamp, data }));
        if is_metadata {
            self.metadata = Some(Stored {
                entry: entry.clone(),
                seq: self.ring.tail(),
            });
        }
        self.append(Slot {
            entry,
            ends_before: self.ends_total,
            arrived: Instant::now(),
        });
    }

    /// A player joins: its snapshot and queue position, taken together.
    pub(crate) fn join(&mut self) -> Join {
        self.players += 1;
        let mut snapshot = VecDeque::new();
        if self.publishing {
            snapshot.reserve(3 + self.gop.len());
            for header in [&self.metadata, &self.video_header, &self.audio_header]
                .into_iter()
                .flatten()
            {
                snapshot.push_back(header.entry.clone());
            }
            if self.gop.has_start() {
                snapshot.extend(self.gop.iter().map(|(msg, class)| Entry::Media {
                    msg: msg.clone(),
                    class: *class,
                }));
            }
        }
        Join {
            snapshot,
            pos: self.ring.tail(),
            ends_seen: self.ends_total,
            // A player waiting before any coded video starts at the first
            // frame, exactly as published.
            wait_keyframe: self.publishing
                && self.has_video
                && self.coded_video
                && !self.gop.has_start(),
        }
    }

    /// A player leaves.
    pub(crate) fn leave(&mut self) {
        self.players = self.players.saturating_sub(1);
        if self.players == 0 {
            // Nobody reads the queue: hold nothing for no one.
            self.ring.clear();
        }
    }

    fn append(&mut self, slot: Slot) {
        if self.players == 0 {
            self.ring.skip();
        } else {
            self.ring.push(slot);
        }
    }
}
