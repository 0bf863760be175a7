//! What the application plugs into the server: a [`Handler`] decides
//! connect, publish and play requests; a publisher's media goes to the
//! [`MediaSink`] its publish returned; a player's media comes from the
//! [`PlayFeed`] its play returned.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use baton_proto::Timestamp;
use baton_proto::command::{CapsEx, Connect, DataMessage, PublishType, StatusCode};
use baton_proto::session::{MediaKind, UnpublishReason};

use crate::SharedMessage;

/// What the server knows of a connection when it asks the handler.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// A process-unique connection id (for logs).
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's connect command (app, tcUrl, flashVer, supportsGoAway,
    /// capsEx...).
    pub connect: Arc<Connect>,
}

impl ConnectionInfo {
    /// The application the client connected to.
    pub fn app(&self) -> &str {
        &self.connect.app
    }

    /// Whether the client announced RTMP Go Away support.
    pub fn supports_go_away(&self) -> bool {
        self.connect.supports_go_away
    }

    /// The Enhanced RTMP capabilities the client announced.
    pub fn caps_ex(&self) -> CapsEx {
        self.connect.caps_ex
    }
}

/// A refusal, as the client will see it (in `_error` for connect, in an
/// onStatus error for publish and play).
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// The status code, e.g. `NetStream.Publish.BadName`.
    pub code: StatusCode,
    /// A description for the client (and the log).
    pub description: String,
}

impl Rejection {
    /// A rejection with this code and description.
    pub fn new(code: StatusCode, description: impl Into<String>) -> Self {
        Rejection {
            code,
            description: description.into(),
        }
    }
}

/// A publish request.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishRequest {
    /// The message stream it came on.
    pub stream_id: u32,
    /// The stream name as sent, query string included.
    pub stream_name: String,
    /// live, record or append.
    pub publish_type: PublishType,
}

/// A play request.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayRequest {
    /// The message stream it came on.
    pub stream_id: u32,
    /// The stream name as sent, query string included.
    pub stream_name: String,
    /// The start argument (-2: live or recorded; -1: live only; >= 0 recorded).
    pub start: f64,
    /// The duration argument (-1: until the end).
    pub duration: f64,
    /// Whether to reset (flush) previous playlists.
    pub reset: bool,
}

/// How a publication ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishEnd {
    /// The publisher ended it on purpose (FCUnpublish, deleteStream,
    /// closeStream).
    Unpublished(UnpublishReason),
    /// The connection ended without an unpublish (network loss, a client
    /// moving to another server after Go Away, a timeout, a protocol error).
    /// The stream may come back on a new connection.
    ConnectionLost(String),
}

/// Receives one publisher's media. Called from the publisher's connection
/// task: it must not block (a publisher is never slowed by its players).
pub trait MediaSink: Send + 'static {
    /// Audio or video, in the order received.
    fn on_media(&mut self, kind: MediaKind, timestamp: Timestamp, payload: Bytes);
    /// A data message (`@setDataFrame onMetaData`, ...).
    fn on_data(&mut self, timestamp: Timestamp, data: DataMessage);
    /// The publication ended. Called exactly once.
    fn on_end(self: Box<Self>, end: PublishEnd);

    /// The server asked this publisher to move to another connection (it
    /// sent RTMP Go Away or the Enhanced RTMP Reconnect Request while
    /// draining): a new publisher of the same stream may take over before
    /// this one has left.
    fn on_go_away(&mut self) {}
}

/// The next thing a player's connection should send.
#[derive(Debug)]
pub enum FeedItem {
    /// A media message, already chunked once for all players.
    Media(Arc<SharedMessage>),
    /// A data message (metadata).
    Data {
        /// Its timestamp.
        timestamp: Timestamp,
        /// The data message.
        data: DataMessage,
    },
    /// The stream ended: the player gets NetStream.Play.UnpublishNotify and
    /// Stream EOF; its connection stays open.
    End,
    /// Disconnect this player (for example it lagged past the limit), with
    /// the reason for the log.
    Close(String),
}

/// A player's source of media. Polled by the player's connection task only
/// when the connection has room to write (so a slow player simply polls
/// less, and the feed decides what it skips).
pub trait PlayFeed: Send + 'static {
    /// The next item, or `Pending` until there is one.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<FeedItem>;
}

/// Why a connection closed, for [`Handler::on_close`].
#[derive(Clone, Debug)]
pub struct CloseSummary {
    /// Bytes received on the connection.
    pub bytes_received: u64,
    /// Bytes sent on the connection.
    pub bytes_sent: u64,
    /// Why it closed (peer closed, timeout, protocol error, rejected,
    /// server shutdown, ...).
    pub reason: String,
}

/// The application's decisions. Every method has a default that accepts
/// connect and refuses publish and play, so a handler implements what it
/// serves.
pub trait Handler: Send + Sync + 'static {
    /// Decide a connect.
    fn on_connect(
        &self,
        info: &ConnectionInfo,
    ) -> impl Future<Output = Result<(), Rejection>> + Send {
        let _ = info;
        async { Ok(()) }
    }

    /// Decide a publish; on success, the sink that receives its media.
    fn on_publish(
        &self,
        info: &ConnectionInfo,
        request: &PublishRequest,
    ) -> impl Future<Output = Result<Box<dyn MediaSink>, Rejection>> + Send {
        let _ = (info, request);
        async {
            Err(Rejection::new(
                StatusCode::PublishBadName,
                "publishing is not supported here",
            ))
        }
    }

    /// Decide a play; on success, the feed of what the player gets.
    fn on_play(
        &self,
        info: &ConnectionInfo,
        request: &PlayRequest,
    ) -> impl Future<Output = Result<Box<dyn PlayFeed>, Rejection>> + Send {
        let _ = (info, request);
        async {
            Err(Rejection::new(
                StatusCode::PlayStreamNotFound,
                "playing is not supported here",
            ))
        }
    }

    /// A connection closed (after its publish sink got `on_end`).
    fn on_close(&self, info: Option<&ConnectionInfo>, summary: &CloseSummary) {
        let _ = (info, summary);
    }
}
