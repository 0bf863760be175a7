//! Relay push: every stream published on this server (of the configured
//! applications) is published again to each upstream URL (`[relay] push`),
//! so that ingest nodes can stand in front of an origin.
//!
//! ```text
//!  publisher ──► StreamSink ──► Stream ──► StreamFeed ──► relay task ──► origin
//!                                 (a player of the hub)   ReconnectingPublisher
//! ```
//!
//! One task per (stream, upstream), started when a publish is accepted
//! ([`Relays::on_publish`]; a publisher that takes a stream over finds its
//! relay still there). The task reads the stream through the hub's own
//! player feed, so it gets exactly what a player gets (metadata, sequence
//! headers, GOP, live, end) under the same bounds and lag rule, and
//! publishes it upstream with the local stream name (query string included)
//! on a [`ReconnectingPublisher`], which follows the origin's Go Away.
//!
//! - The origin may refuse the publish (BadName while the previous ingest
//!   node's relay still holds the stream): it is retried with backoff
//!   (50 ms to 250 ms: a refusal during a takeover clears within a few hundred milliseconds, when the previous relay has flushed and left) for `relay.retry_secs`, and what the feed yields
//!   meanwhile is held (at most `relay.max_buffer_bytes`), so nothing is
//!   lost.
//! - An unpublish here (the feed's end, also after a reconnect window that
//!   passed with nobody back) ends the upstream publication with
//!   FCUnpublish/deleteStream (`finish`).
//! - A publisher whose connection was lost leaves the stream waiting for
//!   the reconnect window: the relay keeps its upstream connection.
//! - When this server drains (or stops) and a stream's publisher has left,
//!   the relay sends everything it has read and closes its upstream
//!   connection without FCUnpublish/deleteStream (`abandon`), so that the
//!   origin keeps the stream alive for the next ingest node.

use std::collections::{HashSet, VecDeque};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Poll;
use std::time::Duration;

use baton_proto::command::{DataMessage, handler};
use baton_rtmp::RtmpUrl;
use baton_rtmp::client::{ClientConfig, HandoverConfig, HandoverError, ReconnectingPublisher};
use baton_rtmp::server::{FeedItem, PlayFeed, ShutdownHandle};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::RelaySettings;
use crate::feed::StreamFeed;
use crate::hub::StreamHub;
use crate::stream::StreamKey;

/// How often an idle relay reads its upstream connection (Go Away) and
/// checks whether this server is leaving.
const CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// First wait before retrying a refused upstream publish.
const RETRY_INITIAL: Duration = Duration::from_millis(50);
/// Longest wait between two upstream publish attempts.
const RETRY_MAX: Duration = Duration::from_millis(250);
/// What a held data message counts for in `relay.max_buffer_bytes`.
const DATA_COST: usize = 256;
/// Added to `relay.retry_secs` for how long [`Relays::wait`] lets relays
/// finish after the server stopped.
const STOP_MARGIN: Duration = Duration::from_secs(10);

