//! A publisher that follows RTMP Go Away and the Enhanced RTMP Reconnect
//! Request with no frame lost or sent twice (make before break):
//!
//! ```text
//!  signal on the old connection        (Go Away / Reconnect Request)
//!   |  frames keep going to the old connection
//!   |  background task: connect + publish the same name on the next URL
//!   |  (the request's tcUrl; else the next URL of the list; else the same
//!   |  URL), retrying with exponential backoff
//!   v
//!  new connection publishes (NetStream.Publish.Start)
//!   |  at the next video keyframe (audio-only: the next audio frame):
//!   |  metadata + sequence headers (stamped with the keyframe's timestamp),
//!   |  the keyframe and everything after go to the new connection
//!   v
//!  old connection: flushed, closed without FCUnpublish/deleteStream
//! ```
//!
//! When the old connection dies before the new one is ready, what the
//! application sends is held (bounded by
//! [`HandoverConfig::max_handover_buffer`] and
//! [`HandoverConfig::max_handover_buffer_bytes`]), and the new connection
//! gets the stream from the last keyframe that was sent to the old one:
//! nothing tells what a dead connection delivered, so the frames from that
//! keyframe to the failure may reach the server twice (once on each
//! connection). Baton's server-side takeover drops such exact duplicates
//! (same timestamps, same payloads). A connection lost without any signal
//! is handled the same way.

use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use baton_proto::Timestamp;
use baton_proto::command::{DataMessage, PublishType};
use baton_proto::session::MediaKind;

use super::handover::{HandoverConfig, HandoverError, HandoverState, HandoverStats};
use super::handover::{Pending, Ready, Reason, candidates};
use super::replay::{ConfigCache, Item, Replay, is_boundary};
use super::{ClientConfig, Connection, Publisher, ServerSignal};
use crate::{RtmpError, RtmpUrl};

/// Most closing old connections tracked at a time (each ends by itself
/// within `write_timeout + close_timeout`).
const MAX_CLOSING: usize = 16;

/// A publishing stream that moves to a new connection when the server asks
/// (see the [module documentation](self)).
#[derive(Debug)]
pub struct ReconnectingPublisher {
    urls: Vec<RtmpUrl>,
    stream_name: String,
    config: ClientConfig,
    handover: HandoverConfig,
    /// The connection media goes to; `None` when it died.
    current: Option<Publisher<TcpStream>>,
    current_url: RtmpUrl,
    cache: ConfigCache,
    replay: Replay,
    /// Items held while there was no connection.
    held: usize,
    has_video: bool,
    pending: Option<Pending>,
    stats: HandoverStats,
    /// When the last message went to the current connection.
    last_sent: Instant,
    /// Old connections being flushed and closed.
    closing: Vec<JoinHandle<()>>,
    failed: bool,
}

