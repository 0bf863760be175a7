//! One stream: what its publisher sent that a player needs to start
//! (metadata, sequence headers, the GOP cache) and the player queue (a
//! [`Ring`]) that every player reads.
//!
//! All of it sits behind one short-held lock, so a joining player takes its
//! snapshot (headers and GOP cache) and its position in the queue at the
//! same instant: nothing published is missed or sent twice between the two.
//! Publishing is O(1) whatever the number of players (plus waking them),
//! and never waits for a player.
//!
//! A stream outlives its publisher's lost connection for the reconnect
//! window, and a new publisher may take it over (see [`crate::takeover`]):
//! each publisher has an id, and only the current one's messages count.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::command::{DataMessage, handler};
use baton_proto::session::MediaKind;
use baton_rtmp::SharedMessage;
use bytes::Bytes;
use tokio::time::Instant;

use crate::config::StreamSettings;
use crate::gop::GopCache;
use crate::ring::{DataFrame, Entry, MediaClass, Ring, Slot};
use crate::takeover::{Mapping, Placed, Timeline, Vacancy, header_changed};
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
    /// Whether the stream lost its publisher's connection and waits, within
    /// the reconnect window, for a publisher to take it over.
    pub awaiting_publisher: bool,
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
    pub(crate) fn new(key: StreamKey, settings: &StreamSettings, out_chunk_size: u32) -> Stream {
        Stream {
            key,
            state: Mutex::new(StreamState::new(settings, out_chunk_size)),
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

/// What became of a frame or header of the current publisher.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Published {
    /// Sent to players; `rebased` is the offset this frame decided for a
    /// publisher that took over (when not zero).
    Forwarded {
        /// The offset added to the publisher's timestamps.
        rebased: Option<u32>,
    },
    /// A publisher that took over re-sent a frame already forwarded.
    Duplicate,
    /// A publisher that took over sent the stream's current header again:
    /// kept, not re-sent.
    SameHeader,
}

/// The state behind a stream's lock.
#[derive(Debug)]
pub(crate) struct StreamState {
    /// A publisher is connected.
    pub(crate) publishing: bool,
    /// The current publisher's id (while `publishing`).
    publisher: u64,
    /// Ids handed out.
    publishers_seen: u64,
    /// The current publisher was asked to move (Go Away): another publisher
    /// may take over before it leaves.
    pub(crate) moving: bool,
    /// The stream lost its publisher and waits for it within the window.
    pub(crate) vacancy: Option<Vacancy>,
    /// What was forwarded, to place a publisher that takes over.
    timeline: Timeline,
    /// How the current publication's timestamps are mapped.
    mapping: Mapping,
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
    /// The chunk size the server sends at: media is kept chunked at it.
    out_chunk_size: u32,
}

impl StreamState {
    fn new(settings: &StreamSettings, out_chunk_size: u32) -> StreamState {
        StreamState {
            out_chunk_size,
            publishing: false,
            publisher: 0,
            publishers_seen: 0,
            moving: false,
            vacancy: None,
            timeline: Timeline::default(),
            mapping: Mapping::Fresh,
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
                // A player further behind than this skips ahead (see the
                // feed): older entries would hold memory for nobody.
                Duration::from_millis(settings.max_player_lag_ms.into()),
            ),
            ends_total: 0,
            last_keyframe: None,
            waiters: Waiters::default(),
        }
    }

    /// A publisher is connected, or the stream waits for one to come back.
    pub(crate) fn is_live(&self) -> bool {
        self.publishing || self.vacancy.is_some()
    }

    /// Neither publisher (nor a wait for one) nor players: the stream can
    /// go.
    pub(crate) fn is_idle(&self) -> bool {
        !self.is_live() && self.players == 0
    }

    /// Whether `publisher` is the stream's connected publisher (a publisher
    /// that was taken over is not).
    pub(crate) fn is_current(&self, publisher: u64) -> bool {
        self.publishing && self.publisher == publisher
    }

    pub(crate) fn stats(&self) -> StreamStats {
        StreamStats {
            publishing: self.publishing,
            awaiting_publisher: self.vacancy.is_some(),
            players: self.players,
            queued_messages: self.ring.len(),
            queued_bytes: self.ring.bytes(),
            gop_messages: self.gop.len(),
            gop_bytes: self.gop.bytes(),
            waiting_players: self.waiters.len(),
        }
    }

    /// A publisher starts a new publication; returns its id.
    pub(crate) fn begin_publication(&mut self) -> u64 {
        self.new_publisher(Mapping::Fresh)
    }

    /// A publisher takes the publication over (from a lost publisher, or
    /// from one that is moving); returns its id. Players see no end and no
    /// new start.
    pub(crate) fn take_over(&mut self) -> u64 {
        if let Some(vacancy) = self.vacancy.take() {
            vacancy.cancel();
        }
        let mapping = Mapping::takeover(&self.timeline);
        self.new_publisher(mapping)
    }

    fn new_publisher(&mut self, mapping: Mapping) -> u64 {
        self.publishers_seen += 1;
        self.publisher = self.publishers_seen;
        self.publishing = true;
        self.moving = false;
        self.mapping = mapping;
        self.publisher
    }

    /// The publisher's connection was lost: the stream waits for the window.
    pub(crate) fn lose_publisher(&mut self, vacancy: Vacancy) {
        self.publishing = false;
        self.moving = false;
        if let Some(old) = self.vacancy.replace(vacancy) {
            old.cancel();
        }
    }

    /// Ends the publication if the stream waits for its publisher and the
    /// window has passed at `now`; returns how long it waited.
    pub(crate) fn expire_due(&mut self, now: Instant) -> Option<Duration> {
        if self.vacancy.as_ref()?.deadline > now {
            return None;
        }
        let vacancy = self.vacancy.take()?;
        let waited = now.saturating_duration_since(vacancy.since);
        vacancy.cancel();
        self.end_publication();
        Some(waited)
    }

    /// The publisher stopped: an end marker follows everything it sent, and
    /// what a player needed to start on this publication is forgotten.
    pub(crate) fn end_publication(&mut self) {
        self.publishing = false;
        self.moving = false;
        if let Some(vacancy) = self.vacancy.take() {
            vacancy.cancel();
        }
        self.timeline.reset();
        self.mapping = Mapping::Fresh;
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

    /// Audio or video from the current publisher, placed on the stream's
    /// timeline. A publisher that took over has its timestamps mapped, its
    /// re-sent frames dropped and its unchanged sequence headers kept
    /// without being re-sent.
    pub(crate) fn publish_media(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
        class: MediaClass,
    ) -> Published {
        let (timestamp, rebased) = if class == MediaClass::SequenceHeader {
            let current = match kind {
                MediaKind::Video => &self.video_header,
                MediaKind::Audio => &self.audio_header,
            };
            let current = current.as_ref().and_then(|stored| match &stored.entry {
                Entry::Media { msg, .. } => Some(msg.payload()),
                _ => None,
            });
            if !header_changed(&self.mapping, class, current.as_deref(), &payload) {
                return Published::SameHeader;
            }
            (self.mapping.config_ts(timestamp), None)
        } else {
            match self
                .mapping
                .frame(kind, timestamp, &payload, &self.timeline)
            {
                (Placed::Duplicate, _) => return Published::Duplicate,
                (Placed::At(timestamp), rebased) => (timestamp, rebased),
            }
        };
        // Kept only chunked, as the players get it (message stream 1, the
        // server's chunk size): a stream's queue and GOP cache hold each
        // payload once.
        let msg = Arc::new(SharedMessage::chunked(
            kind,
            timestamp,
            payload,
            self.out_chunk_size,
            1,
        ));
        if class != MediaClass::SequenceHeader {
            self.timeline.record(&msg);
        }
        self.push_media(msg, class);
        Published::Forwarded { rebased }
    }

    /// Appends a media message and keeps what joiners need.
    fn push_media(&mut self, msg: Arc<SharedMessage>, class: MediaClass) {
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
    /// forgets it; other data messages pass through. A publisher that took
    /// over has the timestamp mapped, and metadata equal to the current one
    /// is kept without being re-sent.
    pub(crate) fn publish_data(&mut self, timestamp: Timestamp, data: DataMessage) {
        let timestamp = self.mapping.config_ts(timestamp);
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
        if is_metadata
            && self.mapping.is_takeover()
            && matches!(&self.metadata, Some(Stored { entry: Entry::Data(old), .. }) if old.data == data)
        {
            tracing::debug!("takeover: same metadata kept, not re-sent");
            return;
        }
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
        if self.is_live() {
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
            wait_keyframe: self.is_live()
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
            return;
        }
        if self.waiters.len() == self.players {
            // Every player waits at the end of the queue (each registered
            // there since the last append, which took the list): nobody
            // will read what the queue holds, so it goes. Players that keep
            // up cost the stream no queue memory, only the GOP cache.
            self.ring.clear();
        }
        self.ring.push(slot);
    }
}