/// The relays of a server (see the module documentation). Cheap to clone
/// (shared).
#[derive(Clone, Debug)]
pub struct Relays {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    upstreams: Vec<RtmpUrl>,
    apps: Vec<String>,
    retry: Duration,
    max_buffer_bytes: usize,
    client: ClientConfig,
    hub: StreamHub,
    /// The server's state (draining), once it is bound.
    shutdown: OnceLock<ShutdownHandle>,
    /// The server stopped running.
    stopped: AtomicBool,
    /// The (stream, upstream index) pairs with a running relay task.
    active: Mutex<HashSet<(StreamKey, usize)>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Inner {
    fn active(&self) -> MutexGuard<'_, HashSet<(StreamKey, usize)>> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This server drains or stops: relays whose publisher left go.
    fn leaving(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
            || self
                .shutdown
                .get()
                .is_some_and(|h| h.is_draining() || h.is_shutdown())
    }
}

impl Relays {
    /// The relays of `settings` for streams of `hub`. URLs are checked by
    /// [`Config::validate`](crate::Config::validate); one that does not
    /// parse is left out with a warning.
    pub fn new(settings: &RelaySettings, hub: StreamHub) -> Relays {
        let upstreams = settings
            .push
            .iter()
            .filter_map(|u| match RtmpUrl::parse(u) {
                Ok(url) => Some(url),
                Err(e) => {
                    tracing::warn!("relay: {e}: left out");
                    None
                }
            })
            .collect();
        Relays {
            inner: Arc::new(Inner {
                upstreams,
                apps: settings.apps.clone(),
                retry: Duration::from_secs(settings.retry_secs),
                max_buffer_bytes: settings.max_buffer_bytes,
                client: ClientConfig::default(),
                hub,
                shutdown: OnceLock::new(),
                stopped: AtomicBool::new(false),
                active: Mutex::new(HashSet::new()),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Whether any upstream is configured.
    pub fn is_enabled(&self) -> bool {
        !self.inner.upstreams.is_empty()
    }

    /// Relay tasks running now.
    pub fn active(&self) -> usize {
        self.inner.active().len()
    }

    /// Ties the relays to the server's state: while it drains or stops,
    /// relays whose publisher left end without FCUnpublish.
    pub fn attach(&self, shutdown: ShutdownHandle) {
        let _ = self.inner.shutdown.set(shutdown);
    }

    /// A publish of `stream_name` in `app` was accepted by the hub: starts
    /// a relay to each upstream unless one runs for the stream already (a
    /// publisher that took the stream over). Must be called before the
    /// publisher's first message reaches the hub, so the relay misses none.
    pub fn on_publish(&self, app: &str, stream_name: &str) {
        let inner = &self.inner;
        if inner.upstreams.is_empty()
            || !(inner.apps.is_empty() || inner.apps.iter().any(|a| a == app))
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(app, "relay: no runtime to run it; not relayed");
            return;
        };
        let key = StreamKey::new(app, stream_name);
        let mut started = Vec::new();
        {
            let mut active = inner.active();
            for (index, url) in inner.upstreams.iter().enumerate() {
                if active.contains(&(key.clone(), index)) {
                    continue;
                }
                let feed = match inner.hub.play(app, stream_name) {
                    Ok(feed) => feed,
                    Err(rejection) => {
                        tracing::warn!(stream = %key, upstream = %url, reason = %rejection.description, "relay not started");
                        continue;
                    }
                };
                active.insert((key.clone(), index));
                let task = Relay {
                    inner: inner.clone(),
                    key: key.clone(),
                    stream_name: stream_name.to_owned(),
                    index,
                    url: url.clone(),
                    feed,
                };
                started.push(runtime.spawn(task.run()));
            }
        }
        let mut tasks = inner.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.extend(started);
    }

    /// The server stopped: relays send what they have and end (without
    /// FCUnpublish when their publisher left); waits for them up to
    /// `relay.retry_secs` plus a margin, then aborts those left.
    pub async fn wait(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        let tasks: Vec<_> = std::mem::take(
            &mut *self
                .inner
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let deadline = Instant::now() + self.inner.retry + STOP_MARGIN;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!("relay still running after the server stopped: aborted");
                task.abort();
            }
        }
    }
}

/// How a relay's publication went.
enum Outcome {
    /// The local publication ended; the upstream one was finished.
    Ended,
    /// This server is leaving and the publisher left: the upstream
    /// connection was abandoned.
    Abandoned,
    /// The relay could not go on (logged).
    Failed,
}

/// Items held while the upstream publish is not accepted yet.
#[derive(Default)]
struct Held {
    items: VecDeque<FeedItem>,
    bytes: usize,
    ended: bool,
}

impl Held {
    fn push(&mut self, item: FeedItem) {
        self.bytes += match &item {
            FeedItem::Media(msg) => msg.payload_len(),
            _ => DATA_COST,
        };
        self.ended |= matches!(item, FeedItem::End);
        self.items.push_back(item);
    }
}

type Connecting =
    Pin<Box<dyn Future<Output = Result<ReconnectingPublisher, HandoverError>> + Send>>;

/// One relay task: a stream to one upstream.
struct Relay {
    inner: Arc<Inner>,
    key: StreamKey,
    stream_name: String,
    index: usize,
    url: RtmpUrl,
    feed: StreamFeed,
}

impl Relay {
    async fn run(mut self) {
        loop {
            tracing::info!(stream = %self.key, upstream = %self.url, "relay started");
            let outcome = self.publication().await;
            let mut active = self.inner.active();
            // Under the lock that `on_publish` takes: a publication that
            // starts after this check gets a new relay; one that started
            // before it comes through this feed (after the end just read).
            let live = matches!(outcome, Outcome::Ended)
                && !self.inner.leaving()
                && self
                    .inner
                    .hub
                    .stream_stats(&self.key.app, &self.key.name)
                    .is_some_and(|s| s.publishing || s.awaiting_publisher);
            if !live {
                active.remove(&(self.key.clone(), self.index));
                return;
            }
        }
    }

    /// The next item of the feed.
    async fn next(&mut self) -> FeedItem {
        poll_fn(|cx| self.feed.poll_next(cx)).await
    }

    /// The next item if one is ready now.
    fn try_next(&mut self) -> Option<FeedItem> {
        let waker = std::task::Waker::noop();
        match self
            .feed
            .poll_next(&mut std::task::Context::from_waker(waker))
        {
            Poll::Ready(item) => Some(item),
            Poll::Pending => None,
        }
    }

    /// Whether the local publisher is connected.
    fn publishing(&self) -> bool {
        self.inner
            .hub
            .stream_stats(&self.key.app, &self.key.name)
            .is_some_and(|s| s.publishing)
    }

    /// The relay lagged past the rule and was cut off: it joins again (at
    /// the stream's last keyframe) on the same upstream connection.
    fn rejoin(&mut self, reason: &str) -> bool {
        tracing::warn!(stream = %self.key, upstream = %self.url, %reason, "relay lagging: joining the stream again");
        match self.inner.hub.play(&self.key.app, &self.stream_name) {
            Ok(feed) => {
                self.feed = feed;
                true
            }
            Err(rejection) => {
                tracing::error!(stream = %self.key, upstream = %self.url, reason = %rejection.description, "relay cannot join the stream again");
                false
            }
        }
    }

    fn connect(&self) -> Connecting {
        let urls = [self.url.clone()];
        let name = self.stream_name.clone();
        let config = self.inner.client.clone();
        let handover = HandoverConfig {
            retry_initial: RETRY_INITIAL,
            retry_max: RETRY_MAX,
            ..HandoverConfig::default()
        };
        Box::pin(
            async move { ReconnectingPublisher::connect(&urls, &name, config, handover).await },
        )
    }

    /// One publication: publish upstream (retrying, holding what comes
    /// meanwhile), then forward until the end.
    async fn publication(&mut self) -> Outcome {
        let Some((publisher, held)) = self.open().await else {
            return Outcome::Failed;
        };
        self.forward(publisher, held).await
    }

    /// Publishes upstream, retrying with backoff for `retry_secs`, while
    /// holding what the feed yields.
    async fn open(&mut self) -> Option<(ReconnectingPublisher, Held)> {
        let started = Instant::now();
        let deadline = started + self.inner.retry;
        let mut held = Held::default();
        let mut wait = RETRY_INITIAL;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let mut attempt = self.connect();
            let result = loop {
                tokio::select! {
                    result = &mut attempt => break result,
                    item = self.next(), if !held.ended => {
                        if !self.hold(&mut held, item) {
                            return None;
                        }
                    }
                }
            };
            let error = match result {
                Ok(publisher) => {
                    if attempts > 1 {
                        tracing::info!(stream = %self.key, upstream = %self.url, attempts, waited_ms = started.elapsed().as_millis() as u64, "relay: upstream accepted the publish");
                    }
                    return Some((publisher, held));
                }
                Err(e) => e,
            };
            if Instant::now() + wait > deadline {
                tracing::error!(stream = %self.key, upstream = %self.url, attempts, held = held.items.len(), "relay ended: upstream refused the publish for {} s: {error}", self.inner.retry.as_secs());
                return None;
            }
            tracing::debug!(stream = %self.key, upstream = %self.url, attempts, retry_in_ms = wait.as_millis() as u64, "relay: upstream publish failed: {error}");
            let sleep = tokio::time::sleep(wait);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    item = self.next(), if !held.ended => {
                        if !self.hold(&mut held, item) {
                            return None;
                        }
                    }
                }
            }
            wait = (wait * 2).min(RETRY_MAX);
        }
    }