impl ReconnectingPublisher {
    /// Connects to the first URL that accepts (in the order given) and
    /// publishes `stream_name` there (live). The URLs' stream parts are not
    /// used: every connection publishes `stream_name`.
    pub async fn connect(
        urls: &[RtmpUrl],
        stream_name: &str,
        config: ClientConfig,
        handover: HandoverConfig,
    ) -> Result<Self, HandoverError> {
        let mut last = None;
        for url in urls {
            let result = async {
                Connection::connect(url, &config)
                    .await?
                    .publish(stream_name, PublishType::Live)
                    .await
            }
            .await;
            match result {
                Ok(publisher) => {
                    return Ok(ReconnectingPublisher {
                        urls: urls.to_vec(),
                        stream_name: stream_name.to_owned(),
                        config,
                        handover,
                        current: Some(publisher),
                        current_url: url.clone(),
                        cache: ConfigCache::default(),
                        replay: Replay::new(),
                        held: 0,
                        has_video: false,
                        pending: None,
                        stats: HandoverStats::default(),
                        last_sent: Instant::now(),
                        closing: Vec::new(),
                        failed: false,
                    });
                }
                Err(e) => {
                    if urls.len() > 1 {
                        tracing::warn!(url = %url, "cannot publish: {e}; trying the next URL");
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.map_or(HandoverError::NoUrl, HandoverError::Rtmp))
    }

    /// The stream name published on every connection.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// The URL of the connection in use (or of the one that was lost).
    pub fn current_url(&self) -> &RtmpUrl {
        &self.current_url
    }

    /// Handover counters (failed attempts include those of a handover
    /// under way).
    pub fn handover_stats(&self) -> HandoverStats {
        let mut stats = self.stats;
        if let Some(pending) = &self.pending {
            stats.failed_attempts += pending.attempts().failed;
        }
        stats
    }

    /// Where a handover stands (takes the new connection's result when it
    /// arrived).
    pub fn handover_state(&mut self) -> HandoverState {
        match self.pending.as_mut().map(Pending::poll_ready) {
            None => HandoverState::Idle,
            Some(true) => HandoverState::Ready,
            Some(false) => HandoverState::Connecting,
        }
    }

    /// Sends audio or video (see [`Publisher::send`]). While a handover is
    /// pending and the old connection is gone, the frame is held instead.
    pub async fn send(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), HandoverError> {
        self.push(Item::Media {
            kind,
            timestamp,
            payload,
        })
        .await
    }

    /// Sends a data message (`@setDataFrame onMetaData`); the last metadata
    /// is sent again on each new connection.
    pub async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), HandoverError> {
        self.push(Item::Data { timestamp, data }).await
    }

    /// Reads what the server sent (a signal starts a handover) and writes
    /// what the socket takes, without waiting; moves held media to a new
    /// connection that became ready. For a publisher with nothing to send
    /// for a while.
    pub async fn process_input(&mut self) -> Result<(), HandoverError> {
        self.check_usable()?;
        if let Some(current) = self.current.as_mut() {
            if let Err(e) = current.process_input().await {
                self.lose_current(e);
            }
            self.take_signals();
        }
        if self.current.is_none() && self.pending.as_mut().is_some_and(Pending::poll_ready) {
            self.switch(None).await;
        }
        Ok(())
    }

    /// Writes everything queued on the current connection.
    pub async fn flush(&mut self) -> Result<(), HandoverError> {
        self.check_usable()?;
        if let Some(current) = self.current.as_mut() {
            if let Err(e) = current.flush().await {
                self.lose_current(e);
            }
        }
        Ok(())
    }

    /// Ends the publication on purpose: FCUnpublish and deleteStream on the
    /// current connection (if the old one is gone, after waiting up to
    /// `finish_timeout` for the new one and sending it what was held); a
    /// new connection not switched to yet is closed without them.
    pub async fn finish(mut self) -> Result<(), HandoverError> {
        let result = self.settle().await;
        let result = match (result, self.current.take()) {
            (Ok(()), Some(current)) => current.finish().await.map_err(HandoverError::from),
            (Ok(()), None) => Err(HandoverError::Failed),
            (Err(e), _) => Err(e),
        };
        self.wait_closing().await;
        result
    }

    /// Closes the current connection without FCUnpublish or deleteStream
    /// (the server keeps the stream for a reconnect), after writing what is
    /// queued (and, if the old connection is gone, after moving what was
    /// held to a new one, as [`ReconnectingPublisher::finish`] does).
    pub async fn abandon(mut self) -> Result<(), HandoverError> {
        let result = self.settle().await;
        let result = match (result, self.current.take()) {
            (Ok(()), Some(current)) => current.abandon().await.map_err(HandoverError::from),
            (Ok(()), None) => Err(HandoverError::Failed),
            (Err(e), _) => Err(e),
        };
        self.wait_closing().await;
        result
    }

    /// Before ending: a lost connection is replaced (bounded wait), a new
    /// one not switched to is closed.
    async fn settle(&mut self) -> Result<(), HandoverError> {
        self.check_usable()?;
        if self.current.is_none() {
            let timeout = self.handover.finish_timeout;
            let ready = match self.pending.as_mut() {
                Some(p) => p.wait_ready(timeout).await,
                None => false,
            };
            if !ready {
                self.pending = None;
                return Err(HandoverError::NotReconnected {
                    url: self.current_url.to_string(),
                });
            }
            self.switch(None).await;
            if self.current.is_none() {
                return Err(HandoverError::NotReconnected {
                    url: self.current_url.to_string(),
                });
            }
        }
        if let Some(mut pending) = self.pending.take() {
            if let Some(ready) = pending.ready.take() {
                tracing::info!(url = %ready.url, "handover: not switched before the end; closing the new connection");
                self.close_in_background(ready.publisher);
            }
        }
        Ok(())
    }

    fn check_usable(&self) -> Result<(), HandoverError> {
        if self.failed {
            Err(HandoverError::Failed)
        } else {
            Ok(())
        }
    }

    /// Sends or holds one item, switching connections when it is time.
    async fn push(&mut self, item: Item) -> Result<(), HandoverError> {
        self.check_usable()?;
        if matches!(
            item,
            Item::Media {
                kind: MediaKind::Video,
                ..
            }
        ) {
            self.has_video = true;
        }
        self.take_signals();
        let boundary = is_boundary(&item, self.has_video);
        let ready = self.pending.as_mut().is_some_and(Pending::poll_ready);
        if ready && (self.current.is_none() || boundary) {
            self.switch(Some(item)).await;
            return self.check_held();
        }
        let Some(current) = self.current.as_mut() else {
            self.hold(item);
            return self.check_held();
        };
        if boundary {
            self.replay.restart(&self.cache);
        }
        self.cache.update(&item);
        self.replay.push(item.clone());
        match send_on(current, item).await {
            Ok(()) => {
                self.last_sent = Instant::now();
                self.take_signals();
                self.bound_replay();
                Ok(())
            }
            Err(e @ RtmpError::Usage(_)) => {
                self.replay.pop_last();
                Err(e.into())
            }
            Err(e) => {
                self.lose_current(e);
                self.check_held()
            }
        }
    }

    /// Keeps an item while there is no connection.
    fn hold(&mut self, item: Item) {
        self.cache.update(&item);
        self.replay.push(item);
        self.held += 1;
    }

    /// With a live connection, the replay is only insurance: past its bounds
    /// it is dropped until the next keyframe.
    fn bound_replay(&mut self) {
        if self.over_bounds() {
            tracing::debug!(
                items = self.replay.len(),
                bytes = self.replay.bytes(),
                "frames since the last keyframe exceed the handover buffer; not kept"
            );
            self.replay.discard(&self.cache);
        }
    }

    fn over_bounds(&self) -> bool {
        self.replay.bytes() > self.handover.max_handover_buffer_bytes
            || u128::from(self.replay.span_ms()) > self.handover.max_handover_buffer.as_millis()
    }

    /// Without a connection, held media past the bounds is an error.
    fn check_held(&mut self) -> Result<(), HandoverError> {
        if self.current.is_some() || !self.over_bounds() {
            return Ok(());
        }
        let last_error = self
            .pending
            .as_ref()
            .and_then(|p| p.attempts().last_error)
            .unwrap_or_else(|| "none yet".to_owned());
        let err = HandoverError::BufferFull {
            url: self.current_url.to_string(),
            media_ms: self.replay.span_ms(),
            bytes: self.replay.bytes(),
            last_error,
        };
        tracing::error!("handover failed: {err}");
        self.failed = true;
        self.pending = None;
        Err(err)
    }

    /// The current connection failed: hold media from now on, and start a
    /// handover if none is under way.
    fn lose_current(&mut self, error: RtmpError) {
        self.current = None;
        self.held = 0;
        if !self.replay.starts_clean() {
            tracing::warn!(
                "the frames since the last keyframe were not all kept; the new connection starts mid-GOP"
            );
        }
        tracing::warn!(url = %self.current_url, "publishing connection lost: {error}");
        if self.pending.is_none() {
            self.begin(Reason::ConnectionLost(error.to_string()), None);
        }
    }

    /// Looks at the signals of the current connection; a Go Away or a
    /// Reconnect Request starts a handover.
    fn take_signals(&mut self) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let mut start: Option<(Reason, Option<String>)> = None;
        while let Some(signal) = current.take_signal() {
            match signal {
                ServerSignal::GoAway => {
                    start.get_or_insert((Reason::GoAway, None));
                }
                ServerSignal::ReconnectRequest {
                    tc_url,
                    description,
                } => {
                    tracing::debug!(?tc_url, ?description, "reconnect request");
                    if tc_url.is_some() || start.is_none() {
                        start = Some((Reason::ReconnectRequest, tc_url));
                    }
                }
                ServerSignal::Status(info) => tracing::info!(
                    code = %info.code,
                    description = info.description.as_deref().unwrap_or(""),
                    "server status"
                ),
            }
        }
        if let Some((reason, tc_url)) = start {
            self.begin(reason, tc_url);
        }
    }

    /// Starts a handover (or redirects one that has not connected yet to a
    /// Reconnect Request's tcUrl).
    fn begin(&mut self, reason: Reason, tc_url: Option<String>) {
        let target = tc_url.and_then(|t| match self.current_url.resolve_tc_url(&t) {
            Ok(url) => Some(url),
            Err(e) => {
                tracing::warn!("ignoring the reconnect target: {e}");
                None
            }
        });
        let mut started = Instant::now();
        if let Some(pending) = self.pending.as_mut() {
            let redirect = target.is_some() && !pending.targeted && !pending.poll_ready();
            if !redirect {
                tracing::debug!(%reason, "a handover is already under way");
                return;
            }
            started = pending.started;
        } else {
            self.stats.started += 1;
        }
        let targeted = target.is_some();
        let list = candidates(&self.urls, &self.current_url, target);
        tracing::info!(
            %reason,
            from = %self.current_url,
            to = %list[0],
            stream = %self.stream_name,
            "handover started"
        );
        let mut pending = Pending::start(
            reason,
            targeted,
            list,
            self.stream_name.clone(),
            self.config.clone(),
            &self.handover,
        );
        pending.started = started;
        // Replacing a pending handover aborts its task.
        self.pending = Some(pending);
    }

    /// Moves to the new connection (which is ready). With the old one
    /// alive, `item` is a boundary: the configuration, then `item`, go to
    /// the new one, and the old one is closed once they went (if the new
    /// one fails first, `item` goes to the old one and the handover starts
    /// over). Without it, the held replay goes (then `item`).
    async fn switch(&mut self, item: Option<Item>) {
        let Some(mut pending) = self.pending.take() else {
            return;
        };
        let Some(Ready {
            publisher: mut new,
            url,
        }) = pending.ready.take()
        else {
            self.pending = Some(pending);
            return;
        };
        self.stats.failed_attempts += pending.attempts().failed;
        let old = self.current.take();
        let (items, resent) = match (&old, item) {
            (Some(_), Some(item)) => {
                self.replay.restart(&self.cache);
                let mut items = self.cache.items_at(item.timestamp());
                self.cache.update(&item);
                self.replay.push(item.clone());
                items.push(item);
                (items, 0)
            }
            (Some(_), None) => (Vec::new(), 0),
            (None, item) => {
                if let Some(item) = item {
                    self.hold(item);
                }
                let resent = self.replay.len().saturating_sub(self.held);
                (self.replay.to_send(), resent)
            }
        };
        let pause = self.last_sent.elapsed();
        let last = items.last().cloned();
        for item in items {
            if let Err(e) = send_on(&mut new, item).await {
                tracing::warn!(url = %url, "the new connection failed during the switch: {e}");
                match (old, last) {
                    (Some(mut old), Some(item)) => {
                        // Make before break: the boundary goes to the old
                        // connection after all.
                        let sent = send_on(&mut old, item).await;
                        self.current = Some(old);
                        if let Err(e) = sent {
                            self.lose_current(e);
                        } else {
                            self.last_sent = Instant::now();
                            self.begin(pending.reason.clone(), None);
                        }
                    }
                    (Some(old), None) => {
                        self.current = Some(old);
                        self.begin(pending.reason.clone(), None);
                    }
                    (None, _) => {
                        self.current_url = url;
                        self.lose_current(e);
                    }
                }
                return;
            }
        }
        if let Some(old) = old {
            self.close_in_background(old);
        }
        let from = std::mem::replace(&mut self.current_url, url.clone());
        self.current = Some(new);
        self.held = 0;
        self.last_sent = Instant::now();
        self.stats.completed += 1;
        self.stats.resent += resent as u64;
        tracing::info!(
            reason = %pending.reason,
            %from,
            to = %url,
            stream = %self.stream_name,
            switch_ms = pending.started.elapsed().as_millis() as u64,
            pause_ms = pause.as_millis() as u64,
            resent,
            "handover switched"
        );
        self.take_signals();
    }

    /// Flushes and closes an old connection without FCUnpublish or
    /// deleteStream, in a task that ends by itself (bounded by the write
    /// and close timeouts).
    fn close_in_background(&mut self, old: Publisher<TcpStream>) {
        self.closing.retain(|t| !t.is_finished());
        if self.closing.len() >= MAX_CLOSING {
            tracing::warn!("too many old connections still closing; dropping one");
            drop(old);
            return;
        }
        self.closing.push(tokio::spawn(async move {
            if let Err(e) = old.abandon().await {
                tracing::debug!("closing the old connection: {e}");
            }
        }));
    }

    /// Waits for the old connections to finish closing (each is bounded).
    async fn wait_closing(&mut self) {
        let bound = self.config.write_timeout + self.config.close_timeout + Duration::from_secs(1);
        for task in self.closing.drain(..) {
            let _ = tokio::time::timeout(bound, task).await;
        }
    }
}

/// Sends one item on a publisher.
async fn send_on(publisher: &mut Publisher<TcpStream>, item: Item) -> Result<(), RtmpError> {
    match item {
        Item::Media {
            kind,
            timestamp,
            payload,
        } => publisher.send(kind, timestamp, payload).await,
        Item::Data { timestamp, data } => publisher.send_data(timestamp, data).await,
    }
}
