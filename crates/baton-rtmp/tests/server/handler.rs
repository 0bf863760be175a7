//! A test [`Handler`]: records what the server tells it (connects, media,
//! publication ends, closes) in a shared log, refuses the app `private` and
//! the stream `taken`, and plays feeds the test registered (each backed by
//! a bounded tokio channel, counting how often it was polled).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};
use tokio::time::timeout;

use baton_proto::Timestamp;
use baton_proto::command::{DataMessage, StatusCode};
use baton_proto::session::MediaKind;
use baton_rtmp::server::{
    CloseSummary, ConnectionInfo, FeedItem, Handler, MediaSink, PlayFeed, PlayRequest, PublishEnd,
    PublishRequest, Rejection,
};

use super::client::WAIT;

/// Something the server told the handler.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Record {
    Connect {
        app: String,
    },
    Media {
        stream: String,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    },
    Data {
        stream: String,
        timestamp: Timestamp,
        data: DataMessage,
    },
    End {
        stream: String,
        end: PublishEnd,
    },
    Closed {
        app: Option<String>,
        reason: String,
        bytes_received: u64,
        bytes_sent: u64,
    },
}

/// A log shared by the handler, its sinks and the test.
#[derive(Clone, Default)]
pub(crate) struct Log {
    records: Arc<Mutex<Vec<Record>>>,
    changed: Arc<Notify>,
}

impl Log {
    fn push(&self, record: Record) {
        self.records.lock().unwrap().push(record);
        self.changed.notify_waiters();
    }

    /// A copy of the records so far.
    pub(crate) fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }

    /// Waits until `f` finds what it wants in the records.
    pub(crate) async fn wait<T>(&self, what: &str, mut f: impl FnMut(&[Record]) -> Option<T>) -> T {
        let found = timeout(WAIT, async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if let Some(found) = f(&self.records.lock().unwrap()) {
                    return found;
                }
                changed.await;
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", self.records()))
    }

    /// Waits for the close of `n` connections; returns their records.
    pub(crate) async fn wait_closed(&self, n: usize) -> Vec<Record> {
        self.wait(&format!("{n} closed connections"), |records| {
            let closed: Vec<Record> = records
                .iter()
                .filter(|r| matches!(r, Record::Closed { .. }))
                .cloned()
                .collect();
            (closed.len() >= n).then_some(closed)
        })
        .await
    }

    /// The media records of one stream.
    pub(crate) fn media(&self, stream: &str) -> Vec<(MediaKind, Timestamp, Bytes)> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Media {
                    stream: s,
                    kind,
                    timestamp,
                    payload,
                } if s == stream => Some((kind, timestamp, payload)),
                _ => None,
            })
            .collect()
    }
}

/// How a play feed was used.
#[derive(Clone, Default)]
pub(crate) struct FeedStats {
    /// Calls of `poll_next`.
    pub(crate) polls: Arc<AtomicUsize>,
    /// Items it returned.
    pub(crate) taken: Arc<AtomicUsize>,
}

impl FeedStats {
    pub(crate) fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    pub(crate) fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

/// A play feed backed by a bounded channel.
struct ChannelFeed {
    items: mpsc::Receiver<FeedItem>,
    stats: FeedStats,
}

impl PlayFeed for ChannelFeed {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<FeedItem> {
        self.stats.polls.fetch_add(1, Ordering::SeqCst);
        match self.items.poll_recv(cx) {
            Poll::Ready(Some(item)) => {
                self.stats.taken.fetch_add(1, Ordering::SeqCst);
                Poll::Ready(item)
            }
            Poll::Ready(None) => Poll::Ready(FeedItem::Close("the test dropped the feed".into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A sink that records into the log.
struct TestSink {
    stream: String,
    log: Log,
}

impl MediaSink for TestSink {
    fn on_media(&mut self, kind: MediaKind, timestamp: Timestamp, payload: Bytes) {
        self.log.push(Record::Media {
            stream: self.stream.clone(),
            kind,
            timestamp,
            payload,
        });
    }

    fn on_data(&mut self, timestamp: Timestamp, data: DataMessage) {
        self.log.push(Record::Data {
            stream: self.stream.clone(),
            timestamp,
            data,
        });
    }

    fn on_end(self: Box<Self>, end: PublishEnd) {
        self.log.push(Record::End {
            stream: self.stream.clone(),
            end,
        });
    }
}

/// The test handler. Clones share everything.
#[derive(Clone, Default)]
pub(crate) struct TestHandler {
    pub(crate) log: Log,
    feeds: Arc<Mutex<HashMap<String, ChannelFeed>>>,
}

impl TestHandler {
    /// Registers the feed that a play of `name` gets; the test sends its
    /// items into the returned channel.
    pub(crate) fn add_feed(
        &self,
        name: &str,
        capacity: usize,
    ) -> (mpsc::Sender<FeedItem>, FeedStats) {
        let (tx, items) = mpsc::channel(capacity);
        let stats = FeedStats::default();
        let feed = ChannelFeed {
            items,
            stats: stats.clone(),
        };
        self.feeds.lock().unwrap().insert(name.to_owned(), feed);
        (tx, stats)
    }
}

impl Handler for TestHandler {
    async fn on_connect(&self, info: &ConnectionInfo) -> Result<(), Rejection> {
        self.log.push(Record::Connect {
            app: info.app().to_owned(),
        });
        if info.app() == "private" {
            return Err(Rejection::new(StatusCode::ConnectRejected, "private app"));
        }
        Ok(())
    }

    async fn on_publish(
        &self,
        _info: &ConnectionInfo,
        request: &PublishRequest,
    ) -> Result<Box<dyn MediaSink>, Rejection> {
        if request.stream_name == "taken" {
            return Err(Rejection::new(
                StatusCode::PublishBadName,
                "taken is already published",
            ));
        }
        Ok(Box::new(TestSink {
            stream: request.stream_name.clone(),
            log: self.log.clone(),
        }))
    }

    async fn on_play(
        &self,
        _info: &ConnectionInfo,
        request: &PlayRequest,
    ) -> Result<Box<dyn PlayFeed>, Rejection> {
        let feed = self.feeds.lock().unwrap().remove(&request.stream_name);
        match feed {
            Some(feed) => Ok(Box::new(feed)),
            None => Err(Rejection::new(
                StatusCode::PlayStreamNotFound,
                format!("no stream {}", request.stream_name),
            )),
        }
    }

    fn on_close(&self, info: Option<&ConnectionInfo>, summary: &CloseSummary) {
        self.log.push(Record::Closed {
            app: info.map(|i| i.app().to_owned()),
            reason: summary.reason.clone(),
            bytes_received: summary.bytes_received,
            bytes_sent: summary.bytes_sent,
        });
    }
}