    /// Holds an item while not connected; false when the relay must stop.
    fn hold(&mut self, held: &mut Held, item: FeedItem) -> bool {
        if let FeedItem::Close(reason) = item {
            return self.rejoin(&reason);
        }
        held.push(item);
        if held.bytes > self.inner.max_buffer_bytes {
            tracing::error!(stream = %self.key, upstream = %self.url, bytes = held.bytes, "relay ended: relay.max_buffer_bytes held while the upstream publish was refused");
            return false;
        }
        true
    }

    /// Sends what was held, then what comes, until the end (finish), or
    /// until this server leaves with the publisher gone (abandon).
    async fn forward(&mut self, mut publisher: ReconnectingPublisher, held: Held) -> Outcome {
        let mut moves = publisher.handover_stats().completed;
        for item in held.items {
            match self.send(&mut publisher, item).await {
                Step::Sent => {}
                Step::End => return self.finish(publisher).await,
                Step::Failed => return Outcome::Failed,
            }
        }
        let mut tick = tokio::time::interval(CHECK_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                item = self.next() => self.send(&mut publisher, item).await,
                _ = tick.tick() => {
                    if let Err(e) = publisher.process_input().await {
                        tracing::error!(stream = %self.key, upstream = %self.url, "relay ended: {e}");
                        return Outcome::Failed;
                    }
                    if self.inner.leaving() && !self.publishing() {
                        return self.leave(publisher).await;
                    }
                    Step::Sent
                }
            };
            match step {
                Step::Sent => {}
                Step::End => return self.finish(publisher).await,
                Step::Failed => return Outcome::Failed,
            }
            let completed = publisher.handover_stats().completed;
            if completed != moves {
                moves = completed;
                tracing::info!(stream = %self.key, upstream = %self.url, to = %publisher.current_url(), "relay moved");
            }
        }
    }

    /// Sends one item upstream.
    async fn send(&mut self, publisher: &mut ReconnectingPublisher, item: FeedItem) -> Step {
        let sent = match item {
            FeedItem::Media(msg) => {
                publisher
                    .send(msg.kind(), msg.timestamp(), msg.payload())
                    .await
            }
            FeedItem::Data { timestamp, data } => {
                publisher.send_data(timestamp, upstream_data(data)).await
            }
            FeedItem::End => return Step::End,
            FeedItem::Close(reason) => {
                return if self.rejoin(&reason) {
                    Step::Sent
                } else {
                    Step::Failed
                };
            }
        };
        match sent {
            Ok(()) => Step::Sent,
            Err(e) => {
                tracing::error!(stream = %self.key, upstream = %self.url, "relay ended: {e}");
                Step::Failed
            }
        }
    }

    /// The local publication ended: FCUnpublish/deleteStream upstream.
    async fn finish(&mut self, publisher: ReconnectingPublisher) -> Outcome {
        let result = publisher.finish().await;
        match result {
            Ok(()) => {
                tracing::info!(stream = %self.key, upstream = %self.url, "relay ended: finished (unpublished upstream)")
            }
            Err(e) => {
                tracing::warn!(stream = %self.key, upstream = %self.url, "relay ended: finishing upstream failed: {e}")
            }
        }
        Outcome::Ended
    }

    /// This server is leaving and the publisher left: sends what the feed
    /// still has, then closes without FCUnpublish/deleteStream.
    async fn leave(&mut self, mut publisher: ReconnectingPublisher) -> Outcome {
        while let Some(item) = self.try_next() {
            match self.send(&mut publisher, item).await {
                Step::Sent => {}
                Step::End => return self.finish(publisher).await,
                Step::Failed => return Outcome::Failed,
            }
        }
        match publisher.abandon().await {
            Ok(()) => {
                tracing::info!(stream = %self.key, upstream = %self.url, "relay ended: abandoned (server leaving, publisher gone; the upstream keeps the stream)")
            }
            Err(e) => {
                tracing::warn!(stream = %self.key, upstream = %self.url, "relay ended: abandoning upstream failed: {e}")
            }
        }
        Outcome::Abandoned
    }
}

