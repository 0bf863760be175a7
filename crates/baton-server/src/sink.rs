//! A publisher's sink: every message becomes one shared, lazily chunked
//! [`SharedMessage`](baton_rtmp::SharedMessage) appended to its stream's queue; the waiting players
//! are woken after the lock is released. The publisher never waits.
//!
//! A sink whose stream was taken over by another publisher is inert: what
//! it still sends is ignored and its end does nothing to the stream. A lost
//! connection leaves the stream waiting for the reconnect window
//! ([`crate::takeover`]); an unpublish ends it at once.

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use bytes::Bytes;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::session::MediaKind;
use baton_rtmp::server::{MediaSink, PublishEnd};

use crate::hub::HubInner;
use crate::ring::MediaClass;
use crate::stream::{Published, Stream};
use crate::takeover;

/// What one publisher sends into its stream. Ends the publication when
/// [`MediaSink::on_end`] is called (or, failing that, when dropped): at once
/// after an unpublish, after the reconnect window when the connection was
/// lost and no publisher took over.
#[derive(Debug)]
pub struct StreamSink {
    stream: Arc<Stream>,
    hub: Arc<HubInner>,
    /// Its publisher id in the stream.
    id: u64,
    /// Messages ignored because another publisher took the stream over.
    ignored: u64,
    /// Wakers taken from the stream, woken after the lock is released; the
    /// buffer is reused so waking allocates nothing.
    wake: Vec<Waker>,
    messages: u64,
    bytes: u64,
    ended: bool,
}

impl StreamSink {
    pub(crate) fn new(stream: Arc<Stream>, hub: Arc<HubInner>, id: u64) -> StreamSink {
        StreamSink {
            stream,
            hub,
            id,
            ignored: 0,
            wake: Vec::new(),
            messages: 0,
            bytes: 0,
            ended: false,
        }
    }

    /// Messages received from the publisher.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Payload bytes received from the publisher.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn wake_players(&mut self) {
        for waker in self.wake.drain(..) {
            waker.wake();
        }
    }

    /// A message from a sink that was taken over: counted, not published.
    fn ignore(&mut self) {
        if self.ignored == 0 {
            tracing::debug!(
                stream = %self.stream.key,
                "publisher taken over: its later messages are ignored"
            );
        }
        self.ignored += 1;
    }

    /// The one place where a publication's end is handled: an unpublish
    /// ends it at once (the end marker reaches players); a lost connection
    /// leaves the stream waiting for a publisher within the reconnect window
    /// (players are told nothing; they get the end if the window passes
    /// with nobody back). A sink that was taken over ends nothing.
    fn finish(&mut self, end: PublishEnd) {
        if self.ended {
            return;
        }
        self.ended = true;
        let window = Duration::from_secs(self.hub.settings.reconnect_window_secs);
        let wait = matches!(end, PublishEnd::ConnectionLost(_)) && !window.is_zero();
        let reason = match &end {
            PublishEnd::Unpublished(reason) => format!("unpublished ({reason:?})"),
            PublishEnd::ConnectionLost(why) => format!("connection lost ({why})"),
        };
        let (current, idle) = {
            let mut state = self.stream.lock();
            let current = state.is_current(self.id);
            if current && wait {
                state.lose_publisher(takeover::vacancy(&self.stream, &self.hub, window));
            } else if current {
                state.end_publication();
                state.waiters.take_all(&mut self.wake);
            }
            (current, state.is_idle())
        };
        self.wake_players();
        if !current {
            tracing::info!(
                stream = %self.stream.key,
                messages = self.messages,
                bytes = self.bytes,
                ignored = self.ignored,
                %reason,
                "publisher left after being taken over"
            );
            return;
        }
        if wait {
            tracing::info!(
                stream = %self.stream.key,
                messages = self.messages,
                bytes = self.bytes,
                %reason,
                window_secs = window.as_secs(),
                "publisher lost: stream waits for it to come back"
            );
        } else {
            tracing::info!(
                stream = %self.stream.key,
                messages = self.messages,
                bytes = self.bytes,
                %reason,
                "publish ended"
            );
        }
        if idle {
            self.hub.remove_if_idle(&self.stream);
        }
    }
}

impl MediaSink for StreamSink {
    fn on_media(&mut self, kind: MediaKind, timestamp: Timestamp, payload: Bytes) {
        self.messages += 1;
        self.bytes += payload.len() as u64;
        let class = MediaClass::of(kind, &payload);
        let published = {
            let mut state = self.stream.lock();
            if !state.is_current(self.id) {
                None
            } else {
                let published = state.publish_media(kind, timestamp, payload, class);
                state.waiters.take_all(&mut self.wake);
                Some(published)
            }
        };
        self.wake_players();
        match published {
            None => self.ignore(),
            Some(Published::Forwarded {
                rebased: Some(offset),
            }) => tracing::info!(
                stream = %self.stream.key,
                first_timestamp = timestamp.0,
                offset_ms = offset,
                "takeover: the new publisher's timestamps are rebased onto the stream's"
            ),
            Some(Published::Duplicate) => tracing::debug!(
                stream = %self.stream.key,
                ?kind,
                timestamp = timestamp.0,
                "takeover: re-sent frame dropped"
            ),
            Some(Published::SameHeader) => tracing::debug!(
                stream = %self.stream.key,
                ?kind,
                "takeover: same sequence header kept, not re-sent"
            ),
            Some(Published::Forwarded { rebased: None }) => {}
        }
    }

    fn on_data(&mut self, timestamp: Timestamp, data: DataMessage) {
        self.messages += 1;
        let current = {
            let mut state = self.stream.lock();
            let current = state.is_current(self.id);
            if current {
                state.publish_data(timestamp, data);
                state.waiters.take_all(&mut self.wake);
            }
            current
        };
        self.wake_players();
        if !current {
            self.ignore();
        }
    }

    fn on_go_away(&mut self) {
        let mut state = self.stream.lock();
        if state.is_current(self.id) {
            state.moving = true;
            drop(state);
            tracing::info!(
                stream = %self.stream.key,
                "publisher asked to move: a new publisher may take over"
            );
        }
    }

    fn on_end(mut self: Box<Self>, end: PublishEnd) {
        self.finish(end);
    }
}

impl Drop for StreamSink {
    fn drop(&mut self) {
        // on_end is the normal path; this only covers a sink dropped
        // without it, so the stream is never left "publishing".
        self.finish(PublishEnd::ConnectionLost(
            "publisher dropped without an end".into(),
        ));
    }
}
