//! The stream hub: streams by (application, stream key), one publisher
//! each, any number of players.
//!
//! A player may come before the publisher: the stream is created and its
//! feed waits. A stream with neither publisher nor players is removed. The
//! hub lock is only taken to find, create or remove a stream, always before
//! a stream's own lock (never the other way round).
//!
//! A stream whose publisher's connection was lost waits for the reconnect
//! window; a publisher of the same key within it takes the stream over, as
//! does one whose current publisher was sent Go Away (or any, with
//! `allow_takeover`). See [`crate::takeover`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use baton_proto::command::StatusCode;
use baton_rtmp::server::Rejection;
use tokio::time::Instant;

use crate::config::StreamSettings;
use crate::feed::{LagRule, StreamFeed};
use crate::sink::StreamSink;
use crate::stream::{Stream, StreamKey, StreamStats};
use crate::takeover;

/// Counts over the whole hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Streams (publishing, or waited for by players).
    pub streams: usize,
    /// Streams with a live publisher.
    pub publishers: usize,
    /// Players over all streams.
    pub players: usize,
}

/// The streams of a server. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct StreamHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
pub(crate) struct HubInner {
    streams: Mutex<HashMap<StreamKey, Arc<Stream>>>,
    pub(crate) settings: StreamSettings,
    rule: LagRule,
    /// The server's outgoing chunk size (media is kept chunked at it).
    out_chunk_size: u32,
}

impl HubInner {
    fn streams(&self) -> MutexGuard<'_, HashMap<StreamKey, Arc<Stream>>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes the stream if it still has neither publisher nor players
    /// (and is still the one registered under its key).
    pub(crate) fn remove_if_idle(&self, stream: &Arc<Stream>) {
        let mut streams = self.streams();
        let registered = streams
            .get(&stream.key)
            .is_some_and(|s| Arc::ptr_eq(s, stream));
        if registered && stream.lock().is_idle() {
            streams.remove(&stream.key);
            tracing::debug!(stream = %stream.key, "stream removed");
        }
    }

    /// The stream under `key`, created if there is room.
    fn get_or_create(
        &self,
        streams: &mut HashMap<StreamKey, Arc<Stream>>,
        key: StreamKey,
    ) -> Option<Arc<Stream>> {
        if let Some(stream) = streams.get(&key) {
            return Some(stream.clone());
        }
        if streams.len() >= self.settings.max_streams {
            return None;
        }
        let stream = Arc::new(Stream::new(
            key.clone(),
            &self.settings,
            self.out_chunk_size,
        ));
        streams.insert(key, stream.clone());
        Some(stream)
    }
}

impl StreamHub {
    /// An empty hub with these stream settings, for a server that sends at
    /// the default chunk size.
    pub fn new(settings: &StreamSettings) -> StreamHub {
        let chunk_size = baton_proto::session::ServerConfig::default()
            .session
            .chunk_size;
        StreamHub::with_chunk_size(settings, chunk_size)
    }

    /// An empty hub for a server whose outgoing chunk size is `chunk_size`
    /// (128 to 65536): media is kept chunked at it, as players get it.
    pub fn with_chunk_size(settings: &StreamSettings, chunk_size: u32) -> StreamHub {
        StreamHub {
            inner: Arc::new(HubInner {
                streams: Mutex::new(HashMap::new()),
                settings: settings.clone(),
                rule: LagRule::new(settings),
                out_chunk_size: chunk_size,
            }),
        }
    }

    /// Starts publishing `stream_name` (its `?query` is not part of the
    /// key) in `app`. Refused with `NetStream.Publish.BadName` while the
    /// stream has a connected publisher (unless that one was sent Go Away,
    /// or `allow_takeover` is set: then the new publisher takes over and the
    /// old one's sink becomes inert), and with `NetStream.Publish.Rejected`
    /// when the hub holds `max_streams` streams. A stream waiting for its
    /// lost publisher (within the reconnect window) is taken over: its
    /// players continue with no end and no new start.
    pub fn publish(&self, app: &str, stream_name: &str) -> Result<StreamSink, Rejection> {
        let key = StreamKey::new(app, stream_name);
        if key.name.is_empty() {
            return Err(Rejection::new(
                StatusCode::PublishBadName,
                "no stream name given",
            ));
        }
        let mut streams = self.inner.streams();
        let Some(stream) = self.inner.get_or_create(&mut streams, key) else {
            return Err(Rejection::new(
                StatusCode::PublishRejected,
                "too many streams on this server",
            ));
        };
        let mut wake: Vec<Waker> = Vec::new();
        let (id, expired, took_over) = {
            let mut state = stream.lock();
            // A window that passed with no timer to close it (no runtime).
            let expired = state.expire_due(Instant::now());
            if expired.is_some() {
                state.waiters.take_all(&mut wake);
            }
            let took_over = if state.publishing {
                if !(state.moving || self.inner.settings.allow_takeover) {
                    return Err(Rejection::new(
                        StatusCode::PublishBadName,
                        format!("{} is already being published", stream.key),
                    ));
                }
                Some(if state.moving {
                    "from a publisher sent Go Away"
                } else {
                    "from a connected publisher (allow_takeover)"
                })
            } else {
                state
                    .vacancy
                    .as_ref()
                    .map(|_| "within the reconnect window")
            };
            let id = match took_over {
                Some(_) => state.take_over(),
                None => state.begin_publication(),
            };
            (id, expired, took_over)
        };
        drop(streams);
        for waker in wake {
            waker.wake();
        }
        if let Some(waited) = expired {
            takeover::log_expired(&stream, waited);
        }
        if let Some(from) = took_over {
            tracing::info!(stream = %stream.key, from, "publisher took over the stream");
        }
        Ok(StreamSink::new(stream, self.inner.clone(), id))
    }

    /// Starts playing `stream_name` (its `?query` is not part of the key)
    /// in `app`. Before a publisher comes the feed waits; it then starts
    /// like a player joining a live stream. Refused with
    /// `NetStream.Play.Failed` when a new stream would pass `max_streams`.
    pub fn play(&self, app: &str, stream_name: &str) -> Result<StreamFeed, Rejection> {
        let key = StreamKey::new(app, stream_name);
        if key.name.is_empty() {
            return Err(Rejection::new(
                StatusCode::PlayStreamNotFound,
                "no stream name given",
            ));
        }
        let mut streams = self.inner.streams();
        let Some(stream) = self.inner.get_or_create(&mut streams, key) else {
            return Err(Rejection::new(
                StatusCode::PlayFailed,
                "too many streams on this server",
            ));
        };
        // Joined under the hub lock, so the stream cannot be removed
        // between being found and counting this player.
        let feed = StreamFeed::new(stream, self.inner.clone(), self.inner.rule);
        drop(streams);
        Ok(feed)
    }

    /// Counts of streams, publishers and players.
    pub fn stats(&self) -> HubStats {
        let streams = self.inner.streams();
        let mut stats = HubStats {
            streams: streams.len(),
            ..HubStats::default()
        };
        for stream in streams.values() {
            let state = stream.lock();
            stats.publishers += usize::from(state.publishing);
            stats.players += state.players;
        }
        stats
    }

    /// What one stream holds (queue and GOP cache sizes, players), if it
    /// exists.
    pub fn stream_stats(&self, app: &str, stream_name: &str) -> Option<StreamStats> {
        let key = StreamKey::new(app, stream_name);
        let stream = self.inner.streams().get(&key)?.clone();
        let stats = stream.lock().stats();
        Some(stats)
    }
}
