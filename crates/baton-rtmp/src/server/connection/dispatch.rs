//! The application side of a connection: session events become handler
//! decisions and media sink calls; play feed items become session sends.
//!
//! A decision (connect, publish, play) runs as one branch of the
//! connection's loop, so reads, writes, pings and timeouts go on while the
//! handler thinks (the session holds the peer's later input meanwhile).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tracing::{debug, info};

use baton_proto::session::{RequestId, ServerEvent, UsageError};

use super::{Close, Driver, PlayFilter};
use crate::server::{
    ConnectionInfo, FeedItem, Handler, MediaSink, PlayFeed, PlayRequest, PublishEnd,
    PublishRequest, Rejection,
};
use baton_proto::command::{StatusCode, StatusInfo, StatusLevel};

/// What the handler decided on a request.
pub(super) enum Decision {
    Connect {
        request: RequestId,
        result: Result<(), Rejection>,
    },
    Publish {
        request: RequestId,
        publish: PublishRequest,
        result: Result<Box<dyn MediaSink>, Rejection>,
    },
    Play {
        request: RequestId,
        play: PlayRequest,
        result: Result<Box<dyn PlayFeed>, Rejection>,
    },
}

/// A handler decision in progress.
pub(super) type DecisionFuture = Pin<Box<dyn Future<Output = Decision> + Send>>;

/// A stream name (or tcUrl) as logged: without the query string, which may
/// carry credentials.
fn logged(stream_name: &str) -> &str {
    crate::split_stream_query(stream_name).0
}

/// Polls the decision in progress; takes it when it is made.
pub(super) fn poll_decision(
    decision: &mut Option<DecisionFuture>,
    cx: &mut Context<'_>,
) -> Poll<Decision> {
    let Some(future) = decision.as_mut() else {
        return Poll::Pending;
    };
    let made = std::task::ready!(future.as_mut().poll(cx));
    *decision = None;
    Poll::Ready(made)
}