/// What one send did.
enum Step {
    Sent,
    End,
    Failed,
}

/// The hub's `onMetaData` goes upstream as `@setDataFrame onMetaData`, the
/// form servers keep for their players.
fn upstream_data(data: DataMessage) -> DataMessage {
    match data {
        DataMessage::OnMetaData(value) => DataMessage::SetDataFrame {
            name: handler::ON_META_DATA.to_owned(),
            value,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::amf0::Value;

    #[test]
    fn metadata_goes_upstream_as_set_data_frame() {
        let out = upstream_data(DataMessage::OnMetaData(Value::Null));
        assert!(matches!(out, DataMessage::SetDataFrame { ref name, .. } if name == "onMetaData"));
        let other = DataMessage::ClearDataFrame {
            name: "x".to_owned(),
        };
        assert_eq!(upstream_data(other.clone()), other);
    }

    #[test]
    fn relays_follow_the_configuration() {
        let hub = StreamHub::new(&crate::config::StreamSettings::default());
        let none = Relays::new(&RelaySettings::default(), hub.clone());
        assert!(!none.is_enabled());
        // Without upstreams (or outside a runtime) nothing starts.
        none.on_publish("live", "s");
        assert_eq!(none.active(), 0);
        let settings = RelaySettings {
            push: vec!["rtmp://127.0.0.1:1/live".to_owned()],
            apps: vec!["live".to_owned()],
            ..RelaySettings::default()
        };
        let relays = Relays::new(&settings, hub.clone());
        assert!(relays.is_enabled());
        relays.on_publish("other", "s");
        assert_eq!(relays.active(), 0);
        let bad = RelaySettings {
            push: vec!["http://x".to_owned()],
            ..RelaySettings::default()
        };
        assert!(!Relays::new(&bad, hub).is_enabled());
    }

    #[test]
    fn held_items_count_their_bytes_and_the_end() {
        let mut held = Held::default();
        held.push(FeedItem::Media(Arc::new(baton_rtmp::SharedMessage::new(
            baton_proto::session::MediaKind::Video,
            baton_proto::Timestamp(0),
            bytes::Bytes::from_static(&[1, 2, 3]),
        ))));
        held.push(FeedItem::End);
        assert_eq!(held.bytes, 3 + DATA_COST);
        assert!(held.ended);
        assert_eq!(held.items.len(), 2);
    }
}
