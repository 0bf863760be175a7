//! A publisher's sink: every message becomes one shared, lazily chunked
//! [`SharedMessage`] appended to its stream's queue; the waiting players
//! are woken after the lock is released. The publisher never waits.

use std::sync::Arc;
use std::task::Waker;

use bytes::Bytes;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::session::MediaKind;
use baton_rtmp::SharedMessage;
use baton_rtmp::server::{MediaSink, PublishEnd};

use crate::hub::HubInner;
use crate::ring::MediaClass;
use crate::stream::Stream;

/// What one publisher sends into its stream. Ends the publication when
/// [`MediaSink::on_end`] is called (or, failing that, when dropped).
#[derive(Debug)]
pub struct StreamSink {
    stream: Arc<Stream>,
    hub: Arc<HubInner>,
    /// Wakers taken from the stream, woken after the lock is released; the
    /// buffer is reused so waking allocates nothing.
    wake: Vec<Waker>,
    messages: u64,
    bytes: u64,
    ended: bool,
}

impl StreamSink {
    pub(crate) fn new(stream: Arc<Stream>, hub: Arc<HubInner>) -> StreamSink {
        StreamSink {
            stream,
            hub,
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

    fn finish(&mut self, end: PublishEnd) {
        if self.ended {
            return;
        }
        self.ended = true;
        let reason = match &end {
            PublishEnd::Unpublished(reason) => format!("unpublished ({reason:?})"),
            // ISSUE 4 (publisher reconnect): a lost connection is the one
            // case where the stream should outlive its publisher for a
            // reconnect window, its players kept waiting without an end.
            // Until then it ends the publication like an unpublish.
            PublishEnd::ConnectionLost(why) => format!("connection lost ({why})"),
        };
        let idle = {
            let mut state = self.stream.lock();
            state.end_publication();
            state.waiters.take_all(&mut self.wake);
            state.is_idle()
        };
        self.wake_players();
        tracing::info!(
            stream = %self.stream.key,
            messages = self.messages,
            bytes = self.bytes,
            %reason,
            "publish ended"
        );
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
        let msg = Arc::new(SharedMessage::new(kind, timestamp, payload));
        {
            let mut state = self.stream.lock();
            state.publish_media(msg, class);
            state.waiters.take_all(&mut self.wake);
        }
        self.wake_players();
    }

    fn on_data(&mut self, timestamp: Timestamp, data: DataMessage) {
        self.messages += 1;
        {
            let mut state = self.stream.lock();
            state.publish_data(timestamp, data);
            state.waiters.take_all(&mut self.wake);
        }
        self.wake_players();
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