/// The next item of any play feed, starting after the feed served last so
/// that one busy feed does not starve the others.
pub(super) fn poll_feeds(
    feeds: &mut [(u32, Box<dyn PlayFeed>)],
    next: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<(u32, FeedItem)> {
    if let [(stream_id, feed)] = feeds {
        // The common case: one stream played.
        return feed.poll_next(cx).map(|item| (*stream_id, item));
    }
    let count = feeds.len();
    for i in 0..count {
        let index = (*next + i) % count;
        let (stream_id, feed) = &mut feeds[index];
        if let Poll::Ready(item) = feed.poll_next(cx) {
            *next = (index + 1) % count;
            return Poll::Ready((*stream_id, item));
        }
    }
    Poll::Pending
}

impl<H, S> Driver<H, S>
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    /// Handles one session event.
    pub(super) fn on_event(&mut self, event: ServerEvent) -> Option<Close> {
        match event {
            ServerEvent::ConnectRequested { request, connect } => {
                let info = ConnectionInfo {
                    id: self.id,
                    peer: self.peer,
                    connect: Arc::from(connect),
                };
                self.info = Some(info.clone());
                let handler = Arc::clone(&self.handler);
                self.decision = Some(Box::pin(async move {
                    let result = handler.on_connect(&info).await;
                    Decision::Connect { request, result }
                }));
            }
            ServerEvent::PublishRequested {
                request,
                stream_id,
                stream_name,
                publish_type,
            } => {
                let publish = PublishRequest {
                    stream_id,
                    stream_name,
                    publish_type,
                };
                let Some((handler, info)) = self.decision_context() else {
                    return Some(Close::Usage(UsageError::NotConnected));
                };
                self.decision = Some(Box::pin(async move {
                    let result = handler.on_publish(&info, &publish).await;
                    Decision::Publish {
                        request,
                        publish,
                        result,
                    }
                }));
            }
            ServerEvent::PlayRequested {
                request,
                stream_id,
                stream_name,
                start,
                duration,
                reset,
            } => {
                let play = PlayRequest {
                    stream_id,
                    stream_name,
                    start,
                    duration,
                    reset,
                };
                let Some((handler, info)) = self.decision_context() else {
                    return Some(Close::Usage(UsageError::NotConnected));
                };
                self.decision = Some(Box::pin(async move {
                    let result = handler.on_play(&info, &play).await;
                    Decision::Play {
                        request,
                        play,
                        result,
                    }
                }));
            }
            ServerEvent::Media {
                stream_id,
                kind,
                timestamp,
                payload,
            } => {
                // The read that brought it is this frame's arrival time: no
                // clock read per frame.
                self.last_media = self.last_read;
                match self.sink(stream_id) {
                    Some(sink) => sink.on_media(kind, timestamp, payload),
                    None => debug!(stream_id, "media on a stream without a sink"),
                }
            }
            ServerEvent::Data {
                stream_id,
                timestamp,
                data,
            } => match self.sink(stream_id) {
                Some(sink) => sink.on_data(timestamp, data),
                None => debug!(stream_id, "data on a stream without a sink"),
            },
            ServerEvent::Unpublished {
                stream_id,
                stream_name,
                reason,
            } => {
                info!(
                    app = self.app(),
                    stream = logged(&stream_name),
                    ?reason,
                    "unpublished"
                );
                if let Some(index) = self.sinks.iter().position(|(id, _)| *id == stream_id) {
                    let (_, sink) = self.sinks.swap_remove(index);
                    sink.on_end(PublishEnd::Unpublished(reason));
                }
            }
            ServerEvent::PlayStopped { stream_id } => {
                info!(app = self.app(), stream_id, "stopped playing");
                self.feeds.retain(|(id, _)| *id != stream_id);
                self.filters.retain(|(id, _)| *id != stream_id);
            }
            ServerEvent::Receive {
                stream_id,
                kind,
                flag,
            } => {
                debug!(stream_id, ?kind, flag, "receive flag");
                if let Some(filter) = self.filter(stream_id) {
                    filter.set_receive(kind, flag);
                }
            }
            ServerEvent::Pause {
                stream_id, pause, ..
            } => {
                // The session answered Pause.Notify / Unpause.Notify.
                debug!(stream_id, pause, "pause");
                if let Some(filter) = self.filter(stream_id) {
                    filter.set_paused(pause);
                }
            }
            ServerEvent::Seek { stream_id, millis } => {
                // A live stream cannot seek: playback goes on at the live
                // point, which is what Seek.Notify tells the player.
                debug!(stream_id, millis, "seek on a live stream");
                let info = StatusInfo::new(
                    StatusLevel::Status,
                    StatusCode::SeekNotify,
                    "live stream: playback continues at the live point",
                );
                if let Err(error) = self.session.send_status(stream_id, info) {
                    return Some(Close::Usage(error));
                }
            }
            ServerEvent::CloseRequested => return Some(Close::ClientClosed),
            event => debug!(?event, "session event"),
        }
        None
    }

    /// The receive flags of a playing message stream.
    fn filter(&mut self, stream_id: u32) -> Option<&mut PlayFilter> {
        self.filters
            .iter_mut()
            .find(|(id, _)| *id == stream_id)
            .map(|(_, filter)| filter)
    }

    /// The handler and connection info a publish or play decision needs.
    fn decision_context(&self) -> Option<(Arc<H>, ConnectionInfo)> {
        // The session raises publish and play only after an accepted
        // connect, so the info is always there.
        let info = self.info.clone()?;
        Some((Arc::clone(&self.handler), info))
    }

    fn sink(&mut self, stream_id: u32) -> Option<&mut Box<dyn MediaSink>> {
        self.sinks
            .iter_mut()
            .find(|(id, _)| *id == stream_id)
            .map(|(_, sink)| sink)
    }

    pub(super) fn app(&self) -> &str {
        self.info.as_ref().map_or("-", |info| info.app())
    }

    /// Applies a handler decision to the session.
    pub(super) fn on_decision(&mut self, decision: Decision) -> Option<Close> {
        let applied = match decision {
            Decision::Connect {
                request,
                result: Ok(()),
            } => {
                if let Some(info) = &self.info {
                    let connect = &info.connect;
                    info!(
                        app = info.app(),
                        tc_url = connect.tc_url.as_deref().map_or("-", logged),
                        flash_ver = connect.flash_ver.as_deref().unwrap_or("-"),
                        go_away = info.supports_go_away(),
                        "connected"
                    );
                }
                let accepted = self.session.accept_connect(request);
                if accepted.is_ok() {
                    self.on_connected();
                }
                accepted
            }
            Decision::Connect {
                request,
                result: Err(rejection),
            } => {
                info!(app = self.app(), reason = %rejection.description, "connect rejected");
                return Some(
                    match self.session.reject_connect(request, &rejection.description) {
                        Ok(()) => Close::ConnectRejected(rejection.description),
                        Err(error) => Close::Protocol(error),
                    },
                );
            }
            Decision::Publish {
                request,
                publish,
                result: Ok(mut sink),
            } => {
                info!(app = self.app(), stream = logged(&publish.stream_name),
                    kind = ?publish.publish_type, "publishing");
                if self.drain_asked == Some(true) {
                    // Published after the drain asked it to move: the stream
                    // may be taken over by its next connection too.
                    sink.on_go_away();
                }
                self.published.add(logged(&publish.stream_name));
                self.sinks.push((publish.stream_id, sink));
                self.last_media = Instant::now();
                self.session.accept_publish(request)
            }
            Decision::Publish {
                request,
                publish,
                result: Err(rejection),
            } => {
                info!(app = self.app(), stream = logged(&publish.stream_name), code = %rejection.code,
                    reason = %rejection.description, "publish rejected");
                self.session
                    .reject_publish(request, rejection.code, &rejection.description)
            }
            Decision::Play {
                request,
                play,
                result: Ok(feed),
            } => {
                info!(
                    app = self.app(),
                    stream = logged(&play.stream_name),
                    "playing"
                );
                self.played.add(logged(&play.stream_name));
                self.feeds.push((play.stream_id, feed));
                self.filters.push((play.stream_id, PlayFilter::default()));
                self.session.accept_play(request)
            }
            Decision::Play {
                request,
                play,
                result: Err(rejection),
            } => {
                info!(app = self.app(), stream = logged(&play.stream_name), code = %rejection.code,
                    reason = %rejection.description, "play rejected");
                self.session
                    .reject_play(request, rejection.code, &rejection.description)
            }
        };
        // Accepting resumes the input held during the decision, which may
        // turn out to be malformed.
        applied.err().map(Close::Protocol)
    }

    /// Sends one play feed item on the player's message stream.
    pub(super) fn on_feed_item(&mut self, stream_id: u32, item: FeedItem) -> Option<Close> {
        let sent = match item {
            FeedItem::Media(message) => {
                if let Some(filter) = self.filter(stream_id)
                    && !filter.passes(&message)
                {
                    return None;
                }
                // The chunks are shared by every player with this chunk
                // size and stream id: only a reference count moves.
                let chunks = message.chunks(self.session.chunk_size(), stream_id);
                self.session.send_standalone_media(
                    stream_id,
                    message.kind(),
                    message.timestamp(),
                    message.payload_len() as u32,
                    chunks,
                )
            }
            FeedItem::Data { timestamp, data } => {
                self.session.send_data(stream_id, timestamp, &data)
            }
            FeedItem::End => {
                let _entered = self.span.clone().entered();
                debug!(stream_id, "the played stream ended");
                self.session.notify_unpublished(stream_id)
            }
            FeedItem::Close(reason) => return Some(Close::Feed(reason)),
        };
        sent.err().map(Close::Usage)
    }
}
